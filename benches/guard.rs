//! Guest guard benchmarks: what installing one guest's guard costs with
//! bridgekit, next to the way libvirt's nwfilter-on-nftables, Incus and the
//! CNI plugins do it (the same rules written as `nft` text and loaded with
//! `nft -f`, one process per guest), and 1,000 guarded guests: their ports
//! attached one by one (how the cost per guest grows from the first to the
//! last) and in one `apply`. All in a private network namespace, measured
//! in this run.
//!
//! `cargo bench --bench guard [-- quick]`; prints markdown tables.

use std::time::{Duration, Instant};

#[path = "support/harness.rs"]
mod harness;

use bridgekit::{Bridge, BridgeConfig, GuestGuard, Netlink, PortConfig};
use harness::*;

const BR: &str = "bkbr0";

fn mac(i: usize) -> String {
    format!("52:54:00:be:{:02x}:{:02x}", i >> 8, i & 0xff)
}

fn v4(i: usize) -> std::net::Ipv4Addr {
    std::net::Ipv4Addr::new(10, 40 + (i >> 8) as u8, (i & 0xff) as u8, 2)
}

fn guard(i: usize) -> GuestGuard {
    GuestGuard::new().ipv4(v4(i)).ipv6(
        format!("fd00:40::{i:x}")
            .parse::<std::net::Ipv6Addr>()
            .unwrap(),
    )
}

fn guarded(i: usize) -> PortConfig {
    PortConfig::managed(mac(i)).guest_guard(guard(i))
}

/// The same classes as bridgekit's rules for guest `i` on `port`, as
/// `nft` text in table `table`: what a VM manager writes and loads with
/// `nft -f` for each guest.
fn nft_text(table: &str, port: &str, i: usize) -> String {
    let (m, ip) = (mac(i), v4(i));
    let ll = {
        let b: Vec<u8> = m
            .split(':')
            .map(|x| u8::from_str_radix(x, 16).unwrap())
            .collect();
        format!(
            "fe80::{:x}:{:x}:{:x}:{:x}",
            u16::from_be_bytes([b[0] ^ 2, b[1]]),
            u16::from_be_bytes([b[2], 0xff]),
            u16::from_be_bytes([0xfe, b[3]]),
            u16::from_be_bytes([b[4], b[5]])
        )
    };
    let v6 = format!("fd00:40::{i:x}");
    format!(
        "table netdev {table} {{
  chain {port}-arp {{
    arp hlen != 6 counter drop
    arp plen != 4 counter drop
    arp saddr ether != {m} counter drop
    arp saddr ip 0.0.0.0 return
    arp saddr ip {ip} return
    counter drop
  }}
  chain {port}-ip {{
    udp sport 67 counter drop
    ip saddr 0.0.0.0 ip daddr 255.255.255.255 udp sport 68 udp dport 67 return
    ip saddr {ip} return
    counter drop
  }}
  chain {port}-nd {{
    icmpv6 type nd-neighbor-advert @th,64,128 {v6_hex} return
    icmpv6 type nd-neighbor-advert @th,64,128 {ll_hex} return
    counter drop
  }}
  chain {port}-ip6 {{
    icmpv6 type nd-router-advert counter drop
    icmpv6 type nd-redirect counter drop
    udp sport 547 counter drop
    icmpv6 type nd-neighbor-advert jump {port}-nd
    ip6 saddr :: return
    ip6 saddr {v6} return
    ip6 saddr {ll} return
    counter drop
  }}
  chain {port} {{
    type filter hook ingress device \"{port}\" priority -500; policy accept;
    ether saddr != {m} counter drop
    meta protocol != {{ ip, ip6, arp }} counter drop
    meta protocol arp jump {port}-arp
    meta protocol ip jump {port}-ip
    meta protocol ip6 jump {port}-ip6
  }}
}}
",
        v6_hex = hex(&v6),
        ll_hex = hex(&ll),
    )
}

fn hex(v6: &str) -> String {
    let a: std::net::Ipv6Addr = v6.parse().unwrap();
    format!(
        "0x{}",
        a.octets()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )
}

/// `nft -f` of `text`: one process, timed whole.
fn nft_f(text: &str) -> BoxResult<Duration> {
    let path =
        std::env::temp_dir().join(format!("bridgekit-bench-guard-{}.nft", std::process::id()));
    std::fs::write(&path, text)?;
    let t = Instant::now();
    let result = run("nft", &["-f", path.to_str().unwrap()]);
    let took = t.elapsed();
    let _ = std::fs::remove_file(&path);
    result.map(|()| took)
}

fn main() -> BoxResult<()> {
    harness::bench_main(|quick| async move {
        let nl = Netlink::connect()?;
        let br = Bridge::create(&nl, BridgeConfig::new(BR)?.mac("52:54:00:00:00:fc")).await?;
        br.up().await?;
        one_guest(&br, quick).await?;
        thousand(&nl, quick).await?;
        br.delete().await?;
        println!("\nMachine: {}", machine());
        Ok(())
    })
}

/// One guest: attach with and without its guard (the difference is the
/// guard), and `nft -f` of the same rules.
async fn one_guest(br: &Bridge, quick: bool) -> BoxResult<()> {
    let samples = if quick { 30 } else { 200 };
    make_veths("bkg", 1)?;
    let port = ifindex("bkg0")?;
    let (mut plain, mut ours, mut nft) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..samples + samples / 10 {
        let warm = round < samples / 10;
        let t = Instant::now();
        br.attach_port(port, PortConfig::managed(mac(1))).await?;
        let a = t.elapsed();
        br.detach_port(port).await?;
        let t = Instant::now();
        br.attach_port(port, guarded(1)).await?;
        let b = t.elapsed();
        br.detach_port(port).await?;
        let c = nft_f(&nft_text("bknft", "bkg0", 1))?;
        run("nft", &["delete", "table", "netdev", "bknft"])?;
        if !warm {
            plain.push(a);
            ours.push(b);
            nft.push(c);
        }
    }
    let (plain, ours, nft) = (stats(plain), stats(ours), stats(nft));
    let guard_cost = ours.median.saturating_sub(plain.median);
    println!("\n### One guest's guard (median (p10–p90, n))\n");
    header(&["case", "time"]);
    row(&["attach, managed port, no guard".into(), show(&plain)]);
    row(&["attach, managed port, with its guard".into(), show(&ours)]);
    row(&[
        "the guard's share (difference of medians)".into(),
        us(guard_cost),
    ]);
    row(&["`nft -f` of the same rules, one process".into(), show(&nft)]);
    row(&[
        "bridgekit's guard / `nft -f`".into(),
        format!("{:.3}", guard_cost.as_secs_f64() / nft.median.as_secs_f64()),
    ]);
    row(&[
        "attach with guard / `nft -f` alone".into(),
        format!("{:.3}", ratio(&ours, &nft)),
    ]);
    run("ip", &["link", "del", "bkg0"])?;
    Ok(())
}

/// 1,000 guarded guests: attached one by one (per guest, first tenth and
/// last tenth), removed, then all in one `apply`; and `nft -f` per guest
/// into one table, the same way.
async fn thousand(nl: &Netlink, quick: bool) -> BoxResult<()> {
    let n = if quick { 200 } else { 1000 };
    make_veths("bkt", n)?;
    let br = Bridge::open(nl, BR).await?;
    let names: Vec<String> = (0..n).map(|i| format!("bkt{i}")).collect();
    let tenth = n / 10;
    // One by one, without guards and then with them: the ports' own
    // growth, and the guards'.
    let mut growth = Vec::new();
    for with_guard in [false, true] {
        let mut each = Vec::with_capacity(n);
        for (i, name) in names.iter().enumerate() {
            let cfg = if with_guard {
                guarded(i)
            } else {
                PortConfig::managed(mac(i))
            };
            let t = Instant::now();
            br.attach_port(name.as_str(), cfg).await?;
            each.push(t.elapsed());
        }
        br.detach_ports(names.iter().map(String::as_str)).await?;
        growth.push((
            stats(each[..tenth].to_vec()),
            stats(each[n - tenth..].to_vec()),
        ));
    }

    // `apply` of a tenth of them, then of all: the cost per guest of one
    // run, at two sizes.
    let config_of = |count: usize| -> BoxResult<BridgeConfig> {
        let mut config = BridgeConfig::new(BR)?.mac("52:54:00:00:00:fc");
        for (i, name) in names[..count].iter().enumerate() {
            config = config.port(name.as_str(), guarded(i));
        }
        Ok(config)
    };
    let mut plain = BridgeConfig::new(BR)?.mac("52:54:00:00:00:fc");
    for (i, name) in names.iter().enumerate() {
        plain = plain.port(name.as_str(), PortConfig::managed(mac(i)));
    }
    let t = Instant::now();
    plain.apply(nl).await?;
    let apply_plain = t.elapsed();
    let t = Instant::now();
    plain.apply(nl).await?;
    let apply_plain_again = t.elapsed();
    br.detach_ports(names.iter().map(String::as_str)).await?;
    let config = config_of(tenth)?;
    let t = Instant::now();
    let applied = config.apply(nl).await?;
    let apply_tenth = t.elapsed();
    assert_eq!(applied.changes.len(), tenth);
    br.detach_ports(names[..tenth].iter().map(String::as_str))
        .await?;
    let config = config_of(n)?;
    let t = Instant::now();
    let applied = config.apply(nl).await?;
    let apply_all = t.elapsed();
    assert_eq!(applied.changes.len(), n);
    let t = Instant::now();
    let again = config.apply(nl).await?;
    let apply_again = t.elapsed();
    assert!(again.changes.is_empty());
    br.detach_ports(names.iter().map(String::as_str)).await?;

    let mut nft_each = Vec::with_capacity(n);
    for (i, name) in names.iter().enumerate() {
        nft_each.push(nft_f(&nft_text("bknft", name, i))?);
    }
    run("nft", &["delete", "table", "netdev", "bknft"])?;
    let nft_first = stats(nft_each[..tenth].to_vec());
    let nft_last = stats(nft_each[n - tenth..].to_vec());

    println!("\n### {n} guarded guests (per guest: median (p10–p90, n))\n");
    header(&["case", "first tenth", "last tenth", "last / first"]);
    let cases = [
        "`attach_port`, managed port, no guard, one by one",
        "`attach_port`, managed port with its guard, one by one",
    ];
    for (case, (first, last)) in cases.iter().zip(&growth) {
        row(&[
            case.to_string(),
            show(first),
            show(last),
            format!("{:.2}", ratio(last, first)),
        ]);
    }
    let share = |(f, l): &(Stats, Stats), (bf, bl): &(Stats, Stats)| {
        (
            f.median.saturating_sub(bf.median),
            l.median.saturating_sub(bl.median),
        )
    };
    let (gf, gl) = share(&growth[1], &growth[0]);
    row(&[
        "the guards' share (difference of medians)".into(),
        us(gf),
        us(gl),
        format!("{:.2}", gl.as_secs_f64() / gf.as_secs_f64()),
    ]);
    row(&[
        "`nft -f` per guest, one table".into(),
        show(&nft_first),
        show(&nft_last),
        format!("{:.2}", ratio(&nft_last, &nft_first)),
    ]);
    println!();
    header(&["case", "total", "per guest"]);
    row(&[
        format!("`apply` of {n} managed ports without guards"),
        us(apply_plain),
        us(apply_plain / n as u32),
    ]);
    row(&[
        format!("`apply` of {tenth} guarded ports (attach + guard each)"),
        us(apply_tenth),
        us(apply_tenth / tenth as u32),
    ]);
    row(&[
        format!("`apply` of {n} guarded ports (attach + guard each)"),
        us(apply_all),
        us(apply_all / n as u32),
    ]);
    row(&[
        format!("per guest, {n} in one `apply` / {tenth} in one `apply`"),
        String::new(),
        format!(
            "{:.2}",
            (apply_all.as_secs_f64() / n as f64) / (apply_tenth.as_secs_f64() / tenth as f64)
        ),
    ]);
    row(&[
        format!("`apply` again, unchanged, {n} ports without guards"),
        us(apply_plain_again),
        us(apply_plain_again / n as u32),
    ]);
    row(&[
        format!("`apply` again, unchanged ({n} guards read and compared)"),
        us(apply_again),
        us(apply_again / n as u32),
    ]);
    let lines: String = names.iter().map(|p| format!("link del {p}\n")).collect();
    batch("ip", &lines)?;
    Ok(())
}

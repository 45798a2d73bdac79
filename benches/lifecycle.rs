//! Bridge lifecycle benchmarks: bring-up and teardown as libvirt does it
//! (create with MAC + MTU, an IPv4 and an IPv6 nodad address, up; delete),
//! `status()` of a bridge with 1000 ports, `apply` of an unchanged bridge
//! with 100 ports (its time, its changes and the kernel notifications it
//! caused: none), and resident memory over many
//! create/attach/delete cycles — bridgekit next to raw rtnetlink, `ip
//! -batch` and `ip` one process per step, all in this run, in a private
//! network namespace.
//!
//! `cargo bench --bench lifecycle [-- quick]`; prints markdown tables.

use std::time::{Duration, Instant};

#[path = "support/harness.rs"]
mod harness;

use bridgekit::{Bridge, BridgeConfig, Netlink, PortConfig};
use futures::TryStreamExt;
use harness::*;
use netlink_packet_route::AddressFamily;
use netlink_packet_route::address::{AddressAttribute, AddressFlags};
use netlink_packet_route::link::{LinkAttribute, LinkExtentMask};
use rtnetlink::{Handle, LinkBridge, LinkUnspec};

const MAC: &str = "52:54:00:12:34:56";
const MAC_BYTES: [u8; 6] = [0x52, 0x54, 0, 0x12, 0x34, 0x56];

fn main() -> BoxResult<()> {
    harness::bench_main(|quick| async move {
        let nl = Netlink::connect()?;
        let (conn, h, _) = rtnetlink::new_connection()?;
        tokio::spawn(conn);
        // `vlans` alone: `status()` of 1000 ports with VLANs, which needs
        // a kernel with VLAN filtering (the kernel tier:
        // `tools/kernel-tier/run bench --bench lifecycle -- vlans`).
        if std::env::args().any(|a| a == "vlans") {
            let n = if quick { 100 } else { 1000 };
            status(&nl, &h, n, if quick { 5 } else { 20 }, true).await?;
            println!("\nMachine: {}", machine());
            return Ok(());
        }
        bring_up(&nl, &h, quick).await?;
        // Empty: the fixed cost (the issue's ≤ 1.3× goal); then with ports.
        status(&nl, &h, 0, if quick { 50 } else { 400 }, false).await?;
        status(
            &nl,
            &h,
            if quick { 100 } else { 1000 },
            if quick { 10 } else { 40 },
            false,
        )
        .await?;
        if kernel_has_vlan_filtering() {
            status(
                &nl,
                &h,
                if quick { 100 } else { 1000 },
                if quick { 5 } else { 20 },
                true,
            )
            .await?;
        } else {
            println!(
                "\n(`status()` with VLANs: this kernel has no bridge VLAN filtering; \
                 `tools/kernel-tier/run bench --bench lifecycle -- vlans` measures it)"
            );
        }
        apply_unchanged(&nl, &h, 100, if quick { 10 } else { 40 }).await?;
        apply_unchanged(
            &nl,
            &h,
            if quick { 200 } else { 1000 },
            if quick { 5 } else { 20 },
        )
        .await?;
        memory(&nl, quick).await?;
        println!("\nMachine: {}", machine());
        Ok(())
    })
}

/// How one bring-up is done.
#[derive(Clone, Copy)]
enum How {
    Default,
    OneMessage,
    Raw,
    Ip,
}

async fn bring_up(nl: &Netlink, h: &Handle, quick: bool) -> BoxResult<()> {
    // Each round brings up K bridges one after another, lets the kernel
    // settle, then tears them down: a teardown leaves RCU work behind that
    // would slow whatever runs next, so no method's bring-up follows a
    // teardown directly.
    let (rounds, k) = if quick { (3, 5) } else { (20, 10) };
    println!(
        "\n### Bring-up (create with MAC + MTU, IPv4 + IPv6 nodad addresses, up) and teardown\n"
    );
    let up = async |how: How, name: &str| -> BoxResult<u32> {
        match how {
            How::Default | How::OneMessage => {
                let mut cfg = BridgeConfig::new(name)?.mac(MAC).mtu(1500);
                if matches!(how, How::OneMessage) {
                    cfg = cfg.ipv6_ready_without_ports(false);
                }
                let br = Bridge::create(nl, cfg).await?;
                br.add_address("192.168.200.1/24").await?;
                br.add_address_nodad("fd00:200::1/64").await?;
                br.up().await?;
                Ok(br.index())
            }
            How::Raw => {
                let msg = LinkBridge::new(name)
                    .address(MAC_BYTES.to_vec())
                    .mtu(1500)
                    .build();
                h.link().add(msg).execute().await?;
                let mut links = h.link().get().match_name(name).execute();
                let index = links.try_next().await?.ok_or("no link")?.header.index;
                h.address()
                    .add(index, "192.168.200.1".parse()?, 24)
                    .execute()
                    .await?;
                let mut req = h.address().add(index, "fd00:200::1".parse()?, 64);
                req.message_mut()
                    .attributes
                    .push(AddressAttribute::Flags(AddressFlags::Nodad));
                req.execute().await?;
                h.link()
                    .set(LinkUnspec::new_with_index(index).up().build())
                    .execute()
                    .await?;
                Ok(index)
            }
            How::Ip => {
                ip(&[
                    "link", "add", "name", name, "address", MAC, "mtu", "1500", "type", "bridge",
                ])?;
                ip(&["addr", "add", "192.168.200.1/24", "dev", name])?;
                ip(&["addr", "add", "fd00:200::1/64", "dev", name, "nodad"])?;
                ip(&["link", "set", name, "up"])?;
                Ok(0)
            }
        }
    };
    let down = async |how: How, name: &str, index: u32| -> BoxResult<()> {
        match how {
            How::Default | How::OneMessage => {
                Bridge::open(nl, name).await?.delete().await.map(drop)?
            }
            How::Raw => h.link().del(index).execute().await?,
            How::Ip => ip(&["link", "del", name])?,
        }
        Ok(())
    };
    let settle = || tokio::time::sleep(Duration::from_millis(150));
    let hows = [How::Default, How::OneMessage, How::Raw, How::Ip];
    let mut t: [(Vec<Duration>, Vec<Duration>); 5] = Default::default();
    for round in 0..rounds + 1 {
        for (m, how) in hows.into_iter().enumerate() {
            let mut made = Vec::new();
            for i in 0..k {
                let name = format!("bkup{i}");
                let s = Instant::now();
                let index = up(how, &name).await?;
                if round > 0 {
                    t[m].0.push(s.elapsed());
                }
                made.push((name, index));
            }
            settle().await;
            for (name, index) in made {
                let s = Instant::now();
                down(how, &name, index).await?;
                if round > 0 {
                    t[m].1.push(s.elapsed());
                }
            }
            settle().await;
        }
        // ip -batch: the same commands for K bridges in one process each way.
        let ups: String = (0..k)
            .map(|i| {
                format!(
                    "link add name bkb{i} address {MAC} mtu 1500 type bridge\n\
                     addr add 192.168.200.1/24 dev bkb{i}\n\
                     addr add fd00:200::1/64 dev bkb{i} nodad\n\
                     link set bkb{i} up\n"
                )
            })
            .collect();
        let downs: String = (0..k).map(|i| format!("link del bkb{i}\n")).collect();
        let u = batch("ip", &ups)?;
        settle().await;
        let d = batch("ip", &downs)?;
        settle().await;
        if round > 0 {
            t[4].0.push(u / k as u32);
            t[4].1.push(d / k as u32);
        }
    }
    header(&[
        "how",
        "bring-up",
        "teardown",
        "bring-up vs bridgekit (one message)",
    ]);
    let st = |v: &(Vec<Duration>, Vec<Duration>)| (stats(v.0.clone()), stats(v.1.clone()));
    let (a, b, c, s, bt) = (st(&t[0]), st(&t[1]), st(&t[2]), st(&t[3]), st(&t[4]));
    for (name, x) in [
        (
            "bridgekit, default (IPv6 ready without ports: staged, EUI-64 link-local, read back)",
            &a,
        ),
        (
            "bridgekit, `ipv6_ready_without_ports(false)` (one create message, read back)",
            &b,
        ),
        (
            "raw rtnetlink (the messages of the line above, no read-back)",
            &c,
        ),
        ("ip -batch (per bridge)", &bt),
        ("ip, one process per step", &s),
    ] {
        row(&[
            name.into(),
            show(&x.0),
            show(&x.1),
            format!("{:.2}×", ratio(&x.0, &b.0)),
        ]);
    }
    println!(
        "\nbridgekit (one message) / raw, bring-up: {:.2}×; ip / bridgekit (one message), bring-up: {:.1}×. \
         Teardown is the kernel's unregister (RCU grace periods), the same for everyone.",
        ratio(&b.0, &c.0),
        ratio(&s.0, &b.0)
    );
    Ok(())
}

async fn status(nl: &Netlink, h: &Handle, n: usize, samples: usize, vlans: bool) -> BoxResult<()> {
    let with = if vlans {
        " (VLAN filtering; each port: PVID 10 untagged, 100-103 tagged)"
    } else {
        ""
    };
    println!("\n### `status()` of a bridge with {n} ports{with}\n");
    let br = Bridge::create(nl, BridgeConfig::new("bkstatus")?.vlan_filtering(vlans)).await?;
    br.add_address("192.168.201.1/24").await?;
    br.add_address_nodad("fd00:201::1/64").await?;
    if n > 0 {
        make_veths("bkst", n)?;
        let lines: String = (0..n)
            .map(|i| format!("link set bkst{i} master bkstatus\n"))
            .collect();
        batch("ip", &lines)?;
        if vlans {
            let lines: String = (0..n)
                .map(|i| {
                    format!(
                        "vlan add dev bkst{i} vid 10 pvid untagged\nvlan add dev bkst{i} vid 100-103\n"
                    )
                })
                .collect();
            batch("bridge", &lines)?;
        }
    }
    let index = br.index();
    let raw = async || -> BoxResult<usize> {
        // The same four requests status() sends, messages counted, not parsed.
        let mut count = 0;
        let mut get = h.link().get().match_index(index);
        get.message_mut()
            .attributes
            .push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
        count += get.execute().try_collect::<Vec<_>>().await?.len();
        let mut ports = h.link().get();
        ports
            .message_mut()
            .attributes
            .push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
        ports
            .message_mut()
            .attributes
            .push(LinkAttribute::Controller(index));
        count += ports.execute().try_collect::<Vec<_>>().await?.len();
        let vlans = h.link().get().set_filter_mask(
            AddressFamily::Bridge,
            vec![LinkExtentMask::BrvlanCompressed],
        );
        count += vlans.execute().try_collect::<Vec<_>>().await?.len();
        let mut addrs = h.address().get().set_link_index_filter(index);
        addrs.message_mut().header.index = index;
        count += addrs.execute().try_collect::<Vec<_>>().await?.len();
        Ok(count)
    };
    let (mut ours, mut floor) = (Vec::new(), Vec::new());
    for i in 0..samples + 3 {
        let t = Instant::now();
        let st = br.status().await?;
        let d = t.elapsed();
        assert_eq!(st.ports.len(), n);
        if vlans {
            assert!(st.ports.iter().all(|p| p.vlans.len() >= 2), "VLANs read");
        }
        if i >= 3 {
            ours.push(d);
        }
        let t = Instant::now();
        raw().await?;
        let d = t.elapsed();
        if i >= 3 {
            floor.push(d);
        }
    }
    let (o, w) = (stats(ours), stats(floor));
    header(&[
        "bridgekit status()",
        "raw rtnetlink (same 4 requests, unparsed)",
        "bridgekit / raw",
    ]);
    row(&[show(&o), show(&w), format!("{:.2}×", ratio(&o, &w))]);
    // The ports with their counters: the same dump with the kernel's
    // statistics in it, which `ports()` and `status()` leave out.
    let (mut plain, mut counted) = (Vec::new(), Vec::new());
    for i in 0..samples + 3 {
        let t = Instant::now();
        let p = br.ports().await?;
        let d = t.elapsed();
        assert!(p.iter().all(|p| p.counters.is_none()));
        if i >= 3 {
            plain.push(d);
        }
        let t = Instant::now();
        let p = br.ports_with_counters().await?;
        let d = t.elapsed();
        assert!(p.iter().all(|p| p.counters.is_some()));
        if i >= 3 {
            counted.push(d);
        }
    }
    let (p, c) = (stats(plain), stats(counted));
    println!();
    header(&["`ports()`", "`ports_with_counters()`", "with / without"]);
    row(&[show(&p), show(&c), format!("{:.2}×", ratio(&c, &p))]);
    br.delete().await?;
    if n > 0 {
        let lines: String = (0..n).map(|i| format!("link del bkst{i}\n")).collect();
        batch("ip", &lines)?;
    }
    Ok(())
}

/// `apply` of a desired state the bridge already has: 100 ports with
/// options, a fixed MAC, an MTU, two addresses. What it must cost is the
/// reads; raw rtnetlink does the same reads (the bridge, its addresses,
/// each port) without checking anything. A multicast listener counts the
/// kernel's notifications during the applies: a change request would
/// cause one.
async fn apply_unchanged(nl: &Netlink, h: &Handle, n: usize, samples: usize) -> BoxResult<()> {
    println!("\n### `apply` of an unchanged bridge with {n} ports\n");
    make_veths("bkap", n)?;
    let mut desired = BridgeConfig::new("bkapply")?
        .mac(MAC)
        .mtu(1500)
        .address("192.168.203.1/24")
        .address("fd00:203::1/64");
    for i in 0..n {
        desired = desired.port(
            format!("bkap{i}").as_str(),
            PortConfig::new().learning(false).cost(10).up(),
        );
    }
    let first = desired.apply(nl).await?;
    let index = first.bridge.index();
    let ports: Vec<u32> = (0..n)
        .map(|i| ifindex(&format!("bkap{i}")))
        .collect::<BoxResult<_>>()?;
    // Let DAD and the ports settle: their notifications are not ours.
    first
        .bridge
        .wait_dad(Duration::from_secs(10))
        .await
        .map_err(|e| format!("DAD: {e}"))?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (lconn, _lh, mut heard) = rtnetlink::new_multicast_connection(&[
        rtnetlink::MulticastGroup::Link,
        rtnetlink::MulticastGroup::Ipv4Ifaddr,
        rtnetlink::MulticastGroup::Ipv6Ifaddr,
        rtnetlink::MulticastGroup::Neigh,
    ])?;
    let listener = tokio::spawn(lconn);
    let raw = async || -> BoxResult<usize> {
        let mut count = h
            .link()
            .get()
            .match_index(index)
            .execute()
            .try_collect::<Vec<_>>()
            .await?
            .len();
        let mut addrs = h.address().get().set_link_index_filter(index);
        addrs.message_mut().header.index = index;
        count += addrs.execute().try_collect::<Vec<_>>().await?.len();
        for p in &ports {
            count += h
                .link()
                .get()
                .match_index(*p)
                .execute()
                .try_collect::<Vec<_>>()
                .await?
                .len();
        }
        Ok(count)
    };
    let (mut ours, mut floor) = (Vec::new(), Vec::new());
    let mut changes = 0;
    for i in 0..samples + 2 {
        let t = Instant::now();
        let applied = desired.apply(nl).await?;
        let d = t.elapsed();
        changes += applied.changes.len();
        if i >= 2 {
            ours.push(d);
        }
        let t = Instant::now();
        raw().await?;
        if i >= 2 {
            floor.push(t.elapsed());
        }
    }
    // Whatever the applies caused has been queued by now.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut notifications = 0;
    while let Ok(Some(_)) = tokio::time::timeout(
        Duration::from_millis(50),
        futures::StreamExt::next(&mut heard),
    )
    .await
    {
        notifications += 1;
    }
    listener.abort();
    let (o, w) = (stats(ours), stats(floor));
    header(&[
        "bridgekit apply (unchanged)",
        "raw rtnetlink (the same reads)",
        "bridgekit / raw",
        "changes reported",
        "kernel notifications",
    ]);
    row(&[
        show(&o),
        show(&w),
        format!("{:.2}×", ratio(&o, &w)),
        changes.to_string(),
        notifications.to_string(),
    ]);
    first.bridge.delete().await?;
    let lines: String = (0..n).map(|i| format!("link del bkap{i}\n")).collect();
    batch("ip", &lines)?;
    Ok(())
}

async fn memory(nl: &Netlink, quick: bool) -> BoxResult<()> {
    let cycles = if quick { 1000 } else { 10_000 };
    println!(
        "\n### Resident memory over {cycles} cycles of create bridge, attach a port, delete\n"
    );
    make_veths("bkm", 1)?;
    let cycle = async || -> BoxResult<()> {
        let br = Bridge::create(
            nl,
            BridgeConfig::new("bkmem")?.ipv6_ready_without_ports(false),
        )
        .await?;
        br.attach_port("bkm0", PortConfig::new()).await?;
        br.delete().await?;
        Ok(())
    };
    for _ in 0..200 {
        cycle().await?; // warm-up: allocator pools, tokio
    }
    let start = rss_kib();
    let t = Instant::now();
    for _ in 0..cycles {
        cycle().await?;
    }
    let took = t.elapsed();
    let end = rss_kib();
    header(&[
        "RSS after warm-up",
        "RSS after the cycles",
        "growth",
        "time per cycle",
    ]);
    row(&[
        format!("{start} KiB"),
        format!("{end} KiB"),
        format!("{} KiB", end as i64 - start as i64),
        us(took / cycles),
    ]);
    Ok(())
}

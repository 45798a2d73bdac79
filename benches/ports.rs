//! Port benchmarks: attach + detach of one port (plain and managed, ports
//! down and up), of N = 1, 100, 1000 ports (sequential and bulk API), and a
//! port joining VLANs 1-4094 — bridgekit next to raw rtnetlink (the same
//! change messages, no checks: the floor), `ip -batch` (the best iproute2
//! can do) and `ip` one process per step (what most VM managers do), all
//! measured in this run, in a private network namespace.
//!
//! `cargo bench --bench ports [-- quick] [vlans]`; prints markdown tables.

use std::time::{Duration, Instant};

#[path = "support/harness.rs"]
mod harness;

use bridgekit::{Bridge, BridgeConfig, Netlink, PortConfig, VlanMember, VlanRange};
use harness::*;
use netlink_packet_route::link::{BridgeVlanInfoFlags, InfoBridgePort};
use netlink_packet_route::neighbour::{NeighbourFlags, NeighbourState};
use rtnetlink::{Handle, LinkBridgePort, LinkBridgeVlan, LinkUnspec};

const BR: &str = "bkbr0";
const GUEST: [u8; 6] = [0x52, 0x54, 0, 0xbe, 0, 1];
const GUEST_STR: &str = "52:54:00:be:00:01";

fn main() -> BoxResult<()> {
    harness::bench_main(|quick| async move {
        let nl = Netlink::connect()?;
        let (conn, handle, _) = rtnetlink::new_connection()?;
        tokio::spawn(conn);
        // A fixed MAC, as a VM manager's bridge has (the reason bridgekit
        // exists). Without one, the kernel gives the bridge the lowest
        // port MAC, so each port change also changes the bridge's address
        // and queues one more notification.
        let br = Bridge::create(&nl, BridgeConfig::new(BR)?.mac("52:54:00:00:00:fc")).await?;
        br.up().await?;
        let raw = Raw {
            h: handle,
            br: br.index(),
        };
        // `vlans` alone: the scenario that needs a kernel with VLAN
        // filtering, for the kernel tier (`tools/kernel-tier/run bench
        // --bench ports -- vlans`), where the others would take long.
        if !std::env::args().any(|a| a == "vlans") {
            single_port(&br, &raw, quick).await?;
            many_ports(&br, &raw, quick).await?;
        }
        vlans(&nl, &raw, quick).await?;
        br.delete().await?;
        println!("\nMachine: {}", machine());
        Ok(())
    })
}

/// Lets bridgekit's link view read, untimed, the notifications the
/// baselines' changes queued for it (a check that fails: `port` is not
/// attached). A host where other processes change links pays that reading
/// at its next port operation instead, about a microsecond per
/// notification (or one dump after an overrun); the README says so.
async fn settle(br: &Bridge, port: u32) {
    let _ = br.detach_port(port).await;
}

/// The same change messages bridgekit sends, straight through rtnetlink.
struct Raw {
    h: Handle,
    br: u32,
}

impl Raw {
    async fn master(&self, i: u32) -> BoxResult<()> {
        let msg = LinkUnspec::new_with_index(i).controller(self.br).build();
        Ok(self.h.link().set(msg).execute().await?)
    }
    async fn nomaster(&self, i: u32) -> BoxResult<()> {
        let msg = LinkUnspec::new_with_index(i).nocontroller().build();
        Ok(self.h.link().set(msg).execute().await?)
    }
    async fn managed(&self, i: u32) -> BoxResult<()> {
        self.master(i).await?;
        let msg = LinkBridgePort::new(i)
            .append_info_data(InfoBridgePort::Learning(false))
            .append_info_data(InfoBridgePort::UnicastFlood(false))
            .build();
        self.h.link().set_port(msg).execute().await?;
        self.h
            .neighbours()
            .add_bridge(i, &GUEST)
            .state(NeighbourState::Noarp)
            .flags(NeighbourFlags::Controller)
            .replace()
            .execute()
            .await?;
        Ok(())
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Plain,
    Managed,
}

async fn single_port(br: &Bridge, raw: &Raw, quick: bool) -> BoxResult<()> {
    let (samples, ip_samples, batch_rounds) = if quick { (60, 10, 20) } else { (400, 60, 200) };
    println!("\n### Attach + detach of one port (per pair; median (p10–p90, n))\n");
    header(&[
        "case",
        "bridgekit",
        "raw rtnetlink",
        "ip -batch",
        "ip, one process per step",
        "ip / bridgekit",
        "bridgekit / raw",
    ]);
    make_veths("bks", 1)?;
    let port = ifindex("bks0")?;
    for up in [false, true] {
        let state = if up { "up" } else { "down" };
        for end in ["bks0", "bks0p"] {
            ip(&["link", "set", end, state])?;
        }
        for kind in [Kind::Plain, Kind::Managed] {
            let cfg = || match kind {
                Kind::Plain => PortConfig::new(),
                Kind::Managed => PortConfig::managed(GUEST_STR),
            };
            let (mut ours, mut floor) = (Vec::new(), Vec::new());
            // Warm-up, then interleaved blocks so drift hits both alike.
            for _ in 0..samples / 10 {
                br.attach_port(port, cfg()).await?;
                br.detach_port(port).await?;
            }
            for block in 0..samples / 10 {
                settle(br, port).await;
                for _ in 0..10 {
                    let t = Instant::now();
                    br.attach_port(port, cfg()).await?;
                    br.detach_port(port).await?;
                    ours.push(t.elapsed());
                }
                for _ in 0..10 {
                    let t = Instant::now();
                    match kind {
                        Kind::Plain => raw.master(port).await?,
                        Kind::Managed => raw.managed(port).await?,
                    }
                    raw.nomaster(port).await?;
                    floor.push(t.elapsed());
                }
                let _ = block;
            }
            let mut shell = Vec::new();
            for _ in 0..ip_samples {
                let t = Instant::now();
                ip(&["link", "set", "bks0", "master", BR])?;
                if kind == Kind::Managed {
                    ip(&[
                        "link",
                        "set",
                        "bks0",
                        "type",
                        "bridge_slave",
                        "learning",
                        "off",
                        "flood",
                        "off",
                    ])?;
                    run(
                        "bridge",
                        &[
                            "fdb", "replace", GUEST_STR, "dev", "bks0", "master", "static",
                        ],
                    )?;
                }
                ip(&["link", "set", "bks0", "nomaster"])?;
                shell.push(t.elapsed());
            }
            let batched = if kind == Kind::Plain {
                let lines = format!("link set bks0 master {BR}\nlink set bks0 nomaster\n")
                    .repeat(batch_rounds);
                let mut v = Vec::new();
                for _ in 0..15 {
                    v.push(batch("ip", &lines)? / batch_rounds as u32);
                }
                Some(stats(v))
            } else {
                None // the FDB entry needs `bridge`, not `ip`: no single batch does it
            };
            let (o, w, s) = (stats(ours), stats(floor), stats(shell));
            let name = match kind {
                Kind::Plain => "plain",
                Kind::Managed => "managed FDB",
            };
            row(&[
                format!("{name}, ports {state}"),
                show(&o),
                show(&w),
                batched.as_ref().map_or("—".into(), show),
                show(&s),
                format!("{:.1}×", ratio(&s, &o)),
                format!("{:.2}×", ratio(&o, &w)),
            ]);
        }
    }
    ip(&["link", "del", "bks0"])?;
    Ok(())
}

async fn many_ports(br: &Bridge, raw: &Raw, quick: bool) -> BoxResult<()> {
    let max = if quick { 100 } else { 1000 };
    println!("\n### Attach then detach N ports (per port; median over rounds)\n");
    header(&[
        "N",
        "bridgekit, one call per port",
        "bridgekit, attach_ports/detach_ports",
        "raw rtnetlink",
        "ip -batch",
        "ip, one process per step",
        "ip / bridgekit",
        "bridgekit / raw",
        "bulk / sequential",
    ]);
    make_veths("bkn", max)?;
    let mut idx = Vec::new();
    for i in 0..max {
        idx.push(ifindex(&format!("bkn{i}"))?);
    }
    for n in [1usize, 100, 1000].into_iter().filter(|n| *n <= max) {
        let (rounds, ip_rounds) = match (n, quick) {
            (1, false) => (300, 40),
            (1, true) => (30, 5),
            (100, false) => (15, 2),
            (100, true) => (3, 1),
            // A round of 1000 ports takes about a second: seven of them
            // make the median mean something on a noisy machine.
            (1000, false) => (7, 1),
            _ => (3, 1),
        };
        let ports = &idx[..n];
        let per = |d: Duration| d / n as u32;
        let (mut seq, mut bulk, mut floor, mut batched, mut shell) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for round in 0..rounds + 1 {
            settle(br, ports[0]).await;
            let t = Instant::now();
            for &p in ports {
                br.attach_port(p, PortConfig::new()).await?;
            }
            for &p in ports {
                br.detach_port(p).await?;
            }
            let d_seq = t.elapsed();

            let t = Instant::now();
            br.attach_ports(ports.iter().map(|&p| (p, PortConfig::new())))
                .await?;
            br.detach_ports(ports.iter().copied()).await?;
            let d_bulk = t.elapsed();

            let t = Instant::now();
            for &p in ports {
                raw.master(p).await?;
            }
            for &p in ports {
                raw.nomaster(p).await?;
            }
            let d_raw = t.elapsed();
            if round == 0 {
                continue; // warm-up
            }
            seq.push(per(d_seq));
            bulk.push(per(d_bulk));
            floor.push(per(d_raw));
            if round <= ip_rounds {
                let lines: String = (0..n)
                    .map(|i| format!("link set bkn{i} master {BR}\n"))
                    .chain((0..n).map(|i| format!("link set bkn{i} nomaster\n")))
                    .collect();
                batched.push(per(batch("ip", &lines)?));
                let t = Instant::now();
                for i in 0..n {
                    ip(&["link", "set", &format!("bkn{i}"), "master", BR])?;
                }
                for i in 0..n {
                    ip(&["link", "set", &format!("bkn{i}"), "nomaster"])?;
                }
                shell.push(per(t.elapsed()));
            }
        }
        let (q, b, w, ib, s) = (
            stats(seq),
            stats(bulk),
            stats(floor),
            stats(batched),
            stats(shell),
        );
        row(&[
            n.to_string(),
            show(&q),
            show(&b),
            show(&w),
            show(&ib),
            show(&s),
            format!("{:.1}×", ratio(&s, &q)),
            format!("{:.2}×", ratio(&q, &w)),
            format!("{:.2}×", ratio(&b, &q)),
        ]);
    }
    let lines: String = (0..max).map(|i| format!("link del bkn{i}\n")).collect();
    batch("ip", &lines)?;
    Ok(())
}

async fn vlans(nl: &Netlink, raw: &Raw, quick: bool) -> BoxResult<()> {
    println!("\n### One port joins and leaves VLANs 1-4094\n");
    if !kernel_has_vlan_filtering() {
        println!(
            "skipped: this kernel lacks bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING); \
             run it in the kernel tier: `tools/kernel-tier/run bench --bench ports -- vlans`"
        );
        return Ok(());
    }
    let samples = if quick { 10 } else { 60 };
    let br = Bridge::create(nl, BridgeConfig::new("bkvbr0")?).await?;
    br.set_vlan_filtering(true).await?;
    make_veths("bkv", 1)?;
    br.attach_port("bkv0", PortConfig::new()).await?;
    let port = ifindex("bkv0")?;
    let all = [VlanMember::tagged(VlanRange::all())];
    let (mut ours, mut floor, mut shell) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..samples + 2 {
        let t = Instant::now();
        br.add_vlans(port, &all).await?;
        br.remove_vlans(port, &[VlanRange::all()]).await?;
        let d = t.elapsed();
        if i >= 2 {
            ours.push(d);
        }
        let t = Instant::now();
        let flags = BridgeVlanInfoFlags::empty();
        let msg = LinkBridgeVlan::new(port)
            .vlan_range_start(1, flags)
            .vlan_range_end(4094, flags)
            .build();
        raw.h.link().set(msg).execute().await?;
        let msg = LinkBridgeVlan::new(port)
            .vlan_range_start(1, flags)
            .vlan_range_end(4094, flags)
            .build();
        raw.h.link().del_with_message(msg).execute().await?;
        let d = t.elapsed();
        if i >= 2 {
            floor.push(d);
        }
        if i >= 2 && i < samples / 3 + 2 {
            let t = Instant::now();
            run("bridge", &["vlan", "add", "dev", "bkv0", "vid", "1-4094"])?;
            run("bridge", &["vlan", "del", "dev", "bkv0", "vid", "1-4094"])?;
            shell.push(t.elapsed());
        }
    }
    let (o, w, s) = (stats(ours), stats(floor), stats(shell));
    header(&[
        "bridgekit",
        "raw rtnetlink",
        "bridge vlan, one process per step",
        "bridge / bridgekit",
        "bridgekit / raw",
    ]);
    row(&[
        show(&o),
        show(&w),
        show(&s),
        format!("{:.1}×", ratio(&s, &o)),
        format!("{:.2}×", ratio(&o, &w)),
    ]);
    println!(
        "(bridgekit reads the port's VLANs before and after each change, to undo a partial failure and to check the result)"
    );
    br.delete().await?;
    Ok(())
}

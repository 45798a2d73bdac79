//! Port benchmarks: attach + detach of one port (plain and managed, ports
//! down and up), of N = 1, 100, 1000 ports (sequential and bulk API), and a
//! port joining VLANs 1-4094 — bridgekit next to raw rtnetlink (the same
//! change messages, no checks), a plain netlink socket sending the same
//! messages encoded once (the floor under any library), `ip -batch` (the
//! best iproute2 can do) and `ip` one process per step (what most VM
//! managers do), all measured in this run, in a private network namespace.
//!
//! The sides take turns in blocks, so each bridgekit block follows the
//! baselines' changes, as on a host where other processes change links:
//! its link view reads their notifications inside the timed block, and
//! that catch-up is counted as bridgekit's cost.
//!
//! `cargo bench --bench ports [-- quick] [vlans]`; prints markdown tables.

use std::time::{Duration, Instant};

#[path = "support/harness.rs"]
mod harness;

use bridgekit::{Bridge, BridgeConfig, Netlink, PortConfig, VlanMember, VlanRange};
use harness::*;
use netlink_packet_route::link::{BridgeVlanInfoFlags, InfoBridgePort};
use netlink_packet_route::neighbour::{NeighbourFlags, NeighbourState};
use rtnetlink::packet_route::RouteNetlinkMessage;
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

/// The floor: a plain blocking netlink socket that sends the same change
/// messages, encoded once, and reads each acknowledgement. No library, no
/// runtime, no checks.
struct Floor {
    socket: rtnetlink::sys::Socket,
    buf: Vec<u8>,
    attach: Vec<Vec<u8>>,
    detach: Vec<Vec<u8>>,
}

impl Floor {
    /// The messages that put each of `ports` on bridge `br` and take it off.
    fn new(br: u32, ports: &[u32]) -> BoxResult<Self> {
        use rtnetlink::sys::protocols::NETLINK_ROUTE;
        let mut socket = rtnetlink::sys::Socket::new(NETLINK_ROUTE)?;
        socket.bind_auto()?;
        let encode = |msg: netlink_packet_route::link::LinkMessage| {
            use rtnetlink::packet_core::{NLM_F_ACK, NLM_F_REQUEST, NetlinkMessage};
            let mut m = NetlinkMessage::from(RouteNetlinkMessage::SetLink(msg));
            m.header.flags = NLM_F_REQUEST | NLM_F_ACK;
            m.header.sequence_number = 1;
            m.finalize();
            let mut bytes = vec![0; m.buffer_len()];
            m.serialize(&mut bytes);
            bytes
        };
        Ok(Floor {
            socket,
            buf: vec![0; 32 * 1024],
            attach: ports
                .iter()
                .map(|&i| encode(LinkUnspec::new_with_index(i).controller(br).build()))
                .collect(),
            detach: ports
                .iter()
                .map(|&i| encode(LinkUnspec::new_with_index(i).nocontroller().build()))
                .collect(),
        })
    }

    /// Sends one encoded request and reads its acknowledgement.
    fn send(socket: &rtnetlink::sys::Socket, buf: &mut [u8], msg: &[u8]) -> BoxResult<()> {
        socket.send(msg, 0)?;
        let mut room: &mut [u8] = buf;
        socket.recv(&mut room, 0)?;
        let code = i32::from_ne_bytes(buf[16..20].try_into()?);
        if code != 0 {
            return Err(format!(
                "kernel refused: {}",
                std::io::Error::from_raw_os_error(-code)
            )
            .into());
        }
        Ok(())
    }

    fn attach(&mut self, k: usize) -> BoxResult<()> {
        Self::send(&self.socket, &mut self.buf, &self.attach[k])
    }

    fn detach(&mut self, k: usize) -> BoxResult<()> {
        Self::send(&self.socket, &mut self.buf, &self.detach[k])
    }
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
        "plain socket",
        "ip -batch",
        "ip, one process per step",
        "ip / bridgekit",
        "bridgekit / raw",
        "bridgekit / plain socket",
    ]);
    make_veths("bks", 1)?;
    let port = ifindex("bks0")?;
    let mut plain = Floor::new(br.index(), &[port])?;
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
            let (mut ours, mut floor, mut bare) = (Vec::new(), Vec::new(), Vec::new());
            // Warm-up, then interleaved blocks so drift hits both alike.
            for _ in 0..samples / 10 {
                br.attach_port(port, cfg()).await?;
                br.detach_port(port).await?;
            }
            for _ in 0..samples / 10 {
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
                if kind == Kind::Plain {
                    for _ in 0..10 {
                        let t = Instant::now();
                        plain.attach(0)?;
                        plain.detach(0)?;
                        bare.push(t.elapsed());
                    }
                }
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
            let bare = (!bare.is_empty()).then(|| stats(bare));
            let name = match kind {
                Kind::Plain => "plain",
                Kind::Managed => "managed FDB",
            };
            row(&[
                format!("{name}, ports {state}"),
                show(&o),
                show(&w),
                bare.as_ref().map_or("—".into(), show),
                batched.as_ref().map_or("—".into(), show),
                show(&s),
                format!("{:.1}×", ratio(&s, &o)),
                format!("{:.2}×", ratio(&o, &w)),
                bare.as_ref()
                    .map_or("—".into(), |b| format!("{:.2}×", ratio(&o, b))),
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
        "plain socket",
        "ip -batch",
        "ip, one process per step",
        "ip / bridgekit",
        "bridgekit / raw",
        "bridgekit / plain socket",
        "bulk / sequential",
    ]);
    make_veths("bkn", max)?;
    let mut idx = Vec::new();
    for i in 0..max {
        idx.push(ifindex(&format!("bkn{i}"))?);
    }
    let mut plain = Floor::new(br.index(), &idx)?;
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
        let (mut seq, mut bulk, mut floor, mut bare, mut batched, mut shell) = (
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
        );
        for round in 0..rounds + 1 {
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

            let t = Instant::now();
            for k in 0..n {
                plain.attach(k)?;
            }
            for k in 0..n {
                plain.detach(k)?;
            }
            let d_bare = t.elapsed();
            if round == 0 {
                continue; // warm-up
            }
            seq.push(per(d_seq));
            bulk.push(per(d_bulk));
            floor.push(per(d_raw));
            bare.push(per(d_bare));
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
        let (q, b, w, f, ib, s) = (
            stats(seq),
            stats(bulk),
            stats(floor),
            stats(bare),
            stats(batched),
            stats(shell),
        );
        row(&[
            n.to_string(),
            show(&q),
            show(&b),
            show(&w),
            show(&f),
            show(&ib),
            show(&s),
            format!("{:.1}×", ratio(&s, &q)),
            format!("{:.2}×", ratio(&q, &w)),
            format!("{:.2}×", ratio(&q, &f)),
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

//! VXLAN benchmark: 1,000 remote VTEPs added to a flood list — bridgekit's
//! `add_remotes` (checked first, read back after, all or nothing) next to
//! raw rtnetlink sending the same NLM_F_APPEND messages (the floor),
//! `bridge -batch`, and `bridge fdb append` one process per entry, all
//! measured in this run, in a private network namespace.
//!
//! `cargo bench --bench vxlan [-- quick]`; prints a markdown table.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

#[path = "support/harness.rs"]
mod harness;

use bridgekit::{Netlink, Remote, Vxlan, VxlanConfig};
use harness::*;
use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourFlags, NeighbourMessage, NeighbourState,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use rtnetlink::Handle;
use rtnetlink::packet_core::{
    NLM_F_ACK, NLM_F_APPEND, NLM_F_CREATE, NLM_F_REQUEST, NetlinkMessage, NetlinkPayload,
};

const VX: &str = "bkvx0";

fn main() -> BoxResult<()> {
    harness::bench_main(|quick| async move {
        let nl = Netlink::connect()?;
        let (conn, handle, _) = rtnetlink::new_connection()?;
        tokio::spawn(conn);
        run(
            "ip",
            &[
                "link", "add", "bku0", "type", "veth", "peer", "name", "bku0p",
            ],
        )?;
        ip(&["addr", "add", "10.90.0.1/16", "dev", "bku0"])?;
        ip(&["link", "set", "bku0", "up"])?;
        flood_list(&nl, &handle, quick).await?;
        ip(&["link", "del", "bku0"])?;
        println!("\nMachine: {}", machine());
        Ok(())
    })
}

fn config() -> VxlanConfig {
    VxlanConfig::new(VX, 42)
        .expect("a valid name")
        .local("10.90.0.1".parse().expect("an address"))
        .underlay("bku0")
        .learning(false)
}

/// The `i`-th remote VTEP, 10.91.x.y.
fn dst(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(10, 91, (i / 250) as u8, (i % 250 + 1) as u8)
}

/// The message bridgekit sends for one flood-list entry, straight through
/// rtnetlink's request call.
async fn raw_append(h: &Handle, index: u32, to: Ipv4Addr) -> BoxResult<()> {
    let mut msg = NeighbourMessage::default();
    msg.header.family = AddressFamily::Bridge;
    msg.header.ifindex = index;
    msg.header.state = NeighbourState::Permanent;
    msg.header.flags = NeighbourFlags::Own;
    msg.attributes
        .push(NeighbourAttribute::LinkLayerAddress(vec![0; 6]));
    msg.attributes
        .push(NeighbourAttribute::Destination(NeighbourAddress::Inet(to)));
    let mut req = NetlinkMessage::from(RouteNetlinkMessage::NewNeighbour(msg));
    req.header.flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_APPEND;
    let mut h = h.clone();
    let mut response = h.request(req)?;
    use futures::StreamExt;
    while let Some(m) = response.next().await {
        if let NetlinkPayload::Error(e) = m.payload {
            if e.code.is_some() {
                return Err(format!("kernel refused: {e:?}").into());
            }
        }
    }
    Ok(())
}

async fn fresh(nl: &Netlink) -> BoxResult<Vxlan> {
    if let Ok(old) = Vxlan::open(nl, VX).await {
        old.delete().await?;
    }
    Ok(Vxlan::create(nl, config()).await?)
}

async fn flood_list(nl: &Netlink, h: &Handle, quick: bool) -> BoxResult<()> {
    let n = if quick { 100 } else { 1000 };
    let rounds = if quick { 2 } else { 5 };
    println!("\n### {n} remote VTEPs appended to a flood list (per entry; median over rounds)\n");
    header(&[
        "N",
        "bridgekit add_remotes",
        "raw rtnetlink",
        "bridge -batch",
        "bridge fdb append, one process per entry",
        "bridgekit / raw",
        "per process / bridgekit",
    ]);
    let remotes: Vec<Remote> = (0..n).map(|i| Remote::flood(IpAddr::V4(dst(i)))).collect();
    let per = |d: Duration| d / n as u32;
    let (mut kit, mut floor, mut batched, mut shell) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds + 1 {
        let vx = fresh(nl).await?;
        let t = Instant::now();
        vx.add_remotes(remotes.clone()).await?;
        let d_kit = t.elapsed();
        assert_eq!(vx.remotes().await?.len(), n, "bridgekit added them all");

        let vx = fresh(nl).await?;
        let t = Instant::now();
        for i in 0..n {
            raw_append(h, vx.index(), dst(i)).await?;
        }
        let d_raw = t.elapsed();
        assert_eq!(vx.remotes().await?.len(), n, "raw added them all");
        if round == 0 {
            continue; // warm-up
        }
        kit.push(per(d_kit));
        floor.push(per(d_raw));
        if round == 1 {
            fresh(nl).await?;
            let lines: String = (0..n)
                .map(|i| format!("fdb append 00:00:00:00:00:00 dev {VX} dst {}\n", dst(i)))
                .collect();
            batched.push(per(batch("bridge", &lines)?));
            fresh(nl).await?;
            let t = Instant::now();
            for i in 0..n {
                run(
                    "bridge",
                    &[
                        "fdb",
                        "append",
                        "00:00:00:00:00:00",
                        "dev",
                        VX,
                        "dst",
                        &dst(i).to_string(),
                    ],
                )?;
            }
            shell.push(per(t.elapsed()));
        }
    }
    Vxlan::open(nl, VX).await?.delete().await?;
    let (k, w, b, s) = (stats(kit), stats(floor), stats(batched), stats(shell));
    row(&[
        n.to_string(),
        show(&k),
        show(&w),
        show(&b),
        show(&s),
        format!("{:.2}×", ratio(&k, &w)),
        format!("{:.1}×", ratio(&s, &k)),
    ]);
    Ok(())
}

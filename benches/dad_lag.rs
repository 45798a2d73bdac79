//! Lag between the kernel's "DAD done" notification and the waiter
//! returning: bridgekit's event-driven `wait_dad` next to a 10 ms polling
//! waiter (libvirt's method), measured in the same run.
//!
//! Runs in a private network namespace of its own (a user namespace first
//! when not root). `cargo bench --bench dad_lag [-- SAMPLES]`.

use std::net::Ipv6Addr;
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[path = "../examples/support/private_netns.rs"]
mod private_netns;

use bridgekit::{Bridge, BridgeConfig, Netlink};

use rtnetlink::packet_core::{NetlinkMessage, NetlinkPayload};
use rtnetlink::packet_route::RouteNetlinkMessage;
use rtnetlink::packet_route::address::{AddressAttribute, AddressFlags};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let samples: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(30);
    private_netns::enter_private_netns()?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || watch_dad_done(tx));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let nl = Netlink::connect()?;
        let br = Bridge::create(&nl, BridgeConfig::new("bklag0")?.mac("52:54:00:00:10:01")).await?;
        // Settle the link-local's DAD, then make DAD short (one probe, 20 ms)
        // so a sample takes tens of milliseconds.
        br.wait_dad(Duration::from_secs(5)).await?;
        std::fs::write("/proc/sys/net/ipv6/neigh/bklag0/retrans_time_ms", "20")?;
        std::fs::write("/proc/sys/net/ipv6/conf/bklag0/dad_transmits", "1")?;
        let mut ours = Vec::new();
        let mut polled = Vec::new();
        for i in 0..samples {
            ours.push(sample(&br, &rx, 2 * i, Waiter::Events).await?);
            polled.push(sample(&br, &rx, 2 * i + 1, Waiter::Poll10ms).await?);
        }
        br.delete().await?;
        let (o, p) = (summary(&mut ours), summary(&mut polled));
        println!("DAD-done notification -> waiter returns, {samples} samples each");
        println!(
            "  bridgekit wait_dad (events): median {:?}  p10 {:?}  p90 {:?}",
            o.0, o.1, o.2
        );
        println!(
            "  10 ms polling (libvirt):     median {:?}  p10 {:?}  p90 {:?}",
            p.0, p.1, p.2
        );
        println!(
            "  goal: bridgekit median <= 5 ms: {}; polling/bridgekit median ratio: {:.1}x",
            if o.0 <= Duration::from_millis(5) {
                "met"
            } else {
                "MISSED"
            },
            p.0.as_secs_f64() / o.0.as_secs_f64().max(1e-6)
        );
        Ok::<_, Box<dyn std::error::Error>>(())
    })
}

#[derive(Clone, Copy)]
enum Waiter {
    Events,
    Poll10ms,
}

async fn sample(
    br: &Bridge,
    done_rx: &mpsc::Receiver<(Ipv6Addr, Instant)>,
    i: usize,
    how: Waiter,
) -> Result<Duration, Box<dyn std::error::Error>> {
    while done_rx.try_recv().is_ok() {}
    let addr: Ipv6Addr = format!("fd77::{:x}", i + 1).parse()?;
    br.add_address((addr, 64)).await?;
    match how {
        Waiter::Events => br.wait_dad(Duration::from_secs(5)).await?,
        Waiter::Poll10ms => poll_until_done(br).await?,
    }
    let returned = Instant::now();
    let seen = loop {
        let (a, t) = done_rx.recv_timeout(Duration::from_secs(5))?;
        if a == addr {
            break t;
        }
    };
    br.remove_address((addr, 64)).await?;
    Ok(returned.saturating_duration_since(seen))
}

/// libvirt's virNetDevIPWaitDadFinish: dump, check `tentative`, sleep 10 ms.
async fn poll_until_done(br: &Bridge) -> Result<(), Box<dyn std::error::Error>> {
    loop {
        if !br.addresses().await?.iter().any(|a| a.tentative) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn summary(v: &mut [Duration]) -> (Duration, Duration, Duration) {
    v.sort();
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.1), at(0.9))
}

/// A blocking netlink socket on its own thread: the reference clock for
/// "the kernel reported DAD done".
fn watch_dad_done(tx: mpsc::Sender<(Ipv6Addr, Instant)>) {
    use rtnetlink::sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};
    let mut socket = Socket::new(NETLINK_ROUTE).expect("netlink socket");
    socket
        .bind(&SocketAddr::new(0, 1 << (9 - 1)))
        .expect("bind RTNLGRP_IPV6_IFADDR");
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = match socket.recv(&mut &mut buf[..], 0) {
            Ok(n) => n,
            Err(_) => continue,
        };
        let now = Instant::now();
        let mut off = 0;
        while off + 16 <= n {
            let len = u32::from_ne_bytes(buf[off..off + 4].try_into().unwrap()) as usize;
            if len < 16 || off + len > n {
                break;
            }
            if let Ok(msg) =
                NetlinkMessage::<RouteNetlinkMessage>::deserialize(&buf[off..off + len])
            {
                if let NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewAddress(m)) =
                    msg.payload
                {
                    let mut addr = None;
                    let mut tentative = false;
                    for a in &m.attributes {
                        match a {
                            AddressAttribute::Address(std::net::IpAddr::V6(v6)) => addr = Some(*v6),
                            AddressAttribute::Flags(f) => {
                                tentative = f.contains(AddressFlags::Tentative)
                            }
                            _ => {}
                        }
                    }
                    if let (Some(a), false) = (addr, tentative) {
                        let _ = tx.send((a, now));
                    }
                }
            }
            off += (len + 3) & !3;
        }
    }
}

//! The libvirt network start sequence, end to end: a bridge with a fixed
//! MAC, IPv4 and IPv6 addresses, up, IPv6 DAD, a veth port, status, teardown.
//!
//! By default it runs in a private network namespace of its own (entering a
//! user namespace first when not root), so it touches nothing on your
//! machine:
//!
//! ```text
//! cargo run --example virtual_network
//! cargo run --example virtual_network -- --host-netns   # as root, in the current namespace
//! ```

use std::time::{Duration, Instant};

#[path = "support/private_netns.rs"]
mod private_netns;

use bridgekit::{Bridge, BridgeConfig, BridgeStatus, Netlink, OperState, PortConfig};
use futures::{StreamExt, TryStreamExt};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let host = std::env::args().any(|a| a == "--host-netns");
    if host {
        println!("running in the current network namespace (--host-netns)");
    } else {
        private_netns::enter_private_netns()?;
        println!(
            "running in a private network namespace (pass --host-netns to use the current one)"
        );
    }
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let nl = Netlink::connect()?;
    let t = Instant::now();

    // 1. The bridge, born configured (libvirt: virNetDevBridgeCreate + options).
    let br = Bridge::create(
        &nl,
        BridgeConfig::new("bkdemo0")?
            .mac("52:54:00:12:34:56")
            .mtu(1500)
            .stp(false)
            .forward_delay(Duration::ZERO),
    )
    .await?;
    println!("created {} (ifindex {})", br.name(), br.index());

    // 2. Addresses; 3. up; 4. DAD done before a DHCP/RA daemon would bind.
    br.add_address("192.168.150.1/24").await?;
    br.add_address("fd00:150::1/64").await?;
    br.up().await?;
    br.wait_dad(Duration::from_secs(5)).await?;
    println!("IPv6 DAD finished, with no port on the bridge");

    // 5. A guest port: a veth pair stands in for a VM's tap. Its events
    // tell when the bridge has carrier again.
    let mut events = br.events().await?;
    let (conn, handle, _) = rtnetlink::new_connection()?;
    tokio::spawn(conn);
    handle
        .link()
        .add(rtnetlink::LinkVeth::new("bkdemo-vm0", "bkdemo-vm0p").build())
        .execute()
        .await?;
    let port = handle
        .link()
        .get()
        .match_name("bkdemo-vm0")
        .execute()
        .try_next()
        .await?
        .ok_or("veth just created is missing")?;
    br.attach_port(port.header.index, PortConfig::new().up())
        .await?;
    let peer = handle
        .link()
        .get()
        .match_name("bkdemo-vm0p")
        .execute()
        .try_next()
        .await?
        .ok_or("veth peer just created is missing")?;
    handle
        .link()
        .set(
            rtnetlink::LinkUnspec::new_with_index(peer.header.index)
                .up()
                .build(),
        )
        .execute()
        .await?;

    // Carrier and operstate follow the port asynchronously (the kernel's
    // linkwatch): wait for them rather than print a state about to change.
    let mut status = br.status().await?;
    while !(status.carrier && status.operstate == OperState::Up) {
        match tokio::time::timeout(Duration::from_secs(2), events.next()).await {
            Ok(Some(event)) => {
                event?;
                status = br.status().await?;
            }
            _ => break, // print what there is
        }
    }
    print_status(&status);

    // 6. Teardown: the veth goes with its peer; the bridge last.
    handle.link().del(port.header.index).execute().await?;
    let legacy = br.delete().await?;
    println!(
        "deleted ({legacy}); the whole run took {} ms",
        t.elapsed().as_millis()
    );
    Ok(())
}

fn print_status(s: &BridgeStatus) {
    let explicit = match s.mac_explicit {
        Some(true) => "set explicitly, sticky",
        Some(false) => "chosen by the kernel",
        None => "origin unknown",
    };
    let on = |b: bool| if b { "on" } else { "off" };
    println!();
    println!("  {:<14} {}", "bridge", s.name);
    println!("  {:<14} {}", "ifindex", s.index);
    let m = s.mac.into_array();
    println!(
        "  {:<14} {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x} ({explicit})",
        "mac", m[0], m[1], m[2], m[3], m[4], m[5]
    );
    println!("  {:<14} {}", "mtu", s.mtu);
    println!(
        "  {:<14} {}, carrier {}, operstate {}",
        "state",
        if s.up { "up" } else { "down" },
        on(s.carrier),
        s.operstate
    );
    println!(
        "  {:<14} STP {}, forward delay {} s, ageing time {} s, VLAN filtering {}",
        "options",
        on(s.stp),
        s.forward_delay.as_secs_f64(),
        s.ageing_time.as_secs_f64(),
        on(s.vlan_filtering)
    );
    for p in &s.ports {
        println!(
            "  {:<14} {}, ifindex {}, {}",
            "port", p.name, p.index, p.state
        );
    }
    for a in &s.addresses {
        let mut flags = Vec::new();
        if a.tentative {
            flags.push("tentative");
        }
        if a.dad_failed {
            flags.push("dadfailed");
        }
        if a.nodad {
            flags.push("nodad");
        }
        if a.permanent {
            flags.push("permanent");
        }
        println!("  {:<14} {:<28} {}", "address", a.address, flags.join(","));
    }
    println!();
}

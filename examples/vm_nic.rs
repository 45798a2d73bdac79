//! A VM NIC end to end: a bridge, a tap for a guest (its queue fds are what
//! a VMM would take), the bridge's events while a second guest NIC comes
//! and goes, and teardown.
//!
//! By default it runs in a private network namespace of its own, so it
//! touches nothing on your machine. Making taps needs access to
//! `/dev/net/tun` (root, usually):
//!
//! ```text
//! cargo run --example vm_nic
//! cargo run --example vm_nic -- --host-netns   # as root, in the current namespace
//! ```

use std::os::fd::AsRawFd;
use std::time::Duration;

#[path = "support/private_netns.rs"]
mod private_netns;

use bridgekit::{BridgeConfig, BridgeEvent, Netlink, PortConfig, VmNic, VmNicConfig};
use futures::StreamExt;

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
    let taps = match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/net/tun")
    {
        Ok(_) => true,
        Err(e) => {
            println!(
                "cannot open /dev/net/tun ({e}): making taps needs root; \
                 showing the bridge and its events with a veth port instead"
            );
            false
        }
    };
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(run(taps))
}

async fn run(taps: bool) -> Result<(), Box<dyn std::error::Error>> {
    let nl = Netlink::connect()?;
    // 1. The bridge, as on every daemon start: created, or left as it is.
    let applied = BridgeConfig::new("bkvm0")?
        .mac("52:54:00:00:00:01")
        .mtu(1500)
        .address("192.168.150.1/24")
        .apply(&nl)
        .await?;
    let br = applied.bridge;
    let changes: Vec<String> = applied.changes.iter().map(|c| c.to_string()).collect();
    println!("bridge {}: {}", br.name(), changes.join(", "));
    if !taps {
        return without_taps(br).await;
    }

    // 2. A guest NIC: a two-queue tap, managed MAC table, up.
    let guest = "52:54:00:ab:cd:01";
    let nic = VmNic::create(
        &br,
        VmNicConfig::new(guest)
            .queues(2)
            .port(PortConfig::managed(guest)),
    )
    .await?;
    let fds: Vec<i32> = nic.queue_fds().iter().map(|fd| fd.as_raw_fd()).collect();
    println!(
        "guest NIC {}: host MAC {}, guest MAC {}, queue fds {fds:?} for the VMM",
        nic.name(),
        lower(nic.host_mac()),
        lower(nic.guest_mac())
    );

    // 3. Events while a second guest NIC comes and goes.
    let mut events = br.events().await?;
    let second = VmNic::create(&br, VmNicConfig::new("52:54:00:ab:cd:02")).await?;
    let second_name = second.name().to_string();
    drop(second); // the VMM exits: its fds close and the kernel removes the tap
    let mut seen = 0;
    while let Ok(Some(event)) =
        tokio::time::timeout(Duration::from_millis(500), events.next()).await
    {
        let event = event?;
        println!("event: {event}");
        if matches!(event, BridgeEvent::PortDetached { ref port, .. } if *port == second_name) {
            seen += 1;
        }
    }
    println!("{second_name} came and went ({seen} detach event)");

    // 4. Status and teardown.
    print_status(&br).await?;
    nic.delete().await?;
    br.delete().await?;
    println!("torn down");
    Ok(())
}

/// Without /dev/net/tun: the same bridge, and its events while a veth
/// port (standing in for a guest's tap) comes and goes.
async fn without_taps(br: bridgekit::Bridge) -> Result<(), Box<dyn std::error::Error>> {
    let mut events = br.events().await?;
    let (conn, handle, _) = rtnetlink::new_connection()?;
    tokio::spawn(conn);
    handle
        .link()
        .add(rtnetlink::LinkVeth::new("bkvm-p0", "bkvm-p0peer").build())
        .execute()
        .await?;
    br.attach_port("bkvm-p0", PortConfig::new().up()).await?;
    br.detach_port("bkvm-p0").await?;
    while let Ok(Some(event)) =
        tokio::time::timeout(Duration::from_millis(500), events.next()).await
    {
        println!("event: {}", event?);
    }
    print_status(&br).await?;
    br.delete().await?;
    println!("torn down (the veth goes with the namespace)");
    Ok(())
}

async fn print_status(br: &bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    let status = br.status().await?;
    let ports: Vec<String> = status
        .ports
        .iter()
        .map(|p| format!("{} {}", p.name, p.state))
        .collect();
    println!(
        "status: MAC {}, MTU {}, carrier {}, ports: {}",
        lower(status.mac),
        status.mtu,
        if status.carrier { "on" } else { "off" },
        if ports.is_empty() {
            "none".to_string()
        } else {
            ports.join(", ")
        }
    );
    Ok(())
}

/// A MAC as `ip link` prints it.
fn lower(mac: bridgekit::macaddr::MacAddr6) -> String {
    let b = mac.into_array();
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        b[0], b[1], b[2], b[3], b[4], b[5]
    )
}

//! Two hosts, one L2 segment: each host has a bridge with a guest behind
//! it, and VXLAN carries the segment from one host to the other over the
//! IP network between them. The guests then ping each other as if they
//! shared a switch.
//!
//! Everything happens in network namespaces this process makes (a private
//! one for the process, entered first; one per host and per guest inside
//! it), so nothing touches your machine's network:
//!
//! ```text
//! cargo run --example two_hosts
//! ```

use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

#[path = "support/private_netns.rs"]
mod private_netns;

use bridgekit::{
    BridgeConfig, Error, Netlink, PortConfig, Remote, VethNicConfig, Vxlan, VxlanConfig,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    private_netns::enter_private_netns()?;
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

/// A network namespace of its own, held by a parked thread and reached by
/// its `/proc` path: a "machine" for this story.
struct Machine {
    path: String,
    tid: i32,
    stop: Option<mpsc::Sender<()>>,
}

impl Machine {
    fn new() -> Machine {
        let (tx, rx) = mpsc::channel();
        let (stop, parked) = mpsc::channel::<()>();
        std::thread::spawn(move || {
            // SAFETY: plain syscalls on this thread only.
            let tid = unsafe {
                if libc::unshare(libc::CLONE_NEWNET) != 0 {
                    tx.send(Err(std::io::Error::last_os_error())).ok();
                    return;
                }
                libc::gettid()
            };
            tx.send(Ok(tid)).ok();
            let _ = parked.recv();
        });
        let tid = rx
            .recv()
            .expect("the thread answers")
            .expect("a new namespace");
        Machine {
            path: format!("/proc/{}/task/{tid}/ns/net", std::process::id()),
            tid,
            stop: Some(stop),
        }
    }

    /// Runs a command inside this machine and returns what it printed.
    fn output(&self, args: &[&str]) -> std::io::Result<String> {
        let net = format!("--net={}", self.path);
        let out = Command::new("nsenter").arg(&net).args(args).output()?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Runs a command inside this machine.
    fn run(&self, args: &[&str]) -> std::io::Result<bool> {
        let net = format!("--net={}", self.path);
        Ok(Command::new("nsenter")
            .arg(&net)
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()?
            .success())
    }
}

impl Drop for Machine {
    fn drop(&mut self) {
        drop(self.stop.take());
    }
}

/// `ip ARGS` in this process's own (private) namespace.
fn ip(args: &[&str]) -> Result<(), Box<dyn std::error::Error>> {
    let ok = Command::new("ip").args(args).status()?.success();
    if ok {
        Ok(())
    } else {
        Err(format!("ip {args:?} failed").into())
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let (host_a, host_b) = (Machine::new(), Machine::new());
    let (guest_a, guest_b) = (Machine::new(), Machine::new());

    // 1. The wire between the hosts: the IP network VXLAN will run over
    //    (in a data centre, the hosts' uplinks; here one veth pair).
    ip(&[
        "link", "add", "eth-a", "type", "veth", "peer", "name", "eth-b",
    ])?;
    ip(&["link", "set", "eth-a", "netns", &host_a.tid.to_string()])?;
    ip(&["link", "set", "eth-b", "netns", &host_b.tid.to_string()])?;
    for (m, dev, addr) in [
        (&host_a, "eth-a", "192.0.2.1/24"),
        (&host_b, "eth-b", "192.0.2.2/24"),
    ] {
        m.run(&["ip", "addr", "add", addr, "dev", dev])?;
        m.run(&["ip", "link", "set", dev, "up"])?;
    }
    println!("the hosts are wired: host A 192.0.2.1, host B 192.0.2.2");

    // 2. On each host, what a VM manager builds with bridgekit: a VXLAN
    //    device for segment 100 whose flood list names the other host, a
    //    bridge with it as a port, and a guest behind a veth port.
    let hosts = [
        (
            &host_a,
            &guest_a,
            "eth-a",
            "192.0.2.1",
            "192.0.2.2",
            "52:54:00:00:0a:01",
            "52:54:00:00:0a:11",
            "10.100.0.1/24",
            "fd00:100::1/64",
        ),
        (
            &host_b,
            &guest_b,
            "eth-b",
            "192.0.2.2",
            "192.0.2.1",
            "52:54:00:00:0b:01",
            "52:54:00:00:0b:11",
            "10.100.0.2/24",
            "fd00:100::2/64",
        ),
    ];
    let mut held = Vec::new();
    for (host, guest, uplink, me, other, br_mac, guest_mac, addr, addr6) in hosts {
        let nl = Netlink::connect_in_netns(&host.path)?;
        let desired = BridgeConfig::new("br100")?.mac(br_mac).vxlan_port(
            VxlanConfig::new("vx100", 100)?
                .local(me.parse()?)
                .underlay(uplink)
                .learning(false)
                .remote(Remote::flood(other.parse()?)),
            // The bridge learns remote guests behind the VXLAN port; the
            // VXLAN device itself needs no learning with a flood list.
            PortConfig::new().up(),
        );
        let applied = match desired.apply(&nl).await {
            Ok(a) => a,
            Err(Error::Unsupported { detail, .. }) => {
                println!("this kernel has no VXLAN ({detail}): nothing more to show");
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        let vx = Vxlan::open(&nl, "vx100").await?;
        println!(
            "{}: bridge {} with VXLAN port {} (VNI {}, MTU {}: the uplink's less 50), flood list {:?}",
            if me.ends_with(".1") {
                "host A"
            } else {
                "host B"
            },
            applied.bridge.name(),
            vx.name(),
            vx.vni().map_or(0, |v| v.get()),
            vx.mtu().await?,
            vx.remotes()
                .await?
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
        );
        let nic = bridgekit::VethNic::create(
            &applied.bridge,
            VethNicConfig::new(&guest.path)
                .name("eth0")
                .mac(guest_mac)
                .address(addr)
                .address(addr6)
                .port(PortConfig::new().up()),
        )
        .await?;
        println!("  guest {} on port {}", addr, nic.host_name());
        held.push((nl, applied.bridge, nic));
    }

    // 3. The guests talk: ARP and neighbour discovery go out through the
    //    flood list, the answers come back, and the bridges learn.
    //    First the guests' IPv6 addresses finish duplicate address
    //    detection (their neighbour solicitations cross the tunnel too).
    for guest in [&guest_a, &guest_b] {
        let mut waited = 0;
        while guest
            .output(&["ip", "-6", "addr", "show", "tentative"])?
            .contains("inet6")
        {
            if waited >= 100 {
                return Err("a guest's IPv6 address stayed tentative for 10 s".into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            waited += 1;
        }
    }
    println!("the guests' IPv6 addresses are ready (DAD done)");
    for (to, family) in [("10.100.0.2", "IPv4"), ("fd00:100::2", "IPv6")] {
        let mut ok = false;
        for _ in 0..10 {
            if guest_a.run(&["ping", "-c", "1", "-W", "1", to])? {
                ok = true;
                break;
            }
        }
        if !ok {
            return Err(format!("guest A cannot reach guest B at {to}").into());
        }
        println!("guest A reaches guest B over VXLAN ({family}: ping {to})");
    }
    let learned: Vec<_> = held[0]
        .1
        .fdb()
        .await?
        .into_iter()
        .filter(|e| e.port.as_str() == "vx100" && e.kind == bridgekit::FdbKind::Learned)
        .map(|e| e.mac)
        .collect();
    let guest_b_mac: bridgekit::macaddr::MacAddr6 = "52:54:00:00:0b:11".parse()?;
    println!(
        "host A's bridge learned {} MACs behind vx100 (guest B's among them: {})",
        learned.len(),
        learned.contains(&guest_b_mac)
    );

    // 4. Teardown: the bridges (their ports leave), the VXLAN devices.
    for (nl, br, nic) in held {
        nic.delete().await?;
        br.delete().await?;
        Vxlan::open(&nl, "vx100").await?.delete().await?;
    }
    println!("torn down");
    Ok(())
}

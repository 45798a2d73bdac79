//! libvirt's default network, end to end: a NAT bridge with a fixed MAC,
//! IPv4 and IPv6 addresses, up, IPv6 DAD, dnsmasq started after DAD as
//! libvirt starts it, a guest that leases its address and reaches a
//! server on "the internet" through NAT, status, teardown.
//!
//! By default it runs in a private network namespace of its own (entering a
//! user namespace first when not root), so it touches nothing on your
//! machine; "the internet" and the guest are two more namespaces, each a
//! thread that unshared, linked by veth pairs:
//!
//! ```text
//!   guest ns            this ns (the host)                 internet ns
//!   eth0 ── bkdemo-vm0 ─ bkdemo0 (NAT) ── bkdemo-up0 ─── eth0 203.0.113.2
//!   (DHCP)               192.168.150.1/24  203.0.113.1/24     (a TCP server)
//! ```
//!
//! dnsmasq (DHCP and router advertisements) and busybox's `udhcpc` are
//! used when installed; without them the guest takes a static address and
//! the example says so.
//!
//! ```text
//! cargo run --example virtual_network
//! cargo run --example virtual_network -- --host-netns   # as root, in the current namespace
//! ```

use std::time::{Duration, Instant};

#[path = "support/private_netns.rs"]
mod private_netns;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::process::{Command, Stdio};
use std::sync::mpsc;

use bridgekit::{BridgeConfig, BridgeStatus, Forward, Netlink, OperState, PortConfig};
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
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let nl = Netlink::connect()?;
    let t = Instant::now();

    // The internet: a namespace behind the uplink, with a server.
    let internet = Namespace::new()?;
    sh(&[
        "ip",
        "link",
        "add",
        "bkdemo-up0",
        "type",
        "veth",
        "peer",
        "name",
        "bkdemo-up0p",
    ])?;
    sh(&["ip", "link", "set", "bkdemo-up0p", "netns", &internet.tid])?;
    sh(&["ip", "addr", "add", "203.0.113.1/24", "dev", "bkdemo-up0"])?;
    sh(&["ip", "link", "set", "bkdemo-up0", "up"])?;
    internet.sh(&["ip", "link", "set", "bkdemo-up0p", "name", "eth0"])?;
    internet.sh(&["ip", "addr", "add", "203.0.113.2/24", "dev", "eth0"])?;
    internet.sh(&["ip", "link", "set", "eth0", "up"])?;
    let server = internet.serve("203.0.113.2:8080")?;

    // 1. The bridge as one desired state (libvirt: virNetDevBridgeCreate,
    // its addresses, up, and the NAT rules of <forward mode='nat'>).
    let config = BridgeConfig::new("bkdemo0")?
        .mac("52:54:00:12:34:56")
        .mtu(1500)
        .stp(false)
        .forward_delay(Duration::ZERO)
        .address("192.168.150.1/24")
        .address("fd00:150::1/64")
        .forward(Forward::nat().via("bkdemo-up0")?)
        .up();
    let applied = config.apply(&nl).await?;
    let br = applied.bridge;
    println!("applied {} (ifindex {}):", br.name(), br.index());
    for change in &applied.changes {
        println!("  {change}");
    }

    // 2. DAD done before a DHCP/RA daemon binds: with no port, thanks to
    // the fixed MAC and the staged bring-up.
    br.wait_dad(Duration::from_secs(5)).await?;
    println!("IPv6 DAD finished, with no port on the bridge");

    // 3. dnsmasq after DAD, as libvirt starts it.
    let dnsmasq = Dnsmasq::start("bkdemo0");
    match &dnsmasq {
        Ok(_) => println!("dnsmasq serves DHCP 192.168.150.10-99 and router advertisements"),
        Err(why) => println!("dnsmasq not started ({why}): the guest takes a static address"),
    }

    // 4. A guest: a veth pair stands in for a VM's tap. Its events tell
    // when the bridge has carrier again.
    let mut events = br.events().await?;
    let guest = Namespace::new()?;
    sh(&[
        "ip",
        "link",
        "add",
        "bkdemo-vm0",
        "type",
        "veth",
        "peer",
        "name",
        "bkdemo-vm0p",
    ])?;
    sh(&["ip", "link", "set", "bkdemo-vm0p", "netns", &guest.tid])?;
    br.attach_port("bkdemo-vm0", PortConfig::new().up()).await?;
    guest.sh(&["ip", "link", "set", "bkdemo-vm0p", "name", "eth0"])?;
    guest.sh(&["ip", "link", "set", "eth0", "up"])?;

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

    // 5. The guest's lease, then its NATed reach.
    let leased = match &dnsmasq {
        Ok(_) => guest.lease(),
        Err(_) => Err("no DHCP server".into()),
    };
    match leased {
        Ok(lease) => println!("the guest leased {lease} from dnsmasq"),
        Err(why) => {
            println!("no DHCP lease ({why}): the guest takes 192.168.150.10/24");
            guest.sh(&["ip", "addr", "add", "192.168.150.10/24", "dev", "eth0"])?;
            guest.sh(&["ip", "route", "add", "default", "via", "192.168.150.1"])?;
        }
    }
    let reply = guest.fetch("203.0.113.2:8080")?;
    let seen = server.recv_timeout(Duration::from_secs(5))?;
    println!("the guest reached the server on the internet: {reply:?}");
    println!("the server saw it come from {seen} (the uplink's address: NAT)");
    print_status(&br.status().await?);

    // 6. Teardown: the veth goes with its peer; the bridge last, and its
    // NAT rules with it. Forwarding stays on: it is the namespace's.
    sh(&["ip", "link", "del", "bkdemo-vm0"])?;
    drop(dnsmasq);
    let legacy = br.delete().await?;
    sh(&["ip", "link", "del", "bkdemo-up0"])?;
    println!(
        "deleted ({legacy}); the whole run took {} ms",
        t.elapsed().as_millis()
    );
    Ok(())
}

/// Runs a command; its stdout, or an error with its stderr.
fn sh(args: &[&str]) -> Result<String, Box<dyn std::error::Error>> {
    let out = Command::new(args[0]).args(&args[1..]).output()?;
    if !out.status.success() {
        return Err(format!(
            "{} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )
        .into());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Another network namespace: a thread that unshared and waits, reached by
/// its `/proc/<pid>/task/<tid>/ns/net` (no name in `/run/netns`).
struct Namespace {
    tid: String,
    path: String,
    _stop: mpsc::Sender<()>,
}

impl Namespace {
    fn new() -> Result<Self, Box<dyn std::error::Error>> {
        let (tx, rx) = mpsc::channel();
        let (stop, stopped) = mpsc::channel::<()>();
        std::thread::spawn(move || {
            // SAFETY: moves only this thread.
            if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
                let _ = tx.send(Err(std::io::Error::last_os_error()));
                return;
            }
            // SAFETY: no preconditions.
            let _ = tx.send(Ok(unsafe { libc::gettid() }));
            let _ = stopped.recv();
        });
        let tid = rx.recv()??.to_string();
        let ns = Namespace {
            path: format!("/proc/{}/task/{tid}/ns/net", std::process::id()),
            tid,
            _stop: stop,
        };
        ns.sh(&["ip", "link", "set", "lo", "up"])?;
        Ok(ns)
    }

    fn sh(&self, args: &[&str]) -> Result<String, Box<dyn std::error::Error>> {
        let net = format!("--net={}", self.path);
        let mut all = vec!["nsenter", net.as_str()];
        all.extend_from_slice(args);
        sh(&all)
    }

    /// Runs `f` on a thread of its own inside this namespace.
    fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
    ) -> std::io::Result<T> {
        let path = self.path.clone();
        std::thread::spawn(move || {
            let ns = std::fs::File::open(path)?;
            // SAFETY: moves only this thread.
            if unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                return Err(std::io::Error::last_os_error());
            }
            f()
        })
        .join()
        .map_err(|_| std::io::Error::other("the namespace's thread panicked"))?
    }

    /// A TCP server on `addr` that answers one connection and reports
    /// whom it came from.
    fn serve(&self, addr: &str) -> std::io::Result<mpsc::Receiver<SocketAddr>> {
        let addr = addr.to_string();
        let listener = self.run(move || TcpListener::bind(addr))?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            if let Ok((mut conn, from)) = listener.accept() {
                let _ = conn.write_all(b"hello from the internet");
                let _ = tx.send(from);
            }
        });
        Ok(rx)
    }

    /// Connects to `addr` from inside and reads the answer.
    fn fetch(&self, addr: &str) -> std::io::Result<String> {
        let addr: SocketAddr = addr.parse().map_err(std::io::Error::other)?;
        self.run(move || {
            let mut conn = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
            let mut text = String::new();
            conn.read_to_string(&mut text)?;
            Ok(text)
        })
    }

    /// A DHCP lease for `eth0` with busybox's `udhcpc`: the address, set
    /// with the default route it names.
    fn lease(&self) -> Result<String, Box<dyn std::error::Error>> {
        let script = std::env::temp_dir().join(format!("bkdemo-udhcpc-{}", std::process::id()));
        std::fs::write(
            &script,
            "#!/bin/sh\n[ \"$1\" = bound ] || exit 0\nip addr add \"$ip/$mask\" dev \"$interface\"\n\
             [ -n \"$router\" ] && ip route add default via \"${router%% *}\"\necho \"$ip/$mask via $router\" >&2\nexit 0\n",
        )?;
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
        let out = self.sh(&[
            "busybox",
            "udhcpc",
            "-i",
            "eth0",
            "-f",
            "-q",
            "-n",
            "-t",
            "5",
            "-T",
            "1",
            "-s",
            script.to_str().unwrap_or_default(),
        ]);
        let _ = std::fs::remove_file(&script);
        out?;
        let addrs = self.sh(&["ip", "-4", "-o", "addr", "show", "dev", "eth0"])?;
        let lease = addrs
            .split_whitespace()
            .skip_while(|w| *w != "inet")
            .nth(1)
            .ok_or("udhcpc set no address")?;
        Ok(lease.to_string())
    }
}

/// dnsmasq on the bridge, as libvirt runs it for a network (DHCPv4 and
/// router advertisements, no DNS here); stopped on drop.
struct Dnsmasq(std::process::Child, std::path::PathBuf);

impl Dnsmasq {
    fn start(bridge: &str) -> Result<Self, String> {
        let leases = std::env::temp_dir().join(format!("bkdemo-{}.leases", std::process::id()));
        let mut child = Command::new("dnsmasq")
            .args([
                "--keep-in-foreground",
                "--conf-file=/dev/null",
                "--bind-interfaces",
                "--port=0",
                "--pid-file=",
                "--user=root",
                "--dhcp-range=192.168.150.10,192.168.150.99,255.255.255.0,1h",
                "--enable-ra",
                "--dhcp-range=fd00:150::,ra-only,64,1h",
            ])
            .arg(format!("--interface={bridge}"))
            .arg(format!("--dhcp-leasefile={}", leases.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("dnsmasq: {e}"))?;
        // A dnsmasq that cannot bind exits at once.
        std::thread::sleep(Duration::from_millis(200));
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("dnsmasq exited: {status}"));
        }
        Ok(Dnsmasq(child, leases))
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_file(&self.1);
    }
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

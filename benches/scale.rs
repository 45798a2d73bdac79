//! Scale: the costs of a host with many guests, each next to its baselines
//! measured in the same run, in a private network namespace.
//!
//! 1. `VmNic::create` of N guest NICs (4 queues, managed port: learning
//!    off, no unicast flood, a static FDB entry, up) on one bridge, per
//!    NIC, next to raw rtnetlink + the tap ioctls sending what bridgekit
//!    sends, and next to `ip tuntap add` + `ip link set` + `bridge fdb add`,
//!    one process per step. The three are interleaved NIC by NIC (each on
//!    its own bridge), so the machine's drift hits all alike; the per-NIC
//!    cost is shown for the first 10, around the 100th and the last 10.
//! 2. The event stream under churn: ports attached and detached as fast as
//!    the kernel takes it (raw rtnetlink, another task), while
//!    `Bridge::events` and `ip monitor link` read the same notifications:
//!    the rate, the events each got, the resyncs (ENOBUFS) each had, and
//!    how long after the last change each had read everything.
//!
//! `cargo bench --bench scale [-- quick]`; prints markdown tables.

use std::io::{BufRead, BufReader};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[path = "support/harness.rs"]
mod harness;

use bridgekit::{Bridge, BridgeConfig, BridgeEvent, Netlink, PortConfig, VmNic, VmNicConfig};
use futures::StreamExt;
use harness::*;
use netlink_packet_route::link::InfoBridgePort;
use netlink_packet_route::neighbour::{NeighbourFlags, NeighbourState};
use rtnetlink::{Handle, LinkBridgePort, LinkUnspec};

const QUEUES: usize = 4;

fn main() -> BoxResult<()> {
    harness::bench_main(|quick| async move {
        let nl = Netlink::connect()?;
        let (conn, h, _) = rtnetlink::new_connection()?;
        tokio::spawn(conn);
        vm_nics(&nl, &h, if quick { 100 } else { 1000 }).await?;
        events(&nl, &h, if quick { 2_000 } else { 20_000 }).await?;
        println!("\nMachine: {}", machine());
        Ok(())
    })
}

fn guest_mac(i: usize) -> [u8; 6] {
    [0x52, 0x54, 0, 0xbe, (i >> 8) as u8, i as u8]
}

fn mac_str(m: [u8; 6]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Enough fds for N NICs of 4 queues, twice (bridgekit's and raw's).
fn raise_nofile(need: u64) -> BoxResult<()> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit read and write one rlimit struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return Err(std::io::Error::last_os_error().into());
        }
        if lim.rlim_cur < need {
            lim.rlim_cur = need.min(lim.rlim_max);
            if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                return Err(std::io::Error::last_os_error().into());
            }
        }
    }
    if lim.rlim_cur < need {
        return Err(format!("need {need} open files, the hard limit is {}", lim.rlim_max).into());
    }
    Ok(())
}

/// The tap ioctls bridgekit makes (`src/sys/tap.rs`): one `/dev/net/tun` fd
/// per queue, TUNSETIFF with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR |
/// IFF_MULTI_QUEUE (IFF_TUN_EXCL on the first).
fn raw_tap(name: &str) -> std::io::Result<Vec<OwnedFd>> {
    let mut fds = Vec::with_capacity(QUEUES);
    for q in 0..QUEUES {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_CLOEXEC)
            .open("/dev/net/tun")?;
        // SAFETY: ifreq is plain old data; all-zero is valid.
        let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
        for (d, s) in req.ifr_name.iter_mut().zip(name.as_bytes()) {
            *d = *s as libc::c_char;
        }
        let mut flags =
            libc::IFF_TAP | libc::IFF_NO_PI | libc::IFF_VNET_HDR | libc::IFF_MULTI_QUEUE;
        if q == 0 {
            flags |= libc::IFF_TUN_EXCL;
        }
        req.ifr_ifru.ifru_flags = flags as libc::c_short;
        // SAFETY: TUNSETIFF reads and writes one ifreq.
        if unsafe { libc::ioctl(file.as_raw_fd(), libc::TUNSETIFF, &mut req) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
        fds.push(OwnedFd::from(file));
    }
    Ok(fds)
}

/// What bridgekit sends for a managed VM NIC, straight through rtnetlink:
/// MTU + host MAC, master, port options, the guest's FDB entry, up.
async fn raw_nic(
    h: &Handle,
    br: u32,
    mtu: u32,
    name: &str,
    guest: [u8; 6],
) -> BoxResult<Vec<OwnedFd>> {
    let fds = raw_tap(name)?;
    let cname = std::ffi::CString::new(name)?;
    // SAFETY: a NUL-terminated name.
    let index = unsafe { libc::if_nametoindex(cname.as_ptr()) };
    if index == 0 {
        return Err(std::io::Error::last_os_error().into());
    }
    let host: [u8; 6] = bridgekit::host_mac_for(macaddr::MacAddr6::from(guest)).into_array();
    let msg = LinkUnspec::new_with_index(index)
        .mtu(mtu)
        .address(host.to_vec())
        .build();
    h.link().set(msg).execute().await?;
    let msg = LinkUnspec::new_with_index(index).controller(br).build();
    h.link().set(msg).execute().await?;
    let msg = LinkBridgePort::new(index)
        .append_info_data(InfoBridgePort::Learning(false))
        .append_info_data(InfoBridgePort::UnicastFlood(false))
        .build();
    h.link().set_port(msg).execute().await?;
    h.neighbours()
        .add_bridge(index, &guest)
        .state(NeighbourState::Noarp)
        .flags(NeighbourFlags::Controller)
        .replace()
        .execute()
        .await?;
    let msg = LinkUnspec::new_with_index(index).up().build();
    h.link().set(msg).execute().await?;
    Ok(fds)
}

/// The same with iproute2, one process per step (the tap made persistent
/// by `ip tuntap`, as a VMM that shells out does).
fn ip_nic(br: &str, mtu: u32, name: &str, guest: [u8; 6]) -> BoxResult<()> {
    let host = mac_str(bridgekit::host_mac_for(macaddr::MacAddr6::from(guest)).into_array());
    let guest = mac_str(guest);
    let mtu = mtu.to_string();
    ip(&[
        "tuntap",
        "add",
        "dev",
        name,
        "mode",
        "tap",
        "multi_queue",
        "vnet_hdr",
    ])?;
    ip(&["link", "set", name, "mtu", &mtu, "address", &host])?;
    ip(&["link", "set", name, "master", br])?;
    ip(&[
        "link",
        "set",
        name,
        "type",
        "bridge_slave",
        "learning",
        "off",
        "flood",
        "off",
    ])?;
    run(
        "bridge",
        &["fdb", "replace", &guest, "dev", name, "master", "static"],
    )?;
    ip(&["link", "set", name, "up"])?;
    Ok(())
}

async fn vm_nics(nl: &Netlink, h: &Handle, n: usize) -> BoxResult<()> {
    println!("\n### {n} guest NICs (4 queues, managed port) on one bridge, per NIC\n");
    raise_nofile((2 * n * QUEUES + 256) as u64)?;
    let mk = async |name: &str| -> BoxResult<Bridge> {
        let br = Bridge::create(nl, BridgeConfig::new(name)?.mac("52:54:00:00:00:fe")).await?;
        br.up().await?;
        Ok(br)
    };
    let (ours, raw, ipb) = (mk("bkvm0").await?, mk("bkvm1").await?, mk("bkvm2").await?);
    let mtu = 1500;
    let mut nics = Vec::with_capacity(n);
    let mut raw_fds = Vec::with_capacity(n);
    let (mut t_ours, mut t_raw, mut t_ip) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..n {
        let mac = guest_mac(i);
        // Untimed: bridgekit's link view reads what the baselines' NICs
        // queued for it (a check that fails: that bridge is no port).
        let _ = ours.detach_port(raw.index()).await;
        let t = Instant::now();
        let nic = VmNic::create(
            &ours,
            VmNicConfig::new(mac_str(mac).as_str())
                .name(format!("bko{i}"))
                .queues(QUEUES as u16)
                .port(PortConfig::managed(mac_str(mac).as_str())),
        )
        .await?;
        t_ours.push(t.elapsed());
        nics.push(nic);
        let t = Instant::now();
        raw_fds.push(raw_nic(h, raw.index(), mtu, &format!("bkr{i}"), mac).await?);
        t_raw.push(t.elapsed());
        let t = Instant::now();
        ip_nic("bkvm2", mtu, &format!("bki{i}"), mac)?;
        t_ip.push(t.elapsed());
    }
    // Every NIC is on its bridge, whole.
    for br in [&ours, &raw, &ipb] {
        let ports = br.ports().await?;
        assert_eq!(ports.len(), n, "{}", br.name());
        assert!(ports.iter().all(|p| !p.learning && !p.unicast_flood));
    }
    let at = |v: &[Duration], from: usize, to: usize| stats(v[from.min(n - 1)..to.min(n)].to_vec());
    let mut buckets = vec![("NICs 1–10", 0, 10)];
    if n >= 200 {
        buckets.push(("NICs 96–105", 95, 105));
    }
    let last = format!("NICs {}–{n}", n - 9);
    buckets.push((last.as_str(), n - 10, n));
    header(&[
        "",
        "bridgekit `VmNic::create`",
        "raw rtnetlink + tap ioctls",
        "`ip`/`bridge`, a process per step (6)",
        "bridgekit / raw",
        "`ip` / bridgekit",
    ]);
    for (what, from, to) in &buckets {
        let (o, r, i) = (
            at(&t_ours, *from, *to),
            at(&t_raw, *from, *to),
            at(&t_ip, *from, *to),
        );
        row(&[
            what.to_string(),
            show(&o),
            show(&r),
            show(&i),
            format!("{:.2}×", ratio(&o, &r)),
            format!("{:.1}×", ratio(&i, &o)),
        ]);
    }
    let (o, r, i) = (
        stats(t_ours.clone()),
        stats(t_raw.clone()),
        stats(t_ip.clone()),
    );
    row(&[
        format!("all {n}"),
        show(&o),
        show(&r),
        show(&i),
        format!("{:.2}×", ratio(&o, &r)),
        format!("{:.1}×", ratio(&i, &o)),
    ]);
    let first = ratio(&at(&t_ours, 0, 10), &at(&t_raw, 0, 10));
    let end = ratio(&at(&t_ours, n - 10, n), &at(&t_raw, n - 10, n));
    let g_ours = ratio(&at(&t_ours, n - 10, n), &at(&t_ours, 0, 10));
    let g_raw = ratio(&at(&t_raw, n - 10, n), &at(&t_raw, 0, 10));
    println!(
        "\nGrowth from the first 10 NICs to the last 10: bridgekit {g_ours:.2}×, raw {g_raw:.2}× \
         (bridgekit / raw: {first:.2}× at the start, {end:.2}× at the end)."
    );
    drop(nics);
    drop(raw_fds);
    Ok(())
}

async fn events(nl: &Netlink, h: &Handle, changes: usize) -> BoxResult<()> {
    let ports = 50;
    println!(
        "\n### The event stream under churn: {changes} port attaches and detaches ({ports} ports)\n"
    );
    let br = Bridge::create(nl, BridgeConfig::new("bkevbr")?.mac("52:54:00:00:00:fd")).await?;
    br.up().await?;
    make_veths("bkev", ports)?;
    let index: Vec<u32> = (0..ports)
        .map(|i| ifindex(&format!("bkev{i}")))
        .collect::<BoxResult<_>>()?;
    // bridgekit's stream, counted on its own task.
    let mut stream = br.events().await?;
    let got = Arc::new(AtomicU64::new(0));
    let resyncs = Arc::new(AtomicU64::new(0));
    let last_ours = Arc::new(std::sync::Mutex::new(Instant::now()));
    let reader = {
        let (got, resyncs, last) = (got.clone(), resyncs.clone(), last_ours.clone());
        tokio::spawn(async move {
            while let Some(ev) = stream.next().await {
                match ev {
                    Ok(BridgeEvent::PortAttached { .. } | BridgeEvent::PortDetached { .. }) => {
                        got.fetch_add(1, Ordering::Relaxed);
                        *last.lock().unwrap() = Instant::now();
                    }
                    Ok(BridgeEvent::Resynced) => {
                        resyncs.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
        })
    };
    // `ip -o monitor link`, one line per notification, counted by a thread.
    let mut monitor = Command::new("ip")
        .args(["-o", "monitor", "link"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let ip_lines = Arc::new(AtomicU64::new(0));
    let ip_errors = Arc::new(AtomicU64::new(0));
    let last_ip = Arc::new(std::sync::Mutex::new(Instant::now()));
    {
        let (lines, last) = (ip_lines.clone(), last_ip.clone());
        let out = monitor.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                if line.is_err() {
                    break;
                }
                lines.fetch_add(1, Ordering::Relaxed);
                *last.lock().unwrap() = Instant::now();
            }
        });
        let errors = ip_errors.clone();
        let err = monitor.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                if line.map(|l| l.contains("No buffer space")).unwrap_or(false) {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (base_ours, base_ip) = (
        got.load(Ordering::Relaxed),
        ip_lines.load(Ordering::Relaxed),
    );
    // The churn: another task, raw rtnetlink, as fast as the kernel goes.
    let churn = {
        let h = h.clone();
        let br = br.index();
        let index = index.clone();
        tokio::spawn(async move {
            let t = Instant::now();
            for c in 0..changes {
                let port = index[(c / 2) % index.len()];
                let msg = if c % 2 == 0 {
                    LinkUnspec::new_with_index(port).controller(br).build()
                } else {
                    LinkUnspec::new_with_index(port).nocontroller().build()
                };
                h.link().set(msg).execute().await.expect("churn");
            }
            t.elapsed()
        })
    };
    let took = churn.await?;
    let end = Instant::now();
    // Settle: until neither count has moved for a second.
    let mut seen = (u64::MAX, u64::MAX);
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = (
            got.load(Ordering::Relaxed),
            ip_lines.load(Ordering::Relaxed),
        );
        if now == seen {
            break;
        }
        seen = now;
    }
    let _ = monitor.kill();
    let _ = monitor.wait();
    reader.abort();
    let lag = |last: &std::sync::Mutex<Instant>| {
        let l = *last.lock().unwrap();
        l.saturating_duration_since(end)
    };
    let rate = changes as f64 / took.as_secs_f64();
    header(&[
        "reader",
        "changes/s (the kernel's pace)",
        "read",
        "resyncs (ENOBUFS)",
        "last read after the last change",
    ]);
    row(&[
        "bridgekit `Bridge::events`".into(),
        format!("{rate:.0}"),
        format!(
            "{} of {changes} attach/detach events",
            got.load(Ordering::Relaxed) - base_ours
        ),
        resyncs.load(Ordering::Relaxed).to_string(),
        us(lag(&last_ours)),
    ]);
    row(&[
        "`ip -o monitor link` (every link notification)".into(),
        format!("{rate:.0}"),
        format!(
            "{} notifications",
            ip_lines.load(Ordering::Relaxed) - base_ip
        ),
        ip_errors.load(Ordering::Relaxed).to_string(),
        us(lag(&last_ip)),
    ]);
    println!(
        "\nThe churn took {} ({:.1} µs per change, the kernel's pace).",
        us(took),
        took.as_secs_f64() * 1e6 / changes as f64
    );
    br.delete().await?;
    Ok(())
}

//! The blocking API (`bridgekit::blocking`) from plain threads: no async
//! runtime in this file's own code (the shared helpers are plain functions
//! here). State is checked through iproute2.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use bridgekit::blocking::{Bridge, Netlink, VmNic};
use bridgekit::{BridgeConfig, BridgeEvent, Error, PortConfig, VmNicConfig};
use common::*;

/// Runs `body` on a plain thread in a fresh network namespace.
fn plain_netns_test(body: impl FnOnce() -> TestResult + Send + 'static) {
    let name = std::thread::current().name().unwrap_or("test").to_string();
    let outcome = std::thread::Builder::new()
        .name(name)
        .spawn(move || {
            enter_new_netns();
            if let Err(e) = body() {
                panic!("test failed: {e}");
            }
        })
        .unwrap()
        .join();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

#[test]
fn a_bridge_lifecycle_from_a_plain_thread() {
    plain_netns_test(|| {
        dad_at_test_speed(None);
        let nl = Netlink::connect()?;
        let br = Bridge::create(
            &nl,
            BridgeConfig::new("bkb0")?
                .mac("52:54:00:00:30:01")
                .mtu(1450)
                .address("192.168.190.1/24")
                .address("fd00:190::1/64"),
        )?;
        br.wait_dad(Duration::from_secs(5))?;
        let link = ip_link("bkb0").ok_or("bridge missing")?;
        assert_eq!(link["address"], "52:54:00:00:30:01");
        assert_eq!(link["mtu"], 1450);
        assert!(ip_addr("bkb0", "fd00:190::1").is_some());
        assert!(!is_tentative("bkb0", "fd00:190::1"));

        let mut events = br.events()?;
        veth("bkb-p0", "bkb-p0p");
        br.attach_port("bkb-p0", PortConfig::new().learning(false).up())?;
        let port = ip_link("bkb-p0").ok_or("port missing")?;
        assert_eq!(port["master"], "bkb0");
        assert_eq!(port["linkinfo"]["info_slave_data"]["learning"], false);
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut attached = false;
        while !attached && Instant::now() < deadline {
            if let Some(event) = events.next_timeout(Duration::from_millis(200))? {
                attached =
                    matches!(&event, BridgeEvent::PortAttached { port, .. } if port == "bkb-p0");
            }
        }
        assert!(attached, "no PortAttached event for bkb-p0");
        // A quiet stream times out rather than blocking forever.
        let t = Instant::now();
        while events.next_timeout(Duration::from_millis(50))?.is_some() {}
        assert!(t.elapsed() < Duration::from_secs(5));

        let status = br.status()?;
        assert_eq!(status.ports.len(), 1);
        assert_eq!(status.mtu, 1450);
        br.detach_port("bkb-p0")?;
        assert!(
            ip_link("bkb-p0")
                .ok_or("port missing")?
                .get("master")
                .is_none()
        );
        drop(events);
        br.delete()?;
        assert!(ip_link("bkb0").is_none());
        Ok(())
    });
}

#[test]
fn a_sandbox_nic_from_a_plain_thread() {
    plain_netns_test(|| {
        let nl = Netlink::connect()?;
        let br = Bridge::create(&nl, BridgeConfig::new("bkb6")?.mac("52:54:00:00:30:06"))?;
        let peer = PeerNetns::new();
        let nic = bridgekit::blocking::VethNic::create(
            &br,
            bridgekit::VethNicConfig::new(peer.path()).address("10.0.196.2/24"),
        )?;
        assert_eq!(
            ip_link(nic.host_name().as_str()).ok_or("host end")?["master"],
            "bkb6"
        );
        assert!(
            peer.sh(&["ip", "-br", "addr", "show", "dev", "eth0"])
                .contains("10.0.196.2/24")
        );
        let host = nic.host_name().to_string();
        nic.delete()?;
        assert!(ip_link(&host).is_none());
        Ok(())
    });
}

#[test]
fn a_vxlan_port_and_its_remotes_from_a_plain_thread() {
    plain_netns_test(|| {
        use bridgekit::blocking::Vxlan;
        use bridgekit::{Remote, VxlanConfig};
        let nl = Netlink::connect()?;
        let br = Bridge::create(&nl, BridgeConfig::new("bkb7")?.mac("52:54:00:00:30:07"))?;
        let vx = Vxlan::create(
            &nl,
            VxlanConfig::new("bkb-vx7", 700)?
                .local("192.0.2.1".parse()?)
                .learning(false),
        )?;
        assert_eq!(vx.vni().map(|v| v.get()), Some(700));
        br.attach_port(vx.name(), PortConfig::new().learning(false).up())?;
        assert_eq!(ip_link("bkb-vx7").ok_or("vxlan missing")?["master"], "bkb7");
        let far: Remote = Remote::flood("192.0.2.2".parse()?);
        vx.add_remotes([far, Remote::flood("192.0.2.3".parse()?)])?;
        let fdb = sh(&["bridge", "fdb", "show", "dev", "bkb-vx7"]);
        assert!(
            fdb.contains("dst 192.0.2.2") && fdb.contains("dst 192.0.2.3"),
            "{fdb}"
        );
        vx.remove_remote(far)?;
        assert_eq!(vx.remotes()?.len(), 1);
        assert!(!sh(&["bridge", "fdb", "show", "dev", "bkb-vx7"]).contains("dst 192.0.2.2"));
        // Opened again by name, it is the same device.
        assert_eq!(Vxlan::open(&nl, "bkb-vx7")?.index(), vx.index());
        vx.delete()?;
        assert!(ip_link("bkb-vx7").is_none());
        Ok(())
    });
}

#[test]
fn apply_twice_changes_nothing_the_second_time() {
    plain_netns_test(|| {
        let nl = Netlink::connect()?;
        veth("bkb-a0", "bkb-a0p");
        let config = BridgeConfig::new("bkb1")?
            .mac("52:54:00:00:30:02")
            .address("192.168.191.1/24")
            .port("bkb-a0", PortConfig::new().hairpin(true).up());
        let applied = nl.apply(&config)?;
        let (br, changes) = (applied.bridge, applied.changes);
        assert!(!changes.is_empty());
        assert_eq!(ip_link("bkb-a0").ok_or("port missing")?["master"], "bkb1");
        let again = nl.apply(&config)?.changes;
        assert!(again.is_empty(), "second apply changed {again:?}");
        br.delete()?;
        Ok(())
    });
}

#[test]
fn a_failed_call_is_undone_before_it_returns() {
    plain_netns_test(|| {
        let nl = Netlink::connect()?;
        let br = Bridge::create(&nl, BridgeConfig::new("bkb2")?)?;
        veth("bkb-f0", "bkb-f0p");
        // The attach's second kernel step fails: the first (the master) is
        // taken back before the call returns.
        nl.as_async().inject_fault(1, libc::EIO);
        let err = br
            .attach_port("bkb-f0", PortConfig::new().learning(false).up())
            .unwrap_err();
        assert!(
            matches!(err, Error::Netlink { errno, .. } if errno == libc::EIO),
            "{err}"
        );
        let port = ip_link("bkb-f0").ok_or("port missing")?;
        assert!(port.get("master").is_none(), "port left attached: {port}");
        Ok(())
    });
}

#[test]
fn inside_an_async_runtime_every_call_refuses_and_sends_nothing() {
    plain_netns_test(|| {
        let nl = Netlink::connect()?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let refused = |r: Result<_, Error>| matches!(r, Err(Error::BlockingInsideRuntime { .. }));
        let sent = nl.as_async().requests_sent();
        rt.block_on(async {
            assert!(refused(Netlink::connect().map(|_| ())));
            let err = Bridge::create(&nl, BridgeConfig::new("bkb3").unwrap()).unwrap_err();
            assert!(matches!(err, Error::BlockingInsideRuntime { .. }), "{err}");
            assert!(err.to_string().contains("use the async API"), "{err}");
        });
        // spawn_blocking runs inside the runtime's context too.
        let nl2 = nl.clone();
        let r = rt.block_on(async move {
            tokio::task::spawn_blocking(move || Bridge::open(&nl2, "bkb3").map(|_| ()))
                .await
                .unwrap()
        });
        assert!(refused(r));
        assert_eq!(
            nl.as_async().requests_sent(),
            sent,
            "a refused call sent a request"
        );
        assert!(ip_link("bkb3").is_none());
        // The same handle works again outside the runtime.
        Bridge::create(&nl, BridgeConfig::new("bkb3")?)?;
        assert!(ip_link("bkb3").is_some());
        Ok(())
    });
}

#[test]
fn a_call_in_flight_outlives_the_other_handles() {
    plain_netns_test(|| {
        let nl = Netlink::connect()?;
        let br = Bridge::create(
            &nl,
            BridgeConfig::new("bkb4")?
                .mac("52:54:00:00:30:04")
                .address("fd00:194::1/64"),
        )?;
        let other = br.clone();
        let waiter = std::thread::spawn(move || other.wait_dad(Duration::from_secs(5)));
        drop(br);
        drop(nl);
        waiter.join().unwrap()?;
        assert!(!is_tentative("bkb4", "fd00:194::1"));
        Ok(())
    });
}

/// Waits up to `ms` for `fd` to be readable, through a real epoll
/// instance, as a VMM's event loop would.
fn epoll_readable(fd: std::os::fd::BorrowedFd<'_>, ms: i32) -> bool {
    use std::os::fd::AsRawFd;
    // SAFETY: plain epoll syscalls on fds this function owns or borrows.
    unsafe {
        let ep = libc::epoll_create1(libc::EPOLL_CLOEXEC);
        assert!(
            ep >= 0,
            "epoll_create1: {}",
            std::io::Error::last_os_error()
        );
        let mut ev = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: 7,
        };
        assert_eq!(
            libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, fd.as_raw_fd(), &mut ev),
            0
        );
        let mut out = [libc::epoll_event { events: 0, u64: 0 }; 1];
        let n = libc::epoll_wait(ep, out.as_mut_ptr(), 1, ms);
        libc::close(ep);
        n == 1 && { out[0].u64 } == 7
    }
}

#[test]
fn an_epoll_loop_waits_on_the_event_fd_and_another_thread_stops_it() {
    use std::os::fd::AsFd;
    use std::task::Poll;
    plain_netns_test(|| {
        let nl = Netlink::connect()?;
        // Down: no link-local address, no DAD, nothing that could still
        // be on its way when the stream starts.
        let br = Bridge::create(&nl, BridgeConfig::new("bkb6")?.mtu(1500).down())?;
        let mut events = br.events()?;
        while events.next_timeout(Duration::from_millis(100))?.is_some() {}
        // Nothing waits: the fd is not readable and try_next says so.
        assert!(!epoll_readable(events.as_fd(), 200));
        assert!(matches!(events.try_next(), Poll::Pending));
        br.set_mtu(1400)?;
        assert!(
            epoll_readable(events.as_fd(), 5000),
            "no wakeup for an MTU change"
        );
        let mut seen = Vec::new();
        while let Poll::Ready(Some(event)) = events.try_next() {
            seen.push(event?);
        }
        assert!(seen.contains(&BridgeEvent::Mtu(1400)), "{seen:?}");
        // All taken: not readable again until the next event.
        assert!(!epoll_readable(events.as_fd(), 200));

        // A thread blocked in next() is released by another thread.
        let closer = events.closer();
        let started = Instant::now();
        let blocked = std::thread::spawn(move || {
            let got = events.next().map(|r| r.map(|e| e.to_string()));
            (got, events)
        });
        std::thread::sleep(Duration::from_millis(200));
        closer.close();
        let (got, events) = blocked.join().unwrap();
        assert!(got.is_none(), "closed, yet next() gave {got:?}");
        assert!(started.elapsed() < Duration::from_secs(5));
        // Ended: readable, and try_next says so for good.
        assert!(epoll_readable(events.as_fd(), 1000));
        let mut events = events;
        assert!(matches!(events.try_next(), Poll::Ready(None)));
        Ok(())
    });
}

// ----- a VMM child that really uses the inherited queue fds --------------

const GUEST_CHILD: &str = "BRIDGEKIT_TEST_GUEST_FDS";
const GUEST_MAC: [u8; 6] = [0x52, 0x54, 0x00, 0xaa, 0x00, 0x07];

#[test]
fn a_vmm_child_uses_the_queue_fds_it_inherits() {
    if !can_make_taps() {
        return;
    }
    plain_netns_test(|| {
        use std::os::fd::AsRawFd;
        use std::os::unix::process::CommandExt;
        let nl = Netlink::connect()?;
        let br = nl
            .apply(
                &BridgeConfig::new("bkb5")?
                    .mac("52:54:00:00:30:05")
                    .address("192.168.195.1/24"),
            )?
            .bridge;
        let mac = macaddr::MacAddr6::from(GUEST_MAC);
        let nic = VmNic::create(
            &br,
            VmNicConfig::new(mac)
                .queues(4)
                .port(PortConfig::managed(mac).up()),
        )?;
        let fds = nic.into_fds();
        let raw: Vec<i32> = fds.iter().map(AsRawFd::as_raw_fd).collect();
        for &fd in &raw {
            // SAFETY: reads the flags of an fd we own.
            let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
            assert_eq!(
                flags & libc::FD_CLOEXEC,
                libc::FD_CLOEXEC,
                "queue fd {fd} not close-on-exec"
            );
        }
        let list = raw
            .iter()
            .map(|f| f.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let run = |clear_cloexec: bool| -> std::io::Result<std::process::Output> {
            let mut cmd = Command::new(std::env::current_exe()?);
            cmd.args([
                "--exact",
                "guest_child",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(GUEST_CHILD, &list);
            if clear_cloexec {
                let raw = raw.clone();
                // SAFETY: fcntl is async-signal-safe and touches only our fds.
                unsafe {
                    cmd.pre_exec(move || {
                        for &fd in &raw {
                            if libc::fcntl(fd, libc::F_SETFD, 0) != 0 {
                                return Err(std::io::Error::last_os_error());
                            }
                        }
                        Ok(())
                    });
                }
            }
            cmd.output()
        };
        // Without the pre_exec step the child has no such fds (the error
        // qemu prints as "Bad file descriptor").
        let out = run(false)?;
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("GUEST:ebadf"),
            "child without the fds said: {text}"
        );
        // With it, the child asks for the host's MAC and reads the answer.
        let out = run(true)?;
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("GUEST:reply 52:54:00:00:30:05"),
            "child said: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        drop(fds);
        br.delete()?;
        Ok(())
    });
}

/// The guest half of the test above; runs only when it starts it.
#[test]
#[ignore = "started by a_vmm_child_uses_the_queue_fds_it_inherits"]
fn guest_child() {
    let list = std::env::var(GUEST_CHILD).expect("run by the parent");
    let fds: Vec<i32> = list.split(',').map(|s| s.parse().unwrap()).collect();
    // Not inherited: the number is free, or something else of ours.
    let is_tap = |fd: i32| {
        std::fs::read_link(format!("/proc/self/fd/{fd}")).is_ok_and(|p| p.ends_with("net/tun"))
    };
    if !fds.iter().all(|&fd| is_tap(fd)) {
        println!("GUEST:ebadf");
        return;
    }
    const HDR: usize = 10; // struct virtio_net_hdr (IFF_VNET_HDR)
    let frame = arp::request(HDR, GUEST_MAC, [192, 168, 195, 10], [192, 168, 195, 1]);
    // SAFETY: writes a live buffer to an fd number handed to this process.
    let n = unsafe { libc::write(fds[0], frame.as_ptr().cast(), frame.len()) };
    if n < 0 {
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::EBADF) {
            println!("GUEST:ebadf");
            return;
        }
        panic!("write: {e}");
    }
    match arp::await_reply(&fds, HDR, Duration::from_secs(5)) {
        Some(f) => {
            let mac: Vec<String> = f[22..28].iter().map(|b| format!("{b:02x}")).collect();
            println!("GUEST:reply {}", mac.join(":"));
        }
        None => println!("GUEST:no reply"),
    }
}

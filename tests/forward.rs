//! Forward modes with real traffic between namespaces: an "internet"
//! namespace with a server behind the uplink, guest namespaces on the
//! bridges, the bridges in the test's own namespace (the host). What the
//! server sees of a guest's connection, what reaches a guest from
//! outside, after a flush and after every change of mode; the rules read
//! back with `nft -j`.

mod common;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use bridgekit::{Bridge, BridgeConfig, Change, Forward, NetSysctl, PortConfig};
use common::*;
use serde_json::Value;

const UPLINK: &str = "203.0.113.1";
const SERVER: &str = "203.0.113.2";

/// Runs `f` on a thread of its own in the namespace at `path`.
fn in_netns<T: Send + 'static>(path: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let path = path.to_string();
    std::thread::spawn(move || {
        let ns = std::fs::File::open(&path).expect("the namespace");
        // SAFETY: moves only this thread, which ends with `f`.
        assert_eq!(
            unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) },
            0,
            "setns {path}: {}",
            std::io::Error::last_os_error()
        );
        f()
    })
    .join()
    .expect("the namespace thread")
}

/// A TCP listener in `ns` on `addr`: the peer address of every
/// connection it accepts comes out of the receiver, for 20 s.
fn listen(ns: &PeerNetns, addr: &str) -> std::sync::mpsc::Receiver<SocketAddr> {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (tx, rx) = std::sync::mpsc::channel();
    let (path, addr) = (ns.path().to_string(), addr.to_string());
    std::thread::spawn(move || {
        let ns = std::fs::File::open(&path).expect("the namespace");
        // SAFETY: moves only this thread.
        assert_eq!(
            unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) },
            0
        );
        let listener = TcpListener::bind(&addr).expect("bind");
        listener.set_nonblocking(true).unwrap();
        ready_tx.send(()).unwrap();
        let end = Instant::now() + Duration::from_secs(20);
        while Instant::now() < end {
            match listener.accept() {
                Ok((_, peer)) => {
                    if tx.send(peer).is_err() {
                        return;
                    }
                }
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    });
    ready_rx.recv().unwrap();
    rx
}

/// Connects from `ns` to `to` (2 s at most); the address the listener saw
/// it from, or why not.
fn connect(
    ns: &PeerNetns,
    to: &str,
    seen: &std::sync::mpsc::Receiver<SocketAddr>,
) -> Result<std::net::IpAddr, String> {
    let to: SocketAddr = to.parse().unwrap();
    in_netns(ns.path(), move || {
        TcpStream::connect_timeout(&to, Duration::from_secs(2)).map(drop)
    })
    .map_err(|e| e.to_string())?;
    seen.recv_timeout(Duration::from_secs(2))
        .map(|a| a.ip())
        .map_err(|e| format!("accepted nothing: {e}"))
}

/// The internet: a namespace behind `up0` (this namespace's side holds
/// 203.0.113.1/24), with the server at 203.0.113.2 and a route back to
/// `routes` through the uplink (a VM manager routing its subnets here).
fn internet(routes: &[&str]) -> PeerNetns {
    let net = PeerNetns::new();
    veth("up0", "up0peer");
    sh(&["ip", "link", "set", "up0peer", "netns", &net.tid()]);
    sh(&["ip", "addr", "add", &format!("{UPLINK}/24"), "dev", "up0"]);
    sh(&["ip", "link", "set", "up0", "up"]);
    net.sh(&[
        "ip",
        "addr",
        "add",
        &format!("{SERVER}/24"),
        "dev",
        "up0peer",
    ]);
    net.sh(&["ip", "link", "set", "up0peer", "up"]);
    for r in routes {
        net.sh(&["ip", "route", "add", r, "via", UPLINK]);
    }
    net
}

/// A guest: a namespace whose `eth0` is the peer of `port` (a port of a
/// bridge here), with `addr`/24 and a default route to `gateway`.
fn guest(port: &str, addr: &str, gateway: &str) -> PeerNetns {
    let g = PeerNetns::new();
    let peer = format!("{port}g");
    veth(port, &peer);
    sh(&["ip", "link", "set", &peer, "netns", &g.tid()]);
    g.sh(&["ip", "link", "set", &peer, "name", "eth0"]);
    g.sh(&["ip", "addr", "add", &format!("{addr}/24"), "dev", "eth0"]);
    g.sh(&["ip", "link", "set", "eth0", "up"]);
    g.sh(&["ip", "route", "add", "default", "via", gateway]);
    g
}

/// A bridge `name` with `gateway`/24, `ports` up, in `mode`.
fn bridge(name: &str, gateway: &str, ports: &[&str], mode: Option<Forward>) -> BridgeConfig {
    let mut c = BridgeConfig::new(name)
        .unwrap()
        .address(format!("{gateway}/24").as_str())
        .forward_delay(Duration::ZERO)
        .up();
    for p in ports {
        c = c.port(*p, PortConfig::new().up());
    }
    match mode {
        Some(m) => c.forward(m),
        None => c,
    }
}

/// The chains of the inet table `bridgekit`, each with its number of
/// rules, sorted; nothing when there is no such table.
fn chains() -> Vec<(String, usize)> {
    let out = std::process::Command::new("nft")
        .args(["-j", "list", "table", "inet", "bridgekit"])
        .output()
        .unwrap();
    if !out.status.success() {
        return Vec::new();
    }
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let items = v["nftables"].as_array().cloned().unwrap_or_default();
    let mut out: Vec<(String, usize)> = items
        .iter()
        .filter_map(|i| i.get("chain"))
        .map(|c| {
            let name = c["name"].as_str().unwrap().to_string();
            let rules = items
                .iter()
                .filter_map(|i| i.get("rule"))
                .filter(|r| r["chain"] == name.as_str())
                .count();
            (name, rules)
        })
        .collect();
    out.sort();
    out
}

fn sysctl(path: &str) -> String {
    std::fs::read_to_string(path).unwrap().trim().to_string()
}

fn owned(chains: &[(&str, usize)]) -> Vec<(String, usize)> {
    chains.iter().map(|(n, r)| (n.to_string(), *r)).collect()
}

#[test]
fn nat_masquerades_guests_out_lets_answers_in_and_nothing_new() {
    netns_test(|nl| async move {
        let net = internet(&["10.50.0.0/24"]);
        let g = guest("vnet0", "10.50.0.2", "10.50.0.1");
        let server = listen(&net, &format!("{SERVER}:8080"));
        let inside = listen(&g, "10.50.0.2:9090");
        let nat = || {
            bridge(
                "br0",
                "10.50.0.1",
                &["vnet0"],
                Some(Forward::nat().via("up0").unwrap()),
            )
        };
        assert_eq!(sysctl("/proc/sys/net/ipv4/ip_forward"), "0");
        let applied = nat().apply(&nl).await?;
        assert!(
            applied
                .changes
                .contains(&Change::ForwardInstalled(Forward::nat().via("up0")?)),
            "{:?}",
            applied.changes
        );
        assert!(
            applied
                .changes
                .contains(&Change::Forwarding(NetSysctl::Ipv4Forward))
        );
        assert_eq!(sysctl("/proc/sys/net/ipv4/ip_forward"), "1");
        // In (answers), reject, across, out, reject; two returns and a
        // masquerade.
        assert_eq!(chains(), owned(&[("br0/forward", 5), ("br0/nat", 3)]));
        wait_forwarding("vnet0").await;
        let check = |what: &str| {
            // Out, as the uplink's address.
            assert_eq!(
                connect(&g, &format!("{SERVER}:8080"), &server),
                Ok(UPLINK.parse().unwrap()),
                "{what}: the server must see the uplink's address"
            );
            assert!(ping(&g, SERVER), "{what}: the guest pings the server");
            // Nothing new in, though the server has a route.
            assert!(
                connect(&net, "10.50.0.2:9090", &inside).is_err(),
                "{what}: a connection from outside reached the guest"
            );
        };
        check("after apply");
        // Open: no rules, and the same route now gets in (the contrast).
        let applied = bridge("br0", "10.50.0.1", &["vnet0"], Some(Forward::Open))
            .apply(&nl)
            .await?;
        assert_eq!(applied.changes, [Change::ForwardRemoved]);
        assert!(chains().is_empty(), "{:?}", chains());
        assert_eq!(
            connect(&net, "10.50.0.2:9090", &inside),
            Ok(SERVER.parse().unwrap())
        );
        // Back to NAT, then a firewall reload flushes everything.
        nat().apply(&nl).await?;
        sh(&["nft", "flush", "ruleset"]);
        assert!(chains().is_empty());
        let applied = nat().apply(&nl).await?;
        assert_eq!(
            applied.changes,
            [Change::ForwardInstalled(Forward::nat().via("up0")?)]
        );
        assert_eq!(chains(), owned(&[("br0/forward", 5), ("br0/nat", 3)]));
        check("after a flush and apply");
        // An unchanged apply sends nothing.
        assert!(nat().apply(&nl).await?.changes.is_empty());
        Ok(())
    });
}

#[test]
fn routed_forwards_the_guests_own_addresses_both_ways() {
    netns_test(|nl| async move {
        let net = internet(&["10.50.0.0/24"]);
        let g = guest("vnet0", "10.50.0.2", "10.50.0.1");
        let server = listen(&net, &format!("{SERVER}:8080"));
        let inside = listen(&g, "10.50.0.2:9090");
        let routed = bridge(
            "br0",
            "10.50.0.1",
            &["vnet0"],
            Some(Forward::routed().via("up0")?),
        );
        routed.apply(&nl).await?;
        assert_eq!(chains(), owned(&[("br0/forward", 5)]));
        wait_forwarding("vnet0").await;
        assert_eq!(
            connect(&g, &format!("{SERVER}:8080"), &server),
            Ok("10.50.0.2".parse().unwrap())
        );
        assert_eq!(
            connect(&net, "10.50.0.2:9090", &inside),
            Ok(SERVER.parse().unwrap())
        );
        sh(&["nft", "flush", "ruleset"]);
        routed.apply(&nl).await?;
        assert_eq!(chains(), owned(&[("br0/forward", 5)]));
        assert_eq!(
            connect(&g, &format!("{SERVER}:8080"), &server),
            Ok("10.50.0.2".parse().unwrap())
        );
        Ok(())
    });
}

#[test]
fn isolated_guests_reach_the_host_and_each_other_and_never_beyond() {
    netns_test(|nl| async move {
        let net = internet(&["10.50.0.0/24"]);
        let g0 = guest("vnet0", "10.50.0.2", "10.50.0.1");
        let _g1 = guest("vnet1", "10.50.0.3", "10.50.0.1");
        let server = listen(&net, &format!("{SERVER}:8080"));
        let inside = listen(&g0, "10.50.0.2:9090");
        // Forwarding on, as another bridge's NAT would have left it: the
        // rules, not the sysctl, keep the guests in.
        std::fs::write("/proc/sys/net/ipv4/ip_forward", "1")?;
        let isolated = bridge(
            "br0",
            "10.50.0.1",
            &["vnet0", "vnet1"],
            Some(Forward::Isolated),
        );
        let applied = isolated.apply(&nl).await?;
        assert!(
            !applied
                .changes
                .iter()
                .any(|c| matches!(c, Change::Forwarding(_)))
        );
        assert_eq!(chains(), owned(&[("br0/forward", 3)]));
        wait_forwarding("vnet0").await;
        wait_forwarding("vnet1").await;
        let check = |what: &str| {
            assert!(ping(&g0, "10.50.0.1"), "{what}: the guest pings the host");
            assert!(ping(&g0, "10.50.0.3"), "{what}: the guest pings the other");
            assert!(!ping(&g0, SERVER), "{what}: the guest reached the server");
            assert!(
                connect(&g0, &format!("{SERVER}:8080"), &server).is_err(),
                "{what}: the guest connected out"
            );
            assert!(
                connect(&net, "10.50.0.2:9090", &inside).is_err(),
                "{what}: the server connected in"
            );
        };
        check("after apply");
        sh(&["nft", "flush", "ruleset"]);
        assert_eq!(
            isolated.apply(&nl).await?.changes,
            [Change::ForwardInstalled(Forward::Isolated)]
        );
        check("after a flush and apply");
        Ok(())
    });
}

#[test]
fn guests_of_two_nat_bridges_meet_only_when_one_is_routed() {
    netns_test(|nl| async move {
        let net = internet(&[]);
        let g0 = guest("vnet0", "10.50.0.2", "10.50.0.1");
        let g1 = guest("vnet1", "10.51.0.2", "10.51.0.1");
        let server = listen(&net, &format!("{SERVER}:8080"));
        let at_g1 = listen(&g1, "10.51.0.2:9090");
        bridge("br0", "10.50.0.1", &["vnet0"], Some(Forward::nat()))
            .apply(&nl)
            .await?;
        bridge("br1", "10.51.0.1", &["vnet1"], Some(Forward::nat()))
            .apply(&nl)
            .await?;
        assert_eq!(
            chains(),
            owned(&[
                ("br0/forward", 5),
                ("br0/nat", 3),
                ("br1/forward", 5),
                ("br1/nat", 3)
            ])
        );
        wait_forwarding("vnet0").await;
        wait_forwarding("vnet1").await;
        // Both still reach the internet (no uplink named: any way out).
        assert_eq!(
            connect(&g0, &format!("{SERVER}:8080"), &server),
            Ok(UPLINK.parse().unwrap())
        );
        assert!(
            connect(&g0, "10.51.0.2:9090", &at_g1).is_err(),
            "a guest of one NAT bridge reached a guest of the other"
        );
        // br1 routed: its subnet takes connections from anywhere, br0's
        // guest's too, masqueraded on its way out of br0's subnet as
        // libvirt's NAT rules do (no uplink named: any interface).
        bridge("br1", "10.51.0.1", &["vnet1"], Some(Forward::routed()))
            .apply(&nl)
            .await?;
        assert_eq!(
            chains(),
            owned(&[("br0/forward", 5), ("br0/nat", 3), ("br1/forward", 5)])
        );
        assert_eq!(
            connect(&g0, "10.51.0.2:9090", &at_g1),
            Ok("10.51.0.1".parse().unwrap())
        );
        Ok(())
    });
}

#[test]
fn every_change_of_mode_leaves_exactly_the_new_modes_rules_and_delete_takes_them() {
    netns_test(|nl| async move {
        let _net = internet(&[]);
        let modes = [
            (
                Forward::nat().via("up0")?,
                vec![("br0/forward", 7), ("br0/nat", 3)],
            ),
            (Forward::nat66(), vec![("br0/forward", 7), ("br0/nat", 5)]),
            (Forward::routed(), vec![("br0/forward", 7)]),
            (Forward::Isolated, vec![("br0/forward", 3)]),
            (Forward::Open, vec![]),
            (Forward::nat(), vec![("br0/forward", 7), ("br0/nat", 3)]),
        ];
        for (mode, want) in &modes {
            let config = BridgeConfig::new("br0")?
                .address("10.50.0.1/24")
                .address("fd50::1/64")
                .forward(mode.clone());
            config.apply(&nl).await?;
            assert_eq!(chains(), owned(want), "{mode}");
            // Nothing of another table, nothing stale of our own.
            let rules = nft_rules();
            assert!(
                rules.iter().all(|r| r.starts_with("inet bridgekit / br0/")),
                "{mode}: {rules:?}"
            );
            assert!(config.apply(&nl).await?.changes.is_empty(), "{mode}");
        }
        assert_eq!(sysctl("/proc/sys/net/ipv6/conf/all/forwarding"), "1");
        // Another program's table is never touched.
        sh(&["nft", "add", "table", "inet", "theirs"]);
        sh(&["nft", "add", "chain", "inet", "theirs", "their-chain"]);
        Bridge::open(&nl, "br0").await?.delete().await?;
        assert!(chains().is_empty(), "{:?}", chains());
        assert!(
            sh(&["nft", "list", "table", "inet", "theirs"]).contains("their-chain"),
            "another table was touched"
        );
        Ok(())
    });
}

#[test]
fn bad_forward_modes_are_refused_before_anything_is_sent() {
    netns_test(|nl| async move {
        assert!(matches!(
            Forward::Isolated.via("eth0"),
            Err(bridgekit::Error::InvalidInput {
                what: bridgekit::InputKind::Forward,
                ..
            })
        ));
        assert!(Forward::nat().via("a/b").is_err());
        let bad = [
            // NAT without an IPv4 subnet to masquerade.
            BridgeConfig::new("br0")?.forward(Forward::nat()),
            BridgeConfig::new("br0")?
                .address("fd00::1/64")
                .forward(Forward::nat()),
            // Routing without any subnet.
            BridgeConfig::new("br0")?.forward(Forward::routed()),
            // The bridge as its own uplink.
            BridgeConfig::new("br0")?
                .address("10.0.0.1/24")
                .forward(Forward::nat().via("br0")?),
        ];
        for config in bad {
            let before = nl.requests_sent();
            let e = config.apply(&nl).await.unwrap_err();
            assert!(
                matches!(
                    e,
                    bridgekit::Error::InvalidInput {
                        what: bridgekit::InputKind::Forward,
                        ..
                    }
                ),
                "{e}"
            );
            assert_eq!(nl.requests_sent(), before, "{e}: a request was sent");
        }
        // NAT66 of an IPv6-only bridge has a subnet to masquerade.
        BridgeConfig::new("br0")?
            .address("fd00::1/64")
            .forward(Forward::nat66())
            .apply(&nl)
            .await?;
        Ok(())
    });
}

#[test]
fn a_failed_step_of_a_nat_apply_leaves_nothing_behind() {
    netns_test(|nl| async move {
        let _net = internet(&[]);
        let _g = guest("vnet0", "10.50.0.2", "10.50.0.1");
        let nat = || {
            BridgeConfig::new("br0")
                .unwrap()
                .mac("52:54:00:99:00:01")
                .address("10.50.0.1/24")
                .address("fd50::1/64")
                .port("vnet0", PortConfig::new().up())
                .forward(Forward::nat66().via("up0").unwrap())
        };
        let steps = fail_each_step(
            &nl,
            "a NAT apply onto a bridge in isolated mode",
            || async {
                std::fs::write("/proc/sys/net/ipv4/ip_forward", "0").unwrap();
                std::fs::write("/proc/sys/net/ipv6/conf/all/forwarding", "0").unwrap();
                BridgeConfig::new("br0")
                    .unwrap()
                    .mac("52:54:00:99:00:01")
                    .address("10.50.0.1/24")
                    .address("fd50::1/64")
                    .forward(Forward::Isolated)
                    .apply(&nl)
                    .await
                    .expect("the state before");
            },
            || async { nat().apply(&nl).await.map(drop) },
            || async {},
        )
        .await;
        // The rules, two sysctls, the port.
        assert!(steps >= 4, "{steps}");
        Ok(())
    });
}

//! The event stream: each step of a scenario must yield exactly its events
//! (in any order within the step, the steps in order), nothing else; and a
//! forced overrun must be recovered with a resync that leaves the
//! stream's view right.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use bridgekit::{
    Bridge, BridgeConfig, BridgeEvent, BridgeEvents, EventKinds, FdbKind, MulticastRouter,
    OperState, PortConfig, PortState, VlanId, VlanMember, VlanRange,
};
use common::*;
use futures::StreamExt;

/// Collects events until exactly `want` have come (any order), failing on
/// anything else or after 10 s; then checks that nothing more comes at once.
async fn expect(events: &mut BridgeEvents, step: &str, want: &[BridgeEvent]) {
    let mut missing: Vec<BridgeEvent> = want.to_vec();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !missing.is_empty() {
        let ev = tokio::time::timeout_at(deadline, events.next())
            .await
            .unwrap_or_else(|_| panic!("{step}: still waiting for {missing:?}"))
            .unwrap_or_else(|| panic!("{step}: stream ended; missing {missing:?}"))
            .unwrap_or_else(|e| panic!("{step}: {e}"));
        match missing.iter().position(|m| *m == ev) {
            Some(i) => {
                missing.remove(i);
            }
            None => panic!("{step}: unexpected {ev:?} (still expecting {missing:?})"),
        }
    }
    if let Ok(Some(extra)) = tokio::time::timeout(Duration::from_millis(300), events.next()).await {
        panic!("{step}: unexpected extra {extra:?}");
    }
}

fn port_of(name: &str) -> u32 {
    ip_link(name).unwrap()["ifindex"].as_u64().unwrap() as u32
}

#[test]
fn each_step_yields_exactly_its_events() {
    netns_test(|nl| async move {
        dad_at_test_speed(None);
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?.mac("52:54:00:00:0f:01")).await?;
        br.wait_dad(Duration::from_secs(10)).await?;
        veth("p0", "p0peer");
        let mut events = br.events().await?;
        let p0 = port_of("p0");
        let port = || bridgekit::IfName::new("p0").unwrap();

        br.attach_port("p0", PortConfig::new()).await?;
        expect(
            &mut events,
            "attach",
            &[BridgeEvent::PortAttached {
                port: port(),
                index: p0,
            }],
        )
        .await;

        sh(&["ip", "link", "set", "p0peer", "up"]);
        sh(&["ip", "link", "set", "p0", "up"]);
        expect(
            &mut events,
            "carrier on",
            &[
                BridgeEvent::PortState {
                    port: port(),
                    index: p0,
                    state: PortState::Forwarding,
                },
                BridgeEvent::Carrier(true),
                BridgeEvent::OperState(OperState::Up),
            ],
        )
        .await;

        // Make DAD quick, then add an address and let DAD finish.
        dad_at_test_speed(Some("br0"));
        br.add_address("fd00:f::1/64").await?;
        expect(
            &mut events,
            "address + DAD",
            &[
                BridgeEvent::AddressAdded("fd00:f::1/64".parse()?),
                BridgeEvent::DadDone("fd00:f::1".parse()?),
            ],
        )
        .await;

        sh(&["ip", "link", "set", "p0peer", "down"]);
        expect(
            &mut events,
            "carrier off",
            &[
                BridgeEvent::PortState {
                    port: port(),
                    index: p0,
                    state: PortState::Disabled,
                },
                BridgeEvent::Carrier(false),
                BridgeEvent::OperState(OperState::Down),
            ],
        )
        .await;

        br.detach_port("p0").await?;
        expect(
            &mut events,
            "detach",
            &[BridgeEvent::PortDetached {
                port: port(),
                index: p0,
            }],
        )
        .await;

        br.remove_address("fd00:f::1/64").await?;
        expect(
            &mut events,
            "remove address",
            &[BridgeEvent::AddressRemoved("fd00:f::1/64".parse()?)],
        )
        .await;

        br.delete().await?;
        let mut rest = Vec::new();
        while let Ok(Some(ev)) = tokio::time::timeout(Duration::from_secs(5), events.next()).await {
            rest.push(ev?);
        }
        // Deleting also drops the bridge's own addresses first; the stream
        // ends with Deleted.
        assert_eq!(rest.last(), Some(&BridgeEvent::Deleted), "{rest:?}");
        assert!(
            rest.iter().all(|e| matches!(
                e,
                BridgeEvent::Deleted
                    | BridgeEvent::AddressRemoved(_)
                    | BridgeEvent::AdminUp(false)
                    | BridgeEvent::OperState(_)
            )),
            "{rest:?}"
        );
        Ok(())
    });
}

#[test]
fn an_overrun_is_recovered_and_the_view_stays_right() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?.mac("52:54:00:00:0f:02")).await?;
        for i in 0..40 {
            veth(&format!("q{i}"), &format!("q{i}p"));
        }
        nl.set_event_rcvbuf(1024);
        let mut events = br.events().await?;
        // Many changes while nobody reads the stream.
        for i in 0..40 {
            br.attach_port(format!("q{i}").as_str(), PortConfig::new())
                .await?;
        }
        for i in 0..20 {
            br.detach_port(format!("q{i}").as_str()).await?;
        }
        let mut ports: BTreeSet<u32> = BTreeSet::new();
        let mut resynced = false;
        while let Ok(Some(ev)) =
            tokio::time::timeout(Duration::from_millis(500), events.next()).await
        {
            match ev? {
                BridgeEvent::PortAttached { index, .. } => {
                    ports.insert(index);
                }
                BridgeEvent::PortDetached { index, .. } => {
                    ports.remove(&index);
                }
                BridgeEvent::Resynced => resynced = true,
                _ => {}
            }
        }
        assert!(resynced, "no overrun was forced; make the buffer smaller");
        assert!(nl.overruns_seen() > 0);
        let actual: BTreeSet<u32> = ip_ports("br0")
            .iter()
            .map(|name| ip_link(name).unwrap()["ifindex"].as_u64().unwrap() as u32)
            .collect();
        assert_eq!(ports, actual, "the stream's view after the resync");
        assert_eq!(actual.len(), 20);
        Ok(())
    });
}

/// Unrelated address changes every few milliseconds (a busy host): the
/// socket never goes quiet, and an overrun must still be recovered at once
/// (the stream used to wait for quiet, 3 s and more under such churn).
#[test]
fn an_overrun_under_constant_churn_is_recovered_at_once() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?.mac("52:54:00:00:0f:03")).await?;
        for i in 0..40 {
            veth(&format!("c{i}"), &format!("c{i}p"));
        }
        veth("churn0", "churn0p");
        sh(&["ip", "link", "set", "churn0", "up"]);
        nl.set_event_rcvbuf(1024);
        let mut events = br.events().await?;
        // The churn: an address added and removed on another link, all the
        // time, from a thread of this namespace.
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let churn = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut n = 0u32;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let a = format!("fd99::{:x}/128", n % 4000 + 1);
                    sh(&["ip", "addr", "add", &a, "dev", "churn0", "nodad"]);
                    sh(&["ip", "addr", "del", &a, "dev", "churn0"]);
                    n += 1;
                }
                n
            })
        };
        for i in 0..40 {
            br.attach_port(format!("c{i}").as_str(), PortConfig::new())
                .await?;
        }
        // The emulated CPU of the kernel tier is many times slower.
        let (bound, give_up) = if in_kernel_tier() {
            (Duration::from_secs(5), Duration::from_secs(15))
        } else {
            (Duration::from_secs(1), Duration::from_secs(3))
        };
        let start = std::time::Instant::now();
        let mut first_resync = None;
        let mut ports: BTreeSet<u32> = BTreeSet::new();
        while start.elapsed() < give_up && first_resync.is_none() {
            match tokio::time::timeout(Duration::from_millis(200), events.next()).await {
                Ok(Some(ev)) => match ev? {
                    BridgeEvent::Resynced => first_resync = Some(start.elapsed()),
                    BridgeEvent::PortAttached { index, .. } => {
                        ports.insert(index);
                    }
                    _ => {}
                },
                Ok(None) => break,
                Err(_) => {}
            }
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let changes = churn.join().unwrap();
        let took = first_resync.ok_or(format!("no resync under churn within {give_up:?}"))?;
        eprintln!("resync {took:?} after reading began, {changes} churn rounds");
        assert!(took < bound, "resync took {took:?}");
        // The view after it is the kernel's.
        while let Ok(Some(ev)) =
            tokio::time::timeout(Duration::from_millis(500), events.next()).await
        {
            match ev? {
                BridgeEvent::PortAttached { index, .. } => {
                    ports.insert(index);
                }
                BridgeEvent::PortDetached { index, .. } => {
                    ports.remove(&index);
                }
                _ => {}
            }
        }
        assert_eq!(ports.len(), 40, "the stream's view after the resync");
        Ok(())
    });
}

/// Reads events until one matches `want`, ignoring the others (the
/// kernel's own FDB entries for ports and VLANs come and go around the
/// ones a step makes); fails after 10 s.
async fn wait_for(
    events: &mut BridgeEvents,
    step: &str,
    want: impl Fn(&BridgeEvent) -> bool,
) -> BridgeEvent {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let ev = tokio::time::timeout_at(deadline, events.next())
            .await
            .unwrap_or_else(|_| panic!("{step}: no matching event within 10 s"))
            .unwrap_or_else(|| panic!("{step}: stream ended"))
            .unwrap_or_else(|e| panic!("{step}: {e}"));
        if want(&ev) {
            return ev;
        }
    }
}

fn mac_of(name: &str) -> macaddr::MacAddr6 {
    ip_link(name).unwrap()["address"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// `bridge -j fdb show br br0`: whether MAC has an entry on `port` whose
/// flags include `flag` (or, with `flag` empty, any entry).
fn ip_fdb_has(mac: &str, port: &str, flag: &str) -> bool {
    let v: serde_json::Value =
        serde_json::from_str(&sh(&["bridge", "-j", "fdb", "show", "br", "br0"])).unwrap();
    v.as_array().unwrap().iter().any(|e| {
        e["mac"] == mac
            && e["ifname"] == port
            && (flag.is_empty()
                || e["flags"]
                    .as_array()
                    .is_some_and(|f| f.iter().any(|x| x == flag))
                || e["state"] == flag)
    })
}

/// FDB events, opted into: an entry another process adds and removes
/// (static, extern_learn), one the bridge learns from a real frame, and
/// their removal when the port leaves; each checked against `bridge fdb`.
#[test]
fn fdb_entries_added_learned_and_removed_are_events() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?.mac("52:54:00:00:0f:04")).await?;
        veth("p0", "p0peer");
        let mut events = br.events_with(EventKinds::new().fdb(true)).await?;
        br.attach_port("p0", PortConfig::new().up()).await?;
        let p0 = port_of("p0");
        let own = mac_of("p0");
        // The kernel's local entry for the port's own MAC.
        wait_for(&mut events, "attach", |e| {
            matches!(e, BridgeEvent::FdbAdded(f)
                if f.mac == own && f.port_index == p0 && f.kind == FdbKind::Local)
        })
        .await;

        // Another process adds a static entry, then removes it.
        let mac = "52:54:00:aa:bb:01";
        sh(&["bridge", "fdb", "add", mac, "dev", "p0", "master", "static"]);
        let ev = wait_for(&mut events, "static add", |e| {
            matches!(e, BridgeEvent::FdbAdded(f) if f.mac.to_string().eq_ignore_ascii_case(mac))
        })
        .await;
        let BridgeEvent::FdbAdded(f) = ev else {
            unreachable!()
        };
        assert_eq!(
            (f.port.as_str(), f.kind, f.vlan),
            ("p0", FdbKind::Static, None)
        );
        assert!(ip_fdb_has(mac, "p0", "static"));
        sh(&["bridge", "fdb", "del", mac, "dev", "p0", "master"]);
        wait_for(&mut events, "static del", |e| {
            matches!(e, BridgeEvent::FdbRemoved(f) if f.mac.to_string().eq_ignore_ascii_case(mac))
        })
        .await;
        assert!(!ip_fdb_has(mac, "p0", ""));

        // As a control plane (FRR's zebra) installs remote MACs.
        let remote = "52:54:00:aa:bb:02";
        sh(&[
            "bridge",
            "fdb",
            "add",
            remote,
            "dev",
            "p0",
            "master",
            "extern_learn",
        ]);
        wait_for(&mut events, "extern_learn", |e| {
            matches!(e, BridgeEvent::FdbAdded(f)
                if f.mac.to_string().eq_ignore_ascii_case(remote) && f.kind == FdbKind::ExternLearned)
        })
        .await;
        assert!(ip_fdb_has(remote, "p0", "extern_learn"));

        // Learned from a real frame: the peer's ARP request enters p0.
        let peer = mac_of("p0peer");
        sh(&["ip", "addr", "add", "10.77.0.1/24", "dev", "p0peer"]);
        sh(&["ip", "link", "set", "p0peer", "up"]);
        wait_forwarding("p0").await;
        let _ = sh_ok(&["ping", "-c", "1", "-W", "1", "-I", "p0peer", "10.77.0.2"]);
        wait_for(&mut events, "learned", |e| {
            matches!(e, BridgeEvent::FdbAdded(f)
                if f.mac == peer && f.port_index == p0 && f.kind == FdbKind::Learned)
        })
        .await;
        assert!(ip_fdb_has(&peer.to_string().to_lowercase(), "p0", ""));
        let in_kernel = br.fdb().await?;
        assert!(
            in_kernel
                .iter()
                .any(|e| e.mac == peer && e.kind == FdbKind::Learned)
        );

        // The port leaves: the kernel drops its entries, one event each.
        br.detach_port("p0").await?;
        wait_for(
            &mut events,
            "detach",
            |e| matches!(e, BridgeEvent::FdbRemoved(f) if f.mac == peer),
        )
        .await;
        Ok(())
    });
}

/// An FDB view that survives an overrun: after the resync, the stream's
/// entries are the kernel's.
#[test]
fn fdb_events_resync_after_an_overrun() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?.mac("52:54:00:00:0f:05")).await?;
        veth("p0", "p0peer");
        br.attach_port("p0", PortConfig::new()).await?;
        nl.set_event_rcvbuf(1024);
        let mut events = br.events_with(EventKinds::new().fdb(true)).await?;
        let mut view = std::collections::BTreeMap::new();
        // Another process makes 300 changes while this thread is blocked
        // (nothing drains the stream's socket meanwhile).
        let mut batch = String::new();
        for i in 0..200u32 {
            batch += &format!("fdb add 52:54:00:ab:00:{i:02x} dev p0 master static\n");
        }
        for i in 0..100u32 {
            batch += &format!("fdb del 52:54:00:ab:00:{i:02x} dev p0 master\n");
        }
        let file = std::env::temp_dir().join(format!("bridgekit-fdb-{}", std::process::id()));
        std::fs::write(&file, batch)?;
        sh(&["bridge", "-batch", file.to_str().unwrap()]);
        std::fs::remove_file(&file)?;
        let mut resynced = false;
        while let Ok(Some(ev)) =
            tokio::time::timeout(Duration::from_millis(500), events.next()).await
        {
            match ev? {
                BridgeEvent::FdbAdded(f) => {
                    view.insert((f.mac, f.vlan), f);
                }
                BridgeEvent::FdbRemoved(f) => {
                    view.remove(&(f.mac, f.vlan));
                }
                BridgeEvent::Resynced => resynced = true,
                _ => {}
            }
        }
        assert!(resynced, "no overrun was forced; make the buffer smaller");
        let kernel: std::collections::BTreeMap<_, _> = br
            .fdb()
            .await?
            .into_iter()
            .map(|f| ((f.mac, f.vlan), f))
            .collect();
        // Entries that existed before the stream began are not events;
        // every one made after it is in the view exactly as the kernel has it.
        for (key, f) in &view {
            assert_eq!(kernel.get(key), Some(f), "{f:?}");
        }
        // Every static entry was made after the stream began: the view
        // has them all. (A kernel with VLAN support adds each entry made
        // without a VLAN once more in each of the port's VLANs.)
        let statics = |m: &std::collections::BTreeMap<_, bridgekit::FdbEntry>| {
            m.iter()
                .filter(|(_, f)| f.kind == FdbKind::Static)
                .map(|(k, _)| *k)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            statics(&view),
            statics(&kernel),
            "the stream's static entries"
        );
        let macs: BTreeSet<_> = statics(&view).into_iter().map(|(m, _)| m).collect();
        assert_eq!(macs.len(), 100, "the stream's static MACs after the resync");
        Ok(())
    });
}

/// Multicast router modes, opted into: a port's set through bridgekit,
/// the bridge's set by another process.
#[test]
fn multicast_router_changes_are_events() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?.mac("52:54:00:00:0f:06")).await?;
        veth("p0", "p0peer");
        // The kernel announces a port's new mode only while the port is up.
        br.attach_port("p0", PortConfig::new().up()).await?;
        let p0 = port_of("p0");
        let mut events = br
            .events_with(EventKinds::new().multicast_routers(true))
            .await?;
        br.attach_port(
            "p0",
            PortConfig::new().multicast_router(MulticastRouter::Permanent),
        )
        .await?;
        let ev = wait_for(&mut events, "port", |e| {
            matches!(e, BridgeEvent::MulticastRouter { .. })
        })
        .await;
        assert_eq!(
            ev,
            BridgeEvent::MulticastRouter {
                port: bridgekit::IfName::new("p0")?,
                index: p0,
                mode: MulticastRouter::Permanent
            }
        );
        sh(&[
            "ip",
            "link",
            "set",
            "br0",
            "type",
            "bridge",
            "mcast_router",
            "0",
        ]);
        let ev = wait_for(&mut events, "bridge", |e| {
            matches!(e, BridgeEvent::MulticastRouter { .. })
        })
        .await;
        assert_eq!(
            ev,
            BridgeEvent::MulticastRouter {
                port: bridgekit::IfName::new("br0")?,
                index: port_of("br0"),
                mode: MulticastRouter::Disabled
            }
        );
        assert_eq!(
            ip_link("br0").unwrap()["linkinfo"]["info_data"]["mcast_router"],
            0
        );
        Ok(())
    });
}

/// VLAN changes, opted into: set through bridgekit and by another process,
/// each reported as the port's whole new set, as `bridge vlan show` has it.
#[test]
fn vlan_changes_are_events() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?.mac("52:54:00:00:0f:07")).await?;
        if let Err(e) = br.set_vlan_filtering(true).await {
            assert!(matches!(e, bridgekit::Error::Unsupported { .. }), "{e}");
            lacks("bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING)");
            return Ok(());
        }
        veth("p0", "p0peer");
        let mut events = br.events_with(EventKinds::new().vlans(true)).await?;
        br.attach_port("p0", PortConfig::new()).await?;
        let p0 = port_of("p0");
        let vlans_of = |e: &BridgeEvent| match e {
            BridgeEvent::Vlans { index, vlans, .. } if *index == p0 => Some(vlans.clone()),
            _ => None,
        };
        // The kernel's default: PVID 1, untagged.
        let first = wait_for(&mut events, "attach", |e| vlans_of(e).is_some()).await;
        assert_eq!(
            vlans_of(&first).unwrap(),
            vec![VlanMember::access(VlanId::new(1)?)]
        );
        br.add_vlans("p0", &[VlanMember::tagged(VlanRange::new(10, 12)?)])
            .await?;
        let ev = wait_for(&mut events, "add", |e| {
            vlans_of(e).is_some_and(|v| v.len() == 2)
        })
        .await;
        assert_eq!(
            vlans_of(&ev).unwrap(),
            vec![
                VlanMember::access(VlanId::new(1)?),
                VlanMember::tagged(VlanRange::new(10, 12)?)
            ]
        );
        // Another process removes one: the set shrinks.
        sh(&["bridge", "vlan", "del", "vid", "11", "dev", "p0"]);
        let ev = wait_for(&mut events, "del", |e| {
            vlans_of(e).is_some_and(|v| v.len() == 3)
        })
        .await;
        let ports = br.ports().await?;
        let p = ports.iter().find(|p| p.index == p0).ok_or("no p0")?;
        assert_eq!(vlans_of(&ev).unwrap(), p.vlans);
        let shown = sh(&["bridge", "-j", "vlan", "show", "dev", "p0"]);
        assert!(!shown.contains("\"vlan\":11"), "{shown}");
        Ok(())
    });
}

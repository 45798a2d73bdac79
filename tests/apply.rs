//! Declarative apply: create when missing, change only what differs, report
//! each change, no flap when nothing differs, and undo on failure.

mod common;

use std::time::Duration;

use bridgekit::{BridgeConfig, Change, Error, IfName, Op, PortConfig, PortRef};
use common::*;
use futures::StreamExt;

fn desired() -> BridgeConfig {
    BridgeConfig::new("br0")
        .unwrap()
        .mac("52:54:00:00:11:01")
        .mtu(1450)
        .ageing_time(Duration::from_secs(120))
        .address("10.11.0.1/24")
        .address("fd00:11::1/64")
        .port("p0", PortConfig::new().learning(false).cost(20).up())
}

#[test]
fn applying_twice_changes_nothing_the_second_time() {
    netns_test(|nl| async move {
        dad_at_test_speed(None);
        veth("p0", "p0peer");
        sh(&["ip", "link", "set", "p0peer", "up"]);
        let first = desired().apply(&nl).await?;
        // Created, and what the create did beyond the bridge: the port.
        assert_eq!(
            first.changes,
            [Change::Created, Change::PortAttached(IfName::new("p0")?)]
        );
        let link = ip_link("br0").unwrap();
        assert_eq!(link["address"], "52:54:00:00:11:01");
        assert_eq!(link["mtu"], 1450);
        assert_eq!(link["linkinfo"]["info_data"]["ageing_time"], 12000);
        assert!(ip_addr("br0", "10.11.0.1").is_some());
        assert!(ip_addr("br0", "fd00:11::1").is_some());
        let p0 = ip_link("p0").unwrap();
        assert_eq!(p0["master"], "br0");
        assert_eq!(p0["linkinfo"]["info_slave_data"]["learning"], false);
        assert_eq!(p0["linkinfo"]["info_slave_data"]["cost"], 20);

        // Let DAD finish and the port reach forwarding, so that nothing
        // from the creation is still pending.
        first.bridge.wait_dad(Duration::from_secs(30)).await?;
        wait_forwarding("p0").await;
        let mut events = first.bridge.events().await?;
        let before = kernel_state();
        let second = desired().apply(&nl).await?;
        assert!(second.changes.is_empty(), "{:?}", second.changes);
        assert_eq!(kernel_state(), before);
        // No flap: not a single event (carrier, operstate, port state, ...).
        if let Ok(Some(ev)) = tokio::time::timeout(Duration::from_millis(500), events.next()).await
        {
            panic!("applying the same config caused {ev:?}");
        }
        Ok(())
    });
}

/// `create` is `apply` on nothing: the same steps (apply only looks the
/// bridge up first) and the same kernel state, for the staged create, the
/// one-message create and one with STP.
#[test]
fn create_is_apply_on_nothing() {
    netns_test(|nl| async move {
        veth("p0", "p0peer");
        sh(&["ip", "link", "set", "p0peer", "up"]);
        let configs = [
            ("staged", desired()),
            (
                "one message",
                desired().ipv6_ready_without_ports(false).up(),
            ),
            (
                "STP",
                desired().stp(true).forward_delay(Duration::from_secs(4)),
            ),
        ];
        for (what, config) in configs {
            let before = nl.requests_sent();
            let dumps = nl.link_view_rebuilds();
            let br = bridgekit::Bridge::create(&nl, config.clone()).await?;
            // Less the link view's one dump, made by the connection's first
            // port check (here, the first create's attach).
            let by_create = nl.requests_sent() - before - (nl.link_view_rebuilds() - dumps);
            let created = common::kill::whole_view();
            br.delete().await?;
            sh(&["ip", "link", "set", "p0", "down"]);

            let before = nl.requests_sent();
            let applied = config.apply(&nl).await?;
            let by_apply = nl.requests_sent() - before;
            assert_eq!(
                applied.changes,
                [Change::Created, Change::PortAttached(IfName::new("p0")?)],
                "{what}"
            );
            assert_eq!(
                by_apply,
                by_create + 1,
                "{what}: apply looks up, then creates"
            );
            assert_eq!(common::kill::whole_view(), created, "{what}");
            applied.bridge.delete().await?;
            sh(&["ip", "link", "set", "p0", "down"]);
        }
        Ok(())
    });
}

#[test]
fn changing_one_field_changes_only_that_field() {
    netns_test(|nl| async move {
        veth("p0", "p0peer");
        desired().apply(&nl).await?;
        let before = kernel_state();
        let applied = desired().mtu(1400).apply(&nl).await?;
        assert_eq!(
            applied.changes,
            [Change::Mtu {
                from: 1450,
                to: 1400
            }]
        );
        let mut after = kernel_state();
        // The only difference is the bridge's MTU.
        let links = after["links"].as_array_mut().unwrap();
        let br = links.iter_mut().find(|l| l["name"] == "br0").unwrap();
        assert_eq!(br["mtu"], 1400);
        br["mtu"] = 1450.into();
        assert_eq!(after, before);

        // A port taken away, and an option changed: each comes back, reported.
        sh(&["ip", "link", "set", "p0", "nomaster"]);
        let applied = desired().mtu(1400).apply(&nl).await?;
        assert_eq!(
            applied.changes,
            [Change::PortAttached(bridgekit::IfName::new("p0")?)]
        );
        let learning = || {
            BridgeConfig::new("br0")
                .unwrap()
                .mac("52:54:00:00:11:01")
                .mtu(1400)
                .ageing_time(Duration::from_secs(120))
                .address("10.11.0.1/24")
                .address("fd00:11::1/64")
                .port("p0", PortConfig::new().learning(true).cost(20).up())
        };
        let applied = learning().apply(&nl).await?;
        assert_eq!(
            applied.changes,
            [Change::PortReconfigured(bridgekit::IfName::new("p0")?)]
        );
        assert_eq!(
            ip_link("p0").unwrap()["linkinfo"]["info_slave_data"]["learning"],
            true
        );
        // A MAC and an address changed elsewhere: both restored, in order.
        sh(&["ip", "link", "set", "br0", "address", "52:54:00:00:11:99"]);
        sh(&["ip", "addr", "del", "10.11.0.1/24", "dev", "br0"]);
        let applied = learning().apply(&nl).await?;
        assert_eq!(
            applied.changes,
            [
                Change::Mac {
                    from: "52:54:00:00:11:99".parse()?,
                    to: "52:54:00:00:11:01".parse()?
                },
                Change::AddressAdded("10.11.0.1/24".parse()?),
            ]
        );
        Ok(())
    });
}

#[test]
fn another_kind_of_interface_is_never_touched() {
    netns_test(|nl| async move {
        veth("br0", "br0peer");
        let before = kernel_state();
        let e = desired().apply(&nl).await.unwrap_err();
        assert!(
            matches!(e, Error::NotABridge { ref kind, .. } if kind == "veth"),
            "{e}"
        );
        assert_eq!(kernel_state(), before);
        Ok(())
    });
}

#[test]
fn a_failed_apply_takes_its_changes_back() {
    netns_test(|nl| async move {
        veth("p0", "p0peer");
        veth("p1", "p1peer");
        let start = BridgeConfig::new("br0")?.mac("52:54:00:00:11:02").mtu(1500);
        start.apply(&nl).await?;
        let target = || desired().port("p1", PortConfig::managed("52:54:00:00:11:03"));
        let nl2 = nl.clone();
        let steps = fail_each_step(
            &nl,
            "apply",
            async || {},
            async || target().apply(&nl2).await.map(drop),
            async || {
                // Back to the start for the next round.
                bridgekit::Bridge::open(&nl2, "br0")
                    .await
                    .unwrap()
                    .delete()
                    .await
                    .unwrap();
                start.apply(&nl2).await.unwrap();
            },
        )
        .await;
        assert!(steps >= 8, "only {steps} steps");
        Ok(())
    });
}

/// libvirt's usual `stp='off' delay='0'` on a bridge that has STP on: STP
/// must go off before the kernel accepts a zero forward delay.
#[test]
fn stp_goes_off_before_a_delay_only_valid_without_it() {
    netns_test(|nl| async move {
        BridgeConfig::new("br0")?
            .stp(true)
            .forward_delay(Duration::from_secs(4))
            .apply(&nl)
            .await?;
        let applied = BridgeConfig::new("br0")?
            .stp(false)
            .forward_delay(Duration::ZERO)
            .apply(&nl)
            .await?;
        assert_eq!(
            applied.changes,
            [Change::Stp(false), Change::ForwardDelay(Duration::ZERO)]
        );
        let data = ip_link("br0").unwrap()["linkinfo"]["info_data"].clone();
        assert_eq!(data["stp_state"], 0);
        assert_eq!(data["forward_delay"], 0);
        Ok(())
    });
}

/// Issue #27, item 3: one port declared twice (by name, or by name and by
/// ifindex) is refused, before anything changes; every apply would
/// otherwise flap it between the two configs.
#[test]
fn a_port_declared_twice_is_refused() {
    netns_test(|nl| async move {
        veth("p0", "p0peer");
        let twice = BridgeConfig::new("br0")?
            .port("p0", PortConfig::new().learning(false))
            .port("p0", PortConfig::new().learning(true));
        let err = twice.apply(&nl).await.unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
        assert!(err.to_string().contains("p0"), "{err}");
        assert!(ip_link("br0").is_none(), "nothing is made");
        let index = ip_link("p0").unwrap()["ifindex"].as_u64().unwrap() as u32;
        let by_index = BridgeConfig::new("br0")?
            .port("p0", PortConfig::new().learning(false))
            .port(PortRef::Index(index), PortConfig::new().learning(true));
        let err = by_index.apply(&nl).await.unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
        assert!(ip_link("br0").is_none(), "nothing is made: {err}");
        Ok(())
    });
}

/// Issue #27, items 4 and 5: a missing port, or a name that is not a
/// bridge, is refused with words that name what they should, and a
/// refused create leaves no link that came and went.
#[test]
fn refusals_say_what_and_where_and_make_nothing_first() {
    netns_test(|nl| async move {
        // A missing port: refused before the bridge exists, naming both.
        let err = BridgeConfig::new("br0")?
            .port("nope0", PortConfig::new())
            .apply(&nl)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::NotFound { .. }), "{err}");
        let text = err.to_string();
        assert!(text.contains("nope0") && text.contains("br0"), "{text}");
        assert!(ip_link("br0").is_none(), "a refused apply made br0");
        // A port of another bridge, and a bridge as a port: refused before
        // the new bridge exists too.
        veth("pb0", "pb0peer");
        BridgeConfig::new("brx")?
            .port("pb0", PortConfig::new())
            .apply(&nl)
            .await?;
        let watch = Monitors::start();
        let busy = BridgeConfig::new("br1")?
            .port("pb0", PortConfig::new())
            .apply(&nl)
            .await
            .unwrap_err();
        let nested = BridgeConfig::new("br1")?
            .port("brx", PortConfig::new())
            .apply(&nl)
            .await
            .unwrap_err();
        let seen = watch.seen();
        assert!(matches!(busy, Error::PortBusy { .. }), "{busy}");
        assert!(busy.to_string().contains("brx"), "{busy}");
        assert!(matches!(nested, Error::InvalidInput { .. }), "{nested}");
        assert!(seen.trim().is_empty(), "links came and went:\n{seen}");
        // attach_port of a missing port names the bridge too.
        let br = BridgeConfig::new("br0")?.apply(&nl).await?.bridge;
        let err = br
            .attach_port("nope0", PortConfig::new())
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("nope0") && text.contains("br0"), "{text}");
        // apply on a veth says apply, not "open bridge".
        veth("v0", "v0peer");
        let err = BridgeConfig::new("v0")?.apply(&nl).await.unwrap_err();
        assert!(
            matches!(err, Error::NotABridge { op: Op::Apply, .. }),
            "{err}"
        );
        assert!(
            err.to_string().starts_with("apply configuration to v0"),
            "{err}"
        );
        // An address added twice: the interface is the interface, the
        // address is what exists.
        br.add_address("10.99.0.1/24").await?;
        let err = br.add_address("10.99.0.1/24").await.unwrap_err();
        match &err {
            Error::AlreadyExists { iface, entry, .. } => {
                assert_eq!(iface, "br0");
                assert_eq!(entry.as_deref(), Some("address 10.99.0.1/24"));
            }
            other => panic!("{other}"),
        }
        Ok(())
    });
}

/// Issue #27: after real traffic (the bridge has learned its peers' MACs
/// on its ports), applying the same config again over every kind of port
/// bridgekit manages — a plain veth port, a managed port with its static
/// FDB entry, a VM NIC's tap — changes nothing: no change reported, and
/// `bridge monitor fdb` and `ip monitor link` see nothing. (VXLAN ports:
/// tests/vxlan.rs, after traffic across a tunnel.)
#[test]
fn re_apply_after_traffic_changes_nothing_on_any_port_kind() {
    netns_test(|nl| async move {
        dad_at_test_speed(None);
        let peer = PeerNetns::new();
        veth("p0", "p0peer");
        sh(&["ip", "link", "set", "p0peer", "netns", &peer.tid()]);
        peer.sh(&["ip", "addr", "add", "10.90.0.2/24", "dev", "p0peer"]);
        peer.sh(&["ip", "link", "set", "p0peer", "up"]);
        veth("p1", "p1peer");
        sh(&["ip", "link", "set", "p1peer", "up"]);
        let p1peer_mac = ip_link("p1peer").unwrap()["address"]
            .as_str()
            .unwrap()
            .to_string();
        let mut desired = BridgeConfig::new("br0")?
            .mac("52:54:00:00:90:01")
            .address("10.90.0.1/24")
            .port("p0", PortConfig::new().up())
            .port("p1", PortConfig::managed(p1peer_mac.as_str()).up());
        let first = desired.apply(&nl).await?;
        let taps = can_make_taps();
        let _nic = if taps {
            let nic = bridgekit::VmNic::create(
                &first.bridge,
                bridgekit::VmNicConfig::new("52:54:00:00:90:07").name("tap0"),
            )
            .await?;
            desired = desired.port("tap0", PortConfig::new());
            Some(nic)
        } else {
            None
        };
        desired.apply(&nl).await?;
        first.bridge.wait_dad(Duration::from_secs(30)).await?;
        wait_forwarding("p0").await;
        assert!(ping(&peer, "10.90.0.1"), "the peer reaches the bridge");
        // The bridge learned the peer's MAC on p0: a dynamic entry.
        let shown: serde_json::Value =
            serde_json::from_str(&peer.sh(&["ip", "-j", "link", "show", "p0peer"]))?;
        let peer_mac = shown[0]["address"].as_str().unwrap().to_string();
        let fdb = || sh(&["bridge", "-j", "fdb", "show", "br", "br0"]);
        assert!(fdb().contains(&peer_mac), "nothing learned: {}", fdb());

        let before = fdb();
        let watch = Monitors::start();
        let again = desired.apply(&nl).await?;
        let seen = watch.seen();
        assert!(again.changes.is_empty(), "{:?}", again.changes);
        assert!(seen.trim().is_empty(), "the re-apply was seen:\n{seen}");
        assert_eq!(fdb(), before, "the re-apply changed the FDB");
        Ok(())
    });
}

//! Fault injection: every step of every multi-step operation fails in turn
//! (a hidden hook makes the Nth netlink request fail as if the kernel had
//! refused it), and the namespace must then be exactly as before the call,
//! compared through iproute2's view of links, addresses, FDB and VLANs.
//!
//! The bridges here have a fixed MAC, as bridgekit recommends: the kernel
//! recomputes the MAC of a bridge without one whenever a port joins or
//! leaves (an empty one ends at 00:00:00:00:00:00), rollback included, so
//! "exactly as before" cannot hold for those.

mod common;

use std::time::Duration;

use bridgekit::{Bridge, BridgeConfig, PortConfig, VlanId, VlanMember, VlanRange};
use common::*;

fn fixed_mac_bridge() -> BridgeConfig {
    BridgeConfig::new("br0").unwrap().mac("52:54:00:00:00:fe")
}

#[test]
fn create_undoes_every_step() {
    netns_test(|nl| async move {
        let full = || {
            BridgeConfig::new("br0")
                .unwrap()
                .mac("52:54:00:00:00:01")
                .mtu(1400)
                .stp(true)
                .forward_delay(Duration::from_secs(4))
                .ageing_time(Duration::from_secs(60))
        };
        let nl2 = nl.clone();
        let steps = fail_each_step(
            &nl,
            "create (staged, fixed MAC, STP)",
            async || {},
            async || Bridge::create(&nl2, full()).await.map(drop),
            async || {
                Bridge::open(&nl2, "br0")
                    .await
                    .unwrap()
                    .delete()
                    .await
                    .unwrap();
            },
        )
        .await;
        assert!(steps >= 6, "only {steps} steps");
        let nl3 = nl.clone();
        fail_each_step(
            &nl,
            "create (one message)",
            async || {},
            async || {
                Bridge::create(&nl3, full().ipv6_ready_without_ports(false))
                    .await
                    .map(drop)
            },
            async || {
                Bridge::open(&nl3, "br0")
                    .await
                    .unwrap()
                    .delete()
                    .await
                    .unwrap();
            },
        )
        .await;
        Ok(())
    });
}

#[test]
fn attach_undoes_every_step_on_a_new_and_on_an_attached_port() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, fixed_mac_bridge()).await?;
        veth("p0", "p0peer");
        let cfg = || {
            PortConfig::managed("52:54:00:00:00:07")
                .hairpin(true)
                .cost(9)
                .fdb_entry("52:54:00:00:00:08", None)
                .up()
        };
        let steps = fail_each_step(
            &nl,
            "attach a new port",
            async || {},
            async || br.attach_port("p0", cfg()).await,
            async || br.detach_port("p0").await.unwrap(),
        )
        .await;
        assert!(steps >= 5, "only {steps} steps");
        br.attach_port("p0", PortConfig::new()).await?;
        fail_each_step(
            &nl,
            "reconfigure an attached port",
            async || {},
            async || br.attach_port("p0", cfg()).await,
            async || {
                br.detach_port("p0").await.unwrap();
                br.attach_port("p0", PortConfig::new()).await.unwrap();
            },
        )
        .await;
        Ok(())
    });
}

#[test]
fn bulk_calls_undo_every_step() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, fixed_mac_bridge()).await?;
        for i in 0..3 {
            veth(&format!("p{i}"), &format!("p{i}peer"));
        }
        let list = || {
            (0..3).map(|i| {
                (
                    format!("p{i}"),
                    PortConfig::new().learning(false).cost(10 + i),
                )
            })
        };
        let steps = fail_each_step(
            &nl,
            "attach_ports",
            async || {},
            async || {
                br.attach_ports(list().map(|(n, c)| (bridgekit::IfName::new(n).unwrap(), c)))
                    .await
            },
            async || br.detach_ports(["p0", "p1", "p2"]).await.unwrap(),
        )
        .await;
        assert!(steps >= 9, "only {steps} steps");
        fail_each_step(
            &nl,
            "detach_ports",
            async || {
                br.attach_ports(list().map(|(n, c)| (bridgekit::IfName::new(n).unwrap(), c)))
                    .await
                    .unwrap()
            },
            async || br.detach_ports(["p0", "p1", "p2"]).await,
            async || {},
        )
        .await;
        Ok(())
    });
}

#[test]
fn vlan_changes_undo_every_step_where_the_kernel_has_vlans() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, fixed_mac_bridge()).await?;
        if br.set_vlan_filtering(true).await.is_err() {
            lacks("bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING)");
            return Ok(());
        }
        veth("p0", "p0peer");
        br.attach_port("p0", PortConfig::new()).await?;
        let members = [
            VlanMember::access(VlanId::new(10)?),
            VlanMember::tagged(VlanRange::new(100, 200)?),
        ];
        fail_each_step(
            &nl,
            "add_vlans",
            async || {},
            async || br.add_vlans("p0", &members).await,
            async || {
                br.remove_vlans(
                    "p0",
                    &[
                        VlanRange::new(10, 10).unwrap(),
                        VlanRange::new(100, 200).unwrap(),
                    ],
                )
                .await
                .unwrap();
                br.add_vlans("p0", &[VlanMember::access(VlanId::new(1).unwrap())])
                    .await
                    .unwrap();
            },
        )
        .await;
        br.add_vlans("p0", &members).await?;
        fail_each_step(
            &nl,
            "remove_vlans",
            async || {},
            async || {
                br.remove_vlans(
                    "p0",
                    &[
                        VlanRange::new(10, 10).unwrap(),
                        VlanRange::new(150, 300).unwrap(),
                    ],
                )
                .await
            },
            async || br.add_vlans("p0", &members).await.unwrap(),
        )
        .await;
        Ok(())
    });
}

#[test]
fn apply_undoes_every_step_including_the_ipv6_settings() {
    netns_test(|nl| async move {
        veth("p0", "p0peer");
        // A bridge someone else made, with the kernel's IPv6 defaults
        // (accept_ra=1, autoconf=1): apply changes the MTU, both settings,
        // an address and a port, and each step is made to fail in turn.
        let nl2 = nl.clone();
        let steps = fail_each_step(
            &nl,
            "apply (IPv6 settings, MTU, address, port)",
            async || {
                if ip_link("br0").is_none() {
                    sh(&[
                        "ip",
                        "link",
                        "add",
                        "br0",
                        "address",
                        "52:54:00:00:00:fd",
                        "type",
                        "bridge",
                    ]);
                }
                // Made by iproute2, or put back by the undo of the last try.
                assert_eq!(ipv6_sysctl("br0", "accept_ra").as_deref(), Some("1"));
            },
            async || {
                fixed_mac_bridge()
                    .mac("52:54:00:00:00:fd")
                    .mtu(1400)
                    .address("10.0.0.1/24")
                    .address("fd00::1/64")
                    .port("p0", PortConfig::new())
                    .apply(&nl2)
                    .await
                    .map(drop)
            },
            async || {},
        )
        .await;
        assert!(steps >= 6, "only {steps} steps");
        // The undone state is the starting one; the finished one is guarded.
        assert_eq!(ipv6_sysctl("br0", "accept_ra").as_deref(), Some("0"));
        assert_eq!(ipv6_sysctl("br0", "autoconf").as_deref(), Some("0"));
        Ok(())
    });
}

/// When an undo step fails too, the caller hears of it in the returned
/// error, next to the cause (not only in a log line): every step from the
/// k-th on is made to fail, so the undo steps fail as well.
#[test]
fn a_failed_undo_is_reported_next_to_the_cause() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, fixed_mac_bridge()).await?;
        veth("p0", "p0peer");
        let config = || PortConfig::managed("52:54:00:00:00:21").hairpin(true).up();
        let mut reported = 0;
        for k in 1..8 {
            nl.inject_failing_from(k, libc::EBUSY);
            let result = br.attach_port("p0", config()).await;
            nl.clear_fault();
            match result {
                Ok(()) => break,
                Err(e @ bridgekit::Error::UndoFailed { .. }) => {
                    reported += 1;
                    assert_eq!(e.errno(), Some(libc::EBUSY), "{e}");
                    assert!(e.to_string().contains("undoing it failed too"), "{e}");
                    let bridgekit::Error::UndoFailed { cause, undo } = &e else {
                        unreachable!()
                    };
                    assert_eq!(cause.errno(), Some(libc::EBUSY));
                    assert!(!undo.is_empty());
                    assert!(undo.iter().all(|u| u.errno() == Some(libc::EBUSY)), "{e}");
                }
                // Nothing to undo yet (the first change failed).
                Err(e) => assert_eq!(e.errno(), Some(libc::EBUSY), "{e}"),
            }
            // Half-configured now, as the error says: the same call again
            // converges it.
            br.attach_port("p0", config()).await?;
            assert_eq!(slave("p0")["hairpin"], true);
            br.detach_port("p0").await?;
        }
        assert!(reported > 0, "no undo failed: the test proves nothing");

        // apply: an MTU change made, then every step from the next on fails.
        let desired = fixed_mac_bridge().mtu(1400).address("10.31.0.1/24");
        let mut reported = 0;
        for k in 1..10 {
            nl.inject_failing_from(k, libc::EBUSY);
            let result = desired.apply(&nl).await;
            nl.clear_fault();
            match result {
                Ok(_) => break,
                Err(e @ bridgekit::Error::UndoFailed { .. }) => {
                    reported += 1;
                    assert_eq!(e.cause().errno(), Some(libc::EBUSY), "{e}");
                }
                Err(e) => assert_eq!(e.errno(), Some(libc::EBUSY), "{e}"),
            }
            fixed_mac_bridge().mtu(1500).apply(&nl).await?;
            let _ = br.remove_address("10.31.0.1/24").await;
        }
        assert!(
            reported > 0,
            "no undo of apply failed: the test proves nothing"
        );

        // detach_ports: the first port leaves, the second fails, and so
        // does putting the first back.
        veth("p1", "p1peer");
        veth("p2", "p2peer");
        br.attach_ports([("p1", PortConfig::new()), ("p2", PortConfig::new())])
            .await?;
        let before = nl.requests_sent();
        br.detach_ports(["p1", "p2"]).await?;
        let requests = nl.requests_sent() - before;
        br.attach_ports([("p1", PortConfig::new()), ("p2", PortConfig::new())])
            .await?;
        // The last change request of the call is the second detach.
        nl.inject_failing_from(requests - 1, libc::EBUSY);
        let e = br.detach_ports(["p1", "p2"]).await.unwrap_err();
        nl.clear_fault();
        let bridgekit::Error::UndoFailed { cause, undo } = &e else {
            panic!("expected the failed re-attach in the error: {e}");
        };
        assert_eq!(cause.errno(), Some(libc::EBUSY), "{e}");
        assert_eq!(undo.len(), 1, "{e}");
        assert!(undo[0].to_string().contains("p1"), "{e}");
        // As the error says: p1 is out, p2 still in.
        assert!(ip_link("p1").unwrap().get("master").is_none());
        assert_eq!(ip_link("p2").unwrap()["master"], "br0");
        br.detach_ports(["p2"]).await?;

        // create: the bridge is made, a later step fails, and so does
        // deleting it; the error says so, and apply finishes the create.
        br.delete().await?;
        let full = fixed_mac_bridge().mtu(1400).address("10.32.0.1/24");
        nl.inject_failing_from(3, libc::EBUSY);
        let e = Bridge::create(&nl, full.clone()).await.unwrap_err();
        nl.clear_fault();
        let bridgekit::Error::UndoFailed { cause, undo } = &e else {
            panic!("expected the failed deletion in the error: {e}");
        };
        assert_eq!(cause.errno(), Some(libc::EBUSY), "{e}");
        assert!(undo.iter().all(|u| u.errno() == Some(libc::EBUSY)), "{e}");
        assert!(ip_link("br0").is_some(), "the error said the bridge stayed");
        let applied = full.apply(&nl).await?;
        assert!(!applied.changes.is_empty());
        let link = ip_link("br0").unwrap();
        assert_eq!(link["mtu"], 1400);
        assert_eq!(link["address"], "52:54:00:00:00:fe");
        assert!(full.apply(&nl).await?.changes.is_empty());
        Ok(())
    });
}

fn slave(port: &str) -> serde_json::Value {
    ip_link(port).unwrap()["linkinfo"]["info_slave_data"].clone()
}

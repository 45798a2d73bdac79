//! The kernel feature table: each feature bridgekit offers where kernels
//! differ is tried through bridgekit and checked through iproute2, and
//! each behaviour users depend on is measured. Every row is printed as
//! `KERNEL-FEATURE|<release>|<row>|<result>` for the README's table
//! (`tools/kernel-tier/feature-table` regenerates it). What each kernel
//! must have comes from `common::kernel::FEATURES`: at or above a feature's
//! version it must work (in the kernel tier a missing one fails); below it,
//! bridgekit must answer `Unsupported`, never a silent Ok.

mod common;

use std::time::Duration;

use bridgekit::{Bridge, BridgeConfig, BridgeOption, Error, PortConfig, VlanProtocol};
use common::kernel::{feature, release, version_has};
use common::*;

/// The outcome of trying one feature.
enum Tried {
    Works,
    Unsupported(String),
    /// Not tried here: a rootless run (said by `skip_rootless`).
    Skipped,
}

/// Judges a call that should have changed what `check` reads through
/// iproute2: Ok and seen is `Works`, `Unsupported` is the typed refusal,
/// and anything else (an Ok that changed nothing above all) fails.
fn judge(name: &str, result: Result<(), Error>, check: impl FnOnce() -> bool) -> Tried {
    match result {
        Ok(()) => {
            assert!(check(), "{name}: Ok, but iproute2 does not see the change");
            Tried::Works
        }
        Err(e @ Error::Unsupported { .. }) => Tried::Unsupported(e.to_string()),
        Err(e @ Error::PermissionDenied { .. }) if skip_rootless(&format!("{name} ({e})")) => {
            Tried::Skipped
        }
        Err(e) => panic!("{name}: neither done nor Unsupported: {e}"),
    }
}

fn report(name: &str, result: &str) {
    println!("KERNEL-FEATURE|{}|{name}|{result}", release());
}

/// Checks `tried` against the table and prints its row.
fn expect(name: &str, tried: Tried) {
    let f = feature(name);
    let since = format!("{}.{}", f.since.0, f.since.1);
    match tried {
        Tried::Works => {
            assert!(
                version_has(name),
                "{name} works on {}, older than {since}: the feature table is wrong",
                release()
            );
            report(name, "yes");
        }
        Tried::Unsupported(why) => {
            if version_has(name) {
                // Only a missing config option may excuse it, and not in
                // the kernel tier, whose kernels have every feature.
                match f.config {
                    Some(config) if !in_kernel_tier() => {
                        lacks(&format!("{name} ({config})"));
                        report(name, &format!("no ({config} off)"));
                    }
                    _ => panic!(
                        "{name} is missing on {}, which is newer than {since}: {why}",
                        release()
                    ),
                }
            } else {
                report(name, &format!("no (needs {since})"));
            }
        }
        Tried::Skipped => {}
    }
}

fn slave_data(port: &str, key: &str) -> serde_json::Value {
    ip_link(port).unwrap()["linkinfo"]["info_slave_data"][key].clone()
}

#[test]
fn features_of_this_kernel() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?.mac("52:54:00:00:14:01")).await?;
        // VLAN filtering, and with it the 802.1ad tag protocol.
        let name = "bridge VLAN filtering";
        let tried = judge(name, br.set_vlan_filtering(true).await, || {
            ip_link("br0").unwrap()["linkinfo"]["info_data"]["vlan_filtering"] == 1
        });
        let filtering = matches!(tried, Tried::Works);
        expect(name, tried);
        let name = "802.1ad VLAN protocol";
        let tried = if filtering {
            judge(
                name,
                br.set_vlan_protocol(VlanProtocol::Dot1Ad).await,
                || ip_link("br0").unwrap()["linkinfo"]["info_data"]["vlan_protocol"] == "802.1ad",
            )
        } else {
            Tried::Unsupported("needs bridge VLAN filtering".into())
        };
        expect(name, tried);
        // Per-VLAN statistics: the kernel drops the attribute without
        // VLAN filtering support, so bridgekit reads it back.
        let name = "per-VLAN statistics";
        let tried = judge(
            name,
            br.set_option(BridgeOption::VlanStats(true)).await,
            || ip_link("br0").unwrap()["linkinfo"]["info_data"]["vlan_stats_enabled"] == 1,
        );
        expect(name, tried);
        // Port options, each on a port of its own.
        let options: [(&str, PortConfig, &str, serde_json::Value); 11] = [
            (
                "port option multicast flood",
                PortConfig::new().multicast_flood(false),
                "mcast_flood",
                false.into(),
            ),
            (
                "port option broadcast flood",
                PortConfig::new().broadcast_flood(false),
                "bcast_flood",
                false.into(),
            ),
            (
                "port option neighbour suppression",
                PortConfig::new().neigh_suppress(true),
                "neigh_suppress",
                true.into(),
            ),
            (
                "port option isolated",
                PortConfig::new().isolated(true),
                "isolated",
                true.into(),
            ),
            (
                "port option guard",
                PortConfig::new().guard(true),
                "guard",
                true.into(),
            ),
            (
                "port option root_block",
                PortConfig::new().root_block(true),
                "root_block",
                true.into(),
            ),
            (
                "port option multicast fast leave",
                PortConfig::new().multicast_fast_leave(true),
                "fastleave",
                true.into(),
            ),
            (
                "port option proxy_arp",
                PortConfig::new().proxy_arp(true),
                "proxy_arp",
                true.into(),
            ),
            (
                "port option multicast router",
                PortConfig::new().multicast_router(bridgekit::MulticastRouter::Permanent),
                "multicast_router",
                2.into(),
            ),
            (
                "port option group_fwd_mask",
                PortConfig::new().group_fwd_mask(1 << 14),
                "group_fwd_mask",
                "0x4000".into(),
            ),
            (
                "port option locked",
                PortConfig::new().learning(false).locked(true),
                "locked",
                true.into(),
            ),
        ];
        for (i, (name, config, key, want)) in options.into_iter().enumerate() {
            let port = format!("p{i}");
            veth(&port, &format!("p{i}peer"));
            let result = br.attach_port(port.as_str(), config).await;
            expect(name, judge(name, result, || slave_data(&port, key) == want));
        }
        // Options newer than the iproute2 here (6.1 prints neither):
        // checked through a raw RTM_GETLINK read byte by byte instead.
        let raw: [(&str, PortConfig, u16); 2] = [
            (
                "port option mab",
                PortConfig::new().locked(true).mab(true),
                common::raw::IFLA_BRPORT_MAB,
            ),
            (
                "port option neigh_vlan_suppress",
                PortConfig::new().neigh_vlan_suppress(true),
                common::raw::IFLA_BRPORT_NEIGH_VLAN_SUPPRESS,
            ),
        ];
        for (i, (name, config, attr)) in raw.into_iter().enumerate() {
            let port = format!("r{i}");
            veth(&port, &format!("r{i}peer"));
            let result = br.attach_port(port.as_str(), config).await;
            expect(
                name,
                judge(name, result, || {
                    common::raw::brport_flag(&port, attr) == Some(true)
                }),
            );
        }
        // A backup port: another port of the same bridge.
        let name = "port option backup_port";
        veth("b0", "b0peer");
        veth("b1", "b1peer");
        br.attach_port("b1", PortConfig::new()).await?;
        let result = br
            .attach_port("b0", PortConfig::new().backup_port("b1"))
            .await;
        expect(
            name,
            judge(name, result, || slave_data("b0", "backup_port") == "b1"),
        );
        // A macvtap guest NIC on a lower device (a veth end here).
        let name = "macvtap guest NIC";
        veth("lw0", "lw0peer");
        let result = bridgekit::MacvtapNic::create(
            &nl,
            bridgekit::MacvtapNicConfig::new("lw0", "52:54:00:00:14:02"),
        )
        .await;
        let made = result.as_ref().map(|n| n.name().to_string()).ok();
        expect(
            name,
            judge(name, result.map(drop), || {
                made.as_deref()
                    .and_then(ip_link)
                    .is_some_and(|l| l["linkinfo"]["info_kind"] == "macvtap")
            }),
        );
        Ok(())
    });
}

/// Behaviours VM managers depend on, measured on this kernel. They are the
/// same on every kernel the tier runs; the rest of the suite asserts them in
/// detail, and a kernel that differs gets a sentence in the docs.
#[test]
fn behaviours_of_this_kernel() {
    netns_test(|nl| async move {
        // An empty bridge loses carrier once the kernel recomputes its
        // port state (here: a MAC set).
        sh(&["ip", "link", "add", "b1", "type", "bridge"]);
        sh(&["ip", "link", "set", "b1", "up"]);
        let carrier = |dev: &str| {
            ip_link(dev).unwrap()["flags"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f == "LOWER_UP")
        };
        let fresh = carrier("b1");
        sh(&["ip", "link", "set", "b1", "address", "52:54:00:00:14:02"]);
        let after_mac = carrier("b1");
        report(
            "a new, empty bridge has carrier",
            if fresh { "yes" } else { "no" },
        );
        report(
            "an empty bridge loses carrier when its MAC is set",
            if !after_mac { "yes" } else { "no" },
        );
        assert!(!after_mac, "the staged create depends on this");
        // DAD on an empty bridge with a fixed MAC, through the staged create.
        let br = Bridge::create(&nl, BridgeConfig::new("b2")?.mac("52:54:00:00:14:03")).await?;
        br.add_address("fd14::1/64").await?;
        let dad = br.wait_dad(Duration::from_secs(20)).await;
        report(
            "IPv6 DAD finishes on an empty fixed-MAC bridge (staged create)",
            if dad.is_ok() { "yes" } else { "no" },
        );
        dad?;
        // The MTU a port imposes: given in the creating message, the first
        // port resets it to the ports' minimum; set afterwards, it stays.
        sh(&["ip", "link", "add", "b3", "mtu", "1400", "type", "bridge"]);
        veth("q0", "q0peer");
        sh(&["ip", "link", "set", "q0", "master", "b3"]);
        let kept = ip_link("b3").unwrap()["mtu"] == 1400;
        report(
            "a bridge MTU from the creating message survives the first port",
            if kept { "yes" } else { "no" },
        );
        let b4 = Bridge::create(&nl, BridgeConfig::new("b4")?.mtu(1400)).await?;
        veth("q1", "q1peer");
        b4.attach_port("q1", PortConfig::new()).await?;
        let kept = ip_link("b4").unwrap()["mtu"] == 1400;
        report(
            "a bridge MTU set by bridgekit survives the first port",
            if kept { "yes" } else { "no" },
        );
        assert!(kept, "Bridge::create promises the MTU");
        // The IPv6 settings of host hardening.
        Bridge::create(&nl, BridgeConfig::new("b5")?).await?;
        let guarded = ipv6_sysctl("b5", "accept_ra").as_deref() == Some("0")
            && ipv6_sysctl("b5", "autoconf").as_deref() == Some("0");
        report(
            "accept_ra=0 and autoconf=0 on a new bridge",
            if guarded { "yes" } else { "no" },
        );
        assert!(guarded);
        Ok(())
    });
}

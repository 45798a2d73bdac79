//! The port options a VM manager sets on guest ports beyond learning and
//! flooding: BPDU guard, root block, proxy ARP, multicast router mode,
//! multicast fast leave, locked, MAC authentication bypass, per-VLAN
//! neighbour suppression, group forwarding, backup port. Each is set,
//! checked through iproute2 (`ip -j -d link show`; the options newer than
//! iproute2 6.1 through a raw RTM_GETLINK parsed in `common::raw`),
//! reported in `PortStatus`, changed back, and refused before any request
//! when bad; an option newer than the kernel answers `Unsupported` naming
//! the version that added it.

mod common;

use bridgekit::{Bridge, BridgeConfig, Error, MulticastRouter, PortConfig};
use common::*;
use serde_json::Value;

fn slave(port: &str) -> Value {
    ip_link(port).unwrap()["linkinfo"]["info_slave_data"].clone()
}

/// `uname -r` as (major, minor).
fn kernel() -> (u32, u32) {
    let r = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let mut it = r
        .trim()
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse().unwrap_or(0));
    (it.next().unwrap_or(0), it.next().unwrap_or(0))
}

#[test]
fn guest_port_options_are_set_read_back_and_reported() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?).await?;
        veth("p0", "p0peer");
        br.attach_port(
            "p0",
            PortConfig::new()
                .guard(true)
                .root_block(true)
                .proxy_arp(true)
                .vlan_tunnel(true)
                .multicast_router(MulticastRouter::Permanent)
                .multicast_fast_leave(true)
                .group_fwd_mask(1 << 14),
        )
        .await?;
        let s = slave("p0");
        assert_eq!(s["guard"], true, "{s}");
        assert_eq!(s["root_block"], true, "{s}");
        assert_eq!(s["proxy_arp"], true, "{s}");
        assert_eq!(s["vlan_tunnel"], true, "{s}");
        assert_eq!(s["multicast_router"], 2, "{s}");
        assert_eq!(s["fastleave"], true, "{s}");
        assert_eq!(s["group_fwd_mask"], "0x4000", "{s}");
        let p = br
            .ports()
            .await?
            .into_iter()
            .find(|p| p.name == "p0")
            .ok_or("no p0")?;
        assert!(p.guard && p.root_block && p.proxy_arp && p.multicast_fast_leave && p.vlan_tunnel);
        assert_eq!(p.multicast_router, MulticastRouter::Permanent);
        assert_eq!(p.group_fwd_mask, 1 << 14);

        // Changed back on a port that is already ours.
        br.attach_port(
            "p0",
            PortConfig::new()
                .guard(false)
                .root_block(false)
                .proxy_arp(false)
                .vlan_tunnel(false)
                .multicast_router(MulticastRouter::Disabled)
                .multicast_fast_leave(false)
                .group_fwd_mask(0),
        )
        .await?;
        let s = slave("p0");
        assert_eq!(s["guard"], false, "{s}");
        assert_eq!(s["root_block"], false, "{s}");
        assert_eq!(s["proxy_arp"], false, "{s}");
        assert_eq!(s["vlan_tunnel"], false, "{s}");
        assert_eq!(s["multicast_router"], 0, "{s}");
        assert_eq!(s["fastleave"], false, "{s}");
        assert_eq!(s["group_fwd_mask"], "0", "{s}");

        // The same through apply: a second apply changes nothing.
        let config = BridgeConfig::new("br0")?.port(
            "p0",
            PortConfig::new()
                .guard(true)
                .multicast_router(MulticastRouter::Temporary),
        );
        let applied = config.apply(&nl).await?;
        assert_eq!(applied.changes.len(), 1, "{:?}", applied.changes);
        assert_eq!(slave("p0")["multicast_router"], 3);
        assert!(config.apply(&nl).await?.changes.is_empty());
        Ok(())
    });
}

#[test]
fn locked_ports_where_the_kernel_has_them() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?).await?;
        veth("p0", "p0peer");
        let r = br
            .attach_port("p0", PortConfig::managed("52:54:00:00:44:01").locked(true))
            .await;
        if kernel() < (5, 18) {
            // The kernel drops an option it does not know and says Ok:
            // bridgekit reads back and says which kernel has it.
            match r {
                Err(Error::Unsupported { ref detail, .. }) => {
                    assert!(
                        detail.contains("locked") && detail.contains("5.18"),
                        "{detail}"
                    )
                }
                other => panic!("expected Unsupported before 5.18, got {other:?}"),
            }
            assert!(slave("p0").get("locked").is_none());
            assert!(
                ip_link("p0").unwrap().get("master").is_none(),
                "left attached"
            );
            return Ok(());
        }
        r?;
        assert_eq!(slave("p0")["locked"], true);
        assert_eq!(slave("p0")["learning"], false);
        let p = br
            .ports()
            .await?
            .into_iter()
            .find(|p| p.name == "p0")
            .ok_or("no p0")?;
        assert_eq!(p.locked, Some(true));
        br.attach_port("p0", PortConfig::new().locked(false))
            .await?;
        assert_eq!(slave("p0")["locked"], false);
        Ok(())
    });
}

/// Sets a flag newer than some tier kernels through `on`, checks it in the
/// raw view, reads it in `PortStatus` through `status`, and clears it
/// with `off`; below `since` the answer must be `Unsupported` naming
/// `what` (or `locked`, which `mab` needs and is older still).
async fn newer_flag(
    br: &Bridge,
    port: &str,
    (what, since, attr): (&str, (u32, u32), u16),
    on: PortConfig,
    off: PortConfig,
    status: fn(&bridgekit::PortStatus) -> Option<bool>,
) -> TestResult {
    veth(port, &format!("{port}peer"));
    let r = br.attach_port(port, on).await;
    if kernel() < since {
        match r {
            Err(Error::Unsupported { ref detail, .. }) => assert!(
                (detail.contains(what) && detail.contains(&format!("{}.{}", since.0, since.1)))
                    || (kernel() < (5, 18) && detail.contains("locked")),
                "{detail}"
            ),
            other => panic!("expected Unsupported for {what} before {since:?}, got {other:?}"),
        }
        assert_eq!(common::raw::brport_flag(port, attr), None);
        assert!(
            ip_link(port).unwrap().get("master").is_none(),
            "left attached"
        );
        return Ok(());
    }
    r?;
    assert_eq!(common::raw::brport_flag(port, attr), Some(true), "{what}");
    if let Some(v) = slave(port).get(what) {
        assert_eq!(v, true, "iproute2's view of {what}");
    }
    let p = br
        .ports()
        .await?
        .into_iter()
        .find(|p| p.name == port)
        .ok_or("no port")?;
    assert_eq!(status(&p), Some(true), "{what} in PortStatus");
    br.attach_port(port, off).await?;
    assert_eq!(common::raw::brport_flag(port, attr), Some(false), "{what}");
    Ok(())
}

#[test]
fn mab_where_the_kernel_has_it() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?).await?;
        newer_flag(
            &br,
            "p0",
            ("mab", (6, 2), common::raw::IFLA_BRPORT_MAB),
            PortConfig::new().locked(true).mab(true),
            PortConfig::new().mab(false),
            |p| p.mab,
        )
        .await
    });
}

#[test]
fn per_vlan_neighbour_suppression_where_the_kernel_has_it() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?).await?;
        newer_flag(
            &br,
            "p0",
            (
                "neigh_vlan_suppress",
                (6, 4),
                common::raw::IFLA_BRPORT_NEIGH_VLAN_SUPPRESS,
            ),
            PortConfig::new().neigh_vlan_suppress(true),
            PortConfig::new().neigh_vlan_suppress(false),
            |p| p.neigh_vlan_suppress,
        )
        .await
    });
}

#[test]
fn a_backup_port_is_another_port_of_the_same_bridge() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?).await?;
        for p in ["p0", "p1", "p2"] {
            veth(p, &format!("{p}peer"));
        }
        // Not (yet) a port of br0: refused, and p0 is left as it was.
        let err = br
            .attach_port("p0", PortConfig::new().backup_port("p1"))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
        assert!(
            err.to_string().contains("not a port of bridge br0"),
            "{err}"
        );
        assert!(ip_link("p0").unwrap().get("master").is_none());
        // Its own backup: refused too.
        br.attach_port("p1", PortConfig::new()).await?;
        let err = br
            .attach_port("p1", PortConfig::new().backup_port("p1"))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("its own backup"), "{err}");
        assert!(slave("p1").get("backup_port").is_none());
        br.attach_port("p0", PortConfig::new().backup_port("p1"))
            .await?;
        assert_eq!(slave("p0")["backup_port"], "p1");
        assert_eq!(
            common::raw::brport_attr("p0", common::raw::IFLA_BRPORT_BACKUP_PORT),
            ip_link("p1").unwrap()["ifindex"]
                .as_u64()
                .map(|i| (i as u32).to_ne_bytes().to_vec())
        );
        let status = |ports: Vec<bridgekit::PortStatus>| {
            ports
                .into_iter()
                .find(|p| p.name == "p0")
                .and_then(|p| p.backup_port)
                .map(|n| n.to_string())
        };
        assert_eq!(status(br.ports().await?).as_deref(), Some("p1"));
        br.attach_port("p0", PortConfig::new().no_backup_port())
            .await?;
        assert!(slave("p0").get("backup_port").is_none());
        assert_eq!(status(br.ports().await?), None);
        // Declared before its backup, in a config: apply attaches the
        // backup first, and a second apply changes nothing.
        let config = BridgeConfig::new("br0")?
            .port("p2", PortConfig::new().backup_port("p0"))
            .port("p0", PortConfig::new().backup_port("p1"))
            .port("p1", PortConfig::new());
        config.apply(&nl).await?;
        assert_eq!(slave("p0")["backup_port"], "p1");
        assert_eq!(slave("p2")["backup_port"], "p0");
        assert!(config.apply(&nl).await?.changes.is_empty());
        Ok(())
    });
}

#[test]
fn bad_port_options_are_refused_before_any_request() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?).await?;
        veth("p0", "p0peer");
        let sent = nl.requests_sent();
        let err = br
            .attach_port("p0", PortConfig::new().group_fwd_mask(0x0002))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
        assert!(err.to_string().contains("pause"), "{err}");
        let err = br
            .attach_port(
                "p0",
                PortConfig::new().multicast_router(MulticastRouter::Other(7)),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
        // MAC authentication bypass only on a locked port that learns.
        for config in [
            PortConfig::new().mab(true),
            PortConfig::new().locked(true).learning(false).mab(true),
        ] {
            let err = br.attach_port("p0", config).await.unwrap_err();
            assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
            assert!(err.to_string().contains("locked(true)"), "{err}");
        }
        let err = br
            .attach_port("p0", PortConfig::new().backup_port("bad/name"))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
        // A bridge takes no temporary router mode.
        let err = br
            .set_option(bridgekit::BridgeOption::MulticastRouter(
                MulticastRouter::Temporary,
            ))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
        assert_eq!(nl.requests_sent(), sent, "bad input reached the kernel");
        assert!(ip_link("p0").unwrap().get("master").is_none());
        Ok(())
    });
}

/// Anti-spoofing with real frames: a guest on a port locked to its MAC
/// reaches its neighbour from its own MAC, and no one from another.
#[test]
fn a_locked_guest_port_drops_spoofed_source_macs() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?).await?;
        br.up().await?;
        let guests: Vec<PeerNetns> = (0..2).map(|_| PeerNetns::new()).collect();
        let mut results = Vec::new();
        for (i, guest) in guests.iter().enumerate() {
            let (port, inner) = (format!("p{i}"), format!("g{i}"));
            let mac = format!("52:54:00:00:55:0{}", i + 1);
            veth(&port, &inner);
            sh(&["ip", "link", "set", &inner, "netns", &guest.tid()]);
            guest.sh(&["ip", "link", "set", &inner, "address", &mac]);
            guest.sh(&[
                "ip",
                "addr",
                "add",
                &format!("10.0.5.{}/24", i + 1),
                "dev",
                &inner,
            ]);
            guest.sh(&["ip", "link", "set", &inner, "up"]);
            results.push(
                br.attach_port(port.as_str(), PortConfig::managed_locked(mac.as_str()).up())
                    .await,
            );
        }
        if kernel() < (5, 18) {
            for r in results {
                assert!(matches!(r, Err(Error::Unsupported { .. })), "{r:?}");
            }
            return Ok(());
        }
        for r in results {
            r?;
        }
        assert_eq!(slave("p0")["locked"], true);
        wait_forwarding("p0").await;
        wait_forwarding("p1").await;
        assert!(
            ping(&guests[0], "10.0.5.2"),
            "the guest's own MAC must pass"
        );
        // The guest takes another MAC: its frames are dropped at the port.
        // Seen from the neighbour: an ARP request that reached it would
        // leave the spoofed MAC in its neighbour table (replies to it are
        // not the proof: with unicast flood off they find no way back).
        guests[0].sh(&["ip", "link", "set", "g0", "address", "52:54:00:00:55:99"]);
        guests[0].sh(&["ip", "neigh", "flush", "dev", "g0"]);
        guests[1].sh(&["ip", "neigh", "flush", "dev", "g1"]);
        assert!(
            !ping(&guests[0], "10.0.5.2"),
            "a spoofed source MAC got through"
        );
        let seen = guests[1].sh(&["ip", "neigh", "show", "dev", "g1"]);
        assert!(
            !seen.contains("52:54:00:00:55:99"),
            "the neighbour received frames from the spoofed MAC: {seen}"
        );
        // Its own MAC works again.
        guests[0].sh(&["ip", "link", "set", "g0", "address", "52:54:00:00:55:01"]);
        guests[0].sh(&["ip", "neigh", "flush", "dev", "g0"]);
        assert!(
            ping(&guests[0], "10.0.5.2"),
            "the guest's own MAC must pass again"
        );
        Ok(())
    });
}

/// The proof that a port option is one row of the table
/// (`values/port_option.rs`): `mcast_to_unicast` was added as a row and
/// nothing else in src/. Set through `option`, it reads back in `ip -j
/// -d link`, in status and in documents, `apply` converges it with a
/// `Change`, and a failure at any step of that `apply` puts everything
/// back.
#[test]
fn a_port_option_added_as_a_table_row_works_end_to_end() {
    use bridgekit::{Change, PortOption, PortOptionKind};
    netns_test(|nl| async move {
        veth("p0", "p0peer");
        let with = |on: bool| {
            BridgeConfig::new("br0")
                .unwrap()
                .mac("52:54:00:00:16:03")
                .port(
                    "p0",
                    PortConfig::new().option(PortOption::MulticastToUnicast(on)),
                )
        };
        let br = Bridge::create(&nl, with(true)).await?;
        assert_eq!(slave("p0")["mcast_to_unicast"], true);
        let port = |ports: Vec<bridgekit::PortStatus>| ports.into_iter().find(|p| p.name == "p0");
        let p = port(br.ports().await?).ok_or("no p0")?;
        assert_eq!(
            p.option(PortOptionKind::MulticastToUnicast),
            Some(PortOption::MulticastToUnicast(true))
        );
        assert_eq!(
            PortOption::MulticastToUnicast(true).to_string(),
            "mcast_to_unicast on"
        );

        // Any step of apply fails: what it changed before goes back.
        let steps = fail_each_step(
            &nl,
            "apply of the new port option",
            || async {
                with(true).apply(&nl).await.unwrap();
            },
            || async { with(false).mtu(1400).apply(&nl).await.map(|_| ()) },
            || async {},
        )
        .await;
        assert!(steps >= 2, "only {steps} steps");
        with(true).apply(&nl).await?;

        let applied = with(false).apply(&nl).await?;
        assert_eq!(
            applied.changes,
            [Change::PortReconfigured(bridgekit::IfName::new("p0")?)]
        );
        assert_eq!(slave("p0")["mcast_to_unicast"], false);
        assert!(with(false).apply(&nl).await?.changes.is_empty());

        #[cfg(feature = "serde")]
        {
            let json = serde_json::to_value(with(true))?;
            assert_eq!(json["ports"][0]["multicast_to_unicast"], true, "{json}");
            let back: BridgeConfig = bridgekit::from_deserializer(json.clone())?;
            assert_eq!(back, with(true));
            let status = serde_json::to_value(br.status().await?)?;
            assert_eq!(
                status["ports"][0]["options"]["multicast_to_unicast"], false,
                "{status}"
            );
        }
        Ok(())
    });
}

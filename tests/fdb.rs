//! Static FDB entries and the managed-MAC-table port mode, checked with `bridge -j fdb show`.

mod common;

use bridgekit::{Bridge, BridgeConfig, Error, FdbKind, PortConfig, VlanId};
use common::*;
use serde_json::Value;

const GUEST: &str = "52:54:00:aa:bb:01";

/// `bridge -j fdb show br BRIDGE` entries for `mac`.
fn fdb_entries(bridge: &str, mac: &str) -> Vec<Value> {
    let v: Value =
        serde_json::from_str(&sh(&["bridge", "-j", "fdb", "show", "br", bridge])).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .filter(|e| e["mac"] == mac)
        .cloned()
        .collect()
}

#[test]
fn managed_port_has_no_learning_no_flood_and_a_static_entry_until_detach() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?).await?;
        veth("vnet0", "guest0");
        br.attach_port("vnet0", PortConfig::managed(GUEST).up())
            .await?;
        let slave = ip_link("vnet0").unwrap()["linkinfo"]["info_slave_data"].clone();
        assert_eq!(slave["learning"], false);
        assert_eq!(slave["flood"], false);
        // One entry without VLAN; a kernel with VLAN filtering support also
        // copies it into each VLAN of the port (VLAN 1, the default PVID).
        let entries = fdb_entries("br0", GUEST);
        assert!(
            entries.iter().any(|e| e.get("vlan").is_none()),
            "{entries:?}"
        );
        for e in &entries {
            assert_eq!(e["ifname"], "vnet0", "{entries:?}");
            assert_eq!(e["state"], "static", "{entries:?}");
            assert_eq!(e["master"], "br0", "{entries:?}");
        }
        // Our own view agrees.
        let ours: Vec<_> = br
            .fdb()
            .await?
            .into_iter()
            .filter(|e| e.mac.to_string().eq_ignore_ascii_case(GUEST))
            .collect();
        assert_eq!(ours.len(), entries.len(), "{ours:?}");
        assert!(
            ours.iter()
                .all(|e| e.port == "vnet0" && e.kind == FdbKind::Static)
        );
        assert!(ours.iter().any(|e| e.vlan.is_none()));
        // Attaching again with the same config is harmless.
        br.attach_port("vnet0", PortConfig::managed(GUEST)).await?;
        assert_eq!(fdb_entries("br0", GUEST).len(), entries.len());
        br.detach_port("vnet0").await?;
        assert!(
            fdb_entries("br0", GUEST).is_empty(),
            "entry left after detach"
        );
        Ok(())
    });
}

#[test]
fn add_and_remove_static_entries() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?).await?;
        veth("p0", "p0peer");
        veth("p1", "p1peer");
        br.attach_port("p0", PortConfig::new()).await?;
        br.attach_port("p1", PortConfig::new()).await?;
        let mac: bridgekit::macaddr::MacAddr6 = GUEST.parse().unwrap();
        let on = |port: &str| {
            let entries = fdb_entries("br0", GUEST);
            !entries.is_empty() && entries.iter().all(|e| e["ifname"] == port)
        };
        br.add_fdb("p0", mac, None).await?;
        assert!(on("p0"));
        // Replace semantics: the entry moves to p1.
        br.add_fdb("p1", mac, None).await?;
        assert!(on("p1"), "{:?}", fdb_entries("br0", GUEST));
        br.remove_fdb("p1", mac, None).await?;
        assert!(fdb_entries("br0", GUEST).is_empty());
        let err = br.remove_fdb("p1", mac, None).await.unwrap_err();
        assert!(matches!(err, Error::NoSuchEntry { .. }), "{err}");
        assert_eq!(
            err.to_string(),
            format!(
                "remove FDB entry from p1: FDB entry {} not present",
                GUEST.to_uppercase()
            )
        );
        // Entries only on our own ports; bad MACs before any traffic.
        veth("lone", "lonepeer");
        assert!(matches!(
            br.add_fdb("lone", mac, None).await.unwrap_err(),
            Error::NotAPort { .. }
        ));
        let sent = nl.requests_sent();
        let bad = br
            .add_fdb("p0", "01:00:5e:00:00:01", None)
            .await
            .unwrap_err();
        assert!(matches!(bad, Error::InvalidInput { .. }), "{bad}");
        assert_eq!(nl.requests_sent(), sent);
        // A VLAN the port is not in (no VLAN filtering here, or not a member) is refused by the kernel.
        let e = br
            .add_fdb("p0", mac, Some(VlanId::new(10)?))
            .await
            .unwrap_err();
        assert!(e.errno().is_some(), "{e}");
        assert!(fdb_entries("br0", GUEST).is_empty());
        Ok(())
    });
}

#[test]
fn fdb_lists_local_entries_of_ports_only_for_this_bridge() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?).await?;
        let other = Bridge::create(&nl, BridgeConfig::new("br1")?).await?;
        veth("p0", "p0peer");
        veth("q0", "q0peer");
        br.attach_port("p0", PortConfig::new()).await?;
        other.attach_port("q0", PortConfig::new()).await?;
        let p0_mac = ip_link("p0").unwrap()["address"]
            .as_str()
            .unwrap()
            .to_string();
        let entries = br.fdb().await?;
        assert!(
            entries.iter().any(|e| e.port == "p0"
                && e.kind == FdbKind::Local
                && e.mac.to_string().eq_ignore_ascii_case(&p0_mac)),
            "{entries:?}"
        );
        assert!(entries.iter().all(|e| e.port != "q0"), "{entries:?}");
        Ok(())
    });
}

//! VLAN filtering and VLAN membership. On a kernel without
//! CONFIG_BRIDGE_VLAN_FILTERING (the host kernel here) every VLAN call must
//! say `Unsupported` and change nothing; on a kernel with it (the kernel
//! tier, `tools/kernel-tier/run`) the VLAN tests check membership with iproute2
//! and isolation with real traffic.

mod common;

use bridgekit::{
    Bridge, BridgeConfig, Error, PortConfig, VlanId, VlanMember, VlanProtocol, VlanRange,
};
use common::*;
use serde_json::Value;

/// Whether this kernel can filter VLANs on a bridge, asked of iproute2 in
/// the test's own namespace.
fn kernel_has_vlan_filtering() -> bool {
    let ok = sh_ok(&[
        "ip",
        "link",
        "add",
        "probe0",
        "type",
        "bridge",
        "vlan_filtering",
        "1",
    ]);
    if ok {
        sh(&["ip", "link", "del", "probe0"]);
    }
    ok
}

fn vid(v: u16) -> VlanId {
    VlanId::new(v).unwrap()
}

/// `bridge -j vlan show dev DEV`, merged here into ranges of equal flags
/// (iproute2's JSON lists single VLANs even with `-c`), as strings like
/// "10 pvid untagged" or "100-199".
fn bridge_vlans(dev: &str) -> Vec<String> {
    let v: Value =
        serde_json::from_str(&sh(&["bridge", "-j", "vlan", "show", "dev", dev])).unwrap();
    let mut ids: Vec<(u64, bool, bool)> = Vec::new();
    for link in v.as_array().unwrap() {
        for e in link["vlans"].as_array().unwrap() {
            let start = e["vlan"].as_u64().unwrap();
            let end = e.get("vlanEnd").and_then(Value::as_u64).unwrap_or(start);
            let flags: Vec<&str> = e["flags"]
                .as_array()
                .map(|f| f.iter().filter_map(|x| x.as_str()).collect())
                .unwrap_or_default();
            let pvid = flags.contains(&"PVID");
            let untagged = flags.contains(&"Egress Untagged");
            ids.extend((start..=end).map(|id| (id, pvid, untagged)));
        }
    }
    ids.sort();
    let mut out: Vec<(u64, u64, bool, bool)> = Vec::new();
    for (id, p, u) in ids {
        match out.last_mut() {
            Some(last) if !p && !last.2 && last.3 == u && last.1 + 1 == id => last.1 = id,
            _ => out.push((id, id, p, u)),
        }
    }
    out.into_iter()
        .map(|(a, b, p, u)| {
            let mut s = if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            };
            if p {
                s.push_str(" pvid");
            }
            if u {
                s.push_str(" untagged");
            }
            s
        })
        .collect()
}

#[test]
fn vlan_calls_without_kernel_support_are_unsupported_and_change_nothing() {
    netns_test(|nl| async move {
        if kernel_has_vlan_filtering() {
            skip(
                "this kernel has bridge VLAN filtering; the Unsupported path is for kernels without it (host tier)",
            );
            // Still check the positive answer, so this test asserts something here too.
            let br = Bridge::create(&nl, BridgeConfig::new("br0")?).await?;
            br.set_vlan_filtering(true).await?;
            assert_eq!(
                ip_link("br0").unwrap()["linkinfo"]["info_data"]["vlan_filtering"],
                1
            );
            return Ok(());
        }
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?).await?;
        veth("p0", "p0peer");
        br.attach_port("p0", PortConfig::new()).await?;
        let before = ip_link("br0").unwrap()["linkinfo"]["info_data"].clone();

        let e = br.set_vlan_filtering(true).await.unwrap_err();
        assert!(matches!(e, Error::Unsupported { .. }), "{e}");
        assert!(
            e.to_string().contains("CONFIG_BRIDGE_VLAN_FILTERING"),
            "{e}"
        );
        assert!(matches!(
            br.set_default_pvid(Some(vid(10))).await.unwrap_err(),
            Error::Unsupported { .. }
        ));
        assert!(matches!(
            br.set_vlan_protocol(VlanProtocol::Dot1Ad)
                .await
                .unwrap_err(),
            Error::Unsupported { .. }
        ));
        let e = br
            .add_vlans("p0", &[VlanMember::access(vid(10))])
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Unsupported { .. }), "{e}");
        let e = br
            .add_vlans("br0", &[VlanMember::tagged(VlanRange::all())])
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Unsupported { .. }), "{e}");
        // A port config with VLANs fails and leaves the port detached.
        veth("p1", "p1peer");
        let e = br
            .attach_port("p1", PortConfig::new().vlan(VlanMember::access(vid(10))))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Unsupported { .. }), "{e}");
        assert!(ip_link("p1").unwrap().get("master").is_none());

        assert_eq!(ip_link("br0").unwrap()["linkinfo"]["info_data"], before);
        assert!(bridge_vlans("p0").is_empty());
        assert!(br.vlans("p0").await?.is_empty());
        assert!(!br.status().await?.vlan_filtering);
        Ok(())
    });
}

#[test]
fn bad_vlan_input_is_refused_before_any_traffic() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?).await?;
        veth("p0", "p0peer");
        br.attach_port("p0", PortConfig::new()).await?;
        assert!(VlanId::new(0).is_err());
        assert!(VlanId::new(4095).is_err());
        assert!(VlanRange::new(20, 10).is_err());
        assert!("0-10".parse::<VlanRange>().is_err());
        let sent = nl.requests_sent();
        let cases: Vec<(&str, Vec<VlanMember>)> = vec![
            ("empty", vec![]),
            (
                "pvid range",
                vec![VlanMember::tagged(VlanRange::new(10, 12)?).pvid()],
            ),
            (
                "two pvids",
                vec![VlanMember::access(vid(10)), VlanMember::access(vid(11))],
            ),
            (
                "overlap",
                vec![
                    VlanMember::tagged(VlanRange::new(10, 20)?),
                    VlanMember::tagged(VlanRange::new(20, 30)?).untagged(),
                ],
            ),
        ];
        for (what, members) in cases {
            let e = br.add_vlans("p0", &members).await.unwrap_err();
            assert!(matches!(e, Error::InvalidInput { .. }), "{what}: {e}");
        }
        let e = br.remove_vlans("p0", &[]).await.unwrap_err();
        assert!(matches!(e, Error::InvalidInput { .. }), "{e}");
        let e = br
            .attach_port(
                "p0",
                PortConfig::new().vlan(VlanMember::tagged(VlanRange::new(5, 6)?).pvid()),
            )
            .await
            .unwrap_err();
        assert!(matches!(e, Error::InvalidInput { .. }), "{e}");
        assert_eq!(
            nl.requests_sent(),
            sent,
            "input errors must not reach the kernel"
        );
        Ok(())
    });
}

#[test]
fn port_and_bridge_vlans_are_set_read_back_and_removed() {
    netns_test(|nl| async move {
        if !kernel_has_vlan_filtering() {
            // In the kernel tier a missing feature fails instead.
            lacks("bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING)");
            return Ok(());
        }
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?).await?;
        br.set_vlan_filtering(true).await?;
        br.set_default_pvid(None).await?;
        br.set_vlan_protocol(VlanProtocol::Dot1Q).await?;
        let info = ip_link("br0").unwrap()["linkinfo"]["info_data"].clone();
        assert_eq!(info["vlan_filtering"], 1);
        assert_eq!(info["vlan_default_pvid"], 0);
        let st = br.status().await?;
        assert!(st.vlan_filtering);
        assert_eq!(st.default_pvid, None);
        assert_eq!(st.vlan_protocol, Some(VlanProtocol::Dot1Q));

        veth("trunk0", "trunk0peer");
        br.attach_port("trunk0", PortConfig::new()).await?;
        // A whole trunk is one request to change, plus a constant number of reads.
        let sent = nl.requests_sent();
        br.add_vlans("trunk0", &[VlanMember::tagged(VlanRange::all())])
            .await?;
        assert_eq!(
            nl.requests_sent() - sent,
            4,
            "lookup, read, one change, read back"
        );
        assert_eq!(bridge_vlans("trunk0"), ["1-4094"]);
        assert_eq!(
            br.vlans("trunk0").await?,
            [VlanMember::tagged(VlanRange::all())]
        );
        br.remove_vlans("trunk0", &[VlanRange::new(100, 199)?])
            .await?;
        assert_eq!(bridge_vlans("trunk0"), ["1-99", "200-4094"]);
        // Access port: pvid + untagged, and new flags replace old ones.
        br.add_vlans("trunk0", &[VlanMember::access(vid(150))])
            .await?;
        assert_eq!(
            bridge_vlans("trunk0"),
            ["1-99", "150 pvid untagged", "200-4094"]
        );
        br.add_vlans("trunk0", &[VlanMember::tagged(vid(150))])
            .await?;
        assert_eq!(bridge_vlans("trunk0"), ["1-99", "150", "200-4094"]);
        // Removing VLANs that are not there is a no-op that says Ok.
        br.remove_vlans("trunk0", &[VlanRange::new(100, 120)?])
            .await?;
        // The bridge's own membership ("self").
        br.add_vlans("br0", &[VlanMember::access(vid(10))]).await?;
        assert_eq!(bridge_vlans("br0"), ["10 pvid untagged"]);
        assert_eq!(br.vlans("br0").await?, [VlanMember::access(vid(10))]);
        br.remove_vlans("br0", &[vid(10).into()]).await?;
        assert!(bridge_vlans("br0").is_empty());
        // ports() carries the VLANs iproute2 shows.
        let ports = br.ports().await?;
        let ours: Vec<String> = ports[0]
            .vlans
            .iter()
            .map(|m| m.to_string().trim_start_matches("vid ").to_string())
            .collect();
        assert_eq!(ours, bridge_vlans("trunk0"));
        Ok(())
    });
}

#[test]
fn vlans_isolate_real_traffic() {
    netns_test(|nl| async move {
        if !kernel_has_vlan_filtering() {
            // In the kernel tier a missing feature fails instead.
            lacks("bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING)");
            return Ok(());
        }
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?).await?;
        br.set_vlan_filtering(true).await?;
        br.up().await?;
        let hosts: Vec<PeerNetns> = (0..3).map(|_| PeerNetns::new()).collect();
        let vlan_of = [10, 10, 20];
        for (i, host) in hosts.iter().enumerate() {
            let port = format!("p{i}");
            let inner = format!("h{i}");
            veth(&port, &inner);
            sh(&["ip", "link", "set", &inner, "netns", &host.tid()]);
            host.sh(&[
                "ip",
                "addr",
                "add",
                &format!("10.0.0.{}/24", i + 1),
                "dev",
                &inner,
            ]);
            host.sh(&["ip", "link", "set", &inner, "up"]);
            let mac = format!("52:54:00:00:00:0{}", i + 1);
            host.sh(&["ip", "link", "set", &inner, "address", &mac]);
            br.attach_port(
                port.as_str(),
                PortConfig::managed(mac.as_str())
                    .vlan(VlanMember::access(vid(vlan_of[i])))
                    .up(),
            )
            .await?;
        }
        // The managed entry sits in the port's PVID VLAN.
        let fdb: Value =
            serde_json::from_str(&sh(&["bridge", "-j", "fdb", "show", "dev", "p0"])).unwrap();
        assert!(
            fdb.as_array()
                .unwrap()
                .iter()
                .any(|e| e["mac"] == "52:54:00:00:00:01"
                    && e["vlan"] == 10
                    && e["state"] == "static"),
            "{fdb}"
        );
        assert!(ping(&hosts[0], "10.0.0.2"), "same VLAN must pass");
        assert!(
            !ping(&hosts[0], "10.0.0.3"),
            "VLAN 10 must not reach VLAN 20"
        );
        // An 802.1Q sub-interface behind a trunk port reaches VLAN 10.
        let trunk_host = PeerNetns::new();
        veth("p3", "h3");
        sh(&["ip", "link", "set", "h3", "netns", &trunk_host.tid()]);
        br.attach_port(
            "p3",
            PortConfig::new()
                .vlan(VlanMember::tagged(vid(10)))
                .vlan(VlanMember::tagged(vid(20)))
                .up(),
        )
        .await?;
        trunk_host.sh(&["ip", "link", "set", "h3", "up"]);
        let net = format!("--net={}", trunk_host.path());
        if sh_ok(&[
            "nsenter", &net, "ip", "link", "add", "link", "h3", "name", "h3.10", "type", "vlan",
            "id", "10",
        ]) {
            trunk_host.sh(&["ip", "addr", "add", "10.0.0.4/24", "dev", "h3.10"]);
            trunk_host.sh(&["ip", "link", "set", "h3.10", "up"]);
            assert!(
                ping(&trunk_host, "10.0.0.1"),
                "tagged VLAN 10 over the trunk"
            );
            assert!(
                !ping(&trunk_host, "10.0.0.3"),
                "VLAN 10 must not reach VLAN 20 over the trunk"
            );
            // VLAN 1 is the default PVID every new port gets.
            assert_eq!(bridge_vlans("p3"), ["1 pvid untagged", "10", "20"]);
        } else {
            lacks("the vlan link kind (8021q)");
        }
        // Put the third host into VLAN 10 and it is reachable. Its port is
        // managed (no learning, no unicast flood), so it needs its static
        // entry in the new VLAN too.
        br.add_vlans("p2", &[VlanMember::access(vid(10))]).await?;
        br.remove_vlans("p2", &[vid(20).into()]).await?;
        br.add_fdb("p2", "52:54:00:00:00:03", Some(vid(10))).await?;
        assert!(ping(&hosts[0], "10.0.0.3"), "after moving to VLAN 10");
        Ok(())
    });
}

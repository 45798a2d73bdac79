//! Container sandbox NICs: a veth pair, the host end on the bridge, the
//! other end named, addressed and up in the sandbox's namespace — proven
//! with real traffic; and nothing of it left behind by any failure, in
//! either namespace.

mod common;

use bridgekit::{Bridge, BridgeConfig, Error, PortConfig, VethNic, VethNicConfig};
use common::*;
use serde_json::Value;

/// The links of the peer namespace, as iproute2 sees them.
fn peer_links(peer: &PeerNetns) -> Vec<String> {
    let v: Value = serde_json::from_str(&peer.sh(&["ip", "-j", "link", "show"])).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|l| l["ifname"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_sandbox_nic_is_set_up_whole_and_talks_to_the_bridge() {
    netns_test(|nl| async move {
        let br = Bridge::create(
            &nl,
            BridgeConfig::new("br0")?
                .mac("52:54:00:00:88:01")
                .address("10.0.8.1/24"),
        )
        .await?;
        let peer = PeerNetns::new();
        let nic = VethNic::create(
            &br,
            VethNicConfig::new(peer.path())
                .name("eth0")
                .mac("52:54:00:00:88:02")
                .mtu(1400)
                .address("10.0.8.2/24")
                .port(PortConfig::new().up()),
        )
        .await?;
        assert_eq!(nic.name(), "eth0");
        // Inside: named, MAC, MTU, address, up.
        let inside: Value =
            serde_json::from_str(&peer.sh(&["ip", "-j", "addr", "show", "dev", "eth0"])).unwrap();
        let eth0 = &inside[0];
        assert_eq!(eth0["address"], "52:54:00:00:88:02", "{eth0}");
        assert_eq!(eth0["mtu"], 1400, "{eth0}");
        assert!(
            eth0["flags"].as_array().unwrap().iter().any(|f| f == "UP"),
            "{eth0}"
        );
        assert!(
            eth0["addr_info"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["local"] == "10.0.8.2" && a["prefixlen"] == 24),
            "{eth0}"
        );
        // Outside: a port of br0, same MTU.
        let host = ip_link(nic.host_name().as_str()).ok_or("host end missing")?;
        assert_eq!(host["master"], "br0");
        assert_eq!(host["mtu"], 1400);
        // Real traffic from the sandbox to the bridge.
        br.wait_forwarding(nic.host_name(), std::time::Duration::from_secs(5))
            .await?;
        assert!(
            ping(&peer, "10.0.8.1"),
            "the sandbox cannot reach the bridge"
        );
        let host_name = nic.host_name().to_string();
        nic.delete().await?;
        assert!(ip_link(&host_name).is_none());
        assert!(
            !peer_links(&peer).contains(&"eth0".to_string()),
            "the sandbox end stayed"
        );
        Ok(())
    });
}

#[test]
fn a_name_taken_in_the_sandbox_leaves_nothing_behind() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?).await?;
        let peer = PeerNetns::new();
        peer.sh(&[
            "ip", "link", "add", "eth0", "type", "veth", "peer", "name", "other0",
        ]);
        let (before_here, before_there) = (kernel_state(), peer_links(&peer));
        let ns = std::fs::File::open(peer.path())?;
        let err = VethNic::create(
            &br,
            VethNicConfig::for_fd(std::os::fd::AsFd::as_fd(&ns)).address("10.0.9.2/24"),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, Error::AlreadyExists { .. }), "{err}");
        assert_eq!(kernel_state(), before_here, "a veth end stayed here");
        assert_eq!(
            peer_links(&peer),
            before_there,
            "a veth end stayed in the sandbox"
        );
        Ok(())
    });
}

#[test]
fn every_failing_step_leaves_both_namespaces_as_they_were() {
    netns_test(|nl| async move {
        // A fixed MAC: a bridge without one takes its first port's, and
        // keeps it after the port leaves (the kernel's, not our, leftover).
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?.mac("52:54:00:00:99:01")).await?;
        let peer = PeerNetns::new();
        let config = || {
            VethNicConfig::new(peer.path())
                .name("eth0")
                .host_name("vbtest0")
                .mac("52:54:00:00:99:02")
                .mtu(1450)
                .address("10.0.9.2/24")
                .address("fd00:9::2/64")
                .port(PortConfig::managed("52:54:00:00:99:02").up())
        };
        let mut steps = 0;
        for step in 0.. {
            let (before_here, before_there) = (kernel_state(), peer_links(&peer));
            nl.inject_fault(step, libc::EBUSY);
            let result = VethNic::create(&br, config()).await;
            nl.finish_pending().await;
            if nl.fault_pending() {
                nl.clear_fault();
                result?.delete().await?;
                steps = step;
                break;
            }
            let err = result.expect_err("a failing step must fail the call");
            assert_eq!(err.errno(), Some(libc::EBUSY), "step {step}: {err}");
            assert_eq!(
                kernel_state(),
                before_here,
                "step {step} left something here"
            );
            assert_eq!(
                peer_links(&peer),
                before_there,
                "step {step} left something in the sandbox"
            );
        }
        assert!(
            steps >= 8,
            "only {steps} steps: the sweep did not cover the call"
        );
        Ok(())
    });
}

#[test]
fn bad_input_is_refused_before_any_request() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?).await?;
        let peer = PeerNetns::new();
        let sent = nl.requests_sent();
        let cases = [
            (VethNicConfig::new(peer.path()).name("a/b"), "'/'"),
            (VethNicConfig::new(peer.path()).host_name(""), "empty"),
            (
                VethNicConfig::new(peer.path()).mac("01:00:5e:00:00:01"),
                "multicast",
            ),
            (VethNicConfig::new(peer.path()).mac("zz"), "six hex bytes"),
            (VethNicConfig::new(peer.path()).mtu(10), "MTU 10"),
            (
                VethNicConfig::new(peer.path()).address("10.0.0.1"),
                "ADDRESS/PREFIX_LENGTH",
            ),
            (
                VethNicConfig::new(peer.path()).port(PortConfig::new().cost(0)),
                "port cost",
            ),
        ];
        for (config, needle) in cases {
            let err = VethNic::create(&br, config).await.unwrap_err();
            assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
            assert!(err.to_string().contains(needle), "{err} lacks {needle}");
        }
        assert_eq!(nl.requests_sent(), sent, "bad input reached the kernel");
        let err = VethNic::create(&br, VethNicConfig::new("/nonexistent/ns"))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Io { .. }), "{err}");
        Ok(())
    });
}

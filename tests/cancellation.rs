//! Cancellation: the futures of create, attach_port, attach_ports and
//! wait_dad are dropped at random points (after a random number of polls,
//! each poll letting the netlink connection make progress), thousands of
//! times (a tenth of that in the emulated kernel tier). Multi-step operations run on a task of their own, so after a drop
//! each must end whole: fully done, or not at all.

mod common;

use std::time::Duration;

use bridgekit::{Bridge, BridgeConfig, PortConfig};
use common::*;

/// How many more descriptors than at its start a test here may see at
/// its end: what the binary's other tests hold open meanwhile (a 5.10
/// tier run saw 22 more), not a leak, which would be one per run.
const FD_SLACK: usize = 64;

#[test]
fn dropped_create_leaves_a_whole_bridge_or_none() {
    netns_test(|nl| async move {
        let mut rng = Rng(0x5eed_0001);
        let runs = scaled(400);
        let (mut whole, mut none) = (0, 0);
        for i in 0..runs {
            let name = format!("brc{i}");
            let cfg = BridgeConfig::new(&name)?
                .mac("52:54:00:00:10:01")
                .mtu(1400)
                .stp(true)
                .forward_delay(Duration::from_secs(4));
            let polls = rng.below(60);
            let _ = poll_then_drop(Bridge::create(&nl, cfg), polls).await;
            nl.finish_pending().await;
            match ip_link(&name) {
                None => none += 1,
                Some(link) => {
                    // Whole: every setting of the config, and the EUI-64 link-local.
                    assert_eq!(link["address"], "52:54:00:00:10:01", "{name}: {link}");
                    assert_eq!(link["mtu"], 1400, "{name}");
                    assert_eq!(link["linkinfo"]["info_data"]["stp_state"], 1, "{name}");
                    assert_eq!(
                        link["linkinfo"]["info_data"]["forward_delay"], 400,
                        "{name}"
                    );
                    assert!(
                        ip_addr(&name, "fe80::5054:ff:fe00:1001").is_some(),
                        "{name}"
                    );
                    whole += 1;
                }
            }
        }
        eprintln!("create dropped at random points: {whole} whole, {none} none, of {runs}");
        assert_eq!(whole + none, runs);
        if !in_kernel_tier() {
            assert!(
                whole > 0 && none > 0,
                "the drops did not spread: {whole} whole, {none} none"
            );
        }
        Ok(())
    });
}

#[test]
fn dropped_attach_leaves_a_whole_port_or_the_old_one() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?.mac("52:54:00:00:10:02")).await?;
        veth("p0", "p0peer");
        veth("p1", "p1peer");
        let mut rng = Rng(0x5eed_0002);
        let runs = scaled(1500);
        let (mut whole, mut old) = (0, 0);
        let fds = open_fds();
        for _ in 0..runs {
            let polls = rng.below(40);
            let bulk = rng.below(2) == 0;
            let cfg = || {
                PortConfig::managed("52:54:00:00:10:03")
                    .hairpin(true)
                    .cost(44)
            };
            if bulk {
                let _ =
                    poll_then_drop(br.attach_ports([("p0", cfg()), ("p1", cfg())]), polls).await;
            } else {
                let _ = poll_then_drop(br.attach_port("p0", cfg()), polls).await;
            }
            nl.finish_pending().await;
            let attached: Vec<bool> = ["p0", "p1"]
                .iter()
                .map(|p| {
                    let link = ip_link(p).unwrap();
                    match link.get("master") {
                        None => false,
                        Some(_) => {
                            let s = &link["linkinfo"]["info_slave_data"];
                            assert_eq!(s["learning"], false, "{p} half configured: {s}");
                            assert_eq!(s["flood"], false, "{p} half configured: {s}");
                            assert_eq!(s["hairpin"], true, "{p} half configured: {s}");
                            assert_eq!(s["cost"], 44, "{p} half configured: {s}");
                            true
                        }
                    }
                })
                .collect();
            if bulk {
                assert_eq!(
                    attached[0], attached[1],
                    "attach_ports left one port of two"
                );
            } else {
                assert!(!attached[1]);
            }
            if attached[0] {
                whole += 1;
            } else {
                old += 1;
            }
            br.detach_ports(
                ["p0", "p1"]
                    .into_iter()
                    .zip(attached)
                    .filter_map(|(p, a)| a.then_some(p)),
            )
            .await?;
        }
        eprintln!("attach dropped at random points: {whole} whole, {old} as before, of {runs}");
        if !in_kernel_tier() {
            assert!(whole > 0 && old > 0, "the drops did not spread");
        }
        // Other tests of this binary open and close descriptors meanwhile
        // (each one's namespace, connections and helpers: 20 and more at
        // once under the tier's emulated CPU): a leak here would be one per
        // run, far beyond the slack.
        assert!(
            open_fds() <= fds + FD_SLACK,
            "file descriptors leaked: {fds} -> {}",
            open_fds()
        );
        Ok(())
    });
}

#[test]
fn dropped_wait_dad_changes_nothing_and_leaks_nothing() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?.mac("52:54:00:00:10:04")).await?;
        br.add_address("fd00:10::1/64").await?;
        let before = kernel_state();
        let fds = open_fds();
        let mut rng = Rng(0x5eed_0003);
        for _ in 0..scaled(2000) {
            let polls = rng.below(8);
            let _ = poll_then_drop(br.wait_dad(Duration::from_secs(5)), polls).await;
        }
        nl.finish_pending().await;
        // As above: a leak would be one per run (200 in the tier, 2,000 on
        // the host), the other tests' descriptors at most a few dozen.
        assert!(
            open_fds() <= fds + FD_SLACK,
            "file descriptors leaked: {fds} -> {}",
            open_fds()
        );
        let after = kernel_state();
        assert_eq!(before["links"], after["links"]);
        Ok(())
    });
}

//! Soak: a bounded randomized run of create, delete, attach (plain,
//! managed, bulk), detach, FDB and address operations over a small set of
//! bridges and ports, with injected kernel failures and futures dropped at
//! random points. Every failed multi-step call must leave the namespace as
//! it was; the run ends with nothing leaked: no bridge, no port still
//! enslaved, no FDB entry, no file descriptor.
//!
//! `cargo test --test soak` runs 300 operations; set BRIDGEKIT_SOAK_OPS
//! (e.g. 10000) for a long run.

mod common;

use std::time::Duration;

use bridgekit::{Bridge, BridgeConfig, Error, Netlink, PortConfig};
use common::*;

const BRIDGES: [&str; 3] = ["sb0", "sb1", "sb2"];
const PORTS: [&str; 6] = ["sv0", "sv1", "sv2", "sv3", "sv4", "sv5"];

fn bridge_config(i: usize, rng: &mut Rng) -> BridgeConfig {
    let mut c = BridgeConfig::new(BRIDGES[i])
        .unwrap()
        .mac(format!("52:54:00:5a:00:0{i}"));
    if rng.chance(50) {
        c = c.mtu(1400 + rng.below(100) as u32);
    }
    if rng.chance(30) {
        c = c
            .stp(true)
            .forward_delay(Duration::from_secs(2 + rng.below(5)));
    }
    c
}

fn port_config(rng: &mut Rng) -> PortConfig {
    let mut c = if rng.chance(40) {
        PortConfig::managed(format!("52:54:00:5b:00:{:02x}", rng.below(200)))
    } else {
        PortConfig::new()
    };
    if rng.chance(50) {
        c = c.hairpin(rng.chance(50)).cost(1 + rng.below(1000) as u32);
    }
    if rng.chance(30) {
        c = c.up();
    }
    c
}

/// One random operation. Returns whether it promises "all or nothing".
async fn one_op(nl: &Netlink, rng: &mut Rng) -> (bool, Result<(), Error>) {
    let b = rng.below(BRIDGES.len() as u64) as usize;
    let p = PORTS[rng.below(PORTS.len() as u64) as usize];
    let open = || Bridge::open(nl, BRIDGES[b]);
    match rng.below(9) {
        0 | 1 => (
            true,
            Bridge::create(nl, bridge_config(b, rng)).await.map(drop),
        ),
        2 => (
            false,
            async { open().await?.delete().await.map(drop) }.await,
        ),
        3 | 4 => {
            let cfg = port_config(rng);
            (
                true,
                async { open().await?.attach_port(p, cfg).await }.await,
            )
        }
        5 => {
            let q = PORTS[rng.below(PORTS.len() as u64) as usize];
            let list: Vec<(&str, PortConfig)> = if p == q {
                vec![(p, port_config(rng))]
            } else {
                vec![(p, port_config(rng)), (q, port_config(rng))]
            };
            (true, async { open().await?.attach_ports(list).await }.await)
        }
        6 => (false, async { open().await?.detach_port(p).await }.await),
        7 => {
            let mac: bridgekit::macaddr::MacAddr6 = format!("52:54:00:5c:00:{:02x}", rng.below(50))
                .parse()
                .unwrap();
            (
                false,
                async { open().await?.add_fdb(p, mac, None).await }.await,
            )
        }
        _ => {
            let addr = format!("10.77.{b}.{}/24", 1 + rng.below(200));
            (
                false,
                async { open().await?.add_address(addr.as_str()).await }.await,
            )
        }
    }
}

#[test]
fn randomized_operations_leave_nothing_behind() {
    netns_test(|nl| async move {
        let ops: usize = std::env::var("BRIDGEKIT_SOAK_OPS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(scaled(300));
        for p in PORTS {
            veth(p, &format!("{p}p"));
        }
        let fds = open_fds();
        let mut rng = Rng(0x50a6_2026);
        let (mut faults, mut drops, mut refused) = (0, 0, 0);
        for n in 0..ops {
            let before = kernel_state();
            let fault = rng.chance(25);
            if fault {
                nl.inject_fault(rng.below(6), libc::EBUSY);
            }
            if rng.chance(15) {
                // Dropped at a random point: the operation still ends whole.
                let polls = rng.below(30);
                let mut local = Rng(rng.below(u64::MAX) | 1);
                let _ = poll_then_drop(one_op(&nl, &mut local), polls).await;
                nl.finish_pending().await;
                drops += 1;
            } else {
                let (whole, result) = one_op(&nl, &mut rng).await;
                match result {
                    Err(e) if e.errno() == Some(libc::EBUSY) && fault => {
                        faults += 1;
                        if whole {
                            assert_eq!(
                                kernel_state(),
                                before,
                                "op {n}: a failed call left the namespace changed ({e})"
                            );
                        }
                    }
                    Err(_) => refused += 1, // AlreadyExists, NotFound, PortBusy, ...
                    Ok(()) => {}
                }
            }
            nl.clear_fault();
        }
        // Tear down through the API, then check for leftovers.
        nl.finish_pending().await;
        for b in BRIDGES {
            if let Ok(br) = Bridge::open(&nl, b).await {
                br.delete().await?;
            }
        }
        let links = ip_link_names();
        let mut expected: Vec<String> = PORTS
            .iter()
            .flat_map(|p| [p.to_string(), format!("{p}p")])
            .collect();
        expected.push("lo".into());
        expected.sort();
        let mut got = links.clone();
        got.sort();
        assert_eq!(got, expected, "leaked links");
        for p in PORTS {
            assert!(
                ip_link(p).unwrap().get("master").is_none(),
                "{p} still enslaved"
            );
        }
        let fdb = sh(&["bridge", "fdb", "show"]);
        assert!(!fdb.contains("master"), "leaked FDB entries:\n{fdb}");
        assert!(
            open_fds() <= fds + 16,
            "file descriptors leaked: {fds} -> {}",
            open_fds()
        );
        eprintln!(
            "soak: {ops} operations, {faults} injected failures, {drops} dropped futures, {refused} refusals"
        );
        Ok(())
    });
}

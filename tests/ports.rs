//! Attaching and detaching ports, their options, and the refusals.

mod common;

use bridgekit::{Bridge, BridgeConfig, Error, PortConfig, PortState};
use common::*;

fn slave(port: &str) -> serde_json::Value {
    ip_link(port).unwrap()["linkinfo"]["info_slave_data"].clone()
}

#[test]
fn attach_port_sets_master_and_every_option() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?).await?;
        veth("p0", "p0peer");
        let cfg = PortConfig::new()
            .learning(false)
            .unicast_flood(false)
            .multicast_flood(false)
            .broadcast_flood(false)
            .hairpin(true)
            .isolated(true)
            .neigh_suppress(true)
            .cost(77)
            .priority(9)
            .up();
        br.attach_port("p0", cfg).await?;
        let link = ip_link("p0").unwrap();
        assert_eq!(link["master"], "br0");
        assert!(admin_up(&link));
        let s = slave("p0");
        assert_eq!(s["learning"], false);
        assert_eq!(s["flood"], false);
        assert_eq!(s["mcast_flood"], false);
        assert_eq!(s["bcast_flood"], false);
        assert_eq!(s["hairpin"], true);
        assert_eq!(s["isolated"], true);
        assert_eq!(s["neigh_suppress"], true);
        assert_eq!(s["cost"], 77);
        assert_eq!(s["priority"], 9);
        // And cleared again on a port already attached.
        br.attach_port(
            "p0",
            PortConfig::new()
                .learning(true)
                .unicast_flood(true)
                .hairpin(false)
                .isolated(false),
        )
        .await?;
        let s = slave("p0");
        assert_eq!(s["learning"], true);
        assert_eq!(s["flood"], true);
        assert_eq!(s["hairpin"], false);
        assert_eq!(s["isolated"], false);
        assert_eq!(br.status().await?.ports.len(), 1);
        br.detach_port("p0").await?;
        assert!(ip_link("p0").unwrap().get("master").is_none());
        Ok(())
    });
}

#[test]
fn attach_tap_by_index() {
    netns_test(|nl| async move {
        if !can_make_taps() {
            return Ok(());
        }
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?).await?;
        sh(&["ip", "tuntap", "add", "dev", "vnet0", "mode", "tap"]);
        let index = ip_link("vnet0").unwrap()["ifindex"].as_u64().unwrap() as u32;
        br.attach_port(index, PortConfig::new().learning(false))
            .await?;
        assert_eq!(ip_link("vnet0").unwrap()["master"], "br0");
        assert_eq!(slave("vnet0")["learning"], false);
        br.detach_port(index).await?;
        assert!(ip_link("vnet0").unwrap().get("master").is_none());
        Ok(())
    });
}

#[test]
fn a_port_of_another_bridge_is_busy_and_stays_there() {
    netns_test(|nl| async move {
        let a = Bridge::create(&nl, BridgeConfig::new("bra")?).await?;
        let b = Bridge::create(&nl, BridgeConfig::new("brb")?).await?;
        veth("p0", "p0peer");
        a.attach_port("p0", PortConfig::new()).await?;
        let err = b.attach_port("p0", PortConfig::new()).await.unwrap_err();
        assert!(
            matches!(err, Error::PortBusy { ref bridge, .. } if bridge == "bra"),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            "attach port p0: already a port of bridge bra"
        );
        assert_eq!(ip_link("p0").unwrap()["master"], "bra");
        let err = b.detach_port("p0").await.unwrap_err();
        assert!(matches!(err, Error::NotAPort { .. }), "{err}");
        assert_eq!(ip_link("p0").unwrap()["master"], "bra");
        Ok(())
    });
}

#[test]
fn refusals_with_meaning() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?).await?;
        Bridge::create(&nl, BridgeConfig::new("br1")?).await?;
        let err = br
            .attach_port("nope0", PortConfig::new())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::NotFound { .. }), "{err}");
        let err = br.attach_port("br0", PortConfig::new()).await.unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
        let err = br.attach_port("br1", PortConfig::new()).await.unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
        veth("p0", "p0peer");
        let before = nl.requests_sent();
        for cfg in [PortConfig::new().cost(0), PortConfig::new().priority(64)] {
            let err = br.attach_port("p0", cfg).await.unwrap_err();
            assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
        }
        let err = br
            .attach_port("bad/name", PortConfig::new())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
        assert_eq!(nl.requests_sent(), before, "input errors reach no kernel");
        Ok(())
    });
}

/// Each step after the lookup fails in turn: the port must end detached.
#[test]
fn failed_attach_leaves_the_port_detached() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?).await?;
        veth("p0", "p0peer");
        let cfg = || PortConfig::new().learning(false).up();
        // lookup, master, options, up (the options' acknowledgement is
        // truthful on kernels >= 4.18: no read-back)
        for step in 1..4 {
            nl.inject_fault(step, libc::EBUSY);
            let err = br.attach_port("p0", cfg()).await.unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::Netlink {
                        errno: libc::EBUSY,
                        ..
                    }
                ),
                "step {step}: {err}"
            );
            assert!(
                ip_link("p0").unwrap().get("master").is_none(),
                "step {step} left p0 attached"
            );
        }
        br.attach_port("p0", cfg()).await?;
        assert_eq!(ip_link("p0").unwrap()["master"], "br0");
        Ok(())
    });
}

/// Real traffic: two namespaces behind ports of one bridge reach each other
/// over IPv4 and IPv6; with both ports isolated they cannot.
#[test]
fn traffic_flows_and_isolation_blocks_it() {
    netns_test(|nl| async move {
        let br = Bridge::create(
            &nl,
            BridgeConfig::new("br0")?
                .stp(false)
                .forward_delay(std::time::Duration::ZERO),
        )
        .await?;
        br.up().await?;
        let hosts = [PeerNetns::new(), PeerNetns::new()];
        for (i, h) in hosts.iter().enumerate() {
            let (port, far) = (format!("p{i}"), format!("far{i}"));
            veth(&port, &far);
            sh(&["ip", "link", "set", &far, "netns", &h.tid()]);
            h.sh(&["ip", "link", "set", &far, "up"]);
            h.sh(&[
                "ip",
                "addr",
                "add",
                &format!("10.50.0.{}/24", i + 1),
                "dev",
                &far,
            ]);
            h.sh(&[
                "ip",
                "addr",
                "add",
                &format!("fd50::{}/64", i + 1),
                "dev",
                &far,
                "nodad",
            ]);
            br.attach_port(port.as_str(), PortConfig::new().up())
                .await?;
        }
        assert!(
            hosts[0]
                .sh(&["ping", "-c1", "-W2", "10.50.0.2"])
                .contains("1 received")
        );
        assert!(
            hosts[0]
                .sh(&["ping", "-6", "-c1", "-W2", "fd50::2"])
                .contains("1 received")
        );
        for port in ["p0", "p1"] {
            br.attach_port(port, PortConfig::new().isolated(true))
                .await?;
        }
        let net = format!("--net={}", hosts[0].path());
        assert!(
            !sh_ok(&["nsenter", &net, "ping", "-c1", "-W1", "10.50.0.2"]),
            "isolated ports must not talk"
        );
        Ok(())
    });
}

/// A managed attach fails at each step in turn: the port ends detached with
/// no FDB entry; on a port that was already attached, the options it had
/// come back and the entry is gone.
#[test]
fn failed_managed_attach_undoes_every_step() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?).await?;
        veth("p0", "p0peer");
        let guest = "52:54:00:00:00:42";
        let cfg = || PortConfig::managed(guest).hairpin(true).up();
        let has_entry = || sh(&["bridge", "fdb", "show", "br", "br0"]).contains(guest);
        // lookup, master, options, fdb, up
        for step in 1..5 {
            nl.inject_fault(step, libc::EBUSY);
            let err = br.attach_port("p0", cfg()).await.unwrap_err();
            assert_eq!(err.errno(), Some(libc::EBUSY), "step {step}: {err}");
            let link = ip_link("p0").unwrap();
            assert!(link.get("master").is_none(), "step {step} left p0 attached");
            assert!(!has_entry(), "step {step} left the FDB entry");
            assert!(!admin_up(&link), "step {step} left p0 up");
        }
        // Already attached with defaults: a failure restores them.
        br.attach_port("p0", PortConfig::new()).await?;
        // lookup, options, fdb, up
        for step in 1..4 {
            nl.inject_fault(step, libc::EBUSY);
            br.attach_port("p0", cfg()).await.unwrap_err();
            let slave = ip_link("p0").unwrap()["linkinfo"]["info_slave_data"].clone();
            assert_eq!(ip_link("p0").unwrap()["master"], "br0", "step {step}");
            assert_eq!(slave["learning"], true, "step {step}");
            assert_eq!(slave["flood"], true, "step {step}");
            assert_eq!(slave["hairpin"], false, "step {step}");
            assert!(!has_entry(), "step {step} left the FDB entry");
        }
        Ok(())
    });
}

#[test]
fn allow_move_takes_a_port_from_another_bridge() {
    netns_test(|nl| async move {
        let a = Bridge::create(&nl, BridgeConfig::new("bra")?).await?;
        let b = Bridge::create(&nl, BridgeConfig::new("brb")?).await?;
        veth("p0", "p0peer");
        a.attach_port("p0", PortConfig::new().cost(33)).await?;
        // A failed move goes back to the old bridge with its options.
        nl.inject_fault(2, libc::EBUSY);
        let err = b
            .attach_port("p0", PortConfig::new().allow_move().learning(false))
            .await
            .unwrap_err();
        assert_eq!(err.errno(), Some(libc::EBUSY), "{err}");
        let link = ip_link("p0").unwrap();
        assert_eq!(link["master"], "bra");
        assert_eq!(link["linkinfo"]["info_slave_data"]["cost"], 33);
        b.attach_port("p0", PortConfig::new().allow_move()).await?;
        assert_eq!(ip_link("p0").unwrap()["master"], "brb");
        assert!(ip_ports("bra").is_empty());
        Ok(())
    });
}

#[test]
fn ports_report_state_and_options_as_iproute2_does() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?).await?;
        br.up().await?;
        veth("p0", "p0peer");
        veth("p1", "p1peer");
        sh(&["ip", "link", "set", "p0peer", "up"]);
        br.attach_port("p0", PortConfig::new().isolated(true).cost(5).up())
            .await?;
        br.attach_port("p1", PortConfig::new().learning(false))
            .await?;
        wait_forwarding("p0").await;
        let ports = br.ports().await?;
        assert_eq!(ports.len(), 2);
        for p in &ports {
            let link = ip_link(p.name.as_str()).unwrap();
            let s = &link["linkinfo"]["info_slave_data"];
            assert_eq!(p.index, link["ifindex"].as_u64().unwrap() as u32);
            assert_eq!(p.state.to_string(), s["state"].as_str().unwrap());
            assert_eq!(p.learning, s["learning"].as_bool().unwrap());
            assert_eq!(p.unicast_flood, s["flood"].as_bool().unwrap());
            assert_eq!(p.isolated, s["isolated"].as_bool().unwrap());
            assert_eq!(u64::from(p.cost), s["cost"].as_u64().unwrap());
            assert_eq!(u64::from(p.priority), s["priority"].as_u64().unwrap());
            assert_eq!(p.mtu, link["mtu"].as_u64().unwrap() as u32);
        }
        let p0 = ports.iter().find(|p| p.name == "p0").unwrap();
        assert!(p0.up && p0.isolated && p0.cost == 5);
        assert_eq!(p0.state, PortState::Forwarding);
        let p1 = ports.iter().find(|p| p.name == "p1").unwrap();
        assert!(!p1.learning && !p1.up);
        assert_eq!(p1.state, PortState::Disabled);
        assert_eq!(br.status().await?.ports, ports);
        Ok(())
    });
}

/// On kernels older than 4.18 port options are read back after they are
/// set (the kernel drops options it does not know with an Ok); the hook
/// forces that path here.
#[test]
fn port_options_are_read_back_where_the_kernel_may_drop_them() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?).await?;
        veth("p0", "p0peer");
        let cfg = || PortConfig::new().learning(false).isolated(true);
        let (before, dumps) = (nl.requests_sent(), nl.link_view_rebuilds());
        br.attach_port("p0", cfg()).await?;
        // Less the link view's first dump (this connection's first port
        // operation).
        let plain = nl.requests_sent() - before - (nl.link_view_rebuilds() - dumps);
        br.detach_port("p0").await?;
        nl.force_port_option_read_back(true);
        let before = nl.requests_sent();
        br.attach_port("p0", cfg()).await?;
        assert_eq!(nl.requests_sent() - before, plain + 1, "one read-back");
        // A failing read-back (injected) fails the attach and detaches.
        br.detach_port("p0").await?;
        nl.inject_fault(3, libc::EIO);
        let err = br.attach_port("p0", cfg()).await.unwrap_err();
        assert_eq!(err.errno(), Some(libc::EIO), "{err}");
        assert!(ip_link("p0").unwrap().get("master").is_none());
        Ok(())
    });
}

#[test]
fn bulk_attach_is_all_or_nothing() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?).await?;
        let other = Bridge::create(&nl, BridgeConfig::new("br1")?).await?;
        for i in 0..3 {
            veth(&format!("p{i}"), &format!("p{i}peer"));
        }
        other.attach_port("p2", PortConfig::new()).await?;
        let cfg = || PortConfig::new().learning(false);
        let err = br
            .attach_ports([("p0", cfg()), ("p1", cfg()), ("p2", cfg())])
            .await
            .unwrap_err();
        assert!(matches!(err, Error::PortBusy { .. }), "{err}");
        for p in ["p0", "p1"] {
            assert!(
                ip_link(p).unwrap().get("master").is_none(),
                "{p} left attached"
            );
        }
        assert_eq!(ip_link("p2").unwrap()["master"], "br1");
        // Input errors: nothing sent.
        let sent = nl.requests_sent();
        let err = br
            .attach_ports([("p0", cfg()), ("p0", cfg())])
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
        let err = br
            .attach_ports([("p0", cfg()), ("p1", cfg().cost(0))])
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
        assert_eq!(nl.requests_sent(), sent);
        // A fault in the second port's steps undoes the first port too.
        nl.inject_fault(4, libc::EBUSY);
        br.attach_ports([("p0", cfg()), ("p1", cfg())])
            .await
            .unwrap_err();
        for p in ["p0", "p1"] {
            assert!(
                ip_link(p).unwrap().get("master").is_none(),
                "{p} left attached"
            );
        }
        br.attach_ports([("p0", cfg()), ("p1", cfg())]).await?;
        for p in ["p0", "p1"] {
            assert_eq!(ip_link(p).unwrap()["master"], "br0");
            assert_eq!(
                ip_link(p).unwrap()["linkinfo"]["info_slave_data"]["learning"],
                false
            );
        }
        Ok(())
    });
}

#[test]
fn bulk_detach_checks_every_port_first_and_puts_ports_back_on_failure() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?).await?;
        for i in 0..3 {
            veth(&format!("p{i}"), &format!("p{i}peer"));
        }
        br.attach_ports([
            ("p0", PortConfig::new().cost(7)),
            ("p1", PortConfig::new().cost(8)),
        ])
        .await?;
        // p2 is not ours: nothing changes.
        let err = br.detach_ports(["p0", "p1", "p2"]).await.unwrap_err();
        assert!(matches!(err, Error::NotAPort { .. }), "{err}");
        assert_eq!(ip_ports("br0").len(), 2);
        // The kernel refuses the second detach: the first comes back, with its options.
        nl.inject_fault(3, libc::EBUSY);
        let err = br.detach_ports(["p0", "p1"]).await.unwrap_err();
        assert_eq!(err.errno(), Some(libc::EBUSY), "{err}");
        for (p, cost) in [("p0", 7), ("p1", 8)] {
            let link = ip_link(p).unwrap();
            assert_eq!(link["master"], "br0", "{p}");
            assert_eq!(link["linkinfo"]["info_slave_data"]["cost"], cost, "{p}");
        }
        br.detach_ports(["p0", "p1"]).await?;
        assert!(ip_ports("br0").is_empty());
        assert!(
            ip_link_names()
                .iter()
                .all(|n| ip_link(n).unwrap().get("master").is_none())
        );
        Ok(())
    });
}

#[test]
fn one_port_by_name_and_by_index_in_one_bulk_call_is_refused() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?).await?;
        veth("p0", "p0peer");
        let index = ip_link("p0").unwrap()["ifindex"].as_u64().unwrap() as u32;
        let err = br
            .attach_ports([
                (
                    bridgekit::PortRef::Name(bridgekit::IfName::new("p0")?),
                    PortConfig::new(),
                ),
                (bridgekit::PortRef::Index(index), PortConfig::new().cost(5)),
            ])
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
        assert!(ip_link("p0").unwrap().get("master").is_none());
        br.attach_port("p0", PortConfig::new()).await?;
        let err = br
            .detach_ports([
                bridgekit::PortRef::Name(bridgekit::IfName::new("p0")?),
                bridgekit::PortRef::Index(index),
            ])
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
        assert_eq!(ip_link("p0").unwrap()["master"], "br0");
        Ok(())
    });
}

/// `wait_forwarding` returns when the kernel says the port forwards (with
/// STP on: after listening and learning, one forward delay each), and on
/// timeout says which state the port is in and why.
#[test]
fn wait_forwarding_follows_stp_and_says_why_when_it_times_out() {
    netns_test(|nl| async move {
        use std::time::{Duration, Instant};
        // STP off: forwarding as soon as the port is up with carrier.
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?).await?;
        // Down, the bridge forwards nothing: the error says so.
        veth("p0", "p0peer");
        sh(&["ip", "link", "set", "p0peer", "up"]);
        br.attach_port("p0", PortConfig::new().up()).await?;
        let err = br
            .wait_forwarding("p0", Duration::from_millis(200))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("br0 is down"), "{err}");
        br.up().await?;
        br.attach_port("p0", PortConfig::new().up()).await?;
        br.wait_forwarding("p0", Duration::from_secs(5)).await?;
        assert_eq!(
            ip_link("p0").unwrap()["linkinfo"]["info_slave_data"]["state"],
            "forwarding"
        );

        // STP on, forward delay 2 s: listening 2 s, learning 2 s.
        let stp = Bridge::create(
            &nl,
            BridgeConfig::new("br1")?
                .stp(true)
                .forward_delay(Duration::from_secs(2)),
        )
        .await?;
        stp.up().await?;
        veth("p1", "p1peer");
        sh(&["ip", "link", "set", "p1peer", "up"]);
        let t = Instant::now();
        stp.attach_port("p1", PortConfig::new().up()).await?;
        // Too short: the error names the state and the delay.
        let err = stp
            .wait_forwarding("p1", Duration::from_millis(500))
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, Error::NotForwarding { .. }), "{text}");
        assert!(
            text.contains("listening") || text.contains("learning"),
            "{text}"
        );
        assert!(text.contains("forward delay of 2 s"), "{text}");
        // Long enough: returns once the kernel says forwarding.
        stp.wait_forwarding("p1", Duration::from_secs(20)).await?;
        let took = t.elapsed();
        assert_eq!(
            ip_link("p1").unwrap()["linkinfo"]["info_slave_data"]["state"],
            "forwarding"
        );
        assert!(
            took >= Duration::from_millis(3900),
            "forwarding after {took:?}, before two delays"
        );

        // A port that is down: the error says so.
        veth("p2", "p2peer");
        br.attach_port("p2", PortConfig::new()).await?;
        let err = br
            .wait_forwarding("p2", Duration::from_millis(200))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("p2 is down"), "{err}");
        // Not our port.
        let err = br
            .wait_forwarding("p1", Duration::from_millis(200))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::NotAPort { .. }), "{err}");
        Ok(())
    });
}

/// Starts `request` and drops it once it has sent its message, before it
/// read the kernel's answer (the test hook's window).
async fn drop_after_send<T: std::fmt::Debug>(
    nl: &bridgekit::Netlink,
    request: impl std::future::Future<Output = T>,
) {
    nl.yield_after_next_send();
    let mut request = std::pin::pin!(request);
    while !nl.yielded_after_send() {
        if let std::task::Poll::Ready(r) = futures::poll!(request.as_mut()) {
            panic!("finished before its send: {r:?}");
        }
        tokio::task::yield_now().await;
    }
}

/// Every change request goes one way, on the request socket; a request
/// dropped after its send, before its answer was read, leaves that answer
/// queued, and the next requests are each answered by their own: a refusal
/// stays a refusal, a success a success.
#[test]
fn a_request_dropped_after_its_send_does_not_answer_the_next() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?.mac("52:54:00:00:00:01")).await?;
        veth("p0", "p0peer");
        // Dropped after the kernel took (and refused) it: lo is no port.
        drop_after_send(&nl, br.attach_port("lo", PortConfig::new())).await;
        // The queued EINVAL is not this request's answer.
        br.attach_port("p0", PortConfig::new().hairpin(true).up())
            .await?;
        assert_eq!(ip_link("p0").unwrap()["master"], "br0");
        assert_eq!(slave("p0")["hairpin"], true);
        // Nor does a success answer a refusal.
        drop_after_send(&nl, br.detach_port("p0")).await;
        let err = br.attach_port("lo", PortConfig::new()).await.unwrap_err();
        assert_eq!(err.errno(), Some(libc::EINVAL), "{err}");
        Ok(())
    });
}

/// Queries take the same path as changes: a dump dropped after its send,
/// with most of its answer still to come, is read out by the next
/// request (the kernel would answer EBUSY to a second dump while the first
/// is open), and the next dump and change are each answered by their own.
#[test]
fn a_dump_dropped_midway_does_not_answer_the_next_requests() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?.mac("52:54:00:00:00:01")).await?;
        // 120 ports: their dump is far more than one 32 KiB datagram.
        let names: Vec<String> = (0..120).map(|i| format!("d{i}")).collect();
        for n in &names {
            veth(n, &format!("{n}p"));
        }
        br.attach_ports(names.iter().map(|n| (n.as_str(), PortConfig::new())))
            .await?;
        // Dropped twice in a row: the second drop's send comes after the
        // first dump was read out.
        for _ in 0..2 {
            drop_after_send(&nl, br.ports()).await;
        }
        let mut got: Vec<String> = br
            .ports()
            .await?
            .into_iter()
            .map(|p| p.name.to_string())
            .collect();
        got.sort();
        // What the kernel says, seen through iproute2.
        let shown: serde_json::Value =
            serde_json::from_str(&sh(&["ip", "-j", "link", "show", "master", "br0"]))?;
        let mut want: Vec<String> = shown
            .as_array()
            .ok_or("ip -j printed no list")?
            .iter()
            .filter_map(|l| l["ifname"].as_str().map(str::to_string))
            .collect();
        want.sort();
        assert_eq!(want.len(), names.len());
        assert_eq!(got, want);
        // A change after a dropped dump is answered by its own answer.
        drop_after_send(&nl, br.ports()).await;
        br.detach_port("d7").await?;
        assert!(ip_link("d7").unwrap().get("master").is_none());
        let err = br.detach_port("d7").await.unwrap_err();
        assert!(matches!(err, Error::NotAPort { .. }), "{err}");
        assert_eq!(br.ports().await?.len(), 119);
        Ok(())
    });
}

/// Many tasks' change requests on one connection wait their turn for the
/// request socket (an async lock) and each gets its own answer.
#[test]
fn concurrent_change_requests_on_one_connection_each_get_their_answer() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?.mac("52:54:00:00:00:01")).await?;
        for i in 0..8 {
            veth(&format!("c{i}"), &format!("c{i}peer"));
        }
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let br = br.clone();
                tokio::spawn(async move {
                    let port = format!("c{i}");
                    for _ in 0..5 {
                        br.attach_port(&port, PortConfig::new().learning(i % 2 == 0))
                            .await?;
                        br.detach_port(&port).await?;
                    }
                    br.attach_port(&port, PortConfig::new()).await?;
                    // A refusal in the crowd is still a refusal.
                    let refused = br.attach_port("lo", PortConfig::new()).await;
                    Ok::<_, bridgekit::Error>(refused.unwrap_err().errno())
                })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap()?, Some(libc::EINVAL));
        }
        for i in 0..8 {
            assert_eq!(ip_link(&format!("c{i}")).unwrap()["master"], "br0");
        }
        Ok(())
    });
}

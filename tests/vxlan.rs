//! VXLAN devices and their remote VTEPs: created as asked and read back
//! through `ip -d link`, remotes through `bridge fdb`, bad input refused
//! before anything changes, all-or-nothing bulk adds, and real frames
//! between two "hosts" (this test's namespace and a peer namespace joined
//! by an underlay veth) over a static flood list.

mod common;

use std::net::IpAddr;

use bridgekit::{
    Bridge, BridgeConfig, Change, Error, IfName, Netlink, PortConfig, Remote, RemoteKind, Vni,
    Vxlan, VxlanConfig,
};
use common::*;
use futures::StreamExt;
use serde_json::Value;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// An underlay: veth `u0` here with `addr`, its peer `u0p` up, without
/// a link-local address of its own (which it would get whenever the link
/// watch sees its carrier, perhaps between two views a test compares).
fn underlay(addr: &str) {
    veth("u0", "u0p");
    sh(&["ip", "addr", "add", addr, "dev", "u0"]);
    sh(&["ip", "link", "set", "u0p", "addrgenmode", "none"]);
    sh(&["ip", "link", "set", "u0", "up"]);
    sh(&["ip", "link", "set", "u0p", "up"]);
}

/// `Vxlan::create`, or `None` (with the reason logged as a skip, a
/// failure in the kernel tier) on a kernel without VXLAN.
async fn create(nl: &Netlink, config: VxlanConfig) -> Result<Option<Vxlan>, Error> {
    match Vxlan::create(nl, config).await {
        Err(Error::Unsupported { detail, .. }) => {
            lacks(&format!("VXLAN ({detail})"));
            Ok(None)
        }
        other => other.map(Some),
    }
}

fn fdb(dev: &str) -> Vec<Value> {
    let out = sh(&["bridge", "-j", "fdb", "show", "dev", dev]);
    let v: Value = serde_json::from_str(&out).unwrap();
    v.as_array().unwrap().clone()
}

fn dsts(dev: &str, mac: &str) -> Vec<String> {
    let mut d: Vec<String> = fdb(dev)
        .iter()
        .filter(|e| e["mac"] == mac && e.get("dst").is_some())
        .map(|e| e["dst"].as_str().unwrap().to_string())
        .collect();
    d.sort();
    d
}

#[test]
fn a_vxlan_device_is_made_as_asked_with_the_mtu_of_its_underlay() {
    netns_test(|nl| async move {
        underlay("10.77.0.1/24");
        sh(&["ip", "addr", "add", "fd77::1/64", "dev", "u0", "nodad"]);
        sh(&["ip", "link", "set", "u0", "mtu", "9000"]);
        let Some(vx) = create(
            &nl,
            VxlanConfig::new("vx0", 100)?
                .local(ip("10.77.0.1"))
                .underlay("u0")
                .learning(false)
                .ttl(16),
        )
        .await?
        else {
            return Ok(());
        };
        assert_eq!(vx.vni(), Some(Vni::new(100)?));
        let link = ip_link("vx0").unwrap();
        let d = &link["linkinfo"]["info_data"];
        assert_eq!(link["linkinfo"]["info_kind"], "vxlan");
        assert_eq!(d["id"], 100, "{d}");
        assert_eq!(d["local"], "10.77.0.1", "{d}");
        assert_eq!(d["link"], "u0", "{d}");
        assert_eq!(d["port"], 4789, "{d}");
        assert_eq!(d["learning"], false, "{d}");
        assert_eq!(d["ttl"], 16, "{d}");
        // 9000 less 50 bytes of IPv4 encapsulation.
        assert_eq!(link["mtu"], 8950);
        assert_eq!(vx.mtu().await?, 8950);

        // Over IPv6: 70 bytes.
        create(
            &nl,
            VxlanConfig::new("vx6", 101)?
                .local(ip("fd77::1"))
                .underlay("u0")
                .udp6_zero_csum_tx(true)
                .udp6_zero_csum_rx(true),
        )
        .await?;
        let link = ip_link("vx6").unwrap();
        assert_eq!(link["mtu"], 8930);
        assert_eq!(link["linkinfo"]["info_data"]["local6"], "fd77::1");
        assert_eq!(link["linkinfo"]["info_data"]["udp_zero_csum6_tx"], true);

        // Opened again by name; a bridge is not a VXLAN device.
        assert_eq!(Vxlan::open(&nl, "vx0").await?.index(), vx.index());
        Bridge::create(&nl, BridgeConfig::new("br0")?).await?;
        assert!(matches!(
            Vxlan::open(&nl, "br0").await,
            Err(Error::InvalidInput { .. })
        ));
        vx.delete().await?;
        assert!(ip_link("vx0").is_none());
        Ok(())
    });
}

#[test]
fn bad_vxlan_input_is_refused_with_nothing_changed() {
    netns_test(|nl| async move {
        underlay("10.78.0.1/24");
        let before = ip_link_names();
        let sent = nl.requests_sent();
        let base = || VxlanConfig::new("vx0", 10).unwrap();
        for (what, cfg) in [
            ("VNI 0", VxlanConfig::new("vx0", 0)?),
            ("VNI 2^24", VxlanConfig::new("vx0", 1 << 24)?),
            ("port 0", base().port(0)),
            ("TTL 0", base().ttl(0)),
            ("loopback local", base().local(ip("127.0.0.1"))),
            ("MTU 10", base().mtu(10)),
        ] {
            let e = Vxlan::create(&nl, cfg).await.unwrap_err();
            assert!(matches!(e, Error::InvalidInput { .. }), "{what}: {e}");
        }
        // Nothing at all was sent for those.
        assert_eq!(nl.requests_sent(), sent);
        // These need a look at the underlay (a read), and change nothing.
        for (what, cfg, says) in [
            (
                "local not on the underlay",
                base().local(ip("10.78.0.9")).underlay("u0"),
                "not an address of the underlay u0",
            ),
            (
                "MTU above the underlay's less 50",
                base().local(ip("10.78.0.1")).underlay("u0").mtu(1460),
                "allows at most 1450",
            ),
        ] {
            let e = Vxlan::create(&nl, cfg).await.unwrap_err();
            assert!(matches!(e, Error::InvalidInput { .. }), "{what}: {e}");
            assert!(e.to_string().contains(says), "{what}: {e}");
        }
        let e = Vxlan::create(&nl, base().underlay("nope0"))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::NotFound { .. }), "{e}");
        assert_eq!(ip_link_names(), before);

        // Remotes: a duplicate, another VTEP for a MAC, a bad MAC, port 0,
        // the wrong family, a loopback VTEP.
        let Some(vx) = create(&nl, base().local(ip("10.78.0.1")).underlay("u0")).await? else {
            return Ok(());
        };
        vx.add_remote(Remote::flood(ip("10.78.0.2"))).await?;
        vx.add_remote(Remote::for_mac("52:54:00:00:78:01", ip("10.78.0.3")))
            .await?;
        let table = fdb("vx0");
        let sent = nl.requests_sent();
        for (what, r) in [
            (
                "bad MAC",
                Remote::for_mac("01:00:5e:00:00:01", ip("10.78.0.4")),
            ),
            ("port 0", Remote::flood(ip("10.78.0.4")).port(0)),
            ("IPv6 VTEP for an IPv4 device", Remote::flood(ip("fd00::4"))),
            ("loopback", Remote::flood(ip("127.0.0.1"))),
        ] {
            let e = vx.add_remote(r).await.unwrap_err();
            assert!(matches!(e, Error::InvalidInput { .. }), "{what}: {e}");
        }
        assert_eq!(nl.requests_sent(), sent, "nothing sent for bad entries");
        // Issue #27, item 5: a MAC that does not parse is named as given,
        // and not called "not unicast".
        let e = vx
            .add_remote(Remote::for_mac("52:54:zz:00:78:01", ip("10.78.0.4")))
            .await
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid remote MAC address \"52:54:zz:00:78:01\" of vx0 (-> 10.78.0.4): expected \
             six hex bytes separated by ':' (52:54:00:12:34:56)"
        );
        let e = vx
            .add_remote(Remote::for_mac("01:00:5e:00:00:01", ip("10.78.0.4")))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("01:00:5e:00:00:01"), "{e}");
        let e = vx
            .add_remote(Remote::flood(ip("10.78.0.2")))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("already there"), "{e}");
        let e = vx
            .add_remote(Remote::for_mac("52:54:00:00:78:01", ip("10.78.0.5")))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("a MAC has one VTEP"), "{e}");
        let e = vx
            .add_remotes([
                Remote::flood(ip("10.78.0.6")),
                Remote::flood(ip("10.78.0.6")),
            ])
            .await
            .unwrap_err();
        assert!(e.to_string().contains("listed twice"), "{e}");
        assert_eq!(fdb("vx0"), table, "the FDB is as before");
        Ok(())
    });
}

#[test]
fn remotes_are_added_listed_and_removed_one_request_each() {
    netns_test(|nl| async move {
        underlay("10.79.0.1/24");
        let Some(vx) = create(
            &nl,
            VxlanConfig::new("vx0", 200)?
                .local(ip("10.79.0.1"))
                .underlay("u0")
                .learning(false),
        )
        .await?
        else {
            return Ok(());
        };
        let zero = "00:00:00:00:00:00";
        for d in ["10.79.0.2", "10.79.0.3", "10.79.0.4"] {
            let before = nl.requests_sent();
            vx.add_remote(Remote::flood(ip(d))).await?;
            // Look (duplicates), add, read back.
            assert_eq!(nl.requests_sent() - before, 3);
        }
        assert_eq!(dsts("vx0", zero), ["10.79.0.2", "10.79.0.3", "10.79.0.4"]);
        let one = Remote::for_mac("52:54:00:00:79:01", ip("10.79.0.5"))
            .vni(Vni::new(201)?)
            .port(4790);
        vx.add_remote(one).await?;
        let e = fdb("vx0")
            .into_iter()
            .find(|e| e["mac"] == "52:54:00:00:79:01")
            .unwrap();
        assert_eq!(e["dst"], "10.79.0.5", "{e}");
        assert_eq!(e["vni"], 201, "{e}");
        assert_eq!(e["port"], 4790, "{e}");
        let listed = vx.remotes().await?;
        assert_eq!(listed.len(), 4, "{listed:?}");
        assert!(listed.contains(&one));
        assert_eq!(listed.iter().filter(|r| r.is_flood()).count(), 3);

        vx.remove_remote(Remote::flood(ip("10.79.0.3"))).await?;
        assert_eq!(dsts("vx0", zero), ["10.79.0.2", "10.79.0.4"]);
        vx.remove_remote(one).await?;
        assert!(dsts("vx0", "52:54:00:00:79:01").is_empty());
        let e = vx
            .remove_remote(Remote::flood(ip("10.79.0.3")))
            .await
            .unwrap_err();
        // Issue #27, item 5: the device exists; the entry does not.
        assert!(matches!(e, Error::NoSuchEntry { .. }), "{e}");
        assert_eq!(
            e.to_string(),
            "remove remote VTEP from vx0: remote 00:00:00:00:00:00 -> 10.79.0.3 not present"
        );

        // Remotes added by another process are listed too, as static
        // entries.
        sh(&[
            "bridge",
            "fdb",
            "append",
            zero,
            "dev",
            "vx0",
            "dst",
            "10.79.0.9",
        ]);
        let listed = vx.remotes().await?;
        let theirs = listed
            .iter()
            .find(|r| r.to_string() == Remote::flood(ip("10.79.0.9")).to_string())
            .unwrap_or_else(|| panic!("not listed: {listed:?}"));
        assert_eq!(theirs.kind(), RemoteKind::Static);
        Ok(())
    });
}

#[test]
fn a_bulk_add_is_all_or_nothing() {
    netns_test(|nl| async move {
        underlay("10.80.0.1/24");
        let Some(vx) = create(
            &nl,
            VxlanConfig::new("vx0", 300)?
                .local(ip("10.80.0.1"))
                .underlay("u0"),
        )
        .await?
        else {
            return Ok(());
        };
        vx.add_remote(Remote::flood(ip("10.80.0.100"))).await?;
        let before = fdb("vx0");
        let many: Vec<Remote> = (2..12)
            .map(|i| Remote::flood(ip(&format!("10.80.0.{i}"))))
            .collect();
        let nl2 = nl.clone();
        let vx2 = vx.clone();
        let many2 = many.clone();
        let steps = fail_each_step(
            &nl,
            "Vxlan::add_remotes",
            async || {},
            async || vx2.add_remotes(many2.clone()).await,
            async || {
                for r in &many2 {
                    vx2.remove_remote(*r).await.unwrap();
                }
                let _ = &nl2;
            },
        )
        .await;
        assert!(steps >= 12, "only {steps} steps");
        assert_eq!(fdb("vx0"), before);
        vx.add_remotes(many.clone()).await?;
        assert_eq!(vx.remotes().await?.len(), 11);

        // Vxlan::create with remotes: every step fails in turn, and no
        // device is left.
        let nl3 = nl.clone();
        let with_remotes = || {
            VxlanConfig::new("vx1", 301)
                .unwrap()
                .local(ip("10.80.0.1"))
                .underlay("u0")
                .remote(Remote::flood(ip("10.80.0.2")))
                .remote(Remote::for_mac("52:54:00:00:80:02", ip("10.80.0.3")))
        };
        let steps = fail_each_step(
            &nl,
            "Vxlan::create with remotes",
            async || {},
            async || Vxlan::create(&nl3, with_remotes()).await.map(drop),
            async || {
                Vxlan::open(&nl3, "vx1")
                    .await
                    .unwrap()
                    .delete()
                    .await
                    .unwrap()
            },
        )
        .await;
        assert!(steps >= 5, "only {steps} steps");
        Ok(())
    });
}

/// Two hosts: this namespace and a peer, joined by an underlay veth; a
/// bridge on each with an address and a VXLAN port, and a static flood
/// list naming the other VTEP. The bridges reach each other through the
/// tunnel (ARP floods through the list), IPv4 and IPv6.
#[test]
fn two_hosts_talk_over_a_static_flood_list() {
    netns_test(|nl| async move {
        let peer = PeerNetns::new();
        veth("u0", "u1");
        sh(&["ip", "link", "set", "u1", "netns", &peer.tid()]);
        sh(&["ip", "addr", "add", "10.81.0.1/24", "dev", "u0"]);
        sh(&["ip", "link", "set", "u0", "up"]);
        peer.sh(&["ip", "addr", "add", "10.81.0.2/24", "dev", "u1"]);
        peer.sh(&["ip", "link", "set", "u1", "up"]);
        peer.sh(&["ip", "link", "set", "lo", "up"]);
        let nl_b = Netlink::connect_in_netns(peer.path())?;
        let mut hosts = Vec::new();
        for (nl, me, other, mac, addr, addr6) in [
            (
                &nl,
                "10.81.0.1",
                "10.81.0.2",
                "52:54:00:00:81:01",
                "10.82.0.1/24",
                "fd82::1/64",
            ),
            (
                &nl_b,
                "10.81.0.2",
                "10.81.0.1",
                "52:54:00:00:81:02",
                "10.82.0.2/24",
                "fd82::2/64",
            ),
        ] {
            let Some(vx) = create(
                nl,
                VxlanConfig::new("vx0", 500)?
                    .local(ip(me))
                    .underlay(if me.ends_with(".1") { "u0" } else { "u1" })
                    .learning(false),
            )
            .await?
            else {
                return Ok(());
            };
            vx.add_remote(Remote::flood(ip(other))).await?;
            let br = Bridge::create(
                nl,
                BridgeConfig::new("br0")?
                    .mac(mac)
                    .address(addr)
                    .address(addr6)
                    .port("vx0", PortConfig::new().up()),
            )
            .await?;
            hosts.push((br, vx));
        }
        for (br, _) in &hosts {
            br.wait_dad(std::time::Duration::from_secs(20)).await?;
        }
        assert!(ping(&peer, "10.82.0.1"), "IPv4 across the tunnel");
        assert!(ping(&peer, "fd82::1"), "IPv6 across the tunnel");
        // The frames went through VXLAN: the underlay carried UDP to 4789.
        let stats: Value =
            serde_json::from_str(&sh(&["ip", "-j", "-s", "link", "show", "vx0"])).unwrap();
        let tx = stats[0]["stats64"]["tx"]["packets"].as_u64().unwrap();
        assert!(tx > 0, "vx0 sent nothing: {stats}");
        Ok(())
    });
}

/// A bridge with a VXLAN port and its flood list, declared: `apply`
/// creates the device and its remotes, changes nothing the second time,
/// then adds and removes only the differences; a device of another VNI is
/// refused, not recreated.
#[test]
fn apply_converges_vxlan_ports_and_their_remotes() {
    netns_test(|nl| async move {
        underlay("10.85.0.1/24");
        let vx = |remotes: &[&str]| {
            let mut c = VxlanConfig::new("vx0", 600)
                .unwrap()
                .local(ip("10.85.0.1"))
                .underlay("u0")
                .learning(false);
            for r in remotes {
                c = c.remote(Remote::flood(ip(r)));
            }
            c
        };
        let desired = |remotes: &[&str]| {
            BridgeConfig::new("br0")
                .unwrap()
                .mac("52:54:00:00:85:01")
                .vxlan_port(
                    vx(remotes),
                    PortConfig::new().learning(false).neigh_suppress(true).up(),
                )
        };
        let first = match desired(&["10.85.0.2", "10.85.0.3"]).apply(&nl).await {
            Err(Error::Unsupported { detail, .. }) => {
                lacks(&format!("VXLAN ({detail})"));
                return Ok(());
            }
            other => other?,
        };
        assert_eq!(first.changes[0], bridgekit::Change::Created);
        let link = ip_link("vx0").unwrap();
        assert_eq!(link["master"], "br0");
        assert_eq!(link["linkinfo"]["info_data"]["id"], 600);
        assert_eq!(link["linkinfo"]["info_slave_data"]["neigh_suppress"], true);
        let zero = "00:00:00:00:00:00";
        assert_eq!(dsts("vx0", zero), ["10.85.0.2", "10.85.0.3"]);

        let before = kernel_state();
        let again = desired(&["10.85.0.2", "10.85.0.3"]).apply(&nl).await?;
        assert!(again.changes.is_empty(), "{:?}", again.changes);
        assert_eq!(kernel_state(), before);

        // One VTEP leaves, another joins: only those two change.
        let moved = desired(&["10.85.0.3", "10.85.0.4"]).apply(&nl).await?;
        assert_eq!(
            moved.changes,
            [
                bridgekit::Change::RemoteRemoved {
                    vxlan: bridgekit::IfName::new("vx0")?,
                    remote: Remote::flood(ip("10.85.0.2"))
                },
                bridgekit::Change::RemoteAdded {
                    vxlan: bridgekit::IfName::new("vx0")?,
                    remote: Remote::flood(ip("10.85.0.4"))
                },
            ]
        );
        assert_eq!(dsts("vx0", zero), ["10.85.0.3", "10.85.0.4"]);

        // A device of this name with another VNI is not recreated.
        let other = BridgeConfig::new("br0")?
            .mac("52:54:00:00:85:01")
            .vxlan_port(
                VxlanConfig::new("vx0", 601)?
                    .local(ip("10.85.0.1"))
                    .underlay("u0"),
                PortConfig::new().up(),
            );
        let before = kernel_state();
        let e = other.apply(&nl).await.unwrap_err();
        assert!(
            e.to_string().contains("exists with VNI 600, not 601"),
            "{e}"
        );
        assert_eq!(kernel_state(), before);

        // Every step of an apply from nothing fails in turn: nothing is
        // left, the VXLAN device and its remotes included.
        Bridge::open(&nl, "br0").await?.delete().await?;
        Vxlan::open(&nl, "vx0").await?.delete().await?;
        let nl2 = nl.clone();
        let steps = fail_each_step(
            &nl,
            "apply with a VXLAN port",
            async || {},
            async || {
                desired(&["10.85.0.2", "10.85.0.3"])
                    .apply(&nl2)
                    .await
                    .map(drop)
            },
            async || {
                Bridge::open(&nl2, "br0")
                    .await
                    .unwrap()
                    .delete()
                    .await
                    .unwrap();
                Vxlan::open(&nl2, "vx0")
                    .await
                    .unwrap()
                    .delete()
                    .await
                    .unwrap();
            },
        )
        .await;
        assert!(steps >= 8, "only {steps} steps");
        Ok(())
    });
}

/// Remote VTEPs of a bridge's VXLAN port show up in its event stream,
/// whoever adds or removes them: bridgekit, or another process.
#[test]
fn remote_changes_show_up_in_the_event_stream() {
    netns_test(|nl| async move {
        underlay("10.86.0.1/24");
        let Some(vx) = create(
            &nl,
            VxlanConfig::new("vx0", 800)?
                .local(ip("10.86.0.1"))
                .underlay("u0")
                .learning(false),
        )
        .await?
        else {
            return Ok(());
        };
        let br = Bridge::create(
            &nl,
            BridgeConfig::new("br0")?
                .mac("52:54:00:00:86:01")
                .port("vx0", PortConfig::new().up()),
        )
        .await?;
        let mut events = br
            .events_with(bridgekit::EventKinds::new().remotes(true))
            .await?;
        let next_remote = async |events: &mut bridgekit::BridgeEvents| {
            let deadline = std::time::Duration::from_secs(5);
            tokio::time::timeout(deadline, async {
                while let Some(ev) = events.next().await {
                    if let e @ (bridgekit::BridgeEvent::RemoteAdded { .. }
                    | bridgekit::BridgeEvent::RemoteRemoved { .. }) = ev.unwrap()
                    {
                        return e;
                    }
                }
                panic!("the stream ended");
            })
            .await
            .expect("no remote event within 5 s")
        };
        vx.add_remote(Remote::flood(ip("10.86.0.2"))).await?;
        match next_remote(&mut events).await {
            bridgekit::BridgeEvent::RemoteAdded { port, remote, .. } => {
                assert_eq!(port.as_str(), "vx0");
                assert_eq!(remote, Remote::flood(ip("10.86.0.2")));
            }
            other => panic!("expected RemoteAdded, got {other}"),
        }
        sh(&[
            "bridge",
            "fdb",
            "add",
            "52:54:00:00:86:09",
            "dev",
            "vx0",
            "dst",
            "10.86.0.3",
        ]);
        match next_remote(&mut events).await {
            bridgekit::BridgeEvent::RemoteAdded { remote, .. } => {
                assert_eq!(
                    remote.to_string(),
                    Remote::for_mac("52:54:00:00:86:09", ip("10.86.0.3")).to_string()
                );
                // iproute2 wrote it: a static entry.
                assert_eq!(remote.kind(), RemoteKind::Static);
            }
            other => panic!("expected RemoteAdded, got {other}"),
        }
        sh(&[
            "bridge",
            "fdb",
            "del",
            "00:00:00:00:00:00",
            "dev",
            "vx0",
            "dst",
            "10.86.0.2",
        ]);
        match next_remote(&mut events).await {
            bridgekit::BridgeEvent::RemoteRemoved { remote, .. } => {
                assert_eq!(remote, Remote::flood(ip("10.86.0.2")));
            }
            other => panic!("expected RemoteRemoved, got {other}"),
        }
        Ok(())
    });
}

/// A host of the multi-host tests: a namespace of its own with an
/// underlay link `u0` to the switch (a plain bridge in the test's own
/// namespace), and a bridgekit connection into it.
struct Host {
    ns: PeerNetns,
    nl: Netlink,
    v4: String,
    v6: String,
}

/// `n` hosts on one underlay switch: host i is 10.89.0.(i+1) and
/// fd89::(i+1).
fn hosts(n: usize) -> Result<Vec<Host>, Error> {
    sh(&["ip", "link", "add", "sw0", "type", "bridge"]);
    sh(&["ip", "link", "set", "sw0", "up"]);
    let mut out = Vec::new();
    for i in 0..n {
        let ns = PeerNetns::new();
        let (s, h) = (format!("s{i}"), format!("h{i}"));
        veth(&s, &h);
        sh(&["ip", "link", "set", &s, "master", "sw0", "up"]);
        sh(&["ip", "link", "set", &h, "netns", &ns.tid()]);
        ns.sh(&["ip", "link", "set", &h, "name", "u0"]);
        let (v4, v6) = (format!("10.89.0.{}", i + 1), format!("fd89::{}", i + 1));
        ns.sh(&["ip", "addr", "add", &format!("{v4}/24"), "dev", "u0"]);
        ns.sh(&[
            "ip",
            "addr",
            "add",
            &format!("{v6}/64"),
            "dev",
            "u0",
            "nodad",
        ]);
        ns.sh(&["ip", "link", "set", "u0", "up"]);
        ns.sh(&["ip", "link", "set", "lo", "up"]);
        // Links made from now on (the VXLAN devices, the bridges) have no
        // IPv6: their router solicitations and DAD would flood to every
        // VTEP and blur the counters.
        ns.sh(&["sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1"]);
        let nl = Netlink::connect_in_netns(ns.path())?;
        out.push(Host { ns, nl, v4, v6 });
    }
    Ok(out)
}

impl Host {
    /// A VXLAN device `vx0` for `vni` over this host's IPv4 (or IPv6)
    /// underlay, learning off, with `remotes`, as the port of a bridge
    /// `br0` with the address `addr` (no IPv6 on either: see `hosts`).
    async fn segment(
        &self,
        vni: u32,
        v6_underlay: bool,
        remotes: Vec<Remote>,
        mac: &str,
        addr: &str,
    ) -> Result<Option<Bridge>, Error> {
        let local = if v6_underlay { &self.v6 } else { &self.v4 };
        let mut cfg = VxlanConfig::new("vx0", vni)?
            .local(ip(local))
            .underlay("u0")
            .learning(false);
        for r in remotes {
            cfg = cfg.remote(r);
        }
        let config = BridgeConfig::new("br0")?
            .mac(mac)
            .ipv6_ready_without_ports(false)
            .up()
            .address(addr)
            .vxlan_port(cfg, PortConfig::new().learning(false).up());
        match config.apply(&self.nl).await {
            Ok(a) => Ok(Some(a.bridge)),
            Err(Error::Unsupported { detail, .. }) if detail.contains("vxlan") => {
                lacks(&format!("VXLAN ({detail})"));
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    fn rx_packets(&self, dev: &str) -> u64 {
        let v: Value =
            serde_json::from_str(&self.ns.sh(&["ip", "-j", "-s", "link", "show", dev])).unwrap();
        v[0]["stats64"]["rx"]["packets"].as_u64().unwrap()
    }
}

/// Three hosts, each with a static flood list naming the other two: a
/// broadcast from one (an ARP request) reaches both others, and each
/// reaches each.
#[test]
fn three_hosts_with_static_flood_lists_reach_each_other() {
    netns_test(|_nl| async move {
        let hs = hosts(3)?;
        for (i, h) in hs.iter().enumerate() {
            let others: Vec<Remote> = hs
                .iter()
                .filter(|o| o.v4 != h.v4)
                .map(|o| Remote::flood(ip(&o.v4)))
                .collect();
            let mac = format!("52:54:00:00:87:0{}", i + 1);
            let addr = format!("10.87.0.{}/24", i + 1);
            if h.segment(900, false, others, &mac, &addr).await?.is_none() {
                return Ok(());
            }
        }
        // Host 0 asks for host 1: the ARP request is flooded to both.
        let c_before = hs[2].rx_packets("vx0");
        assert!(ping(&hs[0].ns, "10.87.0.2"), "host 0 reaches host 1");
        assert!(
            hs[2].rx_packets("vx0") > c_before,
            "host 2 did not receive host 0's broadcast"
        );
        assert!(ping(&hs[0].ns, "10.87.0.3"), "host 0 reaches host 2");
        assert!(ping(&hs[2].ns, "10.87.0.2"), "host 2 reaches host 1");
        Ok(())
    });
}

/// Two VNIs on the same UDP port stay apart: host 0's VNI 100 and host
/// 1's VNI 200 name each other in their flood lists, share a subnet, and
/// still never meet; host 1's device receives nothing.
#[test]
fn two_vnis_stay_isolated() {
    netns_test(|_nl| async move {
        let hs = hosts(2)?;
        let a = hs[0]
            .segment(
                100,
                false,
                vec![Remote::flood(ip(&hs[1].v4))],
                "52:54:00:00:88:01",
                "10.88.0.1/24",
            )
            .await?;
        if a.is_none() {
            return Ok(());
        }
        hs[1]
            .segment(
                200,
                false,
                vec![Remote::flood(ip(&hs[0].v4))],
                "52:54:00:00:88:02",
                "10.88.0.2/24",
            )
            .await?;
        let before = hs[1].rx_packets("vx0");
        assert!(!ping(&hs[0].ns, "10.88.0.2"), "VNI 100 reached VNI 200");
        assert_eq!(
            hs[1].rx_packets("vx0"),
            before,
            "VNI 200's device received VNI 100 frames"
        );
        Ok(())
    });
}

/// Learning off and static per-MAC remotes: once the addresses are
/// resolved, unicast from host 0 to host 1 goes to host 1's VTEP only —
/// host 2, in the flood list, receives none of it.
#[test]
fn static_remote_macs_send_unicast_to_the_right_vtep_only() {
    netns_test(|_nl| async move {
        let hs = hosts(3)?;
        let macs = [
            "52:54:00:00:89:01",
            "52:54:00:00:89:02",
            "52:54:00:00:89:03",
        ];
        for (i, h) in hs.iter().enumerate() {
            let mut remotes: Vec<Remote> = Vec::new();
            for (j, o) in hs.iter().enumerate() {
                if i != j {
                    remotes.push(Remote::flood(ip(&o.v4)));
                    remotes.push(Remote::for_mac(macs[j], ip(&o.v4)));
                }
            }
            let addr = format!("10.89.1.{}/24", i + 1);
            if h.segment(901, false, remotes, macs[i], &addr)
                .await?
                .is_none()
            {
                return Ok(());
            }
        }
        // Resolve first (ARP is broadcast, flooded to both).
        assert!(ping(&hs[0].ns, "10.89.1.2"));
        // 40 echo requests. The hosts' own occasional broadcasts still
        // reach host 2 (a few frames); flooded unicast would be 40.
        let (b, c) = (hs[1].rx_packets("vx0"), hs[2].rx_packets("vx0"));
        hs[0].ns.sh(&[
            "ping",
            "-q",
            "-c",
            "40",
            "-i",
            "0.01",
            "-W",
            "1",
            "10.89.1.2",
        ]);
        let (b, c) = (hs[1].rx_packets("vx0") - b, hs[2].rx_packets("vx0") - c);
        assert!(b >= 40, "host 1 got {b} frames for 40 echo requests");
        assert!(
            c < 5,
            "host 2 received {c} frames: unicast meant for host 1 was flooded"
        );
        Ok(())
    });
}

/// The same over an IPv6 underlay: VTEPs fd89::1 and fd89::2.
#[test]
fn two_hosts_talk_over_an_ipv6_underlay() {
    netns_test(|_nl| async move {
        let hs = hosts(2)?;
        for (i, h) in hs.iter().enumerate() {
            let other = &hs[1 - i];
            let mac = format!("52:54:00:00:8a:0{}", i + 1);
            let addr = format!("10.90.0.{}/24", i + 1);
            if h.segment(902, true, vec![Remote::flood(ip(&other.v6))], &mac, &addr)
                .await?
                .is_none()
            {
                return Ok(());
            }
        }
        let link: Value =
            serde_json::from_str(&hs[0].ns.sh(&["ip", "-j", "-d", "link", "show", "vx0"])).unwrap();
        assert_eq!(link[0]["linkinfo"]["info_data"]["local6"], "fd89::1");
        // 1500 less 70 bytes of IPv6 encapsulation.
        assert_eq!(link[0]["mtu"], 1430);
        assert!(ping(&hs[0].ns, "10.90.0.2"), "IPv4 over an IPv6 underlay");
        Ok(())
    });
}

/// A bridge MTU a VXLAN port cannot carry is refused, not left to drop
/// frames: by `attach_port` (and undone) when the MTU was set by hand, and
/// by `apply` before anything stays. Without a hand-set MTU the kernel
/// lowers the bridge's to the VXLAN port's, which is fine.
#[test]
fn a_bridge_mtu_a_vxlan_port_cannot_carry_is_refused() {
    netns_test(|nl| async move {
        underlay("10.91.0.1/24");
        let Some(vx) = create(
            &nl,
            VxlanConfig::new("vx0", 910)?
                .local(ip("10.91.0.1"))
                .underlay("u0"),
        )
        .await?
        else {
            return Ok(());
        };
        assert_eq!(vx.mtu().await?, 1450);
        let br = Bridge::create(
            &nl,
            BridgeConfig::new("br0")?.mac("52:54:00:00:91:01").mtu(1500),
        )
        .await?;
        let before = kernel_state();
        let e = br
            .attach_port("vx0", PortConfig::new().up())
            .await
            .unwrap_err();
        assert!(matches!(e, Error::InvalidInput { .. }), "{e}");
        assert!(e.to_string().contains("cannot carry the MTU 1500"), "{e}");
        assert_eq!(kernel_state(), before, "the attach was undone");
        br.delete().await?;

        // Declared: the same refusal, and nothing of the apply stays.
        let before = kernel_state();
        let desired = BridgeConfig::new("br0")?
            .mac("52:54:00:00:91:01")
            .mtu(1500)
            .vxlan_port(
                VxlanConfig::new("vx1", 911)?
                    .local(ip("10.91.0.1"))
                    .underlay("u0"),
                PortConfig::new().up(),
            );
        let e = desired.apply(&nl).await.unwrap_err();
        assert!(e.to_string().contains("cannot carry the MTU 1500"), "{e}");
        assert_eq!(kernel_state(), before, "nothing of the apply stays");

        // No hand-set MTU: the bridge takes the VXLAN port's.
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?.mac("52:54:00:00:91:01")).await?;
        br.attach_port("vx0", PortConfig::new().up()).await?;
        assert_eq!(ip_link("br0").unwrap()["mtu"], 1450);
        Ok(())
    });
}

/// One VXLAN device in external mode carries two VLANs as two VNIs
/// (`vlan_tunnel` and the port's VLAN-to-VNI map): a guest in VLAN 10 on
/// one host reaches a VLAN 10 guest on the other, and never a VLAN 20
/// guest there, whose VNI differs. Needs bridge VLAN filtering (kernel
/// tier).
#[test]
fn one_external_device_carries_vlans_as_vnis() {
    netns_test(|nl| async move {
        if !has_vlan_filtering(&nl).await? {
            return Ok(());
        }
        let vid = |v: u16| bridgekit::VlanId::new(v).unwrap();
        let vni = |v: u32| Vni::new(v).unwrap();
        let hs = hosts(2)?;
        let guests = [PeerNetns::new(), PeerNetns::new(), PeerNetns::new()];
        let mut bridges = Vec::new();
        for (i, h) in hs.iter().enumerate() {
            let other = ip(&hs[1 - i].v4);
            let vx = VxlanConfig::external("vxe0")?
                .local(ip(&h.v4))
                .underlay("u0")
                .learning(false)
                .remote(Remote::flood(other).src_vni(vni(1010)))
                .remote(Remote::flood(other).src_vni(vni(1020)));
            let config = BridgeConfig::new("br0")?
                .mac(format!("52:54:00:00:93:0{}", i + 1).as_str())
                .ipv6_ready_without_ports(false)
                .up()
                .vlan_filtering(true)
                .vxlan_port(
                    vx,
                    PortConfig::new()
                        .vlan_tunnel(true)
                        .vlan(bridgekit::VlanMember::tagged(vid(10)))
                        .vlan(bridgekit::VlanMember::tagged(vid(20)))
                        .up(),
                );
            let br = match config.apply(&h.nl).await {
                Err(Error::Unsupported { detail, .. }) => {
                    lacks(&format!("VXLAN ({detail})"));
                    return Ok(());
                }
                other => other?.bridge,
            };
            br.add_vlan_tunnels("vxe0", &[(vid(10), vni(1010)), (vid(20), vni(1020))])
                .await?;
            assert_eq!(
                br.vlan_tunnels("vxe0").await?,
                [(vid(10), vni(1010)), (vid(20), vni(1020))]
            );
            bridges.push(br);
        }
        // iproute2's view of host 0's map.
        let shown = hs[0]
            .ns
            .sh(&["bridge", "-j", "vlan", "tunnelshow", "dev", "vxe0"]);
        assert!(shown.contains("1010") && shown.contains("1020"), "{shown}");
        let vx = Vxlan::open(&hs[0].nl, "vxe0").await?;
        assert!(vx.is_external());
        let link: Value =
            serde_json::from_str(&hs[0].ns.sh(&["ip", "-j", "-d", "link", "show", "vxe0"]))
                .unwrap();
        assert_eq!(link[0]["linkinfo"]["info_data"]["external"], true, "{link}");

        // Guests: host 0 VLAN 10; host 1 VLAN 10 and VLAN 20, one subnet.
        for (br, guest, vlan, addr) in [
            (&bridges[0], &guests[0], 10, "10.93.0.1/24"),
            (&bridges[1], &guests[1], 10, "10.93.0.2/24"),
            (&bridges[1], &guests[2], 20, "10.93.0.3/24"),
        ] {
            bridgekit::VethNic::create(
                br,
                bridgekit::VethNicConfig::new(guest.path())
                    .name("eth0")
                    .address(addr)
                    .port(
                        PortConfig::new()
                            .vlan(bridgekit::VlanMember::access(vid(vlan)))
                            .up(),
                    ),
            )
            .await?;
        }
        assert!(ping(&guests[0], "10.93.0.2"), "VLAN 10 over VNI 1010");
        assert!(!ping(&guests[0], "10.93.0.3"), "VLAN 10 reached VLAN 20");

        // Bad maps are refused before anything is sent; a removal reads back.
        let e = bridges[0]
            .add_vlan_tunnels("vxe0", &[(vid(30), vni(1030)), (vid(30), vni(1031))])
            .await
            .unwrap_err();
        assert!(matches!(e, Error::InvalidInput { .. }), "{e}");
        bridges[0].remove_vlan_tunnels("vxe0", &[vid(20)]).await?;
        assert_eq!(
            bridges[0].vlan_tunnels("vxe0").await?,
            [(vid(10), vni(1010))]
        );
        Ok(())
    });
}

/// An external (collect-metadata) device: made and read back, its
/// remotes name their segment with `src_vni`, which a device with a VNI
/// of its own refuses.
#[test]
fn an_external_device_and_its_per_segment_remotes() {
    netns_test(|nl| async move {
        underlay("10.94.0.1/24");
        let Some(vx) = create(
            &nl,
            VxlanConfig::external("vxe0")?
                .local(ip("10.94.0.1"))
                .underlay("u0")
                .learning(false),
        )
        .await?
        else {
            return Ok(());
        };
        assert!(vx.is_external());
        assert_eq!(vx.vni(), None);
        let link = ip_link("vxe0").unwrap();
        assert_eq!(link["linkinfo"]["info_data"]["external"], true, "{link}");
        let r = Remote::flood(ip("10.94.0.2")).src_vni(Vni::new(1010)?);
        vx.add_remote(r).await?;
        let e = fdb("vxe0")
            .into_iter()
            .find(|e| e.get("dst").is_some())
            .unwrap();
        assert_eq!(e["src_vni"], 1010, "{e}");
        assert!(vx.remotes().await?.contains(&r));
        // The same destination for another segment is another entry.
        vx.add_remote(Remote::flood(ip("10.94.0.2")).src_vni(Vni::new(1020)?))
            .await?;
        assert_eq!(vx.remotes().await?.len(), 2);

        let plain = create(
            &nl,
            VxlanConfig::new("vx1", 94)?
                .local(ip("10.94.0.1"))
                .underlay("u0"),
        )
        .await?
        .unwrap();
        let e = plain.add_remote(r).await.unwrap_err();
        assert!(
            e.to_string()
                .contains("src_vni is for a device in external mode"),
            "{e}"
        );
        Ok(())
    });
}

/// Issue #27, items 1, 6 and 7: after real traffic the device holds
/// learned entries (learning on, the default). Applying the same config
/// again changes nothing — no `RemoteRemoved`, nothing in `bridge monitor
/// fdb` or `ip monitor link` — the learned entries stay, and `remotes()`
/// says which entries are learned. A declared remote for a learned MAC
/// pins it as a static entry. The first apply reports what it made.
#[test]
fn re_apply_after_traffic_leaves_learned_entries_alone() {
    netns_test(|nl| async move {
        let peer = PeerNetns::new();
        veth("u0", "u1");
        sh(&["ip", "link", "set", "u1", "netns", &peer.tid()]);
        sh(&["ip", "addr", "add", "10.86.0.1/24", "dev", "u0"]);
        sh(&["ip", "link", "set", "u0", "up"]);
        peer.sh(&["ip", "addr", "add", "10.86.0.2/24", "dev", "u1"]);
        peer.sh(&["ip", "link", "set", "u1", "up"]);
        peer.sh(&["ip", "link", "set", "lo", "up"]);
        let nl_b = Netlink::connect_in_netns(peer.path())?;
        let desired = |me: &str, other: &str, underlay: &str, mac: &str, addr: &str| {
            BridgeConfig::new("br0")
                .unwrap()
                .mac(mac)
                .address(addr)
                .vxlan_port(
                    // Learning stays on: the kernel's default, and the point.
                    VxlanConfig::new("vx0", Vni::new(860).unwrap())
                        .unwrap()
                        .local(ip(me))
                        .underlay(underlay)
                        .remote(Remote::flood(ip(other))),
                    PortConfig::new().up(),
                )
        };
        let a = desired(
            "10.86.0.1",
            "10.86.0.2",
            "u0",
            "52:54:00:00:86:01",
            "10.87.0.1/24",
        );
        let b = desired(
            "10.86.0.2",
            "10.86.0.1",
            "u1",
            "52:54:00:00:86:02",
            "10.87.0.2/24",
        );
        let first = match a.apply(&nl).await {
            Err(Error::Unsupported { detail, .. }) => {
                lacks(&format!("VXLAN ({detail})"));
                return Ok(());
            }
            other => other?,
        };
        // Item 7: the first apply says what it made beyond the bridge.
        let vx0 = IfName::new("vx0")?;
        assert_eq!(
            first.changes,
            [
                Change::Created,
                Change::VxlanCreated(vx0.clone()),
                Change::RemoteAdded {
                    vxlan: vx0.clone(),
                    remote: Remote::flood(ip("10.86.0.2")),
                },
                Change::PortAttached(vx0.clone()),
            ]
        );
        b.apply(&nl_b).await?;
        assert!(ping(&peer, "10.87.0.1"), "IPv4 across the tunnel");
        // The device learned the peer bridge's MAC behind its VTEP.
        let learned = fdb("vx0")
            .into_iter()
            .find(|e| e["mac"] == "52:54:00:00:86:02" && e.get("dst").is_some())
            .unwrap_or_else(|| panic!("no learned entry: {:?}", fdb("vx0")));
        assert_eq!(learned["dst"], "10.86.0.2");
        assert!(
            learned.get("state").is_none_or(|s| s != "permanent"),
            "{learned}"
        );
        // Item 6: remotes() says which entry is which.
        let vx = Vxlan::open(&nl, "vx0").await?;
        let kinds: Vec<(String, RemoteKind)> = vx
            .remotes()
            .await?
            .iter()
            .map(|r| (r.to_string(), r.kind()))
            .collect();
        assert!(
            kinds.contains(&("52:54:00:00:86:02 -> 10.86.0.2".into(), RemoteKind::Learned)),
            "{kinds:?}"
        );
        assert!(
            kinds.contains(&("00:00:00:00:00:00 -> 10.86.0.2".into(), RemoteKind::Static)),
            "{kinds:?}"
        );
        // Item 6: the handle reads back what iproute2 shows.
        let shown = ip_link("vx0").unwrap();
        assert_eq!(
            vx.learning(),
            shown["linkinfo"]["info_data"]["learning"] == true
        );
        assert_eq!(
            u64::from(vx.port()),
            shown["linkinfo"]["info_data"]["port"].as_u64().unwrap()
        );
        assert_eq!(
            vx.underlay_index().map(u64::from),
            shown["linkinfo"]["info_data"]["link"]
                .as_str()
                .and_then(|l| ip_link(l)?["ifindex"].as_u64())
        );
        assert_eq!(vx.ttl(), None, "ttl auto: {shown}");

        // Item 1: the same config again changes nothing, and nobody sees a
        // thing happen.
        let before = fdb("vx0");
        let watch = Monitors::start();
        let again = a.apply(&nl).await?;
        let seen = watch.seen();
        assert!(again.changes.is_empty(), "{:?}", again.changes);
        assert!(seen.trim().is_empty(), "the re-apply was seen:\n{seen}");
        assert_eq!(fdb("vx0"), before, "the re-apply changed the FDB");

        // Item 1, imperatively: a static remote for the learned MAC pins it.
        vx.add_remote(Remote::for_mac("52:54:00:00:86:02", ip("10.86.0.2")))
            .await?;
        let pinned = fdb("vx0")
            .into_iter()
            .find(|e| e["mac"] == "52:54:00:00:86:02" && e.get("dst").is_some())
            .unwrap();
        assert_eq!(pinned["state"], "permanent", "{pinned}");
        assert!(
            vx.remotes()
                .await?
                .iter()
                .any(
                    |r| r.mac().to_string().to_lowercase() == "52:54:00:00:86:02"
                        && r.kind() == RemoteKind::Static
                )
        );
        Ok(())
    });
}

/// Issue #27, item 4: a bridge MTU a new VXLAN port could not carry, and
/// a VXLAN port named like an existing veth, are refused before any link
/// is made: `ip monitor link` sees nothing come and go.
#[test]
fn vxlan_refusals_come_before_any_link_is_made() {
    netns_test(|nl| async move {
        underlay("10.88.1.1/24");
        veth("vxv", "vxvpeer");
        let vx = |name: &str| {
            VxlanConfig::new(name, 881)
                .unwrap()
                .local(ip("10.88.1.1"))
                .underlay("u0")
        };
        let cases = [
            // u0 has MTU 1500: a VXLAN device on it gets 1450.
            BridgeConfig::new("br0")?
                .mtu(1500)
                .vxlan_port(vx("vx0"), PortConfig::new()),
            // vxv is a veth.
            BridgeConfig::new("br0")?.vxlan_port(vx("vxv"), PortConfig::new()),
        ];
        for config in cases {
            let links = ip_link_names();
            let watch = Monitors::start();
            let err = config.apply(&nl).await.unwrap_err();
            let seen = watch.seen();
            assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
            assert!(
                seen.trim().is_empty(),
                "{err}: links came and went:\n{seen}"
            );
            assert_eq!(ip_link_names(), links);
        }
        Ok(())
    });
}

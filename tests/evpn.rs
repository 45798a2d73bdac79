//! A real distributed control plane fills bridgekit's data plane: FRR's
//! BGP EVPN (zebra + bgpd, one instance per "host" namespace, an iBGP
//! session over the underlay, `advertise-all-vni`). bridgekit builds on
//! each host what FRR expects — a bridge, a VXLAN port with learning off
//! and `neigh_suppress`, a guest namespace behind a veth port — and adds
//! no remote entry itself: zebra installs the flood list and the remote
//! guest's MAC (`extern_learn`), the event stream reports it, and the
//! guests ping each other over IPv4 and IPv6.
//!
//! The daemons are started here, in the hosts' namespaces, and killed at
//! the end; nothing keeps running.

mod common;

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bridgekit::{
    Bridge, BridgeConfig, BridgeEvent, Error, EventKinds, FdbKind, Netlink, PortConfig, Remote,
    RemoteKind, VethNicConfig, Vxlan, VxlanConfig,
};
use common::*;
use futures::StreamExt;
use serde_json::Value;

const FRR: &str = "/usr/lib/frr";

/// zebra and bgpd of one host, killed (and their files removed) on drop.
struct Frr {
    children: Vec<Child>,
    dir: PathBuf,
}

impl Frr {
    /// Starts zebra, then bgpd, inside the namespace at `netns`, with an
    /// iBGP session to `peer` carrying EVPN for every local VNI.
    fn start(netns: &str, name: &str, me: &str, peer: &str) -> Frr {
        let dir =
            std::env::temp_dir().join(format!("bridgekit-evpn-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let d = |f: &str| dir.join(f).to_string_lossy().into_owned();
        std::fs::write(d("zebra.conf"), format!("hostname {name}\n")).unwrap();
        std::fs::write(
            d("bgpd.conf"),
            format!(
                "frr defaults datacenter\n\
                 hostname {name}\n\
                 router bgp 65000\n \
                 bgp router-id {me}\n \
                 no bgp default ipv4-unicast\n \
                 neighbor {peer} remote-as 65000\n \
                 neighbor {peer} timers connect 1\n \
                 address-family l2vpn evpn\n  \
                 neighbor {peer} activate\n  \
                 advertise-all-vni\n \
                 exit-address-family\n"
            ),
        )
        .unwrap();
        // The daemons drop to the frr user (in the frrvty group, which the
        // vty socket needs): the directory is theirs.
        sh(&["chown", "-R", "frr:frr", &dir.to_string_lossy()]);
        let net = format!("--net={netns}");
        let spawn = |daemon: &str, extra: &[&str]| -> Child {
            let mut args = vec![
                net.clone(),
                format!("{FRR}/{daemon}"),
                "-f".into(),
                d(&format!("{daemon}.conf")),
                "-i".into(),
                d(&format!("{daemon}.pid")),
                "-z".into(),
                d("zserv.api"),
                "--vty_socket".into(),
                dir.to_string_lossy().into_owned(),
                "-P".into(),
                "0".into(),
                "--log".into(),
                format!("file:{}", d(&format!("{daemon}.log"))),
            ];
            args.extend(extra.iter().map(|s| s.to_string()));
            Command::new("nsenter")
                .args(&args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {daemon}: {e}"))
        };
        // Held from here on, so that a failure below still stops what
        // started and removes the files.
        let mut frr = Frr {
            children: vec![spawn("zebra", &[])],
            dir: dir.clone(),
        };
        // bgpd connects to zebra's socket: wait for it.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !dir.join("zserv.api").exists() {
            assert!(
                Instant::now() < deadline,
                "zebra of {name} did not start:\n{}",
                frr.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        frr.children.push(spawn("bgpd", &[]));
        frr
    }

    fn logs(&self) -> String {
        ["zebra.log", "bgpd.log"]
            .iter()
            .map(|f| {
                let text = std::fs::read_to_string(self.dir.join(f)).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(15).collect();
                format!(
                    "--- {f}\n{}",
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Frr {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn fdb_has(bridge_fdb: &str, mac: &str, flag: &str) -> bool {
    let v: Value = serde_json::from_str(bridge_fdb).unwrap_or(Value::Null);
    v.as_array().is_some_and(|a| {
        a.iter().any(|e| {
            e["mac"] == mac
                && e["flags"]
                    .as_array()
                    .is_some_and(|f| f.iter().any(|x| x == flag))
        })
    })
}

#[test]
fn frr_evpn_drives_the_data_plane_bridgekit_built() {
    netns_test(|nl| async move {
        if !std::path::Path::new(&format!("{FRR}/bgpd")).exists() {
            lacks("FRR (zebra and bgpd in /usr/lib/frr: apt-get install frr)");
            return Ok(());
        }
        // The daemons drop to the frr user, whose files a user namespace
        // cannot hand over (chown to an unmapped user is EINVAL).
        if skip_rootless("FRR's daemons (they run as the frr user)") {
            return Ok(());
        }
        let host_b = PeerNetns::new();
        let guest_a = PeerNetns::new();
        let guest_b = PeerNetns::new();
        veth("u0", "u1");
        sh(&["ip", "link", "set", "u1", "netns", &host_b.tid()]);
        sh(&["ip", "addr", "add", "10.83.0.1/24", "dev", "u0"]);
        sh(&["ip", "link", "set", "u0", "up"]);
        sh(&["ip", "link", "set", "lo", "up"]);
        host_b.sh(&["ip", "addr", "add", "10.83.0.2/24", "dev", "u1"]);
        host_b.sh(&["ip", "link", "set", "u1", "up"]);
        host_b.sh(&["ip", "link", "set", "lo", "up"]);
        let nl_b = Netlink::connect_in_netns(host_b.path())?;

        // The same data plane on both hosts, built by bridgekit.
        let mut bridges = Vec::new();
        for (nl, underlay, me, br_mac, guest, guest_mac, addr, addr6) in [
            (
                &nl,
                "u0",
                "10.83.0.1",
                "52:54:00:00:83:01",
                &guest_a,
                "52:54:00:00:84:01",
                "10.84.0.1/24",
                "fd84::1/64",
            ),
            (
                &nl_b,
                "u1",
                "10.83.0.2",
                "52:54:00:00:83:02",
                &guest_b,
                "52:54:00:00:84:02",
                "10.84.0.2/24",
                "fd84::2/64",
            ),
        ] {
            match Vxlan::create(
                nl,
                VxlanConfig::new("vx100", 100)?
                    .local(me.parse()?)
                    .underlay(underlay)
                    .learning(false),
            )
            .await
            {
                Ok(_) => {}
                Err(Error::Unsupported { detail, .. }) => {
                    lacks(&format!("VXLAN ({detail})"));
                    return Ok(());
                }
                Err(e) => return Err(e.into()),
            }
            let br = Bridge::create(
                nl,
                BridgeConfig::new("br100")?.mac(br_mac).port(
                    "vx100",
                    PortConfig::new().learning(false).neigh_suppress(true).up(),
                ),
            )
            .await?;
            br.up().await?;
            bridgekit::VethNic::create(
                &br,
                VethNicConfig::new(guest.path())
                    .name("eth0")
                    .mac(guest_mac)
                    .address(addr)
                    .address(addr6)
                    .port(PortConfig::new().up()),
            )
            .await?;
            bridges.push(br);
        }
        let mut events = bridges[0]
            .events_with(EventKinds::new().fdb(true).remotes(true))
            .await?;

        // This thread's namespace is host A.
        // SAFETY: gettid has no preconditions.
        let here = format!("/proc/{}/task/{}/ns/net", std::process::id(), unsafe {
            libc::gettid()
        });
        let frr_a = Frr::start(&here, "hosta", "10.83.0.1", "10.83.0.2");
        let frr_b = Frr::start(host_b.path(), "hostb", "10.83.0.2", "10.83.0.1");

        // Guest B sends a frame, so host B's bridge learns its MAC and
        // zebra advertises it.
        let guest_b_mac = "52:54:00:00:84:02";
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let _ = guest_b.sh(&["ping", "-c", "1", "-W", "1", "10.84.0.2"]);
            let fdb = sh(&["bridge", "-j", "fdb", "show", "br", "br100"]);
            if fdb_has(&fdb, guest_b_mac, "extern_learn") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "zebra never installed guest B's MAC on host A: {fdb}\nhost A:\n{}\nhost B:\n{}",
                frr_a.logs(),
                frr_b.logs()
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }

        // bridgekit's event stream saw zebra's entry.
        let want: bridgekit::macaddr::MacAddr6 = guest_b_mac.parse()?;
        let b_vtep: IpAddr = "10.83.0.2".parse()?;
        let (mut mac_seen, mut flood_seen) = (None, false);
        let _ = tokio::time::timeout(Duration::from_secs(10), async {
            while let Some(ev) = events.next().await {
                match ev {
                    Ok(BridgeEvent::FdbAdded(e))
                        if e.mac == want && e.kind == FdbKind::ExternLearned =>
                    {
                        mac_seen = Some(e)
                    }
                    Ok(BridgeEvent::RemoteAdded { remote, .. })
                        if remote.is_flood() && remote.dst() == b_vtep =>
                    {
                        // zebra writes its flood list static, not
                        // extern_learn: only the config can say whose it is.
                        assert_eq!(remote.kind(), RemoteKind::Static, "{remote}");
                        flood_seen = true
                    }
                    _ => {}
                }
                if mac_seen.is_some() && flood_seen {
                    break;
                }
            }
        })
        .await;
        let entry =
            mac_seen.expect("no FdbAdded(extern_learn) for guest B's MAC in the event stream");
        assert_eq!(entry.port.as_str(), "vx100");
        assert!(
            flood_seen,
            "no RemoteAdded for zebra's flood entry towards host B in the event stream"
        );

        // zebra, not bridgekit, made the flood list: host B's VTEP is in it.
        let vx = Vxlan::open(&nl, "vx100").await?;
        let remotes = vx.remotes().await?;
        let zebras = |remotes: &[Remote]| {
            remotes
                .iter()
                .any(|r| r.is_flood() && r.dst() == b_vtep && r.kind() == RemoteKind::Static)
        };
        assert!(zebras(&remotes), "no flood entry from zebra: {remotes:?}");

        // Issue #27, item 2: a config that declares a remote of its own on
        // the device zebra manages, its remotes shared, adds that one and
        // leaves zebra's entries alone; a second apply changes nothing, and
        // zebra's entries are still there.
        let extra: IpAddr = "10.83.0.9".parse()?;
        let declared = BridgeConfig::new("br100")?
            .mac("52:54:00:00:83:01")
            .vxlan_port(
                VxlanConfig::new("vx100", 100)?
                    .local("10.83.0.1".parse()?)
                    .underlay("u0")
                    .learning(false)
                    .remote(Remote::flood(extra))
                    .shared_remotes(true),
                PortConfig::new().learning(false).neigh_suppress(true).up(),
            );
        let first = declared.apply(&nl).await?;
        assert_eq!(
            first.changes,
            [bridgekit::Change::RemoteAdded {
                vxlan: bridgekit::IfName::new("vx100")?,
                remote: Remote::flood(extra),
            }]
        );
        let again = declared.apply(&nl).await?;
        assert!(again.changes.is_empty(), "{:?}", again.changes);
        let remotes = vx.remotes().await?;
        assert!(zebras(&remotes), "zebra's flood entry is gone: {remotes:?}");
        let fdb = sh(&["bridge", "-j", "fdb", "show", "br", "br100"]);
        assert!(
            fdb_has(&fdb, guest_b_mac, "extern_learn"),
            "zebra's MAC entry is gone: {fdb}"
        );

        // And the guests talk across.
        assert!(ping(&guest_a, "10.84.0.2"), "IPv4 guest to guest over EVPN");
        assert!(ping(&guest_a, "fd84::2"), "IPv6 guest to guest over EVPN");
        drop(frr_a);
        drop(frr_b);
        Ok(())
    });
}

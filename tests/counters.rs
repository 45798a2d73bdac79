//! Traffic counters after real traffic, compared with `ip -s -j link`: a
//! bridge's ports (one by one and in one dump), and each kind of guest
//! NIC. IPv6 is off in every namespace here, so nothing but the test's own
//! traffic moves the counters; each comparison is taken between two equal
//! reads of ours, so that it compares a state, not a moment.

mod common;

use std::os::fd::AsRawFd;
use std::time::Duration;

use bridgekit::{
    Bridge, BridgeConfig, Counters, Error, MacvtapNic, MacvtapNicConfig, PortConfig, VethNic,
    VethNicConfig, VmNic, VmNicConfig,
};
use common::*;
use serde_json::Value;

/// IPv6 off for every link made from now on in the calling thread's
/// namespace: no router solicitations or DAD to count.
fn quiet() {
    for knob in ["all", "default"] {
        std::fs::write(format!("/proc/sys/net/ipv6/conf/{knob}/disable_ipv6"), "1").unwrap();
    }
}

/// `ip -s -j link show DEV` as bridgekit's counters.
fn ip_counters(dev: &str) -> Counters {
    let v: Value =
        serde_json::from_str(&sh(&["ip", "-s", "-j", "link", "show", "dev", dev])).unwrap();
    let s = &v[0]["stats64"];
    let n = |dir: &str, k: &str| {
        s[dir][k]
            .as_u64()
            .unwrap_or_else(|| panic!("{dir}.{k}: {s}"))
    };
    let mut c = Counters::default();
    c.rx_bytes = n("rx", "bytes");
    c.rx_packets = n("rx", "packets");
    c.rx_errors = n("rx", "errors");
    c.rx_dropped = n("rx", "dropped");
    c.multicast = n("rx", "multicast");
    c.tx_bytes = n("tx", "bytes");
    c.tx_packets = n("tx", "packets");
    c.tx_errors = n("tx", "errors");
    c.tx_dropped = n("tx", "dropped");
    c
}

/// Ours, iproute2's, ours again, until the two of ours agree (nothing
/// moved in between); then iproute2's must be the same.
async fn compare<F, Fut>(dev: &str, mut ours: F) -> Counters
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Counters, Error>>,
{
    for _ in 0..20 {
        let a = ours().await.expect("our counters");
        let theirs = ip_counters(dev);
        let b = ours().await.expect("our counters");
        if a == b {
            assert_eq!(a, theirs, "{dev}: bridgekit's counters vs ip -s link");
            return a;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{dev}: the counters never held still");
}

#[test]
fn a_ports_counters_match_ip_s_link_after_real_traffic() {
    netns_test(|nl| async move {
        quiet();
        let br = Bridge::create(
            &nl,
            BridgeConfig::new("br0")?
                .mac("52:54:00:00:61:01")
                .disable_ipv6(true)
                .address("10.61.0.1/24")
                .forward_delay(Duration::ZERO)
                .up(),
        )
        .await?;
        let peer = PeerNetns::new();
        peer.sh(&["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"]);
        peer.sh(&["sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1"]);
        let nic = VethNic::create(
            &br,
            VethNicConfig::new(peer.path())
                .host_name("vnet0")
                .name("eth0")
                .mac("52:54:00:00:61:02")
                .address("10.61.0.2/24")
                .port(PortConfig::new().up()),
        )
        .await?;
        wait_forwarding("vnet0").await;
        let before = compare("vnet0", || br.port_counters("vnet0")).await;
        assert!(ping(&peer, "10.61.0.1"));
        assert!(
            peer.sh(&["ping", "-c", "20", "-i", "0.01", "-q", "10.61.0.1"])
                .contains("20 received")
        );
        let after = compare("vnet0", || br.port_counters("vnet0")).await;
        // The guest's requests come in on the port (rx), the answers go
        // out (tx): at least the 20 echoes each way, 98 bytes on the wire.
        assert!(
            after.rx_packets >= before.rx_packets + 20,
            "{before:?} -> {after:?}"
        );
        assert!(
            after.tx_packets >= before.tx_packets + 20,
            "{before:?} -> {after:?}"
        );
        assert!(
            after.rx_bytes >= before.rx_bytes + 20 * 98,
            "{before:?} -> {after:?}"
        );
        // The NIC's own view, and the dump with every port's.
        compare("vnet0", || nic.counters()).await;
        compare("vnet0", || async {
            let ports = br.ports_with_counters().await?;
            Ok(ports[0].counters.expect("counters in the dump"))
        })
        .await;
        // Without counters unless asked for.
        assert!(br.ports().await?[0].counters.is_none());
        assert!(br.status().await?.ports[0].counters.is_none());
        #[cfg(feature = "serde")]
        {
            let ports = br.ports_with_counters().await?;
            let doc = serde_json::to_value(&ports[0])?;
            assert_eq!(
                doc["counters"]["rx_packets"],
                ports[0].counters.unwrap().rx_packets
            );
            let plain = serde_json::to_value(&br.ports().await?[0])?;
            assert!(plain.get("counters").is_none(), "{plain}");
        }
        // A link that is not a port of the bridge.
        veth("x0", "x0peer");
        assert!(matches!(
            br.port_counters("x0").await,
            Err(Error::NotAPort { .. })
        ));
        assert!(matches!(
            br.port_counters("nosuch0").await,
            Err(Error::NotFound { .. })
        ));
        Ok(())
    });
}

#[test]
fn a_taps_counters_count_what_the_guest_wrote() {
    netns_test(|nl| async move {
        if !can_make_taps() {
            return Ok(());
        }
        quiet();
        let br = Bridge::create(
            &nl,
            BridgeConfig::new("br0")?
                .mac("52:54:00:00:62:01")
                .disable_ipv6(true),
        )
        .await?;
        let guest = "52:54:00:00:62:02";
        let nic = VmNic::create(
            &br,
            VmNicConfig::new(guest)
                .vnet_hdr(false)
                .port(PortConfig::managed(guest).up()),
        )
        .await?;
        let name = nic.name().to_string();
        let before = compare(&name, || nic.counters()).await;
        // Three frames from the guest: broadcast, of an ethertype no one
        // takes.
        let mut frame = vec![0xff; 6];
        frame.extend_from_slice(&[0x52, 0x54, 0, 0, 0x62, 2, 0x88, 0xb5]);
        frame.resize(60, 0);
        let fd = nic.queue_fds()[0].as_raw_fd();
        for _ in 0..3 {
            // SAFETY: writes from a live buffer to the tap's queue fd.
            let n = unsafe { libc::write(fd, frame.as_ptr().cast(), frame.len()) };
            assert_eq!(n, 60, "{}", std::io::Error::last_os_error());
        }
        let after = compare(&name, || nic.counters()).await;
        assert_eq!(
            after.rx_packets,
            before.rx_packets + 3,
            "{before:?} -> {after:?}"
        );
        assert_eq!(
            after.rx_bytes,
            before.rx_bytes + 180,
            "{before:?} -> {after:?}"
        );
        compare(&name, || br.port_counters(name.as_str())).await;
        Ok(())
    });
}

#[test]
fn a_macvtaps_counters_match_ip_s_link() {
    netns_test(|nl| async move {
        quiet();
        veth("lw0", "lw0peer");
        sh(&["ip", "link", "set", "lw0peer", "up"]);
        sh(&["ip", "link", "set", "lw0", "up"]);
        let nic = match MacvtapNic::create(&nl, MacvtapNicConfig::new("lw0", "52:54:00:00:63:02"))
            .await
        {
            Ok(nic) => nic,
            Err(Error::Unsupported { .. }) => {
                lacks("the macvtap link kind (CONFIG_MACVTAP)");
                return Ok(());
            }
            Err(e @ Error::PermissionDenied { .. })
                if skip_rootless(&format!("a macvtap NIC's queue device ({e})")) =>
            {
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        let name = nic.name().to_string();
        // Frames from the lower device's peer to the guest's MAC.
        let mut frame = vec![
            0x52, 0x54, 0, 0, 0x63, 2, 0x52, 0x54, 0, 0, 0x63, 9, 0x88, 0xb5,
        ];
        frame.resize(60, 0);
        let before = compare(&name, || nic.counters()).await;
        let sock = common::frames::packet_socket(None, "lw0peer");
        for _ in 0..4 {
            common::frames::send(&sock, &frame);
        }
        // A macvtap is the guest's own interface on the lower device:
        // what comes in for the guest is its rx (to its queue, or dropped
        // there when no one reads it).
        let toward_guest = |c: &Counters| c.rx_packets + c.rx_dropped;
        let mut after = before;
        for _ in 0..50 {
            after = compare(&name, || nic.counters()).await;
            if toward_guest(&after) >= toward_guest(&before) + 4 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(
            toward_guest(&after) >= toward_guest(&before) + 4,
            "{before:?} -> {after:?}"
        );
        Ok(())
    });
}

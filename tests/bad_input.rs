//! Bad input is rejected with a specific error before any netlink traffic,
//! and never panics.

mod common;

use std::time::Duration;

use bridgekit::{Bridge, BridgeConfig, Error, IfName, ToAddress};
use common::*;

fn assert_invalid<T: std::fmt::Debug>(case: &str, r: Result<T, Error>, needle: &str) {
    match r {
        Err(Error::InvalidInput { .. }) => {
            let text = r.unwrap_err().to_string();
            assert!(
                text.contains(needle),
                "{case}: message {text:?} lacks {needle:?}"
            );
        }
        other => panic!("{case}: expected InvalidInput, got {other:?}"),
    }
}

#[test]
fn bad_names() {
    let cases = [
        ("", "empty"),
        ("0123456789abcdef", "16 bytes"),
        ("a/b", "'/'"),
        ("a b", "whitespace"),
        ("a\tb", "whitespace"),
        ("a\0b", "NUL"),
        (".", "reserved"),
        ("..", "reserved"),
        ("eth0:1", "':'"),
    ];
    for (name, needle) in cases {
        assert_invalid(name, IfName::new(name), needle);
        assert_invalid(name, BridgeConfig::new(name), needle);
    }
}

#[test]
fn bad_addresses() {
    let cases = [
        ("fd00::1/129", "prefix length"),
        ("10.0.0.1/33", "prefix length"),
        ("10.0.0.1", "ADDRESS/PREFIX_LENGTH"),
        ("10.0.0.300/24", "not an IPv4 or IPv6"),
        ("10.0.0.1/x", "prefix length is not a number"),
        ("0.0.0.0/8", "unspecified"),
        ("::/0", "unspecified"),
        ("224.0.0.1/4", "multicast"),
        ("ff02::1/64", "multicast"),
        ("255.255.255.255/32", "broadcast"),
    ];
    for (a, needle) in cases {
        assert_invalid(a, a.to_address(), needle);
    }
}

/// Every entry point, on a live bridge: the error is specific and the
/// request counter proves nothing reached the kernel.
#[test]
fn bad_input_sends_nothing() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?).await?;
        let before = nl.requests_sent();
        let mac = |s: &str| s.parse::<macaddr::MacAddr6>().unwrap();

        assert_invalid(
            "multicast MAC",
            br.set_mac(mac("01:00:5e:00:00:01")).await,
            "multicast",
        );
        assert_invalid(
            "broadcast MAC",
            br.set_mac(mac("ff:ff:ff:ff:ff:ff")).await,
            "broadcast",
        );
        assert_invalid(
            "zero MAC",
            br.set_mac(mac("00:00:00:00:00:00")).await,
            "all-zero",
        );
        assert_invalid("MTU 0", br.set_mtu(0).await, "68..=65535");
        assert_invalid("MTU 67", br.set_mtu(67).await, "68..=65535");
        assert_invalid("MTU 65536", br.set_mtu(65536).await, "68..=65535");
        assert_invalid(
            "v6 prefix 129",
            br.add_address("fd00::1/129").await,
            "prefix length",
        );
        assert_invalid(
            "v4 prefix 33",
            br.add_address("10.0.0.1/33").await,
            "prefix length",
        );
        assert_invalid(
            "nodad on IPv4",
            br.add_address_nodad("10.0.0.1/24").await,
            "IPv6 addresses only",
        );
        assert_invalid(
            "remove multicast",
            br.remove_address("ff02::1/64").await,
            "multicast",
        );
        assert_invalid(
            "huge forward delay",
            br.set_forward_delay(Duration::from_secs(100_000_000)).await,
            "too long",
        );
        assert_invalid(
            "huge ageing",
            br.set_ageing_time(Duration::from_secs(100_000_000)).await,
            "too long",
        );
        assert_invalid("open bad name", Bridge::open(&nl, "a/b").await, "'/'");
        let cfg = || BridgeConfig::new("brnew").unwrap();
        assert_invalid(
            "create multicast MAC",
            Bridge::create(&nl, cfg().mac(mac("33:33:00:00:00:01"))).await,
            "multicast",
        );
        assert_invalid(
            "create zero MAC",
            Bridge::create(&nl, cfg().mac(mac("00:00:00:00:00:00"))).await,
            "all-zero",
        );
        assert_invalid(
            "create MTU 10",
            Bridge::create(&nl, cfg().mtu(10)).await,
            "68..=65535",
        );
        assert_invalid(
            "create MTU 70000",
            Bridge::create(&nl, cfg().mtu(70_000)).await,
            "68..=65535",
        );
        assert_invalid(
            "create STP with forward delay 0",
            Bridge::create(&nl, cfg().stp(true).forward_delay(Duration::ZERO)).await,
            "2..=30 s",
        );
        assert_invalid(
            "create STP with forward delay 31 s",
            Bridge::create(&nl, cfg().stp(true).forward_delay(Duration::from_secs(31))).await,
            "2..=30 s",
        );
        // Ports, FDB, VLANs and the bulk calls.
        use bridgekit::{PortConfig, VlanId, VlanMember, VlanRange};
        let vid = |v| VlanId::new(v).unwrap();
        assert_invalid(
            "attach bad name",
            br.attach_port("a b", PortConfig::new()).await,
            "whitespace",
        );
        assert_invalid(
            "attach ifindex 0",
            br.attach_port(0u32, PortConfig::new()).await,
            "ifindex 0",
        );
        assert_invalid(
            "port cost 0",
            br.attach_port("p0", PortConfig::new().cost(0)).await,
            "1..=65535",
        );
        assert_invalid(
            "port cost 65536",
            br.attach_port("p0", PortConfig::new().cost(65536)).await,
            "1..=65535",
        );
        assert_invalid(
            "port priority 64",
            br.attach_port("p0", PortConfig::new().priority(64)).await,
            "0..=63",
        );
        assert_invalid(
            "managed multicast guest MAC",
            br.attach_port("p0", PortConfig::managed(mac("01:00:5e:00:00:09")))
                .await,
            "multicast",
        );
        assert_invalid(
            "port FDB zero MAC",
            br.attach_port(
                "p0",
                PortConfig::new().fdb_entry(mac("00:00:00:00:00:00"), None),
            )
            .await,
            "all-zero",
        );
        assert_invalid(
            "port VLAN PVID range",
            br.attach_port(
                "p0",
                PortConfig::new().vlan(VlanMember::tagged(VlanRange::new(2, 3)?).pvid()),
            )
            .await,
            "single VLAN",
        );
        assert_invalid("detach bad name", br.detach_port("..").await, "reserved");
        assert_invalid(
            "add_fdb multicast",
            br.add_fdb("p0", mac("33:33:00:00:00:01"), None).await,
            "multicast",
        );
        assert_invalid(
            "add_fdb broadcast",
            br.add_fdb("p0", mac("ff:ff:ff:ff:ff:ff"), None).await,
            "broadcast",
        );
        assert_invalid(
            "add_fdb bad port",
            br.add_fdb("", mac("52:54:00:00:00:01"), None).await,
            "empty",
        );
        assert_invalid(
            "remove_fdb bad port",
            br.remove_fdb("x/y", mac("52:54:00:00:00:01"), None).await,
            "'/'",
        );
        assert_invalid("add_vlans empty", br.add_vlans("p0", &[]).await, "empty");
        assert_invalid(
            "add_vlans two PVIDs",
            br.add_vlans(
                "p0",
                &[VlanMember::access(vid(5)), VlanMember::access(vid(6))],
            )
            .await,
            "only one PVID",
        );
        assert_invalid(
            "add_vlans overlap",
            br.add_vlans(
                "p0",
                &[
                    VlanMember::tagged(VlanRange::new(1, 9)?),
                    VlanMember::tagged(vid(9)),
                ],
            )
            .await,
            "listed twice",
        );
        assert_invalid(
            "remove_vlans empty",
            br.remove_vlans("p0", &[]).await,
            "empty",
        );
        assert_invalid(
            "vlans bad name",
            br.vlans("0123456789abcdefg").await,
            "17 bytes long",
        );
        assert_invalid(
            "attach_ports duplicate",
            br.attach_ports([("p0", PortConfig::new()), ("p0", PortConfig::new())])
                .await,
            "listed twice",
        );
        assert_invalid(
            "detach_ports duplicate",
            br.detach_ports([3u32, 3u32]).await,
            "listed twice",
        );
        assert_invalid("VLAN 0", VlanId::new(0), "1..=4094");
        assert_invalid("VLAN 4095", VlanId::new(4095), "1..=4094");
        assert_invalid(
            "VLAN range reversed",
            VlanRange::new(20, 10),
            "start is above end",
        );
        assert_invalid(
            "VLAN range text",
            "10-x".parse::<VlanRange>(),
            "not a number",
        );
        // MACs given as text: a typed error, as for any bad MAC.
        assert_invalid(
            "MAC text",
            br.set_mac("52:54:00:zz:00:01").await,
            "six hex bytes",
        );
        assert_invalid(
            "MAC text in a config",
            Bridge::create(&nl, BridgeConfig::new("brnew")?.mac("52:54:00")).await,
            "MAC address \"52:54:00\"",
        );
        assert_invalid(
            "managed MAC text",
            br.attach_port("p0", PortConfig::managed("guest")).await,
            "MAC address \"guest\"",
        );
        assert_invalid(
            "FDB MAC text",
            br.attach_port("p0", PortConfig::new().fdb_entry("1:2:3", None))
                .await,
            "six hex bytes",
        );
        assert_invalid(
            "FDB MAC text, add_fdb",
            br.add_fdb("p0", "not a mac", None).await,
            "six hex bytes",
        );
        assert_invalid(
            "VM NIC MAC text",
            bridgekit::VmNic::create(&br, bridgekit::VmNicConfig::new("52-54")).await,
            "MAC address \"52-54\"",
        );
        assert_invalid(
            "VM NIC host MAC text",
            bridgekit::VmNic::create(
                &br,
                bridgekit::VmNicConfig::new("52:54:00:00:00:07").host_mac("fe:"),
            )
            .await,
            "MAC address \"fe:\"",
        );
        assert_eq!(
            nl.requests_sent(),
            before,
            "input errors must not reach the kernel"
        );
        assert!(ip_link("brnew").is_none());
        Ok(())
    });
}

/// Valid input about things that are not there, or not bridges: the
/// kernel's answer, with meaning.
#[test]
fn missing_and_wrong_kind_interfaces() {
    netns_test(|nl| async move {
        let err = Bridge::open(&nl, "nope0").await.unwrap_err();
        assert!(matches!(err, Error::NotFound { .. }), "{err}");
        let err = Bridge::open(&nl, "lo").await.unwrap_err();
        assert!(
            matches!(err, Error::NotABridge { ref kind, .. } if kind == "device"),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            "open bridge lo: interface exists but is a device, not a bridge"
        );
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?).await?;
        let err = br.remove_address("10.9.9.9/24").await.unwrap_err();
        assert_eq!(err.errno(), Some(libc::EADDRNOTAVAIL), "{err}");
        assert!(matches!(err, Error::NoSuchEntry { .. }), "{err}");
        assert_eq!(
            err.to_string(),
            "remove address from br0: address 10.9.9.9/24 not present"
        );
        // Ports: missing, the bridge itself, another bridge, already enslaved.
        use bridgekit::PortConfig;
        let err = br
            .attach_port("nope0", PortConfig::new())
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "attach port nope0 (a port of bridge br0): no such interface"
        );
        let err = br.attach_port("br0", PortConfig::new()).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid port br0: a bridge cannot be its own port"
        );
        let other = Bridge::create(&nl, BridgeConfig::new("br1")?).await?;
        let err = br.attach_port("br1", PortConfig::new()).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid port br1: is a bridge; bridges cannot be nested"
        );
        veth("p0", "p0peer");
        other.attach_port("p0", PortConfig::new()).await?;
        let err = br.attach_port("p0", PortConfig::new()).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "attach port p0: already a port of bridge br1"
        );
        let err = br.detach_port("p0").await.unwrap_err();
        assert!(matches!(err, Error::NotAPort { .. }), "{err}");
        let err = br.vlans("p0").await.unwrap_err();
        assert!(matches!(err, Error::NotAPort { .. }), "{err}");
        let err = br
            .add_fdb("p0", "52:54:00:00:00:01", None)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::NotAPort { .. }), "{err}");
        let err = Bridge::open(&nl, "p0").await.unwrap_err();
        assert!(
            matches!(err, Error::NotABridge { ref kind, .. } if kind == "veth"),
            "{err}"
        );
        Ok(())
    });
}

/// Every refusal says which kind of input it was, to match on: from a
/// value's constructor, from a builder that keeps its first bad input
/// until the call, and from a call's own checks. Nothing is sent.
#[test]
fn each_refusal_names_its_kind() {
    use bridgekit::{InputKind as K, PortConfig, VlanId, VlanRange, VmNicConfig, Vni};
    fn kind<T: std::fmt::Debug>(case: &str, r: Result<T, Error>) -> K {
        match r {
            Err(Error::InvalidInput { what, .. }) => what,
            other => panic!("{case}: expected InvalidInput, got {other:?}"),
        }
    }
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?).await?;
        let before = nl.requests_sent();
        let cfg = || BridgeConfig::new("brnew").unwrap();
        let cases = [
            ("name", kind("name", IfName::new("a/b")), K::InterfaceName),
            ("VLAN", kind("VLAN", VlanId::new(4095)), K::VlanId),
            ("range", kind("range", VlanRange::new(20, 10)), K::VlanList),
            ("VNI", kind("VNI", Vni::new(1 << 24)), K::Vni),
            (
                "address",
                kind("address", "224.0.0.1/4".to_address()),
                K::Address,
            ),
            (
                "prefix",
                kind("prefix", "10.0.0.1/33".to_address()),
                K::PrefixLength,
            ),
            (
                "create with a bad MAC",
                kind("", Bridge::create(&nl, cfg().mac("zz")).await),
                K::MacAddress,
            ),
            (
                "create with MTU 10",
                kind("", Bridge::create(&nl, cfg().mtu(10)).await),
                K::Mtu,
            ),
            ("set_mtu", kind("", br.set_mtu(67).await), K::Mtu),
            (
                "forward delay",
                kind(
                    "",
                    br.set_forward_delay(Duration::from_secs(100_000_000)).await,
                ),
                K::BridgeOption,
            ),
            (
                "port cost",
                kind("", br.attach_port("p0", PortConfig::new().cost(0)).await),
                K::PortOption,
            ),
            (
                "managed port with a bad MAC",
                kind("", br.attach_port("p0", PortConfig::managed("zz")).await),
                K::MacAddress,
            ),
            (
                "NIC with a bad guest MAC",
                kind(
                    "",
                    bridgekit::VmNic::create(&br, VmNicConfig::new("zz")).await,
                ),
                K::MacAddress,
            ),
        ];
        for (case, got, want) in cases {
            assert_eq!(got, want, "{case}");
        }
        assert_eq!(nl.requests_sent(), before, "a refusal sent a request");
        Ok(())
    });
}

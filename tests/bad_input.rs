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
        assert!(err.to_string().contains("br0 (10.9.9.9/24)"), "{err}");
        Ok(())
    });
}

//! Property tests of every parser and validator, against reference
//! predicates written from the kernel's rules. Bounded (proptest's default
//! 256 cases each) so they run in CI; `PROPTEST_CASES=100000 cargo test
//! --test properties` for a long run.

use std::net::IpAddr;

use bridgekit::{IfName, ToAddress, VlanId, VlanRange};
use proptest::prelude::*;

/// The kernel's `dev_valid_name()`, plus ':' (refused by `dev_get_valid_name`).
fn kernel_accepts(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 15
        && name != "."
        && name != ".."
        && !name
            .chars()
            .any(|c| c == '/' || c == ':' || c == '\0' || c.is_whitespace())
}

proptest! {
    #[test]
    fn ifname_accepts_exactly_the_kernels_names(name in "\\PC{0,20}|[a-z0-9./: \t\0-]{0,18}") {
        let ours = IfName::new(&name);
        prop_assert_eq!(ours.is_ok(), kernel_accepts(&name), "{:?}: {:?}", name, ours);
        if let Ok(n) = ours {
            prop_assert_eq!(n.as_str(), name.as_str());
        }
    }

    #[test]
    fn address_parsing_never_panics_and_keeps_what_it_accepts(text in "\\PC{0,48}") {
        if let Ok(net) = text.as_str().to_address() {
            prop_assert_eq!(net.to_string(), text.trim());
        }
    }

    #[test]
    fn address_rules(a in any::<[u8; 4]>(), b in any::<[u8; 16]>(), p4 in 0u8..40, p6 in 0u8..140) {
        let v4 = IpAddr::from(a);
        let v6 = IpAddr::from(b);
        for (ip, p, max) in [(v4, p4, 32u8), (v6, p6, 128u8)] {
            let ok = (ip, p).to_address();
            let special = ip.is_unspecified() || ip.is_multicast()
                || ip == IpAddr::from([255, 255, 255, 255]);
            prop_assert_eq!(ok.is_ok(), p <= max && !special, "{} /{}: {:?}", ip, p, ok);
        }
    }

    #[test]
    fn vlan_ids_and_ranges(a in any::<u16>(), b in any::<u16>()) {
        prop_assert_eq!(VlanId::new(a).is_ok(), (1..=4094).contains(&a));
        let r = VlanRange::new(a, b);
        prop_assert_eq!(r.is_ok(), (1..=4094).contains(&a) && (1..=4094).contains(&b) && a <= b);
        if let Ok(r) = r {
            prop_assert_eq!(r.len(), usize::from(b - a) + 1);
            let back: VlanRange = r.to_string().parse().unwrap();
            prop_assert_eq!(back, r);
        }
    }

    #[test]
    fn vlan_text_never_panics(text in "\\PC{0,12}|[0-9-]{0,12}") {
        let _ = text.parse::<VlanRange>();
        let _ = text.parse::<VlanId>();
    }
}

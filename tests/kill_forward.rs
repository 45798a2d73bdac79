//! The kill harness (see `tests/kill.rs`) on `apply` of NAT onto an
//! existing bridge: the rules, the forwarding sysctls, a guest port.

mod common;

use common::kill::{Op, harness};
use common::*;

#[test]
fn an_apply_of_nat_killed_anywhere_converges() {
    netns_test(|nl| async move {
        harness(&nl, Op::ApplyNat).await?;
        // The views compared held the rules and the sysctls.
        let rules = nft_rules();
        assert!(
            rules
                .iter()
                .any(|r| r.contains("br0/nat") && r.contains("masquerade")),
            "{rules:?}"
        );
        assert_eq!(
            std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward")?.trim(),
            "1"
        );
        Ok(())
    });
}

/// The half the harness kills; runs only when a test above starts it.
#[test]
#[ignore = "started by the kill harness"]
fn kill_child() {
    common::kill::child_main();
}

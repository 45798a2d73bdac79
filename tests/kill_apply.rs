//! The kill harness (see `tests/kill.rs`) on `apply` of three ports with
//! VLANs onto an existing bridge: kernel tier (it needs bridge VLAN
//! filtering, which the host kernel here lacks).

mod common;

use common::kill::{Op, harness};
use common::*;

#[test]
fn an_apply_of_ports_and_vlans_killed_anywhere_converges() {
    netns_test(|nl| async move {
        if !has_vlan_filtering(&nl).await? {
            return Ok(());
        }
        harness(&nl, Op::ApplyPortsAndVlans).await
    });
}

/// The half the harness kills; runs only when a test above starts it.
#[test]
#[ignore = "started by the kill harness"]
fn kill_child() {
    common::kill::child_main();
}

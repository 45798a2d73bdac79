//! The kill harness (see `tests/kill.rs`) on `VmNic::create` with its
//! attach, on an existing bridge.

mod common;

use common::kill::{Op, harness};
use common::*;

#[test]
fn a_vm_nic_create_killed_anywhere_converges() {
    netns_test(|nl| async move {
        // can_make_taps says why it skips (and fails in the kernel tier).
        if !can_make_taps() {
            return Ok(());
        }
        harness(&nl, Op::VmNicCreate).await
    });
}

/// The half the harness kills; runs only when a test above starts it.
#[test]
#[ignore = "started by the kill harness"]
fn kill_child() {
    common::kill::child_main();
}

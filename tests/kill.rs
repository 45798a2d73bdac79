//! The kill harness: a daemon SIGKILLed in the middle of bringing a network
//! up, restarted, applies the same desired state, and must end exactly
//! where an uninterrupted run ends.
//!
//! For each multi-step operation the test binary re-runs itself as a child
//! that performs the operation once and is SIGKILLed. The operation is
//! timed first (uninterrupted), then killed at 40 points spread over 1.5
//! times that duration. After each kill the parent applies the same desired
//! state, waits for IPv6 DAD, and compares iproute2's whole view of the
//! namespace — links with their bridge and port options, admin state and
//! `addrgenmode`, addresses with their flags (link-local included), the
//! IPv6 settings, FDB and VLANs — with the view after the uninterrupted
//! run. Zero mismatches, on the host kernel and in the kernel tier.

//!
//! One operation family per test binary (`kill.rs`: the two creates;
//! `kill_apply.rs`; `kill_vm_nic.rs`), so that each kernel-tier guest,
//! on an emulated CPU, stays within its time limit. The harness itself
//! is `tests/common/kill.rs`.

mod common;

use common::kill::{Op, harness};
use common::*;

#[test]
fn a_staged_create_killed_anywhere_converges() {
    netns_test(|nl| async move { harness(&nl, Op::StagedCreate).await });
}

#[test]
fn a_one_message_create_killed_anywhere_converges() {
    netns_test(|nl| async move { harness(&nl, Op::OneMessageCreate).await });
}

/// The half the harness kills; runs only when a test above starts it.
#[test]
#[ignore = "started by the kill harness"]
fn kill_child() {
    common::kill::child_main();
}

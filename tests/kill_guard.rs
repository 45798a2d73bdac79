//! The kill harness (see `tests/kill.rs`) on `apply` of guest guards onto
//! an existing bridge: two ports guarded, a third's guard taken away.

mod common;

use common::kill::{Op, harness};
use common::*;

#[test]
fn an_apply_of_guards_killed_anywhere_converges() {
    netns_test(|nl| async move {
        harness(&nl, Op::ApplyGuards).await?;
        // The views compared held the guards (nft is installed here).
        let rules = nft_rules();
        assert!(rules.iter().any(|r| r.contains("br0/p1")), "{rules:?}");
        assert!(!rules.iter().any(|r| r.contains("br0/p2")), "{rules:?}");
        Ok(())
    });
}

/// The half the harness kills; runs only when a test above starts it.
#[test]
#[ignore = "started by the kill harness"]
fn kill_child() {
    common::kill::child_main();
}

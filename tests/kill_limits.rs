//! The kill harness (see `tests/kill.rs`) on `apply` of bandwidth limits
//! onto an existing bridge: a port attached with both directions limited,
//! one that gains a limit, one whose rate changes and whose outbound limit
//! (IFB and redirect) goes.

mod common;

use common::kill::{Op, harness};
use common::*;

#[test]
fn an_apply_of_limits_killed_anywhere_converges() {
    netns_test(|nl| async move {
        harness(&nl, Op::ApplyLimits).await?;
        // The views compared held the limits: tbfs on p0, p1 and p2, and
        // p0's IFB with its redirect; p2's IFB is gone.
        let tc = tc_state();
        for dev in ["p0", "p1", "p2"] {
            assert!(
                tc.iter()
                    .any(|q| q.contains("\"tbf\"") && q.contains(&format!("\"dev\":\"{dev}\""))),
                "{dev}: {tc:#?}"
            );
        }
        assert!(
            tc.iter()
                .any(|f| f.starts_with("filter p0 ") && f.contains("bkifb")),
            "{tc:#?}"
        );
        assert!(!tc.iter().any(|f| f.starts_with("filter p2 ")), "{tc:#?}");
        let ifbs: Vec<String> = ip_link_names()
            .into_iter()
            .filter(|n| n.starts_with("bkifb"))
            .collect();
        assert_eq!(ifbs.len(), 1, "{ifbs:?}");
        Ok(())
    });
}

/// The half the harness kills; runs only when a test above starts it.
#[test]
#[ignore = "started by the kill harness"]
fn kill_child() {
    common::kill::child_main();
}

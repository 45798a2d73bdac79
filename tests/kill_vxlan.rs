//! The kill harness (see `tests/kill.rs`) on `apply` of a VXLAN port —
//! the device created with its flood list and a per-MAC remote — and a
//! guest port onto an existing bridge.

mod common;

use bridgekit::{Error, Vxlan, VxlanConfig};
use common::kill::{Op, harness};
use common::*;

#[test]
fn an_apply_of_a_vxlan_port_killed_anywhere_converges() {
    netns_test(|nl| async move {
        match Vxlan::create(&nl, VxlanConfig::new("vxprobe", 1)?).await {
            Ok(probe) => probe.delete().await?,
            Err(Error::Unsupported { detail, .. }) => {
                lacks(&format!("VXLAN ({detail})"));
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        }
        harness(&nl, Op::ApplyVxlan).await
    });
}

/// The half the harness kills; runs only when a test above starts it.
#[test]
#[ignore = "started by the kill harness"]
fn kill_child() {
    common::kill::child_main();
}

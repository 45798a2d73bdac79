//! The examples run as a user would run them, each in its own private
//! network namespace, here and in the kernel tier: the blocking VMM start
//! (a child process uses the queue fds it inherits), the desired state
//! read from a file (a second apply changes nothing), and two hosts whose
//! guests talk over VXLAN.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::*;

/// An example's binary, which `cargo test` builds beside the tests (the
/// kernel tier builds them before booting its guests).
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let path = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples")
        .join(name);
    assert!(
        path.exists(),
        "{} is not built: run `cargo test --all-features` (it builds the examples) or \
         `cargo build --all-features --examples` first",
        path.display()
    );
    path
}

fn run(name: &str) -> String {
    let out = Command::new(example(name)).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{name} failed ({}):\n{text}",
        out.status
    );
    text
}

#[test]
fn blocking_vmm_starts_a_guest_that_uses_its_queue_fds() {
    let text = run("blocking_vmm");
    if !can_make_taps() {
        assert!(text.contains("stopping after the bridge"), "{text}");
        return;
    }
    assert!(text.contains("guest NIC vnet0 with 4 queue fds"), "{text}");
    assert!(
        text.contains("192.168.180.1 is at 52:54:00:00:00:01"),
        "{text}"
    );
    assert!(text.contains("vnet0 is gone"), "{text}");
    assert!(text.contains("bridge deleted"), "{text}");
}

#[cfg(feature = "serde")]
#[test]
fn from_file_applies_a_toml_document_and_the_second_apply_changes_nothing() {
    let text = run("from_file");
    assert!(text.contains("bridge bkfile0 with 3 ports"), "{text}");
    assert!(text.contains("second apply: 0 changes"), "{text}");
    if in_kernel_tier() {
        // The tier's kernels have VLAN filtering: the file applies whole.
        assert!(!text.contains("cannot apply the file's VLANs"), "{text}");
    }
}

#[test]
fn two_hosts_join_their_guests_over_vxlan() {
    let text = run("two_hosts");
    if text.contains("this kernel has no VXLAN") {
        lacks("VXLAN (CONFIG_VXLAN), for examples/two_hosts.rs");
        return;
    }
    assert!(
        text.contains("guest A reaches guest B over VXLAN (IPv4"),
        "{text}"
    );
    assert!(
        text.contains("guest A reaches guest B over VXLAN (IPv6"),
        "{text}"
    );
    assert!(text.contains("guest B's among them: true"), "{text}");
    assert!(text.contains("torn down"), "{text}");
}

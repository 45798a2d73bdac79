//! The blocking API covers every public operation of the async one: each
//! public method of an async type has a twin of the same name in the
//! blocking type, or is listed below with why it has none. Read from the
//! source, so a method added to one front door and not the other fails
//! here, not in a user's build.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// (type, where its async methods are, where its blocking twin is)
const TYPES: &[(&str, &str, &str)] = &[
    ("Bridge", "src/bridge", "src/blocking/bridge.rs"),
    ("Vxlan", "src/vxlan", "src/blocking/vxlan.rs"),
    ("VmNic", "src/nic/vm.rs", "src/blocking/nic.rs"),
    ("VethNic", "src/nic/veth.rs", "src/blocking/nic.rs"),
    ("MacvtapNic", "src/nic/macvtap.rs", "src/blocking/nic.rs"),
    ("Netlink", "src/netlink/mod.rs", "src/blocking/mod.rs"),
];

/// Async methods with no blocking twin of the same name, and why.
const ASYNC_ONLY: &[(&str, &str, &str)] = &[(
    "Netlink",
    "finish_pending",
    "a blocking call returns only when its operation is whole: nothing is left pending",
)];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(path: &Path) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_path_buf()];
    }
    let mut out = Vec::new();
    for entry in std::fs::read_dir(path).unwrap() {
        out.extend(rust_files(&entry.unwrap().path()));
    }
    out.retain(|p| p.extension().is_some_and(|e| e == "rs"));
    out
}

/// The names of the methods in the `impl TYPE {` blocks of `text` (those
/// that start at the line's beginning and end at a lone `}`): `pub fn`
/// and `pub async fn` when `public_only`, else any `fn` (the blocking
/// files declare some through a macro's rows).
fn methods(text: &str, ty: &str, public_only: bool) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut inside = false;
    for line in text.lines() {
        if line == format!("impl {ty} {{") {
            inside = true;
            continue;
        }
        if inside && line == "}" {
            inside = false;
            continue;
        }
        if !inside {
            continue;
        }
        let t = line.trim_start();
        let rest = if public_only {
            t.strip_prefix("pub async fn ")
                .or_else(|| t.strip_prefix("pub fn "))
        } else {
            t.strip_prefix("pub async fn ")
                .or_else(|| t.strip_prefix("pub fn "))
                .or_else(|| t.strip_prefix("fn "))
        };
        if let Some(rest) = rest {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            out.insert(name);
        }
    }
    out
}

#[test]
fn every_async_method_has_a_blocking_twin() {
    let mut missing = Vec::new();
    for &(ty, async_at, blocking_at) in TYPES {
        let mut ours = BTreeSet::new();
        for file in rust_files(&root().join(async_at)) {
            let text = std::fs::read_to_string(&file).unwrap();
            ours.extend(methods(&text, ty, true));
        }
        assert!(
            !ours.is_empty(),
            "found no methods of {ty} under {async_at}"
        );
        let text = std::fs::read_to_string(root().join(blocking_at)).unwrap();
        let twins = methods(&text, ty, false);
        assert!(!twins.is_empty(), "found no blocking {ty} in {blocking_at}");
        for name in ours {
            let excused = ASYNC_ONLY.iter().any(|(t, n, _)| *t == ty && *n == name);
            if !twins.contains(&name) && !excused {
                missing.push(format!("{ty}::{name}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "async methods without a blocking twin (add one in src/blocking/, \
         or list it in ASYNC_ONLY with why): {missing:?}"
    );
}

#[test]
fn the_check_sees_what_it_checks() {
    // A method only on the async side is caught; one in a macro row counts.
    let async_side = "impl Bridge {\n    pub async fn a(&self) {}\n    pub fn b(&self) {}\n    pub(crate) fn c() {}\n}\n";
    let blocking_side = "impl Bridge {\n    twins! {\n        fn a(&self) -> ();\n    }\n}\n";
    let ours = methods(async_side, "Bridge", true);
    assert_eq!(ours, BTreeSet::from(["a".to_string(), "b".to_string()]));
    let twins = methods(blocking_side, "Bridge", false);
    assert!(twins.contains("a") && !twins.contains("b"));
    // Another type's impl is not this one's.
    assert!(methods("impl Vxlan {\n    pub fn a() {}\n}\n", "Bridge", true).is_empty());
}

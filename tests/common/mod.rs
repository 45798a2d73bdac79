//! Test helpers: every test body runs on its own thread inside a fresh
//! network namespace, and state is checked through iproute2 (`ip -j`,
//! `bridge -j`), not only through bridgekit's getters.
#![allow(dead_code)]

pub mod arp;
pub mod frames;
pub mod kernel;
pub mod kill;
pub mod raw;

use std::future::Future;
use std::process::Command;

use bridgekit::Netlink;
use serde_json::Value;

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Runs before main, while the test process is still single-threaded: a
/// non-root run enters a new user namespace (as uid 0 inside), so the
/// per-test `unshare(CLONE_NEWNET)` works without sudo. `CLONE_NEWUSER` is
/// refused once the harness has spawned threads, hence here.
#[ctor::ctor]
fn enter_user_namespace_when_not_root() {
    find_system_tools();
    // SAFETY: plain syscalls before any thread exists.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    if uid == 0 {
        return;
    }
    ROOTLESS.store(true, std::sync::atomic::Ordering::Relaxed);
    if unsafe { libc::unshare(libc::CLONE_NEWUSER) } != 0 {
        eprintln!(
            "bridgekit tests: not root and cannot enter a user namespace ({}); \
             tests that need a network namespace will fail",
            std::io::Error::last_os_error()
        );
        return;
    }
    let _ = std::fs::write("/proc/self/setgroups", "deny");
    let _ = std::fs::write("/proc/self/uid_map", format!("0 {uid} 1"));
    let _ = std::fs::write("/proc/self/gid_map", format!("0 {gid} 1"));
}

static ROOTLESS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether this run started as a normal user (and so runs as root of a
/// user namespace of its own): device nodes and other users' files are
/// out of reach then.
pub fn rootless() -> bool {
    ROOTLESS.load(std::sync::atomic::Ordering::Relaxed)
}

/// A test that cannot run without the host's root: skips visibly in a
/// rootless run and says why (returns true), or returns false.
pub fn skip_rootless(what: &str) -> bool {
    if !rootless() {
        return false;
    }
    skip(&format!(
        "{what} needs the host's root (a rootless run is root only of a user namespace of its own)"
    ));
    true
}

/// iproute2's `bridge` (and on some systems `ip`) lives in `/usr/sbin`,
/// which a normal user's default PATH lacks: the tests look for the tools
/// where the system puts them. Runs before main, single-threaded.
fn find_system_tools() {
    let path = std::env::var("PATH").unwrap_or_default();
    let mut dirs: Vec<&str> = path.split(':').filter(|d| !d.is_empty()).collect();
    for extra in ["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"] {
        if !dirs.contains(&extra) {
            dirs.push(extra);
        }
    }
    // SAFETY: called from the ctor, before any other thread exists.
    unsafe { std::env::set_var("PATH", dirs.join(":")) };
}

/// Runs `body` in a fresh network namespace on its own thread with a
/// current-thread runtime; the namespace dies with the thread.
pub fn netns_test<F, Fut>(body: F)
where
    F: FnOnce(Netlink) -> Fut + Send + 'static,
    Fut: Future<Output = TestResult>,
{
    let name = std::thread::current().name().unwrap_or("test").to_string();
    let outcome = std::thread::Builder::new()
        .name(name)
        .spawn(move || {
            enter_new_netns();
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("tokio runtime");
            let result = rt.block_on(async move {
                let nl = Netlink::connect().expect("netlink connection");
                body(nl).await
            });
            if let Err(e) = result {
                panic!("test failed: {e}");
            }
        })
        .expect("spawn test thread")
        .join();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// DAD at test speed, for the tests whose subject is not DAD itself: they
/// still wait for real Duplicate Address Detection, but not for the
/// kernel's defaults, which the emulated CPUs of the kernel tier pay for
/// on every boot (#28). dad.rs and the DAD rows of kernel_features keep
/// the defaults.
///
/// Only two knobs reach this far:
/// - `net.ipv6.conf.{default,all}.router_solicitation_delay=0`, per
///   namespace: DAD starts at once on links made from now on, instead of
///   after a random wait of up to 1 s.
/// - `net.ipv6.neigh.<dev>.retrans_time_ms`, per device: the time between
///   probes (1 s). There is no `conf.*.retrans_time_ms`, and
///   `neigh.default` is one value for the whole kernel, shown only in the
///   initial namespace, so a test can lower it only on a link that exists
///   before its address is added: pass that link as `dev`.
pub fn dad_at_test_speed(dev: Option<&str>) {
    for scope in ["default", "all"] {
        let knob = format!("/proc/sys/net/ipv6/conf/{scope}/router_solicitation_delay");
        std::fs::write(&knob, "0").unwrap_or_else(|e| panic!("write {knob}: {e}"));
    }
    if let Some(dev) = dev {
        for (knob, value) in [
            (
                format!("/proc/sys/net/ipv6/conf/{dev}/router_solicitation_delay"),
                "0",
            ),
            (format!("/proc/sys/net/ipv6/conf/{dev}/dad_transmits"), "1"),
            (
                format!("/proc/sys/net/ipv6/neigh/{dev}/retrans_time_ms"),
                "100",
            ),
        ] {
            std::fs::write(&knob, value).unwrap_or_else(|e| panic!("write {knob}: {e}"));
        }
    }
}

/// Moves the calling thread into a new, empty network namespace, and
/// brings its loopback up.
pub fn enter_new_netns() {
    // SAFETY: affects only the calling thread.
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        panic!(
            "unshare(CLONE_NEWNET) failed: {} (run as root, or where unprivileged user namespaces are allowed)",
            std::io::Error::last_os_error()
        );
    }
    sh(&["ip", "link", "set", "lo", "up"]);
}

/// A thread parked in a namespace of its own, reachable by its
/// `/proc/<pid>/task/<tid>/ns/net` path: the "other host".
pub struct PeerNetns {
    path: String,
    tid: i32,
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl PeerNetns {
    pub fn new() -> Self {
        let (tx_path, rx_path) = std::sync::mpsc::channel();
        let (tx_stop, rx_stop) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            enter_new_netns();
            // SAFETY: gettid has no preconditions.
            let tid = unsafe { libc::gettid() };
            tx_path.send(tid).unwrap();
            let _ = rx_stop.recv();
        });
        let tid = rx_path.recv().unwrap();
        PeerNetns {
            path: format!("/proc/{}/task/{tid}/ns/net", std::process::id()),
            tid,
            stop: Some(tx_stop),
            thread: Some(thread),
        }
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// A task id inside the namespace, for `ip link set DEV netns TID`.
    pub fn tid(&self) -> String {
        self.tid.to_string()
    }

    /// Runs a command inside this namespace.
    pub fn sh(&self, args: &[&str]) -> String {
        let net = format!("--net={}", self.path);
        let mut full = vec!["nsenter", net.as_str()];
        full.extend_from_slice(args);
        sh(&full)
    }
}

impl Drop for PeerNetns {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Runs a command in the calling thread's namespace; panics with its stderr if it fails.
pub fn sh(args: &[&str]) -> String {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {args:?}: {e}"));
    if !out.status.success() {
        panic!(
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Like [`sh`] but returns whether it succeeded.
pub fn sh_ok(args: &[&str]) -> bool {
    Command::new(args[0])
        .args(&args[1..])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// `ip -j -d link show dev NAME`, or `None` if there is no such link.
pub fn ip_link(name: &str) -> Option<Value> {
    let out = Command::new("ip")
        .args(["-j", "-d", "link", "show", "dev", name])
        .output()
        .expect("run ip");
    if !out.status.success() {
        return None;
    }
    let v: Value = serde_json::from_slice(&out.stdout).expect("ip -j output is JSON");
    v.get(0).cloned()
}

/// All link names in this namespace, per `ip -j link show`.
/// Whether a link as `ip -j link show` gives it (see [`ip_link`]) is
/// administratively up.
pub fn admin_up(link: &Value) -> bool {
    link["flags"]
        .as_array()
        .is_some_and(|flags| flags.iter().any(|f| f == "UP"))
}

pub fn ip_link_names() -> Vec<String> {
    let v: Value = serde_json::from_str(&sh(&["ip", "-j", "link", "show"])).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|l| l["ifname"].as_str().unwrap().to_string())
        .collect()
}

/// `ip -j addr show dev NAME` `addr_info` entries.
pub fn ip_addrs(name: &str) -> Vec<Value> {
    let v: Value = serde_json::from_str(&sh(&["ip", "-j", "addr", "show", "dev", name])).unwrap();
    v[0]["addr_info"].as_array().cloned().unwrap_or_default()
}

/// The entry for `local` in `ip -j addr show dev NAME`.
pub fn ip_addr(name: &str, local: &str) -> Option<Value> {
    ip_addrs(name)
        .into_iter()
        .find(|a| a["local"].as_str() == Some(local))
}

/// `addr_assign_type` of `name`, read from a sysfs mounted privately in a
/// child that shares our network namespace (3 = set explicitly).
pub fn addr_assign_type(name: &str) -> String {
    let script = format!("mount -t sysfs sysfs /sys && cat /sys/class/net/{name}/addr_assign_type");
    sh(&["unshare", "-m", "sh", "-c", &script])
        .trim()
        .to_string()
}

pub fn veth(a: &str, b: &str) {
    sh(&["ip", "link", "add", a, "type", "veth", "peer", "name", b]);
}

/// Whether this process may open `/dev/net/tun` (needed to make taps). On
/// these machines it is mode 0600 root: a non-root run inside a user
/// namespace cannot, so tap tests print why they skip.
pub fn can_make_taps() -> bool {
    match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/net/tun")
    {
        Ok(_) => true,
        Err(e) => {
            lacks(&format!(
                "access to /dev/net/tun ({e}; tap tests need root or a 0666 /dev/net/tun)"
            ));
            false
        }
    }
}

/// Whether this run is the kernel tier (`tools/kernel-tier/run`), where the
/// kernel is known to have every feature the suite probes for.
pub fn in_kernel_tier() -> bool {
    std::env::var_os("BRIDGEKIT_KERNEL_TIER").is_some()
}

/// An iteration count for randomized tests: `n` on the host, a tenth (at
/// least 20) in the kernel tier, whose emulated CPU (TCG) is many times
/// slower. The host tier runs the full count in CI.
pub fn scaled(n: usize) -> usize {
    if in_kernel_tier() {
        (n / 10).max(20)
    } else {
        n
    }
}

/// Whether this kernel has bridge VLAN filtering, tried on a throwaway
/// bridge; if not, says so through [`lacks`] (a failure in the kernel
/// tier) and returns false.
pub async fn has_vlan_filtering(nl: &Netlink) -> Result<bool, bridgekit::Error> {
    let probe = bridgekit::Bridge::create(nl, bridgekit::BridgeConfig::new("vfprobe0")?).await?;
    let filtering = probe.set_vlan_filtering(true).await;
    probe.delete().await?;
    if filtering.is_err() {
        lacks("bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING)");
    }
    Ok(filtering.is_ok())
}

/// A test cannot run because this kernel or process lacks `what`: prints
/// why and returns, or fails the test in the kernel tier, where nothing
/// may be skipped silently.
pub fn lacks(what: &str) {
    if in_kernel_tier() {
        panic!("the kernel tier must have {what}, but it is missing");
    }
    skip(&format!(
        "{what} is missing here; this test runs fully in the kernel tier (tools/kernel-tier/run)"
    ));
}

/// Prints a skip reason past the harness's output capture, so it shows in
/// the CI log even when the test passes.
pub fn skip(why: &str) {
    use std::io::Write;
    let line = format!(
        "SKIPPED {}::{}: {why}",
        test_binary(),
        std::thread::current().name().unwrap_or("?")
    );
    let _ = std::io::stderr()
        .lock()
        .write_all(format!("{line}\n").as_bytes());
    // Kept for the summary that tests/zz_skipped.rs prints at the end of
    // this `cargo test` run (every test binary of a run has the same parent).
    // One write per line: `writeln!` on an unbuffered file writes the line
    // and its newline separately, and two tests skipping at once then
    // interleave into one line of two skips and an empty one. A single
    // O_APPEND write of a short line is not split.
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(skip_log())
    {
        let _ = f.write_all(format!("{line}\n").as_bytes());
    }
}

/// Where this `cargo test` run's skips are listed: one file per run, named
/// after the cargo process that runs every test binary of it.
pub fn skip_log() -> std::path::PathBuf {
    // SAFETY: getppid has no preconditions.
    let parent = unsafe { libc::getppid() };
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("skipped-{parent}.txt"))
}

/// This test binary's name (`vlans`), without cargo's hash.
fn test_binary() -> String {
    let exe = std::env::current_exe().unwrap_or_default();
    let stem = exe.file_stem().and_then(|s| s.to_str()).unwrap_or("?");
    match stem.rsplit_once('-') {
        Some((name, hash)) if hash.chars().all(|c| c.is_ascii_hexdigit()) => name.to_string(),
        _ => stem.to_string(),
    }
}

/// Whether `from` reaches `to` with ping: three echo requests, success if
/// any is answered (no -w: with a deadline ping wants all of them); the
/// first may be lost to a neighbour entry left FAILED by an earlier,
/// blocked attempt.
pub fn ping(from: &PeerNetns, to: &str) -> bool {
    sh_ok(&[
        "nsenter",
        &format!("--net={}", from.path()),
        "ping",
        "-c",
        "3",
        "-i",
        "0.3",
        "-W",
        "1",
        to,
    ])
}

/// Open file descriptors of this process.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

pub fn is_tentative(dev: &str, local: &str) -> bool {
    ip_addr(dev, local)
        .unwrap_or_else(|| panic!("{local} not on {dev}"))
        .get("tentative")
        .is_some()
}

/// Everything the suite can change in this namespace, normalised for
/// comparison: links (name, master, up, MTU, MAC, kind, bridge and port
/// options without their ticking timers), addresses, master FDB entries and
/// VLANs, all as iproute2 reports them; the IPv6 and forwarding sysctls;
/// the nf_tables ruleset.
pub fn kernel_state() -> Value {
    let links: Value = serde_json::from_str(&sh(&["ip", "-j", "-d", "link", "show"])).unwrap();
    let mut out_links = Vec::new();
    for l in links.as_array().unwrap() {
        let info = &l["linkinfo"];
        let mut data = info["info_data"].clone();
        if let Some(obj) = data.as_object_mut() {
            obj.retain(|k, _| !k.ends_with("_timer"));
        }
        let mut slave = info["info_slave_data"].clone();
        if let Some(obj) = slave.as_object_mut() {
            // Ticking timers, the STP state, and the numbers the kernel
            // assigns on attach (port no/id, designated_*): a port put back
            // by a rollback is the same port, but may get another number.
            obj.retain(|k, _| {
                !k.ends_with("_timer")
                    && !k.starts_with("designated_")
                    && !["state", "no", "id"].contains(&k.as_str())
            });
        }
        let up = l["flags"].as_array().unwrap().iter().any(|f| f == "UP");
        out_links.push(serde_json::json!({
            "name": l["ifname"], "master": l["master"], "up": up, "mtu": l["mtu"],
            "mac": l["address"], "kind": info["info_kind"], "data": data, "port": slave,
        }));
    }
    let addrs: Value = serde_json::from_str(&sh(&["ip", "-j", "addr", "show"])).unwrap();
    let mut out_addrs = Vec::new();
    for l in addrs.as_array().unwrap() {
        for a in l["addr_info"].as_array().unwrap() {
            out_addrs.push(format!("{} {}/{}", l["ifname"], a["local"], a["prefixlen"]));
        }
    }
    out_addrs.sort();
    // The IPv6 settings bridgekit manages, as /proc/sys shows them.
    let mut out_sysctls = Vec::new();
    for l in links.as_array().unwrap() {
        let name = l["ifname"].as_str().unwrap();
        for knob in ["accept_ra", "autoconf", "disable_ipv6"] {
            if let Some(v) = ipv6_sysctl(name, knob) {
                out_sysctls.push(format!("{name} {knob}={v}"));
            }
        }
    }
    // The namespace-wide forwarding switches of the forward modes.
    for path in [
        "/proc/sys/net/ipv4/ip_forward",
        "/proc/sys/net/ipv6/conf/all/forwarding",
    ] {
        if let Ok(v) = std::fs::read_to_string(path) {
            out_sysctls.push(format!("{path}={}", v.trim()));
        }
    }
    let fdb: Value = serde_json::from_str(&sh(&["bridge", "-j", "fdb", "show"])).unwrap();
    let mut out_fdb: Vec<String> = fdb
        .as_array()
        .unwrap()
        .iter()
        // The bridges' entries, and VXLAN devices' remote VTEPs (their
        // own entries with a destination).
        .filter(|e| e.get("master").is_some() || e.get("dst").is_some())
        .map(|e| {
            format!(
                "{} {} {} {} {} {} {}",
                e["mac"], e["ifname"], e["vlan"], e["state"], e["dst"], e["vni"], e["port"]
            )
        })
        .collect();
    out_fdb.sort();
    let vlans: Value = serde_json::from_str(&sh(&["bridge", "-j", "vlan", "show"])).unwrap();
    serde_json::json!({
        "links": out_links, "addrs": out_addrs, "fdb": out_fdb, "vlans": vlans,
        "sysctls": out_sysctls, "nft": nft_rules(), "tc": tc_state(),
    })
}

/// Every qdisc of the namespace that is not a kernel default (`tc -j
/// qdisc show`, less reference counts), and the filters under each ingress qdisc (`tc -j filter show
/// dev DEV parent ffff:`, less the kernel's action indexes and use
/// counts), sorted: bandwidth limits as iproute2 sees them.
pub fn tc_state() -> Vec<String> {
    let qdiscs: Value = serde_json::from_str(&sh(&["tc", "-j", "qdisc", "show"])).unwrap();
    let mut out = Vec::new();
    for q in qdiscs.as_array().unwrap() {
        // The kernel's defaults (handle 0:) come and go with a link's
        // carrier (the link watch swaps in `noop` while it is off), on
        // its own clock: not state anyone set.
        if q["handle"] == "0:" {
            continue;
        }
        let mut q = q.clone();
        q.as_object_mut().unwrap().remove("refcnt");
        if q["kind"] == "ingress" {
            let dev = q["dev"].as_str().unwrap().to_string();
            let filters: Value = serde_json::from_str(&sh(&[
                "tc", "-j", "filter", "show", "dev", &dev, "parent", "ffff:",
            ]))
            .unwrap();
            for f in filters.as_array().unwrap() {
                let actions: Vec<String> = f["options"]["actions"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|a| {
                                format!("{} {} {}", a["kind"], a["mirred_action"], a["to_dev"])
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                out.push(format!(
                    "filter {dev} {} {} {} {:?}",
                    f["pref"], f["kind"], f["options"]["fh"], actions
                ));
            }
        }
        out.push(format!("qdisc {q}"));
    }
    out.sort();
    out
}

/// The namespace's nf_tables ruleset as `nft -s list ruleset` shows it
/// (without counters): one line per chain header and rule, named by table
/// and chain and numbered within its chain, so that a chain made again in
/// another order compares equal and a rule out of place does not. Empty
/// where nft is not installed.
pub fn nft_rules() -> Vec<String> {
    let Ok(out) = Command::new("nft").args(["-s", "list", "ruleset"]).output() else {
        return Vec::new();
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let (mut table, mut chain, mut n) = (String::new(), String::new(), 0);
    let mut lines = Vec::new();
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && *l != "}")
    {
        if let Some(t) = line.strip_prefix("table ") {
            table = t.trim_end_matches(" {").to_string();
        } else if let Some(c) = line.strip_prefix("chain ") {
            chain = c.trim_end_matches(" {").to_string();
            n = 0;
        } else {
            lines.push(format!("{table} / {chain} #{n}: {line}"));
            n += 1;
        }
    }
    lines.sort();
    lines
}

/// `/proc/sys/net/ipv6/conf/IFACE/KNOB` as the calling thread's network
/// namespace shows it (procfs resolves `/proc/sys/net` by the reader's
/// namespace); `None` when the link has no IPv6 state.
pub fn ipv6_sysctl(iface: &str, knob: &str) -> Option<String> {
    std::fs::read_to_string(format!("/proc/sys/net/ipv6/conf/{iface}/{knob}"))
        .ok()
        .map(|v| v.trim().to_string())
}

/// Makes request `step` (0 = the first) of `op` fail with `errno`, for
/// step = 0, 1, 2, ... until `op` sends fewer requests than `step`; after
/// each failure the namespace must be exactly as before the call.
/// `setup` runs before each attempt, `reset` after each success. Returns
/// the first step it tried that `op` never reached (the step count, or up
/// to a share's stride above it).
///
/// `BRIDGEKIT_FAULT_SHARE=K/N` fails only the steps whose number is K
/// modulo N. The kernel tier sets it per kernel (`0/3` on 5.10, `1/3` on
/// 6.1, `2/3` on 6.12), so that the three kernels together fail each step
/// once under the emulated CPU; the host fails every step. With a share
/// K > 0 the check that `op` sends a request at all is the host's and
/// 5.10's alone, and the count returned is up to N - 1 above the real one
/// (callers assert lower bounds, or compare two sweeps of one share).
pub async fn fail_each_step<S, SF, O, OF, R, RF>(
    nl: &Netlink,
    what: &str,
    mut setup: S,
    mut op: O,
    mut reset: R,
) -> usize
where
    S: FnMut() -> SF,
    SF: Future<Output = ()>,
    O: FnMut() -> OF,
    OF: Future<Output = Result<(), bridgekit::Error>>,
    R: FnMut() -> RF,
    RF: Future<Output = ()>,
{
    let (share, of) = fault_share();
    for step in (share..).step_by(of) {
        setup().await;
        let before = kernel_state();
        nl.inject_fault(step as u64, libc::EBUSY);
        let result = op().await;
        if nl.fault_pending() {
            nl.clear_fault();
            result.unwrap_or_else(|e| panic!("{what}: failed with no fault injected: {e}"));
            reset().await;
            assert!(step > 0, "{what}: sent no request at all");
            return step;
        }
        let err = result.expect_err(&format!(
            "{what}: step {step} was made to fail but Ok came back"
        ));
        assert_eq!(err.errno(), Some(libc::EBUSY), "{what}, step {step}: {err}");
        let after = kernel_state();
        assert_eq!(
            before, after,
            "{what}: failing step {step} left the namespace changed"
        );
    }
    unreachable!()
}

/// The share of fault steps this run takes, `(K, N)` from
/// `BRIDGEKIT_FAULT_SHARE=K/N`; `(0, 1)`, every step, without it. A
/// malformed value fails the test rather than quietly taking fewer.
fn fault_share() -> (usize, usize) {
    let Ok(share) = std::env::var("BRIDGEKIT_FAULT_SHARE") else {
        return (0, 1);
    };
    share
        .split_once('/')
        .and_then(|(k, n)| Some((k.parse::<usize>().ok()?, n.parse::<usize>().ok()?)))
        .filter(|(k, n)| *n > 0 && k < n)
        .unwrap_or_else(|| panic!("BRIDGEKIT_FAULT_SHARE={share}: want K/N with K < N"))
}

/// A small deterministic generator (xorshift), so a failing randomized run
/// can be rerun exactly.
pub struct Rng(pub u64);

impl Rng {
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Polls `fut` up to `polls` times, yielding to the runtime in between
/// (so the netlink connection makes progress), then drops it. Returns its
/// output if it finished first.
pub async fn poll_then_drop<T>(fut: impl Future<Output = T>, polls: u64) -> Option<T> {
    let mut fut = std::pin::pin!(fut);
    for _ in 0..polls {
        if let std::task::Poll::Ready(v) = futures::poll!(fut.as_mut()) {
            return Some(v);
        }
        tokio::task::yield_now().await;
    }
    None
}

/// The ports of `bridge` by name, per `ip -j link show master BRIDGE`.
pub fn ip_ports(bridge: &str) -> std::collections::BTreeSet<String> {
    let v: Value =
        serde_json::from_str(&sh(&["ip", "-j", "link", "show", "master", bridge])).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|l| l["ifname"].as_str().unwrap().to_string())
        .collect()
}

/// Waits (at most 10 s) until iproute2 shows `port` forwarding: its carrier
/// and with it its STP state follow asynchronously (linkwatch).
pub async fn wait_forwarding(port: &str) {
    for _ in 0..200 {
        let state = ip_link(port).and_then(|l| {
            l["linkinfo"]["info_slave_data"]["state"]
                .as_str()
                .map(str::to_string)
        });
        if state.as_deref() == Some("forwarding") {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{port} did not reach forwarding within 10 s");
}

/// `bridge monitor fdb` and `ip monitor link`, started in this namespace:
/// an independent witness that a call changed nothing (`seen` stops them
/// and returns what they printed).
pub struct Monitors(Vec<std::process::Child>);

impl Monitors {
    pub fn start() -> Monitors {
        let spawn = |args: &[&str]| {
            std::process::Command::new(args[0])
                .args(&args[1..])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        };
        let m = Monitors(vec![
            spawn(&["bridge", "monitor", "fdb"]),
            spawn(&["ip", "monitor", "link"]),
        ]);
        // Let both subscribe before anything happens.
        std::thread::sleep(std::time::Duration::from_millis(300));
        m
    }

    /// What the monitors printed, after a moment for late notifications.
    pub fn seen(mut self) -> String {
        use std::io::Read;
        std::thread::sleep(std::time::Duration::from_millis(300));
        let mut out = String::new();
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
            if let Some(mut o) = c.stdout.take() {
                let _ = o.read_to_string(&mut out);
            }
        }
        out
    }
}

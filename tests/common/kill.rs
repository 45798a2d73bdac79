//! The kill harness's child: the test binary re-run as a process that
//! performs one operation and is SIGKILLed at a chosen moment.
//!
//! The child test prints `KILL:ready`, waits for a line on stdin, runs the
//! operation and prints `KILL:done MICROS`; then it may wait to be killed.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bridgekit::{
    Bandwidth, Bridge, BridgeConfig, Forward, GuestGuard, Netlink, PortConfig, Remote, VlanId,
    VlanMember, VlanRange, VmNic, VmNicConfig, VxlanConfig,
};
use serde_json::Value;

use super::{TestResult, ip_link_names, kernel_state, sh, sh_ok, veth};

/// Starts `child_test` (an ignored test of this binary) with `env` set,
/// lets it get ready, tells it to go, and SIGKILLs it after `delay`.
/// `None`: lets it finish the operation, kills it then (it may hold what
/// it made until killed), and returns how long the operation took.
pub fn run_child(child_test: &str, env: (&str, &str), delay: Option<Duration>) -> Option<Duration> {
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args([
            "--exact",
            child_test,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(env.0, env.1)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut wait_for = |tag: &str| -> Option<String> {
        lines
            .by_ref()
            .map_while(Result::ok)
            // The harness prints "test NAME ... " before the first line.
            .find_map(|l| l.find(tag).map(|at| l[at + tag.len()..].to_string()))
    };
    wait_for("KILL:ready").expect("child did not get ready");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"go\n").unwrap();
    stdin.flush().unwrap();
    match delay {
        Some(d) => {
            std::thread::sleep(d);
            let _ = child.kill(); // SIGKILL
            let _ = child.wait();
            None
        }
        None => {
            let micros = wait_for("KILL:done ").expect("child did not finish");
            let _ = child.kill();
            let _ = child.wait();
            Some(Duration::from_micros(micros.trim().parse().unwrap()))
        }
    }
}

pub const KILL_OP: &str = "BRIDGEKIT_TEST_KILL_OP";
const MAC: &str = "52:54:00:00:1a:01";
const GUEST: &str = "52:54:00:00:1a:02";
/// Kill points per operation.
const POINTS: usize = 40;
/// Replays one kill point: `BRIDGEKIT_KILL_POINT=17 cargo test --test kill`.
const KILL_POINT: &str = "BRIDGEKIT_KILL_POINT";
/// Runs one share of the points, `K/N`: those whose index is K modulo N.
/// The kernel tier sets it per kernel (`0/3` on 5.10, `1/3` on 6.1, `2/3`
/// on 6.12), so that the three kernels together cover all 40 points once
/// under the emulated CPU; the host runs all 40.
const KILL_SHARE: &str = "BRIDGEKIT_KILL_SHARE";
/// Thins a share `K/N` to every `T`-th of its points (`T`), offset by `K`,
/// for the operations whose 40 points the host kernel runs in full (all
/// but the one that needs VLAN filtering, which the host here lacks). The
/// kernel tier sets it to 3: each kernel then runs 4-5 points per
/// operation spread over its whole duration (5.10: 0, 9, 18, 27, 36; 6.1:
/// 4, 13, 22, 31; 6.12: 8, 17, 26, 35), enough to catch a kernel that
/// answers a half-done state differently, at a third of the emulated
/// CPU's time; the host proves every point.
const KILL_THIN: &str = "BRIDGEKIT_KILL_THIN";

/// The kill points this run takes, from [`KILL_POINT`] or [`KILL_SHARE`]
/// (all of them when neither is set). A malformed value fails the test
/// rather than quietly running fewer points.
fn chosen_points(op: Op) -> Vec<usize> {
    if let Ok(one) = std::env::var(KILL_POINT) {
        let i: usize = one
            .parse()
            .unwrap_or_else(|_| panic!("{KILL_POINT}={one}: not a point number"));
        assert!(i < POINTS, "{KILL_POINT}={i}: points are 0..{POINTS}");
        return vec![i];
    }
    if let Ok(share) = std::env::var(KILL_SHARE) {
        let (k, n) = share
            .split_once('/')
            .and_then(|(k, n)| Some((k.parse::<usize>().ok()?, n.parse::<usize>().ok()?)))
            .filter(|(k, n)| *n > 0 && k < n)
            .unwrap_or_else(|| panic!("{KILL_SHARE}={share}: want K/N with K < N"));
        let thin = match std::env::var(KILL_THIN) {
            Ok(t) if !op.needs_vlan_filtering() => t
                .parse::<usize>()
                .ok()
                .filter(|t| *t > 0)
                .unwrap_or_else(|| panic!("{KILL_THIN}={t}: want a number above 0")),
            _ => 1,
        };
        let points: Vec<usize> = (0..POINTS)
            .filter(|i| i % n == k && (i / n) % thin == k % thin)
            .collect();
        assert!(
            !points.is_empty(),
            "{KILL_SHARE}={share} with {KILL_THIN}={thin} picks no point"
        );
        return points;
    }
    (0..POINTS).collect()
}

/// A guard with addresses of both families.
fn guest_guard() -> GuestGuard {
    GuestGuard::new()
        .ipv4("10.26.0.10".parse::<std::net::Ipv4Addr>().unwrap())
        .ipv6("fd26::/64".parse::<bridgekit::ipnet::Ipv6Net>().unwrap())
}

/// The operations the harness interrupts.
#[derive(Clone, Copy, Debug)]
pub enum Op {
    /// `Bridge::create` in the staged order (a fixed MAC), IPv4 + IPv6, a
    /// managed guest port whose peer is down (the bridge has no carrier).
    StagedCreate,
    /// `Bridge::create` in one message (`ipv6_ready_without_ports(false)`),
    /// up, the same addresses and port, the port's peer up.
    OneMessageCreate,
    /// `apply` of three ports with VLANs onto an existing bridge.
    ApplyPortsAndVlans,
    /// `VmNic::create` with its attach, on an existing bridge.
    VmNicCreate,
    /// `apply` of a VXLAN port (created with its flood list and a per-MAC
    /// remote) and a guest port onto an existing bridge.
    ApplyVxlan,
    /// `apply` of guest guards onto an existing bridge: two new guarded
    /// ports, and a third whose guard from before goes.
    ApplyGuards,
    /// `apply` of NAT onto an existing bridge without a forward mode: the
    /// rules, both forwarding sysctls, a guest port.
    ApplyNat,
    /// `apply` of bandwidth limits onto an existing bridge: a new port
    /// with both directions limited, one that gains an inbound limit, one
    /// whose inbound rate changes and whose outbound limit (and IFB) goes.
    ApplyLimits,
}

impl Op {
    /// Whether it needs bridge VLAN filtering (which the host kernel here
    /// lacks: its points run only in the kernel tier).
    fn needs_vlan_filtering(self) -> bool {
        matches!(self, Op::ApplyPortsAndVlans)
    }

    fn name(self) -> &'static str {
        match self {
            Op::StagedCreate => "staged",
            Op::OneMessageCreate => "one-message",
            Op::ApplyPortsAndVlans => "apply-ports-vlans",
            Op::VmNicCreate => "vm-nic",
            Op::ApplyVxlan => "apply-vxlan",
            Op::ApplyGuards => "apply-guards",
            Op::ApplyNat => "apply-nat",
            Op::ApplyLimits => "apply-limits",
        }
    }

    pub fn parse(s: &str) -> Op {
        [
            Op::StagedCreate,
            Op::OneMessageCreate,
            Op::ApplyPortsAndVlans,
            Op::VmNicCreate,
            Op::ApplyVxlan,
            Op::ApplyGuards,
            Op::ApplyNat,
            Op::ApplyLimits,
        ]
        .into_iter()
        .find(|o| o.name() == s)
        .expect("a known operation")
    }

    /// The bridge as the operation leaves it (the desired state).
    fn config(self) -> BridgeConfig {
        let base = BridgeConfig::new("br0")
            .unwrap()
            .mac(MAC)
            .mtu(1420)
            .address("10.26.0.1/24")
            .address("fd26::1/64");
        match self {
            Op::StagedCreate => base.port("p0", PortConfig::managed(GUEST).up()),
            Op::OneMessageCreate => base
                .ipv6_ready_without_ports(false)
                .forward_delay(Duration::ZERO)
                .up()
                .port("p0", PortConfig::managed(GUEST).up()),
            Op::ApplyPortsAndVlans => base
                .vlan_filtering(true)
                .port(
                    "p0",
                    PortConfig::managed(GUEST)
                        .vlan(VlanMember::access(VlanId::new(10).unwrap()))
                        .up(),
                )
                .port(
                    "p1",
                    PortConfig::new()
                        .vlan(VlanMember::tagged(VlanRange::new(20, 29).unwrap()))
                        .up(),
                )
                .port(
                    "p2",
                    PortConfig::new()
                        .isolated(true)
                        .vlan(VlanMember::access(VlanId::new(30).unwrap()))
                        .up(),
                ),
            Op::VmNicCreate => base,
            Op::ApplyVxlan => base
                .vxlan_port(
                    VxlanConfig::new("vx0", 700)
                        .unwrap()
                        .mac("52:54:00:00:1d:01")
                        .local("10.27.0.1".parse().unwrap())
                        .underlay("u0")
                        .learning(false)
                        .remote(Remote::flood("10.27.0.2".parse().unwrap()))
                        .remote(Remote::flood("10.27.0.3".parse().unwrap()))
                        .remote(Remote::for_mac(
                            "52:54:00:00:1d:02",
                            "10.27.0.2".parse().unwrap(),
                        )),
                    PortConfig::new().learning(false).neigh_suppress(true).up(),
                )
                .port("p0", PortConfig::managed(GUEST).up()),
            Op::ApplyGuards => base
                .port(
                    "p0",
                    PortConfig::managed(GUEST).guest_guard(guest_guard()).up(),
                )
                .port(
                    "p1",
                    PortConfig::new()
                        .guest_guard(guest_guard().mac("52:54:00:00:1a:02"))
                        .up(),
                )
                .port("p2", PortConfig::new().up()),
            Op::ApplyNat => base
                .forward(Forward::nat66())
                .port("p0", PortConfig::managed(GUEST).up()),
            Op::ApplyLimits => base
                .port(
                    "p0",
                    PortConfig::managed(GUEST)
                        .inbound(Bandwidth::bits_per_sec(20_000_000))
                        .outbound(Bandwidth::bits_per_sec(10_000_000).peak(2_500_000))
                        .up(),
                )
                .port(
                    "p1",
                    PortConfig::new()
                        .inbound(Bandwidth::bytes_per_sec(500_000).burst(32_768))
                        .up(),
                )
                .port(
                    "p2",
                    PortConfig::new()
                        .inbound(Bandwidth::bytes_per_sec(700_000))
                        .up(),
                ),
        }
    }

    fn nic(self) -> VmNicConfig {
        VmNicConfig::new(GUEST)
            .name("vnet0")
            .queues(2)
            .port(PortConfig::managed(GUEST).up())
    }

    /// Runs the operation once (in the child).
    pub async fn perform(self, nl: &Netlink) {
        match self {
            Op::StagedCreate | Op::OneMessageCreate => {
                Bridge::create(nl, self.config()).await.expect("create");
            }
            Op::ApplyPortsAndVlans
            | Op::ApplyVxlan
            | Op::ApplyGuards
            | Op::ApplyNat
            | Op::ApplyLimits => {
                self.config().apply(nl).await.expect("apply");
            }
            Op::VmNicCreate => {
                let br = Bridge::open(nl, "br0").await.expect("open");
                let nic = VmNic::create(&br, self.nic()).await.expect("VmNic::create");
                // Hold the queues as a VMM would until the end.
                std::mem::forget(nic);
            }
        }
    }

    /// The namespace before the operation: its ports, and for the
    /// operations on an existing bridge, the bridge.
    async fn prepare(self, nl: &Netlink) {
        let _ = sh_ok(&["ip", "link", "del", "br0"]);
        if matches!(self, Op::ApplyNat) {
            // The bridge went without bridgekit: its rules stayed, and
            // forwarding is the namespace's.
            let _ = sh_ok(&["nft", "delete", "table", "inet", "bridgekit"]);
            for path in [
                "/proc/sys/net/ipv4/ip_forward",
                "/proc/sys/net/ipv6/conf/all/forwarding",
            ] {
                std::fs::write(path, "0").expect("forwarding off");
            }
        }
        for p in ["p0", "p1", "p2", "vx0", "u0"] {
            let _ = sh_ok(&["ip", "link", "del", p]);
        }
        if matches!(self, Op::ApplyVxlan) {
            // The underlay, with fixed MACs and its VTEP address.
            veth("u0", "u0peer");
            sh(&["ip", "link", "set", "u0", "address", "52:54:00:00:1e:01"]);
            sh(&[
                "ip",
                "link",
                "set",
                "u0peer",
                "address",
                "52:54:00:00:1e:02",
            ]);
            sh(&["ip", "link", "set", "u0peer", "addrgenmode", "none"]);
            sh(&["ip", "addr", "add", "10.27.0.1/24", "dev", "u0"]);
            sh(&["ip", "link", "set", "u0", "up"]);
            sh(&["ip", "link", "set", "u0peer", "up"]);
        }
        let ports: &[&str] = match self {
            Op::ApplyPortsAndVlans | Op::ApplyGuards | Op::ApplyLimits => &["p0", "p1", "p2"],
            Op::VmNicCreate => &[],
            _ => &["p0"],
        };
        if matches!(self, Op::ApplyLimits) {
            // An IFB is named after its port's ifindex: the ports get the
            // same ifindexes every time (and the IFBs of the ports deleted
            // above go), so that the views compare.
            for name in ip_link_names() {
                if name.starts_with("bkifb") {
                    let _ = sh_ok(&["ip", "link", "del", &name]);
                }
            }
        }
        for (i, p) in ports.iter().enumerate() {
            let peer = format!("{p}peer");
            if matches!(self, Op::ApplyLimits) {
                let (at, peer_at) = ((100 + 2 * i).to_string(), (101 + 2 * i).to_string());
                sh(&[
                    "ip", "link", "add", p, "index", &at, "type", "veth", "peer", "name", &peer,
                    "index", &peer_at,
                ]);
            } else {
                veth(p, &peer);
            }
            // Fixed MACs: the view compares them.
            sh(&[
                "ip",
                "link",
                "set",
                p,
                "address",
                &format!("52:54:00:00:1b:0{i}"),
            ]);
            sh(&[
                "ip",
                "link",
                "set",
                &peer,
                "address",
                &format!("52:54:00:00:1c:0{i}"),
            ]);
            // No addresses of the peer's own to wait for.
            sh(&["ip", "link", "set", &peer, "addrgenmode", "none"]);
            if matches!(self, Op::OneMessageCreate) {
                sh(&["ip", "link", "set", &peer, "up"]);
            }
        }
        let before = BridgeConfig::new("br0")
            .unwrap()
            .mac(MAC)
            .mtu(1420)
            .address("10.26.0.1/24")
            .address("fd26::1/64");
        let before = match self {
            // p2 guarded before: the operation takes its guard away.
            Op::ApplyGuards => Some(
                before.port(
                    "p2",
                    PortConfig::new()
                        .guest_guard(guest_guard().mac("52:54:00:00:1a:03"))
                        .up(),
                ),
            ),
            // p1 attached unlimited, p2 limited both ways.
            Op::ApplyLimits => Some(
                before.port("p1", PortConfig::new().up()).port(
                    "p2",
                    PortConfig::new()
                        .inbound(Bandwidth::bytes_per_sec(300_000))
                        .outbound(Bandwidth::bytes_per_sec(400_000))
                        .up(),
                ),
            ),
            Op::ApplyPortsAndVlans | Op::VmNicCreate | Op::ApplyVxlan | Op::ApplyNat => {
                Some(before)
            }
            Op::StagedCreate | Op::OneMessageCreate => None,
        };
        if let Some(before) = before {
            before
                .apply(nl)
                .await
                .expect("the bridge before the operation");
        }
    }

    /// After a kill: what a restarted daemon does — the same desired state
    /// again — then DAD. Returns what it holds (a NIC's queues) until the
    /// view has been taken.
    async fn restart(self, nl: &Netlink) -> Option<VmNic> {
        let applied = self.config().apply(nl).await.expect("apply after the kill");
        let nic = match self {
            Op::VmNicCreate => Some(
                VmNic::create(&applied.bridge, self.nic())
                    .await
                    .expect("VmNic::create after the kill"),
            ),
            _ => None,
        };
        applied
            .bridge
            .wait_dad(Duration::from_secs(20))
            .await
            .expect("DAD after the kill");
        nic
    }
}

/// Waits until no address in the namespace is tentative (the ports' and
/// taps' own link-locals run DAD too, on their own clock), so that two
/// views compare states, not moments.
fn settle() {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = sh(&["ip", "-j", "addr", "show", "tentative"]);
        let v: Value = serde_json::from_str(&out).unwrap();
        let pending = v
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["addr_info"].as_array().is_some_and(|a| !a.is_empty()));
        if !pending {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "addresses still tentative: {out}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `kernel_state` with what it leaves out and a restart must also get
/// right: each link's admin state and `addrgenmode`, and each address's
/// flags.
pub fn whole_view() -> Value {
    settle();
    let mut view = kernel_state();
    let links: Value = serde_json::from_str(&sh(&["ip", "-j", "-d", "link", "show"])).unwrap();
    let modes: Vec<String> = links
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            format!(
                "{} {} {}",
                l["ifname"],
                l["operstate"],
                l.get("inet6_addr_gen_mode").unwrap_or(&Value::Null)
            )
        })
        .collect();
    let addrs: Value = serde_json::from_str(&sh(&["ip", "-j", "addr", "show"])).unwrap();
    let mut flagged = Vec::new();
    for l in addrs.as_array().unwrap() {
        for a in l["addr_info"].as_array().unwrap() {
            let mut a = a.clone();
            if let Some(o) = a.as_object_mut() {
                // Lifetimes tick; the rest is state.
                o.retain(|k, _| !k.ends_with("_lft"));
            }
            flagged.push(format!("{} {a}", l["ifname"]));
        }
    }
    flagged.sort();
    view["link_modes"] = modes.into();
    view["addr_flags"] = flagged.into();
    // Order is not state: the kernel lists by ifindex, and a link made
    // again gets a new one.
    for (_, v) in view.as_object_mut().unwrap().iter_mut() {
        if let Some(a) = v.as_array_mut() {
            a.sort_by_key(|x| x.to_string());
        }
    }
    view
}

/// What differs between two views, entry by entry.
fn differences(want: &Value, got: &Value) -> String {
    let mut out = Vec::new();
    for (key, w) in want.as_object().unwrap() {
        let g = &got[key];
        if w == g {
            continue;
        }
        match (w.as_array(), g.as_array()) {
            (Some(w), Some(g)) => {
                for x in w.iter().filter(|x| !g.contains(x)) {
                    out.push(format!("{key}: missing {x}"));
                }
                for x in g.iter().filter(|x| !w.contains(x)) {
                    out.push(format!("{key}: extra {x}"));
                }
            }
            _ => out.push(format!("{key}: want {w}, got {g}")),
        }
    }
    if out.is_empty() {
        return format!("(same entries, other order or count)\n  want {want}\n  got  {got}");
    }
    out.join("\n    ")
}

/// Times `op`, takes the reference view, then kills it at `POINTS` points
/// and checks that a restart converges to the reference every time.
pub async fn harness(nl: &Netlink, op: Op) -> TestResult {
    // 40 restarts each wait for DAD, on an emulated CPU in the tier.
    super::dad_at_test_speed(None);
    op.prepare(nl).await;
    let took = run_child("kill_child", (KILL_OP, op.name()), None).ok_or("no duration")?;
    let held = op.restart(nl).await;
    let reference = whole_view();
    drop(held);
    eprintln!("{}: {took:?} uninterrupted", op.name());
    let span = took.mul_f64(1.5);
    let points = chosen_points(op);
    eprintln!(
        "{}: kill points {points:?} of 0..{POINTS} (replay one with {KILL_POINT}=N)",
        op.name()
    );
    let mut mismatches = Vec::new();
    for &i in &points {
        let delay = span.mul_f64(i as f64 / POINTS as f64);
        op.prepare(nl).await;
        run_child("kill_child", (KILL_OP, op.name()), Some(delay));
        let held = op.restart(nl).await;
        let view = whole_view();
        drop(held);
        if view != reference {
            mismatches.push(format!(
                "point {i} ({KILL_POINT}={i}), killed after {delay:?}: {}",
                differences(&reference, &view)
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{}: {} of {} kill points did not converge:\n{}",
        op.name(),
        mismatches.len(),
        points.len(),
        mismatches.join("\n")
    );
    Ok(())
}

/// The body of each kill binary's `kill_child` test: performs the
/// operation its parent names, then waits to be killed.
pub fn child_main() {
    let op = Op::parse(&std::env::var(KILL_OP).expect("run by the parent"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let nl = Netlink::connect().expect("connect");
        println!("KILL:ready");
        let mut go = String::new();
        std::io::stdin().read_line(&mut go).unwrap();
        let start = Instant::now();
        op.perform(&nl).await;
        println!("KILL:done {}", start.elapsed().as_micros());
        // Stay alive (holding what the operation made) until killed.
        std::io::stdin().read_line(&mut go).unwrap();
    });
}

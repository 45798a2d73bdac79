//! Shared by the benches: samples and their summary, the baselines'
//! helpers (`ip` one process per step, `ip -batch`), and the machine line.
//! Every bench runs inside a private network namespace (see
//! `examples/support/private_netns.rs`), never the host's.
#![allow(dead_code)]

use std::future::Future;
use std::process::Command;
use std::time::{Duration, Instant};

#[path = "../../examples/support/private_netns.rs"]
mod private_netns;

pub type BoxResult<T> = Result<T, Box<dyn std::error::Error>>;

/// The common `main`: enters a private network namespace (never the
/// host's), starts a current-thread runtime and runs `body`, telling it
/// whether `quick` was passed (fewer samples, for a smoke run).
pub fn bench_main<F, Fut>(body: F) -> BoxResult<()>
where
    F: FnOnce(bool) -> Fut,
    Fut: Future<Output = BoxResult<()>>,
{
    let quick = std::env::args().any(|a| a == "quick");
    private_netns::enter_private_netns()?;
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(body(quick))
}

/// Median and spread of a set of samples.
#[derive(Clone, Copy, Debug)]
pub struct Stats {
    pub median: Duration,
    pub p10: Duration,
    pub p90: Duration,
    pub n: usize,
}

pub fn stats(mut v: Vec<Duration>) -> Stats {
    assert!(!v.is_empty(), "no samples");
    v.sort();
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    Stats {
        median: at(0.5),
        p10: at(0.1),
        p90: at(0.9),
        n: v.len(),
    }
}

pub fn us(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us >= 10_000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{us:.1} µs")
    }
}

/// `median (p10-p90, n)`.
pub fn show(s: &Stats) -> String {
    format!("{} ({}–{}, n={})", us(s.median), us(s.p10), us(s.p90), s.n)
}

pub fn ratio(a: &Stats, b: &Stats) -> f64 {
    a.median.as_secs_f64() / b.median.as_secs_f64()
}

/// One markdown table row.
pub fn row(cells: &[String]) {
    println!("| {} |", cells.join(" | "));
}

pub fn header(cells: &[&str]) {
    println!("| {} |", cells.join(" | "));
    println!("|{}", "---|".repeat(cells.len()));
}

/// The machine, for the line under each table.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let date = Command::new("date")
        .arg("+%Y-%m-%d")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    format!("{cores} cores, kernel {}, {date}", kernel.trim())
}

/// `ip ARGS`, one process (a baseline step).
pub fn ip(args: &[&str]) -> BoxResult<()> {
    run("ip", args)
}

pub fn run(cmd: &str, args: &[&str]) -> BoxResult<()> {
    let out = Command::new(cmd).args(args).output()?;
    if !out.status.success() {
        return Err(format!(
            "{cmd} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )
        .into());
    }
    Ok(())
}

/// Runs `lines` through `cmd -batch` (ip or bridge), returning the wall time.
pub fn batch(cmd: &str, lines: &str) -> BoxResult<Duration> {
    let path = std::env::temp_dir().join(format!(
        "bridgekit-bench-{}-{cmd}.batch",
        std::process::id()
    ));
    std::fs::write(&path, lines)?;
    let t = Instant::now();
    let result = run(cmd, &["-batch", path.to_str().unwrap()]);
    let took = t.elapsed();
    let _ = std::fs::remove_file(&path);
    result.map(|()| took)
}

/// `n` veth pairs `{prefix}{i}` / `{prefix}{i}p` in one `ip -batch` (setup, not measured).
pub fn make_veths(prefix: &str, n: usize) -> BoxResult<()> {
    let lines: String = (0..n)
        .map(|i| format!("link add {prefix}{i} type veth peer name {prefix}{i}p\n"))
        .collect();
    batch("ip", &lines).map(drop)
}

/// Ifindex by name, asked of `ip` (not /sys, which shows the namespace it
/// was mounted in).
pub fn ifindex(name: &str) -> BoxResult<u32> {
    let out = Command::new("ip")
        .args(["-o", "link", "show", name])
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text.split(':').next().unwrap_or("").trim().parse()?)
}

/// Resident memory of this process, in KiB.
pub fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Whether this kernel has bridge VLAN filtering (probed in this namespace).
pub fn kernel_has_vlan_filtering() -> bool {
    let ok = ip(&[
        "link",
        "add",
        "bkprobe0",
        "type",
        "bridge",
        "vlan_filtering",
        "1",
    ])
    .is_ok();
    if ok {
        let _ = ip(&["link", "del", "bkprobe0"]);
    }
    ok
}

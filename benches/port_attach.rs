//! Attach + detach of N ports (N = 1, 100, 1000): bridgekit next to raw
//! rtnetlink (the same RTM_SETLINK master/nomaster, no checks: the floor)
//! and to `ip link set PORT master BR` / `nomaster` shell-outs, one process
//! per step (what most VM managers do today), all measured in this run.
//!
//! Runs in a private network namespace of its own (a user namespace first
//! when not root); ports are veth ends, down.
//! `cargo bench --bench port_attach [-- quick]`.

use std::process::Command;
use std::time::{Duration, Instant};

#[path = "../examples/support/private_netns.rs"]
mod private_netns;

use bridgekit::{Bridge, BridgeConfig, Netlink, PortConfig};
use rtnetlink::LinkUnspec;

type BoxResult<T> = Result<T, Box<dyn std::error::Error>>;

fn main() -> BoxResult<()> {
    let quick = std::env::args().any(|a| a == "quick");
    private_netns::enter_private_netns()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(run(quick))
}

/// How many rounds of attach+detach each N gets: enough samples for a
/// median without making the shell-outs take minutes.
fn rounds(n: usize, quick: bool) -> (usize, usize) {
    // (rounds for bridgekit and raw, rounds for ip shell-outs)
    match (n, quick) {
        (1, false) => (400, 60),
        (1, true) => (40, 6),
        (100, false) => (9, 3),
        (100, true) => (2, 1),
        (_, false) => (3, 1),
        (_, true) => (1, 1),
    }
}

async fn run(quick: bool) -> BoxResult<()> {
    let nl = Netlink::connect()?;
    let (conn, handle, _) = rtnetlink::new_connection()?;
    tokio::spawn(conn);
    let br = Bridge::create(&nl, BridgeConfig::new("bkbench0")?).await?;
    let max = if quick { 100 } else { 1000 };
    make_veths(max)?;
    let mut indexes = Vec::new();
    for i in 0..max {
        indexes.push(ifindex(&format!("bkp{i}"))?);
    }
    println!("attach + detach per port, ports down (veth), median over rounds, this run:");
    println!(
        "{:>6} {:>14} {:>14} {:>14} {:>12} {:>12}",
        "N", "bridgekit", "raw rtnetlink", "ip shell-out", "ip/bridgekit", "bridgekit/raw"
    );
    let ns = [1usize, 100, 1000];
    for &n in ns.iter().filter(|n| **n <= max) {
        let (r, r_ip) = rounds(n, quick);
        let mut ours = Vec::new();
        let mut raw = Vec::new();
        let mut ip = Vec::new();
        for round in 0..r {
            // Interleave the three so drift in the machine hits all alike.
            let t = Instant::now();
            let ports = &indexes[..n];
            for &i in ports {
                br.attach_port(i, PortConfig::new()).await?;
            }
            for &i in ports {
                br.detach_port(i).await?;
            }
            ours.push(t.elapsed() / n as u32);

            let t = Instant::now();
            for &i in ports {
                let msg = LinkUnspec::new_with_index(i).controller(br.index()).build();
                handle.link().set(msg).execute().await?;
            }
            for &i in ports {
                let msg = LinkUnspec::new_with_index(i).nocontroller().build();
                handle.link().set(msg).execute().await?;
            }
            raw.push(t.elapsed() / n as u32);

            if round < r_ip {
                let t = Instant::now();
                for i in 0..n {
                    ip_ok(&["link", "set", &format!("bkp{i}"), "master", "bkbench0"])?;
                }
                for i in 0..n {
                    ip_ok(&["link", "set", &format!("bkp{i}"), "nomaster"])?;
                }
                ip.push(t.elapsed() / n as u32);
            }
        }
        let (o, w, s) = (median(&mut ours), median(&mut raw), median(&mut ip));
        println!(
            "{n:>6} {:>14} {:>14} {:>14} {:>11.1}x {:>11.2}x",
            fmt(o),
            fmt(w),
            fmt(s),
            s.as_secs_f64() / o.as_secs_f64(),
            o.as_secs_f64() / w.as_secs_f64()
        );
    }
    println!("goal (issue 4): at least 10x faster than ip shell-outs per port");
    br.delete().await?;
    Ok(())
}

fn fmt(d: Duration) -> String {
    format!("{:.1} us", d.as_secs_f64() * 1e6)
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ip_ok(args: &[&str]) -> BoxResult<()> {
    let st = Command::new("ip").args(args).status()?;
    if !st.success() {
        return Err(format!("ip {args:?} failed").into());
    }
    Ok(())
}

/// N veth pairs in one `ip -batch` (setup, not measured).
fn make_veths(n: usize) -> BoxResult<()> {
    let script: String = (0..n)
        .map(|i| format!("link add bkp{i} type veth peer name bkq{i}\n"))
        .collect();
    let path = std::env::temp_dir().join(format!("bridgekit-bench-{}.batch", std::process::id()));
    std::fs::write(&path, script)?;
    let ok = Command::new("ip")
        .args(["-batch", path.to_str().unwrap()])
        .status()?
        .success();
    let _ = std::fs::remove_file(&path);
    if !ok {
        return Err("creating veth pairs failed".into());
    }
    Ok(())
}

fn ifindex(name: &str) -> BoxResult<u32> {
    // Not /sys/class/net: that sysfs belongs to the namespace it was mounted in.
    let out = Command::new("ip")
        .args(["-o", "link", "show", name])
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text.split(':').next().unwrap_or("").trim().parse()?)
}

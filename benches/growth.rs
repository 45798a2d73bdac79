//! Flat cost as the host grows: attach + detach of one port with 10 and
//! with 10,000 unrelated links in the namespace, bridgekit next to raw
//! rtnetlink in the same run. The kernel itself is not perfectly flat, so
//! the figure that matters is our growth divided by raw rtnetlink's.
//!
//! Then the memory the link view (the port checks' view of every link)
//! costs at that size.
//!
//! `cargo bench --bench growth [-- quick]`; prints a markdown table.

use std::time::{Duration, Instant};

#[path = "support/harness.rs"]
mod harness;

use bridgekit::{Bridge, BridgeConfig, Netlink, PortConfig};
use harness::*;
use rtnetlink::{Handle, LinkUnspec};

fn main() -> BoxResult<()> {
    harness::bench_main(|quick| async move {
        let nl = Netlink::connect()?;
        let (conn, h, _) = rtnetlink::new_connection()?;
        tokio::spawn(conn);
        let br = Bridge::create(&nl, BridgeConfig::new("bkgr0")?).await?;
        make_veths("bkg", 1)?;
        let port = ifindex("bkg0")?;
        let samples = if quick { 100 } else { 600 };
        let big = if quick { 2_000 } else { 10_000 };
        // 8 links so far (lo, bridge, veth pair, ...): top up to 10.
        make_veths("bksmall", 1)?;
        let small = measure(&br, &h, port, samples).await?;
        // Unrelated links: veth pairs, two links each.
        make_veths("bku", big / 2)?;
        let large = measure(&br, &h, port, samples).await?;
        println!("\n### Attach + detach of one port as the namespace grows (median per pair)\n");
        header(&["", "10 links", &format!("{big} links"), "growth"]);
        let g_ours = ratio(&large.0, &small.0);
        let g_raw = ratio(&large.1, &small.1);
        row(&[
            "bridgekit".into(),
            show(&small.0),
            show(&large.0),
            format!("{g_ours:.2}×"),
        ]);
        row(&[
            "raw rtnetlink".into(),
            show(&small.1),
            show(&large.1),
            format!("{g_raw:.2}×"),
        ]);
        println!(
            "\nbridgekit's growth / raw rtnetlink's growth: {:.3} (goal: at most 1.10)",
            g_ours / g_raw
        );
        // The link view's memory at this size: a new connection, whose
        // first port operation builds its view of every link.
        let nl2 = Netlink::connect()?;
        let br2 = Bridge::open(&nl2, "bkgr0").await?;
        let before = rss_kib();
        br2.attach_port(port, PortConfig::new()).await?;
        let after = rss_kib();
        br2.detach_port(port).await?;
        let links = std::process::Command::new("ip")
            .args(["-o", "link", "show"])
            .output()
            .map_or(0, |o| {
                o.stdout
                    .split(|b| *b == b'\n')
                    .filter(|l| !l.is_empty())
                    .count()
            });
        println!(
            "\nThe link view at {links} links: resident memory +{} KiB on the first port \
             operation of a new connection (the view and the dump that filled it), \
             about {} bytes per link.",
            after.saturating_sub(before),
            after.saturating_sub(before) * 1024 / links.max(1) as u64
        );
        println!("\nMachine: {}", machine());
        br.delete().await?;
        Ok(())
    })
}

async fn measure(br: &Bridge, h: &Handle, port: u32, samples: usize) -> BoxResult<(Stats, Stats)> {
    for _ in 0..100 {
        // Warm-up: caches, allocator, the kernel's own lazily built state.
        br.attach_port(port, PortConfig::new()).await?;
        br.detach_port(port).await?;
    }
    let (mut ours, mut floor): (Vec<Duration>, Vec<Duration>) = (Vec::new(), Vec::new());
    for i in 0..(samples + samples / 10) / 10 {
        // Untimed: the view reads the notifications the raw block queued
        // (a check that fails; see benches/ports.rs).
        let _ = br.detach_port(port).await;
        for _ in 0..10 {
            let t = Instant::now();
            br.attach_port(port, PortConfig::new()).await?;
            br.detach_port(port).await?;
            if i >= samples / 100 {
                ours.push(t.elapsed());
            }
        }
        for _ in 0..10 {
            let t = Instant::now();
            h.link()
                .set(
                    LinkUnspec::new_with_index(port)
                        .controller(br.index())
                        .build(),
                )
                .execute()
                .await?;
            h.link()
                .set(LinkUnspec::new_with_index(port).nocontroller().build())
                .execute()
                .await?;
            if i >= samples / 100 {
                floor.push(t.elapsed());
            }
        }
    }
    Ok((stats(ours), stats(floor)))
}

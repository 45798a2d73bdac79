//! Concurrency: 64 tasks on a multi-threaded runtime share one `Netlink`,
//! working on disjoint and on overlapping objects; and two independent
//! clients (own threads, own sockets) race to create the same bridge. No
//! deadlock (everything under a deadline), no wrong answers.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bridgekit::{Bridge, BridgeConfig, Error, Netlink, PortConfig};
use common::*;

/// Runs `body` in a fresh namespace on a multi-threaded runtime (its worker
/// threads are started from the thread that entered the namespace, so they
/// are in it too).
fn multi_threaded<F, Fut>(body: F)
where
    F: FnOnce(Netlink) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = TestResult> + Send,
{
    let outcome = std::thread::spawn(move || {
        enter_new_netns();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let nl = Netlink::connect().unwrap();
            tokio::time::timeout(Duration::from_secs(120), body(nl))
                .await
                .expect("deadlock: the tasks did not finish within 120 s")
        })
        .map_err(|e| e.to_string())
    })
    .join();
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(e)) => panic!("test failed: {e}"),
        Err(p) => std::panic::resume_unwind(p),
    }
}

#[test]
fn sixty_four_tasks_share_one_connection() {
    multi_threaded(|nl| async move {
        for i in 0..64 {
            veth(&format!("vt{i}"), &format!("vt{i}p"));
        }
        veth("shared0", "shared0p");
        let a = Bridge::create(&nl, BridgeConfig::new("bA")?.mac("52:54:00:00:0a:01")).await?;
        let b = Bridge::create(&nl, BridgeConfig::new("bB")?.mac("52:54:00:00:0b:01")).await?;
        let (ok_a, ok_b, busy) = (
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
        );
        let created = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for i in 0..64 {
            let (nl, a, b) = (nl.clone(), a.clone(), b.clone());
            let (ok_a, ok_b, busy, created) =
                (ok_a.clone(), ok_b.clone(), busy.clone(), created.clone());
            tasks.push(tokio::spawn(async move {
                // Disjoint: a bridge and a port of this task's own.
                let name = format!("bt{i}");
                let mine = Bridge::create(
                    &nl,
                    BridgeConfig::new(&name)?.mac(format!("52:54:00:01:00:{i:02x}")),
                )
                .await?;
                let port = format!("vt{i}");
                mine.attach_port(
                    port.as_str(),
                    PortConfig::new().learning(false).cost(100 + i),
                )
                .await?;
                let link = ip_link(&port).unwrap();
                assert_eq!(link["master"], name.as_str(), "{port}");
                assert_eq!(
                    link["linkinfo"]["info_slave_data"]["cost"],
                    100 + i,
                    "{port}"
                );
                mine.detach_port(port.as_str()).await?;
                // Overlapping: everyone wants the same port.
                let target = if i % 2 == 0 { &a } else { &b };
                match target.attach_port("shared0", PortConfig::new()).await {
                    Ok(()) if i % 2 == 0 => ok_a.fetch_add(1, Ordering::SeqCst),
                    Ok(()) => ok_b.fetch_add(1, Ordering::SeqCst),
                    Err(Error::PortBusy { .. }) => busy.fetch_add(1, Ordering::SeqCst),
                    Err(e) => return Err(e),
                };
                // Overlapping: everyone creates the same bridge.
                match Bridge::create(&nl, BridgeConfig::new("bsame")?).await {
                    Ok(_) => {
                        created.fetch_add(1, Ordering::SeqCst);
                    }
                    Err(Error::AlreadyExists { .. }) => {}
                    Err(e) => return Err(e),
                }
                mine.delete().await?;
                Ok::<_, Error>(())
            }));
        }
        for t in tasks {
            t.await?.map_err(|e| format!("task: {e}"))?;
        }
        let (ok_a, ok_b, busy) = (
            ok_a.load(Ordering::SeqCst),
            ok_b.load(Ordering::SeqCst),
            busy.load(Ordering::SeqCst),
        );
        assert_eq!(ok_a + ok_b + busy, 64);
        // Exactly one bridge got the port, and every answer agrees with that.
        let master = ip_link("shared0").unwrap()["master"]
            .as_str()
            .unwrap()
            .to_string();
        match master.as_str() {
            "bA" => assert_eq!((ok_a, ok_b), (32, 0), "busy={busy}"),
            "bB" => assert_eq!((ok_a, ok_b), (0, 32), "busy={busy}"),
            other => panic!("shared0 ended on {other}"),
        }
        assert_eq!(created.load(Ordering::SeqCst), 1, "one creator of bsame");
        // Nothing of the disjoint work is left.
        let left: Vec<String> = ip_link_names()
            .into_iter()
            .filter(|n| n.starts_with("bt"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
        Ok(())
    });
}

/// Two clients with sockets of their own (as two processes would have)
/// race to create the same bridge, many times: exactly one wins each time.
#[test]
fn two_clients_race_to_create_the_same_bridge() {
    netns_test(|_nl| async move {
        let rounds = 100;
        let barrier = Arc::new(std::sync::Barrier::new(2));
        let client = |barrier: Arc<std::sync::Barrier>| {
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async move {
                    let nl = Netlink::connect().unwrap();
                    let mut won = Vec::new();
                    for r in 0..rounds {
                        barrier.wait();
                        let cfg = BridgeConfig::new(format!("brace{r}"))
                            .unwrap()
                            .mac("52:54:00:00:0c:01")
                            .stp(true)
                            .forward_delay(Duration::from_secs(2));
                        match Bridge::create(&nl, cfg).await {
                            Ok(_) => won.push(true),
                            Err(Error::AlreadyExists { .. }) => won.push(false),
                            Err(e) => panic!("round {r}: {e}"),
                        }
                    }
                    won
                })
            })
        };
        let (x, y) = (client(barrier.clone()), client(barrier));
        let (x, y) = (x.join().unwrap(), y.join().unwrap());
        for r in 0..rounds {
            assert!(x[r] ^ y[r], "round {r}: both or neither created it");
            let link = ip_link(&format!("brace{r}")).unwrap();
            assert_eq!(
                link["linkinfo"]["info_data"]["stp_state"], 1,
                "the winner finished it"
            );
        }
        let wins = x.iter().filter(|w| **w).count();
        eprintln!("client one won {wins} of {rounds} rounds");
        Ok(())
    });
}

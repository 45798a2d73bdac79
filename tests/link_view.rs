//! The link view the port checks read in place of lookups: one change
//! request per attach and detach, the view as fresh as a lookup (links made,
//! renamed, moved and deleted by other processes), rebuilt after an
//! overrun, and the race window between the check and the change.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bridgekit::{Bridge, BridgeConfig, Error, Netlink, PortConfig};
use common::*;

/// Change requests sent by `f`: requests less the reads of the link view.
async fn changes<T>(nl: &Netlink, f: impl AsyncFnOnce() -> T) -> (T, u64) {
    let (sent, reads) = (nl.requests_sent(), nl.link_view_reads());
    let out = f().await;
    let changes = (nl.requests_sent() - sent) - (nl.link_view_reads() - reads);
    (out, changes)
}

fn master(port: &str) -> Option<String> {
    ip_link(port)
        .unwrap()
        .get("master")
        .and_then(|m| m.as_str().map(str::to_string))
}

#[test]
fn attach_and_detach_send_one_change_request_each() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?).await?;
        veth("p0", "p0peer");
        veth("p1", "p1peer");
        // The view starts with the first port operation: one dump.
        let dumps = nl.link_view_rebuilds();
        let (r, sent) = changes(&nl, async || br.attach_port("p0", PortConfig::new()).await).await;
        r?;
        assert_eq!(nl.link_view_rebuilds() - dumps, 1, "the view's first dump");
        assert_eq!(sent, 2, "the view's dump and the attach");
        assert_eq!(master("p0").as_deref(), Some("br0"));
        let (r, sent) = changes(&nl, async || br.detach_port("p0").await).await;
        r?;
        assert_eq!(sent, 1);
        assert_eq!(master("p0"), None);
        // Plain, and up with it (master and up in one RTM_SETLINK), by
        // name and by ifindex.
        let index = ip_link("p1").unwrap()["ifindex"].as_u64().unwrap() as u32;
        for config in [PortConfig::new(), PortConfig::new().up()] {
            let (r, sent) = changes(&nl, async || br.attach_port(index, config).await).await;
            r?;
            assert_eq!(sent, 1);
            let (r, sent) = changes(&nl, async || br.detach_port("p1").await).await;
            r?;
            assert_eq!(sent, 1);
        }
        assert_eq!(
            nl.link_view_rebuilds() - dumps,
            1,
            "no dump after the first"
        );
        // The bulk calls: one change per port; the bulk detach adds one dump
        // of the bridge's ports (their options, for its undo).
        let (r, sent) = changes(&nl, async || {
            br.attach_ports([("p0", PortConfig::new()), ("p1", PortConfig::new())])
                .await
        })
        .await;
        r?;
        assert_eq!(sent, 2);
        let (r, sent) = changes(&nl, async || br.detach_ports(["p0", "p1"]).await).await;
        r?;
        assert_eq!(sent, 3);
        assert_eq!((master("p0"), master("p1")), (None, None));
        Ok(())
    });
}

#[test]
fn the_view_sees_what_other_processes_did() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?).await?;
        veth("p0", "p0peer");
        br.attach_port("p0", PortConfig::new()).await?;
        br.detach_port("p0").await?;
        // Made after the view started, by another process.
        veth("p1", "p1peer");
        br.attach_port("p1", PortConfig::new()).await?;
        assert_eq!(master("p1").as_deref(), Some("br0"));
        // Renamed: the new name works, the old one is gone.
        sh(&["ip", "link", "set", "p0", "name", "guest0"]);
        assert!(matches!(
            br.attach_port("p0", PortConfig::new()).await,
            Err(Error::NotFound { .. })
        ));
        br.attach_port("guest0", PortConfig::new()).await?;
        assert_eq!(master("guest0").as_deref(), Some("br0"));
        // Taken by another bridge behind our back: busy, and named.
        sh(&["ip", "link", "add", "br1", "type", "bridge"]);
        sh(&["ip", "link", "set", "guest0", "master", "br1"]);
        match br.attach_port("guest0", PortConfig::new()).await {
            Err(Error::PortBusy { port, bridge, .. }) => {
                assert_eq!((port.as_str(), bridge.as_str()), ("guest0", "br1"))
            }
            other => panic!("expected PortBusy, got {other:?}"),
        }
        assert_eq!(master("guest0").as_deref(), Some("br1"));
        // Released by another process: no longer ours to detach.
        sh(&["ip", "link", "set", "p1", "nomaster"]);
        assert!(matches!(
            br.detach_port("p1").await,
            Err(Error::NotAPort { .. })
        ));
        // Deleted by another process.
        sh(&["ip", "link", "del", "p1"]);
        assert!(matches!(
            br.attach_port("p1", PortConfig::new()).await,
            Err(Error::NotFound { .. })
        ));
        Ok(())
    });
}

#[test]
fn an_overrun_rebuilds_the_view_from_one_dump() {
    netns_test(|nl| async move {
        // A receive buffer too small for the churn below.
        nl.set_event_rcvbuf(4096);
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?).await?;
        veth("p0", "p0peer");
        br.attach_port("p0", PortConfig::new()).await?;
        let dumps = nl.link_view_rebuilds();
        let batch: String = (0..40)
            .map(|i| format!("link add c{i} type veth peer name c{i}p\nlink set c{i} up\n"))
            .collect();
        let file = std::env::temp_dir().join(format!("bk-churn-{}", std::process::id()));
        std::fs::write(&file, batch)?;
        sh(&["ip", "-batch", file.to_str().unwrap()]);
        let _ = std::fs::remove_file(&file);
        sh(&["ip", "link", "set", "c39", "master", "br0"]);
        // Every check after the overrun answers from the rebuilt view.
        br.detach_port("c39").await?;
        assert_eq!(master("c39"), None);
        assert!(
            nl.link_view_rebuilds() > dumps,
            "no overrun: the test proves nothing"
        );
        br.attach_port("c38", PortConfig::new()).await?;
        assert_eq!(master("c38").as_deref(), Some("br0"));
        Ok(())
    });
}

/// The window the view leaves is the one a lookup left: between the check
/// and the change, another process can take the port. The kernel has no
/// compare-and-set for IFLA_MASTER, so the change then moves the port (an
/// attach) or releases it from the other bridge (a detach), as it would
/// after a lookup. bridgekit's lock closes the window for its own tasks
/// (tests/concurrency.rs); between processes, only an agreement on who
/// owns which port does.
#[test]
fn a_port_moved_by_another_process_between_check_and_change() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?).await?;
        sh(&["ip", "link", "add", "br1", "type", "bridge"]);
        veth("p0", "p0peer");
        let once = Arc::new(AtomicBool::new(true));
        let race = |cmd: &'static [&'static str]| {
            let once = once.clone();
            once.store(true, Ordering::SeqCst);
            Some(Box::new(move || {
                if once.swap(false, Ordering::SeqCst) {
                    sh(cmd);
                }
            }) as Box<dyn Fn() + Send + Sync>)
        };
        // Attach: checked free, taken by br1, then moved to br0 by our
        // change. The attach succeeds; br1 lost the port.
        nl.after_port_check(race(&["ip", "link", "set", "p0", "master", "br1"]));
        br.attach_port("p0", PortConfig::new()).await?;
        nl.after_port_check(None);
        assert!(!once.load(Ordering::SeqCst), "the race did not run");
        assert_eq!(master("p0").as_deref(), Some("br0"));
        // Detach: checked ours, moved to br1, then released by our change.
        nl.after_port_check(race(&["ip", "link", "set", "p0", "master", "br1"]));
        br.detach_port("p0").await?;
        nl.after_port_check(None);
        assert!(!once.load(Ordering::SeqCst), "the race did not run");
        assert_eq!(master("p0"), None);
        // Outside the window, both are refused as usual.
        sh(&["ip", "link", "set", "p0", "master", "br1"]);
        assert!(matches!(
            br.attach_port("p0", PortConfig::new()).await,
            Err(Error::PortBusy { .. })
        ));
        assert!(matches!(
            br.detach_port("p0").await,
            Err(Error::NotAPort { .. })
        ));
        Ok(())
    });
}

/// The view's socket filter drops, in the kernel, the link messages the
/// view has no use for (AF_BRIDGE ones, and those carrying IFLA_EVENT: a
/// features change repeats a link's state) and keeps every other one.
#[test]
fn the_socket_filter_drops_bridge_notes_and_event_copies_only() {
    use netlink_packet_route::link::{LinkAttribute, LinkEvent, LinkMessage};
    use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
    use rtnetlink::packet_core::{NetlinkHeader, NetlinkMessage, NetlinkPayload};

    fn bytes(family: AddressFamily, del: bool, event: Option<LinkEvent>) -> Vec<u8> {
        let mut m = LinkMessage::default();
        m.header.interface_family = family;
        m.header.index = 7;
        m.attributes.push(LinkAttribute::IfName("vnet0".into()));
        m.attributes.push(LinkAttribute::Mtu(1500));
        if let Some(e) = event {
            m.attributes.push(LinkAttribute::Event(e));
        }
        m.attributes.push(LinkAttribute::Controller(3));
        let inner = if del {
            RouteNetlinkMessage::DelLink(m)
        } else {
            RouteNetlinkMessage::NewLink(m)
        };
        let mut msg = NetlinkMessage::new(NetlinkHeader::default(), NetlinkPayload::from(inner));
        msg.finalize();
        let mut buf = vec![0; msg.buffer_len()];
        msg.serialize(&mut buf);
        buf
    }

    netns_test(|nl| async move {
        let keeps = |family, del, event| nl.link_view_filter_keeps(&bytes(family, del, event));
        assert!(
            keeps(AddressFamily::Unspec, false, None)?,
            "a link's new state"
        );
        assert!(keeps(AddressFamily::Unspec, true, None)?, "a deletion");
        assert!(
            !keeps(AddressFamily::Bridge, false, None)?,
            "a bridge's note"
        );
        assert!(
            !keeps(AddressFamily::Bridge, true, None)?,
            "left the bridge"
        );
        assert!(
            !keeps(AddressFamily::Unspec, false, Some(LinkEvent::Features))?,
            "a features-change copy"
        );
        Ok(())
    });
}

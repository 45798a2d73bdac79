//! macvtap guest NICs (libvirt's "direct" interfaces): made on a lower
//! device in each mode, checked through `ip -j -d link show`, proven with
//! a real ARP exchange through the queue fds (multi-queue: the reply may
//! come on any queue), undone at every step when a step fails, and
//! refused before any request when the input is bad. The host kernel here
//! has no macvtap: there every call must answer `Unsupported`, and the
//! tests say why they skip; in the kernel tier it must work.

mod common;

use std::os::fd::AsRawFd;
use std::time::Duration;

use bridgekit::{Error, MacvtapMode, MacvtapNic, MacvtapNicConfig};
use common::*;

const GUEST: [u8; 6] = [0x52, 0x54, 0x00, 0x00, 0x77, 0x01];
const GUEST_IP: [u8; 4] = [10, 88, 0, 2];
const PEER_IP: [u8; 4] = [10, 88, 0, 1];

fn guest_mac() -> String {
    GUEST
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// A lower device `lw0` whose veth peer answers ARP for 10.88.0.1.
fn lower() {
    veth("lw0", "lw0peer");
    sh(&["ip", "addr", "add", "10.88.0.1/24", "dev", "lw0peer"]);
    sh(&["ip", "link", "set", "lw0peer", "up"]);
    sh(&["ip", "link", "set", "lw0", "up"]);
}

/// Creates a NIC, or (on a kernel without macvtap) checks the answer is
/// `Unsupported` with nothing left behind and returns `None`.
async fn create_or_skip(nl: &bridgekit::Netlink, config: MacvtapNicConfig) -> Option<MacvtapNic> {
    let before = ip_link_names();
    match MacvtapNic::create(nl, config).await {
        Ok(nic) => Some(nic),
        Err(Error::Unsupported { detail, .. }) => {
            assert!(detail.contains("CONFIG_MACVTAP"), "{detail}");
            assert_eq!(ip_link_names(), before, "an Unsupported create left a link");
            lacks("the macvtap link kind (CONFIG_MACVTAP)");
            None
        }
        Err(e @ Error::PermissionDenied { .. })
            if skip_rootless(&format!("a macvtap NIC's queue device ({e})")) =>
        {
            assert_eq!(ip_link_names(), before, "a refused create left a link");
            None
        }
        Err(e) => panic!("create: {e}"),
    }
}

/// Sends an ARP request for 10.88.0.1 through queue 0 and waits for the
/// reply on any queue; returns the replier's MAC.
fn arp_through(nic: &MacvtapNic) -> Option<[u8; 6]> {
    let fds: Vec<i32> = nic.queue_fds().iter().map(AsRawFd::as_raw_fd).collect();
    let frame = arp::request(0, GUEST, GUEST_IP, PEER_IP);
    // SAFETY: writes a live buffer to a queue fd the NIC owns.
    let n = unsafe { libc::write(fds[0], frame.as_ptr().cast(), frame.len()) };
    assert_eq!(
        n,
        frame.len() as isize,
        "write: {}",
        std::io::Error::last_os_error()
    );
    let f = arp::await_reply(&fds, 0, Duration::from_secs(10))?;
    assert_eq!(f[28..32], PEER_IP, "a reply from the lower's peer");
    assert_eq!(f[0..6], GUEST, "the reply is for the guest's MAC");
    Some(f[22..28].try_into().unwrap())
}

#[test]
fn a_macvtap_nic_carries_real_frames_on_every_queue() {
    netns_test(|nl| async move {
        lower();
        let Some(nic) = create_or_skip(
            &nl,
            MacvtapNicConfig::new("lw0", guest_mac())
                .queues(4)
                .vnet_hdr(false),
        )
        .await
        else {
            return Ok(());
        };
        let name = nic.name().to_string();
        assert!(name.starts_with("mvt"), "{name}");
        let link = ip_link(&name).ok_or("no link")?;
        assert_eq!(link["linkinfo"]["info_kind"], "macvtap");
        assert_eq!(link["linkinfo"]["info_data"]["mode"], "bridge");
        assert_eq!(link["address"], guest_mac());
        assert_eq!(link["link"], "lw0");
        assert!(
            link["flags"].as_array().unwrap().iter().any(|f| f == "UP"),
            "{link}"
        );
        assert_eq!(link["ifindex"].as_u64(), Some(u64::from(nic.index())));
        assert_eq!(nic.queue_fds().len(), 4);
        for fd in nic.queue_fds() {
            // SAFETY: F_GETFD on a live fd.
            let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFD) };
            assert!(flags & libc::FD_CLOEXEC != 0, "queue fds are close-on-exec");
        }
        let peer: Vec<u8> = ip_link("lw0peer").unwrap()["address"]
            .as_str()
            .unwrap()
            .split(':')
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect();
        let replier = arp_through(&nic).ok_or("no ARP reply through the macvtap")?;
        assert_eq!(
            replier.to_vec(),
            peer,
            "the reply came from the lower's peer"
        );
        nic.delete().await?;
        assert!(ip_link(&name).is_none(), "deleted");
        Ok(())
    });
}

#[test]
fn each_mode_is_what_iproute2_shows() {
    netns_test(|nl| async move {
        lower();
        for (i, (mode, shown)) in [
            (MacvtapMode::Bridge, "bridge"),
            (MacvtapMode::Vepa, "vepa"),
            (MacvtapMode::Private, "private"),
            (MacvtapMode::Passthru, "passthru"),
        ]
        .into_iter()
        .enumerate()
        {
            let Some(nic) = create_or_skip(
                &nl,
                MacvtapNicConfig::new("lw0", format!("52:54:00:00:78:{i:02x}").as_str())
                    .mode(mode)
                    .name(format!("mvtap{i}")),
            )
            .await
            else {
                return Ok(());
            };
            let link = ip_link(&format!("mvtap{i}")).ok_or("no link")?;
            assert_eq!(link["linkinfo"]["info_data"]["mode"], shown, "{mode}");
            assert_eq!(nic.mode(), mode);
            assert_eq!(nic.queue_fds().len(), 1);
            nic.delete().await?;
        }
        Ok(())
    });
}

#[test]
fn a_failing_step_leaves_nothing_behind() {
    netns_test(|nl| async move {
        lower();
        let probe = MacvtapNicConfig::new("lw0", guest_mac()).name("mvfault");
        let Some(nic) = create_or_skip(&nl, probe.clone()).await else {
            return Ok(());
        };
        nic.delete().await?;
        let steps = fail_each_step(
            &nl,
            "macvtap create",
            || async {},
            || {
                let nl = nl.clone();
                let config = probe.clone().queues(2).mtu(1400);
                async move { MacvtapNic::create(&nl, config).await.map(drop) }
            },
            || async {
                sh(&["ip", "link", "del", "mvfault"]);
            },
        )
        .await;
        assert!(steps >= 3, "only {steps} steps");
        Ok(())
    });
}

#[test]
fn bad_input_is_refused_before_any_request() {
    netns_test(|nl| async move {
        let sent = nl.requests_sent();
        for (config, needle) in [
            (
                MacvtapNicConfig::new("lw0", guest_mac()).queues(0),
                "queue count 0",
            ),
            (
                MacvtapNicConfig::new("lw0", guest_mac()).queues(257),
                "queue count 257",
            ),
            (
                MacvtapNicConfig::new("lw0", "01:00:5e:00:00:01"),
                "multicast",
            ),
            (MacvtapNicConfig::new("lw0", "not a mac"), "not a mac"),
            (MacvtapNicConfig::new("bad/lower", guest_mac()), "bad/lower"),
            (
                MacvtapNicConfig::new("lw0", guest_mac()).name("a-name-far-too-long"),
                "a-name-far-too-long",
            ),
            (MacvtapNicConfig::new("lw0", guest_mac()).mtu(10), "MTU"),
        ] {
            let err = MacvtapNic::create(&nl, config).await.unwrap_err();
            assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
            assert!(err.to_string().contains(needle), "{needle}: {err}");
        }
        assert_eq!(nl.requests_sent(), sent, "bad input reached the kernel");
        // A missing lower device is the kernel's answer, named.
        let err = MacvtapNic::create(&nl, MacvtapNicConfig::new("nolower0", guest_mac()))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::NotFound { .. }), "{err}");
        assert!(err.to_string().contains("nolower0"), "{err}");
        Ok(())
    });
}

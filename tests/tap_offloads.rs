//! A tap's offloads and virtio-net header size: set through bridgekit,
//! seen through `ethtool -k` and `TUNGETVNETHDRSZ`, and proven with real
//! frames: a frame written with a partial checksum through one tap's
//! queue reaches another tap's reader with its checksum completed by the
//! kernel, or left partial (and flagged so) once that reader took the
//! checksum offload; a 12-byte header is read as 12 bytes.

mod common;

use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use bridgekit::{Bridge, BridgeConfig, Error, InputKind, Offloads, PortConfig, VmNic, VmNicConfig};
use common::kernel::version_has;
use common::*;

/// IPv6 off for every link made from now on: no solicitations to read
/// past on the taps.
fn quiet() {
    for knob in ["all", "default"] {
        std::fs::write(format!("/proc/sys/net/ipv6/conf/{knob}/disable_ipv6"), "1").unwrap();
    }
}

/// `ethtool -k DEV` as (feature, on) pairs.
fn ethtool_k(dev: &str) -> Vec<(String, bool)> {
    sh(&["ethtool", "-k", dev])
        .lines()
        .filter_map(|l| {
            let (name, rest) = l.trim().split_once(": ")?;
            Some((name.to_string(), rest.starts_with("on")))
        })
        .collect()
}

/// The offload features `ethtool -k` shows on.
fn ethtool_on(dev: &str) -> Vec<String> {
    const OURS: [&str; 5] = [
        "tx-checksum-ip-generic",
        "tx-tcp-segmentation",
        "tx-tcp6-segmentation",
        "tx-tcp-ecn-segmentation",
        "tx-udp-segmentation",
    ];
    let mut on: Vec<String> = ethtool_k(dev)
        .into_iter()
        .filter(|(n, on)| *on && OURS.contains(&n.as_str()))
        .map(|(n, _)| n)
        .collect();
    on.sort();
    on
}

fn sorted(names: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

/// TUNGETVNETHDRSZ, asked by the test itself.
fn hdr_size(fd: &OwnedFd) -> i32 {
    let mut size: libc::c_int = 0;
    // SAFETY: TUNGETVNETHDRSZ writes one int through a live pointer.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TUNGETVNETHDRSZ, &mut size) };
    assert_eq!(rc, 0, "{}", std::io::Error::last_os_error());
    size
}

#[test]
fn offloads_and_the_header_size_show_in_ethtool_and_read_back() {
    netns_test(|nl| async move {
        if !can_make_taps() {
            return Ok(());
        }
        quiet();
        let br = Bridge::create(
            &nl,
            BridgeConfig::new("br0")?
                .mac("52:54:00:00:71:01")
                .disable_ipv6(true),
        )
        .await?;
        let nic = VmNic::create(
            &br,
            VmNicConfig::new("52:54:00:00:71:02")
                .name("vnet0")
                .vnet_hdr_size(12),
        )
        .await?;
        assert_eq!(hdr_size(&nic.queue_fds()[0]), 12);
        // A new tap offers its reader nothing.
        assert_eq!(ethtool_on("vnet0"), sorted(&[]));
        assert_eq!(nic.offloads().await?, Offloads::NONE);

        let tcp = Offloads::CSUM | Offloads::TSO4 | Offloads::TSO6 | Offloads::TSO_ECN;
        nic.set_offloads(tcp).await?;
        assert_eq!(
            ethtool_on("vnet0"),
            sorted(&[
                "tx-checksum-ip-generic",
                "tx-tcp-segmentation",
                "tx-tcp6-segmentation",
                "tx-tcp-ecn-segmentation",
            ])
        );
        assert_eq!(nic.offloads().await?, tcp);

        // USO where the kernel has it (6.2+), Unsupported before, and
        // nothing changed then.
        let uso = Offloads::CSUM | Offloads::USO4 | Offloads::USO6;
        let tried = nic.set_offloads(uso).await;
        if version_has("tap offload USO") {
            tried?;
            assert_eq!(
                ethtool_on("vnet0"),
                sorted(&["tx-checksum-ip-generic", "tx-udp-segmentation"])
            );
            println!(
                "KERNEL-FEATURE|{}|tap offload USO|yes",
                common::kernel::release()
            );
        } else {
            let e = tried.unwrap_err();
            assert!(matches!(e, Error::Unsupported { .. }), "{e}");
            assert_eq!(nic.offloads().await?, tcp, "a refused USO changed nothing");
        }

        // Refused before any ioctl: UFO (ignored by the kernel), shapes
        // the kernel refuses. The features stay as they were.
        let before = ethtool_on("vnet0");
        let ufo = nic
            .set_offloads(Offloads::CSUM | Offloads::UFO)
            .await
            .unwrap_err();
        assert!(matches!(ufo, Error::Unsupported { .. }), "{ufo}");
        assert!(ufo.to_string().contains("4.14"), "{ufo}");
        for bad in [
            Offloads::TSO4,
            Offloads::CSUM | Offloads::USO4,
            Offloads::CSUM | Offloads::TSO_ECN,
        ] {
            let e = nic.set_offloads(bad).await.unwrap_err();
            assert!(
                matches!(
                    e,
                    Error::InvalidInput {
                        what: InputKind::Offloads,
                        ..
                    }
                ),
                "{bad}: {e}"
            );
        }
        assert_eq!(ethtool_on("vnet0"), before);

        // All off again.
        nic.set_offloads(Offloads::NONE).await?;
        assert_eq!(ethtool_on("vnet0"), sorted(&[]));

        // The free functions, on the queue fd as a VMM holds it.
        let fd = &nic.queue_fds()[0];
        bridgekit::set_tap_offloads(fd, Offloads::CSUM | Offloads::TSO6)?;
        assert_eq!(
            ethtool_on("vnet0"),
            sorted(&["tx-checksum-ip-generic", "tx-tcp6-segmentation"])
        );
        assert_eq!(
            bridgekit::tap_offloads(fd)?,
            Offloads::CSUM | Offloads::TSO6
        );
        bridgekit::set_tap_vnet_hdr_size(fd, 10)?;
        assert_eq!(hdr_size(fd), 10);
        let e = bridgekit::set_tap_vnet_hdr_size(fd, 11).unwrap_err();
        assert!(
            matches!(
                e,
                Error::InvalidInput {
                    what: InputKind::Offloads,
                    ..
                }
            ),
            "{e}"
        );
        assert_eq!(hdr_size(fd), 10);
        // An fd that is no tap.
        let not_a_tap = std::fs::File::open("/dev/null")?;
        assert!(bridgekit::set_tap_offloads(&not_a_tap, Offloads::CSUM).is_err());

        // A NIC without a virtio-net header takes neither.
        let plain = VmNic::create(
            &br,
            VmNicConfig::new("52:54:00:00:71:03")
                .name("vnet1")
                .vnet_hdr(false),
        )
        .await?;
        let e = plain.set_offloads(Offloads::CSUM).await.unwrap_err();
        assert!(
            matches!(
                e,
                Error::InvalidInput {
                    what: InputKind::Offloads,
                    ..
                }
            ),
            "{e}"
        );
        assert_eq!(ethtool_on("vnet1"), sorted(&[]));
        let e = VmNic::create(
            &br,
            VmNicConfig::new("52:54:00:00:71:04")
                .vnet_hdr(false)
                .vnet_hdr_size(12),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(
                e,
                Error::InvalidInput {
                    what: InputKind::Offloads,
                    ..
                }
            ),
            "{e}"
        );
        let e = VmNic::create(&br, VmNicConfig::new("52:54:00:00:71:05").vnet_hdr_size(20))
            .await
            .unwrap_err();
        assert!(
            matches!(
                e,
                Error::InvalidInput {
                    what: InputKind::Offloads,
                    ..
                }
            ),
            "{e}"
        );
        Ok(())
    });
}

const GUEST_A: [u8; 6] = [0x52, 0x54, 0, 0, 0x72, 2];
const GUEST_B: [u8; 6] = [0x52, 0x54, 0, 0, 0x72, 3];
const SRC: [u8; 4] = [10, 72, 0, 2];
const DST: [u8; 4] = [10, 72, 0, 3];
const DPORT: u16 = 7272;

/// One's complement sum of big-endian 16-bit words, folded.
fn fold(data: &[u8], start: u32) -> u16 {
    let mut sum = start
        + data
            .chunks(2)
            .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
            .sum::<u32>();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// The IPv4 pseudo-header's sum for a UDP datagram of `len` bytes.
fn pseudo(len: usize) -> u32 {
    let mut p = Vec::new();
    p.extend_from_slice(&SRC);
    p.extend_from_slice(&DST);
    p.extend_from_slice(&[0, 17]);
    p.extend_from_slice(&(len as u16).to_be_bytes());
    u32::from(fold(&p, 0))
}

/// An Ethernet/IPv4/UDP frame from A to B whose UDP checksum is left
/// partial, as a guest with checksum offload sends it: the field holds the
/// pseudo-header's sum, for whoever completes it from `csum_start`.
fn partial_frame(payload: &[u8]) -> Vec<u8> {
    let mut udp = frames::udp(40000, DPORT, payload);
    let partial = fold(&[], pseudo(udp.len()));
    udp[6..8].copy_from_slice(&partial.to_be_bytes());
    frames::eth(GUEST_B, GUEST_A, 0x0800, &frames::ipv4(SRC, DST, 17, &udp))
}

/// Whether the UDP checksum of an Ethernet/IPv4 frame is complete and right.
fn udp_checksum_ok(frame: &[u8]) -> bool {
    let udp = &frame[34..];
    fold(udp, pseudo(udp.len())) == 0xffff
}

/// A virtio-net header of `size` bytes: NEEDS_CSUM from byte 34 (the UDP
/// header), checksum at offset 6.
fn needs_csum_header(size: usize) -> Vec<u8> {
    let mut h = vec![0u8; size];
    h[0] = 1; // VIRTIO_NET_HDR_F_NEEDS_CSUM
    h[6..8].copy_from_slice(&34u16.to_ne_bytes()); // csum_start
    h[8..10].copy_from_slice(&6u16.to_ne_bytes()); // csum_offset
    h
}

/// Reads frames from a tap fd (header of `hdr` bytes) until one is the
/// test's UDP datagram, or 5 s pass: (header, frame).
fn read_ours(fd: &OwnedFd, hdr: usize) -> (Vec<u8>, Vec<u8>) {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut buf = vec![0u8; 65536];
    while Instant::now() < deadline {
        let mut pfd = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: polls one live pollfd.
        let ready = unsafe { libc::poll(&mut pfd, 1, 100) };
        if ready <= 0 {
            continue;
        }
        // SAFETY: reads into a live buffer of its length.
        let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        assert!(n > 0, "{}", std::io::Error::last_os_error());
        let got = &buf[..n as usize];
        if got.len() < hdr + 42 {
            continue;
        }
        let frame = &got[hdr..];
        let ours =
            frame[12..14] == [8, 0] && frame[23] == 17 && frame[36..38] == DPORT.to_be_bytes();
        if ours {
            return (got[..hdr].to_vec(), frame.to_vec());
        }
    }
    panic!("the partial-checksum frame never reached the other tap");
}

fn write_frame(fd: &OwnedFd, bytes: &[u8]) {
    // SAFETY: writes from a live buffer to a tap queue fd.
    let n = unsafe { libc::write(fd.as_raw_fd(), bytes.as_ptr().cast(), bytes.len()) };
    assert_eq!(
        n as usize,
        bytes.len(),
        "{}",
        std::io::Error::last_os_error()
    );
}

/// A bridge up with two taps on it, both forwarding: A (writing, with a
/// header of `a_hdr` bytes) and B (reading, the default 10).
async fn two_taps(nl: &bridgekit::Netlink, a_hdr: u8) -> Result<(Bridge, VmNic, VmNic), Error> {
    let br = Bridge::create(
        nl,
        BridgeConfig::new("br0")?
            .mac("52:54:00:00:72:01")
            .disable_ipv6(true)
            .forward_delay(Duration::ZERO)
            .up(),
    )
    .await?;
    let a = VmNic::create(
        &br,
        VmNicConfig::new("52:54:00:00:72:02")
            .name("vneta")
            .vnet_hdr_size(a_hdr)
            .port(PortConfig::new().up()),
    )
    .await?;
    let b = VmNic::create(
        &br,
        VmNicConfig::new("52:54:00:00:72:03")
            .name("vnetb")
            .port(PortConfig::new().up()),
    )
    .await?;
    wait_forwarding("vneta").await;
    wait_forwarding("vnetb").await;
    Ok((br, a, b))
}

#[test]
fn a_partial_checksum_frame_arrives_completed_or_offloaded() {
    netns_test(|nl| async move {
        if !can_make_taps() {
            return Ok(());
        }
        quiet();
        // A writes with a 12-byte header; B reads with the default 10.
        let (_br, a, b) = two_taps(&nl, 12).await?;
        let a_fd = &a.queue_fds()[0];
        let b_fd = &b.queue_fds()[0];
        let frame = partial_frame(b"offloaded checksum");
        assert!(
            !udp_checksum_ok(&frame),
            "the frame is sent with its checksum undone"
        );
        let mut sent = needs_csum_header(12);
        sent.extend_from_slice(&frame);

        // B took no offloads: the kernel completes the checksum for it.
        write_frame(a_fd, &sent);
        let (hdr, got) = read_ours(b_fd, 10);
        assert_eq!(
            hdr[0] & 1,
            0,
            "no NEEDS_CSUM for a reader without csum: {hdr:?}"
        );
        assert!(
            udp_checksum_ok(&got),
            "the kernel completed the checksum: {got:02x?}"
        );
        assert_eq!(got[42..], frame[42..], "the payload arrived unchanged");

        // B takes the checksum offload, and a 12-byte header: the frame
        // arrives as sent, flagged for B to complete, 12 bytes in.
        b.set_offloads(Offloads::CSUM).await?;
        bridgekit::set_tap_vnet_hdr_size(b_fd, 12)?;
        write_frame(a_fd, &sent);
        let (hdr, got) = read_ours(b_fd, 12);
        assert_eq!(hdr[0] & 1, 1, "NEEDS_CSUM for a reader with csum: {hdr:?}");
        let start = u16::from_ne_bytes([hdr[6], hdr[7]]);
        let offset = u16::from_ne_bytes([hdr[8], hdr[9]]);
        assert_eq!((start, offset), (34, 6), "{hdr:?}");
        assert_eq!(got, frame, "left partial for the reader, byte for byte");
        // What the guest does with it: complete it, and it is right.
        let mut done = got.clone();
        let sum = !fold(&done[34..], 0);
        done[40..42].copy_from_slice(&sum.to_be_bytes());
        assert!(udp_checksum_ok(&done));
        Ok(())
    });
}

const TCP_PORT: u16 = 7373;
const MSS: usize = 1000;

/// The IPv4 pseudo-header's sum for a TCP segment of `len` bytes.
fn tcp_pseudo(len: usize) -> u32 {
    let mut p = Vec::new();
    p.extend_from_slice(&SRC);
    p.extend_from_slice(&DST);
    p.extend_from_slice(&[0, 6]);
    p.extend_from_slice(&(len as u16).to_be_bytes());
    u32::from(fold(&p, 0))
}

/// A TCP segment of `payload` from A to B, its checksum left partial (the
/// pseudo-header's sum over the whole segment), as a guest with TSO hands
/// the host one segment of many MSS.
fn gso_tcp_frame(payload: &[u8]) -> Vec<u8> {
    let mut tcp = Vec::new();
    tcp.extend_from_slice(&40000u16.to_be_bytes());
    tcp.extend_from_slice(&TCP_PORT.to_be_bytes());
    tcp.extend_from_slice(&1u32.to_be_bytes()); // seq
    tcp.extend_from_slice(&1u32.to_be_bytes()); // ack
    tcp.extend_from_slice(&[0x50, 0x18]); // 20-byte header, ACK|PSH
    tcp.extend_from_slice(&65535u16.to_be_bytes());
    tcp.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent
    tcp.extend_from_slice(payload);
    let partial = fold(&[], tcp_pseudo(tcp.len()));
    tcp[16..18].copy_from_slice(&partial.to_be_bytes());
    frames::eth(GUEST_B, GUEST_A, 0x0800, &frames::ipv4(SRC, DST, 6, &tcp))
}

fn tcp_checksum_ok(frame: &[u8]) -> bool {
    let tcp = &frame[34..];
    fold(tcp, tcp_pseudo(tcp.len())) == 0xffff
}

/// Reads the test's TCP frames from a tap fd (header of `hdr` bytes)
/// until `payload` bytes of them arrived, or 5 s pass: (header, frame)
/// each.
fn read_tcp(fd: &OwnedFd, hdr: usize, payload: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut buf = vec![0u8; 65536];
    let mut got = Vec::new();
    let mut bytes = 0;
    while bytes < payload {
        assert!(
            Instant::now() < deadline,
            "only {bytes} of {payload} bytes arrived: {got:?}"
        );
        let mut pfd = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: polls one live pollfd.
        if unsafe { libc::poll(&mut pfd, 1, 100) } <= 0 {
            continue;
        }
        // SAFETY: reads into a live buffer of its length.
        let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        assert!(n > 0, "{}", std::io::Error::last_os_error());
        let all = &buf[..n as usize];
        if all.len() < hdr + 54 {
            continue;
        }
        let frame = &all[hdr..];
        if frame[12..14] == [8, 0] && frame[23] == 6 && frame[36..38] == TCP_PORT.to_be_bytes() {
            bytes += frame.len() - 54;
            got.push((all[..hdr].to_vec(), frame.to_vec()));
        }
    }
    got
}

#[test]
fn a_tso_segment_is_cut_for_a_reader_without_tso_and_whole_for_one_with() {
    netns_test(|nl| async move {
        if !can_make_taps() {
            return Ok(());
        }
        quiet();
        let (_br, a, b) = two_taps(&nl, 10).await?;
        let payload: Vec<u8> = (0..3 * MSS).map(|i| (i % 251) as u8).collect();
        let frame = gso_tcp_frame(&payload);
        // virtio_net_hdr: NEEDS_CSUM, GSO_TCPV4, headers 54 bytes, MSS,
        // checksum from the TCP header at its offset 16.
        let mut sent = vec![0u8; 10];
        sent[0] = 1;
        sent[1] = 1;
        sent[2..4].copy_from_slice(&54u16.to_ne_bytes());
        sent[4..6].copy_from_slice(&(MSS as u16).to_ne_bytes());
        sent[6..8].copy_from_slice(&34u16.to_ne_bytes());
        sent[8..10].copy_from_slice(&16u16.to_ne_bytes());
        sent.extend_from_slice(&frame);
        let a_fd = &a.queue_fds()[0];
        let b_fd = &b.queue_fds()[0];

        // B took no offloads: the kernel cuts the segment to the MSS and
        // completes each part's checksums.
        write_frame(a_fd, &sent);
        let parts = read_tcp(b_fd, 10, payload.len());
        assert_eq!(parts.len(), 3, "{parts:?}");
        let mut joined = Vec::new();
        for (hdr, part) in &parts {
            assert_eq!(hdr[1], 0, "no GSO for a reader without TSO: {hdr:?}");
            assert_eq!(part.len(), 54 + MSS);
            assert!(tcp_checksum_ok(part), "a part's TCP checksum: {part:02x?}");
            joined.extend_from_slice(&part[54..]);
        }
        assert_eq!(joined, payload);

        // B takes checksum and TSO offloads: the segment arrives whole,
        // its header saying what is left to do.
        b.set_offloads(Offloads::CSUM | Offloads::TSO4).await?;
        write_frame(a_fd, &sent);
        let whole = read_tcp(b_fd, 10, payload.len());
        assert_eq!(whole.len(), 1, "{whole:?}");
        let (hdr, got) = &whole[0];
        assert_eq!(hdr[1], 1, "GSO_TCPV4 for a reader with TSO4: {hdr:?}");
        assert_eq!(
            u16::from_ne_bytes([hdr[4], hdr[5]]) as usize,
            MSS,
            "{hdr:?}"
        );
        assert_eq!(got[54..], payload[..]);
        Ok(())
    });
}

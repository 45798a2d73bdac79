//! Ethernet frames built by hand, sent and caught with AF_PACKET sockets
//! inside a namespace: a guest's attacks, and what its neighbours see.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// An Ethernet frame: `dst`, `src`, `ethertype`, `payload`.
pub fn eth(dst: [u8; 6], src: [u8; 6], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(14 + payload.len());
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

pub const BROADCAST: [u8; 6] = [0xff; 6];
/// 33:33:00:00:00:01, all IPv6 nodes.
pub const ALL_NODES: [u8; 6] = [0x33, 0x33, 0, 0, 0, 1];

/// An ARP packet (Ethernet/IPv4): `op` 1 request, 2 reply.
pub fn arp(op: u16, sha: [u8; 6], spa: [u8; 4], tha: [u8; 6], tpa: [u8; 4]) -> Vec<u8> {
    let mut p = vec![0, 1, 8, 0, 6, 4];
    p.extend_from_slice(&op.to_be_bytes());
    p.extend_from_slice(&sha);
    p.extend_from_slice(&spa);
    p.extend_from_slice(&tha);
    p.extend_from_slice(&tpa);
    p
}

/// An IPv4 packet with a correct header checksum.
pub fn ipv4(src: [u8; 4], dst: [u8; 4], proto: u8, payload: &[u8]) -> Vec<u8> {
    let len = (20 + payload.len()) as u16;
    let mut h = vec![0x45, 0];
    h.extend_from_slice(&len.to_be_bytes());
    h.extend_from_slice(&[0, 0, 0x40, 0, 64, proto, 0, 0]);
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    let sum = checksum(&h, 0);
    h[10..12].copy_from_slice(&sum.to_be_bytes());
    h.extend_from_slice(payload);
    h
}

/// An IPv6 packet; `proto` 17 (UDP) or 58 (ICMPv6), whose checksum is
/// filled in.
pub fn ipv6(src: [u8; 16], dst: [u8; 16], proto: u8, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x60, 0, 0, 0];
    p.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    p.push(proto);
    p.push(255);
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    let mut body = payload.to_vec();
    let at = if proto == 17 { 6 } else { 2 };
    body[at..at + 2].copy_from_slice(&[0, 0]);
    let mut pseudo = Vec::new();
    pseudo.extend_from_slice(&src);
    pseudo.extend_from_slice(&dst);
    pseudo.extend_from_slice(&(body.len() as u32).to_be_bytes());
    pseudo.extend_from_slice(&[0, 0, 0, proto]);
    let sum = checksum(&body, sum_words(&pseudo));
    body[at..at + 2].copy_from_slice(&sum.to_be_bytes());
    p.extend_from_slice(&body);
    p
}

/// A UDP datagram (checksum 0: IPv4 takes it so, `ipv6` fills it in).
pub fn udp(sport: u16, dport: u16, data: &[u8]) -> Vec<u8> {
    let mut u = Vec::new();
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&((8 + data.len()) as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(data);
    u
}

/// An ICMPv6 message of `kind` whose body is `body` (checksum filled in by
/// `ipv6`).
pub fn icmpv6(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![kind, 0, 0, 0];
    m.extend_from_slice(body);
    m
}

/// A neighbour advertisement or solicitation body for `target`.
pub fn nd_body(flags: u8, target: [u8; 16]) -> Vec<u8> {
    let mut b = vec![flags, 0, 0, 0];
    b.extend_from_slice(&target);
    b
}

fn sum_words(data: &[u8]) -> u32 {
    data.chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum()
}

fn checksum(data: &[u8], start: u32) -> u16 {
    let mut sum = start + sum_words(data);
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Runs `f` on a thread inside the namespace at `ns` (a `/proc/.../ns/net`
/// path), or in the caller's namespace if `None`.
fn in_netns<T: Send>(ns: Option<&str>, f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        s.spawn(|| {
            if let Some(ns) = ns {
                let file = std::fs::File::open(ns).expect("open the namespace");
                // SAFETY: moves only this helper thread.
                let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
                assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
            }
            f()
        })
        .join()
        .expect("namespace thread")
    })
}

/// A packet socket bound to `ifname` in namespace `ns`, seeing every
/// frame (ETH_P_ALL); it stays in that namespace.
pub fn packet_socket(ns: Option<&str>, ifname: &str) -> OwnedFd {
    let ifname = ifname.to_string();
    in_netns(ns, move || {
        let proto = (libc::ETH_P_ALL as u16).to_be();
        // SAFETY: plain socket(2).
        let fd = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_NONBLOCK,
                i32::from(proto),
            )
        };
        assert!(
            fd >= 0,
            "packet socket: {}",
            std::io::Error::last_os_error()
        );
        // SAFETY: a fresh fd we own.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let name = std::ffi::CString::new(ifname.as_str()).unwrap();
        // SAFETY: a NUL-terminated name.
        let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
        assert!(index > 0, "no interface {ifname}");
        // SAFETY: zeroed sockaddr_ll is valid; fields set below.
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = proto;
        sll.sll_ifindex = index as i32;
        // SAFETY: a valid sockaddr_ll and its size.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&sll as *const libc::sockaddr_ll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as u32,
            )
        };
        assert_eq!(rc, 0, "bind: {}", std::io::Error::last_os_error());
        fd
    })
}

/// Sends `frame` on a packet socket.
pub fn send(fd: &OwnedFd, frame: &[u8]) {
    // SAFETY: a live buffer.
    let n = unsafe { libc::send(fd.as_raw_fd(), frame.as_ptr().cast(), frame.len(), 0) };
    assert_eq!(
        n,
        frame.len() as isize,
        "send: {}",
        std::io::Error::last_os_error()
    );
}

/// Reads everything queued on `fd` (for `wait`), and says whether
/// `frame` came, byte for byte, among what it received (not what it sent).
pub fn saw(fd: &OwnedFd, frame: &[u8], wait: Duration) -> bool {
    let deadline = Instant::now() + wait;
    let mut buf = [0u8; 4096];
    let mut found = false;
    loop {
        // SAFETY: zeroed sockaddr_ll is valid for recvfrom to fill.
        let mut from: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<libc::sockaddr_ll>() as u32;
        // SAFETY: a live buffer and address.
        let n = unsafe {
            libc::recvfrom(
                fd.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                0,
                (&mut from as *mut libc::sockaddr_ll).cast(),
                &mut len,
            )
        };
        if n > 0 {
            if from.sll_pkttype != libc::PACKET_OUTGOING && &buf[..n as usize] == frame {
                found = true;
            }
            continue;
        }
        if found || Instant::now() >= deadline {
            return found;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Empties `fd`'s queue.
pub fn drain(fd: &OwnedFd) {
    saw(fd, &[], Duration::ZERO);
}

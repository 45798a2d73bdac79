//! A guest's first words on a queue fd: an ARP request written as one
//! frame, and the reply read back from whichever queue the kernel picks.

use std::time::{Duration, Instant};

/// A broadcast ARP request from `mac`/`ip` for `target`, after `hdr` zero
/// bytes (the `struct virtio_net_hdr` of an `IFF_VNET_HDR` queue, or 0).
pub fn request(hdr: usize, mac: [u8; 6], ip: [u8; 4], target: [u8; 4]) -> Vec<u8> {
    let mut frame = vec![0u8; hdr];
    frame.extend_from_slice(&[0xff; 6]);
    frame.extend_from_slice(&mac);
    frame.extend_from_slice(&[0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 1]);
    frame.extend_from_slice(&mac);
    frame.extend_from_slice(&ip);
    frame.extend_from_slice(&[0; 6]);
    frame.extend_from_slice(&target);
    frame
}

/// Polls every fd of `fds` until an ARP reply arrives (the frame after
/// `hdr` bytes), or `timeout` passes.
pub fn await_reply(fds: &[i32], hdr: usize, timeout: Duration) -> Option<Vec<u8>> {
    let deadline = Instant::now() + timeout;
    let mut buf = [0u8; 2048];
    while Instant::now() < deadline {
        let mut polls: Vec<libc::pollfd> = fds
            .iter()
            .map(|&fd| libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        // SAFETY: a live array of pollfds.
        unsafe { libc::poll(polls.as_mut_ptr(), polls.len() as libc::nfds_t, 100) };
        for p in polls.iter().filter(|p| p.revents & libc::POLLIN != 0) {
            // SAFETY: reads into a live buffer.
            let n = unsafe { libc::read(p.fd, buf.as_mut_ptr().cast(), buf.len()) };
            if n < (hdr + 42) as isize {
                continue;
            }
            let f = &buf[hdr..n as usize];
            if f[12..14] == [0x08, 0x06] && f[20..22] == [0, 2] {
                return Some(f.to_vec());
            }
        }
    }
    None
}

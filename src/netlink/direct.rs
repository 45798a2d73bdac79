//! Change requests sent on a socket of their own and acknowledged in the
//! same call.
//!
//! The kernel handles a route-netlink request inside the `send` that
//! carries it, and queues its acknowledgement before `send` returns. So
//! the acknowledgement can be read at once, with a non-blocking `recv`.
//! rtnetlink's connection instead hands each request to its own task
//! through a channel and the answer back through another, with a wake-up
//! each way; for a port attach that was more user-space work than all of
//! bridgekit's checks. The messages are still built and encoded by
//! netlink-packet-route; only the transport and the acknowledgement's
//! errno and extended-ack text (two fixed fields and a TLV walk) are read
//! here. Dumps, and the requests whose answer carries data, stay on
//! rtnetlink's connection.

use std::io;
use std::os::fd::AsRawFd;

use rtnetlink::packet_core::{NLM_F_ACK, NLM_F_REQUEST, NetlinkMessage};
use rtnetlink::packet_route::RouteNetlinkMessage;
use rtnetlink::sys::{Socket, protocols::NETLINK_ROUTE};

/// linux/netlink.h
const NLMSG_ERROR: u16 = 2;
const NLMSG_HDRLEN: usize = 16;
/// Room for any acknowledgement: an error's copies the request (up to a
/// page for what is sent here) and adds extended-ack attributes.
const ACK_BUF: usize = 32 * 1024;
/// How long to wait for an acknowledgement the kernel did not queue at
/// once, which it always does for route requests: a safety net, not a path.
const LATE_ACK_MS: libc::c_int = 5_000;

/// What the kernel answered to one request.
pub(super) enum Ack {
    Ok,
    /// A positive errno, and the extended-ack message if it sent one.
    Refused(i32, Option<String>),
}

/// One socket for change requests, with its sequence numbers and buffers.
pub(super) struct Direct {
    socket: Socket,
    seq: u32,
    out: Vec<u8>,
    ack: Vec<u8>,
}

impl Direct {
    /// Opens the socket in the calling thread's network namespace.
    pub(super) fn open() -> io::Result<Self> {
        let mut socket = Socket::new(NETLINK_ROUTE)?;
        socket.bind_auto()?;
        socket.set_ext_ack(true)?;
        Ok(Direct {
            socket,
            seq: 0,
            out: Vec::new(),
            ack: vec![0; ACK_BUF],
        })
    }

    /// Sends `message` with `flags` (NLM_F_REQUEST and NLM_F_ACK added)
    /// and returns the kernel's answer to it.
    pub(super) fn request(&mut self, message: RouteNetlinkMessage, flags: u16) -> io::Result<Ack> {
        let mut message = NetlinkMessage::from(message);
        message.header.flags = flags | NLM_F_REQUEST | NLM_F_ACK;
        self.seq = self.seq.wrapping_add(1).max(1);
        message.header.sequence_number = self.seq;
        message.finalize();
        let len = message.buffer_len();
        if self.out.len() < len {
            self.out.resize(len, 0);
        }
        message.serialize(&mut self.out[..len]);
        loop {
            match self.socket.send(&self.out[..len], 0) {
                Ok(_) => break,
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
                Err(e) => return Err(e),
            }
        }
        loop {
            let got = self.receive()?;
            if let Some(ack) = self.ack_for(got) {
                return Ok(ack);
            }
        }
    }

    /// Reads one datagram into `ack`: its length.
    fn receive(&mut self) -> io::Result<usize> {
        let fd = self.socket.as_raw_fd();
        let mut waited = false;
        loop {
            // netlink-sys writes into the slice and at most its length.
            let mut room: &mut [u8] = &mut self.ack[..];
            let e = match self.socket.recv(&mut room, libc::MSG_DONTWAIT) {
                Ok(n) => return Ok(n.min(ACK_BUF)),
                Err(e) => e,
            };
            match e.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::EAGAIN) if !waited => {
                    waited = true;
                    let mut pfd = libc::pollfd {
                        fd,
                        events: libc::POLLIN,
                        revents: 0,
                    };
                    // SAFETY: one valid pollfd.
                    if unsafe { libc::poll(&mut pfd, 1, LATE_ACK_MS) } < 0 {
                        return Err(io::Error::last_os_error());
                    }
                }
                Some(libc::EAGAIN) => {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the kernel did not acknowledge the request",
                    ));
                }
                _ => return Err(e),
            }
        }
    }

    /// The answer to the request last sent, if the `len` bytes received
    /// hold it (`struct nlmsghdr` then `struct nlmsgerr`, native-endian);
    /// `None` for anything else (an answer to an earlier request).
    fn ack_for(&self, len: usize) -> Option<Ack> {
        let data = self.ack.get(..len)?;
        let kind = u16::from_ne_bytes(data.get(4..6)?.try_into().ok()?);
        let seq = u32::from_ne_bytes(data.get(8..12)?.try_into().ok()?);
        if kind != NLMSG_ERROR || seq != self.seq {
            return None;
        }
        let code = i32::from_ne_bytes(data.get(16..20)?.try_into().ok()?);
        let size = (u32::from_ne_bytes(data.get(..4)?.try_into().ok()?) as usize).min(len);
        Some(match code {
            0 => Ack::Ok,
            code => Ack::Refused(
                -code,
                super::ext_ack_message(data.get(NLMSG_HDRLEN + 4..size).unwrap_or_default()),
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An NLMSG_ERROR datagram answering `seq` with `code`, the request's
    /// header as its copy, and an extended-ack message if given.
    fn answer(seq: u32, code: i32, text: Option<&str>) -> Vec<u8> {
        let mut out = vec![0u8; NLMSG_HDRLEN];
        out[4..6].copy_from_slice(&NLMSG_ERROR.to_ne_bytes());
        out[8..12].copy_from_slice(&seq.to_ne_bytes());
        out.extend_from_slice(&code.to_ne_bytes());
        let mut copy = [0u8; NLMSG_HDRLEN];
        copy[..4].copy_from_slice(&(NLMSG_HDRLEN as u32).to_ne_bytes());
        out.extend_from_slice(&copy);
        if let Some(text) = text {
            let value = [text.as_bytes(), &[0]].concat();
            let len = 4 + value.len();
            out.extend_from_slice(&(len as u16).to_ne_bytes());
            out.extend_from_slice(&1u16.to_ne_bytes()); // NLMSGERR_ATTR_MSG
            out.extend_from_slice(&value);
            out.resize(out.len().next_multiple_of(4), 0);
        }
        let total = out.len() as u32;
        out[..4].copy_from_slice(&total.to_ne_bytes());
        out
    }

    fn reading(direct: &mut Direct, datagram: &[u8]) -> Option<Ack> {
        direct.ack[..datagram.len()].copy_from_slice(datagram);
        direct.ack_for(datagram.len())
    }

    #[test]
    fn only_the_answer_to_the_last_request_counts() {
        let mut direct = Direct::open().expect("a route-netlink socket");
        direct.seq = 7;
        assert!(matches!(
            reading(&mut direct, &answer(7, 0, None)),
            Some(Ack::Ok)
        ));
        // An answer to an earlier request, and a message that is no answer.
        assert!(reading(&mut direct, &answer(6, 0, None)).is_none());
        let mut other = answer(7, 0, None);
        other[4..6].copy_from_slice(&16u16.to_ne_bytes());
        assert!(reading(&mut direct, &other).is_none());
        // Cut short.
        assert!(reading(&mut direct, &answer(7, 0, None)[..18]).is_none());
    }

    #[test]
    fn a_refusal_keeps_the_errno_and_the_kernels_words() {
        let mut direct = Direct::open().expect("a route-netlink socket");
        direct.seq = 3;
        match reading(
            &mut direct,
            &answer(3, -libc::EBUSY, Some("Device is busy")),
        ) {
            Some(Ack::Refused(errno, text)) => {
                assert_eq!(errno, libc::EBUSY);
                assert_eq!(text.as_deref(), Some("Device is busy"));
            }
            _ => panic!("expected a refusal"),
        }
        match reading(&mut direct, &answer(3, -libc::EINVAL, None)) {
            Some(Ack::Refused(errno, text)) => {
                assert_eq!(errno, libc::EINVAL);
                assert_eq!(text, None);
            }
            _ => panic!("expected a refusal"),
        }
    }
}

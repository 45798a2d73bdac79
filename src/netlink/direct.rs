//! Change requests sent on a socket of their own and acknowledged in the
//! same call.
//!
//! The kernel handles a route-netlink request inside the `send` that
//! carries it, and queues its acknowledgement before `send` returns. So
//! the acknowledgement is almost always there to read at once, and the
//! runtime's readiness (`AsyncFd`) is only waited on when it is not: a
//! late acknowledgement parks the task, never a thread. rtnetlink's
//! connection instead hands each request to its own task through a
//! channel and the answer back through another, with a wake-up each way;
//! for a port attach that was more user-space work than all of
//! bridgekit's checks. The messages are still built and encoded by
//! netlink-packet-route; only the transport and the acknowledgement's
//! errno and extended-ack text (two fixed fields and a TLV walk) are read
//! here. Dumps, and the requests whose answer carries data, stay on
//! rtnetlink's connection.
//!
//! Cancellation: the request is one `send`, so a dropped caller has sent
//! it whole or not at all. Dropped after the send and before the answer
//! was read, it leaves that answer queued; the next request skips every
//! answer whose sequence number is not its own.

use std::io;

use rtnetlink::packet_core::{NLM_F_ACK, NLM_F_REQUEST, NetlinkMessage};
use rtnetlink::packet_route::RouteNetlinkMessage;
use rtnetlink::sys::{AsyncSocket, TokioSocket, protocols::NETLINK_ROUTE};

/// linux/netlink.h
const NLMSG_ERROR: u16 = 2;
const NLMSG_HDRLEN: usize = 16;
/// Room for any acknowledgement: an error's copies the request (up to a
/// page for what is sent here) and adds extended-ack attributes.
const ACK_BUF: usize = 32 * 1024;

/// What the kernel answered to one request.
pub(super) enum Ack {
    Ok,
    /// A positive errno, and the extended-ack message if it sent one.
    Refused(i32, Option<String>),
}

/// One non-blocking socket for change requests, with its sequence numbers
/// and buffers.
pub(super) struct Direct {
    /// netlink-sys's socket on the runtime's reactor (an `AsyncFd`).
    socket: TokioSocket,
    seq: u32,
    out: Vec<u8>,
    ack: Vec<u8>,
}

impl Direct {
    /// Opens the socket in the calling thread's network namespace; must
    /// run inside a runtime (the socket is registered with its reactor).
    pub(super) fn open() -> io::Result<Self> {
        let mut socket = TokioSocket::new(NETLINK_ROUTE)?;
        socket.socket_mut().bind_auto()?;
        socket.socket_mut().set_ext_ack(true)?;
        Ok(Direct {
            socket,
            seq: 0,
            out: Vec::new(),
            ack: vec![0; ACK_BUF],
        })
    }

    /// Sends `message` with `flags` (NLM_F_REQUEST and NLM_F_ACK added)
    /// and returns the kernel's answer to it. `after_send` runs between the
    /// send and the first read (a test's window for dropping the caller).
    pub(super) async fn request(
        &mut self,
        message: RouteNetlinkMessage,
        flags: u16,
        after_send: impl Future<Output = ()>,
    ) -> io::Result<Ack> {
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
        let (socket, out) = (&self.socket, &self.out[..len]);
        while let Err(e) = std::future::poll_fn(|cx| socket.poll_send(cx, out)).await {
            if e.raw_os_error() != Some(libc::EINTR) {
                return Err(e);
            }
        }
        after_send.await;
        loop {
            let got = self.receive().await?;
            if let Some(ack) = ack_for(&self.ack[..got], self.seq) {
                return Ok(ack);
            }
        }
    }

    /// Reads one datagram into `ack`: its length. Returns at once when one
    /// is queued, which is the rule (see the module's docs).
    async fn receive(&mut self) -> io::Result<usize> {
        loop {
            // netlink-sys writes into the slice and advances it past what
            // it wrote.
            let mut room: &mut [u8] = &mut self.ack[..];
            match std::future::poll_fn(|cx| self.socket.poll_recv(cx, &mut room)).await {
                Ok(()) => return Ok(ACK_BUF - room.len()),
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

/// The answer to request `seq`, if `data` (one datagram) holds it
/// (`struct nlmsghdr` then `struct nlmsgerr`, native-endian); `None` for
/// anything else (an answer to an earlier request).
fn ack_for(data: &[u8], seq: u32) -> Option<Ack> {
    let (kind, got, code) = answer(data)?;
    if kind != NLMSG_ERROR || got != seq {
        return None;
    }
    let size = (u32::from_ne_bytes(data.get(..4)?.try_into().ok()?) as usize).min(data.len());
    Some(match code {
        0 => Ack::Ok,
        code => Ack::Refused(
            -code,
            super::ext_ack_message(data.get(NLMSG_HDRLEN + 4..size).unwrap_or_default()),
        ),
    })
}

/// The type, sequence number and errno word (0, or a negative errno) of
/// the message at the start of `data`, read as `struct nlmsghdr` then an
/// int: what an NLMSG_ERROR (an acknowledgement) and an NLMSG_DONE (the end
/// of a dump) both carry. `None` if it is cut short.
pub(super) fn answer(data: &[u8]) -> Option<(u16, u32, i32)> {
    let kind = u16::from_ne_bytes(data.get(4..6)?.try_into().ok()?);
    let seq = u32::from_ne_bytes(data.get(8..12)?.try_into().ok()?);
    let code = i32::from_ne_bytes(data.get(NLMSG_HDRLEN..NLMSG_HDRLEN + 4)?.try_into().ok()?);
    Some((kind, seq, code))
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

    #[test]
    fn only_the_answer_to_the_last_request_counts() {
        assert!(matches!(ack_for(&answer(7, 0, None), 7), Some(Ack::Ok)));
        // An answer to an earlier request, and a message that is no answer.
        assert!(ack_for(&answer(6, 0, None), 7).is_none());
        let mut other = answer(7, 0, None);
        other[4..6].copy_from_slice(&16u16.to_ne_bytes());
        assert!(ack_for(&other, 7).is_none());
        // Cut short.
        assert!(ack_for(&answer(7, 0, None)[..18], 7).is_none());
    }

    #[test]
    fn a_refusal_keeps_the_errno_and_the_kernels_words() {
        match ack_for(&answer(3, -libc::EBUSY, Some("Device is busy")), 3) {
            Some(Ack::Refused(errno, text)) => {
                assert_eq!(errno, libc::EBUSY);
                assert_eq!(text.as_deref(), Some("Device is busy"));
            }
            _ => panic!("expected a refusal"),
        }
        match ack_for(&answer(3, -libc::EINVAL, None), 3) {
            Some(Ack::Refused(errno, text)) => {
                assert_eq!(errno, libc::EINVAL);
                assert_eq!(text, None);
            }
            _ => panic!("expected a refusal"),
        }
    }
}

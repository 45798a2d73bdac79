//! Every request bridgekit sends, changes and queries alike, on one
//! socket of its own: a change acknowledged in the same call, a query
//! (a GET, or a dump) read to its end.
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
//! netlink-packet-route; only the transport, each answer's header, and
//! the acknowledgement's errno and extended-ack text (two fixed fields and
//! a TLV walk) are read here. A query's answers are decoded by
//! netlink-packet-route too.
//!
//! Cancellation: the request is one `send`, so a dropped caller has sent
//! it whole or not at all. Dropped after the send and before the answer
//! was read, it leaves that answer queued; the next request skips every
//! answer whose sequence number is not its own. A dump dropped before its
//! end leaves the kernel in the middle of it (it would answer EBUSY to
//! the next dump on the socket): the next request or query first reads
//! the rest of it, to its NLMSG_DONE, and drops it.

use std::io;

use rtnetlink::packet_core::{
    NLM_F_ACK, NLM_F_DUMP, NLM_F_ECHO, NLM_F_REQUEST, NetlinkMessage, NetlinkPayload,
};
use rtnetlink::packet_route::RouteNetlinkMessage;
use rtnetlink::sys::{AsyncSocket, TokioSocket, protocols::NETLINK_ROUTE};

/// What a query asks of the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Query {
    /// Every object of a kind (NLM_F_DUMP).
    Dump,
    /// One object, answered directly.
    One,
    /// One object whose answer is a notification, sent to the asker only
    /// with NLM_F_ECHO; read up to the acknowledgement.
    Echo,
}

/// linux/netlink.h
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLMSG_HDRLEN: usize = 16;
/// Room for any datagram the kernel sends here: an acknowledgement (an
/// error's copies the request and adds extended-ack attributes), or a
/// dump's part, which the kernel sizes to the largest read it has seen
/// (at most 32 KiB less overhead) or to the largest single message.
const ACK_BUF: usize = 64 * 1024;

/// What the kernel answered to one request.
pub(super) enum Ack {
    Ok,
    /// A positive errno, and the extended-ack message if it sent one.
    Refused(i32, Option<String>),
}

/// What the kernel answered to one query.
pub(super) enum Answer {
    /// Every message of the answer, in order.
    Messages(Vec<RouteNetlinkMessage>),
    /// A positive errno, and the extended-ack message if it sent one.
    Refused(i32, Option<String>),
}

/// Where the kernel ended its answer to a query.
enum End {
    /// NLMSG_DONE, or the acknowledgement after a single answer.
    Clean,
    /// An NLMSG_ERROR, or an NLMSG_DONE carrying an errno: the positive
    /// errno, and the extended-ack text of an error.
    Refused(i32, Option<String>),
}

/// One non-blocking socket for every request, with its sequence numbers
/// and buffers.
pub(super) struct Direct {
    /// netlink-sys's socket on the runtime's reactor (an `AsyncFd`).
    socket: TokioSocket,
    seq: u32,
    out: Vec<u8>,
    ack: Vec<u8>,
    /// The sequence number of a dump whose end was not read (its caller
    /// was dropped): read out before the next request.
    open_dump: Option<u32>,
}

impl Direct {
    /// Opens the socket in the calling thread's network namespace; must
    /// run inside a runtime (the socket is registered with its reactor).
    pub(super) fn open() -> io::Result<Self> {
        let mut socket = open_socket(NETLINK_ROUTE)?;
        let raw = socket.socket_mut();
        // Strict checking: the kernel filters a dump by the ifindex or
        // master in its request, and refuses attributes it does not know.
        raw.set_netlink_get_strict_chk(true)?;
        Ok(Direct {
            socket,
            seq: 0,
            out: Vec::new(),
            ack: vec![0; ACK_BUF],
            open_dump: None,
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
        self.finish_dump().await?;
        self.send(message, flags | NLM_F_ACK).await?;
        after_send.await;
        loop {
            let got = self.receive().await?;
            if let Some(ack) = ack_for(&self.ack[..got], self.seq) {
                return Ok(ack);
            }
        }
    }

    /// Sends a query (a GET message), as a dump if `dump`, and returns
    /// every message the kernel answered, read to the answer's end: the
    /// NLMSG_DONE of a dump, the one message that answers a lookup. `after_send` as for [`request`](Self::request).
    pub(super) async fn query(
        &mut self,
        message: RouteNetlinkMessage,
        kind: Query,
        after_send: impl Future<Output = ()>,
    ) -> io::Result<Answer> {
        self.finish_dump().await?;
        let dump = kind == Query::Dump;
        // A lookup's answer is its one message (or an error): no
        // acknowledgement is asked for after it.
        let flags = match kind {
            Query::Dump => NLM_F_DUMP,
            Query::One => 0,
            // Acknowledged, since an answer may not come: the kernel sends
            // none for a qdisc it does not report (a down link's `noop`).
            Query::Echo => NLM_F_ECHO | NLM_F_ACK,
        };
        self.send(message, flags).await?;
        // Set in the same poll as the send's end: a caller dropped from
        // here on leaves the rest of the dump to `finish_dump`.
        if dump {
            self.open_dump = Some(self.seq);
        }
        after_send.await;
        let mut out = Vec::new();
        loop {
            let got = self.receive().await?;
            if let Some(end) = walk(&self.ack[..got], self.seq, kind == Query::One, &mut out) {
                self.open_dump = None;
                return Ok(match end {
                    End::Clean => Answer::Messages(out),
                    End::Refused(errno, text) => Answer::Refused(errno, text),
                });
            }
        }
    }

    /// Reads the rest of a dump whose caller was dropped, and drops it.
    async fn finish_dump(&mut self) -> io::Result<()> {
        let Some(seq) = self.open_dump else {
            return Ok(());
        };
        let mut ignored = Vec::new();
        loop {
            let got = self.receive().await?;
            ignored.clear();
            if walk(&self.ack[..got], seq, false, &mut ignored).is_some() {
                self.open_dump = None;
                return Ok(());
            }
        }
    }

    /// Encodes `message` with `flags` (NLM_F_REQUEST added) under the next
    /// sequence number, and sends it.
    async fn send(&mut self, message: RouteNetlinkMessage, flags: u16) -> io::Result<()> {
        let mut message = NetlinkMessage::from(message);
        message.header.flags = flags | NLM_F_REQUEST;
        self.seq = self.seq.wrapping_add(1).max(1);
        message.header.sequence_number = self.seq;
        message.finalize();
        let len = message.buffer_len();
        if self.out.len() < len {
            self.out.resize(len, 0);
        }
        message.serialize(&mut self.out[..len]);
        send_datagram(&self.socket, &self.out[..len]).await
    }

    /// Reads one datagram into `ack`: its length. Returns at once when one
    /// is queued, which is the rule (see the module's docs).
    async fn receive(&mut self) -> io::Result<usize> {
        receive_datagram(&mut self.socket, &mut self.ack).await
    }
}

/// A netlink socket of `protocol` on the runtime's reactor, bound, with
/// the kernel's extended-ack messages on. Shared with the nf_tables
/// socket (`nft/socket.rs`).
pub(super) fn open_socket(protocol: isize) -> io::Result<TokioSocket> {
    let mut socket = TokioSocket::new(protocol)?;
    let raw = socket.socket_mut();
    raw.bind_auto()?;
    raw.set_ext_ack(true)?;
    Ok(socket)
}

/// Sends `data` as one datagram on `socket`, again after an EINTR. Shared
/// with the nf_tables socket (`nft/socket.rs`).
pub(super) async fn send_datagram(socket: &TokioSocket, data: &[u8]) -> io::Result<()> {
    while let Err(e) = std::future::poll_fn(|cx| socket.poll_send(cx, data)).await {
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    }
    Ok(())
}

/// Reads one datagram from `socket` into `buf`: its length. Returns at
/// once when one is queued; parks the task on the reactor otherwise.
pub(super) async fn receive_datagram(
    socket: &mut TokioSocket,
    buf: &mut [u8],
) -> io::Result<usize> {
    let size = buf.len();
    loop {
        // netlink-sys writes into the slice and advances it past what it
        // wrote.
        let mut room: &mut [u8] = &mut buf[..];
        match std::future::poll_fn(|cx| socket.poll_recv(cx, &mut room)).await {
            Ok(()) => return Ok(size - room.len()),
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
            Err(e) => return Err(e),
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

/// The answers to query `seq` in `data` (one datagram), decoded into
/// `out`; messages of other sequence numbers are skipped. Returns where
/// the answer ended, if this datagram ends it; a `single` answer (a
/// lookup's) ends with its first message. A message
/// netlink-packet-route cannot decode is left out, as rtnetlink's
/// connection left it out: Linux 5.10 sends an AF_BRIDGE link message
/// with an empty IFLA_AF_SPEC (a link with no VLANs) that it refuses.
fn walk(data: &[u8], seq: u32, single: bool, out: &mut Vec<RouteNetlinkMessage>) -> Option<End> {
    let mut rest = data;
    while rest.len() >= NLMSG_HDRLEN {
        let len = u32::from_ne_bytes(rest[..4].try_into().unwrap_or_default()) as usize;
        if len < NLMSG_HDRLEN || len > rest.len() {
            break;
        }
        let message = &rest[..len];
        rest = &rest[len.next_multiple_of(4).min(rest.len())..];
        let Some((kind, got, code)) = answer(message).or_else(|| {
            // An NLMSG_DONE from a kernel that sends no errno word.
            let kind = u16::from_ne_bytes(message[4..6].try_into().ok()?);
            let got = u32::from_ne_bytes(message[8..12].try_into().ok()?);
            Some((kind, got, 0))
        }) else {
            continue;
        };
        if got != seq {
            continue;
        }
        match kind {
            NLMSG_ERROR | NLMSG_DONE if code == 0 => return Some(End::Clean),
            // An error's extended-ack text follows its copy of the
            // request; a dump's NLMSG_DONE has no copy, and its text is
            // not read.
            NLMSG_ERROR => {
                let text =
                    super::ext_ack_message(message.get(NLMSG_HDRLEN + 4..).unwrap_or_default());
                return Some(End::Refused(-code, text));
            }
            NLMSG_DONE => return Some(End::Refused(-code, None)),
            // NLMSG_NOOP and NLMSG_OVERRUN carry nothing to read.
            1 | 4 => {}
            _ => match NetlinkMessage::<RouteNetlinkMessage>::deserialize(message) {
                Ok(m) => {
                    if let NetlinkPayload::InnerMessage(m) = m.payload {
                        out.push(m);
                    }
                }
                Err(e) => tracing::debug!(kind, error = %e, "answer left out: not decodable"),
            },
        }
        if single && !matches!(kind, 1 | 4) {
            return Some(End::Clean);
        }
    }
    None
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

    /// A route message with `seq`, encoded by netlink-packet-route.
    fn link_message(index: u32, seq: u32) -> Vec<u8> {
        let mut link = netlink_packet_route::link::LinkMessage::default();
        link.header.index = index;
        let mut m = NetlinkMessage::from(RouteNetlinkMessage::NewLink(link));
        m.header.sequence_number = seq;
        m.finalize();
        let mut out = vec![0; m.buffer_len()];
        m.serialize(&mut out);
        out
    }

    /// An NLMSG_DONE with `seq` and its errno word.
    fn done(seq: u32, code: i32) -> Vec<u8> {
        let mut out = vec![0u8; NLMSG_HDRLEN];
        out[..4].copy_from_slice(&((NLMSG_HDRLEN + 4) as u32).to_ne_bytes());
        out[4..6].copy_from_slice(&NLMSG_DONE.to_ne_bytes());
        out[8..12].copy_from_slice(&seq.to_ne_bytes());
        out.extend_from_slice(&code.to_ne_bytes());
        out
    }

    fn indexes(out: &[RouteNetlinkMessage]) -> Vec<u32> {
        out.iter()
            .map(|m| match m {
                RouteNetlinkMessage::NewLink(l) => l.header.index,
                _ => 0,
            })
            .collect()
    }

    #[test]
    fn a_query_reads_its_own_messages_to_the_end() {
        let mut out = Vec::new();
        // A datagram of the answer, with a leftover of an earlier query
        // (another sequence number) in the middle: not the end yet.
        let part = [link_message(1, 5), link_message(9, 4), link_message(2, 5)].concat();
        assert!(walk(&part, 5, false, &mut out).is_none());
        assert_eq!(indexes(&out), [1, 2]);
        // The last datagram: a message, then NLMSG_DONE.
        let last = [link_message(3, 5), done(5, 0)].concat();
        assert!(matches!(walk(&last, 5, false, &mut out), Some(End::Clean)));
        assert_eq!(indexes(&out), [1, 2, 3]);
        // An earlier query's NLMSG_DONE ends nothing.
        assert!(walk(&done(4, 0), 5, false, &mut out).is_none());
    }

    #[test]
    fn a_message_that_does_not_decode_is_left_out() {
        // What 5.10 sends for a link with no VLANs in an AF_BRIDGE dump:
        // family AF_BRIDGE, and an IFLA_AF_SPEC with nothing in it.
        let mut bad = vec![0u8; NLMSG_HDRLEN + 16 + 4];
        let len = bad.len() as u32;
        bad[..4].copy_from_slice(&len.to_ne_bytes());
        bad[4..6].copy_from_slice(&16u16.to_ne_bytes()); // RTM_NEWLINK
        bad[8..12].copy_from_slice(&5u32.to_ne_bytes());
        bad[NLMSG_HDRLEN] = libc::AF_BRIDGE as u8;
        bad[NLMSG_HDRLEN + 16..].copy_from_slice(&[4, 0, 26, 0]); // IFLA_AF_SPEC, empty
        assert!(NetlinkMessage::<RouteNetlinkMessage>::deserialize(&bad).is_err());
        let mut out = Vec::new();
        let data = [link_message(1, 5), bad, link_message(2, 5), done(5, 0)].concat();
        assert!(matches!(walk(&data, 5, false, &mut out), Some(End::Clean)));
        assert_eq!(indexes(&out), [1, 2]);
    }

    #[test]
    fn a_query_ends_with_the_kernels_refusal() {
        let mut out = Vec::new();
        // A dump that failed midway: NLMSG_DONE with an errno.
        match walk(&done(5, -libc::EBUSY), 5, false, &mut out) {
            Some(End::Refused(errno, None)) => assert_eq!(errno, libc::EBUSY),
            _ => panic!("expected a refusal"),
        }
        // A lookup refused: NLMSG_ERROR with the kernel's words.
        match walk(
            &answer(5, -libc::ENODEV, Some("No such device")),
            5,
            true,
            &mut out,
        ) {
            Some(End::Refused(errno, text)) => {
                assert_eq!(errno, libc::ENODEV);
                assert_eq!(text.as_deref(), Some("No such device"));
            }
            _ => panic!("expected a refusal"),
        }
        // A lookup answered: its one message ends it, after a leftover of
        // an earlier query.
        let ok = [link_message(9, 4), link_message(4, 5)].concat();
        assert!(matches!(walk(&ok, 5, true, &mut out), Some(End::Clean)));
        assert_eq!(indexes(&out), [4]);
        // An acknowledgement ends a query that asked for one.
        assert!(matches!(
            walk(&answer(5, 0, None), 5, false, &mut out),
            Some(End::Clean)
        ));
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

//! The nf_tables socket of a connection (NETLINK_NETFILTER), opened the
//! first time a guard is read or written: a transaction sent in one
//! `send` and acknowledged as a whole, a dump read to its end. Like the
//! route socket (`direct.rs`), answers to earlier, dropped requests are
//! skipped by sequence number, and a dump whose caller was dropped is read
//! out before the next request.

use std::io;

use rtnetlink::sys::{AsyncSocket, TokioSocket, protocols::NETLINK_NETFILTER};

use super::wire::{Batch, NLMSG_HDRLEN};
use crate::netlink::direct::{answer, open_socket, receive_datagram, send_datagram};

const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const BUF: usize = 64 * 1024;
/// The send buffer asked for: a thousand guests' guards in one
/// transaction (about 3 KiB each).
const SNDBUF: usize = 4 << 20;
/// What the kernel keeps of the send buffer for itself (32 bytes), with
/// room to spare for the batch's own messages.
const ROOM_MARGIN: usize = 1024;

/// How the kernel ended a request.
pub(super) enum Outcome {
    /// Every message of a dump's answer (whole nf_tables messages, headers
    /// included), or nothing for a committed transaction.
    Done(Vec<Vec<u8>>),
    /// A positive errno and the extended-ack text: the first failure.
    Refused(i32, Option<String>),
}

pub(crate) struct NftSocket {
    socket: TokioSocket,
    /// The largest transaction one `send` takes (the kernel refuses a
    /// datagram longer than the send buffer less 32 bytes).
    pub(super) room: usize,
    seq: u32,
    buf: Vec<u8>,
    /// The sequence number of a dump whose end was not read.
    open_dump: Option<u32>,
}

impl NftSocket {
    /// Opens the socket in the calling thread's network namespace; must run
    /// inside a runtime.
    pub(super) fn open() -> io::Result<Self> {
        let socket = open_socket(NETLINK_NETFILTER)?;
        // Room for many ports' rules in one transaction, as `nft` makes
        // it: SO_SNDBUFFORCE needs CAP_NET_ADMIN in the first user
        // namespace; without it the default buffer stays, and callers cut
        // their work into transactions that fit.
        use nix::sys::socket::{getsockopt, setsockopt, sockopt};
        let raw = socket.socket_ref();
        let _ = setsockopt(raw, sockopt::SndBufForce, &SNDBUF);
        let sndbuf = getsockopt(raw, sockopt::SndBuf)?;
        Ok(NftSocket {
            socket,
            room: sndbuf.saturating_sub(ROOM_MARGIN),
            seq: 0,
            buf: vec![0; BUF],
            open_dump: None,
        })
    }

    /// The sequence numbers the next request may use, `count` of them.
    pub(super) fn next_seq(&mut self, count: u32) -> u32 {
        let first = self.seq.wrapping_add(1).max(1);
        self.seq = first.wrapping_add(count);
        first
    }

    /// Sends a transaction built by [`Batch::transaction`] and ended with
    /// [`Batch::end`] (which returned `waited`), and reads the kernel's
    /// verdict on it: the first message it refused, or Ok once the last
    /// message is acknowledged (the transaction committed). A refusal of
    /// the batch itself (no nf_tables in the kernel) answers its first
    /// sequence number and ends it too.
    pub(super) async fn transaction(&mut self, batch: &Batch, waited: u32) -> io::Result<Outcome> {
        self.finish_dump().await?;
        self.send(&batch.buf).await?;
        let mut first_error = None;
        loop {
            let got = self.receive().await?;
            let mut rest = &self.buf[..got];
            while let Some((message, tail)) = split(rest) {
                rest = tail;
                let Some((kind, seq, code)) = answer(message) else {
                    continue;
                };
                if kind != NLMSG_ERROR || !in_range(seq, batch.first, batch.last) {
                    continue;
                }
                if code != 0 && first_error.is_none() {
                    let text = crate::netlink::ext_ack_message(
                        message.get(NLMSG_HDRLEN + 4..).unwrap_or_default(),
                    );
                    first_error = Some((-code, text));
                }
                if seq == waited || (seq == batch.first && code != 0) {
                    return Ok(match first_error {
                        Some((errno, text)) => Outcome::Refused(errno, text),
                        None => Outcome::Done(Vec::new()),
                    });
                }
            }
        }
    }

    /// Sends a query (one message, [`Batch::single`]: a dump, or a lookup
    /// that asks for an acknowledgement after its answer) and returns every
    /// message of its answer.
    pub(super) async fn query(&mut self, request: &Batch) -> io::Result<Outcome> {
        self.finish_dump().await?;
        self.send(&request.buf).await?;
        // A caller dropped from here on leaves the rest to `finish_dump`.
        self.open_dump = Some(request.first);
        let mut out = Vec::new();
        loop {
            let got = self.receive().await?;
            if let Some(end) = walk(&self.buf[..got], request.first, &mut out) {
                self.open_dump = None;
                return Ok(match end {
                    Some((errno, text)) => Outcome::Refused(errno, text),
                    None => Outcome::Done(out),
                });
            }
        }
    }

    async fn finish_dump(&mut self) -> io::Result<()> {
        let Some(seq) = self.open_dump else {
            return Ok(());
        };
        let mut ignored = Vec::new();
        loop {
            let got = self.receive().await?;
            ignored.clear();
            if walk(&self.buf[..got], seq, &mut ignored).is_some() {
                self.open_dump = None;
                return Ok(());
            }
        }
    }

    async fn send(&mut self, data: &[u8]) -> io::Result<()> {
        send_datagram(&self.socket, data).await
    }

    async fn receive(&mut self) -> io::Result<usize> {
        receive_datagram(&mut self.socket, &mut self.buf).await
    }
}

/// Whether `seq` is within `first..=last` (sequence numbers wrap).
fn in_range(seq: u32, first: u32, last: u32) -> bool {
    seq.wrapping_sub(first) <= last.wrapping_sub(first)
}

/// The first whole message of `data` and what follows it.
fn split(data: &[u8]) -> Option<(&[u8], &[u8])> {
    if data.len() < NLMSG_HDRLEN {
        return None;
    }
    let len = u32::from_ne_bytes(data[..4].try_into().ok()?) as usize;
    if len < NLMSG_HDRLEN || len > data.len() {
        return None;
    }
    Some((
        &data[..len],
        &data[len.next_multiple_of(4).min(data.len())..],
    ))
}

/// The messages of dump `seq` in `data`, copied into `out`. Returns the
/// dump's end if this datagram holds it: `Some(None)` when it ended well,
/// `Some(Some(errno, text))` when it was refused.
#[allow(clippy::type_complexity)]
fn walk(data: &[u8], seq: u32, out: &mut Vec<Vec<u8>>) -> Option<Option<(i32, Option<String>)>> {
    let mut rest = data;
    while let Some((message, tail)) = split(rest) {
        rest = tail;
        let kind = u16::from_ne_bytes([message[4], message[5]]);
        let got = u32::from_ne_bytes(message[8..12].try_into().ok()?);
        if got != seq {
            continue;
        }
        match kind {
            NLMSG_ERROR | NLMSG_DONE => {
                let code = answer(message).map_or(0, |(_, _, c)| c);
                if code == 0 {
                    return Some(None);
                }
                let text = (kind == NLMSG_ERROR)
                    .then(|| {
                        crate::netlink::ext_ack_message(
                            message.get(NLMSG_HDRLEN + 4..).unwrap_or_default(),
                        )
                    })
                    .flatten();
                return Some(Some((-code, text)));
            }
            1 | 4 => {}
            _ => out.push(message.to_vec()),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_ranges_wrap() {
        assert!(in_range(5, 5, 9));
        assert!(in_range(9, 5, 9));
        assert!(!in_range(4, 5, 9));
        assert!(!in_range(10, 5, 9));
        assert!(in_range(1, u32::MAX - 1, 3));
        assert!(!in_range(u32::MAX - 2, u32::MAX - 1, 3));
    }

    #[test]
    fn a_cut_message_is_not_split() {
        assert!(split(&[1, 2, 3]).is_none());
        let mut m = vec![0u8; 20];
        m[..4].copy_from_slice(&40u32.to_ne_bytes());
        assert!(split(&m).is_none());
        m[..4].copy_from_slice(&20u32.to_ne_bytes());
        let (one, rest) = split(&m).unwrap();
        assert_eq!(one.len(), 20);
        assert!(rest.is_empty());
    }
}

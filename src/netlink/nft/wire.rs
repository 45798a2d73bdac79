//! nf_tables messages as bytes: the attribute writer and reader, one
//! message, a batch of them.
//!
//! Hand-encoded, with the kernel's uapi (`linux/netfilter/nfnetlink.h`,
//! `linux/netfilter/nf_tables.h`) as the reference: netlink-packet-route
//! covers route netlink only, and the crates that encode nf_tables either
//! spawn `nft` (one process per transaction) or bind C libraries. What is
//! needed here is small: tables, chains, rules, seven expressions. Values
//! of nf_tables attributes are big-endian; netlink headers and attribute
//! headers are native-endian.

/// `NFNL_SUBSYS_NFTABLES`: the high byte of every nf_tables message type.
const NFNL_SUBSYS_NFTABLES: u16 = 10;
const NFNL_MSG_BATCH_BEGIN: u16 = 16;
const NFNL_MSG_BATCH_END: u16 = 17;
pub(super) const NLMSG_HDRLEN: usize = 16;
const NFGENMSG_LEN: usize = 4;
pub(super) const NLA_F_NESTED: u16 = 0x8000;

pub(super) const NLM_F_REQUEST: u16 = 0x1;
pub(super) const NLM_F_ACK: u16 = 0x4;
pub(super) const NLM_F_DUMP: u16 = 0x300;
pub(super) const NLM_F_APPEND: u16 = 0x800;
pub(super) const NLM_F_CREATE: u16 = 0x400;
pub(super) const NLM_F_EXCL: u16 = 0x200;

/// `enum nf_tables_msg_types`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MsgType {
    NewTable = 0,
    NewChain = 3,
    GetChain = 4,
    DelChain = 5,
    NewRule = 6,
    GetRule = 7,
    DelRule = 8,
}

impl MsgType {
    pub(super) fn wire(self) -> u16 {
        (NFNL_SUBSYS_NFTABLES << 8) | self as u16
    }
}

/// The nf_tables families bridgekit's tables live in (`NFPROTO_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Family {
    /// `NFPROTO_INET`: IPv4 and IPv6 together (the forward modes).
    Inet = 1,
    /// `NFPROTO_NETDEV`: base chains on one device's ingress (the guest
    /// guard).
    Netdev = 5,
}

impl Family {
    pub(super) fn wire(self) -> u8 {
        self as u8
    }
}

/// Attribute numbers (`enum nft_*_attributes`).
pub(super) mod attr {
    pub(crate) const TABLE_NAME: u16 = 1;
    pub(crate) const CHAIN_TABLE: u16 = 1;
    pub(crate) const CHAIN_NAME: u16 = 3;
    pub(crate) const CHAIN_HOOK: u16 = 4;
    pub(crate) const CHAIN_POLICY: u16 = 5;
    pub(crate) const CHAIN_TYPE: u16 = 7;
    pub(crate) const HOOK_HOOKNUM: u16 = 1;
    pub(crate) const HOOK_PRIORITY: u16 = 2;
    pub(crate) const HOOK_DEV: u16 = 3;
    pub(crate) const HOOK_DEVS: u16 = 4;
    pub(crate) const RULE_TABLE: u16 = 1;
    pub(crate) const RULE_CHAIN: u16 = 2;
    pub(crate) const RULE_EXPRESSIONS: u16 = 4;
    pub(crate) const RULE_USERDATA: u16 = 7;
    pub(crate) const LIST_ELEM: u16 = 1;
    pub(crate) const EXPR_NAME: u16 = 1;
    pub(crate) const EXPR_DATA: u16 = 2;
}

/// Attributes being written, nested ones included.
#[derive(Debug, Default)]
pub(super) struct Attrs {
    pub(super) buf: Vec<u8>,
}

impl Attrs {
    pub(super) fn put(&mut self, kind: u16, value: &[u8]) -> &mut Self {
        let len = 4 + value.len();
        self.buf.extend_from_slice(&(len as u16).to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.buf.extend_from_slice(value);
        self.buf.resize(self.buf.len().next_multiple_of(4), 0);
        self
    }

    /// A NUL-terminated string.
    pub(super) fn string(&mut self, kind: u16, value: &str) -> &mut Self {
        let mut v = Vec::with_capacity(value.len() + 1);
        v.extend_from_slice(value.as_bytes());
        v.push(0);
        self.put(kind, &v)
    }

    /// A big-endian u32, as nf_tables takes every number.
    pub(super) fn be32(&mut self, kind: u16, value: u32) -> &mut Self {
        self.put(kind, &value.to_be_bytes())
    }

    /// A nested attribute holding what `f` writes.
    pub(super) fn nested(&mut self, kind: u16, f: impl FnOnce(&mut Attrs)) -> &mut Self {
        let start = self.buf.len();
        self.buf.extend_from_slice(&[0; 4]);
        let mut inner = Attrs {
            buf: std::mem::take(&mut self.buf),
        };
        f(&mut inner);
        self.buf = inner.buf;
        let len = (self.buf.len() - start) as u16;
        self.buf[start..start + 2].copy_from_slice(&len.to_ne_bytes());
        self.buf[start + 2..start + 4].copy_from_slice(&(kind | NLA_F_NESTED).to_ne_bytes());
        self
    }
}

/// Messages being put together for one `send`, with their sequence
/// numbers.
#[derive(Debug, Default)]
pub(super) struct Batch {
    pub(super) buf: Vec<u8>,
    /// The sequence number of the first message and of the last.
    pub(super) first: u32,
    pub(super) last: u32,
    /// Where the last message pushed starts.
    last_at: usize,
}

impl Batch {
    /// An nf_tables transaction: begins with NFNL_MSG_BATCH_BEGIN.
    pub(super) fn transaction(seq: u32) -> Self {
        let mut b = Batch {
            buf: Vec::new(),
            first: seq,
            last: seq,
            last_at: 0,
        };
        b.header(
            NFNL_MSG_BATCH_BEGIN,
            NLM_F_REQUEST,
            seq,
            0,
            NFNL_SUBSYS_NFTABLES,
        );
        b
    }

    /// A single message (a query), with sequence number `seq`.
    pub(super) fn single(seq: u32, kind: MsgType, family: u8, flags: u16, attrs: &Attrs) -> Self {
        let mut b = Batch {
            buf: Vec::new(),
            first: seq,
            last: seq,
            last_at: 0,
        };
        b.header(kind.wire(), flags | NLM_F_REQUEST, seq, family, 0);
        b.buf.extend_from_slice(&attrs.buf);
        b.seal(0);
        b
    }

    /// Adds one message of the transaction.
    pub(super) fn push(&mut self, kind: MsgType, family: u8, flags: u16, attrs: &Attrs) {
        self.last = self.last.wrapping_add(1);
        let start = self.buf.len();
        self.last_at = start;
        self.header(kind.wire(), flags | NLM_F_REQUEST, self.last, family, 0);
        self.buf.extend_from_slice(&attrs.buf);
        self.seal(start);
    }

    /// Ends the transaction (NFNL_MSG_BATCH_END) and asks for an
    /// acknowledgement of its last message: the kernel reports every
    /// failed message anyway, and acknowledges once the whole batch is
    /// committed or aborted. Returns the sequence number to wait for.
    pub(super) fn end(&mut self) -> u32 {
        let waited = self.last;
        let at = self.last_at + 6;
        let flags = u16::from_ne_bytes([self.buf[at], self.buf[at + 1]]) | NLM_F_ACK;
        self.buf[at..at + 2].copy_from_slice(&flags.to_ne_bytes());
        self.last = self.last.wrapping_add(1);
        let start = self.buf.len();
        self.header(
            NFNL_MSG_BATCH_END,
            NLM_F_REQUEST,
            self.last,
            0,
            NFNL_SUBSYS_NFTABLES,
        );
        self.seal(start);
        waited
    }

    /// `struct nlmsghdr` (length filled by [`seal`](Self::seal)) and
    /// `struct nfgenmsg`.
    fn header(&mut self, kind: u16, flags: u16, seq: u32, family: u8, res_id: u16) {
        let start = self.buf.len();
        self.buf.extend_from_slice(&0u32.to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.buf.extend_from_slice(&flags.to_ne_bytes());
        self.buf.extend_from_slice(&seq.to_ne_bytes());
        self.buf.extend_from_slice(&0u32.to_ne_bytes());
        self.buf.push(family);
        self.buf.push(0); // NFNETLINK_V0
        self.buf.extend_from_slice(&res_id.to_be_bytes());
        if kind == NFNL_MSG_BATCH_BEGIN {
            self.seal(start);
        }
    }

    /// Writes the length of the message starting at `start`.
    fn seal(&mut self, start: usize) {
        let len = (self.buf.len() - start) as u32;
        self.buf[start..start + 4].copy_from_slice(&len.to_ne_bytes());
    }
}

/// The attributes in `data`: (type without flag bits, value).
pub(super) fn attrs(data: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    let mut rest = data;
    std::iter::from_fn(move || {
        if rest.len() < 4 {
            return None;
        }
        let len = u16::from_ne_bytes([rest[0], rest[1]]) as usize;
        let kind = u16::from_ne_bytes([rest[2], rest[3]]) & 0x3fff;
        if len < 4 || len > rest.len() {
            return None;
        }
        let value = &rest[4..len];
        rest = &rest[len.next_multiple_of(4).min(rest.len())..];
        Some((kind, value))
    })
}

/// A NUL-terminated string attribute's text.
pub(super) fn string(value: &[u8]) -> String {
    let text = value.split(|b| *b == 0).next().unwrap_or_default();
    String::from_utf8_lossy(text).into_owned()
}

/// The body of an nf_tables message (after `struct nfgenmsg`).
pub(super) fn body(message: &[u8]) -> &[u8] {
    message
        .get(NLMSG_HDRLEN + NFGENMSG_LEN..)
        .unwrap_or_default()
}

//! The link view: ifindex → name, kind, master, admin state and MTU of
//! every link in the namespace, kept by the kernel's own RTNLGRP_LINK
//! notifications (as libnl's cache manager and NetworkManager's platform
//! cache keep theirs), so a port attach or detach checks its promises
//! (a port of another bridge is busy; only our ports are detached)
//! without a lookup of its own.
//!
//! Fresh enough by construction: the kernel queues a link notification to
//! every listener when it commits the change, before it acknowledges the
//! request that made it. [`LinkView::link`] reads every queued notification
//! (without blocking) before it answers, so the view is then at least as
//! fresh as an RTM_GETLINK sent at that moment would be. If the socket
//! overran (ENOBUFS: the kernel dropped notifications), the view is thrown
//! away and rebuilt from one dump.
//!
//! It starts on the first port operation of a [`Netlink`](super::Netlink):
//! a user who never attaches a port pays nothing.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex};

use netlink_packet_route::link::InfoKind;
use rtnetlink::packet_core::{NlaBuffer, NlasIterator, Parseable, parse_string, parse_u32};
use rtnetlink::sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};

use super::{LinkSnapshot, Netlink, RTNLGRP_LINK};
use crate::error::{Error, Op, Result};
use crate::sys::netns;

/// Datagrams read per recvmmsg(2), and the room for each. A datagram holds
/// one notification; a link message with every attribute is a few KiB. One
/// cut short (MSG_TRUNC) is treated as an overrun: the view is rebuilt.
const SLOTS: usize = 8;
const SLOT_LEN: usize = 16 * 1024;
/// ~4,000 notifications (~4 KiB each, doubled by the kernel): others can
/// attach and detach ~1,000 ports between two of ours before an overrun
/// costs a dump (1 MiB overran at 100-port churn in the benches). Forced
/// past `rmem_max` with CAP_NET_ADMIN; a limit, not an allocation.
const RCVBUF: usize = 8 << 20;

// Only the header and these attributes are decoded, with netlink-packet-
// route's own parsers, out of each notification: decoding every attribute
// (statistics, IPv6 and bridge settings) of every message would cost more
// than the lookup the view saves. Values from linux/rtnetlink.h and
// linux/if_link.h; netlink-packet-route keeps its constants private.
const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const IFLA_IFNAME: u16 = 3;
const IFLA_MTU: u16 = 4;
const IFLA_MASTER: u16 = 10;
const IFLA_LINKINFO: u16 = 18;
const IFLA_INFO_KIND: u16 = 1;
const NLMSG_HDRLEN: usize = 16;
const AF_UNSPEC: u8 = libc::AF_UNSPEC as u8;

/// What the view knows of one link: the fields the port checks need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ViewLink {
    pub index: u32,
    pub name: Arc<str>,
    /// `IFLA_INFO_KIND` as `LinkSnapshot::kind` spells it.
    pub kind: Option<Arc<str>>,
    pub master: Option<u32>,
    pub up: bool,
    pub mtu: u32,
}

impl ViewLink {
    fn from_snapshot(s: &LinkSnapshot) -> Self {
        ViewLink {
            index: s.index,
            name: s.name.as_str().into(),
            kind: s.kind.as_deref().map(Into::into),
            master: s.master,
            up: s.up,
            mtu: s.mtu,
        }
    }

    /// A snapshot with these fields filled in (the others unknown), for
    /// the port code that takes snapshots.
    pub(crate) fn to_snapshot(&self) -> LinkSnapshot {
        let mut s = LinkSnapshot::empty();
        s.index = self.index;
        s.name = self.name.to_string();
        s.kind = self.kind.as_deref().map(str::to_string);
        s.master = self.master;
        s.up = self.up;
        s.mtu = self.mtu;
        s
    }

    /// Decodes an RTM_NEWLINK payload (AF_UNSPEC). `known`: what the view
    /// holds for this ifindex; a link's kind never changes, so its
    /// IFLA_LINKINFO is not decoded again, and an unchanged name is shared,
    /// not copied. `None` for a message that does not parse.
    fn parse(message: &[u8], known: Option<&ViewLink>) -> Option<Self> {
        let header = LinkMessage::read(message)?;
        let found = Wanted::find(header.attributes)?;
        let name = found.name?;
        let raw = name.strip_suffix(&[0]).unwrap_or(name);
        let name = match known {
            Some(k) if k.name.as_bytes() == raw => k.name.clone(),
            _ => Arc::<str>::from(parse_string(name).ok()?),
        };
        let kind = match (known, found.linkinfo) {
            // A link's kind never changes: not decoded again.
            (Some(k), _) => k.kind.clone(),
            (None, None) => None,
            (None, Some(info)) => {
                let mut kind = None;
                for info in NlasIterator::new(info) {
                    let info: NlaBuffer<&[u8]> = info.ok()?;
                    if info.kind() == IFLA_INFO_KIND {
                        kind = Some(InfoKind::parse(&info).ok()?.to_string().into());
                    }
                }
                kind
            }
        };
        Some(ViewLink {
            index: header.index,
            name: Some(name).filter(|n| !n.is_empty())?,
            kind,
            master: match found.master {
                Some(m) => Some(parse_u32(m).ok()?).filter(|m| *m != 0),
                None => None,
            },
            up: header.flags & libc::IFF_UP as u32 != 0,
            mtu: match found.mtu {
                Some(m) => parse_u32(m).ok()?,
                None => 0,
            },
        })
    }
}

/// The values of the attributes the view reads, found in one walk.
#[derive(Default)]
struct Wanted<'a> {
    name: Option<&'a [u8]>,
    mtu: Option<&'a [u8]>,
    master: Option<&'a [u8]>,
    linkinfo: Option<&'a [u8]>,
}

impl<'a> Wanted<'a> {
    /// Walks the top-level attributes of a link message; `None` if one is
    /// cut short.
    ///
    /// Written out, where the rest of the crate uses netlink-packet-core's
    /// `NlasIterator`: a link notification carries some forty top-level
    /// attributes, of which the view wants four, and this walk is most of
    /// what a port check costs in user space. A loop of its own, with
    /// nothing else live, keeps it to a few instructions an attribute.
    #[inline(never)]
    fn find(data: &'a [u8]) -> Option<Self> {
        // linux/netlink.h: the type's top two bits are flags.
        const NLA_TYPE_MASK: u16 = 0x3fff;
        let mut found = Wanted::default();
        let mut at = 0;
        while let Some(header) = data.get(at..at + 4) {
            // struct nlattr { u16 nla_len; u16 nla_type; }, native-endian.
            let len = usize::from(u16::from_ne_bytes([header[0], header[1]]));
            let kind = u16::from_ne_bytes([header[2], header[3]]) & NLA_TYPE_MASK;
            let end = at + len;
            if len < 4 || end > data.len() {
                return None;
            }
            let slot = match kind {
                IFLA_IFNAME => &mut found.name,
                IFLA_MTU => &mut found.mtu,
                IFLA_MASTER => &mut found.master,
                IFLA_LINKINFO => &mut found.linkinfo,
                _ => {
                    at = (end + 3) & !3;
                    continue;
                }
            };
            *slot = Some(&data[at + 4..end]);
            at = (end + 3) & !3;
        }
        // Only the last attribute's padding may run past the end.
        (at >= data.len()).then_some(found)
    }
}

/// One netlink message at the start of `data`: its type and its bytes
/// (header included, padding not); `None` if it is cut short.
///
/// Read straight from the bytes (`struct nlmsghdr`, linux/netlink.h: a
/// fixed, native-endian C struct), like [`LinkMessage::read`], because a
/// drain reads several per port check and netlink-packet-core's checked
/// buffer costs more than the rest of the reading.
fn netlink_message(data: &[u8]) -> Option<(u16, &[u8])> {
    let len = u32::from_ne_bytes(data.get(..4)?.try_into().ok()?) as usize;
    let kind = u16::from_ne_bytes(data.get(4..6)?.try_into().ok()?);
    let message = data.get(..len).filter(|_| len >= NLMSG_HDRLEN)?;
    Some((kind, message))
}

/// What the view reads of a link message's `struct ifinfomsg`
/// (linux/rtnetlink.h): family, ifindex and flags, then its attributes.
struct LinkMessage<'a> {
    family: u8,
    index: u32,
    flags: u32,
    attributes: &'a [u8],
}

impl<'a> LinkMessage<'a> {
    /// `message`: a whole netlink message, header included.
    fn read(message: &'a [u8]) -> Option<Self> {
        // struct ifinfomsg { u8 family; u8 pad; u16 type; i32 index;
        // u32 flags; u32 change; }, after the 16-byte nlmsghdr.
        let ifi = message.get(NLMSG_HDRLEN..NLMSG_HDRLEN + 16)?;
        Some(LinkMessage {
            family: ifi[0],
            index: u32::from_ne_bytes(ifi[4..8].try_into().ok()?),
            flags: u32::from_ne_bytes(ifi[8..12].try_into().ok()?),
            attributes: &message[NLMSG_HDRLEN + 16..],
        })
    }
}

/// A link message of a drained batch, the last about its link so far.
#[derive(Clone, Copy)]
struct Pending<'a> {
    index: u32,
    kind: u16,
    message: &'a [u8],
    /// The link was deleted earlier in the batch.
    deleted: bool,
}

impl Pending<'_> {
    const NONE: Self = Pending {
        index: 0,
        kind: 0,
        message: &[],
        deleted: false,
    };
}

/// Hashes an ifindex with one multiplication. The map's default, SipHash,
/// costs more than the rest of a lookup, and guards against keys chosen to
/// collide: ifindexes are chosen by the kernel (or by root, with `ip link
/// add index N`).
#[derive(Default, Clone, Copy)]
struct IndexHash;

impl std::hash::BuildHasher for IndexHash {
    type Hasher = IndexHasher;
    fn build_hasher(&self) -> IndexHasher {
        IndexHasher(0)
    }
}

struct IndexHasher(u64);

impl std::hash::Hasher for IndexHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Not reached for a u32 key; correct for any other.
        for &b in bytes {
            self.write_u32(u32::from(b) ^ (self.0 as u32).rotate_left(8));
        }
    }
    fn write_u32(&mut self, n: u32) {
        // Fibonacci hashing: the product's high bits, which the map's
        // control bytes use, depend on every bit of the key.
        self.0 = u64::from(n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// The view and its notification socket.
pub(crate) struct LinkView {
    state: Mutex<ViewState>,
    /// Held while the view is rebuilt from a dump, so two rebuilds cannot
    /// install their dumps out of order.
    rebuild: tokio::sync::Mutex<()>,
}

struct ViewState {
    /// Non-blocking, joined to RTNLGRP_LINK only.
    socket: Socket,
    links: HashMap<u32, ViewLink, IndexHash>,
    names: HashMap<Arc<str>, u32>,
    /// Notifications were lost: rebuild from a dump before answering.
    overrun: bool,
    buf: Vec<u8>,
}

impl ViewState {
    /// Reads every queued notification into the view.
    ///
    /// recvmmsg(2) rather than netlink-sys's one-datagram `recv`: a port
    /// change queues several notifications (the port's, the bridge's own
    /// AF_BRIDGE note, the bridge's), and one system call for all of them
    /// is most of what keeps the check cheaper than the lookup it replaced.
    /// Its two raw calls stay (SAFETY lines below): nix's `recvmmsg` builds
    /// its headers per call, on the hot path of every port check.
    fn drain(&mut self) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        let fd = self.socket.as_raw_fd();
        loop {
            let mut iov: [libc::iovec; SLOTS] = std::array::from_fn(|i| libc::iovec {
                iov_base: self.buf[i * SLOT_LEN..].as_mut_ptr().cast(),
                iov_len: SLOT_LEN,
            });
            let mut msgs: [libc::mmsghdr; SLOTS] = std::array::from_fn(|i| {
                // SAFETY: mmsghdr is plain old data; all-zero is valid.
                let mut m: libc::mmsghdr = unsafe { std::mem::zeroed() };
                m.msg_hdr.msg_iov = &mut iov[i];
                m.msg_hdr.msg_iovlen = 1;
                m
            });
            // SAFETY: `msgs` holds SLOTS headers, each pointing at one iovec
            // of `iov`, each at SLOT_LEN bytes of `self.buf`; all outlive
            // the call. MSG_DONTWAIT: never blocks.
            let n = unsafe {
                libc::recvmmsg(
                    fd,
                    msgs.as_mut_ptr(),
                    SLOTS as libc::c_uint,
                    libc::MSG_DONTWAIT,
                    std::ptr::null_mut(),
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                match e.raw_os_error() {
                    Some(libc::EAGAIN) => return Ok(()),
                    Some(libc::EINTR) => continue,
                    // The kernel dropped notifications; the rest still wait.
                    Some(libc::ENOBUFS) => {
                        self.overrun = true;
                        continue;
                    }
                    _ => return Err(e),
                }
            }
            let n = n as usize;
            let buf = std::mem::take(&mut self.buf);
            let mut batch: [&[u8]; SLOTS] = [&[]; SLOTS];
            for (i, m) in msgs.iter().enumerate().take(n) {
                if m.msg_hdr.msg_flags & libc::MSG_TRUNC != 0 {
                    self.overrun = true;
                    continue;
                }
                let len = (m.msg_len as usize).min(SLOT_LEN);
                batch[i] = &buf[i * SLOT_LEN..i * SLOT_LEN + len];
            }
            self.apply(&batch[..n]);
            self.buf = buf;
            // Fewer than asked for: the queue was empty.
            if n < SLOTS {
                return Ok(());
            }
        }
    }

    /// Applies the link messages of a batch of datagrams. Each AF_UNSPEC
    /// link message carries the link's whole state, so only the last one
    /// per ifindex in the batch is decoded: a port change queues several
    /// about the same port, and decoding is most of a drain's cost.
    fn apply(&mut self, datagrams: &[&[u8]]) {
        // The last message per link, in a batch of at most PENDING links
        // (a datagram holds one notification; more links than that are
        // applied in turns, which is as right, only slower).
        const PENDING: usize = 2 * SLOTS;
        let mut last = [Pending::NONE; PENDING];
        let mut n = 0;
        for mut data in datagrams.iter().copied() {
            while !data.is_empty() {
                let Some((kind, message)) = netlink_message(data) else {
                    self.overrun = true;
                    break;
                };
                if let (RTM_NEWLINK | RTM_DELLINK, Some(link)) = (kind, LinkMessage::read(message))
                {
                    // AF_BRIDGE (the bridge's own notes about a port, whose
                    // RTM_DELLINK means "left the bridge") is dropped by the
                    // socket filter; skipped here too.
                    if link.family == AF_UNSPEC {
                        // An ifindex deleted and then made again (`ip link
                        // add index N`) is a new link: what the view knew of
                        // the old one must not be reused.
                        let mut deleted = false;
                        if let Some(i) = last[..n].iter().position(|p| p.index == link.index) {
                            deleted = last[i].deleted || last[i].kind == RTM_DELLINK;
                            last.copy_within(i + 1..n, i);
                            n -= 1;
                        }
                        if n == PENDING {
                            self.apply_last(&last);
                            n = 0;
                        }
                        last[n] = Pending {
                            index: link.index,
                            kind,
                            message,
                            deleted,
                        };
                        n += 1;
                    }
                }
                data = data.get((message.len() + 3) & !3..).unwrap_or_default();
            }
        }
        self.apply_last(&last[..n]);
    }

    fn apply_last(&mut self, last: &[Pending<'_>]) {
        for p in last {
            if p.deleted || p.kind == RTM_DELLINK {
                self.remove(p.index);
            }
            if p.kind == RTM_NEWLINK {
                if let Some(link) = ViewLink::parse(p.message, self.links.get(&p.index)) {
                    self.insert(link);
                }
            }
        }
    }

    fn insert(&mut self, link: ViewLink) {
        if let Some(old) = self.links.get_mut(&link.index) {
            if old.name == link.name {
                *old = link;
                return;
            }
        }
        if let Some(old) = self.links.get(&link.index) {
            if old.name != link.name && self.names.get(&old.name) == Some(&link.index) {
                self.names.remove(&old.name);
            }
        }
        self.names.insert(link.name.clone(), link.index);
        self.links.insert(link.index, link);
    }

    fn remove(&mut self, index: u32) {
        if let Some(old) = self.links.remove(&index) {
            if self.names.get(&old.name) == Some(&index) {
                self.names.remove(&old.name);
            }
        }
    }

    fn find(&self, target: super::LinkRef<'_>) -> Option<&ViewLink> {
        let index = match target {
            super::LinkRef::Index(i) => i,
            super::LinkRef::Name(n) => *self.names.get(n)?,
        };
        let link = self.links.get(&index)?;
        match target {
            super::LinkRef::Name(n) if &*link.name != n => None,
            _ => Some(link),
        }
    }
}

/// A socket filter that drops, in the kernel, the link messages the view
/// has no use for, so they are neither queued nor read:
/// - AF_BRIDGE ones: the bridge's own notes about its ports, a third of
///   what a port change queues (and their RTM_DELLINK means "left the
///   bridge", not "deleted");
/// - those with an `IFLA_EVENT` attribute (features changed, and the
///   bonding/reboot/peer-notify events): a port joining or leaving a bridge
///   recomputes the bridge's features, which queues one more copy of its
///   whole state. Each change the view follows (name, master, flags, MTU,
///   creation, deletion) queues a message of its own without that
///   attribute, so what these carry was already seen.
///
/// Classic BPF, because netlink-sys has no filter API: load the byte after
/// the 16-byte nlmsghdr (`ifi_family`) and drop on AF_BRIDGE; then ask the
/// kernel's netlink-attribute lookup (`SKF_AD_NLATTR`, Linux 2.6.29) for a
/// top-level `IFLA_EVENT` after the 16-byte ifinfomsg, and drop if found.
/// The lookup answers 0 (keep) for anything it cannot walk.
///
/// A raw call for the one `setsockopt`: neither nix nor netlink-sys has
/// SO_ATTACH_FILTER (nix has only the reuseport variant).
pub(super) fn drop_unused(socket: &Socket) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    const AF_BRIDGE: u32 = libc::AF_BRIDGE as u32;
    const IFLA_EVENT: u32 = 44;
    // The nlmsghdr and the ifinfomsg: where the attributes start.
    const ATTRS: u32 = 32;
    const NLATTR: u32 = (libc::SKF_AD_OFF + libc::SKF_AD_NLATTR) as u32;
    let op = |code: u32, jt: u8, jf: u8, k: u32| libc::sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    };
    let code = [
        // 0: A = ifi_family
        op(libc::BPF_LD | libc::BPF_B | libc::BPF_ABS, 0, 0, 16),
        // 1: AF_BRIDGE: to 6 (drop)
        op(libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K, 4, 0, AF_BRIDGE),
        // 2-4: A = offset of IFLA_EVENT among the attributes, or 0
        op(libc::BPF_LD | libc::BPF_IMM, 0, 0, ATTRS),
        op(libc::BPF_LDX | libc::BPF_IMM, 0, 0, IFLA_EVENT),
        op(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, 0, 0, NLATTR),
        // 5: none: to 7 (keep); found: to 6 (drop)
        op(libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K, 1, 0, 0),
        // 6: drop
        op(libc::BPF_RET | libc::BPF_K, 0, 0, 0),
        // 7: keep all of it
        op(libc::BPF_RET | libc::BPF_K, 0, 0, u32::MAX),
    ];
    let prog = libc::sock_fprog {
        len: code.len() as u16,
        filter: code.as_ptr().cast_mut(),
    };
    // SAFETY: SO_ATTACH_FILTER copies the program `prog` points at, which
    // lives for the call.
    let ret = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_ATTACH_FILTER,
            (&prog as *const libc::sock_fprog).cast(),
            std::mem::size_of::<libc::sock_fprog>() as libc::socklen_t,
        )
    };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

impl LinkView {
    /// Joins RTNLGRP_LINK in `nl`'s namespace, then fills the view from a
    /// dump; notifications that arrive meanwhile are applied after it.
    async fn start(nl: &Netlink, op: Op, iface: &str) -> Result<Self> {
        #[cfg(feature = "test-hooks")]
        let rcvbuf = Some(nl.hooks().event_rcvbuf()).filter(|&n| n > 0);
        #[cfg(not(feature = "test-hooks"))]
        let rcvbuf: Option<usize> = None;
        let socket = netns::run_in(nl.netns(), || {
            let mut socket = Socket::new(NETLINK_ROUTE)?;
            // Best effort: an overrun is recovered from anyway.
            match rcvbuf {
                Some(size) => socket.set_rx_buf_sz(size)?,
                None => {
                    use nix::sys::socket::{setsockopt, sockopt};
                    if setsockopt(&socket, sockopt::RcvBufForce, &RCVBUF).is_err() {
                        let _ = socket.set_rx_buf_sz(RCVBUF);
                    }
                }
            }
            drop_unused(&socket)?;
            socket.bind(&SocketAddr::new(0, 1 << (RTNLGRP_LINK - 1)))?;
            socket.set_non_blocking(true)?;
            Ok(socket)
        })
        .map_err(|e| Error::io(op, iface, e))?;
        let view = LinkView {
            state: Mutex::new(ViewState {
                socket,
                links: HashMap::default(),
                names: HashMap::new(),
                overrun: true,
                buf: vec![0; SLOTS * SLOT_LEN],
            }),
            rebuild: tokio::sync::Mutex::new(()),
        };
        view.refresh(nl, op, iface).await?;
        Ok(view)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, ViewState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Drains the socket: whether the view is then up to date (`false`:
    /// notifications overran, [`rebuild`](Self::rebuild) it).
    fn drained(&self) -> io::Result<bool> {
        let mut st = self.state();
        st.drain()?;
        Ok(!st.overrun)
    }

    /// Drains the socket; rebuilds from a dump after an overrun.
    async fn refresh(&self, nl: &Netlink, op: Op, iface: &str) -> Result<()> {
        if self.drained().map_err(|e| Error::io(op, iface, e))? {
            return Ok(());
        }
        self.rebuild(nl, op, iface).await
    }

    /// Rebuilds the view from a dump, and applies on top what changed
    /// meanwhile.
    async fn rebuild(&self, nl: &Netlink, op: Op, iface: &str) -> Result<()> {
        let _one = self.rebuild.lock().await;
        // Another task may have rebuilt it while this one waited.
        for _ in 0..3 {
            {
                let mut st = self.state();
                st.drain().map_err(|e| Error::io(op, iface, e))?;
                if !st.overrun {
                    return Ok(());
                }
                // From here on, whatever the dump misses is queued.
                st.overrun = false;
            }
            nl.note_view_rebuild();
            let all = nl.all_links(op, iface).await?;
            let mut st = self.state();
            st.links.clear();
            st.names.clear();
            for s in &all {
                st.insert(ViewLink::from_snapshot(s));
            }
            // What changed during the dump is queued: apply it on top
            // (each notification is a link's whole state, newer than or
            // equal to the dump's).
            st.drain().map_err(|e| Error::io(op, iface, e))?;
            if !st.overrun {
                return Ok(());
            }
        }
        Err(Error::io(
            op,
            iface,
            io::Error::other(
                "link notifications overran three times while the link view was rebuilt \
                 (raise net.core.rmem_max)",
            ),
        ))
    }
}

impl Netlink {
    /// The link `target` as the link view knows it, once every queued
    /// notification is read: the check a port operation makes instead of
    /// an RTM_GETLINK. [`Error::NotFound`] if there is no such link.
    /// `label` names it in errors; `None`: its name, or `#` and its index.
    pub(crate) async fn view_link(
        &self,
        op: Op,
        target: super::LinkRef<'_>,
        label: Option<&str>,
    ) -> Result<ViewLink> {
        // Formatted only for an error: a port check is cheap enough that
        // the `format!` of an index would show.
        let label = || match (label, target) {
            (Some(label), _) | (None, super::LinkRef::Name(label)) => Cow::Borrowed(label),
            (None, super::LinkRef::Index(index)) => Cow::Owned(format!("#{index}")),
        };
        // A kernel round trip in the place of a lookup (it reads the
        // notification socket): counted, and failed by the fault tests,
        // like the lookup it replaces.
        self.note_view_read();
        self.fault_step_with(op, label)?;
        let view = match self.inner.view.get() {
            Some(view) => view,
            None => self.link_view(op, &label()).await?,
        };
        if !view.drained().map_err(|e| Error::io(op, &label(), e))? {
            view.rebuild(self, op, &label()).await?;
        }
        let found = view.state().find(target).cloned();
        found.ok_or_else(|| Error::NotFound {
            op,
            iface: label().into_owned(),
            errno: None,
            bridge: None,
        })
    }

    /// The name of link `index` in the view, without draining first (for
    /// wording an error).
    pub(crate) fn view_name(&self, index: u32) -> Option<String> {
        let view = self.inner.view.get()?;
        let st = view.state();
        st.links.get(&index).map(|l| l.name.to_string())
    }

    /// How many links the link view holds (0 before it started).
    pub(crate) fn view_len(&self) -> usize {
        self.inner.view.get().map_or(0, |v| v.state().links.len())
    }

    async fn link_view(&self, op: Op, iface: &str) -> Result<&LinkView> {
        self.inner
            .view
            .get_or_try_init(|| LinkView::start(self, op, iface))
            .await
    }
}

#[cfg(test)]
mod tests;

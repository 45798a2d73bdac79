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
//! away and rebuilt from one dump, read on the view's own socket and decoded
//! by its own walk (`ViewState::resync`; rtnetlink's dump is the fallback).
//!
//! It starts on the first port operation of a [`Netlink`](super::Netlink):
//! a user who never attaches a port pays nothing.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex};

use rtnetlink::sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};

use super::{LinkSnapshot, Netlink, RTNLGRP_LINK};
use crate::error::{Error, Op, Result};
use crate::sys::netns;
use crate::values::name::IfName;

mod decode;
use decode::{
    AF_UNSPEC, LinkMessage, NLMSG_DONE, NLMSG_ERROR, RTM_DELLINK, RTM_NEWLINK, netlink_message,
};

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
    /// Its root qdisc is a tbf (`IFLA_QDISC`), as of the last message about
    /// it: a port that may have an inbound bandwidth limit.
    pub tbf_root: bool,
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
            tbf_root: s.qdisc.as_deref() == Some("tbf"),
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
        s.qdisc = self.tbf_root.then(|| "tbf".to_string());
        s
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
    /// The sequence number of the dump being read on this socket (0: none).
    dump_seq: u32,
    /// The last dump's sequence number.
    last_seq: u32,
    /// That dump's last message (NLMSG_DONE, or an error) was read.
    dump_done: bool,
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
        self.read_queue(false)
    }

    /// Reads every queued notification: into the view, or (`discard`)
    /// into nothing, each dequeued without being copied (zero-length
    /// buffers), for notifications an overrun made useless.
    fn read_queue(&mut self, discard: bool) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        let fd = self.socket.as_raw_fd();
        let room = if discard { 0 } else { SLOT_LEN };
        loop {
            let mut iov: [libc::iovec; SLOTS] = std::array::from_fn(|i| libc::iovec {
                iov_base: self.buf[i * SLOT_LEN..].as_mut_ptr().cast(),
                iov_len: room,
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
            if discard {
                if n < SLOTS {
                    return Ok(());
                }
                continue;
            }
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
                if kind == NLMSG_DONE || kind == NLMSG_ERROR {
                    self.dump_end(message);
                } else if let (RTM_NEWLINK | RTM_DELLINK, Some(link)) =
                    (kind, LinkMessage::read(message))
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

    /// An NLMSG_DONE or NLMSG_ERROR: the end of this socket's dump when it
    /// answers that dump's request. A dump that ended in an error (its
    /// DONE or ERROR carries a negative errno) left the view incomplete:
    /// marked as an overrun, so it is read again.
    fn dump_end(&mut self, message: &[u8]) {
        let Some((_, seq, code)) = super::direct::answer(message) else {
            return;
        };
        if self.dump_seq == 0 || seq != self.dump_seq {
            return;
        }
        self.dump_done = true;
        if code != 0 {
            self.overrun = true;
        }
    }

    /// Rebuilds the view from a dump read on its own socket, after an
    /// overrun: what is queued is thrown away unread (the lost
    /// notifications made it useless), the view emptied, and an
    /// RTM_GETLINK dump (statistics left out) requested on this socket.
    /// Its answers queue behind the notifications already there and ahead
    /// of later ones, in the order the kernel made them, and each one is a
    /// link's whole state, like a notification: one drain applies both.
    /// Decoded by the view's own walk (four attributes of each link), this
    /// costs a fraction of a dump decoded by netlink-packet-route, which
    /// decodes every attribute of every link (about 30 µs a link).
    ///
    /// `false` if the view is still not whole (notifications overran
    /// again, the dump failed, or its end did not come): the caller tries
    /// again or falls back to a dump on the request socket.
    fn resync(&mut self) -> io::Result<bool> {
        self.read_queue(true)?;
        self.overrun = false;
        self.links.clear();
        self.names.clear();
        self.last_seq = self.last_seq.wrapping_add(1).max(1);
        self.dump_seq = self.last_seq;
        self.dump_done = false;
        let request = dump_request(self.dump_seq);
        let sent = self.socket.send_to(&request, &SocketAddr::new(0, 0), 0);
        let whole = match sent {
            // The kernel fills the dump's next part inside each read of
            // the previous one: its end is queued by the time the queue
            // runs dry, or it is not coming.
            Ok(_) => self.drain().map(|()| self.dump_done && !self.overrun),
            Err(e) => Err(e),
        };
        self.dump_seq = 0;
        if !matches!(whole, Ok(true)) {
            self.overrun = true;
        }
        whole
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
                dump_seq: 0,
                last_seq: 0,
                dump_done: false,
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
            let mut st = self.state();
            st.drain().map_err(|e| Error::io(op, iface, e))?;
            if !st.overrun {
                return Ok(());
            }
            nl.view_dump_step(op, iface)?;
            nl.note_view_rebuild();
            if st.resync().map_err(|e| Error::io(op, iface, e))? {
                return Ok(());
            }
        }
        // The same on the request socket, which no notification reaches,
        // so a busy namespace cannot overrun its dump.
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

/// An RTM_GETLINK dump request for every link, statistics left out,
/// encoded by netlink-packet-route.
fn dump_request(seq: u32) -> Vec<u8> {
    use netlink_packet_route::RouteNetlinkMessage;
    use netlink_packet_route::link::LinkMessage as RouteLinkMessage;
    use rtnetlink::packet_core::{NLM_F_DUMP, NLM_F_REQUEST, NetlinkMessage};
    let mut link = RouteLinkMessage::default();
    super::link::skip_stats(&mut link);
    let mut message = NetlinkMessage::from(RouteNetlinkMessage::GetLink(link));
    message.header.flags = NLM_F_REQUEST | NLM_F_DUMP;
    message.header.sequence_number = seq;
    message.finalize();
    let mut out = vec![0; message.buffer_len()];
    message.serialize(&mut out);
    out
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
            iface: IfName::from_kernel(label()),
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

    /// Whether the link view holds a link named `name` (as last drained).
    pub(crate) fn view_has(&self, name: &str) -> bool {
        self.inner
            .view
            .get()
            .is_some_and(|v| v.state().find(super::LinkRef::Name(name)).is_some())
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

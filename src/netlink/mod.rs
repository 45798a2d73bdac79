//! The netlink connection: one request socket per [`Netlink`] (and the
//! link view's), its locks, and the one path every message family's
//! requests take, changes and queries alike (`direct.rs`: a change
//! acknowledged in the same call, a query read to its end).
//!
//! Other modules call the crate-private functions of this module's
//! children with typed values; only `netlink/` touches rtnetlink and
//! netlink-packet-route types, with one exception: the option tables
//! (`values/bridge_option.rs`, `values/port_option.rs`, and the value type
//! they share, `values/multicast_router.rs`) name the attribute each
//! option travels in, so that an option is one row. One file per message
//! family: `link.rs` (RTM_*LINK: links, bridge and port options, parsed in
//! `link_snapshot.rs`), `link_view.rs` (the links as notifications tell
//! them, for port checks), `address.rs` (RTM_*ADDR), `vlan.rs` (AF_BRIDGE
//! VLAN dumps and changes), `fdb.rs` (AF_BRIDGE neighbours: the FDB),
//! `vxlan.rs` (VXLAN links and their remotes, FDB entries of the device),
//! `notify.rs` (multicast groups); `hooks.rs` holds the test hooks.

use rtnetlink::packet_route::RouteNetlinkMessage;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tracing::debug;

use crate::error::{Error, Op, Result};
use crate::sys::netns;
use direct::Query;

mod address;
mod direct;
mod fdb;
#[cfg(feature = "test-hooks")]
mod hooks;
mod link;
mod link_snapshot;
mod link_view;
mod nft;
mod notify;
// Traffic control for per-port bandwidth limits.
mod tc;
mod vlan;
mod vxlan;

pub(crate) use address::AddrSnapshot;
/// Address flag tests on raw IFA flags (the event model keeps them raw).
pub(crate) mod address_flags {
    pub(crate) use super::address::{dad_failed, tentative};
}
pub(crate) use crate::values::port_option::PortOptions;
pub(crate) use fdb::FdbSnapshot;
pub(crate) use link::{BridgeOptions, LinkChange, LinkRef};
pub(crate) use link_snapshot::LinkSnapshot;
pub(crate) use link_view::ViewLink;
#[cfg(test)]
pub(crate) use nft::replace_len;
pub(crate) use nft::{
    Base as NftBase, CmpOp, CtKey, Expr, Family as NftFamily, Hook as NftHook, MetaKey, NftChain,
    NftRule, Rule as NftRuleBuilder, TableSeen, Verdict, nft_len,
};
pub(crate) use notify::{
    Notification, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR, RTNLGRP_LINK, RTNLGRP_NEIGH,
    Subscription,
};
pub(crate) use tc::{QdiscAt, QdiscSeen, Tbf, TbfSeen};
pub(crate) use vxlan::{RemoteOrigin, RemoteSnapshot, VxlanParams};

/// A netlink connection to one network namespace: the context every
/// bridgekit call takes.
///
/// Cheap to clone (an `Arc`); all clones share its socket, registered with
/// the reactor of the tokio runtime that was current at
/// [`connect`](Netlink::connect) time. Every request goes on it, one at a
/// time: a change is acknowledged by the kernel before the call that sent
/// it returns, a query (a lookup or a dump) is read to its end. No task
/// runs in the background.
///
/// ```no_run
/// # async fn f() -> Result<(), bridgekit::Error> {
/// let nl = bridgekit::Netlink::connect()?;
/// let other = bridgekit::Netlink::connect_in_netns("/proc/1234/ns/net")?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Netlink {
    inner: Arc<Inner>,
}

struct Inner {
    /// The socket every request goes on (see `direct.rs`).
    direct: tokio::sync::Mutex<direct::Direct>,
    netns: OwnedFd,
    /// The thread in this namespace for sysctl and sysfs work.
    worker: netns::Worker,
    /// Fault injection and counters for the test suite.
    #[cfg(feature = "test-hooks")]
    hooks: Arc<crate::test_hooks::Hooks>,
    /// Whether the running kernel knows every bridge port option bridgekit
    /// sends, so its acknowledgement of a port-option change is truthful.
    kernel: Option<crate::sys::kernel::KernelVersion>,
    /// Held while a port's master is looked up and changed, so two tasks
    /// of this process cannot both see a port free and both take it (the
    /// kernel has no compare-and-set for IFLA_MASTER: the second would
    /// silently move it).
    membership: tokio::sync::Mutex<()>,
    /// The link view the port checks read (see `link_view.rs`), started
    /// by the first port operation.
    view: tokio::sync::OnceCell<link_view::LinkView>,
    /// The nf_tables socket (see `nft/`), opened by the first guard
    /// request.
    nft: tokio::sync::OnceCell<tokio::sync::Mutex<nft::NftSocket>>,
    /// The nf_tables table of this connection's guest guards.
    guard_table: Arc<str>,
    /// Whether guards may exist in it: this connection installed one, or
    /// read the table and found it. Until then, detaching a port asks
    /// nf_tables nothing.
    guards_seen: std::sync::atomic::AtomicBool,
    /// Whether bandwidth limits may exist in the namespace: this
    /// connection made one, or found an IFB of bridgekit's (see
    /// `engine::limits`). Until then, detaching a port reads no qdisc.
    limits_seen: std::sync::atomic::AtomicBool,
    /// Whether this connection looked for IFBs of bridgekit's yet (once,
    /// by its first `apply` or bridge deletion).
    limits_looked: std::sync::atomic::AtomicBool,
    /// Multi-step operations not yet at their end, whether their caller
    /// still waits or dropped them (see `complete.rs`).
    pending: AtomicUsize,
    idle: tokio::sync::Notify,
}

impl std::fmt::Debug for Netlink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Netlink")
            .field("pending", &self.inner.pending.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// The guard table of a connection that names none.
const DEFAULT_GUARD_TABLE: &str = "bridgekit";

fn require_runtime() -> Result<()> {
    tokio::runtime::Handle::try_current()
        .map(|_| ())
        .map_err(|_| {
            Error::connection(
                Op::Connect,
                std::io::Error::other(
                    "bridgekit needs a running tokio runtime (call connect from async code)",
                ),
            )
        })
}

/// The request socket of one connection, opened in the calling thread's
/// namespace and registered with `rt`'s reactor.
fn sockets(rt: &tokio::runtime::Handle) -> std::io::Result<direct::Direct> {
    let _in_runtime = rt.enter();
    direct::Direct::open()
}

impl Netlink {
    /// Connects to the network namespace of the calling thread.
    ///
    /// Must be called inside a tokio runtime, whose reactor the socket is
    /// registered with. Mirrors what `ip` does on start.
    ///
    /// # Errors
    /// [`Error::Io`] with [`Op::Connect`] if no runtime is running or the
    /// socket cannot be opened.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), bridgekit::Error> {
    /// let nl = bridgekit::Netlink::connect()?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(
        name = "bridgekit",
        skip_all,
        fields(op = crate::Op::Connect.name()),
        err(Display)
    )]
    pub fn connect() -> Result<Self> {
        require_runtime()?;
        let ns = netns::current().map_err(|e| Error::connection(Op::Connect, e))?;
        let rt = tokio::runtime::Handle::current();
        let sockets = sockets(&rt).map_err(|e| Error::connection(Op::Connect, e))?;
        Ok(Self::from_parts(sockets, ns))
    }

    /// Connects to the network namespace behind `path` (`/run/netns/NAME`,
    /// `/proc/PID/ns/net`, or a bind mount of one). Like `ip -n NAME`.
    ///
    /// The socket is created on a helper thread that enters the namespace
    /// and exits; no thread of the caller changes namespace. Sockets stay
    /// bound to the namespace they were made in.
    ///
    /// # Errors
    /// [`Error::Io`] with [`Op::Connect`] if the path is not a network
    /// namespace, [`Error::PermissionDenied`] without CAP_SYS_ADMIN over it.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), bridgekit::Error> {
    /// let nl = bridgekit::Netlink::connect_in_netns("/proc/4242/ns/net")?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(
        name = "bridgekit",
        skip_all,
        fields(op = crate::Op::Connect.name(), netns = %path.as_ref().display()),
        err(Display)
    )]
    pub fn connect_in_netns(path: impl AsRef<Path>) -> Result<Self> {
        require_runtime()?;
        let path = path.as_ref();
        let ns = netns::open(path).map_err(|e| Error::netns(Op::Connect, path, e))?;
        let rt = tokio::runtime::Handle::current();
        let sockets =
            netns::run_in(&ns, || sockets(&rt)).map_err(|e| Error::netns(Op::Connect, path, e))?;
        Ok(Self::from_parts(sockets, ns))
    }

    /// A connection to the namespace behind `path` that counts and fails
    /// steps with this one (its testing hooks are shared), for operations
    /// that span two namespaces.
    pub(crate) fn connect_sibling(&self, op: Op, path: &Path) -> Result<Self> {
        let ns = netns::open(path).map_err(|e| Error::netns(op, path, e))?;
        let rt = tokio::runtime::Handle::current();
        let sockets = netns::run_in(&ns, || sockets(&rt)).map_err(|e| Error::netns(op, path, e))?;
        #[cfg_attr(not(feature = "test-hooks"), allow(unused_mut))]
        let mut nl = Self::from_parts(sockets, ns);
        #[cfg(feature = "test-hooks")]
        {
            let inner = Arc::get_mut(&mut nl.inner).expect("a new connection has no clone");
            inner.hooks = self.inner.hooks.clone();
        }
        Ok(nl)
    }

    fn from_parts(direct: direct::Direct, netns: OwnedFd) -> Self {
        Netlink {
            inner: Arc::new(Inner {
                direct: tokio::sync::Mutex::new(direct),
                worker: netns::Worker::default(),
                netns,
                #[cfg(feature = "test-hooks")]
                hooks: Default::default(),
                kernel: crate::sys::kernel::KernelVersion::running(),
                membership: tokio::sync::Mutex::new(()),
                view: tokio::sync::OnceCell::new(),
                nft: tokio::sync::OnceCell::new(),
                guard_table: Arc::from(DEFAULT_GUARD_TABLE),
                guards_seen: std::sync::atomic::AtomicBool::new(false),
                limits_seen: std::sync::atomic::AtomicBool::new(false),
                limits_looked: std::sync::atomic::AtomicBool::new(false),
                pending: AtomicUsize::new(0),
                idle: tokio::sync::Notify::new(),
            }),
        }
    }

    /// This connection with its guest guards in the nf_tables table
    /// `name` (netdev family) instead of `bridgekit`: one table per
    /// program that uses bridgekit, so that two of them never touch each
    /// other's rules. Call it before the connection is cloned.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a name that is empty, longer than 64
    /// bytes or not made of ASCII letters, digits, `_` and `-`, or if the
    /// connection was cloned already.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), bridgekit::Error> {
    /// let nl = bridgekit::Netlink::connect()?.with_guard_table("my_vmm")?;
    /// # Ok(()) }
    /// ```
    pub fn with_guard_table(mut self, name: &str) -> Result<Self> {
        let ok = !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !ok {
            return Err(Error::invalid(
                crate::InputKind::Guard,
                format!("guard table name {name:?}"),
                "1 to 64 ASCII letters, digits, '_' or '-'",
            ));
        }
        let Some(inner) = Arc::get_mut(&mut self.inner) else {
            return Err(Error::invalid(
                crate::InputKind::Guard,
                format!("guard table name {name:?}"),
                "the connection was cloned already: name the table first",
            ));
        };
        inner.guard_table = Arc::from(name);
        Ok(self)
    }

    /// The nf_tables table of this connection's guest guards.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), bridgekit::Error> {
    /// assert_eq!(bridgekit::Netlink::connect()?.guard_table(), "bridgekit");
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn guard_table(&self) -> &str {
        &self.inner.guard_table
    }

    /// The guest guards' table: the connection's table in the netdev
    /// family.
    pub(crate) fn guard_nft(&self) -> (NftFamily, &str) {
        (NftFamily::Netdev, &self.inner.guard_table)
    }

    /// The forward modes' table: the connection's table in the inet
    /// family (the same name as the guards').
    pub(crate) fn forward_nft(&self) -> (NftFamily, &str) {
        (NftFamily::Inet, &self.inner.guard_table)
    }

    /// Whether guards may exist in this connection's table (see
    /// `Inner::guards_seen`).
    pub(crate) fn guards_seen(&self) -> bool {
        self.inner.guards_seen.load(Ordering::Relaxed)
    }

    pub(crate) fn note_guards(&self) {
        self.inner.guards_seen.store(true, Ordering::Relaxed);
    }

    /// Whether bandwidth limits may exist (see `Inner::limits_seen`).
    pub(crate) fn limits_seen(&self) -> bool {
        self.inner.limits_seen.load(Ordering::Relaxed)
    }

    pub(crate) fn note_limits(&self) {
        self.inner.limits_seen.store(true, Ordering::Relaxed);
    }

    /// Whether the one look for bridgekit's IFBs was done.
    pub(crate) fn limits_looked(&self) -> bool {
        self.inner.limits_looked.load(Ordering::Relaxed)
    }

    /// The look for bridgekit's IFBs is done (set once it succeeded, so a
    /// failed one is tried again).
    pub(crate) fn note_limits_looked(&self) {
        self.inner.limits_looked.store(true, Ordering::Relaxed);
    }

    #[cfg(feature = "test-hooks")]
    pub(crate) fn hooks(&self) -> &crate::test_hooks::Hooks {
        &self.inner.hooks
    }

    /// A port check passed and its change is next (a test's race window).
    pub(crate) fn port_checked(&self) {
        #[cfg(feature = "test-hooks")]
        self.inner.hooks.port_checked();
    }

    /// A port check read the link view.
    pub(crate) fn note_view_read(&self) {
        #[cfg(feature = "test-hooks")]
        {
            self.inner.hooks.count_request();
            self.inner.hooks.view_reads.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// The link view's own dump (on its socket, not through [`call`](Self::call)):
    /// counted and faulted like every other request.
    pub(crate) fn view_dump_step(&self, op: Op, iface: &str) -> Result<()> {
        #[cfg(feature = "test-hooks")]
        self.inner.hooks.count_request();
        self.fault_step(op, iface)
    }

    /// The link view was (re)built from a dump.
    pub(crate) fn note_view_rebuild(&self) {
        #[cfg(feature = "test-hooks")]
        self.inner.hooks.note_view_rebuild();
    }

    pub(crate) fn note_overrun(&self) {
        #[cfg(feature = "test-hooks")]
        self.inner.hooks.note_overrun();
    }

    /// Whether a change of these port options needs reading back: the
    /// kernel parses IFLA_INFO_SLAVE_DATA leniently and drops attributes
    /// newer than itself with an Ok. A kernel that knows every option in
    /// the change applies each or answers with an error.
    pub(crate) fn port_options_need_read_back(&self, options: &PortOptions) -> bool {
        #[cfg(feature = "test-hooks")]
        if self.inner.hooks.force_read_back() {
            return true;
        }
        !options.known_by(self.inner.kernel)
    }

    /// Waits until every multi-step operation started through this
    /// connection has run to its end — including those whose future was
    /// dropped (they go on, on a task of their own, to completion or to
    /// their rollback). Use it after a timeout or a cancelled `select!`,
    /// before reading the state back with [`Bridge::open`](crate::Bridge::open)
    /// or [`Bridge::status`](crate::Bridge::status).
    ///
    /// ```no_run
    /// # async fn f(nl: bridgekit::Netlink, br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// use std::time::Duration;
    /// let attach = br.attach_port("vnet0", bridgekit::PortConfig::new().up());
    /// if tokio::time::timeout(Duration::from_millis(50), attach).await.is_err() {
    ///     nl.finish_pending().await;      // the attach is now whole, or undone
    ///     println!("{:?}", br.ports().await?);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn finish_pending(&self) {
        loop {
            let idle = self.inner.idle.notified();
            if self.inner.pending.load(Ordering::SeqCst) == 0 {
                return;
            }
            idle.await;
        }
    }

    /// Counts one detached operation as pending until the guard drops.
    pub(crate) fn pending_guard(&self) -> PendingGuard {
        self.inner.pending.fetch_add(1, Ordering::SeqCst);
        PendingGuard(self.clone())
    }

    /// Serialises port membership changes made through this connection.
    pub(crate) async fn membership(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.inner.membership.lock().await
    }

    pub(crate) fn netns(&self) -> &OwnedFd {
        &self.inner.netns
    }

    /// Sends a query (a GET message; a dump if `dump`) and returns the
    /// kernel's answer, every message of it: counted, logged and mapped
    /// like [`request`](Self::request)'s, on the same socket, one request
    /// at a time. Its cancellation is the socket's (see `direct.rs`): a
    /// dump dropped midway is read out by the next request.
    pub(crate) async fn query(
        &self,
        op: Op,
        iface: &str,
        message: RouteNetlinkMessage,
        dump: bool,
    ) -> Result<Vec<RouteNetlinkMessage>> {
        self.query_with(
            op,
            iface,
            message,
            if dump { Query::Dump } else { Query::One },
        )
        .await
    }

    /// [`query`](Self::query) of one object whose GET the kernel answers
    /// only when asked to echo (RTM_GETQDISC: `qdisc_get_notify` sends its
    /// answer as a notification, to the asker only with NLM_F_ECHO).
    pub(crate) async fn query_echo(
        &self,
        op: Op,
        iface: &str,
        message: RouteNetlinkMessage,
    ) -> Result<Vec<RouteNetlinkMessage>> {
        self.query_with(op, iface, message, Query::Echo).await
    }

    async fn query_with(
        &self,
        op: Op,
        iface: &str,
        message: RouteNetlinkMessage,
        kind: Query,
    ) -> Result<Vec<RouteNetlinkMessage>> {
        let dump = kind == Query::Dump;
        #[cfg(feature = "test-hooks")]
        self.inner.hooks.count_request();
        self.fault_step(op, iface)?;
        debug!(%op, iface, dump, "netlink query");
        let mut socket = self.inner.direct.lock().await;
        #[cfg(feature = "test-hooks")]
        let after_send = self.inner.hooks.after_send();
        #[cfg(not(feature = "test-hooks"))]
        let after_send = std::future::ready(());
        match socket.query(message, kind, after_send).await {
            Ok(direct::Answer::Messages(messages)) => Ok(messages),
            Ok(direct::Answer::Refused(errno, message)) => {
                let err = Error::from_kernel(op, iface, errno, message);
                debug!(%op, iface, error = %err, "kernel refused");
                Err(err)
            }
            Err(e) => Err(Error::io(op, iface, e)),
        }
    }

    /// A link dump ([`query`](Self::query) of `msg` as RTM_GETLINK): the
    /// RTM_NEWLINK messages of its answer.
    pub(crate) async fn dump_links(
        &self,
        op: Op,
        iface: &str,
        msg: netlink_packet_route::link::LinkMessage,
    ) -> Result<Vec<netlink_packet_route::link::LinkMessage>> {
        self.dump(op, iface, RouteNetlinkMessage::GetLink(msg), |m| match m {
            RouteNetlinkMessage::NewLink(m) => Some(m),
            _ => None,
        })
        .await
    }

    /// A neighbour dump (RTM_GETNEIGH): the RTM_NEWNEIGH messages of its
    /// answer.
    pub(crate) async fn dump_neighbours(
        &self,
        op: Op,
        iface: &str,
        msg: netlink_packet_route::neighbour::NeighbourMessage,
    ) -> Result<Vec<netlink_packet_route::neighbour::NeighbourMessage>> {
        self.dump(
            op,
            iface,
            RouteNetlinkMessage::GetNeighbour(msg),
            |m| match m {
                RouteNetlinkMessage::NewNeighbour(m) => Some(m),
                _ => None,
            },
        )
        .await
    }

    /// A dump of `request`: the messages of its answer that `pick` takes.
    async fn dump<T>(
        &self,
        op: Op,
        iface: &str,
        request: RouteNetlinkMessage,
        pick: fn(RouteNetlinkMessage) -> Option<T>,
    ) -> Result<Vec<T>> {
        let answer = self.query(op, iface, request, true).await?;
        Ok(answer.into_iter().filter_map(pick).collect())
    }

    /// A kernel-facing step (a netlink request, or a sysctl write): where
    /// the test suite injects faults. Nothing without the `test-hooks` feature.
    #[cfg_attr(not(feature = "test-hooks"), allow(unused_variables))]
    pub(crate) fn fault_step(&self, op: Op, iface: &str) -> Result<()> {
        #[cfg(feature = "test-hooks")]
        self.inner.hooks.step(op, iface)?;
        Ok(())
    }

    /// [`fault_step`](Self::fault_step) for a caller whose interface label
    /// costs a `format!`: `iface` is called only if the step fails.
    #[cfg_attr(not(feature = "test-hooks"), allow(unused_variables))]
    pub(crate) fn fault_step_with<'a>(
        &self,
        op: Op,
        iface: impl FnOnce() -> std::borrow::Cow<'a, str>,
    ) -> Result<()> {
        #[cfg(feature = "test-hooks")]
        if let Some(errno) = self.inner.hooks.step_errno() {
            let iface = iface();
            tracing::debug!(%op, iface = %iface, errno, "injected fault");
            return Err(Error::from_errno(op, &iface, errno));
        }
        Ok(())
    }

    /// Runs blocking file work (sysctls, sysfs) inside this connection's
    /// network namespace, on its namespace thread.
    pub(crate) async fn in_netns<T: Send + 'static>(
        &self,
        f: impl FnOnce(&netns::WorkerEnv) -> std::io::Result<T> + Send + 'static,
    ) -> std::io::Result<T> {
        self.inner.worker.run(&self.inner.netns, f).await
    }

    /// Sends one change request with `flags` and returns once the kernel
    /// acknowledged it: counted, logged and mapped like
    /// [`call`](Self::call)'s.
    ///
    /// Every change request goes this one way: on this connection's own
    /// request socket, one at a time (the kernel runs one link change at a
    /// time anyway; waiting for the socket is an async lock, fair, that
    /// parks the task), its acknowledgement read in the same call (see
    /// `direct.rs`, which also says what a dropped caller leaves).
    pub(crate) async fn request(
        &self,
        op: Op,
        iface: &str,
        message: RouteNetlinkMessage,
        flags: u16,
    ) -> Result<()> {
        #[cfg(feature = "test-hooks")]
        self.inner.hooks.count_request();
        self.fault_step(op, iface)?;
        debug!(%op, iface, "netlink request");
        let mut socket = self.inner.direct.lock().await;
        #[cfg(feature = "test-hooks")]
        let after_send = self.inner.hooks.after_send();
        #[cfg(not(feature = "test-hooks"))]
        let after_send = std::future::ready(());
        match socket.request(message, flags, after_send).await {
            Ok(direct::Ack::Ok) => {
                debug!(%op, iface, "kernel acknowledged");
                Ok(())
            }
            Ok(direct::Ack::Refused(errno, message)) => {
                let err = Error::from_kernel(op, iface, errno, message);
                debug!(%op, iface, error = %err, "kernel refused");
                Err(err)
            }
            Err(e) => Err(Error::io(op, iface, e)),
        }
    }
}

/// Marks one operation pending on a connection while it lives.
pub(crate) struct PendingGuard(Netlink);

impl Drop for PendingGuard {
    fn drop(&mut self) {
        if self.0.inner.pending.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.inner.idle.notify_waiters();
        }
    }
}

/// The NLMSGERR_ATTR_MSG string of an NLMSG_ERROR payload (after the
/// errno): the request's copy, then extended-ack attributes.
///
/// Hand-parsed because netlink-packet-core 0.9 keeps this payload as raw
/// bytes (its parser says so in a FIXME). The copy is the whole request
/// (rtnetlink does not set NETLINK_CAP_ACK), or only its 16-byte header
/// when the kernel capped it; the attributes start after it, 4-aligned.
fn ext_ack_message(payload: &[u8]) -> Option<String> {
    const NLMSGHDR_LEN: usize = 16;
    const NLMSGERR_ATTR_MSG: u16 = 1;
    let align = |n: usize| (n + 3) & !3;
    let request_len = u32::from_ne_bytes(payload.get(..4)?.try_into().ok()?) as usize;
    let mut at = if payload.len() >= align(request_len) + 4 {
        align(request_len)
    } else {
        NLMSGHDR_LEN
    };
    while let Some(head) = payload.get(at..at + 4) {
        let len = u16::from_ne_bytes([head[0], head[1]]) as usize;
        let kind = u16::from_ne_bytes([head[2], head[3]]) & 0x3fff;
        if len < 4 {
            return None;
        }
        let value = payload.get(at + 4..at + len)?;
        if kind == NLMSGERR_ATTR_MSG {
            let text = value.split(|b| *b == 0).next().unwrap_or_default();
            let text = String::from_utf8_lossy(text)
                .trim()
                .trim_end_matches('.')
                .to_string();
            return (!text.is_empty()).then_some(text);
        }
        at += align(len);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::ext_ack_message;

    /// A request header (len 20: 16 + 4 bytes of body), its body, then
    /// NLMSGERR_ATTR_MSG "Vlan id is invalid.".
    #[test]
    fn the_kernels_message_is_found_after_the_request_copy() {
        let mut p = Vec::new();
        p.extend_from_slice(&20u32.to_ne_bytes());
        p.extend_from_slice(&[0; 12]);
        p.extend_from_slice(&[7; 4]);
        let msg = b"Vlan id is invalid.\0";
        p.extend_from_slice(&((4 + msg.len()) as u16).to_ne_bytes());
        p.extend_from_slice(&1u16.to_ne_bytes());
        p.extend_from_slice(msg);
        assert_eq!(ext_ack_message(&p).as_deref(), Some("Vlan id is invalid"));
        // Capped: only the header was copied back.
        let mut capped = p[..16].to_vec();
        capped[..4].copy_from_slice(&200u32.to_ne_bytes());
        capped.extend_from_slice(&p[20..]);
        assert_eq!(
            ext_ack_message(&capped).as_deref(),
            Some("Vlan id is invalid")
        );
        // No attributes, or garbage: nothing, and no panic.
        assert_eq!(ext_ack_message(&p[..20]), None);
        assert_eq!(ext_ack_message(&[1, 2]), None);
        assert_eq!(ext_ack_message(&[255; 40]), None);
    }
}

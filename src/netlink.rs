//! The netlink connection and every message bridgekit sends or parses.
//!
//! Other modules call the crate-private functions here with typed values;
//! only this module touches rtnetlink and netlink-packet-route types.

use futures::TryStreamExt;
use futures::channel::mpsc::UnboundedReceiver;
use ipnet::IpNet;
use macaddr::MacAddr6;
use netlink_packet_route::AddressFamily;
use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressMessage};
use netlink_packet_route::link::{
    AfSpecBridge, AfSpecInet6, AfSpecUnspec, BridgePortState, BridgeVlanInfoFlags, In6AddrGenMode,
    InfoBridge, InfoBridgePort, InfoData, InfoKind, InfoPortData, LinkAttribute, LinkExtentMask,
    LinkFlags, LinkInfo, LinkMessage, State,
};
use netlink_packet_route::neighbour::{
    NeighbourAttribute, NeighbourFlags, NeighbourMessage, NeighbourState,
};
use rtnetlink::packet_core::NetlinkMessage;
use rtnetlink::packet_route::RouteNetlinkMessage;
use rtnetlink::sys::{Socket, SocketAddr, TokioSocket, protocols::NETLINK_ROUTE};
use rtnetlink::{
    Handle, LinkBridge, LinkBridgePort, LinkBridgeVlan, LinkMessageBuilder, LinkUnspec,
};
use std::future::Future;
use std::net::IpAddr;
use std::os::fd::{FromRawFd, IntoRawFd, OwnedFd};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tracing::debug;

use crate::bridge_options::{BridgeOption, MulticastRouter, OptionKind};
use crate::error::{Error, Op, Result};
use crate::netns;
use crate::vlan::{self, VlanId, VlanMember, VlanProtocol};

/// A netlink connection to one network namespace: the context every
/// bridgekit call takes.
///
/// Cheap to clone (an `Arc`); all clones share one rtnetlink socket, whose
/// reader task runs on the tokio runtime that was current at
/// [`connect`](Netlink::connect) time and ends when the last clone is dropped.
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
    handle: Handle,
    netns: OwnedFd,
    /// The thread in this namespace for sysctl and sysfs work.
    worker: netns::Worker,
    /// Fault injection and counters for the test suite.
    #[cfg(feature = "test-hooks")]
    hooks: crate::test_hooks::Hooks,
    /// Whether the running kernel knows every bridge port option bridgekit
    /// sends, so its acknowledgement of a port-option change is truthful.
    port_options_known: bool,
    /// Held while a port's master is looked up and changed, so two tasks
    /// of this process cannot both see a port free and both take it (the
    /// kernel has no compare-and-set for IFLA_MASTER: the second would
    /// silently move it).
    membership: tokio::sync::Mutex<()>,
    /// Held for the length of a dump: the kernel runs one dump at a time
    /// per socket and answers EBUSY to a second one started meanwhile.
    dumps: tokio::sync::Mutex<()>,
    /// Multi-step operations running on their own task (see `complete.rs`).
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

fn require_runtime() -> Result<()> {
    tokio::runtime::Handle::try_current()
        .map(|_| ())
        .map_err(|_| {
            Error::io(
                Op::Connect,
                "netlink",
                std::io::Error::other(
                    "bridgekit needs a running tokio runtime (call connect from async code)",
                ),
            )
        })
}

/// A route-netlink socket with strict checking on, so the kernel filters
/// dumps by ifindex/master itself and rejects attributes it does not know.
fn route_socket() -> std::io::Result<Socket> {
    let mut socket = Socket::new(NETLINK_ROUTE)?;
    socket.bind_auto()?;
    socket.set_netlink_get_strict_chk(true)?;
    socket.set_ext_ack(true)?;
    Ok(socket)
}

fn into_tokio(socket: Socket) -> TokioSocket {
    // SAFETY: the fd comes from a socket we own and give up here; a runtime
    // is current (checked by the callers), which TokioSocket needs.
    unsafe { TokioSocket::from_raw_fd(socket.into_raw_fd()) }
}

impl Netlink {
    /// Connects to the network namespace of the calling thread.
    ///
    /// Must be called inside a tokio runtime; the connection's reader task is
    /// spawned on it. Mirrors what `ip` does on start.
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
        fields(op = "connect", iface = "netlink"),
        err(Display)
    )]
    pub fn connect() -> Result<Self> {
        require_runtime()?;
        let ns = netns::current().map_err(|e| Error::io(Op::Connect, "netlink", e))?;
        let socket = route_socket().map_err(|e| Error::io(Op::Connect, "netlink", e))?;
        Ok(Self::from_parts(socket, ns))
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
        fields(op = "connect", iface = %path.as_ref().display()),
        err(Display)
    )]
    pub fn connect_in_netns(path: impl AsRef<Path>) -> Result<Self> {
        require_runtime()?;
        let path = path.as_ref();
        let where_ = path.display().to_string();
        let ns = netns::open(path).map_err(|e| Error::io(Op::Connect, &where_, e))?;
        let socket =
            netns::run_in(&ns, route_socket).map_err(|e| Error::io(Op::Connect, &where_, e))?;
        Ok(Self::from_parts(socket, ns))
    }

    fn from_parts(socket: Socket, netns: OwnedFd) -> Self {
        let (conn, handle, _) = rtnetlink::from_socket(into_tokio(socket));
        tokio::spawn(conn);
        Netlink {
            inner: Arc::new(Inner {
                handle,
                worker: netns::Worker::default(),
                netns,
                #[cfg(feature = "test-hooks")]
                hooks: Default::default(),
                port_options_known: crate::kernel::ALL_PORT_OPTIONS_KNOWN.is_running(),
                membership: tokio::sync::Mutex::new(()),
                dumps: tokio::sync::Mutex::new(()),
                pending: AtomicUsize::new(0),
                idle: tokio::sync::Notify::new(),
            }),
        }
    }

    #[cfg(feature = "test-hooks")]
    pub(crate) fn hooks(&self) -> &crate::test_hooks::Hooks {
        &self.inner.hooks
    }

    pub(crate) fn note_overrun(&self) {
        #[cfg(feature = "test-hooks")]
        self.inner.hooks.note_overrun();
    }

    /// Whether a port-option change needs reading back: the kernel parses
    /// IFLA_INFO_SLAVE_DATA leniently and drops attributes newer than
    /// itself with an Ok. Every option bridgekit sends (the newest,
    /// `isolated`, came in 4.18) is known to 4.18 and later, which apply it
    /// or answer with an error.
    pub(crate) fn port_options_need_read_back(&self) -> bool {
        #[cfg(feature = "test-hooks")]
        if self.inner.hooks.force_read_back() {
            return true;
        }
        !self.inner.port_options_known
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

    /// [`call`](Self::call) for a dump request: one at a time per socket.
    /// The dump runs on a task of its own, which holds the turn until the
    /// kernel has sent it all: a caller that stops waiting (a timeout)
    /// must not let the next dump start while this one is still running,
    /// which the kernel would refuse with EBUSY.
    async fn dump<T, F, Fut>(&self, op: Op, iface: &str, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(Handle) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, rtnetlink::Error>> + Send + 'static,
    {
        let (this, label) = (self.clone(), iface.to_string());
        let task = tokio::spawn(async move {
            let _one_dump = this.inner.dumps.lock().await;
            this.call(op, &label, f).await
        });
        match task.await {
            Ok(result) => result,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => Err(Error::io(op, iface, std::io::Error::other(e.to_string()))),
        }
    }

    /// A kernel-facing step (a netlink request, or a sysctl write): where
    /// the test suite injects faults. Nothing without the `test-hooks` feature.
    #[cfg_attr(not(feature = "test-hooks"), allow(unused_variables))]
    pub(crate) fn fault_step(&self, op: Op, iface: &str) -> Result<()> {
        #[cfg(feature = "test-hooks")]
        self.inner.hooks.step(op, iface)?;
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

    /// Counts, logs and maps the errors of one kernel request.
    async fn call<T, Fut>(&self, op: Op, iface: &str, f: impl FnOnce(Handle) -> Fut) -> Result<T>
    where
        Fut: Future<Output = Result<T, rtnetlink::Error>>,
    {
        #[cfg(feature = "test-hooks")]
        self.inner.hooks.count_request();
        self.fault_step(op, iface)?;
        debug!(%op, iface, "netlink request");
        match f(self.inner.handle.clone()).await {
            Ok(v) => {
                debug!(%op, iface, "kernel acknowledged");
                Ok(v)
            }
            Err(e) => {
                let err = Error::from_rtnetlink(op, iface, e);
                debug!(%op, iface, error = %err, "kernel refused");
                Err(err)
            }
        }
    }

    // ----- links -------------------------------------------------------

    /// RTM_GETLINK by index or name; ENODEV becomes [`Error::NotFound`].
    pub(crate) async fn link(
        &self,
        op: Op,
        iface: &str,
        target: LinkRef<'_>,
    ) -> Result<LinkSnapshot> {
        let msg = self
            .call(op, iface, |h| async move {
                let mut req = h.link().get();
                skip_stats(req.message_mut());
                let req = match target {
                    LinkRef::Index(i) => req.match_index(i),
                    LinkRef::Name(n) => req.match_name(n),
                };
                req.execute().try_next().await
            })
            .await?;
        match msg {
            Some(m) => Ok(LinkSnapshot::parse(&m)),
            None => Err(Error::NotFound {
                op,
                iface: iface.to_string(),
            }),
        }
    }

    /// RTM_GETLINK dump of the links whose master is `master` (filtered by the kernel).
    pub(crate) async fn links_with_master(
        &self,
        op: Op,
        iface: &str,
        master: u32,
    ) -> Result<Vec<LinkSnapshot>> {
        self.dump(op, iface, move |h| async move {
            let mut req = h.link().get();
            skip_stats(req.message_mut());
            req.message_mut()
                .attributes
                .push(LinkAttribute::Controller(master));
            req.execute()
                .try_filter_map(|m| async move {
                    let s = LinkSnapshot::parse(&m);
                    Ok((s.master == Some(master)).then_some(s))
                })
                .try_collect()
                .await
        })
        .await
    }

    /// RTM_NEWLINK with NLM_F_CREATE|NLM_F_EXCL: a new bridge, down, with
    /// every attribute of `link` and `bridge` in the one message.
    pub(crate) async fn create_bridge(
        &self,
        name: &str,
        link: &LinkChange,
        bridge: &BridgeOptions,
    ) -> Result<()> {
        let builder = LinkMessageBuilder::<LinkBridge>::new(name);
        let builder = bridge.apply(builder);
        let msg = link.apply(builder).build();
        self.call(Op::CreateBridge, name, |h| h.link().add(msg).execute())
            .await
    }

    /// RTM_SETLINK for generic attributes (MTU, MAC, flags, IPv6 af_spec),
    /// which the kernel applies through `do_setlink`.
    pub(crate) async fn set_link(
        &self,
        op: Op,
        iface: &str,
        index: u32,
        change: &LinkChange,
    ) -> Result<()> {
        let msg = change.apply(LinkUnspec::new_with_index(index)).build();
        self.call(op, iface, |h| h.link().set(msg).execute()).await
    }

    /// RTM_NEWLINK on an existing bridge with IFLA_LINKINFO: the only way the
    /// kernel applies bridge options (RTM_SETLINK ignores them and says Ok).
    pub(crate) async fn change_bridge(
        &self,
        op: Op,
        iface: &str,
        index: u32,
        bridge: &BridgeOptions,
    ) -> Result<()> {
        let builder =
            LinkMessageBuilder::<LinkBridge>::new_with_info_kind(InfoKind::Bridge).index(index);
        let msg = bridge.apply(builder).build();
        self.call(op, iface, |h| h.link().change(msg).execute())
            .await
    }

    /// RTM_DELLINK by index.
    pub(crate) async fn delete_link(&self, op: Op, iface: &str, index: u32) -> Result<()> {
        self.call(op, iface, |h| h.link().del(index).execute())
            .await
    }

    /// RTM_NEWLINK with IFLA_LINKINFO/IFLA_INFO_SLAVE_DATA: the message the
    /// kernel applies port options from (RTM_SETLINK ignores them).
    pub(crate) async fn set_port_options(
        &self,
        op: Op,
        iface: &str,
        index: u32,
        options: &PortOptions,
    ) -> Result<()> {
        let msg = options.apply(LinkBridgePort::new(index)).build();
        self.call(op, iface, |h| h.link().set_port(msg).execute())
            .await
    }

    /// RTM_DELLINK by name.
    pub(crate) async fn delete_link_by_name(&self, op: Op, name: &str) -> Result<()> {
        let msg = LinkUnspec::new_with_name(name).build();
        self.call(op, name, |h| h.link().del_with_message(msg).execute())
            .await
    }

    // ----- addresses ---------------------------------------------------

    /// RTM_NEWADDR (with IFA_F_NODAD when asked); IPv4 gets its broadcast.
    pub(crate) async fn add_address(
        &self,
        iface: &str,
        index: u32,
        net: IpNet,
        nodad: bool,
    ) -> Result<()> {
        self.call(Op::AddAddress, iface, |h| {
            let mut req = h.address().add(index, net.addr(), net.prefix_len());
            if nodad {
                req.message_mut()
                    .attributes
                    .push(AddressAttribute::Flags(AddressFlags::Nodad));
            }
            req.execute()
        })
        .await
    }

    /// RTM_DELADDR of one address.
    pub(crate) async fn remove_address(&self, iface: &str, index: u32, net: IpNet) -> Result<()> {
        let mut msg = AddressMessage::default();
        msg.header.index = index;
        msg.header.prefix_len = net.prefix_len();
        msg.header.family = match net {
            IpNet::V4(_) => netlink_packet_route::AddressFamily::Inet,
            IpNet::V6(_) => netlink_packet_route::AddressFamily::Inet6,
        };
        msg.attributes.push(AddressAttribute::Local(net.addr()));
        if net.addr().is_ipv6() {
            msg.attributes.push(AddressAttribute::Address(net.addr()));
        }
        self.call(Op::RemoveAddress, iface, |h| h.address().del(msg).execute())
            .await
    }

    /// RTM_GETADDR dump of one link's addresses (filtered by the kernel:
    /// strict checking honours the ifindex in the request header).
    pub(crate) async fn addresses(
        &self,
        op: Op,
        iface: &str,
        index: u32,
    ) -> Result<Vec<AddrSnapshot>> {
        self.dump(op, iface, move |h| async move {
            let mut req = h.address().get().set_link_index_filter(index);
            req.message_mut().header.index = index;
            req.execute()
                .try_filter_map(|m| async move { Ok(AddrSnapshot::parse(&m)) })
                .try_collect()
                .await
        })
        .await
    }

    // ----- VLANs -------------------------------------------------------

    /// RTM_SETLINK (`add`) or RTM_DELLINK with family AF_BRIDGE and one
    /// IFLA_BRIDGE_VLAN_INFO per single VLAN, a RANGE_BEGIN/RANGE_END pair
    /// per range: one message for all of `members`, however many ids they
    /// span. `bridge_self` adds IFLA_BRIDGE_FLAGS=SELF (the bridge's own
    /// membership); otherwise the port's master applies it.
    pub(crate) async fn set_vlans(
        &self,
        op: Op,
        iface: &str,
        index: u32,
        bridge_self: bool,
        members: &[VlanMember],
        add: bool,
    ) -> Result<()> {
        let mut b = LinkBridgeVlan::new(index);
        if bridge_self {
            b = b.bridge_self();
        }
        for m in members {
            let mut flags = BridgeVlanInfoFlags::empty();
            if m.pvid {
                flags |= BridgeVlanInfoFlags::Pvid;
            }
            if m.untagged {
                flags |= BridgeVlanInfoFlags::Untagged;
            }
            let (start, end) = (m.range.start().get(), m.range.end().get());
            b = if start == end {
                b.vlan(start, flags)
            } else {
                b.vlan_range_start(start, flags).vlan_range_end(end, flags)
            };
        }
        let msg = b.build();
        if add {
            self.call(op, iface, |h| h.link().set(msg).execute()).await
        } else {
            self.call(op, iface, |h| h.link().del_with_message(msg).execute())
                .await
        }
    }

    /// RTM_GETLINK dump with family AF_BRIDGE and
    /// RTEXT_FILTER_BRVLAN_COMPRESSED: the VLANs of every bridge port and
    /// bridge, as `bridge vlan show` reads them. The kernel offers no
    /// ifindex filter for this dump (strict checking refuses one); it walks
    /// bridge devices and ports only.
    pub(crate) async fn vlan_dump(&self, op: Op, iface: &str) -> Result<Vec<VlanSnapshot>> {
        self.dump(op, iface, move |h| async move {
            h.link()
                .get()
                .set_filter_mask(
                    AddressFamily::Bridge,
                    vec![LinkExtentMask::BrvlanCompressed],
                )
                .execute()
                .try_filter_map(|m| async move { Ok(Some(VlanSnapshot::parse(&m))) })
                .try_collect()
                .await
        })
        .await
    }

    // ----- forwarding database ------------------------------------------

    /// RTM_NEWNEIGH, family AF_BRIDGE, NTF_MASTER, NUD_NOARP (`bridge fdb
    /// replace MAC dev PORT master static [vlan VID]`). NLM_F_REPLACE: an
    /// entry for the MAC elsewhere (learned on another port) moves here.
    pub(crate) async fn fdb_add(
        &self,
        op: Op,
        iface: &str,
        port: u32,
        mac: MacAddr6,
        vlan: Option<VlanId>,
    ) -> Result<()> {
        self.call(op, iface, |h| {
            let mut req = h
                .neighbours()
                .add_bridge(port, mac.as_bytes())
                .state(NeighbourState::Noarp)
                .flags(NeighbourFlags::Controller)
                .replace();
            if let Some(v) = vlan {
                req.message_mut()
                    .attributes
                    .push(NeighbourAttribute::Vlan(v.get()));
            }
            req.execute()
        })
        .await
    }

    /// RTM_DELNEIGH of one master FDB entry; ENOENT becomes [`Error::NotFound`].
    pub(crate) async fn fdb_del(
        &self,
        op: Op,
        iface: &str,
        port: u32,
        mac: MacAddr6,
        vlan: Option<VlanId>,
    ) -> Result<()> {
        let mut msg = NeighbourMessage::default();
        msg.header.family = AddressFamily::Bridge;
        msg.header.ifindex = port;
        msg.header.flags = NeighbourFlags::Controller;
        msg.attributes.push(NeighbourAttribute::LinkLayerAddress(
            mac.as_bytes().to_vec(),
        ));
        if let Some(v) = vlan {
            msg.attributes.push(NeighbourAttribute::Vlan(v.get()));
        }
        self.call(op, iface, |h| h.neighbours().del(msg).execute())
            .await
    }

    /// RTM_GETNEIGH dump, family AF_BRIDGE, filtered by the kernel to the
    /// bridge `master` (NDA_MASTER) and, given one, to one `port`
    /// (ndm_ifindex); entries from other sources (a port's own address
    /// lists, another bridge) are dropped here.
    pub(crate) async fn fdb_dump(
        &self,
        op: Op,
        iface: &str,
        master: u32,
        port: Option<u32>,
    ) -> Result<Vec<FdbSnapshot>> {
        self.dump(op, iface, move |h| async move {
            let mut req = h
                .neighbours()
                .get()
                .set_address_family(AddressFamily::Bridge);
            req.message_mut().header.ifindex = port.unwrap_or(0);
            req.message_mut()
                .attributes
                .push(NeighbourAttribute::Controller(master));
            req.execute()
                .try_filter_map(|m| async move {
                    Ok(FdbSnapshot::parse(&m).filter(|e| e.master == master))
                })
                .try_collect()
                .await
        })
        .await
    }

    // ----- notifications -----------------------------------------------

    /// A multicast subscription in this connection's namespace.
    pub(crate) fn subscribe(&self, op: Op, iface: &str, groups: &[u32]) -> Result<Subscription> {
        #[cfg(feature = "test-hooks")]
        let rcvbuf = Some(self.inner.hooks.event_rcvbuf()).filter(|&n| n > 0);
        #[cfg(not(feature = "test-hooks"))]
        let rcvbuf: Option<usize> = None;
        let mask = groups.iter().fold(0u32, |m, g| m | (1 << (g - 1)));
        let socket = netns::run_in(self.netns(), || {
            let mut socket = Socket::new(NETLINK_ROUTE)?;
            if let Some(size) = rcvbuf {
                socket.set_rx_buf_sz(size)?;
            }
            socket.bind(&SocketAddr::new(0, mask))?;
            Ok(socket)
        })
        .map_err(|e| Error::io(op, iface, e))?;
        let tokio_socket = into_tokio(socket);
        let (conn, _handle, messages) = rtnetlink::from_socket::<TokioSocket>(tokio_socket);
        let task = tokio::spawn(conn);
        Ok(Subscription { messages, task })
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

/// A multicast netlink socket and the task that reads it; dropping it
/// aborts the task and closes the socket.
pub(crate) struct Subscription {
    pub(crate) messages: UnboundedReceiver<(NetlinkMessage<RouteNetlinkMessage>, SocketAddr)>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One message from a [`Subscription`].
pub(crate) enum Notification {
    NewLink(LinkSnapshot),
    DelLink(LinkSnapshot),
    NewAddress(AddrSnapshot, u32),
    DelAddress(AddrSnapshot, u32),
    /// The kernel dropped notifications (ENOBUFS): state must be re-read.
    Overrun,
    Other,
}

impl Notification {
    pub(crate) fn parse(msg: &NetlinkMessage<RouteNetlinkMessage>) -> Self {
        use rtnetlink::packet_core::NetlinkPayload;
        match &msg.payload {
            NetlinkPayload::Overrun(_) => Notification::Overrun,
            NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(m)) => {
                Notification::NewLink(LinkSnapshot::parse(m))
            }
            NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelLink(m)) => {
                Notification::DelLink(LinkSnapshot::parse(m))
            }
            NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewAddress(m)) => {
                match AddrSnapshot::parse(m) {
                    Some(a) => Notification::NewAddress(a, m.header.index),
                    None => Notification::Other,
                }
            }
            NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelAddress(m)) => {
                match AddrSnapshot::parse(m) {
                    Some(a) => Notification::DelAddress(a, m.header.index),
                    None => Notification::Other,
                }
            }
            _ => Notification::Other,
        }
    }
}

/// Asks the kernel to leave the statistics out of link answers
/// (RTEXT_FILTER_SKIP_STATS): they are most of each message, and unused.
fn skip_stats(msg: &mut LinkMessage) {
    msg.attributes
        .push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
}

/// Which link a request is about.
#[derive(Clone, Copy)]
pub(crate) enum LinkRef<'a> {
    Index(u32),
    Name(&'a str),
}

/// Generic link attributes to change; `None` leaves one as it is.
#[derive(Default, Clone, Debug)]
pub(crate) struct LinkChange {
    pub mtu: Option<u32>,
    pub mac: Option<MacAddr6>,
    pub up: Option<bool>,
    /// IPv6 address generation: `Some(false)` = `addrgenmode none`, `Some(true)` = `eui64`.
    pub ipv6_auto_link_local: Option<bool>,
    /// `Some(0)` = `nomaster`.
    pub master: Option<u32>,
}

impl LinkChange {
    fn apply<T>(&self, mut b: LinkMessageBuilder<T>) -> LinkMessageBuilder<T> {
        if let Some(mtu) = self.mtu {
            b = b.mtu(mtu);
        }
        if let Some(mac) = self.mac {
            b = b.address(mac.as_bytes().to_vec());
        }
        match self.up {
            Some(true) => b = b.up(),
            Some(false) => b = b.down(),
            None => {}
        }
        match self.master {
            Some(0) => b = b.nocontroller(),
            Some(m) => b = b.controller(m),
            None => {}
        }
        if let Some(auto) = self.ipv6_auto_link_local {
            let mode = if auto {
                In6AddrGenMode::Eui64
            } else {
                In6AddrGenMode::None
            };
            b = b.append_extra_attribute(LinkAttribute::AfSpecUnspec(vec![AfSpecUnspec::Inet6(
                vec![AfSpecInet6::AddrGenMode(mode)],
            )]));
        }
        b
    }
}

/// Bridge options to change; `None` leaves one as it is. Timers in clock_t
/// (centiseconds), as the kernel takes them.
#[derive(Default, Clone, Debug)]
pub(crate) struct BridgeOptions {
    pub stp: Option<bool>,
    pub forward_delay_cs: Option<u32>,
    pub ageing_time_cs: Option<u32>,
    pub vlan_filtering: Option<bool>,
    /// 0 = no default PVID.
    pub default_pvid: Option<u16>,
    pub vlan_protocol: Option<VlanProtocol>,
    /// Options set as whole values (STP hello/max age/priority, multicast, ...).
    pub extra: Vec<BridgeOption>,
}

/// Durations travel as clock_t (centiseconds); validated before.
fn centiseconds(d: Duration) -> u32 {
    u32::try_from((d.as_nanos() + 5_000_000) / 10_000_000).unwrap_or(u32::MAX)
}

impl BridgeOptions {
    fn apply(&self, mut b: LinkMessageBuilder<LinkBridge>) -> LinkMessageBuilder<LinkBridge> {
        // The kernel's br_changelink applies forward delay before STP state,
        // whatever the order in the message.
        if let Some(fd) = self.forward_delay_cs {
            b = b.forward_delay(fd);
        }
        if let Some(at) = self.ageing_time_cs {
            b = b.ageing_time(at);
        }
        if let Some(on) = self.vlan_filtering {
            b = b.vlan_filtering(on);
        }
        if let Some(pvid) = self.default_pvid {
            b = b.append_info_data(InfoBridge::VlanDefaultPvid(pvid));
        }
        if let Some(proto) = self.vlan_protocol {
            b = b.append_info_data(InfoBridge::VlanProtocol(match proto {
                VlanProtocol::Dot1Q => netlink_packet_route::link::VlanProtocol::Ieee8021Q,
                VlanProtocol::Dot1Ad => netlink_packet_route::link::VlanProtocol::Ieee8021Ad,
                // Refused before any traffic (set_vlan_protocol).
                VlanProtocol::Other(t) => netlink_packet_route::link::VlanProtocol::from(t),
            }));
        }
        for option in &self.extra {
            b = b.append_info_data(match *option {
                BridgeOption::HelloTime(d) => InfoBridge::HelloTime(centiseconds(d)),
                BridgeOption::MaxAge(d) => InfoBridge::MaxAge(centiseconds(d)),
                BridgeOption::Priority(p) => InfoBridge::Priority(p),
                BridgeOption::GroupFwdMask(m) => InfoBridge::GroupFwdMask(m),
                BridgeOption::GroupAddress(mac) => InfoBridge::GroupAddr(mac.into_array()),
                BridgeOption::MulticastSnooping(on) => InfoBridge::MulticastSnooping(on),
                BridgeOption::MulticastQuerier(on) => InfoBridge::MulticastQuerier(on),
                BridgeOption::IgmpVersion(v) => InfoBridge::MulticastIgmpVersion(v),
                BridgeOption::MldVersion(v) => InfoBridge::MulticastMldVersion(v),
                BridgeOption::VlanStats(on) => InfoBridge::VlanStatsEnabled(on),
                BridgeOption::MulticastRouter(r) => InfoBridge::MulticastRouter(
                    netlink_packet_route::link::BridgeMulticastRouterType::from(r.to_kernel()),
                ),
            });
        }
        if let Some(stp) = self.stp {
            b = b.stp_state(if stp {
                netlink_packet_route::link::BridgeStpState::KernelStp
            } else {
                netlink_packet_route::link::BridgeStpState::Disabled
            });
        }
        b
    }
}

/// Bridge port options (`IFLA_BRPORT_*`); `None` leaves one as it is.
#[derive(Default, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PortOptions {
    pub learning: Option<bool>,
    pub unicast_flood: Option<bool>,
    pub multicast_flood: Option<bool>,
    pub broadcast_flood: Option<bool>,
    pub hairpin: Option<bool>,
    pub isolated: Option<bool>,
    pub neigh_suppress: Option<bool>,
    pub cost: Option<u32>,
    pub priority: Option<u16>,
}

impl PortOptions {
    pub(crate) fn is_empty(&self) -> bool {
        *self == PortOptions::default()
    }

    fn apply(
        &self,
        mut b: LinkMessageBuilder<LinkBridgePort>,
    ) -> LinkMessageBuilder<LinkBridgePort> {
        let flags = [
            (
                self.learning,
                InfoBridgePort::Learning as fn(bool) -> InfoBridgePort,
            ),
            (self.unicast_flood, InfoBridgePort::UnicastFlood),
            (self.multicast_flood, InfoBridgePort::MulticastFlood),
            (self.broadcast_flood, InfoBridgePort::BroadcastFlood),
            (self.hairpin, InfoBridgePort::HairpinMode),
            (self.isolated, InfoBridgePort::Isolated),
            (self.neigh_suppress, InfoBridgePort::NeighSupress),
        ];
        for (value, attr) in flags {
            if let Some(v) = value {
                b = b.append_info_data(attr(v));
            }
        }
        if let Some(c) = self.cost {
            b = b.cost(c);
        }
        if let Some(p) = self.priority {
            b = b.priority(p);
        }
        b
    }

    /// For each option set here, its value in `old`: what to send to undo `self`.
    pub(crate) fn previous(&self, old: &PortOptions) -> PortOptions {
        fn pick<T: Copy>(set: Option<T>, old: Option<T>) -> Option<T> {
            set.and(old)
        }
        PortOptions {
            learning: pick(self.learning, old.learning),
            unicast_flood: pick(self.unicast_flood, old.unicast_flood),
            multicast_flood: pick(self.multicast_flood, old.multicast_flood),
            broadcast_flood: pick(self.broadcast_flood, old.broadcast_flood),
            hairpin: pick(self.hairpin, old.hairpin),
            isolated: pick(self.isolated, old.isolated),
            neigh_suppress: pick(self.neigh_suppress, old.neigh_suppress),
            cost: pick(self.cost, old.cost),
            priority: pick(self.priority, old.priority),
        }
    }

    /// Every option that is set here, compared with what the kernel reports.
    pub(crate) fn mismatches(&self, read: &PortOptions) -> Vec<(&'static str, String, String)> {
        fn cmp<T: PartialEq + std::fmt::Debug>(
            out: &mut Vec<(&'static str, String, String)>,
            what: &'static str,
            want: Option<T>,
            got: Option<T>,
        ) {
            if let Some(w) = want {
                if got.as_ref() != Some(&w) {
                    out.push((
                        what,
                        format!("{w:?}"),
                        got.map_or_else(|| "nothing".into(), |g| format!("{g:?}")),
                    ));
                }
            }
        }
        let mut out = Vec::new();
        cmp(&mut out, "learning", self.learning, read.learning);
        cmp(
            &mut out,
            "unicast flood",
            self.unicast_flood,
            read.unicast_flood,
        );
        cmp(
            &mut out,
            "multicast flood",
            self.multicast_flood,
            read.multicast_flood,
        );
        cmp(
            &mut out,
            "broadcast flood",
            self.broadcast_flood,
            read.broadcast_flood,
        );
        cmp(&mut out, "hairpin", self.hairpin, read.hairpin);
        cmp(&mut out, "isolated", self.isolated, read.isolated);
        cmp(
            &mut out,
            "neighbour suppression",
            self.neigh_suppress,
            read.neigh_suppress,
        );
        cmp(&mut out, "cost", self.cost, read.cost);
        cmp(&mut out, "priority", self.priority, read.priority);
        out
    }
}

/// Operational state as the kernel reports it (RFC 2863, `IFLA_OPERSTATE`).
///
/// ```
/// use bridgekit::OperState;
/// assert_eq!(OperState::Up.to_string(), "UP");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OperState {
    /// The kernel cannot tell (common for an empty, up bridge).
    Unknown,
    /// A component is missing.
    NotPresent,
    /// Down.
    Down,
    /// Down because a lower layer is down.
    LowerLayerDown,
    /// In a test mode.
    Testing,
    /// Waiting for an external event.
    Dormant,
    /// Up: can pass packets.
    Up,
    /// A value this version of bridgekit does not know.
    Other(u8),
}

impl std::fmt::Display for OperState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OperState::Unknown => f.write_str("UNKNOWN"),
            OperState::NotPresent => f.write_str("NOTPRESENT"),
            OperState::Down => f.write_str("DOWN"),
            OperState::LowerLayerDown => f.write_str("LOWERLAYERDOWN"),
            OperState::Testing => f.write_str("TESTING"),
            OperState::Dormant => f.write_str("DORMANT"),
            OperState::Up => f.write_str("UP"),
            OperState::Other(n) => write!(f, "OTHER({n})"),
        }
    }
}

impl OperState {
    /// Not a public `From`: no netlink-packet-route type in the public API.
    pub(crate) fn from_kernel(s: State) -> Self {
        match s {
            State::Unknown => OperState::Unknown,
            State::NotPresent => OperState::NotPresent,
            State::Down => OperState::Down,
            State::LowerLayerDown => OperState::LowerLayerDown,
            State::Testing => OperState::Testing,
            State::Dormant => OperState::Dormant,
            State::Up => OperState::Up,
            State::Other(n) => OperState::Other(n),
            other => OperState::Other(u8::from(other)),
        }
    }
}

/// STP state of a bridge port (`IFLA_BRPORT_STATE`).
///
/// ```
/// assert_eq!(bridgekit::PortState::Forwarding.to_string(), "forwarding");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PortState {
    /// Disabled (the port or the bridge is down).
    Disabled,
    /// STP listening.
    Listening,
    /// STP learning.
    Learning,
    /// Forwarding frames.
    Forwarding,
    /// Blocked by STP.
    Blocking,
    /// A value this version of bridgekit does not know.
    Other(u8),
}

impl std::fmt::Display for PortState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PortState::Disabled => f.write_str("disabled"),
            PortState::Listening => f.write_str("listening"),
            PortState::Learning => f.write_str("learning"),
            PortState::Forwarding => f.write_str("forwarding"),
            PortState::Blocking => f.write_str("blocking"),
            PortState::Other(n) => write!(f, "other({n})"),
        }
    }
}

impl PortState {
    /// Not a public `From`: no netlink-packet-route type in the public API.
    pub(crate) fn from_kernel(s: BridgePortState) -> Self {
        match s {
            BridgePortState::Disabled => PortState::Disabled,
            BridgePortState::Listening => PortState::Listening,
            BridgePortState::Learning => PortState::Learning,
            BridgePortState::Forwarding => PortState::Forwarding,
            BridgePortState::Blocking => PortState::Blocking,
            BridgePortState::Other(n) => PortState::Other(n),
            other => PortState::Other(u8::from(other)),
        }
    }
}

/// A link as one RTM_NEWLINK message describes it.
#[derive(Debug, Clone)]
pub(crate) struct LinkSnapshot {
    pub index: u32,
    pub name: String,
    pub mac: Option<MacAddr6>,
    pub mtu: u32,
    pub up: bool,
    pub carrier: bool,
    pub operstate: OperState,
    /// `IFLA_INFO_KIND`, lower case (`bridge`, `veth`, `tun`); `None` for a
    /// physical device.
    pub kind: Option<String>,
    pub master: Option<u32>,
    pub stp: Option<bool>,
    pub forward_delay_cs: Option<u32>,
    pub ageing_time_cs: Option<u32>,
    pub vlan_filtering: Option<bool>,
    /// `IFLA_BR_VLAN_DEFAULT_PVID` (0 = none); absent without VLAN filtering support.
    pub default_pvid: Option<u16>,
    pub vlan_protocol: Option<VlanProtocol>,
    /// The whole-value bridge options the kernel reported (a bridge only).
    pub bridge_options: Vec<BridgeOption>,
    /// Bridge port options, when this link is a bridge port.
    pub port: Option<PortOptions>,
    /// STP port state, when this link is a bridge port.
    pub port_state: Option<PortState>,
    /// IPv6 on this link: `None` when the kernel reports no IPv6 state
    /// (IPv6 off, or MTU below 1280).
    pub ipv6: Option<Ipv6LinkState>,
    /// An AF_BRIDGE message (the bridge's own notifications about its
    /// ports), which carries only part of a link's state.
    pub bridge_family: bool,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Ipv6LinkState {
    /// `disable_ipv6`.
    pub disabled: bool,
    /// `accept_ra` non-zero.
    pub accept_ra: bool,
    /// `autoconf`.
    pub autoconf: bool,
    pub auto_link_local: Option<bool>,
}

impl LinkSnapshot {
    /// A snapshot with nothing known, to fill in by hand.
    pub(crate) fn empty() -> Self {
        Self::parse(&LinkMessage::default())
    }

    fn parse(m: &LinkMessage) -> Self {
        let mut s = LinkSnapshot {
            bridge_family: m.header.interface_family == AddressFamily::Bridge,
            index: m.header.index,
            name: String::new(),
            mac: None,
            mtu: 0,
            up: m.header.flags.contains(LinkFlags::Up),
            carrier: m.header.flags.contains(LinkFlags::LowerUp),
            operstate: OperState::Unknown,
            kind: None,
            master: None,
            stp: None,
            forward_delay_cs: None,
            ageing_time_cs: None,
            vlan_filtering: None,
            default_pvid: None,
            vlan_protocol: None,
            bridge_options: Vec::new(),
            port: None,
            port_state: None,
            ipv6: None,
        };
        for attr in &m.attributes {
            match attr {
                LinkAttribute::IfName(n) => s.name = n.clone(),
                LinkAttribute::Address(a) if a.len() == 6 => {
                    s.mac = Some(MacAddr6::new(a[0], a[1], a[2], a[3], a[4], a[5]))
                }
                LinkAttribute::Mtu(v) => s.mtu = *v,
                LinkAttribute::Carrier(c) => s.carrier = *c != 0,
                LinkAttribute::OperState(st) => s.operstate = OperState::from_kernel(*st),
                LinkAttribute::Controller(i) if *i != 0 => s.master = Some(*i),
                LinkAttribute::LinkInfo(infos) => s.parse_link_info(infos),
                // AF_BRIDGE messages carry a port's STP state in
                // IFLA_PROTINFO; netlink-packet-route leaves
                // IFLA_BRPORT_STATE (type 1, one byte) unparsed.
                LinkAttribute::ProtoInfoBridge(infos) => {
                    for info in infos {
                        if let netlink_packet_route::link::LinkProtoInfoBridge::Other(nla) = info {
                            use rtnetlink::packet_core::Nla;
                            if nla.kind() == 1 && nla.value_len() == 1 {
                                let mut v = [0u8; 1];
                                nla.emit_value(&mut v);
                                s.port_state =
                                    Some(PortState::from_kernel(BridgePortState::from(v[0])));
                            }
                        }
                    }
                }
                LinkAttribute::AfSpecUnspec(specs) => {
                    for spec in specs {
                        if let AfSpecUnspec::Inet6(inet6) = spec {
                            let mut st = Ipv6LinkState {
                                disabled: false,
                                accept_ra: false,
                                autoconf: false,
                                auto_link_local: None,
                            };
                            for a in inet6 {
                                match a {
                                    AfSpecInet6::DevConf(conf) => {
                                        st.disabled = conf.disable_ipv6 != 0;
                                        st.accept_ra = conf.accept_ra != 0;
                                        st.autoconf = conf.autoconf != 0;
                                    }
                                    AfSpecInet6::AddrGenMode(mode) => {
                                        st.auto_link_local = Some(*mode != In6AddrGenMode::None)
                                    }
                                    _ => {}
                                }
                            }
                            s.ipv6 = Some(st);
                        }
                    }
                }
                _ => {}
            }
        }
        s
    }

    fn parse_link_info(&mut self, infos: &[LinkInfo]) {
        for info in infos {
            match info {
                LinkInfo::Kind(kind) => self.kind = Some(kind.to_string()),
                LinkInfo::PortData(InfoPortData::BridgePort(opts)) => {
                    let mut p = PortOptions::default();
                    for o in opts {
                        match o {
                            InfoBridgePort::Learning(v) => p.learning = Some(*v),
                            InfoBridgePort::UnicastFlood(v) => p.unicast_flood = Some(*v),
                            InfoBridgePort::MulticastFlood(v) => p.multicast_flood = Some(*v),
                            InfoBridgePort::BroadcastFlood(v) => p.broadcast_flood = Some(*v),
                            InfoBridgePort::HairpinMode(v) => p.hairpin = Some(*v),
                            InfoBridgePort::Isolated(v) => p.isolated = Some(*v),
                            InfoBridgePort::NeighSupress(v) => p.neigh_suppress = Some(*v),
                            InfoBridgePort::Cost(v) => p.cost = Some(*v),
                            InfoBridgePort::Priority(v) => p.priority = Some(*v),
                            InfoBridgePort::State(st) => {
                                self.port_state = Some(PortState::from_kernel(*st))
                            }
                            _ => {}
                        }
                    }
                    self.port = Some(p);
                }
                LinkInfo::Data(InfoData::Bridge(opts)) => {
                    for o in opts {
                        match o {
                            InfoBridge::StpState(st) => {
                                self.stp = Some(
                                    *st != netlink_packet_route::link::BridgeStpState::Disabled,
                                )
                            }
                            InfoBridge::ForwardDelay(v) => self.forward_delay_cs = Some(*v),
                            InfoBridge::AgeingTime(v) => self.ageing_time_cs = Some(*v),
                            InfoBridge::VlanFiltering(v) => self.vlan_filtering = Some(*v),
                            InfoBridge::VlanDefaultPvid(v) => self.default_pvid = Some(*v),
                            InfoBridge::HelloTime(cs) => self.bridge_options.push(
                                BridgeOption::HelloTime(Duration::from_millis(u64::from(*cs) * 10)),
                            ),
                            InfoBridge::MaxAge(cs) => self.bridge_options.push(
                                BridgeOption::MaxAge(Duration::from_millis(u64::from(*cs) * 10)),
                            ),
                            InfoBridge::Priority(p) => {
                                self.bridge_options.push(BridgeOption::Priority(*p))
                            }
                            InfoBridge::GroupFwdMask(m) => {
                                self.bridge_options.push(BridgeOption::GroupFwdMask(*m))
                            }
                            InfoBridge::GroupAddr(a) => self
                                .bridge_options
                                .push(BridgeOption::GroupAddress(MacAddr6::from(*a))),
                            InfoBridge::MulticastSnooping(on) => self
                                .bridge_options
                                .push(BridgeOption::MulticastSnooping(*on)),
                            InfoBridge::MulticastQuerier(on) => self
                                .bridge_options
                                .push(BridgeOption::MulticastQuerier(*on)),
                            InfoBridge::MulticastIgmpVersion(v) => {
                                self.bridge_options.push(BridgeOption::IgmpVersion(*v))
                            }
                            InfoBridge::MulticastMldVersion(v) => {
                                self.bridge_options.push(BridgeOption::MldVersion(*v))
                            }
                            InfoBridge::VlanStatsEnabled(on) => {
                                self.bridge_options.push(BridgeOption::VlanStats(*on))
                            }
                            InfoBridge::MulticastRouter(r) => {
                                self.bridge_options.push(BridgeOption::MulticastRouter(
                                    MulticastRouter::from_kernel(u8::from(*r)),
                                ))
                            }
                            InfoBridge::VlanProtocol(p) => {
                                use netlink_packet_route::link::VlanProtocol as Kernel;
                                self.vlan_protocol = Some(match *p {
                                    Kernel::Ieee8021Q => VlanProtocol::Dot1Q,
                                    Kernel::Ieee8021Ad => VlanProtocol::Dot1Ad,
                                    // Kept as the kernel said it, not mapped to a default.
                                    other => VlanProtocol::Other(u16::from(other)),
                                })
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// The reported value of the bridge option of `kind`.
    pub(crate) fn bridge_option(&self, kind: OptionKind) -> Option<BridgeOption> {
        self.bridge_options
            .iter()
            .rev()
            .find(|o| o.kind() == kind)
            .copied()
    }

    pub(crate) fn is_bridge(&self) -> bool {
        self.kind.as_deref() == Some("bridge")
    }

    /// The kind for messages: `device` for links without `IFLA_INFO_KIND`.
    pub(crate) fn kind_name(&self) -> String {
        self.kind.clone().unwrap_or_else(|| "device".to_string())
    }
}

/// An address as one RTM_NEWADDR message describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AddrSnapshot {
    pub net: IpNet,
    pub flags: u32,
}

impl AddrSnapshot {
    fn parse(m: &AddressMessage) -> Option<Self> {
        let mut local = None;
        let mut address = None;
        let mut flags = u32::from(m.header.flags.bits());
        for attr in &m.attributes {
            match attr {
                AddressAttribute::Local(a) => local = Some(*a),
                AddressAttribute::Address(a) => address = Some(*a),
                AddressAttribute::Flags(f) => flags = f.bits(),
                _ => {}
            }
        }
        let addr: IpAddr = local.or(address)?;
        let net = IpNet::new(addr, m.header.prefix_len).ok()?;
        Some(AddrSnapshot { net, flags })
    }

    pub(crate) fn has(&self, flag: AddressFlags) -> bool {
        self.flags & flag.bits() != 0
    }
}

/// One link's VLANs from an AF_BRIDGE dump.
#[derive(Debug, Clone)]
pub(crate) struct VlanSnapshot {
    pub index: u32,
    pub vlans: Vec<VlanMember>,
}

impl VlanSnapshot {
    fn parse(m: &LinkMessage) -> Self {
        let mut entries = Vec::new();
        let mut begin: Option<(u16, BridgeVlanInfoFlags)> = None;
        for attr in &m.attributes {
            if let LinkAttribute::AfSpecBridge(specs) = attr {
                for spec in specs {
                    let AfSpecBridge::VlanInfo(info) = spec else {
                        continue;
                    };
                    let (first, flags) = if info.flags.contains(BridgeVlanInfoFlags::RangeBegin) {
                        begin = Some((info.vid, info.flags));
                        continue;
                    } else if info.flags.contains(BridgeVlanInfoFlags::RangeEnd) {
                        match begin.take() {
                            Some(b) => b,
                            None => (info.vid, info.flags),
                        }
                    } else {
                        (info.vid, info.flags)
                    };
                    let pvid = flags.contains(BridgeVlanInfoFlags::Pvid);
                    let untagged = flags.contains(BridgeVlanInfoFlags::Untagged);
                    for vid in first..=info.vid {
                        if let Ok(id) = VlanId::new(vid) {
                            entries.push((id, pvid, untagged));
                        }
                    }
                }
            }
        }
        VlanSnapshot {
            index: m.header.index,
            vlans: vlan::compress(entries),
        }
    }
}

/// One bridge FDB entry from an AF_BRIDGE neighbour dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FdbSnapshot {
    pub port: u32,
    pub master: u32,
    pub mac: MacAddr6,
    pub vlan: Option<VlanId>,
    /// NUD_PERMANENT: a local address (frames to it go up to the host).
    pub local: bool,
    /// NUD_NOARP: a static entry that never ages.
    pub is_static: bool,
}

impl FdbSnapshot {
    fn parse(m: &NeighbourMessage) -> Option<Self> {
        let mut mac = None;
        let mut master = None;
        let mut vlan = None;
        for attr in &m.attributes {
            match attr {
                NeighbourAttribute::LinkLayerAddress(a) if a.len() == 6 => {
                    mac = Some(MacAddr6::new(a[0], a[1], a[2], a[3], a[4], a[5]))
                }
                NeighbourAttribute::Controller(i) => master = Some(*i),
                NeighbourAttribute::Vlan(v) => vlan = VlanId::new(*v).ok(),
                _ => {}
            }
        }
        Some(FdbSnapshot {
            port: m.header.ifindex,
            master: master?,
            mac: mac?,
            vlan,
            local: m.header.state == NeighbourState::Permanent,
            is_static: m.header.state == NeighbourState::Noarp,
        })
    }
}

pub(crate) const RTNLGRP_LINK: u32 = 1;
pub(crate) const RTNLGRP_IPV4_IFADDR: u32 = 5;
pub(crate) const RTNLGRP_IPV6_IFADDR: u32 = 9;

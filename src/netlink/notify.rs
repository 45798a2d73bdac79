//! Multicast subscriptions (RTNLGRP_*) and the notifications they carry.
use futures::channel::mpsc::UnboundedReceiver;
use rtnetlink::packet_core::NetlinkMessage;
use rtnetlink::packet_route::RouteNetlinkMessage;
use rtnetlink::sys::{AsyncSocket, SocketAddr, TokioSocket, protocols::NETLINK_ROUTE};

use super::{AddrSnapshot, FdbSnapshot, LinkSnapshot, Netlink, RemoteSnapshot};
use crate::error::{Error, Op, Result};
use crate::sys::netns;

impl Netlink {
    // ----- notifications -----------------------------------------------

    /// A multicast subscription in this connection's namespace.
    pub(crate) fn subscribe(&self, op: Op, iface: &str, groups: &[u32]) -> Result<Subscription> {
        #[cfg(feature = "test-hooks")]
        let rcvbuf = Some(self.inner.hooks.event_rcvbuf()).filter(|&n| n > 0);
        #[cfg(not(feature = "test-hooks"))]
        let rcvbuf: Option<usize> = None;
        let mask = groups.iter().fold(0u32, |m, g| m | (1 << (g - 1)));
        let rt = tokio::runtime::Handle::current();
        let tokio_socket = netns::run_in(self.netns(), || {
            // Registered with the runtime's reactor from this thread.
            let _in_runtime = rt.enter();
            let mut tokio_socket = TokioSocket::new(NETLINK_ROUTE)?;
            let socket = tokio_socket.socket_mut();
            if let Some(size) = rcvbuf {
                socket.set_rx_buf_sz(size)?;
            }
            socket.bind(&SocketAddr::new(0, mask))?;
            Ok(tokio_socket)
        })
        .map_err(|e| Error::io(op, iface, e))?;
        let (conn, _handle, messages) = rtnetlink::from_socket::<TokioSocket>(tokio_socket);
        let task = tokio::spawn(conn);
        Ok(Subscription { messages, task })
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
    /// A bridge FDB entry added or changed (RTM_NEWNEIGH, AF_BRIDGE).
    NewFdb(FdbSnapshot),
    /// A bridge FDB entry removed (RTM_DELNEIGH, AF_BRIDGE).
    DelFdb(FdbSnapshot),
    /// A VXLAN device's remote entry added or changed (its own entry, with
    /// a destination), on the device of this ifindex.
    NewRemote(u32, RemoteSnapshot),
    /// A VXLAN device's remote entry removed.
    DelRemote(u32, RemoteSnapshot),
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
            NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewNeighbour(m)) => {
                match (FdbSnapshot::parse(m), RemoteSnapshot::parse_notification(m)) {
                    (Some(e), _) => Notification::NewFdb(e),
                    (None, Some(r)) => Notification::NewRemote(m.header.ifindex, r),
                    (None, None) => Notification::Other,
                }
            }
            NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelNeighbour(m)) => {
                match (FdbSnapshot::parse(m), RemoteSnapshot::parse_notification(m)) {
                    (Some(e), _) => Notification::DelFdb(e),
                    (None, Some(r)) => Notification::DelRemote(m.header.ifindex, r),
                    (None, None) => Notification::Other,
                }
            }
            _ => Notification::Other,
        }
    }
}

pub(crate) const RTNLGRP_LINK: u32 = 1;
pub(crate) const RTNLGRP_NEIGH: u32 = 3;
pub(crate) const RTNLGRP_IPV4_IFADDR: u32 = 5;
pub(crate) const RTNLGRP_IPV6_IFADDR: u32 = 9;

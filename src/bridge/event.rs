//! What a bridge's event stream yields ([`BridgeEvent`]) and which kinds
//! of events a stream asks for ([`EventKinds`]).

use std::net::Ipv6Addr;

use ipnet::IpNet;
use macaddr::MacAddr6;

use crate::bridge::fdb::FdbEntry;
use crate::netlink::{RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR, RTNLGRP_LINK, RTNLGRP_NEIGH};
use crate::values::bridge_option::MulticastRouter;
use crate::values::link_state::{OperState, PortState};
use crate::values::name::IfName;
use crate::values::vlan::VlanMember;
use crate::vxlan::Remote;

/// Something that happened to a bridge, from [`Bridge::events`](crate::Bridge::events).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BridgeEvent {
    /// A port joined.
    PortAttached {
        /// Its name.
        port: IfName,
        /// Its ifindex.
        index: u32,
    },
    /// A port left (detached, or deleted).
    PortDetached {
        /// Its name.
        port: IfName,
        /// Its ifindex.
        index: u32,
    },
    /// A port's STP state changed (forwarding, blocking, disabled, ...).
    PortState {
        /// Its name.
        port: IfName,
        /// Its ifindex.
        index: u32,
        /// The new state.
        state: PortState,
    },
    /// The bridge gained or lost carrier.
    Carrier(bool),
    /// The bridge's operational state changed.
    OperState(OperState),
    /// The bridge went administratively up or down.
    AdminUp(bool),
    /// The bridge's MAC changed.
    Mac(MacAddr6),
    /// The bridge's MTU changed.
    Mtu(u32),
    /// An address was added (an IPv6 one is tentative until [`DadDone`](BridgeEvent::DadDone)).
    AddressAdded(IpNet),
    /// An address was removed.
    AddressRemoved(IpNet),
    /// IPv6 duplicate address detection finished for an address.
    DadDone(Ipv6Addr),
    /// IPv6 duplicate address detection found the address in use elsewhere.
    DadFailed(Ipv6Addr),
    /// An FDB entry appeared, or changed port or kind (learned, static,
    /// `extern_learn` from a control plane such as FRR). Only in a stream
    /// with [`EventKinds::fdb`].
    FdbAdded(FdbEntry),
    /// An FDB entry went away (aged out, deleted, its port gone). Only in
    /// a stream with [`EventKinds::fdb`].
    FdbRemoved(FdbEntry),
    /// The VLANs of a port (or of the bridge itself: `port` is then the
    /// bridge) changed; `vlans` is the whole new set. Only in a stream
    /// with [`EventKinds::vlans`].
    Vlans {
        /// The port, or the bridge.
        port: IfName,
        /// Its ifindex.
        index: u32,
        /// Its VLANs now, compressed into ranges.
        vlans: Vec<VlanMember>,
    },
    /// The multicast router mode of a port (or of the bridge itself:
    /// `port` is then the bridge) changed (`mcast_router`). Only in a
    /// stream with [`EventKinds::multicast_routers`].
    MulticastRouter {
        /// The port, or the bridge.
        port: IfName,
        /// Its ifindex.
        index: u32,
        /// The new mode.
        mode: MulticastRouter,
    },
    /// A remote VTEP appeared on a VXLAN port of the bridge: a flood-list
    /// destination or a MAC's VTEP, added by bridgekit, `bridge fdb`, or a
    /// control plane such as FRR's zebra. Only in a stream with
    /// [`EventKinds::remotes`].
    RemoteAdded {
        /// The VXLAN port.
        port: IfName,
        /// Its ifindex.
        index: u32,
        /// The entry.
        remote: Remote,
    },
    /// A remote VTEP went away from a VXLAN port of the bridge. Only in a
    /// stream with [`EventKinds::remotes`].
    RemoteRemoved {
        /// The VXLAN port.
        port: IfName,
        /// Its ifindex.
        index: u32,
        /// The entry.
        remote: Remote,
    },
    /// The kernel dropped notifications; the bridge was read again and the
    /// events that follow are the differences found.
    Resynced,
    /// The bridge was deleted; the stream ends after this.
    Deleted,
}

/// In words, for logs and people: `port vnet1 attached (ifindex 4)`,
/// `port vnet1 forwarding`, `carrier off`, `DAD done for fd00::1`.
///
/// ```
/// use bridgekit::BridgeEvent;
/// assert_eq!(BridgeEvent::Carrier(false).to_string(), "carrier off");
/// ```
impl std::fmt::Display for BridgeEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let on = |b: bool| if b { "on" } else { "off" };
        match self {
            BridgeEvent::PortAttached { port, index } => {
                write!(f, "port {port} attached (ifindex {index})")
            }
            BridgeEvent::PortDetached { port, index } => {
                write!(f, "port {port} detached (ifindex {index})")
            }
            BridgeEvent::PortState { port, state, .. } => write!(f, "port {port} {state}"),
            BridgeEvent::Carrier(c) => write!(f, "carrier {}", on(*c)),
            BridgeEvent::OperState(s) => write!(f, "operstate {s}"),
            BridgeEvent::AdminUp(up) => f.write_str(if *up { "up" } else { "down" }),
            BridgeEvent::Mac(m) => write!(f, "MAC {}", crate::values::mac::lower(*m)),
            BridgeEvent::Mtu(m) => write!(f, "MTU {m}"),
            BridgeEvent::AddressAdded(a) => write!(f, "address {a} added"),
            BridgeEvent::AddressRemoved(a) => write!(f, "address {a} removed"),
            BridgeEvent::DadDone(a) => write!(f, "DAD done for {a}"),
            BridgeEvent::DadFailed(a) => write!(f, "DAD failed for {a}: duplicate on the link"),
            BridgeEvent::FdbAdded(e) => write!(f, "FDB {} on {}", fdb_label(e), e.port),
            BridgeEvent::RemoteAdded { port, remote, .. } => {
                write!(f, "remote {remote} on {port}")
            }
            BridgeEvent::RemoteRemoved { port, remote, .. } => {
                write!(f, "remote {remote} on {port} removed")
            }
            BridgeEvent::FdbRemoved(e) => {
                write!(f, "FDB {} on {} removed", fdb_label(e), e.port)
            }
            BridgeEvent::Vlans { port, vlans, .. } => {
                write!(f, "port {port} VLANs [")?;
                for (i, v) in vlans.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            BridgeEvent::MulticastRouter { port, mode, .. } => {
                write!(f, "port {port} multicast router {mode}")
            }
            BridgeEvent::Resynced => f.write_str("events lost; state read again"),
            BridgeEvent::Deleted => f.write_str("bridge deleted"),
        }
    }
}

fn fdb_label(e: &FdbEntry) -> String {
    match e.vlan {
        Some(v) => format!("{} vlan {v} {}", crate::values::mac::lower(e.mac), e.kind),
        None => format!("{} {}", crate::values::mac::lower(e.mac), e.kind),
    }
}

/// Which events a stream carries besides those every stream has (the
/// bridge's link, its ports and their STP state, its addresses), for
/// [`Bridge::events_with`](crate::Bridge::events_with). Each costs the stream more: FDB events come
/// from one more multicast group (every neighbour change in the
/// namespace, filtered to this bridge); VLAN events read the bridge's
/// VLANs again on each of its AF_BRIDGE link notifications.
///
/// ```
/// use bridgekit::EventKinds;
/// let kinds = EventKinds::new().fdb(true).vlans(true);
/// assert_eq!(EventKinds::all(), kinds.multicast_routers(true).remotes(true));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[must_use = "event kinds do nothing until passed to Bridge::events_with"]
pub struct EventKinds {
    pub(crate) fdb: bool,
    pub(crate) vlans: bool,
    pub(crate) multicast_routers: bool,
    pub(crate) remotes: bool,
}

impl EventKinds {
    /// None beyond the ones every stream has: what [`Bridge::events`](crate::Bridge::events) gives.
    ///
    /// ```
    /// let kinds = bridgekit::EventKinds::new();
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Every kind.
    ///
    /// ```
    /// let kinds = bridgekit::EventKinds::all();
    /// ```
    pub fn all() -> Self {
        EventKinds {
            fdb: true,
            vlans: true,
            multicast_routers: true,
            remotes: true,
        }
    }

    /// FDB entries added, changed and removed ([`BridgeEvent::FdbAdded`],
    /// [`BridgeEvent::FdbRemoved`]): learned, static, local and
    /// `extern_learn` (`bridge monitor fdb`).
    ///
    /// ```
    /// let kinds = bridgekit::EventKinds::new().fdb(true);
    /// ```
    pub fn fdb(mut self, on: bool) -> Self {
        self.fdb = on;
        self
    }

    /// A port's VLANs changed ([`BridgeEvent::Vlans`]; `bridge monitor
    /// link` shows the notification, `bridge vlan show` the set).
    ///
    /// ```
    /// let kinds = bridgekit::EventKinds::new().vlans(true);
    /// ```
    pub fn vlans(mut self, on: bool) -> Self {
        self.vlans = on;
        self
    }

    /// A port's or the bridge's multicast router mode changed
    /// ([`BridgeEvent::MulticastRouter`]).
    ///
    /// ```
    /// let kinds = bridgekit::EventKinds::new().multicast_routers(true);
    /// ```
    pub fn multicast_routers(mut self, on: bool) -> Self {
        self.multicast_routers = on;
        self
    }

    /// Remote VTEPs of the bridge's VXLAN ports added and removed
    /// ([`BridgeEvent::RemoteAdded`], [`BridgeEvent::RemoteRemoved`]): the
    /// flood list and per-MAC entries, whoever installed them. A port's
    /// remotes are followed from when it is a port of the bridge (and read
    /// with the rest after an overrun).
    ///
    /// ```
    /// let kinds = bridgekit::EventKinds::new().remotes(true);
    /// ```
    pub fn remotes(mut self, on: bool) -> Self {
        self.remotes = on;
        self
    }

    pub(crate) fn groups(self) -> &'static [u32] {
        if self.fdb || self.remotes {
            &[
                RTNLGRP_LINK,
                RTNLGRP_NEIGH,
                RTNLGRP_IPV4_IFADDR,
                RTNLGRP_IPV6_IFADDR,
            ]
        } else {
            &[RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR]
        }
    }
}

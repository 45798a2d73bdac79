//! VXLAN devices (RTM_NEWLINK with `IFLA_INFO_KIND` "vxlan") and their
//! remote FDB entries (AF_BRIDGE neighbours with NTF_SELF and a
//! destination: the VTEPs frames for a MAC, or floods, go to).

use std::net::IpAddr;

use macaddr::MacAddr6;
use netlink_packet_route::link::InfoVxlan;
use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourFlags, NeighbourMessage, NeighbourState,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use rtnetlink::packet_core::{NLM_F_APPEND, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE};
use rtnetlink::{LinkMessageBuilder, LinkVxlan};

use super::Netlink;
use crate::error::{Op, Result};

/// A VXLAN device's settings: what is sent to create one, and what the
/// kernel reports of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct VxlanParams {
    pub vni: u32,
    pub local: Option<IpAddr>,
    /// The underlay device's ifindex.
    pub underlay: Option<u32>,
    pub port: u16,
    pub learning: bool,
    /// The outer TTL; `None` (or 0): the kernel's default hop limit.
    pub ttl: Option<u8>,
    pub udp_csum: Option<bool>,
    pub udp6_zero_csum_tx: Option<bool>,
    pub udp6_zero_csum_rx: Option<bool>,
    /// External (collect-metadata) mode.
    pub external: bool,
}

impl VxlanParams {
    pub(super) fn parse(info: &[InfoVxlan]) -> Self {
        let mut p = VxlanParams::default();
        for i in info {
            match i {
                InfoVxlan::Id(v) => p.vni = *v,
                InfoVxlan::Local(a) => p.local = Some(IpAddr::V4(*a)),
                InfoVxlan::Local6(a) => p.local = Some(IpAddr::V6(*a)),
                InfoVxlan::Link(l) if *l != 0 => p.underlay = Some(*l),
                InfoVxlan::Port(v) => p.port = *v,
                InfoVxlan::Learning(v) => p.learning = *v,
                InfoVxlan::Ttl(v) => p.ttl = Some(*v),
                InfoVxlan::UDPCsum(v) => p.udp_csum = Some(*v),
                InfoVxlan::UDPZeroCsumTX(v) => p.udp6_zero_csum_tx = Some(*v),
                InfoVxlan::UDPZeroCsumRX(v) => p.udp6_zero_csum_rx = Some(*v),
                InfoVxlan::CollectMetadata(v) => p.external = *v,
                _ => {}
            }
        }
        p
    }
}

/// One remote entry of a VXLAN device's FDB: a MAC (all zeros: the flood
/// list) and the VTEP it goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RemoteSnapshot {
    pub mac: MacAddr6,
    pub dst: IpAddr,
    pub vni: Option<u32>,
    pub port: Option<u16>,
    /// The segment the entry serves on an external device (NDA_SRC_VNI).
    pub src_vni: Option<u32>,
    /// Who made it, from the entry's flags and NUD state.
    pub origin: RemoteOrigin,
}

/// How a remote entry came to be, as the kernel keeps it: NTF_EXT_LEARNED
/// marks a control plane's; a state with NUD_PERMANENT or NUD_NOARP, one
/// written as static; any other, one the device learned from a frame (it
/// ages out). Who wrote a static entry the kernel does not keep: the
/// state is one per MAC, so the flood list's destinations share the state
/// of whoever appended last (measured: zebra's NUD_PERMANENT | NUD_NOARP
/// flood entry reads NUD_PERMANENT after bridgekit appends another).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum RemoteOrigin {
    Static,
    Learned,
    ExternLearned,
}

impl RemoteOrigin {
    fn of(state: NeighbourState, flags: NeighbourFlags) -> RemoteOrigin {
        if flags.contains(NeighbourFlags::ExtLearned) {
            return RemoteOrigin::ExternLearned;
        }
        if u16::from(state) & (NUD_PERMANENT | NUD_NOARP) != 0 {
            RemoteOrigin::Static
        } else {
            RemoteOrigin::Learned
        }
    }
}

const NUD_NOARP: u16 = 0x40;
const NUD_PERMANENT: u16 = 0x80;

impl RemoteSnapshot {
    /// A VXLAN device's own entry with a destination, from a notification
    /// that is not a bridge's entry (the caller tried that first); `None`
    /// for anything else: an AF_BRIDGE entry with a destination and no
    /// master is a VXLAN device's own.
    pub(crate) fn parse_notification(m: &NeighbourMessage) -> Option<Self> {
        if m.header.family != AddressFamily::Bridge {
            return None;
        }
        parse_remote(m)
    }
}

impl Netlink {
    /// RTM_NEWLINK creating a VXLAN device (NLM_F_EXCL).
    pub(crate) async fn create_vxlan(
        &self,
        op: Op,
        name: &str,
        params: &VxlanParams,
        mtu: Option<u32>,
        mac: Option<MacAddr6>,
    ) -> Result<()> {
        let mut b = LinkMessageBuilder::<LinkVxlan>::new(name)
            .port(params.port)
            .learning(params.learning);
        b = if params.external {
            b.append_info_data(InfoVxlan::CollectMetadata(true))
        } else {
            b.id(params.vni)
        };
        match params.local {
            Some(IpAddr::V4(a)) => b = b.local(a),
            Some(IpAddr::V6(a)) => b = b.local6(a),
            None => {}
        }
        if let Some(dev) = params.underlay {
            b = b.dev(dev);
        }
        if let Some(ttl) = params.ttl {
            b = b.ttl(ttl);
        }
        if let Some(v) = params.udp_csum {
            b = b.append_info_data(InfoVxlan::UDPCsum(v));
        }
        if let Some(v) = params.udp6_zero_csum_tx {
            b = b.append_info_data(InfoVxlan::UDPZeroCsumTX(v));
        }
        if let Some(v) = params.udp6_zero_csum_rx {
            b = b.append_info_data(InfoVxlan::UDPZeroCsumRX(v));
        }
        if let Some(m) = mtu {
            b = b.mtu(m);
        }
        if let Some(m) = mac {
            b = b.address(m.into_array().to_vec());
        }
        // The flags rtnetlink's `link().add()` sends.
        self.request(
            op,
            name,
            RouteNetlinkMessage::NewLink(b.build()),
            NLM_F_CREATE | NLM_F_EXCL,
        )
        .await
    }

    /// RTM_NEWNEIGH of one remote on a VXLAN device. rtnetlink has no
    /// NLM_F_APPEND (a flood list holds several destinations for the one
    /// all-zero MAC: each is appended), so the request is built here:
    /// NLM_F_CREATE with NLM_F_APPEND for the flood list, NLM_F_EXCL for a
    /// MAC's entry (one destination each), or NLM_F_REPLACE with `replace`:
    /// a MAC the device learned is pinned (the kernel turns the learned
    /// entry into this static one, destination and all).
    pub(crate) async fn remote_add(
        &self,
        op: Op,
        iface: &str,
        index: u32,
        remote: &RemoteSnapshot,
        replace: bool,
    ) -> Result<()> {
        let msg = remote_message(index, remote);
        let append = remote.mac == MacAddr6::nil();
        let how = if append {
            NLM_F_APPEND
        } else if replace {
            NLM_F_REPLACE
        } else {
            NLM_F_EXCL
        };
        let message = RouteNetlinkMessage::NewNeighbour(msg);
        self.request(op, iface, message, NLM_F_CREATE | how).await
    }

    /// RTM_DELNEIGH of one remote (its destination only, for the flood list).
    pub(crate) async fn remote_del(
        &self,
        op: Op,
        iface: &str,
        index: u32,
        remote: &RemoteSnapshot,
    ) -> Result<()> {
        let msg = remote_message(index, remote);
        self.request(op, iface, RouteNetlinkMessage::DelNeighbour(msg), 0)
            .await
    }

    /// The remote entries of one VXLAN device (AF_BRIDGE neighbour dump of
    /// its ifindex, entries with a destination).
    pub(crate) async fn remote_dump(
        &self,
        op: Op,
        iface: &str,
        index: u32,
    ) -> Result<Vec<RemoteSnapshot>> {
        let mut msg = NeighbourMessage::default();
        msg.header.family = AddressFamily::Bridge;
        msg.header.ifindex = index;
        let entries = self.dump_neighbours(op, iface, msg).await?;
        Ok(entries
            .iter()
            .filter(|m| m.header.ifindex == index)
            .filter_map(parse_remote)
            .collect())
    }
}

fn remote_message(index: u32, remote: &RemoteSnapshot) -> NeighbourMessage {
    let mut msg = NeighbourMessage::default();
    msg.header.family = AddressFamily::Bridge;
    msg.header.ifindex = index;
    msg.header.state = NeighbourState::Permanent;
    msg.header.flags = NeighbourFlags::Own;
    msg.attributes.push(NeighbourAttribute::LinkLayerAddress(
        remote.mac.as_bytes().to_vec(),
    ));
    msg.attributes
        .push(NeighbourAttribute::Destination(match remote.dst {
            IpAddr::V4(a) => NeighbourAddress::Inet(a),
            IpAddr::V6(a) => NeighbourAddress::Inet6(a),
        }));
    if let Some(vni) = remote.vni {
        msg.attributes.push(NeighbourAttribute::Vni(vni));
    }
    if let Some(port) = remote.port {
        msg.attributes.push(NeighbourAttribute::Port(port));
    }
    if let Some(vni) = remote.src_vni {
        msg.attributes.push(NeighbourAttribute::SourceVni(vni));
    }
    msg
}

fn parse_remote(m: &NeighbourMessage) -> Option<RemoteSnapshot> {
    let mut mac = None;
    let mut dst = None;
    let mut vni = None;
    let mut port = None;
    let mut src_vni = None;
    for attr in &m.attributes {
        match attr {
            NeighbourAttribute::LinkLayerAddress(a) if a.len() == 6 => {
                mac = Some(MacAddr6::new(a[0], a[1], a[2], a[3], a[4], a[5]))
            }
            NeighbourAttribute::Destination(NeighbourAddress::Inet(a)) => {
                dst = Some(IpAddr::V4(*a))
            }
            NeighbourAttribute::Destination(NeighbourAddress::Inet6(a)) => {
                dst = Some(IpAddr::V6(*a))
            }
            // In an AF_BRIDGE message netlink-packet-route cannot tell the
            // address family of NDA_DST and leaves the bytes: the length does.
            NeighbourAttribute::Destination(NeighbourAddress::Other(b)) => {
                dst = match b.len() {
                    4 => <[u8; 4]>::try_from(b.as_slice()).ok().map(IpAddr::from),
                    16 => <[u8; 16]>::try_from(b.as_slice()).ok().map(IpAddr::from),
                    _ => None,
                }
            }
            NeighbourAttribute::Vni(v) => vni = Some(*v),
            NeighbourAttribute::Port(p) => port = Some(*p),
            NeighbourAttribute::SourceVni(v) => src_vni = Some(*v),
            _ => {}
        }
    }
    Some(RemoteSnapshot {
        mac: mac?,
        dst: dst?,
        vni,
        port,
        src_vni,
        origin: RemoteOrigin::of(m.header.state, m.header.flags),
    })
}

//! AF_BRIDGE RTM_NEWNEIGH / RTM_DELNEIGH / RTM_GETNEIGH: the bridge's
//! forwarding database.
use macaddr::MacAddr6;
use netlink_packet_route::neighbour::{
    NeighbourAttribute, NeighbourFlags, NeighbourMessage, NeighbourState,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use rtnetlink::packet_core::{NLM_F_CREATE, NLM_F_REPLACE};

use super::Netlink;
use crate::error::{Op, Result};
use crate::values::vlan::VlanId;

impl Netlink {
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
        let mut msg = master_entry(port, mac, vlan);
        msg.header.state = NeighbourState::Noarp;
        self.request(
            op,
            iface,
            RouteNetlinkMessage::NewNeighbour(msg),
            NLM_F_CREATE | NLM_F_REPLACE,
        )
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
        let msg = master_entry(port, mac, vlan);
        self.request(op, iface, RouteNetlinkMessage::DelNeighbour(msg), 0)
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
        let mut msg = NeighbourMessage::default();
        msg.header.family = AddressFamily::Bridge;
        msg.header.ifindex = port.unwrap_or(0);
        msg.attributes.push(NeighbourAttribute::Controller(master));
        let entries = self.dump_neighbours(op, iface, msg).await?;
        Ok(entries
            .iter()
            .filter_map(|m| FdbSnapshot::parse(m).filter(|e| e.master == master))
            .collect())
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
    /// NTF_EXT_LEARNED: installed by a control plane (zebra, a switchdev
    /// driver), not learned by the bridge.
    pub extern_learn: bool,
}

impl FdbSnapshot {
    /// `None` for a message that is not a bridge FDB entry (an IP
    /// neighbour, or one without MAC or master).
    pub(super) fn parse(m: &NeighbourMessage) -> Option<Self> {
        if m.header.family != AddressFamily::Bridge {
            return None;
        }
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
            extern_learn: m.header.flags.contains(NeighbourFlags::ExtLearned),
        })
    }
}

/// An AF_BRIDGE neighbour message naming one master FDB entry (NTF_MASTER):
/// `mac` on `port`, in `vlan` if given.
fn master_entry(port: u32, mac: MacAddr6, vlan: Option<VlanId>) -> NeighbourMessage {
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
    msg
}

//! RTM_NEWADDR / RTM_DELADDR / RTM_GETADDR: interface addresses.
use ipnet::IpNet;
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressMessage};
use rtnetlink::AddressMessageBuilder;
use rtnetlink::packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::Netlink;
use crate::error::{Op, Result};
use crate::values::address::AddressStatus;

impl Netlink {
    // ----- addresses ---------------------------------------------------

    /// RTM_NEWADDR (with IFA_F_NODAD when asked); IPv4 gets its broadcast.
    /// A refusal names the address in its own field
    /// ([`Error::address_refused`]).
    pub(crate) async fn add_address(
        &self,
        iface: &str,
        index: u32,
        net: IpNet,
        nodad: bool,
    ) -> Result<()> {
        let mut msg = match net.addr() {
            IpAddr::V4(a) => AddressMessageBuilder::<Ipv4Addr>::new()
                .index(index)
                .address(a, net.prefix_len())
                .build(),
            IpAddr::V6(a) => AddressMessageBuilder::<Ipv6Addr>::new()
                .index(index)
                .address(a, net.prefix_len())
                .build(),
        };
        if nodad {
            msg.attributes
                .push(AddressAttribute::Flags(AddressFlags::Nodad));
        }
        // The flags rtnetlink's `address().add()` sends.
        self.request(
            Op::AddAddress,
            iface,
            RouteNetlinkMessage::NewAddress(msg),
            NLM_F_CREATE | NLM_F_EXCL,
        )
        .await
        .map_err(|e| e.address_refused(net))
    }

    /// RTM_DELADDR of one address; an address not there is
    /// [`Error::NoSuchEntry`] ([`Error::address_absent`]).
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
        self.request(
            Op::RemoveAddress,
            iface,
            RouteNetlinkMessage::DelAddress(msg),
            0,
        )
        .await
        .map_err(|e| e.address_absent(net))
    }

    /// RTM_GETADDR dump of one link's addresses (filtered by the kernel:
    /// strict checking honours the ifindex in the request header).
    pub(crate) async fn addresses(
        &self,
        op: Op,
        iface: &str,
        index: u32,
    ) -> Result<Vec<AddrSnapshot>> {
        let mut msg = AddressMessage::default();
        msg.header.index = index;
        let answer = self
            .query(op, iface, RouteNetlinkMessage::GetAddress(msg), true)
            .await?;
        Ok(answer
            .iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewAddress(m) if m.header.index == index => {
                    AddrSnapshot::parse(m)
                }
                _ => None,
            })
            .collect())
    }
}

/// An address as one RTM_NEWADDR message describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AddrSnapshot {
    pub net: IpNet,
    pub flags: u32,
}

impl AddrSnapshot {
    pub(super) fn parse(m: &AddressMessage) -> Option<Self> {
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

    fn has(&self, flag: AddressFlags) -> bool {
        self.flags & flag.bits() != 0
    }

    pub(crate) fn tentative(&self) -> bool {
        tentative(self.flags)
    }

    pub(crate) fn dad_failed(&self) -> bool {
        dad_failed(self.flags)
    }
}

/// Whether IFA flags mark an address as still in DAD.
pub(crate) fn tentative(flags: u32) -> bool {
    flags & AddressFlags::Tentative.bits() != 0
}

/// Whether IFA flags mark an address as a duplicate.
pub(crate) fn dad_failed(flags: u32) -> bool {
    flags & AddressFlags::Dadfailed.bits() != 0
}

impl From<AddrSnapshot> for AddressStatus {
    fn from(a: AddrSnapshot) -> Self {
        AddressStatus {
            address: a.net,
            tentative: a.has(AddressFlags::Tentative),
            dad_failed: a.has(AddressFlags::Dadfailed),
            nodad: a.has(AddressFlags::Nodad),
            permanent: a.has(AddressFlags::Permanent),
            optimistic: a.has(AddressFlags::Optimistic),
            deprecated: a.has(AddressFlags::Deprecated),
        }
    }
}

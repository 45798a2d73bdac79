//! RTM_NEWLINK / RTM_GETLINK / RTM_DELLINK: links, bridge options
//! (IFLA_INFO_DATA) and port options (IFLA_INFO_SLAVE_DATA, their
//! attributes from the table in `values/port_option.rs`). The parse of a
//! link message is in `link_snapshot.rs`.
use macaddr::MacAddr6;
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::{
    AfSpecInet6, AfSpecUnspec, In6AddrGenMode, InfoBridge, InfoKind, InfoPortData, LinkAttribute,
    LinkExtentMask, LinkMessage,
};
use rtnetlink::packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use rtnetlink::{LinkBridge, LinkBridgePort, LinkMessageBuilder, LinkUnspec};

use super::Netlink;
use super::link_snapshot::LinkSnapshot;
use crate::error::{Error, Op, Result};
use crate::values::bridge_option::BridgeOption;
use crate::values::counters::Counters;
use crate::values::macvtap_mode::MacvtapMode;
use crate::values::name::IfName;
use crate::values::port_option::PortOptions;
use crate::values::vlan::VlanProtocol;

impl Netlink {
    // ----- links -------------------------------------------------------

    /// RTM_GETLINK by index or name; ENODEV becomes [`Error::NotFound`].
    pub(crate) async fn link(
        &self,
        op: Op,
        iface: &str,
        target: LinkRef<'_>,
    ) -> Result<LinkSnapshot> {
        self.get_link(op, iface, target, false).await
    }

    /// [`link`](Self::link) with the link's counters.
    pub(crate) async fn link_with_counters(
        &self,
        op: Op,
        iface: &str,
        target: LinkRef<'_>,
    ) -> Result<LinkSnapshot> {
        self.get_link(op, iface, target, true).await
    }

    /// The counters of link `index` (IFLA_STATS64): one RTM_GETLINK.
    pub(crate) async fn counters(&self, op: Op, iface: &str, index: u32) -> Result<Counters> {
        let link = self
            .link_with_counters(op, iface, LinkRef::Index(index))
            .await?;
        link.counters.ok_or_else(|| Error::Unsupported {
            op,
            iface: IfName::from_kernel(iface),
            detail: "the kernel sent no IFLA_STATS64 for the link".into(),
        })
    }

    async fn get_link(
        &self,
        op: Op,
        iface: &str,
        target: LinkRef<'_>,
        counters: bool,
    ) -> Result<LinkSnapshot> {
        let mut msg = LinkMessage::default();
        if !counters {
            skip_stats(&mut msg);
        }
        match target {
            LinkRef::Index(i) => msg.header.index = i,
            LinkRef::Name(n) => msg.attributes.push(LinkAttribute::IfName(n.to_string())),
        }
        let answer = self
            .query(op, iface, RouteNetlinkMessage::GetLink(msg), false)
            .await?;
        match answer.iter().find_map(|m| match m {
            RouteNetlinkMessage::NewLink(m) => Some(m),
            _ => None,
        }) {
            Some(m) => Ok(LinkSnapshot::parse(m).counted(counters)),
            None => Err(Error::NotFound {
                op,
                iface: IfName::from_kernel(iface),
                errno: None,
                bridge: None,
            }),
        }
    }

    /// RTM_GETLINK dump of every link in the namespace (no statistics).
    pub(crate) async fn all_links(&self, op: Op, iface: &str) -> Result<Vec<LinkSnapshot>> {
        let mut msg = LinkMessage::default();
        skip_stats(&mut msg);
        let links = self.dump_links(op, iface, msg).await?;
        Ok(links.iter().map(LinkSnapshot::parse).collect())
    }

    /// RTM_GETLINK dump of the links whose master is `master` (filtered by the kernel).
    pub(crate) async fn links_with_master(
        &self,
        op: Op,
        iface: &str,
        master: u32,
    ) -> Result<Vec<LinkSnapshot>> {
        self.ports_of(op, iface, master, false).await
    }

    /// [`links_with_master`](Self::links_with_master) with each link's
    /// counters: the same dump, without RTEXT_FILTER_SKIP_STATS.
    pub(crate) async fn links_with_master_counters(
        &self,
        op: Op,
        iface: &str,
        master: u32,
    ) -> Result<Vec<LinkSnapshot>> {
        self.ports_of(op, iface, master, true).await
    }

    async fn ports_of(
        &self,
        op: Op,
        iface: &str,
        master: u32,
        counters: bool,
    ) -> Result<Vec<LinkSnapshot>> {
        let mut msg = LinkMessage::default();
        if !counters {
            skip_stats(&mut msg);
        }
        msg.attributes.push(LinkAttribute::Controller(master));
        let links = self.dump_links(op, iface, msg).await?;
        Ok(links
            .iter()
            .map(|m| LinkSnapshot::parse(m).counted(counters))
            .filter(|s| s.master == Some(master))
            .collect())
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
        self.add_link(Op::CreateBridge, name, msg).await
    }

    /// RTM_NEWLINK of a new link, with the flags rtnetlink's `link().add()`
    /// sends: NLM_F_EXCL, so a name taken answers EEXIST.
    async fn add_link(&self, op: Op, name: &str, msg: LinkMessage) -> Result<()> {
        let message = RouteNetlinkMessage::NewLink(msg);
        self.request(op, name, message, NLM_F_CREATE | NLM_F_EXCL)
            .await
    }

    /// RTM_NEWLINK of a veth pair `name` / `peer`, both in this namespace.
    pub(crate) async fn create_veth(&self, op: Op, name: &str, peer: &str) -> Result<()> {
        let msg = rtnetlink::LinkVeth::new(name, peer).build();
        self.add_link(op, name, msg).await
    }

    /// RTM_NEWLINK of an IFB `name`, up, of MTU `mtu` and MAC `mac` (`ip
    /// link add NAME address MAC mtu MTU up type ifb`).
    pub(crate) async fn create_ifb(
        &self,
        op: Op,
        name: &str,
        mtu: u32,
        mac: MacAddr6,
    ) -> Result<()> {
        let msg = rtnetlink::LinkIfb::new(name)
            .address(mac.into_array().to_vec())
            .mtu(mtu)
            .up()
            .build();
        self.add_link(op, name, msg).await
    }

    /// RTM_NEWLINK for a macvtap on `lower` with the MAC and mode in the
    /// same request (`ip link add link LOWER name NAME address MAC type
    /// macvtap mode MODE`).
    pub(crate) async fn create_macvtap(
        &self,
        op: Op,
        name: &str,
        lower: u32,
        mac: MacAddr6,
        mode: MacvtapMode,
    ) -> Result<()> {
        use netlink_packet_route::link::MacVtapMode as M;
        let mode = match mode {
            MacvtapMode::Bridge => M::Bridge,
            MacvtapMode::Vepa => M::Vepa,
            MacvtapMode::Private => M::Private,
            MacvtapMode::Passthru => M::Passthrough,
        };
        let msg = rtnetlink::LinkMacVtap::new(name, lower, mode)
            .address(mac.into_array().to_vec())
            .build();
        self.add_link(op, name, msg).await
    }

    /// RTM_SETLINK that moves a link into the namespace `netns` and names
    /// it `new_name` there, in one step (the kernel renames on the move;
    /// a name taken there answers EEXIST and the link stays here).
    pub(crate) async fn move_to_netns(
        &self,
        op: Op,
        iface: &str,
        index: u32,
        netns: std::os::fd::RawFd,
        new_name: &str,
    ) -> Result<()> {
        let msg = LinkUnspec::new_with_index(index)
            .setns_by_fd(netns)
            .name(new_name.to_string())
            .build();
        // The flags rtnetlink's `link().set()` sends.
        let message = RouteNetlinkMessage::SetLink(msg);
        self.request(op, iface, message, NLM_F_EXCL | NLM_F_CREATE)
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
        // The flags rtnetlink's `link().set()` sends.
        self.request(
            op,
            iface,
            RouteNetlinkMessage::SetLink(msg),
            NLM_F_EXCL | NLM_F_CREATE,
        )
        .await
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
        self.request(op, iface, RouteNetlinkMessage::NewLink(msg), 0)
            .await
    }

    /// RTM_DELLINK by index.
    pub(crate) async fn delete_link(&self, op: Op, iface: &str, index: u32) -> Result<()> {
        let msg = LinkUnspec::new_with_index(index).build();
        self.request(op, iface, RouteNetlinkMessage::DelLink(msg), 0)
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
        self.request(op, iface, RouteNetlinkMessage::NewLink(msg), 0)
            .await
    }

    /// RTM_DELLINK by name.
    pub(crate) async fn delete_link_by_name(&self, op: Op, name: &str) -> Result<()> {
        let msg = LinkUnspec::new_with_name(name).build();
        self.request(op, name, RouteNetlinkMessage::DelLink(msg), 0)
            .await
    }
}

/// Asks the kernel to leave the statistics out of link answers
/// (RTEXT_FILTER_SKIP_STATS): they are most of each message, and unused
/// but where counters are asked for.
pub(super) fn skip_stats(msg: &mut LinkMessage) {
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
            b = b.append_info_data(option.to_info());
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

impl PortOptions {
    /// The options set here as one list for the message, built in one go
    /// (an attach sends it on every port it configures).
    fn apply(&self, b: LinkMessageBuilder<LinkBridgePort>) -> LinkMessageBuilder<LinkBridgePort> {
        let infos = self.infos();
        if infos.is_empty() {
            return b;
        }
        b.set_port_data(InfoPortData::BridgePort(infos))
    }
}

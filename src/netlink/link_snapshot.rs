//! A link as one RTM_NEWLINK message tells it: [`LinkSnapshot`], parsed
//! from netlink-packet-route's message, with the bridge and port options
//! and the IPv6 state bridgekit reads back.

use macaddr::MacAddr6;
use netlink_packet_route::AddressFamily;
use netlink_packet_route::link::{
    AfSpecInet6, AfSpecUnspec, BridgePortState, In6AddrGenMode, InfoBridge, InfoBridgePort,
    InfoData, InfoPortData, LinkAttribute, LinkFlags, LinkInfo, LinkMessage, State,
};

use crate::values::bridge_option::{BridgeOption, BridgeOptionKind};
use crate::values::counters::Counters;
use crate::values::link_state::{OperState, PortState};
use crate::values::vlan::VlanProtocol;

use crate::values::port_option::PortOptions;

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
    /// A VXLAN device's settings, as the kernel reports them.
    pub vxlan: Option<super::vxlan::VxlanParams>,
    /// Its counters (IFLA_STATS64), when the request did not skip them.
    pub counters: Option<Counters>,
    /// The kind of its root qdisc (`IFLA_QDISC`: `noqueue`, `fq_codel`,
    /// `tbf`), where the kernel says.
    pub qdisc: Option<String>,
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

    pub(super) fn parse(m: &LinkMessage) -> Self {
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
            vxlan: None,
            counters: None,
            qdisc: None,
        };
        for attr in &m.attributes {
            match attr {
                LinkAttribute::IfName(n) => s.name = n.clone(),
                LinkAttribute::Address(a) if a.len() == 6 => {
                    s.mac = Some(MacAddr6::new(a[0], a[1], a[2], a[3], a[4], a[5]))
                }
                LinkAttribute::Mtu(v) => s.mtu = *v,
                LinkAttribute::Qdisc(q) => s.qdisc = Some(q.clone()),
                LinkAttribute::Carrier(c) => s.carrier = *c != 0,
                LinkAttribute::OperState(st) => s.operstate = OperState::from_kernel(*st),
                LinkAttribute::Controller(i) if *i != 0 => s.master = Some(*i),
                LinkAttribute::LinkInfo(infos) => s.parse_link_info(infos),
                LinkAttribute::Stats64(st) => s.counters = Some(counters(st)),
                // AF_BRIDGE messages carry a port's STP state in
                // IFLA_PROTINFO.
                LinkAttribute::ProtoInfoBridge(infos) => {
                    if let Some(st) = port_state_of(infos) {
                        s.port_state = Some(st);
                    }
                }
                LinkAttribute::AfSpecUnspec(specs) => {
                    if let Some(st) = ipv6_state_of(specs) {
                        s.ipv6 = Some(st);
                    }
                }
                _ => {}
            }
        }
        s
    }

    /// The snapshot with its counters only where they were asked for:
    /// some kernels send a link's statistics whether asked to skip them or
    /// not, and an answer must not depend on that.
    pub(crate) fn counted(mut self, asked: bool) -> Self {
        if !asked {
            self.counters = None;
        }
        self
    }

    fn parse_link_info(&mut self, infos: &[LinkInfo]) {
        for info in infos {
            match info {
                LinkInfo::Kind(kind) => self.kind = Some(kind.to_string()),
                LinkInfo::PortData(InfoPortData::BridgePort(opts)) => self.parse_port_data(opts),
                LinkInfo::Data(InfoData::Vxlan(info)) => {
                    self.vxlan = Some(super::vxlan::VxlanParams::parse(info));
                }
                LinkInfo::Data(InfoData::Bridge(opts)) => self.parse_bridge_data(opts),
                _ => {}
            }
        }
    }

    /// A bridge port's options (IFLA_INFO_SLAVE_DATA).
    fn parse_port_data(&mut self, opts: &[InfoBridgePort]) {
        // The kernel reports a backup port only when there is one.
        let mut p = PortOptions {
            backup_port: Some(0),
            ..PortOptions::default()
        };
        for o in opts {
            if let InfoBridgePort::State(st) = o {
                self.port_state = Some(PortState::from_kernel(*st));
            } else {
                p.read(o);
            }
        }
        self.port = Some(p);
    }

    /// A bridge's own options (IFLA_INFO_DATA).
    fn parse_bridge_data(&mut self, opts: &[InfoBridge]) {
        for o in opts {
            match o {
                InfoBridge::StpState(st) => {
                    self.stp = Some(*st != netlink_packet_route::link::BridgeStpState::Disabled)
                }
                InfoBridge::ForwardDelay(v) => self.forward_delay_cs = Some(*v),
                InfoBridge::AgeingTime(v) => self.ageing_time_cs = Some(*v),
                InfoBridge::VlanFiltering(v) => self.vlan_filtering = Some(*v),
                InfoBridge::VlanDefaultPvid(v) => self.default_pvid = Some(*v),
                InfoBridge::VlanProtocol(p) => {
                    use netlink_packet_route::link::VlanProtocol as Kernel;
                    self.vlan_protocol = Some(match *p {
                        Kernel::Ieee8021Q => VlanProtocol::Dot1Q,
                        Kernel::Ieee8021Ad => VlanProtocol::Dot1Ad,
                        // Kept as the kernel said it, not mapped to a default.
                        other => VlanProtocol::Other(u16::from(other)),
                    })
                }
                other => self.bridge_options.extend(BridgeOption::from_info(other)),
            }
        }
    }

    /// The reported value of the bridge option of `kind`.
    pub(crate) fn bridge_option(&self, kind: BridgeOptionKind) -> Option<BridgeOption> {
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

/// A port's STP state from IFLA_PROTINFO: netlink-packet-route leaves
/// IFLA_BRPORT_STATE (type 1, one byte) unparsed.
fn port_state_of(infos: &[netlink_packet_route::link::LinkProtoInfoBridge]) -> Option<PortState> {
    let mut state = None;
    for info in infos {
        if let netlink_packet_route::link::LinkProtoInfoBridge::Other(nla) = info {
            use rtnetlink::packet_core::Nla;
            if nla.kind() == 1 && nla.value_len() == 1 {
                let mut v = [0u8; 1];
                nla.emit_value(&mut v);
                state = Some(PortState::from_kernel(BridgePortState::from(v[0])));
            }
        }
    }
    state
}

/// The link's IPv6 state from IFLA_AF_SPEC (none: the link has no IPv6).
fn ipv6_state_of(specs: &[AfSpecUnspec]) -> Option<Ipv6LinkState> {
    let mut out = None;
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
                        // IFLA_INET6_ADDR_GEN_MODE, which follows, says it
                        // again where it parses; on 5.10 it does not (the
                        // kernel shows `none`, the parse gives nothing), so
                        // the devconf array's copy (4.11+) stands in.
                        if st.auto_link_local.is_none() {
                            st.auto_link_local = Some(conf.addr_gen_mode != 1);
                        }
                    }
                    AfSpecInet6::AddrGenMode(mode) => {
                        st.auto_link_local = Some(*mode != In6AddrGenMode::None)
                    }
                    _ => {}
                }
            }
            out = Some(st);
        }
    }
    out
}

/// The counters bridgekit reports, of the kernel's `rtnl_link_stats64`.
fn counters(st: &netlink_packet_route::link::Stats64) -> Counters {
    Counters {
        rx_bytes: st.rx_bytes,
        rx_packets: st.rx_packets,
        rx_errors: st.rx_errors,
        rx_dropped: st.rx_dropped,
        multicast: st.multicast,
        tx_bytes: st.tx_bytes,
        tx_packets: st.tx_packets,
        tx_errors: st.tx_errors,
        tx_dropped: st.tx_dropped,
    }
}

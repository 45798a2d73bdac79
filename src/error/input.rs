//! [`InputKind`]: which input an [`Error::InvalidInput`](crate::Error::InvalidInput)
//! rejected, to match on.

use std::fmt;

use super::Error;

/// Which kind of input bridgekit rejected before sending anything to the
/// kernel: the `what` of [`Error::InvalidInput`](crate::Error::InvalidInput),
/// for callers that react to one kind (ask the user for another name, pick
/// another VLAN) without parsing the message.
///
/// ```
/// use bridgekit::{Error, IfName, InputKind};
/// match IfName::new("a/b") {
///     Err(Error::InvalidInput { what: InputKind::InterfaceName, .. }) => {}
///     other => panic!("{other:?}"),
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InputKind {
    /// An interface name (1-15 bytes, no `/`, `:` or whitespace), a tap's included.
    InterfaceName,
    /// An interface index (0 names no interface).
    Ifindex,
    /// A MAC address: unparsable, or not unicast where an interface needs its own.
    MacAddress,
    /// An MTU out of range, or too small for what the interface carries (IPv6, a VXLAN port).
    Mtu,
    /// One VLAN id (1-4094).
    VlanId,
    /// A VLAN range or list (overlapping, reversed, a second PVID).
    VlanList,
    /// A VXLAN network identifier (0-16777215), or its presence on a device.
    Vni,
    /// A VLAN-to-VNI tunnel map or list.
    VlanTunnel,
    /// An IP address or network (unparsable, multicast, a link-local prefix).
    Address,
    /// A prefix length out of range for its address family.
    PrefixLength,
    /// A port: given twice, of another bridge, or missing where it was named.
    Port,
    /// A port option (cost, priority, group_fwd_mask, multicast router, backup port).
    PortOption,
    /// A bridge option (a timer out of range, STP with too short a forward delay, the VLAN protocol).
    BridgeOption,
    /// IPv6 settings that contradict each other (an IPv6 address with IPv6
    /// off, router advertisements with IPv6 off, a bridge taken down that
    /// was to be ready for IPv6).
    Ipv6Settings,
    /// A queue count (multi-queue tap or macvtap).
    QueueCount,
    /// A VXLAN device's settings (UDP port, TTL, local VTEP), or an
    /// existing device that differs from them.
    Vxlan,
    /// A VXLAN remote (VTEP, MAC, UDP port).
    Remote,
    /// A serialized document that does not deserialize into a config.
    Document,
    /// A guest guard: no guest MAC where its rules need one, or a guard
    /// table name nf_tables would not take.
    Guard,
    /// A forward mode: an uplink where the mode takes none, the bridge as
    /// its own uplink, a NAT or routed bridge without an address to
    /// forward for.
    Forward,
    /// A tap's offloads in a shape the kernel refuses (a segmentation
    /// offload without csum, uso4 without uso6), or a virtio-net header
    /// size bridgekit does not set (other than 10 or 12), or either on a
    /// tap without a header.
    Offloads,
    /// A bandwidth limit the kernel cannot take: a zero rate, a peak not
    /// above the average, a burst smaller than one frame of the port.
    Bandwidth,
}

impl InputKind {
    /// The kind in words, as error messages name it.
    pub fn describe(self) -> &'static str {
        match self {
            InputKind::InterfaceName => "interface name",
            InputKind::Ifindex => "interface index",
            InputKind::MacAddress => "MAC address",
            InputKind::Mtu => "MTU",
            InputKind::VlanId => "VLAN id",
            InputKind::VlanList => "VLAN list",
            InputKind::Vni => "VNI",
            InputKind::VlanTunnel => "VLAN tunnel",
            InputKind::Address => "address",
            InputKind::PrefixLength => "prefix length",
            InputKind::Port => "port",
            InputKind::PortOption => "port option",
            InputKind::BridgeOption => "bridge option",
            InputKind::Ipv6Settings => "IPv6 settings",
            InputKind::QueueCount => "queue count",
            InputKind::Vxlan => "VXLAN device",
            InputKind::Remote => "VXLAN remote",
            InputKind::Document => "document",
            InputKind::Guard => "guest guard",
            InputKind::Forward => "forward mode",
            InputKind::Offloads => "tap offloads",
            InputKind::Bandwidth => "bandwidth limit",
        }
    }
}

impl fmt::Display for InputKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// A rejected input kept by a builder (whose setters cannot fail) until
/// its `validate` returns it as [`Error::InvalidInput`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BadInput {
    pub(crate) what: InputKind,
    pub(crate) input: String,
    pub(crate) reason: String,
}

impl BadInput {
    /// Keeps `e` in `slot` when it is the builder's first bad input (a
    /// later one is not kept: `validate` reports the first).
    pub(crate) fn keep_first(slot: &mut Option<BadInput>, e: Error) {
        if slot.is_none() {
            *slot = e.invalid_parts().ok();
        }
    }

    pub(crate) fn to_error(&self) -> Error {
        Error::invalid(self.what, self.input.clone(), self.reason.clone())
    }
}

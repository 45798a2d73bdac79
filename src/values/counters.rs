//! A link's traffic counters ([`Counters`]), as the kernel keeps them
//! (`struct rtnl_link_stats64`, `ip -s link`).

/// A link's traffic counters since it was made, as the kernel keeps them
/// for the link (`ip -s link show DEV`). For a guest's tap
/// ([`VmNic`](crate::VmNic)) or a veth's host end
/// ([`VethNic`](crate::VethNic)), `rx` is what the guest sent and `tx`
/// what it was sent; a macvtap ([`MacvtapNic`](crate::MacvtapNic)) stands
/// for the guest's own interface on the lower device, so there `rx` is
/// what came in for the guest and `tx` what it sent. From
/// [`Bridge::port_counters`](crate::Bridge::port_counters),
/// [`Bridge::ports_with_counters`](crate::Bridge::ports_with_counters) and
/// the NICs' `counters()`.
///
/// ```
/// let c = bridgekit::Counters::default();
/// assert_eq!(c.rx_bytes + c.tx_bytes, 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Counters {
    /// Bytes received.
    pub rx_bytes: u64,
    /// Packets received.
    pub rx_packets: u64,
    /// Received packets with errors.
    pub rx_errors: u64,
    /// Received packets dropped (no room, or nothing to take them).
    pub rx_dropped: u64,
    /// Multicast packets received.
    pub multicast: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Packets sent.
    pub tx_packets: u64,
    /// Packets that failed to go out.
    pub tx_errors: u64,
    /// Packets dropped on the way out (a tap whose queue was full, or
    /// that no one reads).
    pub tx_dropped: u64,
}

//! Link and port states as the kernel reports them: plain values (their
//! conversions from netlink types are in `netlink/link_snapshot.rs`).

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

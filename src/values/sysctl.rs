//! The names of the IPv6 per-interface sysctls bridgekit manages (a leaf:
//! writing them is `engine/ipv6.rs`'s job).

use std::fmt;

/// One of the IPv6 per-interface settings (sysctls) that bridgekit manages
/// on a bridge; see [`BridgeConfig::accept_ra`](crate::BridgeConfig::accept_ra)
/// and the crate's Security section.
///
/// ```
/// use bridgekit::Ipv6Sysctl;
/// assert_eq!(Ipv6Sysctl::AcceptRa.to_string(), "accept_ra");
/// assert_eq!(Ipv6Sysctl::AcceptRa.path("virbr0"), "/proc/sys/net/ipv6/conf/virbr0/accept_ra");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Ipv6Sysctl {
    /// `accept_ra`: whether the interface takes router advertisements
    /// (addresses, default routes, MTU and hop limit) from its link.
    AcceptRa,
    /// `autoconf`: whether it makes addresses from advertised prefixes (SLAAC).
    Autoconf,
    /// `disable_ipv6`: IPv6 off on the interface (no address, not even link-local).
    DisableIpv6,
}

impl Ipv6Sysctl {
    /// The sysctl's name under `net.ipv6.conf.<iface>`.
    ///
    /// ```
    /// assert_eq!(bridgekit::Ipv6Sysctl::DisableIpv6.name(), "disable_ipv6");
    /// ```
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Ipv6Sysctl::AcceptRa => "accept_ra",
            Ipv6Sysctl::Autoconf => "autoconf",
            Ipv6Sysctl::DisableIpv6 => "disable_ipv6",
        }
    }

    /// Where the kernel takes it for `iface`, in the reader's network namespace.
    ///
    /// ```
    /// assert_eq!(bridgekit::Ipv6Sysctl::Autoconf.path("br0"), "/proc/sys/net/ipv6/conf/br0/autoconf");
    /// ```
    #[must_use]
    pub fn path(self, iface: &str) -> String {
        format!("{IPV6_SYSCTLS}/conf/{iface}/{}", self.name())
    }
}

/// Where the kernel keeps its IPv6 sysctls; absent when IPv6 is off.
pub(crate) const IPV6_SYSCTLS: &str = "/proc/sys/net/ipv6";

impl fmt::Display for Ipv6Sysctl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A namespace-wide sysctl bridgekit switches on for a bridge's forward
/// mode ([`Forward`](crate::Forward)): the host then routes for the
/// bridge's guests. It holds for every interface of the network
/// namespace, not only the bridge; bridgekit turns it on and never off
/// (other bridges, or the host's own routing, may need it), except to
/// undo a failed `apply` that turned it on.
///
/// ```
/// use bridgekit::NetSysctl;
/// assert_eq!(NetSysctl::Ipv4Forward.to_string(), "net.ipv4.ip_forward");
/// assert_eq!(NetSysctl::Ipv6Forward.path(), "/proc/sys/net/ipv6/conf/all/forwarding");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NetSysctl {
    /// `net.ipv4.ip_forward`: IPv4 packets are forwarded between
    /// interfaces.
    Ipv4Forward,
    /// `net.ipv6.conf.all.forwarding`: IPv6 packets are forwarded between
    /// interfaces; the kernel then also ignores router advertisements on
    /// interfaces whose `accept_ra` is 1 (2 takes them anyway).
    Ipv6Forward,
}

impl NetSysctl {
    /// Its name, as `sysctl` writes it.
    ///
    /// ```
    /// assert_eq!(bridgekit::NetSysctl::Ipv6Forward.name(), "net.ipv6.conf.all.forwarding");
    /// ```
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            NetSysctl::Ipv4Forward => "net.ipv4.ip_forward",
            NetSysctl::Ipv6Forward => "net.ipv6.conf.all.forwarding",
        }
    }

    /// Where the kernel takes it, in the reader's network namespace.
    ///
    /// ```
    /// assert_eq!(bridgekit::NetSysctl::Ipv4Forward.path(), "/proc/sys/net/ipv4/ip_forward");
    /// ```
    #[must_use]
    pub fn path(self) -> &'static str {
        match self {
            NetSysctl::Ipv4Forward => "/proc/sys/net/ipv4/ip_forward",
            NetSysctl::Ipv6Forward => "/proc/sys/net/ipv6/conf/all/forwarding",
        }
    }
}

impl fmt::Display for NetSysctl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::Ipv6Sysctl;

    #[test]
    fn names_and_paths() {
        assert_eq!(
            Ipv6Sysctl::DisableIpv6.path("br0"),
            "/proc/sys/net/ipv6/conf/br0/disable_ipv6"
        );
        assert_eq!(Ipv6Sysctl::Autoconf.to_string(), "autoconf");
    }
}

//! The running kernel: its version, and the version that added each bridge
//! feature bridgekit offers where kernels differ, so that a missing feature
//! is named together with the kernel that has it.

use std::fmt;

/// A Linux kernel version, major.minor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct KernelVersion(pub u32, pub u32);

impl KernelVersion {
    /// The running kernel's (`uname -r`); `None` when it cannot be read.
    pub(crate) fn running() -> Option<Self> {
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").ok()?;
        Self::parse(&release)
    }

    fn parse(release: &str) -> Option<Self> {
        let mut parts = release
            .trim()
            .split(|c: char| !c.is_ascii_digit())
            .map(|p| p.parse::<u32>().ok());
        match (parts.next().flatten(), parts.next().flatten()) {
            (Some(a), Some(b)) => Some(KernelVersion(a, b)),
            _ => None,
        }
    }

    /// Whether the running kernel is at least this version; false when
    /// its version cannot be read, so callers stay careful.
    pub(crate) fn is_running(self) -> bool {
        Self::running().is_some_and(|k| k >= self)
    }
}

impl fmt::Display for KernelVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

/// The kernel that added each bridge port option bridgekit sets
/// (`IFLA_BRPORT_*`), by the name `PortOptions::mismatches` uses. A kernel
/// older than an option's version ignores it and still answers Ok.
const PORT_OPTIONS: &[(&str, KernelVersion)] = &[
    ("cost", KernelVersion(3, 8)),
    ("priority", KernelVersion(3, 8)),
    ("hairpin", KernelVersion(3, 8)),
    ("guard", KernelVersion(3, 8)),
    ("root_block", KernelVersion(3, 8)),
    ("multicast fast leave", KernelVersion(3, 8)),
    ("proxy_arp", KernelVersion(3, 19)),
    ("multicast router", KernelVersion(4, 2)),
    ("group_fwd_mask", KernelVersion(4, 15)),
    ("learning", KernelVersion(3, 11)),
    ("unicast flood", KernelVersion(3, 11)),
    ("multicast flood", KernelVersion(4, 9)),
    ("broadcast flood", KernelVersion(4, 11)),
    ("neighbour suppression", KernelVersion(4, 15)),
    ("isolated", KernelVersion(4, 18)),
    ("backup_port", KernelVersion(4, 20)),
    ("locked", KernelVersion(5, 18)),
    ("mab", KernelVersion(6, 2)),
    ("neigh_vlan_suppress", KernelVersion(6, 4)),
    ("vlan_tunnel", KernelVersion(4, 11)),
];

/// Whether the running kernel (`running`) knows every port option in
/// `names`, so that its acknowledgement of them is truthful. `false` when
/// the version is unknown, so callers stay careful.
pub(crate) fn port_options_known(running: Option<KernelVersion>, names: &[&str]) -> bool {
    let Some(running) = running else {
        return false;
    };
    names
        .iter()
        .all(|n| port_option_since(n).is_some_and(|since| since <= running))
}

/// Whether `running` is at least as new as every port option: the answer
/// for most hosts, found without listing the options a change sets.
pub(crate) fn knows_all_port_options(running: KernelVersion) -> bool {
    PORT_OPTIONS.iter().all(|(_, since)| *since <= running)
}

/// The kernel that added the port option `what`.
pub(crate) fn port_option_since(what: &str) -> Option<KernelVersion> {
    PORT_OPTIONS
        .iter()
        .find(|(name, _)| *name == what)
        .map(|(_, v)| *v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_and_order() {
        assert_eq!(
            KernelVersion::parse("5.10.0-32-amd64"),
            Some(KernelVersion(5, 10))
        );
        assert_eq!(
            KernelVersion::parse("6.12.117+deb13-amd64\n"),
            Some(KernelVersion(6, 12))
        );
        assert!(KernelVersion(5, 10) < KernelVersion(6, 1));
        assert!(KernelVersion(4, 18) > KernelVersion(4, 9));
        assert_eq!(KernelVersion::parse("garbage"), None);
        assert_eq!(port_option_since("isolated"), Some(KernelVersion(4, 18)));
        let k = |a, b| Some(KernelVersion(a, b));
        assert!(port_options_known(k(4, 18), &["isolated", "learning"]));
        assert!(!port_options_known(k(5, 10), &["locked"]));
        assert!(port_options_known(k(6, 1), &["locked"]));
        assert!(!port_options_known(None, &["cost"]));
        assert!(!port_options_known(k(6, 1), &["an option nobody knows"]));
        assert_eq!(KernelVersion(4, 18).to_string(), "4.18");
    }
}

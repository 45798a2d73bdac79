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
    ("learning", KernelVersion(3, 11)),
    ("unicast flood", KernelVersion(3, 11)),
    ("multicast flood", KernelVersion(4, 9)),
    ("broadcast flood", KernelVersion(4, 11)),
    ("neighbour suppression", KernelVersion(4, 15)),
    ("isolated", KernelVersion(4, 18)),
];

/// The newest port option bridgekit sends: from this kernel on, every
/// option is known, and the kernel's acknowledgement is truthful.
pub(crate) const ALL_PORT_OPTIONS_KNOWN: KernelVersion = KernelVersion(4, 18);

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
        assert_eq!(port_option_since("isolated"), Some(ALL_PORT_OPTIONS_KNOWN));
        assert_eq!(KernelVersion(4, 18).to_string(), "4.18");
    }
}

//! The running kernel's version, so that a missing feature is named
//! together with the kernel that has it. Which kernel added each port
//! option is a column of the port option table (`values/port_option.rs`).

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

/// Whether making an IFB would load the `ifb` module on demand: a kernel
/// with loadable modules (`/proc/modules` is there) that has not loaded
/// it. Loaded that way it takes its default `numifbs=2` and makes `ifb0`
/// and `ifb1` in the initial network namespace, the host's. A kernel
/// built without modules, or with `ifb` built in or loaded, makes none.
pub(crate) fn ifb_would_autoload() -> bool {
    match std::fs::read_to_string("/proc/modules") {
        Ok(modules) => !modules.lines().any(|l| l.starts_with("ifb ")),
        Err(_) => false,
    }
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
        assert_eq!(KernelVersion(4, 18).to_string(), "4.18");
    }
}

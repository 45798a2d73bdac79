//! `IfName`: a Linux interface name that the kernel will accept. Its
//! checks (`IfName::new`, `parse`, `TryFrom`) are in `name_check.rs`, so
//! that the error type can carry names without the two importing each
//! other.

use std::fmt;

/// Longest interface name the kernel accepts, in bytes (`IFNAMSIZ - 1`).
pub const IFNAME_MAX_LEN: usize = 15;

/// A validated Linux interface name.
///
/// Holds the rules of the kernel's `dev_valid_name()`: 1 to 15 bytes, no
/// `/`, `:`, whitespace or NUL, and not `.` or `..`. Bad names are rejected
/// here, before any netlink traffic.
///
/// ```
/// use bridgekit::IfName;
/// let name = IfName::new("virbr0")?;
/// assert_eq!(name.as_str(), "virbr0");
/// assert!(IfName::new("this-name-is-too-long").is_err());
/// assert!("eth0:1".parse::<IfName>().is_err());
/// # Ok::<(), bridgekit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IfName(pub(super) String);

impl IfName {
    /// The name as a string slice.
    ///
    /// ```
    /// # use bridgekit::IfName;
    /// assert_eq!(IfName::new("br0")?.as_str(), "br0");
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IfName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for IfName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for IfName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl IfName {
    /// A name the kernel reported, or one bridgekit already checked
    /// (an `IfName`, or `#index` for a link known by index only): valid
    /// by construction (the kernel refuses any other), so not checked
    /// again.
    pub(crate) fn from_kernel(name: impl AsRef<str>) -> Self {
        IfName(name.as_ref().to_string())
    }
}

/// Compare with text: `status.name == "br0"`.
impl PartialEq<str> for IfName {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for IfName {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<String> for IfName {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

impl PartialEq<IfName> for str {
    fn eq(&self, other: &IfName) -> bool {
        self == other.0
    }
}

impl PartialEq<IfName> for &str {
    fn eq(&self, other: &IfName) -> bool {
        *self == other.0
    }
}

impl PartialEq<IfName> for String {
    fn eq(&self, other: &IfName) -> bool {
        *self == other.0
    }
}

/// Eight hex digits, different for each call: for names that must not
/// clash with ones another process is making at the same moment.
pub(crate) fn random_tag() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNT.fetch_add(1, Ordering::Relaxed));
    h.write_u32(std::process::id());
    format!("{:08x}", h.finish() as u32)
}

//! `IfName`: a Linux interface name that the kernel will accept.

use crate::error::InputKind;
use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

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
pub struct IfName(String);

impl IfName {
    /// Validates `name` as an interface name.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the rule that `name` breaks.
    ///
    /// ```
    /// use bridgekit::IfName;
    /// let err = IfName::new("..").unwrap_err();
    /// assert_eq!(err.to_string(), "invalid interface name \"..\": \".\" and \"..\" are reserved");
    /// ```
    pub fn new(name: impl AsRef<str>) -> Result<Self> {
        let name = name.as_ref();
        let bad = |reason: &str| {
            Error::invalid(
                InputKind::InterfaceName,
                format!("interface name {name:?}"),
                reason,
            )
        };
        if name.is_empty() {
            return Err(bad("empty"));
        }
        if name.len() > IFNAME_MAX_LEN {
            return Err(bad(&format!(
                "{} bytes long, the kernel allows at most {IFNAME_MAX_LEN}",
                name.len()
            )));
        }
        if name == "." || name == ".." {
            return Err(bad("\".\" and \"..\" are reserved"));
        }
        if let Some(c) = name
            .chars()
            .find(|c| *c == '/' || *c == ':' || *c == '\0' || c.is_whitespace())
        {
            let reason = match c {
                '\0' => "contains a NUL byte".to_string(),
                '/' | ':' => format!("contains {c:?}"),
                _ => format!("contains whitespace ({c:?})"),
            };
            return Err(bad(&reason));
        }
        Ok(IfName(name.to_string()))
    }

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

impl FromStr for IfName {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        IfName::new(s)
    }
}

impl TryFrom<&str> for IfName {
    type Error = Error;
    fn try_from(s: &str) -> Result<Self> {
        IfName::new(s)
    }
}

impl TryFrom<String> for IfName {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        IfName::new(s)
    }
}

impl TryFrom<&std::ffi::OsStr> for IfName {
    type Error = Error;
    /// Accepts only UTF-8 names: bridgekit's names are strings.
    fn try_from(s: &std::ffi::OsStr) -> Result<Self> {
        match s.to_str() {
            Some(s) => IfName::new(s),
            None => Err(Error::invalid(
                InputKind::InterfaceName,
                format!("interface name {s:?}"),
                "not valid UTF-8",
            )),
        }
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
    /// A name the kernel reported: valid by construction (the kernel
    /// refuses any other), so not checked again.
    pub(crate) fn from_kernel(name: String) -> Self {
        IfName(name)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_kernel_valid_names() {
        for ok in [
            "br0",
            "virbr0",
            "a",
            "x".repeat(15).as_str(),
            "vnet-1.2_x",
            "ü",
        ] {
            assert!(IfName::new(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_each_rule() {
        let cases = [
            ("", "empty"),
            ("0123456789abcdef", "16 bytes"),
            (".", "reserved"),
            ("..", "reserved"),
            ("a/b", "'/'"),
            ("eth0:1", "':'"),
            ("a b", "whitespace"),
            ("a\tb", "whitespace"),
            ("a\nb", "whitespace"),
            ("a\0b", "NUL"),
            ("ääääääää", "16 bytes"),
        ];
        for (name, why) in cases {
            let err = IfName::new(name).unwrap_err().to_string();
            assert!(err.contains(why), "{name:?}: {err}");
        }
    }

    #[test]
    fn rejects_non_utf8_os_str() {
        use std::os::unix::ffi::OsStrExt;
        let raw = std::ffi::OsStr::from_bytes(b"br\xff");
        assert!(matches!(
            IfName::try_from(raw),
            Err(Error::InvalidInput { .. })
        ));
    }
}

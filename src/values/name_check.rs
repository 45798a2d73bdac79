//! The checks that make an [`IfName`]: `IfName::new`, `FromStr` and
//! `TryFrom`, which refuse what the kernel's `dev_valid_name()` would.

use std::str::FromStr;

use super::name::{IFNAME_MAX_LEN, IfName};
use crate::error::{Error, InputKind, Result};

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

//! libvirt compatibility: the dummy `<bridge>-nic` tap that libvirt before
//! 6.1 attached to every bridge, and its removal.

use tracing::warn;

use crate::error::{Error, Op, Result};
use crate::netlink::{LinkRef, Netlink};
use crate::values::name::IfName;

/// The name libvirt gave the dummy tap of `bridge`: `<bridge>-nic` when the
/// bridge name is at most 11 bytes, else its first 8 bytes, its last 3
/// bytes and `-nic` (so the result fits the 15-byte limit).
///
/// Returns `None` only when a cut falls inside a multi-byte UTF-8 character,
/// where libvirt's byte-wise name is not valid UTF-8 and no [`IfName`] can
/// hold it.
///
/// ```
/// use bridgekit::{legacy_nic_name, IfName};
/// assert_eq!(legacy_nic_name(&IfName::new("virbr0")?).unwrap().as_str(), "virbr0-nic");
/// assert_eq!(legacy_nic_name(&IfName::new("verylongbr123")?).unwrap().as_str(), "verylong123-nic");
/// # Ok::<(), bridgekit::Error>(())
/// ```
#[must_use]
pub fn legacy_nic_name(bridge: &IfName) -> Option<IfName> {
    let b = bridge.as_str().as_bytes();
    let bytes = if b.len() <= 11 {
        [b, b"-nic"].concat()
    } else {
        [&b[..8], &b[b.len() - 3..], b"-nic"].concat()
    };
    IfName::new(String::from_utf8(bytes).ok()?).ok()
}

/// What [`Bridge::delete`](crate::Bridge::delete) found of a legacy libvirt dummy tap.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LegacyNic {
    /// No interface of the legacy name exists.
    Absent,
    /// A tun/tap device of the legacy name existed and was deleted.
    Removed(IfName),
    /// An interface of the legacy name exists but is not a tun/tap device:
    /// it is not ours to delete and was left alone.
    LeftAlone {
        /// Its name.
        name: IfName,
        /// Its link kind (`veth`, `bridge`, `device`, ...).
        kind: String,
    },
}

/// In words: `no legacy tap`, `legacy tap virbr0-nic removed`.
///
/// ```
/// assert_eq!(bridgekit::LegacyNic::Absent.to_string(), "no legacy tap");
/// ```
impl std::fmt::Display for LegacyNic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LegacyNic::Absent => f.write_str("no legacy tap"),
            LegacyNic::Removed(n) => write!(f, "legacy tap {n} removed"),
            LegacyNic::LeftAlone { name, kind } => {
                write!(f, "{name} left alone (a {kind}, not a tap)")
            }
        }
    }
}

/// Deletes the legacy dummy tap of `bridge` if it is a tun/tap device.
pub(crate) async fn remove_legacy_nic(nl: &Netlink, bridge: &IfName) -> Result<LegacyNic> {
    let Some(name) = legacy_nic_name(bridge) else {
        return Ok(LegacyNic::Absent);
    };
    let link = match nl
        .link(
            Op::RemoveLegacyNic,
            name.as_str(),
            LinkRef::Name(name.as_str()),
        )
        .await
    {
        Ok(link) => link,
        Err(Error::NotFound { .. }) => return Ok(LegacyNic::Absent),
        Err(e) => return Err(e),
    };
    if link.kind.as_deref() != Some("tun") {
        let kind = link.kind_name();
        warn!(%name, %kind, "legacy libvirt dummy tap name is used by a non-tap interface; left alone");
        return Ok(LegacyNic::LeftAlone { name, kind });
    }
    match nl
        .delete_link(Op::RemoveLegacyNic, name.as_str(), link.index)
        .await
    {
        Ok(()) | Err(Error::NotFound { .. }) => Ok(LegacyNic::Removed(name)),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_libvirt_rule() {
        let cases = [
            ("virbr0", "virbr0-nic"),
            ("a", "a-nic"),
            ("elevenbytes", "elevenbytes-nic"),
            ("twelve_bytes", "twelve_btes-nic"),
            ("verylongbr123", "verylong123-nic"),
            ("fifteen_bytes_x", "fifteen_s_x-nic"),
        ];
        for (br, nic) in cases {
            let got = legacy_nic_name(&IfName::new(br).unwrap()).unwrap();
            assert_eq!(got.as_str(), nic, "{br}");
            assert!(got.as_str().len() <= 15);
        }
    }

    #[test]
    fn cut_inside_a_character_is_none() {
        // 12 bytes: the 8-byte cut splits the 'é' (bytes 7..9).
        let br = IfName::new("abcdefgé123").unwrap();
        assert_eq!(br.as_str().len(), 12);
        assert_eq!(legacy_nic_name(&br), None);
    }
}

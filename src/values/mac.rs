//! MAC address rules for interfaces, and the EUI-64 link-local address
//! derived from a MAC.

use crate::error::InputKind;
use std::net::Ipv6Addr;

use macaddr::MacAddr6;

use crate::error::{Error, Result};

/// Something that names a MAC address: a [`MacAddr6`], its six bytes, or
/// a string as `ip link` prints it (`"52:54:00:12:34:56"`). A string that
/// is not a MAC is refused as [`Error::InvalidInput`], so calls can take
/// a literal and report a typed error with `?`.
///
/// ```
/// use bridgekit::ToMac;
/// assert!("52:54:00:12:34:56".to_mac().is_ok());
/// let err = "52:54:00:12:34".to_mac().unwrap_err();
/// assert!(err.to_string().starts_with("invalid MAC address \"52:54:00:12:34\""));
/// ```
pub trait ToMac {
    /// The MAC, or [`Error::InvalidInput`].
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a string that is not a MAC.
    fn to_mac(self) -> Result<MacAddr6>;
}

impl ToMac for MacAddr6 {
    fn to_mac(self) -> Result<MacAddr6> {
        Ok(self)
    }
}

impl ToMac for [u8; 6] {
    fn to_mac(self) -> Result<MacAddr6> {
        Ok(MacAddr6::from(self))
    }
}

impl ToMac for &str {
    fn to_mac(self) -> Result<MacAddr6> {
        self.trim().parse().map_err(|_| {
            Error::invalid(
                InputKind::MacAddress,
                format!("MAC address {self:?}"),
                "expected six hex bytes separated by ':' (52:54:00:12:34:56)",
            )
        })
    }
}

impl ToMac for String {
    fn to_mac(self) -> Result<MacAddr6> {
        self.as_str().to_mac()
    }
}

impl ToMac for &String {
    fn to_mac(self) -> Result<MacAddr6> {
        self.as_str().to_mac()
    }
}

/// `52:54:00:12:34:56`, as iproute2 writes a MAC (macaddr's Display is
/// upper case).
pub(crate) fn lower(mac: MacAddr6) -> String {
    let b = mac.into_array();
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        b[0], b[1], b[2], b[3], b[4], b[5]
    )
}

/// Checks that `mac` can be an interface's own address: unicast and not all zero.
///
/// The kernel refuses a multicast MAC with EADDRNOTAVAIL; we say why first.
pub(crate) fn validate_unicast(mac: MacAddr6) -> Result<MacAddr6> {
    let what = || format!("MAC address {mac}");
    if mac.is_nil() {
        return Err(Error::invalid(
            InputKind::MacAddress,
            what(),
            "all-zero address",
        ));
    }
    if mac.as_bytes()[0] & 1 == 1 {
        let reason = if mac.is_broadcast() {
            "broadcast address; an interface needs a unicast MAC"
        } else {
            "multicast address (low bit of the first byte is set); an interface needs a unicast MAC"
        };
        return Err(Error::invalid(InputKind::MacAddress, what(), reason));
    }
    Ok(mac)
}

/// The IPv6 link-local address `fe80::/64` + modified EUI-64 of `mac`
/// (RFC 4291 appendix A), the address the kernel's `addrgenmode eui64` gives.
///
/// ```
/// use bridgekit::ToMac;
/// let mac: macaddr::MacAddr6 = "52:54:00:12:34:56".to_mac()?;
/// assert_eq!(bridgekit::eui64_link_local(mac).to_string(), "fe80::5054:ff:fe12:3456");
/// # Ok::<(), bridgekit::Error>(())
/// ```
#[must_use]
pub fn eui64_link_local(mac: MacAddr6) -> Ipv6Addr {
    let m = mac.into_array();
    Ipv6Addr::from([
        0xfe,
        0x80,
        0,
        0,
        0,
        0,
        0,
        0,
        m[0] ^ 0x02,
        m[1],
        m[2],
        0xff,
        0xfe,
        m[3],
        m[4],
        m[5],
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_multicast_broadcast_zero() {
        for bad in [
            "01:00:5e:00:00:01",
            "ff:ff:ff:ff:ff:ff",
            "00:00:00:00:00:00",
            "33:33:00:00:00:01",
        ] {
            let mac: MacAddr6 = bad.parse().unwrap();
            assert!(
                matches!(validate_unicast(mac), Err(Error::InvalidInput { .. })),
                "{bad}"
            );
        }
        let ok: MacAddr6 = "52:54:00:00:00:01".parse().unwrap();
        assert_eq!(validate_unicast(ok).unwrap(), ok);
    }

    #[test]
    fn eui64_flips_universal_local_bit() {
        let mac: MacAddr6 = "00:11:22:33:44:55".parse().unwrap();
        assert_eq!(
            eui64_link_local(mac).to_string(),
            "fe80::211:22ff:fe33:4455"
        );
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn unicast_rule(b in any::<[u8; 6]>()) {
                let mac = MacAddr6::from(b);
                let ok = b != [0; 6] && b[0] & 1 == 0;
                prop_assert_eq!(validate_unicast(mac).is_ok(), ok);
                if ok {
                    let ll = eui64_link_local(mac).octets();
                    prop_assert_eq!(&ll[..8], &[0xfe, 0x80, 0, 0, 0, 0, 0, 0]);
                    prop_assert_eq!(ll[8], b[0] ^ 2);
                    prop_assert_eq!((ll[11], ll[12]), (0xff, 0xfe));
                }
            }
        }
    }
}

//! VXLAN Network Identifiers and the VXLAN constants: values, no kernel.

use crate::error::InputKind;
use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// The IANA port for VXLAN, bridgekit's default (the kernel's own default
/// is Linux's historical 8472).
pub const VXLAN_PORT: u16 = 4789;

/// Bytes a VXLAN encapsulation adds over an IPv4 underlay (outer Ethernet
/// 14, IPv4 20, UDP 8, VXLAN 8).
pub const VXLAN_OVERHEAD_V4: u32 = 50;

/// Bytes a VXLAN encapsulation adds over an IPv6 underlay (IPv6 header 40).
pub const VXLAN_OVERHEAD_V6: u32 = 70;

/// A VXLAN network identifier, 1..=16777215 (24 bits; 0 is refused, as
/// most control planes reserve it).
///
/// ```
/// use bridgekit::Vni;
/// assert_eq!(Vni::new(100)?.get(), 100);
/// assert!(Vni::new(0).is_err());
/// assert!(Vni::new(1 << 24).is_err());
/// assert_eq!("4096".parse::<Vni>()?.to_string(), "4096");
/// # Ok::<(), bridgekit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Vni(u32);

impl Vni {
    /// The largest VNI.
    pub const MAX: u32 = (1 << 24) - 1;

    /// A VNI, checked.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] outside 1..=16777215.
    ///
    /// ```
    /// let vni = bridgekit::Vni::new(42)?;
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    pub fn new(vni: u32) -> Result<Vni> {
        if (1..=Self::MAX).contains(&vni) {
            Ok(Vni(vni))
        } else {
            Err(Error::invalid(
                InputKind::Vni,
                format!("VNI {vni}"),
                format!("must be within 1..={}", Self::MAX),
            ))
        }
    }

    /// The number.
    ///
    /// ```
    /// assert_eq!(bridgekit::Vni::new(7)?.get(), 7);
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    #[must_use]
    pub fn get(self) -> u32 {
        self.0
    }
}

/// What [`VxlanConfig::new`](crate::VxlanConfig::new) takes as a VNI: a [`Vni`], or a plain number
/// (checked by [`Vxlan::create`](crate::Vxlan::create) and `apply`, with the rest of the config).
///
/// ```
/// use bridgekit::{ToVni, Vni};
/// assert_eq!(Vni::new(7)?.to_vni_number()?, 7);
/// assert_eq!(7u32.to_vni_number()?, 7);
/// assert!((-1i32).to_vni_number().is_err());
/// # Ok::<(), bridgekit::Error>(())
/// ```
pub trait ToVni {
    /// The number, or [`Error::InvalidInput`] for one no VNI can be.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a negative number.
    fn to_vni_number(self) -> Result<u32>;
}

impl ToVni for Vni {
    fn to_vni_number(self) -> Result<u32> {
        Ok(self.0)
    }
}

impl ToVni for u32 {
    fn to_vni_number(self) -> Result<u32> {
        Ok(self)
    }
}

/// A bare literal (`VxlanConfig::new("vx100", 100)`) is an `i32`.
impl ToVni for i32 {
    fn to_vni_number(self) -> Result<u32> {
        u32::try_from(self).map_err(|_| {
            Error::invalid(
                InputKind::Vni,
                format!("VNI {self}"),
                format!("must be within 1..={}", Vni::MAX),
            )
        })
    }
}

impl fmt::Display for Vni {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for Vni {
    type Err = Error;
    fn from_str(s: &str) -> Result<Vni> {
        let n = s
            .trim()
            .parse::<u32>()
            .map_err(|_| Error::invalid(InputKind::Vni, format!("VNI {s:?}"), "is not a number"))?;
        Vni::new(n)
    }
}

//! Interface addresses as values: what names one ([`ToAddress`]) and
//! what the kernel says of one ([`AddressStatus`]).

use crate::error::InputKind;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use crate::error::{Error, Result};

/// An address on an interface and the kernel's flags for it.
///
/// ```no_run
/// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
/// for a in br.addresses().await? {
///     println!("{} tentative={}", a.address, a.tentative);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct AddressStatus {
    /// The address and prefix length.
    #[cfg_attr(feature = "serde", serde(serialize_with = "crate::values::ser::net"))]
    pub address: IpNet,
    /// IPv6 DAD is still running (or waiting for carrier to start).
    pub tentative: bool,
    /// IPv6 DAD found a duplicate: the address is unusable.
    pub dad_failed: bool,
    /// Added with `nodad`: DAD is skipped.
    pub nodad: bool,
    /// Added by hand, not by autoconfiguration.
    pub permanent: bool,
    /// Optimistic DAD (RFC 4429): usable while DAD runs.
    pub optimistic: bool,
    /// Preferred lifetime over.
    pub deprecated: bool,
}

/// Something that names an interface address: an [`IpNet`] (or
/// [`Ipv4Net`]/[`Ipv6Net`]), an `(IpAddr, prefix_len)` pair, or a string
/// such as `"192.168.122.1/24"`.
///
/// Conversion checks the prefix length against the family and rejects
/// addresses an interface cannot own (unspecified, multicast, IPv4
/// broadcast) as [`Error::InvalidInput`], before any netlink traffic.
///
/// ```
/// use bridgekit::ToAddress;
/// assert!("192.168.122.1/24".to_address().is_ok());
/// assert!("fd00::1/129".to_address().is_err());
/// assert!((std::net::Ipv4Addr::new(10, 0, 0, 1), 33u8).to_address().is_err());
/// ```
pub trait ToAddress {
    /// Validates and converts.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] saying what is wrong.
    fn to_address(self) -> Result<IpNet>;
}

fn check_address(net: IpNet) -> Result<IpNet> {
    let bad = |why: &str| {
        Err(Error::invalid(
            InputKind::Address,
            format!("address {net}"),
            why,
        ))
    };
    let addr = net.addr();
    if addr.is_unspecified() {
        return bad("unspecified address");
    }
    if addr.is_multicast() {
        return bad("multicast address; an interface address must be unicast");
    }
    if addr == IpAddr::V4(Ipv4Addr::BROADCAST) {
        return bad("limited broadcast address");
    }
    Ok(net)
}

impl ToAddress for IpNet {
    fn to_address(self) -> Result<IpNet> {
        check_address(self)
    }
}
impl ToAddress for Ipv4Net {
    fn to_address(self) -> Result<IpNet> {
        check_address(self.into())
    }
}
impl ToAddress for Ipv6Net {
    fn to_address(self) -> Result<IpNet> {
        check_address(self.into())
    }
}
impl ToAddress for (IpAddr, u8) {
    fn to_address(self) -> Result<IpNet> {
        let (addr, len) = self;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let net = IpNet::new(addr, len).map_err(|_| {
            Error::invalid(
                InputKind::PrefixLength,
                format!("prefix length {len} for {addr}"),
                format!("must be 0..={max} for this address family"),
            )
        })?;
        check_address(net)
    }
}
impl ToAddress for (Ipv4Addr, u8) {
    fn to_address(self) -> Result<IpNet> {
        (IpAddr::V4(self.0), self.1).to_address()
    }
}
impl ToAddress for (Ipv6Addr, u8) {
    fn to_address(self) -> Result<IpNet> {
        (IpAddr::V6(self.0), self.1).to_address()
    }
}
impl ToAddress for &str {
    fn to_address(self) -> Result<IpNet> {
        let Some((addr, len)) = self.split_once('/') else {
            return Err(Error::invalid(
                InputKind::Address,
                format!("address {self:?}"),
                "expected ADDRESS/PREFIX_LENGTH",
            ));
        };
        let addr: IpAddr = addr.parse().map_err(|_| {
            Error::invalid(
                InputKind::Address,
                format!("address {self:?}"),
                "not an IPv4 or IPv6 address",
            )
        })?;
        let len: u8 = len.parse().map_err(|_| {
            Error::invalid(
                InputKind::PrefixLength,
                format!("address {self:?}"),
                "prefix length is not a number 0..=128",
            )
        })?;
        (addr, len).to_address()
    }
}
impl ToAddress for String {
    fn to_address(self) -> Result<IpNet> {
        self.as_str().to_address()
    }
}

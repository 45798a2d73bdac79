//! The multicast router mode of a bridge or a port (`mcast_router`).

use std::fmt;

use netlink_packet_route::link::BridgeMulticastRouterType;

use super::option_value::{KernelValue, ShowValue};

/// Whether the bridge itself is a multicast router port
/// (`type bridge mcast_router 0|1|2`).
///
/// ```
/// assert_eq!(bridgekit::MulticastRouter::Permanent.to_string(), "permanent");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MulticastRouter {
    /// Never (0).
    Disabled,
    /// Learned from queries, the kernel's default (1).
    Auto,
    /// Always (2).
    Permanent,
    /// A port only: a router port until the next query times out (3).
    Temporary,
    /// Another value the kernel reported, kept as it is (never set).
    Other(u8),
}

impl MulticastRouter {
    pub(crate) fn to_kernel(self) -> u8 {
        match self {
            MulticastRouter::Disabled => 0,
            MulticastRouter::Auto => 1,
            MulticastRouter::Permanent => 2,
            MulticastRouter::Temporary => 3,
            MulticastRouter::Other(v) => v,
        }
    }

    pub(crate) fn from_kernel(v: u8) -> Self {
        match v {
            0 => MulticastRouter::Disabled,
            1 => MulticastRouter::Auto,
            2 => MulticastRouter::Permanent,
            3 => MulticastRouter::Temporary,
            v => MulticastRouter::Other(v),
        }
    }
}

impl fmt::Display for MulticastRouter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MulticastRouter::Disabled => f.write_str("disabled"),
            MulticastRouter::Auto => f.write_str("auto"),
            MulticastRouter::Permanent => f.write_str("permanent"),
            MulticastRouter::Temporary => f.write_str("temporary"),
            MulticastRouter::Other(v) => write!(f, "{v}"),
        }
    }
}

impl KernelValue<BridgeMulticastRouterType> for MulticastRouter {
    fn to_kernel(self) -> BridgeMulticastRouterType {
        BridgeMulticastRouterType::from(MulticastRouter::to_kernel(self))
    }
    fn from_kernel(k: &BridgeMulticastRouterType) -> Self {
        MulticastRouter::from_kernel(u8::from(*k))
    }
}

impl ShowValue for MulticastRouter {
    fn show(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// As `ip -d link` prints it; a value the kernel reported that has no
/// name as the number.
#[cfg(feature = "serde")]
impl super::option_value::DocValue for MulticastRouter {
    type Doc = MulticastRouter;
    fn to_doc(self) -> Self {
        self
    }
    fn from_doc(doc: Self) -> Result<Self, String> {
        Ok(doc)
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for MulticastRouter {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            MulticastRouter::Other(v) => s.serialize_u8(*v),
            known => s.collect_str(known),
        }
    }
}
#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for MulticastRouter {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = <String as serde::Deserialize>::deserialize(d)?;
        Ok(match s.as_str() {
            "disabled" => MulticastRouter::Disabled,
            "auto" => MulticastRouter::Auto,
            "permanent" => MulticastRouter::Permanent,
            "temporary" => MulticastRouter::Temporary,
            other => {
                return Err(serde::de::Error::custom(format!(
                    "invalid multicast router mode {other:?}: expected \"disabled\", \"auto\", \"permanent\" or \"temporary\" (ports only)"
                )));
            }
        })
    }
}

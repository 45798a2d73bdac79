//! Desired state as data: `Serialize`/`Deserialize` for the configs and
//! `Serialize` for the status types (the `serde` cargo feature).
//!
//! A document goes through the same validation as the builders, field by
//! field, so a bad value is refused where it stands ([`from_deserializer`]
//! names its path) and nothing reaches the kernel. The document form is
//! the builders' vocabulary in snake_case, with durations in milliseconds
//! (`forward_delay_ms`), MACs, addresses and VLAN ranges as the strings
//! `ip` and `bridge` print, and unknown fields refused (a typo in a file is
//! an error, not a setting silently left at its default).
//!
//! Configs go through private document structs (`BridgeDoc`, `PortDoc`,
//! ...) that mirror the builders; the public types convert from them with
//! `try_from`, which runs the builders' checks.

use crate::error::InputKind;
use std::fmt;
use std::time::Duration;

use ipnet::IpNet;
use macaddr::MacAddr6;
use serde::de::{self, Deserializer, Visitor};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

use crate::bridge::BridgeConfig;
use crate::bridge::fdb::FdbKind;
use crate::bridge::port::ToPort;
use crate::bridge::port::{PortConfig, PortRef};
use crate::error::{Error, Result};
use crate::nic::vm::VmNicConfig;
use crate::values::address::ToAddress;
use crate::values::bridge_option::{BridgeOption, BridgeOptionKind, MulticastRouter};
use crate::values::link_state::{OperState, PortState};
use crate::values::mac::validate_unicast;
use crate::values::mtu::validate_mtu;
use crate::values::name::IfName;
use crate::values::ser::{self, as_millis};
use crate::values::vlan::{VlanId, VlanMember, VlanProtocol, VlanRange};
use crate::vxlan::Remote;
use crate::vxlan::{VXLAN_PORT, Vni, VxlanConfig};

mod bridge;
mod forward;
mod guard;
mod nic;
mod port;
mod vxlan;

#[allow(unused_imports)]
use bridge::*;
#[allow(unused_imports)]
use guard::*;
#[allow(unused_imports)]
use nic::*;
#[allow(unused_imports)]
use port::*;
#[allow(unused_imports)]
use vxlan::*;

/// Deserializes a bridgekit config (or any `Deserialize` type) and, when
/// the document is bad, says where: [`Error::InvalidInput`] whose `what`
/// is [`InputKind::Document`](crate::InputKind::Document), whose `input`
/// names the offending field by its path (``config field
/// `ports[1].vlans[0].vid` ``) and whose `reason` is why, in the builders'
/// words.
///
/// Works with any serde format; the example uses TOML.
///
/// ```
/// use bridgekit::BridgeConfig;
/// let json = r#"{ "name": "virbr0", "mtu": 1500,
///                 "ports": [ { "name": "vnet0", "vlans": [ { "vid": "5000" } ] } ] }"#;
/// let mut de = serde_json::Deserializer::from_str(json);
/// let err = bridgekit::from_deserializer::<BridgeConfig, _>(&mut de).unwrap_err();
/// // serde_json adds where in the text: "... at line 2 column 72".
/// assert!(err.to_string().starts_with(
///     "invalid config field `ports[0].vlans[0].vid`: invalid VLAN id 5000: must be within 1..=4094",
/// ));
/// ```
///
/// # Errors
/// [`Error::InvalidInput`] for a document that does not parse or does not
/// validate.
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
pub fn from_deserializer<'de, T, D>(deserializer: D) -> Result<T>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        let what = if path == "." {
            "config".to_string()
        } else {
            format!("config field `{path}`")
        };
        Error::invalid(InputKind::Document, what, e.into_inner().to_string())
    })
}

/// A bridgekit error as a serde error: its words, which already name the value.
fn de_err<E: de::Error>(e: Error) -> E {
    E::custom(e)
}

// --- values: names, MACs, MTUs, durations, addresses, VLANs -----------------

impl Serialize for IfName {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for IfName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        IfName::new(&s).map_err(de_err)
    }
}

/// Parses a MAC as `ip link` prints it.
fn parse_mac(s: &str) -> Result<MacAddr6> {
    s.parse().map_err(|_| {
        Error::invalid(
            InputKind::MacAddress,
            format!("MAC address {s:?}"),
            "expected six hex bytes separated by ':' (52:54:00:12:34:56)",
        )
    })
}

/// A MAC that must be unicast (an interface's own, a guest's).
struct UnicastMac(MacAddr6);

impl<'de> Deserialize<'de> for UnicastMac {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let mac = parse_mac(&s).and_then(validate_unicast).map_err(de_err)?;
        Ok(UnicastMac(mac))
    }
}

/// An MTU within the range an interface takes.
struct Mtu(u32);

impl<'de> Deserialize<'de> for Mtu {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        validate_mtu(u32::deserialize(d)?).map(Mtu).map_err(de_err)
    }
}

/// A bridge timer in milliseconds, checked where it stands: the kernel
/// takes it in centiseconds, as a u32.
fn de_timer_ms<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<u64>, D::Error> {
    let ms = u64::deserialize(d)?;
    crate::values::bridge_option::to_centiseconds("bridge timer", Duration::from_millis(ms))
        .map_err(de_err)?;
    Ok(Some(ms))
}

/// A NIC's queue count, checked where it stands.
fn de_queues<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<u16>, D::Error> {
    let q = u16::deserialize(d)?;
    crate::nic::vm::validate_queues(q).map_err(de_err)?;
    Ok(Some(q))
}

/// An interface address, `ADDRESS/PREFIX_LENGTH`.
struct Address(IpNet);

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.as_str().to_address().map(Address).map_err(de_err)
    }
}

/// Serializers for fields of foreign types (`#[serde(serialize_with)]`).
/// Types written as the word `ip`/`bridge` print for them.
macro_rules! serialize_as_display {
    ($($t:ty),*) => {$(
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
    )*};
}
serialize_as_display!(OperState, PortState, FdbKind, VlanProtocol, VlanRange);

impl Serialize for VlanId {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_u16(self.get())
    }
}

impl<'de> Deserialize<'de> for VlanId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(VlanVisitor(
            |s: &str| s.parse::<VlanId>(),
            |n| {
                let id = u16::try_from(n).map_err(|_| {
                    Error::invalid(
                        InputKind::VlanId,
                        format!("VLAN id {n}"),
                        "must be within 1..=4094",
                    )
                })?;
                VlanId::new(id)
            },
        ))
    }
}

impl<'de> Deserialize<'de> for VlanRange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(VlanVisitor(
            |s: &str| s.parse::<VlanRange>(),
            |n| {
                let id = u16::try_from(n).map_err(|_| {
                    Error::invalid(
                        InputKind::VlanId,
                        format!("VLAN id {n}"),
                        "must be within 1..=4094",
                    )
                })?;
                VlanId::new(id).map(VlanRange::single)
            },
        ))
    }
}

/// A VLAN id or range written as a number (`10`) or a string (`"10"`,
/// `"10-20"`, as `bridge vlan` takes them).
struct VlanVisitor<F, G>(F, G);

impl<'de, T, F, G> Visitor<'de> for VlanVisitor<F, G>
where
    F: Fn(&str) -> Result<T>,
    G: Fn(u64) -> Result<T>,
{
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a VLAN id (1..=4094) or a range \"START-END\"")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<T, E> {
        (self.0)(v).map_err(de_err)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<T, E> {
        (self.1)(v).map_err(de_err)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<T, E> {
        match u64::try_from(v) {
            Ok(v) => self.visit_u64(v),
            Err(_) => Err(de_err(Error::invalid(
                InputKind::VlanId,
                format!("VLAN id {v}"),
                "must be within 1..=4094",
            ))),
        }
    }
}

/// A VLAN membership as a document writes it.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct VlanMemberDoc {
    vid: VlanRange,
    #[serde(default, skip_serializing_if = "is_false")]
    pvid: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    untagged: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_true(b: &bool) -> bool {
    *b
}

fn yes() -> bool {
    true
}

impl Serialize for VlanMember {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        VlanMemberDoc {
            vid: self.range,
            pvid: self.pvid,
            untagged: self.untagged,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for VlanMember {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let doc = VlanMemberDoc::deserialize(d)?;
        let mut m = VlanMember::tagged(doc.vid);
        m.pvid = doc.pvid;
        m.untagged = doc.untagged;
        if m.pvid && m.range.len() > 1 {
            return Err(de::Error::custom(format!(
                "invalid VLAN {}: a PVID must be a single VLAN, not a range",
                m.range
            )));
        }
        Ok(m)
    }
}

// --- PortConfig ---------------------------------------------------------

/// A static FDB entry of a port.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FdbDoc {
    #[serde(serialize_with = "ser_mac_de")]
    mac: MacAddrDe,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    vlan: Option<VlanId>,
}

/// A unicast MAC that serializes as itself (for doc fields).
#[derive(Clone, Copy)]
struct MacAddrDe(MacAddr6);

impl std::ops::Deref for MacAddrDe {
    type Target = MacAddr6;
    fn deref(&self) -> &MacAddr6 {
        &self.0
    }
}

impl<'de> Deserialize<'de> for MacAddrDe {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        UnicastMac::deserialize(d).map(|m| MacAddrDe(m.0))
    }
}

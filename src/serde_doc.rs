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
use crate::values::bridge_option::{BridgeOption, MulticastRouter};
use crate::values::link_state::{OperState, PortState};
use crate::values::mac::validate_unicast;
use crate::values::mtu::validate_mtu;
use crate::values::name::IfName;
use crate::values::ser::{self, as_millis};
use crate::values::vlan::{VlanId, VlanMember, VlanProtocol, VlanRange};
use crate::vxlan::Remote;
use crate::vxlan::{VXLAN_PORT, Vni, VxlanConfig};

/// Deserializes a bridgekit config (or any `Deserialize` type) and, when
/// the document is bad, says where: [`Error::InvalidInput`] whose `what`
/// is the path of the offending field (`ports[1].vlans[0].vid`) and whose
/// `reason` is why, in the builders' words.
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
        Error::invalid(what, e.into_inner().to_string())
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

/// Any MAC (a group address).
struct AnyMac(MacAddr6);

impl<'de> Deserialize<'de> for AnyMac {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_mac(&s).map(AnyMac).map_err(de_err)
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

impl Serialize for MulticastRouter {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            MulticastRouter::Other(v) => s.serialize_u8(*v),
            known => s.collect_str(known),
        }
    }
}

impl<'de> Deserialize<'de> for MulticastRouter {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match s.as_str() {
            "disabled" => MulticastRouter::Disabled,
            "auto" => MulticastRouter::Auto,
            "permanent" => MulticastRouter::Permanent,
            "temporary" => MulticastRouter::Temporary,
            other => {
                return Err(de::Error::custom(format!(
                    "invalid multicast router mode {other:?}: expected \"disabled\", \"auto\", \"permanent\" or \"temporary\" (ports only)"
                )));
            }
        })
    }
}

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
                    Error::invalid(format!("VLAN id {n}"), "must be within 1..=4094")
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
                    Error::invalid(format!("VLAN id {n}"), "must be within 1..=4094")
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

/// A port as a document writes it: its options, and, in a bridge's
/// `ports` list, its `name` (or `index`).
#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PortDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<IfName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    index: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    learning: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    unicast_flood: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    multicast_flood: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    broadcast_flood: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hairpin: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    isolated: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    neigh_suppress: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cost: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    priority: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    guard: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    root_block: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    proxy_arp: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    multicast_router: Option<MulticastRouter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    multicast_fast_leave: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    locked: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mab: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    neigh_vlan_suppress: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    vlan_tunnel: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    group_fwd_mask: Option<u16>,
    /// Another port of the bridge, by name or ifindex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    backup_port: Option<BackupDoc>,
    /// `bridge link set ... nobackup_port`.
    #[serde(default, skip_serializing_if = "is_false")]
    nobackup_port: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    up: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    vlans: Vec<VlanMember>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    fdb: Vec<FdbDoc>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_opt_mac_de"
    )]
    managed: Option<MacAddrDe>,
    #[serde(default, skip_serializing_if = "is_false")]
    allow_move: bool,
}

/// A backup port: a name or an ifindex.
#[derive(Serialize, Deserialize, Clone)]
#[serde(untagged)]
enum BackupDoc {
    Index(u32),
    Name(String),
}

fn ser_opt_mac_de<S: Serializer>(
    mac: &Option<MacAddrDe>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    ser::opt_mac(&mac.map(|m| m.0), s)
}

impl From<&PortConfig> for PortDoc {
    fn from(c: &PortConfig) -> Self {
        let o = &c.options;
        // What `managed` already implies is not written again, so a
        // document reads back as it was written.
        let base = match c.managed {
            Some(mac) => PortConfig::managed(mac).options,
            None => Default::default(),
        };
        PortDoc {
            name: None,
            index: None,
            learning: differs(o.learning, base.learning).flatten(),
            unicast_flood: differs(o.unicast_flood, base.unicast_flood).flatten(),
            multicast_flood: o.multicast_flood,
            broadcast_flood: o.broadcast_flood,
            hairpin: o.hairpin,
            isolated: o.isolated,
            neigh_suppress: o.neigh_suppress,
            cost: o.cost,
            priority: o.priority,
            guard: o.guard,
            root_block: o.root_block,
            proxy_arp: o.proxy_arp,
            multicast_router: o.multicast_router,
            multicast_fast_leave: o.fast_leave,
            locked: o.locked,
            mab: o.mab,
            neigh_vlan_suppress: o.neigh_vlan_suppress,
            vlan_tunnel: o.vlan_tunnel,
            group_fwd_mask: o.group_fwd_mask,
            backup_port: match c.backup() {
                Some(Some(PortRef::Name(n))) => Some(BackupDoc::Name(n.to_string())),
                Some(Some(PortRef::Index(i))) => Some(BackupDoc::Index(*i)),
                _ => None,
            },
            nobackup_port: matches!(c.backup(), Some(None)),
            up: c.up,
            vlans: c.vlans.clone(),
            fdb: c
                .fdb
                .iter()
                .map(|(mac, vlan)| FdbDoc {
                    mac: MacAddrDe(*mac),
                    vlan: *vlan,
                })
                .collect(),
            managed: c.managed.map(MacAddrDe),
            allow_move: c.allow_move,
        }
    }
}

impl PortDoc {
    /// The config, through the builders, validated.
    fn config(&self) -> Result<PortConfig> {
        let mut c = match self.managed {
            Some(mac) => PortConfig::managed(mac.0),
            None => PortConfig::new(),
        };
        // Set field by field: `managed` already chose learning and flood
        // defaults, which explicit fields override.
        let o = &mut c.options;
        let set = |slot: &mut Option<bool>, v: Option<bool>| {
            if v.is_some() {
                *slot = v;
            }
        };
        set(&mut o.learning, self.learning);
        set(&mut o.unicast_flood, self.unicast_flood);
        set(&mut o.multicast_flood, self.multicast_flood);
        set(&mut o.broadcast_flood, self.broadcast_flood);
        set(&mut o.hairpin, self.hairpin);
        set(&mut o.isolated, self.isolated);
        set(&mut o.neigh_suppress, self.neigh_suppress);
        if self.cost.is_some() {
            o.cost = self.cost;
        }
        if self.priority.is_some() {
            o.priority = self.priority;
        }
        set(&mut o.guard, self.guard);
        set(&mut o.root_block, self.root_block);
        set(&mut o.proxy_arp, self.proxy_arp);
        set(&mut o.fast_leave, self.multicast_fast_leave);
        set(&mut o.locked, self.locked);
        set(&mut o.mab, self.mab);
        set(&mut o.neigh_vlan_suppress, self.neigh_vlan_suppress);
        set(&mut o.vlan_tunnel, self.vlan_tunnel);
        if self.multicast_router.is_some() {
            o.multicast_router = self.multicast_router;
        }
        if self.group_fwd_mask.is_some() {
            o.group_fwd_mask = self.group_fwd_mask;
        }
        c.up = self.up;
        c.vlans = self.vlans.clone();
        c.fdb = self.fdb.iter().map(|e| (e.mac.0, e.vlan)).collect();
        c.allow_move = self.allow_move;
        match (&self.backup_port, self.nobackup_port) {
            (Some(_), true) => {
                return Err(Error::invalid(
                    "backup_port and nobackup_port",
                    "a port has a backup port or none, not both",
                ));
            }
            (Some(BackupDoc::Name(n)), false) => c = c.backup_port(n.as_str()),
            (Some(BackupDoc::Index(i)), false) => c = c.backup_port(*i),
            (None, true) => c = c.no_backup_port(),
            (None, false) => {}
        }
        c.validate()?;
        Ok(c)
    }
}

/// A config built with bad input cannot be applied, and a document of it
/// would lose the bad value: refuse to write it.
fn refuse_bad<E: serde::ser::Error>(bad: &Option<(String, String)>) -> std::result::Result<(), E> {
    match bad {
        Some((what, reason)) => Err(E::custom(format!("invalid {what}: {reason}"))),
        None => Ok(()),
    }
}

impl Serialize for PortConfig {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        refuse_bad(&self.bad)?;
        PortDoc::from(self).serialize(s)
    }
}

impl<'de> Deserialize<'de> for PortConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let doc = PortDoc::deserialize(d)?;
        if doc.name.is_some() || doc.index.is_some() {
            return Err(de::Error::custom(
                "a port config on its own takes no `name` or `index` (they belong in a bridge's `ports` list)",
            ));
        }
        doc.config().map_err(de_err)
    }
}

/// One entry of a bridge's `ports` list: a port config with its port.
struct PortEntry(PortRef, PortConfig);

impl Serialize for PortEntry {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut doc = PortDoc::from(&self.1);
        match &self.0 {
            PortRef::Name(n) => doc.name = Some(n.clone()),
            PortRef::Index(i) => doc.index = Some(*i),
        }
        doc.serialize(s)
    }
}

impl<'de> Deserialize<'de> for PortEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let doc = PortDoc::deserialize(d)?;
        let port = match (&doc.name, doc.index) {
            (Some(n), None) => PortRef::Name(n.clone()),
            (None, Some(i)) => i.to_port().map_err(de_err)?,
            _ => {
                return Err(de::Error::custom(
                    "a port in `ports` needs exactly one of `name` and `index`",
                ));
            }
        };
        Ok(PortEntry(port, doc.config().map_err(de_err)?))
    }
}

// --- BridgeConfig ---------------------------------------------------------

/// The bridge-wide options ([`BridgeOption`]) as a table.
#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct OptionsDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hello_time_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_age_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    priority: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    group_fwd_mask: Option<u16>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_opt_any_mac"
    )]
    group_address: Option<AnyMac>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    multicast_snooping: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    multicast_querier: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    igmp_version: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mld_version: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    vlan_stats: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    multicast_router: Option<MulticastRouter>,
}

fn ser_opt_any_mac<S: Serializer>(
    mac: &Option<AnyMac>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    ser::opt_mac(&mac.as_ref().map(|m| m.0), s)
}

impl OptionsDoc {
    fn is_empty(&self) -> bool {
        self.options().is_empty()
    }

    /// The options in the document's (fixed) order.
    fn options(&self) -> Vec<BridgeOption> {
        let ms = Duration::from_millis;
        [
            self.hello_time_ms.map(|v| BridgeOption::HelloTime(ms(v))),
            self.max_age_ms.map(|v| BridgeOption::MaxAge(ms(v))),
            self.priority.map(BridgeOption::Priority),
            self.group_fwd_mask.map(BridgeOption::GroupFwdMask),
            self.group_address
                .as_ref()
                .map(|m| BridgeOption::GroupAddress(m.0)),
            self.multicast_snooping.map(BridgeOption::MulticastSnooping),
            self.multicast_querier.map(BridgeOption::MulticastQuerier),
            self.igmp_version.map(BridgeOption::IgmpVersion),
            self.mld_version.map(BridgeOption::MldVersion),
            self.vlan_stats.map(BridgeOption::VlanStats),
            self.multicast_router.map(BridgeOption::MulticastRouter),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

impl From<&[BridgeOption]> for OptionsDoc {
    fn from(options: &[BridgeOption]) -> Self {
        let mut d = OptionsDoc::default();
        for o in options {
            match *o {
                BridgeOption::HelloTime(t) => d.hello_time_ms = Some(as_millis(t)),
                BridgeOption::MaxAge(t) => d.max_age_ms = Some(as_millis(t)),
                BridgeOption::Priority(p) => d.priority = Some(p),
                BridgeOption::GroupFwdMask(m) => d.group_fwd_mask = Some(m),
                BridgeOption::GroupAddress(m) => d.group_address = Some(AnyMac(m)),
                BridgeOption::MulticastSnooping(b) => d.multicast_snooping = Some(b),
                BridgeOption::MulticastQuerier(b) => d.multicast_querier = Some(b),
                BridgeOption::IgmpVersion(v) => d.igmp_version = Some(v),
                BridgeOption::MldVersion(v) => d.mld_version = Some(v),
                BridgeOption::VlanStats(b) => d.vlan_stats = Some(b),
                BridgeOption::MulticastRouter(r) => d.multicast_router = Some(r),
            }
        }
        d
    }
}

/// The options table, each value checked as [`BridgeConfig::option`]'s
/// caller would have it checked.
#[derive(Serialize, Default)]
#[serde(transparent)]
struct ValidOptions(OptionsDoc);

impl ValidOptions {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de> Deserialize<'de> for ValidOptions {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let doc = OptionsDoc::deserialize(d)?;
        for option in doc.options() {
            option.validate().map_err(de_err)?;
        }
        Ok(ValidOptions(doc))
    }
}

/// A bridge as a document writes it.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BridgeDoc {
    name: IfName,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_opt_mac_de"
    )]
    mac: Option<MacAddrDe>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_opt_mtu"
    )]
    mtu: Option<Mtu>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stp: Option<bool>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de_timer_ms"
    )]
    forward_delay_ms: Option<u64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de_timer_ms"
    )]
    ageing_time_ms: Option<u64>,
    /// On by default, as with the builder.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    ipv6_ready_without_ports: bool,
    /// The admin state; unset: what `create` does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    up: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    vlan_filtering: Option<bool>,
    #[serde(default, skip_serializing_if = "ValidOptions::is_empty")]
    options: ValidOptions,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    accept_ra: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    autoconf: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    disable_ipv6: Option<bool>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "ser_addresses"
    )]
    addresses: Vec<Address>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    ports: Vec<PortEntry>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    vxlan_ports: Vec<VxlanPortDoc>,
}

/// One entry of a bridge's `vxlan_ports`: the device and its port config
/// (`bridge_port`: `port` is the VXLAN device's UDP port's word in `ip`).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct VxlanPortDoc {
    vxlan: VxlanConfig,
    #[serde(default)]
    bridge_port: PortConfig,
}

fn ser_opt_mtu<S: Serializer>(mtu: &Option<Mtu>, s: S) -> std::result::Result<S::Ok, S::Error> {
    match mtu {
        Some(m) => s.serialize_u32(m.0),
        None => s.serialize_none(),
    }
}

fn ser_addresses<S: Serializer>(a: &[Address], s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_seq(a.iter().map(|a| a.0.to_string()))
}

impl Serialize for BridgeConfig {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        refuse_bad(&self.bad)?;
        for (_, port) in &self.ports {
            refuse_bad(&port.bad)?;
        }
        BridgeDoc {
            name: self.name.clone(),
            mac: self.mac.map(MacAddrDe),
            mtu: self.mtu.map(Mtu),
            stp: self.stp,
            forward_delay_ms: self.forward_delay.map(as_millis),
            ageing_time_ms: self.ageing_time.map(as_millis),
            ipv6_ready_without_ports: self.ipv6_ready_without_ports,
            up: self.admin_up,
            vlan_filtering: self.vlan_filtering,
            options: ValidOptions(OptionsDoc::from(self.options.as_slice())),
            accept_ra: self.accept_ra,
            autoconf: self.autoconf,
            disable_ipv6: self.disable_ipv6,
            addresses: self.addresses.iter().copied().map(Address).collect(),
            // A VXLAN port is written once, under `vxlan_ports`.
            ports: self
                .ports
                .iter()
                .filter(|(p, _)| !self.vxlans.iter().any(|v| is_named(p, v.name())))
                .map(|(p, c)| PortEntry(p.clone(), c.clone()))
                .collect(),
            vxlan_ports: self
                .vxlans
                .iter()
                .map(|v| VxlanPortDoc {
                    vxlan: v.clone(),
                    bridge_port: self
                        .ports
                        .iter()
                        .find(|(p, _)| is_named(p, v.name()))
                        .map(|(_, c)| c.clone())
                        .unwrap_or_default(),
                })
                .collect(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for BridgeConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let doc = BridgeDoc::deserialize(d)?;
        let mut c = BridgeConfig::new(doc.name.as_str()).map_err(de_err)?;
        c.mac = doc.mac.map(|m| m.0);
        c.mtu = doc.mtu.map(|m| m.0);
        c.stp = doc.stp;
        c.forward_delay = doc.forward_delay_ms.map(Duration::from_millis);
        c.ageing_time = doc.ageing_time_ms.map(Duration::from_millis);
        c.ipv6_ready_without_ports = doc.ipv6_ready_without_ports;
        c.admin_up = doc.up;
        c.vlan_filtering = doc.vlan_filtering;
        c.options = doc.options.0.options();
        c.accept_ra = doc.accept_ra;
        c.autoconf = doc.autoconf;
        c.disable_ipv6 = doc.disable_ipv6;
        c.addresses = doc.addresses.into_iter().map(|a| a.0).collect();
        c.ports = doc.ports.into_iter().map(|e| (e.0, e.1)).collect();
        for v in doc.vxlan_ports {
            c = c.vxlan_port(v.vxlan, v.bridge_port);
        }
        c.validate().map_err(de_err)?;
        Ok(c)
    }
}

fn is_named(p: &PortRef, name: &IfName) -> bool {
    matches!(p, PortRef::Name(n) if n == name)
}

// --- VxlanConfig and Remote -------------------------------------------------

/// A VXLAN device as a document writes it (`dstport`: the UDP port, as
/// `ip link add ... type vxlan dstport` says it).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct VxlanDoc {
    name: IfName,
    /// Required, unless `external`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    vni: Option<u32>,
    #[serde(default, skip_serializing_if = "is_false")]
    external: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    local: Option<std::net::IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    underlay: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dstport: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    learning: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ttl: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    udp_csum: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    udp6_zero_csum_tx: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    udp6_zero_csum_rx: Option<bool>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_opt_mtu"
    )]
    mtu: Option<Mtu>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_opt_mac_de"
    )]
    mac: Option<MacAddrDe>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    remotes: Option<Vec<Remote>>,
    #[serde(default, skip_serializing_if = "is_false")]
    shared_remotes: bool,
}

impl Serialize for VxlanConfig {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        VxlanDoc {
            name: self.name.clone(),
            vni: (!self.external).then_some(self.vni),
            external: self.external,
            local: self.local,
            underlay: self.underlay.clone(),
            dstport: differs(self.port, VXLAN_PORT),
            learning: differs(self.learning, true),
            ttl: self.ttl,
            udp_csum: self.udp_csum,
            udp6_zero_csum_tx: self.udp6_zero_csum_tx,
            udp6_zero_csum_rx: self.udp6_zero_csum_rx,
            mtu: self.mtu.map(Mtu),
            mac: self.mac.map(MacAddrDe),
            remotes: self.remotes.clone(),
            shared_remotes: self.shared_remotes,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for VxlanConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let doc = VxlanDoc::deserialize(d)?;
        let mut c = match (doc.external, doc.vni) {
            (true, None) => VxlanConfig::external(doc.name.as_str()),
            (false, Some(vni)) => VxlanConfig::new(doc.name.as_str(), vni),
            (true, Some(_)) => Err(Error::invalid(
                format!("VXLAN device {}", doc.name),
                "an external device has no `vni` of its own",
            )),
            (false, None) => Err(Error::invalid(
                format!("VXLAN device {}", doc.name),
                "needs a `vni` (or `external = true`)",
            )),
        }
        .map_err(de_err)?;
        c.local = doc.local;
        c.underlay = doc.underlay;
        c.port = doc.dstport.unwrap_or(VXLAN_PORT);
        c.learning = doc.learning.unwrap_or(true);
        c.ttl = doc.ttl;
        c.udp_csum = doc.udp_csum;
        c.udp6_zero_csum_tx = doc.udp6_zero_csum_tx;
        c.udp6_zero_csum_rx = doc.udp6_zero_csum_rx;
        c.mtu = doc.mtu.map(|m| m.0);
        c.mac = doc.mac.map(|m| m.0);
        c.remotes = doc.remotes;
        c.shared_remotes = doc.shared_remotes;
        c.validate().map_err(de_err)?;
        Ok(c)
    }
}

/// A remote VTEP as a document writes it: no `mac` for the flood list.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RemoteDoc {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_opt_mac_de"
    )]
    mac: Option<MacAddrDe>,
    dst: std::net::IpAddr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    vni: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    src_vni: Option<u32>,
}

impl Serialize for Remote {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        RemoteDoc {
            mac: (!self.is_flood()).then_some(MacAddrDe(self.mac())),
            dst: self.dst(),
            vni: self.vni_override().map(Vni::get),
            port: self.port_override(),
            src_vni: self.src_vni_of().map(Vni::get),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Remote {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let doc = RemoteDoc::deserialize(d)?;
        let mut r = match doc.mac {
            Some(m) => {
                validate_unicast(m.0).map_err(de_err)?;
                Remote::for_mac(m.0, doc.dst)
            }
            None => Remote::flood(doc.dst),
        };
        if let Some(v) = doc.vni {
            r = r.vni(Vni::new(v).map_err(de_err)?);
        }
        if let Some(p) = doc.port {
            r = r.port(p);
        }
        if let Some(v) = doc.src_vni {
            r = r.src_vni(Vni::new(v).map_err(de_err)?);
        }
        Ok(r)
    }
}

/// `Some(value)` where it differs from the default (a document states
/// only what it changes).
fn differs<T: PartialEq>(value: T, default: T) -> Option<T> {
    (value != default).then_some(value)
}

// --- VmNicConfig ----------------------------------------------------------

/// A VM NIC as a document writes it.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct VmNicDoc {
    #[serde(serialize_with = "ser_mac_de")]
    guest_mac: MacAddrDe,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de_queues"
    )]
    queues: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    vnet_hdr: Option<bool>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_opt_mtu"
    )]
    mtu: Option<Mtu>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_opt_mac_de"
    )]
    host_mac: Option<MacAddrDe>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    port: Option<PortConfig>,
    #[serde(default, skip_serializing_if = "is_false")]
    persistent: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    owner: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    group: Option<u32>,
}

fn ser_mac_de<S: Serializer>(mac: &MacAddrDe, s: S) -> std::result::Result<S::Ok, S::Error> {
    ser::mac(&mac.0, s)
}

impl Serialize for VmNicConfig {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        refuse_bad(&self.bad)?;
        refuse_bad(&self.port.bad)?;
        let default = VmNicConfig::new(self.guest_mac);
        VmNicDoc {
            guest_mac: MacAddrDe(self.guest_mac),
            name: differs(self.name.clone(), default.name.clone()),
            queues: differs(self.queues, default.queues),
            vnet_hdr: differs(self.vnet_hdr, default.vnet_hdr),
            mtu: self.mtu.map(Mtu),
            host_mac: self.host_mac.map(MacAddrDe),
            port: differs(self.port.clone(), default.port.clone()),
            persistent: self.persistent,
            owner: self.owner,
            group: self.group,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for VmNicConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let doc = VmNicDoc::deserialize(d)?;
        let mut c = VmNicConfig::new(doc.guest_mac.0);
        if let Some(name) = doc.name {
            c = c.name(name);
        }
        if let Some(q) = doc.queues {
            c = c.queues(q);
        }
        if let Some(v) = doc.vnet_hdr {
            c = c.vnet_hdr(v);
        }
        c.mtu = doc.mtu.map(|m| m.0);
        c.host_mac = doc.host_mac.map(|m| m.0);
        if let Some(port) = doc.port {
            c = c.port(port);
        }
        c = c.persistent(doc.persistent);
        c.owner = doc.owner;
        c.group = doc.group;
        c.validate().map_err(de_err)?;
        Ok(c)
    }
}

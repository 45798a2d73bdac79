//! A bridge as a document: its options and `BridgeConfig`.

use super::*;

/// The bridge-wide options ([`BridgeOption`]) as a table.
#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct OptionsDoc {
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

pub(super) fn ser_opt_any_mac<S: Serializer>(
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
pub(super) struct ValidOptions(OptionsDoc);

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
pub(super) struct BridgeDoc {
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
pub(super) struct VxlanPortDoc {
    vxlan: VxlanConfig,
    #[serde(default)]
    bridge_port: PortConfig,
}

pub(super) fn ser_opt_mtu<S: Serializer>(
    mtu: &Option<Mtu>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match mtu {
        Some(m) => s.serialize_u32(m.0),
        None => s.serialize_none(),
    }
}

pub(super) fn ser_addresses<S: Serializer>(
    a: &[Address],
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
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

pub(super) fn is_named(p: &PortRef, name: &IfName) -> bool {
    matches!(p, PortRef::Name(n) if n == name)
}

// --- VxlanConfig and Remote -------------------------------------------------

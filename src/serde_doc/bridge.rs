//! A bridge as a document: its options and `BridgeConfig`.

use super::forward::ForwardDoc;
use super::*;

/// The bridge-wide options ([`BridgeOption`]) as a table, keys and values
/// as the option table in `values/bridge_option.rs` declares them; each
/// value checked as [`BridgeConfig::option`]'s caller would have it checked.
#[derive(Default)]
pub(super) struct OptionsDoc(Vec<BridgeOption>);

impl OptionsDoc {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for OptionsDoc {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        ser::bridge_options(&self.0, s)
    }
}

impl<'de> Deserialize<'de> for OptionsDoc {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_map(OptionsVisitor)
    }
}

struct OptionsVisitor;

impl<'de> Visitor<'de> for OptionsVisitor {
    type Value = OptionsDoc;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a table of bridge options")
    }

    fn visit_map<A: de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<OptionsDoc, A::Error> {
        let mut options: Vec<BridgeOption> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let Some(kind) = BridgeOptionKind::ALL
                .iter()
                .copied()
                .find(|k| k.key() == key)
            else {
                return Err(de::Error::unknown_field(&key, BridgeOptionKind::KEYS));
            };
            if options.iter().any(|o| o.kind() == kind) {
                return Err(de::Error::custom(format_args!("duplicate option `{key}`")));
            }
            options.push(BridgeOption::deserialize_value(kind, &mut map)?);
        }
        // The table's order, whatever the document's, as the builder keeps it.
        options.sort_by_key(|o| BridgeOptionKind::ALL.iter().position(|k| *k == o.kind()));
        Ok(OptionsDoc(options))
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
    #[serde(default, skip_serializing_if = "OptionsDoc::is_empty")]
    options: OptionsDoc,
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    forward: Option<ForwardDoc>,
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
            options: OptionsDoc(self.options.clone()),
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
            forward: self.forward.as_ref().map(ForwardDoc::from),
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
        c.options = doc.options.0;
        c.accept_ra = doc.accept_ra;
        c.autoconf = doc.autoconf;
        c.disable_ipv6 = doc.disable_ipv6;
        c.addresses = doc.addresses.into_iter().map(|a| a.0).collect();
        c.ports = doc.ports.into_iter().map(|e| (e.0, e.1)).collect();
        for v in doc.vxlan_ports {
            c = c.vxlan_port(v.vxlan, v.bridge_port);
        }
        if let Some(f) = &doc.forward {
            c = c.forward(f.forward().map_err(de_err)?);
        }
        c.validate().map_err(de_err)?;
        Ok(c)
    }
}

pub(super) fn is_named(p: &PortRef, name: &IfName) -> bool {
    matches!(p, PortRef::Name(n) if n == name)
}

// --- VxlanConfig and Remote -------------------------------------------------

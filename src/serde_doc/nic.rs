//! A VM NIC's config as a document.

use super::*;

/// `Some(value)` where it differs from the default (a document states
/// only what it changes).
pub(super) fn differs<T: PartialEq>(value: T, default: T) -> Option<T> {
    (value != default).then_some(value)
}

// --- VmNicConfig ----------------------------------------------------------

/// A VM NIC as a document writes it.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct VmNicDoc {
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    vnet_hdr_size: Option<u8>,
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

pub(super) fn ser_mac_de<S: Serializer>(
    mac: &MacAddrDe,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
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
            vnet_hdr_size: self.vnet_hdr_size,
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
        c.vnet_hdr_size = doc.vnet_hdr_size;
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

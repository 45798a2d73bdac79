//! VXLAN devices and their remotes as documents.

use super::*;
use crate::error::InputKind;

/// A VXLAN device as a document writes it (`dstport`: the UDP port, as
/// `ip link add ... type vxlan dstport` says it).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct VxlanDoc {
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
                InputKind::Vni,
                format!("VXLAN device {}", doc.name),
                "an external device has no `vni` of its own",
            )),
            (false, None) => Err(Error::invalid(
                InputKind::Vni,
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
pub(super) struct RemoteDoc {
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
            src_vni: self.src_vni_override().map(Vni::get),
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

//! Ports as documents: a port's config (`PortDoc`) and a bridge's port entries.

use super::*;
use crate::error::InputKind;

/// A port as a document writes it: its options, and, in a bridge's
/// `ports` list, its `name` (or `index`).
#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct PortDoc {
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
pub(super) enum BackupDoc {
    Index(u32),
    Name(String),
}

pub(super) fn ser_opt_mac_de<S: Serializer>(
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
                    InputKind::PortOption,
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
pub(super) fn refuse_bad<E: serde::ser::Error>(
    bad: &Option<crate::error::BadInput>,
) -> std::result::Result<(), E> {
    match bad {
        Some(bad) => Err(E::custom(bad.to_error())),
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
pub(super) struct PortEntry(pub(super) PortRef, pub(super) PortConfig);

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

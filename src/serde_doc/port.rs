//! Ports as documents: a port's config (`PortDoc`) and a bridge's port entries.

use super::*;
use crate::error::InputKind;
use crate::values::bandwidth::Bandwidth;
use crate::values::option_value::DocValue;
use crate::values::port_option::PortOptions;

/// Declares [`PortDoc`] with one field per row of the port option table
/// (`values/port_option.rs`), under the row's document key, and the two
/// conversions of those fields: a new port option reaches documents
/// without an edit here.
macro_rules! port_doc {
    ($(
        $(#[doc = $doc:literal])*
        $variant:ident($ty:ty) as $field:ident = $attr:ident, $ip:literal, $key:literal,
            since($major:literal, $minor:literal);
    )*) => {
        /// A port as a document writes it: its options, and, in a bridge's
        /// `ports` list, its `name` (or `index`).
        #[derive(Serialize, Deserialize, Default)]
        #[serde(deny_unknown_fields)]
        pub(super) struct PortDoc {
            #[serde(default, skip_serializing_if = "Option::is_none")]
            name: Option<IfName>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            index: Option<u32>,
            $(
                #[serde(rename = $key, default, skip_serializing_if = "Option::is_none")]
                $field: Option<<$ty as DocValue>::Doc>,
            )*
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
            #[serde(default, skip_serializing_if = "Option::is_none")]
            guest_guard: Option<GuardDoc>,
            /// Traffic to the guest: `{ average, peak, burst }`.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            inbound: Option<BandwidthDoc>,
            /// Traffic from the guest.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            outbound: Option<BandwidthDoc>,
        }

        impl PortDoc {
            /// Writes the options set in `o`.
            fn write_options(&mut self, o: &PortOptions) {
                $(self.$field = o.$field.map(DocValue::to_doc);)*
            }

            /// Sets the options the document names in `o`, over what is there.
            fn read_options(&self, o: &mut PortOptions) -> std::result::Result<(), String> {
                $(if let Some(v) = self.$field.clone() {
                    o.$field = Some(<$ty as DocValue>::from_doc(v)?);
                })*
                Ok(())
            }
        }
    };
}
crate::values::port_option::port_option_rows!(port_doc);

/// A bandwidth limit: `average` and `peak` in bytes per second, `burst` in
/// bytes (libvirt's attributes, in bytes rather than KiB).
#[derive(Serialize, Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
pub(super) struct BandwidthDoc {
    average: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    peak: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    burst: Option<u32>,
}

impl From<&Bandwidth> for BandwidthDoc {
    fn from(b: &Bandwidth) -> Self {
        BandwidthDoc {
            average: b.average_rate(),
            peak: b.peak_rate(),
            burst: b.burst_size(),
        }
    }
}

impl BandwidthDoc {
    fn limit(self) -> Bandwidth {
        let mut b = Bandwidth::bytes_per_sec(self.average);
        if let Some(p) = self.peak {
            b = b.peak(p);
        }
        if let Some(burst) = self.burst {
            b = b.burst(burst);
        }
        b
    }
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
        // What `managed` already implies is not written again, so a
        // document reads back as it was written.
        let base = match c.managed {
            Some(mac) => PortConfig::managed(mac).options,
            None => Default::default(),
        };
        let mut doc = PortDoc {
            name: None,
            index: None,
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
            guest_guard: c.guest_guard.as_ref().map(GuardDoc::from),
            inbound: c.bandwidth.inbound.as_ref().map(BandwidthDoc::from),
            outbound: c.bandwidth.outbound.as_ref().map(BandwidthDoc::from),
            ..PortDoc::default()
        };
        doc.write_options(&c.options.beyond(&base));
        doc
    }
}

impl PortDoc {
    /// The config, through the builders, validated.
    fn config(&self) -> Result<PortConfig> {
        let mut c = match self.managed {
            Some(mac) => PortConfig::managed(mac.0),
            None => PortConfig::new(),
        };
        // Over what `managed` already chose (learning and flood off):
        // the document's own fields win.
        self.read_options(&mut c.options)
            .map_err(|reason| Error::invalid(InputKind::PortOption, "port option", reason))?;
        c.up = self.up;
        c.vlans = self.vlans.clone();
        c.fdb = self.fdb.iter().map(|e| (e.mac.0, e.vlan)).collect();
        c.allow_move = self.allow_move;
        if let Some(guard) = &self.guest_guard {
            c = c.guest_guard(guard.guard()?);
        }
        c.bandwidth.inbound = self.inbound.map(BandwidthDoc::limit);
        c.bandwidth.outbound = self.outbound.map(BandwidthDoc::limit);
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
        if let Some(guard) = &self.guest_guard {
            refuse_bad(&guard.bad)?;
        }
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

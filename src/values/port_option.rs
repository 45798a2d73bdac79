//! The bridge port options (`IFLA_BRPORT_*`, `bridge link set dev PORT
//! ...`) as one table. A row gives everything the crate does with one
//! option: its variant and value type, its field in the set of options a
//! config sends, the attribute it travels in (a variant of
//! netlink-packet-route's `InfoBridgePort`), its name in iproute2, its key
//! in a serde document, and the kernel that added it (older kernels drop
//! it with an Ok, so bridgekit reads it back there). Sending, reading
//! back, verifying, undoing, status and the serde form all come from the
//! rows: a new port option of a value type that `option_value.rs` knows
//! is one row (plus a range in `PortConfig::validate` if the kernel has
//! one).
//!
//! Like the bridge table, this one names netlink-packet-route's attribute
//! below netlink/: splitting a row across two layers would bring back the
//! edits per option the table exists to end.

use std::fmt;

use netlink_packet_route::link::InfoBridgePort;

#[cfg(feature = "serde")]
use super::option_value::DocValue;
use super::option_value::{KernelValue, ShowValue};
use crate::sys::kernel::KernelVersion;
use crate::values::multicast_router::MulticastRouter;

/// Expands `$callback!` with the table's rows, so that the serde form
/// (`serde_doc/port.rs`) takes its document fields from the same rows.
macro_rules! port_option_rows {
    ($callback:ident) => {
        $callback! {
            /// Learn source MACs on the port (`learning`).
            Learning(bool) as learning = Learning, "learning", "learning", since(3, 11);
            /// Flood unknown unicast to the port (`flood`).
            UnicastFlood(bool) as unicast_flood = UnicastFlood, "flood", "unicast_flood", since(3, 11);
            /// Flood multicast to the port (`mcast_flood`).
            MulticastFlood(bool) as multicast_flood = MulticastFlood, "mcast_flood", "multicast_flood", since(4, 9);
            /// Flood broadcast to the port (`bcast_flood`).
            BroadcastFlood(bool) as broadcast_flood = BroadcastFlood, "bcast_flood", "broadcast_flood", since(4, 11);
            /// Send frames back out of the port they came in on (`hairpin`).
            Hairpin(bool) as hairpin = HairpinMode, "hairpin", "hairpin", since(3, 8);
            /// Isolated ports talk only to non-isolated ones (`isolated`).
            Isolated(bool) as isolated = Isolated, "isolated", "isolated", since(4, 18);
            /// ARP/ND suppression on the port (`neigh_suppress`).
            NeighSuppress(bool) as neigh_suppress = NeighSupress, "neigh_suppress", "neigh_suppress", since(4, 15);
            /// STP path cost (`cost`), 1..=65535.
            Cost(u32) as cost = Cost, "cost", "cost", since(3, 8);
            /// STP port priority (`priority`), 0..=63.
            Priority(u16) as priority = Priority, "priority", "priority", since(3, 8);
            /// BPDU guard (`guard`): a BPDU on the port disables it.
            Guard(bool) as guard = Guard, "guard", "guard", since(3, 8);
            /// Root block (`root_block`): the port never becomes the root port.
            RootBlock(bool) as root_block = Protect, "root_block", "root_block", since(3, 8);
            /// Proxy ARP on the port (`proxy_arp`).
            ProxyArp(bool) as proxy_arp = ProxyARP, "proxy_arp", "proxy_arp", since(3, 19);
            /// The port as a multicast router port (`mcast_router`).
            MulticastRouter(MulticastRouter) as multicast_router = MulticastRouter, "mcast_router", "multicast_router", since(4, 2);
            /// IGMP/MLD fast leave (`mcast_fast_leave`).
            MulticastFastLeave(bool) as fast_leave = FastLeave, "mcast_fast_leave", "multicast_fast_leave", since(3, 8);
            /// Only frames from MACs with a static FDB entry on the port
            /// pass (`locked`).
            Locked(bool) as locked = Locked, "locked", "locked", since(5, 18);
            /// MAC authentication bypass on a locked port (`mab`).
            Mab(bool) as mab = Mab, "mab", "mab", since(6, 2);
            /// Per-VLAN neighbour suppression (`neigh_vlan_suppress`).
            NeighVlanSuppress(bool) as neigh_vlan_suppress = NeighVlanSuppress, "neigh_vlan_suppress", "neigh_vlan_suppress", since(6, 4);
            /// VLAN-to-tunnel mapping (`vlan_tunnel`).
            VlanTunnel(bool) as vlan_tunnel = VlanTunnel, "vlan_tunnel", "vlan_tunnel", since(4, 11);
            /// Link-local groups 01:80:c2:00:00:0X forwarded from the port
            /// (`group_fwd_mask`, bit X); bit 1 (pause) never is.
            GroupFwdMask(u16) as group_fwd_mask = GroupFwdMask, "group_fwd_mask", "group_fwd_mask", since(4, 15);
            /// Deliver multicast to the port as unicast, one copy per
            /// listener (`mcast_to_unicast`): for a wireless access point
            /// or a guest that drops multicast.
            MulticastToUnicast(bool) as multicast_to_unicast = MulticastToUnicast, "mcast_to_unicast", "multicast_to_unicast", since(4, 11);
        }
    };
}
// Used by the serde form only.
#[cfg_attr(not(feature = "serde"), allow(unused_imports))]
pub(crate) use port_option_rows;

/// The backup port is set by name or index and resolved to an ifindex
/// when attaching, so it is no row of the table: the set of options
/// carries it beside the rows, by hand.
const BACKUP_PORT: &str = "backup_port";
const BACKUP_PORT_SINCE: KernelVersion = KernelVersion(4, 20);

macro_rules! port_options {
    ($(
        $(#[doc = $doc:literal])*
        $variant:ident($ty:ty) as $field:ident = $attr:ident, $ip:literal, $key:literal,
            since($major:literal, $minor:literal);
    )*) => {
        /// One bridge port option with its value, as
        /// [`PortConfig::option`](crate::PortConfig::option) takes it and
        /// [`PortStatus::options`](crate::PortStatus::options) lists it.
        ///
        /// ```
        /// use bridgekit::{PortConfig, PortOption};
        /// let cfg = PortConfig::new()
        ///     .option(PortOption::Cost(100))
        ///     .option(PortOption::Isolated(true));
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum PortOption {
            $($(#[doc = $doc])* $variant($ty),)*
        }

        /// Which [`PortOption`] one is, without its value.
        ///
        /// ```
        /// use bridgekit::{PortOption, PortOptionKind};
        /// assert_eq!(PortOption::Cost(7).kind(), PortOptionKind::Cost);
        /// assert_eq!(PortOptionKind::UnicastFlood.name(), "flood");
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum PortOptionKind {
            $($(#[doc = $doc])* $variant,)*
        }

        impl PortOptionKind {
            /// Every kind, in the table's order (the order of status and
            /// documents).
            pub const ALL: &'static [PortOptionKind] = &[$(PortOptionKind::$variant),*];

            /// The option's name as iproute2 spells it
            /// (`bridge link set dev PORT NAME VALUE`).
            pub fn name(self) -> &'static str {
                match self {
                    $(PortOptionKind::$variant => $ip,)*
                }
            }

            /// The kernel that added it.
            pub(crate) fn since(self) -> KernelVersion {
                match self {
                    $(PortOptionKind::$variant => KernelVersion($major, $minor),)*
                }
            }
        }

        impl PortOption {
            /// Which option this is.
            ///
            /// ```
            /// use bridgekit::{PortOption, PortOptionKind};
            /// assert_eq!(PortOption::Isolated(true).kind(), PortOptionKind::Isolated);
            /// ```
            pub fn kind(self) -> PortOptionKind {
                match self {
                    $(PortOption::$variant(_) => PortOptionKind::$variant,)*
                }
            }

            fn show_value(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $(PortOption::$variant(v) => ShowValue::show(v, f),)*
                }
            }

            /// An option of `kind` with a value that is not the kernel's
            /// default, for the table's own tests.
            #[cfg(test)]
            fn sample(kind: PortOptionKind) -> PortOption {
                match kind {
                    $(PortOptionKind::$variant => PortOption::$variant(tests::Sample::sample()),)*
                }
            }

            /// Writes the option as one `key: value` entry of a document.
            #[cfg(feature = "serde")]
            pub(crate) fn serialize_entry<M: serde::ser::SerializeMap>(
                self,
                map: &mut M,
            ) -> std::result::Result<(), M::Error> {
                match self {
                    $(PortOption::$variant(v) => map.serialize_entry($key, &DocValue::to_doc(v)),)*
                }
            }
        }

        /// A port's options (`IFLA_BRPORT_*`) as one change sends them or
        /// the kernel reports them; `None` leaves one as it is.
        #[derive(Default, Clone, Copy, Debug, PartialEq, Eq)]
        pub(crate) struct PortOptions {
            $(pub $field: Option<$ty>,)*
            /// Ifindex of the backup port; 0 for none (what the kernel
            /// reports when a port has none, and how one is cleared).
            pub backup_port: Option<u32>,
        }

        impl PortOptions {
            /// Sets one option.
            pub(crate) fn set(&mut self, option: PortOption) {
                match option {
                    $(PortOption::$variant(v) => self.$field = Some(v),)*
                }
            }

            /// The options set here, in the table's order (the backup
            /// port, which is no row, left out).
            pub(crate) fn list(&self) -> Vec<PortOption> {
                let mut out = Vec::new();
                $(if let Some(v) = self.$field {
                    out.push(PortOption::$variant(v));
                })*
                out
            }

            /// The attributes of the options set here, for one message.
            pub(crate) fn infos(&self) -> Vec<InfoBridgePort> {
                let mut infos = Vec::new();
                $(if let Some(v) = self.$field {
                    infos.push(InfoBridgePort::$attr(KernelValue::to_kernel(v)));
                })*
                infos.extend(self.backup_port.map(InfoBridgePort::BackupPort));
                infos
            }

            /// Takes one attribute the kernel reported; `false` when it is
            /// no option (the port's STP state).
            pub(crate) fn read(&mut self, info: &InfoBridgePort) -> bool {
                match info {
                    $(InfoBridgePort::$attr(k) => self.$field = Some(KernelValue::from_kernel(k)),)*
                    InfoBridgePort::BackupPort(i) => self.backup_port = Some(*i),
                    _ => return false,
                }
                true
            }

            /// For each option set here, its value in `old`: what to send
            /// to undo `self`.
            pub(crate) fn previous(&self, old: &PortOptions) -> PortOptions {
                PortOptions {
                    $($field: self.$field.and(old.$field),)*
                    backup_port: self.backup_port.and(old.backup_port),
                }
            }

            /// These options less those `base` sets to the same value (what
            /// a document need not write again).
            #[cfg(feature = "serde")]
            pub(crate) fn beyond(&self, base: &PortOptions) -> PortOptions {
                PortOptions {
                    $($field: self.$field.filter(|_| base.$field.is_none() || self.$field != base.$field),)*
                    backup_port: self.backup_port,
                }
            }

            /// Every option that is set here, compared with what the
            /// kernel reports: (iproute2 name, wanted, read).
            pub(crate) fn mismatches(&self, read: &PortOptions) -> Vec<(&'static str, String, String)> {
                fn differs<T: PartialEq + fmt::Debug>(
                    out: &mut Vec<(&'static str, String, String)>,
                    name: &'static str,
                    want: Option<T>,
                    got: Option<T>,
                ) {
                    if let Some(w) = want {
                        if got.as_ref() != Some(&w) {
                            out.push((
                                name,
                                format!("{w:?}"),
                                got.map_or_else(|| "nothing".into(), |g| format!("{g:?}")),
                            ));
                        }
                    }
                }
                let mut out = Vec::new();
                $(differs(&mut out, $ip, self.$field, read.$field);)*
                differs(&mut out, BACKUP_PORT, self.backup_port, read.backup_port);
                out
            }

            /// The kernel that added the option named `name` (as
            /// [`mismatches`](Self::mismatches) names it).
            pub(crate) fn since(name: &str) -> Option<KernelVersion> {
                if name == BACKUP_PORT {
                    return Some(BACKUP_PORT_SINCE);
                }
                PortOptionKind::ALL
                    .iter()
                    .find(|k| k.name() == name)
                    .map(|k| k.since())
            }

            /// Whether the running kernel (`running`) knows every option
            /// set here, so that its acknowledgement of them is truthful.
            /// `false` when the version is unknown, so callers stay careful.
            pub(crate) fn known_by(&self, running: Option<KernelVersion>) -> bool {
                let Some(running) = running else {
                    return false;
                };
                if Self::knows_all(running) {
                    return true; // most hosts: nothing to list
                }
                $((self.$field.is_none() || KernelVersion($major, $minor) <= running))&&*
                    && (self.backup_port.is_none() || BACKUP_PORT_SINCE <= running)
            }

            /// Whether `running` is at least as new as every port option.
            pub(crate) fn knows_all(running: KernelVersion) -> bool {
                BACKUP_PORT_SINCE <= running
                    && PortOptionKind::ALL.iter().all(|k| k.since() <= running)
            }
        }
    };
}

port_option_rows!(port_options);

impl PortOptions {
    pub(crate) fn is_empty(&self) -> bool {
        *self == PortOptions::default()
    }
}

impl fmt::Display for PortOption {
    /// As iproute2 writes it: `flood off`, `cost 100`, `group_fwd_mask 0x4000`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.kind().name())?;
        match self {
            // A mask reads best in hex.
            PortOption::GroupFwdMask(m) => write!(f, "{m:#06x}"),
            other => other.show_value(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A value unlike the kernel's default, per value type of the table.
    pub(super) trait Sample {
        fn sample() -> Self;
    }
    impl Sample for bool {
        fn sample() -> Self {
            true
        }
    }
    impl Sample for u16 {
        fn sample() -> Self {
            0x4000
        }
    }
    impl Sample for u32 {
        fn sample() -> Self {
            7
        }
    }
    impl Sample for MulticastRouter {
        fn sample() -> Self {
            MulticastRouter::Permanent
        }
    }

    fn every_option() -> PortOptions {
        let mut all = PortOptions::default();
        for kind in PortOptionKind::ALL {
            all.set(PortOption::sample(*kind));
        }
        all.backup_port = Some(3);
        all
    }

    #[test]
    fn every_row_travels_and_reads_back() {
        let all = every_option();
        assert_eq!(all.list().len(), PortOptionKind::ALL.len());
        let infos = all.infos();
        assert_eq!(infos.len(), PortOptionKind::ALL.len() + 1);
        let mut read = PortOptions::default();
        assert!(infos.iter().all(|i| read.read(i)));
        assert_eq!(read, all);
        assert!(all.mismatches(&read).is_empty());
        assert_eq!(
            all.mismatches(&PortOptions::default()).len(),
            PortOptionKind::ALL.len() + 1
        );
        let only_cost = PortOptions {
            cost: Some(7),
            ..PortOptions::default()
        };
        let old = PortOptions {
            cost: Some(100),
            ..all
        };
        assert_eq!(
            only_cost.previous(&old),
            PortOptions {
                cost: Some(100),
                ..PortOptions::default()
            }
        );
    }

    #[test]
    fn kernel_versions_of_options() {
        let k = |a, b| Some(KernelVersion(a, b));
        assert_eq!(PortOptions::since("isolated"), Some(KernelVersion(4, 18)));
        assert_eq!(
            PortOptions::since("backup_port"),
            Some(KernelVersion(4, 20))
        );
        assert_eq!(PortOptions::since("an option nobody knows"), None);
        let with = |o: PortOption| {
            let mut s = PortOptions::default();
            s.set(o);
            s
        };
        let mut isolated_learning = with(PortOption::Isolated(true));
        isolated_learning.set(PortOption::Learning(false));
        assert!(isolated_learning.known_by(k(4, 18)));
        assert!(!isolated_learning.known_by(k(4, 17)));
        assert!(!with(PortOption::Locked(true)).known_by(k(5, 10)));
        assert!(with(PortOption::Locked(true)).known_by(k(6, 1)));
        assert!(!with(PortOption::Cost(1)).known_by(None));
        assert!(PortOptions::knows_all(KernelVersion(6, 4)));
        assert!(!PortOptions::knows_all(KernelVersion(6, 3)));
    }

    #[test]
    fn options_read_as_iproute2_writes_them() {
        assert_eq!(PortOption::UnicastFlood(false).to_string(), "flood off");
        assert_eq!(PortOption::Cost(100).to_string(), "cost 100");
        assert_eq!(
            PortOption::GroupFwdMask(0x4000).to_string(),
            "group_fwd_mask 0x4000"
        );
    }
}

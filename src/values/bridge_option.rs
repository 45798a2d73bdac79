//! The bridge options set as whole values — STP hello time, max age and
//! priority; group forwarding; multicast snooping, querier (its versions
//! and source address), router mode and statistics; per-VLAN statistics —
//! as one table, with the ranges the kernel accepts, checked before
//! anything is sent.

use crate::error::InputKind;
use std::fmt;
use std::time::Duration;

use macaddr::MacAddr6;

use netlink_packet_route::link::InfoBridge;

#[cfg(feature = "serde")]
use super::option_value::DocValue;
use super::option_value::{KernelValue, ShowValue};
use crate::error::{Error, Result};
pub use crate::values::multicast_router::MulticastRouter;

/// Declares the bridge options. Each row is everything the crate does
/// with one option: its variant and value type, the `IFLA_BR_*` attribute
/// it travels in (a variant of netlink-packet-route's `InfoBridge`), its
/// name in iproute2 and its key in a serde document. Reading it back,
/// verifying, undoing, [`Change`](crate::Change), status and serde all go
/// through the generated functions, so a new option of a value type that
/// `option_value.rs` knows is one row (plus a range in `validate` if the
/// kernel has one).
///
/// The table names netlink-packet-route's attribute, as the port option
/// table does (they and `multicast_router.rs` are the places below
/// netlink/ that do): splitting a row across two layers would be the six
/// edits per option this table exists to end.
macro_rules! bridge_options {
    ($(
        $(#[doc = $doc:literal])*
        $variant:ident($ty:ty) = $attr:ident, $ip:literal, $key:literal;
    )*) => {
        /// One bridge option with its value, as
        /// [`BridgeConfig::option`](crate::BridgeConfig::option) takes it,
        /// [`Change::Option`](crate::Change::Option) reports it and
        /// [`BridgeStatus::options`](crate::BridgeStatus::options) lists it.
        ///
        /// ```
        /// use std::time::Duration;
        /// use bridgekit::{BridgeConfig, BridgeOption};
        /// let c = BridgeConfig::new("br0")?
        ///     .option(BridgeOption::Priority(0x1000))
        ///     .option(BridgeOption::HelloTime(Duration::from_secs(1)))
        ///     .option(BridgeOption::GroupFwdMask(1 << 14)); // pass LLDP (01:80:c2:00:00:0e)
        /// # Ok::<(), bridgekit::Error>(())
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum BridgeOption {
            $($(#[doc = $doc])* $variant($ty),)*
        }

        /// Which [`BridgeOption`] one is, without its value.
        ///
        /// ```
        /// use bridgekit::{BridgeOption, BridgeOptionKind};
        /// assert_eq!(BridgeOption::Priority(0).kind(), BridgeOptionKind::Priority);
        /// assert_eq!(BridgeOptionKind::Priority.name(), "priority");
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum BridgeOptionKind {
            $($(#[doc = $doc])* $variant,)*
        }

        impl BridgeOptionKind {
            /// Every kind, in the table's order (the order of status and
            /// documents).
            pub const ALL: &'static [BridgeOptionKind] = &[$(BridgeOptionKind::$variant),*];

            /// The option's name as iproute2 spells it
            /// (`ip link set dev br0 type bridge NAME VALUE`).
            pub fn name(self) -> &'static str {
                match self {
                    $(BridgeOptionKind::$variant => $ip,)*
                }
            }

            /// The keys of a serde document's options table.
            #[cfg(feature = "serde")]
            pub(crate) const KEYS: &'static [&'static str] = &[$($key),*];

            /// Its key in a serde document.
            #[cfg(feature = "serde")]
            pub(crate) fn key(self) -> &'static str {
                match self {
                    $(BridgeOptionKind::$variant => $key,)*
                }
            }
        }

        impl BridgeOption {
            /// Which option this is.
            ///
            /// ```
            /// use bridgekit::{BridgeOption, BridgeOptionKind};
            /// assert_eq!(BridgeOption::VlanStats(true).kind(), BridgeOptionKind::VlanStats);
            /// ```
            pub fn kind(self) -> BridgeOptionKind {
                match self {
                    $(BridgeOption::$variant(_) => BridgeOptionKind::$variant,)*
                }
            }

            /// The attribute that carries it to the kernel.
            pub(crate) fn to_info(self) -> InfoBridge {
                match self {
                    $(BridgeOption::$variant(v) => InfoBridge::$attr(KernelValue::to_kernel(v)),)*
                }
            }

            /// The option an attribute the kernel reported holds, if it is
            /// one of the table's.
            pub(crate) fn from_info(info: &InfoBridge) -> Option<BridgeOption> {
                match info {
                    $(InfoBridge::$attr(k) => Some(BridgeOption::$variant(KernelValue::from_kernel(k))),)*
                    _ => None,
                }
            }

            fn show_value(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $(BridgeOption::$variant(v) => ShowValue::show(v, f),)*
                }
            }

            /// Writes the option as one `key: value` entry of a document.
            #[cfg(feature = "serde")]
            pub(crate) fn serialize_entry<M: serde::ser::SerializeMap>(
                self,
                map: &mut M,
            ) -> std::result::Result<(), M::Error> {
                match self {
                    $(BridgeOption::$variant(v) => map.serialize_entry($key, &DocValue::to_doc(v)),)*
                }
            }

            /// Reads the value of an option of `kind` from a document, checked
            /// as [`BridgeConfig::option`](crate::BridgeConfig::option) checks it.
            #[cfg(feature = "serde")]
            pub(crate) fn deserialize_value<'de, A: serde::de::MapAccess<'de>>(
                kind: BridgeOptionKind,
                map: &mut A,
            ) -> std::result::Result<BridgeOption, A::Error> {
                use serde::de::Error as _;
                let option = match kind {
                    $(BridgeOptionKind::$variant => BridgeOption::$variant(
                        <$ty as DocValue>::from_doc(map.next_value()?).map_err(A::Error::custom)?,
                    ),)*
                };
                option.validate().map_err(|e| A::Error::custom(e.to_string()))?;
                Ok(option)
            }
        }
    };
}

bridge_options! {
    /// STP hello time (`hello_time`), 1..=10 s; kept in centiseconds.
    HelloTime(Duration) = HelloTime, "hello_time", "hello_time_ms";
    /// STP max age (`max_age`), 6..=40 s; kept in centiseconds.
    MaxAge(Duration) = MaxAge, "max_age", "max_age_ms";
    /// STP bridge priority (`priority`); lower wins the root election.
    Priority(u16) = Priority, "priority", "priority";
    /// Which link-local groups 01:80:c2:00:00:0X the bridge forwards
    /// (`group_fwd_mask`, bit X); bits 0-2 (STP, pause, LACP) the kernel
    /// never forwards and refuses.
    GroupFwdMask(u16) = GroupFwdMask, "group_fwd_mask", "group_fwd_mask";
    /// The STP group address (`group_address`): 01:80:c2:00:00:0X, X not 1, 2 or 3.
    GroupAddress(MacAddr6) = GroupAddr, "group_address", "group_address";
    /// IGMP/MLD snooping (`mcast_snooping`).
    MulticastSnooping(bool) = MulticastSnooping, "mcast_snooping", "multicast_snooping";
    /// The bridge's own IGMP/MLD querier (`mcast_querier`).
    MulticastQuerier(bool) = MulticastQuerier, "mcast_querier", "multicast_querier";
    /// IGMP version of the querier (`mcast_igmp_version`), 2 or 3.
    IgmpVersion(u8) = MulticastIgmpVersion, "mcast_igmp_version", "igmp_version";
    /// MLD version of the querier (`mcast_mld_version`), 1 or 2.
    MldVersion(u8) = MulticastMldVersion, "mcast_mld_version", "mld_version";
    /// Per-VLAN statistics (`vlan_stats_enabled`); needs a kernel with
    /// bridge VLAN filtering.
    VlanStats(bool) = VlanStatsEnabled, "vlan_stats_enabled", "vlan_stats";
    /// The bridge as a multicast router port (`mcast_router`).
    MulticastRouter(MulticastRouter) = MulticastRouter, "mcast_router", "multicast_router";
    /// The querier sends from the bridge's own address rather than
    /// 0.0.0.0 / :: (`mcast_query_use_ifaddr`): some hosts ignore queries
    /// from an unspecified source.
    MulticastQueryUseIfaddr(bool) = MulticastQueryUseIfaddr, "mcast_query_use_ifaddr", "multicast_query_use_ifaddr";
    /// Per-port IGMP/MLD statistics (`mcast_stats_enabled`).
    MulticastStats(bool) = MulticastStatsEnabled, "mcast_stats_enabled", "multicast_stats";
}

pub(crate) const HELLO_TIME: std::ops::RangeInclusive<Duration> =
    Duration::from_secs(1)..=Duration::from_secs(10);
pub(crate) const MAX_AGE: std::ops::RangeInclusive<Duration> =
    Duration::from_secs(6)..=Duration::from_secs(40);
/// 01:80:c2:00:00:00-02: STP, pause frames, LACP — never forwarded.
pub(crate) const GROUP_FWD_RESTRICTED: u16 = 0x0007;

impl BridgeOption {
    /// The option's name as iproute2 spells it.
    pub(crate) fn name(self) -> &'static str {
        self.kind().name()
    }

    /// Refuses values the kernel would refuse or change, with the range.
    pub(crate) fn validate(self) -> Result<()> {
        let bad = |value: String, reason: String| {
            Err(Error::invalid(InputKind::BridgeOption, value, reason))
        };
        match self {
            BridgeOption::HelloTime(d) if !HELLO_TIME.contains(&d) => bad(
                format!("hello time {d:?}"),
                "the kernel accepts 1..=10 s".into(),
            ),
            BridgeOption::MaxAge(d) if !MAX_AGE.contains(&d) => bad(
                format!("max age {d:?}"),
                "the kernel accepts 6..=40 s".into(),
            ),
            BridgeOption::GroupFwdMask(m) if m & GROUP_FWD_RESTRICTED != 0 => bad(
                format!("group_fwd_mask {m:#06x}"),
                "bits 0-2 (STP, pause, LACP: 01:80:c2:00:00:00-02) are never forwarded; \
                 allowed: any of 0xfff8"
                    .into(),
            ),
            BridgeOption::GroupAddress(mac) => {
                let b = mac.as_bytes();
                if b[..5] != [0x01, 0x80, 0xc2, 0, 0] || b[5] > 0x0f || (1..=3).contains(&b[5]) {
                    bad(
                        format!("group address {mac}"),
                        "must be 01:80:c2:00:00:0X, X in 0 or 4..=f".into(),
                    )
                } else {
                    Ok(())
                }
            }
            BridgeOption::IgmpVersion(v) if !(2..=3).contains(&v) => bad(
                format!("IGMP version {v}"),
                "the kernel accepts 2 or 3".into(),
            ),
            BridgeOption::MldVersion(v) if !(1..=2).contains(&v) => bad(
                format!("MLD version {v}"),
                "the kernel accepts 1 or 2".into(),
            ),
            BridgeOption::MulticastRouter(
                r @ (MulticastRouter::Other(_) | MulticastRouter::Temporary),
            ) => bad(
                format!("multicast router mode {}", r.to_kernel()),
                "a bridge takes disabled (0), auto (1) or permanent (2)".into(),
            ),
            _ => Ok(()),
        }
    }

    /// Whether `read` (from the kernel) is this value; timers within the
    /// kernel's rounding (one centisecond).
    pub(crate) fn matches(self, read: Option<BridgeOption>) -> bool {
        match (self, read) {
            (BridgeOption::HelloTime(a), Some(BridgeOption::HelloTime(b)))
            | (BridgeOption::MaxAge(a), Some(BridgeOption::MaxAge(b))) => {
                a.as_millis().abs_diff(b.as_millis()) <= 10
            }
            (a, b) => Some(a) == b,
        }
    }
}

impl fmt::Display for BridgeOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.kind().name())?;
        match self {
            // A mask reads best in hex.
            BridgeOption::GroupFwdMask(m) => write!(f, "{m:#06x}"),
            other => other.show_value(f),
        }
    }
}

/// Bridge timers travel as clock_t (1/100 s).
pub(crate) fn to_centiseconds(what: &str, d: Duration) -> Result<u32> {
    let cs = (d.as_nanos() + 5_000_000) / 10_000_000;
    u32::try_from(cs).map_err(|_| {
        Error::invalid(
            InputKind::BridgeOption,
            format!("{what} {d:?}"),
            "too long for the kernel (at most u32 centiseconds)",
        )
    })
}

pub(crate) fn from_centiseconds(cs: u32) -> Duration {
    Duration::from_millis(u64::from(cs) * 10)
}

/// The kernel keeps timers in jiffies: a value read back may differ from
/// the one sent by one centisecond.
pub(crate) fn timer_matches(sent: u32, read: Option<u32>) -> bool {
    read.is_some_and(|r| r.abs_diff(sent) <= 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_refused_before_sending() {
        let s = Duration::from_secs;
        assert!(BridgeOption::HelloTime(s(1)).validate().is_ok());
        assert!(BridgeOption::HelloTime(s(11)).validate().is_err());
        assert!(BridgeOption::HelloTime(Duration::ZERO).validate().is_err());
        assert!(BridgeOption::MaxAge(s(5)).validate().is_err());
        assert!(BridgeOption::MaxAge(s(40)).validate().is_ok());
        assert!(BridgeOption::GroupFwdMask(0x4000).validate().is_ok());
        assert!(BridgeOption::GroupFwdMask(0x0001).validate().is_err());
        let mac = |s: &str| BridgeOption::GroupAddress(s.parse().unwrap());
        assert!(mac("01:80:c2:00:00:00").validate().is_ok());
        assert!(mac("01:80:c2:00:00:0e").validate().is_ok());
        assert!(mac("01:80:c2:00:00:02").validate().is_err());
        assert!(mac("01:80:c2:00:00:10").validate().is_err());
        assert!(mac("52:54:00:00:00:01").validate().is_err());
        assert!(BridgeOption::IgmpVersion(1).validate().is_err());
        assert!(BridgeOption::MldVersion(2).validate().is_ok());
        assert!(
            BridgeOption::MulticastRouter(MulticastRouter::Other(3))
                .validate()
                .is_err()
        );
        let e = BridgeOption::HelloTime(s(11)).validate().unwrap_err();
        assert!(e.to_string().contains("1..=10 s"), "{e}");
    }

    #[test]
    fn timers_match_within_rounding() {
        let a = BridgeOption::HelloTime(Duration::from_millis(2000));
        assert!(a.matches(Some(BridgeOption::HelloTime(Duration::from_millis(1990)))));
        assert!(!a.matches(Some(BridgeOption::HelloTime(Duration::from_millis(1900)))));
        assert!(!a.matches(None));
    }
}

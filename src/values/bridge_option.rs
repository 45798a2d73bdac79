//! The bridge options set as whole values — STP hello time, max age and
//! priority; group forwarding; multicast snooping, querier, protocol
//! versions and router mode; per-VLAN statistics — with the ranges the
//! kernel accepts, checked before anything is sent.

use std::fmt;
use std::time::Duration;

use macaddr::MacAddr6;

use crate::error::{Error, Result};

/// Whether the bridge itself is a multicast router port
/// (`type bridge mcast_router 0|1|2`).
///
/// ```
/// assert_eq!(bridgekit::MulticastRouter::Permanent.to_string(), "permanent");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MulticastRouter {
    /// Never (0).
    Disabled,
    /// Learned from queries, the kernel's default (1).
    Auto,
    /// Always (2).
    Permanent,
    /// A port only: a router port until the next query times out (3).
    Temporary,
    /// Another value the kernel reported, kept as it is (never set).
    Other(u8),
}

impl MulticastRouter {
    pub(crate) fn to_kernel(self) -> u8 {
        match self {
            MulticastRouter::Disabled => 0,
            MulticastRouter::Auto => 1,
            MulticastRouter::Permanent => 2,
            MulticastRouter::Temporary => 3,
            MulticastRouter::Other(v) => v,
        }
    }

    pub(crate) fn from_kernel(v: u8) -> Self {
        match v {
            0 => MulticastRouter::Disabled,
            1 => MulticastRouter::Auto,
            2 => MulticastRouter::Permanent,
            3 => MulticastRouter::Temporary,
            v => MulticastRouter::Other(v),
        }
    }
}

impl fmt::Display for MulticastRouter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MulticastRouter::Disabled => f.write_str("disabled"),
            MulticastRouter::Auto => f.write_str("auto"),
            MulticastRouter::Permanent => f.write_str("permanent"),
            MulticastRouter::Temporary => f.write_str("temporary"),
            MulticastRouter::Other(v) => write!(f, "{v}"),
        }
    }
}

/// One bridge option with its value, as [`BridgeConfig::option`](crate::BridgeConfig::option)
/// takes it and [`Change::Option`](crate::Change::Option) reports it.
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
    /// STP hello time (`hello_time`), 1..=10 s; kept in centiseconds.
    HelloTime(Duration),
    /// STP max age (`max_age`), 6..=40 s; kept in centiseconds.
    MaxAge(Duration),
    /// STP bridge priority (`priority`); lower wins the root election.
    Priority(u16),
    /// Which link-local groups 01:80:c2:00:00:0X the bridge forwards
    /// (`group_fwd_mask`, bit X); bits 0-2 (STP, pause, LACP) the kernel
    /// never forwards and refuses.
    GroupFwdMask(u16),
    /// The STP group address (`group_address`): 01:80:c2:00:00:0X, X not 1, 2 or 3.
    GroupAddress(MacAddr6),
    /// IGMP/MLD snooping (`mcast_snooping`).
    MulticastSnooping(bool),
    /// The bridge's own IGMP/MLD querier (`mcast_querier`).
    MulticastQuerier(bool),
    /// IGMP version of the querier (`mcast_igmp_version`), 2 or 3.
    IgmpVersion(u8),
    /// MLD version of the querier (`mcast_mld_version`), 1 or 2.
    MldVersion(u8),
    /// Per-VLAN statistics (`vlan_stats_enabled`); needs a kernel with
    /// bridge VLAN filtering.
    VlanStats(bool),
    /// The bridge as a multicast router port (`mcast_router`).
    MulticastRouter(MulticastRouter),
}

/// The kind of a [`BridgeOption`], without its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum OptionKind {
    HelloTime,
    MaxAge,
    Priority,
    GroupFwdMask,
    GroupAddress,
    MulticastSnooping,
    MulticastQuerier,
    IgmpVersion,
    MldVersion,
    VlanStats,
    MulticastRouter,
}

pub(crate) const HELLO_TIME: std::ops::RangeInclusive<Duration> =
    Duration::from_secs(1)..=Duration::from_secs(10);
pub(crate) const MAX_AGE: std::ops::RangeInclusive<Duration> =
    Duration::from_secs(6)..=Duration::from_secs(40);
/// 01:80:c2:00:00:00-02: STP, pause frames, LACP — never forwarded.
pub(crate) const GROUP_FWD_RESTRICTED: u16 = 0x0007;

impl BridgeOption {
    pub(crate) fn kind(self) -> OptionKind {
        match self {
            BridgeOption::HelloTime(_) => OptionKind::HelloTime,
            BridgeOption::MaxAge(_) => OptionKind::MaxAge,
            BridgeOption::Priority(_) => OptionKind::Priority,
            BridgeOption::GroupFwdMask(_) => OptionKind::GroupFwdMask,
            BridgeOption::GroupAddress(_) => OptionKind::GroupAddress,
            BridgeOption::MulticastSnooping(_) => OptionKind::MulticastSnooping,
            BridgeOption::MulticastQuerier(_) => OptionKind::MulticastQuerier,
            BridgeOption::IgmpVersion(_) => OptionKind::IgmpVersion,
            BridgeOption::MldVersion(_) => OptionKind::MldVersion,
            BridgeOption::VlanStats(_) => OptionKind::VlanStats,
            BridgeOption::MulticastRouter(_) => OptionKind::MulticastRouter,
        }
    }

    /// The option's name as iproute2 spells it.
    pub(crate) fn name(self) -> &'static str {
        match self.kind() {
            OptionKind::HelloTime => "hello_time",
            OptionKind::MaxAge => "max_age",
            OptionKind::Priority => "priority",
            OptionKind::GroupFwdMask => "group_fwd_mask",
            OptionKind::GroupAddress => "group_address",
            OptionKind::MulticastSnooping => "mcast_snooping",
            OptionKind::MulticastQuerier => "mcast_querier",
            OptionKind::IgmpVersion => "mcast_igmp_version",
            OptionKind::MldVersion => "mcast_mld_version",
            OptionKind::VlanStats => "vlan_stats_enabled",
            OptionKind::MulticastRouter => "mcast_router",
        }
    }

    /// Refuses values the kernel would refuse or change, with the range.
    pub(crate) fn validate(self) -> Result<()> {
        let bad = |value: String, reason: String| Err(Error::invalid(value, reason));
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
        let name = self.name();
        match self {
            BridgeOption::HelloTime(d) | BridgeOption::MaxAge(d) => write!(f, "{name} {d:?}"),
            BridgeOption::Priority(v) => write!(f, "{name} {v}"),
            BridgeOption::GroupFwdMask(m) => write!(f, "{name} {m:#06x}"),
            BridgeOption::GroupAddress(m) => write!(f, "{name} {m}"),
            BridgeOption::MulticastSnooping(on)
            | BridgeOption::MulticastQuerier(on)
            | BridgeOption::VlanStats(on) => write!(f, "{name} {}", if *on { "on" } else { "off" }),
            BridgeOption::IgmpVersion(v) | BridgeOption::MldVersion(v) => write!(f, "{name} {v}"),
            BridgeOption::MulticastRouter(r) => write!(f, "{name} {r}"),
        }
    }
}

/// Bridge timers travel as clock_t (1/100 s).
pub(crate) fn to_centiseconds(what: &str, d: Duration) -> Result<u32> {
    let cs = (d.as_nanos() + 5_000_000) / 10_000_000;
    u32::try_from(cs).map_err(|_| {
        Error::invalid(
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

//! How the value types are written in serde documents (status output):
//! MACs as `ip link` prints them, timers in milliseconds, addresses as
//! `ADDRESS/PREFIX_LENGTH`. Used through `serialize_with` by the status
//! types, whichever layer they live in.

use std::time::Duration;

use ipnet::IpNet;
use macaddr::MacAddr6;
use serde::Serializer;

use super::bridge_option::BridgeOption;
use super::mac::lower;

/// A MAC as `ip link` prints it (lower case).
pub(crate) fn mac<S: Serializer>(mac: &MacAddr6, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&lower(*mac))
}

/// An optional MAC.
pub(crate) fn opt_mac<S: Serializer>(
    mac: &Option<MacAddr6>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match mac {
        Some(m) => s.serialize_str(&lower(*m)),
        None => s.serialize_none(),
    }
}

/// A duration in whole milliseconds (the kernel keeps bridge timers
/// in centiseconds, so nothing it holds is lost).
pub(crate) fn millis<S: Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_u64(as_millis(*d))
}

/// Bridge options as a table of `key: value`, keys and values as
/// [`BridgeOption`]'s table writes them.
pub(crate) fn bridge_options<S: Serializer>(
    options: &[BridgeOption],
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    option_table(options, s, |o, map| o.serialize_entry(map))
}

/// A table of options, each written as one entry by `entry`.
fn option_table<S: Serializer, T: Copy>(
    options: &[T],
    s: S,
    entry: impl Fn(T, &mut S::SerializeMap) -> std::result::Result<(), S::Error>,
) -> std::result::Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(Some(options.len()))?;
    for option in options {
        entry(*option, &mut map)?;
    }
    map.end()
}

/// Port options as a table of `key: value`, keys and values as
/// [`PortOption`](crate::PortOption)'s table writes them.
pub(crate) fn port_options<S: Serializer>(
    options: &[crate::values::port_option::PortOption],
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    option_table(options, s, |o, map| o.serialize_entry(map))
}

/// An address as `ADDRESS/PREFIX_LENGTH`.
pub(crate) fn net<S: Serializer>(n: &IpNet, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(n)
}

/// Milliseconds, rounded to the nearest one.
pub(crate) fn as_millis(d: Duration) -> u64 {
    u64::try_from((d.as_nanos() + 500_000) / 1_000_000).unwrap_or(u64::MAX)
}

//! How a macvtap device shares its lower device: a value, turned into
//! the kernel's by `netlink/`.

use std::fmt;

/// How a macvtap device shares its lower device (`ip link add ... type
/// macvtap mode MODE`).
///
/// ```
/// assert_eq!(bridgekit::MacvtapMode::Bridge.to_string(), "bridge");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum MacvtapMode {
    /// Guests on the same lower device reach each other directly (the
    /// usual choice, and the default).
    #[default]
    Bridge,
    /// Every frame goes out to the adjacent switch, which must reflect
    /// frames between guests (802.1Qbg "hairpin").
    Vepa,
    /// Guests on the same lower device never reach each other.
    Private,
    /// The guest takes the lower device over: one macvtap per lower
    /// device, with the lower device's MAC and MTU.
    Passthru,
}

impl fmt::Display for MacvtapMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MacvtapMode::Bridge => "bridge",
            MacvtapMode::Vepa => "vepa",
            MacvtapMode::Private => "private",
            MacvtapMode::Passthru => "passthru",
        })
    }
}

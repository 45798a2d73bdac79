//! How a bridge or port option's value travels: to and from the kernel's
//! attribute, as words, and in a serde document. One impl per value type
//! (a bool, a count, a timer, a MAC), so that an option of a type already
//! here is one row in the table of `values/bridge_option.rs` or
//! `netlink/port_options.rs`.

use std::fmt;
use std::time::Duration;

use macaddr::MacAddr6;

use super::mac::lower;

/// The value as the kernel's attribute holds it (`K`), and back.
pub(crate) trait KernelValue<K>: Sized {
    fn to_kernel(self) -> K;
    fn from_kernel(k: &K) -> Self;
}

/// The value in words, as `ip -d link` prints it.
pub(crate) trait ShowValue {
    fn show(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

/// The value in a serde document, and back with its own checks (ranges
/// that depend on the option are [`BridgeOption::validate`]'s).
///
/// [`BridgeOption::validate`]: super::bridge_option::BridgeOption::validate
#[cfg(feature = "serde")]
pub(crate) trait DocValue: Sized {
    type Doc: serde::Serialize + serde::de::DeserializeOwned;
    fn to_doc(self) -> Self::Doc;
    fn from_doc(doc: Self::Doc) -> Result<Self, String>;
}

macro_rules! as_it_is {
    ($($t:ty),*) => {$(
        impl KernelValue<$t> for $t {
            fn to_kernel(self) -> $t {
                self
            }
            fn from_kernel(k: &$t) -> Self {
                *k
            }
        }
        #[cfg(feature = "serde")]
        impl DocValue for $t {
            type Doc = $t;
            fn to_doc(self) -> $t {
                self
            }
            fn from_doc(doc: $t) -> Result<Self, String> {
                Ok(doc)
            }
        }
    )*};
}
as_it_is!(bool, u8, u16, u32);

impl ShowValue for bool {
    fn show(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if *self { "on" } else { "off" })
    }
}

macro_rules! show_display {
    ($($t:ty),*) => {$(
        impl ShowValue for $t {
            fn show(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }
    )*};
}
show_display!(u8, u16, u32);

/// Bridge timers travel as clock_t (1/100 s), u32 for the STP timers (the
/// multicast ones, u64, get their impl with their first row). Rounded to the nearest centisecond; a value too
/// large saturates, and `validate` or the document check refuses it first.
impl KernelValue<u32> for Duration {
    fn to_kernel(self) -> u32 {
        u32::try_from(centiseconds(self)).unwrap_or(u32::MAX)
    }
    fn from_kernel(cs: &u32) -> Self {
        Duration::from_millis(u64::from(*cs) * 10)
    }
}

fn centiseconds(d: Duration) -> u128 {
    (d.as_nanos() + 5_000_000) / 10_000_000
}

impl ShowValue for Duration {
    fn show(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// In milliseconds, as `forward_delay_ms` is; at most u32 centiseconds.
#[cfg(feature = "serde")]
impl DocValue for Duration {
    type Doc = u64;
    fn to_doc(self) -> u64 {
        u64::try_from(self.as_millis()).unwrap_or(u64::MAX)
    }
    fn from_doc(ms: u64) -> Result<Self, String> {
        let d = Duration::from_millis(ms);
        match u32::try_from(centiseconds(d)) {
            Ok(_) => Ok(d),
            Err(_) => Err(format!(
                "invalid bridge timer {ms} ms: too long for the kernel (at most u32 centiseconds)"
            )),
        }
    }
}

impl KernelValue<[u8; 6]> for MacAddr6 {
    fn to_kernel(self) -> [u8; 6] {
        self.into_array()
    }
    fn from_kernel(k: &[u8; 6]) -> Self {
        MacAddr6::from(*k)
    }
}

impl ShowValue for MacAddr6 {
    fn show(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&lower(*self))
    }
}

/// As `ip link` prints it; any MAC (group addresses are what options hold).
#[cfg(feature = "serde")]
impl DocValue for MacAddr6 {
    type Doc = String;
    fn to_doc(self) -> String {
        lower(self)
    }
    fn from_doc(s: String) -> Result<Self, String> {
        s.parse().map_err(|_| {
            format!(
                "invalid MAC address {s:?}: expected six hex bytes separated by ':' (01:80:c2:00:00:00)"
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timers_round_to_centiseconds_and_saturate() {
        let d = Duration::from_millis(1234);
        assert_eq!(KernelValue::<u32>::to_kernel(d), 123);
        assert_eq!(
            KernelValue::<u32>::to_kernel(Duration::from_millis(1235)),
            124
        );
        let back: Duration = KernelValue::<u32>::from_kernel(&123);
        assert_eq!(back, Duration::from_millis(1230));
        assert_eq!(KernelValue::<u32>::to_kernel(Duration::MAX), u32::MAX);
    }

    #[cfg(feature = "serde")]
    #[test]
    fn documents_check_what_the_type_cannot_hold() {
        assert!(Duration::from_doc(1000).is_ok());
        assert!(Duration::from_doc(u64::MAX).is_err());
        assert!(MacAddr6::from_doc("01:80:c2:00:00:0e".into()).is_ok());
        let e = MacAddr6::from_doc("nope".into()).unwrap_err();
        assert!(e.contains("six hex bytes"), "{e}");
    }
}

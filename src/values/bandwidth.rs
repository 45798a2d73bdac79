//! A port's bandwidth limits ([`Bandwidth`]): an average rate, an
//! optional peak, an optional burst, for each direction of a guest's
//! traffic, as libvirt's `<bandwidth><inbound/><outbound/>` has them.

use std::fmt;

use crate::error::{Error, InputKind, Result};

/// A rate limit for one direction of a port's traffic, enforced by a
/// token bucket (tbf): on average at most [`average`](Self::average_rate)
/// bytes per second; after a pause up to [`burst`](Self::burst_size) bytes
/// at line rate, or at the [`peak`](Self::peak_rate) rate if one is set.
///
/// Rates are in bytes per second of whole Ethernet frames (headers
/// included), as `tc` counts them: a TCP stream's payload is about 4 %
/// below the rate at an MTU of 1500.
///
/// Without a burst, bridgekit picks one: 20 ms at the average rate, and at
/// least four frames of the port's MTU. A burst below one frame of the
/// port (and two 64 ns ticks at the rate) would drop full-size frames, and
/// one that lasts over 100 s at the rate would not fit the kernel's tick
/// count: both are refused ([`Error::InvalidInput`]).
///
/// | bridgekit | libvirt `<bandwidth>` | `tc ... tbf` |
/// |---|---|---|
/// | `Bandwidth::bytes_per_sec(n)` | `average` (KiB/s: `n / 1024`) | `rate nbps` |
/// | `.peak(p)` | `peak` | `peakrate pbps mtu FRAME` |
/// | `.burst(b)` | `burst` (KiB) | `burst b` |
///
/// ```
/// use bridgekit::Bandwidth;
/// let ten_mbit = Bandwidth::bits_per_sec(10_000_000);
/// assert_eq!(ten_mbit.average_rate(), 1_250_000);
/// let bursty = Bandwidth::bytes_per_sec(1_250_000).peak(2_500_000).burst(256 * 1024);
/// assert_eq!(bursty.peak_rate(), Some(2_500_000));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[must_use = "a bandwidth limit changes nothing until a PortConfig carries it"]
pub struct Bandwidth {
    average: u64,
    peak: Option<u64>,
    burst: Option<u32>,
}

/// Bytes of an Ethernet header on top of the MTU: a full frame as tbf
/// counts it.
pub(crate) const FRAME_OVERHEAD: u32 = 14;

impl Bandwidth {
    /// A limit of `average` bytes per second.
    ///
    /// ```
    /// let limit = bridgekit::Bandwidth::bytes_per_sec(125_000); // 1 Mbit/s
    /// ```
    pub fn bytes_per_sec(average: u64) -> Self {
        Bandwidth {
            average,
            peak: None,
            burst: None,
        }
    }

    /// A limit of `average` bits per second (rounded down to whole bytes).
    ///
    /// ```
    /// let limit = bridgekit::Bandwidth::bits_per_sec(100_000_000); // 100 Mbit/s
    /// assert_eq!(limit.average_rate(), 12_500_000);
    /// ```
    pub fn bits_per_sec(average: u64) -> Self {
        Self::bytes_per_sec(average / 8)
    }

    /// A peak rate, bytes per second, above the average: what a burst is
    /// sent at (`peakrate`). Without one, a burst goes at line rate.
    ///
    /// ```
    /// let limit = bridgekit::Bandwidth::bytes_per_sec(125_000).peak(250_000);
    /// ```
    pub fn peak(mut self, bytes_per_sec: u64) -> Self {
        self.peak = Some(bytes_per_sec);
        self
    }

    /// The bucket's size, bytes (`burst`): what may pass above the average
    /// after a pause. At least one full frame of the port.
    ///
    /// ```
    /// let limit = bridgekit::Bandwidth::bytes_per_sec(125_000).burst(32 * 1024);
    /// ```
    pub fn burst(mut self, bytes: u32) -> Self {
        self.burst = Some(bytes);
        self
    }

    /// The average rate, bytes per second.
    ///
    /// ```
    /// assert_eq!(bridgekit::Bandwidth::bytes_per_sec(9).average_rate(), 9);
    /// ```
    pub fn average_rate(&self) -> u64 {
        self.average
    }

    /// The peak rate, bytes per second, if one is set.
    ///
    /// ```
    /// assert_eq!(bridgekit::Bandwidth::bytes_per_sec(9).peak_rate(), None);
    /// ```
    pub fn peak_rate(&self) -> Option<u64> {
        self.peak
    }

    /// The burst given, bytes, if one is (else bridgekit picks one per
    /// port: see [`Bandwidth`]).
    ///
    /// ```
    /// assert_eq!(bridgekit::Bandwidth::bytes_per_sec(9).burst(3000).burst_size(), Some(3000));
    /// ```
    pub fn burst_size(&self) -> Option<u32> {
        self.burst
    }

    /// The burst used on a port of `mtu`: the one given, else 20 ms at the
    /// average rate and at least four full frames.
    pub(crate) fn burst_for(&self, mtu: u32) -> u32 {
        self.burst.unwrap_or_else(|| {
            let frames = 4 * u64::from(mtu.saturating_add(FRAME_OVERHEAD));
            u32::try_from((self.average / 50).max(frames)).unwrap_or(u32::MAX)
        })
    }

    /// Bytes that may wait for tokens before tbf drops: the burst and 50 ms
    /// at the average rate (`tc`'s `latency`, which the CNI plugin sets to
    /// 25 ms; TCP keeps closer to the rate with a little more room).
    pub(crate) fn queue_for(&self, mtu: u32) -> u32 {
        let latency = self.average / 20;
        u32::try_from(u64::from(self.burst_for(mtu)) + latency).unwrap_or(u32::MAX)
    }

    /// The checks that need no port: a rate, a peak above it, a burst.
    pub(crate) fn validate(&self, direction: &str) -> Result<()> {
        let bad = |why: String| Err(Error::invalid(InputKind::Bandwidth, direction, why));
        if self.average == 0 {
            return bad("an average rate of 0 bytes/s passes nothing: leave the limit out".into());
        }
        if let Some(peak) = self.peak {
            if peak <= self.average {
                return bad(format!(
                    "the peak rate ({peak} B/s) must be above the average ({} B/s)",
                    self.average
                ));
            }
        }
        if self.burst == Some(0) {
            return bad("a burst of 0 bytes passes no frame".into());
        }
        Ok(())
    }

    /// The check that needs the port's MTU: a burst of one full frame at
    /// least ([`min_bucket`]), and a bucket the kernel can hold.
    pub(crate) fn validate_for(&self, direction: &str, port: &str, mtu: u32) -> Result<()> {
        self.validate(direction)?;
        let what = || format!("{direction} of port {port}");
        let frame = mtu.saturating_add(FRAME_OVERHEAD);
        let least = min_bucket(frame, self.average);
        if let Some(b) = self.burst.filter(|b| *b < least) {
            return Err(Error::invalid(
                InputKind::Bandwidth,
                what(),
                format!(
                    "a burst of {b} bytes is below one full frame of the port ({frame} bytes \
                     at MTU {mtu}) and two 64 ns scheduler ticks at the rate ({least} bytes in \
                     all): full-size frames would be dropped"
                ),
            ));
        }
        let burst = self.burst_for(mtu);
        let nanos = u128::from(burst) * 1_000_000_000 / u128::from(self.average.max(1));
        if nanos > MAX_BUCKET_NANOS {
            return Err(Error::invalid(
                InputKind::Bandwidth,
                what(),
                format!(
                    "a burst of {burst} bytes at {} B/s lasts {} s: the kernel keeps a \
                     bucket in 32-bit 64 ns ticks (about 275 s); bridgekit takes up to {} s \
                     (raise the rate, or give a smaller burst)",
                    self.average,
                    nanos / 1_000_000_000,
                    MAX_BUCKET_NANOS / 1_000_000_000
                ),
            ));
        }
        Ok(())
    }
}

/// The longest bucket bridgekit sends, in time at its rate: well inside
/// what the kernel's 32-bit tick count holds (2^32 ticks of 64 ns, 274.9
/// s), so that it reads back as sent.
const MAX_BUCKET_NANOS: u128 = 100 * 1_000_000_000;

/// The smallest bucket at `rate` that holds a frame of `frame` bytes even
/// after a round trip through the kernel's ticks: a tbf read back (in 64
/// ns ticks, rounded down) and made again (an undo) may lose up to two
/// ticks' worth of bytes at its rate.
pub(crate) fn min_bucket(frame: u32, rate: u64) -> u32 {
    let ticks = (u128::from(rate) * 128).div_ceil(1_000_000_000);
    u32::try_from(u128::from(frame) + ticks).unwrap_or(u32::MAX)
}

impl fmt::Display for Bandwidth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} B/s", self.average)?;
        if let Some(p) = self.peak {
            write!(f, " (peak {p} B/s)")?;
        }
        if let Some(b) = self.burst {
            write!(f, " burst {b} B")?;
        }
        Ok(())
    }
}

/// A port's limits, both directions, named from the guest's side as
/// libvirt names them: `inbound` is what the port sends to the guest (the
/// port's egress), `outbound` what the guest sends (the port's ingress).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PortBandwidth {
    /// Traffic to the guest, if limited.
    pub inbound: Option<Bandwidth>,
    /// Traffic from the guest, if limited.
    pub outbound: Option<Bandwidth>,
}

impl PortBandwidth {
    /// Neither direction limited.
    pub(crate) fn is_none(&self) -> bool {
        self.inbound.is_none() && self.outbound.is_none()
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if let Some(b) = &self.inbound {
            b.validate("inbound bandwidth limit")?;
        }
        if let Some(b) = &self.outbound {
            b.validate("outbound bandwidth limit")?;
        }
        Ok(())
    }

    pub(crate) fn validate_for(&self, port: &str, mtu: u32) -> Result<()> {
        if let Some(b) = &self.inbound {
            b.validate_for("inbound bandwidth limit", port, mtu)?;
        }
        if let Some(b) = &self.outbound {
            b.validate_for("outbound bandwidth limit", port, mtu)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_limits_are_refused_before_any_request() {
        assert!(Bandwidth::bytes_per_sec(0).validate("x").is_err());
        assert!(Bandwidth::bytes_per_sec(10).peak(10).validate("x").is_err());
        assert!(Bandwidth::bytes_per_sec(10).peak(11).validate("x").is_ok());
        assert!(Bandwidth::bytes_per_sec(10).burst(0).validate("x").is_err());
        let small = Bandwidth::bytes_per_sec(1000).burst(1513);
        assert!(small.validate_for("x", "p", 1500).is_err());
        assert!(small.burst(1515).validate_for("x", "p", 1500).is_ok());
        // Two ticks at 1.25 GB/s are 160 bytes.
        assert_eq!(min_bucket(1514, 1_250_000_000), 1674);
        let fast = Bandwidth::bytes_per_sec(1_250_000_000).burst(1600);
        assert!(fast.validate_for("x", "p", 1500).is_err());
        // A bucket of over 100 s at its rate: the default one at 50 B/s.
        assert!(
            Bandwidth::bytes_per_sec(50)
                .validate_for("x", "p", 1500)
                .is_err()
        );
        assert!(
            Bandwidth::bytes_per_sec(100)
                .validate_for("x", "p", 1500)
                .is_ok()
        );
    }

    #[test]
    fn the_default_burst_is_20_ms_and_four_frames_at_least() {
        assert_eq!(Bandwidth::bytes_per_sec(1_250_000).burst_for(1500), 25_000);
        assert_eq!(Bandwidth::bytes_per_sec(125_000).burst_for(1500), 6056);
        assert_eq!(Bandwidth::bytes_per_sec(1_250_000).queue_for(1500), 87_500);
        assert_eq!(
            Bandwidth::bytes_per_sec(u64::MAX).burst_for(1500),
            u32::MAX,
            "saturates"
        );
    }
}

//! A tap's offloads ([`Offloads`]): what a VMM's guest negotiated to take
//! from the host undone (a checksum to complete, a segment to cut), as
//! `TUNSETOFFLOAD` reads them (`<linux/if_tun.h>`'s `TUN_F_*`), and the
//! virtio-net header sizes a tap takes ([`VNET_HDR_SIZES`]).

use std::fmt;
use std::ops::{BitOr, BitOrAssign};

use crate::error::{Error, InputKind, Result};

/// The offloads a tap's reader (the guest, through its VMM) takes: the
/// kernel may then hand it frames with a partial checksum
/// ([`CSUM`](Self::CSUM)) or segments not yet cut (TSO, USO), each with a
/// `virtio_net_hdr` saying what is left to do. Set on a tap with
/// [`VmNic::set_offloads`](crate::VmNic::set_offloads) or
/// [`set_tap_offloads`](crate::set_tap_offloads) after the guest
/// negotiated them (virtio-net's `VIRTIO_NET_F_GUEST_CSUM`,
/// `..._GUEST_TSO4`, ...); a tap starts with none.
///
/// The kernel takes them in one shape only, checked before any ioctl
/// ([`validate`](Self::validate)): segmentation offloads need
/// [`CSUM`](Self::CSUM), [`TSO_ECN`](Self::TSO_ECN) needs a TSO, and
/// [`USO4`](Self::USO4) and [`USO6`](Self::USO6) go together.
///
/// | flag | `TUN_F_*` | `ethtool -k` feature |
/// |---|---|---|
/// | [`CSUM`](Self::CSUM) | `TUN_F_CSUM` | `tx-checksum-ip-generic` |
/// | [`TSO4`](Self::TSO4) | `TUN_F_TSO4` | `tx-tcp-segmentation` |
/// | [`TSO6`](Self::TSO6) | `TUN_F_TSO6` | `tx-tcp6-segmentation` |
/// | [`TSO_ECN`](Self::TSO_ECN) | `TUN_F_TSO_ECN` | `tx-tcp-ecn-segmentation` |
/// | [`USO4`](Self::USO4) + [`USO6`](Self::USO6) | `TUN_F_USO4 \| TUN_F_USO6` | `tx-udp-segmentation` (Linux 6.2+) |
/// | [`UFO`](Self::UFO) | `TUN_F_UFO` | none: removed in Linux 4.14 |
///
/// ```
/// use bridgekit::Offloads;
/// let o = Offloads::CSUM | Offloads::TSO4 | Offloads::TSO6;
/// assert!(o.contains(Offloads::TSO4));
/// assert_eq!(o.to_string(), "csum,tso4,tso6");
/// assert!(o.validate().is_ok());
/// assert!(Offloads::TSO4.validate().is_err()); // TSO needs CSUM
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Offloads(u32);

/// Each flag with its name, in `TUN_F_*` order.
const NAMES: [(Offloads, &str); 7] = [
    (Offloads::CSUM, "csum"),
    (Offloads::TSO4, "tso4"),
    (Offloads::TSO6, "tso6"),
    (Offloads::TSO_ECN, "tso_ecn"),
    (Offloads::UFO, "ufo"),
    (Offloads::USO4, "uso4"),
    (Offloads::USO6, "uso6"),
];

impl Offloads {
    /// No offloads: every frame reaches the guest whole and checksummed.
    pub const NONE: Offloads = Offloads(0);
    /// Partial checksums (`TUN_F_CSUM`).
    pub const CSUM: Offloads = Offloads(libc::TUN_F_CSUM);
    /// TCP segmentation over IPv4 (`TUN_F_TSO4`).
    pub const TSO4: Offloads = Offloads(libc::TUN_F_TSO4);
    /// TCP segmentation over IPv6 (`TUN_F_TSO6`).
    pub const TSO6: Offloads = Offloads(libc::TUN_F_TSO6);
    /// TCP segmentation of segments with ECN's CWR set (`TUN_F_TSO_ECN`).
    pub const TSO_ECN: Offloads = Offloads(libc::TUN_F_TSO_ECN);
    /// UDP fragmentation (`TUN_F_UFO`). Linux removed it in 4.14: a tap
    /// takes the flag and does nothing with it, so bridgekit refuses it as
    /// [`Error::Unsupported`] rather than report a change that is none.
    pub const UFO: Offloads = Offloads(libc::TUN_F_UFO);
    /// UDP segmentation over IPv4 (`TUN_F_USO4`, Linux 6.2+); only with
    /// [`USO6`](Self::USO6).
    pub const USO4: Offloads = Offloads(libc::TUN_F_USO4);
    /// UDP segmentation over IPv6 (`TUN_F_USO6`, Linux 6.2+); only with
    /// [`USO4`](Self::USO4).
    pub const USO6: Offloads = Offloads(libc::TUN_F_USO6);

    /// The `TUN_F_*` bits, as `TUNSETOFFLOAD` takes them.
    ///
    /// ```
    /// assert_eq!((bridgekit::Offloads::CSUM | bridgekit::Offloads::TSO4).bits(), 0x3);
    /// ```
    #[must_use]
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Whether every flag of `other` is set here.
    ///
    /// ```
    /// use bridgekit::Offloads;
    /// assert!((Offloads::CSUM | Offloads::TSO4).contains(Offloads::CSUM));
    /// assert!(!Offloads::CSUM.contains(Offloads::TSO4));
    /// ```
    #[must_use]
    pub const fn contains(self, other: Offloads) -> bool {
        self.0 & other.0 == other.0
    }

    /// Both sets of flags, in a `const` context.
    pub(crate) const fn with(self, other: Offloads) -> Offloads {
        Offloads(self.0 | other.0)
    }

    /// Whether no flag is set.
    ///
    /// ```
    /// assert!(bridgekit::Offloads::NONE.is_empty());
    /// ```
    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Checks the shape the kernel takes: segmentation offloads only with
    /// [`CSUM`](Self::CSUM) (a segment's checksums are left partial),
    /// [`TSO_ECN`](Self::TSO_ECN) only with a TSO, [`USO4`](Self::USO4)
    /// and [`USO6`](Self::USO6) together. The kernel refuses the others as
    /// EINVAL (or, for a lone USO flag, as if it did not know it).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] ([`InputKind::Offloads`]) saying which rule
    /// the flags break.
    ///
    /// ```
    /// use bridgekit::Offloads;
    /// assert!((Offloads::CSUM | Offloads::USO4 | Offloads::USO6).validate().is_ok());
    /// assert!((Offloads::CSUM | Offloads::USO4).validate().is_err());
    /// assert!((Offloads::CSUM | Offloads::TSO_ECN).validate().is_err());
    /// ```
    pub fn validate(self) -> Result<()> {
        let fail = |reason: &str| {
            Err(Error::invalid(
                InputKind::Offloads,
                format!("offloads {self}"),
                reason,
            ))
        };
        let segments = Offloads(Self::TSO4.0 | Self::TSO6.0 | Self::USO4.0 | Self::USO6.0);
        if self.0 & !Self::all().0 != 0 {
            return fail("holds bits that are no offload bridgekit sets");
        }
        if self.0 & segments.0 != 0 && !self.contains(Self::CSUM) {
            return fail(
                "segmentation offloads need csum: the kernel leaves a segment's checksums partial",
            );
        }
        if self.contains(Self::TSO_ECN) && self.0 & (Self::TSO4.0 | Self::TSO6.0) == 0 {
            return fail("tso_ecn needs tso4 or tso6");
        }
        if self.contains(Self::USO4) != self.contains(Self::USO6) {
            return fail("uso4 and uso6 go together: the kernel sets both or neither");
        }
        Ok(())
    }

    /// Every flag.
    const fn all() -> Offloads {
        let mut bits = 0;
        let mut i = 0;
        while i < NAMES.len() {
            bits |= NAMES[i].0.0;
            i += 1;
        }
        Offloads(bits)
    }
}

impl BitOr for Offloads {
    type Output = Offloads;
    fn bitor(self, rhs: Offloads) -> Offloads {
        Offloads(self.0 | rhs.0)
    }
}

impl BitOrAssign for Offloads {
    fn bitor_assign(&mut self, rhs: Offloads) {
        self.0 |= rhs.0;
    }
}

/// The flags' names joined by commas (`csum,tso4`), `none` for none.
impl fmt::Display for Offloads {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        let mut first = true;
        for (flag, name) in NAMES {
            if self.contains(flag) {
                if !first {
                    f.write_str(",")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        let unknown = self.0 & !Self::all().0;
        if unknown != 0 {
            if !first {
                f.write_str(",")?;
            }
            write!(f, "{unknown:#x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Offloads {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Offloads({self})")
    }
}

/// The virtio-net header sizes bridgekit sets on a tap
/// (`TUNSETVNETHDRSZ`): 10 bytes (`struct virtio_net_hdr`, a legacy
/// device without mergeable receive buffers) or 12 (`struct
/// virtio_net_hdr_mrg_rxbuf`, with mergeable buffers or
/// `VIRTIO_F_VERSION_1`). A tap starts with 10. The kernel takes any size
/// from 10 up (QEMU uses 20 for hash reports, which bridgekit does not
/// offer): a size it has no use for is refused here as a likely mistake.
///
/// ```
/// assert_eq!(bridgekit::VNET_HDR_SIZES, [10, 12]);
/// ```
pub const VNET_HDR_SIZES: [u8; 2] = [10, 12];

/// Checks a virtio-net header size: one of [`VNET_HDR_SIZES`].
pub(crate) fn validate_vnet_hdr_size(size: u8) -> Result<()> {
    if VNET_HDR_SIZES.contains(&size) {
        return Ok(());
    }
    Err(Error::invalid(
        InputKind::Offloads,
        format!("virtio-net header size {size}"),
        "must be 10 (virtio_net_hdr) or 12 (virtio_net_hdr_mrg_rxbuf: mergeable buffers or VERSION_1)",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_the_kernel_takes() {
        let ok = [
            Offloads::NONE,
            Offloads::CSUM,
            Offloads::CSUM | Offloads::TSO4 | Offloads::TSO6 | Offloads::TSO_ECN,
            Offloads::CSUM | Offloads::USO4 | Offloads::USO6,
            Offloads::CSUM | Offloads::UFO,
        ];
        for o in ok {
            assert!(o.validate().is_ok(), "{o}");
        }
        let bad = [
            Offloads::TSO4,
            Offloads::CSUM | Offloads::TSO_ECN,
            Offloads::CSUM | Offloads::USO6,
            Offloads::USO4 | Offloads::USO6,
            Offloads(0x100),
        ];
        for o in bad {
            let e = o.validate().unwrap_err();
            assert!(
                matches!(
                    e,
                    Error::InvalidInput {
                        what: InputKind::Offloads,
                        ..
                    }
                ),
                "{o}: {e}"
            );
        }
    }

    #[test]
    fn names() {
        assert_eq!(Offloads::NONE.to_string(), "none");
        assert_eq!(
            (Offloads::CSUM | Offloads::USO4 | Offloads::USO6).to_string(),
            "csum,uso4,uso6"
        );
        assert_eq!(Offloads(0x101).to_string(), "csum,0x100");
        assert_eq!(
            (Offloads::CSUM | Offloads::TSO4).bits(),
            libc::TUN_F_CSUM | libc::TUN_F_TSO4
        );
    }

    #[test]
    fn header_sizes() {
        assert!(validate_vnet_hdr_size(10).is_ok());
        assert!(validate_vnet_hdr_size(12).is_ok());
        for bad in [0, 8, 11, 20] {
            assert!(validate_vnet_hdr_size(bad).is_err());
        }
    }
}

//! A tap's offloads and virtio-net header size, set the way a VMM does
//! once its guest negotiated them (`TUNSETOFFLOAD`, `TUNSETVNETHDRSZ`),
//! checked before the ioctl and read back after it (`ethtool -k`'s
//! features, `TUNGETVNETHDRSZ`): for a [`VmNic`](crate::VmNic), and, as
//! free functions, for any tap fd a VMM opened itself.

use std::os::fd::{AsFd, BorrowedFd};

use crate::error::{Error, InputKind, Op, Result};
use crate::sys::{ethtool, netns, tap};
use crate::values::offloads::{Offloads, validate_vnet_hdr_size};

/// Each offload and the device feature the kernel turns it into
/// (`drivers/net/tun.c`'s `set_offload`): what `ethtool -k` shows.
const FEATURES: [(Offloads, &str); 5] = [
    (Offloads::CSUM, "tx-checksum-ip-generic"),
    (Offloads::TSO4, "tx-tcp-segmentation"),
    (Offloads::TSO6, "tx-tcp6-segmentation"),
    (Offloads::TSO_ECN, "tx-tcp-ecn-segmentation"),
    (Offloads::USO4.with(Offloads::USO6), "tx-udp-segmentation"),
];

/// The offloads a tap's active features stand for.
pub(crate) fn from_features(active: &[String]) -> Offloads {
    let mut offloads = Offloads::NONE;
    for (flag, feature) in FEATURES {
        if active.iter().any(|a| a == feature) {
            offloads |= flag;
        }
    }
    offloads
}

/// Checks `offloads` for the tap `name` with `IFF_*` flags `iff`, before
/// any ioctl: the kernel's shape, UFO (which it ignores), a header to
/// carry them.
fn check(name: &str, iff: i32, offloads: Offloads) -> Result<()> {
    offloads.validate()?;
    if offloads.contains(Offloads::UFO) {
        return Err(Error::Unsupported {
            op: Op::SetOffloads,
            iface: crate::values::name::IfName::from_kernel(name),
            detail: "UFO: Linux removed it in 4.14, and a tap takes TUN_F_UFO and ignores it; \
                     leave it out (the guest's UDP is segmented in software)"
                .into(),
        });
    }
    if !offloads.is_empty() && iff & libc::IFF_VNET_HDR == 0 {
        return Err(Error::invalid(
            InputKind::Offloads,
            format!("offloads {offloads} for tap {name}"),
            "the tap has no virtio-net header (IFF_VNET_HDR) to say what is left undone",
        ));
    }
    Ok(())
}

/// TUNSETOFFLOAD on `fd`, its refusal in bridgekit's words: a shape
/// `check` passed that the kernel still refuses (EINVAL) with USO in it
/// holds a flag this kernel does not know (USO came in 6.2).
fn write(fd: BorrowedFd<'_>, name: &str, offloads: Offloads) -> Result<()> {
    let uso = offloads.contains(Offloads::USO4);
    tap::set_offload(fd, offloads.bits()).map_err(|e| match e.raw_os_error() {
        Some(libc::EINVAL) if uso => Error::Unsupported {
            op: Op::SetOffloads,
            iface: crate::values::name::IfName::from_kernel(name),
            detail: format!(
                "TUNSETOFFLOAD refused {offloads} (EINVAL): USO needs Linux 6.2 or later"
            ),
        },
        _ => Error::io(Op::SetOffloads, name, e),
    })
}

/// Compares what the features read back say with what was set.
pub(crate) fn verify(name: &str, asked: Offloads, active: &[String]) -> Result<()> {
    let got = from_features(active);
    if got == asked {
        return Ok(());
    }
    Err(Error::NotApplied {
        op: Op::SetOffloads,
        iface: crate::values::name::IfName::from_kernel(name),
        what: "offloads (ethtool -k)".into(),
        expected: asked.to_string(),
        actual: got.to_string(),
    })
}

/// The tap's name and flags (TUNGETIFF).
fn tap_of(fd: BorrowedFd<'_>, op: Op) -> Result<(String, i32)> {
    tap::get_iff(fd).map_err(|e| Error::io(op, "tap fd", e))
}

/// Sets the offloads on the tap `fd` is attached to, checked first;
/// returns its name, for the caller to read its features back and
/// [`verify`] them.
pub(crate) fn set(fd: BorrowedFd<'_>, offloads: Offloads) -> Result<String> {
    let (name, iff) = tap_of(fd, Op::SetOffloads)?;
    check(&name, iff, offloads)?;
    write(fd, &name, offloads)?;
    Ok(name)
}

/// Sets the virtio-net header size through `fd` and reads it back.
pub(crate) fn set_hdr_size(fd: BorrowedFd<'_>, name: &str, size: u8) -> Result<()> {
    validate_vnet_hdr_size(size)?;
    let op = Op::SetVnetHdrSize;
    tap::set_vnet_hdr_size(fd, size).map_err(|e| Error::io(op, name, e))?;
    let got = tap::vnet_hdr_size(fd).map_err(|e| Error::io(op, name, e))?;
    if got != i32::from(size) {
        return Err(Error::NotApplied {
            op,
            iface: crate::values::name::IfName::from_kernel(name),
            what: "virtio-net header size".into(),
            expected: size.to_string(),
            actual: got.to_string(),
        });
    }
    Ok(())
}

/// Reads the tap's active features in its device's namespace, found from
/// the fd (TUNGETDEVNETNS).
fn features_through(fd: BorrowedFd<'_>, name: &str) -> std::io::Result<Vec<String>> {
    let ns = tap::device_netns(fd)?;
    let name = name.to_string();
    netns::run_in(&ns, move || ethtool::active_features(&name))
}

/// Sets the offloads of the tap that `fd` (a queue fd from
/// `/dev/net/tun`) is attached to: what
/// [`VmNic::set_offloads`](crate::VmNic::set_offloads) does, for a VMM
/// that opened its taps itself. Call it once the guest negotiated its
/// offloads; [`Offloads::NONE`] takes them all away. One `TUNSETOFFLOAD`
/// (`ethtool -K`'s view of it is in [`Offloads`]' table), then the
/// device's features are read back in its namespace
/// (`TUNGETDEVNETNS`, then `ETHTOOL_GFEATURES`).
///
/// # Errors
/// [`Error::InvalidInput`] ([`InputKind::Offloads`]) for a shape the
/// kernel refuses ([`Offloads::validate`]) or offloads on a tap without
/// `IFF_VNET_HDR`, before any change; [`Error::Unsupported`] for
/// [`Offloads::UFO`] (taken and ignored by Linux since 4.14) and for USO
/// on a kernel before 6.2; [`Error::NotApplied`] if the features read
/// back differ; [`Error::PermissionDenied`] if the caller could not read
/// them back (that needs CAP_NET_ADMIN over the tap's namespace, and
/// CAP_SYS_ADMIN to enter it from another), found before any change;
/// [`Error::Io`] for an fd that is no tap (a macvtap queue included: its
/// device's namespace cannot be asked for).
///
/// ```no_run
/// # fn f(queue: std::os::fd::OwnedFd) -> Result<(), bridgekit::Error> {
/// use bridgekit::Offloads;
/// bridgekit::set_tap_offloads(&queue, Offloads::CSUM | Offloads::TSO4 | Offloads::TSO6)?;
/// # Ok(()) }
/// ```
pub fn set_tap_offloads(fd: impl AsFd, offloads: Offloads) -> Result<()> {
    let fd = fd.as_fd();
    let (name, _) = tap_of(fd, Op::SetOffloads)?;
    // The read-back's namespace first, and whether it can be entered: a
    // caller who could not read the change back is refused before it.
    let ns = tap::device_netns(fd).map_err(|e| Error::io(Op::SetOffloads, &name, e))?;
    netns::run_in(&ns, || Ok(())).map_err(|e| Error::io(Op::SetOffloads, &name, e))?;
    set(fd, offloads)?;
    let owned = name.clone();
    let active = netns::run_in(&ns, move || ethtool::active_features(&owned))
        .map_err(|e| Error::io(Op::ReadOffloads, &name, e))?;
    verify(&name, offloads, &active)
}

/// The offloads the tap that `fd` is attached to has now (`ethtool -k`),
/// read as [`set_tap_offloads`] reads them back.
///
/// # Errors
/// As [`set_tap_offloads`]' read-back.
///
/// ```no_run
/// # fn f(queue: std::os::fd::OwnedFd) -> Result<(), bridgekit::Error> {
/// println!("{}", bridgekit::tap_offloads(&queue)?);
/// # Ok(()) }
/// ```
pub fn tap_offloads(fd: impl AsFd) -> Result<Offloads> {
    let fd = fd.as_fd();
    let (name, _) = tap_of(fd, Op::ReadOffloads)?;
    let active = features_through(fd, &name).map_err(|e| Error::io(Op::ReadOffloads, &name, e))?;
    Ok(from_features(&active))
}

/// Sets the virtio-net header size of the tap that `fd` is attached to:
/// 12 for a guest with mergeable receive buffers or `VIRTIO_F_VERSION_1`,
/// 10 without ([`VNET_HDR_SIZES`](crate::VNET_HDR_SIZES)). One
/// `TUNSETVNETHDRSZ`, read back with `TUNGETVNETHDRSZ`. For a tap made
/// by bridgekit, [`VmNicConfig::vnet_hdr_size`](crate::VmNicConfig::vnet_hdr_size)
/// sets it at creation.
///
/// # Errors
/// [`Error::InvalidInput`] ([`InputKind::Offloads`]) for another size or
/// a tap without `IFF_VNET_HDR`, before any change;
/// [`Error::NotApplied`] if it reads back otherwise; [`Error::Io`] for
/// an fd that is no tap.
///
/// ```no_run
/// # fn f(queue: std::os::fd::OwnedFd) -> Result<(), bridgekit::Error> {
/// bridgekit::set_tap_vnet_hdr_size(&queue, 12)?;
/// # Ok(()) }
/// ```
pub fn set_tap_vnet_hdr_size(fd: impl AsFd, size: u8) -> Result<()> {
    let fd = fd.as_fd();
    validate_vnet_hdr_size(size)?;
    let (name, iff) = tap_of(fd, Op::SetVnetHdrSize)?;
    if iff & libc::IFF_VNET_HDR == 0 {
        return Err(Error::invalid(
            InputKind::Offloads,
            format!("virtio-net header size {size} for tap {name}"),
            "the tap has no virtio-net header (IFF_VNET_HDR)",
        ));
    }
    set_hdr_size(fd, &name, size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_name_offloads() {
        let active: Vec<String> = [
            "tx-checksum-ip-generic",
            "tx-tcp6-segmentation",
            "tx-udp-segmentation",
            "rx-gro",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        assert_eq!(
            from_features(&active),
            Offloads::CSUM | Offloads::TSO6 | Offloads::USO4 | Offloads::USO6
        );
        assert!(verify("t0", Offloads::CSUM, &active).is_err());
        assert_eq!(from_features(&[]), Offloads::NONE);
    }

    #[test]
    fn refused_before_any_ioctl() {
        let ufo = check("t0", libc::IFF_VNET_HDR, Offloads::CSUM | Offloads::UFO).unwrap_err();
        assert!(matches!(ufo, Error::Unsupported { .. }), "{ufo}");
        let no_hdr = check("t0", 0, Offloads::CSUM).unwrap_err();
        assert!(
            matches!(
                no_hdr,
                Error::InvalidInput {
                    what: InputKind::Offloads,
                    ..
                }
            ),
            "{no_hdr}"
        );
        assert!(check("t0", 0, Offloads::NONE).is_ok());
    }
}

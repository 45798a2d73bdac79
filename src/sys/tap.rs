//! Tap devices through `/dev/net/tun` ioctls, behind a small safe API.
//! TUNSETIFF is made here only ([`set_iff`]), for taps and for macvtap
//! queues alike; `sys/netns.rs` makes the namespace syscalls.
//!
//! The kernel creates taps only this way (netlink cannot create one that a
//! process can read and write). TUNSETIFF and TUNGETIFF take a `struct
//! ifreq` (`<linux/if.h>`): `ifr_name` (16 bytes, NUL-terminated) and, in
//! its union, `ifr_flags` (a `short`); TUNSETPERSIST, TUNSETOWNER,
//! TUNSETGROUP and TUNSETOFFLOAD an integer by value; TUNSETVNETHDRSZ and
//! TUNGETVNETHDRSZ a pointer to an `int`; TUNGETDEVNETNS nothing (it
//! returns a new fd).
//!
//! The crate's tap ioctl calls are here, raw, with a SAFETY line each:
//! no well-kept crate wraps the TUN ioctls safely (nix's `ioctl_*!` macros
//! and rustix's `ioctl` are raw calls too, for the same reason: the
//! kernel reads through the argument as the request number says).

use std::ffi::CStr;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;

/// What to ask of `/dev/net/tun`.
#[derive(Debug, Clone)]
pub(crate) struct TapSpec {
    /// A name, or a template with `%d` the kernel fills in (`vnet%d`).
    pub name: String,
    /// Number of queues (file descriptors); more than one sets IFF_MULTI_QUEUE.
    pub queues: u16,
    /// Prefix each frame with a `struct virtio_net_hdr` (IFF_VNET_HDR).
    pub vnet_hdr: bool,
    /// Keep the device when the last fd closes (TUNSETPERSIST).
    pub persistent: bool,
    /// Owner and group allowed to attach (TUNSETOWNER / TUNSETGROUP).
    pub owner: Option<u32>,
    pub group: Option<u32>,
}

/// A tap the kernel made: its name and one open fd per queue.
#[derive(Debug)]
pub(crate) struct Tap {
    pub name: String,
    pub fds: Vec<OwnedFd>,
}

/// Most queues the kernel allows on one tap (`MAX_TAP_QUEUES`).
pub(crate) const MAX_QUEUES: u16 = 256;

/// `struct ifreq` as TUNSETIFF reads and writes it: the name, then the
/// flags at the start of the 24-byte union. Built in safe code
/// (`libc::ifreq` holds a union, which only `mem::zeroed` makes).
#[repr(C)]
struct IfReq {
    name: [u8; libc::IFNAMSIZ],
    flags: libc::c_short,
    _rest: [u8; 22],
}

const _: () = assert!(std::mem::size_of::<IfReq>() == std::mem::size_of::<libc::ifreq>());

fn ifreq(name: &str, flags: i32) -> io::Result<IfReq> {
    let mut req = IfReq {
        name: [0; libc::IFNAMSIZ],
        flags: flags as libc::c_short,
        _rest: [0; 22],
    };
    let bytes = name.as_bytes();
    if bytes.len() >= req.name.len() {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    req.name[..bytes.len()].copy_from_slice(bytes);
    Ok(req)
}

fn check(ret: libc::c_int) -> io::Result<()> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Opens `/dev/net/tun` and attaches the fd to tap `name` (created if
/// missing). Returns the fd and the name the kernel used.
fn attach_queue(name: &str, flags: i32) -> io::Result<(File, String)> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_CLOEXEC)
        .open("/dev/net/tun")?;
    let used = set_iff(&file, name, flags)?;
    Ok((file, used))
}

/// TUNSETIFF on an open tun/tap or macvtap queue fd: attaches it to the
/// device `name` (a tap; created if missing) with `flags`, or, on a
/// macvtap queue (`name` empty), sets its feature flags. Returns the name
/// the kernel used. The one place the crate makes this ioctl.
pub(crate) fn set_iff(file: &File, name: &str, flags: i32) -> io::Result<String> {
    let mut req = ifreq(name, flags)?;
    // SAFETY: TUNSETIFF reads and writes one `struct ifreq`, whose layout
    // `req` has (checked at compile time), for the duration of the call.
    check(unsafe { libc::ioctl(file.as_raw_fd(), libc::TUNSETIFF, &mut req) })?;
    // The kernel NUL-terminates the name (IFNAMSIZ bytes), and leaves the
    // all-zero name of a macvtap queue as it is.
    let name = CStr::from_bytes_until_nul(&req.name)
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    Ok(name.to_string_lossy().into_owned())
}

fn int_ioctl(fd: BorrowedFd<'_>, request: libc::Ioctl, value: libc::c_ulong) -> io::Result<()> {
    // SAFETY: TUNSETPERSIST/TUNSETOWNER/TUNSETGROUP/TUNSETOFFLOAD take an
    // integer by value, not a pointer.
    check(unsafe { libc::ioctl(fd.as_raw_fd(), request, value) })
}

/// Creates the tap in the calling thread's network namespace (where the
/// fd of `/dev/net/tun` is opened). On error nothing is left: fds opened
/// so far are closed, which removes a non-persistent tap, and persistence
/// is only set once every queue is attached.
pub(crate) fn create(spec: &TapSpec) -> io::Result<Tap> {
    let mut flags = libc::IFF_TAP | libc::IFF_NO_PI;
    if spec.vnet_hdr {
        flags |= libc::IFF_VNET_HDR;
    }
    if spec.queues > 1 {
        flags |= libc::IFF_MULTI_QUEUE;
    }
    // IFF_TUN_EXCL on the first queue: the kernel refuses (EBUSY) a name
    // that is already a tap, where TUNSETIFF would otherwise attach to it.
    let (first, name) = attach_queue(&spec.name, flags | libc::IFF_TUN_EXCL)?;
    let mut files = vec![first];
    for _ in 1..spec.queues {
        let (file, _) = attach_queue(&name, flags)?;
        files.push(file);
    }
    if let Some(uid) = spec.owner {
        int_ioctl(files[0].as_fd(), libc::TUNSETOWNER, uid.into())?;
    }
    if let Some(gid) = spec.group {
        int_ioctl(files[0].as_fd(), libc::TUNSETGROUP, gid.into())?;
    }
    if spec.persistent {
        int_ioctl(files[0].as_fd(), libc::TUNSETPERSIST, 1)?;
    }
    Ok(Tap {
        name,
        fds: files.into_iter().map(OwnedFd::from).collect(),
    })
}

/// Clears persistence on a tap through one of its fds, so it goes away
/// when the last fd closes.
pub(crate) fn clear_persist(fd: &OwnedFd) -> io::Result<()> {
    int_ioctl(fd.as_fd(), libc::TUNSETPERSIST, 0)
}

/// TUNSETOFFLOAD: the `TUN_F_*` offloads the tap's reader takes. The
/// kernel refuses (EINVAL) any bit it does not apply, except `TUN_F_UFO`,
/// which it takes and ignores since Linux 4.14.
pub(crate) fn set_offload(fd: BorrowedFd<'_>, bits: u32) -> io::Result<()> {
    int_ioctl(fd, libc::TUNSETOFFLOAD, bits.into())
}

/// TUNSETVNETHDRSZ: the size of the virtio-net header before each frame.
pub(crate) fn set_vnet_hdr_size(fd: BorrowedFd<'_>, size: u8) -> io::Result<()> {
    let size = libc::c_int::from(size);
    // SAFETY: TUNSETVNETHDRSZ reads one `int` through the pointer, which
    // points at `size` for the duration of the call.
    check(unsafe { libc::ioctl(fd.as_raw_fd(), libc::TUNSETVNETHDRSZ, &size) })
}

/// TUNGETVNETHDRSZ: the tap's virtio-net header size.
pub(crate) fn vnet_hdr_size(fd: BorrowedFd<'_>) -> io::Result<i32> {
    let mut size: libc::c_int = 0;
    // SAFETY: TUNGETVNETHDRSZ writes one `int` through the pointer, which
    // points at `size` for the duration of the call.
    check(unsafe { libc::ioctl(fd.as_raw_fd(), libc::TUNGETVNETHDRSZ, &mut size) })?;
    Ok(size)
}

/// TUNGETIFF: the name of the tap an fd is attached to, and its
/// `IFF_*` flags (`IFF_VNET_HDR`, ...).
pub(crate) fn get_iff(fd: BorrowedFd<'_>) -> io::Result<(String, i32)> {
    let mut req = ifreq("", 0)?;
    // SAFETY: TUNGETIFF writes one `struct ifreq`, whose layout `req` has
    // (checked at compile time), for the duration of the call.
    check(unsafe { libc::ioctl(fd.as_raw_fd(), libc::TUNGETIFF, &mut req) })?;
    let name = CStr::from_bytes_until_nul(&req.name)
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // `ifr_flags` is a short; the kernel writes the flags' low 16 bits.
    Ok((
        name.to_string_lossy().into_owned(),
        i32::from(req.flags) & 0xffff,
    ))
}

/// TUNGETDEVNETNS: the network namespace the tap's device lives in
/// (Linux 5.2+; needs CAP_NET_ADMIN there).
pub(crate) fn device_netns(fd: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    // SAFETY: TUNGETDEVNETNS takes no argument and returns a new fd,
    // which is owned here from now on.
    let ns = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TUNGETDEVNETNS) };
    check(ns)?;
    // SAFETY: `ns` is a new fd that nothing else owns.
    Ok(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(ns) })
}

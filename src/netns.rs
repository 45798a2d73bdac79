//! Network namespaces: remembering which one a [`Netlink`](crate::Netlink)
//! belongs to, running short blocking work inside it on a helper thread, and
//! reading that namespace's view of sysfs.
//!
//! `setns(2)` and `unshare(2)` change only the calling thread. Every change
//! here happens on a short-lived helper thread that exits afterwards, so no
//! runtime thread ever moves to another namespace.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The network namespace the calling thread is in, as a file.
pub(crate) fn current() -> io::Result<OwnedFd> {
    Ok(File::open("/proc/thread-self/ns/net")?.into())
}

/// Opens a network namespace file (`/run/netns/NAME`, `/proc/PID/ns/net`)
/// and checks that it is one.
pub(crate) fn open(path: &Path) -> io::Result<OwnedFd> {
    let file = File::open(path)?;
    // NS_GET_NSTYPE = _IO(0xb7, 0x3): which kind of namespace this fd is.
    const NS_GET_NSTYPE: libc::c_ulong = 0xb703;
    // SAFETY: ioctl on an fd we own, with no argument.
    let kind = unsafe { libc::ioctl(file.as_raw_fd(), NS_GET_NSTYPE as _) };
    if kind < 0 {
        let err = io::Error::last_os_error();
        return Err(io::Error::new(
            err.kind(),
            format!("{} is not a namespace file: {err}", path.display()),
        ));
    }
    if kind != libc::CLONE_NEWNET {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{} is a namespace file, but not of a network namespace",
                path.display()
            ),
        ));
    }
    Ok(file.into())
}

fn same_as_current(ns: &OwnedFd) -> io::Result<bool> {
    let ours = std::fs::metadata("/proc/thread-self/ns/net")?;
    let theirs = File::from(ns.try_clone()?).metadata()?;
    Ok(ours.dev() == theirs.dev() && ours.ino() == theirs.ino())
}

fn enter(ns: &OwnedFd) -> io::Result<()> {
    // SAFETY: setns on a valid namespace fd; affects only this thread.
    if unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Runs `f` with the calling thread in `ns`: directly when it already is,
/// else on a helper thread that enters `ns` and exits afterwards.
pub(crate) fn run_in<T: Send>(
    ns: &OwnedFd,
    f: impl FnOnce() -> io::Result<T> + Send,
) -> io::Result<T> {
    if same_as_current(ns)? {
        return f();
    }
    std::thread::scope(|s| {
        s.spawn(|| {
            enter(ns)?;
            f()
        })
        .join()
        .unwrap_or_else(|_| Err(io::Error::other("namespace helper thread panicked")))
    })
}

/// Reads `/sys/class/net/<iface>/<attr>` as the namespace `ns` sees it.
///
/// sysfs shows the network namespace of whoever mounted it, not of the
/// reader, so the helper thread enters `ns`, takes a private mount namespace
/// (mount events do not propagate back: `/` is made private first) and mounts
/// a fresh sysfs over `/sys` there. The mount namespace dies with the thread.
pub(crate) fn read_sysfs_attr(ns: &OwnedFd, iface: &str, attr: &str) -> io::Result<String> {
    let path = format!("/sys/class/net/{iface}/{attr}");
    std::thread::scope(|s| {
        s.spawn(|| {
            enter(ns)?;
            // SAFETY: plain syscalls with valid C strings; they change only this
            // thread's fs/mount namespace (CLONE_NEWNS implies CLONE_FS here).
            unsafe {
                if libc::unshare(libc::CLONE_NEWNS) != 0 {
                    return Err(io::Error::last_os_error());
                }
                if libc::mount(
                    std::ptr::null(),
                    c"/".as_ptr(),
                    std::ptr::null(),
                    libc::MS_REC | libc::MS_PRIVATE,
                    std::ptr::null(),
                ) != 0
                {
                    return Err(io::Error::last_os_error());
                }
                if libc::mount(
                    c"sysfs".as_ptr(),
                    c"/sys".as_ptr(),
                    c"sysfs".as_ptr(),
                    libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC | libc::MS_RDONLY,
                    std::ptr::null(),
                ) != 0
                {
                    return Err(io::Error::last_os_error());
                }
            }
            Ok(std::fs::read_to_string(&path)?.trim().to_string())
        })
        .join()
        .unwrap_or_else(|_| Err(io::Error::other("sysfs helper thread panicked")))
    })
}

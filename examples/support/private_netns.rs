//! Shared by examples and benches: run the whole process in a private
//! network namespace, so nothing touches the host's network.

/// Enters a new network namespace for the whole process, first a user
/// namespace when not root. Runs before any thread exists, as
/// `CLONE_NEWUSER` requires.
pub fn enter_private_netns() -> std::io::Result<()> {
    // SAFETY: plain syscalls, single-threaded at this point.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    if uid != 0 {
        if unsafe { libc::unshare(libc::CLONE_NEWUSER) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        std::fs::write("/proc/self/setgroups", "deny")?;
        std::fs::write("/proc/self/uid_map", format!("0 {uid} 1"))?;
        std::fs::write("/proc/self/gid_map", format!("0 {gid} 1"))?;
    }
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

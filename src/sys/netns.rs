//! Network namespaces: remembering which one a [`Netlink`](crate::Netlink)
//! belongs to, running short blocking work inside it, and reading that
//! namespace's view of sysfs and `/proc/sys/net`.
//!
//! `setns(2)` and `unshare(2)` change only the calling thread. Every change
//! here happens on a helper thread — a short-lived one for a one-off
//! ([`run_in`]), or the [`Worker`] each `Netlink` keeps for the work it does
//! again and again (sysctls, sysfs) — so no runtime thread ever moves to
//! another namespace, and no blocking file access runs on one.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, unshare};

/// The network namespace the calling thread is in, as a file.
pub(crate) fn current() -> io::Result<OwnedFd> {
    Ok(File::open("/proc/thread-self/ns/net")?.into())
}

/// Opens a network namespace file (`/run/netns/NAME`, `/proc/PID/ns/net`)
/// and checks that it is one.
pub(crate) fn open(path: &Path) -> io::Result<OwnedFd> {
    let file = File::open(path)?;
    // A namespace file's fd reads as `net:[INODE]` for a network namespace
    // (`mnt:[..]`, `pid:[..]` for others), whatever path opened it.
    let target = std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd()))?;
    let target = target.to_string_lossy();
    if !target.ends_with(']') || !target.contains(":[") {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a namespace file", path.display()),
        ));
    }
    if !target.starts_with("net:[") {
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

/// Moves the calling thread (only it) into `ns`.
fn enter(ns: &OwnedFd) -> io::Result<()> {
    nix::sched::setns(ns, CloneFlags::CLONE_NEWNET).map_err(io::Error::from)
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

/// Gives the calling thread a private mount namespace (mount events do not
/// propagate back: `/` is made private first) with a fresh read-only sysfs
/// over `/sys`, which then shows the thread's network namespace: sysfs shows
/// the network namespace of whoever mounted it, not of the reader.
fn mount_private_sysfs() -> io::Result<()> {
    // CLONE_NEWNS implies CLONE_FS here: only this thread's view changes.
    unshare(CloneFlags::CLONE_NEWNS)?;
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )?;
    mount(
        Some("sysfs"),
        "/sys",
        Some("sysfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC | MsFlags::MS_RDONLY,
        None::<&str>,
    )?;
    Ok(())
}

type Job = Box<dyn FnOnce(&WorkerEnv) + Send>;

/// What a [`Worker`] thread found when it set itself up.
pub(crate) struct WorkerEnv {
    /// Why the private sysfs could not be mounted (no CAP_SYS_ADMIN), if so.
    sysfs: Option<io::Error>,
}

impl WorkerEnv {
    /// Reads `/sys/class/net/<iface>/<attr>` as the worker's namespace sees it.
    pub(crate) fn read_sysfs_attr(&self, iface: &str, attr: &str) -> io::Result<String> {
        if let Some(e) = &self.sysfs {
            return Err(io::Error::new(
                e.kind(),
                format!("cannot mount the namespace's sysfs: {e}"),
            ));
        }
        let path = format!("/sys/class/net/{iface}/{attr}");
        Ok(std::fs::read_to_string(path)?.trim().to_string())
    }
}

/// A thread that lives in one network namespace for as long as its
/// [`Netlink`](crate::Netlink), doing the blocking file work bound to that
/// namespace: `/proc/sys/net` and sysfs both show the namespace of the
/// thread that opens them (sysfs: of its mount), so the work runs there,
/// set up once — not a thread, `setns` and mount per call — and never on a
/// runtime thread.
///
/// Started on first use; it ends when the `Worker` is dropped.
#[derive(Default)]
pub(crate) struct Worker {
    tx: std::sync::OnceLock<Result<std::sync::Mutex<std::sync::mpsc::Sender<Job>>, String>>,
}

impl Worker {
    fn start(ns: &OwnedFd) -> Result<std::sync::Mutex<std::sync::mpsc::Sender<Job>>, String> {
        let ns = ns.try_clone().map_err(|e| e.to_string())?;
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), String>>();
        std::thread::Builder::new()
            .name("bridgekit-netns".into())
            .spawn(move || {
                // Entering the namespace we are already in would need
                // CAP_SYS_ADMIN for nothing: a daemon with CAP_NET_ADMIN alone
                // must still be able to write its own namespace's sysctls.
                let entered = match same_as_current(&ns) {
                    Ok(true) => Ok(()),
                    Ok(false) => enter(&ns),
                    Err(e) => Err(e),
                };
                if let Err(e) = entered {
                    let _ = ready_tx.send(Err(format!("cannot enter the network namespace: {e}")));
                    return;
                }
                drop(ns);
                let env = WorkerEnv {
                    sysfs: mount_private_sysfs().err(),
                };
                let _ = ready_tx.send(Ok(()));
                while let Ok(job) = rx.recv() {
                    job(&env);
                }
            })
            .map_err(|e| format!("cannot start the namespace thread: {e}"))?;
        ready_rx
            .recv()
            .unwrap_or_else(|_| Err("the namespace thread ended at start".into()))?;
        Ok(std::sync::Mutex::new(tx))
    }

    /// Runs `f` on the worker thread, inside the namespace `ns` (the same
    /// one on every call), and waits for it without blocking the runtime.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        ns: &OwnedFd,
        f: impl FnOnce(&WorkerEnv) -> io::Result<T> + Send + 'static,
    ) -> io::Result<T> {
        let tx = match self.tx.get_or_init(|| Self::start(ns)) {
            Ok(tx) => tx,
            Err(e) => return Err(io::Error::other(e.clone())),
        };
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |env| {
            let _ = done_tx.send(f(env));
        });
        tx.lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(job)
            .map_err(|_| io::Error::other("the namespace thread has ended"))?;
        done_rx
            .await
            .unwrap_or_else(|_| Err(io::Error::other("the namespace thread dropped a job")))
    }
}

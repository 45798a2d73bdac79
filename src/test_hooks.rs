//! Hooks for bridgekit's own test suite, compiled only with the
//! `test-hooks` cargo feature (which the suite turns on through a
//! dev-dependency on this crate): fault injection, request counting, small
//! notification buffers and forced read-backs. Not part of the public API,
//! no semver promise, and with the feature off they cost nothing: neither
//! the fields nor the checks exist.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use crate::error::{Error, Op, Result};

#[derive(Clone, Copy)]
pub(crate) struct Fault {
    pub(crate) at: u64,
    pub(crate) errno: i32,
    /// Fail every step from `at` on, not only that one (until cleared).
    pub(crate) sticky: bool,
}

/// The hooks' state, one per connection (shared by its clones).
#[derive(Default)]
pub(crate) struct Hooks {
    /// Netlink requests sent, and reads of the link view (each stands
    /// where a lookup request stood).
    pub(crate) requests: AtomicU64,
    /// Kernel-facing steps: netlink requests and sysctl writes.
    pub(crate) steps: AtomicU64,
    pub(crate) fault: Mutex<Option<Fault>>,
    /// `fault` holds one: steps look at it only then, so an unarmed step
    /// costs a counter, not a lock (the benches build with these hooks).
    pub(crate) armed: AtomicBool,
    /// Receive buffer for notification sockets; 0 = the kernel default.
    pub(crate) event_rcvbuf: AtomicUsize,
    /// The most bytes an nf_tables transaction may take; 0 = the socket's
    /// own limit.
    pub(crate) nft_room: AtomicUsize,
    /// Notification overruns (ENOBUFS) seen and recovered from.
    pub(crate) overruns: AtomicU64,
    /// Read port options back whatever the kernel version.
    pub(crate) force_read_back: AtomicBool,
    /// Reads of the link view by port checks (counted in `requests` too).
    pub(crate) view_reads: AtomicU64,
    /// Times the link view was built or rebuilt from a dump.
    pub(crate) view_rebuilds: AtomicU64,
    /// Run between a port check and the change it allows.
    #[allow(clippy::type_complexity)]
    pub(crate) after_port_check: Mutex<Option<Box<dyn Fn() + Send + Sync>>>,
    /// `after_port_check` holds one.
    pub(crate) racing: AtomicBool,
    /// The next request (a change or a query) yields once between its
    /// send and reading its answer (a test drops it there).
    pub(crate) yield_after_send: AtomicBool,
    /// A request yielded there.
    pub(crate) yielded_after_send: AtomicBool,
}

impl Hooks {
    /// What a request awaits between its send and its first read:
    /// one yield when a test asked for it, else nothing.
    pub(crate) fn after_send(&self) -> impl Future<Output = ()> + use<> {
        let yield_now = self.yield_after_send.swap(false, Ordering::SeqCst);
        if yield_now {
            self.yielded_after_send.store(true, Ordering::SeqCst);
        }
        async move {
            if yield_now {
                tokio::task::yield_now().await;
            }
        }
    }

    pub(crate) fn count_request(&self) {
        self.requests.fetch_add(1, Ordering::SeqCst);
    }

    /// Counts one step, and fails it if a fault was injected for it.
    pub(crate) fn step(&self, op: Op, iface: &str) -> Result<()> {
        match self.step_errno() {
            Some(errno) => {
                tracing::debug!(%op, iface, errno, "injected fault");
                Err(Error::from_errno(op, iface, errno))
            }
            None => Ok(()),
        }
    }

    /// Counts one step; the errno it fails with, if a fault was injected
    /// for it.
    pub(crate) fn step_errno(&self) -> Option<i32> {
        let n = self.steps.fetch_add(1, Ordering::SeqCst);
        if !self.armed.load(Ordering::SeqCst) {
            return None;
        }
        let mut fault = self.fault.lock().unwrap_or_else(|p| p.into_inner());
        let Fault { at, errno, sticky } = (*fault)?;
        if sticky && n >= at {
            return Some(errno);
        }
        if at == n {
            self.set_fault(&mut fault, None);
            return Some(errno);
        }
        None
    }

    /// Fails the step `after` steps from now (`sticky`: and every one after).
    pub(crate) fn arm(&self, after: u64, errno: i32, sticky: bool) {
        let at = self.steps.load(Ordering::SeqCst) + after;
        let mut slot = self.fault.lock().unwrap_or_else(|p| p.into_inner());
        self.set_fault(&mut slot, Some(Fault { at, errno, sticky }));
    }

    /// Sets or clears the fault, under its lock.
    pub(crate) fn set_fault(&self, slot: &mut Option<Fault>, fault: Option<Fault>) {
        *slot = fault;
        self.armed.store(fault.is_some(), Ordering::SeqCst);
    }

    pub(crate) fn note_view_rebuild(&self) {
        self.view_rebuilds.fetch_add(1, Ordering::SeqCst);
    }

    /// Runs the hook set to run between a port check and its change.
    pub(crate) fn port_checked(&self) {
        if !self.racing.load(Ordering::SeqCst) {
            return;
        }
        if let Some(f) = &*self
            .after_port_check
            .lock()
            .unwrap_or_else(|p| p.into_inner())
        {
            f();
        }
    }

    pub(crate) fn nft_room(&self) -> usize {
        self.nft_room.load(Ordering::SeqCst)
    }

    pub(crate) fn event_rcvbuf(&self) -> usize {
        self.event_rcvbuf.load(Ordering::SeqCst)
    }

    pub(crate) fn note_overrun(&self) {
        self.overruns.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn force_read_back(&self) -> bool {
        self.force_read_back.load(Ordering::SeqCst)
    }
}

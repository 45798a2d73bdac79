//! Hooks for bridgekit's own test suite, compiled only with the
//! `test-hooks` cargo feature (which the suite turns on through a
//! dev-dependency on this crate): fault injection, request counting, small
//! notification buffers and forced read-backs. Not part of the public API,
//! no semver promise, and with the feature off they cost nothing: neither
//! the fields nor the checks exist.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use crate::error::{Error, Op, Result};
use crate::netlink::Netlink;

#[derive(Clone, Copy)]
struct Fault {
    at: u64,
    errno: i32,
}

/// The hooks' state, one per connection (shared by its clones).
#[derive(Default)]
pub(crate) struct Hooks {
    /// Netlink requests sent.
    requests: AtomicU64,
    /// Kernel-facing steps: netlink requests and sysctl writes.
    steps: AtomicU64,
    fault: Mutex<Option<Fault>>,
    /// Receive buffer for notification sockets; 0 = the kernel default.
    event_rcvbuf: AtomicUsize,
    /// Notification overruns (ENOBUFS) seen and recovered from.
    overruns: AtomicU64,
    /// Read port options back whatever the kernel version.
    force_read_back: AtomicBool,
}

impl Hooks {
    pub(crate) fn count_request(&self) {
        self.requests.fetch_add(1, Ordering::SeqCst);
    }

    /// Counts one step, and fails it if a fault was injected for it.
    pub(crate) fn step(&self, op: Op, iface: &str) -> Result<()> {
        let n = self.steps.fetch_add(1, Ordering::SeqCst);
        let mut fault = self.fault.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(Fault { at, errno }) = *fault {
            if at == n {
                *fault = None;
                tracing::debug!(%op, iface, errno, "injected fault");
                return Err(Error::from_errno(op, iface, errno));
            }
        }
        Ok(())
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

/// Testing hooks (feature `test-hooks`, for bridgekit's own suite).
impl Netlink {
    /// How many netlink requests this connection (all clones) has sent.
    /// For tests that prove bad input is rejected before any traffic.
    #[cfg(feature = "test-hooks")]
    pub fn requests_sent(&self) -> u64 {
        self.hooks().requests.load(Ordering::SeqCst)
    }

    /// The kernel-facing step (a netlink request or a sysctl write)
    /// `after` steps from now (0 = the next) fails with `errno` without
    /// being sent, as if the kernel had answered so.
    #[cfg(feature = "test-hooks")]
    pub fn inject_fault(&self, after: u64, errno: i32) {
        let h = self.hooks();
        let at = h.steps.load(Ordering::SeqCst) + after;
        *h.fault.lock().unwrap_or_else(|p| p.into_inner()) = Some(Fault { at, errno });
    }

    /// Whether a fault set by [`inject_fault`](Netlink::inject_fault) is
    /// still waiting for its step (the operation took fewer).
    #[cfg(feature = "test-hooks")]
    pub fn fault_pending(&self) -> bool {
        self.hooks()
            .fault
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }

    /// Disarms a pending injected fault.
    #[cfg(feature = "test-hooks")]
    pub fn clear_fault(&self) {
        *self.hooks().fault.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// The receive buffer (bytes) of the notification sockets opened from
    /// now on, small enough to force overruns (ENOBUFS).
    #[cfg(feature = "test-hooks")]
    pub fn set_event_rcvbuf(&self, bytes: usize) {
        self.hooks().event_rcvbuf.store(bytes, Ordering::SeqCst);
    }

    /// How many notification overruns (ENOBUFS) were seen and recovered
    /// from by re-reading state.
    #[cfg(feature = "test-hooks")]
    pub fn overruns_seen(&self) -> u64 {
        self.hooks().overruns.load(Ordering::SeqCst)
    }

    /// Reads port options back after every change, as on a kernel older
    /// than 4.18.
    #[cfg(feature = "test-hooks")]
    pub fn force_port_option_read_back(&self, on: bool) {
        self.hooks().force_read_back.store(on, Ordering::SeqCst);
    }
}

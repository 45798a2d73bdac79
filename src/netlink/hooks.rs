//! The testing hooks' face on [`Netlink`] (feature `test-hooks`, for
//! bridgekit's own suite; the state lives in `crate::test_hooks`).

use std::sync::atomic::Ordering;

use super::Netlink;
use crate::test_hooks::Fault;

/// Testing hooks (feature `test-hooks`, for bridgekit's own suite).
impl Netlink {
    /// How many netlink requests this connection (all clones) has sent.
    /// For tests that prove bad input is rejected before any traffic.
    #[must_use]
    #[doc(hidden)]
    #[cfg(feature = "test-hooks")]
    pub fn requests_sent(&self) -> u64 {
        self.hooks().requests.load(Ordering::SeqCst)
    }

    /// The kernel-facing step (a netlink request or a sysctl write)
    /// `after` steps from now (0 = the next) fails with `errno` without
    /// being sent, as if the kernel had answered so.
    #[doc(hidden)]
    #[cfg(feature = "test-hooks")]
    pub fn inject_fault(&self, after: u64, errno: i32) {
        let h = self.hooks();
        let at = h.steps.load(Ordering::SeqCst) + after;
        *h.fault.lock().unwrap_or_else(|p| p.into_inner()) = Some(Fault {
            at,
            errno,
            sticky: false,
        });
    }

    /// Makes every kernel-facing step from the `after`-th on fail with
    /// `errno` — the step and every undo step after it — until
    /// [`clear_fault`](Netlink::clear_fault).
    #[doc(hidden)]
    #[cfg(feature = "test-hooks")]
    pub fn inject_failing_from(&self, after: u64, errno: i32) {
        let h = self.hooks();
        let at = h.steps.load(Ordering::SeqCst) + after;
        *h.fault.lock().unwrap_or_else(|p| p.into_inner()) = Some(Fault {
            at,
            errno,
            sticky: true,
        });
    }

    /// Whether a fault set by [`inject_fault`](Netlink::inject_fault) is
    /// still waiting for its step (the operation took fewer).
    #[must_use]
    #[doc(hidden)]
    #[cfg(feature = "test-hooks")]
    pub fn fault_pending(&self) -> bool {
        self.hooks()
            .fault
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }

    /// Disarms a pending injected fault.
    #[doc(hidden)]
    #[cfg(feature = "test-hooks")]
    pub fn clear_fault(&self) {
        *self.hooks().fault.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// The receive buffer (bytes) of the notification sockets opened from
    /// now on, small enough to force overruns (ENOBUFS).
    #[doc(hidden)]
    #[cfg(feature = "test-hooks")]
    pub fn set_event_rcvbuf(&self, bytes: usize) {
        self.hooks().event_rcvbuf.store(bytes, Ordering::SeqCst);
    }

    /// How many notification overruns (ENOBUFS) were seen and recovered
    /// from by re-reading state.
    #[must_use]
    #[doc(hidden)]
    #[cfg(feature = "test-hooks")]
    pub fn overruns_seen(&self) -> u64 {
        self.hooks().overruns.load(Ordering::SeqCst)
    }

    /// Reads port options back after every change, as on a kernel older
    /// than 4.18.
    #[doc(hidden)]
    #[cfg(feature = "test-hooks")]
    pub fn force_port_option_read_back(&self, on: bool) {
        self.hooks().force_read_back.store(on, Ordering::SeqCst);
    }
}

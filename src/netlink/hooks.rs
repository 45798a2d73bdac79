//! The testing hooks' face on [`Netlink`] (feature `test-hooks`, for
//! bridgekit's own suite; the state lives in `crate::test_hooks`).

use std::sync::atomic::Ordering;

use super::Netlink;

/// Testing hooks (feature `test-hooks`, for bridgekit's own suite).
impl Netlink {
    /// How many netlink requests this connection (all clones) has sent,
    /// counting each read of the link view by a port check as one (it
    /// stands where a lookup stood; see [`link_view_reads`](Netlink::link_view_reads)).
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
        self.hooks().arm(after, errno, false);
    }

    /// Makes every kernel-facing step from the `after`-th on fail with
    /// `errno` — the step and every undo step after it — until
    /// [`clear_fault`](Netlink::clear_fault).
    #[doc(hidden)]
    #[cfg(feature = "test-hooks")]
    pub fn inject_failing_from(&self, after: u64, errno: i32) {
        self.hooks().arm(after, errno, true);
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
        let h = self.hooks();
        let mut slot = h.fault.lock().unwrap_or_else(|p| p.into_inner());
        h.set_fault(&mut slot, None);
    }

    /// How many times a port check read the link view.
    #[must_use]
    #[doc(hidden)]
    #[cfg(feature = "test-hooks")]
    pub fn link_view_reads(&self) -> u64 {
        self.hooks().view_reads.load(Ordering::SeqCst)
    }

    /// How many times the link view the port checks read was built or
    /// rebuilt from a dump (once, unless notifications overran).
    #[must_use]
    #[doc(hidden)]
    #[cfg(feature = "test-hooks")]
    pub fn link_view_rebuilds(&self) -> u64 {
        self.hooks().view_rebuilds.load(Ordering::SeqCst)
    }

    /// Makes the next request (a change or a query) yield once after its
    /// send, before it reads the kernel's answer, so a test can drop it
    /// there.
    #[doc(hidden)]
    #[cfg(feature = "test-hooks")]
    pub fn yield_after_next_send(&self) {
        self.hooks()
            .yielded_after_send
            .store(false, Ordering::SeqCst);
        self.hooks().yield_after_send.store(true, Ordering::SeqCst);
    }

    /// Whether a request has yielded after its send since
    /// [`yield_after_next_send`](Self::yield_after_next_send).
    #[must_use]
    #[doc(hidden)]
    #[cfg(feature = "test-hooks")]
    pub fn yielded_after_send(&self) -> bool {
        self.hooks().yielded_after_send.load(Ordering::SeqCst)
    }

    /// Runs `f` in every port attach and detach, after the check against
    /// the link view and before the change request it allowed (`None`:
    /// no more), so a test can race another process into that window.
    #[doc(hidden)]
    #[cfg(feature = "test-hooks")]
    pub fn after_port_check(&self, f: Option<Box<dyn Fn() + Send + Sync>>) {
        let h = self.hooks();
        let mut slot = h.after_port_check.lock().unwrap_or_else(|p| p.into_inner());
        h.racing.store(f.is_some(), Ordering::SeqCst);
        *slot = f;
    }

    /// The receive buffer (bytes) of the notification sockets opened from
    /// now on (the link view's included), small enough to force overruns
    /// (ENOBUFS).
    #[doc(hidden)]
    #[cfg(feature = "test-hooks")]
    pub fn set_event_rcvbuf(&self, bytes: usize) {
        self.hooks().event_rcvbuf.store(bytes, Ordering::SeqCst);
    }

    /// The most bytes one nf_tables transaction (the guest guards') may
    /// take, below the socket's own limit: small enough to cut a few
    /// ports' guards into several transactions. 0: the socket's limit.
    #[doc(hidden)]
    #[cfg(feature = "test-hooks")]
    pub fn set_nft_room(&self, bytes: usize) {
        self.hooks().nft_room.store(bytes, Ordering::SeqCst);
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
    /// than an option the change sends.
    #[doc(hidden)]
    #[cfg(feature = "test-hooks")]
    pub fn force_port_option_read_back(&self, on: bool) {
        self.hooks().force_read_back.store(on, Ordering::SeqCst);
    }

    /// Whether the link view's socket filter lets `message` (one whole
    /// netlink message) through: sent from a second socket straight to a
    /// filtered one, in this connection's namespace (needs CAP_NET_ADMIN
    /// there, as the suite has).
    #[doc(hidden)]
    #[cfg(feature = "test-hooks")]
    pub fn link_view_filter_keeps(&self, message: &[u8]) -> std::io::Result<bool> {
        use rtnetlink::sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};
        crate::sys::netns::run_in(self.netns(), || {
            let mut to = Socket::new(NETLINK_ROUTE)?;
            super::link_view::drop_unused(&to)?;
            let port = to.bind_auto()?.port_number();
            to.set_non_blocking(true)?;
            let from = Socket::new(NETLINK_ROUTE)?;
            from.send_to(message, &SocketAddr::new(port, 0), 0)?;
            // Unicast delivery runs the filter before sendto returns.
            let mut buf = vec![0u8; 64 * 1024];
            match to.recv(&mut &mut buf[..], libc::MSG_DONTWAIT) {
                Ok(_) => Ok(true),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(false),
                Err(e) => Err(e),
            }
        })
    }
}

//! Multi-step operations that finish even when their future is dropped.
//!
//! A VM manager may drop a bridgekit future at any await point (a timeout,
//! a `select!`, a shutdown). A multi-step operation dropped halfway would
//! leave the host half-configured, and its rollback would never run. So
//! each one runs in a [`RunToEnd`]: the caller's task drives it, and if the
//! caller drops it unfinished, what is left goes on, on a task of its own,
//! to its end — all steps done, or the failure undone — and nothing is
//! left halfway. [`Netlink::finish_pending`] waits for such detached
//! operations.
//!
//! Driven in place rather than spawned up front: a spawned task costs an
//! allocation of the whole operation, a trip through the scheduler and a
//! wake-up of the caller, which for a port attach was a tenth of bridgekit's
//! cost above the kernel's.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::error::Result;
use crate::netlink::Netlink;

/// Runs `op` to its end and returns its result. If the caller stops
/// waiting, the rest of it still runs (or rolls back) on a task of its own,
/// counted as pending on `nl` until then. A panic in it reaches the caller.
pub(crate) async fn run_to_end<T>(
    nl: &Netlink,
    fut: impl Future<Output = Result<T>> + Send + 'static,
) -> Result<T>
where
    T: Send + 'static,
{
    let pending = nl.pending_guard();
    RunToEnd::new(async move {
        let _pending = pending;
        fut.await
    })
    .await
}

/// A future that, dropped before it finished, hands the rest of itself to
/// the runtime it was last polled on instead of stopping.
struct RunToEnd<F: Future + Send + 'static>
where
    F::Output: Send,
{
    fut: Option<Pin<Box<F>>>,
    /// Where to finish it if dropped: the runtime of the last poll.
    runtime: Option<tokio::runtime::Handle>,
    /// Set across each poll: a poll that panicked leaves it set, and a
    /// future that panicked is not polled again.
    polling: bool,
}

impl<F: Future + Send + 'static> RunToEnd<F>
where
    F::Output: Send,
{
    fn new(fut: F) -> Self {
        RunToEnd {
            fut: Some(Box::pin(fut)),
            runtime: None,
            polling: false,
        }
    }
}

// The boxed future is pinned on its own; nothing here is.
impl<F: Future + Send + 'static> Unpin for RunToEnd<F> where F::Output: Send {}

impl<F: Future + Send + 'static> Future for RunToEnd<F>
where
    F::Output: Send,
{
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        if this.runtime.is_none() {
            this.runtime = tokio::runtime::Handle::try_current().ok();
        }
        let Some(fut) = this.fut.as_mut() else {
            panic!("RunToEnd polled after it finished");
        };
        this.polling = true;
        let out = fut.as_mut().poll(cx);
        this.polling = false;
        if out.is_ready() {
            this.fut = None;
        }
        out
    }
}

impl<F: Future + Send + 'static> Drop for RunToEnd<F>
where
    F::Output: Send,
{
    fn drop(&mut self) {
        let (Some(fut), false) = (self.fut.take(), self.polling) else {
            return;
        };
        // Never polled inside a runtime: nothing was sent, and there is no
        // runtime to finish it on.
        if let Some(runtime) = self.runtime.take() {
            drop(runtime.spawn(fut));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn a_dropped_operation_runs_to_its_end() {
        let steps = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let s = steps.clone();
        let mut op = Box::pin(RunToEnd::new(async move {
            s.fetch_add(1, Ordering::SeqCst);
            let _ = rx.await;
            s.fetch_add(1, Ordering::SeqCst);
        }));
        // One poll: the first step runs, then it waits.
        assert!(futures::poll!(op.as_mut()).is_pending());
        assert_eq!(steps.load(Ordering::SeqCst), 1);
        drop(op);
        tx.send(()).unwrap();
        for _ in 0..100 {
            if steps.load(Ordering::SeqCst) == 2 {
                return;
            }
            tokio::task::yield_now().await;
        }
        panic!("the dropped operation did not finish");
    }

    #[tokio::test]
    async fn finishes_in_place_when_awaited() {
        assert_eq!(RunToEnd::new(async { 7 }).await, 7);
    }

    #[tokio::test]
    async fn a_panic_reaches_the_caller_and_is_not_resumed() {
        let task = tokio::spawn(RunToEnd::new(async { panic!("boom") }));
        let err = task.await.unwrap_err();
        assert!(err.is_panic());
    }
}

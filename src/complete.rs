//! Multi-step operations that finish even when their future is dropped.
//!
//! A VM manager may drop a bridgekit future at any await point (a timeout,
//! a `select!`, a shutdown). A multi-step operation dropped halfway would
//! leave the host half-configured, and its rollback would never run. So
//! each one runs on a task of its own: dropping the caller's future
//! detaches the task, which goes on to its end — all steps done, or the
//! failure undone — and nothing is left halfway.
//! [`Netlink::finish_pending`] waits for such detached operations.

use std::future::Future;

use crate::error::{Error, Op, Result};
use crate::netlink::Netlink;

/// Runs `op` on its own tokio task and waits for it. If the caller stops
/// waiting, the task still runs to completion (or to its rollback), counted
/// as pending on `nl` until then. A panic in the task reaches the caller.
pub(crate) async fn run_to_end<T>(
    nl: &Netlink,
    op: Op,
    iface: &str,
    fut: impl Future<Output = Result<T>> + Send + 'static,
) -> Result<T>
where
    T: Send + 'static,
{
    let pending = nl.pending_guard();
    let task = async move {
        let _pending = pending;
        fut.await
    };
    match tokio::spawn(task).await {
        Ok(result) => result,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        // Only when the runtime itself is shutting down.
        Err(e) => Err(Error::io(op, iface, std::io::Error::other(e.to_string()))),
    }
}

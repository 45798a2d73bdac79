//! The blocking event stream: an iterator with a timeout.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;

use crate::bridge::event::BridgeEvent;
use crate::error::{Error, Op, Result};

use super::{Driver, refuse_inside_runtime};
use std::collections::VecDeque;
use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::sync::{Condvar, Mutex};
use std::task::Poll;
use std::time::Instant;

/// A bridge's events as an [`Iterator`]: the blocking form of
/// [`crate::BridgeEvents`], with the same overrun-then-resync rule.
///
/// A task on the connection's runtime thread reads the stream ahead and
/// queues what it yields, so three ways of waiting work:
/// - `next` waits for the next event, [`next_timeout`](Self::next_timeout)
///   at most a while;
/// - an epoll (or poll) loop watches [`as_fd`](AsFd::as_fd), readable
///   whenever an event waits or the stream has ended, and takes what
///   waits with [`try_next`](Self::try_next), which never blocks;
/// - another thread stops it with the [`EventsCloser`] from
///   [`closer`](Self::closer): a thread blocked in `next` then gets
///   `None`, and the fd turns readable.
///
/// Dropping it closes its socket.
///
/// ```no_run
/// # fn f(br: bridgekit::blocking::Bridge) -> Result<(), bridgekit::Error> {
/// let mut events = br.events()?;
/// while let Some(event) = events.next_timeout(std::time::Duration::from_secs(1))? {
///     println!("{event:?}");
/// }
/// # Ok(()) }
/// ```
pub struct BridgeEvents {
    shared: Arc<Shared>,
    stop: Arc<tokio::sync::Notify>,
    // Last: the runtime that runs the reader lives until it is told to stop.
    _driver: Arc<Driver>,
}

impl std::fmt::Debug for BridgeEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BridgeEvents")
            .field("bridge", &self.shared.name)
            .finish_non_exhaustive()
    }
}

/// What the reader task and the consumer share: the queue, a condition
/// variable for blocked `next` calls, and a socket pair whose read end is
/// readable exactly when the queue holds an item or the stream has ended.
struct Shared {
    name: String,
    queue: Mutex<Queue>,
    ready: Condvar,
    wake_tx: UnixStream,
    wake_rx: UnixStream,
}

#[derive(Default)]
struct Queue {
    items: VecDeque<Result<BridgeEvent>>,
    ended: bool,
}

impl Shared {
    /// One byte on the socket pair; a full buffer is readable already.
    fn signal(&self) {
        let _ = (&self.wake_tx).write(&[1]);
    }

    fn push(&self, item: Result<BridgeEvent>) {
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        if q.ended {
            return; // closed from another thread: nothing more
        }
        q.items.push_back(item);
        self.signal();
        self.ready.notify_all();
    }

    fn end(&self) {
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        if !q.ended {
            q.ended = true;
            self.signal();
        }
        self.ready.notify_all();
    }

    /// Takes the first item, waiting until `deadline` (`None`: forever;
    /// `Some(now)`: not at all). `Poll::Ready(None)` once ended.
    fn take(&self, deadline: Option<Option<Instant>>) -> Poll<Option<Result<BridgeEvent>>> {
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(item) = q.items.pop_front() {
                if q.items.is_empty() && !q.ended {
                    self.drain();
                }
                return Poll::Ready(Some(item));
            }
            if q.ended {
                return Poll::Ready(None);
            }
            q = match deadline {
                None => self.ready.wait(q).unwrap_or_else(|e| e.into_inner()),
                Some(None) => return Poll::Pending,
                Some(Some(at)) => {
                    let left = at.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Poll::Pending;
                    }
                    self.ready
                        .wait_timeout(q, left)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
    }

    /// Reads the socket pair empty: the queue is (under the lock).
    fn drain(&self) {
        let mut buf = [0u8; 64];
        while matches!((&self.wake_rx).read(&mut buf), Ok(n) if n > 0) {}
    }
}

/// Stops a [`BridgeEvents`] from another thread: what it has not yet
/// yielded is dropped, a thread blocked in `next` gets `None`, and its fd
/// turns readable. Cheap to clone.
///
/// ```no_run
/// # fn f(br: bridgekit::blocking::Bridge) -> Result<(), bridgekit::Error> {
/// let mut events = br.events()?;
/// let closer = events.closer();
/// let watcher = std::thread::spawn(move || for e in events { println!("{e:?}"); });
/// closer.close(); // on shutdown
/// watcher.join().unwrap();
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct EventsCloser {
    shared: Arc<Shared>,
    stop: Arc<tokio::sync::Notify>,
}

impl std::fmt::Debug for EventsCloser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventsCloser")
            .field("bridge", &self.shared.name)
            .finish_non_exhaustive()
    }
}

impl EventsCloser {
    /// Ends the stream: see [`EventsCloser`].
    pub fn close(&self) {
        {
            let mut q = self.shared.queue.lock().unwrap_or_else(|e| e.into_inner());
            q.items.clear();
        }
        self.shared.end();
        self.stop.notify_one();
    }
}

impl BridgeEvents {
    /// Starts the reader task on the runtime thread, which owns the
    /// stream (and its socket) from here on.
    pub(super) fn start(
        mut events: crate::bridge::events::BridgeEvents,
        name: String,
        driver: Arc<Driver>,
    ) -> Result<BridgeEvents> {
        let io = |e| Error::io(Op::WatchEvents, &name, e);
        let (wake_tx, wake_rx) = UnixStream::pair().map_err(io)?;
        wake_tx.set_nonblocking(true).map_err(io)?;
        wake_rx.set_nonblocking(true).map_err(io)?;
        let shared = Arc::new(Shared {
            name,
            queue: Mutex::new(Queue::default()),
            ready: Condvar::new(),
            wake_tx,
            wake_rx,
        });
        let stop = Arc::new(tokio::sync::Notify::new());
        let (reader, stopped) = (shared.clone(), stop.clone());
        driver.handle.spawn(async move {
            loop {
                tokio::select! {
                    () = stopped.notified() => break,
                    item = events.next() => match item {
                        Some(item) => reader.push(item),
                        None => break,
                    },
                }
            }
            reader.end();
        });
        Ok(BridgeEvents {
            shared,
            stop,
            _driver: driver,
        })
    }

    /// The next event, waiting at most `timeout`: `Ok(None)` when none
    /// came in time, or when the stream has ended.
    ///
    /// # Errors
    /// The stream's own errors (see [`crate::Bridge::events`]), and
    /// [`Error::BlockingInsideRuntime`](crate::Error::BlockingInsideRuntime).
    ///
    /// ```no_run
    /// # fn f(mut events: bridgekit::blocking::BridgeEvents) -> Result<(), bridgekit::Error> {
    /// if let Some(event) = events.next_timeout(std::time::Duration::from_millis(100))? {
    ///     println!("{event:?}");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn next_timeout(&mut self, timeout: Duration) -> Result<Option<BridgeEvent>> {
        refuse_inside_runtime(Op::WatchEvents, &self.shared.name)?;
        match self.shared.take(Some(Some(Instant::now() + timeout))) {
            Poll::Ready(Some(item)) => item.map(Some),
            Poll::Ready(None) | Poll::Pending => Ok(None),
        }
    }

    /// What waits now, without blocking: `Poll::Pending` when nothing
    /// does, `Poll::Ready(None)` once the stream has ended (closed, or the
    /// bridge deleted). For an epoll loop on [`as_fd`](AsFd::as_fd).
    ///
    /// ```no_run
    /// # fn f(mut events: bridgekit::blocking::BridgeEvents) -> Result<(), bridgekit::Error> {
    /// use std::task::Poll;
    /// // ... epoll_wait says the fd is readable ...
    /// while let Poll::Ready(Some(event)) = events.try_next() {
    ///     println!("{}", event?);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn try_next(&mut self) -> Poll<Option<Result<BridgeEvent>>> {
        self.shared.take(Some(None))
    }

    /// A handle that ends this stream from another thread.
    ///
    /// ```no_run
    /// # fn f(events: bridgekit::blocking::BridgeEvents) {
    /// let closer = events.closer();
    /// # }
    /// ```
    #[must_use]
    pub fn closer(&self) -> EventsCloser {
        EventsCloser {
            shared: self.shared.clone(),
            stop: self.stop.clone(),
        }
    }
}

/// Readable when an event waits or the stream has ended; take what waits
/// with [`BridgeEvents::try_next`]. Non-blocking; owned by the stream.
impl AsFd for BridgeEvents {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.shared.wake_rx.as_fd()
    }
}

impl Drop for BridgeEvents {
    fn drop(&mut self) {
        // The reader task drops the stream (and its socket) on the
        // runtime thread.
        self.stop.notify_one();
    }
}

impl Iterator for BridgeEvents {
    type Item = Result<BridgeEvent>;
    fn next(&mut self) -> Option<Self::Item> {
        if let Err(e) = refuse_inside_runtime(Op::WatchEvents, &self.shared.name) {
            return Some(Err(e));
        }
        match self.shared.take(None) {
            Poll::Ready(item) => item,
            Poll::Pending => None,
        }
    }
}

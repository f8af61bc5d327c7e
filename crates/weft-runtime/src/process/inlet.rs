//! Where items for a process go: queued in its mailbox or events channel until its engine
//! installs a [`Router`] that delivers them straight into channels of its own.

use std::sync::Arc;

use parking_lot::RwLock;
use tokio::sync::mpsc;

/// Delivers an item straight to a process' engine-side channels; [`Full`] when the
/// channel it belongs in has no room (the sender is told, the item dropped). What a
/// receiver closed may be dropped silently (`Ok`).
pub type Router<T> = Arc<dyn Fn(T) -> std::result::Result<(), Full> + Send + Sync>;

/// A [`Router`]'s answer when the receiving channel is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

/// Where items for a process go: queued until its engine installs a router.
pub(super) struct Inlet<T> {
    queue: Queue<T>,
    router: RwLock<Option<Router<T>>>,
}

/// The queue of an [`Inlet`]: bounded for messages (`host.mailbox_size`), unbounded for
/// events (the runtime makes them, at most one EXIT per process ended).
pub(super) enum Queue<T> {
    Bounded(mpsc::Sender<T>),
    Unbounded(mpsc::UnboundedSender<T>),
}

/// What became of a delivered item.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Delivery {
    Delivered,
    Full,
    Gone,
}

impl<T> Inlet<T> {
    pub(super) fn new(queue: Queue<T>) -> Inlet<T> {
        Inlet {
            queue,
            router: RwLock::new(None),
        }
    }

    /// Delivers through the router if there is one, else queues.
    pub(super) fn deliver(&self, item: T) -> Delivery {
        let router = self.router.read();
        if let Some(route) = router.as_ref() {
            return match route(item) {
                Ok(()) => Delivery::Delivered,
                Err(Full) => Delivery::Full,
            };
        }
        match &self.queue {
            Queue::Bounded(tx) => match tx.try_send(item) {
                Ok(()) => Delivery::Delivered,
                Err(mpsc::error::TrySendError::Full(_)) => Delivery::Full,
                Err(mpsc::error::TrySendError::Closed(_)) => Delivery::Gone,
            },
            Queue::Unbounded(tx) => match tx.send(item) {
                Ok(()) => Delivery::Delivered,
                Err(_) => Delivery::Gone,
            },
        }
    }

    /// Drains what was queued (`next` yields it in order) through `router`, then routes
    /// every later item directly.
    pub(super) fn install(&self, router: Router<T>, mut next: impl FnMut() -> Option<T>) {
        let mut slot = self.router.write();
        while let Some(item) = next() {
            if router(item).is_err() {
                tracing::debug!(target: "weft::process", "a queued item found its channel full");
            }
        }
        *slot = Some(router);
    }
}

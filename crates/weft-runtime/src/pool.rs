//! Pools: each function entry owns one; a call leases an item from it.
//!
//! The pool config (`pool:` of an entry, reference §2.1.1) picks how many calls may run
//! at once and how many callers may queue. Lua pools hold prepared VMs, reused by later
//! calls; WASM pools hold no item (`()`): they only bound concurrency, since every WASM
//! call gets a fresh instance.
//!
//! An engine registers each function's pool in the runtime's [`Pools`], which
//! snapshots them for the metrics endpoint ([`PoolMetrics`]) without knowing what
//! they hold.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde::Deserialize;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use weft_core::{CallContext, EntryId, Error, ErrorKind, Result};

/// How long an idle VM of a `lazy` or `adaptive` pool is kept.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// How many idle VMs an `inline` pool keeps.
const INLINE_IDLE_MAX: usize = 64;

/// The `pool:` block of an entry, as written.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct PoolConfig {
    /// `inline`, `lazy`, `static` or `adaptive` (absent: chosen from the numbers).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Total size.
    pub size: i64,
    /// Static worker count.
    pub workers: i64,
    /// Static queue length (default workers × 64).
    pub buffer: i64,
    /// Elastic maximum.
    pub max_size: i64,
    /// Build the VMs of a static pool at boot.
    pub warm_start: bool,
    /// WASM entries: `fresh` (the default: a new instance per call) or `warm` (an
    /// instance serves many calls in turn and keeps its state between them).
    pub instance: Option<String>,
    /// WASM `warm` instances: calls one instance serves before it is retired (0: the
    /// default, 1,000).
    pub max_invocations: i64,
    /// WASM `warm` instances: how long one may sit idle before it is retired (a Go
    /// duration or seconds; absent: 60 s).
    pub idle_timeout: Option<weft_core::Value>,
}

/// The pool a config selects, with its limits resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolKind {
    /// No bound: runs on the caller's task with a reused VM.
    Inline,
    /// Up to `max` VMs built on demand; idle ones expire.
    Lazy {
        /// Most VMs running at once.
        max: usize,
    },
    /// `workers` VMs; at most `queue` callers wait for one.
    Static {
        /// VMs running at once.
        workers: usize,
        /// Callers allowed to wait.
        queue: usize,
    },
    /// Scales between 0 and `max` VMs; idle ones expire.
    Adaptive {
        /// Most VMs running at once.
        max: usize,
    },
}

impl PoolKind {
    /// The config's name of the kind (`inline`, `lazy`, `static`, `adaptive`).
    pub fn name(self) -> &'static str {
        match self {
            PoolKind::Inline => "inline",
            PoolKind::Lazy { .. } => "lazy",
            PoolKind::Static { .. } => "static",
            PoolKind::Adaptive { .. } => "adaptive",
        }
    }

    /// How many calls may hold an item at once (`None`: no bound, an inline pool).
    pub fn slots(self) -> Option<usize> {
        match self {
            PoolKind::Inline => None,
            PoolKind::Lazy { max } | PoolKind::Adaptive { max } => Some(max.max(1)),
            PoolKind::Static { workers, .. } => Some(workers.max(1)),
        }
    }
}

impl PoolConfig {
    /// Validates the config and resolves the pool (reference §2.1.1, with its messages).
    pub fn resolve(&self) -> Result<PoolKind> {
        if [self.size, self.workers, self.buffer, self.max_size]
            .iter()
            .any(|n| *n < 0)
        {
            return Err(Error::invalid("pool values cannot be negative"));
        }
        let flex = self.workers == 0 && (self.size == 0 || self.max_size > 0);
        let workers = self.workers as usize;
        let queue_for = |w: usize| {
            if self.buffer > 0 {
                self.buffer as usize
            } else {
                w * 64
            }
        };
        let or = |n: i64, default: usize| if n > 0 { n as usize } else { default };
        match self.kind.as_deref() {
            Some("inline") => Ok(PoolKind::Inline),
            Some("lazy") => Ok(PoolKind::Lazy {
                max: or(self.max_size, 16),
            }),
            Some("adaptive") => Ok(PoolKind::Adaptive {
                max: or(self.max_size, 16),
            }),
            Some("static") => {
                if self.workers > 0 && self.size <= 0 {
                    return Err(Error::invalid(
                        "pool.size must be greater than 0 for worker pools",
                    ));
                }
                if !flex && self.size <= 0 {
                    return Err(Error::invalid(
                        "pool.size must be greater than 0 for non-flex pools",
                    ));
                }
                let workers = if workers > 0 {
                    workers
                } else {
                    or(self.size, 8)
                };
                Ok(PoolKind::Static {
                    workers,
                    queue: queue_for(workers),
                })
            }
            Some(other) => Err(Error::invalid(format!("invalid pool type: {other}"))),
            None => {
                if !flex && self.size <= 0 {
                    return Err(Error::invalid(
                        "pool.size must be greater than 0 for non-flex pools",
                    ));
                }
                if self.workers > 0 && self.size <= 0 {
                    return Err(Error::invalid(
                        "pool.size must be greater than 0 for worker pools",
                    ));
                }
                if flex {
                    Ok(PoolKind::Lazy {
                        max: or(self.max_size, 100),
                    })
                } else if workers > 0 {
                    Ok(PoolKind::Static {
                        workers,
                        queue: queue_for(workers),
                    })
                } else {
                    Ok(PoolKind::Inline)
                }
            }
        }
    }
}

/// A pool of prepared values of type `T` (VMs), bounded by its [`PoolKind`].
pub struct Pool<T> {
    kind: PoolKind,
    idle: Mutex<Vec<(T, Instant)>>,
    permits: Option<Arc<Semaphore>>,
    waiting: AtomicUsize,
    /// Leases out of an inline pool (a bounded pool counts them by its permits).
    unbounded_in_use: AtomicUsize,
}

/// A leased item; it returns to its pool when dropped (unless [`Lease::discard`]ed).
pub struct Lease<T> {
    item: Option<T>,
    pool: Arc<Pool<T>>,
    _permit: Option<OwnedSemaphorePermit>,
}

impl<T: Send + 'static> Pool<T> {
    /// An empty pool of `kind`.
    pub fn new(kind: PoolKind) -> Arc<Pool<T>> {
        Arc::new(Pool {
            kind,
            idle: Mutex::new(Vec::new()),
            permits: kind.slots().map(|n| Arc::new(Semaphore::new(n))),
            waiting: AtomicUsize::new(0),
            unbounded_in_use: AtomicUsize::new(0),
        })
    }

    /// The pool's kind.
    pub fn kind(&self) -> PoolKind {
        self.kind
    }

    /// Leases an idle item for the call `cx` (the callee's context), or builds one with
    /// `build` when none is idle.
    ///
    /// Waits for a slot when the pool is at its limit, except when a caller up `cx`'s
    /// chain runs the same entry: it holds a slot and waits for this call, so waiting
    /// could deadlock (hold and wait) and the call fails at once with Unavailable. A
    /// static pool whose queue is full fails at once with RateLimited.
    pub async fn lease<F, Fut>(self: &Arc<Self>, cx: &CallContext, build: F) -> Result<Lease<T>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let permit = match &self.permits {
            None => None,
            Some(sem) => Some(match sem.clone().try_acquire_owned() {
                Ok(p) => p,
                Err(_) => {
                    self.refuse_reentrant_wait(cx)?;
                    self.wait_for_slot(sem.clone()).await?
                }
            }),
        };
        let idle = self.take_idle();
        let item = match idle {
            Some(item) => item,
            None => build().await?,
        };
        if permit.is_none() {
            self.unbounded_in_use.fetch_add(1, Ordering::Relaxed);
        }
        Ok(Lease {
            item: Some(item),
            pool: self.clone(),
            _permit: permit,
        })
    }

    /// Adds a prepared item to the idle set (warm start).
    pub fn put_idle(&self, item: T) {
        self.give_back(item);
    }

    /// Returns how many items are idle (for tests and stats).
    pub fn idle_count(&self) -> usize {
        self.idle.lock().len()
    }

    /// How many leases are out now.
    pub fn in_use(&self) -> usize {
        match (&self.permits, self.kind.slots()) {
            (Some(sem), Some(slots)) => slots.saturating_sub(sem.available_permits()),
            _ => self.unbounded_in_use.load(Ordering::Relaxed),
        }
    }

    /// How many callers wait for a slot now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// Fails a call that would wait for a slot while its own chain holds one.
    fn refuse_reentrant_wait(&self, cx: &CallContext) -> Result<()> {
        match cx.entry() {
            Some(entry) if cx.caller_runs(entry) => Err(Error::new(
                ErrorKind::Unavailable,
                format!(
                    "re-entrant call to {entry} would deadlock: all {} slots of its pool are \
                     taken and its own call chain holds one (raise the pool size or call it \
                     without recursion)",
                    self.kind.slots().unwrap_or(usize::MAX)
                ),
            )),
            _ => Ok(()),
        }
    }

    async fn wait_for_slot(&self, sem: Arc<Semaphore>) -> Result<OwnedSemaphorePermit> {
        if let PoolKind::Static { queue, .. } = self.kind
            && self.waiting.load(Ordering::Relaxed) >= queue
        {
            return Err(Error::new(
                ErrorKind::RateLimited,
                format!("pool queue is full ({queue} callers waiting)"),
            )
            .with_retryable(Some(true)));
        }
        self.waiting.fetch_add(1, Ordering::Relaxed);
        let permit = sem.acquire_owned().await;
        self.waiting.fetch_sub(1, Ordering::Relaxed);
        permit.map_err(|_| Error::new(ErrorKind::Unavailable, "pool is closed"))
    }

    fn take_idle(&self) -> Option<T> {
        let mut idle = self.idle.lock();
        if matches!(self.kind, PoolKind::Lazy { .. } | PoolKind::Adaptive { .. }) {
            let now = Instant::now();
            idle.retain(|(_, since)| now.duration_since(*since) < IDLE_TIMEOUT);
        }
        idle.pop().map(|(item, _)| item)
    }
}

impl<T> Pool<T> {
    fn give_back(&self, item: T) {
        let mut idle = self.idle.lock();
        if self.kind == PoolKind::Inline && idle.len() >= INLINE_IDLE_MAX {
            return;
        }
        idle.push((item, Instant::now()));
    }
}

impl<T: Send + 'static> Lease<T> {
    /// Drops the item instead of returning it (its state can't be trusted any more).
    pub fn discard(mut self) {
        self.item = None;
    }
}

impl<T> std::ops::Deref for Lease<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // The item is only taken by `discard`, which consumes the lease.
        self.item
            .as_ref()
            .unwrap_or_else(|| unreachable!("lease used after discard"))
    }
}

impl<T> Drop for Lease<T> {
    fn drop(&mut self) {
        if let Some(item) = self.item.take() {
            self.pool.give_back(item);
        }
        if self._permit.is_none() {
            self.pool.unbounded_in_use.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// A pool's state at one moment ([`Pools::metrics`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolMetrics {
    /// The entry whose calls the pool bounds.
    pub entry: EntryId,
    /// The pool's kind ([`PoolKind::name`]).
    pub kind: &'static str,
    /// Calls it lets run at once (`None`: no bound, an inline pool).
    pub slots: Option<usize>,
    /// Calls holding a slot (or, inline, an item) now.
    pub in_use: usize,
    /// Calls waiting for a slot now.
    pub waiting: usize,
    /// Prepared items (VMs) idle now.
    pub idle: usize,
}

/// What [`Pools`] reads of a pool, whatever it holds.
trait Gauges: Send + Sync {
    fn snapshot(&self, entry: &EntryId) -> PoolMetrics;
}

impl<T: Send + 'static> Gauges for Pool<T> {
    fn snapshot(&self, entry: &EntryId) -> PoolMetrics {
        PoolMetrics {
            entry: entry.clone(),
            kind: self.kind.name(),
            slots: self.kind.slots(),
            in_use: self.in_use(),
            waiting: self.waiting(),
            idle: self.idle_count(),
        }
    }
}

/// The pools of a runtime's function entries, by entry, for the metrics endpoint.
///
/// Holds them weakly: a pool lives as long as its function, and one whose function is
/// gone drops out of the snapshot.
#[derive(Default)]
pub struct Pools {
    by_entry: Mutex<BTreeMap<EntryId, Weak<dyn Gauges>>>,
}

/// The pool an entry had in [`Pools`] before a change (to put it back).
pub struct PoolSlot(Option<Weak<dyn Gauges>>);

impl Pools {
    /// Records `pool` as the pool of `entry`, replacing (and returning) the entry's
    /// previous one.
    pub fn register<T: Send + 'static>(&self, entry: EntryId, pool: &Arc<Pool<T>>) -> PoolSlot {
        let pool: Arc<dyn Gauges> = pool.clone();
        PoolSlot(self.by_entry.lock().insert(entry, Arc::downgrade(&pool)))
    }

    /// Forgets the pool of `entry`, returning its place.
    pub fn unregister(&self, entry: &EntryId) -> PoolSlot {
        PoolSlot(self.by_entry.lock().remove(entry))
    }

    /// Puts back what [`register`](Self::register) or [`unregister`](Self::unregister)
    /// returned (a change set being undone).
    pub fn restore(&self, entry: EntryId, slot: PoolSlot) {
        let mut map = self.by_entry.lock();
        match slot.0 {
            Some(pool) => map.insert(entry, pool),
            None => map.remove(&entry),
        };
    }

    /// Every live pool's state, by entry id.
    pub fn metrics(&self) -> Vec<PoolMetrics> {
        let mut out = Vec::new();
        self.by_entry
            .lock()
            .retain(|entry, pool| match pool.upgrade() {
                Some(pool) => {
                    out.push(pool.snapshot(entry));
                    true
                }
                None => false,
            });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(kind: Option<&str>, size: i64, workers: i64, max_size: i64) -> PoolConfig {
        PoolConfig {
            kind: kind.map(str::to_string),
            size,
            workers,
            max_size,
            ..PoolConfig::default()
        }
    }

    #[test]
    fn selection_follows_the_reference_table() {
        assert_eq!(
            cfg(None, 0, 0, 0).resolve().unwrap(),
            PoolKind::Lazy { max: 100 }
        );
        assert_eq!(cfg(None, 4, 0, 0).resolve().unwrap(), PoolKind::Inline);
        assert_eq!(
            cfg(None, 4, 2, 0).resolve().unwrap(),
            PoolKind::Static {
                workers: 2,
                queue: 128
            }
        );
        assert_eq!(
            cfg(Some("lazy"), 0, 0, 0).resolve().unwrap(),
            PoolKind::Lazy { max: 16 }
        );
        assert_eq!(
            cfg(Some("static"), 3, 0, 0).resolve().unwrap(),
            PoolKind::Static {
                workers: 3,
                queue: 192
            }
        );
        assert_eq!(
            cfg(Some("adaptive"), 0, 0, 5).resolve().unwrap(),
            PoolKind::Adaptive { max: 5 }
        );
        assert_eq!(
            cfg(Some("inline"), 0, 0, 0).resolve().unwrap(),
            PoolKind::Inline
        );
    }

    #[test]
    fn invalid_configs_give_the_reference_messages() {
        let msg = |c: PoolConfig| c.resolve().unwrap_err().message().to_string();
        assert_eq!(msg(cfg(None, -1, 0, 0)), "pool values cannot be negative");
        assert_eq!(
            msg(cfg(None, 0, 2, 0)),
            "pool.size must be greater than 0 for non-flex pools"
        );
        assert_eq!(
            msg(cfg(Some("static"), 0, 1, 0)),
            "pool.size must be greater than 0 for worker pools"
        );
        assert_eq!(msg(cfg(Some("huge"), 0, 0, 0)), "invalid pool type: huge");
    }

    #[tokio::test]
    async fn leases_reuse_items_and_bound_concurrency() {
        let pool: Arc<Pool<u32>> = Pool::new(PoolKind::Lazy { max: 1 });
        let first = pool
            .lease(&CallContext::default(), || async { Ok(7) })
            .await
            .unwrap();
        assert_eq!(*first, 7);
        let p2 = pool.clone();
        let second = tokio::spawn(async move {
            *p2.lease(&CallContext::default(), || async { Ok(9) })
                .await
                .unwrap()
        });
        tokio::task::yield_now().await;
        assert!(!second.is_finished());
        drop(first);
        // the waiting caller gets the returned item, not a new one
        assert_eq!(second.await.unwrap(), 7);
        assert_eq!(pool.idle_count(), 1);
    }

    #[tokio::test]
    async fn full_static_queue_is_rate_limited() {
        let pool: Arc<Pool<u32>> = Pool::new(PoolKind::Static {
            workers: 1,
            queue: 0,
        });
        let _held = pool
            .lease(&CallContext::default(), || async { Ok(1) })
            .await
            .unwrap();
        let err = match pool
            .lease(&CallContext::default(), || async { Ok(2) })
            .await
        {
            Err(e) => e,
            Ok(_) => panic!("expected a full queue"),
        };
        assert_eq!(err.kind(), ErrorKind::RateLimited);
    }

    #[tokio::test]
    async fn a_reentrant_call_into_a_full_pool_fails_at_once() {
        let pool: Arc<Pool<u32>> = Pool::new(PoolKind::Static {
            workers: 2,
            queue: 8,
        });
        let f = weft_core::EntryId::new("app", "f");
        let outer = CallContext::default().for_call(&f);
        let inner = outer.for_call(&f);
        let a = pool.lease(&outer, || async { Ok(1) }).await.unwrap();
        let _b = pool.lease(&inner, || async { Ok(2) }).await.unwrap();
        let err = match pool.lease(&inner.for_call(&f), || async { Ok(3) }).await {
            Err(e) => e,
            Ok(_) => panic!("a third nested call must not wait for itself"),
        };
        assert_eq!(err.kind(), ErrorKind::Unavailable);
        assert!(
            err.message()
                .starts_with("re-entrant call to app:f would deadlock: all 2 slots")
        );
        // An unrelated caller still waits for a slot (and gets one when it frees).
        let p2 = pool.clone();
        let other = tokio::spawn(async move {
            let cx = CallContext::default().for_call(&weft_core::EntryId::new("app", "f"));
            p2.lease(&cx, || async { Ok(4) }).await.map(|l| *l)
        });
        tokio::task::yield_now().await;
        assert!(!other.is_finished());
        drop(a);
        assert!(other.await.unwrap().is_ok());
    }

    #[tokio::test]
    async fn discarded_items_are_not_reused() {
        let pool: Arc<Pool<u32>> = Pool::new(PoolKind::Inline);
        pool.lease(&CallContext::default(), || async { Ok(1) })
            .await
            .unwrap()
            .discard();
        assert_eq!(pool.idle_count(), 0);
    }

    #[tokio::test]
    async fn pools_report_slots_in_use_and_waiting() {
        let pools = Pools::default();
        let bounded: Arc<Pool<u32>> = Pool::new(PoolKind::Static {
            workers: 1,
            queue: 4,
        });
        let inline: Arc<Pool<u32>> = Pool::new(PoolKind::Inline);
        let f = weft_core::EntryId::new("app", "f");
        let g = weft_core::EntryId::new("app", "g");
        pools.register(f.clone(), &bounded);
        pools.register(g.clone(), &inline);
        let metrics = |pools: &Pools| {
            pools
                .metrics()
                .into_iter()
                .map(|m| (m.entry.to_string(), m.slots, m.in_use, m.waiting, m.idle))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            metrics(&pools),
            [
                ("app:f".to_string(), Some(1), 0, 0, 0),
                ("app:g".to_string(), None, 0, 0, 0)
            ]
        );

        let held = bounded
            .lease(&CallContext::default(), || async { Ok(1) })
            .await
            .unwrap();
        let inline_held = inline
            .lease(&CallContext::default(), || async { Ok(2) })
            .await
            .unwrap();
        let p2 = bounded.clone();
        let waiter = tokio::spawn(async move {
            p2.lease(&CallContext::default(), || async { Ok(3) })
                .await
                .map(|l| *l)
        });
        tokio::task::yield_now().await;
        assert_eq!(
            metrics(&pools),
            [
                ("app:f".to_string(), Some(1), 1, 1, 0),
                ("app:g".to_string(), None, 1, 0, 0)
            ]
        );
        assert_eq!(pools.metrics()[0].kind, "static");

        drop(held);
        assert_eq!(waiter.await.unwrap().unwrap(), 1);
        inline_held.discard();
        assert_eq!(
            metrics(&pools),
            [
                ("app:f".to_string(), Some(1), 0, 0, 1),
                ("app:g".to_string(), None, 0, 0, 0)
            ]
        );

        // A pool whose function is gone drops out.
        drop(inline);
        assert_eq!(pools.metrics().len(), 1);
    }
}

//! Warm instances (`pool: {instance: warm}`): an instance serves many calls in turn and
//! keeps its state (memory, globals, WASI resources) between them.
//!
//! - An instance is retired after `max_invocations` calls, after `idle_timeout` idle,
//!   and always after a call that did not return normally (a trap, a timeout, a call
//!   dropped mid-way, an error): only an instance whose call returned is put back.
//! - Each call gets its own WASI view, resolved in its caller's context (env, args,
//!   mounts, grants), its own deadline, hostcall fuel and `funcs` caller; what persists
//!   is the guest's own state and the resource table (handles it kept).
//! - An idle instance keeps its engine instance slot (`wasm.max_instances`): when a
//!   call finds no free slot, the engine retires the idle warm instance that waited
//!   longest, of any entry, before it waits ([`WarmPools::evict_one`]).

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::sync::OwnedSemaphorePermit;
use wasmtime::Store;
use wasmtime::component::Func;
use weft_core::{Error, Result, Value};
use weft_registry::duration_of;
use weft_runtime::PoolConfig;

use crate::store::StoreState;

/// Calls one warm instance serves when `max_invocations` is not set.
const DEFAULT_MAX_INVOCATIONS: u32 = 1_000;

/// How long a warm instance may idle when `idle_timeout` is not set.
const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// An entry's instance mode, from its `pool:` block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum InstanceMode {
    /// A new instance per call (the default).
    Fresh,
    /// Instances reused across calls.
    Warm {
        /// Calls before an instance is retired.
        max_invocations: u32,
        /// Idle time before an instance is retired.
        idle_timeout: Duration,
    },
}

/// The idle warm instances of one entry.
pub(crate) struct Warm {
    max_invocations: u32,
    idle_timeout: Duration,
    idle: Mutex<Vec<Idle>>,
    /// Set once the sweeper task runs.
    sweeping: std::sync::atomic::AtomicBool,
}

/// An instance between calls (or in one).
pub(crate) struct WarmInstance {
    /// Its store, whose data each call re-targets ([`StoreState::begin_call`]).
    pub(crate) store: Store<StoreState>,
    /// The entry's method in this instance.
    pub(crate) func: Func,
    /// Its engine instance slot, held while it lives.
    _permit: OwnedSemaphorePermit,
    /// Calls it has served.
    calls: u32,
}

/// An idle instance and since when.
struct Idle {
    instance: WarmInstance,
    since: Instant,
}

/// Every entry's warm instances, for the engine to retire one when it runs out of slots.
#[derive(Default)]
pub(crate) struct WarmPools {
    pools: Mutex<Vec<Weak<Warm>>>,
}

impl InstanceMode {
    /// The mode `pool` asks for; errors name the field.
    pub(crate) fn of(pool: &PoolConfig) -> Result<InstanceMode> {
        let warm = match pool.instance.as_deref() {
            None | Some("fresh") => false,
            Some("warm") => true,
            Some(other) => {
                return Err(Error::invalid(format!(
                    "instance must be fresh or warm, got {other:?}"
                ))
                .in_field("pool.instance"));
            }
        };
        if !warm {
            for (set, field) in [
                (pool.max_invocations != 0, "pool.max_invocations"),
                (pool.idle_timeout.is_some(), "pool.idle_timeout"),
            ] {
                if set {
                    return Err(Error::invalid(
                        "only warm instances (pool.instance: warm) take it",
                    )
                    .in_field(field));
                }
            }
            return Ok(InstanceMode::Fresh);
        }
        let max_invocations = match pool.max_invocations {
            0 => DEFAULT_MAX_INVOCATIONS,
            n => u32::try_from(n).map_err(|_| {
                Error::invalid(format!("must be between 1 and {}, got {n}", u32::MAX))
                    .in_field("pool.max_invocations")
            })?,
        };
        let idle_timeout = match &pool.idle_timeout {
            None | Some(Value::Nil) => DEFAULT_IDLE_TIMEOUT,
            Some(v) => match duration_of(v) {
                Ok(d) if !d.is_zero() => d,
                Ok(_) => {
                    return Err(
                        Error::invalid("must be greater than 0").in_field("pool.idle_timeout")
                    );
                }
                Err(e) => return Err(Error::invalid(e).in_field("pool.idle_timeout")),
            },
        };
        Ok(InstanceMode::Warm {
            max_invocations,
            idle_timeout,
        })
    }
}

impl Warm {
    /// No instance yet; `pools` learns of it, to retire its idle ones under pressure.
    pub(crate) fn new(
        max_invocations: u32,
        idle_timeout: Duration,
        pools: &WarmPools,
    ) -> Arc<Warm> {
        let warm = Arc::new(Warm {
            max_invocations,
            idle_timeout,
            idle: Mutex::new(Vec::new()),
            sweeping: Default::default(),
        });
        let mut all = pools.pools.lock();
        all.retain(|w| w.strong_count() > 0);
        all.push(Arc::downgrade(&warm));
        warm
    }

    /// The idle instance used last (its caches are the warmest); expired ones retired.
    pub(crate) fn take(&self) -> Option<WarmInstance> {
        let mut idle = self.idle.lock();
        let now = Instant::now();
        idle.retain(|i| now.duration_since(i.since) < self.idle_timeout);
        idle.pop().map(|i| i.instance)
    }

    /// A new warm instance of `store` and `func`, holding the slot `permit`.
    pub(crate) fn instance(
        store: Store<StoreState>,
        func: Func,
        permit: OwnedSemaphorePermit,
    ) -> WarmInstance {
        WarmInstance {
            store,
            func,
            _permit: permit,
            calls: 0,
        }
    }

    /// Puts back an instance whose call returned, unless it served its calls.
    pub(crate) fn put(self: &Arc<Self>, mut instance: WarmInstance) {
        instance.calls += 1;
        if instance.calls >= self.max_invocations {
            return;
        }
        self.idle.lock().push(Idle {
            instance,
            since: Instant::now(),
        });
        self.sweep_later();
    }

    /// Starts the task that retires idle instances past `idle_timeout` (once; it ends
    /// with the entry).
    fn sweep_later(self: &Arc<Self>) {
        use std::sync::atomic::Ordering;
        if self.sweeping.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let weak = Arc::downgrade(self);
        let every = self.idle_timeout.max(Duration::from_millis(10));
        handle.spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let Some(warm) = weak.upgrade() else { break };
                let now = Instant::now();
                let expired: Vec<Idle> = {
                    let mut idle = warm.idle.lock();
                    let (old, keep) = std::mem::take(&mut *idle)
                        .into_iter()
                        .partition(|i| now.duration_since(i.since) >= warm.idle_timeout);
                    *idle = keep;
                    old
                };
                drop(expired);
            }
        });
    }

    /// Retires the instance idle longest; false when none is idle.
    fn evict_oldest(&self) -> Option<Instant> {
        let mut idle = self.idle.lock();
        let (i, since) = idle
            .iter()
            .enumerate()
            .map(|(i, x)| (i, x.since))
            .min_by_key(|(_, s)| *s)?;
        let gone = idle.remove(i);
        drop(idle);
        drop(gone);
        Some(since)
    }

    /// When its longest-idle instance went idle.
    fn oldest(&self) -> Option<Instant> {
        self.idle.lock().iter().map(|i| i.since).min()
    }
}

impl WarmPools {
    /// Retires the idle warm instance (of any entry) that waited longest, freeing its
    /// slot; false when no instance is idle.
    pub(crate) fn evict_one(&self) -> bool {
        let pools: Vec<Arc<Warm>> = self.pools.lock().iter().filter_map(Weak::upgrade).collect();
        let oldest = pools
            .iter()
            .filter_map(|w| w.oldest().map(|since| (since, w)))
            .min_by_key(|(since, _)| *since);
        match oldest {
            Some((_, warm)) => warm.evict_oldest().is_some(),
            None => false,
        }
    }
}

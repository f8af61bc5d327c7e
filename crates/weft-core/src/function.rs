//! The [`Function`] trait and [`Functions`], the registry every caller goes through.
//!
//! A Lua `funcs.call`, a WASM guest's `funcs` import, an HTTP endpoint and the CLI all
//! call [`Functions::call`]: one path that validates the target, checks `funcs.call`
//! in the caller's context, applies the caller's deadline and runs the callee in a child
//! context. That one path also counts every call ([`Functions::metrics`]): each
//! registered function carries its counters, so a call adds to them with two or three
//! uncontended atomic adds and no lookup.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use parking_lot::RwLock;

use crate::{CallContext, EntryId, Error, ErrorKind, Result, Value};

/// A boxed, sendable future.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// Something callable by id: a Lua function entry, a WASM function, a process bridge.
pub trait Function: Send + Sync + 'static {
    /// Runs one call. `cx` is already the callee's context.
    fn call(&self, cx: CallContext, args: Vec<Value>) -> BoxFuture<Result<Value>>;
}

/// How deep calls may nest when `functions.max_call_depth` is not set.
pub const DEFAULT_MAX_CALL_DEPTH: u32 = 128;

/// Every this many nested calls, the callee runs on a task of its own: a call's future
/// polls its callee's on the same thread stack, so without a fresh task a deep chain
/// would overflow the stack (an abort, not an error).
const CALLS_PER_STACK: u32 = 8;

/// The function registry: entry id to [`Function`].
pub struct Functions {
    map: RwLock<HashMap<Box<str>, Arc<Registered>>>,
    max_depth: u32,
}

impl Default for Functions {
    fn default() -> Functions {
        Functions::with_max_call_depth(DEFAULT_MAX_CALL_DEPTH)
    }
}

/// One registered function with its call counters.
struct Registered {
    id: EntryId,
    function: Arc<dyn Function>,
    stats: Arc<CallStats>,
}

impl Functions {
    /// An empty registry.
    pub fn new() -> Functions {
        Functions::default()
    }

    /// An empty registry whose calls nest at most `max_depth` deep
    /// (`functions.max_call_depth`).
    pub fn with_max_call_depth(max_depth: u32) -> Functions {
        Functions {
            map: RwLock::default(),
            max_depth,
        }
    }

    /// Registers `function` under `id`, replacing (and returning) any previous one.
    ///
    /// A replaced function's counters go on (a reload does not reset them).
    pub fn register(&self, id: EntryId, function: Arc<dyn Function>) -> Option<Arc<dyn Function>> {
        let key: Box<str> = id.as_str().into();
        let mut map = self.map.write();
        let stats = map
            .get(id.as_str())
            .map_or_else(Arc::default, |r| r.stats.clone());
        map.insert(
            key,
            Arc::new(Registered {
                id,
                function,
                stats,
            }),
        )
        .map(|r| r.function.clone())
    }

    /// Removes the function `id` (and its counters).
    pub fn unregister(&self, id: &str) -> Option<Arc<dyn Function>> {
        self.map.write().remove(id).map(|r| r.function.clone())
    }

    /// True when `id` is registered.
    pub fn contains(&self, id: &str) -> bool {
        self.map.read().contains_key(id)
    }

    /// The ids of every registered function, sorted.
    pub fn ids(&self) -> Vec<EntryId> {
        let mut ids: Vec<_> = self.map.read().values().map(|r| r.id.clone()).collect();
        ids.sort();
        ids
    }

    /// The call counters of every registered function, sorted by id.
    ///
    /// A call counts once it has resolved (so not one refused by
    /// [`resolve`](Self::resolve)) and when it ends: returned, failed (by its error's
    /// kind, Timeout for the caller's deadline), or dropped before it returned (Canceled:
    /// the caller went away).
    pub fn metrics(&self) -> Vec<FunctionMetrics> {
        let slots: Vec<_> = self.map.read().values().cloned().collect();
        let mut out: Vec<_> = slots
            .iter()
            .map(|r| r.stats.snapshot(r.id.clone()))
            .collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }

    /// Calls `target` with `args` on behalf of the caller `cx`.
    ///
    /// Errors: those of [`resolve`](Self::resolve), Timeout when the caller's deadline
    /// passes, else whatever the callee returns.
    pub async fn call(&self, cx: &CallContext, target: &str, args: Vec<Value>) -> Result<Value> {
        self.resolve(cx, target)?.invoke(cx, args).await
    }

    /// Validates `target`, checks `funcs.call` on it in `cx` and finds it.
    ///
    /// Errors: Invalid for a malformed id, PermissionDenied when the caller may not call
    /// the target (which then never runs), NotFound for an unknown target.
    pub fn resolve(&self, cx: &CallContext, target: &str) -> Result<Resolved> {
        validate_target(target)?;
        cx.check("funcs.call", target)?;
        if cx.depth() >= self.max_depth {
            return Err(Error::new(
                ErrorKind::Internal,
                format!(
                    "call to {target} would nest {} calls deep, past functions.max_call_depth ({})",
                    u64::from(cx.depth()) + 1,
                    self.max_depth
                ),
            ));
        }
        self.map
            .read()
            .get(target)
            .cloned()
            .map(Resolved)
            .ok_or_else(|| Error::not_found(format!("no handler registered for target: {target}")))
    }
}

/// A call target that passed validation, the permission check and the depth bound.
pub struct Resolved(Arc<Registered>);

impl Resolved {
    /// Runs the target in a child of `cx`, bounded by the caller's deadline; counts the
    /// call in the target's metrics.
    pub async fn invoke(self, cx: &CallContext, args: Vec<Value>) -> Result<Value> {
        // A call that completes in one poll takes no budget of its own: this makes a task
        // looping over such calls give its worker back now and then (every 128 calls).
        tokio::task::coop::consume_budget().await;
        let target = self.0;
        let mut timing = Timing::start(&target.stats);
        let id = &target.id;
        let mut call = target.function.call(cx.for_call(id), args);
        if cx.depth() > 0 && cx.depth().is_multiple_of(CALLS_PER_STACK) {
            call = Box::pin(on_own_task(call));
        }
        let result = match cx.deadline() {
            None => call.await,
            Some(deadline) => tokio::time::timeout_at(deadline.into(), call)
                .await
                .unwrap_or_else(|_| {
                    Err(Error::new(
                        ErrorKind::Timeout,
                        format!("call to {id} exceeded the caller's deadline"),
                    ))
                }),
        };
        timing.outcome = result.as_ref().err().map(Error::kind);
        result
    }
}

/// Upper bounds of the call-duration histogram's buckets, in seconds: from 25 µs (a
/// Lua → Lua call takes a few) to 10 s; slower calls fall in the `+Inf` bucket.
pub const CALL_DURATION_BUCKETS: [f64; 12] = [
    0.000_025, 0.000_1, 0.000_25, 0.001, 0.002_5, 0.01, 0.025, 0.1, 0.25, 1.0, 2.5, 10.0,
];

/// [`CALL_DURATION_BUCKETS`] in nanoseconds, for the hot path.
const BUCKET_NANOS: [u64; 12] = [
    25_000,
    100_000,
    250_000,
    1_000_000,
    2_500_000,
    10_000_000,
    25_000_000,
    100_000_000,
    250_000_000,
    1_000_000_000,
    2_500_000_000,
    10_000_000_000,
];

/// The call counters of one function: lock-free, one cache line's worth of atomics
/// touched per call.
#[derive(Default)]
struct CallStats {
    /// Calls that ended in each duration bucket (the last: slower than every bound);
    /// their sum is the call count.
    buckets: [AtomicU64; BUCKET_NANOS.len() + 1],
    /// The total time of every call, in nanoseconds.
    sum_nanos: AtomicU64,
    /// Failed calls, by [`ErrorKind`] (indexed as [`ErrorKind::ALL`]).
    errors: [AtomicU64; ErrorKind::ALL.len()],
}

impl CallStats {
    fn record(&self, nanos: u64, error: Option<ErrorKind>) {
        let bucket = BUCKET_NANOS
            .iter()
            .position(|bound| nanos <= *bound)
            .unwrap_or(BUCKET_NANOS.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
        if let Some(kind) = error {
            self.errors[kind as usize].fetch_add(1, Ordering::Relaxed);
        }
    }

    fn snapshot(&self, id: EntryId) -> FunctionMetrics {
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        let bounds = CALL_DURATION_BUCKETS.iter().copied().chain([f64::INFINITY]);
        let errors = ErrorKind::ALL
            .iter()
            .map(|kind| (*kind, self.errors[*kind as usize].load(Ordering::Relaxed)))
            .filter(|(_, n)| *n > 0)
            .collect();
        FunctionMetrics {
            id,
            calls: counts.iter().sum(),
            errors,
            duration: DurationHistogram {
                buckets: bounds.zip(counts).collect(),
                sum_seconds: self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9,
            },
        }
    }
}

/// One call being timed; recorded when dropped, so a call whose future is dropped
/// before it returns counts too (as Canceled).
struct Timing<'a> {
    stats: &'a CallStats,
    start: Instant,
    /// The call's error kind once it returned (`None`: it succeeded).
    outcome: Option<ErrorKind>,
}

impl<'a> Timing<'a> {
    fn start(stats: &'a CallStats) -> Timing<'a> {
        Timing {
            stats,
            start: Instant::now(),
            outcome: Some(ErrorKind::Canceled),
        }
    }
}

impl Drop for Timing<'_> {
    fn drop(&mut self) {
        let nanos = u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.stats.record(nanos, self.outcome);
    }
}

/// The call counters of one function at one moment ([`Functions::metrics`]).
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionMetrics {
    /// The function's entry id.
    pub id: EntryId,
    /// Calls that ended, failed ones included.
    pub calls: u64,
    /// Failed calls by error kind; kinds with none are left out.
    pub errors: Vec<(ErrorKind, u64)>,
    /// How long the calls took.
    pub duration: DurationHistogram,
}

/// A histogram of call durations.
#[derive(Clone, Debug, PartialEq)]
pub struct DurationHistogram {
    /// `(upper bound in seconds, calls in this bucket)`, ascending; each count is the
    /// bucket's own (not cumulative); the last bound is `f64::INFINITY`.
    pub buckets: Vec<(f64, u64)>,
    /// The total time of the calls, in seconds.
    pub sum_seconds: f64,
}

/// Runs `call` on a task of its own (a fresh stack for its polls); dropping the returned
/// future aborts the task, as dropping `call` itself would end it.
async fn on_own_task(call: BoxFuture<Result<Value>>) -> Result<Value> {
    struct AbortOnDrop(tokio::task::AbortHandle);
    impl Drop for AbortOnDrop {
        fn drop(&mut self) {
            self.0.abort();
        }
    }
    let task = tokio::spawn(call);
    let _abort = AbortOnDrop(task.abort_handle());
    task.await
        .unwrap_or_else(|e| Err(Error::internal(format!("the call's task failed: {e}"))))
}

/// Checks the `ns:name` form without allocating (the messages of `EntryId::parse`).
fn validate_target(target: &str) -> Result<()> {
    match target.find(':') {
        _ if target.is_empty() => EntryId::parse(target).map(drop),
        Some(colon) if colon > 0 && colon + 1 < target.len() => Ok(()),
        _ => EntryId::parse(target).map(drop),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Map;
    use crate::security::{Actor, Scope};
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Echo(Arc<AtomicUsize>);

    impl Function for Echo {
        fn call(&self, cx: CallContext, args: Vec<Value>) -> BoxFuture<Result<Value>> {
            self.0.fetch_add(1, Ordering::SeqCst);
            let entry = cx.entry().map(|e| e.to_string());
            Box::pin(async move {
                let mut out = args;
                out.push(Value::from(entry));
                Ok(Value::array(out))
            })
        }
    }

    struct Failing(ErrorKind);

    impl Function for Failing {
        fn call(&self, _: CallContext, _: Vec<Value>) -> BoxFuture<Result<Value>> {
            let kind = self.0;
            Box::pin(async move { Err(Error::new(kind, "no")) })
        }
    }

    struct Sleeper;

    impl Function for Sleeper {
        fn call(&self, _: CallContext, _: Vec<Value>) -> BoxFuture<Result<Value>> {
            Box::pin(async {
                tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                Ok(Value::Nil)
            })
        }
    }

    fn registry(counter: &Arc<AtomicUsize>) -> Functions {
        let f = Functions::new();
        f.register(EntryId::new("app", "echo"), Arc::new(Echo(counter.clone())));
        f.register(EntryId::new("app", "sleep"), Arc::new(Sleeper));
        f
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_loop_of_calls_that_never_wait_lets_other_tasks_run() {
        let n = Arc::new(AtomicUsize::new(0));
        let f = registry(&n);
        let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        tokio::spawn({
            let ran = ran.clone();
            async move { ran.store(true, Ordering::SeqCst) }
        });
        let cx = CallContext::root(false);
        let mut calls = 0;
        while !ran.load(Ordering::SeqCst) && calls < 10_000 {
            f.call(&cx, "app:echo", Vec::new()).await.unwrap();
            calls += 1;
        }
        assert!(calls <= 1_000, "the other task waited for {calls} calls");
    }

    #[tokio::test]
    async fn call_runs_the_callee_in_a_child_context() {
        let n = Arc::new(AtomicUsize::new(0));
        let f = registry(&n);
        let out = f
            .call(&CallContext::root(false), "app:echo", vec![Value::Int(1)])
            .await
            .unwrap();
        assert_eq!(
            out,
            Value::array(vec![Value::Int(1), Value::str("app:echo")])
        );
    }

    #[tokio::test]
    async fn calls_nest_at_most_max_call_depth_deep() {
        let f = Functions::with_max_call_depth(2);
        f.register(EntryId::new("app", "echo"), Arc::new(Echo(Arc::default())));
        let id = EntryId::new("app", "x");
        let two_deep = CallContext::root(false).for_call(&id).for_call(&id);
        let one_deep = CallContext::root(false).for_call(&id);
        assert!(f.call(&one_deep, "app:echo", vec![]).await.is_ok());
        let err = f.call(&two_deep, "app:echo", vec![]).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Internal);
        assert_eq!(
            err.message(),
            "call to app:echo would nest 3 calls deep, past functions.max_call_depth (2)"
        );
    }

    #[tokio::test]
    async fn bad_targets_are_invalid_or_not_found() {
        let n = Arc::new(AtomicUsize::new(0));
        let f = registry(&n);
        let cx = CallContext::root(false);
        for (target, kind) in [
            ("", ErrorKind::Invalid),
            ("echo", ErrorKind::Invalid),
            ("app:", ErrorKind::Invalid),
            ("app:missing", ErrorKind::NotFound),
        ] {
            let err = f.call(&cx, target, vec![]).await.unwrap_err();
            assert_eq!(err.kind(), kind, "{target}: {err}");
        }
    }

    #[tokio::test]
    async fn denied_call_never_runs_the_target() {
        let n = Arc::new(AtomicUsize::new(0));
        let f = registry(&n);
        let cx = CallContext::root(false)
            .with_actor(Some(Actor::new("eve", Map::new())))
            .with_scope(Some(Scope::default()));
        let err = f.call(&cx, "app:echo", vec![]).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PermissionDenied);
        assert_eq!(err.message(), "not allowed: funcs.call on app:echo");
        assert_eq!(n.load(Ordering::SeqCst), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn caller_deadline_bounds_the_call() {
        let n = Arc::new(AtomicUsize::new(0));
        let f = registry(&n);
        let cx = CallContext::root(false)
            .with_deadline(std::time::Instant::now() + std::time::Duration::from_millis(10));
        let err = f.call(&cx, "app:sleep", vec![]).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);
    }

    #[test]
    fn error_kinds_index_their_counters() {
        for (i, kind) in ErrorKind::ALL.iter().enumerate() {
            assert_eq!(*kind as usize, i, "{kind:?}");
        }
        assert_eq!(CALL_DURATION_BUCKETS.len(), BUCKET_NANOS.len());
        for (secs, nanos) in CALL_DURATION_BUCKETS.iter().zip(BUCKET_NANOS) {
            assert_eq!((secs * 1e9).round() as u64, nanos);
        }
    }

    fn metrics_of(f: &Functions, id: &str) -> FunctionMetrics {
        f.metrics()
            .into_iter()
            .find(|m| m.id.as_str() == id)
            .unwrap_or_else(|| panic!("no metrics for {id}"))
    }

    #[tokio::test]
    async fn calls_count_by_outcome_and_duration() {
        let n = Arc::new(AtomicUsize::new(0));
        let f = registry(&n);
        f.register(
            EntryId::new("app", "fail"),
            Arc::new(Failing(ErrorKind::Invalid)),
        );
        let cx = CallContext::root(false);
        for _ in 0..3 {
            f.call(&cx, "app:echo", vec![]).await.unwrap();
        }
        for _ in 0..2 {
            f.call(&cx, "app:fail", vec![]).await.unwrap_err();
        }
        // Refused before resolving: counted nowhere.
        f.call(&cx, "app:missing", vec![]).await.unwrap_err();

        let ids: Vec<_> = f.metrics().iter().map(|m| m.id.to_string()).collect();
        assert_eq!(ids, ["app:echo", "app:fail", "app:sleep"]);
        let echo = metrics_of(&f, "app:echo");
        assert_eq!((echo.calls, echo.errors.len()), (3, 0));
        let buckets = &echo.duration.buckets;
        assert_eq!(buckets.len(), CALL_DURATION_BUCKETS.len() + 1);
        assert_eq!(buckets.last().unwrap().0, f64::INFINITY);
        assert_eq!(buckets.iter().map(|b| b.1).sum::<u64>(), 3);
        assert!(echo.duration.sum_seconds > 0.0);
        let fail = metrics_of(&f, "app:fail");
        assert_eq!(fail.calls, 2);
        assert_eq!(fail.errors, vec![(ErrorKind::Invalid, 2)]);
        let sleep = metrics_of(&f, "app:sleep");
        assert_eq!(sleep.calls, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn timeouts_and_dropped_calls_count_as_errors() {
        let n = Arc::new(AtomicUsize::new(0));
        let f = registry(&n);
        let cx = CallContext::root(false)
            .with_deadline(std::time::Instant::now() + std::time::Duration::from_millis(10));
        f.call(&cx, "app:sleep", vec![]).await.unwrap_err();
        // A caller that goes away mid-call (an HTTP client hanging up).
        let root = CallContext::root(false);
        let call = f.call(&root, "app:sleep", vec![]);
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(5), call)
                .await
                .is_err()
        );
        let sleep = metrics_of(&f, "app:sleep");
        assert_eq!(sleep.calls, 2);
        assert_eq!(
            sleep.errors,
            vec![(ErrorKind::Canceled, 1), (ErrorKind::Timeout, 1)]
        );
    }

    #[tokio::test]
    async fn a_replaced_function_keeps_its_counts() {
        let n = Arc::new(AtomicUsize::new(0));
        let f = registry(&n);
        let cx = CallContext::root(false);
        f.call(&cx, "app:echo", vec![]).await.unwrap();
        f.register(EntryId::new("app", "echo"), Arc::new(Echo(n.clone())));
        f.call(&cx, "app:echo", vec![]).await.unwrap();
        assert_eq!(metrics_of(&f, "app:echo").calls, 2);
        f.unregister("app:echo");
        assert!(f.metrics().iter().all(|m| m.id.as_str() != "app:echo"));
    }
}

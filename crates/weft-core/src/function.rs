//! The [`Function`] trait and [`Functions`], the registry every caller goes through.
//!
//! A Lua `funcs.call`, a WASM guest's `funcs` import, an HTTP endpoint and the CLI all
//! call [`Functions::call`]: one path that validates the target, checks `funcs.call`
//! in the caller's context, applies the caller's deadline and runs the callee in a child
//! context.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

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
    map: RwLock<HashMap<Box<str>, Registered>>,
    max_depth: u32,
}

impl Default for Functions {
    fn default() -> Functions {
        Functions::with_max_call_depth(DEFAULT_MAX_CALL_DEPTH)
    }
}

#[derive(Clone)]
struct Registered {
    id: EntryId,
    function: Arc<dyn Function>,
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
    pub fn register(&self, id: EntryId, function: Arc<dyn Function>) -> Option<Arc<dyn Function>> {
        let key: Box<str> = id.as_str().into();
        self.map
            .write()
            .insert(key, Registered { id, function })
            .map(|r| r.function)
    }

    /// Removes the function `id`.
    pub fn unregister(&self, id: &str) -> Option<Arc<dyn Function>> {
        self.map.write().remove(id).map(|r| r.function)
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
pub struct Resolved(Registered);

impl Resolved {
    /// Runs the target in a child of `cx`, bounded by the caller's deadline.
    pub async fn invoke(self, cx: &CallContext, args: Vec<Value>) -> Result<Value> {
        let Registered { id, function } = self.0;
        let mut call = function.call(cx.for_call(&id), args);
        if cx.depth() > 0 && cx.depth().is_multiple_of(CALLS_PER_STACK) {
            call = Box::pin(on_own_task(call));
        }
        match cx.deadline() {
            None => call.await,
            Some(deadline) => tokio::time::timeout_at(deadline.into(), call)
                .await
                .unwrap_or_else(|_| {
                    Err(Error::new(
                        ErrorKind::Timeout,
                        format!("call to {id} exceeded the caller's deadline"),
                    ))
                }),
        }
    }
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
}

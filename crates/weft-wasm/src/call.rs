//! The call path of a loaded entry, the same for functions and processes.
//!
//! A call lowers its arguments with the method's WIT types, resolves the entry's WASI
//! in the caller's context, takes a slot of the entry's pool and one of the engine's
//! instances, makes a fresh store from the entry's `InstancePre` with the memory limit
//! and the deadline, runs the method, and lifts the result.

use std::future::Future;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::{OwnedSemaphorePermit, TryAcquireError};
use wasmtime::component::{
    ComponentExportIndex, ComponentNamedList, Func, InstancePre, Lower, Type, Val,
};
use wasmtime::{Store, StoreLimits, StoreLimitsBuilder, Trap};
use wasmtime_wasi::{I32Exit, WasiCtx};
use weft_core::{
    BoxFuture, CallContext, EntryId, Error, ErrorKind, Function, Handle, Inherit, Result, Value,
};
use weft_runtime::{Lease, Pool, ProcessFactory, Runtime};

use crate::convert::{self, Blob, BlobArg, BlobOut, BlobSig, Shape};
use crate::engine::WasmEngine;
use crate::store::StoreState;
use crate::warm::Warm;
use crate::wasi::{CallWasi, Capabilities, WasiPlan};

/// The memory a guest may use when `limits.max_memory_mb` is not set.
const DEFAULT_MAX_MEMORY_MB: u64 = 256;

/// What wasmtime says when a value crossing from the guest needs more host memory than
/// the store's hostcall fuel ([`Limits::hostcall_fuel`]).
const HOSTCALL_FUEL_EXHAUSTED: &str = "fuel allocated for hostcalls has been exhausted";

/// The share of its memory limit a guest may pass to the host as one byte list
/// (`limit / 8`). wasmtime lifts a `list<u8>` into one dynamic `Val` per byte, so the
/// host spends `size_of::<Val>()` bytes per element while the list crosses; the
/// hostcall fuel ([`Limits::hostcall_fuel`]) is set to allow exactly that. A string
/// costs its length, so strings up to the whole limit pass.
const BYTE_LIST_SHARE: usize = 8;

/// What wasmtime says when a guest grows its memory past the store's limit: with
/// `trap_on_grow_failure` the growth traps ("forcing trap when growing memory…"); a
/// failure reported to the guest says "forcing a memory growth failure".
const MEMORY_GROWTH_FAILURES: [&str; 2] = [
    "forcing trap when growing memory",
    "forcing a memory growth failure",
];

/// Carried by the calls a WASM guest makes (through `funcs`) and by theirs: their chain
/// holds one of the engine's instances while it waits for them.
pub(crate) struct HoldsInstance;

impl Handle for HoldsInstance {
    const INHERIT: Inherit = Inherit::Calls;
}

/// `limits:` of a WASM entry (checked non-negative at boot).
#[derive(Deserialize, Default, Clone, Copy)]
#[serde(default)]
pub(crate) struct Limits {
    /// Wall-clock time a call may take; 0 is no limit.
    pub(crate) max_execution_ms: i64,
    /// Memory a guest may use; 0 is [`DEFAULT_MAX_MEMORY_MB`].
    pub(crate) max_memory_mb: i64,
}

/// A loaded WASM entry: what every call needs, computed once.
pub(crate) struct Loaded {
    pub(crate) id: EntryId,
    pub(crate) method: String,
    pub(crate) engine: Arc<WasmEngine>,
    pub(crate) pre: InstancePre<StoreState>,
    pub(crate) export: ComponentExportIndex,
    pub(crate) params: Vec<(String, Type)>,
    pub(crate) results: Vec<Type>,
    /// The parameters' and the result's conversion plans, built at load.
    pub(crate) shapes: Shapes,
    pub(crate) limits: Limits,
    pub(crate) mode: Mode,
    pub(crate) pool: Arc<Pool<()>>,
    /// The idle instances of a `pool.instance: warm` entry (`None`: fresh per call).
    pub(crate) warm: Option<Arc<Warm>>,
    pub(crate) plan: WasiPlan,
    pub(crate) caps: Capabilities,
    /// Weak: the runtime owns this function.
    pub(crate) rt: Weak<Runtime>,
}

/// The shapes the method's values are converted by (DESIGN §2's conversion plans).
pub(crate) struct Shapes {
    /// Each parameter's name and shape.
    pub(crate) params: Vec<(String, Shape)>,
    /// The first result's shape.
    pub(crate) result: Option<Shape>,
    /// The method's signature when it is byte-shaped: called through wasmtime's typed
    /// API, its bytes copied in bulk ([`convert::BlobSig`]).
    pub(crate) blob: Option<BlobSig>,
}

impl Shapes {
    /// The shapes of a method taking `params` and returning `results`.
    pub(crate) fn of(params: &[(String, Type)], results: &[Type]) -> Shapes {
        let params: Vec<(String, Shape)> = params
            .iter()
            .map(|(name, ty)| (name.clone(), Shape::of(ty)))
            .collect();
        let results: Vec<Shape> = results.iter().map(Shape::of).collect();
        Shapes {
            blob: BlobSig::of(&params, &results),
            params,
            result: results.into_iter().next(),
        }
    }
}

/// A call's arguments, lowered by the method's plan.
pub(crate) enum Lowered<'a> {
    /// One dynamic `Val` per parameter.
    Dynamic(Vec<Val>),
    /// The one argument of a byte-shaped method, with its signature.
    Blob(BlobArg<'a>, BlobSig),
}

/// What a call's method returned.
pub(crate) enum Returned {
    /// The dynamic result slots.
    Dynamic(Vec<Val>),
    /// A byte-shaped method's result.
    Blob(Option<BlobOut>),
}

/// The [`Function`] / [`ProcessFactory`] of a WASM entry.
#[derive(Clone)]
pub(crate) struct WasmFunction(pub(crate) Arc<Loaded>);

/// How an entry is called: what its method takes and what its result becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// `transport: payload` (the default): values in, a value out.
    Payload,
    /// `transport: wasi-http`: an HTTP endpoint's request body in, the response out
    /// ([`crate::serve::transport`]).
    WasiHttp,
    /// The method is `wasi:http/incoming-handler#handle`: the whole request in, a
    /// streamed response out ([`crate::serve::incoming`]).
    IncomingHandler,
}

impl WasmFunction {
    /// One call of the entry with `args`, in the caller's context `cx`.
    async fn run(self, cx: CallContext, args: Vec<Value>) -> Result<Value> {
        let f = &*self.0;
        match f.mode {
            Mode::Payload => f.call(cx, args).await,
            Mode::WasiHttp => crate::serve::transport(f, cx, args).await,
            Mode::IncomingHandler => crate::serve::incoming(f, cx, args).await,
        }
    }
}

/// What a started call holds: its pool slot and engine instance, and its store.
pub(crate) struct Started {
    _slots: (Lease<()>, OwnedSemaphorePermit),
    /// A fresh store with the call's WASI, limits and deadline.
    pub(crate) store: Store<StoreState>,
    /// When the call runs out of time (None: never).
    pub(crate) deadline: Option<Instant>,
}

impl Loaded {
    /// One call of the entry's method with `args` (payload in, value out).
    pub(crate) async fn call(&self, cx: CallContext, args: Vec<Value>) -> Result<Value> {
        let lowered = match self.shapes.blob {
            Some(sig) => convert::lower_blob(sig, &self.shapes.params, &args)
                .map(|arg| Lowered::Blob(arg, sig)),
            None => convert::lower_planned(&self.shapes.params, &args).map(Lowered::Dynamic),
        };
        let params = lowered.map_err(|e| e.context(format!("{} ({})", self.method, self.id)))?;
        if let Some(warm) = &self.warm {
            return self.call_warm(warm, &cx, &params).await;
        }
        let Started {
            mut store,
            deadline,
            _slots,
        } = self.start(&cx).await?;
        let outcome = before(deadline, self.invoke(&mut store, &params)).await;
        self.outcome(outcome)
    }

    /// [`call`](Self::call) on a warm instance: an idle one when there is one, else a
    /// new one; put back only when the call returned normally.
    async fn call_warm(
        &self,
        warm: &Arc<Warm>,
        cx: &CallContext,
        params: &Lowered<'_>,
    ) -> Result<Value> {
        let (call, wasi) = self.resolve_wasi(cx)?;
        let _slot = self.pool.lease(cx, || async { Ok(()) }).await?;
        let deadline = self.limits.deadline();
        let mut instance = match warm.take() {
            Some(instance) => instance,
            None => {
                let permit = self.instance_slot(cx).await?;
                let state = StoreState::new(
                    self.rt.clone(),
                    call.clone(),
                    None,
                    self.limits.store(),
                    deadline,
                );
                let mut store = state.into_store(self.engine.engine());
                store.set_hostcall_fuel(self.limits.hostcall_fuel());
                let made = before(deadline, self.instantiate(&mut store)).await;
                let func = made.map_err(|e| self.call_error(&e))?;
                Warm::instance(store, func, permit)
            }
        };
        instance.store.data_mut().begin_call(call, wasi, deadline);
        instance.store.set_epoch_deadline(1);
        instance
            .store
            .set_hostcall_fuel(self.limits.hostcall_fuel());
        let func = instance.func;
        let outcome = before(deadline, self.run_func(&func, &mut instance.store, params)).await;
        if outcome.is_ok() {
            warm.put(instance);
        }
        self.outcome(outcome)
    }

    /// Starts a call in `cx`: its WASI resolved, a pool slot and an engine instance
    /// leased, a fresh store made with the memory limit and the deadline.
    pub(crate) async fn start(&self, cx: &CallContext) -> Result<Started> {
        let (call, wasi) = self.resolve_wasi(cx)?;
        let slots = self.lease(cx).await?;
        let deadline = self.limits.deadline();
        let state = StoreState::new(self.rt.clone(), call, wasi, self.limits.store(), deadline);
        let mut store = state.into_store(self.engine.engine());
        store.set_hostcall_fuel(self.limits.hostcall_fuel());
        Ok(Started {
            _slots: slots,
            store,
            deadline,
        })
    }

    /// The call's WASI, resolved in the caller's context, and its `WasiCtx` when the
    /// entry builds it up front.
    fn resolve_wasi(&self, cx: &CallContext) -> Result<(CallWasi, Option<WasiCtx>)> {
        Runtime::upgrade(&self.rt)?;
        let call = self.plan.resolve(&self.caps, &self.id, cx)?;
        let wasi = if self.plan.eager() {
            Some(call.build()?)
        } else {
            None
        };
        Ok((call, wasi))
    }

    /// A slot of the entry's pool, then one of the engine's instances, for the call
    /// `cx`. Like the pool, the engine refuses to make a call wait for an instance
    /// while a WASM call up its own chain holds one ([`HoldsInstance`]).
    async fn lease(&self, cx: &CallContext) -> Result<(Lease<()>, OwnedSemaphorePermit)> {
        let slot = self.pool.lease(cx, || async { Ok(()) }).await?;
        Ok((slot, self.instance_slot(cx).await?))
    }

    /// One of the engine's instance slots; when none is free, the idle warm instance
    /// that waited longest is retired first, and only then does the call wait.
    async fn instance_slot(&self, cx: &CallContext) -> Result<OwnedSemaphorePermit> {
        let instances = self.engine.instances();
        let closed = |_| Error::new(ErrorKind::Unavailable, "wasm engine is shutting down");
        let mut acquired = instances.clone().try_acquire_owned();
        while matches!(acquired, Err(TryAcquireError::NoPermits)) && self.engine.warm().evict_one()
        {
            acquired = instances.clone().try_acquire_owned();
        }
        let instance = match acquired {
            Ok(permit) => permit,
            Err(TryAcquireError::Closed) => return Err(closed(())),
            Err(TryAcquireError::NoPermits) if cx.handle::<HoldsInstance>().is_some() => {
                return Err(Error::new(
                    ErrorKind::Unavailable,
                    format!(
                        "re-entrant call to {} would deadlock: all {} WASM instances \
                         (wasm.max_instances) are taken and its own call chain holds one",
                        self.id,
                        self.engine.max_instances()
                    ),
                ));
            }
            Err(TryAcquireError::NoPermits) => instances
                .clone()
                .acquire_owned()
                .await
                .map_err(|_| closed(()))?,
        };
        Ok(instance)
    }

    /// Instantiates the entry in `store` and calls its method with `params`.
    async fn invoke(
        &self,
        store: &mut Store<StoreState>,
        params: &Lowered<'_>,
    ) -> wasmtime::Result<Returned> {
        let func = self.instantiate(store).await?;
        self.run_func(&func, store, params).await
    }

    /// Calls the method's `func` with `params`: dynamically, or through the typed API
    /// for a byte-shaped method.
    async fn run_func(
        &self,
        func: &Func,
        store: &mut Store<StoreState>,
        params: &Lowered<'_>,
    ) -> wasmtime::Result<Returned> {
        Ok(match params {
            Lowered::Dynamic(vals) => {
                let mut results = convert::result_slots(&self.results);
                func.call_async(&mut *store, vals, &mut results).await?;
                Returned::Dynamic(results)
            }
            Lowered::Blob(BlobArg::Bytes(bytes), sig) => {
                Returned::Blob(call_typed(func, store, (&**bytes,), sig.result).await?)
            }
            Lowered::Blob(BlobArg::Text(text), sig) => {
                Returned::Blob(call_typed(func, store, (*text,), sig.result).await?)
            }
        })
    }

    /// Instantiates the entry in `store`: its method's function.
    async fn instantiate(&self, store: &mut Store<StoreState>) -> wasmtime::Result<Func> {
        let instance = self.pre.instantiate_async(&mut *store).await?;
        instance.get_func(&mut *store, self.export).ok_or_else(|| {
            wasmtime::Error::msg(format!("export \"{}\" not found in component", self.method))
        })
    }

    /// The call's value: the lifted first result (nil without one), nil for a guest
    /// exiting with status 0, an error otherwise.
    fn outcome(&self, outcome: wasmtime::Result<Returned>) -> Result<Value> {
        let e = match outcome {
            Ok(Returned::Dynamic(results)) => {
                return match (results.into_iter().next(), &self.shapes.result) {
                    (Some(v), Some(shape)) => convert::lift_planned(shape, v),
                    _ => Ok(Value::Nil),
                };
            }
            Ok(Returned::Blob(out)) => return Ok(convert::lift_blob(out)),
            Err(e) => e,
        };
        match e.downcast_ref::<I32Exit>() {
            Some(I32Exit(0)) => Ok(Value::Nil),
            Some(I32Exit(status)) => Err(Error::internal(format!(
                "{}: guest exited with status {status}",
                self.id
            ))
            .with_details(Some(Value::from_pairs([(
                "exit_code",
                Value::Int(i64::from(*status)),
            )])))),
            None => Err(self.call_error(&e)),
        }
    }

    /// Turns a wasmtime error into a weft error: Timeout for the deadline, Internal with
    /// the entry, the method and the wasm backtrace for the rest.
    pub(crate) fn call_error(&self, e: &wasmtime::Error) -> Error {
        let (id, method) = (&self.id, &self.method);
        let trap = e.downcast_ref::<Trap>();
        if trap == Some(&Trap::Interrupt) {
            return Error::timeout(format!(
                "{id}: {method} exceeded limits.max_execution_ms ({} ms)",
                self.limits.max_execution_ms
            ));
        }
        let out_of_memory = e.chain().any(|c| {
            let text = c.to_string();
            MEMORY_GROWTH_FAILURES.iter().any(|f| text.contains(f))
        });
        if e.chain()
            .any(|c| c.to_string().contains(HOSTCALL_FUEL_EXHAUSTED))
        {
            let mb = self.limits.memory_mb();
            return Error::internal(format!(
                "{id}: {method} passed the host a value too large for its memory limit \
                 (a byte list may hold {} MB under limits.max_memory_mb: {mb} MB)",
                mb / BYTE_LIST_SHARE as u64
            ));
        }
        let message = match trap {
            _ if out_of_memory => format!(
                "{id}: {method} exceeded its memory limit (limits.max_memory_mb: {} MB)",
                self.limits.memory_mb()
            ),
            // A trap's text starts with "wasm trap:" itself.
            Some(trap) => format!("failed to call wasm method: {method} ({id}): {trap}"),
            None => format!("failed to call wasm method: {method} ({id}): {e:#}"),
        };
        let error = Error::internal(message);
        if out_of_memory && trap.is_none() {
            // A failed growth that did not trap carries no backtrace.
            return error;
        }
        let backtrace = e
            .downcast_ref::<wasmtime::WasmBacktrace>()
            .map(|bt| bt.to_string())
            .unwrap_or_default();
        error.with_stack(backtrace)
    }
}

impl Limits {
    /// The memory limit in MB.
    pub(crate) fn memory_mb(self) -> u64 {
        match self.max_memory_mb {
            0 => DEFAULT_MAX_MEMORY_MB,
            mb => mb as u64,
        }
    }

    /// The host memory one value crossing from the guest may take (wasmtime's hostcall
    /// fuel): a byte list of [`BYTE_LIST_SHARE`]th of the memory limit.
    pub(crate) fn hostcall_fuel(self) -> usize {
        let limit = usize::try_from(self.memory_mb() << 20).unwrap_or(usize::MAX);
        (limit / BYTE_LIST_SHARE).saturating_mul(std::mem::size_of::<Val>())
    }

    /// When a call starting now runs out of time (None: never).
    pub(crate) fn deadline(self) -> Option<Instant> {
        (self.max_execution_ms > 0)
            .then(|| Instant::now() + Duration::from_millis(self.max_execution_ms as u64))
    }

    /// The store limits: memory, failing (trapping) a growth beyond it.
    pub(crate) fn store(self) -> StoreLimits {
        StoreLimitsBuilder::new()
            .memory_size((self.memory_mb() as usize).saturating_mul(1 << 20))
            .trap_on_grow_failure(true)
            .build()
    }
}

/// Calls `func` through wasmtime's typed API with `params` (one borrowed string or byte
/// slice), typed by the byte-shaped method's `result`.
async fn call_typed<P>(
    func: &Func,
    store: &mut Store<StoreState>,
    params: P,
    result: Option<Blob>,
) -> wasmtime::Result<Option<BlobOut>>
where
    P: ComponentNamedList + Lower + Send + Sync,
{
    Ok(match result {
        None => {
            let typed = func.typed::<P, ()>(&*store)?;
            typed.call_async(&mut *store, params).await?;
            None
        }
        Some(Blob::Bytes) => {
            let typed = func.typed::<P, (Vec<u8>,)>(&*store)?;
            Some(BlobOut::Bytes(
                typed.call_async(&mut *store, params).await?.0,
            ))
        }
        Some(Blob::Text) => {
            let typed = func.typed::<P, (String,)>(&*store)?;
            Some(BlobOut::Text(
                typed.call_async(&mut *store, params).await?.0,
            ))
        }
    })
}

/// Runs `call`, stopping it at `deadline`: the epoch stops a guest that computes; this
/// stops one parked in a host call (a sleep, a request) when its time is up.
pub(crate) async fn before<T>(
    deadline: Option<Instant>,
    call: impl Future<Output = wasmtime::Result<T>>,
) -> wasmtime::Result<T> {
    match deadline {
        Some(deadline) => tokio::time::timeout_at(deadline.into(), call)
            .await
            .unwrap_or_else(|_| Err(Trap::Interrupt.into())),
        None => call.await,
    }
}

impl Function for WasmFunction {
    fn call(&self, cx: CallContext, args: Vec<Value>) -> BoxFuture<Result<Value>> {
        Box::pin(self.clone().run(cx, args))
    }
}

impl ProcessFactory for WasmFunction {
    fn run(&self, cx: CallContext, args: Vec<Value>) -> BoxFuture<Result<Value>> {
        Box::pin(self.clone().run(cx, args))
    }

    /// Each CLI argument parsed by the WIT type of its parameter ([`crate::cli_args`]).
    fn command_args(&self, args: &[String]) -> Result<Vec<Value>> {
        let f = &*self.0;
        crate::cli_args::parse_args(&f.params, args)
            .map_err(|e| e.context(format!("{} ({})", f.method, f.id)))
    }
}

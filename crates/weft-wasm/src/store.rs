//! The store of one call: its data (limits, deadline, resource table, the call's WASI)
//! and the views the WASI, WASI-HTTP and `funcs` hosts take of it.

use std::sync::Weak;
use std::time::Instant;

use wasmtime::component::ResourceTable;
use wasmtime::{Engine, Store, StoreLimits, UpdateDeadline};
use wasmtime_wasi::random::WasiRandomCtx;
use wasmtime_wasi::sockets::WasiSocketsCtxView;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};
use weft_runtime::Runtime;

use crate::guards::{HttpGuard, LookupView};
use crate::profiles::Profile;
use crate::wasi::CallWasi;

/// The per-call store data.
pub(crate) struct StoreState {
    limits: StoreLimits,
    /// When `max_execution_ms` runs out (None: no limit).
    deadline: Option<Instant>,
    /// The runtime, for the `funcs` host.
    pub(crate) rt: Weak<Runtime>,
    /// What the guest sees, resolved in the caller's context.
    pub(crate) call: CallWasi,
    table: ResourceTable,
    /// Built on the first WASI call unless the entry needs it up front.
    wasi: Option<WasiCtx>,
    http: WasiHttpCtx,
    hooks: HttpGuard,
}

impl StoreState {
    /// Store data for one call; `wasi` is the context when it was built up front.
    pub(crate) fn new(
        rt: Weak<Runtime>,
        call: CallWasi,
        wasi: Option<WasiCtx>,
        limits: StoreLimits,
        deadline: Option<Instant>,
    ) -> StoreState {
        let hooks = HttpGuard::new(call.cx.clone(), call.grants.has(Profile::Http));
        StoreState {
            limits,
            deadline,
            rt,
            call,
            table: ResourceTable::new(),
            wasi,
            http: WasiHttpCtx::new(),
            hooks,
        }
    }

    /// Re-targets a warm instance's data at a new call: its WASI view, caller and
    /// deadline. The resource table (handles the guest kept) and the limits stay.
    pub(crate) fn begin_call(
        &mut self,
        call: CallWasi,
        wasi: Option<WasiCtx>,
        deadline: Option<Instant>,
    ) {
        self.hooks = HttpGuard::new(call.cx.clone(), call.grants.has(Profile::Http));
        self.call = call;
        self.wasi = wasi;
        self.deadline = deadline;
    }

    /// A store holding this data, bounded by its memory limits and interrupted at its
    /// deadline (checked every epoch tick; until then the guest yields every tick).
    pub(crate) fn into_store(self, engine: &Engine) -> Store<StoreState> {
        let mut store = Store::new(engine, self);
        store.limiter(|s| &mut s.limits);
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|cx| match cx.data().deadline {
            Some(deadline) if Instant::now() >= deadline => Ok(UpdateDeadline::Interrupt),
            _ => Ok(UpdateDeadline::Yield(1)),
        });
        store
    }

    /// The WASI context, built on first use.
    fn wasi(&mut self) -> &mut WasiCtx {
        let call = &self.call;
        self.wasi.get_or_insert_with(|| call.build_unmounted())
    }

    /// `wasi:random` state.
    pub(crate) fn random_ctx(&mut self) -> &mut WasiRandomCtx {
        self.wasi().random()
    }

    /// `wasi:sockets/ip-name-lookup` behind the policy check.
    pub(crate) fn lookup(&mut self) -> LookupView<'_> {
        let call = &self.call;
        let wasi = self.wasi.get_or_insert_with(|| call.build_unmounted());
        let sockets = WasiSocketsCtxView {
            ctx: wasi.sockets(),
            table: &mut self.table,
        };
        LookupView::new(sockets, &call.cx)
    }
}

impl WasiView for StoreState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        let call = &self.call;
        WasiCtxView {
            ctx: self.wasi.get_or_insert_with(|| call.build_unmounted()),
            table: &mut self.table,
        }
    }
}

impl wasmtime_wasi_io::IoView for StoreState {
    fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }
}

impl WasiHttpView for StoreState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks as &mut dyn WasiHttpHooks,
        }
    }
}

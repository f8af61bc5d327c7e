//! The data of one call's store: limits, the resource table, the caller's context, and
//! the views the WASI, WASI-HTTP and `funcs` hosts take of it.

use std::sync::Weak;
use std::time::Instant;

use wasmtime::component::{HasData, Resource, ResourceTable};
use wasmtime_wasi::p2::SocketError;
use wasmtime_wasi::p2::bindings::sockets::ip_name_lookup::{
    Host as LookupHost, HostResolveAddressStream, ResolveAddressStream,
};
use wasmtime_wasi::p2::bindings::sockets::network::{
    ErrorCode, Host as NetworkHost, HostNetwork, IpAddress, Network,
};
use wasmtime_wasi::random::WasiRandomCtx;
use wasmtime_wasi::sockets::WasiSocketsCtxView;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};
use weft_runtime::Runtime;

use crate::outgoing::HttpGuard;
use crate::profiles::Profile;
use crate::wasi::CallWasi;

/// The per-call store data.
pub struct StoreState {
    pub(crate) limits: wasmtime::StoreLimits,
    /// When `max_execution_ms` runs out (None: no limit).
    pub(crate) deadline: Option<Instant>,
    /// The runtime, for the `funcs` host.
    pub(crate) rt: Weak<Runtime>,
    pub(crate) call: CallWasi,
    table: ResourceTable,
    /// Built on the first WASI call unless the entry needs it up front.
    wasi: Option<WasiCtx>,
    http: WasiHttpCtx,
    hooks: HttpGuard,
}

/// `wasi:sockets/ip-name-lookup` with the `socket.resolve` check in front.
pub(crate) struct GuardedLookup;

/// The view [`GuardedLookup`] gives its host functions.
pub(crate) struct LookupView<'a> {
    sockets: WasiSocketsCtxView<'a>,
    cx: &'a weft_core::CallContext,
}

impl StoreState {
    /// Store data for one call; `wasi` is the context when it was built up front.
    pub(crate) fn new(
        rt: Weak<Runtime>,
        call: CallWasi,
        wasi: Option<WasiCtx>,
        limits: wasmtime::StoreLimits,
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
        LookupView {
            sockets: WasiSocketsCtxView {
                ctx: wasi.sockets(),
                table: &mut self.table,
            },
            cx: &call.cx,
        }
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

impl HasData for GuardedLookup {
    type Data<'a> = LookupView<'a>;
}

impl LookupHost for LookupView<'_> {
    fn resolve_addresses(
        &mut self,
        network: Resource<Network>,
        name: String,
    ) -> Result<Resource<ResolveAddressStream>, SocketError> {
        if self.cx.check("socket.resolve", &name).is_err() {
            return Err(ErrorCode::AccessDenied.into());
        }
        self.sockets.resolve_addresses(network, name)
    }
}

impl NetworkHost for LookupView<'_> {
    fn convert_error_code(&mut self, error: SocketError) -> wasmtime::Result<ErrorCode> {
        self.sockets.convert_error_code(error)
    }

    fn network_error_code(
        &mut self,
        err: Resource<wasmtime_wasi::p2::bindings::io::error::Error>,
    ) -> wasmtime::Result<Option<ErrorCode>> {
        self.sockets.network_error_code(err)
    }
}

impl HostNetwork for LookupView<'_> {
    fn drop(&mut self, network: Resource<Network>) -> wasmtime::Result<()> {
        HostNetwork::drop(&mut self.sockets, network)
    }
}

impl HostResolveAddressStream for LookupView<'_> {
    fn resolve_next_address(
        &mut self,
        stream: Resource<ResolveAddressStream>,
    ) -> Result<Option<IpAddress>, SocketError> {
        self.sockets.resolve_next_address(stream)
    }

    fn subscribe(
        &mut self,
        stream: Resource<ResolveAddressStream>,
    ) -> wasmtime::Result<Resource<wasmtime_wasi::p2::DynPollable>> {
        HostResolveAddressStream::subscribe(&mut self.sockets, stream)
    }

    fn drop(&mut self, stream: Resource<ResolveAddressStream>) -> wasmtime::Result<()> {
        HostResolveAddressStream::drop(&mut self.sockets, stream)
    }
}

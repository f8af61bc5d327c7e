//! The capability guards of a call's WASI: thin adapters from wasmtime's hooks to the
//! checks of `weft_net`, each run in the caller's context. A denied use reaches the guest
//! as the WASI error for it and nothing is sent.
//!
//! - Sockets: [`socket_check`] is the `socket_addr_check` of a [`WasiCtxBuilder`]
//!   (`weft_net::check_socket`).
//! - Name lookups: [`GuardedLookup`] is `wasi:sockets/ip-name-lookup` with
//!   `weft_net::check_resolve` in front (`access-denied`).
//! - Outgoing HTTP: [`HttpGuard`] is the `wasi:http` hooks, denying a request the entry
//!   was not granted or `weft_net::check_http_request` refuses (`HTTP-request-denied`).
//!
//! [`WasiCtxBuilder`]: wasmtime_wasi::WasiCtxBuilder

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;

use wasmtime::component::{HasData, Resource};
use wasmtime_wasi::p2::SocketError;
use wasmtime_wasi::p2::bindings::sockets::ip_name_lookup::{
    Host as LookupHost, HostResolveAddressStream, ResolveAddressStream,
};
use wasmtime_wasi::p2::bindings::sockets::network::{
    ErrorCode, Host as NetworkHost, HostNetwork, IpAddress, Network,
};
use wasmtime_wasi::sockets::{SocketAddrUse, WasiSocketsCtxView};
use wasmtime_wasi_http::{
    Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks, default_hooks,
};
use weft_core::CallContext;
use weft_net::SocketUse;

/// What a socket address check resolves to: whether the use is allowed.
type Allowed = Pin<Box<dyn Future<Output = bool> + Send + Sync>>;

/// The socket address check of a call in `cx`.
pub(crate) fn socket_check(
    cx: CallContext,
) -> impl Fn(SocketAddr, SocketAddrUse) -> Allowed + Send + Sync + 'static {
    move |addr, usage| {
        let usage = match usage {
            SocketAddrUse::TcpBind | SocketAddrUse::UdpBind => SocketUse::Bind,
            SocketAddrUse::TcpListen => SocketUse::Listen,
            _ => SocketUse::Connect,
        };
        let allowed = weft_net::check_socket(&cx, addr, usage).is_ok();
        Box::pin(async move { allowed })
    }
}

/// `wasi:sockets/ip-name-lookup` with the `socket.resolve` check in front.
pub(crate) struct GuardedLookup;

/// The view [`GuardedLookup`] gives its host functions.
pub(crate) struct LookupView<'a> {
    sockets: WasiSocketsCtxView<'a>,
    cx: &'a CallContext,
}

impl<'a> LookupView<'a> {
    /// Name lookups through `sockets`, checked in `cx`.
    pub(crate) fn new(sockets: WasiSocketsCtxView<'a>, cx: &'a CallContext) -> LookupView<'a> {
        LookupView { sockets, cx }
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
        if weft_net::check_resolve(self.cx, &name).is_err() {
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

/// What a guest's response future resolves to.
type Sent = wasmtime_wasi_http::Result<(
    http::Response<WasiBody>,
    Box<dyn Future<Output = Result<(), HttpError>> + Send>,
)>;

/// The `wasi:http` hooks of one call.
pub(crate) struct HttpGuard {
    cx: CallContext,
    granted: bool,
}

impl HttpGuard {
    /// Hooks for a call in `cx`; `granted` is whether the entry imported `wasi:http`.
    pub(crate) fn new(cx: CallContext, granted: bool) -> HttpGuard {
        HttpGuard { cx, granted }
    }
}

impl WasiHttpHooks for HttpGuard {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> Box<dyn Future<Output = Sent> + Send> {
        let cx = self.cx.clone();
        let granted = self.granted;
        Box::new(async move {
            let checked = if granted {
                weft_net::check_http_request(&cx, request.uri()).await
            } else {
                Err(weft_core::Error::permission_denied(
                    "the entry does not import wasi:http",
                ))
            };
            if let Err(e) = checked {
                tracing::debug!(url = %request.uri(), "outgoing wasi:http request denied: {e}");
                return Err(HttpError::HttpRequestDenied);
            }
            Box::into_pin(default_hooks().send_request(request, options, fut)).await
        })
    }
}

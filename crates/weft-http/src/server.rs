//! One `http.service`: its listener, its connections and its route table.
//!
//! The server runs as the process of a supervised service (the runtime's supervisor
//! starts, restarts and stops it like any `process.service`): [`Server::run`] accepts
//! until the process is asked to stop (CANCEL), then stops accepting and lets in-flight
//! requests finish within the grace period; a terminated process drops every connection.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use http::{HeaderValue, StatusCode, header};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::server::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use parking_lot::{Mutex, RwLock};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use weft_core::{BoxFuture, CallContext, EntryId, Error, ErrorKind, Result, Value};
use weft_runtime::{EventKind, Runtime};

use crate::config::ServiceConfig;
use crate::mux::{Match, Mux};
use crate::pipeline::{
    BoxError, Handler, HttpRequest, HttpResponse, RequestFrame, RouteInfo, status_only, text_error,
};

/// How long a stop waits for in-flight requests when the CANCEL carries no grace.
const DEFAULT_GRACE: Duration = Duration::from_secs(30);

/// One `http.service`.
pub struct Server {
    id: EntryId,
    config: ServiceConfig,
    tls: Option<tokio_rustls::TlsAcceptor>,
    mux: RwLock<Arc<Mux<Target>>>,
    /// A listener bound at boot, for the first start.
    bound: Mutex<Option<std::net::TcpListener>>,
    local_addr: Mutex<Option<SocketAddr>>,
    /// Whether a router lists a relay (`websocket_relay`, `sse_relay`): its HTTP/1.1
    /// connections then serve upgrades, and its requests carry the stop signal.
    relays: AtomicBool,
    /// True once the server stops: relayed connections and upgradable connections
    /// (which hyper-util's graceful watcher cannot watch) end on it.
    stopping: tokio::sync::watch::Sender<bool>,
}

/// What a route-table entry serves.
pub(crate) enum Target {
    /// An endpoint, inside its router's middleware.
    Route {
        /// The route, for the request's extensions.
        info: RouteInfo,
        /// The router middleware around the post middleware around the endpoint.
        handler: Handler,
        /// The router middleware around the automatic `OPTIONS` 204.
        options: Handler,
    },
    /// A static mount, inside its middleware.
    Mount(Handler),
}

impl Server {
    /// A server for `config`, not listening yet, with an empty route table.
    pub(crate) fn new(
        id: EntryId,
        config: ServiceConfig,
        tls: Option<tokio_rustls::TlsAcceptor>,
    ) -> Server {
        Server {
            id,
            config,
            tls,
            mux: RwLock::new(Arc::new(Mux::empty())),
            bound: Mutex::new(None),
            local_addr: Mutex::new(None),
            relays: AtomicBool::new(false),
            stopping: tokio::sync::watch::Sender::new(false),
        }
    }

    /// The entry id.
    pub fn id(&self) -> &EntryId {
        &self.id
    }

    /// The address it listens on (bound at boot or at start; `None` once stopped).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        *self.local_addr.lock()
    }

    /// Binds the listener now (at boot), so that a taken port fails the boot.
    pub(crate) fn bind_early(&self) -> Result<()> {
        let listener = self.bind()?;
        *self.bound.lock() = Some(listener);
        Ok(())
    }

    /// Swaps in a new route table; requests in flight finish on the old one.
    pub(crate) fn set_mux(&self, mux: Mux<Target>) {
        *self.mux.write() = Arc::new(mux);
    }

    /// Says whether a router of the server lists a relay (connections accepted from now
    /// on serve upgrades).
    pub(crate) fn set_relays(&self, on: bool) {
        self.relays.store(on, Ordering::Relaxed);
    }

    /// Binds `addr`; the error names the address.
    fn bind(&self) -> Result<std::net::TcpListener> {
        let addr = crate::config::parse_addr(&self.config.addr)?;
        let listener = std::net::TcpListener::bind(&addr).map_err(|e| {
            Error::new(
                ErrorKind::Unavailable,
                format!("cannot listen on {}: {e}", self.config.addr),
            )
        })?;
        listener
            .set_nonblocking(true)
            .map_err(|e| Error::internal(format!("cannot listen on {}: {e}", self.config.addr)))?;
        *self.local_addr.lock() = listener.local_addr().ok();
        Ok(listener)
    }

    /// Serves until the process `cx` runs as is cancelled (Ok) or the listener fails.
    pub(crate) async fn run(self: Arc<Self>, rt: Arc<Runtime>, cx: CallContext) -> Result<Value> {
        let early = self.bound.lock().take();
        let listener = match early {
            Some(l) => l,
            None => self.bind()?,
        };
        let listener = TcpListener::from_std(listener)
            .map_err(|e| Error::internal(format!("cannot listen on {}: {e}", self.config.addr)))?;
        let local = listener.local_addr().ok();
        tracing::info!(service = %self.id, addr = %local.map_or_else(|| self.config.addr.clone(), |a| a.to_string()),
            "http.service listening");
        let mut events = cx
            .pid()
            .and_then(|pid| rt.processes.get(pid))
            .and_then(|p| p.take_receivers())
            .map(|r| r.events);
        let base = cx.clone();
        self.stopping.send_replace(false);
        let graceful = GracefulShutdown::new();
        let mut conns = JoinSet::new();
        let protocols = self.protocols();
        let grace = loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        let _ = stream.set_nodelay(true);
                        let conn = Connection {
                            server: self.clone(),
                            base: base.clone(),
                            peer,
                        };
                        conns.spawn(conn.serve(stream, protocols.clone(), graceful.watcher()));
                    }
                    Err(e) => {
                        // Out of descriptors and the like: wait a moment rather than spin.
                        tracing::warn!(service = %self.id, error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                },
                event = next_event(&mut events) => {
                    if let EventKind::Cancel(grace) = event {
                        break grace.unwrap_or(DEFAULT_GRACE);
                    }
                }
                Some(_) = conns.join_next(), if !conns.is_empty() => {}
            }
        };
        drop(listener);
        *self.local_addr.lock() = None;
        tracing::info!(service = %self.id, "http.service stopping; draining requests");
        self.stopping.send_replace(true);
        let relays = self.relays.load(Ordering::Relaxed);
        let drained = tokio::time::timeout(grace, async {
            graceful.shutdown().await;
            // Upgradable connections drain on the stop signal, outside the watcher.
            while relays && conns.join_next().await.is_some() {}
        });
        if drained.await.is_err() {
            tracing::warn!(service = %self.id, "requests still running after the grace period were dropped");
        }
        conns.shutdown().await;
        Ok(Value::Nil)
    }

    /// The connection settings: HTTP/1.1 with the head timeout (which also closes idle
    /// keep-alive connections) and the head size limit (431 beyond it); HTTP/2 where
    /// TLS negotiates it.
    fn protocols(&self) -> Protocols {
        let mut http1 = http1::Builder::new();
        http1
            .timer(TokioTimer::new())
            .header_read_timeout(self.config.timeouts.head())
            .max_buf_size(self.config.max_header_bytes);
        let mut http2 = http2::Builder::new(TokioExecutor::new());
        http2
            .timer(TokioTimer::new())
            .keep_alive_interval(self.config.timeouts.idle)
            .max_header_list_size(u32::try_from(self.config.max_header_bytes).unwrap_or(u32::MAX));
        Protocols { http1, http2 }
    }

    /// Routes one request through the current table.
    fn dispatch(&self, req: HttpRequest) -> BoxFuture<HttpResponse> {
        match self.next(req) {
            Next::Call(handler, req) => Box::pin(crate::pipeline::call(handler, req)),
            Next::Respond(res) => Box::pin(std::future::ready(res)),
        }
    }

    /// What the table says to do with a request.
    fn next(&self, mut req: HttpRequest) -> Next {
        let mux = self.mux.read().clone();
        let matched = mux.route(req.method().as_str(), req.uri().path(), req.uri().query());
        let res = match matched {
            Match::Found {
                handler: Target::Route { info, handler, .. },
                params,
            } => {
                let mut info = info.clone();
                info.params = params;
                req.extensions_mut().insert(info);
                return Next::Call(handler.clone(), req);
            }
            Match::Found {
                handler: Target::Mount(handler),
                ..
            } => return Next::Call(handler.clone(), req),
            Match::AutoOptions {
                handler: Target::Route { info, options, .. },
            } => {
                req.extensions_mut().insert(info.clone());
                return Next::Call(options.clone(), req);
            }
            Match::AutoOptions { .. } => status_only(StatusCode::NO_CONTENT),
            Match::Redirect { location } => {
                let mut res = status_only(StatusCode::MOVED_PERMANENTLY);
                if let Ok(value) = HeaderValue::try_from(location) {
                    res.headers_mut().insert(header::LOCATION, value);
                }
                res
            }
            Match::MethodNotAllowed { allow } => {
                let mut res = text_error(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
                let list = allow.iter().collect::<Vec<_>>().join(", ");
                if let Ok(value) = HeaderValue::try_from(list) {
                    res.headers_mut().insert(header::ALLOW, value);
                }
                res
            }
            Match::NotFound => text_error(StatusCode::NOT_FOUND, "404 page not found"),
        };
        Next::Respond(res)
    }
}

/// A routed request: through a handler, or answered by the table itself.
enum Next {
    Call(Handler, HttpRequest),
    Respond(HttpResponse),
}

/// The next event of the server's process; never, when it has none to read.
async fn next_event(
    events: &mut Option<tokio::sync::mpsc::UnboundedReceiver<weft_runtime::Event>>,
) -> EventKind {
    if let Some(rx) = events
        && let Some(event) = rx.recv().await
    {
        return event.kind;
    }
    std::future::pending().await
}

/// The protocol settings of a server's connections. Plain TCP is HTTP/1.1 (as Go's
/// server: no cleartext HTTP/2), whose connection state is a fraction of the
/// auto-detecting one's; TLS offers HTTP/2 by ALPN.
#[derive(Clone)]
struct Protocols {
    http1: http1::Builder,
    http2: http2::Builder<TokioExecutor>,
}

/// One accepted connection.
struct Connection {
    server: Arc<Server>,
    base: CallContext,
    peer: SocketAddr,
}

impl Connection {
    /// Serves the connection until it closes: HTTP/1.1 on plain TCP; after the TLS
    /// handshake, what ALPN chose. The TLS path is boxed so that the state of a plain
    /// connection (the task every idle keep-alive connection holds) stays small.
    async fn serve(
        self,
        stream: tokio::net::TcpStream,
        protocols: Protocols,
        watcher: hyper_util::server::graceful::Watcher,
    ) {
        let peer = self.peer;
        let result = match self.server.tls.clone() {
            None if self.server.relays.load(Ordering::Relaxed) => {
                let stop = self.server.stopping.subscribe();
                Box::pin(self.serve_upgradable(TokioIo::new(stream), protocols, stop)).await
            }
            None => {
                let service = self.service();
                let conn = protocols
                    .http1
                    .serve_connection(TokioIo::new(stream), service);
                watcher.watch(conn).await
            }
            Some(acceptor) => Box::pin(self.serve_tls(acceptor, stream, protocols, watcher)).await,
        };
        if let Err(e) = result {
            tracing::debug!(%peer, error = %e, "connection ended with an error");
        }
    }

    /// The TLS handshake (within the head timeout), then HTTP/2 or HTTP/1.1.
    async fn serve_tls(
        self,
        acceptor: tokio_rustls::TlsAcceptor,
        stream: tokio::net::TcpStream,
        protocols: Protocols,
        watcher: hyper_util::server::graceful::Watcher,
    ) -> std::result::Result<(), hyper::Error> {
        let head = self.server.config.timeouts.head();
        let tls = match tokio::time::timeout(head, acceptor.accept(stream)).await {
            Ok(Ok(tls)) => tls,
            Ok(Err(e)) => {
                tracing::debug!(peer = %self.peer, error = %e, "TLS handshake failed");
                return Ok(());
            }
            Err(_) => return Ok(()),
        };
        let service = self.service();
        if tls.get_ref().1.alpn_protocol() == Some(b"h2") {
            let conn = protocols.http2.serve_connection(TokioIo::new(tls), service);
            watcher.watch(conn).await
        } else if self.server.relays.load(Ordering::Relaxed) {
            drop(service);
            let stop = self.server.stopping.subscribe();
            self.serve_upgradable(TokioIo::new(tls), protocols, stop)
                .await
        } else {
            let conn = protocols.http1.serve_connection(TokioIo::new(tls), service);
            watcher.watch(conn).await
        }
    }

    /// HTTP/1.1 with upgrades (the WebSocket relay): hyper-util's graceful watcher
    /// cannot watch such a connection, so it shuts down gracefully on the server's stop
    /// signal itself.
    async fn serve_upgradable<I>(
        self,
        io: I,
        protocols: Protocols,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) -> std::result::Result<(), hyper::Error>
    where
        I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        let service = self.service();
        let conn = protocols
            .http1
            .serve_connection(io, service)
            .with_upgrades();
        let mut conn = std::pin::pin!(conn);
        tokio::select! {
            result = conn.as_mut() => return result,
            _ = stop.wait_for(|stopping| *stopping) => {}
        }
        conn.as_mut().graceful_shutdown();
        conn.await
    }

    /// The per-request service: each request gets the connection's frame and goes
    /// through the server's current table.
    fn service(
        &self,
    ) -> impl hyper::service::Service<
        http::Request<Incoming>,
        Response = HttpResponse,
        Error = std::convert::Infallible,
        Future = impl Future<Output = std::result::Result<HttpResponse, std::convert::Infallible>>
                 + Send
                 + 'static,
    > + Clone
    + Send
    + 'static {
        let server = self.server.clone();
        let stopping = server
            .relays
            .load(Ordering::Relaxed)
            .then(|| crate::relay::Stopping(server.stopping.subscribe()));
        let frame = RequestFrame {
            cx: self.base.clone(),
            remote_addr: self.peer.to_string().into(),
            peer: self.peer,
            server: server.id.clone(),
        };
        hyper::service::service_fn(move |req: http::Request<Incoming>| {
            let mut req = req.map(|b| b.map_err(|e| -> BoxError { Box::new(e) }).boxed_unsync());
            req.extensions_mut().insert(frame.clone());
            if let Some(stopping) = &stopping {
                req.extensions_mut().insert(stopping.clone());
            }
            let response = server.dispatch(req);
            async move { Ok::<_, std::convert::Infallible>(response.await) }
        })
    }
}

//! The `http.*` kinds and the state they fill ([`HttpServers`]), with the kind handler
//! ([`HttpHandler`]).
//!
//! Entries are validated as they are applied (a router waits for its server, an endpoint
//! for its router, a static mount for its server and its fs); the route tables are built
//! once every entry is in ([`KindHandler::commit`]), so every conflict is reported at
//! boot on the entry at fault, and each server swaps its new table in whole.
//!
//! An `http.service` becomes a supervised service whose process is the server itself,
//! hosted by the service entry (so its pid is `{<service id>|…}` as in Wippy).

use std::collections::BTreeMap;
use std::sync::{Arc, Weak};

use http::StatusCode;
use parking_lot::Mutex;
use weft_core::{BoxFuture, CallContext, EntryId, Error, Result, Value};
use weft_fs::FsRegistry;
use weft_registry::{BootMode, Entry, KindHandler, Restorable, Staged, Undo};
use weft_runtime::{Lifecycle, ProcessFactory, Runtime, ServiceSpec};

use crate::config::{EndpointConfig, RouterConfig, ServiceConfig, StaticConfig};
use crate::endpoint::endpoint_handler;
use crate::middleware::{HttpMetrics, MiddlewareContext, Middlewares};
use crate::mux::{MuxBuilder, MuxError, Params};
use crate::pipeline::{RouteInfo, handler_fn, status_only};
use crate::server::{Server, Target};
use crate::static_files::static_handler;

/// The HTTP servers of an app and the routing they serve.
pub struct HttpServers {
    rt: Weak<Runtime>,
    fs: Arc<FsRegistry>,
    stores: Arc<weft_store::StoreRegistry>,
    middlewares: Middlewares,
    metrics: Arc<HttpMetrics>,
    state: Mutex<State>,
}

/// The applied entries, by id (cloned whole before a live change, to undo it).
#[derive(Clone, Default)]
pub struct State {
    servers: BTreeMap<EntryId, Arc<Server>>,
    routers: BTreeMap<EntryId, RouterConfig>,
    endpoints: BTreeMap<EntryId, EndpointConfig>,
    statics: BTreeMap<EntryId, StaticConfig>,
}

impl HttpServers {
    /// The HTTP capability of the runtime `rt`, serving files from `fs` and validating
    /// tokens with `stores`.
    pub fn new(
        rt: &Arc<Runtime>,
        fs: Arc<FsRegistry>,
        stores: Arc<weft_store::StoreRegistry>,
    ) -> Arc<HttpServers> {
        rt.processes.add_host_kind("http.service");
        Arc::new(HttpServers {
            rt: Arc::downgrade(rt),
            fs,
            stores,
            middlewares: Middlewares::builtin(),
            metrics: Arc::new(HttpMetrics::new()),
            state: Mutex::new(State::default()),
        })
    }

    /// The app's HTTP metrics (the `metrics` middleware records there).
    pub fn metrics(&self) -> Arc<HttpMetrics> {
        self.metrics.clone()
    }

    /// The server `id`.
    pub fn server(&self, id: &str) -> Option<Arc<Server>> {
        self.state
            .lock()
            .servers
            .values()
            .find(|s| s.id().as_str() == id)
            .cloned()
    }

    /// Validates one entry and stages recording it (the route tables are rebuilt by
    /// [`KindHandler::commit`] once the change is published).
    fn stage(self: &Arc<Self>, entry: &Entry, mode: BootMode) -> Result<Staged> {
        let id = entry.id.clone();
        let made = match entry.kind.as_str() {
            "http.service" => return self.stage_service(entry, mode),
            "http.router" => {
                let router = RouterConfig::from_entry(entry)?;
                self.require_server(&router.server)?;
                self.middlewares
                    .check(&router.middleware)
                    .map_err(|e| e.in_field("middleware"))?;
                self.middlewares
                    .check(&router.post_middleware)
                    .map_err(|e| e.in_field("post_middleware"))?;
                Made::Router(router)
            }
            "http.endpoint" => {
                let endpoint = EndpointConfig::from_entry(entry)?;
                if !self.state.lock().routers.contains_key(&endpoint.router) {
                    return Err(
                        Error::not_found(format!("router not found: {}", endpoint.router))
                            .in_field("meta.router"),
                    );
                }
                Made::Endpoint(endpoint)
            }
            "http.static" => {
                let mount = StaticConfig::from_entry(entry)?;
                self.require_server(&mount.server)?;
                let rt = Runtime::upgrade(&self.rt)?;
                self.fs
                    .get(&rt.system_context(), mount.fs.as_str())
                    .map_err(|e| {
                        Error::not_found(format!("filesystem not found: {} ({e})", mount.fs))
                            .in_field("fs")
                    })?;
                self.middlewares
                    .check(&mount.middleware)
                    .map_err(|e| e.in_field("middleware"))?;
                Made::Static(mount)
            }
            other => {
                return Err(
                    Error::invalid(format!("unsupported entry kind: {other}")).in_field("kind")
                );
            }
        };
        Ok(self.publish(move |state| match made {
            Made::Router(r) => drop(state.routers.insert(id, r)),
            Made::Endpoint(e) => drop(state.endpoints.insert(id, e)),
            Made::Static(s) => drop(state.statics.insert(id, s)),
        }))
    }

    /// Staged: `change` made to the recorded entries, undone by putting them back.
    fn publish(self: &Arc<Self>, change: impl FnOnce(&mut State) + Send + 'static) -> Staged {
        Staged::on(self.clone(), move |me| change(&mut me.state.lock()))
    }

    /// Stages removing an entry: its routes go with the next route tables; a removed
    /// `http.service` stops.
    fn stage_remove(self: &Arc<Self>, entry: &Entry) -> Result<Staged> {
        let id = entry.id.clone();
        let recorded = self.publish({
            let id = id.clone();
            move |state| {
                state.servers.remove(&id);
                state.routers.remove(&id);
                state.endpoints.remove(&id);
                state.statics.remove(&id);
            }
        });
        if entry.kind != "http.service" {
            return Ok(recorded);
        }
        let rt = Runtime::upgrade(&self.rt)?;
        Ok(Staged::new(move || {
            let undo = [recorded.publish(), rt.services.remove(&id), rt.withdraw(id)];
            Undo::new(move || undo.into_iter().rev().for_each(Undo::run))
        }))
    }

    /// An `http.service`: its config, TLS and lifecycle checked; a supervised service
    /// registered whose process is the server. In a run, a new server that starts with
    /// the app binds its address now, so that a taken port fails the boot (a changed one
    /// binds when its service restarts, after the old server let the address go).
    fn stage_service(self: &Arc<Self>, entry: &Entry, mode: BootMode) -> Result<Staged> {
        let config = ServiceConfig::from_entry(entry)?;
        let lifecycle = Lifecycle::of(entry)?;
        let rt = Runtime::upgrade(&self.rt)?;
        let tls = match &config.tls {
            Some(files) => {
                Some(crate::tls::acceptor(files, &rt.root).map_err(|e| e.in_field("tls"))?)
            }
            None => None,
        };
        let server = Arc::new(Server::new(entry.id.clone(), config, tls));
        let id = entry.id.clone();
        let new = !self.state.lock().servers.contains_key(&id);
        if mode == BootMode::Run && lifecycle.auto_start && new {
            server.bind_early().map_err(|e| e.in_field("addr"))?;
        }
        let process = Arc::new(ServerProcess {
            server: server.clone(),
            rt: self.rt.clone(),
        });
        let spec = ServiceSpec {
            id: id.clone(),
            process: id.clone(),
            host: id.clone(),
            input: Vec::new(),
            lifecycle,
        };
        let recorded = self.publish({
            let id = id.clone();
            move |state| drop(state.servers.insert(id, server))
        });
        Ok(Staged::new(move || {
            let undo = [
                recorded.publish(),
                rt.publish_factory(id, process),
                rt.services.replace(spec),
            ];
            Undo::new(move || undo.into_iter().rev().for_each(Undo::run))
        }))
    }

    /// NotFound (boot retries) until the server `id` is applied.
    fn require_server(&self, id: &EntryId) -> Result<()> {
        if self.state.lock().servers.contains_key(id) {
            Ok(())
        } else {
            Err(Error::not_found(format!("server not found: {id}")).in_field("meta.server"))
        }
    }

    /// Builds every server's route table; each problem is reported on its entry.
    fn build_all(&self) -> Vec<(EntryId, Error)> {
        let state = self.state.lock();
        let mut errors = Vec::new();
        let cx = MiddlewareContext::new(self.rt.clone(), self.fs.clone())
            .with_metrics(self.metrics.clone())
            .with_stores(self.stores.clone());
        for (server_id, server) in &state.servers {
            match self.build(&state, server_id, &cx) {
                Ok(builder) => match builder.build() {
                    Ok(mux) => {
                        server.set_relays(state.routers.values().any(|r| {
                            &r.server == server_id
                                && r.middleware
                                    .iter()
                                    .chain(&r.post_middleware)
                                    .any(|m| crate::middleware::RELAYS.contains(&m.as_str()))
                        }));
                        server.set_mux(mux)
                    }
                    Err(problems) => errors.extend(problems.into_iter().map(mux_error)),
                },
                Err(mut problems) => errors.append(&mut problems),
            }
        }
        errors
    }

    /// The route table of one server: its routers' endpoints and its mounts.
    fn build(
        &self,
        state: &State,
        server_id: &EntryId,
        cx: &MiddlewareContext,
    ) -> std::result::Result<MuxBuilder<Target>, Vec<(EntryId, Error)>> {
        let mut builder = MuxBuilder::new();
        let mut errors = Vec::new();
        for (router_id, router) in state.routers.iter().filter(|(_, r)| &r.server == server_id) {
            let handle = builder.router(router_id.as_str(), router.prefix.clone());
            let chains = match self.router_chains(router, cx) {
                Ok(chains) => chains,
                Err(e) => {
                    errors.push((router_id.clone(), e));
                    continue;
                }
            };
            for (endpoint_id, endpoint) in state
                .endpoints
                .iter()
                .filter(|(_, e)| &e.router == router_id)
            {
                let target = self.route_target(router, &chains, endpoint_id, endpoint);
                builder.route(
                    handle,
                    endpoint_id.as_str(),
                    endpoint.method.clone(),
                    endpoint.path.clone(),
                    target,
                );
            }
        }
        for (mount_id, mount) in state.statics.iter().filter(|(_, s)| &s.server == server_id) {
            match self.mount_target(mount, cx) {
                Ok(target) => {
                    builder.mount(mount_id.as_str(), mount.path.clone(), target);
                }
                Err(e) => errors.push((mount_id.clone(), e)),
            }
        }
        if errors.is_empty() {
            Ok(builder)
        } else {
            Err(errors)
        }
    }

    /// A router's middleware, made once for all its routes (so that a rate limiter's
    /// buckets are the router's, as in Wippy); the error's field names the chain.
    fn router_chains(&self, router: &RouterConfig, cx: &MiddlewareContext) -> Result<Chains> {
        let outer = self
            .middlewares
            .layers(&router.middleware, &router.options, cx)
            .map_err(|e| e.in_field("middleware"))?;
        let post = self
            .middlewares
            .layers(&router.post_middleware, &router.post_options, cx)
            .map_err(|e| {
                e.context("failed to create post-match middleware")
                    .in_field("post_middleware")
            })?;
        Ok(Chains { outer, post })
    }

    /// An endpoint inside its router's chains, with its automatic `OPTIONS` inside the
    /// router's `middleware` only.
    fn route_target(
        &self,
        router: &RouterConfig,
        chains: &Chains,
        endpoint_id: &EntryId,
        endpoint: &EndpointConfig,
    ) -> Target {
        let call = endpoint_handler(self.rt.clone(), endpoint.func.clone());
        let handler = Middlewares::wrap(&chains.outer, Middlewares::wrap(&chains.post, call));
        let no_content = handler_fn(|_req| async { status_only(StatusCode::NO_CONTENT) });
        let options = Middlewares::wrap(&chains.outer, no_content);
        let prefix = router.prefix.trim_end_matches('/');
        Target::Route {
            info: RouteInfo {
                endpoint: endpoint_id.clone(),
                func: endpoint.func.clone(),
                pattern: format!("{} {prefix}{}", endpoint.method, endpoint.path).into(),
                params: Params::default(),
            },
            handler,
            options,
        }
    }

    /// A static mount inside its middleware.
    fn mount_target(&self, mount: &StaticConfig, cx: &MiddlewareContext) -> Result<Target> {
        let rt = Runtime::upgrade(&self.rt)?;
        let root = self
            .fs
            .get(&rt.system_context(), mount.fs.as_str())
            .map_err(|e| e.in_field("fs"))?;
        let files = static_handler(root, mount);
        let handler = self
            .middlewares
            .chain(&mount.middleware, &mount.options, cx, files)
            .map_err(|e| e.in_field("middleware"))?;
        Ok(Target::Mount(handler))
    }
}

impl Restorable for HttpServers {
    type Saved = State;

    fn save(&self) -> State {
        self.state.lock().clone()
    }

    fn restore(&self, saved: State) {
        *self.state.lock() = saved;
    }
}

/// What a router, endpoint or static entry records.
enum Made {
    /// An `http.router`.
    Router(RouterConfig),
    /// An `http.endpoint`.
    Endpoint(EndpointConfig),
    /// An `http.static`.
    Static(StaticConfig),
}

/// A router's middleware layers: `middleware` (outer) and `post_middleware`.
struct Chains {
    outer: Vec<crate::middleware::Layer>,
    post: Vec<crate::middleware::Layer>,
}

/// A route-table problem, on the entry that owns the pattern at fault.
fn mux_error(e: MuxError) -> (EntryId, Error) {
    let (owner, field) = match &e {
        MuxError::Invalid { owner, .. } | MuxError::Conflict { owner, .. } => (owner, "path"),
        MuxError::Prefix { owner, .. } | MuxError::DuplicatePrefix { owner, .. } => {
            (owner, "prefix")
        }
        MuxError::DuplicateMount { owner, .. } => (owner, "path"),
    };
    let id = EntryId::parse(owner).unwrap_or_else(|_| EntryId::resolve(owner, ""));
    let kind_error = match &e {
        MuxError::Conflict { .. } => Error::new(weft_core::ErrorKind::Conflict, e.to_string()),
        MuxError::DuplicatePrefix { .. } | MuxError::DuplicateMount { .. } => {
            Error::new(weft_core::ErrorKind::AlreadyExists, e.to_string())
        }
        _ => Error::invalid(e.to_string()),
    };
    (id, kind_error.in_field(field))
}

/// The process of an `http.service`: the server itself.
struct ServerProcess {
    server: Arc<Server>,
    rt: Weak<Runtime>,
}

impl ProcessFactory for ServerProcess {
    fn run(&self, cx: CallContext, _args: Vec<Value>) -> BoxFuture<Result<Value>> {
        let server = self.server.clone();
        let rt = self.rt.clone();
        Box::pin(async move {
            let rt = Runtime::upgrade(&rt)?;
            server.run(rt, cx).await
        })
    }
}

/// The kind handler of `http.service`, `http.router`, `http.endpoint` and `http.static`.
pub struct HttpHandler(Arc<HttpServers>);

impl HttpHandler {
    /// A handler filling `servers`.
    pub fn new(servers: &Arc<HttpServers>) -> HttpHandler {
        HttpHandler(servers.clone())
    }
}

impl KindHandler for HttpHandler {
    fn kinds(&self) -> &[&'static str] {
        &[
            "http.service",
            "http.router",
            "http.endpoint",
            "http.static",
        ]
    }

    fn stage(&self, entry: Arc<Entry>, mode: BootMode) -> BoxFuture<Result<Staged>> {
        let staged = self.0.stage(&entry, mode);
        Box::pin(async move { staged })
    }

    fn stage_remove(&self, entry: Arc<Entry>) -> Result<Staged> {
        self.0.stage_remove(&entry)
    }

    fn commit(&self, _mode: BootMode) -> Vec<(EntryId, Error)> {
        self.0.build_all()
    }
}

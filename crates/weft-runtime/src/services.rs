//! Supervised services: the `process.service` kind and the [`Services`] supervisor
//! (reference §1.8, §2.5).
//!
//! - [`ServiceHandler`]: validates a `process.service` entry (its process and host must be
//!   registered; boot defers it until they are) and records its [`ServiceSpec`].
//! - [`Lifecycle`]: the `lifecycle` block shared by every supervised kind, with its
//!   [`RestartPolicy`]; the host kinds validate theirs with it too.
//! - [`Services`]: starts the `auto_start` services, restarts crashed ones with
//!   exponential backoff, and stops them all with CANCEL and a deadline.
//!
//! A service's process is an ordinary process of the table: it has a pid and a mailbox,
//! and others can message, monitor or link it. One supervisor task per service runs it
//! and awaits its end. An error result is a crash and is restarted after the backoff
//! delay; an Ok result is a normal exit and is not restarted.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Weak};
use std::time::Duration;

use parking_lot::{Mutex, RwLock};
use serde::Deserialize;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use weft_core::{Actor, BoxFuture, EntryId, Error, Map, Result, Scope, Value};
use weft_registry::{Entry, KindHandler, duration_of};

use crate::process::Pid;
use crate::{Runtime, Spawn};

/// Accepts `process.service` entries and records them in the runtime's [`Services`].
pub struct ServiceHandler {
    rt: Weak<Runtime>,
}

impl ServiceHandler {
    /// A handler registering into `rt.services`.
    pub fn new(rt: &Arc<Runtime>) -> ServiceHandler {
        ServiceHandler {
            rt: Arc::downgrade(rt),
        }
    }
}

impl KindHandler for ServiceHandler {
    fn kinds(&self) -> &[&'static str] {
        &["process.service"]
    }

    fn apply(&self, entry: Arc<Entry>) -> BoxFuture<Result<()>> {
        let applied = ServiceSpec::from_entry(&entry).and_then(|spec| {
            let rt = Runtime::upgrade(&self.rt)?;
            check_targets(&rt, &spec)?;
            security_of(&rt, &spec)?;
            rt.services.register(spec);
            Ok(())
        });
        Box::pin(async move { applied })
    }
}

/// The host must be a registered `process.host` and the process a registered process
/// entry; either not there yet is NotFound, so boot retries after the others.
fn check_targets(rt: &Runtime, spec: &ServiceSpec) -> Result<()> {
    match rt.registry.get(spec.host.as_str()) {
        None => {
            return Err(Error::not_found(format!("host not found: {}", spec.host)).in_field("host"));
        }
        Some(host) if host.kind != "process.host" => {
            return Err(Error::invalid(format!(
                "{} is a {}, not a process.host",
                spec.host, host.kind
            ))
            .in_field("host"));
        }
        Some(_) => {}
    }
    if rt.factories.get(spec.process.as_str()).is_some() {
        return Ok(());
    }
    match rt.registry.get(spec.process.as_str()) {
        Some(e) if !e.kind.starts_with("process.") => Err(Error::invalid(format!(
            "{} is a {}, not a process",
            spec.process, e.kind
        ))
        .in_field("process")),
        _ => Err(
            Error::not_found(format!("process not found: {}", spec.process)).in_field("process"),
        ),
    }
}

/// A validated `process.service` entry.
#[derive(Clone, Debug)]
pub struct ServiceSpec {
    /// The service entry's id.
    pub id: EntryId,
    /// The process entry it runs.
    pub process: EntryId,
    /// The `process.host` it runs on.
    pub host: EntryId,
    /// The process arguments.
    pub input: Vec<Value>,
    /// Start and restart settings.
    pub lifecycle: Lifecycle,
}

/// The fields of a `process.service` entry; unknown keys are ignored.
#[derive(Deserialize)]
struct RawService {
    process: String,
    host: String,
    #[serde(default)]
    input: Value,
    #[serde(default)]
    lifecycle: Option<RawLifecycle>,
}

impl ServiceSpec {
    /// Decodes and validates a `process.service` entry; errors name the field.
    pub fn from_entry(entry: &Entry) -> Result<ServiceSpec> {
        let raw: RawService = entry.decode().map_err(Error::from)?;
        let ns = entry.id.ns();
        let reference = |text: &str, field: &str| {
            let text = text.trim();
            if text.is_empty() {
                return Err(Error::invalid(format!("{field} is required")).in_field(field));
            }
            Ok(EntryId::resolve(text, ns))
        };
        let process = reference(&raw.process, "process")?;
        let host = reference(&raw.host, "host")?;
        let input = match raw.input {
            Value::Nil => Vec::new(),
            Value::Array(items) => items.as_ref().clone(),
            one => vec![one],
        };
        let lifecycle = Lifecycle::from_raw(raw.lifecycle.unwrap_or_default(), ns)?;
        Ok(ServiceSpec {
            id: entry.id.clone(),
            process,
            host,
            input,
            lifecycle,
        })
    }
}

/// The `lifecycle` block of a supervised entry (reference §1.8).
#[derive(Clone, Debug, PartialEq)]
pub struct Lifecycle {
    /// Start at boot (`auto_start`, default false).
    pub auto_start: bool,
    /// Whether a failed auto-start is fatal (`startup`, default required).
    pub startup: Startup,
    /// Services that must run first (`requires`, alias `depends_on`). Kept, not acted on.
    pub requires: Vec<EntryId>,
    /// How crashes are restarted.
    pub restart: RestartPolicy,
    /// `start_timeout` (default 10s). Kept, not acted on.
    pub start_timeout: Duration,
    /// `stop_timeout` (default 10s). Kept, not acted on.
    pub stop_timeout: Duration,
    /// A run at least this long resets the backoff (`stable_threshold`, default 5s).
    pub stable_threshold: Duration,
    /// The service's actor and scope (`security`), given to its process.
    pub security: Option<ServiceSecurity>,
}

/// Whether a failed auto-start stops the app (`lifecycle.startup`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Startup {
    /// A failed start is fatal.
    Required,
    /// A failed start is logged and retried like a crash.
    Optional,
}

/// The restart policy (`lifecycle.restart`).
#[derive(Clone, Debug, PartialEq)]
pub struct RestartPolicy {
    /// The delay before the first restart (default 1s).
    pub initial_delay: Duration,
    /// The largest delay before jitter (default 90s).
    pub max_delay: Duration,
    /// Each consecutive crash multiplies the delay by this (default 2.0, at least 1).
    pub backoff_factor: f64,
    /// The delay varies by up to ± this fraction (default 0.1, within 0..=1).
    pub jitter: f64,
    /// Consecutive restarts before giving up; 0 restarts forever (default 0).
    pub max_attempts: u32,
}

/// `lifecycle.security`: who the service acts as (reference §1.8).
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceSecurity {
    /// The actor (`actor: {id, meta}`).
    pub actor: Option<ServiceActor>,
    /// Policy ids.
    pub policies: Vec<EntryId>,
    /// Policy group ids.
    pub groups: Vec<EntryId>,
}

/// `lifecycle.security.actor`.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceActor {
    /// The actor id.
    pub id: String,
    /// The actor metadata.
    pub meta: Map,
}

impl Default for Lifecycle {
    fn default() -> Lifecycle {
        Lifecycle {
            auto_start: false,
            startup: Startup::Required,
            requires: Vec::new(),
            restart: RestartPolicy::default(),
            start_timeout: Duration::from_secs(10),
            stop_timeout: Duration::from_secs(10),
            stable_threshold: Duration::from_secs(5),
            security: None,
        }
    }
}

impl Default for RestartPolicy {
    fn default() -> RestartPolicy {
        RestartPolicy {
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(90),
            backoff_factor: 2.0,
            jitter: 0.1,
            max_attempts: 0,
        }
    }
}

/// An entry's `lifecycle` field alone (for kinds that only validate it).
#[derive(Deserialize)]
struct LifecycleOnly {
    #[serde(default)]
    lifecycle: Option<RawLifecycle>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawLifecycle {
    auto_start: bool,
    startup: Option<String>,
    #[serde(alias = "depends_on")]
    requires: Vec<String>,
    restart: Option<RawRestart>,
    start_timeout: Option<GoDuration>,
    stop_timeout: Option<GoDuration>,
    stable_threshold: Option<GoDuration>,
    security: Option<RawSecurity>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawRestart {
    initial_delay: Option<GoDuration>,
    max_delay: Option<GoDuration>,
    backoff_factor: Option<f64>,
    jitter: Option<f64>,
    max_attempts: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawSecurity {
    actor: Option<RawActor>,
    policies: Vec<String>,
    groups: Vec<String>,
}

#[derive(Deserialize)]
struct RawActor {
    id: String,
    #[serde(default)]
    meta: Map,
}

impl Lifecycle {
    /// The `lifecycle` of any supervised entry (default when absent); errors name the field.
    pub fn of(entry: &Entry) -> Result<Lifecycle> {
        let raw: LifecycleOnly = entry.decode().map_err(Error::from)?;
        Lifecycle::from_raw(raw.lifecycle.unwrap_or_default(), entry.id.ns())
    }

    fn from_raw(raw: RawLifecycle, ns: &str) -> Result<Lifecycle> {
        let defaults = Lifecycle::default();
        let startup = match raw.startup.as_deref().map(str::trim) {
            None | Some("") | Some("required") => Startup::Required,
            Some("optional") => Startup::Optional,
            Some(other) => {
                return Err(Error::invalid(format!(
                    "must be \"required\" or \"optional\", got {other:?}"
                ))
                .in_field("lifecycle.startup"));
            }
        };
        let ids = |list: Vec<String>| -> Vec<EntryId> {
            list.iter()
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
                .map(|s| EntryId::resolve(s, ns))
                .collect()
        };
        let security = raw.security.map(|s| ServiceSecurity {
            actor: s.actor.map(|a| ServiceActor {
                id: a.id,
                meta: a.meta,
            }),
            policies: ids(s.policies),
            groups: ids(s.groups),
        });
        let pick = |d: Option<GoDuration>, default: Duration| d.map_or(default, |d| d.0);
        Ok(Lifecycle {
            auto_start: raw.auto_start,
            startup,
            requires: ids(raw.requires),
            restart: RestartPolicy::from_raw(raw.restart.unwrap_or_default())?,
            start_timeout: pick(raw.start_timeout, defaults.start_timeout),
            stop_timeout: pick(raw.stop_timeout, defaults.stop_timeout),
            stable_threshold: pick(raw.stable_threshold, defaults.stable_threshold),
            security,
        })
    }
}

impl RestartPolicy {
    fn from_raw(raw: RawRestart) -> Result<RestartPolicy> {
        let d = RestartPolicy::default();
        let field = |name: &str| format!("lifecycle.restart.{name}");
        let backoff_factor = raw.backoff_factor.unwrap_or(d.backoff_factor);
        if !(backoff_factor >= 1.0 && backoff_factor.is_finite()) {
            return Err(
                Error::invalid(format!("must be at least 1, got {backoff_factor}"))
                    .in_field(field("backoff_factor")),
            );
        }
        let jitter = raw.jitter.unwrap_or(d.jitter);
        if !(0.0..=1.0).contains(&jitter) {
            return Err(
                Error::invalid(format!("must be between 0 and 1, got {jitter}"))
                    .in_field(field("jitter")),
            );
        }
        let max_attempts = match raw.max_attempts {
            None => d.max_attempts,
            Some(n) => u32::try_from(n).map_err(|_| {
                Error::invalid(format!("must be between 0 and {}, got {n}", u32::MAX))
                    .in_field(field("max_attempts"))
            })?,
        };
        Ok(RestartPolicy {
            initial_delay: raw.initial_delay.map_or(d.initial_delay, |v| v.0),
            max_delay: raw.max_delay.map_or(d.max_delay, |v| v.0),
            backoff_factor,
            jitter,
            max_attempts,
        })
    }

    /// The delay before restart number `attempt + 1` after consecutive crashes:
    /// `initial_delay × backoff_factor^attempt`, capped at `max_delay`, then moved by up to
    /// ± `jitter` of itself; `rand` in `0..1` picks where (0.5 = no change).
    pub fn delay(&self, attempt: u32, rand: f64) -> Duration {
        if self.initial_delay.is_zero() {
            return Duration::ZERO;
        }
        let exponent = i32::try_from(attempt).unwrap_or(i32::MAX);
        let grown = self.initial_delay.as_secs_f64() * self.backoff_factor.powi(exponent);
        let capped = grown.min(self.max_delay.as_secs_f64());
        let spread = 1.0 + self.jitter * (2.0 * rand.clamp(0.0, 1.0) - 1.0);
        Duration::try_from_secs_f64(capped * spread).unwrap_or(self.max_delay)
    }
}

/// A duration field: Go duration text (`"1s"`, `"250ms"`) or a number of seconds, read
/// by [`weft_registry::duration_of`].
#[derive(Clone, Copy)]
struct GoDuration(Duration);

impl<'de> Deserialize<'de> for GoDuration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        let value = Value::deserialize(d)?;
        duration_of(&value)
            .map(GoDuration)
            .map_err(D::Error::custom)
    }
}

/// What a service is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceState {
    /// Not started, stopped, or exited normally.
    Stopped,
    /// Its process is running.
    Running,
    /// It crashed and waits for the restart delay.
    Backoff,
    /// It crashed more than `max_attempts` times in a row (or could not start) and was
    /// left stopped.
    Failed,
}

/// A snapshot of a service's state.
#[derive(Clone, Debug)]
pub struct ServiceStatus {
    /// What it is doing.
    pub state: ServiceState,
    /// The pid of its running process.
    pub running_pid: Option<Pid>,
    /// How many times it was restarted.
    pub restarts: u32,
    /// The error of its last crash.
    pub last_error: Option<Error>,
}

impl ServiceStatus {
    fn stopped() -> ServiceStatus {
        ServiceStatus {
            state: ServiceState::Stopped,
            running_pid: None,
            restarts: 0,
            last_error: None,
        }
    }
}

impl fmt::Display for ServiceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ServiceState::Stopped => "stopped",
            ServiceState::Running => "running",
            ServiceState::Backoff => "backoff",
            ServiceState::Failed => "failed",
        })
    }
}

/// The supervisor of a runtime's services.
pub struct Services {
    rt: Weak<Runtime>,
    specs: RwLock<BTreeMap<EntryId, Arc<ServiceSpec>>>,
    supervised: Mutex<HashMap<EntryId, Arc<Supervised>>>,
    /// `Some(grace)` once [`Services::stop_all`] was called: stop, and cancel with `grace`.
    stop: watch::Sender<Option<Duration>>,
}

/// The live state of one started service.
struct Supervised {
    status: Mutex<ServiceStatus>,
    /// When its last process was seen to end.
    ended_at: Mutex<Option<Instant>>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Supervised {
    fn update(&self, change: impl FnOnce(&mut ServiceStatus)) {
        change(&mut self.status.lock());
    }

    fn is_active(&self) -> bool {
        self.task.lock().as_ref().is_some_and(|t| !t.is_finished())
    }
}

impl Services {
    /// An empty supervisor for the runtime behind `rt`.
    pub fn new(rt: Weak<Runtime>) -> Services {
        Services {
            rt,
            specs: RwLock::new(BTreeMap::new()),
            supervised: Mutex::new(HashMap::new()),
            stop: watch::Sender::new(None),
        }
    }

    /// Records a service (replacing one with the same id); it starts with `start_all`.
    pub fn register(&self, spec: ServiceSpec) {
        self.specs.write().insert(spec.id.clone(), Arc::new(spec));
    }

    /// The service `id`.
    pub fn spec(&self, id: &str) -> Option<Arc<ServiceSpec>> {
        self.specs
            .read()
            .values()
            .find(|s| s.id.as_str() == id)
            .cloned()
    }

    /// Every registered service id, sorted.
    pub fn ids(&self) -> Vec<EntryId> {
        self.specs.read().keys().cloned().collect()
    }

    /// Starts every `auto_start` service not already running; returns how many started.
    ///
    /// A `startup: required` service whose process cannot be spawned fails the call (the
    /// services started before it keep running); an optional one is retried with backoff.
    pub async fn start_all(&self) -> Result<usize> {
        let auto: Vec<Arc<ServiceSpec>> = self
            .specs
            .read()
            .values()
            .filter(|s| s.lifecycle.auto_start)
            .cloned()
            .collect();
        let mut started = 0;
        for spec in auto {
            if self.start_spec(spec).await? {
                started += 1;
            }
        }
        Ok(started)
    }

    /// Starts the service `id` (whatever its `auto_start`); Ok if it already runs.
    pub async fn start(&self, id: &str) -> Result<()> {
        let spec = self
            .spec(id)
            .ok_or_else(|| Error::not_found(format!("service not found: {id}")))?;
        self.start_spec(spec).await.map(|_| ())
    }

    /// The state of service `id` (`None` for an unknown id).
    pub fn status(&self, id: &str) -> Option<ServiceStatus> {
        let spec = self.spec(id)?;
        let supervised = self.supervised.lock().get(&spec.id).cloned();
        Some(supervised.map_or_else(ServiceStatus::stopped, |s| s.status.lock().clone()))
    }

    /// Stops every service: no more restarts, CANCEL (with `timeout` as the grace period)
    /// to every running service process, then waits until they are gone or `timeout`
    /// passes and terminates the rest. Returns how many had to be terminated.
    pub async fn stop_all(&self, timeout: Duration) -> usize {
        let deadline = Instant::now() + timeout;
        self.stop.send_replace(Some(timeout));
        let supervised: Vec<(EntryId, Arc<Supervised>)> = self
            .supervised
            .lock()
            .iter()
            .map(|(id, s)| (id.clone(), s.clone()))
            .collect();
        let mut waiting = Vec::new();
        for (id, s) in supervised {
            let task = s.task.lock().take();
            if let Some(task) = task {
                waiting.push((id, s, task));
            }
        }
        let mut terminated = 0;
        for (id, s, mut task) in waiting {
            if tokio::time::timeout_at(deadline, &mut task).await.is_ok() {
                if s.ended_at.lock().is_some_and(|at| at >= deadline) {
                    tracing::warn!(service = %id, "service did not stop in time; terminated");
                    terminated += 1;
                }
                continue;
            }
            terminated += 1;
            self.terminate(&id, &s, task).await;
        }
        terminated
    }

    /// Terminates a service process that ignored CANCEL and awaits its supervisor.
    async fn terminate(&self, id: &EntryId, s: &Supervised, mut task: JoinHandle<()>) {
        let pid = s.status.lock().running_pid.clone();
        tracing::warn!(service = %id, pid = %pid.as_deref().unwrap_or("-"),
            "service did not stop in time; terminating");
        if let (Some(rt), Some(pid)) = (self.rt.upgrade(), &pid)
            && let Err(e) = rt.processes.terminate(&rt.system_context(), pid)
        {
            tracing::debug!(service = %id, %pid, error = %e, "terminate failed");
        }
        if tokio::time::timeout(Duration::from_secs(1), &mut task)
            .await
            .is_err()
        {
            task.abort();
            s.update(|st| {
                st.state = ServiceState::Stopped;
                st.running_pid = None;
            });
        }
    }

    /// Starts `spec` unless it runs; true if it was started now.
    async fn start_spec(&self, spec: Arc<ServiceSpec>) -> Result<bool> {
        let rt = Runtime::upgrade(&self.rt)?;
        if self
            .supervised
            .lock()
            .get(&spec.id)
            .is_some_and(|s| s.is_active())
        {
            return Ok(false);
        }
        if self.stop.borrow().is_some() {
            self.stop.send_replace(None);
        }
        let first = launch(&rt, &spec);
        if let Err(e) = &first {
            tracing::error!(service = %spec.id, process = %spec.process, error = %e,
                "service failed to start");
            if spec.lifecycle.startup == Startup::Required {
                let failed = Arc::new(Supervised {
                    status: Mutex::new(ServiceStatus {
                        state: ServiceState::Failed,
                        last_error: Some(e.clone()),
                        ..ServiceStatus::stopped()
                    }),
                    ended_at: Mutex::new(None),
                    task: Mutex::new(None),
                });
                self.supervised.lock().insert(spec.id.clone(), failed);
                return Err(e.clone().context(format!("service {}", spec.id)));
            }
        }
        let previous = self.supervised.lock().get(&spec.id).cloned();
        let restarts = previous.map_or(0, |p| p.status.lock().restarts);
        let status = match &first {
            Ok(launched) => {
                log_started(&spec, launched, restarts);
                ServiceStatus {
                    state: ServiceState::Running,
                    running_pid: Some(launched.pid.clone()),
                    restarts,
                    last_error: None,
                }
            }
            Err(e) => ServiceStatus {
                state: ServiceState::Backoff,
                running_pid: None,
                restarts,
                last_error: Some(e.clone()),
            },
        };
        let supervised = Arc::new(Supervised {
            status: Mutex::new(status),
            ended_at: Mutex::new(None),
            task: Mutex::new(None),
        });
        let task = tokio::spawn(supervise(
            rt,
            spec.clone(),
            supervised.clone(),
            self.stop.subscribe(),
            first,
        ));
        *supervised.task.lock() = Some(task);
        self.supervised.lock().insert(spec.id.clone(), supervised);
        Ok(true)
    }
}

/// Runs a service until it exits normally, fails for good, or is stopped.
async fn supervise(
    rt: Arc<Runtime>,
    spec: Arc<ServiceSpec>,
    me: Arc<Supervised>,
    mut stop: watch::Receiver<Option<Duration>>,
    first: Result<Launched>,
) {
    let id = &spec.id;
    let policy = &spec.lifecycle.restart;
    let mut next = Some(first);
    let mut failures: u32 = 0;
    loop {
        let first_run = next.is_some();
        let launched = match next.take() {
            Some(l) => l,
            None if stop.borrow().is_some() => {
                me.update(|s| s.state = ServiceState::Stopped);
                return;
            }
            None => launch(&rt, &spec),
        };
        let started = Instant::now();
        let (pid, result) = match launched {
            Err(e) => (None, Err(e)),
            Ok(launched) => {
                let pid = Some(launched.pid.clone());
                if !first_run {
                    log_started(&spec, &launched, me.status.lock().restarts);
                }
                me.update(|s| {
                    s.state = ServiceState::Running;
                    s.running_pid = pid.clone();
                });
                let result = run_until_stopped(&rt, launched, &mut stop).await;
                *me.ended_at.lock() = Some(Instant::now());
                me.update(|s| s.running_pid = None);
                (pid, result)
            }
        };
        let shown = pid.as_deref().unwrap_or("-");
        let error = match result {
            Ok(_) => {
                tracing::info!(service = %id, pid = %shown, "service exited normally");
                me.update(|s| s.state = ServiceState::Stopped);
                return;
            }
            Err(_) if stop.borrow().is_some() => {
                tracing::info!(service = %id, pid = %shown, "service stopped");
                me.update(|s| s.state = ServiceState::Stopped);
                return;
            }
            Err(e) => e,
        };
        if started.elapsed() >= spec.lifecycle.stable_threshold {
            failures = 0;
        }
        if policy.max_attempts > 0 && failures >= policy.max_attempts {
            tracing::error!(service = %id, pid = %shown, error = %error,
                attempts = failures, "service crashed too many times; leaving it stopped");
            me.update(|s| {
                s.state = ServiceState::Failed;
                s.last_error = Some(error);
            });
            return;
        }
        let delay = policy.delay(failures, unit_random());
        failures += 1;
        tracing::warn!(service = %id, pid = %shown, error = %error, attempt = failures,
            delay = ?delay, "service crashed; restarting");
        me.update(|s| {
            s.state = ServiceState::Backoff;
            s.last_error = Some(error);
        });
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = stop_requested(&mut stop) => {}
        }
        if stop.borrow().is_none() {
            me.update(|s| s.restarts += 1);
        }
    }
}

/// Logs that the service's process runs.
fn log_started(spec: &ServiceSpec, launched: &Launched, restarts: u32) {
    let pid = &*launched.pid;
    tracing::info!(service = %spec.id, %pid, restarts, "service started");
}

/// Awaits the process' end; on a stop request, cancels it (with the grace) first.
async fn run_until_stopped(
    rt: &Arc<Runtime>,
    mut launched: Launched,
    stop: &mut watch::Receiver<Option<Duration>>,
) -> Result<Value> {
    tokio::select! {
        result = &mut launched.exit => result,
        grace = stop_requested(stop) => stop_process(rt, launched, grace).await,
    }
}

/// Sends CANCEL with `grace` to a launched process and awaits its end.
async fn stop_process(rt: &Arc<Runtime>, launched: Launched, grace: Duration) -> Result<Value> {
    let pid = &launched.pid;
    if let Err(e) = rt.processes.cancel(&rt.system_context(), pid, Some(grace)) {
        tracing::debug!(%pid, error = %e, "cancel failed");
    }
    launched.exit.await
}

/// Waits until a stop is requested and returns its grace period.
async fn stop_requested(stop: &mut watch::Receiver<Option<Duration>>) -> Duration {
    let grace = stop
        .wait_for(Option::is_some)
        .await
        .map(|grace| grace.unwrap_or_default());
    match grace {
        Ok(grace) => grace,
        Err(_) => std::future::pending().await,
    }
}

/// A service process that was spawned: its pid and its result to come.
struct Launched {
    pid: Pid,
    exit: BoxFuture<Result<Value>>,
}

/// Spawns the service's process through the process table, from the root context, with
/// the service's actor and scope.
fn launch(rt: &Arc<Runtime>, spec: &ServiceSpec) -> Result<Launched> {
    let mut req = Spawn::new(
        spec.process.as_str(),
        spec.host.as_str(),
        spec.input.clone(),
    );
    (req.actor, req.scope) = security_of(rt, spec)?;
    let (pid, exit) = rt.processes.spawn_watched(rt, &rt.system_context(), req)?;
    Ok(Launched { pid, exit })
}

/// The actor and scope of a service's process (`lifecycle.security`).
///
/// The scope holds the listed policies and every policy of the listed groups; it is set
/// whenever the block lists any policy or group, even if none resolves (an empty scope
/// denies everything). A listed policy that is not registered is NotFound naming it (at
/// boot this defers the service until the policy is there).
fn security_of(rt: &Runtime, spec: &ServiceSpec) -> Result<(Option<Actor>, Option<Scope>)> {
    let Some(security) = &spec.lifecycle.security else {
        return Ok((None, None));
    };
    let actor = security
        .actor
        .as_ref()
        .map(|a| Actor::new(a.id.clone(), a.meta.clone()));
    if security.policies.is_empty() && security.groups.is_empty() {
        return Ok((actor, None));
    }
    let mut policies = Vec::new();
    for (i, id) in security.policies.iter().enumerate() {
        let policy = rt.policies.get(id.as_str()).ok_or_else(|| {
            Error::not_found(format!("policy not found: {id}"))
                .in_field(format!("lifecycle.security.policies[{i}]"))
        })?;
        policies.push(policy);
    }
    for group in &security.groups {
        let members = rt.policies.group(group.as_str());
        if members.is_empty() {
            tracing::warn!(service = %spec.id, %group,
                "lifecycle.security group has no policy; it adds nothing to the scope");
        }
        policies.extend(members);
    }
    Ok((actor, Some(Scope::new(policies))))
}

/// A random number in `0..1` for the restart jitter.
fn unit_random() -> f64 {
    use std::hash::BuildHasher;
    let bits =
        std::collections::hash_map::RandomState::new().hash_one(std::time::SystemTime::now());
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

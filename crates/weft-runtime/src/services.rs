//! Supervised services: the `process.service` kind and the [`Services`] supervisor
//! (reference §1.8, §2.5).
//!
//! - the kind and its fields are in `service_spec` ([`ServiceHandler`], [`ServiceSpec`],
//!   [`Lifecycle`]);
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
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use weft_core::{BoxFuture, EntryId, Error, Result, Value};
use weft_registry::Undo;

use crate::process::Pid;
use crate::service_spec::{ServiceSpec, Startup, security_of};
use crate::{Runtime, Spawn};

/// How long a service stopped by a live change (its entry changed or was removed) has
/// to end after CANCEL before it is terminated.
pub const RESTART_GRACE: Duration = Duration::from_secs(5);

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
    /// Live changes restart or stop services one at a time, in the order published.
    changes: Arc<tokio::sync::Mutex<()>>,
    /// True between `start_all` and `stop_all`: a service a live change creates with
    /// `auto_start` starts at once.
    started: std::sync::atomic::AtomicBool,
}

/// The live state of one started service.
struct Supervised {
    status: Mutex<ServiceStatus>,
    /// When its last process was seen to end.
    ended_at: Mutex<Option<Instant>>,
    task: Mutex<Option<JoinHandle<()>>>,
    /// `Some(grace)` once it is to stop: no more restarts, CANCEL with `grace`.
    stop: watch::Sender<Option<Duration>>,
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
            changes: Arc::default(),
            started: Default::default(),
        }
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
        self.started
            .store(true, std::sync::atomic::Ordering::Release);
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
        self.started
            .store(false, std::sync::atomic::Ordering::Release);
        let supervised: Vec<(EntryId, Arc<Supervised>)> = self
            .supervised
            .lock()
            .iter()
            .map(|(id, s)| (id.clone(), s.clone()))
            .collect();
        let mut waiting = Vec::new();
        for (id, s) in supervised {
            s.stop.send_replace(Some(timeout));
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

    /// Records `spec` in place of the service with its id (a live change, or the
    /// boot); a running service is restarted with it in the background (stopped with
    /// [`RESTART_GRACE`], then started), and a new `auto_start` one starts if the
    /// app's services were started. The undo puts the old spec back and restarts the
    /// service again if it was running.
    pub fn replace(&self, spec: ServiceSpec) -> Undo {
        let id = spec.id.clone();
        let auto_start = spec.lifecycle.auto_start;
        let old = self.specs.write().insert(id.clone(), Arc::new(spec));
        let running = self.is_running(&id);
        let started = self.started.load(std::sync::atomic::Ordering::Acquire);
        if running || (old.is_none() && auto_start && started) {
            self.restart_later(id.clone(), true);
        }
        self.undo(id, old, running)
    }

    /// Forgets the service `id` (a live change); a running one is stopped in the
    /// background. The undo records it again and restarts it if it was running.
    pub fn remove(&self, id: &EntryId) -> Undo {
        let old = self.specs.write().remove(id);
        let running = self.is_running(id);
        if running {
            self.restart_later(id.clone(), false);
        }
        self.undo(id.clone(), old, running)
    }

    /// True when the service `id` has a live supervisor.
    fn is_running(&self, id: &EntryId) -> bool {
        self.supervised
            .lock()
            .get(id)
            .is_some_and(|s| s.is_active())
    }

    /// The undo of a live change to `id`: `old` back, restarted if it was `running`.
    fn undo(&self, id: EntryId, old: Option<Arc<ServiceSpec>>, running: bool) -> Undo {
        let rt = self.rt.clone();
        Undo::new(move || {
            let Some(rt) = rt.upgrade() else { return };
            let services = &rt.services;
            match old {
                Some(old) => services.specs.write().insert(id.clone(), old),
                None => services.specs.write().remove(&id),
            };
            if running {
                services.restart_later(id, true);
            }
        })
    }

    /// In the background, after the live changes queued before: stops the service `id`
    /// and, when `start` is true and it still has a spec, starts it again.
    fn restart_later(&self, id: EntryId, start: bool) {
        let Some(rt) = self.rt.upgrade() else { return };
        let turn = self.changes.clone();
        tokio::spawn(async move {
            let _turn = turn.lock().await;
            rt.services.stop_one(&id, RESTART_GRACE).await;
            let spec = if start {
                rt.services.spec(id.as_str())
            } else {
                None
            };
            if let Some(spec) = spec
                && let Err(e) = rt.services.start_spec(spec).await
            {
                tracing::error!(service = %id, error = %e, "service failed to restart");
            }
        });
    }

    /// Stops one service: CANCEL with `grace`, then terminate; returns when it ended.
    async fn stop_one(&self, id: &EntryId, grace: Duration) {
        let Some(s) = self.supervised.lock().get(id).cloned() else {
            return;
        };
        s.stop.send_replace(Some(grace));
        let Some(mut task) = s.task.lock().take() else {
            return;
        };
        if tokio::time::timeout(grace, &mut task).await.is_err() {
            self.terminate(id, &s, task).await;
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
                    stop: watch::Sender::new(None),
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
            stop: watch::Sender::new(None),
        });
        let task = tokio::spawn(supervise(
            rt,
            spec.clone(),
            supervised.clone(),
            supervised.stop.subscribe(),
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

/// A random number in `0..1` for the restart jitter.
fn unit_random() -> f64 {
    use std::hash::BuildHasher;
    let bits =
        std::collections::hash_map::RandomState::new().hash_one(std::time::SystemTime::now());
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

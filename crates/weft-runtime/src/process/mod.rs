//! Processes: lightweight tasks with a pid, a mailbox, lifecycle events, monitors and
//! links (reference §4.5), on tokio.
//!
//! - [`ProcessFactory`]: what an entry kind provides to run as a process (`process.lua`,
//!   `process.wasm`); [`Factories`] maps entry ids to them.
//! - [`ProcessTable`]: the live processes. Spawning, messages, monitors, links,
//!   cancellation and the local name registry go through it, with the permission checks
//!   of reference §5.6, so every engine gets the same semantics.
//!
//! A process is a tokio task: it never blocks a thread. When it ends, its monitors get an
//! EXIT event; linked processes get LINK_DOWN if they trap links, else they fail too.
//!
//! A host runs at most `host.max_processes` processes and a mailbox holds at most
//! `host.mailbox_size` unread messages (`limits.rs`): past either, the spawn or the send
//! fails with RateLimited naming the cap; nothing is dropped silently and no sender waits.

mod frame;
mod inlet;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

pub use inlet::{Full, Router};

use parking_lot::{Mutex, RwLock};
use tokio::sync::{mpsc, oneshot};
use tokio::task::AbortHandle;
use weft_core::{Actor, BoxFuture, CallContext, EntryId, Error, ErrorKind, Result, Scope, Value};

use crate::limits::{Host, Hosts, Ticket};
use crate::terminal::new_pid;
use crate::{Runtime, Terminal};
use inlet::{Delivery, Inlet, Queue};

/// A process id in Wippy's string form, `{host|id}`.
pub type Pid = Arc<str>;

/// Something that runs as a process: one body, run to completion with its arguments.
pub trait ProcessFactory: Send + Sync + 'static {
    /// Runs the process body in `cx` (which carries its pid and, for CLI commands, the
    /// terminal) and returns its result.
    fn run(&self, cx: CallContext, args: Vec<Value>) -> BoxFuture<Result<Value>>;

    /// The arguments of a CLI command's body from its command line: strings as given by
    /// default; an engine that knows the body's parameter types parses each by its type
    /// (Invalid naming the parameter when one does not fit).
    fn command_args(&self, args: &[String]) -> Result<Vec<Value>> {
        Ok(args.iter().map(|a| Value::str(a.as_str())).collect())
    }
}

/// A registered factory with its entry id.
type Registered = (EntryId, Arc<dyn ProcessFactory>);

/// Process factories by entry id.
#[derive(Default)]
pub struct Factories {
    map: RwLock<HashMap<Box<str>, Registered>>,
}

impl Factories {
    /// Registers `factory` under `id`, replacing (and returning) any previous one.
    pub fn register(
        &self,
        id: EntryId,
        factory: Arc<dyn ProcessFactory>,
    ) -> Option<Arc<dyn ProcessFactory>> {
        let key = id.as_str().into();
        self.map.write().insert(key, (id, factory)).map(|(_, f)| f)
    }

    /// Removes the factory `id`: new spawns of it fail with NotFound; running processes
    /// go on.
    pub fn unregister(&self, id: &str) -> Option<Arc<dyn ProcessFactory>> {
        self.map.write().remove(id).map(|(_, f)| f)
    }

    /// The factory registered under `id`.
    pub fn get(&self, id: &str) -> Option<(EntryId, Arc<dyn ProcessFactory>)> {
        self.map.read().get(id).cloned()
    }
}

/// A message between processes.
#[derive(Clone, Debug)]
pub struct Message {
    /// The topic (never starts with `@`).
    pub topic: String,
    /// The payload values (`process.send(dest, topic, a, b)` → `[a, b]`).
    pub payload: Vec<Value>,
    /// The sender's pid, if it was a process.
    pub from: Option<Pid>,
}

/// A lifecycle event delivered on a process' events channel.
#[derive(Clone, Debug)]
pub struct Event {
    /// What happened.
    pub kind: EventKind,
    /// The process it is about (the child that exited, the canceller).
    pub from: Pid,
    /// When.
    pub at: SystemTime,
}

/// The kinds of [`Event`].
#[derive(Clone, Debug)]
pub enum EventKind {
    /// A monitored process ended (`pid.exit`).
    Exit(Result<Value>),
    /// A linked process ended abnormally and this process traps links (`pid.link.down`).
    LinkDown(Result<Value>),
    /// Someone asked this process to stop (`pid.cancel`), with the grace period.
    Cancel(Option<Duration>),
}

impl EventKind {
    /// The Wippy event name: `pid.exit`, `pid.link.down` or `pid.cancel`.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Exit(_) => "pid.exit",
            EventKind::LinkDown(_) => "pid.link.down",
            EventKind::Cancel(_) => "pid.cancel",
        }
    }
}

/// How to spawn a process.
pub struct Spawn {
    /// The process entry id (`ns:name`).
    pub entry: String,
    /// The host id (`process.host` or `terminal.host` entry).
    pub host: String,
    /// The arguments.
    pub args: Vec<Value>,
    /// The parent receives EXIT when the child ends.
    pub monitor: bool,
    /// Parent and child are linked.
    pub link: bool,
    /// Register the child under this local name.
    pub name: Option<String>,
    /// The terminal the child talks to (CLI commands).
    pub terminal: Option<Arc<Terminal>>,
    /// Replaces the child's inherited actor (the checks still run in the caller's context).
    pub actor: Option<Actor>,
    /// Replaces the child's inherited scope (the checks still run in the caller's context).
    pub scope: Option<Scope>,
}

impl Spawn {
    /// A plain spawn of `entry` on `host` with `args`.
    pub fn new(entry: impl Into<String>, host: impl Into<String>, args: Vec<Value>) -> Spawn {
        Spawn {
            entry: entry.into(),
            host: host.into(),
            args,
            monitor: false,
            link: false,
            name: None,
            terminal: None,
            actor: None,
            scope: None,
        }
    }
}

/// One live process.
pub struct Proc {
    pid: Pid,
    entry: EntryId,
    host: Arc<Host>,
    /// Its place on the host, freed when it finishes (or, failing that, when dropped).
    ticket: Mutex<Option<Ticket>>,
    mailbox: Inlet<Message>,
    events: Inlet<Event>,
    receivers: Mutex<Option<Receivers>>,
    relations: Mutex<Relations>,
    stop: Mutex<Option<Stop>>,
    done: AtomicBool,
    exit: Mutex<Option<oneshot::Sender<Result<Value>>>>,
}

/// How a process is stopped from outside (`process.terminate`, a failed link, a passed
/// cancel deadline).
enum Stop {
    /// A spawned process: its task is aborted.
    Task(AbortHandle),
    /// A call's frame: its engine is told why, and ends the call.
    Frame(Box<dyn FnOnce(Error) + Send>),
}

/// The receiving ends of a process' mailbox and events, taken once by its engine.
pub struct Receivers {
    /// Messages sent to the process, in order per sender (at most
    /// [`Proc::mailbox_size`] unread).
    pub mailbox: mpsc::Receiver<Message>,
    /// Lifecycle events (queued until the process reads them).
    pub events: mpsc::UnboundedReceiver<Event>,
}

#[derive(Default)]
struct Relations {
    monitored_by: HashSet<Pid>,
    links: HashSet<Pid>,
    trap_links: bool,
    names: Vec<String>,
}

impl Proc {
    /// A process that has not started: its mailbox and events queue until its engine
    /// takes them.
    fn new(
        pid: Pid,
        entry: EntryId,
        host: Arc<Host>,
        ticket: Option<Ticket>,
        exit: Option<oneshot::Sender<Result<Value>>>,
    ) -> Arc<Proc> {
        let (mailbox, mailbox_rx) = mpsc::channel(host.limits.mailbox_size);
        let (events, events_rx) = mpsc::unbounded_channel();
        Arc::new(Proc {
            pid,
            entry,
            host,
            ticket: Mutex::new(ticket),
            mailbox: Inlet::new(Queue::Bounded(mailbox)),
            events: Inlet::new(Queue::Unbounded(events)),
            receivers: Mutex::new(Some(Receivers {
                mailbox: mailbox_rx,
                events: events_rx,
            })),
            relations: Mutex::new(Relations::default()),
            stop: Mutex::new(None),
            done: AtomicBool::new(false),
            exit: Mutex::new(exit),
        })
    }

    /// The pid.
    pub fn pid(&self) -> &Pid {
        &self.pid
    }

    /// The entry the process runs.
    pub fn entry(&self) -> &EntryId {
        &self.entry
    }

    /// The most unread messages its mailbox holds (its host's `host.mailbox_size`); an
    /// engine routing messages into channels of its own bounds each of them by this.
    pub fn mailbox_size(&self) -> usize {
        self.host.limits.mailbox_size
    }

    /// Takes the mailbox and events receivers (once; `None` afterwards).
    pub fn take_receivers(&self) -> Option<Receivers> {
        self.receivers.lock().take()
    }

    /// Routes messages straight to the engine from now on, after draining `queued` (the
    /// receiver from [`take_receivers`](Self::take_receivers)) in order.
    pub fn route_messages(&self, router: Router<Message>, mut queued: mpsc::Receiver<Message>) {
        self.mailbox.install(router, || queued.try_recv().ok());
    }

    /// Routes events straight to the engine from now on, after draining `queued`.
    pub fn route_events(&self, router: Router<Event>, mut queued: mpsc::UnboundedReceiver<Event>) {
        self.events.install(router, || queued.try_recv().ok());
    }

    /// Whether LINK_DOWN is delivered as an event instead of failing this process.
    pub fn trap_links(&self) -> bool {
        self.relations.lock().trap_links
    }

    /// Sets `trap_links`.
    pub fn set_trap_links(&self, on: bool) {
        self.relations.lock().trap_links = on;
    }
}

/// One host's processes at one moment ([`ProcessTable::hosts`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostMetrics {
    /// The host's entry id.
    pub host: String,
    /// Processes running on it.
    pub running: usize,
    /// Its cap (`host.max_processes`).
    pub max_processes: usize,
}

/// The live processes of a runtime.
#[derive(Default)]
pub struct ProcessTable {
    procs: RwLock<HashMap<Pid, Arc<Proc>>>,
    names: RwLock<HashMap<String, Pid>>,
    hosts: Hosts,
    /// Kinds besides `process.host` and `terminal.host` whose entries host processes
    /// (an `http.service` hosts its server and, later, its relays).
    host_kinds: RwLock<Vec<&'static str>>,
}

impl ProcessTable {
    /// Lets entries of `kind` host processes, as a capability that runs its own
    /// processes asks (`http.service`).
    pub fn add_host_kind(&self, kind: &'static str) {
        let mut kinds = self.host_kinds.write();
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }

    /// Whether entries of `kind` host processes.
    pub fn is_host_kind(&self, kind: &str) -> bool {
        matches!(kind, "process.host" | "terminal.host") || self.host_kinds.read().contains(&kind)
    }

    /// How many processes are alive.
    pub fn len(&self) -> usize {
        self.procs.read().len()
    }

    /// How many processes run on the host `id` (what `host.max_processes` bounds).
    pub fn running_on(&self, id: &str) -> usize {
        self.hosts.live(id)
    }

    /// The hosts that ran a process so far, with what runs on them now, by host id.
    pub fn hosts(&self) -> Vec<HostMetrics> {
        self.hosts.metrics()
    }

    /// True when no process is alive.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The process `pid`.
    pub fn get(&self, pid: &str) -> Option<Arc<Proc>> {
        self.procs.read().get(pid).cloned()
    }

    /// The process a destination names: a pid string or a registered name.
    pub fn resolve(&self, dest: &str) -> Option<Arc<Proc>> {
        if let Some(p) = self.get(dest) {
            return Some(p);
        }
        let pid = self.names.read().get(dest).cloned()?;
        self.get(&pid)
    }

    /// Spawns a process; returns its pid. Checks `process.spawn` (and `process.host`,
    /// `process.spawn.monitored`, `process.spawn.linked` as the request asks) in `cx`.
    pub fn spawn(&self, rt: &Arc<Runtime>, cx: &CallContext, req: Spawn) -> Result<Pid> {
        self.start(rt, cx, req, None)
    }

    /// Runs a process to completion and returns its result (`process.exec`, CLI commands).
    pub async fn exec(&self, rt: &Arc<Runtime>, cx: &CallContext, req: Spawn) -> Result<Value> {
        cx.check("process.exec", &req.entry)?;
        let (_, exit) = self.spawn_watched(rt, cx, req)?;
        exit.await
    }

    /// Spawns a process and returns its pid and a future of its result (supervisors).
    pub fn spawn_watched(
        &self,
        rt: &Arc<Runtime>,
        cx: &CallContext,
        req: Spawn,
    ) -> Result<(Pid, BoxFuture<Result<Value>>)> {
        let (tx, rx) = oneshot::channel();
        let pid = self.start(rt, cx, req, Some(tx))?;
        let exit = async move {
            rx.await
                .unwrap_or_else(|_| Err(Error::internal("process ended without a result")))
        };
        Ok((pid, Box::pin(exit)))
    }

    fn start(
        &self,
        rt: &Arc<Runtime>,
        cx: &CallContext,
        req: Spawn,
        exit: Option<oneshot::Sender<Result<Value>>>,
    ) -> Result<Pid> {
        if req.entry.is_empty() || req.host.is_empty() {
            return Err(Error::invalid(
                "spawn requires at least id and host arguments",
            ));
        }
        EntryId::parse(&req.entry)?;
        cx.check("process.spawn", &req.entry)?;
        if req.monitor {
            cx.check("process.spawn.monitored", &req.entry)?;
        }
        if req.link {
            cx.check("process.spawn.linked", &req.entry)?;
        }
        if !req.monitor && !req.link {
            cx.check("process.host", &req.host)?;
        }
        let parent = match (req.monitor || req.link, cx.pid()) {
            (true, None) => {
                return Err(Error::invalid(
                    "spawn_monitored and spawn_linked need a calling process",
                ));
            }
            (_, pid) => pid.map(Pid::from),
        };
        let (entry, factory) = rt
            .factories
            .get(&req.entry)
            .ok_or_else(|| Error::not_found(format!("process entry not found: {}", req.entry)))?;
        let host = match rt.registry.get(&req.host) {
            Some(h) if self.is_host_kind(&h.kind) => h,
            _ => return Err(Error::not_found(format!("host not found: {}", req.host))),
        };
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| Error::internal("processes need a running tokio runtime"))?;
        let (host, ticket) = self.hosts.admit(&host)?;
        let pid: Pid = new_pid(&req.host).into();
        let proc = Proc::new(pid.clone(), entry.clone(), host, Some(ticket), exit);
        if let Some(parent) = &parent {
            if req.monitor {
                proc.relations.lock().monitored_by.insert(parent.clone());
            }
            if req.link {
                proc.relations.lock().links.insert(parent.clone());
                if let Some(p) = self.get(parent) {
                    p.relations.lock().links.insert(pid.clone());
                }
            }
        }
        self.procs.write().insert(pid.clone(), proc.clone());
        if let Some(name) = req.name
            && let Err(e) = self.claim_name(&name, &pid)
        {
            self.procs.write().remove(&pid);
            if let Some(p) = parent.as_deref().and_then(|p| self.get(p)) {
                p.relations.lock().links.remove(&pid);
            }
            return Err(e);
        }
        let mut child_cx = cx.for_process(&entry, pid.clone());
        if let Some(terminal) = req.terminal {
            child_cx = child_cx.with_handle(terminal);
        }
        if let Some(actor) = req.actor {
            child_cx = child_cx.with_actor(Some(actor));
        }
        if let Some(scope) = req.scope {
            child_cx = child_cx.with_scope(Some(scope));
        }
        let ending = Ending(Some((rt.clone(), pid.clone())));
        let task = runtime.spawn(async move {
            let result = factory.run(child_cx, req.args).await;
            ending.finish(result);
        });
        *proc.stop.lock() = Some(Stop::Task(task.abort_handle()));
        Ok(pid)
    }

    /// Sends a message; `dest` is a pid or a registered name. Checks `process.send`.
    pub fn send(
        &self,
        cx: &CallContext,
        dest: &str,
        topic: &str,
        payload: Vec<Value>,
    ) -> Result<()> {
        if topic.is_empty() || topic.starts_with('@') {
            return Err(Error::invalid(format!("invalid topic: {topic:?}")));
        }
        let proc = self
            .resolve(dest)
            .ok_or_else(|| Error::not_found(format!("process not found: {dest}")))?;
        cx.check("process.send", &proc.pid)?;
        let delivery = proc.mailbox.deliver(Message {
            topic: topic.to_string(),
            payload,
            from: cx.pid().map(Pid::from),
        });
        match delivery {
            Delivery::Delivered => Ok(()),
            Delivery::Full => Err(Error::new(
                ErrorKind::RateLimited,
                format!(
                    "mailbox of {} is full (host.mailbox_size: {} on {})",
                    proc.pid, proc.host.limits.mailbox_size, proc.host.id
                ),
            )
            .with_retryable(Some(true))),
            Delivery::Gone => Err(Error::not_found(format!("process not found: {dest}"))),
        }
    }

    /// Stops a process at once; it exits with a Canceled error. Checks `process.terminate`.
    pub fn terminate(&self, cx: &CallContext, dest: &str) -> Result<()> {
        let proc = self.live(dest)?;
        cx.check("process.terminate", &proc.pid)?;
        self.kill(&proc, Error::canceled("process terminated"));
        Ok(())
    }

    /// Sends CANCEL; after `deadline` a process still alive is terminated.
    pub fn cancel(
        self: &Arc<Self>,
        cx: &CallContext,
        dest: &str,
        deadline: Option<Duration>,
    ) -> Result<()> {
        let proc = self.live(dest)?;
        cx.check("process.cancel", &proc.pid)?;
        let from: Pid = cx.pid().map(Pid::from).unwrap_or_else(|| Pid::from(""));
        proc.events.deliver(Event {
            kind: EventKind::Cancel(deadline),
            from,
            at: SystemTime::now(),
        });
        if let Some(grace) = deadline {
            let table = self.clone();
            let pid = proc.pid.clone();
            tokio::spawn(async move {
                tokio::time::sleep(grace).await;
                if let Some(p) = table.get(&pid) {
                    table.kill(&p, Error::canceled("process canceled: deadline passed"));
                }
            });
        }
        Ok(())
    }

    /// The caller (a process) starts receiving EXIT for `dest`. Checks `process.monitor`.
    pub fn monitor(&self, cx: &CallContext, dest: &str) -> Result<()> {
        let (me, target) = self.pair(cx, dest, "process.monitor")?;
        target.relations.lock().monitored_by.insert(me);
        Ok(())
    }

    /// Stops monitoring `dest`. Checks `process.unmonitor`.
    pub fn unmonitor(&self, cx: &CallContext, dest: &str) -> Result<()> {
        let (me, target) = self.pair(cx, dest, "process.unmonitor")?;
        target.relations.lock().monitored_by.remove(&me);
        Ok(())
    }

    /// Links the caller and `dest`. Checks `process.link`.
    pub fn link(&self, cx: &CallContext, dest: &str) -> Result<()> {
        let (me, target) = self.pair(cx, dest, "process.link")?;
        let mine = self.live(&me)?;
        target.relations.lock().links.insert(me);
        mine.relations.lock().links.insert(target.pid.clone());
        Ok(())
    }

    /// Removes the link between the caller and `dest`. Checks `process.unlink`.
    pub fn unlink(&self, cx: &CallContext, dest: &str) -> Result<()> {
        let (me, target) = self.pair(cx, dest, "process.unlink")?;
        target.relations.lock().links.remove(&me);
        if let Some(mine) = self.get(&me) {
            mine.relations.lock().links.remove(&target.pid);
        }
        Ok(())
    }

    /// Registers `name` for `pid` on behalf of `cx` (`process.registry.register` on the
    /// name); AlreadyExists if a live process holds it.
    pub fn register_name(&self, cx: &CallContext, name: &str, pid: &str) -> Result<()> {
        cx.check("process.registry.register", name)?;
        self.claim_name(name, pid)
    }

    /// Removes `name` on behalf of `cx` (`process.registry.unregister` on the name);
    /// returns whether it was registered.
    pub fn unregister_name(&self, cx: &CallContext, name: &str) -> Result<bool> {
        cx.check("process.registry.unregister", name)?;
        Ok(self.names.write().remove(name).is_some())
    }

    /// The pid registered under `name`.
    pub fn lookup_name(&self, name: &str) -> Option<Pid> {
        let pid = self.names.read().get(name).cloned()?;
        self.get(&pid).map(|p| p.pid.clone())
    }

    /// Registers `name` for `pid` (the spawn of a named process, already checked).
    fn claim_name(&self, name: &str, pid: &str) -> Result<()> {
        if name.is_empty() {
            return Err(Error::invalid("name cannot be empty"));
        }
        let proc = self.live(pid)?;
        let mut names = self.names.write();
        if let Some(owner) = names.get(name)
            && owner.as_ref() != pid
            && self.get(owner).is_some()
        {
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                format!("name already registered: {name}"),
            ));
        }
        names.insert(name.to_string(), proc.pid.clone());
        proc.relations.lock().names.push(name.to_string());
        Ok(())
    }

    /// Records the end of process `pid` and tells its monitors and links.
    pub fn finish(&self, pid: &str, result: Result<Value>) {
        let Some(proc) = self.procs.write().remove(pid) else {
            return;
        };
        if proc.done.swap(true, Ordering::SeqCst) {
            return;
        }
        // Its place on the host is free before anyone hears of the end.
        drop(proc.ticket.lock().take());
        let relations = std::mem::take(&mut *proc.relations.lock());
        {
            let mut names = self.names.write();
            for name in &relations.names {
                if names.get(name).is_some_and(|p| p.as_ref() == pid) {
                    names.remove(name);
                }
            }
        }
        let now = SystemTime::now();
        for watcher in &relations.monitored_by {
            if let Some(w) = self.get(watcher) {
                w.events.deliver(Event {
                    kind: EventKind::Exit(result.clone()),
                    from: proc.pid.clone(),
                    at: now,
                });
            }
        }
        if let Err(err) = &result {
            for linked in &relations.links {
                let Some(other) = self.get(linked) else {
                    continue;
                };
                other.relations.lock().links.remove(pid);
                if other.trap_links() {
                    other.events.deliver(Event {
                        kind: EventKind::LinkDown(result.clone()),
                        from: proc.pid.clone(),
                        at: now,
                    });
                } else {
                    self.kill(
                        &other,
                        Error::new(
                            ErrorKind::Canceled,
                            format!("linked process failed: {pid}: {err}"),
                        ),
                    );
                }
            }
        } else {
            for linked in &relations.links {
                if let Some(other) = self.get(linked) {
                    other.relations.lock().links.remove(pid);
                }
            }
        }
        if let Some(tx) = proc.exit.lock().take() {
            let _ = tx.send(result);
        }
    }

    /// Finishes a process with `error` and stops it (finished first, so the task's
    /// [`Ending`] finds it finished and `error` is its result).
    fn kill(&self, proc: &Arc<Proc>, error: Error) {
        let stop = proc.stop.lock().take();
        self.finish(&proc.pid, Err(error.clone()));
        match stop {
            Some(Stop::Task(task)) => task.abort(),
            Some(Stop::Frame(end)) => end(error),
            None => {}
        }
    }

    fn live(&self, dest: &str) -> Result<Arc<Proc>> {
        self.resolve(dest)
            .ok_or_else(|| Error::not_found(format!("process not found: {dest}")))
    }

    /// The caller's pid and the target process, after the permission check.
    fn pair(&self, cx: &CallContext, dest: &str, action: &str) -> Result<(Pid, Arc<Proc>)> {
        let me = cx
            .pid()
            .map(Pid::from)
            .ok_or_else(|| Error::invalid(format!("{action} needs a calling process")))?;
        let target = self.live(dest)?;
        cx.check(action, &target.pid)?;
        Ok((me, target))
    }
}

/// Finishes a process whatever becomes of its task: with the body's result, or, when the
/// task is dropped without one (a panic, the runtime shutting down), with an Internal
/// error, so the table, the host's count and the monitors never wait for it forever.
struct Ending(Option<(Arc<Runtime>, Pid)>);

impl Ending {
    /// The body returned `result`.
    fn finish(mut self, result: Result<Value>) {
        if let Some((rt, pid)) = self.0.take() {
            rt.processes.finish(&pid, result);
        }
    }
}

impl Drop for Ending {
    fn drop(&mut self) {
        if let Some((rt, pid)) = self.0.take() {
            let why = if std::thread::panicking() {
                "process panicked"
            } else {
                "process ended without a result"
            };
            rt.processes.finish(&pid, Err(Error::internal(why)));
        }
    }
}

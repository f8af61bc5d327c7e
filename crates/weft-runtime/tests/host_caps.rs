//! The caps of a host over its processes, with process factories written in Rust:
//! `host.max_processes` counted live over every way a process ends, and
//! `host.mailbox_size` refusing a send past it, queued or routed.

use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::time::Duration;

use parking_lot::Mutex;
use weft_core::{BoxFuture, CallContext, EntryId, Error, ErrorKind, Result, Value};
use weft_registry::{BootMode, Config, Entry, KindHandler};
use weft_runtime::{
    Channel, Full, HostHandler, Message, ProcessFactory, Runtime, SendError, Spawn, TryRecv,
};

/// A process factory from a closure.
struct FromFn<F>(F);

impl<F> ProcessFactory for FromFn<F>
where
    F: Fn(CallContext, Vec<Value>) -> BoxFuture<Result<Value>> + Send + Sync + 'static,
{
    fn run(&self, cx: CallContext, args: Vec<Value>) -> BoxFuture<Result<Value>> {
        (self.0)(cx, args)
    }
}

/// Registers a factory for `app:<name>`.
fn factory<F>(rt: &Runtime, name: &str, f: F)
where
    F: Fn(CallContext, Vec<Value>) -> BoxFuture<Result<Value>> + Send + Sync + 'static,
{
    rt.factories
        .register(EntryId::new("app", name), Arc::new(FromFn(f)));
}

const HOST: &str = "app:processes";

/// A runtime with the host `app:processes` whose `host:` block is `host`, and the
/// factories `app:sleeper` (never ends), `app:quick` (returns), `app:failing` (fails)
/// and `app:panicking` (panics).
fn runtime(host: serde_json::Value) -> Arc<Runtime> {
    let rt = Runtime::new(PathBuf::from("."), Config::default());
    let mut entry = Entry::new(EntryId::new("app", "processes"), "process.host");
    entry.data = serde_json::from_value(serde_json::json!({ "host": host })).unwrap();
    rt.registry.insert(entry);
    factory(&rt, "sleeper", |_, _| Box::pin(std::future::pending()));
    factory(&rt, "quick", |_, _| Box::pin(async { Ok(Value::Nil) }));
    factory(&rt, "failing", |_, _| {
        Box::pin(async { Err(Error::internal("boom")) })
    });
    factory(&rt, "panicking", |_, _| {
        Box::pin(async { panic!("a bug in an engine") })
    });
    rt
}

fn spawn(rt: &Arc<Runtime>, entry: &str) -> Result<Arc<str>> {
    rt.processes
        .spawn(rt, &rt.root_context(), Spawn::new(entry, HOST, vec![]))
}

/// Waits (bounded) until `done` holds.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..5_000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_host_refuses_a_spawn_naming_max_processes() {
    let rt = runtime(serde_json::json!({"max_processes": 2}));
    spawn(&rt, "app:sleeper").unwrap();
    spawn(&rt, "app:sleeper").unwrap();
    let err = spawn(&rt, "app:sleeper").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.retryable(), Some(true));
    assert_eq!(
        err.to_string(),
        "process host app:processes is full (host.max_processes: 2)"
    );
    // The refused spawn left nothing behind.
    assert_eq!(rt.processes.len(), 2);
    assert_eq!(rt.processes.running_on(HOST), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_way_a_process_ends_frees_its_place_on_the_host() {
    let rt = runtime(serde_json::json!({"max_processes": 1}));
    let cx = rt.root_context();
    // Returning, failing and panicking.
    for entry in ["app:quick", "app:failing", "app:panicking"] {
        let (_, exit) = rt
            .processes
            .spawn_watched(&rt, &cx, Spawn::new(entry, HOST, vec![]))
            .unwrap();
        let result = tokio::time::timeout(Duration::from_secs(10), exit)
            .await
            .unwrap_or_else(|_| panic!("{entry} never finished"));
        if entry == "app:panicking" {
            let err = result.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Internal);
            assert_eq!(err.message(), "process panicked");
        }
        assert_eq!(rt.processes.running_on(HOST), 0, "{entry}");
    }
    // Terminated: the place is free as soon as terminate returns.
    let pid = spawn(&rt, "app:sleeper").unwrap();
    rt.processes.terminate(&cx, &pid).unwrap();
    assert_eq!(rt.processes.running_on(HOST), 0);
    // Cancelled, then stopped when its grace period passed.
    let pid = spawn(&rt, "app:sleeper").unwrap();
    rt.processes
        .cancel(&cx, &pid, Some(Duration::from_millis(10)))
        .unwrap();
    until("the cancelled process to end", || {
        rt.processes.running_on(HOST) == 0
    })
    .await;
    spawn(&rt, "app:sleeper").unwrap();
    assert_eq!(rt.processes.running_on(HOST), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spawn_refused_for_its_name_frees_its_place() {
    let rt = runtime(serde_json::json!({"max_processes": 2}));
    let cx = rt.root_context();
    let named = |name: &str| {
        let mut req = Spawn::new("app:sleeper", HOST, vec![]);
        req.name = Some(name.into());
        req
    };
    rt.processes.spawn(&rt, &cx, named("taken")).unwrap();
    for _ in 0..3 {
        let err = rt.processes.spawn(&rt, &cx, named("taken")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{err}");
        assert_eq!(rt.processes.running_on(HOST), 1);
    }
    spawn(&rt, "app:sleeper").unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mailbox_nobody_reads_refuses_the_send_past_mailbox_size() {
    let rt = runtime(serde_json::json!({"mailbox_size": 2}));
    let cx = rt.root_context();
    let pid = spawn(&rt, "app:sleeper").unwrap();
    rt.processes.send(&cx, &pid, "a", vec![]).unwrap();
    rt.processes.send(&cx, &pid, "b", vec![]).unwrap();
    let err = rt.processes.send(&cx, &pid, "c", vec![]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.retryable(), Some(true));
    assert_eq!(
        err.to_string(),
        format!("mailbox of {pid} is full (host.mailbox_size: 2 on app:processes)")
    );
}

/// The inbox channel of the `app:router` process, once it routes its mailbox.
type Inbox = Arc<Mutex<Option<Channel<Message>>>>;

/// Registers `app:router`: it routes its mailbox into a channel of `mailbox_size`, as
/// an engine does, and never reads it.
fn router(rt: &Arc<Runtime>) -> Inbox {
    let inbox: Inbox = Arc::default();
    let shared = inbox.clone();
    let weak: Weak<Runtime> = Arc::downgrade(rt);
    factory(rt, "router", move |cx, _| {
        let (weak, shared) = (weak.clone(), shared.clone());
        Box::pin(async move {
            let rt = Runtime::upgrade(&weak)?;
            let proc = rt.processes.get(cx.pid().unwrap()).unwrap();
            let receivers = proc.take_receivers().unwrap();
            let channel = Channel::new(proc.mailbox_size());
            let tx = channel.clone();
            proc.route_messages(
                Arc::new(move |msg| match tx.try_send(msg) {
                    Err(SendError::Full(_)) => Err(Full),
                    _ => Ok(()),
                }),
                receivers.mailbox,
            );
            *shared.lock() = Some(channel);
            std::future::pending().await
        })
    });
    inbox
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_routed_mailbox_refuses_the_send_past_mailbox_size_until_read() {
    let rt = runtime(serde_json::json!({"mailbox_size": 3}));
    let inbox = router(&rt);
    let cx = rt.root_context();
    let pid = spawn(&rt, "app:router").unwrap();
    // Two queued before the process routes, one routed after.
    rt.processes.send(&cx, &pid, "a", vec![]).unwrap();
    rt.processes.send(&cx, &pid, "b", vec![]).unwrap();
    until("the mailbox to be routed", || inbox.lock().is_some()).await;
    let channel = inbox.lock().clone().unwrap();
    rt.processes.send(&cx, &pid, "c", vec![]).unwrap();
    let err = rt.processes.send(&cx, &pid, "d", vec![]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert!(err.message().contains("host.mailbox_size: 3"), "{err}");
    // Reading one makes room for one, in order.
    let TryRecv::Value(first) = channel.try_recv() else {
        panic!("nothing routed")
    };
    assert_eq!(first.topic, "a");
    rt.processes.send(&cx, &pid, "d", vec![]).unwrap();
    assert!(rt.processes.send(&cx, &pid, "e", vec![]).is_err());
    let topics: Vec<String> = std::iter::from_fn(|| match channel.try_recv() {
        TryRecv::Value(m) => Some(m.topic),
        _ => None,
    })
    .collect();
    assert_eq!(topics, ["b", "c", "d"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_linked_failure_frees_the_places_of_both() {
    let rt = runtime(serde_json::json!({"max_processes": 2}));
    let parent = spawn(&rt, "app:sleeper").unwrap();
    let parent_cx = rt
        .root_context()
        .for_process(&EntryId::new("app", "sleeper"), parent.clone());
    let mut child = Spawn::new("app:failing", HOST, vec![]);
    child.link = true;
    rt.processes.spawn(&rt, &parent_cx, child).unwrap();
    until("both to end", || rt.processes.running_on(HOST) == 0).await;
    assert!(rt.processes.get(&parent).is_none());
}

#[tokio::test]
async fn hosts_refuse_caps_below_one_naming_the_field() {
    for (kind, data, field) in [
        (
            "process.host",
            serde_json::json!({"host": {"max_processes": 0}}),
            "host.max_processes",
        ),
        (
            "process.host",
            serde_json::json!({"host": {"mailbox_size": -5}}),
            "host.mailbox_size",
        ),
        (
            "terminal.host",
            serde_json::json!({"max_line_bytes": 0}),
            "max_line_bytes",
        ),
    ] {
        let mut entry = Entry::new(EntryId::new("app", "h"), kind);
        entry.data = serde_json::from_value(data).unwrap();
        let err = HostHandler
            .apply(Arc::new(entry), BootMode::Run)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Invalid);
        assert!(
            err.to_string()
                .starts_with(&format!("field {field}: must be greater than 0")),
            "{err}"
        );
    }
}

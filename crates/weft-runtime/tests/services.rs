//! Supervised services: `process.service` validation, restarts with backoff, normal exits,
//! and stopping with CANCEL and a deadline, with process factories written in Rust.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::time::Instant;
use weft_core::{BoxFuture, CallContext, EntryId, Error, ErrorKind, Result, Value};
use weft_registry::{
    BootMode, BootOptions, Config, Entry, KindHandler, LoadOptions, Staged, boot, load_app,
};
use weft_runtime::EventKind;
use weft_runtime::HostHandler;
use weft_runtime::{Lifecycle, RestartPolicy, ServiceHandler, ServiceState, Startup};
use weft_runtime::{ProcessFactory, Runtime};

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

/// A runtime with the host `app:processes`.
fn runtime() -> Arc<Runtime> {
    let rt = Runtime::new(PathBuf::from("."), Config::default());
    rt.registry
        .insert(Entry::new(EntryId::new("app", "processes"), "process.host"));
    rt
}

fn entry(name: &str, kind: &str, data: serde_json::Value) -> Arc<Entry> {
    let mut e = Entry::new(EntryId::new("app", name), kind);
    e.data = serde_json::from_value(data).unwrap();
    Arc::new(e)
}

/// Applies a `process.service` entry `app:<name>` with `data`.
async fn service(rt: &Arc<Runtime>, name: &str, data: serde_json::Value) -> Result<()> {
    ServiceHandler::new(rt)
        .apply(entry(name, "process.service", data), BootMode::Run)
        .await
}

/// Waits (in virtual time) until `done` holds.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..100_000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

/// A factory that records when it runs and crashes at once.
fn crashing(rt: &Runtime, name: &str) -> Arc<Mutex<Vec<Instant>>> {
    let runs = Arc::new(Mutex::new(Vec::new()));
    let seen = runs.clone();
    factory(rt, name, move |_, _| {
        seen.lock().push(Instant::now());
        Box::pin(async { Err(Error::internal("boom")) })
    });
    runs
}

#[tokio::test(start_paused = true)]
async fn a_crashing_service_is_restarted_with_growing_delays_then_left_failed() {
    let rt = runtime();
    let runs = crashing(&rt, "worker");
    service(
        &rt,
        "svc",
        serde_json::json!({
            "process": "worker",
            "host": "app:processes",
            "lifecycle": {
                "auto_start": true,
                "restart": {"initial_delay": "1s", "backoff_factor": 2, "jitter": 0, "max_attempts": 3}
            }
        }),
    )
    .await
    .unwrap();
    assert_eq!(rt.services.start_all().await.unwrap(), 1);
    until("failed", || {
        rt.services.status("app:svc").unwrap().state == ServiceState::Failed
    })
    .await;
    let status = rt.services.status("app:svc").unwrap();
    assert_eq!(status.restarts, 3);
    assert!(status.running_pid.is_none());
    assert!(status.last_error.unwrap().to_string().contains("boom"));
    let runs = runs.lock().clone();
    assert_eq!(runs.len(), 4, "one run and three restarts");
    let gaps: Vec<Duration> = runs.windows(2).map(|w| w[1] - w[0]).collect();
    let expected = [1, 2, 4].map(Duration::from_secs);
    for (gap, want) in gaps.iter().zip(expected) {
        assert!(
            gap.abs_diff(want) < Duration::from_millis(20),
            "gaps {gaps:?}"
        );
    }
    // Nothing more happens once it failed.
    tokio::time::sleep(Duration::from_secs(600)).await;
    assert_eq!(rt.services.status("app:svc").unwrap().restarts, 3);
    assert!(rt.processes.is_empty());
}

#[tokio::test(start_paused = true)]
async fn delays_are_capped_at_max_delay() {
    let rt = runtime();
    let runs = crashing(&rt, "worker");
    let restart = serde_json::json!({
        "initial_delay": 1, "max_delay": "3s", "backoff_factor": 10, "jitter": 0, "max_attempts": 3
    });
    service(
        &rt,
        "svc",
        serde_json::json!({"process": "worker", "host": "processes",
            "lifecycle": {"auto_start": true, "restart": restart}}),
    )
    .await
    .unwrap();
    rt.services.start_all().await.unwrap();
    until("failed", || {
        rt.services.status("app:svc").unwrap().state == ServiceState::Failed
    })
    .await;
    let runs = runs.lock().clone();
    let gaps: Vec<u64> = runs
        .windows(2)
        .map(|w| (w[1] - w[0]).as_millis() as u64)
        .collect();
    assert_eq!(gaps.len(), 3);
    assert!(
        gaps[0].abs_diff(1000) < 20 && gaps[1].abs_diff(3000) < 20 && gaps[2].abs_diff(3000) < 20,
        "{gaps:?}"
    );
}

#[test]
fn restart_delay_grows_caps_and_jitters() {
    let policy = RestartPolicy {
        initial_delay: Duration::from_millis(250),
        max_delay: Duration::from_secs(10),
        backoff_factor: 3.0,
        jitter: 0.2,
        max_attempts: 0,
    };
    assert_eq!(policy.delay(0, 0.5), Duration::from_millis(250));
    assert_eq!(policy.delay(2, 0.5), Duration::from_millis(2250));
    assert_eq!(policy.delay(10, 0.5), Duration::from_secs(10));
    assert_eq!(policy.delay(u32::MAX, 0.5), Duration::from_secs(10));
    assert_eq!(policy.delay(0, 0.0), Duration::from_millis(200));
    assert_eq!(policy.delay(0, 1.0), Duration::from_millis(300));
    let defaults = RestartPolicy::default();
    assert_eq!(defaults.delay(0, 0.5), Duration::from_secs(1));
    assert_eq!(defaults.delay(100, 0.5), Duration::from_secs(90));
}

#[tokio::test(start_paused = true)]
async fn a_normal_exit_is_not_restarted() {
    let rt = runtime();
    let runs = Arc::new(Mutex::new(0));
    let seen = runs.clone();
    factory(&rt, "once", move |_, _| {
        *seen.lock() += 1;
        Box::pin(async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            Ok(Value::str("done"))
        })
    });
    service(
        &rt,
        "svc",
        serde_json::json!({"process": "once", "host": "processes", "lifecycle": {"auto_start": true}}),
    )
    .await
    .unwrap();
    rt.services.start_all().await.unwrap();
    let status = rt.services.status("app:svc").unwrap();
    assert_eq!(status.state, ServiceState::Running);
    let pid = status.running_pid.expect("a pid");
    assert!(rt.processes.get(&pid).is_some());
    tokio::time::sleep(Duration::from_secs(60)).await;
    let status = rt.services.status("app:svc").unwrap();
    assert_eq!(
        (status.state, status.restarts, *runs.lock()),
        (ServiceState::Stopped, 0, 1)
    );
    assert!(rt.processes.is_empty());
}

#[tokio::test(start_paused = true)]
async fn only_auto_start_services_start_and_get_their_input() {
    let rt = runtime();
    let args = Arc::new(Mutex::new(Vec::new()));
    let seen = args.clone();
    factory(&rt, "echo", move |_, a| {
        seen.lock().push(a);
        Box::pin(std::future::pending())
    });
    let svc = |input: serde_json::Value, auto: bool| {
        serde_json::json!({"process": "app:echo", "host": "processes", "input": input,
            "lifecycle": {"auto_start": auto}})
    };
    service(&rt, "list", svc(serde_json::json!([1, "two"]), true))
        .await
        .unwrap();
    service(&rt, "one", svc(serde_json::json!("solo"), true))
        .await
        .unwrap();
    service(&rt, "manual", svc(serde_json::Value::Null, false))
        .await
        .unwrap();
    assert_eq!(rt.services.start_all().await.unwrap(), 2);
    assert_eq!(rt.services.start_all().await.unwrap(), 0, "already running");
    tokio::time::sleep(Duration::from_millis(10)).await;
    let mut got: Vec<String> = args.lock().iter().map(|a| format!("{a:?}")).collect();
    got.sort();
    assert_eq!(got, [r#"["solo"]"#, r#"[1, "two"]"#]);
    assert_eq!(
        rt.services.status("app:manual").unwrap().state,
        ServiceState::Stopped
    );
    rt.services.start("app:manual").await.unwrap();
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(args.lock().last().unwrap().len(), 0);
    assert_eq!(rt.processes.len(), 3);
    assert!(rt.services.status("app:nope").is_none());
    assert_eq!(rt.services.stop_all(Duration::from_millis(100)).await, 3);
}

#[tokio::test(start_paused = true)]
async fn stop_all_cancels_and_terminates_what_ignores_cancel() {
    let rt = runtime();
    let grace_seen = Arc::new(Mutex::new(None));
    let seen = grace_seen.clone();
    let weak = Arc::downgrade(&rt);
    factory(&rt, "polite", move |cx, _| {
        let rt = weak.upgrade().unwrap();
        let seen = seen.clone();
        Box::pin(async move {
            let pid = cx.pid().unwrap().to_string();
            let mut rx = rt.processes.get(&pid).unwrap().take_receivers().unwrap();
            while let Some(event) = rx.events.recv().await {
                if let EventKind::Cancel(grace) = event.kind {
                    *seen.lock() = grace;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    return Ok(Value::Nil);
                }
            }
            Ok(Value::Nil)
        })
    });
    factory(&rt, "stubborn", |_, _| Box::pin(std::future::pending()));
    for (name, process) in [("a", "polite"), ("b", "stubborn")] {
        service(
            &rt,
            name,
            serde_json::json!({"process": process, "host": "processes", "lifecycle": {"auto_start": true}}),
        )
        .await
        .unwrap();
    }
    assert_eq!(rt.services.start_all().await.unwrap(), 2);
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(rt.processes.len(), 2);
    let start = Instant::now();
    let terminated = rt.services.stop_all(Duration::from_secs(2)).await;
    assert_eq!(terminated, 1);
    let took = start.elapsed();
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_millis(2100),
        "{took:?}"
    );
    assert_eq!(*grace_seen.lock(), Some(Duration::from_secs(2)));
    assert!(rt.processes.is_empty());
    for id in ["app:a", "app:b"] {
        let status = rt.services.status(id).unwrap();
        assert_eq!(status.state, ServiceState::Stopped, "{id}");
        assert_eq!(status.restarts, 0, "{id}: a stop is not a crash");
    }
}

#[tokio::test(start_paused = true)]
async fn stop_all_ends_a_backoff_at_once() {
    let rt = runtime();
    let runs = crashing(&rt, "worker");
    service(
        &rt,
        "svc",
        serde_json::json!({"process": "worker", "host": "processes",
            "lifecycle": {"auto_start": true, "restart": {"initial_delay": "1m"}}}),
    )
    .await
    .unwrap();
    rt.services.start_all().await.unwrap();
    until("backoff", || {
        rt.services.status("app:svc").unwrap().state == ServiceState::Backoff
    })
    .await;
    let start = Instant::now();
    assert_eq!(rt.services.stop_all(Duration::from_secs(5)).await, 0);
    assert!(start.elapsed() < Duration::from_secs(1));
    assert_eq!(
        rt.services.status("app:svc").unwrap().state,
        ServiceState::Stopped
    );
    tokio::time::sleep(Duration::from_secs(300)).await;
    assert_eq!(runs.lock().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_spawn_failure_is_fatal_only_for_required_services() {
    let rt = runtime();
    factory(&rt, "idle", |_, _| Box::pin(std::future::pending()));
    let svc = |startup: &str| {
        serde_json::json!({"process": "idle", "host": "processes",
            "lifecycle": {"auto_start": true, "startup": startup, "restart": {"initial_delay": "10s"}}})
    };
    service(&rt, "opt", svc("optional")).await.unwrap();
    // The host disappears after validation: spawning fails.
    rt.registry.remove("app:processes");
    rt.services.start_all().await.unwrap();
    assert_eq!(
        rt.services.status("app:opt").unwrap().state,
        ServiceState::Backoff
    );
    rt.registry
        .insert(Entry::new(EntryId::new("app", "processes"), "process.host"));
    tokio::time::sleep(Duration::from_secs(11)).await;
    let status = rt.services.status("app:opt").unwrap();
    assert_eq!((status.state, status.restarts), (ServiceState::Running, 1));

    service(&rt, "req", svc("required")).await.unwrap();
    rt.registry.remove("app:processes");
    let err = rt.services.start_all().await.unwrap_err();
    assert!(
        err.to_string().contains("service app:req") && err.to_string().contains("host"),
        "{err}"
    );
    assert_eq!(
        rt.services.status("app:req").unwrap().state,
        ServiceState::Failed
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_service_process_is_an_ordinary_process() {
    let rt = runtime();
    let got = Arc::new(Mutex::new(None));
    let seen = got.clone();
    let weak = Arc::downgrade(&rt);
    factory(&rt, "inbox", move |cx, _| {
        let rt = weak.upgrade().unwrap();
        let seen = seen.clone();
        Box::pin(async move {
            let pid = cx.pid().unwrap().to_string();
            let mut rx = rt.processes.get(&pid).unwrap().take_receivers().unwrap();
            let message = rx.mailbox.recv().await.unwrap();
            *seen.lock() = Some((cx.entry().unwrap().to_string(), message.topic));
            Ok(Value::Nil)
        })
    });
    service(
        &rt,
        "svc",
        serde_json::json!({"process": "inbox", "host": "processes", "lifecycle": {"auto_start": true}}),
    )
    .await
    .unwrap();
    rt.services.start_all().await.unwrap();
    let pid = rt.services.status("app:svc").unwrap().running_pid.unwrap();
    assert!(pid.starts_with("{app:processes|"), "{pid}");
    rt.processes
        .send(&rt.root_context(), &pid, "hello", vec![])
        .unwrap();
    until("exit", || {
        rt.services.status("app:svc").unwrap().state == ServiceState::Stopped
    })
    .await;
    assert_eq!(
        got.lock().clone(),
        Some(("app:inbox".to_string(), "hello".to_string()))
    );
}

/// The error `apply` gives for a service with `data` (process `app:worker` is registered).
async fn rejected(data: serde_json::Value) -> Error {
    let rt = runtime();
    rt.registry
        .insert(Entry::new(EntryId::new("app", "terminal"), "terminal.host"));
    rt.registry
        .insert(Entry::new(EntryId::new("app", "fn"), "function.lua"));
    factory(&rt, "worker", |_, _| Box::pin(async { Ok(Value::Nil) }));
    service(&rt, "svc", data).await.unwrap_err()
}

#[tokio::test]
async fn bad_configs_are_rejected_naming_the_field() {
    use serde_json::json;
    let cases = [
        (
            json!({"host": "processes"}),
            "field process: ",
            "missing field",
        ),
        (
            json!({"process": " ", "host": "processes"}),
            "field process: ",
            "required",
        ),
        (
            json!({"process": "worker"}),
            "field host: ",
            "missing field",
        ),
        (
            json!({"process": "worker", "host": "processes", "lifecycle": {"restart": {"initial_delay": "soon"}}}),
            "field lifecycle.restart.initial_delay: ",
            "invalid duration",
        ),
        (
            json!({"process": "worker", "host": "processes", "lifecycle": {"restart": {"initial_delay": "-1s"}}}),
            "field lifecycle.restart.initial_delay: ",
            "must not be negative",
        ),
        (
            json!({"process": "worker", "host": "processes", "lifecycle": {"restart": {"max_delay": -5}}}),
            "field lifecycle.restart.max_delay: ",
            "must not be negative",
        ),
        (
            json!({"process": "worker", "host": "processes", "lifecycle": {"stable_threshold": true}}),
            "field lifecycle.stable_threshold: ",
            "expected a duration",
        ),
        (
            json!({"process": "worker", "host": "processes", "lifecycle": {"restart": {"backoff_factor": 0.5}}}),
            "field lifecycle.restart.backoff_factor: ",
            "at least 1",
        ),
        (
            json!({"process": "worker", "host": "processes", "lifecycle": {"restart": {"jitter": 1.5}}}),
            "field lifecycle.restart.jitter: ",
            "between 0 and 1",
        ),
        (
            json!({"process": "worker", "host": "processes", "lifecycle": {"restart": {"max_attempts": -1}}}),
            "field lifecycle.restart.max_attempts: ",
            "between 0",
        ),
        (
            json!({"process": "worker", "host": "processes", "lifecycle": {"startup": "sometimes"}}),
            "field lifecycle.startup: ",
            "required",
        ),
        (
            json!({"process": "worker", "host": "processes", "lifecycle": {"auto_start": "yes"}}),
            "field lifecycle.auto_start: ",
            "invalid type",
        ),
        (
            json!({"process": "worker", "host": "terminal"}),
            "field host: ",
            "app:terminal is a terminal.host, not a process.host",
        ),
        (
            json!({"process": "fn", "host": "processes"}),
            "field process: ",
            "app:fn is a function.lua, not a process",
        ),
    ];
    for (data, field, message) in cases {
        let err = rejected(data.clone()).await;
        let text = err.to_string();
        assert_eq!(err.kind(), ErrorKind::Invalid, "{data}: {text}");
        assert!(
            text.starts_with(field) && text.contains(message),
            "{data}: {text}"
        );
    }
}

#[tokio::test]
async fn missing_process_or_host_defers_the_entry() {
    let err = rejected(serde_json::json!({"process": "worker", "host": "elsewhere"})).await;
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.to_string(), "field host: host not found: app:elsewhere");

    let rt = runtime();
    let data = serde_json::json!({"process": "other:later", "host": "app:processes"});
    let err = service(&rt, "svc", data.clone()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(
        err.to_string(),
        "field process: process not found: other:later"
    );
    assert!(rt.services.spec("app:svc").is_none());
    rt.factories.register(
        EntryId::new("other", "later"),
        Arc::new(FromFn(|_, _| -> BoxFuture<Result<Value>> {
            Box::pin(async { Ok(Value::Nil) })
        })),
    );
    service(&rt, "svc", data).await.unwrap();
    let spec = rt.services.spec("app:svc").unwrap();
    assert_eq!(spec.process.as_str(), "other:later");
    assert_eq!(spec.lifecycle, Lifecycle::default());
}

/// `process.test` entries run a Rust body that waits forever.
struct TestProcesses(Arc<Runtime>);

impl KindHandler for TestProcesses {
    fn kinds(&self) -> &[&'static str] {
        &["process.test"]
    }

    fn stage(&self, entry: Arc<Entry>, _mode: BootMode) -> BoxFuture<Result<Staged>> {
        let rt = self.0.clone();
        let body = FromFn(|_, _| -> BoxFuture<Result<Value>> { Box::pin(std::future::pending()) });
        let staged = Staged::new(move || rt.publish_factory(entry.id.clone(), Arc::new(body)));
        Box::pin(async { Ok(staged) })
    }

    fn stage_remove(&self, entry: Arc<Entry>) -> Result<Staged> {
        let rt = self.0.clone();
        Ok(Staged::new(move || rt.withdraw(entry.id.clone())))
    }
}

#[tokio::test]
async fn boot_resolves_services_declared_before_their_process_and_host() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("src/_index.yaml"),
        r#"version: "1.0"
namespace: app
entries:
  - name: a_service
    kind: process.service
    process: z_worker
    host: m_host
    input: hello
    lifecycle:
      auto_start: true
      startup: optional
      depends_on: [m_host]
      restart: {initial_delay: 250ms, max_delay: 10, backoff_factor: 1.5, jitter: 0, max_attempts: 2}
      security:
        actor: {id: service-bot, meta: {role: worker}}
        policies: [allow_all]
        groups: [other:admins]
  - name: m_host
    kind: process.host
    lifecycle: {auto_start: true}
  - name: z_worker
    kind: process.test
  - name: allow_all
    kind: security.policy
    policy: {actions: "*", resources: "*", effect: allow}
"#,
    )
    .unwrap();
    let app = load_app(&LoadOptions {
        root: dir.path().to_path_buf(),
        ..LoadOptions::default()
    })
    .unwrap();
    let rt = Runtime::new(app.root.clone(), app.config.clone());
    let handlers: Vec<Arc<dyn KindHandler>> = vec![
        Arc::new(ServiceHandler::new(&rt)),
        Arc::new(HostHandler),
        Arc::new(TestProcesses(rt.clone())),
        Arc::new(weft_security::PolicyHandler::new(&rt.policies)),
    ];
    boot(&app, &rt.registry, &handlers, &BootOptions::default())
        .await
        .unwrap();
    let spec = rt.services.spec("app:a_service").unwrap();
    assert_eq!(spec.host.as_str(), "app:m_host");
    assert_eq!(spec.input.len(), 1);
    let life = &spec.lifecycle;
    assert_eq!(life.startup, Startup::Optional);
    assert_eq!(life.requires, vec![EntryId::new("app", "m_host")]);
    assert_eq!(life.restart.initial_delay, Duration::from_millis(250));
    assert_eq!(life.restart.max_delay, Duration::from_secs(10));
    assert_eq!(life.restart.max_attempts, 2);
    let security = life.security.as_ref().unwrap();
    assert_eq!(security.actor.as_ref().unwrap().id, "service-bot");
    assert_eq!(security.policies, vec![EntryId::new("app", "allow_all")]);
    assert_eq!(security.groups, vec![EntryId::new("other", "admins")]);
    assert_eq!(rt.services.start_all().await.unwrap(), 1);
    assert_eq!(
        rt.services.status("app:a_service").unwrap().state,
        ServiceState::Running
    );
    assert_eq!(rt.services.stop_all(Duration::from_millis(50)).await, 1);
}

#[tokio::test]
async fn boot_reports_an_unknown_host_with_the_entry_and_field() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("src/_index.yaml"),
        "version: \"1.0\"\nnamespace: app\nentries:\n  - {name: svc, kind: process.service, process: w, host: nowhere}\n  - {name: w, kind: process.test}\n",
    )
    .unwrap();
    let app = load_app(&LoadOptions {
        root: dir.path().to_path_buf(),
        ..LoadOptions::default()
    })
    .unwrap();
    let rt = Runtime::new(app.root.clone(), app.config.clone());
    let handlers: Vec<Arc<dyn KindHandler>> = vec![
        Arc::new(ServiceHandler::new(&rt)),
        Arc::new(TestProcesses(rt.clone())),
    ];
    let errors = boot(&app, &rt.registry, &handlers, &BootOptions::default())
        .await
        .unwrap_err();
    let text = errors.to_string();
    assert!(
        text.contains("entry app:svc (process.service): field host:")
            && text.contains("host not found: app:nowhere"),
        "{text}"
    );
}

#[tokio::test]
async fn hosts_validate_their_lifecycle() {
    let bad = entry(
        "processes",
        "process.host",
        serde_json::json!({"lifecycle": {"auto_start": true, "restart": {"jitter": 2}}}),
    );
    let err = HostHandler.apply(bad, BootMode::Run).await.unwrap_err();
    assert!(
        err.to_string()
            .starts_with("field lifecycle.restart.jitter: "),
        "{err}"
    );
    let bad = entry(
        "terminal",
        "terminal.host",
        serde_json::json!({"lifecycle": {"restart": {"max_delay": "later"}}}),
    );
    let err = HostHandler.apply(bad, BootMode::Run).await.unwrap_err();
    assert!(
        err.to_string()
            .starts_with("field lifecycle.restart.max_delay: "),
        "{err}"
    );
    let good = entry(
        "terminal",
        "terminal.host",
        serde_json::json!({"hide_logs": false, "lifecycle": {"auto_start": true}}),
    );
    HostHandler.apply(good, BootMode::Run).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_run_longer_than_stable_threshold_resets_the_backoff() {
    let rt = runtime();
    let runs = Arc::new(Mutex::new(Vec::new()));
    let seen = runs.clone();
    factory(&rt, "flaky", move |_, _| {
        seen.lock().push(Instant::now());
        Box::pin(async {
            tokio::time::sleep(Duration::from_secs(6)).await;
            Err(Error::internal("flaked"))
        })
    });
    service(
        &rt,
        "svc",
        serde_json::json!({"process": "flaky", "host": "processes", "lifecycle": {"auto_start": true,
            "stable_threshold": "5s", "restart": {"jitter": 0, "max_attempts": 1}}}),
    )
    .await
    .unwrap();
    rt.services.start_all().await.unwrap();
    tokio::time::sleep(Duration::from_secs(30)).await;
    let runs = runs.lock().clone();
    assert_eq!(runs.len(), 5, "every crash after a stable run restarts");
    for w in runs.windows(2) {
        assert!((w[1] - w[0]).abs_diff(Duration::from_secs(7)) < Duration::from_millis(20));
    }
    assert_eq!(
        rt.services.status("app:svc").unwrap().state,
        ServiceState::Running
    );
}

/// Registers the `security.policy` `app:<name>` allowing `actions` on everything.
fn allow_policy(rt: &Runtime, name: &str, actions: &str, groups: serde_json::Value) {
    let data: Value = serde_json::from_value(serde_json::json!({
        "policy": {"actions": actions, "resources": "*", "effect": "allow"},
        "groups": groups,
    }))
    .unwrap();
    let policy = weft_security::CompiledPolicy::compile(EntryId::new("app", name), &data).unwrap();
    rt.policies.insert(policy);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_runs_with_its_actor_and_the_scope_of_its_policies_and_groups() {
    let rt = runtime();
    allow_policy(&rt, "calls", "funcs.call", serde_json::json!([]));
    allow_policy(&rt, "envs", "env.*", serde_json::json!(["readers"]));
    let got = Arc::new(Mutex::new(None));
    let seen = got.clone();
    factory(&rt, "worker", move |cx, _| {
        let actor = cx.actor().map(|a| (a.id().to_string(), a.meta().clone()));
        let ids: Option<Vec<String>> = cx
            .scope()
            .map(|s| s.policies().map(|p| p.id().to_string()).collect());
        let checks = [
            cx.check("funcs.call", "app:f").is_ok(),
            cx.check("env.get", "HOME").is_ok(),
            cx.check("process.spawn", "app:worker").is_ok(),
        ];
        *seen.lock() = Some((actor, ids, checks));
        Box::pin(async { Ok(Value::Nil) })
    });
    service(
        &rt,
        "svc",
        serde_json::json!({"process": "worker", "host": "processes", "lifecycle": {
            "auto_start": true,
            "security": {"actor": {"id": "bot", "meta": {"role": "worker"}},
                         "policies": ["calls"], "groups": ["readers", "app:nobody"]}
        }}),
    )
    .await
    .unwrap();
    rt.services.start_all().await.unwrap();
    until("run", || got.lock().is_some()).await;
    let (actor, ids, checks) = got.lock().clone().unwrap();
    let (id, meta) = actor.unwrap();
    assert_eq!(id, "bot");
    assert_eq!(meta.get("role").and_then(Value::as_str), Some("worker"));
    assert_eq!(ids.unwrap(), ["app:calls", "app:envs"]);
    assert_eq!(checks, [true, true, false]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_with_only_an_actor_gets_no_scope() {
    let rt = runtime();
    let got = Arc::new(Mutex::new(None));
    let seen = got.clone();
    factory(&rt, "worker", move |cx, _| {
        *seen.lock() = Some((cx.actor().map(|a| a.id().to_string()), cx.scope().is_some()));
        Box::pin(async { Ok(Value::Nil) })
    });
    service(
        &rt,
        "svc",
        serde_json::json!({"process": "worker", "host": "processes", "lifecycle": {
            "auto_start": true, "security": {"actor": {"id": "bot"}}
        }}),
    )
    .await
    .unwrap();
    rt.services.start_all().await.unwrap();
    until("run", || got.lock().is_some()).await;
    assert_eq!(
        got.lock().clone().unwrap(),
        (Some("bot".to_string()), false)
    );
}

#[tokio::test]
async fn an_unknown_service_policy_defers_the_entry_and_fails_the_start() {
    let rt = runtime();
    factory(&rt, "worker", |_, _| Box::pin(async { Ok(Value::Nil) }));
    let data = serde_json::json!({"process": "worker", "host": "processes", "lifecycle": {
        "auto_start": true, "security": {"actor": {"id": "bot"}, "policies": ["gone"]}
    }});
    // At registration: NotFound naming the field and the policy (boot retries it later).
    let err = service(&rt, "svc", data.clone()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert_eq!(
        err.to_string(),
        "field lifecycle.security.policies[0]: policy not found: app:gone"
    );
    // A policy that goes away after registration fails the start, naming both.
    allow_policy(&rt, "gone", "*", serde_json::json!([]));
    service(&rt, "svc", data).await.unwrap();
    assert!(rt.policies.remove("app:gone"));
    let err = rt.services.start_all().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "service app:svc: field lifecycle.security.policies[0]: policy not found: app:gone"
    );
    assert_eq!(
        rt.services.status("app:svc").unwrap().state,
        ServiceState::Failed
    );
    assert!(rt.processes.is_empty());
}

// The frames tests, shared by `frames.rs` (untyped sources) and `typed_frames.rs` (the
// same sources in typed Lua): each includes this file after defining `APP`.

async fn booted() -> (tempfile::TempDir, Arc<Runtime>) {
    let dir = app(&[("src/_index.yaml", APP)]);
    let rt = boot_dir(dir.path()).await.unwrap();
    (dir, rt)
}

async fn call(rt: &Arc<Runtime>, id: &str, args: Vec<Value>) -> Result<Value> {
    let cx = rt.root_context();
    let call = rt.functions.call(&cx, id, args);
    tokio::time::timeout(Duration::from_secs(30), call)
        .await
        .unwrap_or_else(|_| panic!("{id} hung"))
}

fn field<'a>(v: &'a Value, key: &str) -> &'a Value {
    v.as_map()
        .and_then(|m| m.get(key))
        .unwrap_or_else(|| panic!("no field {key} in {v:?}"))
}

/// Waits until `cond` holds (fails after 30 s).
async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out: {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_has_its_own_stable_pid_and_ends_with_it() {
    let (_dir, rt) = booted().await;
    let first = call(&rt, "t:pids", vec![]).await.unwrap();
    let a = field(&first, "a").as_str().unwrap().to_string();
    assert!(a.starts_with("{t:pids|"), "{a}");
    assert_eq!(field(&first, "b").as_str(), Some(a.as_str()));
    let second = call(&rt, "t:pids", vec![]).await.unwrap();
    assert_ne!(field(&second, "a").as_str(), Some(a.as_str()));
    assert!(rt.processes.is_empty(), "the frames ended with their calls");
    let err = rt
        .processes
        .send(&rt.root_context(), &a, "late", vec![])
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_receives_its_monitored_childs_exit() {
    let (_dir, rt) = booted().await;
    let out = call(&rt, "t:monitored", vec![]).await.unwrap();
    assert_eq!(field(&out, "kind").as_str(), Some("pid.exit"));
    assert_eq!(field(&out, "from_child"), &Value::Bool(true));
    assert_eq!(field(&out, "value"), &Value::Int(42));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trapping_function_receives_link_down_and_set_options_is_true() {
    let (_dir, rt) = booted().await;
    let out = call(&rt, "t:linked", vec![]).await.unwrap();
    assert_eq!(field(&out, "set"), &Value::Bool(true));
    assert_eq!(field(&out, "trapping"), &Value::Bool(true));
    assert_eq!(field(&out, "kind").as_str(), Some("pid.link.down"));
    assert_eq!(field(&out, "from_child"), &Value::Bool(true));
    assert_eq!(field(&out, "failed"), &Value::Bool(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_linked_failure_stops_a_function_that_does_not_trap() {
    let (_dir, rt) = booted().await;
    let err = call(&rt, "t:link_dies", vec![]).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Canceled, "{err}");
    assert!(err.message().contains("linked process failed"), "{err}");
    // The VM left mid-run was dropped; the next calls run normally.
    assert_eq!(call(&rt, "t:plain", vec![]).await.unwrap(), Value::Int(1));
    assert!(call(&rt, "t:link_dies", vec![]).await.is_err());
    wait_until("the frames and children to end", || rt.processes.is_empty()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_sends_receives_listens_and_is_answered() {
    let (_dir, rt) = booted().await;
    let out = call(&rt, "t:messages", vec![]).await.unwrap();
    assert_eq!(field(&out, "topic").as_str(), Some("echo"));
    assert_eq!(field(&out, "data").as_str(), Some("payload"));
    assert_eq!(field(&out, "from_child"), &Value::Bool(true));
    assert_eq!(field(&out, "direct").as_str(), Some("hi"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_monitors_and_terminates_a_process() {
    let (_dir, rt) = booted().await;
    let out = call(&rt, "t:monitor_terminate", vec![]).await.unwrap();
    assert_eq!(field(&out, "kind").as_str(), Some("pid.exit"));
    assert_eq!(field(&out, "from"), &Value::Bool(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_registered_by_a_call_is_released_when_it_returns() {
    let (_dir, rt) = booted().await;
    let out = call(&rt, "t:named", vec![Value::from("worker")])
        .await
        .unwrap();
    assert_eq!(field(&out, "ok"), &Value::Bool(true));
    assert_eq!(field(&out, "mine"), &Value::Bool(true));
    assert_eq!(rt.processes.lookup_name("worker"), None);
    // So the next call can take it again.
    let again = call(&rt, "t:named", vec![Value::from("worker")])
        .await
        .unwrap();
    assert_eq!(field(&again, "ok"), &Value::Bool(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_monitoring_a_call_gets_its_exit_with_the_result() {
    let (_dir, rt) = booted().await;
    let cx = rt.root_context();
    let (watcher, exit) = rt
        .processes
        .spawn_watched(&rt, &cx, Spawn::new("t:watch_frame", "t:host", vec![]))
        .unwrap();
    let result = call(&rt, "t:watched", vec![Value::from(&*watcher)]).await;
    assert_eq!(result.unwrap(), Value::from("done"));
    let seen = tokio::time::timeout(Duration::from_secs(30), exit)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(field(&seen, "kind").as_str(), Some("pid.exit"));
    assert_eq!(field(&seen, "value").as_str(), Some("done"));
    assert!(
        field(&seen, "from")
            .as_str()
            .unwrap()
            .starts_with("{t:watched|")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminating_a_calls_frame_ends_the_call_and_drops_its_messages() {
    let (_dir, rt) = booted().await;
    let cx = rt.root_context();
    let runtime = rt.clone();
    let blocked = tokio::spawn(async move {
        let cx = runtime.root_context();
        runtime
            .functions
            .call(&cx, "t:blocked", vec![Value::from("blocked-call")])
            .await
    });
    wait_until("the call to register", || {
        rt.processes.lookup_name("blocked-call").is_some()
    })
    .await;
    let pid = rt.processes.lookup_name("blocked-call").unwrap();
    rt.processes.terminate(&cx, &pid).unwrap();
    let err = tokio::time::timeout(Duration::from_secs(30), blocked)
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Canceled);
    assert!(err.message().contains("terminated"), "{err}");
    assert_eq!(rt.processes.lookup_name("blocked-call"), None);
    assert_eq!(
        rt.processes
            .send(&cx, &pid, "late", vec![])
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_execs_a_process() {
    let (_dir, rt) = booted().await;
    let out = call(&rt, "t:exec_child", vec![]).await.unwrap();
    assert_eq!(field(&out, "v"), &Value::Int(10));
    assert_eq!(field(&out, "ok"), &Value::Bool(true));
    assert_eq!(field(&out, "me"), &Value::Bool(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_that_uses_no_process_api_opens_no_frame() {
    let (_dir, rt) = booted().await;
    let runtime = rt.clone();
    let napping = tokio::spawn(async move { call(&runtime, "t:napping", vec![]).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!napping.is_finished());
    assert_eq!(
        rt.processes.len(),
        0,
        "a call opened a frame it did not need"
    );
    assert_eq!(napping.await.unwrap().unwrap(), Value::Int(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spawner_ignores_options_it_does_not_use_and_queues_its_messages_first() {
    let (_dir, rt) = booted().await;
    let out = call(&rt, "t:spawner_options", vec![]).await.unwrap();
    assert_eq!(field(&out, "data").as_str(), Some("first"));
    assert_eq!(field(&out, "named"), &Value::Bool(true));
}

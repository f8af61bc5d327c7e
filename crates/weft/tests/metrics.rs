//! End-to-end: `weft run` serves the process' metrics (HTTP requests, function calls,
//! pools, hosts) in the OpenMetrics text on `metrics.addr` from `.wippy.yaml`, and fails
//! with an error naming `metrics.addr` when that address is taken.

mod common;

use std::path::Path;
use std::process::Child;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A port free on loopback now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An app with an `http.service` on `http_port` whose router uses the `metrics`
/// middleware, and `metrics:` settings in `.wippy.yaml` (none when `metrics` is empty).
fn app(http_port: u16, metrics: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".wippy.yaml"),
        format!("version: \"1.0\"\nshutdown:\n  timeout: 2s\n{metrics}"),
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("src/_index.yaml"),
        format!(
            r#"version: "1.0"
namespace: app
entries:
  - name: gateway
    kind: http.service
    addr: 127.0.0.1:{http_port}
    lifecycle: {{auto_start: true}}
  - name: api
    kind: http.router
    meta: {{server: gateway}}
    prefix: /api
    middleware: [metrics]
  - name: add
    kind: function.lua
    method: run
    source: "return {{run = function(a, b) return a + b end}}"
  - name: hello
    kind: function.lua
    method: handler
    modules: [funcs]
    pool: {{workers: 2, size: 2}}
    source: |
      return {{handler = function()
        local sum, err = funcs.call("app:add", 1, 2)
        if err then error(err) end
        return {{sum = sum}}
      end}}
  - name: boom
    kind: function.lua
    method: handler
    source: |
      return {{handler = function() error("boom") end}}
  - name: slow
    kind: function.lua
    method: handler
    modules: [time]
    pool: {{workers: 1, size: 1}}
    source: |
      return {{handler = function()
        time.sleep("1500ms")
        return {{done = true}}
      end}}
  - name: hello.endpoint
    kind: http.endpoint
    meta: {{router: api}}
    method: GET
    path: /hello
    func: hello
  - name: boom.endpoint
    kind: http.endpoint
    meta: {{router: api}}
    method: GET
    path: /boom
    func: boom
  - name: slow.endpoint
    kind: http.endpoint
    meta: {{router: api}}
    method: GET
    path: /slow
    func: slow
"#
        ),
    )
    .unwrap();
    dir
}

/// Starts `weft -v run` on `dir`; returns the child and its stderr lines as they come.
fn serve(dir: &Path) -> (Child, mpsc::Receiver<String>) {
    common::spawn_weft(dir, &["-v", "run"])
}

/// Reads lines until one contains `needle`.
fn wait_for(lines: &mpsc::Receiver<String>, needle: &str, log: &mut Vec<String>) {
    common::wait_for_line(lines, needle, Duration::from_secs(20), log);
}

/// Waits up to `limit` for the child to exit; its exit code.
fn exit_code_within(child: &mut Child, limit: Duration) -> Option<i32> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("weft did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Kills the child if a test fails before it stops it.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The value of the sample `series` (name and labels as written) in `text`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.parse().unwrap())
}

fn expect(text: &str, series: &str, value: f64) {
    assert_eq!(
        sample(text, series),
        Some(value),
        "{series} should be {value}:\n{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_serves_request_call_and_pool_metrics() {
    let (http_port, metrics_port) = (free_port(), free_port());
    let dir = app(
        http_port,
        &format!("metrics:\n  addr: 127.0.0.1:{metrics_port}\n  path: /stats\n"),
    );
    let (child, lines) = serve(dir.path());
    let mut child = Running(child);
    let mut log = Vec::new();
    wait_for(&lines, "metrics endpoint listening", &mut log);
    wait_for(&lines, "services started", &mut log);

    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let api = format!("http://127.0.0.1:{http_port}/api");
    let scrape_url = format!("http://127.0.0.1:{metrics_port}/stats");
    let scrape = || async {
        let res = client.get(&scrape_url).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(
            res.headers()["content-type"],
            "application/openmetrics-text; version=1.0.0; charset=utf-8"
        );
        res.text().await.unwrap()
    };

    // Off the path: 404; not a read: 405.
    let res = client
        .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = client.post(&scrape_url).send().await.unwrap();
    assert_eq!(res.status(), 405);

    // Before any request: every function is listed with no calls.
    let text = scrape().await;
    expect(
        &text,
        r#"weft_function_calls_total{function="app:hello",kind="function.lua"}"#,
        0.0,
    );
    expect(
        &text,
        r#"weft_pool_slots{entry="app:hello",type="static"}"#,
        2.0,
    );

    for _ in 0..3 {
        let res = client.get(format!("{api}/hello")).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.text().await.unwrap(), r#"{"sum":3}"#);
    }
    let res = client.get(format!("{api}/boom")).send().await.unwrap();
    assert_eq!(res.status(), 500);
    res.bytes().await.unwrap();

    // Two slow calls at once on a pool of one: one runs, one waits.
    let slow =
        |c: reqwest::Client, url: String| async move { c.get(url).send().await.unwrap().status() };
    let first = tokio::spawn(slow(client.clone(), format!("{api}/slow")));
    let second = tokio::spawn(slow(client.clone(), format!("{api}/slow")));
    let deadline = Instant::now() + Duration::from_secs(5);
    let busy = loop {
        let text = scrape().await;
        let entry = r#"{entry="app:slow",type="static"}"#;
        if sample(&text, &format!("weft_pool_in_use{entry}")) == Some(1.0)
            && sample(&text, &format!("weft_pool_waiting{entry}")) == Some(1.0)
        {
            break text;
        }
        assert!(Instant::now() < deadline, "the pool never filled:\n{text}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    expect(
        &busy,
        r#"weft_pool_slots{entry="app:slow",type="static"}"#,
        1.0,
    );
    expect(
        &busy,
        r#"wippy_http_requests_in_flight{method="GET",route="GET /api/slow"}"#,
        2.0,
    );
    assert_eq!(first.await.unwrap(), 200);
    assert_eq!(second.await.unwrap(), 200);

    let text = scrape().await;
    for (series, value) in [
        (
            r#"wippy_http_requests_total{method="GET",route="GET /api/hello",status="200"}"#,
            3.0,
        ),
        (
            r#"wippy_http_requests_total{method="GET",route="GET /api/boom",status="500"}"#,
            1.0,
        ),
        (
            r#"wippy_http_requests_total{method="GET",route="GET /api/slow",status="200"}"#,
            2.0,
        ),
        (
            r#"weft_function_calls_total{function="app:hello",kind="function.lua"}"#,
            3.0,
        ),
        // Each hello calls add: a Lua → Lua call goes through the same path.
        (
            r#"weft_function_calls_total{function="app:add",kind="function.lua"}"#,
            3.0,
        ),
        (
            r#"weft_function_calls_total{function="app:boom",kind="function.lua"}"#,
            1.0,
        ),
        (
            r#"weft_function_calls_total{function="app:slow",kind="function.lua"}"#,
            2.0,
        ),
        (
            r#"weft_function_call_duration_seconds_count{function="app:hello"}"#,
            3.0,
        ),
        (
            r#"weft_function_call_duration_seconds_bucket{le="+Inf",function="app:slow"}"#,
            2.0,
        ),
        // Both slow calls took 1.5 s or more (the second waited for the first).
        (
            r#"weft_function_call_duration_seconds_bucket{le="1.0",function="app:slow"}"#,
            0.0,
        ),
        (r#"weft_pool_in_use{entry="app:slow",type="static"}"#, 0.0),
        (r#"weft_pool_waiting{entry="app:slow",type="static"}"#, 0.0),
        (r#"weft_pool_idle{entry="app:slow",type="static"}"#, 1.0),
        (r#"weft_pool_slots{entry="app:add",type="lazy"}"#, 100.0),
        // The server is a process hosted by its service entry.
        (r#"weft_processes{host="app:gateway"}"#, 1.0),
    ] {
        expect(&text, series, value);
    }
    let errors: Vec<_> = text
        .lines()
        .filter(|l| l.starts_with("weft_function_errors_total{"))
        .collect();
    assert_eq!(errors.len(), 1, "{text}");
    assert!(
        errors[0].starts_with(r#"weft_function_errors_total{function="app:boom",kind="#)
            && errors[0].ends_with(" 1"),
        "{text}"
    );
    let sum = sample(
        &text,
        r#"weft_function_call_duration_seconds_sum{function="app:slow"}"#,
    )
    .unwrap();
    assert!(sum >= 3.0, "{sum}");
    for kind in [
        "# TYPE weft_function_calls counter",
        "# TYPE weft_function_call_duration_seconds histogram",
        "# TYPE weft_pool_in_use gauge",
    ] {
        assert!(text.contains(kind), "missing {kind}:\n{text}");
    }
    assert!(text.ends_with("# EOF\n"), "{text}");

    // Stopped at shutdown with the rest.
    let pid = i32::try_from(child.0.id()).unwrap();
    // SAFETY: kill(2) on our own child's pid with a valid signal number.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    assert_eq!(
        exit_code_within(&mut child.0, Duration::from_secs(10)),
        Some(0)
    );
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", metrics_port)).is_err(),
        "the metrics endpoint still listens after the exit"
    );
}

#[test]
fn a_taken_metrics_addr_fails_the_run_naming_the_key() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let dir = app(
        free_port(),
        &format!("metrics:\n  addr: 127.0.0.1:{port}\n"),
    );
    let (child, lines) = serve(dir.path());
    let mut child = Running(child);
    let mut log = Vec::new();
    wait_for(
        &lines,
        &format!("metrics.addr: cannot listen on 127.0.0.1:{port}"),
        &mut log,
    );
    assert_eq!(
        exit_code_within(&mut child.0, Duration::from_secs(20)),
        Some(1)
    );
    // Refused before any service started.
    assert!(
        !log.iter().any(|l| l.contains("services started")),
        "{}",
        log.join("\n")
    );
    drop(taken);
}

#[test]
fn without_metrics_settings_nothing_listens() {
    let dir = app(free_port(), "");
    let (child, lines) = serve(dir.path());
    let mut child = Running(child);
    let mut log = Vec::new();
    wait_for(&lines, "services started", &mut log);
    assert!(
        !log.iter().any(|l| l.contains("metrics endpoint")),
        "{}",
        log.join("\n")
    );
    let pid = i32::try_from(child.0.id()).unwrap();
    // SAFETY: kill(2) on our own child's pid with a valid signal number.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    assert_eq!(
        exit_code_within(&mut child.0, Duration::from_secs(10)),
        Some(0)
    );
}

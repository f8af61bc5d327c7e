//! End-to-end: what bad clients do to an `http.service` — slow, malformed or oversized
//! requests, a thousand keep-alive connections, clients that go away mid-call — gets a
//! clear status or a closed connection, and leaves no task behind.

mod common;

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// An app with one server (`service_fields` appended to it) and one router at `/`.
fn app(service_fields: &str, routes: &str) -> tempfile::TempDir {
    let yaml = format!(
        r#"version: "1.0"
namespace: app
entries:
  - name: gateway
    kind: http.service
    addr: 127.0.0.1:0
    lifecycle: {{auto_start: true}}
{service_fields}
  - name: root
    kind: http.router
    meta: {{server: gateway}}
  - name: hello
    kind: function.lua
    method: handler
    source: |
      return {{ handler = function() return {{ ok = true }} end }}
  - name: hello.endpoint
    kind: http.endpoint
    meta: {{router: root}}
    method: GET
    path: /hello
    func: hello
{routes}"#
    );
    common::write_app(&[("src/_index.yaml", &yaml)])
}

/// Boots and starts the app; its booted state and the server's address.
async fn serve(dir: &tempfile::TempDir) -> (weft::Booted, std::net::SocketAddr) {
    common::serve_http(dir.path(), "app:gateway").await
}

/// Sends `request` as is and reads until the server closes or `wait` passes.
async fn raw(addr: std::net::SocketAddr, request: &[u8], wait: Duration) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(wait, stream.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

/// The tasks alive on the test's runtime.
fn alive_tasks() -> usize {
    tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
}

/// Waits up to 5 s for the alive tasks to come down to `baseline`.
async fn settle_to(baseline: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let now = alive_tasks();
        if now <= baseline || Instant::now() > deadline {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_a_status_and_slow_ones_are_cut() {
    let dir = app(
        "    timeouts: {read_header: 300ms}\n    max_header_bytes: 8192\n",
        "",
    );
    let (_booted, addr) = serve(&dir).await;

    // Not HTTP at all.
    let res = raw(addr, b"GARBAGE\r\n\r\n", Duration::from_secs(5)).await;
    assert!(res.starts_with("HTTP/1.1 400"), "{res}");

    // A head over max_header_bytes.
    let big = format!(
        "GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(16 * 1024)
    );
    let res = raw(addr, big.as_bytes(), Duration::from_secs(5)).await;
    assert!(res.starts_with("HTTP/1.1 431"), "{res}");

    // A head that never ends is cut at read_header.
    let started = Instant::now();
    let res = raw(
        addr,
        b"GET /hello HTTP/1.1\r\nHost: x\r\n",
        Duration::from_secs(10),
    )
    .await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(3), "cut after {took:?}");
    assert!(!res.contains("200 OK"), "{res}");

    // Invalid percent-encoding: a clean 404, no panic, and the server still answers.
    let res = raw(
        addr,
        b"GET /hel%zz%ZZ%2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        Duration::from_secs(5),
    )
    .await;
    assert!(res.starts_with("HTTP/1.1 404"), "{res}");
    let res = raw(
        addr,
        b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        Duration::from_secs(5),
    )
    .await;
    assert!(res.starts_with("HTTP/1.1 200"), "{res}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_goes_away_cancels_its_handler() {
    let routes = r#"  - name: slow
    kind: function.lua
    method: handler
    modules: [time]
    source: |
      return { handler = function()
        for i = 1, 2000 do time.sleep("10ms") end
        return { done = true }
      end }
  - name: slow.endpoint
    kind: http.endpoint
    meta: {router: root}
    method: GET
    path: /slow
    func: slow
"#;
    let dir = app("", routes);
    let (_booted, addr) = serve(&dir).await;
    // Warm the route once so that pools and caches exist before the baseline.
    let warm = raw(
        addr,
        b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        Duration::from_secs(5),
    )
    .await;
    assert!(warm.starts_with("HTTP/1.1 200"), "{warm}");
    let baseline = settle_to(0).await;

    for _ in 0..20 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(30)).await;
        drop(stream);
    }
    let after = settle_to(baseline).await;
    assert!(
        after <= baseline,
        "{after} tasks alive after the clients left, {baseline} before"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_keep_alive_connections() {
    raise_fd_limit(4096);
    let dir = app("", "");
    let (_booted, addr) = serve(&dir).await;
    let baseline = settle_to(0).await;
    let mut clients = Vec::new();
    for _ in 0..1000 {
        clients.push(tokio::spawn(async move {
            let mut stream = TcpStream::connect(addr).await?;
            let mut answers = Vec::new();
            for _ in 0..2 {
                stream
                    .write_all(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
                    .await?;
                answers.push(read_response(&mut stream).await?);
            }
            Ok::<_, std::io::Error>((stream, answers))
        }));
    }
    let mut streams = Vec::new();
    for client in clients {
        let (stream, answers) = client.await.unwrap().expect("a keep-alive client");
        for answer in answers {
            assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
            assert!(answer.ends_with(r#"{"ok":true}"#), "{answer}");
        }
        streams.push(stream);
    }
    assert_eq!(streams.len(), 1000);
    drop(streams);
    let after = settle_to(baseline).await;
    assert!(after <= baseline, "{after} tasks alive, {baseline} before");
}

/// Reads one response with a `Content-Length` body.
async fn read_response(stream: &mut TcpStream) -> std::io::Result<String> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1024];
    loop {
        let n = stream.read(&mut byte).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&byte[..n]);
        let text = String::from_utf8_lossy(&buf).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                return Ok(text);
            }
        }
    }
}

/// Raises the soft limit on open files (a thousand clients and their server ends).
fn raise_fd_limit(want: u64) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit write and read the plain struct given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < want {
            limit.rlim_cur = want.min(limit.rlim_max);
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

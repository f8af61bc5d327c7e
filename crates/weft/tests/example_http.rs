//! End-to-end: `examples/http` run by the built `weft` binary and used by a real client
//! on loopback — a JSON API with params and a body, a streamed SSE endpoint, CORS, a
//! token login guarding a route, and a single-page front end.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;

/// `weft -v run` on the example with the server on a free port; the child and its
/// base URL.
fn start() -> (Child, String, mpsc::Receiver<String>) {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/http");
    let mut child = Command::new(env!("CARGO_BIN_EXE_weft"))
        .arg("-C")
        .arg(&example)
        .args(["-v", "run", "-o", "app:gateway:addr=127.0.0.1:0"])
        .env_remove("WEFT_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run weft");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut log = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        let Ok(line) = rx.recv_timeout(left) else {
            break;
        };
        if line.contains("http.service listening")
            && let Some(addr) = line.split("addr=").nth(1)
        {
            let addr = addr
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string();
            return (child, format!("http://{addr}"), rx);
        }
        log.push(line);
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server did not start; log:\n{}", log.join("\n"));
}

/// Stops the child with SIGTERM and checks it exits 0.
fn stop(mut child: Child) {
    // SAFETY: kill sends a signal to a pid we own.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "weft exited with {status}");
            return;
        }
        assert!(Instant::now() < deadline, "weft did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http_example_serves_its_api_stream_login_and_front_end() {
    let (child, base, _log) = start();
    let c = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let url = |p: &str| format!("{base}{p}");

    // The JSON API: a list, a param, a 404, a body.
    let res = c.get(url("/api/items?limit=1")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let list: serde_json::Value = res.json().await.unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let item: serde_json::Value = c
        .get(url("/api/items/2"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(item["name"], "teapot");
    let res = c.get(url("/api/items/9")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = c
        .post(url("/api/items"))
        .header("content-type", "application/json")
        .body(r#"{"name":"cup"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: serde_json::Value = res.json().await.unwrap();
    assert_eq!(created["name"], "cup");

    // CORS: a preflight from a local front end is answered with the origin echoed.
    let res = c
        .request(reqwest::Method::OPTIONS, url("/api/items"))
        .header("origin", "http://localhost:5173")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "http://localhost:5173"
    );
    let res = c
        .get(url("/api/items"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());

    // SSE: the first tick arrives while the handler is still ticking.
    let started = Instant::now();
    let mut res = c.get(url("/api/ticks")).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let first = res.chunk().await.unwrap().expect("a first event");
    let first = String::from_utf8_lossy(&first).into_owned();
    assert!(
        first.starts_with("event: tick\ndata: {\"n\":1}\n\n"),
        "{first:?}"
    );
    assert!(
        started.elapsed() < Duration::from_millis(800),
        "streamed, not buffered"
    );
    let mut rest = Vec::new();
    while let Some(chunk) = res.chunk().await.unwrap() {
        rest.extend_from_slice(&chunk);
    }
    assert!(String::from_utf8_lossy(&rest).contains("data: {\"n\":5}"));

    // Login: a wrong password is refused; a right one gets a token for the private route.
    let res = c.get(url("/api/account/me")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let refusal: serde_json::Value = res.json().await.unwrap();
    assert_eq!(refusal["error"], "Authentication required");
    let res = c
        .post(url("/api/login"))
        .body(r#"{"user":"ada","password":"nope"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let login: serde_json::Value = c
        .post(url("/api/login"))
        .body(r#"{"user":"ada","password":"lovelace"}"#)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().expect("a token").to_string();
    let res = c
        .get(url("/api/account/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let me: serde_json::Value = res.json().await.unwrap();
    assert_eq!(me["user"], "ada");
    let res = c
        .get(url("/api/account/me"))
        .bearer_auth(format!("{token}x"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // The front end: files, and the index for client-side routes.
    let res = c.get(url("/")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("weft http example"));
    let res = c.get(url("/assets/app.js")).send().await.unwrap();
    assert!(res.text().await.unwrap().contains("EventSource"));
    let res = c.get(url("/items/42")).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "text/html; charset=utf-8");

    stop(child);
}

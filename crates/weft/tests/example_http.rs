//! End-to-end: `examples/http` run by the built `weft` binary and used by real clients
//! on loopback — a JSON API with params and a body, a streamed SSE endpoint, CORS, a
//! token login guarding a route, a single-page front end, a `wasi:http/incoming-handler`
//! component, a `transport: wasi-http` WAT function, and a WebSocket chat room served by
//! a Lua process through the relay.

mod common;

use std::path::Path;
use std::process::Child;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value as Json, json};
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// `weft -v run` on the example with the server on a free port; the child and its
/// base URL.
fn start() -> (Child, String, mpsc::Receiver<String>) {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/http");
    let (mut child, rx) = common::spawn_weft(
        &example,
        &["-v", "run", "-o", "app:gateway:addr=127.0.0.1:0"],
    );
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
    let res = c.get(url("/chat.html")).send().await.unwrap();
    assert!(res.text().await.unwrap().contains("/assets/chat.js"));
    let res = c.get(url("/items/42")).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "text/html; charset=utf-8");

    stop(child);
}

/// Joins the chat as `name`, retrying while the chat service starts (the endpoint says
/// 503 until the room is registered).
async fn join(base: &str, name: &str) -> Ws {
    let url = format!(
        "{}/ws/chat?name={name}",
        base.replacen("http://", "ws://", 1)
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match tokio_tungstenite::connect_async(&url).await {
            Ok((ws, _)) => return ws,
            Err(e) => {
                assert!(Instant::now() < deadline, "cannot join {url}: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// The next text frame from the server as JSON (`{"data": …, "topic": …}`), within 10 s.
async fn next(ws: &mut Ws) -> Json {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => {
                return serde_json::from_str(t.as_str())
                    .unwrap_or_else(|e| panic!("{}: {e}", t.as_str()));
            }
            Ok(Some(Ok(Message::Close(c)))) => panic!("closed: {c:?}"),
            Ok(Some(Ok(_))) => continue,
            other => panic!("no frame: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http_example_serves_webassembly_and_a_websocket_chat() {
    let (child, base, _log) = start();
    let c = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let url = |p: &str| format!("{base}{p}");

    // The Rust incoming-handler component sees the whole request.
    let res = c
        .get(url("/api/wasm/hello?lang=en"))
        .header("x-demo", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/plain; charset=utf-8");
    let text = res.text().await.unwrap();
    assert!(
        text.starts_with("hello\nmethod: GET\npath: /api/wasm/hello?lang=en\n"),
        "{text}"
    );
    assert!(text.contains("\nx-demo: 1\n"), "{text}");
    let text = c
        .post(url("/api/wasm/hello"))
        .body("a body")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.ends_with("body: a body\n"), "{text}");
    // ... and streams a body back, upper-cased.
    let res = c
        .post(url("/api/wasm/stream"))
        .body("stream me")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.text().await.unwrap(), "STREAM ME");
    // Only the routes the example declares reach it: the guest's `trap` is not one (the
    // single-page front end answers).
    let res = c.get(url("/api/wasm/trap")).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "text/html; charset=utf-8");

    // transport: wasi-http: the body is the WAT function's argument, its string the reply.
    let res = c.post(url("/api/greet")).body("Ada").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/plain; charset=utf-8");
    assert_eq!(res.text().await.unwrap(), "Hello, Ada!");

    // A plain GET on the chat socket is refused: it needs a WebSocket handshake.
    let res = c.get(url("/ws/chat")).send().await.unwrap();
    assert!(
        [
            StatusCode::UPGRADE_REQUIRED,
            StatusCode::SERVICE_UNAVAILABLE
        ]
        .contains(&res.status()),
        "{}",
        res.status()
    );

    // The chat: ada joins, alan joins (ada hears it), a message reaches both, alan leaves.
    let mut ada = join(&base, "ada").await;
    assert_eq!(
        next(&mut ada).await,
        json!({"data": {"name": "ada", "members": ["ada"]}, "topic": "welcome"})
    );
    let mut alan = join(&base, "alan").await;
    assert_eq!(
        next(&mut alan).await,
        json!({"data": {"name": "alan", "members": ["ada", "alan"]}, "topic": "welcome"})
    );
    assert_eq!(
        next(&mut ada).await,
        json!({"data": {"name": "alan"}, "topic": "joined"})
    );
    ada.send(Message::text("hello, Alan")).await.unwrap();
    for ws in [&mut ada, &mut alan] {
        assert_eq!(
            next(ws).await,
            json!({"data": {"from": "ada", "text": "hello, Alan"}, "topic": "message"})
        );
    }
    alan.close(None).await.unwrap();
    assert_eq!(
        next(&mut ada).await,
        json!({"data": {"name": "alan"}, "topic": "left"})
    );
    // The room goes on: a newcomer sees only ada.
    let mut grace = join(&base, "grace").await;
    assert_eq!(
        next(&mut grace).await,
        json!({"data": {"name": "grace", "members": ["ada", "grace"]}, "topic": "welcome"})
    );

    // The server stops cleanly with sockets open.
    stop(child);
    let _ = (ada, grace);
}

//! End-to-end: WebAssembly entries as `http.endpoint` functions, served on loopback to a
//! real client (reqwest): `transport: wasi-http` (the `types` component and the
//! `greet_core` WAT module) and `wasi:http/incoming-handler` components
//! (`guests/dist/http-hello.wasm`), with their faults, limits and the request's actor.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{dist, guest_entry, serve_http, write_app};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use weft_core::Value;

/// An `http.endpoint` `name` on router `router` calling `func`.
fn endpoint(name: &str, router: &str, method: &str, path: &str, func: &str) -> String {
    format!(
        "  - name: {name}\n    kind: http.endpoint\n    meta: {{router: {router}}}\n    method: {method}\n    path: {path}\n    func: {func}\n"
    )
}

/// An app serving `entries` on `t:gateway` (router `t:api`, prefix `/api`), with the
/// guests' directory as `t:guests` and `greet_core.wat` next to the index; `security` is
/// the service's `lifecycle.security` (YAML flow map, or empty).
fn app(entries: &str, security: &str) -> tempfile::TempDir {
    let security = if security.is_empty() {
        String::new()
    } else {
        format!("      security: {security}\n")
    };
    let index = format!(
        "version: \"1.0\"\nnamespace: t\nentries:\n  - {{name: guests, kind: fs.directory, directory: {}}}\n  - name: gateway\n    kind: http.service\n    addr: 127.0.0.1:0\n    lifecycle:\n      auto_start: true\n{security}  - name: api\n    kind: http.router\n    meta: {{server: gateway}}\n    prefix: /api\n{entries}",
        dist().display()
    );
    let wat = std::fs::read_to_string(dist().join("../wat/greet_core.wat")).unwrap();
    write_app(&[("src/_index.yaml", &index), ("src/greet_core.wat", &wat)])
}

/// The `http-hello` component as `name`, with extra YAML lines.
fn hello(name: &str, method: &str, extra: &str) -> String {
    guest_entry("function.wasm", name, "http-hello", method, extra)
}

const HANDLE: &str = "wasi:http/incoming-handler#handle";

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// Status, `Content-Type` and body text of a response.
async fn parts(res: reqwest::Response) -> (u16, String, String) {
    let status = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ct, res.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wasi_http_transport_passes_the_body_and_maps_the_result() {
    let entries = [
        guest_entry(
            "function.wasm",
            "upper",
            "types",
            "to-upper",
            "    transport: wasi-http\n",
        ),
        guest_entry(
            "function.wasm",
            "bytes",
            "types",
            "reverse-bytes",
            "    transport: wasi-http\n",
        ),
        guest_entry(
            "function.wasm",
            "length",
            "types",
            "string-length",
            "    transport: wasi-http\n",
        ),
        guest_entry(
            "function.wasm",
            "noop",
            "types",
            "noop",
            "    transport: wasi-http\n",
        ),
        "  - name: greet\n    kind: function.wat\n    source: file://greet_core.wat\n    method: greet\n    wit: \"greet: func(name: string) -> string;\"\n    transport: wasi-http\n    pool: {type: inline}\n".to_string(),
        endpoint("upper.ep", "api", "POST", "/upper", "upper"),
        endpoint("bytes.ep", "api", "POST", "/bytes", "bytes"),
        endpoint("length.ep", "api", "POST", "/length", "length"),
        endpoint("noop.ep", "api", "POST", "/noop", "noop"),
        endpoint("greet.ep", "api", "POST", "/wasm/greet", "greet"),
    ]
    .concat();
    let dir = app(&entries, "");
    let (booted, addr) = serve_http(dir.path(), "t:gateway").await;
    let url = |p: &str| format!("http://{addr}/api{p}");
    let c = client();

    // Wippy's own test: POST "Wippy" to a WAT greet.
    let res = c
        .post(url("/wasm/greet"))
        .body("Wippy")
        .send()
        .await
        .unwrap();
    assert_eq!(
        parts(res).await,
        (
            200,
            "text/plain; charset=utf-8".into(),
            "Hello, Wippy!".into()
        )
    );
    let res = c.post(url("/upper")).body("weft").send().await.unwrap();
    assert_eq!(
        parts(res).await,
        (200, "text/plain; charset=utf-8".into(), "WEFT".into())
    );
    let res = c.post(url("/bytes")).body("abc").send().await.unwrap();
    assert_eq!(
        parts(res).await,
        (200, "application/octet-stream".into(), "cba".into())
    );
    let res = c.post(url("/length")).body("four").send().await.unwrap();
    assert_eq!(
        parts(res).await,
        (200, "application/json".into(), "4".into())
    );
    // No body: no argument; no result: 204.
    let res = c.post(url("/noop")).send().await.unwrap();
    assert_eq!(parts(res).await, (204, String::new(), String::new()));
    // A body the method takes no argument for: the call fails (Wippy's count check).
    let res = c.post(url("/noop")).body("x").send().await.unwrap();
    assert_eq!(res.status().as_u16(), 500);

    // Through funcs.call, outside a request: a clear error, the guest never runs.
    let rt = booted.runtime.clone();
    let err = rt
        .functions
        .call(&rt.root_context(), "t:upper", vec![Value::from("x")])
        .await
        .unwrap_err();
    assert!(
        err.message().contains("not called outside a request"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incoming_handler_sees_the_whole_request() {
    let entries = [
        hello("hello", HANDLE, ""),
        hello("hello_v", "wasi:http/incoming-handler@0.2.0#handle", ""),
        endpoint("hello.ep", "api", "POST", "/hello/{rest...}", "hello"),
        endpoint("hello_v.ep", "api", "GET", "/v", "hello_v"),
    ]
    .concat();
    let dir = app(&entries, "");
    let (booted, addr) = serve_http(dir.path(), "t:gateway").await;
    let c = client();
    let res = c
        .post(format!("http://{addr}/api/hello/x?q=1&r=two"))
        .header("x-custom", "yes")
        .body("the body")
        .send()
        .await
        .unwrap();
    let (status, ct, text) = parts(res).await;
    assert_eq!((status, ct.as_str()), (200, "text/plain; charset=utf-8"));
    assert!(
        text.starts_with("hello\nmethod: POST\npath: /api/hello/x?q=1&r=two\n"),
        "{text}"
    );
    assert!(text.contains("\nx-custom: yes\n"), "{text}");
    // wasmtime-wasi-http hides the forbidden headers (`host`, `connection`, …) from
    // guests, as under `wasmtime serve`.
    assert!(!text.contains("\nhost:"), "{text}");
    assert!(text.ends_with("body: the body\n"), "{text}");
    // The version in the method is optional; a GET has an empty body.
    let res = c.get(format!("http://{addr}/api/v")).send().await.unwrap();
    let (status, _, text) = parts(res).await;
    assert_eq!(status, 200);
    assert!(text.contains("method: GET\npath: /api/v\n") && text.ends_with("body: \n"));

    // Not a function to call with values.
    let rt = booted.runtime.clone();
    let err = rt
        .functions
        .call(&rt.root_context(), "t:hello", Vec::new())
        .await
        .unwrap_err();
    assert!(
        err.message().contains("incoming-handler") && err.message().contains("outside a request"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incoming_handler_streams_its_response_while_it_reads_the_request() {
    let entries = [
        hello("hello", HANDLE, ""),
        endpoint("stream.ep", "api", "POST", "/stream", "hello"),
        endpoint("big.ep", "api", "GET", "/big", "hello"),
    ]
    .concat();
    let dir = app(&entries, "");
    let (_booted, addr) = serve_http(dir.path(), "t:gateway").await;

    // Full duplex on one connection: each request chunk comes back upper-cased before
    // the next one is sent (so the response streams while the guest still runs).
    let mut sock = tokio::net::TcpStream::connect(addr).await.unwrap();
    sock.write_all(
        b"POST /api/stream HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n5\r\nfirst\r\n",
    )
    .await
    .unwrap();
    let got = read_until(&mut sock, b"FIRST").await;
    assert!(got.starts_with("HTTP/1.1 200 OK\r\n"), "{got}");
    assert!(
        got.to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "{got}"
    );
    sock.write_all(b"6\r\nsecond\r\n").await.unwrap();
    read_until(&mut sock, b"SECOND").await;
    sock.write_all(b"0\r\n\r\n").await.unwrap();
    read_until(&mut sock, b"0\r\n\r\n").await;

    // A big response streams whole, with the right length.
    let res = client()
        .get(format!("http://{addr}/api/big?n=300000"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let body = res.bytes().await.unwrap();
    assert_eq!(body.len(), 300_000);
    assert!(body.iter().all(|&b| b == b'x'));
    // A small one goes out whole, with a Content-Length.
    let res = client()
        .get(format!("http://{addr}/api/big?n=10"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers().get("content-length").unwrap(), "10");
}

/// Reads from `sock` until what was read contains `needle`; all of it as text.
async fn read_until(sock: &mut tokio::net::TcpStream, needle: &[u8]) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    tokio::time::timeout(Duration::from_secs(10), async {
        while !buf.windows(needle.len()).any(|w| w == needle) {
            let n = sock.read(&mut chunk).await.unwrap();
            assert!(n > 0, "closed: {}", String::from_utf8_lossy(&buf));
            buf.extend_from_slice(&chunk[..n]);
        }
    })
    .await
    .unwrap_or_else(|_| panic!("timed out: {}", String::from_utf8_lossy(&buf)));
    String::from_utf8_lossy(&buf).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traps_are_500_deadlines_504_and_the_next_request_is_served() {
    let entries = [
        hello(
            "hello",
            HANDLE,
            "    limits: {max_execution_ms: 300}\n    pool: {type: lazy, max_size: 2}\n",
        ),
        guest_entry(
            "function.wasm",
            "spin_t",
            "spin",
            "spin-forever",
            "    transport: wasi-http\n    limits: {max_execution_ms: 200}\n",
        ),
        endpoint("trap.ep", "api", "GET", "/trap", "hello"),
        endpoint("spin.ep", "api", "GET", "/spin", "hello"),
        endpoint("ok.ep", "api", "GET", "/ok", "hello"),
        endpoint("spin_t.ep", "api", "GET", "/spin-t", "spin_t"),
    ]
    .concat();
    let dir = app(&entries, "");
    let (_booted, addr) = serve_http(dir.path(), "t:gateway").await;
    let c = client();
    let get = |p: &str| c.get(format!("http://{addr}/api{p}")).send();
    for _ in 0..3 {
        let (status, _, text) = parts(get("/trap").await.unwrap()).await;
        assert_eq!(status, 500, "{text}");
        assert!(text.contains("unreachable"), "{text}");
        let (status, _, text) = parts(get("/spin").await.unwrap()).await;
        assert_eq!(status, 504, "{text}");
        assert!(text.contains("max_execution_ms"), "{text}");
        let (status, _, text) = parts(get("/ok").await.unwrap()).await;
        assert_eq!(status, 200, "{text}");
    }
    let (status, _, _) = parts(get("/spin-t").await.unwrap()).await;
    assert_eq!(status, 504);
    // Many at once through a pool of two: all answered.
    let all = (0..16).map(|i| {
        let c = c.clone();
        let path = if i % 2 == 0 { "/ok" } else { "/trap" };
        let url = format!("http://{addr}/api{path}");
        async move { c.get(url).send().await.unwrap().status().as_u16() }
    });
    let statuses = futures_join(all).await;
    for (i, s) in statuses.iter().enumerate() {
        assert_eq!(*s, if i % 2 == 0 { 200 } else { 500 });
    }
}

/// Runs futures concurrently, their outputs in order.
async fn futures_join<F: std::future::Future + Send + 'static>(
    futs: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send,
{
    let tasks: Vec<_> = futs.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

/// A plain HTTP server on loopback answering 200 `pong` and counting its requests.
async fn pong_server() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/ping", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let mut head = Vec::new();
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                counter.fetch_add(1, Ordering::SeqCst);
                let _ = sock
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\nconnection: close\r\n\r\npong",
                    )
                    .await;
            });
        }
    });
    (url, hits)
}

/// A server on loopback answering every request with a 302 to `location`.
async fn redirect_server(location: &str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/moved", listener.local_addr().unwrap());
    let reply = format!(
        "HTTP/1.1 302 Found\r\nlocation: {location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    );
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let reply = reply.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let _ = sock.write_all(reply.as_bytes()).await;
            });
        }
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_actor_decides_the_guests_outgoing_requests() {
    let (target, hits) = pong_server().await;
    // One policy: calls for everyone, outgoing HTTP (loopback included) for bob only.
    // Two servers run the same guest: bob's request goes out, alice's is denied.
    let entries = format!(
        r#"  - name: calls
    kind: security.policy
    policy: {{actions: funcs.call, resources: "*", effect: allow}}
  - name: bob_fetches
    kind: security.policy
    policy:
      actions: "http_client.*"
      resources: "*"
      effect: allow
      conditions:
        - {{field: actor.id, operator: eq, value: bob}}
  - name: bob_gateway
    kind: http.service
    addr: 127.0.0.1:0
    lifecycle:
      auto_start: true
      security: {{actor: {{id: bob}}, policies: [calls, bob_fetches]}}
  - name: bob_api
    kind: http.router
    meta: {{server: bob_gateway}}
{fetch}{bob_ep}{alice_ep}"#,
        fetch = hello("fetch", HANDLE, "    imports: [wasi:http]\n"),
        bob_ep = endpoint("fetch.bob", "bob_api", "GET", "/fetch", "fetch"),
        alice_ep = endpoint("fetch.alice", "api", "GET", "/fetch", "fetch"),
    );
    let dir = app(
        &entries,
        "{actor: {id: alice}, policies: [calls, bob_fetches]}",
    );
    let (booted, alice) = serve_http(dir.path(), "t:gateway").await;
    let bob = booted
        .http
        .server("t:bob_gateway")
        .and_then(|s| s.local_addr())
        .unwrap();
    let c = client();
    let query = format!("url={target}");
    let res = c
        .get(format!("http://{bob}/fetch?{query}"))
        .send()
        .await
        .unwrap();
    assert_eq!(parts(res).await.2, "fetched 200");
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    // Redirects are not followed by the host: the guest gets the 302 itself, and any
    // request it makes to the target is checked like the first.
    let redirect = redirect_server(&target).await;
    let res = c
        .get(format!("http://{bob}/fetch?url={redirect}"))
        .send()
        .await
        .unwrap();
    assert_eq!(parts(res).await.2, "fetched 302");
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    let res = c
        .get(format!("http://{alice}/api/fetch?{query}"))
        .send()
        .await
        .unwrap();
    let (status, _, text) = parts(res).await;
    assert_eq!(
        (status, text.as_str()),
        (502, "fetch failed: ErrorCode::HttpRequestDenied")
    );
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "a denied request reached the server"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_past_its_memory_or_mid_body_is_stopped_and_the_next_request_is_served() {
    let entries = [
        hello(
            "small",
            HANDLE,
            "    limits: {max_memory_mb: 4, max_execution_ms: 2000}\n",
        ),
        hello("endless", HANDLE, "    limits: {max_execution_ms: 300}\n"),
        endpoint("echo.ep", "api", "POST", "/echo", "small"),
        endpoint("big.ep", "api", "GET", "/big", "endless"),
        endpoint("ok.ep", "api", "GET", "/ok", "endless"),
    ]
    .concat();
    let dir = app(&entries, "");
    let (_booted, addr) = serve_http(dir.path(), "t:gateway").await;
    let c = client();

    // The echo reads the whole body into the guest's memory: 16 MB cannot fit in 4 MB.
    let res = c
        .post(format!("http://{addr}/api/echo"))
        .body(vec![b'a'; 16 << 20])
        .send()
        .await;
    if let Ok(res) = res {
        assert_eq!(res.status().as_u16(), 500, "a guest past its memory limit");
    }
    let (status, _, _) = parts(
        c.post(format!("http://{addr}/api/echo"))
            .body("small")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "the next request is served");

    // A body that would never end is cut at the deadline: the client's read fails.
    let started = std::time::Instant::now();
    let res = c
        .get(format!("http://{addr}/api/big?n=4000000000"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200, "the head went out first");
    assert!(
        res.bytes().await.is_err(),
        "a body cut short is not a complete one"
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "cut after {:?}",
        started.elapsed()
    );
    let (status, _, _) = parts(c.get(format!("http://{addr}/api/ok")).send().await.unwrap()).await;
    assert_eq!(status, 200);
}

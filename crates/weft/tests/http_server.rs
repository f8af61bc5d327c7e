//! End-to-end: an app's `http.service` serves its routers, endpoints and static mounts on
//! loopback to a real client (reqwest); boot rejects bad routing on the entry at fault.

mod common;

use std::path::Path;
use std::time::Duration;

use reqwest::StatusCode;

use common::write_app as app;

/// A server, a router at `/api`, and `endpoints` (YAML entries) after them.
fn index(endpoints: &str) -> String {
    format!(
        r#"version: "1.0"
namespace: app
entries:
  - name: gateway
    kind: http.service
    addr: 127.0.0.1:0
    lifecycle: {{auto_start: true}}
  - name: api
    kind: http.router
    meta: {{server: gateway}}
    prefix: /api
{endpoints}"#
    )
}

/// A `function.lua` entry `name` whose `handler` has `body`, and its GET endpoint.
fn lua_route(name: &str, method: &str, path: &str, body: &str, extra: &str) -> String {
    format!(
        r#"  - name: {name}
    kind: function.lua
    method: handler
{extra}    source: |
      local function handler()
        {body}
      end
      return {{ handler = handler }}
  - name: {name}.endpoint
    kind: http.endpoint
    meta: {{router: api}}
    method: {method}
    path: {path}
    func: {name}
"#
    )
}

/// A booted app with its services started, and the base URL of `app:gateway`.
struct Served {
    booted: weft::Booted,
    base: String,
    _dir: tempfile::TempDir,
}

async fn serve(dir: tempfile::TempDir) -> Served {
    let (booted, addr) = common::serve_http(dir.path(), "app:gateway").await;
    Served {
        booted,
        base: format!("http://{addr}"),
        _dir: dir,
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

async fn boot_error(dir: &Path) -> String {
    match common::boot_app_dir(dir).await {
        Ok(_) => panic!("boot should fail"),
        Err(e) => e,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_answer_like_go_servemux() {
    let routes = [
        lua_route("hello", "GET", "/hello", "return { message = \"hi\" }", ""),
        lua_route("create", "POST", "/items/", "return { created = true }", ""),
    ]
    .concat();
    let s = serve(app(&[("src/_index.yaml", &index(&routes))])).await;
    let c = client();

    let res = c.get(format!("{}/api/hello", s.base)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/json");
    assert_eq!(res.text().await.unwrap(), r#"{"message":"hi"}"#);

    // GET serves HEAD, with no body.
    let res = c
        .head(format!("{}/api/hello", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.text().await.unwrap(), "");

    // A routed path answers OPTIONS itself.
    let res = c
        .request(reqwest::Method::OPTIONS, format!("{}/api/hello", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    // Another method: 405 with the Allow list.
    let res = c
        .delete(format!("{}/api/hello", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.headers()["allow"], "GET, HEAD, OPTIONS");
    assert_eq!(res.text().await.unwrap(), "Method Not Allowed\n");

    // No route at all: Go's 404 text.
    let res = c.get(format!("{}/nowhere", s.base)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(res.headers()["content-type"], "text/plain; charset=utf-8");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.text().await.unwrap(), "404 page not found\n");

    // A subtree without its slash redirects to it, query kept; unclean paths are cleaned.
    let res = c
        .post(format!("{}/api/items?x=1", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(res.headers()["location"], "/api/items/?x=1");
    let res = c
        .post(format!("{}/api/items/a/b", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = reqwest_raw_get(&s.base, "/api/x/../hello").await;
    assert!(res.starts_with("HTTP/1.1 301"), "{res}");
    assert!(
        res.to_ascii_lowercase().contains("location: /api/hello"),
        "{res}"
    );
}

/// A GET with the path sent as is (clients clean `..` themselves).
async fn reqwest_raw_get(base: &str, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    stream.read_to_end(&mut out).await.unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_handlers_answer_500_or_504_and_the_server_keeps_serving() {
    let routes = [
        lua_route("boom", "GET", "/boom", "error(\"kaput\")", ""),
        lua_route("silent", "GET", "/silent", "return nil", ""),
        lua_route("pair", "GET", "/pair", "return nil, \"Failed to get HTTP context\"", ""),
        lua_route(
            "spin",
            "GET",
            "/spin",
            "while true do end",
            "    limits: {max_execution_ms: 200}\n",
        ),
        lua_route("ok", "GET", "/ok", "return { fine = true }", ""),
        lua_route("garbage", "GET", "/garbage", "return function() end", ""),
        lua_route(
            "upload",
            "POST",
            "/upload",
            "local http = require(\"http\")\n        local body = assert(http.request({ max_body = 8 }):body())\n        return { size = #body }",
            "    modules: [http]\n",
        ),
        "  - name: ghost.endpoint\n    kind: http.endpoint\n    meta: {router: api}\n    method: GET\n    path: /ghost\n    func: nobody\n".into(),
    ]
    .concat();
    let s = serve(app(&[("src/_index.yaml", &index(&routes))])).await;
    let c = client();
    let get = |p: &str| c.get(format!("{}/api/{p}", s.base)).send();

    let res = get("boom").await.unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(res.headers()["content-type"], "text/plain; charset=utf-8");
    let text = res.text().await.unwrap();
    assert!(text.contains("kaput"), "{text}");
    assert!(!text.contains("stack traceback"), "{text}");

    let res = get("silent").await.unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(res.text().await.unwrap(), "no response sent\n");

    let res = get("pair").await.unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Failed to get HTTP context")
    );

    let res = get("ghost").await.unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(res.text().await.unwrap().contains("app:nobody"));

    // A value that is no data at all goes out as its string form (as every Lua value
    // crossing a call does), still valid JSON.
    let res = get("garbage").await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: serde_json::Value = serde_json::from_str(&res.text().await.unwrap()).unwrap();
    assert!(body.as_str().unwrap().starts_with("function"), "{body}");

    let res = get("spin").await.unwrap();
    assert_eq!(res.status(), StatusCode::GATEWAY_TIMEOUT);

    // A body over the endpoint's max_body, unanswered by the handler: 413.
    let post = |body: &'static str| c.post(format!("{}/api/upload", s.base)).body(body).send();
    let res = post("0123456789").await.unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(res.text().await.unwrap(), "request body too large\n");
    assert_eq!(
        post("0123").await.unwrap().text().await.unwrap(),
        r#"{"size":4}"#
    );

    let res = get("ok").await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    drop(s.booted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_files_stay_inside_their_root() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "secret").unwrap();
    let yaml = index("")
        + r#"  - name: public
    kind: fs.directory
    directory: ./public
  - name: site
    kind: http.static
    meta: {server: gateway}
    path: /static
    fs: public
    static_options: {cache: "public, max-age=60"}
  - name: spa_files
    kind: fs.directory
    directory: ./spa
  - name: spa
    kind: http.static
    meta: {server: gateway}
    path: /app
    fs: spa_files
    options: {spa: true, index: index.html}
"#;
    let dir = app(&[
        ("src/_index.yaml", &yaml),
        ("public/a.txt", "alpha"),
        ("public/docs/index.html", "<html><body>docs</body></html>"),
        ("public/empty/x.txt", "x"),
        ("spa/index.html", "<html>spa</html>"),
        ("spa/app.js", "console.log(1)"),
    ]);
    std::os::unix::fs::symlink(
        outside.path().join("secret.txt"),
        dir.path().join("public/leak.txt"),
    )
    .unwrap();
    let s = serve(dir).await;
    let c = client();
    let get = |p: &str| c.get(format!("{}{p}", s.base)).send();

    let res = get("/static/a.txt").await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "public, max-age=60");
    assert_eq!(res.headers()["content-type"], "text/plain");
    assert_eq!(res.text().await.unwrap(), "alpha");

    let res = get("/static/docs").await.unwrap();
    assert_eq!(res.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(res.headers()["location"], "docs/");
    let res = get("/static/docs/").await.unwrap();
    assert!(res.text().await.unwrap().contains("docs"));
    let res = get("/static/empty/").await.unwrap();
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("<a href=\"x.txt\">x.txt</a>")
    );

    // Escapes: a symlink out of the root, and `..` (cleaned by the router first).
    assert_eq!(
        get("/static/leak.txt").await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let raw = reqwest_raw_get(&s.base, "/static/%2e%2e/%2e%2e/etc/passwd").await;
    assert!(raw.starts_with("HTTP/1.1 404"), "{raw}");
    assert_eq!(
        get("/static/nope.txt").await.unwrap().status(),
        StatusCode::NOT_FOUND
    );

    // Range requests are served by tower-http.
    let res = c
        .get(format!("{}/static/a.txt", s.base))
        .header("range", "bytes=1-2")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(res.text().await.unwrap(), "lp");

    // SPA: files as they are, every other path the index, under a non-root mount.
    assert_eq!(
        get("/app/app.js").await.unwrap().text().await.unwrap(),
        "console.log(1)"
    );
    let res = get("/app/some/client/route").await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/html; charset=utf-8");
    assert_eq!(res.text().await.unwrap(), "<html>spa</html>");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_routing_fails_the_boot_on_the_entry_at_fault() {
    // Two endpoints on one pattern.
    let routes = [
        lua_route("a", "GET", "/users/{id}", "return {}", ""),
        lua_route("b", "GET", "/users/{name}", "return {}", ""),
    ]
    .concat();
    let dir = app(&[("src/_index.yaml", &index(&routes))]);
    let e = boot_error(dir.path()).await;
    assert!(
        e.contains("app:b.endpoint") && e.contains("app:a.endpoint"),
        "{e}"
    );
    assert!(e.contains("conflicts"), "{e}");

    // An endpoint whose router does not exist.
    let dir = app(&[(
        "src/_index.yaml",
        &index(
            "  - name: lost\n    kind: http.endpoint\n    meta: {router: nowhere}\n    method: GET\n    path: /x\n    func: f\n",
        ),
    )]);
    let e = boot_error(dir.path()).await;
    assert!(
        e.contains("app:lost") && e.contains("router not found: app:nowhere"),
        "{e}"
    );

    // Validation messages name the field.
    for (fields, message) in [
        (
            "method: get\n    path: /x\n    func: f",
            "invalid HTTP method: get",
        ),
        (
            "method: GET\n    path: x\n    func: f",
            "path must start with /",
        ),
        ("method: GET\n    path: /x", "function name is required"),
    ] {
        let yaml = index(&format!(
            "  - name: bad\n    kind: http.endpoint\n    meta: {{router: api}}\n    {fields}\n"
        ));
        let dir = app(&[("src/_index.yaml", &yaml)]);
        let e = boot_error(dir.path()).await;
        assert!(e.contains("app:bad") && e.contains(message), "{e}");
    }

    // An unknown middleware.
    let yaml = index("").replace(
        "    prefix: /api\n",
        "    prefix: /api\n    middleware: [teleport]\n",
    );
    let dir = app(&[("src/_index.yaml", &yaml)]);
    let e = boot_error(dir.path()).await;
    assert!(
        e.contains("app:api") && e.contains("middleware not found: teleport"),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_port_fails_the_boot_naming_entry_and_address() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let yaml = index("").replace("127.0.0.1:0", &addr.to_string());
    let dir = app(&[("src/_index.yaml", &yaml)]);
    let e = boot_error(dir.path()).await;
    assert!(e.contains("app:gateway"), "{e}");
    assert!(e.contains(&format!("cannot listen on {addr}")), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_drains_requests_in_flight() {
    let routes = lua_route(
        "slow",
        "GET",
        "/slow",
        "time.sleep(\"300ms\")\n        return { done = true }",
        "    modules: [time]\n",
    );
    let s = serve(app(&[("src/_index.yaml", &index(&routes))])).await;
    let c = client();
    let url = format!("{}/api/slow", s.base);
    let in_flight = tokio::spawn({
        let c = c.clone();
        let url = url.clone();
        async move { c.get(url).send().await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let stopped = s
        .booted
        .runtime
        .services
        .stop_all(Duration::from_secs(5))
        .await;
    assert_eq!(stopped, 0, "the server stopped within its grace period");
    let res = in_flight
        .await
        .unwrap()
        .expect("the request in flight finished");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.text().await.unwrap(), r#"{"done":true}"#);
    // The listener is closed.
    let fresh = client();
    assert!(fresh.get(&url).send().await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_server_starts_again_like_any_service() {
    let routes = lua_route("hello", "GET", "/hello", "return { n = 1 }", "");
    let s = serve(app(&[("src/_index.yaml", &index(&routes))])).await;
    let services = &s.booted.runtime.services;
    assert_eq!(services.stop_all(Duration::from_secs(5)).await, 0);
    assert!(
        client()
            .get(format!("{}/api/hello", s.base))
            .send()
            .await
            .is_err()
    );
    services.start("app:gateway").await.expect("restart");
    // `:0` binds a fresh port on each start, once the process runs.
    let server = s.booted.http.server("app:gateway").unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let addr = loop {
        if let Some(addr) = server.local_addr() {
            break addr;
        }
        assert!(std::time::Instant::now() < deadline, "not listening again");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let res = client()
        .get(format!("http://{addr}/api/hello"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.text().await.unwrap(), r#"{"n":1}"#);
    let status = services.status("app:gateway").unwrap();
    assert_eq!(status.state, weft_runtime::ServiceState::Running);
    assert!(status.running_pid.unwrap().starts_with("{app:gateway|"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_tls_serves_https_with_the_given_certificate() {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let routes = lua_route("hello", "GET", "/hello", "return { secure = true }", "");
    let yaml = index(&routes).replace(
        "    addr: 127.0.0.1:0\n",
        "    addr: 127.0.0.1:0\n    tls: {mode: manual, cert: certs/cert.pem, key: certs/key.pem}\n",
    );
    let dir = app(&[
        ("src/_index.yaml", &yaml),
        ("certs/cert.pem", &cert.cert.pem()),
        ("certs/key.pem", &cert.signing_key.serialize_pem()),
    ]);
    let s = serve(dir).await;
    let port = s.base.rsplit(':').next().unwrap();
    let cx = weft_core::CallContext::root(false);
    let mut req = weft_http::Request::new("GET", format!("https://localhost:{port}/api/hello"));
    req.tls = Some(weft_http::TlsOptions {
        ca: Some(cert.cert.pem()),
        ..weft_http::TlsOptions::default()
    });
    let res = weft_http::HttpClient::new()
        .request(&cx, req)
        .await
        .expect("https request");
    assert_eq!(res.status, 200);
    let weft_http::ResponseBody::Bytes(body) = res.body else {
        panic!("streamed")
    };
    assert_eq!(&body[..], br#"{"secure":true}"#);
    // Plain HTTP on the TLS port is not served.
    let plain = client().get(format!("{}/api/hello", s.base)).send().await;
    assert!(plain.is_err() || plain.unwrap().status() != StatusCode::OK);

    // A key that does not parse fails the boot on the entry's tls field.
    let dir = app(&[
        ("src/_index.yaml", &yaml),
        ("certs/cert.pem", &cert.cert.pem()),
        ("certs/key.pem", "not a key"),
    ]);
    let e = boot_error(dir.path()).await;
    assert!(
        e.contains("app:gateway") && e.contains("tls") && e.contains("key"),
        "{e}"
    );
}

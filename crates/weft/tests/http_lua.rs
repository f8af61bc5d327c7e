//! End-to-end: the Lua `http` module in `http.endpoint` functions, served by an app's
//! `http.service` on loopback to a real client (weft's own `HttpClient`, and raw TCP where
//! the test must see the wire: chunked framing, SSE frames before the handler returns).

mod common;

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use weft_http::{FilePart, HttpClient, Request, ResponseBody};

/// A `function.lua` entry `name` (`modules: [http, …]`) whose `handler` runs `body`, and
/// its endpoint `method path` on the router `app:api` (prefix `/api`).
fn route(name: &str, method: &str, path: &str, body: &str) -> String {
    let body: String = body.lines().map(|l| format!("        {l}\n")).collect();
    format!(
        r#"  - name: {name}
    kind: function.lua
    method: handler
    modules: [http, funcs, time]
    source: |
      local function handler()
{body}      end
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

const ECHO: &str = r#"
local req, rerr = http.request()
if rerr then error(rerr) end
local res = http.response()
local body, err = req:body_json()
if err then error(err) end
local _, again = req:body()
local _, not_multipart = req:parse_multipart()
local frozen = pcall(function() http.STATUS.OK = 1 end)
res:write_json({
  id = req:param("id"),
  missing = req:param("nope"),
  params = req:params(),
  q = req:query("q"),
  qs = req:query_params(),
  body = body,
  method = req:method(),
  path = req:path(),
  ct = req:content_type(),
  len = req:content_length(),
  has = req:has_body(),
  json_ct = req:is_content_type(http.CONTENT.JSON),
  accepts_json = req:accepts("application/json"),
  accepts_xml = req:accepts("application/xml"),
  lower = req:header("x-custom-header"),
  canon = req:header("X-Custom-Header"),
  absent = req:header("X-Absent"),
  host = req:host() ~= "",
  remote = req:remote_addr():find("127.0.0.1", 1, true) == 1,
  again = again:kind() .. ": " .. again:message(),
  not_multipart = not_multipart:kind() .. ": " .. not_multipart:message(),
  frozen = not frozen,
  status_ok = http.STATUS.OK,
  sse = http.TRANSFER.SSE,
  get = http.METHOD.GET,
  req_text = tostring(req),
  res_text = tostring(res),
})
"#;

const SMALL: &str = r#"
local req = http.request({ max_body = 8 })
local _, err = req:body()
local res = http.response()
res:set_status(http.STATUS.BAD_REQUEST)
res:write(err:kind() .. ": " .. err:message())
"#;

const BOOM: &str = r#"
local res = http.response()
res:set_content_type("text/plain") -- does not mark the response handled
error("kaput")
"#;

const SILENT: &str = r#"
local res = http.response()
res:set_content_type("text/plain")
"#;

const STATUS: &str = r#"
local res = http.response()
res:set_status(http.STATUS.ACCEPTED)
local late = res:set_header("X-Late", "1")
local other = http.response():set_header("X-Other", "1")
local ok, bad = pcall(function() res:set_transfer("bogus") end)
res:write_json({ late = late:kind() .. ": " .. late:message(), other = other == nil,
  raised = not ok and tostring(bad):find("invalid transfer type", 1, true) ~= nil })
"#;

const HEADER_ONLY: &str = r#"
http.response():set_header("X-Only", "yes")
"#;

const CHUNKED: &str = r#"
local res = http.response()
res:set_transfer(http.TRANSFER.CHUNKED)
res:write("ab")
res:write("cd")
"#;

const EVENTS: &str = r#"
local req = http.request()
local res = http.response()
local has, len = req:has_body(), req:content_length()
res:write_event({ name = "first", data = { n = 1, has = has, len = len } })
-- The client sends the rest of the body only once it has read the first event.
local go, err = req:body()
if err then error(err) end
res:write_event({ name = "second", data = go })
local late = res:set_header("X-Late", "1")
res:write_event({ name = "third", data = late:message() })
"#;

const UPLOAD: &str = r#"
local req = http.request()
local mem = req:query("mem")
mem = mem and tonumber(mem)
local form, err = req:parse_multipart(mem)
if err then error(err) end
local f = form.files.doc[1]
local s = f:stream()
local parts = {}
while true do
  local chunk, rerr = s:read(3)
  if rerr then error(rerr) end
  if chunk == nil then break end
  parts[#parts + 1] = chunk
end
http.response():write_json({
  values = form.values, name = f:name(), size = f:size(),
  ct = f:header("content-type"), disposition = f:header("Content-Disposition") ~= nil,
  content = table.concat(parts), count = #form.files.doc, text = tostring(f),
  stat = s:stat().size,
})
"#;

const OUTER: &str = r#"
local req, err = http.request()
if err then error(err) end
local inner, ierr = funcs.call("app:inner")
if ierr then error(ierr) end
http.response():write_json({ inner = inner, mine = req:method() })
"#;

fn app() -> tempfile::TempDir {
    let routes = [
        route("echo", "POST", "/echo/{id}", ECHO),
        route("small", "POST", "/small", SMALL),
        route("boom", "GET", "/boom", BOOM),
        route("silent", "GET", "/silent", SILENT),
        route("status", "GET", "/status", STATUS),
        route("header_only", "GET", "/header-only", HEADER_ONLY),
        route("chunked", "GET", "/chunked", CHUNKED),
        route("events", "POST", "/events", EVENTS),
        route("upload", "POST", "/upload", UPLOAD),
        route("outer", "GET", "/nested", OUTER),
    ]
    .concat();
    let index = format!(
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
  - name: inner
    kind: function.lua
    method: handler
    modules: [http]
    source: |
      local function handler()
        local req, err = http.request()
        local res, rerr = http.response()
        return {{ got = req ~= nil or res ~= nil, kind = err:kind(), msg = err:message(),
          same = rerr:message() == err:message() }}
      end
      return {{ handler = handler }}
{routes}"#
    );
    common::write_app(&[("src/_index.yaml", &index)])
}

/// The app booted, its services started, and the address of `app:gateway`.
async fn serve() -> (weft::Booted, String, tempfile::TempDir) {
    let dir = app();
    let (booted, addr) = common::serve_http(dir.path(), "app:gateway").await;
    (booted, addr.to_string(), dir)
}

/// Sends `req` with weft's client; (status, headers, body).
async fn send(req: Request) -> (u16, Vec<(String, String)>, String) {
    let cx = weft_core::CallContext::root(false);
    let res = HttpClient::new().request(&cx, req).await.expect("request");
    let ResponseBody::Bytes(body) = res.body else {
        panic!("not streamed")
    };
    (
        res.status,
        res.headers,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// Reads from `stream` into `seen` until it contains `needle` (5 s at most).
async fn read_until(stream: &mut TcpStream, seen: &mut Vec<u8>, needle: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !String::from_utf8_lossy(seen).contains(needle) {
        let mut buf = [0u8; 4096];
        let n = tokio::time::timeout_at(deadline, stream.read(&mut buf))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "no {needle:?} within 5 s; got {:?}",
                    String::from_utf8_lossy(seen)
                )
            })
            .unwrap();
        assert!(
            n > 0,
            "closed before {needle:?}: {:?}",
            String::from_utf8_lossy(seen)
        );
        seen.extend_from_slice(&buf[..n]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_and_response_of_an_endpoint() {
    let (_booted, addr, _dir) = serve().await;
    let base = format!("http://{addr}/api");

    let mut req = Request::new("POST", format!("{base}/echo/42?q=a+b&q=c&z=1"));
    req.body = Some(r#"{"name":"ann","n":[1,2]}"#.into());
    req.headers = vec![
        (
            "Content-Type".into(),
            "application/json; charset=utf-8".into(),
        ),
        ("x-CUSTOM-header".into(), "v1".into()),
        ("Accept".into(), "text/html, application/json;q=0.9".into()),
    ];
    let (status, headers, body) = send(req).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(header(&headers, "content-type"), Some("application/json"));
    let v = json(&body);
    assert_eq!(v["id"], "42");
    assert_eq!(v["missing"], serde_json::Value::Null);
    assert_eq!(v["params"], serde_json::json!({"id": "42"}));
    assert_eq!(v["q"], "a b");
    assert_eq!(v["qs"], serde_json::json!({"q": "a b,c", "z": "1"}));
    assert_eq!(v["body"], serde_json::json!({"name": "ann", "n": [1, 2]}));
    assert_eq!(v["method"], "POST");
    assert_eq!(v["path"], "/api/echo/42");
    assert_eq!(v["ct"], "application/json; charset=utf-8");
    assert_eq!(v["len"], 24);
    assert_eq!(v["has"], true);
    assert_eq!(v["json_ct"], true);
    assert_eq!(v["accepts_json"], true);
    assert_eq!(v["accepts_xml"], false);
    // Header names are looked up case-insensitively (Wippy: only the canonical form).
    assert_eq!(v["lower"], "v1");
    assert_eq!(v["canon"], "v1");
    assert_eq!(v["absent"], serde_json::Value::Null);
    assert_eq!(v["host"], true);
    assert_eq!(v["remote"], true);
    assert_eq!(
        v["again"],
        "Internal: failed to read body: request body already read"
    );
    assert_eq!(
        v["not_multipart"],
        "Invalid: content type is not multipart/form-data"
    );
    assert_eq!(v["frozen"], true);
    assert_eq!(v["status_ok"], 200);
    assert_eq!(v["sse"], "sse");
    assert_eq!(v["get"], "GET");
    assert_eq!(
        v["req_text"],
        "http.Request{method=POST, path=/api/echo/42}"
    );
    assert_eq!(v["res_text"], "http.Response{}");

    // A body over max_body.
    let mut req = Request::new("POST", format!("{base}/small"));
    req.body = Some("0123456789".into());
    let (status, _, body) = send(req).await;
    assert_eq!(status, 400);
    assert_eq!(body, "Invalid: request body too large");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handled_and_headers_sent_decide_the_answer() {
    let (_booted, addr, _dir) = serve().await;
    let base = format!("http://{addr}/api");

    // A raised error: 500 with its message (set_content_type did not mark it handled).
    let (status, headers, body) = send(Request::new("GET", format!("{base}/boom"))).await;
    assert_eq!(status, 500);
    assert!(body.contains("kaput"), "{body}");
    assert_eq!(
        header(&headers, "content-type"),
        Some("text/plain; charset=utf-8")
    );

    let (status, _, body) = send(Request::new("GET", format!("{base}/silent"))).await;
    assert_eq!((status, body.as_str()), (500, "no response sent\n"));

    // set_status fixes the head: this wrapper's later set_header fails, another
    // wrapper's does not; write_json after set_status is sniffed as text, as in Go.
    let (status, headers, body) = send(Request::new("GET", format!("{base}/status"))).await;
    assert_eq!(status, 202);
    assert_eq!(
        header(&headers, "content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(header(&headers, "x-late"), None);
    assert_eq!(
        json(&body),
        serde_json::json!({
            "late": "Invalid: cannot set headers after they are sent",
            "other": true,
            "raised": true,
        })
    );

    // set_header alone answers 200 with an empty body.
    let (status, headers, body) = send(Request::new("GET", format!("{base}/header-only"))).await;
    assert_eq!((status, body.as_str()), (200, ""));
    assert_eq!(header(&headers, "x-only"), Some("yes"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_transfer_streams_each_write() {
    let (_booted, addr, _dir) = serve().await;
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    let head = format!("GET /api/chunked HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let raw = String::from_utf8_lossy(&raw).to_ascii_lowercase();
    assert!(raw.starts_with("http/1.1 200"), "{raw}");
    assert!(raw.contains("transfer-encoding: chunked"), "{raw}");
    assert!(raw.contains("cache-control: no-cache"), "{raw}");
    assert!(!raw.contains("content-length"), "{raw}");
    assert!(raw.contains("\r\n2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n"), "{raw}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_events_reach_the_client_while_the_handler_runs() {
    let (_booted, addr, _dir) = serve().await;
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    // A chunked request body, held open until the first event has arrived.
    let head = format!(
        "POST /api/events HTTP/1.1\r\nHost: {addr}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut seen = Vec::new();
    read_until(
        &mut stream,
        &mut seen,
        "event: first\ndata: {\"has\":true,\"len\":-1,\"n\":1}\n\n",
    )
    .await;
    let text = String::from_utf8_lossy(&seen).to_ascii_lowercase();
    assert!(text.starts_with("http/1.1 200"), "{text}");
    assert!(text.contains("content-type: text/event-stream"), "{text}");
    assert!(text.contains("cache-control: no-cache"), "{text}");
    assert!(!text.contains("event: second"), "{text}");

    // The handler is still waiting for the body: finish it.
    stream.write_all(b"2\r\ngo\r\n0\r\n\r\n").await.unwrap();
    read_until(&mut stream, &mut seen, "event: second\ndata: \"go\"\n\n").await;
    read_until(
        &mut stream,
        &mut seen,
        "event: third\ndata: \"cannot set headers after they are sent\"\n\n",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_uploads_are_parsed_in_memory_or_on_disk() {
    let (_booted, addr, _dir) = serve().await;
    for mem in ["", "?mem=0"] {
        let mut req = Request::new("POST", format!("http://{addr}/api/upload{mem}"));
        req.form = Some(vec![
            ("title".into(), "hello".into()),
            ("tag".into(), "a".into()),
            ("tag".into(), "b".into()),
        ]);
        req.files = vec![FilePart {
            name: "doc".into(),
            filename: Some("notes.txt".into()),
            content: "line one\nline two\n".into(),
            content_type: Some("text/plain".into()),
        }];
        let (status, _, body) = send(req).await;
        assert_eq!(status, 200, "{mem}: {body}");
        assert_eq!(
            json(&body),
            serde_json::json!({
                "values": {"title": "hello", "tag": ["a", "b"]},
                "name": "notes.txt",
                "size": 18,
                "ct": "text/plain",
                "disposition": true,
                "content": "line one\nline two\n",
                "count": 1,
                "text": "http.MultipartFile{name=notes.txt, size=18}",
                "stat": 18,
            }),
            "{mem}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nested_call_has_no_request() {
    let (_booted, addr, _dir) = serve().await;
    let (status, _, body) = send(Request::new("GET", format!("http://{addr}/api/nested"))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        json(&body),
        serde_json::json!({
            "inner": {
                "got": false,
                "kind": "Internal",
                "msg": "no HTTP request context found",
                "same": true,
            },
            "mine": "GET",
        })
    );
}

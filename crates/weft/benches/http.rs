//! HTTP: requests per second and latency of one `http.service` under `wrk` on loopback —
//! a Lua endpoint writing a small JSON body, the same body as a static file, and a 404
//! (the floor of the HTTP stack itself) — and the memory an idle keep-alive connection
//! holds.
//!
//! Run: `cargo bench -p weft --bench http` (needs `wrk` on the PATH: the Debian package).
//! Settings (environment): `HTTP_SECS` per run (default 10), `HTTP_ROUNDS` (default 3;
//! the three routes take turns in each round and the medians are reported),
//! `HTTP_CONNS` (default 64), `HTTP_IDLE_CONNS` (default 2,000).
//!
//! The app is booted through `weft::boot_app` on a multi-thread tokio runtime like the
//! `weft` binary's, with the same allocator; `wrk` runs as a second process with 2
//! threads. On a 2-core machine both share the cores, as the issue's target assumes.
//! Figures: docs/performance.md, "HTTP".

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use weft_registry::{BootOptions, LoadOptions};
use wrk::{Run, env_num, median};

mod wrk;

/// The same allocator as the `weft` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The app: a server, a router, a Lua endpoint and a static mount.
const APP: &str = r#"version: "1.0"
namespace: bench
entries:
  - name: gateway
    kind: http.service
    addr: 127.0.0.1:0
    lifecycle: {auto_start: true}
  - name: api
    kind: http.router
    meta: {server: gateway}
  - name: hello
    kind: function.lua
    method: handler
    modules: [http]
    pool: {size: 8}
    source: |
      local http = require("http")
      local body = '{"message":"hello"}'
      local function handler()
        local res = http.response()
        res:set_content_type("application/json")
        res:write(body)
      end
      return { handler = handler }
  - name: hello.endpoint
    kind: http.endpoint
    meta: {router: api}
    method: GET
    path: /hello
    func: hello
  - name: files
    kind: fs.directory
    directory: ./public
  - name: static
    kind: http.static
    meta: {server: gateway}
    path: /static
    fs: files
"#;

/// The routes measured, with what they are.
const ROUTES: [(&str, &str); 3] = [
    ("/hello", "Lua endpoint (small JSON)"),
    ("/static/hello.json", "static file (same body)"),
    ("/nope", "404 (the stack's floor)"),
];

fn main() {
    let secs = env_num("HTTP_SECS", 10);
    let rounds = env_num("HTTP_ROUNDS", 3);
    let conns = env_num("HTTP_CONNS", 64);
    let idle = env_num("HTTP_IDLE_CONNS", 2000);
    if !wrk::available() {
        eprintln!("wrk is not on the PATH (Debian: apt-get install wrk)");
        std::process::exit(2);
    }
    raise_fd_limit(idle as u64 * 2 + 1024);

    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::create_dir_all(dir.path().join("public")).unwrap();
    std::fs::write(dir.path().join("src/_index.yaml"), APP).unwrap();
    std::fs::write(
        dir.path().join("public/hello.json"),
        r#"{"message":"hello"}"#,
    )
    .unwrap();

    let rt = tokio::runtime::Builder::new_multi_thread()
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

    // Idle connections first, on a fresh heap: after the load, freed memory the
    // allocator keeps would absorb them and hide their cost.
    let per_conn = idle_connection_bytes(addr, idle);

    // Warm up every route (pools, caches, the allocator).
    for (path, _) in ROUTES {
        wrk::run(&format!("http://{addr}{path}"), conns, 2, None);
    }
    let mut runs: Vec<Vec<Run>> = vec![Vec::new(); ROUTES.len()];
    for round in 1..=rounds {
        for (i, (path, _)) in ROUTES.iter().enumerate() {
            let run = wrk::run(&format!("http://{addr}{path}"), conns, secs, None);
            eprintln!(
                "round {round}: {path:<20} {:>9.0} req/s  p50 {:.2} ms  p99 {:.2} ms  errors {}",
                run.rps, run.p50_ms, run.p99_ms, run.errors
            );
            runs[i].push(run);
        }
    }

    println!("\nHTTP on loopback, wrk -t2 -c{conns} -d{secs}s, medians of {rounds} rounds:\n");
    println!("| route | req/s | p50 ms | p99 ms | errors | vs 404 |");
    println!("|---|---:|---:|---:|---:|---:|");
    let medians: Vec<Run> = runs.iter().map(|r| median(r)).collect();
    let floor = medians.last().map_or(1.0, |r| r.rps);
    for ((path, what), m) in ROUTES.iter().zip(&medians) {
        println!(
            "| `GET {path}` {what} | {:.0} | {:.2} | {:.2} | {} | {:.0} % |",
            m.rps,
            m.p50_ms,
            m.p99_ms,
            m.errors,
            100.0 * m.rps / floor
        );
    }

    println!(
        "\nIdle keep-alive connections: {idle} held after one request each: {:.1} KB per connection (server RSS delta)",
        per_conn / 1024.0
    );
    rt.block_on(booted.runtime.services.stop_all(Duration::from_secs(5)));
}

/// The server's resident memory per idle keep-alive connection: `n` connections each
/// make one request and stay open; the RSS grows by what the server keeps for them (the
/// client side here is a socket and a few bytes). Measured before any load (see
/// `main`), after a hundred requests on short connections.
fn idle_connection_bytes(addr: SocketAddr, n: usize) -> f64 {
    for _ in 0..100 {
        let mut s = TcpStream::connect(addr).expect("connect");
        s.write_all(b"GET /nope HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut sink = Vec::new();
        let _ = s.read_to_end(&mut sink);
    }
    std::thread::sleep(Duration::from_secs(1));
    let before = rss_bytes();
    let mut held = Vec::with_capacity(n);
    for _ in 0..n {
        let mut s = TcpStream::connect(addr).expect("connect");
        s.write_all(b"GET /nope HTTP/1.1\r\nHost: bench\r\n\r\n")
            .unwrap();
        let mut buf = [0u8; 512];
        let mut got = 0;
        while got == 0 || !String::from_utf8_lossy(&buf[..got]).contains("not found\n") {
            let k = s.read(&mut buf[got..]).expect("read");
            if k == 0 {
                break;
            }
            got += k;
        }
        held.push(s);
    }
    std::thread::sleep(Duration::from_secs(1));
    let after = rss_bytes();
    drop(held);
    (after.saturating_sub(before)) as f64 / n as f64
}

/// The resident set size of this process, in bytes.
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// Raises the soft limit on open files.
fn raise_fd_limit(want: u64) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit read and write the plain struct given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < want {
            limit.rlim_cur = want.min(limit.rlim_max);
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

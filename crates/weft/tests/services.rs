//! End-to-end: `weft run` without a command starts the app's services and stops them on
//! SIGTERM (exit 0), or at once with exit 1 on a second signal.

mod common;

use std::path::Path;
use std::process::{Child, ExitStatus};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// An app with a process host and a service whose Lua process sleeps in a loop forever.
fn app(shutdown_timeout: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".wippy.yaml"),
        format!("version: \"1.0\"\nshutdown:\n  timeout: {shutdown_timeout}\n"),
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("src/_index.yaml"),
        r#"version: "1.0"
namespace: app
entries:
  - name: ticker_service
    kind: process.service
    process: ticker
    host: processes
    lifecycle:
      auto_start: true
  - name: processes
    kind: process.host
    lifecycle: {auto_start: true}
  - name: ticker
    kind: process.lua
    modules: [time]
    method: main
    source: |
      local M = {}
      function M.main()
        while true do
          time.sleep("20ms")
        end
      end
      return M
"#,
    )
    .unwrap();
    dir
}

/// Starts `weft -v run` on `dir`; returns the child and its stderr lines as they come.
fn serve(dir: &Path) -> (Child, mpsc::Receiver<String>) {
    common::spawn_weft(dir, &["-v", "run"])
}

/// Reads lines until one contains `needle`; returns everything read.
fn wait_for(lines: &mpsc::Receiver<String>, needle: &str, log: &mut Vec<String>) {
    common::wait_for_line(lines, needle, Duration::from_secs(5), log);
}

fn signal(child: &Child, sig: i32) {
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: kill(2) on our own child's pid with a valid signal number.
    assert_eq!(unsafe { libc::kill(pid, sig) }, 0);
}

/// Waits up to `limit` for the child to exit.
fn exit_within(child: &mut Child, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("weft did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn sigterm_stops_the_services_and_exits_0() {
    let dir = app("300ms");
    let (mut child, lines) = serve(dir.path());
    let mut log = Vec::new();
    wait_for(&lines, "1 services started", &mut log);
    assert!(
        log.iter()
            .any(|l| l.contains("service started") && l.contains("app:ticker_service")),
        "{}",
        log.join("\n")
    );
    std::thread::sleep(Duration::from_millis(100));
    signal(&child, libc::SIGTERM);
    let status = exit_within(&mut child, Duration::from_secs(3));
    assert_eq!(status.code(), Some(0));
    log.extend(lines.try_iter());
    let text = log.join("\n");
    assert!(text.contains("SIGTERM: shutting down"), "{text}");
    assert!(!text.contains("ERROR"), "{text}");
    // stderr is a pipe here: the log has no colour codes.
    assert!(!text.contains('\u{1b}'), "{text:?}");
}

#[test]
fn a_second_signal_during_shutdown_exits_1_at_once() {
    let dir = app("20s");
    let (mut child, lines) = serve(dir.path());
    let mut log = Vec::new();
    wait_for(&lines, "services started", &mut log);
    signal(&child, libc::SIGINT);
    wait_for(&lines, "shutting down", &mut log);
    signal(&child, libc::SIGINT);
    let status = exit_within(&mut child, Duration::from_secs(3));
    assert_eq!(status.code(), Some(1));
}

/// Three services whose WASM guests spin forever: more than the runtime's worker threads.
fn spinning_app() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".wippy.yaml"),
        "version: \"1.0\"\nshutdown:\n  timeout: 300ms\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    let mut index = format!(
        "namespace: t\nentries:\n  - {{name: guests, kind: fs.directory, directory: {}}}\n  - {{name: processes, kind: process.host, lifecycle: {{auto_start: true}}}}\n",
        common::dist().display()
    );
    index.push_str(&common::guest_entry(
        "process.wasm",
        "spin",
        "spin",
        "spin-forever",
        "",
    ));
    for i in 0..3 {
        index.push_str(&format!(
            "  - {{name: spinner{i}, kind: process.service, process: t:spin, host: t:processes, lifecycle: {{auto_start: true}}}}\n"
        ));
    }
    std::fs::write(dir.path().join("src/_index.yaml"), index).unwrap();
    dir
}

#[test]
fn sigterm_is_honoured_while_guests_spin_on_every_worker() {
    let dir = spinning_app();
    let (mut child, lines) = serve(dir.path());
    let mut log = Vec::new();
    wait_for(&lines, "3 services started", &mut log);
    std::thread::sleep(Duration::from_millis(200));
    signal(&child, libc::SIGTERM);
    // shutdown.timeout is 300 ms: the spinning guests are terminated after it.
    let status = exit_within(&mut child, Duration::from_secs(5));
    assert_eq!(status.code(), Some(0));
    log.extend(lines.try_iter());
    let text = log.join("\n");
    assert!(text.contains("SIGTERM: shutting down"), "{text}");
}

//! Helpers shared by the integration tests that use the committed guests.
//! (Each test binary uses a part of them.)
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// `guests/dist`, where the committed test guests are.
pub fn dist() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../guests/dist")
        .canonicalize()
        .expect("guests/dist")
}

/// The `sha256:<hex>` of a file, as an entry's `hash:` field wants it.
pub fn sha(path: &Path) -> String {
    format!(
        "sha256:{}",
        hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
    )
}

/// An entry of `kind` (`function.wasm` or `process.wasm`) named `name` for the guest
/// `guests/dist/<guest>.wasm`, read from the `t:guests` fs, with extra YAML lines.
pub fn guest_entry(kind: &str, name: &str, guest: &str, method: &str, extra: &str) -> String {
    let hash = sha(&dist().join(format!("{guest}.wasm")));
    format!(
        "  - name: {name}\n    kind: {kind}\n    fs: t:guests\n    path: /{guest}.wasm\n    hash: {hash}\n    method: \"{method}\"\n{extra}"
    )
}

/// A `function.wat` entry `name` for `method` of `guests/wat/<guest>.wat`, its `wit:`
/// line taken from `guests/wat/<guest>.wit`, read from `src/<guest>.wat` (see
/// [`copy_wat`]) with `limits.max_memory_mb: memory_mb`.
pub fn wat_entry(name: &str, guest: &str, method: &str, memory_mb: u32) -> String {
    let wits = dist().join(format!("../wat/{guest}.wit"));
    let wits = std::fs::read_to_string(&wits).unwrap();
    let wit = wits
        .lines()
        .find(|l| l.starts_with(&format!("{method}:")))
        .unwrap_or_else(|| panic!("no {method} in guests/wat/{guest}.wit"));
    format!(
        "  - name: {name}\n    kind: function.wat\n    method: {method}\n    wit: \"{wit}\"\n    source: file://{guest}.wat\n    limits: {{max_memory_mb: {memory_mb}}}\n"
    )
}

/// Copies `guests/wat/<guest>.wat` into the app at `root` as `src/<guest>.wat`.
pub fn copy_wat(root: &Path, guest: &str) {
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::copy(
        dist().join(format!("../wat/{guest}.wat")),
        root.join(format!("src/{guest}.wat")),
    )
    .unwrap();
}

/// Boots the app in `root` as the CLI does; the boot's error text on failure.
pub async fn boot_dir(root: &Path) -> Result<std::sync::Arc<weft_runtime::Runtime>, String> {
    boot_app_dir(root).await.map(|b| b.runtime)
}

/// [`boot_dir`] with the booted capabilities too.
pub async fn boot_app_dir(root: &Path) -> Result<weft::Booted, String> {
    let opts = weft_registry::LoadOptions {
        root: root.to_path_buf(),
        ..weft_registry::LoadOptions::default()
    };
    weft::boot_app(&opts, &weft_registry::BootOptions::default())
        .await
        .map_err(|e| e.to_string())
}

/// Writes `files` (path under the root, contents) into a new temp dir: an app.
pub fn write_app(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, body) in files {
        let full = dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, body).unwrap();
    }
    dir
}

/// Boots the app in `root`, starts its services, and returns it with the address its
/// `http.service` `server` listens on.
pub async fn serve_http(root: &Path, server: &str) -> (weft::Booted, std::net::SocketAddr) {
    let booted = boot_app_dir(root).await.expect("boot");
    booted.runtime.services.start_all().await.expect("start");
    let addr = booted
        .http
        .server(server)
        .and_then(|s| s.local_addr())
        .expect("bound");
    (booted, addr)
}

/// Starts the `weft` binary on the app in `dir` with `args` (e.g. `["-v", "run"]`),
/// stdout discarded; returns the child and its stderr lines as they come.
pub fn spawn_weft(
    dir: &Path,
    args: &[&str],
) -> (std::process::Child, std::sync::mpsc::Receiver<String>) {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_weft"))
        .arg("-C")
        .arg(dir)
        .args(args)
        .env_remove("WEFT_LOG")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run weft");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// Reads `lines` until one contains `needle` (within `limit`), keeping all in `log`;
/// returns that line. Panics with the log read so far when none comes.
pub fn wait_for_line(
    lines: &std::sync::mpsc::Receiver<String>,
    needle: &str,
    limit: std::time::Duration,
    log: &mut Vec<String>,
) -> String {
    let deadline = std::time::Instant::now() + limit;
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        match lines.recv_timeout(left) {
            Ok(line) => {
                log.push(line.clone());
                if line.contains(needle) {
                    return line;
                }
            }
            Err(_) => break,
        }
    }
    panic!("no log line with {needle:?}:\n{}", log.join("\n"));
}

/// What a finished `weft` run gave: its exit code (-1 when killed), stdout and stderr.
pub struct Run {
    /// The exit code.
    pub code: i32,
    /// Standard output, as text.
    pub stdout: String,
    /// Standard error, as text.
    pub stderr: String,
}

impl Run {
    /// `(code, stdout, stderr)`.
    pub fn parts(self) -> (i32, String, String) {
        (self.code, self.stdout, self.stderr)
    }
}

/// How long [`weft`] lets a run take before it kills it and fails the test.
pub const WEFT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// Runs the `weft` binary with `args` in `cwd` (the test's own directory when `None`),
/// stdin empty, `WEFT_LOG` unset; kills it and panics past [`WEFT_TIMEOUT`].
pub fn weft_in(cwd: Option<&Path>, args: &[&str]) -> Run {
    use std::process::{Command, Stdio};
    let mut command = Command::new(env!("CARGO_BIN_EXE_weft"));
    if let Some(cwd) = cwd {
        command.current_dir(cwd);
    }
    let mut child = command
        .args(args)
        .env_remove("WEFT_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run weft");
    let started = std::time::Instant::now();
    while child.try_wait().expect("wait for weft").is_none() {
        if started.elapsed() > WEFT_TIMEOUT {
            let _ = child.kill();
            panic!("weft {args:?} did not finish within {WEFT_TIMEOUT:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let out = child.wait_with_output().expect("weft output");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `weft -C <dir> <args>` ([`weft_in`]).
pub fn weft(dir: &Path, args: &[&str]) -> Run {
    let mut all = vec!["-C", dir.to_str().expect("a UTF-8 path")];
    all.extend_from_slice(args);
    weft_in(None, &all)
}

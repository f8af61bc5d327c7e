//! End to end: weft reads only regular files, under their cap, inside their root — a
//! FIFO, a device, an oversized file or a link out of the app is an error naming it,
//! never a hang (each case runs under a timeout, so a regression fails instead of hanging).

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use weft_core::{MAX_MODULE_FILE_BYTES, Value};

mod common;

/// How long any case may take: loading these apps is instant when nothing blocks.
const LIMIT: Duration = Duration::from_secs(20);

/// Runs `f` on its own thread; panics when it does not finish within [`LIMIT`].
fn soon<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(LIMIT)
        .expect("weft did not finish in time: something blocked")
}

/// Boots the app in `root` (its own tokio runtime, on a thread, under the timeout) and, when
/// it boots, calls `call` with no arguments; the boot error text or the call's result.
fn boot_and_call(root: &Path, call: &'static str) -> Result<Value, String> {
    let root = root.to_path_buf();
    soon(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let booted = common::boot_dir(&root).await?;
            booted
                .functions
                .call(&booted.root_context(), call, vec![])
                .await
                .map_err(|e| format!("call failed: {e}"))
        })
    })
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(status.success());
}

/// A temp app with `src/_index.yaml` = `index`.
fn app(index: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/_index.yaml"), index).unwrap();
    dir
}

const LUA_ENTRY: &str = "namespace: app\nentries:\n  - name: f\n    kind: function.lua\n    method: run\n    source: file://code.lua\n";

#[test]
fn a_fifo_or_device_lua_source_fails_the_boot_at_once() {
    let dir = app(LUA_ENTRY);
    mkfifo(&dir.path().join("src/code.lua"));
    let err = boot_and_call(dir.path(), "app:f").unwrap_err();
    assert!(
        err.contains("src/_index.yaml:3: entry app:f (function.lua): field source: src/code.lua is a FIFO, not a regular file"),
        "{err}"
    );

    let dir = app(LUA_ENTRY);
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("src/code.lua")).unwrap();
    let err = boot_and_call(dir.path(), "app:f").unwrap_err();
    assert!(
        err.contains("entry app:f (function.lua): field source: src/code.lua resolves outside")
            && err.contains("via a symbolic link: /dev/zero"),
        "{err}"
    );
}

#[test]
fn a_source_linked_inside_the_app_works_and_one_linked_out_fails() {
    let dir = app(LUA_ENTRY);
    let lib = dir.path().join("src/lib");
    std::fs::create_dir_all(&lib).unwrap();
    std::fs::write(
        lib.join("real.lua"),
        "return { run = function() return 7 end }",
    )
    .unwrap();
    std::os::unix::fs::symlink("lib/real.lua", dir.path().join("src/code.lua")).unwrap();
    assert_eq!(boot_and_call(dir.path(), "app:f"), Ok(Value::Int(7)));

    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.lua");
    std::fs::write(&secret, "return { run = function() return 'leaked' end }").unwrap();
    let dir = app(LUA_ENTRY);
    std::os::unix::fs::symlink(&secret, dir.path().join("src/code.lua")).unwrap();
    let err = boot_and_call(dir.path(), "app:f").unwrap_err();
    assert!(
        err.contains("field source: src/code.lua resolves outside") && err.contains("secret.lua"),
        "{err}"
    );
}

#[test]
fn a_fifo_or_device_wasm_path_fails_the_boot_at_once() {
    let modules = tempfile::tempdir().unwrap();
    mkfifo(&modules.path().join("pipe.wasm"));
    let zeros = format!("sha256:{}", "0".repeat(64));
    let index = format!(
        "namespace: t\nentries:\n  - {{name: mods, kind: fs.directory, directory: {}}}\n  - {{name: dev, kind: fs.directory, directory: /dev}}\n  - {{name: pipe, kind: function.wasm, fs: t:mods, path: /pipe.wasm, hash: \"{zeros}\", method: f}}\n  - {{name: zero, kind: function.wasm, fs: t:dev, path: /zero, hash: \"{zeros}\", method: f}}\n",
        modules.path().display()
    );
    let dir = app(&index);
    let err = boot_and_call(dir.path(), "t:pipe").unwrap_err();
    for needle in [
        "t:pipe (function.wasm): field path: /pipe.wasm is a FIFO, not a regular file",
        "t:zero (function.wasm): field path: /zero is a character device, not a regular file",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in:\n{err}");
    }
}

#[test]
fn special_or_oversized_compile_cache_files_are_misses() {
    let index = "namespace: t\nentries:\n  - {name: one, kind: function.wat, source: \"(module (func (export \\\"f\\\") (result i32) i32.const 1))\", method: f, wit: \"f: func() -> s32;\"}\n  - {name: two, kind: function.wat, source: \"(module (func (export \\\"f\\\") (result i32) i32.const 2))\", method: f, wit: \"f: func() -> s32;\"}\n";
    let dir = app(index);
    std::fs::write(
        dir.path().join(".wippy.yaml"),
        "version: \"1.0\"\nwasm:\n  cache_dir: .weft/cache\n",
    )
    .unwrap();
    assert_eq!(boot_and_call(dir.path(), "t:two"), Ok(Value::Int(2)));
    let cache = dir.path().join(".weft/cache");
    let mut files: Vec<_> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2, "{files:?}");
    std::fs::remove_file(&files[0]).unwrap();
    mkfifo(&files[0]);
    let big = std::fs::File::create(&files[1]).unwrap();
    big.set_len(MAX_MODULE_FILE_BYTES + 1).unwrap();

    assert_eq!(boot_and_call(dir.path(), "t:one"), Ok(Value::Int(1)));
    for f in &files {
        let meta = std::fs::metadata(f).unwrap();
        assert!(
            meta.is_file() && meta.len() < MAX_MODULE_FILE_BYTES,
            "{} was not rebuilt",
            f.display()
        );
    }
}

#[test]
fn the_cli_reports_a_fifo_config_at_once() {
    let dir = app("namespace: app\nentries: []\n");
    let fifo = dir.path().join("weft.yaml");
    mkfifo(&fifo);
    let mut child = Command::new(env!("CARGO_BIN_EXE_weft"))
        .arg("-C")
        .arg(dir.path())
        .arg("--config")
        .arg(&fifo)
        .arg("check")
        .env_remove("WEFT_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run weft");
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            panic!("weft --config <fifo> check did not finish in time");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("weft.yaml: config file is a FIFO, not a regular file"),
        "{stderr}"
    );
}

//! End-to-end: `weft check` validates and compiles an app but runs none of its code and
//! writes nothing; `weft run` of the same app does both (issue 11, item 9).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{weft, write_app as app};

/// Every path under `root` (directories too) with the contents of files.
fn tree(root: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Option<Vec<u8>>>) {
        for item in std::fs::read_dir(dir).unwrap() {
            let path = item.unwrap().path();
            let rel = path.strip_prefix(root).unwrap().to_path_buf();
            if path.is_dir() {
                out.insert(rel, None);
                walk(root, &path, out);
            } else {
                out.insert(rel, Some(std::fs::read(&path).unwrap()));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// A terminal host and a `noop` command, for `weft run noop`.
const COMMAND: &str = "  - {name: terminal, kind: terminal.host}
  - name: noop
    kind: process.lua
    meta: {command: {name: noop}}
    source: \"return {main = function() return 0 end}\"
    method: main
";

/// An app with something of every kind that does things at boot in a run: a warm
/// pool whose chunk writes an env variable, an env file and an fs directory to
/// create, a WASM function to compile (and cache).
fn creating_app() -> tempfile::TempDir {
    let index = format!(
        "namespace: app
entries:
{COMMAND}  - name: state
    kind: env.storage.file
    file_path: state/app.env
    auto_create: true
  - name: warmed
    kind: env.variable
    storage: state
    variable: WARMED
  - name: data
    kind: fs.directory
    directory: data/files
    auto_init: true
  - name: warm
    kind: function.lua
    modules: [env]
    pool: {{type: static, size: 2, workers: 2, warm_start: true}}
    method: run
    source: |
      assert(env.set(\"WARMED\", \"boot\"))
      return {{run = function() return 1 end}}
  - name: answer
    kind: function.wat
    method: answer
    wit: \"answer: func() -> s32;\"
    source: |
      (module (func (export \"answer\") (result i32) i32.const 42))
"
    );
    app(&[("src/_index.yaml", &index)])
}

#[test]
fn check_writes_nothing_and_run_creates_what_the_app_asks_for() {
    let dir = creating_app();
    // An app-local compile cache, so the check can be seen not to fill it.
    std::fs::write(
        dir.path().join(".wippy.yaml"),
        "version: \"1.0\"\nwasm:\n  cache_dir: .weft/cache\n",
    )
    .unwrap();
    let before = tree(dir.path());
    let out = weft(dir.path(), &["check"]);
    assert_eq!(Some(out.code), Some(0), "{}", out.stderr.clone());
    assert!(
        out.stdout.clone().starts_with("ok: "),
        "{}",
        out.stdout.clone()
    );
    assert_eq!(tree(dir.path()), before, "check changed the app directory");

    let out = weft(dir.path(), &["run", "noop"]);
    assert_eq!(Some(out.code), Some(0), "{}", out.stderr.clone());
    // The env file was created, and the warm chunk ran at boot (the command never
    // calls app:warm) and wrote into it.
    let env = std::fs::read_to_string(dir.path().join("state/app.env")).unwrap();
    assert_eq!(env, "WARMED=boot\n");
    assert!(dir.path().join("data/files").is_dir());
    // The compile cache is filled by a run only.
    assert!(dir.path().join(".weft/cache").is_dir());

    // A check after a run reads what is there and still writes nothing.
    let before = tree(dir.path());
    let out = weft(dir.path(), &["check"]);
    assert_eq!(Some(out.code), Some(0), "{}", out.stderr.clone());
    assert_eq!(tree(dir.path()), before, "check changed the app directory");
}

#[test]
fn check_does_not_run_an_endless_warm_start_chunk() {
    let index = format!(
        "namespace: app
entries:
{COMMAND}  - name: spin
    kind: function.lua
    pool: {{type: static, size: 1, workers: 1, warm_start: true}}
    method: run
    source: |
      while true do end
      return {{run = function() return 1 end}}
"
    );
    let dir = app(&[("src/_index.yaml", &index)]);
    let started = Instant::now();
    let out = weft(dir.path(), &["check"]);
    assert_eq!(Some(out.code), Some(0), "{}", out.stderr.clone());
    assert!(
        out.stdout.clone().starts_with("ok: "),
        "{}",
        out.stdout.clone()
    );
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
fn check_still_reports_syntax_errors_in_warm_start_chunks_and_libraries() {
    let index = "namespace: app
entries:
  - name: lib
    kind: library.lua
    source: |
      local M = {}
      function M.f( return 1 end
      return M
  - name: warm
    kind: function.lua
    pool: {type: static, size: 1, workers: 1, warm_start: true}
    method: run
    source: |
      while true do end
      return {run = function() return 1 +
";
    let dir = app(&[("src/_index.yaml", index)]);
    let out = weft(dir.path(), &["check"]);
    assert_eq!(Some(out.code), Some(1));
    let stderr = out.stderr.clone();
    assert!(stderr.contains("2 problems"), "{stderr}");
    assert!(
        stderr.contains("entry app:lib (library.lua): field source: syntax error: app:lib:2:"),
        "{stderr}"
    );
    assert!(
        stderr.contains("entry app:warm (function.lua): field source: syntax error: app:warm:"),
        "{stderr}"
    );
}

#[test]
fn check_reports_a_creation_that_could_not_happen() {
    let index = "namespace: app
entries:
  - name: state
    kind: env.storage.file
    file_path: blocker/app.env
    auto_create: true
  - name: data
    kind: fs.directory
    directory: blocker/files
    auto_init: true
";
    let dir = app(&[("src/_index.yaml", index), ("blocker", "a file")]);
    let out = weft(dir.path(), &["check"]);
    assert_eq!(Some(out.code), Some(1));
    let stderr = out.stderr.clone();
    assert!(stderr.contains("2 problems"), "{stderr}");
    for field in [
        "field file_path: cannot create",
        "field directory: cannot create",
    ] {
        assert!(stderr.contains(field), "{field}: {stderr}");
    }
    assert!(
        stderr.contains("blocker exists and is not a directory"),
        "{stderr}"
    );
}

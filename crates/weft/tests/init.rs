//! `weft init` and `weft hash` with the built binary: every template written into a
//! temp folder, then run and tested as a user would (the component templates built
//! with their own build.sh where cargo's wasm32-wasip2 target / componentize-js are
//! there); a folder that is not empty; hashes rewritten in place, byte for byte.

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::{sha, write_app};

/// Runs `weft <args>` in `cwd`; exit code, stdout, stderr.
fn weft_in(cwd: &Path, args: &[&str]) -> (i32, String, String) {
    common::weft_in(Some(cwd), args).parts()
}

/// Runs `weft -C <dir> <args>`.
fn weft(dir: &Path, args: &[&str]) -> (i32, String, String) {
    common::weft(dir, args).parts()
}

/// Exit code, stdout and stderr of a finished process (a template's build step).
fn text(out: Output) -> (i32, String, String) {
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `weft init <folder> --template <template>` in `parent`; asserts success and returns
/// the app's folder and what init printed.
fn init(parent: &Path, folder: &str, template: &str) -> (PathBuf, String) {
    let (code, out, err) = weft_in(parent, &["init", folder, "--template", template]);
    assert_eq!(code, 0, "init {template}: {out}{err}");
    (parent.join(folder), out)
}

/// Asserts `weft test` of the app passes its one test.
fn assert_tests_pass(app: &Path) {
    let (code, out, err) = weft(app, &["test"]);
    assert_eq!(code, 0, "weft test: {out}{err}");
    assert!(out.contains("1 passed, 0 failed"), "{out}");
}

#[test]
fn lua_template_runs_at_once_and_passes_its_tests() {
    let parent = tempfile::tempdir().unwrap();
    let (app, printed) = init(parent.path(), "my-app", "lua");
    assert!(printed.contains("weft -C my-app run hello"), "{printed}");
    assert!(printed.contains("weft -C my-app test"), "{printed}");
    let index = std::fs::read_to_string(app.join("src/_index.yaml")).unwrap();
    assert!(index.starts_with("# yaml-language-server: $schema=../.weft/schema.json\n"));
    let readme = std::fs::read_to_string(app.join("README.md")).unwrap();
    assert!(readme.starts_with("# my-app\n"), "{readme}");
    assert!(readme.contains("weft schema > .weft/schema.json"));

    let (code, out, err) = weft(&app, &["run", "hello"]);
    assert_eq!((code, out.as_str()), (0, "Hello, World!\n"), "{err}");
    let (code, out, err) = weft(&app, &["run", "hello", "Ada", "Bob"]);
    assert_eq!(
        (code, out.as_str()),
        (0, "Hello, Ada!\nHello, Bob!\n"),
        "{err}"
    );
    assert_tests_pass(&app);
    let (code, out, err) = weft(&app, &["check"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!err.contains("warning"), "schema warnings: {err}");
}

#[test]
fn init_without_a_folder_writes_into_the_current_one() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = weft_in(dir.path(), &["init"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("\n  weft run hello "),
        "no -C for the current folder: {out}"
    );
    assert!(dir.path().join("src/greet.lua").is_file());
    // `-C` names the folder too.
    let (code, _, err) = weft_in(dir.path(), &["-C", "sub", "init", "--template", "http"]);
    assert_eq!(code, 0, "{err}");
    assert!(dir.path().join("sub/src/greeting.lua").is_file());
}

#[test]
fn http_template_checks_tests_and_serves_its_endpoint() {
    let parent = tempfile::tempdir().unwrap();
    let (app, printed) = init(parent.path(), "api", "http");
    assert!(printed.contains("weft -C api run "), "{printed}");
    let (code, out, err) = weft(&app, &["check"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!err.contains("warning"), "schema warnings: {err}");
    assert_tests_pass(&app);
    let (code, out, err) = weft(&app, &["run", "hello", "Ada"]);
    assert_eq!(
        (code, out.as_str()),
        (0, "{\"message\":\"Hello, Ada!\"}\n"),
        "{err}"
    );

    // The server, on a free port instead of the template's 8080.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("app:server:addr=127.0.0.1:{port}");
    let mut server = Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(["-C", app.to_str().unwrap(), "run", "-o", &addr])
        .env_remove("WEFT_LOG")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let answer = get(port, "/api/hello?name=Ada", Duration::from_secs(30));
    let _ = server.kill();
    let _ = server.wait();
    let answer = answer.expect("the server answers");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{answer}"
    );
    assert!(
        answer.ends_with("{\"message\":\"Hello, Ada!\"}"),
        "{answer}"
    );
}

/// The whole HTTP/1.1 answer to `GET <path>` on 127.0.0.1:`port`, retried until the
/// server listens or `limit` passes.
fn get(port: u16, path: &str, limit: Duration) -> Option<String> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .ok()?;
            let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            stream.write_all(request.as_bytes()).ok()?;
            let mut answer = String::new();
            stream.read_to_string(&mut answer).ok()?;
            return Some(answer);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

#[test]
fn init_refuses_a_folder_that_is_not_empty_unless_forced() {
    let parent = tempfile::tempdir().unwrap();
    let app = parent.path().join("taken");
    std::fs::create_dir_all(app.join("src")).unwrap();
    std::fs::write(app.join("mine.txt"), "keep me").unwrap();
    std::fs::write(app.join("src/greet.lua"), "old").unwrap();

    let (code, out, err) = weft_in(parent.path(), &["init", "taken"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("error: the folder taken is not empty"),
        "{err}"
    );
    assert!(err.contains("--force"), "{err}");
    assert!(!app.join("src/_index.yaml").exists(), "nothing is written");
    assert_eq!(
        std::fs::read_to_string(app.join("src/greet.lua")).unwrap(),
        "old"
    );

    // --force writes the template's files over its own, and keeps the others.
    let (code, _, err) = weft_in(parent.path(), &["init", "taken", "--force"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read_to_string(app.join("mine.txt")).unwrap(),
        "keep me"
    );
    assert_ne!(
        std::fs::read_to_string(app.join("src/greet.lua")).unwrap(),
        "old"
    );
    assert_tests_pass(&app);

    // A file is not a folder; a template file's place taken by a folder is refused.
    let (code, _, err) = weft_in(parent.path(), &["init", "taken/mine.txt"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("taken/mine.txt exists and is not a folder"),
        "{err}"
    );
    std::fs::remove_file(app.join("README.md")).unwrap();
    std::fs::create_dir(app.join("README.md")).unwrap();
    let (code, _, err) = weft_in(parent.path(), &["init", "taken", "--force"]);
    assert_eq!(code, 1);
    assert!(err.contains("README.md exists and is not a file"), "{err}");
    // Nor does it write through a link (to a file outside the app, say).
    #[cfg(unix)]
    {
        std::fs::remove_dir(app.join("README.md")).unwrap();
        std::fs::remove_file(app.join("src/hello.lua")).unwrap();
        std::os::unix::fs::symlink("../mine.txt", app.join("src/hello.lua")).unwrap();
        let (code, _, err) = weft_in(parent.path(), &["init", "taken", "--force"]);
        assert_eq!(code, 1);
        assert!(err.contains("hello.lua is a symbolic link"), "{err}");
        assert_eq!(
            std::fs::read_to_string(app.join("mine.txt")).unwrap(),
            "keep me"
        );
    }
}

/// Whether `cargo` can build for wasm32-wasip2 here.
fn has_wasip2() -> bool {
    Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .is_ok_and(|out| {
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .any(|l| l == "wasm32-wasip2")
        })
}

#[test]
fn rust_component_template_builds_hashes_runs_and_passes_its_tests() {
    let parent = tempfile::tempdir().unwrap();
    let (app, printed) = init(parent.path(), "greeter", "rust-component");
    assert!(printed.contains("greeter/build.sh"), "{printed}");
    assert!(
        printed.contains("weft -C greeter hash app:greet"),
        "{printed}"
    );
    for file in [
        "guest/Cargo.toml",
        "guest/Cargo.lock",
        "guest/src/lib.rs",
        "guest/wit/world.wit",
        "src/hello.lua",
        "src/greet_test.lua",
        ".gitignore",
        "README.md",
    ] {
        assert!(app.join(file).is_file(), "{file}");
    }
    assert_executable(&app.join("build.sh"));
    let cargo = std::fs::read_to_string(app.join("guest/Cargo.toml")).unwrap();
    assert!(cargo.contains("crate-type = [\"cdylib\"]") && cargo.contains("wit-bindgen"));
    assert_unbuilt(&app);

    if !has_wasip2() {
        eprintln!("note: no wasm32-wasip2 target (rustup): the template's build is not tried");
        return;
    }
    // A target dir kept between runs (the first build takes about a minute).
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("init-rust-guest");
    let build = Command::new(app.join("build.sh"))
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .unwrap();
    let (code, out, err) = text(build);
    assert_eq!(code, 0, "build.sh: {out}{err}");
    assert_built_and_hashed(&app);
}

#[test]
fn js_component_template_files_and_build_when_componentize_js_is_at_hand() {
    let parent = tempfile::tempdir().unwrap();
    let (app, printed) = init(parent.path(), "jsapp", "js-component");
    assert!(printed.contains("jsapp/build.sh"), "{printed}");
    for file in [
        "guest/package.json",
        "guest/build.mjs",
        "guest/src/guest.js",
        "guest/wit/world.wit",
        "src/hello.lua",
        "src/greet_test.lua",
        ".gitignore",
        "README.md",
    ] {
        assert!(app.join(file).is_file(), "{file}");
    }
    assert_executable(&app.join("build.sh"));
    let package = std::fs::read_to_string(app.join("guest/package.json")).unwrap();
    let package: serde_json::Value = serde_json::from_str(&package).unwrap();
    assert!(package["devDependencies"]["@bytecodealliance/componentize-js"].is_string());
    let script = std::fs::read_to_string(app.join("guest/build.mjs")).unwrap();
    assert!(
        script.contains("componentize({"),
        "the library API (DESIGN §4)"
    );
    assert_unbuilt(&app);

    // Only from npm's cache: no download in a test.
    let install = Command::new("npm")
        .args(["install", "--offline", "--no-audit", "--no-fund"])
        .current_dir(app.join("guest"))
        .output();
    if !install.is_ok_and(|out| out.status.success()) {
        eprintln!("note: componentize-js is not in npm's cache: the template's build is not tried");
        return;
    }
    let (code, out, err) = text(Command::new(app.join("build.sh")).output().unwrap());
    assert_eq!(code, 0, "build.sh: {out}{err}");
    assert_built_and_hashed(&app);
}

/// Asserts `path` is an executable file.
fn assert_executable(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).unwrap().permissions().mode();
        assert_ne!(mode & 0o111, 0, "{} is not executable", path.display());
    }
}

/// A component app before its build: `weft hash`, `weft run` and `weft check` say the
/// component is missing.
fn assert_unbuilt(app: &Path) {
    let (code, _, err) = weft(app, &["hash", "app:greet"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("entry app:greet (function.wasm): field path: cannot read ./wasm/guest.wasm"),
        "{err}"
    );
    let (code, _, err) = weft(app, &["run", "hello"]);
    assert_eq!(code, 1);
    assert!(err.contains("wasm"), "{err}");
    // Unbuilt, the check fails too, but finds nothing against the schema.
    let (code, _, err) = weft(app, &["check"]);
    assert_eq!(code, 1);
    assert!(err.contains("entry app:wasm (fs.directory)"), "{err}");
    assert!(!err.contains("warning"), "schema warnings: {err}");
}

/// After build.sh: `weft hash` fills the hash, then the command and the test work.
fn assert_built_and_hashed(app: &Path) {
    let index = app.join("src/_index.yaml");
    let before = std::fs::read_to_string(&index).unwrap();
    let (code, out, err) = weft(app, &["hash", "app:greet"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.starts_with("app:greet: sha256:000000000000… → sha256:"),
        "{out}"
    );
    let hash = sha(&app.join("wasm/guest.wasm"));
    let zeros = format!("sha256:{}", "0".repeat(64));
    assert_eq!(
        std::fs::read_to_string(&index).unwrap(),
        before.replace(&zeros, &hash)
    );

    let (code, out, err) = weft(app, &["run", "hello", "Ada"]);
    assert_eq!((code, out.as_str()), (0, "Hello, Ada!\n"), "{err}");
    assert_tests_pass(app);
}

/// A core module exporting `answer` (42), as a `.wasm` file.
fn answer_wasm(value: i32) -> Vec<u8> {
    wat::parse_str(format!(
        "(module (func (export \"answer\") (result i32) i32.const {value}))"
    ))
    .unwrap()
}

/// An app with three WASM entries on one file (a stale hash with a comment after it, no
/// hash line, an up-to-date one), a Lua function, and a WAT function; its index text.
fn hash_app(file_hash: &str) -> (tempfile::TempDir, String) {
    let index = format!(
        r#"# comments, blank lines and odd spacing stay as they are (CRLF line endings too)
version: "1.0"
namespace: t
entries:
  - name: files
    kind: fs.directory
    directory: ./files

  - name: stale
    kind: function.wasm
    fs: t:files
    path: /answer.wasm
    hash:   "sha256:{old}"   # rebuilt since
    method: answer
    wit: "answer: func() -> s32;"

  -   kind: process.wasm
      name: missing
      fs: t:files
      path: /answer.wasm
      method: answer
      wit: "answer: func() -> s32;"
  - name: fresh
    kind: function.wasm
    fs: files
    path: /answer.wasm
    hash: {file_hash}
    method: answer
    wit: "answer: func() -> s32;"
  - name: lua
    kind: function.lua
    source: "return {{run = function() return 1 end}}"
    method: run
  - name: wat
    kind: function.wat
    source: '(module (func (export "run") (result i32) i32.const 1))'
    wit: "run: func() -> s32;"
    method: run
"#,
        old = "ab".repeat(32)
    )
    .replace('\n', "\r\n");
    let dir = write_app(&[("src/_index.yaml", &index)]);
    std::fs::create_dir(dir.path().join("files")).unwrap();
    (dir, index)
}

#[test]
fn hash_rewrites_only_the_stale_values_byte_for_byte() {
    let wasm = answer_wasm(42);
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("answer.wasm"), &wasm).unwrap();
    let hash = sha(&tmp.path().join("answer.wasm"));
    let (dir, index) = hash_app(&hash);
    std::fs::write(dir.path().join("files/answer.wasm"), &wasm).unwrap();
    let path = dir.path().join("src/_index.yaml");

    let (code, out, err) = weft(dir.path(), &["hash"]);
    assert_eq!(code, 0, "{out}{err}");
    let short = &hash[..19];
    assert_eq!(
        out,
        format!(
            "t:stale: sha256:abababababab… → {short}… (src/_index.yaml:9)\n\
             t:missing: hash added: {short}… (src/_index.yaml:17)\n\
             t:fresh: up to date ({short}…)\n"
        )
    );
    let expected = index
        .replace(
            &format!("\"sha256:{}\"", "ab".repeat(32)),
            &format!("\"{hash}\""),
        )
        .replace(
            "      path: /answer.wasm\r\n      method",
            &format!("      path: /answer.wasm\r\n      hash: {hash}\r\n      method"),
        );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), expected);
    // The app now boots, and a second run changes nothing.
    let (code, out, err) = weft(dir.path(), &["check"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, _) = weft(dir.path(), &["hash", "t:stale"]);
    assert_eq!(
        (code, out),
        (0, format!("t:stale: up to date ({short}…)\n"))
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), expected);
}

#[test]
fn hash_errors_name_the_entry_and_the_file_and_change_nothing() {
    let (dir, index) = hash_app("sha256:00");
    let path = dir.path().join("src/_index.yaml");
    let cases: [(&[&str], &str); 4] = [
        (&["t:nope"], "error: no entry \"t:nope\" in the app"),
        (&["stale"], "did you mean t:stale?"),
        (
            &["t:lua"],
            "src/_index.yaml:30: entry t:lua is a function.lua, not a WASM entry",
        ),
        (
            &["t:wat"],
            "entry t:wat is a function.wat: its code is inline",
        ),
    ];
    for (args, wanted) in cases {
        let mut all = vec!["hash"];
        all.extend_from_slice(args);
        let (code, out, err) = weft(dir.path(), &all);
        assert_eq!(code, 1, "{args:?}: {out}{err}");
        assert!(err.contains(wanted), "{args:?}: {err}");
    }
    // The file is not built yet: every entry is named, with its file.
    let (code, _, err) = weft(dir.path(), &["hash"]);
    assert_eq!(code, 1);
    for (id, line) in [("t:stale", 9), ("t:missing", 17), ("t:fresh", 23)] {
        let kind = if id == "t:missing" {
            "process.wasm"
        } else {
            "function.wasm"
        };
        let wanted = format!(
            "src/_index.yaml:{line}: entry {id} ({kind}): field path: cannot read ./files/answer.wasm (fs t:files, path /answer.wasm)"
        );
        assert!(err.contains(&wanted), "{wanted}\n{err}");
    }
    assert!(err.contains("no file was changed"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), index);

    // A hash set by an override is not what the file says: the rewrite is undone.
    std::fs::write(dir.path().join("files/answer.wasm"), answer_wasm(1)).unwrap();
    let config = "version: \"1.0\"\noverride:\n  \"t:fresh:hash\": sha256:00\n";
    std::fs::write(dir.path().join(".wippy.yaml"), config).unwrap();
    let (code, out, err) = weft(dir.path(), &["hash", "t:fresh"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("src/_index.yaml:23: entry t:fresh: its hash did not change"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), index);
}

#[test]
fn check_fix_hashes_fixes_then_checks_and_check_alone_writes_nothing() {
    let (dir, index) = hash_app("sha256:00");
    std::fs::write(dir.path().join("files/answer.wasm"), answer_wasm(7)).unwrap();
    let path = dir.path().join("src/_index.yaml");

    let (code, _, err) = weft(dir.path(), &["check"]);
    assert_eq!(code, 1);
    assert!(err.contains("hash mismatch"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), index);

    let (code, out, err) = weft(dir.path(), &["check", "--fix-hashes"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("t:fresh: sha256:00 → sha256:"), "{out}");
    assert!(out.contains("ok: "), "the check ran: {out}");
    let hash = sha(&dir.path().join("files/answer.wasm"));
    assert_eq!(
        std::fs::read_to_string(&path)
            .unwrap()
            .matches(&hash)
            .count(),
        3
    );
}

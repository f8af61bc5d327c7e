//! End-to-end: the built `weft` binary on example and broken apps.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn weft(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_weft"))
        .arg("-C")
        .arg(dir)
        .args(args)
        .env_remove("WEFT_LOG")
        .output()
        .expect("run weft")
}

fn hello() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/hello")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Writes `files` under a new temp dir.
fn app(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, body) in files {
        let full = dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, body).unwrap();
    }
    dir
}

#[test]
fn hello_command_greets_through_two_functions_and_a_library() {
    let out = weft(&hello(), &["run", "hello", "ada lovelace", "bob"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "Hello, Ada Lovelace!\nHello, Bob!\n");
    assert_eq!(text(&out.stderr), "");
}

#[test]
fn numeric_results_become_the_exit_code() {
    let out = weft(&hello(), &["run", "sum", "2", "3"]);
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(text(&out.stdout), "{\"sum\":5}\n");
}

#[test]
fn an_error_result_goes_to_stderr_with_exit_code_1() {
    let out = weft(&hello(), &["run", "sum", "2", "x"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("argument 2 is not a number: x"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(text(&out.stdout), "");
}

#[test]
fn invalid_argument_to_a_nested_call_keeps_its_message() {
    let out = weft(&hello(), &["run", "hello", ""]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("greet: name must be a non-empty string"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn run_list_shows_commands_with_their_short_text() {
    let out = weft(&hello(), &["run", "list"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("Available commands:"), "{stdout}");
    assert!(
        stdout.contains("hello")
            && stdout.contains("Greet someone")
            && stdout.contains("(app.greet:hello)")
    );
    assert!(stdout.contains("sum"));
}

#[test]
fn unknown_command_is_an_error() {
    let out = weft(&hello(), &["run", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("command \"nope\" not found. Use 'weft run list'"));
}

#[test]
fn check_validates_without_running() {
    let out = weft(&hello(), &["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("ok: "),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn version_flag_prints_the_version() {
    let out = Command::new(env!("CARGO_BIN_EXE_weft"))
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).starts_with("weft "));
}

#[test]
fn every_problem_of_a_broken_app_is_reported_at_once() {
    let dir = app(&[
        (
            "src/a/_index.yaml",
            "namespace: a\nentries:\n  - name: x\n    kind: function.lua\n    source: [unclosed\n",
        ),
        (
            "src/b/_index.yaml",
            "namespace: b\nentries:\n  - kind: function.lua\n    source: x\n",
        ),
        (
            "src/c/_index.yaml",
            "namespace: c\nentries:\n  - name: f\n    kind: function.lua\n    source: file://missing.lua\n    method: run\n",
        ),
    ]);
    let out = weft(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("3 problems"), "{stderr}");
    assert!(stderr.contains("src/a/_index.yaml:"), "{stderr}");
    assert!(stderr.contains("missing name"), "{stderr}");
    assert!(stderr.contains("missing.lua"), "{stderr}");
}

#[test]
fn unknown_kinds_fail_the_boot_unless_skipped() {
    let dir = app(&[(
        "src/_index.yaml",
        "namespace: a\nentries:\n  - {name: t, kind: terminal.host}\n  - {name: q, kind: queue.queue}\n  - name: c\n    kind: process.lua\n    meta: {command: {name: c}}\n    source: \"return {main = function() return 'ran' end}\"\n    method: main\n",
    )]);
    let out = weft(dir.path(), &["run", "c"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("a:q") && stderr.contains("queue.queue"),
        "{stderr}"
    );
    let out = weft(dir.path(), &["--skip-unknown-kinds", "run", "c"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "ran\n");
}

#[test]
fn lua_syntax_errors_name_the_entry_field_and_line() {
    let dir = app(&[
        (
            "src/_index.yaml",
            "namespace: a\nentries:\n  - name: f\n    kind: function.lua\n    source: file://f.lua\n    method: run\n",
        ),
        (
            "src/f.lua",
            "local M = {}\nfunction M.run()\n  return 1 +\nend\nreturn M\n",
        ),
    ]);
    let out = weft(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "src/_index.yaml:3: entry a:f (function.lua): field source: syntax error: a:f:4:"
        ),
        "{stderr}"
    );
}

#[test]
fn overrides_change_entry_fields() {
    let out = weft(
        &hello(),
        &[
            "run",
            "-o",
            "app.greet:sum:meta.command.name=add",
            "add",
            "1",
            "1",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn wasm_example_runs_a_component_and_a_wat_function_from_lua() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/wasm");
    let out = weft(&dir, &["run", "demo", "Ada"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "Hello, Ada!\nadd(2, 40) = 42\nfibonacci(50) = 12586269025\ndouble(21) = 42\n"
    );
    let list = weft(&dir, &["run", "list"]);
    assert!(
        text(&list.stdout).contains("demo"),
        "{}",
        text(&list.stdout)
    );
}

/// `weft` with extra environment variables (and `remove` taken out of its environment).
fn weft_env(dir: &Path, args: &[&str], set: &[(&str, &str)], remove: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_weft"));
    cmd.arg("-C").arg(dir).args(args).env_remove("WEFT_LOG");
    for name in remove {
        cmd.env_remove(name);
    }
    cmd.envs(set.iter().copied());
    cmd.output().expect("run weft")
}

fn wasm_cli() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/wasm-cli")
}

/// An app whose commands are `process.wasm` entries over the guests in `guests/dist`,
/// plus a Lua command `exit` that runs the `exit_with` process with a number.
fn wasm_commands_app() -> tempfile::TempDir {
    use sha2::{Digest, Sha256};
    let dist = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../guests/dist")
        .canonicalize()
        .unwrap();
    let command = |name: &str, guest: &str, method: &str, extra: &str| {
        let hash = hex::encode(Sha256::digest(
            std::fs::read(dist.join(format!("{guest}.wasm"))).unwrap(),
        ));
        format!(
            "  - name: {name}\n    kind: process.wasm\n    meta: {{command: {{name: {name}}}}}\n    fs: t:guests\n    path: /{guest}.wasm\n    hash: sha256:{hash}\n    method: {method}\n{extra}"
        )
    };
    let cli = "    imports: [wasi:cli]\n";
    let index = format!(
        "version: \"1.0\"\nnamespace: t\nentries:\n  - {{name: terminal, kind: terminal.host}}\n  - {{name: processes, kind: process.host}}\n  - {{name: guests, kind: fs.directory, directory: {}}}\n{}{}{}{}{}{}{}",
        dist.display(),
        command("upper", "types", "to-upper", ""),
        command("negate", "types", "neg-s32", ""),
        command("say", "wasi-user", "print-line", cli),
        command("warn", "wasi-user", "eprint-line", cli),
        command("exit_with", "funcs-user", "exit-with", cli),
        "  - name: exit\n    kind: process.lua\n    meta: {command: {name: exit}}\n    method: main\n    source: |\n      return {main = function(code)\n        local v, err = process.exec('t:exit_with', 't:processes', tonumber(code))\n        if err then return nil, err end\n        return v\n      end}\n",
        "  - name: fail_with\n    kind: process.lua\n    meta: {command: {name: fail-with}}\n    method: main\n    source: |\n      return {main = function(code)\n        return nil, errors.new({message = 'failing with ' .. code, details = {exit_code = tonumber(code)}})\n      end}\n",
    );
    app(&[
        (".wippy.yaml", "version: \"1.0\"\n"),
        ("src/_index.yaml", &index),
    ])
}

#[test]
fn wasm_process_command_takes_cli_args_as_string_parameters() {
    let dir = wasm_commands_app();
    let out = weft(dir.path(), &["run", "upper", "hello"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "HELLO\n");
    assert_eq!(text(&out.stderr), "");
    // Every CLI arg is one parameter...
    let out = weft(dir.path(), &["run", "upper", "a", "b"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("expected 1 argument, got 2"),
        "{}",
        text(&out.stderr)
    );
    // ...and a string: a numeric parameter does not take it.
    let out = weft(dir.path(), &["run", "negate", "5"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("expected integer, got string"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn wasm_process_command_without_args_fails_with_a_count_mismatch() {
    let dir = wasm_commands_app();
    let out = weft(dir.path(), &["run", "upper"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("expected 1 argument, got 0"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(text(&out.stdout), "");
}

#[test]
fn wasm_guest_stdio_reaches_the_terminal() {
    let dir = wasm_commands_app();
    let out = weft(dir.path(), &["run", "say", "hi there"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "hi there\n");
    let out = weft(dir.path(), &["run", "warn", "careful"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "");
    assert_eq!(text(&out.stderr), "careful\n");
}

#[test]
fn wasm_guest_exit_status_becomes_the_exit_code() {
    let dir = wasm_commands_app();
    // CLI args are strings and exit-with takes a u32: the Lua command `exit` runs the
    // process.wasm with a number and returns its error.
    let out = weft(dir.path(), &["run", "exit", "0"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert_eq!(
        (text(&out.stdout), text(&out.stderr)),
        (String::new(), String::new())
    );
    // Rust's std passes only ok/err through WASI 0.2: a non-zero code arrives as 1.
    let out = weft(dir.path(), &["run", "exit", "3"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("t:exit_with: guest exited with status 1"),
        "{}",
        text(&out.stderr)
    );
    // Any error whose details carry an integer exit_code exits with it.
    let out = weft(dir.path(), &["run", "fail-with", "7"]);
    assert_eq!(out.status.code(), Some(7), "stderr: {}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("failing with 7"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn wasm_cli_example_greets_lists_and_reads_the_environment() {
    let dir = wasm_cli();
    let out = weft(&dir, &["run", "greet", "World"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "Hello, World!\n");

    for args in [&["run", "ls", "/files"][..], &["run", "ls"]] {
        let out = weft(&dir, args);
        assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
        assert_eq!(text(&out.stdout), "README.txt\ndata.json\nnotes.txt\n");
    }
    // Outside the mount there is nothing to list.
    let out = weft(&dir, &["run", "ls", "/etc"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("/etc"), "{}", text(&out.stderr));

    let out = weft_env(&dir, &["run", "hello-env"], &[], &["GREETING"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "Howdy, from the environment!\n");
    let out = weft_env(&dir, &["run", "hello-env"], &[("GREETING", "Hola")], &[]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "Hola, from the environment!\n");

    let list = weft(&dir, &["run", "list"]);
    assert_eq!(list.status.code(), Some(0));
    let stdout = text(&list.stdout);
    for (name, id) in [
        ("greet", "(demo:greet)"),
        ("hello-env", "(demo:hello_env)"),
        ("ls", "(demo:ls)"),
    ] {
        assert!(
            stdout.contains(&format!("  {name} ")) && stdout.contains(id),
            "{stdout}"
        );
    }
}

#[test]
fn the_compile_cache_lives_in_the_users_cache_directory_never_the_apps() {
    let dir = app(&[(
        "src/_index.yaml",
        "namespace: t\nentries:\n  - {name: one, kind: function.wat, source: \"(module (func (export \\\"f\\\") (result i32) i32.const 1))\", method: f, wit: \"f: func() -> s32;\"}\n  - {name: cmd, kind: process.lua, source: \"return {main = function() return 0 end}\", method: main, meta: {command: {name: noop}}}\n  - {name: terminal, kind: terminal.host, lifecycle: {auto_start: true}}\n",
    )]);
    let home = tempfile::tempdir().unwrap();
    let cached = |base: &Path| -> usize {
        std::fs::read_dir(base.join("weft/wasm"))
            .map(|d| d.count())
            .unwrap_or(0)
    };
    // $XDG_CACHE_HOME first…
    let xdg = home.path().join("xdg");
    let xdg_text = xdg.to_str().unwrap();
    let out = weft_env(
        dir.path(),
        &["run", "noop"],
        &[("XDG_CACHE_HOME", xdg_text)],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(cached(&xdg), 1);
    // …else ~/.cache.
    let home_text = home.path().to_str().unwrap();
    let out = weft_env(
        dir.path(),
        &["run", "noop"],
        &[("HOME", home_text)],
        &["XDG_CACHE_HOME"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(cached(&home.path().join(".cache")), 1);
    // Nothing in the app: a file the app ships where a cache would be is never read.
    assert!(!dir.path().join(".weft").exists());
}

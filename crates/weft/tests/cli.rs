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
    // Commands whose arguments are typed by the WIT of their method.
    let typed: String = [
        ("code", "echo-u8"),
        ("flip", "not-bool"),
        ("color-name", "color-name"),
        ("describe-user", "describe-user"),
        ("rect-area", "rect-area"),
        ("join", "join-strings"),
    ]
    .iter()
    .map(|(name, method)| command(name, "types", method, ""))
    .collect();
    let index = format!(
        "version: \"1.0\"\nnamespace: t\nentries:\n  - {{name: terminal, kind: terminal.host}}\n  - {{name: processes, kind: process.host}}\n  - {{name: guests, kind: fs.directory, directory: {}}}\n{typed}{}{}{}{}{}{}{}",
        dist.display(),
        command("upper", "types", "to-upper", ""),
        command("negate", "types", "neg-s32", ""),
        command("say", "wasi-user", "print-line", cli),
        command("warn", "wasi-user", "eprint-line", cli),
        command("exit_with", "funcs-user", "exit-with", cli),
        "  - name: exit\n    kind: process.lua\n    meta: {command: {name: exit}}\n    method: main\n    source: |\n      return {main = function(code)\n        local v, err = process.exec('t:exit_with', 't:processes', tonumber(code))\n        if err then return nil, err end\n        return v\n      end}\n",
        "  - name: fail_with\n    kind: process.lua\n    meta: {command: {name: fail-with, short: \"Fail with an exit code\"}}\n    method: main\n    source: |\n      return {main = function(code)\n        return nil, errors.new({message = 'failing with ' .. code, details = {exit_code = tonumber(code)}})\n      end}\n",
    );
    app(&[
        (".wippy.yaml", "version: \"1.0\"\n"),
        ("src/_index.yaml", &index),
    ])
}

#[test]
fn wasm_process_command_args_are_typed_by_their_parameters() {
    let dir = wasm_commands_app();
    let out = weft(dir.path(), &["run", "upper", "hello"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "HELLO\n");
    assert_eq!(text(&out.stderr), "");
    // Every CLI arg is one parameter, the count named with the parameters...
    let out = weft(dir.path(), &["run", "upper", "a", "b"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "to-upper (t:upper): expected 1 argument (s: string), got 2\n"
    );
    // ...parsed by its parameter's type: an s32 takes "5" (the result -5 exits 251).
    let out = weft(dir.path(), &["run", "negate", "5"]);
    assert_eq!(
        out.status.code(),
        Some(251),
        "stderr: {}",
        text(&out.stderr)
    );
    let out = weft(dir.path(), &["run", "negate", "abc"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "neg-s32 (t:negate): argument 1 (x: s32): \"abc\" is not an s32\n"
    );
}

#[test]
fn typed_cli_arguments_take_numbers_bools_enums_records_and_lists() {
    let dir = wasm_commands_app();
    let run = |args: &[&str]| {
        let mut all = vec!["run"];
        all.extend_from_slice(args);
        weft(dir.path(), &all)
    };
    // A u8 (issue 16: `quit 3`), its range, and text that is no number.
    assert_eq!(run(&["code", "3"]).status.code(), Some(3));
    for (arg, why) in [
        ("300", "\"300\" is not a u8 (0 to 255)"),
        ("abc", "\"abc\" is not a u8"),
    ] {
        let out = run(&["code", arg]);
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(
            text(&out.stderr),
            format!("echo-u8 (t:code): argument 1 (x: u8): {why}\n")
        );
        assert_eq!(text(&out.stdout), "");
    }
    // A bool: true/false (not-bool's result decides the exit code).
    assert_eq!(run(&["flip", "false"]).status.code(), Some(0));
    assert_eq!(run(&["flip", "true"]).status.code(), Some(1));
    let out = run(&["flip", "yes"]);
    assert_eq!(
        text(&out.stderr),
        "not-bool (t:flip): argument 1 (b: bool): \"yes\" is not a bool (true or false)\n"
    );
    // An enum by its case name.
    let out = run(&["color-name", "green"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "green\n");
    let out = run(&["color-name", "mauve"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "color-name (t:color-name): argument 1 (c: enum { red, green, blue }): \"mauve\" is not one of red, green, blue\n"
    );
    // Records (WAVE): a list and an absent option inside; nested records.
    let out = run(&[
        "describe-user",
        r#"{name: "ann", age: 30, tags: ["a", "b"]}"#,
    ]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "ann (30) [a, b] no email\n");
    let out = run(&[
        "rect-area",
        "{top-left: {x: 0, y: 0}, bottom-right: {x: 2, y: 3}}",
    ]);
    assert_eq!(out.status.code(), Some(6), "stderr: {}", text(&out.stderr));
    let out = run(&["rect-area", "{top-left: {x: 0, y: 0}}"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(
            "rect-area (t:rect-area): argument 1 (r: record { top-left: record { x: s32, y: s32 }, bottom-right: record { x: s32, y: s32 } }): \"{top-left: {x: 0, y: 0}}\" is not a WAVE record value (e.g. {top-left: {x: 0, y: 0}, bottom-right: {x: 0, y: 0}}): "
        ),
        "{stderr}"
    );
    // A list (WAVE) and a plain string; a wrong count names the parameters.
    let out = run(&["join", r#"["a", "b c"]"#, "-"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "a-b c\n");
    let out = run(&["join", "a"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "join-strings (t:join): expected 2 arguments (l: list<string>, sep: string), got 1\n"
    );
    // A guest's exit status through a typed u32 (it exited 0 here).
    let out = run(&["exit_with", "0"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
}

#[test]
fn run_command_help_lists_the_parameters_with_their_wit_types() {
    let dir = wasm_commands_app();
    let out = weft(dir.path(), &["run", "rect-area", "--help"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    let help = text(&out.stdout);
    for needle in [
        "Usage: weft run rect-area <r>\n",
        "t:rect-area (process.wasm, method rect-area)",
        "Arguments:\n  r: rect  e.g. '{top-left: {x: 0, y: 0}, bottom-right: {x: 0, y: 0}}'\n",
        "Result: s64",
        "Types:\n  record point { x: s32, y: s32 }\n  record rect { top-left: point, bottom-right: point }\n",
    ] {
        assert!(help.contains(needle), "missing {needle:?} in:\n{help}");
    }
    let help = text(&weft(dir.path(), &["run", "join", "--help"]).stdout);
    assert!(
        help.contains("Usage: weft run join <l> <sep>\n")
            && help.contains("  l: list<string>  e.g. '[\"text\"]'\n")
            && help.contains("  sep: string      e.g. text\n"),
        "{help}"
    );
    // A Lua command: its description; its arguments are strings.
    let out = weft(dir.path(), &["run", "fail-with", "--help"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "Usage: weft run fail-with [args…]\n\nFail with an exit code\n\nt:fail_with (process.lua, method main): its arguments reach it as strings.\n"
    );
    let out = weft(dir.path(), &["run", "nope", "--help"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("command \"nope\" not found"),
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
        text(&out.stderr).contains("expected 1 argument (s: string), got 0"),
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
    // The Lua command `exit` runs the process.wasm (exit-with takes a u32) with a
    // number and returns its error.
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

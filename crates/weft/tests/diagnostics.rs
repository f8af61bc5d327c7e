//! End-to-end: the `weft` binary never writes a control character from an app raw to the
//! terminal, in a load problem, a failed command's error, the command list or a log line
//! (`src/diag.rs` says how they are shown).

use std::path::Path;
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

/// An app whose only file is `src/_index.yaml` = `index`.
fn app(index: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/_index.yaml"), index).unwrap();
    dir
}

/// No byte that drives a terminal: no C0 control but `\n`, no DEL, no C1 (as UTF-8).
fn assert_no_controls(stream: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let bad: Vec<char> = text
        .chars()
        .filter(|&c| c.is_control() && c != '\n')
        .collect();
    assert!(bad.is_empty(), "{stream} carries {bad:?}:\n{text}");
}

/// Commands on a terminal host; YAML's `\x1b` is ESC, `\r` CR, `\n` a newline.
const COMMANDS: &str = r#"namespace: t
entries:
  - name: terminal
    kind: terminal.host
  - name: boom
    kind: process.lua
    meta: {command: {name: boom, short: "fails \x1b[31mred\x1b[0m"}}
    method: main
    source: |
      return {main = function() error("\27[31mboom\r\nforged: line") end}
  - name: say
    kind: process.lua
    meta: {command: {name: say, short: says}}
    method: main
    source: |
      return {main = function() print("\27[31mred\rX\nforged: line") return 0 end}
"#;

#[test]
fn load_problems_show_control_characters_escaped() {
    let dir = app(concat!(
        "namespace: t\nentries:\n",
        "  - name: \"bad\\x1b[31mname\"\n    kind: function.lua\n    source: \"return {}\"\n",
        "  - name: \"two\\nerror: forged\\r\"\n    kind: function.lua\n    source: \"return {}\"\n",
    ));
    let out = weft(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_no_controls("stderr", &out.stderr);
    assert!(
        stderr.contains(
            "entry t:bad\\u{1b}[31mname (function.lua): field method: method is required"
        ),
        "{stderr}"
    );
    // A newline inside a problem stays, indented under it: it cannot pass for a line of its own.
    assert!(
        stderr.contains("entry t:two\n    error: forged\\r (function.lua)"),
        "{stderr}"
    );
    assert!(
        !stderr.lines().any(|l| l.starts_with("error: forged")),
        "{stderr}"
    );
}

#[test]
fn a_failed_command_shows_its_error_escaped() {
    let dir = app(COMMANDS);
    let out = weft(dir.path(), &["run", "boom"]);
    assert_eq!(out.status.code(), Some(1));
    assert_no_controls("stderr", &out.stderr);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("\\u{1b}[31mboom\\r\nforged: line"),
        "{stderr}"
    );
}

#[test]
fn the_command_list_shows_control_characters_escaped() {
    let dir = app(COMMANDS);
    let out = weft(dir.path(), &["run", "list"]);
    assert_eq!(out.status.code(), Some(0));
    assert_no_controls("stdout", &out.stdout);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("fails \\u{1b}[31mred\\u{1b}[0m"),
        "{stdout}"
    );
}

#[test]
fn a_log_line_is_one_line_without_control_characters() {
    let dir = app(COMMANDS);
    let out = weft(dir.path(), &["-v", "run", "say"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_no_controls("stderr", &out.stderr);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.contains("red"))
        .unwrap_or_else(|| panic!("no log line of print:\n{stderr}"));
    assert!(
        line.contains("\\u{1b}[31mred\\rX\\nforged: line entry=\"t:say\""),
        "{line}"
    );
}

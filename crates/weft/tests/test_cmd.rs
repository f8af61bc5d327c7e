//! `weft test`: the built binary on small apps with `meta.type: test` entries (Lua and
//! WASM), its reports (pretty, TAP, JUnit, JSON), filters, timeouts and exit codes.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::write_app;

/// Lua tests in two suites, plus entries that are not tests and one that cannot run.
const LUA_APP: &str = r#"version: "1.0"
namespace: app.tests
entries:
  - name: add
    kind: function.lua
    meta: {type: test, suite: math}
    source: "return {run = function() assert(1 + 1 == 2) return true end}"
    method: run

  - name: check
    kind: function.lua
    meta: {type: test, suite: math, order: -1}
    source: |
      local function expect(want, got)
        if want ~= got then
          error(errors.new({message = "expected " .. want .. ", got " .. got, kind = errors.INVALID}))
        end
      end
      return {run = function() expect(3, 1 + 1) end}
    method: run

  - name: falsy
    kind: function.lua
    meta: {type: test, suite: text}
    source: "return {run = function() return false end}"
    method: run

  - name: plain
    kind: function.lua
    meta: {type: test, suite: text}
    source: "return {run = function() error('plain <failure> & \e[31mred') end}"
    method: run

  - name: quiet
    kind: function.lua
    meta: {type: test}
    source: "return {run = function() return nil, nil end}"
    method: run

  - name: proc
    kind: process.lua
    meta: {type: test, suite: text}
    source: "return {main = function() return 0 end}"
    method: main

  - name: helper
    kind: function.lua
    source: "return {run = function() return false end}"
    method: run
"#;

/// Runs `weft -C dir <args>`; its exit code, stdout and stderr.
fn weft(dir: &Path, args: &[&str]) -> (i32, String, String) {
    common::weft(dir, args).parts()
}

/// The app of [`LUA_APP`].
fn lua_app() -> tempfile::TempDir {
    write_app(&[("src/_index.yaml", LUA_APP)])
}

/// The lines of `text` that start with `prefix`, trimmed.
fn lines_starting<'a>(text: &'a str, prefix: &str) -> Vec<&'a str> {
    text.lines().filter(|l| l.starts_with(prefix)).collect()
}

#[test]
fn the_pretty_report_has_a_line_per_test_in_suite_order_then_failures_and_a_summary() {
    let app = lua_app();
    let (code, out, err) = weft(app.path(), &["test"]);
    assert_eq!(code, 1, "{out}\n{err}");
    // One line per test, sorted by suite, then meta.order, then id; the helper is no test.
    let status: Vec<Vec<&str>> = out
        .lines()
        .filter(|l| l.starts_with("ok ") || l.starts_with("FAILED "))
        .map(|l| l.split_whitespace().take(3).collect())
        .collect();
    assert_eq!(
        status,
        [
            ["FAILED", "math", "app.tests:check"],
            ["ok", "math", "app.tests:add"],
            ["ok", "other", "app.tests:quiet"],
            ["FAILED", "text", "app.tests:falsy"],
            ["FAILED", "text", "app.tests:plain"],
            ["FAILED", "text", "app.tests:proc"],
        ],
        "{out}"
    );
    assert!(out.starts_with("running 6 tests (in 3 suites, "), "{out}");
    assert!(!out.contains("helper"), "{out}");
    // An error object: its kind, its message and the Lua traceback of where it was made.
    let check = section(&out, "app.tests:check");
    assert!(check.contains("Invalid: expected 3, got 2"), "{check}");
    assert!(check.contains("stack traceback:"), "{check}");
    assert!(check.contains("app.tests:check:3: in"), "{check}");
    // A plain error("…"): kind Unknown, Lua's position; control characters escaped.
    let plain = section(&out, "app.tests:plain");
    assert!(
        plain.contains("Unknown: app.tests:plain:1: plain <failure> & \\u{1b}[31mred"),
        "{plain}"
    );
    assert!(!out.contains('\u{1b}'), "{out}");
    assert!(
        section(&out, "app.tests:falsy").contains("the test returned false"),
        "{out}"
    );
    assert!(
        section(&out, "app.tests:proc").contains("app.tests:proc (process.lua) is not a function"),
        "{out}"
    );
    assert!(
        out.trim_end()
            .lines()
            .last()
            .unwrap()
            .starts_with("test result: FAILED. 2 passed, 4 failed, 6 total in "),
        "{out}"
    );
}

/// The failure section of `id` in a pretty report.
fn section<'a>(out: &'a str, id: &str) -> &'a str {
    let start = out
        .find(&format!("---- {id} ("))
        .unwrap_or_else(|| panic!("no failure section for {id}:\n{out}"));
    let rest = &out[start + 4..];
    let end = rest
        .find("\n---- ")
        .or_else(|| rest.find("\ntest result:"))
        .unwrap_or(rest.len());
    &rest[..end]
}

#[test]
fn filters_select_by_id_or_suite_and_decide_the_exit_code() {
    let app = lua_app();
    // Only passing tests selected: exit 0.
    let (code, out, err) = weft(app.path(), &["test", "add", "quiet"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(lines_starting(&out, "ok ").len(), 2, "{out}");
    assert!(
        out.contains("test result: ok. 2 passed, 0 failed, 2 total"),
        "{out}"
    );
    // A suite name selects its tests.
    let (code, out, _) = weft(app.path(), &["test", "math"]);
    assert_eq!(code, 1);
    assert_eq!(lines_starting(&out, "ok ").len(), 1, "{out}");
    assert_eq!(lines_starting(&out, "FAILED ").len(), 1, "{out}");
    // Filters matching nothing: exit 1, saying so.
    let (code, out, err) = weft(app.path(), &["test", "nosuch"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        err.contains("error: no test matches \"nosuch\" (the app has 6 tests"),
        "{err}"
    );
    // `-o` overrides apply as for `weft run`: the renamed suite selects one test.
    let (code, out, err) = weft(
        app.path(),
        &["test", "-o", "app.tests:add:meta.suite=renamed", "renamed"],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("ok      renamed  app.tests:add"), "{out}");
}

#[test]
fn an_app_without_tests_passes_saying_so_and_bad_options_are_refused() {
    let app = write_app(&[(
        "src/_index.yaml",
        "namespace: t\nentries:\n  - {name: f, kind: function.lua, source: \"return {run = function() return false end}\", method: run}\n",
    )]);
    let (code, out, err) = weft(app.path(), &["test"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("no tests found"), "{out}");
    let (code, out, _) = weft(app.path(), &["test", "--format", "json"]);
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&out).expect(&out);
    assert_eq!(json["summary"]["total"], 0);
    let (code, _, err) = weft(app.path(), &["test", "--timeout", "10"]);
    assert_eq!(code, 2);
    assert!(err.contains("missing unit in duration"), "{err}");
    let (code, _, err) = weft(app.path(), &["test", "--jobs", "0"]);
    assert_eq!(code, 2, "{err}");
    // An app that fails to boot fails the run.
    let broken = write_app(&[(
        "src/_index.yaml",
        "namespace: t\nentries:\n  - {name: f, kind: function.lua, source: \"return {\", method: run, meta: {type: test}}\n",
    )]);
    let (code, out, err) = weft(broken.path(), &["test"]);
    assert_eq!(code, 1, "{out}");
    assert!(err.contains("the app failed to load"), "{err}");
}

#[test]
fn a_test_past_its_timeout_fails_and_the_others_still_run() {
    let app = write_app(&[(
        "src/_index.yaml",
        r#"namespace: app
entries:
  - name: spin
    kind: function.lua
    meta: {type: test}
    source: "return {run = function() while true do end end}"
    method: run
  - name: fine
    kind: function.lua
    meta: {type: test}
    source: "return {run = function() return 1 end}"
    method: run
"#,
    )]);
    let started = Instant::now();
    let (code, out, err) = weft(app.path(), &["test", "--timeout", "200ms", "-j", "1"]);
    assert!(started.elapsed() < Duration::from_secs(20), "{out}");
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains("ok      other  app:fine"), "{out}");
    let spin = section(&out, "app:spin");
    assert!(
        spin.contains("Timeout: the test did not finish within 200ms (--timeout)"),
        "{spin}"
    );
    assert!(out.contains("1 passed, 1 failed, 2 total"), "{out}");
}

#[test]
fn tests_run_in_parallel_up_to_jobs() {
    let sleeper = |name: &str| {
        format!(
            "  - {{name: {name}, kind: function.lua, meta: {{type: test}}, modules: [time], method: run, source: \"return {{run = function() time.sleep('300ms') end}}\"}}\n"
        )
    };
    let index = format!(
        "namespace: app\nentries:\n{}{}{}",
        sleeper("a"),
        sleeper("b"),
        sleeper("c")
    );
    let app = write_app(&[("src/_index.yaml", &index)]);
    let elapsed = |jobs: &str| {
        let (code, out, err) = weft(app.path(), &["test", "-j", jobs, "--format", "json"]);
        assert_eq!(code, 0, "{out}\n{err}");
        let json: serde_json::Value = serde_json::from_str(&out).expect(&out);
        assert_eq!(json["summary"]["passed"], 3);
        json["summary"]["duration_ms"].as_f64().unwrap()
    };
    assert!(elapsed("1") >= 900.0);
    assert!(elapsed("3") < 800.0);
}

#[test]
fn the_tap_report_has_a_plan_a_line_per_test_and_yaml_for_failures() {
    let app = lua_app();
    let (code, out, _) = weft(app.path(), &["test", "--format", "tap"]);
    assert_eq!(code, 1);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[..2], ["TAP version 14", "1..6"], "{out}");
    assert_eq!(lines_starting(&out, "ok ").len(), 2, "{out}");
    assert_eq!(lines_starting(&out, "not ok ").len(), 4, "{out}");
    assert!(out.contains("not ok 1 - app.tests:check\n  ---\n"), "{out}");
    assert!(out.contains("  kind: Invalid\n"), "{out}");
    assert!(out.contains("  reason: returned_false\n"), "{out}");
    assert!(out.contains("ok 2 - app.tests:add\n"), "{out}");
    assert!(out.contains("\n# 2 passed, 4 failed, 6 total in "), "{out}");
    assert!(!out.contains('\u{1b}'), "{out}");
}

#[test]
fn the_junit_report_is_well_formed_xml_with_a_suite_per_suite() {
    use quick_xml::XmlVersion::Explicit1_0;
    use quick_xml::events::Event;
    let app = lua_app();
    let (code, out, _) = weft(app.path(), &["test", "--format", "junit"]);
    assert_eq!(code, 1);
    let attribute = |e: &quick_xml::events::BytesStart<'_>, name: &str| {
        let value = e.try_get_attribute(name).unwrap().expect(name);
        value.normalized_value(Explicit1_0).unwrap().into_owned()
    };
    // Reading every event checks that the document is well formed (names matched).
    let mut reader = quick_xml::Reader::from_str(&out);
    let (mut suites, mut cases, mut messages, mut errors) = (Vec::new(), 0, Vec::new(), 0);
    loop {
        match reader
            .read_event()
            .unwrap_or_else(|e| panic!("bad XML: {e}\n{out}"))
        {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                b"testsuite" => suites.push(attribute(&e, "name")),
                b"testcase" => cases += 1,
                b"failure" => messages.push(attribute(&e, "message")),
                b"error" => errors += 1,
                _ => {}
            },
            _ => {}
        }
    }
    assert_eq!(suites, ["math", "other", "text"], "{out}");
    assert_eq!((cases, messages.len(), errors), (6, 3, 1), "{out}");
    // Markup in a message is escaped and read back; the terminal escape is dropped.
    assert!(
        messages.contains(&"app.tests:plain:1: plain <failure> & red".to_string()),
        "{messages:?}"
    );
    assert!(!out.contains('\u{1b}'));
    // The failure's body: its kind, message and traceback.
    assert!(
        out.contains("Invalid: expected 3, got 2\nstack traceback:"),
        "{out}"
    );
}

#[test]
fn the_json_report_lists_every_test_and_the_counts() {
    let app = lua_app();
    let (code, out, _) = weft(app.path(), &["test", "--format", "json"]);
    assert_eq!(code, 1);
    let json: serde_json::Value = serde_json::from_str(&out).expect(&out);
    let tests = json["tests"].as_array().unwrap();
    let ids: Vec<&str> = tests.iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "app.tests:check",
            "app.tests:add",
            "app.tests:quiet",
            "app.tests:falsy",
            "app.tests:plain",
            "app.tests:proc"
        ]
    );
    let check = &tests[0];
    assert_eq!(check["status"], "failed");
    assert_eq!(check["suite"], "math");
    assert_eq!(check["entry_kind"], "function.lua");
    assert_eq!(check["failure"]["reason"], "error");
    assert_eq!(check["failure"]["kind"], "Invalid");
    assert_eq!(check["failure"]["message"], "expected 3, got 2");
    assert!(
        check["failure"]["stack"]
            .as_str()
            .unwrap()
            .starts_with("stack traceback:")
    );
    assert_eq!(tests[1]["status"], "passed");
    assert!(tests[1].get("failure").is_none());
    assert_eq!(tests[3]["failure"]["reason"], "returned_false");
    assert_eq!(tests[3]["failure"]["kind"], serde_json::Value::Null);
    assert_eq!(tests[5]["failure"]["reason"], "not_callable");
    assert_eq!(json["summary"]["passed"], 2);
    assert_eq!(json["summary"]["failed"], 4);
    assert_eq!(json["summary"]["total"], 6);
}

/// WASM tests: core modules whose export returns a `bool` or a WIT `result`.
const WASM_APP: &str = r#"namespace: app.wasm
entries:
  - name: yes
    kind: function.wat
    meta: {type: test, suite: wasm}
    source: '(module (func (export "t") (result i32) i32.const 1))'
    method: t
    wit: "t: func() -> bool;"

  - name: no
    kind: function.wat
    meta: {type: test, suite: wasm}
    source: '(module (func (export "t") (result i32) i32.const 0))'
    method: t
    wit: "t: func() -> bool;"

  - name: trap
    kind: function.wat
    meta: {type: test, suite: wasm}
    source: '(module (func (export "t") (result i32) unreachable))'
    method: t
    wit: "t: func() -> bool;"

  # result<_, string> through a return area at 0x10: [0x10] the case (u8: 0 ok, 1 err),
  # [0x14] the string's pointer, [0x18] its length.
  - name: err
    kind: function.wat
    meta: {type: test, suite: wasm}
    source: |
      (module
        (memory (export "memory") 1)
        (data (i32.const 0x20) "too small")
        (func (export "t") (result i32)
          (i32.store8 (i32.const 0x10) (i32.const 1))
          (i32.store (i32.const 0x14) (i32.const 0x20))
          (i32.store (i32.const 0x18) (i32.const 9))
          (i32.const 0x10)))
    method: t
    wit: "t: func() -> result<_, string>;"

  - name: ok
    kind: function.wat
    meta: {type: test, suite: wasm}
    source: |
      (module
        (memory (export "memory") 1)
        (func (export "t") (result i32)
          (i32.store8 (i32.const 0x10) (i32.const 0))
          (i32.const 0x10)))
    method: t
    wit: "t: func() -> result<_, string>;"
"#;

#[test]
fn wasm_tests_pass_on_true_and_ok_and_fail_on_false_err_and_traps() {
    let app = write_app(&[
        (".wippy.yaml", "version: \"1.0\"\nwasm: {cache_dir: \"\"}\n"),
        ("src/_index.yaml", WASM_APP),
    ]);
    let (code, out, err) = weft(app.path(), &["test"]);
    assert_eq!(code, 1, "{out}\n{err}");
    let status: Vec<(&str, &str)> = out
        .lines()
        .filter(|l| l.starts_with("ok ") || l.starts_with("FAILED "))
        .map(|l| {
            let mut words = l.split_whitespace();
            (words.next().unwrap(), words.nth(1).unwrap())
        })
        .collect();
    assert_eq!(
        status,
        [
            ("FAILED", "app.wasm:err"),
            ("FAILED", "app.wasm:no"),
            ("ok", "app.wasm:ok"),
            ("FAILED", "app.wasm:trap"),
            ("ok", "app.wasm:yes"),
        ],
        "{out}"
    );
    assert!(
        section(&out, "app.wasm:err").contains("the test returned err: too small"),
        "{out}"
    );
    assert!(
        section(&out, "app.wasm:no").contains("the test returned false"),
        "{out}"
    );
    // A trap: kind Internal, the wasm trap, and the guest's backtrace.
    let trap = section(&out, "app.wasm:trap");
    assert!(
        trap.contains("Internal: failed to call wasm method: t (app.wasm:trap)"),
        "{trap}"
    );
    assert!(trap.contains("wasm backtrace"), "{trap}");
    let (_, json, _) = weft(app.path(), &["test", "--format", "json", "err"]);
    let json: serde_json::Value = serde_json::from_str(&json).expect(&json);
    assert_eq!(json["tests"][0]["failure"]["reason"], "result_err");
    assert_eq!(json["tests"][0]["failure"]["details"], "too small");
}

//! End-to-end: `weft inspect <entry>` on the built binary: a component with records,
//! variants, enums and flags (the committed `types` guest), a core `function.wat` with a
//! `wit:` signature, Lua entries, another kind, `--format json`, a missing entry; and
//! the Lua calls inspect prints, run as they are through a Lua command of the same app.

use std::path::{Path, PathBuf};

mod common;

use common::{dist, guest_entry, weft};

/// `guests/wat`, where the WAT guests and their signatures are.
fn wat_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../guests/wat")
        .canonicalize()
        .expect("guests/wat")
}

/// The WASM entries of the test app: (name, kind, method) on the `types` guest.
const TYPES_ENTRIES: &[(&str, &str, &str)] = &[
    ("area", "function.wasm", "area"),
    ("next_color", "function.wasm", "next-color"),
    ("gcd", "function.wasm", "test:types/math@0.1.0#gcd"),
    ("older", "function.wasm", "older"),
    ("try_divide", "function.wasm", "try-divide"),
    ("echo_perms", "function.wasm", "echo-perms"),
    ("swap", "function.wasm", "swap"),
    ("rect_area", "process.wasm", "rect-area"),
];

/// An app with WASM entries on the `types` guest, two core `function.wat` entries of the
/// pixel guest, Lua entries (one from a file) and a Lua command `try` whose source is
/// `try.lua` (a placeholder until a test writes it).
fn app() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    let mut index = format!(
        "version: \"1.0\"\nnamespace: t\nentries:\n  - {{name: terminal, kind: terminal.host}}\n  - {{name: processes, kind: process.host}}\n  - {{name: guests, kind: fs.directory, directory: {}}}\n",
        dist().display()
    );
    for (name, kind, method) in TYPES_ENTRIES {
        index.push_str(&guest_entry(kind, name, "types", method, ""));
    }
    index.push_str(&guest_entry(
        "function.wasm",
        "translate",
        "types",
        "translate",
        "    imports: [wasi:cli]\n    pool: {type: static, size: 2}\n    limits: {max_execution_ms: 500, max_memory_mb: 64}\n",
    ));
    for method in ["shift", "invert"] {
        index.push_str(&format!(
            "  - name: {method}\n    kind: function.wat\n    source: file://pixel_core.wat\n    wit: file://pixel_core.wit\n    method: {method}\n"
        ));
    }
    index.push_str(
        "  - name: greet\n    kind: function.lua\n    source: file://lua/greet.lua\n    method: main\n    modules: [funcs, json]\n    imports: {helpers: t:helpers}\n    pool: {type: static, size: 3}\n    limits: {max_memory_mb: 64}\n",
    );
    index.push_str(
        "  - name: helpers\n    kind: library.lua\n    meta: {note: \"rtl \\u202E and del \\x7F\"}\n    source: |\n      return {}\n",
    );
    index.push_str(
        "  - name: try\n    kind: process.lua\n    meta: {command: {name: try, short: \"Runs the calls inspect printed\"}}\n    source: file://try.lua\n    method: main\n    modules: [funcs, process]\n",
    );
    std::fs::write(src.join("_index.yaml"), index).unwrap();
    std::fs::create_dir_all(src.join("lua")).unwrap();
    std::fs::write(
        src.join("lua/greet.lua"),
        "local function main(name)\n  return \"hi \" .. name\nend\nreturn {main = main}\n",
    )
    .unwrap();
    std::fs::write(
        src.join("try.lua"),
        "return {main = function() return 0 end}\n",
    )
    .unwrap();
    for file in ["pixel_core.wat", "pixel_core.wit"] {
        std::fs::copy(wat_dir().join(file), src.join(file)).unwrap();
    }
    dir
}

/// `weft inspect <id>` that succeeds: its stdout.
fn inspect(dir: &Path, id: &str) -> String {
    let out = weft(dir, &["inspect", id]);
    assert_eq!(Some(out.code), Some(0), "stderr: {}", out.stderr);
    assert_eq!(out.stderr, "");
    out.stdout
}

/// `weft inspect <id> --format json`, parsed.
fn inspect_json(dir: &Path, id: &str) -> serde_json::Value {
    let out = weft(dir, &["inspect", id, "--format", "json"]);
    assert_eq!(Some(out.code), Some(0), "stderr: {}", out.stderr);
    serde_json::from_str(&out.stdout).expect("inspect --format json prints JSON")
}

/// Asserts that `haystack` contains every one of `needles`.
fn contains_all(haystack: &str, needles: &[&str]) {
    for needle in needles {
        assert!(
            haystack.contains(needle),
            "missing {needle:?} in:\n{haystack}"
        );
    }
}

#[test]
fn a_component_shows_its_world_its_lua_call_pool_and_limits() {
    let dir = app();
    let out = inspect(dir.path(), "t:area");
    contains_all(
        &out,
        &[
            "t:area (function.wasm), defined in src/_index.yaml:",
            "binary:  component",
            "method:  area: func(s: shape) -> f64",
            "imports: none",
            "pool:    lazy (up to 100 at once",
            "limits:  max_execution_ms: none, max_memory_mb: 256 (default)",
            "local result, err = funcs.call(\"t:area\", {circle = 0.0})",
            "-- result: number",
            "world root {",
            // The named types in WIT, dependencies first.
            "record point { x: s32, y: s32 }\n      record rect { top-left: point, bottom-right: point }",
            "variant shape { circle(f64), rectangle(rect), empty }",
            "enum color { red, green, blue }",
            "flags perms { read, write, exec }",
            "export area: func(s: shape) -> f64;",
            "export try-divide: func(a: s32, b: s32) -> result<s32, div-error>;",
            "export test:types/math@0.1.0;",
            "interface math {\n      fibonacci: func(n: u32) -> u64;",
            // A Rust guest imports wasi:cli through std: not granted without `imports:`.
            "import wasi:cli/environment@0.2.6;  // not granted: no args or env",
            "(add `wasi:cli` to imports)",
            "import wasi:io/streams@0.2.6;  // always linked",
        ],
    );
    // An enum parameter and result, a record in a list, a flags set, a result.
    contains_all(
        &inspect(dir.path(), "t:next_color"),
        &[
            "funcs.call(\"t:next_color\", \"red\")",
            "-- result: \"red\" | \"green\" | \"blue\"",
        ],
    );
    contains_all(
        &inspect(dir.path(), "t:older"),
        &[
            "funcs.call(\"t:older\", {{name = \"text\", age = 0, tags = {\"text\"}, email = \"text\"}}, 0)",
            "-- result: {{name = string, age = integer, tags = {string, ...}, email = string | nil}, ...}",
        ],
    );
    contains_all(
        &inspect(dir.path(), "t:try_divide"),
        &["-- result: {ok = integer} | {err = {code = integer, message = string}}"],
    );
    // A method of an exported interface.
    contains_all(
        &inspect(dir.path(), "t:gcd"),
        &[
            "method:  gcd: func(a: u64, b: u64) -> u64",
            "funcs.call(\"t:gcd\", 0, 0)",
        ],
    );
    // A process is run, not called: the line spawns it on the app's process host.
    contains_all(
        &inspect(dir.path(), "t:rect_area"),
        &[
            "process.exec(\"t:rect_area\", \"t:processes\", {[\"top-left\"] = {x = 0, y = 0}, [\"bottom-right\"] = {x = 0, y = 0}})",
            "CLI: {top-left: {x: 0, y: 0}, bottom-right: {x: 0, y: 0}}",
        ],
    );
}

#[test]
fn json_parses_back_with_grants_pool_and_limits() {
    let dir = app();
    let v = inspect_json(dir.path(), "t:translate");
    assert_eq!(v["id"], "t:translate");
    assert_eq!(v["kind"], "function.wasm");
    assert_eq!(v["file"], "src/_index.yaml");
    assert!(v["line"].as_u64().is_some(), "{v}");
    let wasm = &v["wasm"];
    assert_eq!(wasm["binary"], "component");
    assert_eq!(wasm["method"], "translate");
    assert_eq!(wasm["imports"], serde_json::json!(["wasi:cli"]));
    let f = &wasm["function"];
    assert_eq!(
        f["wit"],
        "translate: func(p: point, dx: s32, dy: s32) -> point"
    );
    assert_eq!(
        f["params"],
        serde_json::json!([
            {"name": "p", "type": "point", "lua": "{x = 0, y = 0}", "cli": "{x: 0, y: 0}"},
            {"name": "dx", "type": "s32", "lua": "0", "cli": "0"},
            {"name": "dy", "type": "s32", "lua": "0", "cli": "0"},
        ])
    );
    assert_eq!(f["result"], "point");
    assert_eq!(
        f["lua_call"],
        "funcs.call(\"t:translate\", {x = 0, y = 0}, 0, 0)"
    );
    assert_eq!(f["lua_result"], "{x = integer, y = integer}");
    assert!(f["note"].is_null());
    let world = &wasm["world"];
    assert_eq!(world["name"], "root");
    let types: Vec<&str> = world["types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "point",
            "rect",
            "user",
            "div-error",
            "shape",
            "color",
            "perms"
        ]
    );
    let exports = world["exports"].as_array().unwrap();
    assert!(
        exports
            .iter()
            .any(|e| e["name"] == "translate" && e["kind"] == "function")
    );
    assert!(
        exports
            .iter()
            .any(|e| e["name"] == "test:types/math@0.1.0" && e["kind"] == "interface")
    );
    // `imports: [wasi:cli]` grants the wasi:cli interfaces; io is always linked.
    let imports = world["imports"].as_array().unwrap();
    let cli = imports
        .iter()
        .find(|i| i["name"] == "wasi:cli/environment@0.2.6")
        .expect("wasi:cli/environment imported");
    assert_eq!(cli["granted"], true);
    assert_eq!(cli["import"], "wasi:cli");
    assert_eq!(cli["kind"], "interface");
    let io = imports
        .iter()
        .find(|i| i["name"] == "wasi:io/streams@0.2.6")
        .expect("wasi:io/streams imported");
    assert_eq!(io["granted"], true);
    assert!(io["import"].is_null());
    assert!(world["wit"].as_str().unwrap().starts_with("world root {"));
    assert_eq!(
        v["pool"],
        serde_json::json!({"type": "static", "workers": 2, "queue": 128})
    );
    assert_eq!(
        v["limits"],
        serde_json::json!({"max_execution_ms": 500, "max_memory_mb": 64, "max_memory_mb_default": false})
    );
}

#[test]
fn a_core_wat_function_shows_the_world_of_its_signature() {
    let dir = app();
    let out = inspect(dir.path(), "t:shift");
    contains_all(
        &out,
        &[
            "t:shift (function.wat)",
            "binary:  core module",
            "method:  shift: func(p: pixel, dx: offset) -> pixel",
            "world module {",
            "enum color { red, green, blue }",
            "type offset = s32;",
            "record pixel { x: s32, y: s32, color: color }",
            "export shift: func(p: pixel, dx: offset) -> pixel;",
            "local result, err = funcs.call(\"t:shift\", {x = 0, y = 0, color = \"red\"}, 0)",
            "-- result: {x = integer, y = integer, color = \"red\" | \"green\" | \"blue\"}",
        ],
    );
    // A core module imports nothing.
    let v = inspect_json(dir.path(), "t:invert");
    assert_eq!(v["wasm"]["binary"], "core module");
    assert_eq!(v["wasm"]["world"]["imports"], serde_json::json!([]));
    assert_eq!(
        v["wasm"]["function"]["lua_call"],
        "funcs.call(\"t:invert\", {\"read\"})"
    );
}

#[test]
fn lua_entries_show_method_modules_imports_and_where_the_source_is() {
    let dir = app();
    let out = inspect(dir.path(), "t:greet");
    contains_all(
        &out,
        &[
            "t:greet (function.lua), defined in src/_index.yaml:",
            "method:  main",
            "source:  src/lua/greet.lua (file://lua/greet.lua, 4 lines)",
            "modules: funcs, json",
            "imports:\n  helpers -> t:helpers",
            "pool:    static (3 workers, up to 192 callers waiting)",
            "limits:  max_execution_ms: none, max_memory_mb: 64",
        ],
    );
    let v = inspect_json(dir.path(), "t:greet");
    assert_eq!(
        v["lua"],
        serde_json::json!({
            "method": "main",
            "modules": ["funcs", "json"],
            "imports": {"helpers": "t:helpers"},
            "source": {"file": "src/lua/greet.lua", "url": "file://lua/greet.lua", "lines": 4},
        })
    );
    assert_eq!(v["pool"]["type"], "static");
    // A library: inline source, no pool.
    let v = inspect_json(dir.path(), "t:helpers");
    assert_eq!(
        v["lua"]["source"],
        serde_json::json!({"file": null, "url": null, "lines": 1})
    );
    assert!(v.get("pool").is_none(), "{v}");
    assert!(inspect(dir.path(), "t:helpers").contains("source:  inline (1 line)"));
    // Other kinds: their data.
    let out = inspect(dir.path(), "t:guests");
    contains_all(&out, &["t:guests (fs.directory)", "data:\n  directory: "]);
    let v = inspect_json(dir.path(), "t:guests");
    assert_eq!(v["data"]["directory"], dist().display().to_string());
    let out = inspect(dir.path(), "t:try");
    contains_all(&out, &["meta:\n  command:\n    name: try"]);
}

#[test]
fn a_missing_entry_is_named_with_close_ids() {
    let dir = app();
    let out = weft(dir.path(), &["inspect", "t:aera"]);
    assert_eq!(Some(out.code), Some(1));
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        "error: no entry \"t:aera\" in the app; did you mean t:area?\n"
    );
    let out = weft(dir.path(), &["inspect", "nothing:like_this_at_all"]);
    assert_eq!(Some(out.code), Some(1));
    assert_eq!(
        out.stderr,
        "error: no entry \"nothing:like_this_at_all\" in the app\n"
    );
}

#[test]
fn the_printed_lua_calls_work_as_they_are() {
    let dir = app();
    // Each entry's printed call, and a check of its result's shape in Lua.
    let checks: &[(&str, &str)] = &[
        ("t:area", "type(result) == 'number' and result == 0"),
        ("t:translate", "result.x == 0 and result.y == 0"),
        ("t:next_color", "result == 'green'"),
        ("t:gcd", "result == 0"),
        (
            "t:older",
            "#result == 1 and result[1].name == 'text' and result[1].age == 0",
        ),
        ("t:try_divide", "result.err.code == 1"),
        ("t:echo_perms", "result[1] == 'read' and #result == 1"),
        ("t:swap", "result[1] == 0 and result[2] == 'text'"),
        ("t:rect_area", "result == 0"),
        ("t:shift", "result.x == 0 and result.color == 'green'"),
        ("t:invert", "#result == 2"),
    ];
    let mut lua = String::from("return {main = function()\n  local failed = {}\n");
    for (id, check) in checks {
        let v = inspect_json(dir.path(), id);
        let call = v["wasm"]["function"]["lua_call"]
            .as_str()
            .unwrap_or_else(|| panic!("{id}: no lua_call in {v}"));
        lua.push_str(&format!(
            "  do\n    local result, err = {call}\n    if err or not ({check}) then\n      failed[#failed + 1] = {id:?} .. ': ' .. tostring(err)\n    end\n  end\n"
        ));
    }
    lua.push_str("  if #failed > 0 then return nil, table.concat(failed, '; ') end\n  return 'all ' .. 11 .. ' calls work'\nend}\n");
    std::fs::write(dir.path().join("src/try.lua"), &lua).unwrap();
    let out = weft(dir.path(), &["run", "try"]);
    assert_eq!(
        (Some(out.code), out.stderr),
        (Some(0), String::new()),
        "the Lua:\n{lua}"
    );
    assert_eq!(out.stdout, "all 11 calls work\n");
}

#[test]
fn app_text_reaches_the_terminal_escaped_and_json_stays_valid() {
    let dir = app();
    let out = inspect(dir.path(), "t:helpers");
    // YAML escapes DEL itself; the bidirectional control is escaped on the way out.
    assert!(
        out.contains(r#"note: "rtl \u{202e} and del \x7F""#),
        "{out}"
    );
    assert!(!out.contains('\u{202e}') && !out.contains('\u{7f}'));
    let raw = weft(dir.path(), &["inspect", "t:helpers", "--format", "json"]).stdout;
    assert!(
        !raw.contains('\u{202e}') && !raw.contains('\u{7f}'),
        "{raw}"
    );
    let v: serde_json::Value = serde_json::from_str(&raw).expect("valid JSON");
    assert_eq!(v["meta"]["note"], "rtl \u{202e} and del \u{7f}");
}

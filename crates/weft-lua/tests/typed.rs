//! Wippy's typed Lua end to end: typed `function.lua`, `library.lua` and `process.lua`
//! sources booted from disk, erased for Lua 5.4 on their own lines, with their `type`
//! aliases as runtime values.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{app, boot_dir};
use weft_core::{ErrorKind, Result, Value};
use weft_runtime::Runtime;

const INDEX: &str = r#"
namespace: t
entries:
  - {name: host, kind: process.host, lifecycle: {auto_start: true}}
  - name: shapes
    kind: library.lua
    source: file://shapes.lua
  - name: users
    kind: function.lua
    source: file://users.lua
    method: run
  - name: geometry
    kind: function.lua
    source: file://geometry.lua
    method: run
    imports: {shapes: shapes}
  - name: fails_on_line_7
    kind: function.lua
    source: file://fails.lua
    method: run
  - name: caller
    kind: function.lua
    source: file://caller.lua
    method: run
    modules: [funcs]
  - name: echo
    kind: process.lua
    source: file://echo.lua
    method: main
  - name: ask
    kind: function.lua
    source: file://ask.lua
    method: run
"#;

const USERS: &str = r#"
type User = {
    name: string @min_len(1),
    age: integer @min(0) @max(150),
    email?: string @pattern("^.+@.+$"),
}
type Users = {User}
type Outcome = {value: string?, err: error?}

local function first_name(users: Users): string
    local u: User? = users[1]
    return (u!).name
end

local M = {}

function M.run(data: any): {[string]: any}
    local users, err = Users:is(data)
    if not users then
        return {error = err:message(), kind = err:kind()}
    end
    local n = #users :: integer
    local all: Users = users
    local typ = typeof(all)
    local outcomes = {Outcome:is({err = "boom"}) ~= nil, Outcome:is({err = errors.new("x")}) ~= nil,
                      Outcome:is({err = 5}) ~= nil}
    return {first = first_name(users), count = n, elem = typ:elem():kind(), outcomes = outcomes,
            fields = (function() local out = {} for name in User:fields() do out[#out + 1] = name end return out end)()}
end

return M
"#;

const SHAPES: &str = r#"
type Point = {x: number, y: number}
type Shape = {kind: "circle", center: Point, r: number @min(0)}
    | {kind: "square", corner: Point, side: number @min(0)}

local function area(s: Shape): number
    if s.kind == "circle" then
        return math.pi * s.r * s.r
    end
    return s.side * s.side
end

return {Point = Point, Shape = Shape, area = area}
"#;

const GEOMETRY: &str = r#"
type Box<T> = {value: T}

local function unbox<T>(b: Box<T>): T
    return b.value
end

return {run = function(raw: any): (number?, string?)
    local shape = shapes.Shape(raw)
    local boxed = unbox({value = shapes.area(shape)} as Box<number>)
    local ok, err = pcall(shapes.Point, {x = 1})
    return {boxed, tostring(err)}
end}
"#;

const FAILS: &str = r#"
type Config = {
    host: string,
    port: integer,
}
local function run(cfg: Config): string
    local missing: string = cfg.nothing :: string
    return missing .. "!"
end
return {run = run}
"#;

const CALLER: &str = r#"
local function run(mode: string): any
    local v: any, err: any = funcs.call("t:users", {{name = "ann", age = 40}})
    return v
end
return {run = run}
"#;

const ECHO: &str = r#"
local function main(parent_pid: string): boolean
    local msg = process.inbox():receive()
    local from = msg:from() :: string
    process.send(from, "echo", (msg:payload():data()) :: string)
    return true
end
return {main = main}
"#;

const ASK: &str = r#"
local function run(text: string): string?
    local child: string = process.spawn("t:echo", "t:host", process.pid())
    process.send(child, "say", text)
    local reply = process.inbox():receive()
    return reply:payload():data() :: string
end
return {run = run}
"#;

async fn booted() -> (tempfile::TempDir, Arc<Runtime>) {
    let dir = app(&[
        ("src/_index.yaml", INDEX),
        ("src/users.lua", USERS),
        ("src/shapes.lua", SHAPES),
        ("src/geometry.lua", GEOMETRY),
        ("src/fails.lua", FAILS),
        ("src/caller.lua", CALLER),
        ("src/echo.lua", ECHO),
        ("src/ask.lua", ASK),
    ]);
    let rt = match boot_dir(dir.path()).await {
        Ok(rt) => rt,
        Err(e) => panic!("boot failed:\n{e}"),
    };
    (dir, rt)
}

async fn call(rt: &Arc<Runtime>, id: &str, args: Vec<Value>) -> Result<Value> {
    let cx = rt.root_context();
    let call = rt.functions.call(&cx, id, args);
    tokio::time::timeout(Duration::from_secs(30), call)
        .await
        .unwrap_or_else(|_| panic!("{id} hung"))
}

fn user(name: &str, age: Value) -> Value {
    let mut m = weft_core::Map::new();
    m.insert("name".into(), Value::str(name));
    m.insert("age".into(), age);
    Value::map(m)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_typed_function_validates_with_its_types_and_runs() {
    let (_dir, rt) = booted().await;
    let ok = call(
        &rt,
        "t:users",
        vec![Value::array(vec![user("ann", Value::Int(40))])],
    )
    .await
    .unwrap();
    assert_eq!(ok.get("first"), Some(&Value::str("ann")));
    assert_eq!(ok.get("count"), Some(&Value::Int(1)));
    assert_eq!(ok.get("elem"), Some(&Value::str("record")));
    // `error` is the type of the return convention's errors: an error object or a message.
    assert_eq!(
        ok.get("outcomes"),
        Some(&Value::array(vec![
            Value::Bool(true),
            Value::Bool(true),
            Value::Bool(false)
        ]))
    );
    let fields = ok.get("fields").and_then(Value::as_array).unwrap();
    assert_eq!(
        fields.iter().filter_map(Value::as_str).collect::<Vec<_>>(),
        ["name", "age", "email"]
    );

    let bad = Value::array(vec![
        user("ann", Value::Int(40)),
        user("bob", Value::str("x")),
    ]);
    let out = call(&rt, "t:users", vec![bad]).await.unwrap();
    assert_eq!(out.get("kind"), Some(&Value::str("Invalid")));
    let message = out.get("error").and_then(Value::as_str).unwrap();
    assert!(message.contains("[2].age: expected integer"), "{message}");

    let old = Value::array(vec![user("cy", Value::Int(151))]);
    let out = call(&rt, "t:users", vec![old]).await.unwrap();
    let message = out.get("error").and_then(Value::as_str).unwrap();
    assert!(
        message.contains("[1].age") && message.contains("@max(150)"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_library_exports_its_types_and_generics_erase() {
    let (_dir, rt) = booted().await;
    let mut circle = weft_core::Map::new();
    circle.insert("kind".into(), Value::str("circle"));
    let mut center = weft_core::Map::new();
    center.insert("x".into(), Value::Int(0));
    center.insert("y".into(), Value::Int(0));
    circle.insert("center".into(), Value::map(center));
    circle.insert("r".into(), Value::Int(2));
    let out = call(&rt, "t:geometry", vec![Value::map(circle.clone())])
        .await
        .unwrap();
    let items = out.as_array().unwrap();
    let area = match &items[0] {
        Value::Float(f) => *f,
        other => panic!("{other:?}"),
    };
    assert!((area - std::f64::consts::PI * 4.0).abs() < 1e-9);
    let point_err = items[1].as_str().unwrap();
    assert!(
        point_err.contains("y: expected number, got nil"),
        "{point_err}"
    );

    circle.insert("r".into(), Value::Int(-1));
    let err = call(&rt, "t:geometry", vec![Value::map(circle)])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_in_typed_code_point_at_the_original_lines() {
    let (_dir, rt) = booted().await;
    let mut cfg = weft_core::Map::new();
    cfg.insert("host".into(), Value::str("h"));
    cfg.insert("port".into(), Value::Int(1));
    let err = call(&rt, "t:fails_on_line_7", vec![Value::map(cfg)])
        .await
        .unwrap_err();
    assert!(err.message().contains("t:fails_on_line_7:8:"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_processes_and_calls_behave_as_untyped_ones() {
    let (_dir, rt) = booted().await;
    let out = call(&rt, "t:caller", vec![Value::str("x")]).await.unwrap();
    assert_eq!(out.get("first"), Some(&Value::str("ann")), "{out:?}");
    let said = call(&rt, "t:ask", vec![Value::str("hello")]).await.unwrap();
    assert_eq!(said, Value::str("hello"));
    wait_until_empty(&rt).await;
}

/// Waits until every process (the echo children, the frames) has ended.
async fn wait_until_empty(rt: &Arc<Runtime>) {
    let start = std::time::Instant::now();
    while !rt.processes.is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "processes left running"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_annotation_fails_the_boot_naming_entry_field_and_place() {
    let index = "namespace: t\nentries:\n  - name: bad\n    kind: function.lua\n    source: file://bad.lua\n    method: run\n";
    let src = "local M = {}\n\nfunction M.run(x: number): \n    return x :: \nend\nreturn M\n";
    let dir = app(&[("src/_index.yaml", index), ("src/bad.lua", src)]);
    let err = match boot_dir(dir.path()).await {
        Ok(_) => panic!("a malformed annotation booted"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("t:bad"), "{err}");
    assert!(err.contains("source"), "{err}");
    assert!(
        err.contains("_index.yaml") || err.contains("bad.lua"),
        "{err}"
    );
    assert!(err.contains("syntax error: t:bad:"), "{err}");
}

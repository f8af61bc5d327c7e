//! The `expr` module end to end: an app with a `function.lua` entry listing
//! `modules: [expr]`, booted from disk through the real loader; the spec's examples and
//! its error kinds.

mod common;

use common::{app, boot_dir};
use weft_core::Value;

const APP: &str = r#"
namespace: t
entries:
  - name: run
    kind: function.lua
    modules: [expr]
    source: |
      local function try(f, ...)
        local v, err = f(...)
        if err then return "err " .. err:kind() .. " " .. tostring(err) end
        return v
      end
      return {run = function()
        local p = assert(expr.compile("a * b", {a = 0, b = 0}))
        return {
          add = expr.eval("1 + 2"),
          env = expr.eval("x + y", {x = 10, y = 20}),
          cmp = expr.eval("x > 5", {x = 10}),
          ternary = expr.eval('x > 0 ? "positive" : "negative"', {x = 5}),
          max = expr.eval("max(1, 5, 3)"),
          concat = expr.eval('"hello" + " " + "world"'),
          float = expr.eval("5 / 2"),
          run1 = p:run({a = 5, b = 6}),
          run2 = p:run({a = 10, b = 3}),
          list = expr.eval("map(xs, # * 2)", {xs = {1, 2, 3}}),
          record = expr.eval('{name: upper(u.name), adult: u.age >= 18}', {u = {name = "ann", age = 30}}),
          policy = expr.eval('"admin" in actor.meta.roles and resource startsWith "app:"',
            {actor = {meta = {roles = {"dev", "admin"}}}, resource = "app:data"}),
          empty = try(expr.eval, ""),
          blank = try(expr.compile, "   "),
          not_string = try(expr.eval, 42),
          syntax = try(expr.eval, "1 +"),
          compile_syntax = try(expr.compile, "(1"),
          eval_error = try(expr.eval, "x + 1", {x = "a"}),
          missing_var = try(expr.eval, "x > 5"),
          bad_env = try(expr.eval, "1", 5),
          list_env = try(expr.eval, "1", {1, 2}),
          run_error = try(p.run, p, {a = "x", b = 2}),
          deep = try(expr.eval, string.rep("(", 5000) .. "1" .. string.rep(")", 5000)),
        }
      end}
    method: run
"#;

#[tokio::test]
async fn the_expr_module_follows_the_spec() {
    let dir = app(&[("src/_index.yaml", APP)]);
    let rt = match boot_dir(dir.path()).await {
        Ok(rt) => rt,
        Err(e) => panic!("boot failed:\n{e}"),
    };
    let out = rt
        .functions
        .call(&rt.root_context(), "t:run", vec![])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let field = |key: &str| -> Value { out.get(key).cloned().unwrap_or(Value::Nil) };
    let json = |text: &str| -> Value { serde_json::from_str(text).unwrap() };
    assert_eq!(field("add"), Value::Int(3));
    assert_eq!(field("env"), Value::Int(30));
    assert_eq!(field("cmp"), Value::Bool(true));
    assert_eq!(field("ternary"), Value::str("positive"));
    assert_eq!(field("max"), Value::Int(5));
    assert_eq!(field("concat"), Value::str("hello world"));
    assert!(matches!(field("float"), Value::Float(f) if f == 2.5));
    assert_eq!(field("run1"), Value::Int(30));
    assert_eq!(field("run2"), Value::Int(30));
    assert_eq!(field("list"), json("[2, 4, 6]"));
    assert_eq!(field("record"), json(r#"{"name": "ANN", "adult": true}"#));
    assert_eq!(field("policy"), Value::Bool(true));
    let errors = [
        ("empty", "err Invalid expr.eval: expression is empty"),
        ("blank", "err Invalid expr.compile: expression is empty"),
        (
            "not_string",
            "err Invalid expr.eval: expression must be a string, got integer",
        ),
        (
            "syntax",
            "err Internal expr.eval: unexpected the end of the expression (at 1:4)",
        ),
        (
            "compile_syntax",
            "err Internal expr.compile: expected `)`, found the end of the expression (at 1:3)",
        ),
        (
            "eval_error",
            "err Internal expr.eval: invalid operation: string + int",
        ),
        (
            "missing_var",
            "err Internal expr.eval: invalid operation: nil compare int",
        ),
        (
            "bad_env",
            "err Invalid expr.eval: env must be a table, got integer",
        ),
        (
            "list_env",
            "err Invalid expr.eval: env must be a table of named variables, got a list",
        ),
        (
            "run_error",
            "err Internal program:run: invalid operation: string * int",
        ),
        (
            "deep",
            "err Internal expr.eval: expression nests deeper than 64 (at 1:65)",
        ),
    ];
    for (key, want) in errors {
        assert_eq!(field(key).as_str(), Some(want), "{key}");
    }
}

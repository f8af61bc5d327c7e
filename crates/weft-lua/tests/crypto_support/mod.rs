//! Helpers of the `crypto` module's tests (`tests/crypto.rs`, `tests/crypto_jwt.rs`): an
//! app with a `function.lua` entry listing `modules: [crypto]`, booted from disk through
//! the real loader and called through the function registry.

use std::sync::Arc;

use weft_core::Value;
use weft_runtime::Runtime;

use crate::common::{app, boot_dir};

/// Lua helpers every test body has: `crypto`, `hex`, `unhex` and `try`, which turns how a
/// call ended into a value: the result, `"err <Kind>: <message>"` for `nil, err` (with
/// `" [retryable]"` after the kind unless the error says it is not), or
/// `"raised <Kind>: <message>"` for a raised error.
pub const PRELUDE: &str = r#"
local crypto = require("crypto")
local function hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end
local function unhex(h)
  return (h:gsub("..", function(c) return string.char(tonumber(c, 16)) end))
end
local function try(f, ...)
  local ok, v, err = pcall(f, ...)
  if not ok then
    local e = errors.wrap(v)
    return "raised " .. e:kind() .. ": " .. e:message()
  end
  if err ~= nil then
    local flag = err:retryable() == false and "" or " [retryable]"
    return "err " .. err:kind() .. flag .. ": " .. err:message()
  end
  return v
end
"#;

/// Boots an app whose function `t:f` runs `body` as `function M.f(...)`.
pub async fn boot(body: &str) -> (tempfile::TempDir, Arc<Runtime>) {
    let index = "namespace: t\nentries:\n  - name: f\n    kind: function.lua\n    source: file://f.lua\n    method: f\n    modules: [crypto]\n    limits: {max_memory_mb: 1024}\n";
    let src = format!("{PRELUDE}\nlocal M = {{}}\nfunction M.f(...)\n{body}\nend\nreturn M\n");
    let dir = app(&[("src/_index.yaml", index), ("src/f.lua", &src)]);
    match boot_dir(dir.path()).await {
        Ok(rt) => (dir, rt),
        Err(e) => panic!("boot failed:\n{e}"),
    }
}

/// Calls `t:f` with `args`; a failed call panics with its error.
pub async fn call(rt: &Runtime, args: Vec<Value>) -> Value {
    match rt.functions.call(&rt.root_context(), "t:f", args).await {
        Ok(v) => v,
        Err(e) => panic!("call failed: {e}"),
    }
}

/// Boots `body` and calls it once without arguments.
pub async fn run(body: &str) -> Value {
    let (_dir, rt) = boot(body).await;
    call(&rt, vec![]).await
}

/// Field `key` of `v` as text (strings as they are, anything else in debug form).
pub fn text(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::Str(_)) => v
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or("<bytes>")
            .to_string(),
        Some(other) => format!("{other:?}"),
        None => "<missing>".to_string(),
    }
}

/// Asserts that every field of `v` named in `want` starts with the given text.
pub fn assert_fields(v: &Value, want: &[(&str, &str)]) {
    for (key, prefix) in want {
        let got = text(v, key);
        assert!(
            got.starts_with(prefix),
            "{key}: got {got:?}, want {prefix:?}..."
        );
    }
}

pub fn s(text: &str) -> Value {
    Value::str(text)
}

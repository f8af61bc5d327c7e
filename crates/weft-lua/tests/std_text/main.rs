//! The `yaml`, `text` and `compress` modules end to end: Lua functions listing them under
//! `modules:`, booted from disk through the real loader. Expected values come from
//! elsewhere: Python's `gzip`, `zlib`, `brotli` and `diff_match_patch` (Google's port),
//! the `zstd` command line, Go's documented regexp results, or are written out by hand;
//! then bad input of every kind, decompression bombs and 100 MB inputs.

#[path = "../common/mod.rs"]
mod common;
mod compress;
mod text;
mod yaml;

use std::sync::Arc;

use common::{app, boot_dir};
use weft_core::Value;
use weft_runtime::Runtime;

/// Lua helpers: `try(f, ...)` renders a `value, err` call as text (`ERR <kind>
/// <retryable> <message>` on failure), `raises(f, ...)` a call that must raise,
/// `list(t)` an array as `[a, b]`, `hex(s)` bytes as hex.
pub const PRELUDE: &str = r##"
local function list(t)
  if type(t) ~= "table" then return tostring(t) end
  local parts = {}
  for i, v in ipairs(t) do parts[i] = type(v) == "table" and list(v) or tostring(v) end
  return "[" .. table.concat(parts, ", ") .. "]"
end
local function show(v, err, ...)
  if select("#", ...) > 0 then return "more than two results" end
  if err ~= nil then
    if v ~= nil then return "a value and an error" end
    return "ERR " .. err:kind() .. " " .. tostring(err:retryable()) .. " " .. err:message()
  end
  if type(v) == "table" then return list(v) end
  return tostring(v)
end
local function try(f, ...) return show(f(...)) end
local function raises(f, ...)
  local ok, err = pcall(f, ...)
  if ok then return "no error" end
  return "RAISED " .. tostring(err)
end
local function hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end
local function unhex(h)
  return (h:gsub("..", function(x) return string.char(tonumber(x, 16)) end))
end
"##;

/// A one-function app: `t:f` lists `modules` and runs `body` (after [`PRELUDE`]) with
/// its arguments as `...`, under `limits`.
async fn func(modules: &str, limits: &str, body: &str) -> (tempfile::TempDir, Arc<Runtime>) {
    let index = format!(
        "namespace: t\nentries:\n  - name: f\n    kind: function.lua\n    source: file://f.lua\n    method: f\n    modules: [{modules}]\n    limits: {{{limits}}}\n"
    );
    let src = format!("{PRELUDE}\nlocal M = {{}}\nfunction M.f(...)\n{body}\nend\nreturn M\n");
    let dir = app(&[("src/_index.yaml", &index), ("src/f.lua", &src)]);
    match boot_dir(dir.path()).await {
        Ok(rt) => (dir, rt),
        Err(e) => panic!("boot failed:\n{e}"),
    }
}

/// Runs `body` with `args` and returns its result.
pub async fn run(modules: &str, limits: &str, body: &str, args: Vec<Value>) -> Value {
    let (_dir, rt) = func(modules, limits, body).await;
    match rt.functions.call(&rt.root_context(), "t:f", args).await {
        Ok(v) => v,
        Err(e) => panic!("call failed: {e}"),
    }
}

/// Checks each `(key, want)` against the text at `key` of the result table; a `want`
/// ending in `…` is a prefix.
pub fn check(out: &Value, cases: &[(&str, &str)]) {
    for (key, want) in cases {
        let got = match out.get(key) {
            Some(v) => v
                .as_str()
                .map_or_else(|| v.to_display_string(), str::to_string),
            None => "nil".to_string(),
        };
        match want.strip_suffix('…') {
            Some(prefix) => assert!(got.starts_with(prefix), "{key}: {got:?}"),
            None => assert_eq!(got, *want, "{key}"),
        }
    }
}

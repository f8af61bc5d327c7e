//! The `store` module and `security.token_store` end to end: an app with
//! `store.memory`, `security.token_store` and `security.policy` entries booted from disk
//! through the real loader, Lua functions using them, and the checks in the caller's
//! context.

use std::sync::Arc;

use weft_core::{Actor, CallContext, Map, Scope, Value};
use weft_lua::{Capabilities, LuaEngine};
use weft_registry::{BootOptions, KindHandler, LoadOptions, boot, load_app};
use weft_runtime::Runtime;
use weft_security::PolicyHandler;
use weft_store::{StoreHandler, StoreRegistry};

const APP: &str = r#"
namespace: app
entries:
  - {name: cache, kind: store.memory, max_size: 3, cleanup_interval: 1m, lifecycle: {auto_start: true}}
  - {name: token_data, kind: store.memory}
  - name: tokens
    kind: security.token_store
    store: token_data
    token_length: 24
    default_expiration: 1h
    token_key: test-key
  - name: allow
    kind: security.policy
    policy: {actions: '*', resources: '*', effect: allow}
    groups: [user]
  - name: call_only
    kind: security.policy
    policy: {actions: funcs.call, resources: '*', effect: allow}
  - name: kv
    kind: function.lua
    source: file://kv.lua
    method: run
    modules: [store, time]
  - name: tok
    kind: function.lua
    source: file://tok.lua
    method: run
    modules: [security]
  - name: denied
    kind: function.lua
    source: file://denied.lua
    method: run
    modules: [store, security]
"#;

const KV: &str = r#"
local M = {}
function M.run()
  local out = {}
  local s, err = store.get("app:cache")
  assert(s, tostring(err))
  out.tostring = tostring(s)
  out.set = {s:set("user:name", "alice")}
  s:set("user:profile", {name = "Alice", role = "admin", tags = {"a", "b"}})
  out.name = s:get("user:name")
  out.profile = s:get("user:profile")
  out.has = {s:has("user:name")}
  out.deleted = {s:delete("user:name")}
  out.deleted_again = {s:delete("user:name")}
  out.missing = {s:get("user:name")}
  out.has_missing = {s:has("user:name")}
  out.empty_key = {s:get("")}
  out.empty_has = {s:has("")}
  out.nil_value = {s:set("k", nil)}
  out.negative_ttl = {s:set("k", 1, -1)}
  out.number_key = {s:set(42, "n")}
  out.number_key_get = s:get("42")
  s:set("short", "x", 0.05)
  out.short_before = s:get("short")
  time.sleep("100ms")
  out.short_after = {s:get("short")}
  -- The expired key is swept to make room for the third; a fourth does not fit.
  out.third = {s:set("third", 1)}
  out.full = {s:set("one_too_many", 1)}
  out.bad_key = {pcall(s.get, s, {})}
  out.bad_ttl = {pcall(s.set, s, "k", 1, "soon")}
  -- A bare id is in the caller's namespace; the same store is shared.
  local same = store.get("cache")
  out.shared = same:get("user:profile").role
  out.release = {s:release(), s:release()}
  out.released = {s:get("user:profile")}
  out.released_has = {s:has("user:profile")}
  out.released_tostring = tostring(s)
  local none, e1 = store.get("app:nope")
  out.nope = {none == nil, e1:kind(), e1:message()}
  local _, e2 = store.get("")
  out.empty_id = {e2:kind(), e2:message()}
  local _, e3 = store.get("app:tokens")
  out.not_a_store = {e3:kind(), e3:message()}
  return out
end
return M
"#;

const TOK: &str = r#"
local M = {}
function M.run()
  local out = {}
  local ts, err = security.token_store("tokens")
  assert(ts, tostring(err))
  out.tostring = tostring(ts)
  local scope = security.named_scope("app:user")
  local actor = security.new_actor("user:ann", {role = "admin"})
  local token, cerr = ts:create(actor, scope, {expiration = "10m", meta = {device = "cli"}})
  assert(token, tostring(cerr))
  out.token_type = type(token)
  out.token_len = #token
  local a, s, verr = ts:validate(token)
  assert(a, tostring(verr))
  out.actor = {a:id(), a:meta().role}
  local ids = {}
  for i, p in ipairs(s:policies()) do ids[i] = p:id() end
  out.policies = ids
  out.allowed = s:evaluate(a, "anything", "anywhere")
  local ms = ts:create(actor, scope, {expiration = 60000})
  out.ms = {ts:validate(ms) ~= nil}
  local forged = token:sub(1, -2) .. (token:sub(-1) == "A" and "B" or "A")
  local fa, fs, ferr = ts:validate(forged)
  out.forged = {fa == nil, fs == nil, ferr:kind(), ferr:message()}
  out.revoke = {ts:revoke(token)}
  local ra, rs, rerr = ts:validate(token)
  out.revoked = {ra == nil, rs == nil, rerr:kind(), rerr:message()}
  local _, rf = ts:revoke(forged)
  out.revoke_forged = rf:kind()
  local _, bad = ts:create(actor, scope, {expiration = "soon"})
  out.bad_expiration = bad:kind()
  out.bad_actor = {pcall(ts.create, ts, "ann", scope)}
  out.bad_token = {pcall(ts.validate, ts, 42)}
  local _, e1 = security.token_store("app:nope")
  out.nope = {e1:kind(), e1:message()}
  local _, e2 = security.token_store("app:cache")
  out.not_a_token_store = e2:kind()
  out.close = {ts:close(), ts:close()}
  local _, closed = ts:create(actor, scope)
  out.closed = {closed:kind(), closed:message()}
  local _, _, closed_v = ts:validate(ms)
  out.closed_validate = closed_v:message()
  out.closed_tostring = tostring(ts)
  return out
end
return M
"#;

const DENIED: &str = r#"
local M = {}
function M.run()
  local out = {}
  local s, e1 = store.get("app:cache")
  out.store = {s == nil, e1:kind(), e1:message()}
  local ts, e2 = security.token_store("app:tokens")
  out.token_store = {ts == nil, e2:kind(), e2:message()}
  return out
end
return M
"#;

/// Writes `files` (path, text) under a new temp dir.
fn app(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let full = dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }
    dir
}

async fn boot_app() -> (tempfile::TempDir, Arc<Runtime>) {
    let dir = app(&[
        ("src/_index.yaml", APP),
        ("src/kv.lua", KV),
        ("src/tok.lua", TOK),
        ("src/denied.lua", DENIED),
    ]);
    let loaded = load_app(&LoadOptions {
        root: dir.path().to_path_buf(),
        ..LoadOptions::default()
    })
    .unwrap();
    let rt = Runtime::new(loaded.root.clone(), loaded.config.clone());
    let stores = Arc::new(StoreRegistry::new(rt.policies.clone()));
    let caps = Capabilities {
        env: Arc::new(weft_env::EnvRegistry::new(loaded.root.clone())),
        fs: Arc::new(weft_fs::FsRegistry::new(loaded.root.clone())),
        http: Arc::new(weft_http::HttpClient::new()),
        store: stores.clone(),
    };
    let handlers: Vec<Arc<dyn KindHandler>> = vec![
        Arc::new(LuaEngine::new(&rt, caps)),
        Arc::new(StoreHandler::new(&stores)),
        Arc::new(PolicyHandler::new(&rt.policies)),
    ];
    if let Err(e) = boot(&loaded, &rt.registry, &handlers, &BootOptions::default()).await {
        panic!("boot failed:\n{e}");
    }
    (dir, rt)
}

async fn call(rt: &Runtime, cx: &CallContext, id: &str) -> Value {
    match rt.functions.call(cx, id, vec![]).await {
        Ok(v) => v,
        Err(e) => panic!("{id} failed: {e}"),
    }
}

/// The field `key` of a result table, as JSON-ish text for compact assertions.
fn field(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(v) => show(v),
        None => "nil".to_string(),
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::Nil => "nil".to_string(),
        Value::Str(_) => v.as_str().unwrap_or_default().to_string(),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(show).collect();
            format!("[{}]", items.join(", "))
        }
        other => other.to_display_string(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_module_follows_the_reference() {
    let (_dir, rt) = boot_app().await;
    let out = call(&rt, &rt.root_context(), "app:kv").await;
    let cases = [
        ("tostring", "store.Store{app:cache}"),
        ("set", "[true]"),
        ("name", "alice"),
        ("has", "[true]"),
        ("deleted", "[true]"),
        ("deleted_again", "[false]"),
        ("missing", "[nil, key not found]"),
        ("has_missing", "[false]"),
        ("empty_key", "[nil, key is required]"),
        ("empty_has", "[false, key is required]"),
        ("nil_value", "[nil, value is required]"),
        (
            "negative_ttl",
            "[nil, ttl must be a non-negative number of seconds]",
        ),
        ("number_key", "[true]"),
        ("number_key_get", "n"),
        ("short_before", "x"),
        ("short_after", "[nil, key not found]"),
        ("third", "[true]"),
        ("full", "[nil, store app:cache is full (max_size: 3 keys)]"),
        ("shared", "admin"),
        ("release", "[true, true]"),
        ("released", "[nil, store is released]"),
        ("released_has", "[false, store is released]"),
        ("released_tostring", "store.Store{released}"),
        ("nope", "[true, Internal, store not found: app:nope]"),
        ("empty_id", "[Invalid, store id is required]"),
        (
            "not_a_store",
            "[Invalid, app:tokens is a security.token_store, not a store]",
        ),
    ];
    for (key, want) in cases {
        assert_eq!(field(&out, key), want, "{key}");
    }
    let profile = out.get("profile").unwrap();
    assert_eq!(profile.get("role"), Some(&Value::str("admin")));
    assert_eq!(show(profile.get("tags").unwrap()), "[a, b]");
    for key in ["bad_key", "bad_ttl"] {
        let got = field(&out, key);
        assert!(got.starts_with("[false, "), "{key} raises: {got}");
        assert!(got.contains("bad argument"), "{key}: {got}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_stores_create_validate_and_revoke_tokens() {
    let (_dir, rt) = boot_app().await;
    let out = call(&rt, &rt.root_context(), "app:tok").await;
    let cases = [
        ("tostring", "security.TokenStore{app:tokens}"),
        ("token_type", "string"),
        // 24 bytes and a 32-byte HMAC in unpadded base64url, and the dot.
        ("token_len", "76"),
        ("actor", "[user:ann, admin]"),
        ("policies", "[app:allow]"),
        ("allowed", "allow"),
        ("ms", "[true]"),
        ("forged", "[true, true, Invalid, invalid token]"),
        ("revoke", "[true]"),
        (
            "revoked",
            "[true, true, NotFound, token is expired or revoked]",
        ),
        ("revoke_forged", "Invalid"),
        ("bad_expiration", "Invalid"),
        ("nope", "[NotFound, token store not found: app:nope]"),
        ("not_a_token_store", "Invalid"),
        ("close", "[true, true]"),
        ("closed", "[Invalid, token store is closed]"),
        ("closed_validate", "token store is closed"),
        ("closed_tostring", "security.TokenStore{closed}"),
    ];
    for (key, want) in cases {
        assert_eq!(field(&out, key), want, "{key}");
    }
    for key in ["bad_actor", "bad_token"] {
        assert!(field(&out, key).starts_with("[false, "), "{key} raises");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_without_the_permissions_gets_nothing() {
    let (_dir, rt) = boot_app().await;
    // The caller may call the function and nothing else.
    let cx = rt
        .root_context()
        .with_actor(Some(Actor::new("eve", Map::new())))
        .with_scope(Some(Scope::new([rt
            .policies
            .get("app:call_only")
            .unwrap()])));
    let out = call(&rt, &cx, "app:denied").await;
    assert_eq!(
        field(&out, "store"),
        "[true, PermissionDenied, not allowed: store.get on app:cache]"
    );
    assert_eq!(
        field(&out, "token_store"),
        "[true, PermissionDenied, not allowed: security.token_store.get on app:tokens]"
    );
}

//! The `env` module end to end: an app with env storages and variables booted from disk
//! through the real loader, Lua functions calling `env.get` / `env.set`, and the
//! `env.get` / `env.set` permission checks in the caller's context.

use std::path::Path;
use std::sync::Arc;

use weft_core::{Actor, CallContext, Decision, EntryId, Map, Policy, Scope, Value};
use weft_env::{EnvHandler, EnvRegistry};
use weft_lua::{Capabilities, LuaEngine};
use weft_registry::{BootOptions, KindHandler, LoadOptions, boot, load_app};
use weft_runtime::Runtime;

const APP: &str = r#"
namespace: app
entries:
  - {name: mem, kind: env.storage.memory}
  - name: file
    kind: env.storage.file
    file_path: data/app.env
    auto_create: true
    file_mode: 0600
    dir_mode: 0700
  - {name: defaults, kind: env.storage.static, values: {PORT: 8080}}
  - {name: store, kind: env.storage.router, storages: [file, defaults]}
  - {name: port, kind: env.variable, storage: store, variable: PORT}
  - {name: mode, kind: env.variable, storage: app:mem, variable: APP_MODE, default: dev}
  - {name: key, kind: env.variable, storage: mem, variable: API_KEY, readonly: true, default: k}
  - {name: secret, kind: env.variable, storage: file}
  - name: f
    kind: function.lua
    source: file://f.lua
    method: run
    modules: [env]
"#;

const LUA: &str = r#"
local M = {}
function M.run(op, name, value)
  if op == "get" then
    local v, err = env.get(name)
    return {value = v, kind = err and err:kind(), message = err and err:message()}
  end
  local ok, err = env.set(name, value)
  return {ok = ok, kind = err and err:kind(), message = err and err:message()}
end
return M
"#;

/// A booted app: its folder, its runtime and its env capability.
struct Booted {
    dir: tempfile::TempDir,
    rt: Arc<Runtime>,
    env: Arc<EnvRegistry>,
}

async fn boot_app() -> Booted {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in [("src/_index.yaml", APP), ("src/f.lua", LUA)] {
        let full = dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }
    let (rt, env) = match boot_dir(dir.path()).await {
        Ok(booted) => booted,
        Err(e) => panic!("boot failed:\n{e}"),
    };
    Booted { dir, rt, env }
}

async fn boot_dir(
    root: &Path,
) -> Result<(Arc<Runtime>, Arc<EnvRegistry>), weft_registry::LoadErrors> {
    let app = load_app(&LoadOptions {
        root: root.to_path_buf(),
        ..LoadOptions::default()
    })?;
    let rt = Runtime::new(app.root.clone(), app.config.clone());
    let env = Arc::new(EnvRegistry::new(app.root.clone()));
    let handlers: Vec<Arc<dyn KindHandler>> = vec![
        Arc::new(LuaEngine::new(
            &rt,
            Capabilities {
                env: env.clone(),
                fs: Arc::new(weft_fs::FsRegistry::new(app.root.clone())),
                http: Arc::new(weft_http::HttpClient::new()),
                store: Arc::new(weft_store::StoreRegistry::new(rt.policies.clone())),
            },
        )),
        Arc::new(EnvHandler::new(&env)),
    ];
    boot(&app, &rt.registry, &handlers, &BootOptions::default()).await?;
    Ok((rt, env))
}

/// Calls `app:f` in `cx` and returns its result table.
async fn run(rt: &Runtime, cx: &CallContext, args: &[Value]) -> Value {
    match rt.functions.call(cx, "app:f", args.to_vec()).await {
        Ok(v) => v,
        Err(e) => panic!("call failed: {e}"),
    }
}

async fn get(rt: &Runtime, cx: &CallContext, name: &str) -> Value {
    run(rt, cx, &[Value::str("get"), Value::str(name)]).await
}

async fn set(rt: &Runtime, cx: &CallContext, name: &str, value: Value) -> Value {
    run(rt, cx, &[Value::str("set"), Value::str(name), value]).await
}

fn field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

#[tokio::test]
async fn get_and_set_through_the_storages() {
    let Booted { dir, rt, .. } = boot_app().await;
    let cx = rt.root_context();

    // Router: the file is empty, the static default answers.
    assert_eq!(field(&get(&rt, &cx, "PORT").await, "value"), Some("8080"));
    let r = set(&rt, &cx, "PORT", Value::Int(9090)).await;
    assert_eq!(r.get("ok"), Some(&Value::Bool(true)), "{r:?}");
    assert_eq!(field(&get(&rt, &cx, "PORT").await, "value"), Some("9090"));
    let file = dir.path().join("data/app.env");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "PORT=9090\n");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // Default until set; the variable's id works as well as its public name.
    assert_eq!(
        field(&get(&rt, &cx, "APP_MODE").await, "value"),
        Some("dev")
    );
    set(&rt, &cx, "app:mode", Value::str("prod")).await;
    assert_eq!(
        field(&get(&rt, &cx, "APP_MODE").await, "value"),
        Some("prod")
    );

    // A bare id resolves against the caller's namespace (`app`); the key is the full id.
    assert_eq!(get(&rt, &cx, "secret").await.get("value"), None);
    set(&rt, &cx, "secret", Value::str("s3 cr#t")).await;
    assert_eq!(
        field(&get(&rt, &cx, "secret").await, "value"),
        Some("s3 cr#t")
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "PORT=9090\napp:secret=\"s3 cr#t\"\n"
    );

    // Read-only variable: Invalid naming it, nothing written.
    let r = set(&rt, &cx, "API_KEY", Value::str("x")).await;
    assert_eq!(r.get("ok"), None);
    assert_eq!(field(&r, "kind"), Some("Invalid"));
    assert_eq!(
        field(&r, "message"),
        Some("env variable API_KEY is read-only")
    );
    assert_eq!(field(&get(&rt, &cx, "API_KEY").await, "value"), Some("k"));

    // Unknown names and bad arguments come back as errors, never raised.
    let r = get(&rt, &cx, "NOPE").await;
    assert_eq!(
        (r.get("value"), field(&r, "kind")),
        (None, Some("NotFound"))
    );
    assert_eq!(field(&get(&rt, &cx, "").await, "kind"), Some("Invalid"));
    let r = run(&rt, &cx, &[Value::str("get"), Value::Bool(true)]).await;
    assert_eq!(field(&r, "kind"), Some("Invalid"), "{r:?}");
    let r = set(&rt, &cx, "APP_MODE", Value::map(Map::new())).await;
    assert_eq!(field(&r, "kind"), Some("Invalid"), "{r:?}");
    assert_eq!(
        field(&get(&rt, &cx, "APP_MODE").await, "value"),
        Some("prod")
    );
}

/// Allows `funcs.call` and the `env.*` actions on one resource; denies every other
/// `env.*` action.
struct EnvPolicy(EntryId, &'static str);

impl Policy for EnvPolicy {
    fn id(&self) -> &EntryId {
        &self.0
    }

    fn evaluate(&self, _: &Actor, action: &str, resource: &str, _: Option<&Map>) -> Decision {
        if action == "funcs.call" || (action.starts_with("env.") && resource == self.1) {
            Decision::Allow
        } else if action.starts_with("env.") {
            Decision::Deny
        } else {
            Decision::Undefined
        }
    }
}

#[tokio::test]
async fn permission_is_checked_on_the_name_in_the_callers_context() {
    let Booted { dir: _dir, rt, env } = boot_app().await;
    let policy: Arc<dyn Policy> = Arc::new(EnvPolicy(EntryId::new("app", "policy"), "APP_MODE"));
    let cx = rt
        .root_context()
        .with_actor(Some(Actor::new("tester", Map::new())))
        .with_scope(Some(Scope::new([policy])));

    let r = set(&rt, &cx, "APP_MODE", Value::str("allowed")).await;
    assert_eq!(r.get("ok"), Some(&Value::Bool(true)), "{r:?}");
    assert_eq!(
        field(&get(&rt, &cx, "APP_MODE").await, "value"),
        Some("allowed")
    );

    // Denied: nil, PermissionDenied, and nothing is written.
    let r = get(&rt, &cx, "PORT").await;
    assert_eq!(
        (r.get("value"), field(&r, "kind")),
        (None, Some("PermissionDenied"))
    );
    assert_eq!(field(&r, "message"), Some("not allowed: env.get on PORT"));
    let r = set(&rt, &cx, "PORT", Value::str("1")).await;
    assert_eq!(
        (r.get("ok"), field(&r, "kind")),
        (None, Some("PermissionDenied"))
    );
    // The resource is the name as given: the id of APP_MODE is another resource.
    let r = set(&rt, &cx, "app:mode", Value::str("x")).await;
    assert_eq!(field(&r, "kind"), Some("PermissionDenied"));

    let root = rt.root_context();
    assert_eq!(field(&get(&rt, &root, "PORT").await, "value"), Some("8080"));
    assert_eq!(
        field(&get(&rt, &root, "APP_MODE").await, "value"),
        Some("allowed")
    );
    assert_eq!(
        env.lookup(&rt.root_context(), "PORT", None)
            .unwrap()
            .as_deref(),
        Some("8080")
    );
}

//! `security.policy.expr` end to end: expression policies booted from disk through the
//! real loader decide `security.can` and the `funcs.call` check of a Lua function run
//! as an actor with their group as scope.

use std::sync::Arc;

use weft_core::Value;
use weft_lua::{Capabilities, LuaEngine};
use weft_registry::{BootOptions, KindHandler, LoadOptions, boot, load_app};
use weft_runtime::Runtime;
use weft_security::PolicyHandler;

const APP: &str = r#"
namespace: app
entries:
  # Documents: the owner, or anyone with the admin role.
  - name: documents
    kind: security.policy.expr
    policy:
      actions: "docs.*"
      resources: "doc:*"
      effect: allow
      expression: 'meta.owner == actor.id or "admin" in actor.meta.roles'
    groups: [staff]
  # Calls: level 3 and up may call app functions except the secret one. (The call into
  # the checker is checked in the prober's context, which has no actor.)
  - name: calls
    kind: security.policy.expr
    policy:
      actions: funcs.call
      resources: "app:*"
      effect: allow
      expression: 'actor.meta.level >= 3 and resource != "app:secret"'
    groups: [staff]
  # Nobody edits an archived document, whoever owns it.
  - name: archived
    kind: security.policy.expr
    policy:
      actions: docs.edit
      resources: "*"
      effect: deny
      expression: 'meta?.archived ?? false'
    groups: [staff]
  - name: target
    kind: function.lua
    source: "return {run = function() return 'ran' end}"
    method: run
  - name: secret
    kind: function.lua
    source: "return {run = function() return 'leaked' end}"
    method: run
  - name: checker
    kind: function.lua
    modules: [security, funcs]
    source: |
      local function outcome(v, err)
        if err then return err:kind() .. " " .. tostring(err) end
        return v
      end
      return {run = function()
        return {
          own = security.can("docs.edit", "doc:1", {owner = security.actor():id()}),
          other = security.can("docs.edit", "doc:2", {owner = "zed"}),
          no_meta = security.can("docs.read", "doc:3"),
          archived = security.can("docs.edit", "doc:1", {owner = security.actor():id(), archived = true}),
          call = outcome(funcs.call("app:target")),
          secret = outcome(funcs.call("app:secret")),
        }
      end}
    method: run
  - name: probe
    kind: function.lua
    modules: [security, funcs]
    source: |
      return {run = function(id, meta)
        local scope = assert(security.named_scope("app:staff"))
        local out, err = funcs.new()
          :with_actor(security.new_actor(id, meta))
          :with_scope(scope)
          :call("app:checker")
        if err then return {error = err:kind() .. " " .. tostring(err)} end
        return out
      end}
    method: run
"#;

/// Boots `app` (an `_index.yaml`) with the Lua engine and the policy handler.
async fn boot_app(app: &str) -> (tempfile::TempDir, Arc<Runtime>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/_index.yaml"), app).unwrap();
    let loaded = load_app(&LoadOptions {
        root: dir.path().to_path_buf(),
        ..LoadOptions::default()
    })
    .unwrap();
    let rt = Runtime::new(loaded.root.clone(), loaded.config.clone());
    let caps = Capabilities {
        env: Arc::new(weft_env::EnvRegistry::new(loaded.root.clone())),
        fs: Arc::new(weft_fs::FsRegistry::new(loaded.root.clone())),
        http: Arc::new(weft_http::HttpClient::new()),
        store: Arc::new(weft_store::StoreRegistry::new(rt.policies.clone())),
    };
    let handlers: Vec<Arc<dyn KindHandler>> = vec![
        Arc::new(LuaEngine::new(&rt, caps)),
        Arc::new(PolicyHandler::new(&rt.policies)),
    ];
    if let Err(e) = boot(&loaded, &rt.registry, &handlers, &BootOptions::default()).await {
        panic!("boot failed:\n{e}");
    }
    (dir, rt)
}

/// Runs `app:probe` as actor `id` with `meta_json`; the checker's table as text.
async fn probe(rt: &Runtime, id: &str, meta_json: &str) -> Vec<(String, String)> {
    let meta: Value = serde_json::from_str(meta_json).unwrap();
    let args = vec![Value::str(id), meta];
    let out = match rt
        .functions
        .call(&rt.root_context(), "app:probe", args)
        .await
    {
        Ok(v) => v,
        Err(e) => panic!("probe failed: {e}"),
    };
    let Some(map) = out.as_map() else {
        panic!("not a table: {out:?}");
    };
    let mut fields: Vec<(String, String)> = map
        .iter()
        .map(|(k, v)| (k.clone(), v.to_display_string()))
        .collect();
    fields.sort();
    fields
}

fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    out.sort();
    out
}

const SECRET_DENIED: &str = "PermissionDenied not allowed: funcs.call on app:secret";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expressions_decide_security_can_and_funcs_call() {
    let (_dir, rt) = boot_app(APP).await;

    // Level 5, no roles: owns doc:1, may call app:target, never app:secret.
    let got = probe(&rt, "ann", r#"{"level": 5, "roles": []}"#).await;
    let want = fields(&[
        ("own", "true"),
        ("other", "false"),
        ("no_meta", "false"),
        ("archived", "false"),
        ("call", "ran"),
        ("secret", SECRET_DENIED),
    ]);
    assert_eq!(got, want);

    // An admin at level 1: every document, but no call.
    let got = probe(&rt, "bob", r#"{"level": 1, "roles": ["admin"]}"#).await;
    let want = fields(&[
        ("own", "true"),
        ("other", "true"),
        ("no_meta", "true"),
        ("archived", "false"),
        (
            "call",
            "PermissionDenied not allowed: funcs.call on app:target",
        ),
        ("secret", SECRET_DENIED),
    ]);
    assert_eq!(got, want);

    // No meta: `actor.meta.level >= 3` is an error and `"admin" in nil` is false, so the
    // policies are Undefined, never their effect.
    let got = probe(&rt, "cy", "{}").await;
    let want = fields(&[
        ("own", "true"),
        ("other", "false"),
        ("no_meta", "false"),
        ("archived", "false"),
        (
            "call",
            "PermissionDenied not allowed: funcs.call on app:target",
        ),
        ("secret", SECRET_DENIED),
    ]);
    assert_eq!(got, want);
}

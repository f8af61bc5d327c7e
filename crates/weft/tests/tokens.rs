//! Token auth end to end through `weft::boot_app`: a Lua function issues a token for an
//! actor and a named scope, the token is validated the way the HTTP `token_auth`
//! middleware does (`Booted::store`, no caller context), and the actor and scope it
//! stands for run a protected function; a revoked token validates no more. A check boots
//! the same app without starting anything.

use weft_core::{ErrorKind, Value};
use weft_registry::{BootMode, BootOptions, LoadOptions};

mod common;
use common::boot_app_dir;

const INDEX: &str = r#"namespace: t
entries:
  - {name: token_data, kind: store.memory, max_size: 100, lifecycle: {auto_start: true}}
  - name: tokens
    kind: security.token_store
    store: token_data
    default_expiration: 1h
    token_key_env: PATH
  - name: readers
    kind: security.policy
    policy: {actions: [funcs.call, doc.read], resources: "*", effect: allow}
    groups: [user]
  - name: login
    kind: function.lua
    method: run
    modules: [security]
    source: |
      return {run = function(name)
        local ts = assert(security.token_store("tokens"))
        local scope = assert(security.named_scope("user"))
        return ts:create(security.new_actor(name, {via = "login"}), scope)
      end}
  - name: logout
    kind: function.lua
    method: run
    modules: [security]
    source: |
      return {run = function(token)
        return security.token_store("t:tokens"):revoke(token)
      end}
  - name: whoami
    kind: function.lua
    method: run
    modules: [security]
    source: |
      return {run = function()
        local a = security.actor()
        return {id = a:id(), via = a:meta().via,
                read = security.can("doc.read", "d1"), write = security.can("doc.write", "d1")}
      end}
"#;

fn app() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/_index.yaml"), INDEX).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_issued_in_lua_authenticates_a_call() {
    let dir = app();
    let booted = boot_app_dir(dir.path()).await.unwrap();
    let rt = &booted.runtime;
    let root = rt.root_context();
    let token = rt
        .functions
        .call(&root, "t:login", vec![Value::str("user:ann")])
        .await
        .unwrap();
    let token = token.as_str().unwrap().to_string();

    // What the middleware does with a request's bearer token.
    let auth = booted.store.token_store_for_middleware("t:tokens").unwrap();
    let (actor, scope) = auth.validate(&token).unwrap();
    let cx = root.with_actor(Some(actor)).with_scope(Some(scope));
    let me = rt.functions.call(&cx, "t:whoami", vec![]).await.unwrap();
    assert_eq!(me.get("id"), Some(&Value::str("user:ann")));
    assert_eq!(me.get("via"), Some(&Value::str("login")));
    assert_eq!(me.get("read"), Some(&Value::Bool(true)));
    assert_eq!(me.get("write"), Some(&Value::Bool(false)));

    let forged = format!("{token}x");
    assert_eq!(
        auth.validate(&forged).unwrap_err().kind(),
        ErrorKind::Invalid
    );

    let out = rt
        .functions
        .call(&root, "t:logout", vec![Value::str(&token)])
        .await
        .unwrap();
    assert_eq!(out, Value::Bool(true));
    let err = auth.validate(&token).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_accepts_the_app_and_a_bad_token_store_is_named() {
    let dir = app();
    let opts = LoadOptions {
        root: dir.path().to_path_buf(),
        ..LoadOptions::default()
    };
    let check = BootOptions {
        mode: BootMode::Check,
        ..BootOptions::default()
    };
    weft::boot_app(&opts, &check).await.unwrap();

    let bad = INDEX.replace("store: token_data", "store: nowhere");
    std::fs::write(dir.path().join("src/_index.yaml"), bad).unwrap();
    let err = weft::boot_app(&opts, &check)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("t:tokens"), "{err}");
    assert!(err.contains("store not found: t:nowhere"), "{err}");
}

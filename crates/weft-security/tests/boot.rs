//! `security.policy` entries booted from `_index.yaml` files, as the CLI boots them.

use std::sync::Arc;

use weft_core::{Actor, CallContext, Map, Scope};
use weft_registry::{BootOptions, KindHandler, LoadOptions, Registry, boot, load_app};
use weft_security::{PolicyHandler, PolicyRegistry};

/// Writes `src/_index.yaml` with `yaml` into a fresh app directory.
fn app(yaml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/_index.yaml"), yaml).unwrap();
    dir
}

/// Loads and boots the app with only the policy handler; the boot error text on failure.
async fn boot_policies(dir: &tempfile::TempDir) -> Result<PolicyRegistry, String> {
    let opts = LoadOptions {
        root: dir.path().to_path_buf(),
        ..LoadOptions::default()
    };
    let app = load_app(&opts).map_err(|e| e.to_string())?;
    let policies = PolicyRegistry::default();
    let handlers: Vec<Arc<dyn KindHandler>> = vec![Arc::new(PolicyHandler::new(&policies))];
    boot(&app, &Registry::new(), &handlers, &BootOptions::default())
        .await
        .map_err(|e| e.to_string())?;
    Ok(policies)
}

#[tokio::test]
async fn policies_boot_into_groups_and_decide_checks() {
    let dir = app(r#"
version: "1.0"
namespace: app.test.security
entries:
  - name: allow_funcs
    kind: security.policy
    policy:
      actions: "funcs.*"
      resources: "app.test.*"
      effect: allow
    groups: [test_group]
  - name: deny_secret
    kind: security.policy
    policy:
      actions: "*"
      resources: "app.test.secret:*"
      effect: deny
    groups: [test_group, "other:group"]
  - name: admins
    kind: security.policy
    policy:
      actions: "*"
      resources: "*"
      effect: allow
      conditions:
        - field: actor.meta.role
          operator: eq
          value: admin
"#);
    let policies = boot_policies(&dir).await.unwrap();
    assert_eq!(policies.len(), 3);
    let group = policies.group("app.test.security:test_group");
    let ids: Vec<&str> = group.iter().map(|p| p.id().as_str()).collect();
    assert_eq!(
        ids,
        [
            "app.test.security:allow_funcs",
            "app.test.security:deny_secret"
        ]
    );
    let cx = CallContext::root(false)
        .with_actor(Some(Actor::new("ann", Map::new())))
        .with_scope(Some(Scope::new(group)));
    assert!(cx.check("funcs.call", "app.test.x:f").is_ok());
    assert!(cx.check("funcs.call", "app.test.secret:f").is_err());
    assert!(cx.check("fs.get", "app.test.x:f").is_err());
    assert!(cx.can("funcs.call", "app.test.x:f", None));
    let admins = policies.get("app.test.security:admins").unwrap();
    let mut meta = Map::new();
    meta.insert("role".into(), "admin".into());
    let admin = cx
        .with_actor(Some(Actor::new("root", meta)))
        .with_scope(Some(Scope::new([admins])));
    assert!(admin.check("anything", "at:all").is_ok());
}

#[tokio::test]
async fn a_bad_policy_fails_the_boot_naming_file_entry_and_field() {
    let dir = app(r#"
namespace: app.sec
entries:
  - name: good
    kind: security.policy
    policy: {actions: "*", resources: "*", effect: allow}
  - name: broken
    kind: security.policy
    policy:
      actions: "*"
      resources: "*"
      effect: allow
      conditions:
        - {field: actor.id, operator: eq, value: a}
        - {field: actor.id, operator: eq, value: a}
        - {field: actor.id, operator: equals, value: a}
"#);
    let err = boot_policies(&dir).await.unwrap_err();
    assert!(err.contains("_index.yaml"), "{err}");
    assert!(
        err.contains("entry app.sec:broken (security.policy)"),
        "{err}"
    );
    assert!(
        err.contains("field policy.conditions[2].operator: invalid operator: equals"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[tokio::test]
async fn expression_policies_boot_beside_condition_policies() {
    let dir = app(r#"
namespace: app.sec
entries:
  - name: owners
    kind: security.policy.expr
    policy:
      actions: "document.*"
      resources: "*"
      effect: allow
      expression: 'meta.owner == actor.id or "admin" in actor.meta.roles'
    groups: [editors]
  - name: no_drafts
    kind: security.policy.expr
    policy:
      actions: "*"
      resources: "draft:*"
      effect: deny
      expression: 'actor.meta.level < 3'
    groups: [editors]
  - name: readers
    kind: security.policy
    policy: {actions: document.read, resources: "*", effect: allow}
    groups: [editors]
"#);
    let policies = boot_policies(&dir).await.unwrap();
    assert_eq!(policies.len(), 3);
    let mut meta = Map::new();
    meta.insert("level".into(), 1.into());
    let cx = CallContext::root(false)
        .with_actor(Some(Actor::new("ann", meta)))
        .with_scope(Some(Scope::new(policies.group("app.sec:editors"))));
    let mut owned = Map::new();
    owned.insert("owner".into(), "ann".into());
    assert!(
        cx.check_with("document.write", "doc:1", Some(&owned))
            .is_ok()
    );
    assert!(cx.check("document.write", "doc:1").is_err());
    assert!(cx.check("document.read", "doc:1").is_ok());
    // The deny expression holds for a level-1 actor, and a deny wins.
    assert!(
        cx.check_with("document.read", "draft:1", Some(&owned))
            .is_err()
    );
}

#[tokio::test]
async fn a_bad_expression_fails_the_boot_naming_file_entry_and_field() {
    let dir = app(r#"
namespace: app.sec
entries:
  - name: fine
    kind: security.policy.expr
    policy: {actions: "*", resources: "*", effect: allow, expression: 'action == "x"'}
  - name: typo
    kind: security.policy.expr
    policy:
      actions: "*"
      resources: "*"
      effect: allow
      expression: 'actor.meta.role == "admin" and'
"#);
    let err = boot_policies(&dir).await.unwrap_err();
    assert!(err.contains("_index.yaml"), "{err}");
    assert!(
        err.contains("entry app.sec:typo (security.policy.expr)"),
        "{err}"
    );
    assert!(
        err.contains("field policy.expression: invalid expression: unexpected the end of the expression (at 1:31)"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

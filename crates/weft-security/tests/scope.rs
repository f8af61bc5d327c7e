//! Compiled policies evaluated through `weft_core::Scope` and `CallContext`: deny wins,
//! then allow, else undefined; an empty scope is undefined (reference §5.3, §5.4).

use std::sync::Arc;

use weft_core::{Actor, CallContext, Decision, EntryId, Map, Policy, Scope, Value};
use weft_security::CompiledPolicy;

fn policy(name: &str, yaml: &str) -> Arc<dyn Policy> {
    let data: Value = serde_yaml_ng::from_str(yaml).unwrap();
    Arc::new(CompiledPolicy::compile(EntryId::new("app.sec", name), &data).unwrap())
}

fn allow_funcs() -> Arc<dyn Policy> {
    policy(
        "allow_funcs",
        "policy: {actions: 'funcs.*', resources: '*', effect: allow}",
    )
}

fn deny_secret() -> Arc<dyn Policy> {
    policy(
        "deny_secret",
        "policy: {actions: '*', resources: 'secret:*', effect: deny}",
    )
}

fn allow_owner() -> Arc<dyn Policy> {
    policy(
        "allow_owner",
        "policy: {actions: '*', resources: '*', effect: allow, conditions: [{field: meta.owner, operator: eq, value_from: actor.id}]}",
    )
}

fn ann() -> Actor {
    Actor::new("ann", Map::new())
}

#[test]
fn deny_wins_over_allow() {
    let scope = Scope::new([allow_funcs(), deny_secret()]);
    let a = ann();
    assert_eq!(
        scope.evaluate(&a, "funcs.call", "app:f", None),
        Decision::Allow
    );
    assert_eq!(
        scope.evaluate(&a, "funcs.call", "secret:f", None),
        Decision::Deny
    );
    assert_eq!(
        scope.evaluate(&a, "fs.get", "app:f", None),
        Decision::Undefined
    );
    // The order of the policies does not matter.
    let reversed = Scope::new([deny_secret(), allow_funcs()]);
    assert_eq!(
        reversed.evaluate(&a, "funcs.call", "secret:f", None),
        Decision::Deny
    );
}

#[test]
fn an_empty_scope_is_undefined() {
    assert_eq!(
        Scope::default().evaluate(&ann(), "funcs.call", "app:f", None),
        Decision::Undefined
    );
}

#[test]
fn conditions_see_the_check_meta() {
    let scope = Scope::new([allow_owner()]);
    let mut meta = Map::new();
    meta.insert("owner".into(), "ann".into());
    assert_eq!(
        scope.evaluate(&ann(), "doc.edit", "d1", Some(&meta)),
        Decision::Allow
    );
    assert_eq!(
        scope.evaluate(&ann(), "doc.edit", "d1", None),
        Decision::Undefined
    );
}

#[test]
fn the_module_check_and_security_can() {
    let scope = Scope::new([allow_funcs(), deny_secret()]);
    let cx = CallContext::root(false)
        .with_actor(Some(ann()))
        .with_scope(Some(scope));
    assert!(cx.check("funcs.call", "app:f").is_ok());
    assert!(cx.check("funcs.call", "secret:f").is_err());
    // Undefined is a denial for the module rule.
    assert!(cx.check("process.spawn", "app:p").is_err());
    assert!(cx.can("funcs.call", "app:f", None));
    assert!(!cx.can("process.spawn", "app:p", None));
    // An actor with an empty scope is denied everything.
    let empty = cx.with_scope(Some(Scope::default()));
    assert!(empty.check("funcs.call", "app:f").is_err());
    // Without an actor the module rule passes (not strict) and `can` is false.
    let no_actor = cx.with_actor(None);
    assert!(no_actor.check("funcs.call", "secret:f").is_ok());
    assert!(!no_actor.can("funcs.call", "app:f", None));
    assert!(
        CallContext::root(true)
            .with_scope(Some(Scope::new([allow_funcs()])))
            .check("funcs.call", "app:f")
            .is_err()
    );
}

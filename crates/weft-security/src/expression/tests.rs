//! Tests of `security.policy.expr` entries: compiling them and evaluating checks.

use weft_core::{Actor, Decision, EntryId, ErrorKind, Map, Policy, Value};
use weft_registry::Entry;

use crate::{CompiledPolicy, EXPR_KIND, KIND};

use Decision::{Allow, Deny, Undefined};

fn data(yaml: &str) -> Value {
    serde_yaml_ng::from_str(yaml).unwrap()
}

/// An expression policy on every action and resource with `effect` and `expression`.
fn expr_policy(effect: &str, expression: &str) -> CompiledPolicy {
    let yaml = format!(
        "policy: {{actions: '*', resources: '*', effect: {effect}, expression: {}}}",
        serde_json::to_string(expression).unwrap()
    );
    CompiledPolicy::compile_expr(EntryId::new("app.sec", "p"), &data(&yaml))
        .unwrap_or_else(|e| panic!("{expression}: {e}"))
}

fn map(json: &str) -> Map {
    let v: Value = serde_json::from_str(json).unwrap();
    v.as_map().unwrap().clone()
}

fn ann() -> Actor {
    Actor::new(
        "ann",
        map(r#"{"role":"admin","level":5,"roles":["ops","dev"],"org":{"team":{"name":"core"}}}"#),
    )
}

/// `expression` (an allow policy) for ann on `fs.get app:data` with the resource meta.
fn decide(expression: &str, meta: Option<&str>) -> Decision {
    let meta = meta.map(map);
    expr_policy("allow", expression).evaluate(&ann(), "fs.get", "app:data", meta.as_ref())
}

#[test]
fn true_gives_the_effect() {
    let actor = ann();
    let allow = expr_policy("allow", "true");
    let deny = expr_policy("deny", r#"actor.id == "ann""#);
    assert_eq!(allow.evaluate(&actor, "a", "r", None), Allow);
    assert_eq!(deny.evaluate(&actor, "a", "r", None), Deny);
    assert_eq!(deny.effect(), Deny);
}

#[test]
fn false_a_non_boolean_or_an_error_is_undefined() {
    for (expression, why) in [
        ("false", "false"),
        (r#"actor.id == "bob""#, "false"),
        ("1", "not a boolean"),
        (r#""true""#, "not a boolean"),
        ("nil", "not a boolean"),
        ("actor.meta.missing.x == 1", "fetch from nil"),
        (r#"actor.meta.level > "a""#, "type mismatch"),
        ("actor.meta.roles[5] == 1", "index out of range"),
        ("actor.meta.level and true", "non-boolean and"),
    ] {
        assert_eq!(decide(expression, None), Undefined, "{expression}: {why}");
    }
    // The negation of an erroring expression is Undefined too, never the effect.
    assert_eq!(decide("not (actor.meta.missing.x == 1)", None), Undefined);
}

#[test]
fn actions_and_resources_still_match_first() {
    let yaml = r#"policy: {actions: ["funcs.call", "process.*"], resources: "app:*", effect: allow, expression: "true"}"#;
    let p = CompiledPolicy::compile_expr(EntryId::new("app", "p"), &data(yaml)).unwrap();
    let a = ann();
    assert_eq!(p.evaluate(&a, "funcs.call", "app:f", None), Allow);
    assert_eq!(p.evaluate(&a, "process.spawn", "app:w", None), Allow);
    assert_eq!(p.evaluate(&a, "fs.get", "app:f", None), Undefined);
    assert_eq!(p.evaluate(&a, "funcs.call", "lib:f", None), Undefined);
}

#[test]
fn the_actor_id_and_meta() {
    for (expression, want) in [
        (r#"actor.id == "ann""#, Allow),
        (r#"actor.meta.role == "admin""#, Allow),
        (r#"actor.meta.role == "user""#, Undefined),
        ("actor.meta.level >= 5 and actor.meta.level < 6", Allow),
        ("actor.meta.level == 5.0", Allow),
        (r#"actor.meta.org.team.name == "core""#, Allow),
        (r#"actor.meta.org?.nope?.name == nil"#, Allow),
        (r#""ops" in actor.meta.roles"#, Allow),
        (r#""qa" in actor.meta.roles"#, Undefined),
        (r#"any(actor.meta.roles, # startsWith "d")"#, Allow),
        ("len(actor.meta.roles) == 2", Allow),
        (r#"actor.id matches "^a.n$""#, Allow),
        (r#"actor.meta.missing ?? "x" == "x""#, Allow),
        // `actor` whole is a map of id and meta.
        (
            r#"actor["meta"]["role"] == "admin" and "id" in actor"#,
            Allow,
        ),
        ("actor.name == nil", Allow),
    ] {
        assert_eq!(decide(expression, None), want, "{expression}");
    }
    let empty = Actor::new("", Map::new());
    let p = expr_policy("allow", r#"actor.id == "" and len(actor.meta) == 0"#);
    assert_eq!(p.evaluate(&empty, "a", "r", None), Allow);
}

#[test]
fn action_resource_and_resource_meta() {
    let owner = Some(r#"{"owner":"ann","tags":{"env":"prod"},"size":3}"#);
    for (expression, meta, want) in [
        (
            r#"action == "fs.get" && resource == "app:data""#,
            None,
            Allow,
        ),
        (
            r#"action startsWith "fs." and resource endsWith ":data""#,
            None,
            Allow,
        ),
        (
            r#"resource contains "data" and not (action contains "put")"#,
            None,
            Allow,
        ),
        (r#"resource in ["app:data", "app:other"]"#, None, Allow),
        ("meta.owner == actor.id", owner, Allow),
        (
            r#"meta.tags.env == "prod" and meta.size < 10"#,
            owner,
            Allow,
        ),
        (r#"meta.owner == "bob""#, owner, Undefined),
        // No resource meta reads like an empty map: keys are nil, deeper is an error.
        ("meta.owner == nil", None, Allow),
        ("meta == nil", None, Allow),
        ("meta.tags.env == nil", None, Undefined),
        ("meta.owner == actor.id", None, Undefined),
    ] {
        assert_eq!(decide(expression, meta), want, "{expression} with {meta:?}");
    }
}

#[test]
fn groups_like_security_policy() {
    let yaml = "policy: {actions: '*', resources: '*', effect: allow, expression: 'true'}\ngroups: [staff, 'other:ops', staff]";
    let p = CompiledPolicy::compile_expr(EntryId::new("app.sec", "p"), &data(yaml)).unwrap();
    assert_eq!(
        p.groups(),
        [
            EntryId::new("app.sec", "staff"),
            EntryId::new("other", "ops")
        ]
    );
}

#[test]
fn from_entry_compiles_by_kind() {
    let mut entry = Entry::new(EntryId::new("app", "e"), EXPR_KIND);
    entry.data = data(
        r#"policy: {actions: '*', resources: '*', effect: deny, expression: 'action == "x"'}"#,
    );
    let p = CompiledPolicy::from_entry(&entry).unwrap();
    assert_eq!(p.evaluate(&ann(), "x", "r", None), Deny);
    assert_eq!(p.evaluate(&ann(), "y", "r", None), Undefined);
    // The same data as a `security.policy` is rejected: it has no `expression`.
    entry.kind = KIND.into();
    let err = CompiledPolicy::from_entry(&entry).unwrap_err();
    assert_eq!(err.context_chain(), ["field policy.expression"]);
}

#[test]
fn bad_expressions_are_rejected_at_load_naming_the_field() {
    let cases = [
        (
            "expression: 'actor.id =='",
            "policy.expression",
            "invalid expression: unexpected the end of the expression (at 1:12)",
        ),
        (
            "expression: 'actor.id = \"a\"'",
            "policy.expression",
            "invalid expression: unexpected character '=' (at 1:10)",
        ),
        (
            "expression: 'actor.id matches \"[\"'",
            "policy.expression",
            "invalid expression: invalid regex",
        ),
        (
            "expression: 'nope(1)'",
            "policy.expression",
            "invalid expression: unknown function nope",
        ),
        (
            "expression: 'user.id == \"a\"'",
            "policy.expression",
            "unknown variable `user` (an expression reads actor, action, resource, meta)",
        ),
        (
            "expression: ''",
            "policy.expression",
            "invalid expression: empty expression",
        ),
        (
            "expression: 5",
            "policy.expression",
            "expression must be a string, got integer",
        ),
        (
            "expression: ~",
            "policy.expression",
            "expression is required",
        ),
        ("{}", "policy.expression", "expression is required"),
        (
            "expression: 'true', conditions: []",
            "policy.conditions",
            "unknown key `conditions` (a policy has actions, resources, effect, expression)",
        ),
    ];
    for (extra, field, message) in cases {
        let extra = extra.trim_start_matches('{').trim_end_matches('}');
        let sep = if extra.is_empty() { "" } else { ", " };
        let yaml = format!("policy: {{actions: '*', resources: '*', effect: allow{sep}{extra}}}");
        let err =
            CompiledPolicy::compile_expr(EntryId::new("app", "p"), &data(&yaml)).expect_err(&yaml);
        assert_eq!(err.kind(), ErrorKind::Invalid, "{yaml}");
        assert_eq!(err.context_chain(), [format!("field {field}")], "{yaml}");
        assert!(
            err.message().starts_with(message),
            "{yaml}: {}",
            err.message()
        );
    }
    // A deeply nested expression is a load error too, not a crash.
    let deep = format!("{}true{}", "(".repeat(5000), ")".repeat(5000));
    let yaml =
        format!("policy: {{actions: '*', resources: '*', effect: allow, expression: '{deep}'}}");
    let err = CompiledPolicy::compile_expr(EntryId::new("app", "p"), &data(&yaml)).unwrap_err();
    assert!(
        err.message().contains("nests deeper than 64"),
        "{}",
        err.message()
    );
}

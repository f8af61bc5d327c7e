//! Tests of compiling and evaluating `security.policy` entries.

use weft_core::{Actor, Decision, EntryId, ErrorKind, Map, Policy, Value};
use weft_registry::Entry;

use super::CompiledPolicy;
use crate::KIND;

use Decision::{Allow, Deny, Undefined};

fn data(yaml: &str) -> Value {
    serde_yaml_ng::from_str(yaml).unwrap()
}

fn compile(yaml: &str) -> weft_core::Result<CompiledPolicy> {
    CompiledPolicy::compile(EntryId::new("app.sec", "p"), &data(yaml))
}

fn policy(yaml: &str) -> CompiledPolicy {
    compile(yaml).unwrap_or_else(|e| panic!("{e}"))
}

/// An allow-everything policy with one condition `field operator <value_yaml>`.
fn when(field: &str, operator: &str, value_yaml: &str) -> CompiledPolicy {
    policy(&format!(
        "policy: {{actions: '*', resources: '*', effect: allow, conditions: [{{field: '{field}', operator: {operator}, value: {value_yaml}}}]}}"
    ))
}

/// Like [`when`] with `value_from: <from>`.
fn when_from(field: &str, operator: &str, from: &str) -> CompiledPolicy {
    policy(&format!(
        "policy: {{actions: '*', resources: '*', effect: allow, conditions: [{{field: '{field}', operator: {operator}, value_from: '{from}'}}]}}"
    ))
}

fn map(json: &str) -> Map {
    let v: Value = serde_json::from_str(json).unwrap();
    v.as_map().unwrap().clone()
}

fn ann() -> Actor {
    Actor::new(
        "ann",
        map(r#"{"role":"admin","level":5,"tags":["ops","dev"],"org":{"team":{"name":"core"}}}"#),
    )
}

/// Evaluates `p` for ann on `fs.get app:data` with the resource meta `meta_json`.
fn on(p: &CompiledPolicy, meta_json: &str) -> Decision {
    let meta = map(meta_json);
    p.evaluate(&ann(), "fs.get", "app:data", Some(&meta))
}

fn check(p: &CompiledPolicy) -> Decision {
    on(p, "{}")
}

#[test]
fn the_reference_example_compiles_and_applies() {
    let p = policy(
        r#"
policy:
  actions: "*"
  resources: "*"
  effect: allow
  conditions:
    - field: actor.id
      operator: eq
      value: admin
groups: [test_group]
"#,
    );
    assert_eq!(p.id().as_str(), "app.sec:p");
    assert_eq!(p.groups(), [EntryId::new("app.sec", "test_group")]);
    let admin = Actor::new("admin", Map::new());
    assert_eq!(p.evaluate(&admin, "x", "y", None), Allow);
    assert_eq!(p.evaluate(&ann(), "x", "y", None), Undefined);
}

#[test]
fn effect_decides_when_everything_matches() {
    let allow = policy("policy: {actions: '*', resources: '*', effect: allow}");
    let deny = policy("policy: {actions: '*', resources: '*', effect: deny}");
    assert_eq!(check(&allow), Allow);
    assert_eq!(check(&deny), Deny);
    assert_eq!(allow.effect(), Allow);
    assert_eq!(deny.effect(), Deny);
    // An empty actor and no meta still match an unconditional policy.
    assert_eq!(
        allow.evaluate(&Actor::new("", Map::new()), "", "", None),
        Allow
    );
}

#[test]
fn actions_and_resources_must_both_match() {
    let p = policy(
        "policy: {actions: [funcs.call, 'process.*'], resources: ['app:*', exact], effect: allow}",
    );
    let a = ann();
    assert_eq!(p.evaluate(&a, "funcs.call", "app:f", None), Allow);
    assert_eq!(p.evaluate(&a, "process.spawn", "exact", None), Allow);
    assert_eq!(p.evaluate(&a, "funcs.call", "other:f", None), Undefined);
    assert_eq!(p.evaluate(&a, "fs.get", "app:f", None), Undefined);
    assert_eq!(p.evaluate(&a, "funcs.call", "exactly", None), Undefined);
}

#[test]
fn pattern_quirks_hold_through_a_policy() {
    let p = policy("policy: {actions: 'document.read.*', resources: '*', effect: allow}");
    let a = ann();
    assert_eq!(p.evaluate(&a, "document.read.one", "r", None), Allow);
    assert_eq!(p.evaluate(&a, "document.reader", "r", None), Allow);
    assert_eq!(p.evaluate(&a, "document.write", "r", None), Undefined);
    let leading = policy("policy: {actions: '*.read', resources: '*', effect: allow}");
    assert_eq!(leading.evaluate(&a, "document.read", "r", None), Undefined);
    assert_eq!(leading.evaluate(&a, "*.read", "r", None), Allow);
}

#[test]
fn eq_and_ne() {
    assert_eq!(check(&when("actor.id", "eq", "ann")), Allow);
    assert_eq!(check(&when("actor.id", "eq", "bob")), Undefined);
    assert_eq!(check(&when("actor.id", "ne", "bob")), Allow);
    assert_eq!(check(&when("actor.id", "ne", "ann")), Undefined);
    // Numbers across types and numeric strings.
    assert_eq!(check(&when("actor.meta.level", "eq", "5")), Allow);
    assert_eq!(check(&when("actor.meta.level", "eq", "'5'")), Allow);
    assert_eq!(check(&when("actor.meta.level", "eq", "5.0")), Allow);
    assert_eq!(check(&when("actor.meta.level", "eq", "'5.0'")), Allow);
    assert_eq!(check(&when("actor.meta.level", "ne", "6")), Allow);
    // Booleans against their text.
    assert_eq!(on(&when("flag", "eq", "'true'"), r#"{"flag":true}"#), Allow);
    assert_eq!(on(&when("flag", "eq", "true"), r#"{"flag":"true"}"#), Allow);
    assert_eq!(on(&when("flag", "eq", "1"), r#"{"flag":true}"#), Undefined);
    // Lists compare whole.
    assert_eq!(check(&when("actor.meta.tags", "eq", "[ops, dev]")), Allow);
    assert_eq!(
        check(&when("actor.meta.tags", "eq", "[dev, ops]")),
        Undefined
    );
    assert_eq!(check(&when("actor.meta.tags", "eq", "ops")), Undefined);
}

#[test]
fn numeric_comparisons() {
    let level = |op: &str, v: &str| check(&when("actor.meta.level", op, v));
    assert_eq!(level("lt", "6"), Allow);
    assert_eq!(level("lt", "5"), Undefined);
    assert_eq!(level("lte", "5"), Allow);
    assert_eq!(level("lte", "4.9"), Undefined);
    assert_eq!(level("gt", "4.5"), Allow);
    assert_eq!(level("gt", "5"), Undefined);
    assert_eq!(level("gte", "'5'"), Allow);
    assert_eq!(level("gte", "6"), Undefined);
    // A numeric string field compares too.
    assert_eq!(on(&when("size", "gt", "10"), r#"{"size":"12.5"}"#), Allow);
}

#[test]
fn numeric_comparisons_with_non_numbers_are_undefined_both_ways() {
    for op in ["lt", "gt", "lte", "gte"] {
        assert_eq!(check(&when("actor.id", op, "5")), Undefined, "{op}");
        assert_eq!(on(&when("v", op, "5"), r#"{"v":true}"#), Undefined, "{op}");
        assert_eq!(on(&when("v", op, "5"), r#"{"v":[1]}"#), Undefined, "{op}");
        assert_eq!(
            on(&when("v", op, "5"), r#"{"v":{"a":1}}"#),
            Undefined,
            "{op}"
        );
    }
}

#[test]
fn in_and_nin() {
    assert_eq!(
        check(&when("actor.meta.role", "in", "[user, admin]")),
        Allow
    );
    assert_eq!(
        check(&when("actor.meta.role", "in", "[user, guest]")),
        Undefined
    );
    assert_eq!(
        check(&when("actor.meta.role", "nin", "[user, guest]")),
        Allow
    );
    assert_eq!(check(&when("actor.meta.role", "nin", "[admin]")), Undefined);
    // A single string is one element.
    assert_eq!(check(&when("actor.meta.role", "in", "admin")), Allow);
    assert_eq!(check(&when("actor.meta.role", "in", "admins")), Undefined);
    // Elements compare with eq's rules.
    assert_eq!(check(&when("actor.meta.level", "in", "['4', '5']")), Allow);
}

#[test]
fn contains_and_ncontains() {
    assert_eq!(check(&when("actor.meta.tags", "contains", "ops")), Allow);
    assert_eq!(check(&when("actor.meta.tags", "contains", "op")), Undefined);
    assert_eq!(check(&when("actor.meta.tags", "ncontains", "qa")), Allow);
    assert_eq!(check(&when("actor.meta.role", "contains", "dmi")), Allow);
    assert_eq!(
        check(&when("actor.meta.role", "ncontains", "dmi")),
        Undefined
    );
    assert_eq!(check(&when("resource", "contains", "':'")), Allow);
    assert_eq!(check(&when("actor.meta.level", "contains", "5")), Allow);
    // A map field cannot contain anything: an error, Undefined both ways.
    assert_eq!(
        check(&when("actor.meta.org", "contains", "core")),
        Undefined
    );
    assert_eq!(
        check(&when("actor.meta.org", "ncontains", "core")),
        Undefined
    );
}

#[test]
fn matches_and_nmatches() {
    assert_eq!(check(&when("actor.meta.role", "matches", "'^ad'")), Allow);
    assert_eq!(
        check(&when("actor.meta.role", "matches", "'^min'")),
        Undefined
    );
    assert_eq!(check(&when("actor.meta.role", "nmatches", "'^min'")), Allow);
    assert_eq!(
        check(&when("actor.meta.role", "nmatches", "'^ad'")),
        Undefined
    );
    // Unanchored, like Go's MatchString.
    assert_eq!(check(&when("resource", "matches", "'data'")), Allow);
    // Numbers match on their text.
    assert_eq!(
        check(&when("actor.meta.level", "matches", r"'^\d$'")),
        Allow
    );
    // A list is not text: an error, Undefined both ways.
    assert_eq!(check(&when("actor.meta.tags", "matches", "ops")), Undefined);
    assert_eq!(
        check(&when("actor.meta.tags", "nmatches", "ops")),
        Undefined
    );
}

#[test]
fn exists_and_nexists() {
    assert_eq!(check(&when("actor.meta.role", "exists", "true")), Allow);
    assert_eq!(
        check(&when("actor.meta.role", "exists", "false")),
        Undefined
    );
    assert_eq!(
        check(&when("actor.meta.role", "nexists", "true")),
        Undefined
    );
    assert_eq!(check(&when("actor.meta.role", "nexists", "false")), Allow);
    // Missing: exists → !operand, nexists → operand.
    assert_eq!(check(&when("actor.meta.nope", "exists", "true")), Undefined);
    assert_eq!(check(&when("actor.meta.nope", "exists", "false")), Allow);
    assert_eq!(check(&when("actor.meta.nope", "nexists", "true")), Allow);
    assert_eq!(
        check(&when("actor.meta.nope", "nexists", "false")),
        Undefined
    );
    // Nil counts as missing.
    assert_eq!(
        on(&when("owner", "exists", "true"), r#"{"owner":null}"#),
        Undefined
    );
    assert_eq!(
        on(&when("owner", "nexists", "true"), r#"{"owner":null}"#),
        Allow
    );
}

#[test]
fn a_missing_field_fails_every_other_operator_even_the_negated_ones() {
    let values = [
        ("eq", "x"),
        ("ne", "x"),
        ("lt", "1"),
        ("gt", "1"),
        ("lte", "1"),
        ("gte", "1"),
        ("in", "[x]"),
        ("nin", "[x]"),
        ("contains", "x"),
        ("ncontains", "x"),
        ("matches", "x"),
        ("nmatches", "x"),
    ];
    for (op, v) in values {
        for field in [
            "actor.meta.nope",
            "actor.meta.org.none.deeper",
            "meta.nope",
            "nope",
        ] {
            let p = when(field, op, v);
            assert_eq!(check(&p), Undefined, "{field} {op}");
            let no_meta = p.evaluate(&ann(), "fs.get", "app:data", None);
            assert_eq!(no_meta, Undefined, "{field} {op} without meta");
        }
    }
}

#[test]
fn value_from_compares_two_fields() {
    let owner = when_from("meta.owner", "eq", "actor.id");
    assert_eq!(on(&owner, r#"{"owner":"ann"}"#), Allow);
    assert_eq!(on(&owner, r#"{"owner":"bob"}"#), Undefined);
    assert_eq!(on(&owner, "{}"), Undefined);
    let not_owner = when_from("meta.owner", "ne", "actor.id");
    assert_eq!(on(&not_owner, r#"{"owner":"bob"}"#), Allow);
    assert_eq!(on(&not_owner, r#"{"owner":"ann"}"#), Undefined);
    // The operand comes from a list in the actor's meta.
    let tagged = when_from("meta.tag", "in", "actor.meta.tags");
    assert_eq!(on(&tagged, r#"{"tag":"dev"}"#), Allow);
    assert_eq!(on(&tagged, r#"{"tag":"qa"}"#), Undefined);
    // Numbers from both sides.
    let quota = when_from("meta.used", "lt", "actor.meta.level");
    assert_eq!(on(&quota, r#"{"used":4}"#), Allow);
    assert_eq!(on(&quota, r#"{"used":"5"}"#), Undefined);
}

#[test]
fn value_from_missing_or_failing() {
    // A missing operand is nil: eq is false, ne is true (Wippy's rule).
    assert_eq!(check(&when_from("actor.id", "eq", "meta.owner")), Undefined);
    assert_eq!(check(&when_from("actor.id", "ne", "meta.owner")), Allow);
    // Operators that need an operand of a type fail on nil.
    assert_eq!(
        check(&when_from("actor.meta.level", "lt", "meta.max")),
        Undefined
    );
    assert_eq!(
        check(&when_from("actor.id", "in", "meta.allowed")),
        Undefined
    );
    assert_eq!(
        check(&when_from("actor.id", "nin", "meta.allowed")),
        Undefined
    );
    // exists/nexists need a boolean operand; anything else is an error.
    assert_eq!(
        on(&when_from("actor.id", "exists", "flag"), r#"{"flag":true}"#),
        Allow
    );
    assert_eq!(
        on(
            &when_from("actor.id", "exists", "flag"),
            r#"{"flag":"yes"}"#
        ),
        Undefined
    );
    assert_eq!(
        on(
            &when_from("actor.id", "nexists", "flag"),
            r#"{"flag":"yes"}"#
        ),
        Undefined
    );
    assert_eq!(
        on(&when_from("nope", "exists", "flag"), r#"{"flag":1}"#),
        Undefined
    );
    assert_eq!(
        on(&when_from("nope", "nexists", "flag"), r#"{"flag":1}"#),
        Undefined
    );
    assert_eq!(
        on(&when_from("nope", "nexists", "flag"), r#"{"flag":true}"#),
        Allow
    );
    // An actor path as the operand with an empty actor is an error.
    let p = when_from("meta.owner", "ne", "actor.id");
    let meta = map(r#"{"owner":"bob"}"#);
    let empty = Actor::new("", Map::new());
    assert_eq!(p.evaluate(&empty, "a", "r", Some(&meta)), Undefined);
}

#[test]
fn value_from_wins_over_value() {
    let p = policy(
        "policy: {actions: '*', resources: '*', effect: allow, conditions: [{field: actor.id, operator: eq, value: bob, value_from: meta.who}]}",
    );
    assert_eq!(on(&p, r#"{"who":"ann"}"#), Allow);
    assert_eq!(on(&p, r#"{"who":"bob"}"#), Undefined);
}

#[test]
fn nested_meta_paths() {
    assert_eq!(
        check(&when("actor.meta.org.team.name", "eq", "core")),
        Allow
    );
    assert_eq!(check(&when("actor.meta.org.team", "exists", "true")), Allow);
    assert_eq!(check(&when("actor.meta", "exists", "true")), Allow);
    let deep = when("meta.a.b.c", "eq", "1");
    assert_eq!(on(&deep, r#"{"a":{"b":{"c":1}}}"#), Allow);
    assert_eq!(on(&deep, r#"{"a":{"b":{"c":2}}}"#), Undefined);
    assert_eq!(on(&deep, r#"{"a":{"b":"c"}}"#), Undefined);
    assert_eq!(on(&deep, r#"{"a.b.c":1}"#), Undefined);
    // Any other string is one whole key, dots and all.
    let dotted = when("a.b.c", "eq", "1");
    assert_eq!(on(&dotted, r#"{"a.b.c":1}"#), Allow);
    assert_eq!(on(&dotted, r#"{"a":{"b":{"c":1}}}"#), Undefined);
    // The process checks' `{pid = …}` meta is reached as `pid` or `meta.pid`.
    assert_eq!(
        on(&when("pid", "eq", "'{h|0x1}'"), r#"{"pid":"{h|0x1}"}"#),
        Allow
    );
    assert_eq!(
        on(&when("meta.pid", "eq", "'{h|0x1}'"), r#"{"pid":"{h|0x1}"}"#),
        Allow
    );
}

#[test]
fn action_and_resource_fields() {
    assert_eq!(check(&when("action", "eq", "fs.get")), Allow);
    assert_eq!(check(&when("resource", "matches", "'^app:'")), Allow);
    assert_eq!(check(&when("resource", "eq", "app:other")), Undefined);
}

#[test]
fn actor_paths_with_an_empty_actor_are_undefined() {
    let empty = Actor::new("", Map::new());
    for (field, op, v) in [
        ("actor.id", "eq", "''"),
        ("actor.id", "ne", "x"),
        ("actor.id", "nexists", "true"),
        ("actor.meta", "nexists", "true"),
        ("actor.meta.role", "nexists", "true"),
        ("actor.meta.role", "exists", "false"),
    ] {
        let p = when(field, op, v);
        assert_eq!(
            p.evaluate(&empty, "a", "r", None),
            Undefined,
            "{field} {op}"
        );
    }
    // An actor with only meta is not empty.
    let meta_only = Actor::new("", map(r#"{"role":"admin"}"#));
    let p = when("actor.meta.role", "eq", "admin");
    assert_eq!(p.evaluate(&meta_only, "a", "r", None), Allow);
}

#[test]
fn all_conditions_must_hold() {
    let p = policy(
        r#"
policy:
  actions: "*"
  resources: "*"
  effect: deny
  conditions:
    - {field: actor.meta.role, operator: eq, value: admin}
    - {field: meta.secret, operator: eq, value: true}
"#,
    );
    assert_eq!(on(&p, r#"{"secret":true}"#), Deny);
    assert_eq!(on(&p, r#"{"secret":false}"#), Undefined);
    assert_eq!(on(&p, "{}"), Undefined);
}

#[test]
fn groups_bare_and_full_names() {
    let p = policy(
        "policy: {actions: '*', resources: '*', effect: allow}\ngroups: [staff, 'other.ns:admins', ':lead', staff, 'app.sec:staff']",
    );
    let groups: Vec<&str> = p.groups().iter().map(EntryId::as_str).collect();
    assert_eq!(groups, ["app.sec:staff", "other.ns:admins", "app.sec:lead"]);
    assert!(
        policy("policy: {actions: '*', resources: '*', effect: allow}")
            .groups()
            .is_empty()
    );
    assert!(
        policy("policy: {actions: '*', resources: '*', effect: allow}\ngroups: null")
            .groups()
            .is_empty()
    );
}

#[test]
fn from_entry_uses_the_entry_id_and_namespace() {
    let mut entry = Entry::new(EntryId::new("app.x", "reader"), KIND);
    entry.data = data("policy: {actions: '*', resources: '*', effect: allow}\ngroups: [g]");
    let p = CompiledPolicy::from_entry(&entry).unwrap();
    assert_eq!(p.id().as_str(), "app.x:reader");
    assert_eq!(p.groups()[0].as_str(), "app.x:g");
}

/// `(data, field named, text in the message)` for every rejection.
const INVALID: &[(&str, &str, &str)] = &[
    ("groups: [a]", "policy", "policy is required"),
    ("policy: allow", "policy", "policy must be a map"),
    (
        "policy: {actions: '*', resources: '*', effect: allow, condition: []}",
        "policy.condition",
        "unknown key `condition`",
    ),
    (
        "policy: {actions: '*', resources: '*'}",
        "policy.effect",
        "effect is required",
    ),
    (
        "policy: {actions: '*', resources: '*', effect: permit}",
        "policy.effect",
        "invalid policy effect: \"permit\"",
    ),
    (
        "policy: {actions: '*', resources: '*', effect: Allow}",
        "policy.effect",
        "invalid policy effect",
    ),
    (
        "policy: {actions: '*', resources: '*', effect: true}",
        "policy.effect",
        "invalid policy effect: a boolean",
    ),
    (
        "policy: {resources: '*', effect: allow}",
        "policy.actions",
        "actions is required",
    ),
    (
        "policy: {actions: '', resources: '*', effect: allow}",
        "policy.actions",
        "actions string cannot be empty",
    ),
    (
        "policy: {actions: [], resources: '*', effect: allow}",
        "policy.actions",
        "actions list cannot be empty",
    ),
    (
        "policy: {actions: 3, resources: '*', effect: allow}",
        "policy.actions",
        "actions must be a string or list",
    ),
    (
        "policy: {actions: [a, 3], resources: '*', effect: allow}",
        "policy.actions[1]",
        "a pattern must be a string, got integer",
    ),
    (
        "policy: {actions: '*', effect: allow}",
        "policy.resources",
        "resources is required",
    ),
    (
        "policy: {actions: '*', resources: '', effect: allow}",
        "policy.resources",
        "resources string cannot be empty",
    ),
    (
        "policy: {actions: '*', resources: [], effect: allow}",
        "policy.resources",
        "resources list cannot be empty",
    ),
    (
        "policy: {actions: '*', resources: {a: 1}, effect: allow}",
        "policy.resources",
        "resources must be a string or list",
    ),
    (
        "policy: {actions: '*', resources: '*', effect: allow, conditions: {field: a}}",
        "policy.conditions",
        "conditions must be a list",
    ),
    (
        "policy: {actions: '*', resources: '*', effect: allow, conditions: [x]}",
        "policy.conditions[0]",
        "a condition must be a map",
    ),
    (
        "policy: {actions: '*', resources: '*', effect: allow, conditions: [{operator: eq, value: 1}]}",
        "policy.conditions[0].field",
        "field is required",
    ),
    (
        "policy: {actions: '*', resources: '*', effect: allow, conditions: [{field: '', operator: eq, value: 1}]}",
        "policy.conditions[0].field",
        "field is required",
    ),
    (
        "policy: {actions: '*', resources: '*', effect: allow, conditions: [{field: 3, operator: eq, value: 1}]}",
        "policy.conditions[0].field",
        "field must be a string",
    ),
    (
        "policy: {actions: '*', resources: '*', effect: allow, conditions: [{field: actor.name, operator: eq, value: 1}]}",
        "policy.conditions[0].field",
        "unknown field path \"actor.name\"",
    ),
    (
        "policy: {actions: '*', resources: '*', effect: allow, conditions: [{field: meta, operator: eq, value: 1}]}",
        "policy.conditions[0].field",
        "unknown field path \"meta\"",
    ),
    (
        "policy: {actions: '*', resources: '*', effect: allow, conditions: [{field: a, value: 1}]}",
        "policy.conditions[0].operator",
        "operator is required",
    ),
    (
        "policy: {actions: '*', resources: '*', effect: allow, conditions: [{field: a, operator: eq, value: 1}, {field: a, operator: eq, value: 1}, {field: a, operator: like, value: 1}]}",
        "policy.conditions[2].operator",
        "invalid operator: like",
    ),
    (
        "policy: {actions: '*', resources: '*', effect: allow, conditions: [{field: a, operator: eq}]}",
        "policy.conditions[0].value",
        "value or value_from is required",
    ),
    (
        "policy: {actions: '*', resources: '*', effect: allow, conditions: [{field: a, operator: eq, value: null, value_from: ''}]}",
        "policy.conditions[0].value",
        "value or value_from is required",
    ),
    (
        "policy: {actions: '*', resources: '*', effect: allow, conditions: [{field: a, operator: eq, value_from: 3}]}",
        "policy.conditions[0].value_from",
        "value_from must be a field path string",
    ),
    (
        "policy: {actions: '*', resources: '*', effect: allow, conditions: [{field: a, operator: eq, value_from: actor}]}",
        "policy.conditions[0].value_from",
        "unknown field path \"actor\"",
    ),
    (
        "policy: {actions: '*', resources: '*', effect: allow, conditions: [{field: a, operator: eq, value: 1, values: 2}]}",
        "policy.conditions[0].values",
        "unknown key `values`",
    ),
    (
        "policy: {actions: '*', resources: '*', effect: allow, conditions: [{field: a, operator: exists, value: 'yes'}]}",
        "policy.conditions[0].value",
        "exists needs a boolean value",
    ),
    (
        "policy: {actions: '*', resources: '*', effect: allow, conditions: [{field: a, operator: nexists, value: 1}]}",
        "policy.conditions[0].value",
        "nexists needs a boolean value",
    ),
    (
        "policy: {actions: '*', resources: '*', effect: allow, conditions: [{field: a, operator: matches, value: '(a'}]}",
        "policy.conditions[0].value",
        "invalid regex \"(a\"",
    ),
    (
        "policy: {actions: '*', resources: '*', effect: allow, conditions: [{field: a, operator: nmatches, value: 3}]}",
        "policy.conditions[0].value",
        "nmatches needs a regex string in value, got integer",
    ),
    (
        "policy: {actions: '*', resources: '*', effect: allow, conditions: [{field: a, operator: matches, value_from: b}]}",
        "policy.conditions[0].value",
        "matches needs a regex string in value, got value_from",
    ),
    (
        "policy: {actions: '*', resources: '*', effect: allow, conditions: [{field: a, operator: lt, value: abc}]}",
        "policy.conditions[0].value",
        "lt needs a number, got string",
    ),
    (
        "policy: {actions: '*', resources: '*', effect: allow, conditions: [{field: a, operator: gte, value: true}]}",
        "policy.conditions[0].value",
        "gte needs a number, got boolean",
    ),
    (
        "policy: {actions: '*', resources: '*', effect: allow, conditions: [{field: a, operator: in, value: 3}]}",
        "policy.conditions[0].value",
        "in needs a list or a string, got integer",
    ),
    (
        "policy: {actions: '*', resources: '*', effect: allow, conditions: [{field: a, operator: nin, value: {a: 1}}]}",
        "policy.conditions[0].value",
        "nin needs a list or a string, got map",
    ),
    (
        "policy: {actions: '*', resources: '*', effect: allow}\ngroups: admins",
        "groups",
        "groups must be a list of group ids",
    ),
    (
        "policy: {actions: '*', resources: '*', effect: allow}\ngroups: [a, 3]",
        "groups[1]",
        "a group id must be a string",
    ),
    (
        "policy: {actions: '*', resources: '*', effect: allow}\ngroups: ['']",
        "groups[0]",
        "a group id cannot be empty",
    ),
];

#[test]
fn every_validation_failure_is_invalid_and_names_the_field() {
    for (yaml, field, text) in INVALID {
        let err = match compile(yaml) {
            Ok(_) => panic!("accepted: {yaml}"),
            Err(e) => e,
        };
        assert_eq!(err.kind(), ErrorKind::Invalid, "{yaml}");
        assert_eq!(
            err.context_chain(),
            [format!("field {field}")],
            "{yaml}: {err}"
        );
        assert!(err.message().contains(text), "{yaml}: {err}");
        assert!(!err.message().contains('\n'), "{yaml}: {err}");
    }
}

#[test]
fn literal_operands_that_fit_their_operator_are_accepted() {
    for (op, v) in [
        ("lt", "'5'"),
        ("gt", "2.5"),
        ("in", "abc"),
        ("nin", "[1, a]"),
        ("contains", "{a: 1}"),
        ("eq", "[1]"),
        ("exists", "false"),
        ("matches", "'^a.*$'"),
    ] {
        when("a", op, v);
    }
}

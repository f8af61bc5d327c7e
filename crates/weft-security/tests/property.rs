//! Property tests: random policies, actors and meta never panic, and a condition that
//! cannot hold never lets a policy Allow.
//!
//! A small xorshift generator keeps the runs reproducible without extra dependencies; a
//! failure prints the seed of its case.

use std::sync::Arc;

use weft_core::{Actor, Decision, EntryId, Error, ErrorKind, Map, Policy, Value};
use weft_security::CompiledPolicy;

const CASES: u64 = 3_000;

/// A xorshift64* generator.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const KEYS: [&str; 5] = ["role", "level", "org", "a.b", "tags"];
const PATHS: [&str; 14] = [
    "actor.id",
    "actor.meta",
    "actor.meta.role",
    "actor.meta.org.team",
    "actor.meta.tags",
    "action",
    "resource",
    "meta.role",
    "meta.org.team",
    "meta.level",
    "level",
    "a.b",
    "role",
    "tags",
];
const OPERATORS: [&str; 14] = [
    "eq",
    "ne",
    "lt",
    "gt",
    "lte",
    "gte",
    "in",
    "nin",
    "contains",
    "ncontains",
    "matches",
    "nmatches",
    "exists",
    "nexists",
];
const WORDS: [&str; 8] = ["admin", "5", "5.0", "", "true", "NaN", "ad.*", "team"];

/// A random scalar or container, up to `depth` levels deep.
fn value(rng: &mut Rng, depth: usize) -> Value {
    match rng.below(if depth == 0 { 8 } else { 11 }) {
        0 => Value::Nil,
        1 => Value::Bool(rng.below(2) == 0),
        2 => Value::Int(*rng.pick(&[0, 5, -1, i64::MAX, i64::MIN])),
        3 => Value::Float(*rng.pick(&[5.0, 0.5, f64::NAN, f64::INFINITY, -0.0, 1e300])),
        4 | 5 => Value::str(*rng.pick(&WORDS)),
        6 => Value::bytes(vec![0xff, 0xfe, b'a']),
        7 => Value::from(Error::internal("boom")),
        8 | 9 => {
            let n = rng.below(4);
            Value::array((0..n).map(|_| value(rng, depth - 1)).collect())
        }
        _ => Value::map(map(rng, depth - 1)),
    }
}

fn map(rng: &mut Rng, depth: usize) -> Map {
    let n = rng.below(4);
    (0..n)
        .map(|_| (rng.pick(&KEYS).to_string(), value(rng, depth)))
        .collect()
}

fn actor(rng: &mut Rng) -> Actor {
    match rng.below(4) {
        0 => Actor::new("", Map::new()),
        1 => Actor::new(*rng.pick(&WORDS), Map::new()),
        _ => Actor::new(*rng.pick(&WORDS), map(rng, 2)),
    }
}

/// A random condition as entry data: mostly well formed, sometimes not.
fn condition(rng: &mut Rng) -> Value {
    let mut c = Map::new();
    c.insert("field".into(), Value::str(*rng.pick(&PATHS)));
    c.insert("operator".into(), Value::str(*rng.pick(&OPERATORS)));
    if rng.below(4) == 0 {
        c.insert("value_from".into(), Value::str(*rng.pick(&PATHS)));
    } else {
        c.insert("value".into(), value(rng, 2));
    }
    if rng.below(20) == 0 {
        c.insert(rng.pick(&KEYS).to_string(), value(rng, 1));
    }
    Value::map(c)
}

fn policy_data(rng: &mut Rng, conditions: Vec<Value>) -> Value {
    let pattern = |rng: &mut Rng| -> Value {
        match rng.below(5) {
            0 => Value::str("*"),
            1 => Value::str("fs.*"),
            2 => Value::array(vec![Value::str("funcs.call"), Value::str("fs.get")]),
            3 => value(rng, 1),
            _ => Value::str("app:*"),
        }
    };
    let mut def = Map::new();
    def.insert("actions".into(), pattern(rng));
    def.insert("resources".into(), pattern(rng));
    def.insert(
        "effect".into(),
        Value::str(*rng.pick(&["allow", "allow", "deny", "maybe"])),
    );
    def.insert("conditions".into(), Value::array(conditions));
    let mut data = Map::new();
    data.insert("policy".into(), Value::map(def));
    if rng.below(3) == 0 {
        data.insert("groups".into(), value(rng, 1));
    }
    Value::map(data)
}

fn compile(data: &Value) -> Result<CompiledPolicy, Error> {
    CompiledPolicy::compile(EntryId::new("app", "p"), data)
}

/// Compiles, or checks that the rejection is a proper Invalid naming a field.
fn compile_or_invalid(data: &Value, seed: u64) -> Option<CompiledPolicy> {
    match compile(data) {
        Ok(p) => Some(p),
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::Invalid, "seed {seed}: {e}");
            assert!(
                e.context_chain()
                    .first()
                    .is_some_and(|c| c.starts_with("field ")),
                "seed {seed}: {e}"
            );
            None
        }
    }
}

fn action_resource(rng: &mut Rng) -> (&'static str, &'static str) {
    (
        *rng.pick(&["fs.get", "funcs.call", "", "fs"]),
        *rng.pick(&["app:data", "", "other:x", "app:"]),
    )
}

#[test]
fn random_policies_and_inputs_never_panic_and_stay_consistent() {
    let mut compiled = 0;
    let mut applied = 0;
    for seed in 0..CASES {
        let rng = &mut Rng::new(seed);
        let n = rng.below(4);
        let conditions = (0..n).map(|_| condition(rng)).collect();
        let data = policy_data(rng, conditions);
        let Some(p) = compile_or_invalid(&data, seed) else {
            continue;
        };
        compiled += 1;
        for _ in 0..8 {
            let actor = actor(rng);
            let meta = map(rng, 3);
            let meta = (rng.below(4) != 0).then_some(&meta);
            let (action, resource) = action_resource(rng);
            let d = p.evaluate(&actor, action, resource, meta);
            assert_eq!(d, p.evaluate(&actor, action, resource, meta), "seed {seed}");
            if d != Decision::Undefined {
                assert_eq!(d, p.effect(), "seed {seed}");
                applied += 1;
            }
        }
    }
    assert!(compiled > CASES / 10, "only {compiled} policies compiled");
    assert!(applied > CASES / 10, "only {applied} decisions applied");
}

#[test]
fn random_entry_data_is_accepted_or_rejected_without_panicking() {
    for seed in 0..CASES {
        let rng = &mut Rng::new(seed ^ 0xdead_beef);
        let mut data = Map::new();
        for key in ["policy", "groups"] {
            if rng.below(4) != 0 {
                data.insert(key.into(), value(rng, 3));
            }
        }
        compile_or_invalid(&Value::map(data), seed);
    }
}

/// A condition on a field that is never there, with every operator but exists/nexists.
fn impossible(rng: &mut Rng) -> Value {
    let op = *rng.pick(&OPERATORS[..12]);
    let field = *rng.pick(&["meta.__absent__", "actor.meta.__absent__.x", "__absent__"]);
    let operand = match op {
        "lt" | "gt" | "lte" | "gte" => Value::Int(1),
        "in" | "nin" => Value::array(vec![Value::str("x")]),
        _ => Value::str("x"),
    };
    Value::from_pairs([
        ("field", Value::str(field)),
        ("operator", Value::str(op)),
        ("value", operand),
    ])
}

#[test]
fn a_condition_that_cannot_hold_never_lets_a_policy_apply() {
    let mut compiled = 0;
    for seed in 0..CASES {
        let rng = &mut Rng::new(seed ^ 0x5eed);
        let mut conditions: Vec<Value> = (0..rng.below(3)).map(|_| condition(rng)).collect();
        let at = rng.below(conditions.len() + 1);
        conditions.insert(at, impossible(rng));
        let Some(p) = compile_or_invalid(&policy_data(rng, conditions), seed) else {
            continue;
        };
        compiled += 1;
        for _ in 0..8 {
            let actor = actor(rng);
            let meta = map(rng, 3);
            let (action, resource) = action_resource(rng);
            assert_eq!(
                p.evaluate(&actor, action, resource, Some(&meta)),
                Decision::Undefined,
                "seed {seed}"
            );
        }
    }
    assert!(compiled > CASES / 10, "only {compiled} policies compiled");
}

/// One allow policy with a single condition.
fn single(field: &str, op: &str, operand: &Value) -> Option<Arc<CompiledPolicy>> {
    let data = Value::from_pairs([(
        "policy",
        Value::from_pairs([
            ("actions", Value::str("*")),
            ("resources", Value::str("*")),
            ("effect", Value::str("allow")),
            (
                "conditions",
                Value::array(vec![Value::from_pairs([
                    ("field", Value::str(field)),
                    ("operator", Value::str(op)),
                    ("value", operand.clone()),
                ])]),
            ),
        ]),
    )]);
    compile(&data).ok().map(Arc::new)
}

#[test]
fn an_operator_and_its_negation_never_both_allow() {
    let pairs = [
        ("eq", "ne"),
        ("in", "nin"),
        ("contains", "ncontains"),
        ("matches", "nmatches"),
        ("exists", "nexists"),
    ];
    let mut allowed = 0;
    for seed in 0..CASES {
        let rng = &mut Rng::new(seed ^ 0xfeed);
        let (op, neg) = *rng.pick(&pairs);
        let field = *rng.pick(&PATHS);
        let operand = match op {
            "exists" => Value::Bool(rng.below(2) == 0),
            "matches" => Value::str(*rng.pick(&["^a", "5", "", "e$"])),
            _ => value(rng, 2),
        };
        let (Some(p), Some(n)) = (single(field, op, &operand), single(field, neg, &operand)) else {
            continue;
        };
        for _ in 0..8 {
            let actor = actor(rng);
            let meta = map(rng, 3);
            let (action, resource) = action_resource(rng);
            let a = p.evaluate(&actor, action, resource, Some(&meta));
            let b = n.evaluate(&actor, action, resource, Some(&meta));
            assert!(
                !(a == Decision::Allow && b == Decision::Allow),
                "seed {seed}: {field} {op}/{neg} {operand:?} both allow"
            );
            allowed += usize::from(a == Decision::Allow || b == Decision::Allow);
            if op == "exists" && !(field.starts_with("actor") && actor.is_empty()) {
                // Exactly one of exists/nexists holds when the path can be looked up.
                assert_ne!(a, b, "seed {seed}: {field} exists/nexists {operand:?}");
            }
        }
    }
    assert!(allowed > 1_000, "only {allowed} cases allowed");
}

#[test]
fn numeric_operators_on_non_numbers_never_allow() {
    for seed in 0..CASES {
        let rng = &mut Rng::new(seed ^ 0xabc);
        let op = *rng.pick(&["lt", "gt", "lte", "gte"]);
        let Some(p) = single("v", op, &Value::Int(*rng.pick(&[-1, 0, 5, 100]))) else {
            panic!("seed {seed}: a number operand was rejected");
        };
        let v = value(rng, 2);
        let numeric = match &v {
            Value::Int(_) | Value::Float(_) => true,
            Value::Str(s) => std::str::from_utf8(s).is_ok_and(|t| t.parse::<f64>().is_ok()),
            _ => false,
        };
        if numeric {
            continue;
        }
        let meta = Map::from_iter([("v".to_string(), v.clone())]);
        let actor = actor(rng);
        assert_eq!(
            p.evaluate(&actor, "a", "r", Some(&meta)),
            Decision::Undefined,
            "seed {seed}: {op} on {v:?}"
        );
    }
}

//! Evaluation allocates nothing: patterns, paths and regexes are compiled at load, and
//! values are compared where they lie. Counted with a global allocator that counts the
//! allocations of the measuring thread only (the test harness allocates on its own
//! threads meanwhile: reporting another test's end counted 7 once).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use weft_core::{Actor, Decision, EntryId, Map, Policy, Scope, Value};
use weft_security::CompiledPolicy;

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Set while this thread's allocations are counted ([`counted`]).
    static MEASURING: Cell<bool> = const { Cell::new(false) };
}

// SAFETY: delegates to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if MEASURING.try_with(Cell::get).unwrap_or(false) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The count is process-wide: each test holds this while it runs.
static SERIAL: Mutex<()> = Mutex::new(());

/// How many times this thread allocates while `f` runs.
fn counted(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    MEASURING.with(|m| m.set(true));
    f();
    MEASURING.with(|m| m.set(false));
    ALLOCATIONS.load(Ordering::Relaxed) - before
}

const POLICIES: &str = r#"
calls: {policy: {actions: funcs.call, resources: ["app.api:*", "app.lib:*"], effect: allow}}
secrets: {policy: {actions: "*", resources: "app.secret:*", effect: deny}}
roles:
  policy:
    actions: registry.get
    resources: "app.*"
    effect: allow
    conditions: [{field: actor.meta.role, operator: in, value: [admin, service]}]
owner:
  policy:
    actions: document.read.*
    resources: "*"
    effect: allow
    conditions: [{field: meta.owner, operator: eq, value_from: actor.id}]
admin:
  policy:
    actions: security.*
    resources: "*"
    effect: allow
    conditions:
      - {field: actor.meta.level, operator: gte, value: 5}
      - {field: actor.id, operator: matches, value: "^svc-"}
      - {field: actor.meta.tags, operator: contains, value: ops}
      - {field: meta.nope, operator: nexists, value: true}
"#;

#[test]
fn evaluating_a_scope_does_not_allocate() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let all: Value = serde_yaml_ng::from_str(POLICIES).unwrap();
    let scope = Scope::new(all.as_map().unwrap().iter().map(|(name, data)| {
        Arc::new(CompiledPolicy::compile(EntryId::new("app", name), data).unwrap())
            as Arc<dyn Policy>
    }));
    let meta: Value = serde_yaml_ng::from_str("{role: service, level: 7, tags: [ops]}").unwrap();
    let actor = Actor::new("svc-billing", meta.as_map().unwrap().clone());
    let mut owner = Map::new();
    owner.insert("owner".into(), Value::str("svc-billing"));
    let cases = [
        ("funcs.call", "app.api:f", None, Decision::Allow),
        ("funcs.call", "app.secret:k", None, Decision::Deny),
        ("registry.get", "app.x:y", None, Decision::Allow),
        ("document.read.body", "doc:1", Some(&owner), Decision::Allow),
        ("security.policy.get", "app:admin", None, Decision::Allow),
        ("fs.get", "app:data", None, Decision::Undefined),
    ];
    // Warm up: the regex engine fills its per-thread cache on first use.
    for (action, resource, meta, want) in cases {
        assert_eq!(scope.evaluate(&actor, action, resource, meta), want);
    }
    let allocations = counted(|| {
        for _ in 0..100 {
            for (action, resource, meta, _) in cases {
                std::hint::black_box(scope.evaluate(&actor, action, resource, meta));
            }
        }
    });
    assert_eq!(allocations, 0);
}

/// `security.policy.expr` entries that read the check where it lies.
const EXPRESSIONS: &str = r#"
roles:
  policy:
    actions: registry.get
    resources: "app.*"
    effect: allow
    expression: 'actor.meta.role in ["admin", "service"] and actor.meta.level >= 5'
owner:
  policy:
    actions: document.read.*
    resources: "*"
    effect: allow
    expression: 'meta.owner == actor.id || any(actor.meta.tags, # == "audit")'
admin:
  policy:
    actions: security.*
    resources: "*"
    effect: allow
    expression: 'actor.id matches "^svc-" && resource startsWith "app:" && meta?.nope == nil'
secrets:
  policy:
    actions: "*"
    resources: "*"
    effect: deny
    expression: 'resource contains "secret" and not ("ops" in actor.meta.tags)'
"#;

#[test]
fn evaluating_expression_policies_does_not_allocate() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let all: Value = serde_yaml_ng::from_str(EXPRESSIONS).unwrap();
    let scope = Scope::new(all.as_map().unwrap().iter().map(|(name, data)| {
        Arc::new(CompiledPolicy::compile_expr(EntryId::new("app", name), data).unwrap())
            as Arc<dyn Policy>
    }));
    let meta: Value = serde_yaml_ng::from_str("{role: service, level: 7, tags: [ci]}").unwrap();
    let actor = Actor::new("svc-billing", meta.as_map().unwrap().clone());
    let mut owner = Map::new();
    owner.insert("owner".into(), Value::str("svc-billing"));
    let cases = [
        ("registry.get", "app.x:y", None, Decision::Allow),
        ("document.read.body", "doc:1", Some(&owner), Decision::Allow),
        ("document.read.body", "doc:1", None, Decision::Undefined),
        ("security.policy.get", "app:admin", None, Decision::Allow),
        ("fs.get", "app:secret", None, Decision::Deny),
        ("fs.get", "app:data", None, Decision::Undefined),
    ];
    // Warm up: the regex engine fills its lazy DFA cache over the first runs.
    for _ in 0..3 {
        for (action, resource, meta, want) in cases {
            let got = scope.evaluate(&actor, action, resource, meta);
            assert_eq!(got, want, "{action} {resource}");
        }
    }
    let allocations = counted(|| {
        for _ in 0..100 {
            for (action, resource, meta, _) in cases {
                std::hint::black_box(scope.evaluate(&actor, action, resource, meta));
            }
        }
    });
    assert_eq!(allocations, 0);
}

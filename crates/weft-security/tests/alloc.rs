//! Evaluation allocates nothing: patterns, paths and regexes are compiled at load, and
//! values are compared where they lie. Counted with a global allocator that counts.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use weft_core::{Actor, Decision, EntryId, Map, Policy, Scope, Value};
use weft_security::CompiledPolicy;

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: delegates to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
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
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..100 {
        for (action, resource, meta, _) in cases {
            std::hint::black_box(scope.evaluate(&actor, action, resource, meta));
        }
    }
    assert_eq!(ALLOCATIONS.load(Ordering::Relaxed) - before, 0);
}

//! Security benchmarks (issue target in brackets):
//! - `CallContext::check` against a scope of 10 realistic `security.policy` entries
//!   (patterns, lists, a deny, conditions on actor meta and resource meta)
//!   [median ≤ 1 µs].
//! - The same scope with its last policy a `security.policy.expr` saying what its two
//!   conditions say (`actor.meta.level >= 5 and actor.id matches "^svc-"`), and one with
//!   a richer expression (member access, `in` on a list, `startsWith`, `??`).
//!
//! A check evaluates every policy of the scope (a deny anywhere wins), so each figure is
//! ten policy evaluations. Run: `cargo bench -p weft-security`. Figures go to
//! docs/performance.md.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use weft_core::{Actor, CallContext, EntryId, Map, Policy, Scope, Value};
use weft_security::CompiledPolicy;

/// The same allocator as the `weft` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Ten policies as an app would declare them (the `policy:` and `groups:` data of each).
const POLICIES: &str = r#"
api_calls:
  policy: {actions: funcs.call, resources: ["app.api:*", "app.lib:*"], effect: allow}
workers:
  policy: {actions: "process.*", resources: "app.workers:*", effect: allow}
files:
  policy: {actions: fs.get, resources: [app:data, app:uploads], effect: allow}
no_secrets:
  policy: {actions: "*", resources: "app.secret:*", effect: deny}
env:
  policy: {actions: [env.get, env.set], resources: "APP_*", effect: allow}
outgoing:
  policy: {actions: http_client.request, resources: "https://api.example.com/*", effect: allow}
no_private:
  policy: {actions: http_client.private_ip, resources: "*", effect: deny}
registry:
  policy:
    actions: registry.get
    resources: "app.*"
    effect: allow
    conditions:
      - {field: actor.meta.role, operator: in, value: [admin, service]}
documents:
  policy:
    actions: document.read.*
    resources: "*"
    effect: allow
    conditions:
      - {field: meta.owner, operator: eq, value_from: actor.id}
admin:
  policy:
    actions: "security.*"
    resources: "*"
    effect: allow
    conditions:
      - {field: actor.meta.level, operator: gte, value: 5}
      - {field: actor.id, operator: matches, value: "^svc-"}
"#;

/// The `admin` policy as an expression: the same two tests.
const ADMIN_EXPR: &str = r#"
policy:
  actions: "security.*"
  resources: "*"
  effect: allow
  expression: 'actor.meta.level >= 5 and actor.id matches "^svc-"'
"#;

/// A richer expression in its place.
const ADMIN_RICH: &str = r#"
policy:
  actions: "security.*"
  resources: "*"
  effect: allow
  expression: 'actor.meta.role in ["admin", "service"] and resource startsWith "app." and (actor.meta.team ?? "") == "core"'
"#;

/// The ten policies; `admin` replaced by the expression policy `admin`, if given.
fn scope(admin: Option<&str>) -> Scope {
    let all: Value = serde_yaml_ng::from_str(POLICIES).unwrap();
    let mut policies: Vec<Arc<dyn Policy>> = Vec::new();
    for (name, data) in all.as_map().unwrap() {
        let id = EntryId::new("app.security", name);
        let p = match admin {
            Some(yaml) if name == "admin" => {
                let data: Value = serde_yaml_ng::from_str(yaml).unwrap();
                CompiledPolicy::compile_expr(id, &data).unwrap()
            }
            _ => CompiledPolicy::compile(id, data).unwrap(),
        };
        policies.push(Arc::new(p));
    }
    let scope = Scope::new(policies);
    assert_eq!(scope.policies().count(), 10);
    scope
}

fn context(admin: Option<&str>) -> CallContext {
    let meta: Value = serde_yaml_ng::from_str("{role: service, level: 7, team: core}").unwrap();
    let actor = Actor::new("svc-billing", meta.as_map().unwrap().clone());
    CallContext::root(false)
        .with_actor(Some(actor))
        .with_scope(Some(scope(admin)))
}

fn checks(c: &mut Criterion) {
    let cx = context(None);
    let expr = context(Some(ADMIN_EXPR));
    let rich = context(Some(ADMIN_RICH));
    assert!(
        expr.check("security.policy.get", "app.security:admin")
            .is_ok()
    );
    assert!(expr.check("security.policy.get", "other:admin").is_ok());
    assert!(
        rich.check("security.policy.get", "app.security:admin")
            .is_ok()
    );
    // `resource startsWith "app."` does not hold: no policy applies.
    assert!(rich.check("security.policy.get", "other:admin").is_err());
    let mut owner = Map::new();
    owner.insert("owner".into(), Value::str("svc-billing"));
    assert!(cx.check("funcs.call", "app.api:handler").is_ok());
    assert!(
        cx.check_with("document.read.body", "doc:42", Some(&owner))
            .is_ok()
    );
    assert!(
        cx.check("security.policy.get", "app.security:admin")
            .is_ok()
    );
    assert!(cx.check("funcs.call", "app.secret:key").is_err());
    assert!(cx.check("fs.get", "app:other").is_err());

    let mut group = c.benchmark_group("security");
    group.measurement_time(Duration::from_secs(3));
    group.bench_function("check allowed (funcs.call), 10 policies", |b| {
        b.iter(|| cx.check(black_box("funcs.call"), black_box("app.api:handler")))
    });
    group.bench_function(
        "check allowed by conditions (2 conditions), 10 policies",
        |b| {
            b.iter(|| {
                cx.check(
                    black_box("security.policy.get"),
                    black_box("app.security:admin"),
                )
            })
        },
    );
    group.bench_function(
        "check allowed by security.policy.expr (same 2 tests), 10 policies",
        |b| {
            b.iter(|| {
                expr.check(
                    black_box("security.policy.get"),
                    black_box("app.security:admin"),
                )
            })
        },
    );
    group.bench_function(
        "check allowed by security.policy.expr (in, startsWith, ??), 10 policies",
        |b| {
            b.iter(|| {
                rich.check(
                    black_box("security.policy.get"),
                    black_box("app.security:admin"),
                )
            })
        },
    );
    group.bench_function("check_with meta, value_from condition, 10 policies", |b| {
        b.iter(|| {
            cx.check_with(
                black_box("document.read.body"),
                black_box("doc:42"),
                Some(black_box(&owner)),
            )
        })
    });
    group.bench_function("check denied by a deny policy, 10 policies", |b| {
        b.iter(|| cx.check(black_box("funcs.call"), black_box("app.secret:key")))
    });
    group.bench_function("check undefined (no policy applies), 10 policies", |b| {
        b.iter(|| cx.check(black_box("fs.get"), black_box("app:other")))
    });
    group.finish();
}

criterion_group!(benches, checks);
criterion_main!(benches);

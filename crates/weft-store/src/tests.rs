//! The stores and token stores through their kind handler and their checked API.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use weft_core::{Actor, CallContext, Decision, EntryId, ErrorKind, Map, Policy, Scope, Value};
use weft_registry::{BootMode, Entry, KindHandler};
use weft_security::{CompiledPolicy, PolicyRegistry};

use crate::{Store, StoreHandler, StoreRegistry, TokenOptions, TokenStore};

fn policy(id: &str, yaml: &str) -> CompiledPolicy {
    let data: Value = serde_yaml_ng::from_str(yaml).unwrap();
    CompiledPolicy::compile(EntryId::parse(id).unwrap(), &data).unwrap()
}

const ALLOW_ALL: &str = "policy: {actions: '*', resources: '*', effect: allow}";
const DENY_ALL: &str = "policy: {actions: '*', resources: '*', effect: deny}";

fn entry(id: &str, kind: &str, yaml: &str) -> Arc<Entry> {
    let mut e = Entry::new(EntryId::parse(id).unwrap(), kind);
    e.data = serde_yaml_ng::from_str(yaml).unwrap();
    Arc::new(e)
}

async fn apply(
    stores: &Arc<StoreRegistry>,
    id: &str,
    kind: &str,
    yaml: &str,
) -> weft_core::Result<()> {
    StoreHandler::new(stores)
        .apply(entry(id, kind, yaml), BootMode::Run)
        .await
}

/// An app with `app:allow` and `app:reader` policies, a store `app:data` and a token
/// store `app:tokens` on it.
async fn app() -> (PolicyRegistry, Arc<StoreRegistry>) {
    let policies = PolicyRegistry::default();
    policies.insert(policy("app:allow", ALLOW_ALL));
    policies.insert(policy(
        "app:reader",
        "policy: {actions: 'store.key.get', resources: '*', effect: allow}",
    ));
    let stores = Arc::new(StoreRegistry::new(policies.clone()));
    apply(&stores, "app:data", "store.memory", "max_size: 100")
        .await
        .unwrap();
    apply(
        &stores,
        "app:tokens",
        "security.token_store",
        "{store: data, token_key: secret, default_expiration: 1h}",
    )
    .await
    .unwrap();
    (policies, stores)
}

fn open() -> CallContext {
    CallContext::root(false)
}

/// A context with an actor and a scope of `policies`.
fn with_scope(policies: &PolicyRegistry, ids: &[&str]) -> CallContext {
    let scope = Scope::new(ids.iter().map(|id| policies.get(id).unwrap()));
    open()
        .with_actor(Some(Actor::new("eve", Map::new())))
        .with_scope(Some(scope))
}

fn tokens(stores: &StoreRegistry) -> Arc<TokenStore> {
    stores.token_store(&open(), "app:tokens").unwrap()
}

fn ann() -> Actor {
    Actor::new(
        "user:ann",
        Map::from_iter([("role".to_string(), Value::str("admin"))]),
    )
}

fn ids(scope: &Scope) -> Vec<&str> {
    scope.policies().map(|p| p.id().as_str()).collect()
}

#[tokio::test]
async fn a_token_stands_for_its_actor_and_its_scope() {
    let (policies, stores) = app().await;
    let ts = tokens(&stores);
    let scope = Scope::new([policies.get("app:allow").unwrap()]);
    let token = ts
        .create(&open(), &ann(), &scope, TokenOptions::default())
        .unwrap();
    let (body, mac) = token.split_once('.').unwrap();
    assert_eq!(body.len(), 43, "32 bytes in base64url: {token}");
    assert_eq!(mac.len(), 43, "an HMAC-SHA256: {token}");
    let (actor, scope) = ts.validate(&open(), &token).unwrap();
    assert_eq!(actor.id(), "user:ann");
    assert_eq!(actor.meta().get("role"), Some(&Value::str("admin")));
    assert_eq!(ids(&scope), ["app:allow"]);
    assert_eq!(scope.evaluate(&actor, "x", "y", None), Decision::Allow);
    // The middleware's view validates the same token, with no context at all.
    let v = stores.token_store_for_middleware("app:tokens").unwrap();
    assert_eq!(v.id().as_str(), "app:tokens");
    assert_eq!(v.validate(&token).unwrap().0.id(), "user:ann");
    // Two tokens for the same actor differ.
    let other = ts
        .create(&open(), &ann(), &scope, TokenOptions::default())
        .unwrap();
    assert_ne!(token, other);
}

#[tokio::test]
async fn forged_malformed_and_foreign_tokens_are_invalid_before_any_lookup() {
    let (policies, stores) = app().await;
    apply(
        &stores,
        "app:twin",
        "security.token_store",
        "{store: data, token_key: secret}",
    )
    .await
    .unwrap();
    let ts = tokens(&stores);
    let scope = Scope::new([policies.get("app:allow").unwrap()]);
    let token = ts
        .create(&open(), &ann(), &scope, TokenOptions::default())
        .unwrap();
    let (body, mac) = token.split_once('.').unwrap();
    // The record of `body` exists: only the mac check can refuse these.
    let flipped = {
        let mut m: Vec<char> = mac.chars().collect();
        m[0] = if m[0] == 'A' { 'B' } else { 'A' };
        m.into_iter().collect::<String>()
    };
    let long = "a".repeat(5000);
    let forged = [
        format!("{body}.{flipped}"),
        format!("{body}."),
        body.to_string(),
        format!("{body}.{mac}x"),
        format!("{body}x.{mac}"),
        format!("{body}.{mac}.{mac}"),
        "".to_string(),
        ".".to_string(),
        "not a token".to_string(),
        long,
    ];
    for t in &forged {
        let err = ts.validate(&open(), t).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Invalid, "{t:?}");
        assert_eq!(err.message(), "invalid token");
        assert_eq!(
            ts.revoke(&open(), t).unwrap_err().kind(),
            ErrorKind::Invalid
        );
    }
    // Same key, same backing store, another token store: its signature binds the id.
    let twin = stores.token_store(&open(), "app:twin").unwrap();
    assert_eq!(
        twin.validate(&open(), &token).unwrap_err().kind(),
        ErrorKind::Invalid
    );
    assert!(
        ts.validate(&open(), &token).is_ok(),
        "the failures changed nothing"
    );
}

#[tokio::test]
async fn expired_and_revoked_tokens_are_not_found() {
    let (policies, stores) = app().await;
    let ts = tokens(&stores);
    let scope = Scope::new([policies.get("app:allow").unwrap()]);
    let now = Instant::now();
    let wall = SystemTime::now();
    let hour = Duration::from_secs(3600);
    // The default expiration (1h) and an explicit one (10 s).
    let t1 = ts
        .issue(&ann(), &scope, TokenOptions::default(), now, wall)
        .unwrap();
    let short = TokenOptions {
        expiration: Some(Duration::from_secs(10)),
        ..TokenOptions::default()
    };
    let t2 = ts.issue(&ann(), &scope, short, now, wall).unwrap();
    assert!(ts.lookup(&t1, now + hour / 2, wall).is_ok());
    let err = ts
        .lookup(&t2, now + Duration::from_secs(11), wall)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.message(), "token is expired or revoked");
    assert_eq!(
        ts.lookup(&t1, now + hour, wall).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    // The record's own expires_at is checked too (a wall clock past it).
    let t3 = ts
        .issue(&ann(), &scope, TokenOptions::default(), now, wall)
        .unwrap();
    let late = wall + 2 * hour;
    assert_eq!(
        ts.lookup(&t3, now, late).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    // Revoked: gone at once; revoking again is fine.
    let t4 = ts
        .create(&open(), &ann(), &scope, TokenOptions::default())
        .unwrap();
    ts.revoke(&open(), &t4).unwrap();
    assert_eq!(
        ts.validate(&open(), &t4).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    ts.revoke(&open(), &t4).unwrap();
    // A zero expiration is refused.
    let zero = TokenOptions {
        expiration: Some(Duration::ZERO),
        ..TokenOptions::default()
    };
    let err = ts.create(&open(), &ann(), &scope, zero).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid);
    let huge = TokenOptions {
        expiration: Some(Duration::MAX),
        ..TokenOptions::default()
    };
    assert_eq!(
        ts.create(&open(), &ann(), &scope, huge).unwrap_err().kind(),
        ErrorKind::Invalid
    );
}

#[tokio::test]
async fn the_scope_is_rebuilt_from_the_policies_as_they_are_now() {
    let (policies, stores) = app().await;
    let ts = tokens(&stores);
    let scope = Scope::new([policies.get("app:allow").unwrap()]);
    let token = ts
        .create(&open(), &ann(), &scope, TokenOptions::default())
        .unwrap();
    // The policy changes: the token's scope follows.
    policies.insert(policy("app:allow", DENY_ALL));
    let (actor, scope) = ts.validate(&open(), &token).unwrap();
    assert_eq!(scope.evaluate(&actor, "x", "y", None), Decision::Deny);
    // The policy is gone: the token no longer validates (fail closed).
    policies.remove("app:allow");
    let err = ts.validate(&open(), &token).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(
        err.message(),
        "token scope policy app:allow no longer exists"
    );
    // A scope with a policy that is not registered cannot be put in a token.
    let stray: Arc<dyn Policy> = Arc::new(policy("app:stray", ALLOW_ALL));
    let err = ts
        .create(
            &open(),
            &ann(),
            &Scope::new([stray]),
            TokenOptions::default(),
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert!(err.message().contains("app:stray"), "{err}");
    // An empty scope is a scope: the token stands for an actor allowed nothing.
    let t = ts
        .create(&open(), &ann(), &Scope::default(), TokenOptions::default())
        .unwrap();
    assert!(ts.validate(&open(), &t).unwrap().1.is_empty());
}

#[tokio::test]
async fn tokens_count_against_the_backing_stores_cap() {
    let policies = PolicyRegistry::default();
    let stores = Arc::new(StoreRegistry::new(policies));
    apply(&stores, "app:small", "store.memory", "max_size: 2")
        .await
        .unwrap();
    apply(
        &stores,
        "app:t",
        "security.token_store",
        "{store: small, token_key: k}",
    )
    .await
    .unwrap();
    let ts = stores.token_store(&open(), "app:t").unwrap();
    for _ in 0..2 {
        ts.create(&open(), &ann(), &Scope::default(), TokenOptions::default())
            .unwrap();
    }
    let err = ts
        .create(&open(), &ann(), &Scope::default(), TokenOptions::default())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.message(), "store app:small is full (max_size: 2 keys)");
}

#[tokio::test]
async fn the_store_api_checks_every_operation() {
    let (policies, stores) = app().await;
    let s: Store = stores.store(&open(), "app:data").unwrap();
    assert_eq!(s.id().as_str(), "app:data");
    s.set(&open(), "k", Value::Int(1), None).unwrap();
    assert_eq!(s.get(&open(), "k").unwrap(), Some(Value::Int(1)));
    assert!(s.has(&open(), "k").unwrap());
    assert!(s.delete(&open(), "k").unwrap());
    assert!(!s.delete(&open(), "k").unwrap());
    assert_eq!(s.get(&open(), "k").unwrap(), None);
    let err = s.set(&open(), "k", Value::Nil, None).unwrap_err();
    assert_eq!(
        (err.kind(), err.message()),
        (ErrorKind::Invalid, "value is required")
    );
    let err = s.get(&open(), "").unwrap_err();
    assert_eq!(
        (err.kind(), err.message()),
        (ErrorKind::Invalid, "key is required")
    );
    s.set(
        &open(),
        "ttl",
        Value::Int(2),
        Some(Duration::from_millis(1)),
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(5));
    assert!(
        !s.has(&open(), "ttl").unwrap(),
        "expired keys are invisible"
    );

    // An empty scope: every check fails, naming action and resource.
    let denied = with_scope(&policies, &[]);
    let err = stores.store(&denied, "app:data").err().unwrap();
    assert_eq!(err.message(), "not allowed: store.get on app:data");
    let err = stores.store(&denied, "app:nope").err().unwrap();
    assert_eq!(
        err.kind(),
        ErrorKind::PermissionDenied,
        "checked before looking"
    );
    for (what, err) in [
        ("get", s.get(&denied, "k").err()),
        ("set", s.set(&denied, "k", Value::Int(1), None).err()),
        ("has", s.has(&denied, "k").err()),
        ("delete", s.delete(&denied, "k").err()),
    ] {
        let err = err.unwrap();
        assert_eq!(err.kind(), ErrorKind::PermissionDenied);
        assert_eq!(
            err.message(),
            format!("not allowed: store.key.{what} on app:data")
        );
    }
    // A reader may read and nothing else; the key goes to the policy as `meta.key`.
    let reader = with_scope(&policies, &["app:reader"]);
    s.set(&open(), "k", Value::Int(3), None).unwrap();
    assert_eq!(s.get(&reader, "k").unwrap(), Some(Value::Int(3)));
    assert!(s.set(&reader, "k", Value::Int(4), None).is_err());
    policies.insert(policy(
        "app:public",
        "policy: {actions: 'store.key.get', resources: 'app:data', effect: allow, \
         conditions: [{field: meta.key, operator: matches, value: '^public:'}]}",
    ));
    let public = with_scope(&policies, &["app:public"]);
    s.set(&open(), "public:x", Value::Int(5), None).unwrap();
    assert_eq!(s.get(&public, "public:x").unwrap(), Some(Value::Int(5)));
    assert!(s.get(&public, "k").is_err());
}

#[tokio::test]
async fn the_token_api_checks_every_operation_but_the_middleware_view() {
    let (policies, stores) = app().await;
    let ts = tokens(&stores);
    let token = ts
        .create(&open(), &ann(), &Scope::default(), TokenOptions::default())
        .unwrap();
    let denied = with_scope(&policies, &[]);
    let err = stores.token_store(&denied, "app:tokens").err().unwrap();
    assert_eq!(
        err.message(),
        "not allowed: security.token_store.get on app:tokens"
    );
    let err = ts.create(&denied, &ann(), &Scope::default(), TokenOptions::default());
    assert_eq!(
        err.unwrap_err().message(),
        "not allowed: security.token.create on app:tokens"
    );
    let err = ts.validate(&denied, &token).unwrap_err();
    assert_eq!(
        err.message(),
        "not allowed: security.token.validate on app:tokens"
    );
    let err = ts.revoke(&denied, &token).unwrap_err();
    assert_eq!(
        err.message(),
        "not allowed: security.token.revoke on app:tokens"
    );
    assert!(
        ts.validate(&open(), &token).is_ok(),
        "the denied revoke did nothing"
    );
    // create passes the actor id as resource meta.
    policies.insert(policy(
        "app:self",
        "policy: {actions: 'security.token.create', resources: '*', effect: allow, \
         conditions: [{field: meta.actor, operator: eq, value_from: actor.id}]}",
    ));
    let eve = with_scope(&policies, &["app:self"]);
    let own = Actor::new("eve", Map::new());
    assert!(
        ts.create(&eve, &own, &Scope::default(), TokenOptions::default())
            .is_ok()
    );
    assert!(
        ts.create(&eve, &ann(), &Scope::default(), TokenOptions::default())
            .is_err()
    );
    // Kinds are not mixed up, and unknown ids are NotFound.
    let err = stores.store(&open(), "app:tokens").err().unwrap();
    assert_eq!(err.kind(), ErrorKind::Invalid);
    let err = stores.token_store(&open(), "app:data").err().unwrap();
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert_eq!(
        stores
            .token_store_for_middleware("app:nope")
            .err()
            .unwrap()
            .kind(),
        ErrorKind::NotFound
    );
    let err = stores.store(&open(), "app:nope").err().unwrap();
    assert_eq!(
        (err.kind(), err.message()),
        (ErrorKind::NotFound, "store not found: app:nope")
    );
}

#[tokio::test]
async fn bad_fields_are_named_and_a_missing_store_defers_the_entry() {
    let stores = Arc::new(StoreRegistry::new(PolicyRegistry::default()));
    let fail = |kind: &'static str, yaml: &'static str| {
        let stores = stores.clone();
        async move { apply(&stores, "app:x", kind, yaml).await.expect_err(yaml) }
    };
    for (kind, yaml, field, wanted) in [
        (
            "store.memory",
            "max_size: -1",
            "max_size",
            ErrorKind::Invalid,
        ),
        (
            "store.memory",
            "max_size: lots",
            "max_size",
            ErrorKind::Invalid,
        ),
        (
            "store.memory",
            "cleanup_interval: 10ms",
            "cleanup_interval",
            ErrorKind::Invalid,
        ),
        (
            "store.memory",
            "cleanup_interval: soon",
            "cleanup_interval",
            ErrorKind::Invalid,
        ),
        (
            "security.token_store",
            "token_key: k",
            "store",
            ErrorKind::Invalid,
        ),
        (
            "security.token_store",
            "store: later",
            "store",
            ErrorKind::NotFound,
        ),
    ] {
        let err = fail(kind, yaml).await;
        assert_eq!(err.kind(), wanted, "{yaml}: {err}");
        assert_eq!(err.context_chain(), [format!("field {field}")], "{yaml}");
    }
    apply(
        &stores,
        "app:later",
        "store.memory",
        "{cleanup_interval: 0, max_size: 0}",
    )
    .await
    .unwrap();
    for (yaml, field) in [
        ("{store: later, token_length: 8}", "token_length"),
        ("{store: later, token_length: 100000}", "token_length"),
        (
            "{store: later, default_expiration: forever}",
            "default_expiration",
        ),
        (
            "{store: later, token_key: a, token_key_env: B}",
            "token_key_env",
        ),
        ("{store: later, token_key: ''}", "token_key"),
        ("{store: later, token_key: '${env:SECRET}'}", "token_key"),
        (
            "{store: later, token_key_env: WEFT_STORE_TEST_UNSET_VARIABLE}",
            "token_key_env",
        ),
    ] {
        let err = fail("security.token_store", yaml).await;
        assert_eq!(err.kind(), ErrorKind::Invalid, "{yaml}: {err}");
        assert_eq!(err.context_chain(), [format!("field {field}")], "{yaml}");
    }
    // The deferred entry now resolves (a bare name is in the entry's namespace), a
    // key may come from the process environment, and none at all is a random key.
    apply(&stores, "app:x", "security.token_store", "store: later")
        .await
        .unwrap();
    apply(
        &stores,
        "app:y",
        "security.token_store",
        "{store: 'app:later', token_key_env: PATH}",
    )
    .await
    .unwrap();
    // A token store is not a backing store.
    let err = apply(&stores, "app:z", "security.token_store", "store: x")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert!(err.message().contains("not a store"), "{err}");
}

#[tokio::test]
async fn a_check_registers_without_starting_anything() {
    let stores = Arc::new(StoreRegistry::new(PolicyRegistry::default()));
    let handler = StoreHandler::new(&stores);
    assert_eq!(handler.kinds(), ["store.memory", "security.token_store"]);
    handler
        .apply(entry("app:s", "store.memory", "{}"), BootMode::Check)
        .await
        .unwrap();
    handler
        .apply(
            entry("app:t", "security.token_store", "store: s"),
            BootMode::Check,
        )
        .await
        .unwrap();
    assert!(stores.token_store_for_middleware("app:t").is_ok());
    drop(handler);
    drop(stores);
}

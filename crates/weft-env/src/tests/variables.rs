//! Variables: lookup order, public names, defaults, read-only, the caller's checks.

use super::*;

#[test]
fn lookup_order_public_name_then_frame_namespace_then_id() {
    let d = tempfile::tempdir().unwrap();
    let rt = rt(d.path());
    ok(
        &rt,
        "a:st",
        "env.storage.static",
        r#"{"values":{"PORT":"1","a:key":"a-key","b:key":"b-key","key":"public-key","b:secret":"b-secret"}}"#,
    );
    ok(
        &rt,
        "a:port",
        "env.variable",
        r#"{"storage":"a:st","variable":"PORT"}"#,
    );
    // `a:key` and `b:key` have no public name: their keys are their ids.
    ok(&rt, "a:key", "env.variable", r#"{"storage":"a:st"}"#);
    ok(&rt, "b:key", "env.variable", r#"{"storage":"a:st"}"#);
    ok(&rt, "b:secret", "env.variable", r#"{"storage":"a:st"}"#);
    let env = &rt;
    // 1. the public-name index (public names and full ids of unnamed variables).
    assert_eq!(
        env.lookup(&cx(None), "PORT", None).unwrap().as_deref(),
        Some("1")
    );
    assert_eq!(
        env.lookup(&cx(None), "PORT", Some("b")).unwrap().as_deref(),
        Some("1")
    );
    assert_eq!(
        env.lookup(&cx(None), "a:key", Some("b"))
            .unwrap()
            .as_deref(),
        Some("a-key")
    );
    // 2. a bare name in the frame's namespace.
    assert_eq!(
        env.lookup(&cx(None), "key", Some("a")).unwrap().as_deref(),
        Some("a-key")
    );
    assert_eq!(
        env.lookup(&cx(None), "key", Some("b")).unwrap().as_deref(),
        Some("b-key")
    );
    assert_eq!(
        env.lookup(&cx(None), "secret", Some("b"))
            .unwrap()
            .as_deref(),
        Some("b-secret")
    );
    assert_eq!(env.lookup(&cx(None), "secret", Some("a")).unwrap(), None);
    assert_eq!(env.lookup(&cx(None), "key", None).unwrap(), None);
    // 3. the id (a variable with a public name is reachable by its id too).
    assert_eq!(
        env.lookup(&cx(None), "a:port", None).unwrap().as_deref(),
        Some("1")
    );
    assert_eq!(
        env.lookup(&cx(None), "a:port", Some("b"))
            .unwrap()
            .as_deref(),
        Some("1")
    );
    // Unknown: Ok(None) for lookup, NotFound for get/set.
    assert_eq!(env.lookup(&cx(None), "NOPE", Some("a")).unwrap(), None);
    assert_eq!(
        env.get(&cx(None), "NOPE").unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        env.set(&cx(None), "NOPE", "x").unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        env.get(&cx(None), "").unwrap_err().kind(),
        ErrorKind::Invalid
    );
    assert_eq!(
        env.set(&cx(None), "", "x").unwrap_err().kind(),
        ErrorKind::Invalid
    );
}

#[test]
fn the_first_variable_keeps_a_public_name() {
    let d = tempfile::tempdir().unwrap();
    let rt = rt(d.path());
    ok(&rt, "t:m1", "env.storage.memory", "{}");
    ok(&rt, "t:m2", "env.storage.memory", "{}");
    ok(
        &rt,
        "t:first",
        "env.variable",
        r#"{"storage":"m1","variable":"NAME","default":"one"}"#,
    );
    ok(
        &rt,
        "t:second",
        "env.variable",
        r#"{"storage":"m2","variable":"NAME","default":"two"}"#,
    );
    assert_eq!(
        rt.lookup(&cx(None), "NAME", None).unwrap().as_deref(),
        Some("one")
    );
    assert_eq!(
        rt.lookup(&cx(None), "t:second", None).unwrap().as_deref(),
        Some("two")
    );
    // Registering the first again replaces it under its name.
    ok(
        &rt,
        "t:first",
        "env.variable",
        r#"{"storage":"m1","variable":"NAME","default":"uno"}"#,
    );
    assert_eq!(
        rt.lookup(&cx(None), "NAME", None).unwrap().as_deref(),
        Some("uno")
    );
    assert_eq!(
        rt.lookup(&cx(None), "t:first", None).unwrap().as_deref(),
        Some("uno")
    );
}

#[test]
fn defaults_apply_when_unset_or_empty() {
    let d = tempfile::tempdir().unwrap();
    let rt = rt(d.path());
    ok(&rt, "t:mem", "env.storage.memory", "{}");
    ok(
        &rt,
        "t:port",
        "env.variable",
        r#"{"storage":"mem","variable":"PORT","default":8080}"#,
    );
    ok(
        &rt,
        "t:host",
        "env.variable",
        r#"{"storage":"mem","variable":"HOST","default":""}"#,
    );
    ok(
        &rt,
        "t:none",
        "env.variable",
        r#"{"storage":"mem","variable":"NONE","default":null}"#,
    );
    let env = &rt;
    assert_eq!(
        env.lookup(&cx(None), "PORT", None).unwrap().as_deref(),
        Some("8080")
    );
    assert_eq!(env.get(&cx(None), "PORT").unwrap().as_deref(), Some("8080"));
    env.set(&cx(None), "PORT", "").unwrap();
    assert_eq!(
        env.lookup(&cx(None), "PORT", None).unwrap().as_deref(),
        Some("8080")
    );
    env.set(&cx(None), "PORT", "9090").unwrap();
    assert_eq!(
        env.lookup(&cx(None), "PORT", None).unwrap().as_deref(),
        Some("9090")
    );
    // An empty value with an empty (or no) default is unset.
    assert_eq!(env.lookup(&cx(None), "HOST", None).unwrap(), None);
    env.set(&cx(None), "NONE", "").unwrap();
    assert_eq!(env.get(&cx(None), "NONE").unwrap(), None);
    let v = env.variable("PORT", None).unwrap();
    assert_eq!(
        (v.id.as_str(), v.key.as_str(), v.default.as_deref()),
        ("t:port", "PORT", Some("8080"))
    );
}

#[test]
fn readonly_variables_refuse_writes_naming_the_variable() {
    let d = tempfile::tempdir().unwrap();
    let rt = rt(d.path());
    ok(&rt, "t:mem", "env.storage.memory", "{}");
    ok(
        &rt,
        "t:key",
        "env.variable",
        r#"{"storage":"mem","variable":"KEY","readonly":true,"default":"d"}"#,
    );
    let e = rt.set(&cx(None), "KEY", "x").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    assert_eq!(e.to_string(), "env variable KEY is read-only");
    assert!(rt.variable("KEY", None).unwrap().readonly);
    // Nothing was written.
    assert_eq!(rt.storage("t:mem").unwrap().get("KEY").unwrap(), None);
    assert_eq!(rt.get(&cx(None), "KEY").unwrap().as_deref(), Some("d"));

    ok(&rt, "t:st", "env.storage.static", r#"{"values":{"S":"v"}}"#);
    ok(
        &rt,
        "t:s",
        "env.variable",
        r#"{"storage":"st","variable":"S"}"#,
    );
    let e = rt.set(&cx(None), "S", "x").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    assert_eq!(
        e.to_string(),
        "cannot set env variable S: env storage t:st is read-only"
    );
}

#[test]
fn get_and_set_check_the_caller_before_touching_anything() {
    use weft_core::{Actor, Map, Scope};
    let d = tempfile::tempdir().unwrap();
    let rt = rt(d.path());
    ok(&rt, "t:mem", "env.storage.memory", "{}");
    ok(
        &rt,
        "t:v",
        "env.variable",
        r#"{"storage":"t:mem","variable":"TOKEN"}"#,
    );
    rt.set(&cx(None), "TOKEN", "secret").unwrap();
    let denied = cx(None)
        .with_actor(Some(Actor::new("eve", Map::new())))
        .with_scope(Some(Scope::default()));
    let e = rt.get(&denied, "TOKEN").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    assert_eq!(e.message(), "not allowed: env.get on TOKEN");
    let e = rt.set(&denied, "TOKEN", "stolen").unwrap_err();
    assert_eq!(e.message(), "not allowed: env.set on TOKEN");
    // A mapping read for a denied caller finds the variable absent.
    assert_eq!(rt.lookup(&denied, "TOKEN", None).unwrap(), None);
    assert_eq!(
        rt.lookup(&cx(None), "TOKEN", None).unwrap().as_deref(),
        Some("secret")
    );
    // Unknown names are denied too: a denied caller learns nothing.
    let e = rt.get(&denied, "NOPE").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    assert_eq!(
        rt.get(&cx(None), "TOKEN").unwrap().as_deref(),
        Some("secret")
    );
}

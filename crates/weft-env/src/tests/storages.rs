//! The storage kinds: memory, os, static and router, references between them, the handler.

use super::*;

#[test]
fn memory_storage_round_trips() {
    let d = tempfile::tempdir().unwrap();
    let rt = rt(d.path());
    ok(&rt, "t:mem", "env.storage.memory", "{}");
    ok(
        &rt,
        "t:v",
        "env.variable",
        r#"{"storage":"t:mem","variable":"APP_MODE"}"#,
    );
    assert_eq!(rt.get(&cx(None), "APP_MODE").unwrap(), None);
    rt.set(&cx(None), "APP_MODE", "prod").unwrap();
    assert_eq!(
        rt.get(&cx(None), "APP_MODE").unwrap().as_deref(),
        Some("prod")
    );
    let mem = rt.storage("t:mem").unwrap();
    assert_eq!(mem.get("APP_MODE").unwrap().as_deref(), Some("prod"));
}

#[test]
fn os_storage_reads_the_process_environment_and_is_read_only() {
    let d = tempfile::tempdir().unwrap();
    let rt = rt(d.path());
    ok(&rt, "t:os", "env.storage.os", "{}");
    ok(
        &rt,
        "t:path",
        "env.variable",
        r#"{"storage":"os","variable":"PATH"}"#,
    );
    ok(&rt, "t:odd", "env.variable", r#"{"storage":"os"}"#);
    let os = rt.storage("t:os").unwrap();
    assert_eq!(os.get("PATH").unwrap(), std::env::var("PATH").ok());
    for key in ["", "A=B", "NUL\0"] {
        assert_eq!(os.get(key).unwrap(), None, "{key:?}");
    }
    assert_eq!(
        rt.lookup(&cx(None), "PATH", None).unwrap(),
        std::env::var("PATH").ok()
    );
    // The key of a variable without `variable` is its id: never an OS name.
    assert_eq!(rt.lookup(&cx(None), "t:odd", None).unwrap(), None);
    let e = rt.set(&cx(None), "PATH", "/x").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    assert!(e.to_string().contains("env variable PATH"), "{e}");
    let e = os.set("PATH", "/x").unwrap_err();
    assert_eq!(e.to_string(), "env storage t:os is read-only");
}

#[test]
fn static_storage_holds_scalars_and_is_read_only() {
    let d = tempfile::tempdir().unwrap();
    let rt = rt(d.path());
    ok(
        &rt,
        "t:st",
        "env.storage.static",
        r#"{"values":{"HOST":"api.example.com","PORT":8080,"DEBUG":true}}"#,
    );
    let st = rt.storage("t:st").unwrap();
    assert_eq!(st.get("HOST").unwrap().as_deref(), Some("api.example.com"));
    assert_eq!(st.get("PORT").unwrap().as_deref(), Some("8080"));
    assert_eq!(st.get("DEBUG").unwrap().as_deref(), Some("true"));
    assert_eq!(st.get("NOPE").unwrap(), None);
    assert_eq!(st.set("HOST", "x").unwrap_err().kind(), ErrorKind::Invalid);
    let (kind, text) = field_error(&rt, "env.storage.static", r#"{"values":{"A":[1]}}"#);
    assert_eq!(kind, ErrorKind::Invalid);
    assert_eq!(
        text,
        "field values.A: must be a string, number or boolean, got array"
    );
}

#[test]
fn router_reads_in_order_and_writes_to_the_first() {
    let d = tempfile::tempdir().unwrap();
    let rt = rt(d.path());
    ok(&rt, "t.env:mem", "env.storage.memory", "{}");
    ok(
        &rt,
        "t.env:st",
        "env.storage.static",
        r#"{"values":{"A":"static-a","B":"static-b","E":""}}"#,
    );
    ok(&rt, "t.env:mem2", "env.storage.memory", "{}");
    ok(
        &rt,
        "t.env:router",
        "env.storage.router",
        r#"{"storages":["mem","t.env:st","mem2"]}"#,
    );
    let router = rt.storage("t.env:router").unwrap();
    let mem = rt.storage("t.env:mem").unwrap();
    let mem2 = rt.storage("t.env:mem2").unwrap();
    mem.set("A", "mem-a").unwrap();
    mem.set("B", "").unwrap();
    mem2.set("E", "mem2-e").unwrap();
    assert_eq!(router.get("A").unwrap().as_deref(), Some("mem-a"));
    // An empty value is passed over: the next storage answers.
    assert_eq!(router.get("B").unwrap().as_deref(), Some("static-b"));
    assert_eq!(router.get("E").unwrap().as_deref(), Some("mem2-e"));
    assert_eq!(router.get("Z").unwrap(), None);
    router.set("Z", "written").unwrap();
    assert_eq!(mem.get("Z").unwrap().as_deref(), Some("written"));
    assert_eq!(mem2.get("Z").unwrap(), None);

    ok(
        &rt,
        "t.env:ro",
        "env.storage.router",
        r#"{"storages":["t.env:st","t.env:mem"]}"#,
    );
    let ro = rt.storage("t.env:ro").unwrap();
    assert_eq!(ro.set("A", "x").unwrap_err().kind(), ErrorKind::Invalid);
}

#[test]
fn missing_storages_defer_and_bad_references_are_rejected() {
    let d = tempfile::tempdir().unwrap();
    let rt = rt(d.path());
    let e = apply(&rt, "t:v", "env.variable", r#"{"storage":"t:later"}"#).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert_eq!(
        e.to_string(),
        "field storage: env storage not found: t:later"
    );
    let e = apply(
        &rt,
        "t:r",
        "env.storage.router",
        r#"{"storages":["later"]}"#,
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert_eq!(
        e.to_string(),
        "field storages[0]: env storage not found: t:later"
    );
    // Once the storage exists, both register.
    ok(&rt, "t:later", "env.storage.memory", "{}");
    ok(&rt, "t:v", "env.variable", r#"{"storage":"t:later"}"#);
    ok(
        &rt,
        "t:r",
        "env.storage.router",
        r#"{"storages":["later"]}"#,
    );

    assert_eq!(
        field_error(&rt, "env.storage.router", r#"{"storages":[]}"#),
        (
            ErrorKind::Invalid,
            "field storages: storages must list at least one storage".into()
        )
    );
    assert_eq!(
        field_error(&rt, "env.storage.router", "{}"),
        (
            ErrorKind::Invalid,
            "field storages: storages must list at least one storage".into()
        )
    );
    assert_eq!(
        field_error(&rt, "env.storage.router", r#"{"storages":["x"]}"#),
        (
            ErrorKind::Invalid,
            "field storages[0]: t:x cannot use itself as a storage".into()
        )
    );
    assert_eq!(
        field_error(&rt, "env.variable", "{}"),
        (
            ErrorKind::Invalid,
            "field storage: a storage id is required".into()
        )
    );
    assert_eq!(
        field_error(
            &rt,
            "env.variable",
            r#"{"storage":"t:later","variable":"BAD-NAME"}"#
        ),
        (
            ErrorKind::Invalid,
            "field variable: variable name \"BAD-NAME\" may only have letters, digits and '_'"
                .into()
        )
    );
    assert_eq!(
        field_error(
            &rt,
            "env.variable",
            r#"{"storage":"t:later","default":{"a":1}}"#
        ),
        (
            ErrorKind::Invalid,
            "field default: must be a string, number or boolean, got map".into()
        )
    );
    let (kind, text) = field_error(
        &rt,
        "env.variable",
        r#"{"storage":"t:later","readonly":"yes"}"#,
    );
    assert_eq!(kind, ErrorKind::Invalid);
    assert!(text.starts_with("field readonly: invalid type"), "{text}");
}

#[tokio::test]
async fn the_handler_registers_every_kind() {
    let d = tempfile::tempdir().unwrap();
    let rt = rt(d.path());
    let handler = EnvHandler::new(&rt);
    assert_eq!(handler.kinds(), KINDS);
    handler
        .apply(
            Arc::new(entry("t:mem", "env.storage.memory", "{}")),
            BootMode::Run,
        )
        .await
        .unwrap();
    let e = handler
        .apply(Arc::new(entry("t:x", "env.other", "{}")), BootMode::Run)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    assert!(rt.storage("t:mem").is_some());
    drop(rt);
    let e = handler
        .apply(
            Arc::new(entry("t:m2", "env.storage.memory", "{}")),
            BootMode::Run,
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Internal);
}

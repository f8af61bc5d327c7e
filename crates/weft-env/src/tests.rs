//! The env capability end to end: entries registered through the handler, variables
//! read and written through the registry.

use std::path::Path;
use std::sync::Arc;

use weft_core::{CallContext, EntryId, ErrorKind, Result};
use weft_registry::Entry;

use crate::EnvHandler;
use crate::dotenv::{parse_dotenv, rewrite_dotenv};
use crate::handler::{KINDS, register};
use crate::registry::EnvRegistry;
use crate::storage::EnvStorage;
use crate::storage::FileStorage;
use weft_fs::FileMode;
use weft_registry::KindHandler;

fn rt(dir: &Path) -> Arc<EnvRegistry> {
    Arc::new(EnvRegistry::new(dir.to_path_buf()))
}

/// A caller running an entry of namespace `ns` (or the root).
fn cx(ns: Option<&str>) -> CallContext {
    let root = CallContext::root(false);
    match ns {
        Some(ns) => root.with_entry(EntryId::new(ns, "caller")),
        None => root,
    }
}

fn entry(id: &str, kind: &str, data: &str) -> Entry {
    let mut e = Entry::new(EntryId::parse(id).unwrap(), kind);
    e.data = serde_json::from_str(data).unwrap();
    e
}

fn apply(rt: &EnvRegistry, id: &str, kind: &str, data: &str) -> Result<()> {
    register(rt, &entry(id, kind, data))
}

fn ok(rt: &EnvRegistry, id: &str, kind: &str, data: &str) {
    if let Err(e) = apply(rt, id, kind, data) {
        panic!("{id}: {e}");
    }
}

fn field_error(rt: &EnvRegistry, kind: &str, data: &str) -> (ErrorKind, String) {
    let e = apply(rt, "t:x", kind, data).expect_err("must be rejected");
    (e.kind(), e.to_string())
}

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
fn dotenv_parsing_handles_comments_quotes_and_export() {
    let text = "# a comment\n\n  export A=1\nB = two words # trailing comment\nC=\"quoted # not a comment\\n\\\"x\\\"\"\nD='single $x \\n'\nE=\nF=url#frag\nexportG=3\nnot a line\n=novalue\nA=last wins\nH=\"unterminated\n";
    let v = parse_dotenv(text);
    let get = |k: &str| v.get(k).map(String::as_str);
    assert_eq!(get("A"), Some("last wins"));
    assert_eq!(get("B"), Some("two words"));
    assert_eq!(get("C"), Some("quoted # not a comment\n\"x\""));
    assert_eq!(get("D"), Some("single $x \\n"));
    assert_eq!(get("E"), Some(""));
    assert_eq!(get("F"), Some("url#frag"));
    assert_eq!(get("exportG"), Some("3"));
    assert_eq!(get("H"), Some("\"unterminated"));
    assert_eq!(v.len(), 8, "{v:?}");
}

#[test]
fn rewrite_keeps_export_prefixes_only_where_they_were() {
    let text = "export A=1\nexporter=2\nexport=3\n";
    let text = rewrite_dotenv(text, "A", "x");
    let text = rewrite_dotenv(&text, "exporter", "y");
    let text = rewrite_dotenv(&text, "export", "z");
    assert_eq!(text, "export A=x\nexporter=y\nexport=z\n");
}

#[test]
fn dotenv_values_round_trip_through_rewrite() {
    for value in [
        "plain",
        "",
        "two words",
        "a#b",
        "quote\"s",
        "back\\slash",
        "line\nbreak\ttab\r",
        "'single'",
        "ünïcode",
    ] {
        let text = rewrite_dotenv("", "K", value);
        assert_eq!(
            parse_dotenv(&text).get("K").map(String::as_str),
            Some(value),
            "{text:?}"
        );
    }
}

#[test]
fn file_storage_reads_writes_and_keeps_other_lines() {
    let d = tempfile::tempdir().unwrap();
    let rt = rt(d.path());
    std::fs::create_dir(d.path().join("conf")).unwrap();
    let file = d.path().join("conf/app.env");
    std::fs::write(
        &file,
        "# settings\nexport PORT=80\nNAME='weft app'\nPORT=81\n\nOTHER=1\n",
    )
    .unwrap();
    ok(
        &rt,
        "t:file",
        "env.storage.file",
        r#"{"file_path":"conf/app.env"}"#,
    );
    ok(
        &rt,
        "t:port",
        "env.variable",
        r#"{"storage":"file","variable":"PORT"}"#,
    );
    ok(
        &rt,
        "t:name",
        "env.variable",
        r#"{"storage":"file","variable":"NAME"}"#,
    );
    ok(
        &rt,
        "t:new",
        "env.variable",
        r#"{"storage":"file","variable":"NEW"}"#,
    );
    let env = &rt;
    assert_eq!(env.get(&cx(None), "PORT").unwrap().as_deref(), Some("81"));
    assert_eq!(
        env.get(&cx(None), "NAME").unwrap().as_deref(),
        Some("weft app")
    );
    env.set(&cx(None), "PORT", "8080").unwrap();
    env.set(&cx(None), "NEW", "a value # with hash").unwrap();
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "# settings\nexport PORT=8080\nNAME='weft app'\n\nOTHER=1\nNEW=\"a value # with hash\"\n"
    );
    assert_eq!(env.get(&cx(None), "PORT").unwrap().as_deref(), Some("8080"));
    assert_eq!(
        env.get(&cx(None), "NEW").unwrap().as_deref(),
        Some("a value # with hash")
    );
    // No temporary file is left behind.
    let names: Vec<_> = std::fs::read_dir(d.path().join("conf"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["app.env"]);
    // Changes made to the file by someone else are seen.
    std::fs::write(&file, "PORT=9999 # changed\n").unwrap();
    assert_eq!(env.get(&cx(None), "PORT").unwrap().as_deref(), Some("9999"));
    std::fs::remove_file(&file).unwrap();
    assert_eq!(env.get(&cx(None), "PORT").unwrap(), None);
    // A write recreates it.
    env.set(&cx(None), "PORT", "1").unwrap();
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "PORT=1\n");
    // Keys a .env line cannot hold.
    let storage = rt.storage("t:file").unwrap();
    for key in ["", "A B", "A=B", "#A", "A\nB"] {
        assert_eq!(
            storage.set(key, "v").unwrap_err().kind(),
            ErrorKind::Invalid,
            "{key:?}"
        );
    }
}

#[test]
fn file_storage_writes_replace_the_file_atomically() {
    let d = tempfile::tempdir().unwrap();
    let file = d.path().join("a.env");
    std::fs::write(&file, "A=1\n").unwrap();
    let storage =
        FileStorage::open(EntryId::new("t", "f"), file.clone(), FileMode::new(0o600)).unwrap();
    #[cfg(unix)]
    let inode = {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(&file).unwrap().ino()
    };
    // A reader holding the old file keeps seeing the old contents.
    let old = std::fs::File::open(&file).unwrap();
    storage.set("B", "2").unwrap();
    assert_eq!(std::io::read_to_string(old).unwrap(), "A=1\n");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "A=1\nB=2\n");
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let meta = std::fs::metadata(&file).unwrap();
        assert_ne!(
            meta.ino(),
            inode,
            "the file must be replaced, not edited in place"
        );
        assert_eq!(meta.permissions().mode() & 0o7777, 0o600);
    }
    // A write that cannot replace the target fails and leaves no temporary file.
    let blocked = d.path().join("blocked.env");
    let storage = FileStorage::open(
        EntryId::new("t", "b"),
        blocked.clone(),
        FileMode::new(0o600),
    )
    .unwrap();
    std::fs::create_dir_all(blocked.join("child")).unwrap();
    let e = storage.write_atomically("A=1\n").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Internal);
    assert!(
        e.to_string().starts_with("env storage t:b: cannot write "),
        "{e}"
    );
    let mut names: Vec<_> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["a.env", "blocked.env"]);
}

#[test]
fn file_storage_auto_create_makes_the_file_and_its_directories() {
    let d = tempfile::tempdir().unwrap();
    let rt = rt(d.path());
    ok(
        &rt,
        "t:file",
        "env.storage.file",
        r#"{"file_path":"data/env/.env","auto_create":true,"file_mode":"0600","dir_mode":"0o700"}"#,
    );
    let file = d.path().join("data/env/.env");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(&d.path().join("data/env")), 0o700);
    }
    // An existing file is kept as it is.
    std::fs::write(&file, "K=v\n").unwrap();
    ok(
        &rt,
        "t:again",
        "env.storage.file",
        r#"{"file_path":"data/env/.env","auto_create":true}"#,
    );
    assert_eq!(
        rt.storage("t:again").unwrap().get("K").unwrap().as_deref(),
        Some("v")
    );
    // An absolute path is used as is.
    let abs = d.path().join("abs.env");
    let data = format!(
        r#"{{"file_path":{:?},"auto_create":true,"file_mode":384}}"#,
        abs.display().to_string()
    );
    ok(&rt, "t:abs", "env.storage.file", &data);
    assert!(abs.is_file());
}

#[test]
fn file_storage_validation_names_the_field() {
    let d = tempfile::tempdir().unwrap();
    let rt = rt(d.path());
    std::fs::create_dir(d.path().join("dir")).unwrap();
    let cases = [
        ("{}", "field file_path: file_path is required"),
        (
            r#"{"file_path":"  "}"#,
            "field file_path: file_path is required",
        ),
        (r#"{"file_path":"dir"}"#, "is a directory"),
        (
            r#"{"file_path":"missing.env"}"#,
            "does not exist (set auto_create: true to create it)",
        ),
        (
            r#"{"file_path":"a.env","auto_create":true,"file_mode":"0999"}"#,
            "field file_mode: file_mode must be an octal mode like \"0600\", got \"0999\"",
        ),
        (
            r#"{"file_path":"a.env","auto_create":true,"file_mode":"rw"}"#,
            "field file_mode: ",
        ),
        (
            r#"{"file_path":"a.env","auto_create":true,"file_mode":""}"#,
            "field file_mode: ",
        ),
        (
            r#"{"file_path":"a.env","auto_create":true,"dir_mode":"17777"}"#,
            "field dir_mode: dir_mode must be an octal mode like \"0600\", got 0o17777",
        ),
        (
            r#"{"file_path":"a.env","auto_create":true,"dir_mode":-1}"#,
            "field dir_mode: ",
        ),
        (
            r#"{"file_path":"a.env","auto_create":true,"dir_mode":true}"#,
            "field dir_mode: ",
        ),
        (
            r#"{"file_path":"a.env","auto_create":"yes"}"#,
            "field auto_create: invalid type",
        ),
    ];
    for (data, expected) in cases {
        let (kind, text) = field_error(&rt, "env.storage.file", data);
        assert_eq!(kind, ErrorKind::Invalid, "{data}: {text}");
        assert!(text.contains(expected), "{data}: {text}");
        if !expected.starts_with("field") {
            assert!(text.starts_with("field file_path: "), "{data}: {text}");
        }
    }
    assert!(!d.path().join("a.env").exists());
}

#[tokio::test]
async fn the_handler_registers_every_kind() {
    let d = tempfile::tempdir().unwrap();
    let rt = rt(d.path());
    let handler = EnvHandler::new(&rt);
    assert_eq!(handler.kinds(), KINDS);
    handler
        .apply(Arc::new(entry("t:mem", "env.storage.memory", "{}")))
        .await
        .unwrap();
    let e = handler
        .apply(Arc::new(entry("t:x", "env.other", "{}")))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    assert!(rt.storage("t:mem").is_some());
    drop(rt);
    let e = handler
        .apply(Arc::new(entry("t:m2", "env.storage.memory", "{}")))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Internal);
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

//! Tests of the `load` module.

use super::*;
use crate::testutil::{TestApp, ids};

fn entry<'a>(app: &'a App, id: &str) -> &'a Entry {
    app.entries
        .iter()
        .find(|e| e.id.as_str() == id)
        .unwrap_or_else(|| panic!("no entry {id} in {:?}", ids(app)))
}

fn has(errors: &[String], needle: &str) -> bool {
    errors.iter().any(|e| e.contains(needle))
}

#[test]
fn batch_and_single_forms() {
    let t = TestApp::new();
    t.file(
        "src/_index.yaml",
        "version: \"1.0\"\nnamespace: app\nentries:\n  - name: a\n    kind: function.lua\n    method: run\n    pool: {size: 2}\n  - name: b\n    kind: registry.entry\n    data: {x: 1}\n    ignored: true\n",
    );
    t.file(
        "src/single.yaml",
        "namespace: app.one\nname: s\nkind: http.service\nmeta: {title: T}\nversion: \"1.0\"\nrequirements: []\naddr: \":8080\"\n",
    );
    let app = t.load_ok();
    assert_eq!(ids(&app), ["app.one:s", "app:a", "app:b"]);
    let a = entry(&app, "app:a");
    assert_eq!(a.kind, "function.lua");
    assert_eq!(a.data.get("method").and_then(|v| v.as_str()), Some("run"));
    assert_eq!(a.data.get_path("pool.size"), Some(&Value::Int(2)));
    assert!(a.data.get("name").is_none() && a.data.get("kind").is_none());
    assert_eq!(a.source.file, PathBuf::from("src/_index.yaml"));
    assert_eq!(a.source.line, Some(4));
    let b = entry(&app, "app:b");
    assert_eq!(b.data.as_map().map(|m| m.len()), Some(1));
    assert_eq!(b.data.get("x"), Some(&Value::Int(1)));
    assert_eq!(b.source.line, Some(8));
    let s = entry(&app, "app.one:s");
    assert_eq!(s.meta_str("title"), Some("T"));
    let keys: Vec<&String> = s
        .data
        .as_map()
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    assert_eq!(keys, ["addr"]);
    assert_eq!(s.source.line, Some(2));
}

#[test]
fn file_meta_merges_under_entry_meta() {
    let t = TestApp::new();
    t.file(
        "src/_index.yaml",
        "namespace: app\nmeta: {suite: s1, type: test, nested: {a: 1}}\nentries:\n  - name: a\n    kind: function.lua\n    meta: {suite: s2, nested: {b: 2}}\n  - name: b\n    kind: function.lua\n",
    );
    let app = t.load_ok();
    let a = entry(&app, "app:a");
    assert_eq!(a.meta_str("suite"), Some("s2"));
    assert_eq!(a.meta_str("type"), Some("test"));
    assert_eq!(a.meta_value("nested.b"), Some(&Value::Int(2)));
    assert_eq!(a.meta_value("nested.a"), None, "merge is per top-level key");
    assert_eq!(entry(&app, "app:b").meta_str("suite"), Some("s1"));
}

#[test]
fn file_urls_resolve_against_file_dir_and_load_root() {
    let t = TestApp::new();
    t.file("src/shared/lib.lua", "return 1");
    t.file("src/mod/code.lua", "return 2");
    t.file(
        "src/mod/_index.yaml",
        "namespace: app\nmeta: {doc: \"file://code.lua\"}\nentries:\n  - name: a\n    kind: function.lua\n    source: file://code.lua\n    other: file:///shared/lib.lua\n    up: file://../shared/lib.lua\n    list: [\"file://code.lua\", \"not file://code.lua\"]\n",
    );
    let app = t.load_ok();
    let a = entry(&app, "app:a");
    let s = |k: &str| a.data.get(k).and_then(|v| v.as_str());
    assert_eq!(s("source"), Some("return 2"));
    assert_eq!(s("other"), Some("return 1"));
    assert_eq!(s("up"), Some("return 1"));
    let list = a
        .data
        .get("list")
        .and_then(|v| v.as_array())
        .unwrap_or_default();
    assert_eq!(list[0].as_str(), Some("return 2"));
    assert_eq!(list[1].as_str(), Some("not file://code.lua"));
    assert_eq!(a.meta_str("doc"), Some("return 2"));
}

#[test]
fn bad_file_urls_are_reported() {
    let t = TestApp::new();
    t.file("secret.txt", "no");
    t.file(
        "src/_index.yaml",
        "namespace: app\nentries:\n  - name: missing\n    kind: function.lua\n    source: file://nope.lua\n  - name: escape\n    kind: function.lua\n    source: file://../secret.txt\n  - name: escape_root\n    kind: function.lua\n    source: file:///../secret.txt\n  - name: empty\n    kind: function.lua\n    source: \"file://\"\n  - name: fine\n    kind: function.lua\n",
    );
    let errors = t.load_err();
    assert_eq!(errors.len(), 4, "{errors:#?}");
    assert!(
        has(
            &errors,
            "src/_index.yaml:3: entry app:missing (function.lua): field source: file not found: src/nope.lua"
        ),
        "{errors:#?}"
    );
    assert!(has(
        &errors,
        "entry app:escape (function.lua): field source: path traversal detected in file path: ../secret.txt"
    ));
    assert!(has(
        &errors,
        "entry app:escape_root (function.lua): field source: path traversal detected in file path: /../secret.txt"
    ));
    assert!(has(
        &errors,
        "entry app:empty (function.lua): field source: empty file path in file:// URL"
    ));
}

#[test]
fn malformed_yaml_reports_file_line_and_column() {
    let t = TestApp::new();
    t.file(
        "src/bad.yaml",
        "namespace: app\nentries:\n  - name: a\n    kind: [unclosed\n",
    );
    let errors = t.load_err();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].starts_with("src/bad.yaml:5:"), "{errors:#?}");
    assert!(errors[0].contains("invalid YAML"), "{errors:#?}");
    let t = TestApp::new();
    t.file(
        "src/bad.json",
        "{\"namespace\": \"app\",\n \"entries\": [}\n",
    );
    let errors = t.load_err();
    assert!(errors[0].starts_with("src/bad.json:2:"), "{errors:#?}");
}

#[test]
fn missing_namespace_name_and_kind() {
    let t = TestApp::new();
    t.file("src/a.yaml", "entries:\n  - name: a\n    kind: k\n");
    t.file("src/b.yaml", "name: a\nkind: k\n");
    t.file(
        "src/c.yaml",
        "namespace: app\nentries:\n  - kind: k\n  - name: y\n  - name: \"  \"\n    kind: k\n",
    );
    t.file("src/d.yaml", "namespace: app\nfoo: bar\n");
    t.file("src/e.yaml", "namespace: app\nentries: {a: 1}\n");
    t.file("src/f.yaml", "namespace: \" \"\nentries: []\n");
    let errors = t.load_err();
    assert_eq!(
        errors,
        [
            "src/a.yaml: missing namespace",
            "src/b.yaml: missing namespace",
            "src/c.yaml:3: entry #1: missing name",
            "src/c.yaml:4: entry app:y: missing kind",
            "src/c.yaml:5: entry #3: missing name",
            "src/d.yaml: either entries array or single entry (name/kind) must be provided",
            "src/e.yaml: entries must be a list, found map",
            "src/f.yaml: missing namespace",
        ]
    );
}

#[test]
fn non_wippy_files_are_skipped_silently() {
    let t = TestApp::new();
    t.file("src/openapi.yaml", "openapi: 3.0.0\ninfo: {title: x}\n");
    t.file("src/package.json", "{\"name\": \"x\", \"version\": \"1\"}");
    t.file("src/blank.yaml", "namespace: \"   \"\nfoo: 1\n");
    t.file("src/empty.yaml", "");
    t.file("src/list.yaml", "- 1\n- 2\n");
    t.file(
        "src/node_modules/x/_index.yaml",
        "namespace: nm\nname: a\nkind: k\n",
    );
    t.file(
        "src/.hidden/_index.yaml",
        "namespace: hid\nname: a\nkind: k\n",
    );
    t.file("src/notes.txt", "namespace: txt\nname: a\nkind: k\n");
    t.file("src/ok.yml", "namespace: app\nname: a\nkind: k\n");
    let app = t.load_ok();
    assert_eq!(ids(&app), ["app:a"]);
}

#[test]
fn walk_is_lexical_and_last_duplicate_wins() {
    let t = TestApp::new();
    t.file(
        "src/b/_index.yaml",
        "namespace: app\nname: x\nkind: k\nfrom: b\n",
    );
    t.file("src/a.yaml", "namespace: app\nname: x\nkind: k\nfrom: a\n");
    t.file("src/c.yaml", "namespace: app\nname: x\nkind: k\nfrom: c\n");
    t.file(
        "src/b.yaml",
        "namespace: app\nname: x\nkind: k\nfrom: b.yaml\n",
    );
    let app = t.load_ok();
    assert_eq!(app.entries.len(), 1);
    assert_eq!(
        app.entries[0].data.get("from").and_then(|v| v.as_str()),
        Some("c")
    );
    // Go's lexical walk: "b" sorts before "b.yaml", so b/ is walked first.
    assert_eq!(
        app.warnings,
        [
            "duplicate entry app:x in src/b/_index.yaml (first in src/a.yaml); the last definition wins",
            "duplicate entry app:x in src/b.yaml (first in src/a.yaml); the last definition wins",
            "duplicate entry app:x in src/c.yaml (first in src/a.yaml); the last definition wins",
        ]
    );
}

#[test]
fn config_errors_are_reported_with_file_errors() {
    let t = TestApp::new();
    t.file(".wippy.yaml", "version: \"2\"\n");
    t.file("src/a.yaml", "namespace: app\nentries:\n  - name: a\n");
    let errors = t.load_err();
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(has(&errors, ".wippy.yaml: unsupported config version: 2"));
    assert!(has(&errors, "src/a.yaml:3: entry app:a: missing kind"));

    let t = TestApp::new();
    t.file(".wippy.yaml", "security: {strict_mode: true}\n");
    assert!(has(&t.load_err(), ".wippy.yaml: missing version field"));

    let t = TestApp::new();
    let mut opts = t.options();
    opts.config_file = Some(t.root().join("nope.yaml"));
    let errors = load_app(&opts).unwrap_err().to_string();
    assert!(errors.contains("cannot read config file"), "{errors}");
}

#[test]
fn config_is_read_and_custom_config_file_is_not_an_entry_file() {
    let t = TestApp::new();
    t.file(
        "weft.yaml",
        "version: \"1.0\"\nsecurity: {strict_mode: true}\n",
    );
    t.file("app.yaml", "namespace: app\nname: a\nkind: k\n");
    let mut opts = t.options();
    opts.config_file = Some(t.root().join("weft.yaml"));
    let app = load_app(&opts).unwrap_or_else(|e| panic!("{e}"));
    assert!(app.config.bool_or("security.strict_mode", false));
    assert_eq!(ids(&app), ["app:a"]);
}

#[test]
fn lock_sets_src_and_replacements_tag_module() {
    let t = TestApp::new();
    t.file(
        "wippy.lock",
        "directories: {modules: .wippy, src: ./app}\nreplacements:\n  - from: wippy/fixture\n    to: ./modules/fixture\n  - from: wippy/flat\n    to: ./flat\n",
    );
    t.file("app/_index.yaml", "namespace: app\nname: a\nkind: k\n");
    t.file(
        "src/_index.yaml",
        "namespace: not_loaded\nname: a\nkind: k\n",
    );
    t.file(
        "modules/fixture/src/_index.yaml",
        "namespace: fx\nname: f\nkind: k\n",
    );
    t.file(
        "modules/fixture/other.yaml",
        "namespace: fx_root\nname: f\nkind: k\n",
    );
    t.file(
        "flat/_index.yaml",
        "namespace: flat\nname: f\nkind: k\nmeta: {module: wrong}\n",
    );
    let app = t.load_ok();
    assert_eq!(ids(&app), ["app:a", "flat:f", "fx:f"]);
    assert_eq!(
        entry(&app, "fx:f").meta_str("module"),
        Some("wippy/fixture")
    );
    assert_eq!(entry(&app, "flat:f").meta_str("module"), Some("wippy/flat"));
    assert_eq!(entry(&app, "app:a").meta_str("module"), None);
    assert_eq!(
        entry(&app, "fx:f").source.file,
        PathBuf::from("modules/fixture/src/_index.yaml")
    );
}

#[test]
fn lock_without_src_walks_the_root_but_not_replacements_twice() {
    let t = TestApp::new();
    t.file(
        "wippy.lock",
        "replacements:\n  - {from: m/x, to: ./mods/x}\n",
    );
    t.file("_index.yaml", "namespace: app\nname: a\nkind: k\n");
    t.file("mods/x/_index.yaml", "namespace: x\nname: b\nkind: k\n");
    let app = t.load_ok();
    assert_eq!(ids(&app), ["app:a", "x:b"]);
    assert!(app.warnings.is_empty(), "{:?}", app.warnings);
    assert_eq!(entry(&app, "x:b").meta_str("module"), Some("m/x"));
}

#[test]
fn bad_lock_is_reported() {
    let t = TestApp::new();
    t.file(
        "wippy.lock",
        "directories: {src: ./nope}\nreplacements:\n  - {from: m/x}\n",
    );
    let errors = t.load_err();
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(has(
        &errors,
        "wippy.lock: directories.src: source directory ./nope not found"
    ));
    assert!(has(&errors, "wippy.lock: replacements[0]"));
}

#[test]
fn without_lock_src_is_preferred_then_root() {
    let t = TestApp::new();
    t.file("root.yaml", "namespace: root\nname: a\nkind: k\n");
    assert_eq!(ids(&t.load_ok()), ["root:a"]);
    t.file("src/_index.yaml", "namespace: src\nname: a\nkind: k\n");
    assert_eq!(ids(&t.load_ok()), ["src:a"]);
}

#[test]
fn overrides_from_config_and_cli() {
    let t = TestApp::new();
    t.file(
        ".wippy.yaml",
        "version: \"1.0\"\noverride:\n  \"app:a:pool.size\": \"4\"\n  \"app:a:kind\": function.wasm\n  \"app:a:meta.command.name\": go\n  \"app:a:ratio\": 0.5\n",
    );
    t.file(
        "src/_index.yaml",
        "namespace: app\nentries:\n  - name: a\n    kind: function.lua\n    pool: {size: 1}\n    flag: false\n",
    );
    let mut opts = t.options();
    opts.overrides = vec![
        "app:a:pool.size=8".into(),
        "app:a:flag=true".into(),
        "app:a:name_text=hello world".into(),
        "app:a:meta.order=2.5".into(),
    ];
    let app = load_app(&opts).unwrap_or_else(|e| panic!("{e}"));
    let a = entry(&app, "app:a");
    assert_eq!(a.kind, "function.wasm");
    assert_eq!(a.data.get_path("pool.size"), Some(&Value::Int(8)));
    assert_eq!(a.data.get("flag"), Some(&Value::Bool(true)));
    assert_eq!(a.data.get("ratio"), Some(&Value::Float(0.5)));
    assert_eq!(
        a.data.get("name_text").and_then(|v| v.as_str()),
        Some("hello world")
    );
    assert_eq!(a.meta_str("command.name"), Some("go"));
    assert_eq!(a.meta_value("order"), Some(&Value::Float(2.5)));
}

#[test]
fn bad_overrides_are_errors() {
    let t = TestApp::new();
    t.file(
        "src/_index.yaml",
        "namespace: app\nname: a\nkind: k\ntext: s\n",
    );
    let mut opts = t.options();
    opts.overrides = vec![
        "app:nope:x=1".into(),
        "app:a:x".into(),
        "app:a=1".into(),
        "app:a:text.inner=1".into(),
    ];
    let errors: Vec<String> = match load_app(&opts) {
        Ok(_) => panic!("overrides should fail"),
        Err(e) => e.0.iter().map(|e| e.to_string()).collect(),
    };
    assert_eq!(
        errors,
        [
            "override app:a:x: expected ns:entry:path=value",
            "override app:a: expected ns:entry:path (all three parts non-empty)",
            "override app:nope:x: entry app:nope not found",
            "override app:a:text.inner: cannot set text.inner: text is a string, not a mapping",
        ]
    );
}

#[test]
fn entries_come_in_dependency_order() {
    let t = TestApp::new();
    t.file(
        "src/_index.yaml",
        "namespace: app\nentries:\n  - name: endpoint\n    kind: http.endpoint\n    meta: {router: router}\n    func: handler\n  - name: router\n    kind: http.router\n    meta: {server: server}\n  - name: server\n    kind: http.service\n  - name: handler\n    kind: function.lua\n    imports: {lib: other:lib}\n",
    );
    t.file(
        "src/other.yaml",
        "namespace: other\nname: lib\nkind: library.lua\n",
    );
    let app = t.load_ok();
    assert_eq!(
        ids(&app),
        [
            "app:server",
            "other:lib",
            "app:handler",
            "app:router",
            "app:endpoint"
        ]
    );
}

#[test]
fn many_problems_are_reported_together() {
    let t = TestApp::new();
    t.file(".wippy.yaml", "version: \"1.0\"\nsecurity: nope\n");
    t.file("src/a.yaml", "namespace: app\nentries: [\n");
    t.file("src/b.yaml", "entries: []\n");
    t.file(
        "src/c.yaml",
        "namespace: app\nentries:\n  - name: c\n    kind: k\n    source: file://gone.lua\n",
    );
    t.file("src/d.yaml", "namespace: app\nname: d\nkind: k\n");
    let errors = t.load_err();
    assert_eq!(errors.len(), 4, "{errors:#?}");
    assert!(errors[0].starts_with(".wippy.yaml: config section security"));
    assert!(errors[1].starts_with("src/a.yaml:"));
    assert_eq!(errors[2], "src/b.yaml: missing namespace");
    assert!(errors[3].starts_with("src/c.yaml:3: entry app:c (k): field source: file not found"));
}

#[test]
fn a_thousand_entries_across_fifty_files() {
    let t = TestApp::new();
    for f in 0..50 {
        let mut text = format!("namespace: ns{f:02}\nentries:\n");
        for e in 0..20 {
            let n = f * 20 + e;
            text.push_str(&format!(
                "  - name: e{e:02}\n    kind: function.lua\n    source: return {n}\n"
            ));
            if f > 0 {
                text.push_str(&format!(
                    "    imports: {{prev: \"ns{:02}:e{e:02}\"}}\n",
                    f - 1
                ));
            }
        }
        t.file(&format!("src/f{f:02}/_index.yaml"), &text);
    }
    let app = t.load_ok();
    assert_eq!(app.entries.len(), 1000);
    let pos: std::collections::HashMap<&str, usize> = app
        .entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.id.as_str(), i))
        .collect();
    for e in &app.entries {
        for dep in crate::order::dependencies(e) {
            assert!(
                pos[dep.as_str()] < pos[e.id.as_str()],
                "{dep} after {}",
                e.id
            );
        }
    }
    assert!(app.entries.iter().all(|e| e.source.line.is_some()));
    assert_eq!(app.entries[0].id.as_str(), "ns00:e00");
    assert_eq!(app.entries[999].id.as_str(), "ns49:e19");
}

#[test]
fn walk_order_is_lexical_with_dirs_interleaved() {
    let t = TestApp::new();
    for rel in [
        "src/b.yaml",
        "src/a/z.yml",
        "src/a.json",
        "src/c/d/e.yaml",
        "src/B.yaml",
    ] {
        t.file(rel, "");
    }
    let mut out = Vec::new();
    walk_dir(
        &t.root().join("src"),
        &[],
        Path::new("/nonexistent"),
        &mut out,
    );
    let rel: Vec<String> = out
        .iter()
        .filter_map(|p| p.strip_prefix(t.root()).ok())
        .map(|p| p.display().to_string())
        .collect();
    // Names sort bytewise, as Go's fs.WalkDir does: "a" < "a.json".
    assert_eq!(
        rel,
        [
            "src/B.yaml",
            "src/a/z.yml",
            "src/a.json",
            "src/b.yaml",
            "src/c/d/e.yaml"
        ]
    );
}

#[test]
fn definition_files_are_those_the_load_reads() {
    let t = TestApp::new();
    t.file(
        "wippy.lock",
        "directories: {src: ./app}\nreplacements:\n  - {from: m/x, to: ./mods/x}\n",
    );
    t.file("app/_index.yaml", "namespace: app\nentries: []\n")
        .file("app/sub/more.yml", "namespace: app.sub\nentries: []\n")
        .file("app/.hidden/skip.yaml", "namespace: no\n")
        .file("app/node_modules/skip.json", "{}\n")
        .file("app/notes.txt", "not a definition file\n")
        .file("mods/x/src/_index.yaml", "namespace: x\nentries: []\n");
    let files = definition_files(&t.options());
    let shown: Vec<_> = files.iter().map(|f| f.shown.clone()).collect();
    assert_eq!(
        shown,
        [
            PathBuf::from("app/_index.yaml"),
            PathBuf::from("app/sub/more.yml"),
            PathBuf::from("mods/x/src/_index.yaml"),
        ]
    );
    let root = absolute_clean(t.root());
    assert_eq!(files[1].path, root.join("app/sub/more.yml"));
    assert_eq!(files[1].load_root, root.join("app"));
    assert_eq!(files[2].load_root, root.join("mods/x/src"));
}

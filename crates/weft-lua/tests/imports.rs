//! `library.lua` imports at boot: a cycle is rejected naming it, in order, on every
//! member (and on an entry importing a member); a diamond is no cycle.

mod common;

use common::{app, boot_dir};
use weft_core::Value;

/// Boots an app whose `src/_index.yaml` is `index`; the boot's problems, one per line.
async fn boot_errors(index: &str) -> Vec<String> {
    let dir = app(&[("src/_index.yaml", index)]);
    match boot_dir(dir.path()).await {
        Err(e) => e.iter().map(|e| e.to_string()).collect(),
        Ok(_) => panic!("boot should fail"),
    }
}

#[tokio::test]
async fn an_import_cycle_is_named_in_order_on_each_member() {
    let index = r#"namespace: app
entries:
  - name: f
    kind: function.lua
    source: "return {run = function() return a.x end}"
    method: run
    imports: {a: app:a}
  - name: a
    kind: library.lua
    source: "return {x = b.x}"
    imports: {b: app:b}
  - name: b
    kind: library.lua
    source: "return {x = c.x}"
    imports: {c: app:c}
  - name: c
    kind: library.lua
    source: "return {x = 1}"
    imports: {a: app:a}
"#;
    let errors = boot_errors(index).await;
    assert_eq!(
        errors,
        [
            "src/_index.yaml:16: entry app:c (library.lua): field imports.a: \
             library import cycle: app:c -> app:a -> app:b -> app:c",
            "src/_index.yaml:3: entry app:f (function.lua): field imports.a: \
             imports app:a, which leads into the library import cycle app:a -> app:b -> app:c -> app:a",
            "src/_index.yaml:8: entry app:a (library.lua): field imports.b: \
             library import cycle: app:a -> app:b -> app:c -> app:a",
            "src/_index.yaml:12: entry app:b (library.lua): field imports.c: \
             library import cycle: app:b -> app:c -> app:a -> app:b",
        ],
        "{errors:#?}"
    );
}

#[tokio::test]
async fn a_library_importing_itself_is_a_cycle() {
    let index = "namespace: app\nentries:\n  - name: a\n    kind: library.lua\n    source: \"return 1\"\n    imports: {me: a}\n";
    assert_eq!(
        boot_errors(index).await,
        [
            "src/_index.yaml:3: entry app:a (library.lua): field imports.me: \
          library import cycle: app:a -> app:a"
        ]
    );
}

#[tokio::test]
async fn a_diamond_is_no_cycle() {
    // Listed so that every library is applied before what it imports.
    let index = r#"namespace: app
entries:
  - name: f
    kind: function.lua
    source: "return {run = function() return top.sum() end}"
    method: run
    imports: {top: app:a}
  - name: a
    kind: library.lua
    source: "return {sum = function() return left.v() + right.v() end}"
    imports: {left: app:b, right: app:c}
  - name: b
    kind: library.lua
    source: "return {v = function() return base.n end}"
    imports: {base: app:d}
  - name: c
    kind: library.lua
    source: "return {v = function() return base.n * 10 end}"
    imports: {base: app:d}
  - name: d
    kind: library.lua
    source: "return {n = 4}"
"#;
    let dir = app(&[("src/_index.yaml", index)]);
    let rt = boot_dir(dir.path())
        .await
        .unwrap_or_else(|e| panic!("boot failed:\n{e}"));
    let v = rt
        .functions
        .call(&rt.root_context(), "app:f", vec![])
        .await
        .unwrap();
    assert_eq!(v, Value::Int(44));
}

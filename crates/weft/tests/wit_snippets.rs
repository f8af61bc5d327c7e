//! `wit:` snippets of core modules with named types (enum, type alias, record, flags,
//! variant defined before the functions): the committed WAT guest
//! `guests/wat/pixel_core.wat` with its signature `pixel_core.wit`, called from Lua with
//! `funcs.call`; and a bad snippet failing the boot with entry, field and place.

use std::path::{Path, PathBuf};

use weft_core::Value;

mod common;

/// `guests/wat`, where the WAT guests and their signatures are.
fn wat_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../guests/wat")
        .canonicalize()
        .expect("guests/wat")
}

/// A temp app whose `src/_index.yaml` is `index`, with the pixel guest next to it.
fn app_dir(index: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("_index.yaml"), index).unwrap();
    for file in ["pixel_core.wat", "pixel_core.wit"] {
        std::fs::copy(wat_dir().join(file), src.join(file)).unwrap();
    }
    dir
}

/// A `function.wat` entry for a function of the pixel guest, with its committed signature.
fn pixel_entry(method: &str) -> String {
    format!(
        "  - name: {method}\n    kind: function.wat\n    source: file://pixel_core.wat\n    wit: file://pixel_core.wit\n    method: {method}\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn named_types_cross_both_ways_from_lua() {
    let mut index = String::from("namespace: t\nentries:\n");
    for method in ["shift", "next", "invert", "area"] {
        index.push_str(&pixel_entry(method));
    }
    index.push_str(
        r#"  - name: lua
    kind: function.lua
    method: run
    modules: [funcs]
    source: |
      return {run = function()
        local p = funcs.call("t:shift", {x = 1, y = 2, color = "blue"}, 10)
        local by_index = funcs.call("t:shift", {x = 0, y = 0, color = 1}, 0)
        local _, bad = funcs.call("t:shift", {x = 1, y = 2, color = "pink"}, 0)
        return {
          x = p.x, y = p.y, color = p.color, by_index = by_index.color,
          bad = tostring(bad),
          next = funcs.call("t:next", "green"),
          perms = funcs.call("t:invert", {"read"}),
          circle = funcs.call("t:area", {circle = 2}),
          square = funcs.call("t:area", {square = 5}),
          none = funcs.call("t:area", {none = true}),
        }
      end}
"#,
    );
    let dir = app_dir(&index);
    let rt = common::boot_dir(dir.path())
        .await
        .unwrap_or_else(|e| panic!("boot failed:\n{e}"));
    let v = rt
        .functions
        .call(&rt.root_context(), "t:lua", vec![])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let get = |k: &str| {
        v.get(k)
            .cloned()
            .unwrap_or_else(|| panic!("no {k} in {v:?}"))
    };
    assert_eq!(get("x"), Value::Int(11));
    assert_eq!(get("y"), Value::Int(2));
    assert_eq!(get("color"), Value::str("red"));
    assert_eq!(get("by_index"), Value::str("blue"));
    let bad = get("bad");
    let bad = bad.as_str().unwrap_or_default();
    assert!(bad.contains("unknown enum case \"pink\""), "{bad}");
    assert_eq!(get("next"), Value::str("blue"));
    assert_eq!(
        get("perms"),
        Value::array(vec![Value::str("write"), Value::str("exec")])
    );
    assert_eq!(get("circle"), Value::Int(12));
    assert_eq!(get("square"), Value::Int(25));
    assert_eq!(get("none"), Value::Int(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_snippet_fails_the_boot_naming_entry_field_and_place() {
    let index = "namespace: t\nentries:\n  - name: bad\n    kind: function.wat\n    source: file://pixel_core.wat\n    method: shift\n    wit: |\n      record pixel { x: s32, y: s32 }\n      shift: func(p: pixell, dx: s32) -> pixel;\n";
    let dir = app_dir(index);
    let err = common::boot_dir(dir.path())
        .await
        .err()
        .expect("boot must fail");
    assert_eq!(
        err,
        "src/_index.yaml:3: entry t:bad (function.wat): field wit: \
         invalid wit signature at line 2, column 16: name `pixell` does not exist"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_method_missing_from_the_snippet_is_named_with_what_it_defines() {
    let index = format!(
        "namespace: t\nentries:\n{}",
        pixel_entry("shift").replace("method: shift", "method: move")
    );
    let dir = app_dir(&index);
    let err = common::boot_dir(dir.path())
        .await
        .err()
        .expect("boot must fail");
    assert!(
        err.ends_with(
            "entry t:shift (function.wat): field wit: method \"move\" has no signature in wit \
             (it defines shift, next, invert, area)"
        ),
        "{err}"
    );
}

//! The JavaScript guest (`guests/js`, componentize-js with SpiderMonkey inside, ~12 MB):
//! the committed component loads, exports what `guests/js/wit/world.wit` declares, and
//! behaves as `guests/js/src/guest.js` says, in both instance modes. This is the check
//! that the built `.wasm` matches its source beyond the manifest's hashes: componentize-js
//! does not build byte-for-byte, so `guests/build.sh --check` cannot compare bytes.

mod common;

use common::{boot_app_dir, write_app};
use sha2::{Digest, Sha256};
use weft_core::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_js_component_runs_fresh_and_warm() {
    let wasm = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../guests/dist/js.wasm");
    let hash = hex::encode(Sha256::digest(std::fs::read(&wasm).unwrap()));
    let dist = wasm.parent().unwrap().canonicalize().unwrap();
    let mut index = format!(
        "namespace: t\nentries:\n  - {{name: guests, kind: fs.directory, directory: {}}}\n",
        dist.display()
    );
    for (name, method, pool) in [
        ("add", "add", "{type: inline}"),
        ("users", "echo-users", "{type: inline}"),
        ("calls", "calls", "{type: inline}"),
        ("calls_warm", "calls", "{type: inline, instance: warm}"),
    ] {
        index.push_str(&format!(
            "  - {{name: {name}, kind: function.wasm, fs: t:guests, path: /js.wasm, hash: \"sha256:{hash}\", method: {method}, pool: {pool}}}\n"
        ));
    }
    let dir = write_app(&[("src/_index.yaml", &index)]);
    let booted = boot_app_dir(dir.path())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let rt = &booted.runtime;
    let cx = rt.root_context();
    let call = |id: &'static str, args: Vec<Value>| {
        let cx = cx.clone();
        async move { rt.functions.call(&cx, id, args).await.unwrap() }
    };

    assert_eq!(
        call("t:add", vec![Value::Int(2), Value::Int(40)]).await,
        Value::Int(42)
    );
    // JS `(a + b) | 0` wraps as s32 arithmetic does.
    assert_eq!(
        call("t:add", vec![Value::Int(i32::MAX.into()), Value::Int(1)]).await,
        Value::Int(i32::MIN.into())
    );

    let user = |name: &str, email: Option<&str>| {
        let mut pairs = vec![
            ("name", Value::str(name)),
            ("age", Value::Int(36)),
            ("tags", Value::array(vec![Value::str("a"), Value::str("b")])),
        ];
        if let Some(email) = email {
            pairs.push(("email", Value::str(email)));
        }
        Value::from_pairs(pairs)
    };
    let users = Value::array(vec![
        user("Ada", Some("ada@example.com")),
        user("Bob", None),
    ]);
    // A `none` field lifts to a nil map value (as for every component).
    let bob = Value::from_pairs([
        ("name", Value::str("Bob")),
        ("age", Value::Int(36)),
        ("tags", Value::array(vec![Value::str("a"), Value::str("b")])),
        ("email", Value::Nil),
    ]);
    let back = Value::array(vec![user("Ada", Some("ada@example.com")), bob]);
    assert_eq!(call("t:users", vec![users]).await, back);

    // A fresh instance per call never remembers; a warm one does.
    for _ in 0..3 {
        assert_eq!(call("t:calls", vec![]).await, Value::Int(1));
    }
    for n in 1..=3 {
        assert_eq!(call("t:calls_warm", vec![]).await, Value::Int(n));
    }
}

//! Large values cross the WASM boundary both ways.
//!
//! A byte-shaped method (one `string` or `list<u8>` in, at most one out) goes through
//! wasmtime's typed API: strings and byte lists up to the entry's memory limit pass, and
//! the host holds the data about twice (the caller's value and the result), never once
//! per byte in dynamic values. Any other signature takes the dynamic path, where a byte
//! list may hold an eighth of the memory limit (its per-element cost in wasmtime's
//! dynamic values). Past either bound: an error naming `limits.max_memory_mb`, never
//! wasmtime's internal "hostcall fuel" text. Both paths give the same results and errors.

mod common;

use std::sync::Arc;

use common::{boot_dir, copy_wat, dist, guest_entry, wat_entry};
use weft_core::{ErrorKind, Value};
use weft_runtime::Runtime;

const MIB: usize = 1 << 20;

async fn boot() -> (tempfile::TempDir, Arc<Runtime>) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    copy_wat(root, "bytes_core");
    let limits = "    limits: {max_memory_mb: 64}\n";
    let mut index = format!(
        "namespace: t\nentries:\n  - {{name: guests, kind: fs.directory, directory: {}}}\n{}{}",
        dist().display(),
        guest_entry("function.wasm", "bytes", "types", "echo-bytes", limits),
        guest_entry("function.wasm", "string", "types", "echo-string", limits),
    );
    for (name, method) in [
        ("core_bytes", "echo"),
        ("core_bytes_dynamic", "echo-padded"),
        ("core_text", "echo-text"),
        ("core_text_dynamic", "echo-text-padded"),
    ] {
        index.push_str(&wat_entry(name, "bytes_core", method, 64));
    }
    std::fs::write(root.join("src/_index.yaml"), index).unwrap();
    let rt = boot_dir(root).await.unwrap_or_else(|e| panic!("{e}"));
    (dir, rt)
}

/// Calls `id` with `args` (and a `pad` of 0 for the dynamic WAT methods).
async fn call(rt: &Runtime, id: &str, mut args: Vec<Value>) -> weft_core::Result<Value> {
    if id.ends_with("_dynamic") {
        args.push(Value::Int(0));
    }
    rt.functions.call(&rt.root_context(), id, args).await
}

/// Echoes `len` bytes through `id` and checks they come back unchanged.
async fn echo(rt: &Runtime, id: &str, len: usize) -> weft_core::Result<usize> {
    let data: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
    let out = call(rt, id, vec![Value::Str(data.clone().into())]).await?;
    match out {
        Value::Str(back) if *back == *data => Ok(back.len()),
        other => panic!("{id} gave back something else: {:?}", other.type_name()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn byte_lists_and_strings_up_to_the_memory_limit_pass_both_ways() {
    let (_dir, rt) = boot().await;
    for id in ["t:bytes", "t:string", "t:core_bytes", "t:core_text"] {
        // The Rust guests keep two copies (argument and result) within their 64 MiB.
        assert_eq!(echo(&rt, id, 24 * MIB).await.unwrap(), 24 * MIB, "{id}");
        let err = echo(&rt, id, 80 * MIB).await.unwrap_err();
        assert!(
            err.message()
                .contains("exceeded its memory limit (limits.max_memory_mb: 64 MB)"),
            "{id}: {err}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn off_the_typed_path_a_byte_list_may_hold_an_eighth_of_the_limit() {
    let (_dir, rt) = boot().await;
    let id = "t:core_bytes_dynamic";
    for len in [4 * MIB, 8 * MIB] {
        assert_eq!(echo(&rt, id, len).await.unwrap(), len);
    }
    let err = echo(&rt, id, 8 * MIB + 1).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Internal);
    assert_eq!(
        err.message(),
        "t:core_bytes_dynamic: echo-padded passed the host a value too large for its \
         memory limit (a byte list may hold 8 MB under limits.max_memory_mb: 64 MB)"
    );
    // A string costs its length on either path.
    assert_eq!(
        echo(&rt, "t:core_text_dynamic", 24 * MIB).await.unwrap(),
        24 * MIB
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_typed_and_the_dynamic_path_agree() {
    let (_dir, rt) = boot().await;
    let cases = [
        Value::str("hello"),
        Value::str(""),
        Value::bytes(vec![b'a', 0xff, b'b']),
        Value::array(vec![Value::Int(104), Value::Int(105)]),
        Value::array(vec![Value::Int(1), Value::Int(256)]),
        Value::map(Default::default()),
        Value::from_pairs([("a", Value::Int(1))]),
        Value::Int(7),
        Value::Nil,
    ];
    // Error messages start with the method and the entry; the rest must be the same.
    let tail = |r: weft_core::Result<Value>| match r {
        Ok(v) => Ok(v),
        Err(e) => {
            let message = e.message().to_owned();
            let at = message.find("argument").unwrap_or(0);
            Err((e.kind(), message[at..].to_owned()))
        }
    };
    for (typed, dynamic) in [
        ("t:core_bytes", "t:core_bytes_dynamic"),
        ("t:core_text", "t:core_text_dynamic"),
    ] {
        for v in &cases {
            let a = tail(call(&rt, typed, vec![v.clone()]).await);
            let b = tail(call(&rt, dynamic, vec![v.clone()]).await);
            assert_eq!(a, b, "{typed} and {dynamic} on {v:?}");
        }
    }
    let err = call(&rt, "t:core_bytes", vec![]).await.unwrap_err();
    assert!(
        err.message().ends_with("expected 1 argument, got 0"),
        "{err}"
    );
}

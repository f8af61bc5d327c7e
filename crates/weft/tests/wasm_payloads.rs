//! Large values cross the WASM boundary both ways: strings up to the entry's memory limit
//! and byte lists up to an eighth of it (their per-element cost in wasmtime's dynamic
//! values); past that, an error naming `limits.max_memory_mb`, never wasmtime's
//! internal "hostcall fuel" text.

mod common;

use std::sync::Arc;

use common::{boot_dir, dist, guest_entry};
use weft_core::{ErrorKind, Value};
use weft_runtime::Runtime;

const MIB: usize = 1 << 20;

async fn boot() -> (tempfile::TempDir, Arc<Runtime>) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("src")).unwrap();
    let limits = "    limits: {max_memory_mb: 64}\n";
    let index = format!(
        "namespace: t\nentries:\n  - {{name: guests, kind: fs.directory, directory: {}}}\n{}{}",
        dist().display(),
        guest_entry("function.wasm", "bytes", "types", "echo-bytes", limits),
        guest_entry("function.wasm", "string", "types", "echo-string", limits),
    );
    std::fs::write(root.join("src/_index.yaml"), index).unwrap();
    let rt = boot_dir(root).await.unwrap_or_else(|e| panic!("{e}"));
    (dir, rt)
}

async fn echo(rt: &Runtime, id: &str, len: usize) -> weft_core::Result<usize> {
    let data: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
    let out = rt
        .functions
        .call(
            &rt.root_context(),
            id,
            vec![Value::Str(data.clone().into())],
        )
        .await?;
    match out {
        Value::Str(back) if *back == *data => Ok(back.len()),
        other => panic!("{id} gave back something else: {:?}", other.type_name()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn byte_lists_up_to_an_eighth_of_the_limit_pass_both_ways() {
    let (_dir, rt) = boot().await;
    for len in [4 * MIB, 8 * MIB] {
        assert_eq!(echo(&rt, "t:bytes", len).await.unwrap(), len);
    }
    let err = echo(&rt, "t:bytes", 8 * MIB + 1).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Internal);
    assert_eq!(
        err.message(),
        "t:bytes: echo-bytes passed the host a value too large for its memory limit \
         (a byte list may hold 8 MB under limits.max_memory_mb: 64 MB)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strings_up_to_the_memory_limit_pass_both_ways() {
    let (_dir, rt) = boot().await;
    // Two copies live in the guest (argument and result) within its 64 MiB.
    assert_eq!(echo(&rt, "t:string", 24 * MIB).await.unwrap(), 24 * MIB);
    let err = echo(&rt, "t:string", 80 * MIB).await.unwrap_err();
    assert!(
        err.message()
            .contains("exceeded its memory limit (limits.max_memory_mb: 64 MB)"),
        "{err}"
    );
}

//! The memory a large byte list costs while it crosses the WASM boundary (issue: limits,
//! item 8: at most 3× the data). A test binary of its own, so that no other test's memory
//! blurs the process' peak: the peak is reset just before the call (`/proc/self/
//! clear_refs`), and its rise during the call is the cost. The guest (`bytes_core.wat`'s
//! byte-shaped `echo`) keeps one copy in its memory; the host adds the result. Through
//! wasmtime's dynamic values the same call would cost over 30× the data.

mod common;

use common::{boot_dir, copy_wat, wat_entry};
use weft_core::Value;

const MIB: usize = 1 << 20;

/// A field of `/proc/self/status` in bytes (`VmHWM`, `VmRSS`).
fn status_bytes(field: &str) -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"));
    let kb: usize = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap();
    kb * 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_byte_list_crosses_both_ways_for_at_most_three_times_its_size() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    copy_wat(root, "bytes_core");
    let index = format!(
        "namespace: t\nentries:\n{}",
        wat_entry("echo", "bytes_core", "echo", 128)
    );
    std::fs::write(root.join("src/_index.yaml"), index).unwrap();
    let rt = boot_dir(root).await.unwrap_or_else(|e| panic!("{e}"));
    let cx = rt.root_context();
    // A first small call, so that nothing the first call sets up counts below.
    rt.functions
        .call(&cx, "t:echo", vec![Value::str("warm up")])
        .await
        .unwrap();

    let len = 32 * MIB;
    let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    let arg = Value::bytes(data);
    std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak RSS");
    let before = status_bytes("VmRSS:");
    let out = rt.functions.call(&cx, "t:echo", vec![arg.clone()]).await;
    let rise = status_bytes("VmHWM:").saturating_sub(before);
    let out = out.unwrap();
    assert_eq!(out, arg, "the bytes came back unchanged");
    assert!(
        rise <= 3 * len,
        "the call raised the peak RSS by {} MiB for {} MiB of data (more than 3×)",
        rise / MIB,
        len / MIB
    );
    eprintln!(
        "peak RSS rise: {:.1} MiB for {} MiB in and out ({:.2}×)",
        rise as f64 / MIB as f64,
        len / MIB,
        rise as f64 / len as f64
    );
}

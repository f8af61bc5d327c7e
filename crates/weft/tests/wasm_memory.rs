//! WASM memory is given back between calls: a guest that really uses 200 MiB per call,
//! called again and again, leaves the process' resident memory near where it started
//! (bounded by what the instance pool keeps resident by design, docs/wasm.md).
//!
//! Its own test binary, with one test, so no other test's memory blurs the figures.

use std::time::Duration;

mod common;

use weft_core::Value;

/// MiB each call touches (one byte in every 4 KiB page).
const PER_CALL_MB: i64 = 200;

/// The process' resident set in MiB (Linux).
fn rss_mb() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096 / (1 << 20)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rss_returns_near_its_baseline_after_big_calls() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_wat(dir.path(), "touch");
    let index = format!(
        "namespace: t\nentries:\n{}",
        common::wat_entry("touch", "touch", "touch", 512)
    );
    std::fs::write(dir.path().join("src/_index.yaml"), index).unwrap();
    let rt = common::boot_dir(dir.path())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let call = || async {
        let out = rt
            .functions
            .call(&rt.root_context(), "t:touch", vec![Value::Int(PER_CALL_MB)])
            .await
            .unwrap();
        assert_eq!(out, Value::Int(PER_CALL_MB * 256));
    };
    // One call first: code, stacks and allocator caches settle.
    call().await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let baseline = rss_mb();
    let mut peak = baseline;
    for _ in 0..20 {
        call().await;
        peak = peak.max(rss_mb());
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let after = rss_mb();
    eprintln!("RSS: baseline {baseline} MiB, peak {peak} MiB, after {after} MiB");
    // 20 calls touched 4000 MiB in all; what stays is at most one call's worth (a call
    // in progress) plus slack, never the sum.
    assert!(
        after < baseline + 64,
        "RSS grew from {baseline} MiB to {after} MiB (peak {peak} MiB) over 20 calls of {PER_CALL_MB} MiB"
    );
    assert!(
        peak < baseline + PER_CALL_MB as u64 + 64,
        "peak RSS {peak} MiB from a baseline of {baseline} MiB"
    );
}

//! `wasm.keep_resident_mb` sets what the instance pool keeps resident of a freed guest
//! memory (default 2 MB, docs/wasm.md): raised, a big call's pages stay resident for the
//! next call to reuse; a bad value fails the boot naming the setting.
//!
//! Its own test binary, so no other test's memory blurs the figures.

use std::path::Path;
use std::time::Duration;

mod common;

use weft_core::Value;

/// MiB the call touches (one byte in every 4 KiB page).
const TOUCH_MB: i64 = 200;

/// The process' resident set in MiB (Linux).
fn rss_mb() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096 / (1 << 20)
}

/// Boots an app with the `touch` guest and `config` as its `.wippy.yaml` `wasm:` body.
async fn boot(dir: &Path, wasm_config: &str) -> Result<weft::Booted, String> {
    common::copy_wat(dir, "touch");
    let index = format!(
        "namespace: t\nentries:\n{}",
        common::wat_entry("touch", "touch", "touch", 512)
    );
    std::fs::write(dir.join("src/_index.yaml"), index).unwrap();
    std::fs::write(
        dir.join(".wippy.yaml"),
        format!("version: \"1.0\"\nwasm:\n{wasm_config}"),
    )
    .unwrap();
    common::boot_app_dir(dir).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_resident_mb_keeps_a_freed_memory_resident_and_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let booted = boot(dir.path(), "  keep_resident_mb: 128\n")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let rt = booted.runtime;
    let touch = |mb: i64| {
        let rt = rt.clone();
        async move {
            rt.functions
                .call(&rt.root_context(), "t:touch", vec![Value::Int(mb)])
                .await
                .unwrap()
        }
    };
    // A small call first: code, stacks and allocator caches settle.
    touch(1).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let baseline = rss_mb();
    assert_eq!(touch(TOUCH_MB).await, Value::Int(TOUCH_MB * 256));
    tokio::time::sleep(Duration::from_millis(50)).await;
    let after = rss_mb();
    eprintln!("RSS: baseline {baseline} MiB, after one {TOUCH_MB} MiB call {after} MiB");
    // 128 MiB of the freed memory stay resident (the default keeps 2: tests/wasm_memory.rs).
    assert!(
        after >= baseline + 100 && after <= baseline + 128 + 48,
        "RSS went from {baseline} MiB to {after} MiB; wanted about 128 MiB kept"
    );

    for bad in ["-1", "2000", "lots"] {
        let dir = tempfile::tempdir().unwrap();
        let err = boot(dir.path(), &format!("  keep_resident_mb: {bad}\n"))
            .await
            .map(|_| ())
            .unwrap_err();
        assert!(
            err.contains("wasm.keep_resident_mb: expected an integer from 0 to 1024"),
            "{bad}: {err}"
        );
    }
}

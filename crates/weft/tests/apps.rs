//! End-to-end: the Lua suites under `tests/apps/`, run by the built `weft` binary.

use std::path::Path;
use std::process::Command;

/// Runs `weft run test` in `tests/apps/<name>` and asserts every case passed.
fn run_suite(name: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/apps")
        .join(name);
    let out = Command::new(env!("CARGO_BIN_EXE_weft"))
        .arg("-C")
        .arg(&dir)
        .args(["run", "test"])
        .output()
        .expect("run weft");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "suite {name} failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
    assert!(!stdout.contains("FAIL"), "{stdout}");
}

#[test]
fn processes_channels_and_time() {
    run_suite("processes");
}

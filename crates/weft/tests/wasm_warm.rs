//! Warm instances (`pool: {instance: warm}`, issue 17): state survives between calls of
//! a warm entry and never of a fresh one; an instance is retired after
//! `max_invocations`, after `idle_timeout`, and after a trap or a timeout; an idle warm
//! instance gives its slot up when another call needs one.

mod common;

use std::time::Duration;

use common::{boot_app_dir, write_app};
use weft_core::{ErrorKind, Value};

/// `next(mode)`: adds one to a global and returns it; mode 1 traps after adding, mode 2
/// spins forever after adding.
const COUNTER: &str = r#"(module
  (global $n (mut i32) (i32.const 0))
  (func (export "next") (param $mode i32) (result i32)
    (global.set $n (i32.add (global.get $n) (i32.const 1)))
    (if (i32.eq (local.get $mode) (i32.const 1)) (then unreachable))
    (if (i32.eq (local.get $mode) (i32.const 2)) (then (loop $spin (br $spin))))
    (global.get $n)))"#;

fn entry(name: &str, pool: &str) -> String {
    format!(
        "  - name: {name}\n    kind: function.wat\n    method: next\n    wit: \"next: func(mode: s32) -> s32;\"\n    limits: {{max_execution_ms: 300}}\n    pool: {pool}\n    source: |\n{}\n",
        COUNTER
            .lines()
            .map(|l| format!("      {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    )
}

async fn boot(entries: &[(&str, &str)], config: &str) -> (tempfile::TempDir, weft::Booted) {
    let mut index = String::from("namespace: t\nentries:\n");
    for (name, pool) in entries {
        index.push_str(&entry(name, pool));
    }
    let config = format!("version: \"1.0\"\n{config}");
    let dir = write_app(&[("src/_index.yaml", &index), (".wippy.yaml", &config)]);
    let booted = boot_app_dir(dir.path())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    (dir, booted)
}

async fn next(b: &weft::Booted, id: &str, mode: i64) -> weft_core::Result<Value> {
    let rt = &b.runtime;
    rt.functions
        .call(&rt.root_context(), id, vec![Value::Int(mode)])
        .await
}

async fn counts(b: &weft::Booted, id: &str, n: usize) -> Vec<i64> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(next(b, id, 0).await.unwrap().as_int().unwrap());
    }
    out
}

#[tokio::test]
async fn a_warm_instance_keeps_its_state_and_a_fresh_one_never_does() {
    let (_dir, b) = boot(
        &[
            ("fresh", "{type: inline}"),
            ("warm", "{type: inline, instance: warm}"),
        ],
        "",
    )
    .await;
    assert_eq!(counts(&b, "t:fresh", 3).await, [1, 1, 1]);
    assert_eq!(counts(&b, "t:warm", 3).await, [1, 2, 3]);
}

#[tokio::test]
async fn an_instance_is_retired_after_max_invocations_and_idle_timeout() {
    let (_dir, b) = boot(
        &[
            (
                "three",
                "{type: inline, instance: warm, max_invocations: 3}",
            ),
            (
                "idle",
                "{type: inline, instance: warm, idle_timeout: 100ms}",
            ),
        ],
        "",
    )
    .await;
    assert_eq!(counts(&b, "t:three", 7).await, [1, 2, 3, 1, 2, 3, 1]);
    assert_eq!(counts(&b, "t:idle", 2).await, [1, 2]);
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(counts(&b, "t:idle", 1).await, [1]);
}

#[tokio::test]
async fn a_trap_or_a_timeout_retires_the_instance() {
    let (_dir, b) = boot(&[("warm", "{type: inline, instance: warm}")], "").await;
    assert_eq!(counts(&b, "t:warm", 2).await, [1, 2]);
    let trap = next(&b, "t:warm", 1).await.unwrap_err();
    assert!(trap.message().contains("unreachable"), "{trap}");
    assert_eq!(
        counts(&b, "t:warm", 2).await,
        [1, 2],
        "the trapped instance was reused"
    );
    let timeout = next(&b, "t:warm", 2).await.unwrap_err();
    assert_eq!(timeout.kind(), ErrorKind::Timeout, "{timeout}");
    assert_eq!(
        counts(&b, "t:warm", 1).await,
        [1],
        "the timed-out instance was reused"
    );
}

#[tokio::test]
async fn an_idle_warm_instance_gives_its_slot_to_another_call() {
    // One instance slot for the whole engine: `a`'s idle instance holds it.
    let (_dir, b) = boot(
        &[
            ("a", "{type: inline, instance: warm}"),
            ("b", "{type: inline, instance: warm}"),
        ],
        "wasm:\n  max_instances: 1\n",
    )
    .await;
    assert_eq!(counts(&b, "t:a", 2).await, [1, 2]);
    let got = tokio::time::timeout(Duration::from_secs(5), counts(&b, "t:b", 2)).await;
    assert_eq!(got.expect("b waited for a's idle instance"), [1, 2]);
    assert_eq!(
        counts(&b, "t:a", 1).await,
        [1],
        "a's instance was retired for b"
    );
}

#[tokio::test]
async fn bad_warm_settings_fail_the_boot_naming_the_field() {
    for (pool, field, text) in [
        (
            "{instance: lukewarm}",
            "pool.instance",
            "instance must be fresh or warm",
        ),
        (
            "{max_invocations: 5}",
            "pool.max_invocations",
            "only warm instances",
        ),
        (
            "{instance: warm, max_invocations: -1}",
            "pool.max_invocations",
            "must be between 1",
        ),
        (
            "{instance: warm, idle_timeout: soon}",
            "pool.idle_timeout",
            "",
        ),
    ] {
        let index = format!("namespace: t\nentries:\n{}", entry("x", pool));
        let dir = write_app(&[("src/_index.yaml", &index)]);
        let err = boot_app_dir(dir.path()).await.err().expect(pool);
        assert!(
            err.contains(&format!("field {field}: {text}")),
            "{pool}: {err}"
        );
    }
}

//! Running tests: up to `--jobs` at a time, each a function call under its deadline,
//! and the verdict on what it returned.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;
use weft_core::{Error, ErrorKind, Result, Value};
use weft_runtime::Runtime;

use super::{Failure, Reason, TestCase, TestResult};

/// Runs `cases`, at most `jobs` at a time, started in their order, each under `timeout`;
/// calls `progress` with `(index in cases, result)` as each ends. Returns the results in
/// the order of `cases`.
pub(super) async fn run_all(
    rt: &Arc<Runtime>,
    cases: &[TestCase],
    jobs: usize,
    timeout: Duration,
    mut progress: impl FnMut((usize, &TestResult)),
) -> Vec<TestResult> {
    let mut results: Vec<Option<TestResult>> = cases.iter().map(|_| None).collect();
    let mut running = JoinSet::new();
    let mut index_of = HashMap::new();
    let mut next = 0;
    loop {
        while next < cases.len() && running.len() < jobs.max(1) {
            let (rt, case) = (rt.clone(), cases[next].clone());
            let handle = running.spawn(run_one(rt, case, timeout));
            index_of.insert(handle.id(), next);
            next += 1;
        }
        let Some(joined) = running.join_next_with_id().await else {
            break;
        };
        let (id, result) = match joined {
            Ok((id, result)) => (id, result),
            Err(e) => (e.id(), panicked(&e)),
        };
        let Some(i) = index_of.remove(&id) else {
            continue;
        };
        progress((i, &result));
        results[i] = Some(result);
    }
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| panicked(&"the test's task was lost")))
        .collect()
}

/// Runs one test: calls its entry with no arguments in the runtime's system context
/// (as a CLI command is started), bounded by `timeout`.
async fn run_one(rt: Arc<Runtime>, case: TestCase, timeout: Duration) -> TestResult {
    let started = Instant::now();
    if !rt.functions.contains(case.id.as_str()) {
        return TestResult {
            duration: started.elapsed(),
            failure: Some(not_callable(&case)),
        };
    }
    let deadline = started + timeout;
    let system = rt.system_context();
    let outcome = match rt.functions.resolve(&system, case.id.as_str()) {
        Ok(function) => {
            function
                .invoke(&system.with_deadline(deadline), Vec::new())
                .await
        }
        Err(e) => Err(e),
    };
    let duration = started.elapsed();
    let timed_out = Instant::now() >= deadline;
    TestResult {
        duration,
        failure: verdict(outcome, is_wasm(&case.kind), timed_out, timeout),
    }
}

/// Why the test failed, or `None` when it passed: an error fails it (a Timeout past the
/// test's deadline is reported as the timeout), so does a `false` result and, for a WASM
/// test, the `err` arm of a WIT `result`.
fn verdict(
    outcome: Result<Value>,
    wasm: bool,
    timed_out: bool,
    timeout: Duration,
) -> Option<Failure> {
    match outcome {
        Err(e) if timed_out && e.kind() == ErrorKind::Timeout => Some(Failure {
            reason: Reason::Timeout,
            message: format!("the test did not finish within {timeout:?} (--timeout): {e}"),
            ..from_error(&e)
        }),
        Err(e) => Some(from_error(&e)),
        Ok(Value::Bool(false)) => Some(Failure {
            reason: Reason::ReturnedFalse,
            message: "the test returned false".to_string(),
            kind: None,
            stack: None,
            details: None,
        }),
        Ok(value) if wasm => result_err(&value).map(|err| Failure {
            reason: Reason::ResultErr,
            message: format!("the test returned err: {}", text_of(err)),
            kind: None,
            stack: None,
            details: Some(json(err)),
        }),
        Ok(_) => None,
    }
}

/// The failure of a call that ended with `e`: its text, kind, stack and details.
fn from_error(e: &Error) -> Failure {
    Failure {
        reason: Reason::Error,
        message: e.to_string(),
        kind: Some(e.kind()),
        stack: e
            .stack()
            .filter(|s| !s.trim().is_empty())
            .map(str::to_string),
        details: e.details().map(json),
    }
}

/// The payload of a lifted WIT `result` that is `err` (weft-wasm lifts `err(e)` to the
/// one-key map `{err = e}`, a payload-less `err` to `{err = true}`).
fn result_err(value: &Value) -> Option<&Value> {
    let map = value.as_map()?;
    match map.len() {
        1 => map.get("err"),
        _ => None,
    }
}

/// A value for a message: a string as it is, anything else as JSON.
fn text_of(value: &Value) -> String {
    match value.as_str() {
        Some(s) => s.to_string(),
        None => json(value).to_string(),
    }
}

/// A value as JSON (a value JSON cannot hold becomes its description).
fn json(value: &Value) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or_else(|e| serde_json::Value::String(e.to_string()))
}

/// The failure of an entry marked as a test that is not a function.
fn not_callable(case: &TestCase) -> Failure {
    Failure {
        reason: Reason::NotCallable,
        message: format!(
            "{} ({}) is not a function: only function.lua, function.wasm and function.wat \
             entries can be tests",
            case.id, case.kind
        ),
        kind: Some(ErrorKind::Invalid),
        stack: None,
        details: None,
    }
}

/// The result of a test whose task panicked (a bug of weft, reported, never hidden).
fn panicked(e: &dyn std::fmt::Display) -> TestResult {
    TestResult {
        duration: Duration::ZERO,
        failure: Some(Failure {
            reason: Reason::Panicked,
            message: format!("the runner panicked: {e}"),
            kind: Some(ErrorKind::Internal),
            stack: None,
            details: None,
        }),
    }
}

/// Whether entries of `kind` run on the WASM engine (their results may be WIT `result`s).
fn is_wasm(kind: &str) -> bool {
    matches!(kind, "function.wasm" | "function.wat")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fails(outcome: Result<Value>, wasm: bool) -> Option<Reason> {
        verdict(outcome, wasm, false, Duration::from_secs(1)).map(|f| f.reason)
    }

    #[test]
    fn only_false_errors_and_wasm_err_results_fail() {
        for passing in [Value::Nil, Value::Bool(true), Value::Int(0), Value::str("")] {
            assert_eq!(fails(Ok(passing), false), None);
        }
        let err = Value::from_pairs([("err", Value::str("bad"))]);
        let ok = Value::from_pairs([("ok", Value::Bool(true))]);
        assert_eq!(
            fails(Ok(Value::Bool(false)), true),
            Some(Reason::ReturnedFalse)
        );
        assert_eq!(fails(Ok(err.clone()), true), Some(Reason::ResultErr));
        assert_eq!(fails(Ok(ok), true), None);
        // A Lua table that looks like a result is data.
        assert_eq!(fails(Ok(err), false), None);
        assert_eq!(
            fails(Err(Error::invalid("boom")), false),
            Some(Reason::Error)
        );
    }

    #[test]
    fn a_timeout_past_the_deadline_is_the_tests_timeout() {
        let e = Error::timeout("app:t: exceeded the caller's deadline");
        let f = verdict(Err(e.clone()), false, true, Duration::from_millis(200)).unwrap();
        assert_eq!(f.reason, Reason::Timeout);
        assert!(
            f.message
                .starts_with("the test did not finish within 200ms")
        );
        // A Timeout of the test's own making, before its deadline, is an error.
        let f = verdict(Err(e), false, false, Duration::from_millis(200)).unwrap();
        assert_eq!(f.reason, Reason::Error);
    }

    #[test]
    fn an_err_result_names_its_payload() {
        let f = verdict(
            Ok(Value::from_pairs([("err", Value::str("too small"))])),
            true,
            false,
            Duration::from_secs(1),
        )
        .unwrap();
        assert_eq!(f.message, "the test returned err: too small");
        let f = verdict(
            Ok(Value::from_pairs([("err", Value::Int(7))])),
            true,
            false,
            Duration::from_secs(1),
        )
        .unwrap();
        assert_eq!(f.message, "the test returned err: 7");
    }
}

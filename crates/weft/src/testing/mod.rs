//! `weft test [filter…]`: runs the app's tests and reports them.
//!
//! The rules (README, "Testing an app", says them for users):
//! - A test is an entry with `meta.type: test` (Wippy's convention). `meta.suite` groups
//!   tests (none: suite `other`), `meta.order` sorts them inside a suite (a number,
//!   default 0), then the id: that is the order of the report, whatever order they end in.
//! - A filter selects the tests whose id or suite contains it (a plain substring, case
//!   sensitive); several filters select what any of them selects.
//! - Each test is a call through the function registry (`Functions`, the path of
//!   `funcs.call`) with no arguments, started by the runtime in its system context as a
//!   CLI command is (no actor, no scope, no terminal), under the `--timeout` deadline.
//! - A test passes when it returns without an error and its result is not `false`; a
//!   WASM test whose export returns a WIT `result` fails on `err` (which weft-wasm lifts
//!   to a one-key map `{err = e}`). An entry marked as a test that is not a function
//!   (`process.lua`, `library.lua`) fails as not callable: it is never run.
//! - Exit code: 0 when every selected test passed (also when the app has no test at all),
//!   1 when one failed, when filters matched no test, or when the app failed to boot.

mod report;
mod run;

use std::cmp::Ordering;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use weft_core::{EntryId, ErrorKind, Value};
use weft_registry::Registry;
use weft_runtime::Runtime;

pub(crate) use report::Format;

use crate::{TestArgs, diag};

/// Examples for `weft test --help`.
pub(crate) const EXAMPLES: &str = "\
Examples:
  weft test                          run every test of the app in the current directory
  weft -C my-app test math           the tests whose id or suite contains \"math\"
  weft test -j 1 --timeout 5s        one at a time, each stopped after 5 seconds
  weft test --format junit > junit.xml

A test is an entry with `meta.type: test` (`meta.suite` groups them). It passes when it
returns without an error and its result is not false. Exit code: 0 when all pass.";

/// The suite of a test without `meta.suite` (as in Wippy's runner).
const DEFAULT_SUITE: &str = "other";

/// One test: an entry with `meta.type: test`.
#[derive(Clone, Debug)]
struct TestCase {
    /// The entry.
    id: EntryId,
    /// The entry's kind (`function.lua`, `function.wat`, …).
    kind: String,
    /// `meta.suite`, or [`DEFAULT_SUITE`].
    suite: String,
    /// `meta.order`, default 0.
    order: f64,
}

/// How one test ended.
#[derive(Debug)]
struct TestResult {
    /// How long it ran.
    duration: Duration,
    /// Why it failed; `None` when it passed.
    failure: Option<Failure>,
}

/// Why a test failed.
#[derive(Debug)]
struct Failure {
    /// What happened.
    reason: Reason,
    /// The error's text (with its context), or what the test returned.
    message: String,
    /// The error's kind, when the test ended with an error.
    kind: Option<ErrorKind>,
    /// The Lua traceback or the wasm backtrace the error carries, if any.
    stack: Option<String>,
    /// The error's details as JSON, if any.
    details: Option<serde_json::Value>,
}

/// What made a test fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
enum Reason {
    /// The call failed with an error.
    Error,
    /// The call did not end within `--timeout`.
    Timeout,
    /// The call returned `false`.
    ReturnedFalse,
    /// A WASM test returned the `err` arm of a WIT `result`.
    ResultErr,
    /// The entry is not a function.
    NotCallable,
    /// The runner's task for it panicked (a bug of weft).
    Panicked,
}

/// The run of the selected tests, in report order.
struct Run {
    /// The tests, sorted by suite, order and id.
    cases: Vec<TestCase>,
    /// Their results, in the same order.
    results: Vec<TestResult>,
    /// How long the whole run took.
    elapsed: Duration,
}

impl Run {
    /// How many tests passed.
    fn passed(&self) -> usize {
        self.results.iter().filter(|r| r.failure.is_none()).count()
    }

    /// How many tests failed.
    fn failed(&self) -> usize {
        self.results.len() - self.passed()
    }
}

/// `weft test`: runs the selected tests of the booted app `rt` and reports them as
/// `args.format` says; returns the exit code.
pub(crate) async fn run(rt: &Arc<Runtime>, args: &TestArgs) -> i32 {
    let all = discover(&rt.registry);
    let total_in_app = all.len();
    let cases = select(all, &args.filters);
    let format = args.format;
    if cases.is_empty() {
        let empty = Run {
            cases,
            results: Vec::new(),
            elapsed: Duration::ZERO,
        };
        if format != Format::Pretty {
            report::write_machine(format, &empty);
        }
        return nothing_to_run(total_in_app, &args.filters, format);
    }
    let jobs = args.jobs.map_or_else(default_jobs, usize::from);
    let mut pretty = (format == Format::Pretty).then(|| report::Pretty::start(&cases, jobs));
    let started = Instant::now();
    let results = run::run_all(rt, &cases, jobs, args.timeout, |done| {
        if let Some(pretty) = &mut pretty {
            pretty.progress(done);
        }
    })
    .await;
    let run = Run {
        cases,
        results,
        elapsed: started.elapsed(),
    };
    match pretty {
        Some(pretty) => pretty.finish(&run),
        None => report::write_machine(format, &run),
    }
    if run.failed() == 0 { 0 } else { 1 }
}

/// Parses `--timeout`: a positive Go duration (`30s`, `1m30s`, `250ms`).
pub(crate) fn parse_timeout(text: &str) -> Result<Duration, String> {
    match weft_time::parse_std_duration(text) {
        Ok(d) if d.is_zero() => Err("the timeout must be more than zero".to_string()),
        Ok(d) => Ok(d),
        Err(e) => Err(e.to_string()),
    }
}

/// Every test of the app (entries with `meta.type: test`), in report order.
fn discover(registry: &Registry) -> Vec<TestCase> {
    let mut cases: Vec<TestCase> = registry
        .all()
        .iter()
        .filter(|e| e.meta_str("type") == Some("test"))
        .map(|e| TestCase {
            id: e.id.clone(),
            kind: e.kind.clone(),
            suite: e.meta_str("suite").unwrap_or(DEFAULT_SUITE).to_string(),
            order: e.meta_value("order").and_then(Value::as_f64).unwrap_or(0.0),
        })
        .collect();
    cases.sort_by(report_order);
    cases
}

/// Suite, then order, then id.
fn report_order(a: &TestCase, b: &TestCase) -> Ordering {
    a.suite
        .cmp(&b.suite)
        .then(a.order.total_cmp(&b.order))
        .then_with(|| a.id.as_str().cmp(b.id.as_str()))
}

/// The tests whose id or suite contains one of `filters` (all of them without filters).
fn select(cases: Vec<TestCase>, filters: &[String]) -> Vec<TestCase> {
    if filters.is_empty() {
        return cases;
    }
    cases
        .into_iter()
        .filter(|c| {
            filters
                .iter()
                .any(|f| c.id.as_str().contains(f.as_str()) || c.suite.contains(f.as_str()))
        })
        .collect()
}

/// Says that there is nothing to run and returns the exit code: 0 for an app without
/// tests, 1 when filters matched none of its tests (a typo must not pass silently).
fn nothing_to_run(total_in_app: usize, filters: &[String], format: Format) -> i32 {
    if filters.is_empty() {
        let text = "no tests found: a test is an entry with `meta.type: test`";
        if format == Format::Pretty {
            let _ = writeln!(std::io::stdout(), "{text}");
        } else {
            eprintln!("{text}");
        }
        return 0;
    }
    let quoted: Vec<String> = filters
        .iter()
        .map(|f| format!("{:?}", diag::one_line(f)))
        .collect();
    diag::error(format_args!(
        "no test matches {} (the app has {total_in_app} test{}; a filter selects the tests \
         whose id or suite contains it)",
        quoted.join(", "),
        if total_in_app == 1 { "" } else { "s" }
    ));
    1
}

/// `--jobs` by default: the number of CPUs.
fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(id: &str, suite: &str, order: f64) -> TestCase {
        TestCase {
            id: EntryId::parse(id).unwrap(),
            kind: "function.lua".into(),
            suite: suite.into(),
            order,
        }
    }

    #[test]
    fn tests_sort_by_suite_then_order_then_id() {
        let mut cases = [
            case("a:z", "b", 0.0),
            case("a:y", "a", 2.0),
            case("a:x", "a", 2.0),
            case("a:w", "a", -1.0),
        ];
        cases.sort_by(report_order);
        let ids: Vec<&str> = cases.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["a:w", "a:x", "a:y", "a:z"]);
    }

    #[test]
    fn a_filter_is_a_substring_of_the_id_or_the_suite() {
        let cases = vec![case("app:add", "math", 0.0), case("app:greet", "text", 0.0)];
        let pick = |filters: &[&str]| {
            let filters: Vec<String> = filters.iter().map(|f| f.to_string()).collect();
            select(cases.clone(), &filters)
                .into_iter()
                .map(|c| c.id.as_str().to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(pick(&[]), ["app:add", "app:greet"]);
        assert_eq!(pick(&["gree"]), ["app:greet"]);
        assert_eq!(pick(&["math"]), ["app:add"]);
        assert_eq!(pick(&["math", "greet"]), ["app:add", "app:greet"]);
        assert!(pick(&["MATH"]).is_empty());
    }

    #[test]
    fn the_timeout_is_a_positive_go_duration() {
        assert_eq!(parse_timeout("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_timeout("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_timeout("0s").unwrap_err().contains("more than zero"));
        assert!(parse_timeout("10").unwrap_err().contains("missing unit"));
        assert!(parse_timeout("-1s").is_err());
    }
}

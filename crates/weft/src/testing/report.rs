//! Reporting a test run: `pretty` for people (a line per test as the run goes, in report
//! order, then the failures and a summary), and the machine formats `tap` (TAP 14),
//! `junit` (JUnit XML through quick-junit) and `json`, written whole to stdout at the end.
//!
//! Text from the app (ids, suites, error messages, tracebacks) reaches a terminal only
//! through `diag`'s escaping; the machine formats escape it as their syntax needs.

use std::io::Write;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCaseStatus, TestSuite};
use serde::Serialize;
use weft_core::ErrorKind;

use super::{Failure, Reason, Run, TestCase, TestResult};
use crate::diag;

/// The output format of `weft test`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// A line per test, the failures, a summary (for people).
    Pretty,
    /// The Test Anything Protocol, version 14.
    Tap,
    /// JUnit XML (a testsuite per suite).
    Junit,
    /// One JSON document: the tests and a summary.
    Json,
}

/// The `pretty` report as the run goes: a test's line is printed once every test before
/// it in report order has ended, so parallel runs print in a stable order.
pub(super) struct Pretty {
    /// Each test's `suite  id` column text, padded.
    labels: Vec<String>,
    /// Each test's status and duration, once it has ended and until it is printed.
    ended: Vec<Option<(bool, Duration)>>,
    /// The first test not printed yet.
    next: usize,
}

impl Pretty {
    /// Prints the run's first line and returns the report.
    pub(super) fn start(cases: &[TestCase], jobs: usize) -> Pretty {
        let suites = count_suites(cases);
        let suite_width = cases.iter().map(|c| c.suite.len()).max().unwrap_or(0);
        let id_width = cases.iter().map(|c| c.id.as_str().len()).max().unwrap_or(0);
        let labels = cases
            .iter()
            .map(|c| {
                let (suite, id) = (diag::one_line(&c.suite), diag::one_line(c.id.as_str()));
                format!("{suite:suite_width$}  {id:id_width$}")
            })
            .collect();
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "running {} (in {}, {jobs} at a time)",
            plural(cases.len(), "test"),
            plural(suites, "suite"),
        );
        let _ = out.flush();
        Pretty {
            labels,
            ended: vec![None; cases.len()],
            next: 0,
        }
    }

    /// Records that test `i` ended and prints every line that is due.
    pub(super) fn progress(&mut self, (i, result): (usize, &TestResult)) {
        if let Some(slot) = self.ended.get_mut(i) {
            *slot = Some((result.failure.is_none(), result.duration));
        }
        let mut out = std::io::stdout().lock();
        while let Some(Some((passed, duration))) = self.ended.get(self.next) {
            let status = if *passed { "ok" } else { "FAILED" };
            let _ = writeln!(
                out,
                "{status:6}  {}  {}",
                self.labels[self.next],
                human(*duration)
            );
            self.next += 1;
        }
        let _ = out.flush();
    }

    /// Prints the failures and the summary.
    pub(super) fn finish(self, run: &Run) {
        let mut out = std::io::stdout().lock();
        let failed: Vec<(&TestCase, &Failure)> = run
            .cases
            .iter()
            .zip(&run.results)
            .filter_map(|(c, r)| r.failure.as_ref().map(|f| (c, f)))
            .collect();
        if !failed.is_empty() {
            let _ = writeln!(out, "\nfailures:");
        }
        for (case, failure) in failed {
            let _ = writeln!(
                out,
                "\n---- {} (suite {}, {}) ----",
                diag::one_line(case.id.as_str()),
                diag::one_line(&case.suite),
                diag::one_line(&case.kind)
            );
            let _ = writeln!(out, "  {}", indented(&headline(failure)));
            // The err payload of a result is in the message already.
            if let Some(details) = failure
                .details
                .as_ref()
                .filter(|_| failure.reason != Reason::ResultErr)
            {
                let _ = writeln!(out, "  details: {}", diag::one_line(&details.to_string()));
            }
            if let Some(stack) = &failure.stack {
                let _ = writeln!(out, "  {}", indented(&untabbed(stack)));
            }
        }
        let _ = writeln!(
            out,
            "\ntest result: {}. {} passed, {} failed, {} total in {:.2}s",
            if run.failed() == 0 { "ok" } else { "FAILED" },
            run.passed(),
            run.failed(),
            run.results.len(),
            run.elapsed.as_secs_f64()
        );
        let _ = out.flush();
    }
}

/// Writes the whole report of `run` in a machine format to stdout.
pub(super) fn write_machine(format: Format, run: &Run) {
    let text = match format {
        Format::Pretty => return,
        Format::Tap => Ok(tap(run)),
        Format::Json => json(run).map_err(|e| e.to_string()),
        Format::Junit => junit(run).map_err(|e| e.to_string()),
    };
    match text {
        Ok(text) => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
        }
        Err(e) => diag::error(format_args!("cannot write the test report: {e}")),
    }
}

/// TAP 14: a plan, a line per test, a YAML block under each failure, a summary comment.
fn tap(run: &Run) -> String {
    let mut out = format!("TAP version 14\n1..{}\n", run.results.len());
    for (n, (case, result)) in run.cases.iter().zip(&run.results).enumerate() {
        let description = tap_escape(case.id.as_str());
        let Some(failure) = &result.failure else {
            out.push_str(&format!("ok {} - {description}\n", n + 1));
            continue;
        };
        out.push_str(&format!("not ok {} - {description}\n  ---\n", n + 1));
        let block = TapDiagnostic {
            suite: &case.suite,
            entry_kind: &case.kind,
            duration_ms: millis(result.duration),
            reason: failure.reason,
            kind: failure.kind.map(kind_name),
            message: &failure.message,
            details: failure.details.as_ref(),
            stack: failure.stack.as_deref().map(untabbed),
        };
        let yaml = serde_yaml_ng::to_string(&block)
            .unwrap_or_else(|e| format!("message: {:?}\n", e.to_string()));
        for line in yaml.strip_prefix("---\n").unwrap_or(&yaml).lines() {
            out.push_str(&format!("  {line}\n"));
        }
        out.push_str("  ...\n");
    }
    out.push_str(&format!(
        "# {} passed, {} failed, {} total in {:.2}s\n",
        run.passed(),
        run.failed(),
        run.results.len(),
        run.elapsed.as_secs_f64()
    ));
    out
}

/// The YAML diagnostic block of a failed test in TAP (what it lacks is left out).
#[derive(Serialize)]
struct TapDiagnostic<'a> {
    suite: &'a str,
    entry_kind: &'a str,
    duration_ms: f64,
    reason: Reason,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<&'a serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stack: Option<String>,
}

/// The `json` report: every test, then the counts.
fn json(run: &Run) -> Result<String, serde_json::Error> {
    let tests: Vec<JsonTest<'_>> = run
        .cases
        .iter()
        .zip(&run.results)
        .map(|(case, result)| JsonTest {
            id: case.id.as_str(),
            suite: &case.suite,
            entry_kind: &case.kind,
            status: if result.failure.is_none() {
                "passed"
            } else {
                "failed"
            },
            duration_ms: millis(result.duration),
            failure: result.failure.as_ref().map(JsonFailure::of),
        })
        .collect();
    let report = JsonReport {
        tests,
        summary: JsonSummary {
            passed: run.passed(),
            failed: run.failed(),
            total: run.results.len(),
            duration_ms: millis(run.elapsed),
        },
    };
    serde_json::to_string_pretty(&report).map(|text| text + "\n")
}

/// The `json` report's document.
#[derive(Serialize)]
struct JsonReport<'a> {
    tests: Vec<JsonTest<'a>>,
    summary: JsonSummary,
}

/// One test in the `json` report.
#[derive(Serialize)]
struct JsonTest<'a> {
    id: &'a str,
    suite: &'a str,
    entry_kind: &'a str,
    status: &'static str,
    duration_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure: Option<JsonFailure<'a>>,
}

/// Why a test failed, in the `json` and `tap` reports.
#[derive(Serialize)]
struct JsonFailure<'a> {
    reason: Reason,
    message: &'a str,
    kind: Option<&'static str>,
    stack: Option<&'a str>,
    details: Option<&'a serde_json::Value>,
}

impl<'a> JsonFailure<'a> {
    /// The report's form of `f`.
    fn of(f: &'a Failure) -> JsonFailure<'a> {
        JsonFailure {
            reason: f.reason,
            message: &f.message,
            kind: f.kind.map(kind_name),
            stack: f.stack.as_deref(),
            details: f.details.as_ref(),
        }
    }
}

/// The counts of the `json` report.
#[derive(Serialize)]
struct JsonSummary {
    passed: usize,
    failed: usize,
    total: usize,
    duration_ms: f64,
}

/// The `junit` report: a `testsuite` per suite, a `testcase` per test (its `classname`
/// the suite), a `failure` (an `error` for an entry that cannot run) per failed test.
fn junit(run: &Run) -> Result<String, quick_junit::SerializeError> {
    let mut report = Report::new("weft test");
    report.set_time(run.elapsed);
    // The cases come sorted by suite: a suite ends where the next begins.
    let mut suite: Option<(&str, TestSuite)> = None;
    for (case, result) in run.cases.iter().zip(&run.results) {
        if suite.as_ref().is_none_or(|(name, _)| *name != case.suite) {
            report.add_test_suites(suite.take().map(|(_, s)| s));
            suite = Some((&case.suite, TestSuite::new(xml(&case.suite))));
        }
        let status = match &result.failure {
            None => TestCaseStatus::success(),
            Some(f) => {
                let kind = match f.reason {
                    Reason::NotCallable | Reason::Panicked => NonSuccessKind::Error,
                    _ => NonSuccessKind::Failure,
                };
                let mut status = TestCaseStatus::non_success(kind);
                status
                    .set_message(xml(&f.message))
                    .set_type(f.kind.map_or("Failure", kind_name))
                    .set_description(xml(&description(f)));
                status
            }
        };
        let mut test = quick_junit::TestCase::new(xml(case.id.as_str()), status);
        test.set_classname(xml(&case.suite))
            .set_time(result.duration);
        if let Some((_, s)) = suite.as_mut() {
            s.add_test_case(test);
        }
    }
    report.add_test_suites(suite.map(|(_, s)| s));
    report.to_string().map(|text| text + "\n")
}

/// The body of a JUnit failure: the message, the details and the stack.
fn description(f: &Failure) -> String {
    let mut text = headline(f);
    if let Some(details) = &f.details {
        text.push_str(&format!("\ndetails: {details}"));
    }
    if let Some(stack) = &f.stack {
        text.push('\n');
        text.push_str(&untabbed(stack));
    }
    text
}

/// A stack with its tabs (Lua's traceback indents frames with one) as four spaces: some
/// outputs drop tabs (quick-junit), and a YAML block scalar reads better without them.
fn untabbed(stack: &str) -> String {
    stack.replace('\t', "    ")
}

/// The first line of a failure: `<kind>: <message>`, or the message when there is no
/// error kind.
fn headline(f: &Failure) -> String {
    match f.kind {
        Some(kind) => format!("{}: {}", kind_name(kind), f.message),
        None => f.message.clone(),
    }
}

/// An error kind's name (`Unknown` for the kind Lua names `""`).
fn kind_name(kind: ErrorKind) -> &'static str {
    match kind.as_str() {
        "" => "Unknown",
        name => name,
    }
}

/// Text for XML 1.0: the two non-characters it cannot hold become U+FFFD (quick-junit
/// drops the control characters and escapes markup itself).
fn xml(text: &str) -> String {
    text.replace(['\u{fffe}', '\u{ffff}'], "\u{fffd}")
}

/// A TAP description: one line, `#` and `\` escaped (a `#` would start a directive).
fn tap_escape(text: &str) -> String {
    diag::one_line(text)
        .replace('\\', "\\\\")
        .replace('#', "\\#")
}

/// `text` escaped for a terminal, its further lines indented under the first.
fn indented(text: &str) -> String {
    diag::command_error(text).replace('\n', "\n  ")
}

/// A duration for people: `350.0µs`, `1.2ms`, `2.0s`.
fn human(d: Duration) -> String {
    format!("{d:.1?}")
}

/// A duration in milliseconds, to the microsecond.
fn millis(d: Duration) -> f64 {
    (d.as_micros() as f64) / 1000.0
}

/// How many suites `cases` (sorted by suite) hold.
fn count_suites(cases: &[TestCase]) -> usize {
    let mut suites: Vec<&str> = cases.iter().map(|c| c.suite.as_str()).collect();
    suites.dedup();
    suites.len()
}

/// `n thing` or `n things`.
fn plural(n: usize, thing: &str) -> String {
    format!("{n} {thing}{}", if n == 1 { "" } else { "s" })
}

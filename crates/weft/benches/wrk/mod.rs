//! What the HTTP benches share: running `wrk` and reading its figures, medians, settings
//! from the environment. (A directory without `main.rs`: a module, not a bench target.)

use std::path::Path;
use std::process::Command;

/// One `wrk` run's figures.
#[derive(Clone, Copy, Debug, Default)]
pub struct Run {
    /// Requests per second.
    pub rps: f64,
    /// Median latency.
    pub p50_ms: f64,
    /// 99th percentile latency.
    pub p99_ms: f64,
    /// Socket errors (connect, read, write, timeout).
    pub errors: u64,
    /// Answers that were not 2xx or 3xx.
    pub non_2xx: u64,
}

/// Whether `wrk` is on the PATH.
pub fn available() -> bool {
    Command::new("wrk").arg("--version").output().is_ok()
}

/// `wrk -t2 -c<conns> -d<secs>s --latency [-s script] url`.
pub fn run(url: &str, conns: usize, secs: usize, script: Option<&Path>) -> Run {
    let mut cmd = Command::new("wrk");
    cmd.args([
        "-t2",
        &format!("-c{conns}"),
        &format!("-d{secs}s"),
        "--latency",
    ]);
    if let Some(script) = script {
        cmd.arg("-s").arg(script);
    }
    let out = cmd.arg(url).output().expect("run wrk");
    parse(&String::from_utf8_lossy(&out.stdout))
}

/// The figures of `wrk --latency` output.
fn parse(text: &str) -> Run {
    let mut run = Run::default();
    for line in text.lines().map(str::trim) {
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("Requests/sec:"), Some(v)) => run.rps = v.parse().unwrap_or(0.0),
            (Some("50%"), Some(v)) => run.p50_ms = millis(v),
            (Some("99%"), Some(v)) => run.p99_ms = millis(v),
            // "Non-2xx or 3xx responses: 12"
            (Some("Non-2xx"), _) => {
                run.non_2xx += line
                    .rsplit(' ')
                    .next()
                    .and_then(|n| n.parse::<u64>().ok())
                    .unwrap_or(0);
            }
            // "Socket errors: connect 0, read 0, write 0, timeout 0"
            (Some("Socket"), _) => {
                run.errors += line
                    .split(|c: char| !c.is_ascii_digit())
                    .filter_map(|n| n.parse::<u64>().ok())
                    .sum::<u64>();
            }
            _ => {}
        }
    }
    run
}

/// A wrk latency (`812.00us`, `1.20ms`, `2.01s`) in milliseconds.
fn millis(v: &str) -> f64 {
    let split = v.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(v.len());
    let (n, unit) = v.split_at(split);
    let n: f64 = n.parse().unwrap_or(0.0);
    match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        _ => n,
    }
}

/// The median run by requests per second.
pub fn median(runs: &[Run]) -> Run {
    let mut sorted = runs.to_vec();
    sorted.sort_by(|a, b| a.rps.total_cmp(&b.rps));
    sorted.get(sorted.len() / 2).copied().unwrap_or_default()
}

/// A number from the environment, else `default`.
pub fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

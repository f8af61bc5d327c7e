//! The soak's output and verdict: the sample lines, the final report, what makes an end
//! state flat, and where the memory is.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::{
    CANCELED, CONFLICT, Counts, DRAIN_BOUND, INTERNAL, MIX, OUTCOMES, Outcome, POOL_BOUND,
    RSS_SLACK_BYTES, RSS_SLACK_FRACTION, Report, SETTLE, Settings, Snapshot, TASK_SLACK, TIMEOUT,
};

/// Operations per second between two counts: by group (Lua, WASM, processes), then by
/// outcome (ok, Timeout, Internal, Canceled, Conflict, any other).
pub fn rates(before: &Counts, after: &Counts, secs: f64) -> [f64; 9] {
    let mut out = [0.0; 9];
    let columns = [Outcome::Ok, TIMEOUT, INTERNAL, CANCELED, CONFLICT].map(Outcome::index);
    for (k, (kind, ..)) in MIX.iter().enumerate() {
        for i in 0..OUTCOMES {
            let n = (after[k][i] - before[k][i]) as f64 / secs;
            out[kind.group()] += n;
            out[3 + columns.iter().position(|c| *c == i).unwrap_or(5)] += n;
        }
    }
    out
}

/// A line of the sample table (its header for `None`).
pub fn sample_line(sample: Option<(Duration, Snapshot, [f64; 9])>) -> String {
    let Some((t, now, rates)) = sample else {
        return format!(
            "{:>5} {:>8} {:>7} {:>6} {:>8} | {:>8} {:>8} {:>8} | {:>8} {:>8} {:>8} {:>8} {:>8} {:>6}",
            "t s",
            "RSS MB",
            "tasks",
            "procs",
            "ops/s",
            "lua",
            "wasm",
            "process",
            "ok",
            "Timeout",
            "Internal",
            "Canceled",
            "Conflict",
            "other"
        );
    };
    let total: f64 = rates[..3].iter().sum();
    let mut line = format!(
        "{:>5.0} {:>8.1} {:>7} {:>6} {:>8.0} |",
        t.as_secs_f64(),
        mb(now.rss),
        now.tasks,
        now.procs,
        total
    );
    for (i, rate) in rates.iter().enumerate() {
        let width = if i == 8 { 6 } else { 8 };
        line += &format!(" {rate:>width$.0}{}", if i == 2 { " |" } else { "" });
    }
    line
}

impl Report {
    pub fn print(&self, s: &Settings) {
        let secs = self.load.load_secs;
        let stats = &self.load.stats;
        println!(
            "\nload: {secs:.1} s, drained in {:.2} s, settled {SETTLE:?}",
            self.load.drain_secs
        );
        println!(
            "{:<31} {:>5} {:>8} {:>8} {:>8}  outcomes (ops/s; ! = not the designed one)",
            "kind", "tasks", "ops/s", "mean ms", "max ms"
        );
        let mut total = 0;
        for ((kind, name, _, expected), (k, row)) in
            MIX.iter().zip(stats.kinds.iter().zip(stats.counts()))
        {
            let n: u64 = row.iter().sum();
            total += n;
            let outcomes: Vec<String> = (0..OUTCOMES)
                .filter(|&i| row[i] > 0)
                .map(|i| {
                    let mark = if i == expected.index() { "" } else { "!" };
                    format!("{mark}{} {:.0}", Outcome::name(i), row[i] as f64 / secs)
                })
                .collect();
            println!(
                "{name:<31} {:>5} {:>8.0} {:>8.2} {:>8.0}  {}",
                s.tasks_of(*kind),
                n as f64 / secs,
                k.total_micros.load(Ordering::Relaxed) as f64 / n.max(1) as f64 / 1e3,
                k.max_micros.load(Ordering::Relaxed) as f64 / 1e3,
                outcomes.join(", ")
            );
        }
        println!("{:<31} {:>5} {:>8.0}", "all", s.ops, total as f64 / secs);
        for surprise in stats.surprises.lock().unwrap().iter() {
            println!("unexpected, first of its kind: {surprise}");
        }
        let (b, p, e) = (&self.base, &self.load.peak, &self.end);
        println!("\n{:<24} {:>8} {:>8} {:>8}", "", "start", "peak", "end");
        let row = |name: &str, b: String, p: String, e: String| {
            println!("{name:<24} {b:>8} {p:>8} {e:>8}")
        };
        let mbs = |x: u64| format!("{:.1}", mb(x));
        row("RSS MB", mbs(b.rss), mbs(p.rss), mbs(e.rss));
        row("  in the WASM pool", mbs(b.pool), "".into(), mbs(e.pool));
        row("  the rest", mbs(b.rest()), "".into(), mbs(e.rest()));
        row(
            "alive tasks",
            b.tasks.to_string(),
            p.tasks.to_string(),
            e.tasks.to_string(),
        );
        row(
            "processes",
            b.procs.to_string(),
            p.procs.to_string(),
            e.procs.to_string(),
        );
        println!(
            "RSS in the load's second half: {:.1} MB at mid-load, {:.1} MB at its end",
            mb(self.load.rss_mid),
            mb(self.load.rss_last)
        );
    }
}

/// What keeps the end state from being flat (nothing when it is flat):
/// - every operation returned within [`DRAIN_BOUND`] of the stop (none is stuck);
/// - no process is alive, and alive tasks are back to the baseline (+ [`TASK_SLACK`]);
/// - RSS outside the WASM memory pool is within the larger of [`RSS_SLACK_BYTES`] and
///   [`RSS_SLACK_FRACTION`] of the baseline, and the pool within [`POOL_BOUND`].
pub fn verdict(r: &Report) -> Vec<String> {
    let mut problems = Vec::new();
    for (kind, n) in &r.load.stuck {
        problems.push(format!(
            "{n} operations of {kind} still running {DRAIN_BOUND:?} after the stop"
        ));
    }
    if r.end.procs > 0 {
        problems.push(format!("{} processes still alive", r.end.procs));
    }
    if r.end.tasks > r.base.tasks + TASK_SLACK {
        problems.push(format!(
            "{} alive tasks at the end, {} at the start (slack {TASK_SLACK})",
            r.end.tasks, r.base.tasks
        ));
    }
    let slack = RSS_SLACK_BYTES.max((r.base.rest() as f64 * RSS_SLACK_FRACTION) as u64);
    if r.end.rest() > r.base.rest() + slack {
        problems.push(format!(
            "RSS outside the WASM pool: {:.1} MB at the end, {:.1} MB at the start (slack {:.1} MB)",
            mb(r.end.rest()),
            mb(r.base.rest()),
            mb(slack)
        ));
    }
    if r.end.pool > POOL_BOUND {
        problems.push(format!(
            "the WASM memory pool holds {:.1} MB, more than its design bound of {:.0} MB",
            mb(r.end.pool),
            mb(POOL_BOUND)
        ));
    }
    problems
}

// ---------------------------------------------------------------------------------------
// Memory
// ---------------------------------------------------------------------------------------

/// The resident set size of this process, from /proc.
pub fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// The RSS of wasmtime's linear-memory pool, from /proc/self/smaps: the run of
/// adjacent mappings (anonymous, or a module's `/memfd:wasm-memory-image`) that spans
/// at least 1 TB. The pool reserves `2 × wasm.max_instances` slots of 4 GB plus guards;
/// a freed warm slot keeps up to 2 MiB of the pages its guest dirtied, by design.
pub fn wasm_pool() -> u64 {
    let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap_or_default();
    let (mut pool, mut run_size, mut run_rss, mut last_end, mut in_run) = (0, 0, 0, 0, false);
    for line in smaps.lines() {
        let mut words = line.split_whitespace();
        let first = words.next().unwrap_or("");
        if let Some((a, b)) = first.split_once('-')
            && let (Ok(a), Ok(b)) = (u64::from_str_radix(a, 16), u64::from_str_radix(b, 16))
        {
            let poolish = words
                .nth(4)
                .is_none_or(|name| name.starts_with("/memfd:wasm-memory-image"));
            if !(poolish && in_run && a == last_end) {
                if run_size >= 1 << 40 {
                    pool += run_rss;
                }
                (run_size, run_rss) = (0, 0);
            }
            (in_run, last_end) = (poolish, b);
            if poolish {
                run_size += b - a;
            }
        } else if first == "Rss:"
            && in_run
            && let Some(kb) = words.next()
        {
            run_rss += kb.parse::<u64>().unwrap_or(0) * 1024;
        }
    }
    if run_size >= 1 << 40 {
        pool += run_rss;
    }
    pool
}

/// Bytes in MiB.
pub fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

//! The terminal host: runs a CLI command (a `process.*` entry with `meta.command`) with
//! the terminal's stdio and arguments, and maps its result to an exit code (reference §6.4).

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use weft_core::{EntryId, Error, Result, Terminal, Value};
use weft_registry::Registry;

use crate::{Runtime, Spawn};

/// A CLI command: a `process.*` entry with `meta.command.name`.
#[derive(Clone, Debug, PartialEq)]
pub struct Command {
    /// The command name (`weft run <name>`).
    pub name: String,
    /// The one-line description (`meta.command.short`).
    pub short: String,
    /// The entry that runs.
    pub entry: EntryId,
}

/// Every command of the app, sorted by name (the first entry wins a duplicate name).
pub fn commands(registry: &Registry) -> Vec<Command> {
    let mut out: Vec<Command> = Vec::new();
    for entry in registry.all() {
        if !entry.kind.starts_with("process.") {
            continue;
        }
        let Some(name) = entry.meta_str("command.name") else {
            continue;
        };
        if out.iter().any(|c| c.name == name) {
            continue;
        }
        out.push(Command {
            name: name.to_string(),
            short: entry
                .meta_str("command.short")
                .unwrap_or_default()
                .to_string(),
            entry: entry.id.clone(),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The terminal host to run commands on: `wanted`, or the app's only `terminal.host`.
pub fn terminal_host(registry: &Registry, wanted: Option<&str>) -> Result<EntryId> {
    let hosts: Vec<EntryId> = registry
        .all()
        .iter()
        .filter(|e| e.kind == "terminal.host")
        .map(|e| e.id.clone())
        .collect();
    if let Some(wanted) = wanted {
        return hosts
            .into_iter()
            .find(|h| h.as_str() == wanted)
            .ok_or_else(|| Error::not_found(format!("terminal host not found: {wanted}")));
    }
    match hosts.as_slice() {
        [] => Err(Error::not_found("no terminal.host found in registry")),
        [one] => Ok(one.clone()),
        many => Err(Error::invalid(format!(
            "multiple terminal hosts found ({}), use --host to specify",
            many.iter()
                .map(EntryId::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// Runs the command `name` with `args` on the terminal host and returns the exit code.
///
/// The process gets the terminal (stdio and args) and a pid on the host. A string result
/// is printed to stdout; an error is printed to stderr and gives exit code 1.
pub async fn run_command(
    rt: &Arc<Runtime>,
    host: Option<&str>,
    name: &str,
    terminal: Arc<Terminal>,
) -> Result<i32> {
    let command = commands(&rt.registry)
        .into_iter()
        .find(|c| c.name == name)
        .ok_or_else(|| {
            Error::not_found(format!(
                "command \"{name}\" not found. Use 'weft run list' to see available commands"
            ))
        })?;
    let host = terminal_host(&rt.registry, host)?;
    let args = terminal
        .args()
        .iter()
        .map(|a| Value::str(a.as_str()))
        .collect();
    let mut spawn = Spawn::new(command.entry.as_str(), host.as_str(), args);
    spawn.terminal = Some(terminal.clone());
    let result = rt.processes.exec(rt, &rt.root_context(), spawn).await;
    Ok(report(&result, &terminal))
}

/// A new pid on `host`, in Wippy's string form `{host|id}`.
pub fn new_pid(host: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("{{{host}|{:#07x}}}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Prints a finished command's result as reference §6.4 says and returns its exit code.
pub fn report(result: &Result<Value>, terminal: &Terminal) -> i32 {
    match result {
        Err(e) => {
            let text = collapse_repeated_prefix(&e.to_string());
            let mut err = terminal.stderr().lock();
            let _ = writeln!(err, "{text}");
            let _ = err.flush();
            1
        }
        Ok(value) => {
            if let Value::Str(s) = value {
                let mut out = terminal.stdout().lock();
                let _ = out.write_all(s);
                let _ = out.write_all(b"\n");
                let _ = out.flush();
            }
            exit_code(value)
        }
    }
}

/// The exit code for a successful result value.
pub fn exit_code(value: &Value) -> i32 {
    match value {
        Value::Int(i) => i32::try_from(*i).unwrap_or(1),
        Value::Float(f) if f.is_finite() && f.abs() < i32::MAX as f64 => *f as i32,
        Value::Float(_) => 1,
        Value::Bool(b) => i32::from(!*b),
        _ => 0,
    }
}

/// Collapses a duplicated leading `x: x: ` once, as Wippy does.
fn collapse_repeated_prefix(text: &str) -> String {
    if let Some((head, rest)) = text.split_once(": ")
        && let Some(tail) = rest.strip_prefix(head).and_then(|r| r.strip_prefix(": "))
    {
        return format!("{head}: {tail}");
    }
    text.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_reference_table() {
        assert_eq!(exit_code(&Value::Nil), 0);
        assert_eq!(exit_code(&Value::str("hi")), 0);
        assert_eq!(exit_code(&Value::Int(3)), 3);
        assert_eq!(exit_code(&Value::Int(i64::MAX)), 1);
        assert_eq!(exit_code(&Value::Float(2.7)), 2);
        assert_eq!(exit_code(&Value::Float(f64::NAN)), 1);
        assert_eq!(exit_code(&Value::Bool(true)), 0);
        assert_eq!(exit_code(&Value::Bool(false)), 1);
        assert_eq!(exit_code(&Value::array(vec![])), 0);
    }

    #[test]
    fn repeated_prefix_is_collapsed_once() {
        assert_eq!(collapse_repeated_prefix("x: x: boom"), "x: boom");
        assert_eq!(collapse_repeated_prefix("x: y: boom"), "x: y: boom");
        assert_eq!(collapse_repeated_prefix("boom"), "boom");
    }

    #[test]
    fn pids_have_the_wippy_form() {
        let pid = new_pid("app:terminal");
        assert!(
            pid.starts_with("{app:terminal|0x") && pid.ends_with('}'),
            "{pid}"
        );
    }
}

//! The terminal host: runs a CLI command (a `process.*` entry with `meta.command`) with
//! the terminal's stdio and arguments, and maps its result to an exit code (reference §6.4).

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use weft_core::{EntryId, Error, Result, Value};
use weft_registry::Registry;

use crate::limits::HostLimits;
use crate::{Runtime, Spawn, Terminal};

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
/// The process gets the terminal (stdio and args, its lines capped by the host's
/// `max_line_bytes`) and a pid on the host; its arguments are the terminal's, as
/// [`ProcessFactory::command_args`](crate::ProcessFactory::command_args) makes them
/// (a bad one is printed like an error of the command, exit code 1). A string result
/// is printed to stdout; an error is printed to stderr and gives exit code 1, or the
/// `exit_code` its details carry (a guest's `wasi:cli/exit`).
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
    if let Some(entry) = rt.registry.get(host.as_str()) {
        let limits = HostLimits::of(&entry)?;
        terminal.limit_lines(limits.max_line_bytes, host.as_str());
    }
    // Typed by the body's parameters where its engine knows them (process.wasm);
    // a bad argument is the command's error, before anything runs.
    let args = match rt.factories.get(command.entry.as_str()) {
        Some((_, factory)) => factory.command_args(terminal.args()),
        None => Ok(terminal
            .args()
            .iter()
            .map(|a| Value::str(a.as_str()))
            .collect()),
    };
    let args = match args {
        Ok(args) => args,
        Err(e) => return Ok(report(&Err(e), &terminal)),
    };
    let mut spawn = Spawn::new(command.entry.as_str(), host.as_str(), args);
    spawn.terminal = Some(terminal.clone());
    let result = rt.processes.exec(rt, &rt.system_context(), spawn).await;
    Ok(report(&result, &terminal))
}

/// A new pid on `host`, in Wippy's string form `{host|id}`.
pub fn new_pid(host: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("{{{host}|{:#07x}}}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Prints a finished command's result as reference §6.4 says and returns its exit code.
///
/// An error is written as the terminal shows diagnostics ([`Terminal::with_diagnostics`])
/// and exits with 1, unless its details carry an integer `exit_code` (a WASM guest that
/// called `wasi:cli/exit` with a non-zero status): then with that code.
pub fn report(result: &Result<Value>, terminal: &Terminal) -> i32 {
    match result {
        Err(e) => {
            let text = collapse_repeated_prefix(&e.to_string());
            let text = terminal.diagnostic(&text);
            let mut err = terminal.stderr().lock();
            let _ = writeln!(err, "{text}");
            let _ = err.flush();
            error_exit_code(e)
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

/// The exit code for a failed command: the integer `details.exit_code` when it is a
/// usable process status (1 to 255), else 1: an error never exits with 0, and a status
/// the OS would truncate (256 is 0 on Unix) is not passed on.
pub fn error_exit_code(error: &Error) -> i32 {
    match error.details().and_then(|d| d.get("exit_code")) {
        Some(Value::Int(code @ 1..=255)) => *code as i32,
        _ => 1,
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

    /// A terminal whose stdout and stderr are kept in the returned buffers.
    fn captured() -> (Terminal, SharedBuf, SharedBuf) {
        let out = SharedBuf::default();
        let err = SharedBuf::default();
        let term = Terminal::new(
            vec![],
            Box::new(std::io::empty()),
            Box::new(out.clone()),
            Box::new(err.clone()),
        );
        (term, out, err)
    }

    #[derive(Clone, Default)]
    struct SharedBuf(Arc<parking_lot::Mutex<Vec<u8>>>);

    impl SharedBuf {
        fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock()).into_owned()
        }
    }

    impl Write for SharedBuf {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn exiting(code: Value) -> Error {
        Error::internal("app:cli: guest exited with status 3")
            .with_details(Some(Value::from_pairs([("exit_code", code)])))
    }

    #[test]
    fn an_error_with_an_exit_code_exits_with_it_and_is_printed() {
        let (term, out, err) = captured();
        assert_eq!(report(&Err(exiting(Value::Int(3))), &term), 3);
        assert_eq!(err.text(), "app:cli: guest exited with status 3\n");
        assert_eq!(out.text(), "");
    }

    #[test]
    fn other_errors_exit_with_1() {
        let (term, _, err) = captured();
        assert_eq!(report(&Err(Error::invalid("x: x: bad")), &term), 1);
        assert_eq!(err.text(), "x: bad\n");
        // Details without an integer exit_code, or one that is no usable code.
        for details in [
            Value::from_pairs([("other", Value::Int(4))]),
            Value::from_pairs([("exit_code", Value::str("4"))]),
            Value::from_pairs([("exit_code", Value::Float(4.0))]),
            Value::Int(4),
        ] {
            let e = Error::internal("boom").with_details(Some(details));
            assert_eq!(error_exit_code(&e), 1, "{e:?}");
        }
        for code in [0, -1, 256, i64::MAX] {
            assert_eq!(error_exit_code(&exiting(Value::Int(code))), 1, "{code}");
        }
        assert_eq!(error_exit_code(&exiting(Value::Int(255))), 255);
        assert_eq!(error_exit_code(&exiting(Value::Int(1))), 1);
        assert_eq!(error_exit_code(&exiting(Value::Int(42))), 42);
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

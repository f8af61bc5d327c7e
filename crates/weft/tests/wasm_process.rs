//! `process.wasm` entries as processes: spawned and monitored from Lua (EXIT events carry
//! the result or the error), run to completion with `process.exec`, traps and timeouts
//! ending only their process, `wasi:cli/exit`, and CLI commands on a terminal host (the
//! terminal's args and stdio reach the guest; reference §3.12, §4.5, §6.4).
//!
//! Guests from `guests/dist`: `funcs-user.wasm` (`compute(a, b)` = a * b, `exit-with`),
//! `trap.wasm`, `spin.wasm`, `wasi-user.wasm` (stdio, args).

use std::io::Write;
use std::sync::{Arc, Mutex};

use weft_core::{ErrorKind, Value};
use weft_runtime::{Runtime, Spawn, Terminal};

mod common;
use common::dist;

const HOST: &str = "t:processes";

/// A `process.wasm` entry for a guest in guests/dist, with extra YAML lines.
fn wasm_process(name: &str, guest: &str, method: &str, extra: &str) -> String {
    common::guest_entry("process.wasm", name, guest, method, extra)
}

/// The Lua process the tests drive: `main(op, id, args…)`.
///
/// - `monitored`: `process.spawn_monitored(id, HOST, args…)`, waits for its EXIT and
///   returns `{kind, same_from, value, error, error_kind, exit_code}`;
/// - `exec`: `process.exec(id, HOST, args…)`, returning `{value, error, error_kind}`;
/// - `exec_raw`: `process.exec` returning the result, or the error as the process' error;
/// - `many`: spawns `id` monitored `n` times with `args…`, returns the EXIT values.
const RUNNER: &str = r#"
local M = {}
local HOST = "t:processes"

local function exit_of(pid)
  local events = process.events()
  local deadline = time.after("10s")
  while true do
    local r = channel.select({ events:case_receive(), deadline:case_receive() })
    if r.channel == deadline then error("no EXIT from " .. pid) end
    if r.value.from == pid then return r.value end
  end
end

local function describe(e)
  if e == nil then return nil, nil, nil end
  local details = e:details()
  return tostring(e), e:kind(), details and details.exit_code
end

function M.main(op, id, ...)
  if op == "monitored" then
    local pid, err = process.spawn_monitored(id, HOST, ...)
    if err then return nil, err end
    local ev = exit_of(pid)
    local text, kind, code = describe(ev.result.error)
    return {
      kind = ev.kind, same_from = ev.from == pid, value = ev.result.value,
      error = text, error_kind = kind, exit_code = code,
    }
  elseif op == "exec" then
    local v, err = process.exec(id, HOST, ...)
    local text, kind, code = describe(err)
    return {value = v, error = text, error_kind = kind, exit_code = code}
  elseif op == "exec_raw" then
    local v, err = process.exec(id, HOST, ...)
    if err then return nil, err end
    return v
  elseif op == "many" then
    local n = ...
    local pids = {}
    for i = 1, n do
      local pid, err = process.spawn_monitored(id, HOST, select(2, ...))
      if err then return nil, err end
      pids[i] = pid
    end
    -- EXITs arrive in any order: collect them by pid.
    local exits, left = {}, n
    local events = process.events()
    local deadline = time.after("10s")
    while left > 0 do
      local r = channel.select({ events:case_receive(), deadline:case_receive() })
      if r.channel == deadline then error(left .. " EXITs missing") end
      if exits[r.value.from] == nil then left = left - 1 end
      exits[r.value.from] = r.value.result
    end
    local values = {}
    for i, pid in ipairs(pids) do
      local result = exits[pid]
      if result == nil then error("no EXIT from " .. pid) end
      if result.error then return nil, result.error end
      values[i] = result.value
    end
    return values
  end
  error("unknown op " .. tostring(op))
end

return M
"#;

struct App {
    _dir: tempfile::TempDir,
    rt: Arc<Runtime>,
}

impl App {
    /// Boots an app with a process host, a terminal host, the guests, the Lua runner
    /// (`t:runner`) and `entries`.
    async fn boot(entries: &str) -> App {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::write(root.join(".wippy.yaml"), "version: \"1.0\"\n").unwrap();
        std::fs::write(root.join("src/runner.lua"), RUNNER).unwrap();
        let index = format!(
            "namespace: t\nentries:\n  - {{name: processes, kind: process.host, lifecycle: {{auto_start: true}}}}\n  - {{name: terminal, kind: terminal.host, lifecycle: {{auto_start: true}}}}\n  - {{name: guests, kind: fs.directory, directory: {}}}\n  - {{name: runner, kind: process.lua, source: file://runner.lua, method: main, modules: [time]}}\n{entries}",
            dist().display()
        );
        std::fs::write(root.join("src/_index.yaml"), index).unwrap();
        match common::boot_dir(root).await {
            Ok(rt) => App { _dir: dir, rt },
            Err(e) => panic!("boot failed:\n{e}"),
        }
    }

    /// Runs the Lua runner with `op`, the entry id and `args` on the process host.
    async fn run(&self, op: &str, id: &str, args: Vec<Value>) -> weft_core::Result<Value> {
        let mut all = vec![Value::str(op), Value::str(id)];
        all.extend(args);
        self.exec(Spawn::new("t:runner", HOST, all)).await
    }

    async fn exec(&self, spawn: Spawn) -> weft_core::Result<Value> {
        self.rt
            .processes
            .exec(&self.rt, &self.rt.root_context(), spawn)
            .await
    }
}

fn field<'v>(v: &'v Value, key: &str) -> Option<&'v Value> {
    v.get(key)
}

fn text_of(v: &Value, key: &str) -> String {
    field(v, key)
        .map(Value::to_display_string)
        .unwrap_or_default()
}

const COMPUTE: &str = "t:compute";

fn compute_entry() -> String {
    wasm_process("compute", "funcs-user", "compute", "")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawn_monitored_wasm_process_sends_exit_with_its_result() {
    let app = App::boot(&compute_entry()).await;
    let ev = app
        .run("monitored", COMPUTE, vec![Value::Int(6), Value::Int(7)])
        .await
        .unwrap();
    assert_eq!(text_of(&ev, "kind"), "pid.exit", "{ev:?}");
    assert_eq!(field(&ev, "same_from"), Some(&Value::Bool(true)), "{ev:?}");
    assert_eq!(field(&ev, "value"), Some(&Value::Int(42)), "{ev:?}");
    assert_eq!(field(&ev, "error"), None, "{ev:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_of_a_wasm_process_returns_its_result() {
    let app = App::boot(&compute_entry()).await;
    // From Lua.
    let out = app
        .run("exec", COMPUTE, vec![Value::Int(6), Value::Int(7)])
        .await
        .unwrap();
    assert_eq!(field(&out, "value"), Some(&Value::Int(42)), "{out:?}");
    assert_eq!(field(&out, "error"), None, "{out:?}");
    // From Rust, through the same process table.
    let v = app
        .exec(Spawn::new(
            COMPUTE,
            HOST,
            vec![Value::Int(-3), Value::Int(5)],
        ))
        .await
        .unwrap();
    assert_eq!(v, Value::Int(-15));
    // Wrong arguments fail the process, not the caller.
    let out = app.run("exec", COMPUTE, vec![Value::Int(6)]).await.unwrap();
    assert!(
        text_of(&out, "error").contains("expected 2 arguments, got 1"),
        "{out:?}"
    );
    assert_eq!(text_of(&out, "error_kind"), "Invalid", "{out:?}");
    // A process.wasm is a process, not a function.
    let err = app
        .rt
        .functions
        .call(&app.rt.root_context(), COMPUTE, vec![])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traps_and_timeouts_end_the_process_with_an_error_and_the_runtime_goes_on() {
    let app = App::boot(
        &[
            compute_entry(),
            wasm_process("trap", "trap", "unreachable-trap", ""),
            wasm_process("divide", "trap", "divide", ""),
            wasm_process(
                "spin",
                "spin",
                "spin-forever",
                "    limits: {max_execution_ms: 100}\n",
            ),
        ]
        .concat(),
    )
    .await;
    let before = app.rt.processes.len();

    let ev = app.run("monitored", "t:trap", vec![]).await.unwrap();
    assert_eq!(text_of(&ev, "kind"), "pid.exit", "{ev:?}");
    assert_eq!(field(&ev, "value"), None, "{ev:?}");
    assert!(text_of(&ev, "error").contains("wasm trap"), "{ev:?}");
    assert_eq!(text_of(&ev, "error_kind"), "Internal", "{ev:?}");

    let ev = app
        .run("monitored", "t:divide", vec![Value::Int(1), Value::Int(0)])
        .await
        .unwrap();
    assert!(text_of(&ev, "error").contains("wasm trap"), "{ev:?}");
    let ev = app
        .run("monitored", "t:divide", vec![Value::Int(42), Value::Int(6)])
        .await
        .unwrap();
    assert_eq!(field(&ev, "value"), Some(&Value::Int(7)), "{ev:?}");

    let ev = app.run("monitored", "t:spin", vec![]).await.unwrap();
    assert_eq!(field(&ev, "value"), None, "{ev:?}");
    assert_eq!(text_of(&ev, "error_kind"), "Timeout", "{ev:?}");
    assert!(
        text_of(&ev, "error").contains("t:spin") && text_of(&ev, "error").contains("100 ms"),
        "{ev:?}"
    );

    // The runtime goes on: other processes run, and the failed ones are gone.
    let values = app
        .run(
            "many",
            COMPUTE,
            vec![Value::Int(20), Value::Int(6), Value::Int(7)],
        )
        .await
        .unwrap();
    let values = values.as_array().expect("an array of values");
    assert_eq!(values.len(), 20);
    assert!(values.iter().all(|v| *v == Value::Int(42)), "{values:?}");
    assert_eq!(app.rt.processes.len(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wasi_exit_status_ends_a_wasm_process() {
    let app = App::boot(&wasm_process(
        "exit",
        "funcs-user",
        "exit-with",
        "    imports: [wasi:cli]\n",
    ))
    .await;
    // Status 0: a successful run with no result.
    let v = app
        .exec(Spawn::new("t:exit", HOST, vec![Value::Int(0)]))
        .await
        .unwrap();
    assert_eq!(v, Value::Nil);
    // Non-zero (Rust's std passes only ok/err through WASI 0.2: any code arrives as 1).
    let err = app
        .exec(Spawn::new("t:exit", HOST, vec![Value::Int(3)]))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Internal, "{err}");
    assert!(
        err.to_string().contains("guest exited with status 1"),
        "{err}"
    );
    assert_eq!(
        err.details().and_then(|d| d.get("exit_code")),
        Some(&Value::Int(1)),
        "{err:?}"
    );
    // Monitors see the error, with its details.
    let ev = app
        .run("monitored", "t:exit", vec![Value::Int(3)])
        .await
        .unwrap();
    assert!(
        text_of(&ev, "error").contains("guest exited with status 1"),
        "{ev:?}"
    );
    assert_eq!(field(&ev, "exit_code"), Some(&Value::Int(1)), "{ev:?}");
    let ev = app
        .run("monitored", "t:exit", vec![Value::Int(0)])
        .await
        .unwrap();
    assert_eq!(field(&ev, "error"), None, "{ev:?}");
    // A Lua process that returns the error keeps the exit code for the terminal.
    let err = app
        .run("exec_raw", "t:exit", vec![Value::Int(3)])
        .await
        .unwrap_err();
    assert_eq!(
        err.details().and_then(|d| d.get("exit_code")),
        Some(&Value::Int(1)),
        "{err:?}"
    );
}

/// A terminal with the given args, no input, and stdout/stderr kept in buffers.
fn captured(args: &[&str]) -> (Arc<Terminal>, Buf, Buf) {
    let out = Buf::default();
    let err = Buf::default();
    let term = Terminal::new(
        args.iter().map(|a| a.to_string()).collect(),
        Box::new(std::io::empty()),
        Box::new(out.clone()),
        Box::new(err.clone()),
    );
    (Arc::new(term), out, err)
}

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Buf {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Buf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const USER: &str = "wasi-user";

fn command(name: &str, guest: &str, method: &str, extra: &str) -> String {
    wasm_process(
        name,
        guest,
        method,
        &format!("    meta: {{command: {{name: {name}}}}}\n{extra}"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_gets_the_terminal_args_and_stdio() {
    let app = App::boot(
        &[
            command("say", USER, "print-line", "    imports: [wasi:cli]\n"),
            command("warn", USER, "eprint-line", "    imports: [wasi:cli]\n"),
            command("args", USER, "get-args", "    imports: [wasi:cli]\n"),
            command(
                "fixed_args",
                USER,
                "get-args",
                "    imports: [wasi:cli]\n    wasi: {args: [tool, -v]}\n",
            ),
            command(
                "exit",
                "funcs-user",
                "exit-with",
                "    imports: [wasi:cli]\n",
            ),
        ]
        .concat(),
    )
    .await;

    // The CLI args are the parameters; the guest's stdout is the terminal's.
    let (term, out, err) = captured(&["hello there"]);
    let code = weft_runtime::run_command(&app.rt, None, "say", term)
        .await
        .unwrap();
    assert_eq!(
        (code, out.text(), err.text()),
        (0, "hello there\n".into(), String::new())
    );

    let (term, out, err) = captured(&["oops"]);
    let code = weft_runtime::run_command(&app.rt, None, "warn", term)
        .await
        .unwrap();
    assert_eq!(
        (code, out.text(), err.text()),
        (0, String::new(), "oops\n".into())
    );

    // A one-parameter export run without arguments: a count mismatch, exit code 1.
    let (term, out, err) = captured(&[]);
    let code = weft_runtime::run_command(&app.rt, None, "say", term)
        .await
        .unwrap();
    assert_eq!(code, 1);
    assert_eq!(out.text(), "");
    assert!(
        err.text()
            .contains("expected 1 argument (s: string), got 0"),
        "{}",
        err.text()
    );

    // The terminal's args are also wasi:cli/environment.get-arguments unless `wasi.args`
    // is set. (As a command the args would also be parameters, which get-args does not
    // take: run the process with the terminal and no parameters.)
    let (term, _, _) = captured(&["a", "b c"]);
    let mut spawn = Spawn::new("t:args", "t:terminal", vec![]);
    spawn.terminal = Some(term.clone());
    let v = app.exec(spawn).await.unwrap();
    assert_eq!(v, Value::array(vec![Value::str("a"), Value::str("b c")]));
    let mut spawn = Spawn::new("t:fixed_args", "t:terminal", vec![]);
    spawn.terminal = Some(term);
    let v = app.exec(spawn).await.unwrap();
    assert_eq!(v, Value::array(vec![Value::str("tool"), Value::str("-v")]));

    // wasi:cli/exit: the error is printed and its status is the exit code.
    let (term, _, err) = captured(&[]);
    let mut spawn = Spawn::new("t:exit", "t:terminal", vec![Value::Int(5)]);
    spawn.terminal = Some(term.clone());
    let result = app.exec(spawn).await;
    assert_eq!(weft_runtime::report(&result, &term), 1);
    assert!(
        err.text().contains("t:exit: guest exited with status 1"),
        "{}",
        err.text()
    );
    let (term, out, err) = captured(&[]);
    let mut spawn = Spawn::new("t:exit", "t:terminal", vec![Value::Int(0)]);
    spawn.terminal = Some(term.clone());
    let result = app.exec(spawn).await;
    assert_eq!(weft_runtime::report(&result, &term), 0);
    assert_eq!((out.text(), err.text()), (String::new(), String::new()));
}

//! `io`: the terminal of a CLI process (reference §4.10). Outside a terminal frame every
//! function returns `nil, "no terminal context"`.

use std::io::{Read, Write};
use std::sync::Arc;

use mlua::{Lua, MultiValue, Table, Value as LuaValue};
use weft_runtime::Terminal;

use crate::{errors, frame};

/// The plain-string error of `io` outside a terminal.
const NO_TERMINAL: &str = "no terminal context";

/// Builds the `io` module table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "write",
        lua.create_function(|lua, args: MultiValue| write_out(lua, &args, "", false))?,
    )?;
    t.set(
        "print",
        lua.create_function(|lua, args: MultiValue| write_out(lua, &args, "\t", true))?,
    )?;
    t.set(
        "eprint",
        lua.create_function(|lua, args: MultiValue| {
            let Some(term) = terminal(lua) else {
                return Ok((
                    LuaValue::Nil,
                    LuaValue::String(lua.create_string(NO_TERMINAL)?),
                ));
            };
            let line = join(&args, "\t");
            let mut err = term.stderr().lock();
            let ok = writeln!(err, "{line}").and_then(|_| err.flush()).is_ok();
            Ok((LuaValue::Boolean(ok), LuaValue::Nil))
        })?,
    )?;
    t.set(
        "flush",
        lua.create_function(|lua, ()| {
            let Some(term) = terminal(lua) else {
                return Ok((
                    LuaValue::Nil,
                    LuaValue::String(lua.create_string(NO_TERMINAL)?),
                ));
            };
            let ok = term.stdout().lock().flush().is_ok();
            Ok((LuaValue::Boolean(ok), LuaValue::Nil))
        })?,
    )?;
    t.set(
        "read",
        lua.create_async_function(|lua, n: Option<usize>| async move {
            let Some(term) = terminal(&lua) else {
                return Ok((
                    LuaValue::Nil,
                    LuaValue::String(lua.create_string(NO_TERMINAL)?),
                ));
            };
            let n = n.unwrap_or(1024).min(1 << 24);
            let read = blocking(term, move |t| {
                let mut buf = vec![0u8; n];
                let got = t.stdin().lock().read(&mut buf)?;
                buf.truncate(got);
                Ok(buf)
            })
            .await;
            match read {
                Ok(bytes) if bytes.is_empty() && n > 0 => {
                    Ok((LuaValue::Nil, LuaValue::String(lua.create_string("EOF")?)))
                }
                Ok(bytes) => Ok((LuaValue::String(lua.create_string(bytes)?), LuaValue::Nil)),
                Err(e) => Ok((LuaValue::Nil, LuaValue::String(lua.create_string(e)?))),
            }
        })?,
    )?;
    t.set(
        "readline",
        lua.create_async_function(|lua, ()| async move {
            let Some(term) = terminal(&lua) else {
                return Ok((
                    LuaValue::Nil,
                    LuaValue::String(lua.create_string(NO_TERMINAL)?),
                ));
            };
            // At most the host's `max_line_bytes` are read; a longer line is an error
            // object (Invalid, naming the cap).
            let read = blocking(term, |t| Ok(t.read_line())).await;
            match read {
                Ok(Ok(None)) => Ok((LuaValue::Nil, LuaValue::String(lua.create_string("EOF")?))),
                Ok(Ok(Some(line))) => {
                    Ok((LuaValue::String(lua.create_string(line)?), LuaValue::Nil))
                }
                Ok(Err(e)) => errors::fail(&lua, e),
                Err(e) => Ok((LuaValue::Nil, LuaValue::String(lua.create_string(e)?))),
            }
        })?,
    )?;
    t.set(
        "args",
        lua.create_function(|lua, ()| {
            let args = terminal(lua).map(|t| t.args().to_vec()).unwrap_or_default();
            lua.create_sequence_from(args)
        })?,
    )?;
    t.set(
        "raw",
        lua.create_function(|lua, _: bool| Ok(terminal(lua).is_some()))?,
    )?;
    Ok(t)
}

fn terminal(lua: &Lua) -> Option<Arc<Terminal>> {
    frame::current(lua).handle::<Terminal>()
}

/// `io.write` / `io.print`: writes the arguments to stdout.
fn write_out(
    lua: &Lua,
    args: &MultiValue,
    sep: &str,
    newline: bool,
) -> mlua::Result<(LuaValue, LuaValue)> {
    let Some(term) = terminal(lua) else {
        return Ok((
            LuaValue::Nil,
            LuaValue::String(lua.create_string(NO_TERMINAL)?),
        ));
    };
    let mut text = join(args, sep).into_bytes();
    if newline {
        text.push(b'\n');
    }
    let mut out = term.stdout().lock();
    let ok = out.write_all(&text).and_then(|_| out.flush()).is_ok();
    Ok((LuaValue::Boolean(ok), LuaValue::Nil))
}

fn join(args: &MultiValue, sep: &str) -> String {
    args.iter()
        .map(|v| match v {
            LuaValue::String(s) => s.to_string_lossy(),
            other => other.to_string().unwrap_or_default(),
        })
        .collect::<Vec<_>>()
        .join(sep)
}

/// Runs a blocking terminal read off the runtime's worker threads.
async fn blocking<T: Send + 'static>(
    term: Arc<Terminal>,
    read: impl FnOnce(&Terminal) -> std::io::Result<T> + Send + 'static,
) -> Result<T, String> {
    match tokio::task::spawn_blocking(move || read(&term)).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

//! `websocket`: outbound WebSocket connections (`wippy-modules/websocket.md`) over
//! `weft-http`'s client ([`weft_http::ws_connect`]), checked in the caller's context
//! (`websocket.connect` on the URL).
//!
//! - `connect(url, opts?)` → `client, nil` or `nil, err`; yields until the handshake is
//!   done. Options: `headers`, `protocols`, `dial_timeout` (a Go duration string, or a
//!   float of milliseconds; an integer is ignored, as Wippy's `parseDuration` does, and
//!   the 30 s default applies), `write_timeout` (the same forms; bounds each `send`),
//!   `read_limit` (bytes, 0–134217728; 0 is tungstenite's 64 MiB), `channel_capacity`
//!   (1–10000, default 32). `read_timeout`, `compression` and `compression_threshold`
//!   are accepted and ignored (weft's client has no permessage-deflate).
//! - `client:send(data, type?)` (`websocket.TEXT` 1, `websocket.BINARY` 2), `ping()`,
//!   `close(code?, reason?)`: `true` or `nil, err`.
//! - `client:channel()` / `client:receive()`: one channel of `{type = "text"|"binary",
//!   data}` tables, closed when the connection ends. A reader that falls behind fills it,
//!   and then nothing more is read from the socket (TCP pushes back on the server).

use std::sync::Arc;
use std::time::Duration;

use mlua::{Lua, Table, UserData, UserDataMethods, Value as LuaValue};
use weft_core::{Error, Value};
use weft_http::{WsConnectOptions, WsMessage, WsSender};

use crate::chan::{Item, LuaChannel};
use crate::{errors, frame, run};

/// Builds the `websocket` module table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    for (k, v) in [
        ("TYPE_TEXT", "text"),
        ("TYPE_BINARY", "binary"),
        ("TYPE_PING", "ping"),
        ("TYPE_PONG", "pong"),
        ("TYPE_CLOSE", "close"),
    ] {
        t.set(k, v)?;
    }
    t.set("TEXT", 1)?;
    t.set("BINARY", 2)?;
    let compression = lua.create_table()?;
    compression.set("DISABLED", 0)?;
    compression.set("CONTEXT_TAKEOVER", 1)?;
    compression.set("NO_CONTEXT", 2)?;
    t.set("COMPRESSION", compression)?;
    let codes = lua.create_table()?;
    for (k, v) in [
        ("NORMAL", 1000),
        ("GOING_AWAY", 1001),
        ("PROTOCOL_ERROR", 1002),
        ("UNSUPPORTED_DATA", 1003),
        ("RESERVED", 1004),
        ("NO_STATUS", 1005),
        ("ABNORMAL_CLOSURE", 1006),
        ("INVALID_PAYLOAD", 1007),
        ("POLICY_VIOLATION", 1008),
        ("MESSAGE_TOO_BIG", 1009),
        ("MANDATORY_EXTENSION", 1010),
        ("INTERNAL_ERROR", 1011),
        ("SERVICE_RESTART", 1012),
        ("TRY_AGAIN_LATER", 1013),
        ("BAD_GATEWAY", 1014),
        ("TLS_HANDSHAKE", 1015),
    ] {
        codes.set(k, v)?;
    }
    t.set("CLOSE_CODES", codes)?;
    t.set("connect", lua.create_async_function(connect)?)?;
    Ok(t)
}

/// What `connect` reads of its options.
struct Options {
    connect: WsConnectOptions,
    write_timeout: Option<Duration>,
    capacity: usize,
}

fn options(opts: &LuaValue) -> Result<Options, Error> {
    let mut out = Options {
        connect: WsConnectOptions::default(),
        write_timeout: None,
        capacity: 32,
    };
    let t = match opts {
        LuaValue::Nil => return Ok(out),
        LuaValue::Table(t) => t,
        other => {
            return Err(Error::invalid(format!(
                "options must be a table, got {}",
                other.type_name()
            )));
        }
    };
    let get = |k: &str| t.raw_get::<LuaValue>(k).unwrap_or(LuaValue::Nil);
    if let LuaValue::Table(h) = get("headers") {
        for pair in h.pairs::<LuaValue, LuaValue>() {
            let (k, v) = pair.map_err(|e| Error::invalid(e.to_string()))?;
            let text = |v: &LuaValue| match v {
                LuaValue::String(s) => Some(s.to_string_lossy()),
                LuaValue::Integer(n) => Some(n.to_string()),
                LuaValue::Number(n) => Some(n.to_string()),
                _ => None,
            };
            match (text(&k), text(&v)) {
                (Some(k), Some(v)) => out.connect.headers.push((k, v)),
                _ => return Err(Error::invalid("headers must map strings to strings")),
            }
        }
    }
    if let LuaValue::Table(p) = get("protocols") {
        for v in p.sequence_values::<LuaValue>() {
            if let Ok(LuaValue::String(s)) = v {
                out.connect.protocols.push(s.to_string_lossy());
            }
        }
    }
    out.connect.dial_timeout = duration(&get("dial_timeout"), "dial_timeout")?;
    out.write_timeout = duration(&get("write_timeout"), "write_timeout")?;
    duration(&get("read_timeout"), "read_timeout")?;
    match get("read_limit") {
        LuaValue::Integer(n) if (0..=134_217_728).contains(&n) => {
            out.connect.read_limit = (n > 0).then_some(n as usize);
        }
        LuaValue::Nil => {}
        _ => return Err(Error::invalid("read_limit must be 0–134217728 bytes")),
    }
    match get("channel_capacity") {
        LuaValue::Integer(n) if (1..=10_000).contains(&n) => out.capacity = n as usize,
        LuaValue::Nil => {}
        _ => return Err(Error::invalid("channel_capacity must be 1–10000")),
    }
    Ok(out)
}

/// Wippy's `parseDuration`: a Go duration string, or a float of milliseconds; an
/// integer (or zero) is ignored.
fn duration(v: &LuaValue, key: &str) -> Result<Option<Duration>, Error> {
    match v {
        LuaValue::String(s) => weft_time::parse_std_duration(&s.to_string_lossy())
            .map(|d| (!d.is_zero()).then_some(d))
            .map_err(|e| Error::invalid(format!("{key}: {e}"))),
        LuaValue::Number(ms) if ms.is_finite() && *ms > 0.0 => {
            Ok(Some(Duration::from_secs_f64(ms / 1000.0)))
        }
        _ => Ok(None),
    }
}

async fn connect(
    lua: Lua,
    (url, opts): (LuaValue, LuaValue),
) -> mlua::Result<(LuaValue, LuaValue)> {
    let LuaValue::String(url) = url else {
        return errors::fail(&lua, Error::invalid("url must be a string"));
    };
    let url = url.to_string_lossy();
    let opts = match options(&opts) {
        Ok(o) => o,
        Err(e) => return errors::fail(&lua, e),
    };
    let cx = frame::current(&lua);
    let (sender, mut receiver) = match weft_http::ws_connect(&cx, &url, &opts.connect).await {
        Ok(pair) => pair,
        Err(e) => return errors::fail(&lua, e),
    };
    let channel = LuaChannel::new(opts.capacity);
    let tx = channel.0.clone();
    run::spawn_task(&lua, async move {
        while let Some(msg) = receiver.recv().await {
            let (kind, data) = match msg {
                WsMessage::Text(t) => ("text", Value::str(t)),
                WsMessage::Binary(b) => ("binary", Value::bytes(b)),
            };
            let mut m = weft_core::Map::new();
            m.insert("type".into(), Value::str(kind));
            m.insert("data".into(), data);
            if tx.send(Item::Value(Value::Map(Arc::new(m)))).await.is_err() {
                break;
            }
        }
        tx.close();
    });
    let client = Client {
        sender: Arc::new(tokio::sync::Mutex::new(Some(sender))),
        channel,
        write_timeout: opts.write_timeout,
    };
    Ok((
        LuaValue::UserData(lua.create_userdata(client)?),
        LuaValue::Nil,
    ))
}

/// A connection: `send`, `channel`/`receive`, `ping`, `close`.
struct Client {
    sender: Arc<tokio::sync::Mutex<Option<WsSender>>>,
    channel: LuaChannel,
    write_timeout: Option<Duration>,
}

impl Client {
    /// Runs `op` on the sender, within the write timeout; `true` or `nil, err`.
    async fn with_sender<F>(&self, lua: &Lua, op: F) -> mlua::Result<(LuaValue, LuaValue)>
    where
        F: AsyncFnOnce(&mut WsSender) -> weft_core::Result<()>,
    {
        let mut guard = self.sender.lock().await;
        let Some(sender) = guard.as_mut() else {
            return errors::fail(lua, Error::invalid("websocket connection is closed"));
        };
        let result = match self.write_timeout {
            Some(d) => match tokio::time::timeout(d, op(sender)).await {
                Ok(r) => r,
                Err(_) => Err(Error::new(
                    weft_core::ErrorKind::Timeout,
                    format!("websocket write timed out after {d:?}"),
                )),
            },
            None => op(sender).await,
        };
        match result {
            Ok(()) => Ok((LuaValue::Boolean(true), LuaValue::Nil)),
            Err(e) => errors::fail(lua, e),
        }
    }
}

impl UserData for Client {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_async_method(
            "send",
            |lua, this, (data, kind): (mlua::LuaString, Option<i64>)| async move {
                let msg = match kind.unwrap_or(1) {
                    1 => WsMessage::Text(data.to_string_lossy()),
                    2 => WsMessage::Binary(data.as_bytes().to_vec()),
                    other => {
                        return errors::fail(
                            &lua,
                            Error::invalid(format!(
                                "invalid message type {other}: websocket.TEXT (1) or websocket.BINARY (2)"
                            )),
                        );
                    }
                };
                this.with_sender(&lua, async |s| s.send(msg).await).await
            },
        );
        methods.add_method("channel", |_, this, ()| Ok(this.channel.clone()));
        methods.add_method("receive", |_, this, ()| Ok(this.channel.clone()));
        methods.add_async_method("ping", |lua, this, ()| async move {
            this.with_sender(&lua, async |s| s.ping().await).await
        });
        methods.add_async_method(
            "close",
            |lua, this, (code, reason): (Option<i64>, Option<String>)| async move {
                let code = code.unwrap_or(1000);
                if !(1000..=4999).contains(&code) {
                    return errors::fail(
                        &lua,
                        Error::invalid(format!("invalid close code {code}: 1000–4999")),
                    );
                }
                let reason = reason.unwrap_or_default();
                let result = this
                    .with_sender(&lua, async |s| s.close(code as u16, &reason).await)
                    .await;
                this.sender.lock().await.take();
                result
            },
        );
        methods.add_meta_method(mlua::MetaMethod::ToString, |_, _, ()| {
            Ok("websocket.Client")
        });
    }
}

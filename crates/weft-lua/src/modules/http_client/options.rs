//! Reading `http_client` options (reference §3.2) from a Lua table into a
//! [`weft_http::Request`], with weft's answers to Wippy's quirks (§7.10):
//!
//! - A value that should be text (`headers`, `query`, `form`, `cookies`, `auth`, `body`,
//!   keys included) may be a string or a number (converted to its Lua text: `1`,
//!   `1.5`); anything else is Invalid naming the option and key (Wippy drops it).
//! - `timeout`: a number of seconds, fractions honoured (`0.5` is 500 ms; Wippy
//!   truncates to 0 and so waits 30 s), or a Go duration string; 0 is the default
//!   (30 s); a negative, non-finite or unparsable timeout is Invalid (Wippy ignores a bad
//!   string).
//! - `files`: each entry needs `name` and `content` (a string) or `reader` (a stream,
//!   or anything with a `read` method, read whole); a bad entry is Invalid naming its
//!   index (Wippy skips it). `filename` is optional; `content_type` is honoured
//!   (Wippy sends every part as `application/octet-stream`).
//! - `stream` must be a boolean, `max_response_body` a non-negative integer (0: the
//!   default), `unix_socket` a string, `tls` a table; `overlay_network` is Invalid
//!   (weft has no overlay networks). Other keys are ignored, as in Wippy.

use bytes::Bytes;
use mlua::{Lua, ObjectLike, Table, Value as LuaValue};
use weft_core::{Error, Result};
use weft_http::{BasicAuth, FilePart, Request, TlsOptions};

/// `method` and `url` with the options in `opts` (nil: none).
pub async fn request(lua: &Lua, method: String, url: String, opts: &LuaValue) -> Result<Request> {
    let mut req = Request::new(method, url);
    let t = match opts {
        LuaValue::Nil => return Ok(req),
        LuaValue::Table(t) => t,
        other => {
            return Err(Error::invalid(format!(
                "options must be a table, got {}",
                other.type_name()
            )));
        }
    };
    req.headers = pairs(t, "headers")?;
    req.query = pairs(t, "query")?;
    req.cookies = pairs(t, "cookies")?;
    let form: LuaValue = get(t, "form")?;
    if !form.is_nil() {
        req.form = Some(pairs(t, "form")?);
    }
    match get(t, "body")? {
        LuaValue::Nil => {}
        v => req.body = Some(Bytes::from(bytes(&v, "body")?)),
    }
    req.auth = auth(t)?;
    req.timeout = timeout(&get(t, "timeout")?)?;
    req.stream = match get(t, "stream")? {
        LuaValue::Nil => false,
        LuaValue::Boolean(b) => b,
        other => return Err(mistyped("stream", "a boolean", &other)),
    };
    req.max_response_body = max_body(&get(t, "max_response_body")?)?;
    req.unix_socket = match get(t, "unix_socket")? {
        LuaValue::Nil => None,
        v => Some(text(&v, "unix_socket")?),
    };
    req.tls = tls(t)?;
    if !get(t, "overlay_network")?.is_nil() {
        return Err(Error::invalid(
            "overlay_network is not supported (weft has no overlay networks)",
        ));
    }
    req.files = files(lua, t).await?;
    Ok(req)
}

fn get(t: &Table, key: &str) -> Result<LuaValue> {
    t.raw_get(key)
        .map_err(|e| Error::invalid(format!("options.{key}: {e}")))
}

fn mistyped(what: &str, expected: &str, got: &LuaValue) -> Error {
    Error::invalid(format!(
        "{what} must be {expected}, got {}",
        got.type_name()
    ))
}

/// A string's text (UTF-8) or a number's Lua text.
fn text(v: &LuaValue, what: &str) -> Result<String> {
    match v {
        LuaValue::String(s) => s
            .to_str()
            .map(|s| s.to_string())
            .map_err(|_| Error::invalid(format!("{what} must be UTF-8 text"))),
        LuaValue::Integer(i) => Ok(i.to_string()),
        LuaValue::Number(n) => Ok(weft_core::Value::Float(*n).to_display_string()),
        other => Err(mistyped(what, "a string or a number", other)),
    }
}

/// A string's bytes (any) or a number's Lua text.
fn bytes(v: &LuaValue, what: &str) -> Result<Vec<u8>> {
    match v {
        LuaValue::String(s) => Ok(s.as_bytes().to_vec()),
        other => text(other, what).map(String::into_bytes),
    }
}

/// The `{key = value}` table under `key`, as text pairs sorted by key (a Lua table
/// has no order; sorting keeps requests reproducible).
fn pairs(t: &Table, key: &str) -> Result<Vec<(String, String)>> {
    let inner = match get(t, key)? {
        LuaValue::Nil => return Ok(Vec::new()),
        LuaValue::Table(inner) => inner,
        other => return Err(mistyped(key, "a table", &other)),
    };
    let mut out = Vec::new();
    for pair in inner.pairs::<LuaValue, LuaValue>() {
        let (k, v) = pair.map_err(|e| Error::invalid(format!("{key}: {e}")))?;
        let name = text(&k, &format!("{key} key"))?;
        let value = text(&v, &format!("{key}.{name}"))?;
        out.push((name, value));
    }
    out.sort();
    Ok(out)
}

fn auth(t: &Table) -> Result<Option<BasicAuth>> {
    let a = match get(t, "auth")? {
        LuaValue::Nil => return Ok(None),
        LuaValue::Table(a) => a,
        other => return Err(mistyped("auth", "a table {user=, pass=}", &other)),
    };
    let field = |name: &str| -> Result<String> {
        let v: LuaValue = a
            .raw_get(name)
            .map_err(|e| Error::invalid(format!("auth.{name}: {e}")))?;
        text(&v, &format!("auth.{name}"))
    };
    Ok(Some(BasicAuth {
        user: field("user")?,
        pass: field("pass")?,
    }))
}

/// `timeout`: seconds (fractions honoured) or a Go duration string.
fn timeout(v: &LuaValue) -> Result<Option<std::time::Duration>> {
    let seconds = match v {
        LuaValue::Nil => return Ok(None),
        LuaValue::Integer(i) => *i as f64,
        LuaValue::Number(n) => *n,
        LuaValue::String(s) => {
            let s = s.to_string_lossy();
            let nanos = weft_time::parse_duration(&s)
                .map_err(|e| Error::invalid(format!("timeout: {e}")))?;
            if nanos < 0 {
                return Err(Error::invalid(format!("timeout cannot be negative: {s}")));
            }
            return Ok(Some(std::time::Duration::from_nanos(nanos as u64)));
        }
        other => {
            return Err(mistyped(
                "timeout",
                "a number of seconds or a duration string",
                other,
            ));
        }
    };
    if seconds < 0.0 {
        return Err(Error::invalid(format!(
            "timeout cannot be negative: {seconds}"
        )));
    }
    std::time::Duration::try_from_secs_f64(seconds)
        .map(Some)
        .map_err(|_| Error::invalid(format!("timeout is out of range: {seconds}")))
}

fn max_body(v: &LuaValue) -> Result<Option<u64>> {
    let n = match v {
        LuaValue::Nil => return Ok(None),
        LuaValue::Integer(i) => *i as f64,
        LuaValue::Number(n) => *n,
        other => return Err(mistyped("max_response_body", "a number of bytes", other)),
    };
    if n < 0.0 || n.fract() != 0.0 || !n.is_finite() {
        return Err(Error::invalid(format!(
            "max_response_body must be a non-negative whole number of bytes, got {n}"
        )));
    }
    Ok(Some(n as u64))
}

fn tls(t: &Table) -> Result<Option<TlsOptions>> {
    let tls = match get(t, "tls")? {
        LuaValue::Nil => return Ok(None),
        LuaValue::Table(tls) => tls,
        other => return Err(mistyped("tls", "a table", &other)),
    };
    let field = |name: &str| -> Result<Option<String>> {
        let v: LuaValue = tls
            .raw_get(name)
            .map_err(|e| Error::invalid(format!("tls.{name}: {e}")))?;
        match v {
            LuaValue::Nil => Ok(None),
            LuaValue::String(_) => text(&v, &format!("tls.{name}")).map(Some),
            other => Err(mistyped(&format!("tls.{name}"), "a string", &other)),
        }
    };
    let insecure = match tls.raw_get("insecure_skip_verify") {
        Ok(LuaValue::Nil) => false,
        Ok(LuaValue::Boolean(b)) => b,
        Ok(other) => return Err(mistyped("tls.insecure_skip_verify", "a boolean", &other)),
        Err(e) => return Err(Error::invalid(format!("tls.insecure_skip_verify: {e}"))),
    };
    Ok(Some(TlsOptions {
        ca: field("ca")?,
        cert: field("cert")?,
        key: field("key")?,
        server_name: field("server_name")?,
        insecure_skip_verify: insecure,
    }))
}

/// `files`: an array of `{name, filename?, content? | reader?, content_type?}`.
async fn files(lua: &Lua, t: &Table) -> Result<Vec<FilePart>> {
    let list = match get(t, "files")? {
        LuaValue::Nil => return Ok(Vec::new()),
        LuaValue::Table(list) => list,
        other => return Err(mistyped("files", "an array of tables", &other)),
    };
    let mut out = Vec::new();
    for i in 1..=list.raw_len() {
        let at = |what: &str| format!("files[{i}].{what}");
        let entry = match list.raw_get::<LuaValue>(i) {
            Ok(LuaValue::Table(e)) => e,
            Ok(other) => return Err(mistyped(&format!("files[{i}]"), "a table", &other)),
            Err(e) => return Err(Error::invalid(format!("files[{i}]: {e}"))),
        };
        let field = |name: &str| -> Result<LuaValue> {
            entry
                .raw_get(name)
                .map_err(|e| Error::invalid(format!("{}: {e}", at(name))))
        };
        let name = match field("name")? {
            LuaValue::Nil => return Err(Error::invalid(format!("{} is required", at("name")))),
            v => text(&v, &at("name"))?,
        };
        let optional = |key: &str| -> Result<Option<String>> {
            match field(key)? {
                LuaValue::Nil => Ok(None),
                v => text(&v, &at(key)).map(Some),
            }
        };
        let filename = optional("filename")?;
        let content_type = optional("content_type")?;
        let content = match (field("content")?, field("reader")?) {
            (LuaValue::Nil, LuaValue::Nil) => {
                return Err(Error::invalid(format!(
                    "files[{i}] needs content or reader"
                )));
            }
            (LuaValue::Nil, reader) => read_whole(lua, &reader, &at("reader")).await?,
            (content, _) => bytes(&content, &at("content"))?,
        };
        out.push(FilePart {
            name,
            filename,
            content: Bytes::from(content),
            content_type,
        });
    }
    Ok(out)
}

/// Reads a `reader` (anything with a `read` method: a stream) to its end.
async fn read_whole(lua: &Lua, reader: &LuaValue, what: &str) -> Result<Vec<u8>> {
    let read: mlua::Function = match reader {
        LuaValue::Table(t) => t.get("read"),
        LuaValue::UserData(u) => u.get("read"),
        other => return Err(mistyped(what, "an object with a read method", other)),
    }
    .map_err(|_| Error::invalid(format!("{what} has no read method")))?;
    let mut out = Vec::new();
    loop {
        let (data, err): (LuaValue, LuaValue) =
            crate::pace::call_async(lua, read.clone(), (reader.clone(), 64 * 1024))
                .await
                .map_err(|e| crate::errors::from_mlua(&e).context(what.to_string()))?;
        if let Some(e) = crate::errors::from_return(&err) {
            return Err(e.context(what.to_string()));
        }
        match data {
            LuaValue::Nil => return Ok(out),
            LuaValue::String(s) if s.as_bytes().is_empty() => return Ok(out),
            LuaValue::String(s) => out.extend_from_slice(&s.as_bytes()),
            other => return Err(mistyped(&format!("{what}:read()"), "a string", &other)),
        }
    }
}

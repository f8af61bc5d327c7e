//! `http_client`: outbound HTTP (reference §3) over `weft-http`'s [`HttpClient`], the
//! runtime's one connection pool, which checks every request (and every redirect
//! target) in the caller's context.
//!
//! - `get/post/put/delete/head/patch(url, opts?)` and `request(method, url, opts?)` →
//!   `resp, nil` or `nil, err`. An empty URL raises `URL required`, an empty method
//!   `method required`; bad options (`options.rs`), denials and transport failures come
//!   back as `nil, err`. HTTP error statuses are responses.
//! - `request_batch({{method, url, opts?}, …})` → `responses, errors|nil`: the requests
//!   run concurrently; `responses[i]` is nil where `errors[i]` is set. An empty list
//!   raises; a malformed item, `stream`, or a denial of any request is `nil, err` and
//!   sends nothing.
//! - `encode_uri(s)` / `decode_uri(s)`: Go's `QueryEscape` / `QueryUnescape`.
//!
//! The response is a table: `status_code`, `url` (after redirects), `headers`
//! (Go-canonical names, first value of each; absent when none), `cookies` (absent when
//! none), `body` (absent when empty or streamed), `body_size` (-1 when streamed), and
//! `stream` (a `stream` module Stream) with `stream = true`. Every call yields.

mod options;

use mlua::{Lua, Table, Value as LuaValue};
use weft_core::Error;
use weft_http::{Response, ResponseBody};

use super::stream::{LuaStream, ReadFuture, Source};
use crate::{errors, frame};

/// The methods with a function of their own.
const METHODS: &[&str] = &["get", "post", "put", "delete", "head", "patch"];

/// Builds the `http_client` module table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    for method in METHODS {
        let upper = method.to_ascii_uppercase();
        t.set(
            *method,
            lua.create_async_function(move |lua, (url, opts): (LuaValue, LuaValue)| {
                let method = upper.clone();
                async move { call(&lua, method, required(&url, "URL")?, opts).await }
            })?,
        )?;
    }
    t.set(
        "request",
        lua.create_async_function(
            |lua, (method, url, opts): (LuaValue, LuaValue, LuaValue)| async move {
                let method = required(&method, "method")?.to_ascii_uppercase();
                call(&lua, method, required(&url, "URL")?, opts).await
            },
        )?,
    )?;
    t.set("request_batch", lua.create_async_function(batch)?)?;
    t.set(
        "encode_uri",
        lua.create_function(|_, s: mlua::LuaString| Ok(weft_http::query_escape(&s.as_bytes())))?,
    )?;
    t.set(
        "decode_uri",
        lua.create_function(|lua, s: mlua::LuaString| {
            match weft_http::query_unescape(&s.to_string_lossy()) {
                Ok(bytes) => Ok((LuaValue::String(lua.create_string(bytes)?), LuaValue::Nil)),
                Err(e) => errors::fail(lua, e),
            }
        })?,
    )?;
    Ok(t)
}

/// A required string argument: missing, empty or not a string raises `<what> required`.
fn required(v: &LuaValue, what: &str) -> mlua::Result<String> {
    match v {
        LuaValue::String(s) if !s.as_bytes().is_empty() => Ok(s.to_string_lossy()),
        _ => Err(mlua::Error::external(Error::invalid(format!(
            "{what} required"
        )))),
    }
}

/// One request: `resp, nil` or `nil, err`.
async fn call(
    lua: &Lua,
    method: String,
    url: String,
    opts: LuaValue,
) -> mlua::Result<(LuaValue, LuaValue)> {
    let req = match options::request(lua, method, url, &opts).await {
        Ok(req) => req,
        Err(e) => return errors::fail(lua, e),
    };
    let client = frame::http(lua)?;
    let cx = frame::current(lua);
    match client.request(&cx, req).await {
        Ok(resp) => Ok((LuaValue::Table(response(lua, resp)?), LuaValue::Nil)),
        Err(e) => errors::fail(lua, e),
    }
}

/// `request_batch(list)`.
async fn batch(lua: Lua, list: LuaValue) -> mlua::Result<(LuaValue, LuaValue)> {
    let LuaValue::Table(list) = list else {
        return Err(mlua::Error::external(Error::invalid(
            "requests must be a table",
        )));
    };
    let n = list.raw_len();
    if n == 0 {
        return Err(mlua::Error::external(Error::invalid(
            "requests table cannot be empty",
        )));
    }
    let mut reqs = Vec::with_capacity(n);
    for i in 1..=n {
        let item = match item(&lua, &list, i).await {
            Ok(req) => req,
            Err(e) => return errors::fail(&lua, e.context(format!("request {i}"))),
        };
        reqs.push(item);
    }
    let client = frame::http(&lua)?;
    let cx = frame::current(&lua);
    let outcomes = match client.request_batch(&cx, reqs).await {
        Ok(outcomes) => outcomes,
        Err(e) => return errors::fail(&lua, e),
    };
    let responses = lua.create_table()?;
    let failures = lua.create_table()?;
    let mut failed = false;
    for (i, outcome) in outcomes.into_iter().enumerate() {
        match outcome {
            Ok(resp) => responses.raw_set(i + 1, response(&lua, resp)?)?,
            Err(e) => {
                failed = true;
                failures.raw_set(i + 1, errors::push(&lua, e)?)?;
            }
        }
    }
    let failures = if failed {
        LuaValue::Table(failures)
    } else {
        LuaValue::Nil
    };
    Ok((LuaValue::Table(responses), failures))
}

/// The batch item `{method, url, opts?}` at `i`.
async fn item(lua: &Lua, list: &Table, i: usize) -> weft_core::Result<weft_http::Request> {
    let LuaValue::Table(t) = list.raw_get(i).unwrap_or(LuaValue::Nil) else {
        return Err(Error::invalid("each request must be a table"));
    };
    let field = |k: usize| t.raw_get::<LuaValue>(k).unwrap_or(LuaValue::Nil);
    let LuaValue::String(method) = field(1) else {
        return Err(Error::invalid("method must be a string"));
    };
    let LuaValue::String(url) = field(2) else {
        return Err(Error::invalid("URL must be a string"));
    };
    let method = method.to_string_lossy().to_ascii_uppercase();
    let req = options::request(lua, method, url.to_string_lossy(), &field(3)).await?;
    if req.stream {
        return Err(Error::invalid("streaming not supported in batch requests"));
    }
    Ok(req)
}

/// The response table (reference §3.5).
fn response(lua: &Lua, resp: Response) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set("status_code", resp.status)?;
    t.raw_set("url", resp.url.as_str())?;
    t.raw_set("body_size", resp.body_size())?;
    if !resp.headers.is_empty() {
        let headers = lua.create_table()?;
        for (name, value) in &resp.headers {
            headers.raw_set(name.as_str(), value.as_str())?;
        }
        t.raw_set("headers", headers)?;
    }
    if !resp.cookies.is_empty() {
        let cookies = lua.create_table()?;
        for (name, value) in &resp.cookies {
            cookies.raw_set(name.as_str(), value.as_str())?;
        }
        t.raw_set("cookies", cookies)?;
    }
    match resp.body {
        ResponseBody::Bytes(body) if body.is_empty() => {}
        ResponseBody::Bytes(body) => t.raw_set("body", lua.create_string(&body)?)?,
        ResponseBody::Stream(stream) => {
            t.raw_set("stream", LuaStream::new(HttpBody(stream)))?;
        }
    }
    Ok(t)
}

/// A streamed response body as a stream [`Source`].
struct HttpBody(weft_http::BodyStream);

impl Source for HttpBody {
    fn read(&mut self, max: usize) -> ReadFuture<'_> {
        Box::pin(self.0.read(max))
    }
}

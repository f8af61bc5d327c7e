//! The `http.Request` userdata (reference §2.3): every method returns `value, err`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header;
use http_body_util::BodyExt;
use indexmap::IndexMap;
use mlua::{Lua, MetaMethod, UserData, UserDataMethods, Value as LuaValue};
use weft_core::Error;
use weft_http::{Body, BodyError, Exchange};

use super::{multipart, string_arg};
use crate::errors;
use crate::modules::json;
use crate::modules::stream::{LuaStream, ReadFuture, Source};

/// A request wrapper: the shared exchange and this wrapper's body-read limits.
pub struct Request {
    ex: Arc<Exchange>,
    timeout: Duration,
    max_body: u64,
}

impl Request {
    /// A wrapper reading bodies within `timeout`, at most `max_body` bytes.
    pub fn new(ex: Arc<Exchange>, timeout: Duration, max_body: u64) -> Request {
        Request {
            ex,
            timeout,
            max_body,
        }
    }

    /// The whole body (`body()`, `body_json()`).
    async fn body(&self) -> Result<Bytes, Error> {
        read_body(&self.ex, self.max_body, self.timeout)
            .await
            .map_err(body_error)
    }

    /// The first value of a request header, or all of them joined with `", "`; looked up
    /// case-insensitively.
    fn header(&self, name: &[u8]) -> Option<Vec<u8>> {
        let name = header::HeaderName::from_bytes(name).ok()?;
        let mut values = self.ex.headers().get_all(&name).iter();
        let mut out = values.next()?.as_bytes().to_vec();
        for v in values {
            out.extend_from_slice(b", ");
            out.extend_from_slice(v.as_bytes());
        }
        Some(out)
    }

    /// The `Content-Type` header (the first one).
    fn content_type(&self) -> Option<&str> {
        self.ex
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
    }

    /// `accepts(ct)`: some media range of `Accept` covers `ct`.
    fn accepts(&self, ct: &str) -> bool {
        let ct = media_type(ct);
        self.ex
            .headers()
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|range| covers(range, &ct))
    }
}

/// [`Exchange::read_body`] as a boxed `Send` future: proving its `Send` at this concrete
/// site avoids rustc's "implementation of `From` is not general enough" inside the
/// async methods (a known limit of auto-trait inference through higher-ranked bounds).
fn read_body(
    ex: &Exchange,
    max: u64,
    timeout: Duration,
) -> Pin<Box<dyn Future<Output = Result<Bytes, BodyError>> + Send + '_>> {
    Box::pin(ex.read_body(max, timeout))
}

/// A body error as the module reports it (reference §2.3 `body()`).
pub(super) fn body_error(e: BodyError) -> Error {
    match e {
        BodyError::TooLarge => Error::invalid("request body too large"),
        other => Error::internal(format!("failed to read body: {other}")),
    }
    .with_retryable(Some(false))
}

/// A media type without its parameters, lower-cased.
fn media_type(s: &str) -> String {
    s.split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Whether the `Accept` media range `range` covers `ct` (a media type): `*/*`,
/// `type/*` or the type itself, parameters aside; `q=0` excludes.
fn covers(range: &str, ct: &str) -> bool {
    let mut parts = range.split(';');
    let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let refused = parts.any(|p| {
        let p = p.trim();
        p.len() > 2
            && p[..2].eq_ignore_ascii_case("q=")
            && p[2..].trim().parse::<f64>().is_ok_and(|q| q == 0.0)
    });
    if refused || media.is_empty() {
        return false;
    }
    if media == "*/*" || media == ct {
        return true;
    }
    match media.strip_suffix("/*") {
        Some(kind) => ct.split('/').next() == Some(kind),
        None => false,
    }
}

/// `value, nil` for a Lua value.
fn ok(v: impl mlua::IntoLua, lua: &Lua) -> mlua::Result<(LuaValue, LuaValue)> {
    Ok((v.into_lua(lua)?, LuaValue::Nil))
}

/// A byte string as a Lua value, or nil.
fn bytes_or_nil(lua: &Lua, b: Option<impl AsRef<[u8]>>) -> mlua::Result<(LuaValue, LuaValue)> {
    match b {
        Some(b) => ok(lua.create_string(b.as_ref())?, lua),
        None => ok(LuaValue::Nil, lua),
    }
}

fn no_route() -> Error {
    Error::internal("no route parameters found").with_retryable(Some(false))
}

impl UserData for Request {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("method", |lua, this, ()| ok(this.ex.method().as_str(), lua));
        methods.add_method("path", |lua, this, ()| ok(this.ex.path(), lua));
        methods.add_method("query", |lua, this, key: LuaValue| {
            let key = string_arg(1, "query", &key)?;
            let key = String::from_utf8_lossy(&key);
            let value = this
                .ex
                .query_pairs()
                .into_iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v);
            bytes_or_nil(lua, value)
        });
        methods.add_method("query_params", |lua, this, ()| {
            let mut joined: IndexMap<String, String> = IndexMap::new();
            for (k, v) in this.ex.query_pairs() {
                match joined.get_mut(&k) {
                    Some(all) => {
                        all.push(',');
                        all.push_str(&v);
                    }
                    None => {
                        joined.insert(k, v);
                    }
                }
            }
            let t = lua.create_table_with_capacity(0, joined.len())?;
            for (k, v) in joined {
                t.raw_set(k, v)?;
            }
            ok(t, lua)
        });
        methods.add_method("header", |lua, this, name: LuaValue| {
            let name = string_arg(1, "header", &name)?;
            bytes_or_nil(lua, this.header(&name))
        });
        methods.add_method("content_type", |lua, this, ()| {
            bytes_or_nil(lua, this.content_type())
        });
        methods.add_method("content_length", |lua, this, ()| {
            let n = this
                .ex
                .content_length()
                .map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX));
            ok(n, lua)
        });
        methods.add_method("host", |lua, this, ()| ok(this.ex.host(), lua));
        methods.add_method("remote_addr", |lua, this, ()| {
            ok(this.ex.remote_addr(), lua)
        });
        methods.add_async_method("body", |lua, this, ()| async move {
            match this.body().await {
                Ok(body) => ok(lua.create_string(&body)?, &lua),
                Err(e) => errors::fail(&lua, e),
            }
        });
        methods.add_async_method("body_json", |lua, this, ()| async move {
            let body = match this.body().await {
                Ok(body) => body,
                Err(e) => return errors::fail(&lua, e),
            };
            match serde_json::from_slice::<serde_json::Value>(&body) {
                Ok(v) => ok(json::to_lua(&lua, &v)?, &lua),
                Err(e) => errors::fail(
                    &lua,
                    Error::invalid(format!("invalid JSON: {e}")).with_retryable(Some(false)),
                ),
            }
        });
        methods.add_method("has_body", |lua, this, ()| {
            // A body of unknown length (chunked) is a body; Wippy says false (Quirk).
            ok(this.ex.content_length() != Some(0), lua)
        });
        methods.add_method("accepts", |lua, this, ct: LuaValue| {
            let ct = string_arg(1, "accepts", &ct)?;
            ok(
                this.accepts(&media_type(&String::from_utf8_lossy(&ct))),
                lua,
            )
        });
        methods.add_method("is_content_type", |lua, this, ct: LuaValue| {
            let ct = string_arg(1, "is_content_type", &ct)?;
            let have = this.content_type().unwrap_or("").as_bytes();
            let matches = have.len() >= ct.len() && have[..ct.len()].eq_ignore_ascii_case(&ct);
            ok(matches, lua)
        });
        methods.add_method("param", |lua, this, name: LuaValue| {
            let name = string_arg(1, "param", &name)?;
            let Some(params) = this.ex.params() else {
                return errors::fail(lua, no_route());
            };
            let value = params
                .get(&String::from_utf8_lossy(&name))
                .filter(|v| !v.is_empty());
            bytes_or_nil(lua, value)
        });
        methods.add_method("params", |lua, this, ()| {
            let Some(params) = this.ex.params() else {
                return errors::fail(lua, no_route());
            };
            let t = lua.create_table()?;
            for (k, v) in params.iter().filter(|(_, v)| !v.is_empty()) {
                t.raw_set(k, v)?;
            }
            ok(t, lua)
        });
        methods.add_method("stream", |lua, this, ()| match this.ex.take_body() {
            Some(body) => {
                let size = this.ex.content_length();
                let stream = LuaStream::new(RequestBody {
                    body,
                    pending: Bytes::new(),
                    size,
                    done: false,
                });
                ok(lua.create_userdata(stream)?, lua)
            }
            None => errors::fail(lua, body_error(BodyError::Consumed)),
        });
        methods.add_async_method(
            "parse_multipart",
            |lua, this, max_memory: LuaValue| async move {
                let max_memory = match &max_memory {
                    LuaValue::Nil => multipart::DEFAULT_MAX_MEMORY,
                    LuaValue::Integer(n) => u64::try_from(*n).unwrap_or(0),
                    LuaValue::Number(n) if *n >= 0.0 => *n as u64,
                    LuaValue::Number(_) => 0,
                    other => {
                        return Err(super::bad_argument(1, "parse_multipart", "number", other));
                    }
                };
                let form = multipart::parse(
                    &this.ex,
                    this.content_type(),
                    max_memory,
                    this.max_body,
                    this.timeout,
                )
                .await;
                match form {
                    Ok(form) => ok(form.into_lua_table(&lua)?, &lua),
                    Err(e) => errors::fail(&lua, e),
                }
            },
        );
        methods.add_meta_method(MetaMethod::ToString, |_, this, ()| {
            Ok(format!(
                "http.Request{{method={}, path={}}}",
                this.ex.method(),
                this.ex.path()
            ))
        });
    }
}

/// The request body as a stream [`Source`], read frame by frame.
struct RequestBody {
    body: Body,
    /// What the last frame left over after a short read.
    pending: Bytes,
    size: Option<u64>,
    done: bool,
}

impl Source for RequestBody {
    fn read(&mut self, max: usize) -> ReadFuture<'_> {
        Box::pin(async move {
            loop {
                if !self.pending.is_empty() {
                    let n = if max == 0 {
                        self.pending.len()
                    } else {
                        max.min(self.pending.len())
                    };
                    return Ok(Some(self.pending.split_to(n)));
                }
                if self.done {
                    return Ok(None);
                }
                match self.body.frame().await {
                    None => self.done = true,
                    Some(Ok(frame)) => {
                        if let Ok(data) = frame.into_data() {
                            self.pending = data;
                        }
                    }
                    Some(Err(e)) => {
                        self.done = true;
                        return Err(Error::internal(format!("read failure: {e}"))
                            .with_retryable(Some(false)));
                    }
                }
            }
        })
    }

    fn size(&self) -> Option<u64> {
        self.size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_ranges_cover_types_parameters_aside() {
        assert!(covers("application/json", "application/json"));
        assert!(covers(" Application/JSON ;q=0.9", "application/json"));
        assert!(covers("*/*", "text/html"));
        assert!(covers("text/*", "text/html"));
        assert!(!covers("text/*", "application/json"));
        assert!(!covers("application/json;q=0", "application/json"));
        assert!(!covers("", "application/json"));
        assert_eq!(media_type("Text/HTML; charset=utf-8"), "text/html");
    }
}

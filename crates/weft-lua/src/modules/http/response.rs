//! The `http.Response` userdata (reference §2.4): every method returns one value, `nil`
//! or an error object; argument misuse raises. Each wrapper keeps its own `headersSent`
//! (and its SSE and chunked modes) over the shared [`Exchange`].
//!
//! `set_transfer("chunked")` sets no `Transfer-Encoding` header (hyper frames a streamed
//! body itself, and refuses a hand-set one): this wrapper flushes after every write
//! instead, so the response streams as chunks from its first write.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use http::{HeaderName, HeaderValue, StatusCode, header};
use mlua::{Lua, MetaMethod, UserData, UserDataMethods, Value as LuaValue};
use weft_core::Error;
use weft_http::Exchange;

use super::{bad_argument, string_arg};
use crate::errors;
use crate::modules::json;

/// A response wrapper.
pub struct Response {
    ex: Arc<Exchange>,
    /// Go's `headersSent` of this wrapper.
    sent: AtomicBool,
    /// `write_event` (or `set_transfer("sse")`) set the SSE headers.
    sse: AtomicBool,
    /// `set_transfer("chunked")`: every write is flushed.
    chunked: AtomicBool,
}

/// The SSE headers (`set_transfer("sse")`, the first `write_event`).
const SSE_HEADERS: [(HeaderName, &str); 3] = [
    (header::CONTENT_TYPE, "text/event-stream"),
    (header::CACHE_CONTROL, "no-cache"),
    (header::CONNECTION, "keep-alive"),
];

fn invalid(message: &str) -> Error {
    Error::invalid(message).with_retryable(Some(false))
}

fn write_failed(e: impl std::fmt::Display) -> Error {
    Error::internal(format!("write failed: {e}")).with_retryable(Some(false))
}

/// `nil` or the error object of `r`.
fn outcome(lua: &Lua, r: Result<(), Error>) -> mlua::Result<LuaValue> {
    match r {
        Ok(()) => Ok(LuaValue::Nil),
        Err(e) => errors::push(lua, e),
    }
}

impl Response {
    /// A new wrapper over `ex`, nothing sent by it yet.
    pub fn new(ex: Arc<Exchange>) -> Response {
        Response {
            ex,
            sent: AtomicBool::new(false),
            sse: AtomicBool::new(false),
            chunked: AtomicBool::new(false),
        }
    }

    fn sent(&self) -> bool {
        self.sent.load(Ordering::Acquire)
    }

    fn mark_sent(&self) {
        self.sent.store(true, Ordering::Release);
    }

    /// Sets a header (names and values checked).
    async fn set(&self, name: &[u8], value: &[u8]) -> Result<(), Error> {
        let name = HeaderName::from_bytes(name).map_err(|_| {
            invalid(&format!(
                "invalid header name {:?}",
                String::from_utf8_lossy(name)
            ))
        })?;
        let value = HeaderValue::from_bytes(value)
            .map_err(|_| invalid(&format!("invalid value for header {name}")))?;
        self.ex.set_header(name, value).await;
        Ok(())
    }

    async fn set_sse_headers(&self) {
        for (name, value) in SSE_HEADERS {
            self.ex
                .set_header(name, HeaderValue::from_static(value))
                .await;
        }
    }

    /// Writes body bytes (flushed in chunked mode).
    async fn write(&self, data: &[u8]) -> Result<(), Error> {
        self.mark_sent();
        self.ex.write(data).await.map_err(write_failed)?;
        if self.chunked.load(Ordering::Acquire) {
            self.ex.flush().await.map_err(write_failed)?;
        }
        Ok(())
    }

    /// `write_event`'s frame, once the event's fields were checked.
    async fn event(&self, name: &[u8], data: &str) -> Result<(), Error> {
        if name.iter().any(|b| matches!(b, b'\r' | b'\n')) {
            return Err(invalid("event name must not contain line breaks"));
        }
        if !self.sse.load(Ordering::Acquire) {
            if self.sent() {
                return Err(invalid("cannot switch to SSE mode after headers are sent"));
            }
            self.set_sse_headers().await;
            self.sse.store(true, Ordering::Release);
        }
        let mut frame = Vec::with_capacity(name.len() + data.len() + 16);
        frame.extend_from_slice(b"event: ");
        frame.extend_from_slice(name);
        frame.extend_from_slice(b"\ndata: ");
        frame.extend_from_slice(data.as_bytes());
        frame.extend_from_slice(b"\n\n");
        self.mark_sent();
        self.ex.write(&frame).await.map_err(write_failed)?;
        self.ex.flush().await.map_err(write_failed)
    }
}

/// A status code argument (an integer from 100 to 999, as Go's `WriteHeader` takes).
fn status_arg(v: &LuaValue) -> mlua::Result<StatusCode> {
    let code = match v {
        LuaValue::Integer(n) => *n,
        LuaValue::Number(n) if n.fract() == 0.0 => *n as i64,
        other => return Err(bad_argument(1, "set_status", "integer", other)),
    };
    u16::try_from(code)
        .ok()
        .and_then(|c| StatusCode::from_u16(c).ok())
        .ok_or_else(|| mlua::Error::external(Error::invalid(format!("invalid status code {code}"))))
}

impl UserData for Response {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_async_method("set_status", |lua, this, code: LuaValue| async move {
            let status = status_arg(&code)?;
            if this.sent() {
                return errors::push(&lua, invalid("cannot set status after headers are sent"));
            }
            this.ex.write_header(status).await;
            this.mark_sent();
            Ok(LuaValue::Nil)
        });
        methods.add_async_method(
            "set_header",
            |lua, this, (name, value): (LuaValue, LuaValue)| async move {
                let name = string_arg(1, "set_header", &name)?;
                let value = string_arg(2, "set_header", &value)?;
                if this.sent() {
                    return errors::push(&lua, invalid("cannot set headers after they are sent"));
                }
                let r = this.set(&name, &value).await;
                if r.is_ok() {
                    this.ex.mark_handled();
                }
                outcome(&lua, r)
            },
        );
        methods.add_async_method("set_content_type", |lua, this, ct: LuaValue| async move {
            let ct = string_arg(1, "set_content_type", &ct)?;
            if this.sent() {
                return errors::push(
                    &lua,
                    invalid("cannot set content type after headers are sent"),
                );
            }
            outcome(&lua, this.set(b"content-type", &ct).await)
        });
        methods.add_async_method("set_transfer", |lua, this, mode: LuaValue| async move {
            let mode = string_arg(1, "set_transfer", &mode)?;
            if mode != b"chunked" && mode != b"sse" {
                return Err(mlua::Error::external(Error::invalid(
                    "invalid transfer type",
                )));
            }
            if this.sent() {
                return errors::push(
                    &lua,
                    invalid("cannot set transfer mode after headers are sent"),
                );
            }
            if mode == b"sse" {
                this.set_sse_headers().await;
                this.sse.store(true, Ordering::Release);
            } else {
                let no_cache = HeaderValue::from_static("no-cache");
                this.ex.set_header(header::CACHE_CONTROL, no_cache).await;
                this.chunked.store(true, Ordering::Release);
            }
            Ok(LuaValue::Nil)
        });
        methods.add_async_method("write", |lua, this, data: LuaValue| async move {
            let data = string_arg(1, "write", &data)?;
            outcome(&lua, this.write(&data).await)
        });
        methods.add_async_method("write_json", |lua, this, value: LuaValue| async move {
            let text = match json::encode(&value) {
                Ok(text) => text,
                Err(e) => {
                    let msg = format!("failed to encode JSON: {}", e.message());
                    return errors::push(&lua, invalid(&msg));
                }
            };
            if !this.sent() {
                let json = HeaderValue::from_static("application/json");
                this.ex.set_header(header::CONTENT_TYPE, json).await;
            }
            outcome(&lua, this.write(text.as_bytes()).await)
        });
        methods.add_async_method("flush", |_, this, ()| async move {
            this.mark_sent();
            if let Err(e) = this.ex.flush().await {
                tracing::debug!(error = %e, "flush of a closed response");
            }
            Ok(LuaValue::Nil)
        });
        methods.add_async_method("write_event", |lua, this, event: LuaValue| async move {
            let LuaValue::Table(event) = &event else {
                return Err(bad_argument(1, "write_event", "table", &event));
            };
            let name = match event.raw_get::<LuaValue>("name")? {
                LuaValue::Nil => {
                    return Err(mlua::Error::external(Error::invalid("missing event name")));
                }
                other => string_arg(1, "write_event", &other)?,
            };
            let data = match event.raw_get::<LuaValue>("data")? {
                LuaValue::Nil => {
                    return Err(mlua::Error::external(Error::invalid("missing event data")));
                }
                other => other,
            };
            let data = match json::encode(&data) {
                Ok(text) => text,
                Err(e) => {
                    let msg = format!("failed to encode JSON: {}", e.message());
                    return errors::push(&lua, invalid(&msg));
                }
            };
            outcome(&lua, this.event(&name, &data).await)
        });
        methods.add_meta_method(MetaMethod::ToString, |_, _, ()| Ok("http.Response{}"));
    }
}

//! `stream`: the `Stream` and `Scanner` userdata (spec `wippy-modules/stream.md`) over a
//! readable byte [`Source`] (today: an `http_client` response body with `stream = true`).
//!
//! Every method yields (async; no thread blocks). `read(n)` gives up to `n` bytes, or
//! with `n` nil or 0 whatever arrives next, and `nil, nil` at the end; `stat()` reports
//! size (-1 unknown), position and capabilities; `close()` releases the source and may
//! be called again. The streams here are read-only and not seekable: `write`, `flush`
//! and `seek` return their error (Internal), after checking their arguments (Invalid).
//! `scanner(split)` tokenizes as Go's `bufio.Scanner` does (`lines`, `words`, `bytes`,
//! `runes`; a token over 64 KiB is an error). The module table itself is empty: streams
//! come from other modules.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use mlua::{Lua, Table, UserData, UserDataMethods, Value as LuaValue};
use tokio::sync::Mutex;
use weft_core::{Error, Result};

use crate::errors;

/// A future borrowing its source.
pub type ReadFuture<'a> = Pin<Box<dyn Future<Output = Result<Option<Bytes>>> + Send + 'a>>;

/// Something a [`LuaStream`] reads from.
pub trait Source: Send + 'static {
    /// Up to `max` bytes (`0`: what arrives next); `None` at the end.
    fn read(&mut self, max: usize) -> ReadFuture<'_>;
    /// The total size in bytes, when known.
    fn size(&self) -> Option<u64> {
        None
    }
}

/// The longest token a scanner returns (Go's `bufio.MaxScanTokenSize`).
const MAX_TOKEN: usize = 64 * 1024;

/// Builds the (empty) `stream` module table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    lua.create_table()
}

/// A Lua `Stream`: a source, the position read so far, and whether it was closed.
#[derive(Clone)]
pub struct LuaStream(Arc<Mutex<State>>);

struct State {
    source: Option<Box<dyn Source>>,
    position: u64,
}

impl LuaStream {
    /// A stream over `source`.
    pub fn new(source: impl Source) -> LuaStream {
        LuaStream(Arc::new(Mutex::new(State {
            source: Some(Box::new(source)),
            position: 0,
        })))
    }

    /// Up to `max` bytes; `None` at the end. A closed stream is an error.
    async fn read(&self, max: usize) -> Result<Option<Bytes>> {
        let mut state = self.0.lock().await;
        let source = state.source.as_mut().ok_or_else(closed)?;
        let data = source.read(max).await?;
        if let Some(d) = &data {
            state.position += d.len() as u64;
        }
        Ok(data)
    }
}

fn closed() -> Error {
    Error::internal("stream closed").with_retryable(Some(false))
}

fn internal(message: &str) -> Error {
    Error::internal(message).with_retryable(Some(false))
}

/// A size argument: nil is 0; negative or fractional is Invalid.
fn size_arg(v: &LuaValue) -> Result<usize> {
    match v {
        LuaValue::Nil => Ok(0),
        LuaValue::Integer(n) if *n >= 0 => Ok(usize::try_from(*n).unwrap_or(usize::MAX)),
        LuaValue::Number(n) if *n >= 0.0 && n.fract() == 0.0 => Ok(*n as usize),
        other => Err(Error::invalid(format!(
            "size must be a non-negative integer, got {}",
            describe(other)
        ))),
    }
}

fn describe(v: &LuaValue) -> String {
    match v {
        LuaValue::Integer(n) => n.to_string(),
        LuaValue::Number(n) => n.to_string(),
        other => other.type_name().to_string(),
    }
}

impl UserData for LuaStream {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_async_method("read", |lua, this, size: LuaValue| async move {
            let max = match size_arg(&size) {
                Ok(max) => max,
                Err(e) => return errors::fail(&lua, e),
            };
            match this.read(max).await {
                Ok(Some(data)) => Ok((LuaValue::String(lua.create_string(&data)?), LuaValue::Nil)),
                Ok(None) => Ok((LuaValue::Nil, LuaValue::Nil)),
                Err(e) => errors::fail(&lua, e),
            }
        });
        methods.add_async_method("write", |lua, this, data: LuaValue| async move {
            let err = match (&data, this.0.lock().await.source.is_some()) {
                (LuaValue::String(_), true) => internal("stream not writable"),
                (LuaValue::String(_), false) => closed(),
                (other, _) => {
                    Error::invalid(format!("data must be a string, got {}", other.type_name()))
                }
            };
            Ok((0, errors::push(&lua, err)?))
        });
        methods.add_async_method(
            "seek",
            |lua, _this, (whence, _offset): (Option<String>, Option<i64>)| async move {
                let err = match whence.as_deref().unwrap_or("set") {
                    "set" | "cur" | "end" => internal("stream not seekable"),
                    other => Error::invalid(format!(
                        "invalid whence {other:?}: must be 'set', 'cur', or 'end'"
                    )),
                };
                Ok((-1, errors::push(&lua, err)?))
            },
        );
        methods.add_async_method("flush", |lua, this, ()| async move {
            let err = if this.0.lock().await.source.is_some() {
                internal("stream not writable")
            } else {
                closed()
            };
            Ok((false, errors::push(&lua, err)?))
        });
        methods.add_async_method("stat", |lua, this, ()| async move {
            let state = this.0.lock().await;
            let Some(source) = &state.source else {
                return errors::fail(&lua, closed());
            };
            let t = lua.create_table()?;
            let size = source.size().and_then(|s| i64::try_from(s).ok());
            t.set("size", size.unwrap_or(-1))?;
            t.set(
                "position",
                i64::try_from(state.position).unwrap_or(i64::MAX),
            )?;
            t.set("readable", true)?;
            t.set("writable", false)?;
            t.set("seekable", false)?;
            Ok((LuaValue::Table(t), LuaValue::Nil))
        });
        methods.add_async_method("close", |_, this, ()| async move {
            this.0.lock().await.source = None;
            Ok((true, LuaValue::Nil))
        });
        methods.add_async_method("scanner", |lua, this, split: Option<String>| async move {
            let split = match Split::parse(split.as_deref().unwrap_or("lines")) {
                Ok(split) => split,
                Err(e) => return errors::fail(&lua, e),
            };
            if this.0.lock().await.source.is_none() {
                return errors::fail(&lua, closed());
            }
            let scanner = Scanner(Arc::new(Mutex::new(ScanState {
                stream: this.clone(),
                split,
                buffer: BytesMut::new(),
                eof: false,
                text: Bytes::new(),
                error: None,
            })));
            Ok((
                LuaValue::UserData(lua.create_userdata(scanner)?),
                LuaValue::Nil,
            ))
        });
        methods.add_meta_method(mlua::MetaMethod::ToString, |_, _, ()| Ok("stream.Stream"));
    }
}

/// How a scanner splits its stream.
#[derive(Clone, Copy)]
enum Split {
    Lines,
    Words,
    Bytes,
    Runes,
}

impl Split {
    fn parse(name: &str) -> Result<Split> {
        Ok(match name {
            "lines" => Split::Lines,
            "words" => Split::Words,
            "bytes" => Split::Bytes,
            "runes" => Split::Runes,
            other => {
                return Err(Error::invalid(format!(
                    "invalid split type {other:?}: must be 'lines', 'words', 'bytes', or 'runes'"
                )));
            }
        })
    }

    /// The next token in `buf` as (bytes consumed, token), or `None` when more input
    /// is needed (at `eof`, whatever is left is the last token).
    fn token(self, buf: &[u8], eof: bool) -> Option<(usize, Bytes)> {
        match self {
            Split::Lines => {
                if let Some(i) = buf.iter().position(|&b| b == b'\n') {
                    let line = buf[..i].strip_suffix(b"\r").unwrap_or(&buf[..i]);
                    return Some((i + 1, Bytes::copy_from_slice(line)));
                }
                (eof && !buf.is_empty()).then(|| {
                    let line = buf.strip_suffix(b"\r").unwrap_or(buf);
                    (buf.len(), Bytes::copy_from_slice(line))
                })
            }
            Split::Bytes => (!buf.is_empty()).then(|| (1, Bytes::copy_from_slice(&buf[..1]))),
            Split::Runes => {
                let (rune, width) = rune_at(buf, eof)?;
                Some(match rune {
                    Some(_) => (width, Bytes::copy_from_slice(&buf[..width])),
                    // Go's ScanRunes: an invalid byte is one U+FFFD.
                    None => (1, Bytes::from_static("\u{fffd}".as_bytes())),
                })
            }
            Split::Words => {
                let is_space = |r: Option<char>| r.is_some_and(char::is_whitespace);
                let mut i = 0;
                while i < buf.len() {
                    let (rune, width) = rune_at(&buf[i..], eof)?;
                    if !is_space(rune) {
                        break;
                    }
                    i += width;
                }
                let start = i;
                while i < buf.len() {
                    let (rune, width) = rune_at(&buf[i..], eof)?;
                    if is_space(rune) {
                        return Some((i + width, Bytes::copy_from_slice(&buf[start..i])));
                    }
                    i += width;
                }
                (eof && start < buf.len())
                    .then(|| (buf.len(), Bytes::copy_from_slice(&buf[start..])))
            }
        }
    }
}

/// The rune at the start of `buf` (`None` for an invalid byte) and its width; `None`
/// when its bytes are not all there yet (and more may come).
fn rune_at(buf: &[u8], eof: bool) -> Option<(Option<char>, usize)> {
    let width = match *buf.first()? {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => return Some((None, 1)),
    };
    if buf.len() < width {
        return (eof).then_some((None, 1));
    }
    match std::str::from_utf8(&buf[..width]) {
        Ok(s) => Some((s.chars().next(), width)),
        Err(_) => Some((None, 1)),
    }
}

/// A Lua `Scanner` over a stream.
#[derive(Clone)]
struct Scanner(Arc<Mutex<ScanState>>);

struct ScanState {
    stream: LuaStream,
    split: Split,
    buffer: BytesMut,
    eof: bool,
    text: Bytes,
    error: Option<String>,
}

impl ScanState {
    /// The next token; `Ok(false)` at the end.
    async fn scan(&mut self) -> Result<bool> {
        self.text = Bytes::new();
        if self.error.is_some() {
            return Ok(false);
        }
        loop {
            if let Some((used, token)) = self.split.token(&self.buffer, self.eof) {
                let _ = self.buffer.split_to(used);
                self.text = token;
                return Ok(true);
            }
            if self.eof {
                return Ok(false);
            }
            if self.buffer.len() > MAX_TOKEN {
                let message = "bufio.Scanner: token too long";
                self.error = Some(message.to_string());
                return Err(internal(message));
            }
            match self.stream.read(0).await {
                Ok(Some(data)) => self.buffer.extend_from_slice(&data),
                Ok(None) => self.eof = true,
                Err(e) => {
                    self.error = Some(e.message().to_string());
                    return Err(e);
                }
            }
        }
    }
}

impl UserData for Scanner {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_async_method("scan", |lua, this, ()| async move {
            match this.0.lock().await.scan().await {
                Ok(found) => Ok((found, LuaValue::Nil)),
                Err(e) => Ok((false, errors::push(&lua, e)?)),
            }
        });
        methods.add_async_method("text", |lua, this, ()| async move {
            lua.create_string(&this.0.lock().await.text)
        });
        methods.add_async_method("err", |_, this, ()| async move {
            Ok(this.0.lock().await.error.clone())
        });
        methods.add_meta_method(mlua::MetaMethod::ToString, |_, _, ()| Ok("stream.Scanner"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(split: Split, input: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        let mut buf = input;
        while let Some((used, token)) = split.token(buf, true) {
            out.push(String::from_utf8_lossy(&token).into_owned());
            buf = &buf[used..];
        }
        out
    }

    #[test]
    fn splits_match_gos_scanners() {
        assert_eq!(tokens(Split::Lines, b"a\r\nb\n\nc"), ["a", "b", "", "c"]);
        assert_eq!(
            tokens(Split::Words, b"  one two\n\tthree "),
            ["one", "two", "three"]
        );
        assert_eq!(tokens(Split::Bytes, b"ab"), ["a", "b"]);
        assert_eq!(tokens(Split::Runes, "hé\u{ff}".as_bytes()), ["h", "é", "ÿ"]);
        assert_eq!(tokens(Split::Runes, b"a\xffb"), ["a", "\u{fffd}", "b"]);
        assert_eq!(tokens(Split::Words, b"a\xffb c"), ["a\u{fffd}b", "c"]);
        // Without the end of input, a partial token waits for more.
        assert!(Split::Lines.token(b"partial", false).is_none());
        assert!(
            Split::Runes
                .token("é".as_bytes().get(..1).unwrap(), false)
                .is_none()
        );
        assert!(Split::Words.token(b"word", false).is_none());
    }
}

//! The `compress` module (Wippy's `compress` spec): `encode(data, {level})` and
//! `decode(data, {max_size})` for gzip, deflate (raw) and zlib with `flate2`, Brotli with
//! `brotli`, and Zstandard with `zstd` ([`zstd`], which also trains and inspects
//! dictionaries).
//!
//! Data is a byte string, never empty. Decoding streams into a buffer that stops one
//! byte past `max_size` (default [`DEFAULT_MAX_SIZE`], at most [`MAX_MAX_SIZE`]), so a
//! decompression bomb costs at most that much memory before it fails. Bad arguments and
//! corrupt data are Invalid; output past `max_size` and a failing compressor Internal,
//! as the spec says. Failures are `nil, err`.

mod zstd;

use std::io::{Read, Write};

use flate2::Compression;
use flate2::read::{DeflateDecoder, MultiGzDecoder, ZlibDecoder};
use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};
use mlua::{BorrowedBytes, Lua, MultiValue, Table, Value as LuaValue};
use weft_core::Error;

use crate::errors;
use crate::modules::args;

/// `max_size` when none is given: 128 MiB.
pub const DEFAULT_MAX_SIZE: i64 = 128 << 20;

/// The largest `max_size`: 1 GiB.
pub const MAX_MAX_SIZE: i64 = 1 << 30;

/// The read and write buffer of the Brotli streams.
const BROTLI_BUFFER: usize = 64 << 10;

/// The Brotli window (log2 of its bytes), the encoder's default.
const BROTLI_WINDOW: u32 = 22;

/// A format whose codec is `flate2` or `brotli`.
#[derive(Clone, Copy)]
enum Codec {
    /// RFC 1952.
    Gzip,
    /// RFC 1951, without a header.
    Deflate,
    /// RFC 1950.
    Zlib,
    /// RFC 7932.
    Brotli,
}

/// Builds the `compress` module table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    for codec in [Codec::Gzip, Codec::Deflate, Codec::Zlib, Codec::Brotli] {
        let c = lua.create_table()?;
        c.set(
            "encode",
            lua.create_function(move |lua, args: MultiValue| returned(lua, encode(codec, args)))?,
        )?;
        c.set(
            "decode",
            lua.create_function(move |lua, args: MultiValue| returned(lua, decode(codec, args)))?,
        )?;
        t.set(codec.name(), c)?;
    }
    t.set("zstd", zstd::module(lua)?)?;
    Ok(t)
}

/// `<codec>.encode(data, options?)`.
fn encode(codec: Codec, args: MultiValue) -> Result<Vec<u8>, Error> {
    let func = format!("compress.{}.encode", codec.name());
    let args = args::at_most(&func, args, 2)?;
    let data = input(&func, &args[0])?;
    let opts = args::options(&func, &args[1])?;
    let (levels, default) = match codec {
        Codec::Brotli => (0..=11, 6),
        _ => (1..=9, 6),
    };
    let level = args::int_field(&func, opts.as_ref(), "level", levels)?.unwrap_or(default);
    let level = u32::try_from(level).unwrap_or(default as u32);
    let compressed = match codec {
        Codec::Gzip => {
            let mut w = GzEncoder::new(Vec::new(), Compression::new(level));
            w.write_all(&data).and_then(|()| w.finish())
        }
        Codec::Deflate => {
            let mut w = DeflateEncoder::new(Vec::new(), Compression::new(level));
            w.write_all(&data).and_then(|()| w.finish())
        }
        Codec::Zlib => {
            let mut w = ZlibEncoder::new(Vec::new(), Compression::new(level));
            w.write_all(&data).and_then(|()| w.finish())
        }
        Codec::Brotli => {
            let mut w =
                brotli::CompressorWriter::new(Vec::new(), BROTLI_BUFFER, level, BROTLI_WINDOW);
            // `into_inner` finishes the stream; writing to a Vec cannot fail.
            w.write_all(&data).map(|()| w.into_inner())
        }
    };
    compressed.map_err(|e| args::internal(format!("{func}: compression failed: {e}")))
}

/// `<codec>.decode(data, options?)`.
fn decode(codec: Codec, args: MultiValue) -> Result<Vec<u8>, Error> {
    let func = format!("compress.{}.decode", codec.name());
    let args = args::at_most(&func, args, 2)?;
    let data = input(&func, &args[0])?;
    let opts = args::options(&func, &args[1])?;
    let max = max_size(&func, opts.as_ref())?;
    let reader: Box<dyn Read> = match codec {
        Codec::Gzip => Box::new(MultiGzDecoder::new(&data[..])),
        Codec::Deflate => Box::new(DeflateDecoder::new(&data[..])),
        Codec::Zlib => Box::new(ZlibDecoder::new(&data[..])),
        Codec::Brotli => Box::new(brotli::Decompressor::new(&data[..], BROTLI_BUFFER)),
    };
    read_limited(&func, codec.name(), reader, max)
}

impl Codec {
    /// The codec's table in the module.
    fn name(self) -> &'static str {
        match self {
            Codec::Gzip => "gzip",
            Codec::Deflate => "deflate",
            Codec::Zlib => "zlib",
            Codec::Brotli => "brotli",
        }
    }
}

/// `bytes, nil` or `nil, err`.
fn returned(lua: &Lua, r: Result<Vec<u8>, Error>) -> mlua::Result<(LuaValue, LuaValue)> {
    match r {
        Ok(bytes) => Ok((LuaValue::String(lua.create_string(bytes)?), LuaValue::Nil)),
        Err(e) => errors::fail(lua, e),
    }
}

/// The data argument: a non-empty string.
fn input(func: &str, v: &LuaValue) -> Result<BorrowedBytes, Error> {
    let data = args::bytes(func, "data", v)?;
    if data.is_empty() {
        return Err(Error::invalid(format!("{func}: data is empty")));
    }
    Ok(data)
}

/// The `max_size` option, in bytes.
fn max_size(func: &str, opts: Option<&Table>) -> Result<usize, Error> {
    let max =
        args::int_field(func, opts, "max_size", 1..=MAX_MAX_SIZE)?.unwrap_or(DEFAULT_MAX_SIZE);
    Ok(usize::try_from(max).unwrap_or(usize::MAX))
}

/// Everything `r` decodes, failing past `max` bytes: Invalid for corrupt or truncated
/// data, Internal for too much output.
fn read_limited(func: &str, format: &str, r: impl Read, max: usize) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    r.take(limit)
        .read_to_end(&mut out)
        .map_err(|e| Error::invalid(format!("{func}: invalid {format} data: {e}")))?;
    if out.len() > max {
        return Err(args::internal(format!(
            "{func}: decompressed data is larger than max_size ({max} bytes)"
        )));
    }
    Ok(out)
}

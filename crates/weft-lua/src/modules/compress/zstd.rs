//! `compress.zstd`: `encode(data, {level, dict})`, `decode(data, {max_size, dict})`,
//! `train_dict(samples, {size, id, level})` and `inspect_dict(dict)`, with the `zstd`
//! crate (libzstd) and `ruzstd` to read a dictionary's header.
//!
//! Levels are libzstd's own 1–22 (Wippy maps them onto four presets of its Go encoder).
//! Frames carry a checksum and their content size. A frame made with a dictionary names
//! its id; decoding it without that dictionary is an Internal error saying so. Trained
//! dictionaries are libzstd's (`ZDICT_trainFromBuffer`, its default parameters: `level`
//! is checked but does not change them); a non-zero `id` is written into the header, 0
//! keeps the id libzstd derives from the content.

use std::num::NonZeroU32;

use ::zstd::bulk::Compressor;
use ::zstd::stream::read::Decoder;
use ::zstd::zstd_safe::{self, CParameter};
use mlua::{Lua, MultiValue, Table, Value as LuaValue};
use weft_core::Error;

use super::{input, max_size, read_limited, returned};
use crate::errors;
use crate::modules::args;

/// The default level, libzstd's.
const DEFAULT_LEVEL: i64 = 3;

/// The dictionary size `train_dict` aims for when none is given.
const DEFAULT_DICT_SIZE: i64 = 112 << 10;

/// The magic number that opens a zstd dictionary (RFC 8878 §5), little-endian.
const DICT_MAGIC: [u8; 4] = 0xEC30_A437u32.to_le_bytes();

/// Builds the `compress.zstd` table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "encode",
        lua.create_function(|lua, args: MultiValue| returned(lua, encode(args)))?,
    )?;
    t.set(
        "decode",
        lua.create_function(|lua, args: MultiValue| returned(lua, decode(args)))?,
    )?;
    t.set(
        "train_dict",
        lua.create_function(|lua, args: MultiValue| returned(lua, train_dict(args)))?,
    )?;
    t.set(
        "inspect_dict",
        lua.create_function(|lua, args: MultiValue| match inspect_dict(args) {
            Ok((id, content_size)) => {
                let info = lua.create_table()?;
                info.set("id", id)?;
                info.set("content_size", content_size)?;
                Ok((LuaValue::Table(info), LuaValue::Nil))
            }
            Err(e) => errors::fail(lua, e),
        })?,
    )?;
    Ok(t)
}

/// `zstd.encode(data, options?)`.
fn encode(args: MultiValue) -> Result<Vec<u8>, Error> {
    const FUNC: &str = "compress.zstd.encode";
    let args = args::at_most(FUNC, args, 2)?;
    let data = input(FUNC, &args[0])?;
    let opts = args::options(FUNC, &args[1])?;
    let level = args::int_field(FUNC, opts.as_ref(), "level", 1..=22)?.unwrap_or(DEFAULT_LEVEL);
    let level = i32::try_from(level).unwrap_or(3);
    let dict = dict_field(FUNC, opts.as_ref())?;
    let failed = |e: std::io::Error| args::internal(format!("{FUNC}: compression failed: {e}"));
    let mut compressor = match &dict {
        Some(dict) => Compressor::with_dictionary(level, dict),
        None => Compressor::new(level),
    }
    .map_err(failed)?;
    compressor
        .set_parameter(CParameter::ChecksumFlag(true))
        .map_err(failed)?;
    compressor.compress(&data).map_err(failed)
}

/// `zstd.decode(data, options?)`.
fn decode(args: MultiValue) -> Result<Vec<u8>, Error> {
    const FUNC: &str = "compress.zstd.decode";
    let args = args::at_most(FUNC, args, 2)?;
    let data = input(FUNC, &args[0])?;
    let opts = args::options(FUNC, &args[1])?;
    let max = max_size(FUNC, opts.as_ref())?;
    let dict = dict_field(FUNC, opts.as_ref())?;
    if let Some(wanted) = zstd_safe::get_dict_id_from_frame(&data) {
        let given = dict.as_deref().and_then(zstd_safe::get_dict_id);
        if given != Some(wanted) {
            return Err(args::internal(format!(
                "{FUNC}: the data was compressed with dictionary {wanted}, {}",
                match given {
                    Some(id) => format!("not with the given dictionary {id}"),
                    None => "and no matching dictionary was given".to_string(),
                }
            )));
        }
    }
    let decoder = match &dict {
        Some(dict) => Decoder::with_dictionary(&data[..], dict),
        None => Decoder::with_buffer(&data[..]),
    }
    .map_err(|e| args::internal(format!("{FUNC}: cannot start decoding: {e}")))?;
    read_limited(FUNC, "zstd", decoder, max)
}

/// `zstd.train_dict(samples, options?)`: the dictionary's bytes.
fn train_dict(args: MultiValue) -> Result<Vec<u8>, Error> {
    const FUNC: &str = "compress.zstd.train_dict";
    let args = args::at_most(FUNC, args, 2)?;
    let list = args::table(FUNC, "samples", &args[0])?;
    let mut samples = Vec::new();
    for (i, item) in list.sequence_values::<LuaValue>().enumerate() {
        let name = format!("samples[{}]", i + 1);
        let item = item.map_err(|e| Error::invalid(format!("{FUNC}: {name}: {e}")))?;
        let sample = args::bytes(FUNC, &name, &item)?;
        if sample.is_empty() {
            return Err(Error::invalid(format!("{FUNC}: {name} is empty")));
        }
        samples.push(sample);
    }
    if samples.is_empty() {
        return Err(Error::invalid(format!("{FUNC}: samples is empty")));
    }
    if samples.iter().all(|s| s.len() < 8) {
        return Err(Error::invalid(format!(
            "{FUNC}: at least one sample must be 8 bytes or longer"
        )));
    }
    let opts = args::options(FUNC, &args[1])?;
    let opts = opts.as_ref();
    let size = args::int_field(FUNC, opts, "size", 256..=1 << 20)?.unwrap_or(DEFAULT_DICT_SIZE);
    let id = args::int_field(FUNC, opts, "id", 0..=i64::from(u32::MAX))?;
    args::int_field(FUNC, opts, "level", 1..=22)?;
    let mut dict = ::zstd::dict::from_samples(&samples, usize::try_from(size).unwrap_or(0))
        .map_err(|e| args::internal(format!("{FUNC}: training failed: {e}")))?;
    if let Some(id) = id
        .and_then(|id| u32::try_from(id).ok())
        .and_then(NonZeroU32::new)
    {
        // RFC 8878 §5: the magic number, then the id as 4 little-endian bytes.
        if !dict.starts_with(&DICT_MAGIC) || dict.len() < 8 {
            return Err(args::internal(format!(
                "{FUNC}: training gave no dictionary header"
            )));
        }
        dict[4..8].copy_from_slice(&id.get().to_le_bytes());
    }
    Ok(dict)
}

/// `zstd.inspect_dict(dict)`: the dictionary's id and content size.
fn inspect_dict(args: MultiValue) -> Result<(u32, usize), Error> {
    const FUNC: &str = "compress.zstd.inspect_dict";
    let args = args::at_most(FUNC, args, 1)?;
    let dict = args::bytes(FUNC, "dict", &args[0])?;
    if dict.is_empty() {
        return Err(Error::invalid(format!("{FUNC}: dict is empty")));
    }
    let invalid = |why: String| Error::invalid(format!("{FUNC}: invalid zstd dictionary: {why}"));
    let parsed =
        ruzstd::decoding::Dictionary::decode_dict(&dict).map_err(|e| invalid(e.to_string()))?;
    if parsed.id == 0 {
        return Err(invalid("its id is 0".to_string()));
    }
    Ok((parsed.id, parsed.dict_content.len()))
}

/// The `dict` option: absent, or a non-empty string.
fn dict_field(func: &str, opts: Option<&Table>) -> Result<Option<Vec<u8>>, Error> {
    match args::field(func, opts, "dict")? {
        LuaValue::Nil => Ok(None),
        LuaValue::String(s) if !s.as_bytes().is_empty() => Ok(Some(s.as_bytes().to_vec())),
        other => Err(args::expected(func, "dict", "a non-empty string", &other)),
    }
}

//! The `uuid` module (Wippy's `uuid` spec): `v1`, `v3`, `v4`, `v5` and `v7` make UUIDs;
//! `validate`, `version`, `variant`, `parse` and `format` read them.
//!
//! Generating, parsing (hyphenated, simple, braced and `urn:uuid:` forms, hex digits in
//! either case) and the version and variant bits are the `uuid` crate's; v3 and v5 hash
//! the namespace and name with `md-5` and `sha1`. UUIDs are returned hyphenated and
//! lowercase. Failures are `nil, err` with an Invalid, non-retryable error; nothing is
//! raised.

use std::sync::OnceLock;

use ::uuid::{Builder, Uuid, Variant};
use md5::{Digest, Md5};
use mlua::{Lua, Table, Value as LuaValue};
use sha1::Sha1;
use weft_core::Error;

use super::args::reply_bytes;
use super::hash::number;
use crate::errors;

/// 100 ns ticks from the version-1 epoch (1582-10-15) to the Unix epoch.
const GREGORIAN_TO_UNIX_TICKS: i128 = 0x01B2_1DD2_1381_4000;

/// 100 ns ticks in a second.
const TICKS_PER_SECOND: i128 = 10_000_000;

/// Builds the `uuid` module table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "v1",
        lua.create_function(|lua, ()| text(lua, Uuid::now_v1(node_id())))?,
    )?;
    t.set(
        "v3",
        lua.create_function(|lua, (ns, name): (LuaValue, LuaValue)| {
            reply_bytes(lua, name_based("uuid.v3", &ns, &name, v3))
        })?,
    )?;
    t.set(
        "v4",
        lua.create_function(|lua, ()| text(lua, Uuid::new_v4()))?,
    )?;
    t.set(
        "v5",
        lua.create_function(|lua, (ns, name): (LuaValue, LuaValue)| {
            reply_bytes(lua, name_based("uuid.v5", &ns, &name, v5))
        })?,
    )?;
    t.set(
        "v7",
        lua.create_function(|lua, ()| text(lua, Uuid::now_v7()))?,
    )?;
    t.set(
        "validate",
        lua.create_function(|_, v: LuaValue| {
            Ok(matches!(&v, LuaValue::String(s) if Uuid::try_parse_ascii(&s.as_bytes()).is_ok()))
        })?,
    )?;
    t.set(
        "version",
        lua.create_function(|lua, v: LuaValue| {
            number(lua, uuid_arg("uuid.version", &v).map(|id| version(&id)))
        })?,
    )?;
    t.set(
        "variant",
        lua.create_function(|lua, v: LuaValue| {
            reply_bytes(lua, uuid_arg("uuid.variant", &v).map(|id| variant(&id)))
        })?,
    )?;
    t.set("parse", lua.create_function(parse)?)?;
    t.set(
        "format",
        lua.create_function(|lua, (v, style): (LuaValue, LuaValue)| {
            reply_bytes(lua, format(&v, &style))
        })?,
    )?;
    Ok(t)
}

/// `uuid.parse(s)`: `{version, variant, timestamp?, node?}`, or `nil, err`. Version-1
/// and version-7 UUIDs have `timestamp` (Unix seconds); version-1 ones have `node` (12
/// lowercase hex digits).
fn parse(lua: &Lua, v: LuaValue) -> mlua::Result<(LuaValue, LuaValue)> {
    let id = match uuid_arg("uuid.parse", &v) {
        Ok(id) => id,
        Err(e) => return errors::fail(lua, e),
    };
    let info = lua.create_table_with_capacity(0, 4)?;
    info.set("version", version(&id))?;
    info.set("variant", variant(&id))?;
    if let Some(seconds) = unix_seconds(&id) {
        info.set("timestamp", seconds)?;
    }
    if id.get_version_num() == 1 {
        info.set("node", hex::encode(&id.as_bytes()[10..]))?;
    }
    Ok((LuaValue::Table(info), LuaValue::Nil))
}

/// `uuid.format(s, style?)`: `standard` (the default), `simple` or `urn`.
fn format(v: &LuaValue, style: &LuaValue) -> Result<String, Error> {
    let id = uuid_arg("uuid.format", v)?;
    let style = match style {
        LuaValue::Nil => "standard".into(),
        LuaValue::String(s) => s.to_string_lossy(),
        other => {
            return Err(Error::invalid(format!(
                "uuid.format: format must be a string, got {}",
                other.type_name()
            )));
        }
    };
    match style.as_str() {
        "standard" => Ok(id.hyphenated().to_string()),
        "simple" => Ok(id.simple().to_string()),
        "urn" => Ok(id.urn().to_string()),
        other => Err(Error::invalid(format!(
            "uuid.format: unsupported format {other:?} (standard, simple, urn)"
        ))),
    }
}

/// A v3 or v5 UUID of `name` in the namespace UUID `ns`.
fn name_based(
    func: &str,
    ns: &LuaValue,
    name: &LuaValue,
    make: fn(&Uuid, &[u8]) -> Uuid,
) -> Result<String, Error> {
    let LuaValue::String(ns_text) = ns else {
        return Err(Error::invalid(format!(
            "{func}: namespace must be a string, got {}",
            ns.type_name()
        )));
    };
    let LuaValue::String(name) = name else {
        return Err(Error::invalid(format!(
            "{func}: name must be a string, got {}",
            name.type_name()
        )));
    };
    let ns = Uuid::try_parse_ascii(&ns_text.as_bytes())
        .map_err(|e| Error::invalid(format!("{func}: invalid namespace UUID: {e}")))?;
    Ok(make(&ns, &name.as_bytes()).hyphenated().to_string())
}

/// A version-3 UUID: MD5 of the namespace's bytes and the name (RFC 9562 §5.3).
fn v3(ns: &Uuid, name: &[u8]) -> Uuid {
    let digest = Md5::new()
        .chain_update(ns.as_bytes())
        .chain_update(name)
        .finalize();
    Builder::from_md5_bytes(digest.into()).into_uuid()
}

/// A version-5 UUID: the first 16 bytes of SHA-1 of the namespace's bytes and the name
/// (RFC 9562 §5.5).
fn v5(ns: &Uuid, name: &[u8]) -> Uuid {
    let digest = Sha1::new()
        .chain_update(ns.as_bytes())
        .chain_update(name)
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Builder::from_sha1_bytes(bytes).into_uuid()
}

/// The node ID of this process's version-1 UUIDs: 48 random bits with the multicast bit
/// set, so it can never be a real MAC address (RFC 9562 §6.10).
fn node_id() -> &'static [u8; 6] {
    static NODE: OnceLock<[u8; 6]> = OnceLock::new();
    NODE.get_or_init(|| {
        let random = Uuid::new_v4().into_bytes();
        [
            random[0] | 0x01,
            random[1],
            random[2],
            random[3],
            random[4],
            random[5],
        ]
    })
}

/// Reads a UUID argument: Invalid for a non-string or a string that is not a UUID.
fn uuid_arg(func: &str, v: &LuaValue) -> Result<Uuid, Error> {
    let LuaValue::String(s) = v else {
        return Err(Error::invalid(format!(
            "{func}: input must be a string, got {}",
            v.type_name()
        )));
    };
    Uuid::try_parse_ascii(&s.as_bytes())
        .map_err(|e| Error::invalid(format!("{func}: invalid UUID format: {e}")))
}

/// The version field (the high nibble of byte 6), whatever the variant.
fn version(id: &Uuid) -> i64 {
    id.get_version_num() as i64
}

/// The variant's name: `NCS` (0xx), `RFC4122` (10x), `Microsoft` (110) or `Invalid`
/// (111, reserved for future definition).
fn variant(id: &Uuid) -> &'static str {
    match id.get_variant() {
        Variant::NCS => "NCS",
        Variant::RFC4122 => "RFC4122",
        Variant::Microsoft => "Microsoft",
        _ => "Invalid",
    }
}

/// The Unix seconds (rounded down) a version-1 or version-7 UUID holds.
fn unix_seconds(id: &Uuid) -> Option<i64> {
    let ts = id.get_timestamp()?;
    let seconds = match id.get_version_num() {
        1 => {
            (i128::from(ts.to_gregorian().0) - GREGORIAN_TO_UNIX_TICKS).div_euclid(TICKS_PER_SECOND)
        }
        7 => i128::from(ts.to_unix().0),
        _ => return None,
    };
    i64::try_from(seconds).ok()
}

/// A generated UUID as `text, nil`.
fn text(lua: &Lua, id: Uuid) -> mlua::Result<(LuaValue, LuaValue)> {
    reply_bytes(lua, Ok(id.hyphenated().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_based_uuids_match_rfc_9562_appendix_a() {
        let dns = Uuid::parse_str("6ba7b810-9dad-11d1-80b4-00c04fd430c8").unwrap();
        assert_eq!(
            v3(&dns, b"www.example.com").to_string(),
            "5df41881-3aed-3515-88a7-2f4a814cf09e"
        );
        assert_eq!(
            v5(&dns, b"www.example.com").to_string(),
            "2ed6657d-e927-568b-95e1-2665a8aea6a2"
        );
    }

    #[test]
    fn timestamps_are_unix_seconds_before_and_after_1970() {
        let at = |s: &str| unix_seconds(&Uuid::parse_str(s).unwrap());
        // RFC 9562 Appendix A examples (2022-02-22 19:22:22 UTC).
        assert_eq!(at("C232AB00-9414-11EC-B3C8-9F6BDECED846"), Some(1645557742));
        assert_eq!(at("017F22E2-79B0-7CC3-98C4-DC0C0C07398F"), Some(1645557742));
        // The version-1 epoch itself, 1582-10-15.
        assert_eq!(
            at("00000000-0000-1000-8000-000000000000"),
            Some(-12219292800)
        );
        assert_eq!(at("5df41881-3aed-3515-88a7-2f4a814cf09e"), None);
    }

    #[test]
    fn the_node_id_is_a_multicast_address() {
        assert_eq!(node_id()[0] & 1, 1);
        assert_eq!(node_id(), node_id());
    }
}

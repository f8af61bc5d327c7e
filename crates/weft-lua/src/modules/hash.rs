//! The `hash` module (Wippy's `hash` spec): the digests `md5`, `sha1`, `sha256`,
//! `sha512`, the HMACs `hmac_md5`, `hmac_sha1`, `hmac_sha256`, `hmac_sha512`, and the
//! 32- and 64-bit FNV-1a hashes `fnv32` and `fnv64`.
//!
//! Digests and HMACs are lowercase hex, or the raw bytes when the last argument is
//! `true`. `fnv32` is a non-negative integer; `fnv64` is the 64 bits of the hash as a Lua
//! integer (negative when the top bit is set, as Lua 5.4 holds unsigned 64-bit values:
//! `string.format("%x", h)` prints it unsigned). The algorithms are RustCrypto's (`md-5`,
//! `sha1`, `sha2`, `hmac`) and `const-fnv1a-hash`'s. The input is hashed where Lua keeps
//! it, never copied. Failures are `nil, err` with an Invalid, non-retryable error.

use const_fnv1a_hash::{fnv1a_hash_32, fnv1a_hash_64};
use hmac::{Hmac, Mac};
use md5::Md5;
use mlua::{Lua, Table, Value as LuaValue};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};
use weft_core::Error;

use super::args::reply_bytes;
use crate::errors;

/// A digest: the hash of the data.
type DigestFn = fn(&[u8]) -> Vec<u8>;

/// An HMAC: the tag of the data (first) under the secret (second).
type MacFn = fn(&[u8], &[u8]) -> Result<Vec<u8>, Error>;

/// The digest functions, by name.
const DIGESTS: &[(&str, DigestFn)] = &[
    ("md5", digest::<Md5>),
    ("sha1", digest::<Sha1>),
    ("sha256", digest::<Sha256>),
    ("sha512", digest::<Sha512>),
];

/// The HMAC functions, by name.
const MACS: &[(&str, MacFn)] = &[
    ("hmac_md5", mac::<Hmac<Md5>>),
    ("hmac_sha1", mac::<Hmac<Sha1>>),
    ("hmac_sha256", mac::<Hmac<Sha256>>),
    ("hmac_sha512", mac::<Hmac<Sha512>>),
];

/// Builds the `hash` module table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    for &(name, hash) in DIGESTS {
        let func = format!("hash.{name}");
        t.set(
            name,
            lua.create_function(move |lua, (data, raw): (LuaValue, LuaValue)| {
                let out = bytes_arg(&func, "data", &data).and_then(|data| {
                    let raw = raw_arg(&func, &raw)?;
                    Ok(encoded(raw, hash(&data)))
                });
                reply_bytes(lua, out)
            })?,
        )?;
    }
    for &(name, tag) in MACS {
        let func = format!("hash.{name}");
        t.set(
            name,
            lua.create_function(
                move |lua, (data, secret, raw): (LuaValue, LuaValue, LuaValue)| {
                    let out = bytes_arg(&func, "data", &data).and_then(|data| {
                        let secret = bytes_arg(&func, "secret", &secret)?;
                        let raw = raw_arg(&func, &raw)?;
                        Ok(encoded(raw, tag(&data, &secret)?))
                    });
                    reply_bytes(lua, out)
                },
            )?,
        )?;
    }
    t.set(
        "fnv32",
        lua.create_function(|lua, data: LuaValue| {
            let hash = bytes_arg("hash.fnv32", "data", &data)
                .map(|data| i64::from(fnv1a_hash_32(&data, None)));
            number(lua, hash)
        })?,
    )?;
    t.set(
        "fnv64",
        lua.create_function(|lua, data: LuaValue| {
            let hash = bytes_arg("hash.fnv64", "data", &data)
                // The 64 bits as they are: a negative integer when the top bit is set.
                .map(|data| fnv1a_hash_64(&data, None) as i64);
            number(lua, hash)
        })?,
    )?;
    Ok(t)
}

/// The hash of `data` by `D`.
fn digest<D: Digest>(data: &[u8]) -> Vec<u8> {
    D::digest(data).to_vec()
}

/// The HMAC of `data` under `secret` by `M`.
fn mac<M: Mac + hmac::digest::KeyInit>(data: &[u8], secret: &[u8]) -> Result<Vec<u8>, Error> {
    let mut m = <M as Mac>::new_from_slice(secret)
        .map_err(|e| Error::internal(format!("cannot key the HMAC: {e}")))?;
    m.update(data);
    Ok(m.finalize().into_bytes().to_vec())
}

/// The `raw` argument: `true` for raw bytes, `nil` or `false` for hex; Invalid for
/// anything else.
fn raw_arg(func: &str, raw: &LuaValue) -> Result<bool, Error> {
    match raw {
        LuaValue::Nil => Ok(false),
        LuaValue::Boolean(raw) => Ok(*raw),
        other => Err(Error::invalid(format!(
            "{func}: raw must be a boolean, got {}",
            other.type_name()
        ))),
    }
}

/// `bytes` as they are when `raw`, else as lowercase hex.
fn encoded(raw: bool, bytes: Vec<u8>) -> Vec<u8> {
    if raw {
        bytes
    } else {
        hex::encode(bytes).into_bytes()
    }
}

/// The bytes of the string argument `what` of `func`: Invalid for anything else.
pub(super) fn bytes_arg(
    func: &str,
    what: &str,
    v: &LuaValue,
) -> Result<mlua::BorrowedBytes, Error> {
    match v {
        LuaValue::String(s) => Ok(s.as_bytes()),
        other => Err(Error::invalid(format!(
            "{func}: {what} must be a string, got {}",
            other.type_name()
        ))),
    }
}

/// `n, nil` or `nil, err`.
pub(super) fn number(lua: &Lua, r: Result<i64, Error>) -> mlua::Result<(LuaValue, LuaValue)> {
    match r {
        Ok(n) => Ok((LuaValue::Integer(n), LuaValue::Nil)),
        Err(e) => errors::fail(lua, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_matches_the_reference_vectors() {
        // From the FNV reference test suite (Landon Curt Noll).
        assert_eq!(fnv1a_hash_32(b"", None), 0x811c9dc5);
        assert_eq!(fnv1a_hash_32(b"a", None), 0xe40c292c);
        assert_eq!(fnv1a_hash_64(b"a", None), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a_hash_64(b"foobar", None), 0x85944171f73967e8);
    }
}

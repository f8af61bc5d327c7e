//! `crypto.random`: `bytes(n)` and `uuid()` from the OS's secure random source, and
//! `string(n, charset?)`: uniform picks from a charset by a ChaCha12 generator seeded from
//! the OS (`rand`'s `StdRng`).
//!
//! A charset that is UTF-8 text with multi-byte characters is picked from by character,
//! so the result stays valid UTF-8 and `n` counts characters; any other charset is picked
//! from by byte. A character listed twice is twice as likely.

use mlua::{Lua, Table, Value as LuaValue};
use rand::distr::Uniform;
use rand::rngs::{OsRng, StdRng};
use rand::{Rng, SeedableRng, TryRngCore};
use weft_core::Error;

use super::{integer_arg, internal, opt_string_arg, reply_bytes};

/// The most bytes (or characters) one call makes: 1 MiB.
const MAX_LENGTH: i64 = 1 << 20;

/// The charset of `random.string` when none is given.
const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Builds the `crypto.random` table.
pub(super) fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set("bytes", lua.create_function(bytes)?)?;
    t.set("string", lua.create_function(string)?)?;
    t.set("uuid", lua.create_function(uuid)?)?;
    Ok(t)
}

/// `random.bytes(length)`: `length` random bytes.
fn bytes(lua: &Lua, length: LuaValue) -> mlua::Result<(LuaValue, LuaValue)> {
    let made = integer_arg(lua, "crypto.random.bytes", 1, length)
        .and_then(checked_length)
        .and_then(|length| {
            let mut buf = vec![0u8; length];
            fill(&mut buf).map(|()| buf)
        });
    reply_bytes(lua, made)
}

/// `random.string(length, charset?)`: `length` uniform picks from `charset`
/// (alphanumeric by default).
fn string(
    lua: &Lua,
    (length, charset): (LuaValue, LuaValue),
) -> mlua::Result<(LuaValue, LuaValue)> {
    const FUNC: &str = "crypto.random.string";
    let made = (|| {
        let length = checked_length(integer_arg(lua, FUNC, 1, length)?)?;
        match opt_string_arg(lua, FUNC, 2, charset)? {
            None => pick(length, ALPHANUMERIC),
            Some(charset) => pick(length, &charset.as_bytes()),
        }
    })();
    reply_bytes(lua, made)
}

/// `random.uuid()`: a version-4 UUID, lowercase and hyphenated.
fn uuid(lua: &Lua, (): ()) -> mlua::Result<(LuaValue, LuaValue)> {
    let mut bytes = [0u8; 16];
    let made = fill(&mut bytes).map(|()| {
        let id = uuid::Builder::from_random_bytes(bytes).into_uuid();
        id.hyphenated().to_string()
    });
    reply_bytes(lua, made)
}

/// A length in `1..=MAX_LENGTH`, else Invalid.
fn checked_length(length: i64) -> Result<usize, Error> {
    if length <= 0 {
        return Err(Error::invalid(format!(
            "length must be a positive integer, got {length}"
        )));
    }
    if length > MAX_LENGTH {
        return Err(Error::invalid(format!(
            "length {length} exceeds the maximum of {MAX_LENGTH} (1 MiB)"
        )));
    }
    usize::try_from(length).map_err(|_| Error::invalid("length out of range"))
}

/// Fills `buf` from the OS's secure random source.
fn fill(buf: &mut [u8]) -> Result<(), Error> {
    OsRng
        .try_fill_bytes(buf)
        .map_err(|e| internal(format!("random generation failed: {e}")))
}

/// `length` uniform picks from `charset`: by character when it is UTF-8 text with
/// multi-byte characters, else by byte.
fn pick(length: usize, charset: &[u8]) -> Result<Vec<u8>, Error> {
    if charset.is_empty() {
        return Err(Error::invalid("charset cannot be empty"));
    }
    let mut rng = StdRng::try_from_os_rng()
        .map_err(|e| internal(format!("random generation failed: {e}")))?;
    match std::str::from_utf8(charset) {
        Ok(text) if !text.is_ascii() => {
            let chars: Vec<char> = text.chars().collect();
            let dist = uniform(chars.len())?;
            let mut out = String::with_capacity(length);
            for _ in 0..length {
                out.push(chars[rng.sample(dist)]);
            }
            Ok(out.into_bytes())
        }
        _ => {
            let dist = uniform(charset.len())?;
            Ok((0..length).map(|_| charset[rng.sample(dist)]).collect())
        }
    }
}

/// The uniform distribution over `0..n` (`n > 0`).
fn uniform(n: usize) -> Result<Uniform<usize>, Error> {
    Uniform::new(0, n).map_err(|e| internal(format!("random generation failed: {e}")))
}

//! `crypto.pbkdf2(password, salt, iterations, key_length, hash?)`: PBKDF2 with
//! HMAC-SHA256 or HMAC-SHA512 (the `pbkdf2` crate), always on tokio's blocking pool
//! since a high iteration count takes seconds.

use mlua::{Lua, Value as LuaValue};
use sha2::{Sha256, Sha512};
use weft_core::Error;

use super::{integer_arg, offload, opt_string_arg, reply_bytes, string_arg};
use crate::errors;

/// The most iterations one call may ask for (Wippy's cap).
const MAX_ITERATIONS: i64 = 10_000_000;

/// The longest key one call derives. Wippy has no cap; without one a call could ask for
/// gigabytes, each 32 or 64 bytes of which cost `iterations` HMACs.
const MAX_KEY_LENGTH: i64 = 1024;

/// The PRF's hash.
#[derive(Clone, Copy)]
enum Hash {
    /// HMAC-SHA256.
    Sha256,
    /// HMAC-SHA512.
    Sha512,
}

/// `crypto.pbkdf2(...)`: the derived key (raw bytes) or `nil, err` (Invalid for every
/// bad parameter).
pub(super) async fn pbkdf2(
    lua: Lua,
    (password, salt, iterations, key_length, hash): (
        LuaValue,
        LuaValue,
        LuaValue,
        LuaValue,
        LuaValue,
    ),
) -> mlua::Result<(LuaValue, LuaValue)> {
    const FUNC: &str = "crypto.pbkdf2";
    let checked = (|| {
        let password = string_arg(&lua, FUNC, 1, password)?.as_bytes().to_vec();
        let salt = string_arg(&lua, FUNC, 2, salt)?.as_bytes().to_vec();
        let iterations = integer_arg(&lua, FUNC, 3, iterations)?;
        let key_length = integer_arg(&lua, FUNC, 4, key_length)?;
        let hash = opt_string_arg(&lua, FUNC, 5, hash)?.map(|s| s.to_string_lossy());
        let (rounds, length, hash) =
            check(&password, &salt, iterations, key_length, hash.as_deref())?;
        Ok((password, salt, rounds, length, hash))
    })();
    let (password, salt, rounds, length, hash) = match checked {
        Ok(params) => params,
        Err(e) => return errors::fail(&lua, e),
    };
    // Any derivation goes to the blocking pool: its cost is iterations, not input size.
    let derived = offload(usize::MAX, move || {
        let mut key = vec![0u8; length];
        match hash {
            Hash::Sha256 => pbkdf2::pbkdf2_hmac::<Sha256>(&password, &salt, rounds, &mut key),
            Hash::Sha512 => pbkdf2::pbkdf2_hmac::<Sha512>(&password, &salt, rounds, &mut key),
        }
        key
    })
    .await;
    reply_bytes(&lua, derived)
}

/// Checks the parameters (in the spec's order) and reads the hash name.
fn check(
    password: &[u8],
    salt: &[u8],
    iterations: i64,
    key_length: i64,
    hash: Option<&str>,
) -> Result<(u32, usize, Hash), Error> {
    if password.is_empty() {
        return Err(Error::invalid("password cannot be empty"));
    }
    if salt.is_empty() {
        return Err(Error::invalid("salt cannot be empty"));
    }
    if iterations <= 0 {
        return Err(Error::invalid(format!(
            "iterations must be positive, got {iterations}"
        )));
    }
    if iterations > MAX_ITERATIONS {
        return Err(Error::invalid(format!(
            "iterations {iterations} exceeds the maximum of {MAX_ITERATIONS}"
        )));
    }
    if key_length <= 0 {
        return Err(Error::invalid(format!(
            "key length must be positive, got {key_length}"
        )));
    }
    if key_length > MAX_KEY_LENGTH {
        return Err(Error::invalid(format!(
            "key length {key_length} exceeds the maximum of {MAX_KEY_LENGTH} bytes"
        )));
    }
    let hash = match hash.unwrap_or("sha256") {
        "sha256" => Hash::Sha256,
        "sha512" => Hash::Sha512,
        other => {
            return Err(Error::invalid(format!(
                "unsupported hash function {other:?} (supported: sha256, sha512)"
            )));
        }
    };
    let rounds =
        u32::try_from(iterations).map_err(|_| Error::invalid("iterations out of range"))?;
    let length =
        usize::try_from(key_length).map_err(|_| Error::invalid("key length out of range"))?;
    Ok((rounds, length, hash))
}

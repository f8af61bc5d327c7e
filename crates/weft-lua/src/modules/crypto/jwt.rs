//! `crypto.jwt.encode` and `crypto.jwt.verify`: compact JWS tokens signed with HS256,
//! HS384 or HS512 (a shared secret) or RS256 (a PEM RSA key), by the `jsonwebtoken`
//! crate (`ring` underneath).
//!
//! Encoding writes the header and the claims as `json.encode` does (keys sorted, numbers
//! as Go prints them), so a token is byte for byte the one Wippy makes. The header is
//! `{"alg": ..., "typ": "JWT"}` plus the fields of the payload's `_header` table.
//!
//! Verification checks the signature and that the token's algorithm is the expected
//! one, then the time claims: `exp` (required unless `require_exp` is false; the token
//! is expired from that second on) and `nbf`, both numbers of seconds, with no leeway.
//! `aud`, `iss`, `sub` and `iat` are returned unchecked.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind as JwtErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Validation};
use mlua::{Lua, Table, Value as LuaValue};
use serde_json::{Map as JsonMap, Value as Json};
use weft_core::Error;

use super::{internal, offload, opt_bool_arg, opt_string_arg, string_arg};
use crate::errors;
use crate::modules::json;

/// The algorithms the module signs and verifies with, by name.
const ALGORITHMS: &[(&str, Algorithm)] = &[
    ("HS256", Algorithm::HS256),
    ("HS384", Algorithm::HS384),
    ("HS512", Algorithm::HS512),
    ("RS256", Algorithm::RS256),
];

/// Claims as decoded from a token.
type Claims = JsonMap<String, Json>;

/// Builds the `crypto.jwt` table.
pub(super) fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set("encode", lua.create_async_function(encode)?)?;
    t.set("verify", lua.create_async_function(verify)?)?;
    Ok(t)
}

/// `jwt.encode(payload, key, alg?)`: the signed token.
async fn encode(
    lua: Lua,
    (payload, key, alg): (LuaValue, LuaValue, LuaValue),
) -> mlua::Result<(LuaValue, LuaValue)> {
    const FUNC: &str = "crypto.jwt.encode";
    let args = (|| {
        let LuaValue::Table(payload) = payload else {
            let got = payload.type_name();
            return Err(Error::invalid(format!(
                "payload must be a table, got {got}"
            )));
        };
        let key = string_arg(&lua, FUNC, 2, key)?.as_bytes().to_vec();
        let alg = algorithm(opt_string_arg(&lua, FUNC, 3, alg)?)?;
        Ok((payload, key, alg))
    })();
    let (payload, key, alg) = match args {
        Ok(args) => args,
        Err(e) => return errors::fail(&lua, e),
    };
    let prepared = signing_input(&lua, &payload, alg)?
        .and_then(|message| Ok((message, encoding_key(alg, &key)?)));
    let (message, key) = match prepared {
        Ok(prepared) => prepared,
        Err(e) => return errors::fail(&lua, e),
    };
    let signed = offload(cost(alg, message.len()), move || {
        let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &key, alg).map_err(|e| {
            match e.kind() {
                JwtErrorKind::InvalidRsaKey(_) | JwtErrorKind::InvalidKeyFormat => {
                    Error::invalid(format!("invalid RSA private key: {e}"))
                }
                _ => internal(format!("token signing failed: {e}")),
            }
        })?;
        Ok(format!("{message}.{signature}"))
    })
    .await
    .and_then(|r| r);
    match signed {
        Ok(token) => Ok((LuaValue::String(lua.create_string(token)?), LuaValue::Nil)),
        Err(e) => errors::fail(&lua, e),
    }
}

/// `jwt.verify(token, key, alg?, require_exp?)`: the claims of a valid token.
async fn verify(
    lua: Lua,
    (token, key, alg, require_exp): (LuaValue, LuaValue, LuaValue, LuaValue),
) -> mlua::Result<(LuaValue, LuaValue)> {
    const FUNC: &str = "crypto.jwt.verify";
    let prepared = (|| {
        let token = string_arg(&lua, FUNC, 1, token)?.as_bytes().to_vec();
        let key = string_arg(&lua, FUNC, 2, key)?.as_bytes().to_vec();
        let alg = algorithm(opt_string_arg(&lua, FUNC, 3, alg)?)?;
        let require_exp = opt_bool_arg(FUNC, 4, require_exp)?.unwrap_or(true);
        let key = decoding_key(alg, &key)?;
        let token = String::from_utf8(token)
            .map_err(|_| internal("token format invalid: not UTF-8 text"))?;
        Ok((alg, key, token, require_exp))
    })();
    let (alg, key, token, require_exp) = match prepared {
        Ok(prepared) => prepared,
        Err(e) => return errors::fail(&lua, e),
    };
    let checked = offload(cost(alg, token.len()), move || {
        let claims = signed_claims(&token, &key, alg)?;
        check_times(&claims, require_exp, now())?;
        Ok(claims)
    })
    .await
    .and_then(|r| r);
    match checked {
        Ok(claims) => Ok((json::to_lua(&lua, &Json::Object(claims))?, LuaValue::Nil)),
        Err(e) => errors::fail(&lua, e),
    }
}

/// The algorithm named `name` (HS256 when none); Invalid for any other name.
fn algorithm(name: Option<mlua::LuaString>) -> Result<Algorithm, Error> {
    let Some(name) = name else {
        return Ok(Algorithm::HS256);
    };
    let name = name.to_string_lossy();
    ALGORITHMS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, alg)| *alg)
        .ok_or_else(|| {
            Error::invalid(format!(
                "unsupported algorithm {name:?} (supported: HS256, HS384, HS512, RS256)"
            ))
        })
}

/// The name of `alg` as a token's header writes it.
fn name(alg: Algorithm) -> &'static str {
    ALGORITHMS
        .iter()
        .find(|(_, a)| *a == alg)
        .map_or("HS256", |(n, _)| n)
}

/// What [`offload`] weighs a signature by: the bytes for HMAC, always the blocking pool
/// for RSA (a private-key operation costs milliseconds).
fn cost(alg: Algorithm, len: usize) -> usize {
    match alg {
        Algorithm::RS256 => usize::MAX,
        _ => len,
    }
}

/// `base64url(header).base64url(claims)` of `payload`; Invalid when the payload or its
/// `_header` cannot be a JSON object.
fn signing_input(
    lua: &Lua,
    payload: &Table,
    alg: Algorithm,
) -> mlua::Result<Result<String, Error>> {
    let claims = lua.create_table()?;
    let header = lua.create_table()?;
    for pair in payload.pairs::<LuaValue, LuaValue>() {
        let (k, v) = pair?;
        if !matches!(&k, LuaValue::String(s) if s.as_bytes().as_ref() == b"_header") {
            claims.raw_set(k, v)?;
            continue;
        }
        let LuaValue::Table(fields) = v else {
            let msg = format!("payload._header must be a table, got {}", v.type_name());
            return Ok(Err(Error::invalid(msg)));
        };
        for pair in fields.pairs::<LuaValue, LuaValue>() {
            let (k, v) = pair?;
            header.raw_set(k, v)?;
        }
    }
    match header.raw_get::<LuaValue>("alg")? {
        LuaValue::Nil => {}
        LuaValue::String(s) if s.to_string_lossy() == name(alg) => {}
        other => {
            let msg = format!(
                "payload._header.alg ({}) differs from the signing algorithm {}",
                other
                    .to_string()
                    .unwrap_or_else(|_| other.type_name().to_string()),
                name(alg)
            );
            return Ok(Err(Error::invalid(msg)));
        }
    }
    header.raw_set("alg", name(alg))?;
    if header.raw_get::<LuaValue>("typ")?.is_nil() {
        header.raw_set("typ", "JWT")?;
    }
    Ok(object_json("payload._header", &header).and_then(|header| {
        let claims = object_json("payload", &claims)?;
        Ok(format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims)
        ))
    }))
}

/// `t` as the text of a JSON object (`{}` when empty); Invalid otherwise.
fn object_json(what: &str, t: &Table) -> Result<String, Error> {
    if t.is_empty() {
        return Ok("{}".to_string());
    }
    let text = json::encode(&LuaValue::Table(t.clone()))
        .map_err(|e| Error::invalid(format!("{what}: {}", e.message())))?;
    if !text.starts_with('{') {
        return Err(Error::invalid(format!(
            "{what} must have string keys (a JSON object), not be an array"
        )));
    }
    Ok(text)
}

/// The signing key: the secret (not empty) for HMAC, a PKCS#1 or PKCS#8 PEM private key
/// for RS256; Invalid otherwise.
fn encoding_key(alg: Algorithm, key: &[u8]) -> Result<EncodingKey, Error> {
    match alg {
        Algorithm::RS256 => EncodingKey::from_rsa_pem(key)
            .map_err(|e| Error::invalid(format!("invalid RSA private key: {e}"))),
        _ if key.is_empty() => Err(Error::invalid("key cannot be empty")),
        _ => Ok(EncodingKey::from_secret(key)),
    }
}

/// The verification key: the secret (not empty, else Invalid) for HMAC, a PEM public
/// key (PKCS#1 or SPKI) for RS256 (Internal when it does not parse, as the spec says).
fn decoding_key(alg: Algorithm, key: &[u8]) -> Result<DecodingKey, Error> {
    match alg {
        Algorithm::RS256 => DecodingKey::from_rsa_pem(key)
            .map_err(|e| internal(format!("invalid RSA public key: {e}"))),
        _ if key.is_empty() => Err(Error::invalid("key cannot be empty")),
        _ => Ok(DecodingKey::from_secret(key)),
    }
}

/// The claims of `token` once its form, algorithm and signature check out.
fn signed_claims(token: &str, key: &DecodingKey, alg: Algorithm) -> Result<Claims, Error> {
    let mut validation = Validation::new(alg);
    // Time claims are checked by `check_times`, the others not at all (as Wippy).
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.leeway = 0;
    jsonwebtoken::decode::<Claims>(token, key, &validation)
        .map(|data| data.claims)
        .map_err(|e| match e.kind() {
            JwtErrorKind::InvalidSignature => internal("signature invalid"),
            JwtErrorKind::InvalidAlgorithm => {
                let signed_with = jsonwebtoken::decode_header(token)
                    .map_or_else(|_| "?".to_string(), |h| format!("{:?}", h.alg));
                internal(format!(
                    "algorithm mismatch: token is signed with {signed_with}, expected {}",
                    name(alg)
                ))
            }
            JwtErrorKind::InvalidRsaKey(_) | JwtErrorKind::InvalidKeyFormat => {
                internal(format!("invalid RSA public key: {e}"))
            }
            _ => internal(format!("token format invalid: {e}")),
        })
}

/// Checks `exp` (present when `require_exp`; expired once `now` reaches it) and `nbf`
/// (not valid before it).
fn check_times(claims: &Claims, require_exp: bool, now: f64) -> Result<(), Error> {
    let exp = claims.get("exp").map(|v| seconds("exp", v)).transpose()?;
    match exp {
        None if require_exp => return Err(internal("token has no exp claim (required)")),
        Some(exp) if now >= exp => return Err(internal("token expired")),
        _ => {}
    }
    let nbf = claims.get("nbf").map(|v| seconds("nbf", v)).transpose()?;
    if nbf.is_some_and(|nbf| now < nbf) {
        return Err(internal("token not valid yet (nbf is in the future)"));
    }
    Ok(())
}

/// A time claim as seconds since the epoch; Internal when it is not a number.
fn seconds(claim: &str, v: &Json) -> Result<f64, Error> {
    v.as_f64().ok_or_else(|| {
        internal(format!(
            "{claim} claim must be a number of seconds, got {v}"
        ))
    })
}

/// Now, in seconds since the epoch.
fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(text: &str) -> Claims {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn time_claims_are_checked_to_the_second() {
        let now = 1_000.0;
        assert!(check_times(&claims(r#"{"exp": 1001}"#), true, now).is_ok());
        let expired = check_times(&claims(r#"{"exp": 1000}"#), true, now).unwrap_err();
        assert_eq!(expired.message(), "token expired");
        assert!(check_times(&claims(r#"{"exp": 999.5}"#), false, now).is_err());
        assert!(check_times(&claims("{}"), false, now).is_ok());
        let missing = check_times(&claims("{}"), true, now).unwrap_err();
        assert!(missing.message().contains("no exp"), "{missing}");
        let text = check_times(&claims(r#"{"exp": "never"}"#), false, now).unwrap_err();
        assert!(text.message().contains("must be a number"), "{text}");
        assert!(check_times(&claims(r#"{"nbf": 1000}"#), false, now).is_ok());
        assert!(check_times(&claims(r#"{"nbf": 1000.5}"#), false, now).is_err());
        assert!(check_times(&claims(r#"{"nbf": null}"#), false, now).is_err());
    }
}

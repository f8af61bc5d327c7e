//! The `base64` module (Wippy's `base64` spec): `encode` and `decode` in the standard
//! alphabet with `=` padding (RFC 4648 §4), with the `base64` crate.
//!
//! Decoding reads what Go's `base64.StdEncoding` reads, which Wippy uses: padding is
//! required, line breaks (`\r`, `\n`) are skipped, and the unused low bits of the last
//! symbol may be set. Both functions take and give byte strings; failures are `nil, err`
//! with an Invalid, non-retryable error.

use ::base64::Engine as _;
use ::base64::alphabet;
use ::base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use mlua::{Lua, Table, Value as LuaValue};
use weft_core::Error;

use super::args::reply_bytes;
use super::hash::bytes_arg;

/// The standard alphabet, padding written and required, trailing bits allowed.
const ENGINE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical)
        .with_decode_allow_trailing_bits(true),
);

/// Builds the `base64` module table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "encode",
        lua.create_function(|lua, data: LuaValue| {
            let encoded = bytes_arg("base64.encode", "data", &data).map(|b| ENGINE.encode(b));
            reply_bytes(lua, encoded)
        })?,
    )?;
    t.set(
        "decode",
        lua.create_function(|lua, data: LuaValue| {
            reply_bytes(
                lua,
                bytes_arg("base64.decode", "data", &data).and_then(|b| decode(&b)),
            )
        })?,
    )?;
    Ok(t)
}

/// Decodes `text`, skipping line breaks as Go does.
fn decode(text: &[u8]) -> Result<Vec<u8>, Error> {
    let decoded = if text.iter().any(|&b| b == b'\r' || b == b'\n') {
        let joined: Vec<u8> = text
            .iter()
            .copied()
            .filter(|&b| b != b'\r' && b != b'\n')
            .collect();
        ENGINE.decode(joined)
    } else {
        ENGINE.decode(text)
    };
    decoded.map_err(|e| Error::invalid(format!("base64.decode: invalid base64 data: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_reads_what_go_reads() {
        // Line breaks are skipped; set trailing bits are accepted; padding is required.
        assert_eq!(decode(b"Zm9v\r\nYmFy\n").unwrap(), b"foobar");
        assert_eq!(decode(b"Zh==").unwrap(), b"f");
        assert!(decode(b"Zg").is_err());
        assert!(decode(b"Zg=").is_err());
    }
}

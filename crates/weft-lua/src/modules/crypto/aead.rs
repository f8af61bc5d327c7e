//! `crypto.encrypt.aes/chacha20` and `crypto.decrypt.aes/chacha20`: AES-GCM with 16, 24
//! or 32-byte keys (`aes-gcm`) and ChaCha20-Poly1305 with 32-byte keys
//! (`chacha20poly1305`).
//!
//! The sealed form is Wippy's: a fresh random 12-byte nonce, then the ciphertext, then
//! the 16-byte tag. Decryption reads the nonce back from the front; a wrong key, wrong
//! AAD or any changed byte (nonce, ciphertext or tag) fails authentication.

use aes_gcm::aead::consts::U12;
use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::aes::Aes192;
use aes_gcm::{Aes128Gcm, Aes256Gcm, AesGcm};
use chacha20poly1305::ChaCha20Poly1305;
use mlua::{Lua, Table, Value as LuaValue};
use rand::TryRngCore;
use rand::rngs::OsRng;
use weft_core::Error;

use super::{internal, offload, opt_string_arg, reply_bytes, string_arg};
use crate::errors;

/// Nonce bytes at the front of sealed data.
const NONCE_LEN: usize = 12;

/// Tag bytes at the end of sealed data.
const TAG_LEN: usize = 16;

/// AES-GCM with a 192-bit key (the crate names only the 128 and 256-bit ones).
type Aes192Gcm = AesGcm<Aes192, U12>;

/// The two ciphers of the module.
#[derive(Clone, Copy)]
enum Cipher {
    /// AES-GCM.
    Aes,
    /// ChaCha20-Poly1305.
    ChaCha20,
}

/// A cipher with its key.
enum Keyed {
    /// AES-128-GCM.
    Aes128(Box<Aes128Gcm>),
    /// AES-192-GCM.
    Aes192(Box<Aes192Gcm>),
    /// AES-256-GCM.
    Aes256(Box<Aes256Gcm>),
    /// ChaCha20-Poly1305.
    ChaCha20(Box<ChaCha20Poly1305>),
}

/// Builds the `crypto.encrypt` table.
pub(super) fn encrypt_module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "aes",
        lua.create_async_function(|lua, args| encrypt(lua, Cipher::Aes, args))?,
    )?;
    t.set(
        "chacha20",
        lua.create_async_function(|lua, args| encrypt(lua, Cipher::ChaCha20, args))?,
    )?;
    Ok(t)
}

/// Builds the `crypto.decrypt` table.
pub(super) fn decrypt_module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "aes",
        lua.create_async_function(|lua, args| decrypt(lua, Cipher::Aes, args))?,
    )?;
    t.set(
        "chacha20",
        lua.create_async_function(|lua, args| decrypt(lua, Cipher::ChaCha20, args))?,
    )?;
    Ok(t)
}

/// `encrypt.<cipher>(data, key, aad?)`: nonce ‖ ciphertext ‖ tag.
async fn encrypt(
    lua: Lua,
    cipher: Cipher,
    (data, key, aad): (LuaValue, LuaValue, LuaValue),
) -> mlua::Result<(LuaValue, LuaValue)> {
    let func = cipher.encrypt_name();
    let prepared = (|| {
        let data = string_arg(&lua, func, 1, data)?;
        let key = string_arg(&lua, func, 2, key)?;
        let aad = aad_bytes(&lua, func, aad)?;
        let keyed = cipher.keyed(&key.as_bytes())?;
        let mut nonce = [0u8; NONCE_LEN];
        OsRng
            .try_fill_bytes(&mut nonce)
            .map_err(|e| internal(format!("nonce generation failed: {e}")))?;
        Ok((keyed, buffer(&nonce, &data.as_bytes(), TAG_LEN)?, aad))
    })();
    let (keyed, buf, aad) = match prepared {
        Ok(prepared) => prepared,
        Err(e) => return errors::fail(&lua, e),
    };
    let sealed = offload(buf.len(), move || keyed.seal(buf, &aad)).await;
    reply_bytes(&lua, sealed.and_then(|r| r))
}

/// `decrypt.<cipher>(data, key, aad?)`: the plaintext of nonce ‖ ciphertext ‖ tag.
async fn decrypt(
    lua: Lua,
    cipher: Cipher,
    (data, key, aad): (LuaValue, LuaValue, LuaValue),
) -> mlua::Result<(LuaValue, LuaValue)> {
    let func = cipher.decrypt_name();
    let prepared = (|| {
        let data = string_arg(&lua, func, 1, data)?;
        let key = string_arg(&lua, func, 2, key)?;
        let aad = aad_bytes(&lua, func, aad)?;
        let keyed = cipher.keyed(&key.as_bytes())?;
        let data = data.as_bytes();
        if data.len() < NONCE_LEN + TAG_LEN {
            return Err(Error::invalid(format!(
                "encrypted data too short: {} bytes, at least {} expected (nonce and tag)",
                data.len(),
                NONCE_LEN + TAG_LEN
            )));
        }
        Ok((keyed, buffer(&[], &data, 0)?, aad))
    })();
    let (keyed, buf, aad) = match prepared {
        Ok(prepared) => prepared,
        Err(e) => return errors::fail(&lua, e),
    };
    let opened = offload(buf.len(), move || keyed.open(buf, &aad)).await;
    reply_bytes(&lua, opened.and_then(|r| r))
}

impl Cipher {
    /// The Lua name of this cipher's `encrypt` function.
    fn encrypt_name(self) -> &'static str {
        match self {
            Cipher::Aes => "crypto.encrypt.aes",
            Cipher::ChaCha20 => "crypto.encrypt.chacha20",
        }
    }

    /// The Lua name of this cipher's `decrypt` function.
    fn decrypt_name(self) -> &'static str {
        match self {
            Cipher::Aes => "crypto.decrypt.aes",
            Cipher::ChaCha20 => "crypto.decrypt.chacha20",
        }
    }

    /// The cipher keyed with `key`; Invalid for a key of the wrong length.
    fn keyed(self, key: &[u8]) -> Result<Keyed, Error> {
        let made = match (self, key.len()) {
            (Cipher::Aes, 16) => Aes128Gcm::new_from_slice(key).map(|c| Keyed::Aes128(Box::new(c))),
            (Cipher::Aes, 24) => Aes192Gcm::new_from_slice(key).map(|c| Keyed::Aes192(Box::new(c))),
            (Cipher::Aes, 32) => Aes256Gcm::new_from_slice(key).map(|c| Keyed::Aes256(Box::new(c))),
            (Cipher::ChaCha20, 32) => {
                ChaCha20Poly1305::new_from_slice(key).map(|c| Keyed::ChaCha20(Box::new(c)))
            }
            (Cipher::Aes, n) => {
                return Err(Error::invalid(format!(
                    "AES key must be 16, 24 or 32 bytes, got {n}"
                )));
            }
            (Cipher::ChaCha20, n) => {
                return Err(Error::invalid(format!(
                    "ChaCha20-Poly1305 key must be 32 bytes, got {n}"
                )));
            }
        };
        made.map_err(|e| internal(format!("cipher creation failed: {e}")))
    }
}

impl Keyed {
    /// Encrypts `buf` (nonce ‖ plaintext) in place and appends the tag.
    fn seal(&self, mut buf: Vec<u8>, aad: &[u8]) -> Result<Vec<u8>, Error> {
        let (nonce, body) = buf.split_at_mut(NONCE_LEN);
        let tag = match self {
            Keyed::Aes128(c) => seal_with(c.as_ref(), nonce, aad, body),
            Keyed::Aes192(c) => seal_with(c.as_ref(), nonce, aad, body),
            Keyed::Aes256(c) => seal_with(c.as_ref(), nonce, aad, body),
            Keyed::ChaCha20(c) => seal_with(c.as_ref(), nonce, aad, body),
        }?;
        buf.extend_from_slice(&tag);
        Ok(buf)
    }

    /// Checks and decrypts `buf` (nonce ‖ ciphertext ‖ tag, at least nonce and tag
    /// long); the plaintext.
    fn open(&self, mut buf: Vec<u8>, aad: &[u8]) -> Result<Vec<u8>, Error> {
        let Some(body_end) = buf.len().checked_sub(TAG_LEN).filter(|&e| e >= NONCE_LEN) else {
            return Err(Error::invalid("encrypted data too short"));
        };
        let (head, tag) = buf.split_at_mut(body_end);
        let (nonce, body) = head.split_at_mut(NONCE_LEN);
        match self {
            Keyed::Aes128(c) => open_with(c.as_ref(), nonce, aad, body, tag),
            Keyed::Aes192(c) => open_with(c.as_ref(), nonce, aad, body, tag),
            Keyed::Aes256(c) => open_with(c.as_ref(), nonce, aad, body, tag),
            Keyed::ChaCha20(c) => open_with(c.as_ref(), nonce, aad, body, tag),
        }?;
        buf.truncate(body_end);
        buf.drain(..NONCE_LEN);
        Ok(buf)
    }
}

/// Encrypts `body` in place; the tag.
fn seal_with<A: AeadInPlace>(
    cipher: &A,
    nonce: &[u8],
    aad: &[u8],
    body: &mut [u8],
) -> Result<Vec<u8>, Error> {
    let nonce = GenericArray::from_exact_iter(nonce.iter().copied())
        .ok_or_else(|| internal("nonce of the wrong size"))?;
    cipher
        .encrypt_in_place_detached(&nonce, aad, body)
        .map(|tag| tag.to_vec())
        .map_err(|_| internal("encryption failed (input too long for the cipher)"))
}

/// Checks `tag` and decrypts `body` in place.
fn open_with<A: AeadInPlace>(
    cipher: &A,
    nonce: &[u8],
    aad: &[u8],
    body: &mut [u8],
    tag: &[u8],
) -> Result<(), Error> {
    let nonce = GenericArray::from_exact_iter(nonce.iter().copied())
        .ok_or_else(|| internal("nonce of the wrong size"))?;
    let tag = GenericArray::from_exact_iter(tag.iter().copied())
        .ok_or_else(|| internal("tag of the wrong size"))?;
    cipher
        .decrypt_in_place_detached(&nonce, aad, body, &tag)
        .map_err(|_| {
            internal(
                "decryption failed: authentication failed (wrong key or AAD, or tampered data)",
            )
        })
}

/// `head ‖ data` in a buffer with room for `extra` more bytes (the work buffer, so a big
/// input is copied once); Internal when that much memory cannot be had.
fn buffer(head: &[u8], data: &[u8], extra: usize) -> Result<Vec<u8>, Error> {
    let mut buf = Vec::new();
    buf.try_reserve_exact(head.len() + data.len() + extra)
        .map_err(|_| internal(format!("cannot allocate {} bytes", data.len())))?;
    buf.extend_from_slice(head);
    buf.extend_from_slice(data);
    Ok(buf)
}

/// The optional AAD argument (#3) as bytes; nil is empty.
fn aad_bytes(lua: &Lua, func: &str, aad: LuaValue) -> Result<Vec<u8>, Error> {
    Ok(opt_string_arg(lua, func, 3, aad)?
        .map(|s| s.as_bytes().to_vec())
        .unwrap_or_default())
}

//! The on-disk compile cache.
//!
//! A compiled component is stored under the sha256 of its bytes and the engine's
//! fingerprint, so a different wasmtime build or configuration never reads another's
//! files. Each file starts with a sha256 of its payload: a corrupt or truncated file is
//! ignored and rebuilt. Files are written to a temporary name and renamed into place.
//! `weft check` reads the cache but never writes it: a check writes nothing.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;
use weft_core::{BoundedRead, Error, MAX_MODULE_FILE_BYTES, Result};
use weft_registry::BootMode;

/// Where one engine's compiled components are kept (or nowhere).
pub(crate) struct CompileCache {
    dir: Option<PathBuf>,
    fingerprint: String,
}

impl CompileCache {
    /// A cache in `dir` for components compiled by `engine` (`None`: no cache).
    pub(crate) fn new(engine: &Engine, dir: Option<PathBuf>) -> CompileCache {
        let mut h = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        CompileCache {
            dir,
            fingerprint: format!("{:016x}", h.finish()),
        }
    }

    /// Compiles a component with `engine`, reading the cache and, in a run, filling it;
    /// `true` with a component read from the cache.
    pub(crate) fn compile(
        &self,
        engine: &Engine,
        bytes: &[u8],
        mode: BootMode,
    ) -> Result<(Component, bool)> {
        let path = self.dir.as_ref().map(|dir| {
            let key = hex::encode(Sha256::digest(bytes));
            dir.join(format!("{key}-{}.cwasm", self.fingerprint))
        });
        if let Some(path) = &path
            && let Some(component) = load(engine, path)
        {
            return Ok((component, true));
        }
        let component = Component::new(engine, bytes)
            .map_err(|e| Error::invalid(format!("failed to compile wasm module: {e:#}")))?;
        if let Some(path) = &path
            && mode == BootMode::Run
        {
            match component.serialize() {
                Ok(compiled) => {
                    if let Err(e) = store(path, &compiled) {
                        tracing::warn!("compile cache: cannot write {}: {e}", path.display());
                    }
                }
                Err(e) => tracing::warn!("compile cache: cannot serialize: {e}"),
            }
        }
        Ok((component, false))
    }
}

/// A cached component, if the file is whole and made by this engine. A cache file that
/// is not a regular file inside the cache directory, or is over
/// [`MAX_MODULE_FILE_BYTES`], is a miss (logged), like a corrupt one.
fn load(engine: &Engine, path: &Path) -> Option<Component> {
    let read = BoundedRead::new(MAX_MODULE_FILE_BYTES).within(path.parent()?);
    let file = match read.bytes(path) {
        Ok(file) => file,
        Err(e) if e.is_not_found() => return None,
        Err(e) => {
            tracing::warn!("compile cache: {e}; rebuilding");
            return None;
        }
    };
    let (digest, payload) = file.split_at_checked(32)?;
    if Sha256::digest(payload).as_slice() != digest {
        tracing::warn!("compile cache: {} is corrupt; rebuilding", path.display());
        return None;
    }
    // SAFETY: the payload is exactly what `Component::serialize` wrote for this
    // engine fingerprint (the sha256 above proves the bytes are unchanged), and
    // wasmtime checks the engine compatibility itself before using it.
    match unsafe { Component::deserialize(engine, payload) } {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::warn!(
                "compile cache: {} unusable ({e}); rebuilding",
                path.display()
            );
            None
        }
    }
}

/// Writes a cache file atomically: sha256 of the payload, then the payload.
fn store(path: &Path, compiled: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut data = Vec::with_capacity(32 + compiled.len());
    data.extend_from_slice(&Sha256::digest(compiled));
    data.extend_from_slice(compiled);
    std::fs::write(&tmp, data)?;
    std::fs::rename(&tmp, path)
}

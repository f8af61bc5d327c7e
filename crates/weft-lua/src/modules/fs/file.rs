//! The File object of `fs` (`vol:open(path, mode)`): `read`, `write`, `seek`, `stat`,
//! `sync`, `close` and `scanner` over a [`weft_fs::FsFile`].
//!
//! A File is closed by `close()` (again is a no-op), when it is collected, and when the
//! run (the call or process) that opened it ends, as the spec's "closed on function
//! return" says: it is closed for Lua as soon as that run is gone (it keeps only a weak
//! reference to it), and its descriptor is released then too (a task of the run holds
//! the closing guard; the end of the run aborts it). Using a closed File is Invalid.
//! `read` returns at most [`weft_fs::MAX_READ_CHUNK`] bytes and `nil, err` (NotFound) at
//! the end of the file. `scanner(split)` is the `stream` module's Scanner reading from
//! the File's position.

use std::io::SeekFrom;
use std::sync::{Arc, Weak};

use bytes::Bytes;
use mlua::{Lua, ObjectLike, UserData, UserDataMethods, Value as LuaValue};
use parking_lot::Mutex;
use tokio::task::AbortHandle;
use weft_core::{Error, Result};
use weft_fs::FsFile;

use super::{blocking, boolean, done, info_table};
use crate::errors;
use crate::modules::args::integer;
use crate::modules::stream::{LuaStream, ReadFuture, Source};
use crate::run::{self, RunState};

/// An open File in Lua.
pub struct LuaFile {
    handle: Handle,
    /// The task that closes the file when the run ends.
    closer: AbortHandle,
}

/// The open file (shared with the File's scanners) and the run it belongs to.
#[derive(Clone)]
struct Handle {
    slot: Slot,
    run: Weak<RunState>,
}

/// The open file; `None` once closed. Operations in flight hold their own reference.
type Slot = Arc<Mutex<Option<Arc<FsFile>>>>;

/// Closes the file of a slot when dropped.
struct CloseOnDrop(Slot);

/// The bytes `read` returns when no size is given.
const DEFAULT_READ: usize = 4096;

/// The bytes a scanner asks for at a time.
const SCAN_CHUNK: usize = 32 * 1024;

impl LuaFile {
    /// A File for `file`, closed at the latest when the current run ends.
    pub fn new(lua: &Lua, file: FsFile) -> LuaFile {
        let slot: Slot = Arc::new(Mutex::new(Some(Arc::new(file))));
        let run = lua
            .app_data_ref::<Arc<RunState>>()
            .map_or_else(Weak::new, |state| Arc::downgrade(&state));
        let guard = CloseOnDrop(slot.clone());
        let closer = run::spawn_task(lua, async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        });
        LuaFile {
            handle: Handle { slot, run },
            closer,
        }
    }
}

impl Handle {
    /// The open file; Invalid once closed or once its run has ended (then it is closed).
    fn file(&self) -> Result<Arc<FsFile>> {
        if self.run.upgrade().is_none() {
            self.close();
        }
        self.slot
            .lock()
            .clone()
            .ok_or_else(|| Error::invalid("file is closed"))
    }

    /// Closes the file (operations in flight finish with their own reference).
    fn close(&self) {
        self.slot.lock().take();
    }
}

impl Drop for LuaFile {
    fn drop(&mut self) {
        self.closer.abort();
    }
}

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        self.0.lock().take();
    }
}

impl UserData for LuaFile {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_async_method("read", |lua, this, size: LuaValue| async move {
            let read = match (size_arg(&size), this.handle.file()) {
                (Ok(size), Ok(file)) => blocking(move || file.read(size)).await,
                (Err(e), _) | (_, Err(e)) => Err(e),
            };
            match read {
                Ok(Some(data)) => Ok((LuaValue::String(lua.create_string(&data)?), LuaValue::Nil)),
                Ok(None) => {
                    let eof = Error::not_found("end of file").with_retryable(Some(false));
                    errors::fail(&lua, eof)
                }
                Err(e) => errors::fail(&lua, e),
            }
        });
        methods.add_async_method("write", |lua, this, data: LuaValue| async move {
            let data = match data {
                LuaValue::String(s) if !s.as_bytes().is_empty() => Ok(s.as_bytes().to_vec()),
                LuaValue::String(_) => Err(Error::invalid("data is empty")),
                other => Err(Error::invalid(format!(
                    "data must be a string, got {}",
                    other.type_name()
                ))),
            };
            let written = match (data, this.handle.file()) {
                (Ok(data), Ok(file)) => blocking(move || file.write(&data)).await,
                (Err(e), _) | (_, Err(e)) => Err(e),
            };
            done(&lua, written)
        });
        methods.add_async_method(
            "seek",
            |lua, this, (whence, offset): (LuaValue, LuaValue)| async move {
                let moved = match (seek_arg(&whence, &offset), this.handle.file()) {
                    (Ok(to), Ok(file)) => blocking(move || file.seek(to)).await,
                    (Err(e), _) | (_, Err(e)) => Err(e),
                };
                match moved {
                    Ok(pos) => Ok((
                        LuaValue::Integer(i64::try_from(pos).unwrap_or(i64::MAX)),
                        LuaValue::Nil,
                    )),
                    Err(e) => errors::fail(&lua, e),
                }
            },
        );
        methods.add_async_method("stat", |lua, this, ()| async move {
            let info = match this.handle.file() {
                Ok(file) => blocking(move || file.stat()).await,
                Err(e) => Err(e),
            };
            match info {
                Ok(info) => Ok((LuaValue::Table(info_table(&lua, &info)?), LuaValue::Nil)),
                Err(e) => errors::fail(&lua, e),
            }
        });
        methods.add_async_method("sync", |lua, this, ()| async move {
            let synced = match this.handle.file() {
                Ok(file) => blocking(move || file.sync()).await,
                Err(e) => Err(e),
            };
            done(&lua, synced)
        });
        methods.add_method("close", |lua, this, ()| {
            this.handle.close();
            this.closer.abort();
            boolean(lua, Ok(true))
        });
        methods.add_async_method("scanner", |lua, this, split: LuaValue| async move {
            if let Err(e) = this.handle.file() {
                return errors::fail(&lua, e);
            }
            let stream = lua.create_userdata(LuaStream::new(FileSource(this.handle.clone())))?;
            stream
                .call_async_method::<(LuaValue, LuaValue)>("scanner", split)
                .await
        });
        methods.add_meta_method(mlua::MetaMethod::ToString, |_, this, ()| {
            Ok(match this.handle.file() {
                Ok(file) => format!("fs.File{{{}}}", file.path()),
                Err(_) => "fs.File{closed}".to_string(),
            })
        });
    }
}

/// What a scanner reads: the File itself, from its current position.
struct FileSource(Handle);

impl Source for FileSource {
    fn read(&mut self, max: usize) -> ReadFuture<'_> {
        let handle = self.0.clone();
        Box::pin(async move {
            let file = handle.file()?;
            let max = if max == 0 { SCAN_CHUNK } else { max };
            let data = blocking(move || file.read(max)).await?;
            Ok(data.map(Bytes::from))
        })
    }
}

/// The size of `read`: nil is [`DEFAULT_READ`], else a positive integer.
fn size_arg(size: &LuaValue) -> Result<usize> {
    match integer(size, "size")? {
        None => Ok(DEFAULT_READ),
        Some(n) if n > 0 => Ok(usize::try_from(n).unwrap_or(usize::MAX)),
        Some(n) => Err(Error::invalid(format!("size must be positive, got {n}"))),
    }
}

/// `seek(whence, offset)` as a [`SeekFrom`]; a negative offset from the start is Invalid.
fn seek_arg(whence: &LuaValue, offset: &LuaValue) -> Result<SeekFrom> {
    let offset = integer(offset, "offset")?.ok_or_else(|| Error::invalid("offset is required"))?;
    let whence = match whence {
        LuaValue::String(s) => s.to_string_lossy(),
        other => {
            return Err(Error::invalid(format!(
                "whence must be a string, got {}",
                other.type_name()
            )));
        }
    };
    match whence.as_str() {
        "set" => u64::try_from(offset).map(SeekFrom::Start).map_err(|_| {
            Error::invalid(format!(
                "offset from the start cannot be negative, got {offset}"
            ))
        }),
        "cur" => Ok(SeekFrom::Current(offset)),
        "end" => Ok(SeekFrom::End(offset)),
        other => Err(Error::invalid(format!(
            "invalid whence {other:?}: must be 'set', 'cur' or 'end'"
        ))),
    }
}

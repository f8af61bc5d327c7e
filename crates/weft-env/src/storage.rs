//! The env storages: where variable values live.
//!
//! - `env.storage.memory`: a volatile map;
//! - `env.storage.file`: a `.env` file, re-read when it changes, written atomically;
//! - `env.storage.os`: the process environment, read-only;
//! - `env.storage.static`: fixed values from the entry, read-only;
//! - `env.storage.router`: reads try each storage in order (the first non-empty value
//!   wins), writes go to the first.

use std::collections::HashMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use parking_lot::{Mutex, RwLock};
use weft_core::{BoundedRead, EntryId, Error, MAX_TEXT_FILE_BYTES, Result};
use weft_fs::{FileMode, set_mode};

use crate::dotenv::{check_file_key, parse_dotenv, rewrite_dotenv};

/// Where variable values live.
pub trait EnvStorage: Send + Sync {
    /// The value stored under `key` (`None` when absent).
    fn get(&self, key: &str) -> Result<Option<String>>;
    /// Stores `value` under `key`; a read-only storage fails with [`read_only`].
    fn set(&self, key: &str, value: &str) -> Result<()>;
}

/// The error of a write to something read-only (`what` names it); kind Invalid.
pub fn read_only(what: impl fmt::Display) -> Error {
    Error::invalid(format!("{what} is read-only"))
}

/// `env.storage.memory`: a volatile map.
#[derive(Default)]
pub struct MemoryStorage {
    values: RwLock<HashMap<String, String>>,
}

impl EnvStorage for MemoryStorage {
    fn get(&self, key: &str) -> Result<Option<String>> {
        Ok(self.values.read().get(key).cloned())
    }

    fn set(&self, key: &str, value: &str) -> Result<()> {
        self.values
            .write()
            .insert(key.to_string(), value.to_string());
        Ok(())
    }
}

/// `env.storage.os`: the process environment, read-only.
pub struct OsStorage {
    id: EntryId,
}

impl OsStorage {
    /// The OS storage of entry `id`.
    pub fn new(id: EntryId) -> OsStorage {
        OsStorage { id }
    }
}

impl EnvStorage for OsStorage {
    fn get(&self, key: &str) -> Result<Option<String>> {
        // Names the OS cannot hold are never set (and must not reach getenv).
        if key.is_empty() || key.contains(['=', '\0']) {
            return Ok(None);
        }
        match std::env::var(key) {
            Ok(v) => Ok(Some(v)),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => Err(Error::invalid(format!(
                "OS environment variable {key} is not valid UTF-8"
            ))),
        }
    }

    fn set(&self, _key: &str, _value: &str) -> Result<()> {
        Err(read_only(format_args!("env storage {}", self.id)))
    }
}

/// `env.storage.static`: fixed values from the entry, read-only.
pub struct StaticStorage {
    id: EntryId,
    values: HashMap<String, String>,
}

impl StaticStorage {
    /// A static storage of entry `id` holding `values`.
    pub fn new(id: EntryId, values: HashMap<String, String>) -> StaticStorage {
        StaticStorage { id, values }
    }
}

impl EnvStorage for StaticStorage {
    fn get(&self, key: &str) -> Result<Option<String>> {
        Ok(self.values.get(key).cloned())
    }

    fn set(&self, _key: &str, _value: &str) -> Result<()> {
        Err(read_only(format_args!("env storage {}", self.id)))
    }
}

/// `env.storage.router`: reads try each storage in order, writes go to the first.
pub struct RouterStorage {
    storages: Vec<Arc<dyn EnvStorage>>,
}

impl RouterStorage {
    /// A router over `storages`, which must not be empty.
    pub fn new(storages: Vec<Arc<dyn EnvStorage>>) -> Result<RouterStorage> {
        if storages.is_empty() {
            return Err(Error::invalid("a router needs at least one storage"));
        }
        Ok(RouterStorage { storages })
    }
}

impl EnvStorage for RouterStorage {
    fn get(&self, key: &str) -> Result<Option<String>> {
        for storage in &self.storages {
            match storage.get(key)? {
                Some(v) if !v.is_empty() => return Ok(Some(v)),
                _ => {}
            }
        }
        Ok(None)
    }

    fn set(&self, key: &str, value: &str) -> Result<()> {
        match self.storages.first() {
            Some(first) => first.set(key, value),
            None => Err(Error::internal("router without storages")),
        }
    }
}

/// `env.storage.file`: a `.env` file, cached and re-read when it changes on disk.
pub struct FileStorage {
    id: EntryId,
    path: PathBuf,
    file_mode: FileMode,
    state: Mutex<FileState>,
}

/// What was last read from the file, and the file's size and mtime then.
#[derive(Default)]
struct FileState {
    values: HashMap<String, String>,
    stamp: Option<(SystemTime, u64)>,
}

impl FileStorage {
    /// A storage over the existing file `path`; new versions are written with `file_mode`.
    pub fn open(id: EntryId, path: PathBuf, file_mode: FileMode) -> Result<FileStorage> {
        let storage = FileStorage {
            id,
            path,
            file_mode,
            state: Mutex::new(FileState::default()),
        };
        storage.refresh(&mut storage.state.lock())?;
        Ok(storage)
    }

    /// Re-reads the file when its size or mtime changed since the last read.
    fn refresh(&self, state: &mut FileState) -> Result<()> {
        let meta = match std::fs::metadata(&self.path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                state.values.clear();
                state.stamp = None;
                return Ok(());
            }
            Err(e) => return Err(self.io_error("read", &e)),
        };
        let stamp = (
            meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            meta.len(),
        );
        if state.stamp == Some(stamp) {
            return Ok(());
        }
        let text = self.read_text()?.unwrap_or_default();
        state.values = parse_dotenv(&text);
        state.stamp = Some(stamp);
        Ok(())
    }

    /// The file's text (`None` when it does not exist): a regular file of at most
    /// [`MAX_TEXT_FILE_BYTES`]; a FIFO, a device or a bigger file is an error naming it.
    fn read_text(&self) -> Result<Option<String>> {
        match BoundedRead::new(MAX_TEXT_FILE_BYTES).text(&self.path) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => {
                let message = format!("env storage {}: {e}", self.id);
                Err(Error::new(Error::from(e).kind(), message))
            }
        }
    }

    fn io_error(&self, what: &str, e: &std::io::Error) -> Error {
        Error::internal(format!(
            "env storage {}: cannot {what} {}: {e}",
            self.id,
            self.path.display()
        ))
    }

    /// Writes `text` to a temporary file next to the target and renames it over it.
    pub(crate) fn write_atomically(&self, text: &str) -> Result<()> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let dir = self.path.parent().unwrap_or_else(|| Path::new("."));
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "env".to_string());
        let tmp = dir.join(format!(
            ".{name}.{}.{}.tmp",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let written = (|| {
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)?;
            set_mode(&tmp, self.file_mode)?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
            std::fs::rename(&tmp, &self.path)
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(self.io_error("write", &e));
        }
        Ok(())
    }
}

impl EnvStorage for FileStorage {
    fn get(&self, key: &str) -> Result<Option<String>> {
        let mut state = self.state.lock();
        self.refresh(&mut state)?;
        Ok(state.values.get(key).cloned())
    }

    fn set(&self, key: &str, value: &str) -> Result<()> {
        check_file_key(key)?;
        let mut state = self.state.lock();
        let text = self.read_text()?.unwrap_or_default();
        let text = rewrite_dotenv(&text, key, value);
        self.write_atomically(&text)?;
        state.values = parse_dotenv(&text);
        state.stamp = std::fs::metadata(&self.path)
            .ok()
            .map(|m| (m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()));
        Ok(())
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use weft_core::ErrorKind;

    use super::*;

    /// Opens a file storage on a thread; a hang fails after 10 s instead of hanging.
    fn open_soon(path: PathBuf) -> Result<FileStorage> {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let id = EntryId::new("t", "env");
            let _ = tx.send(FileStorage::open(id, path, FileMode::new(0o644)));
        });
        rx.recv_timeout(Duration::from_secs(10))
            .expect("opening the storage did not finish within 10 s")
    }

    #[test]
    fn only_a_regular_file_under_the_cap_is_read() {
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("pipe.env");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.unwrap().success());
        let err = open_soon(fifo).err().unwrap();
        assert_eq!(err.kind(), ErrorKind::Invalid);
        assert!(
            err.message().starts_with("env storage t:env: ")
                && err
                    .message()
                    .ends_with("pipe.env is a FIFO, not a regular file"),
            "{err}"
        );

        let zero = d.path().join("zero.env");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let err = open_soon(zero).err().unwrap();
        assert!(
            err.message()
                .ends_with("is a character device, not a regular file"),
            "{err}"
        );

        let big = d.path().join("big.env");
        let file = std::fs::File::create(&big).unwrap();
        file.set_len(MAX_TEXT_FILE_BYTES + 1).unwrap();
        let err = open_soon(big).err().unwrap();
        assert!(
            err.message()
                .ends_with("big.env is larger than the 16 MiB limit"),
            "{err}"
        );
    }
}

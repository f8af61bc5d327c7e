//! [`FsRoot`]: one `fs.directory` root that every access is confined to.
//!
//! A path inside a root is relative to it (a leading `/` is stripped, `/` alone is the
//! root). Paths that climb out with `..`, or through a symlink that points outside the
//! root, are rejected: nothing outside is ever read or written. A path with a NUL byte
//! is Invalid.
//!
//! The operations ([`FsRoot::stat`], [`FsRoot::list`], [`FsRoot::create_dir`],
//! [`FsRoot::remove`], [`FsRoot::open`], …) block on the file system: an async caller
//! runs them on a blocking thread. Their errors name the path as the caller gave it
//! (never the host path) and are not retryable.

use std::ffi::OsString;
use std::io;
use std::path::{Component, Path, PathBuf};

use weft_core::{BoundedRead, EntryId, Error, ErrorKind, FileError, MAX_MODULE_FILE_BYTES, Result};

use crate::{DirEntry, FileInfo, FileKind};

/// One `fs.directory` root.
#[derive(Debug)]
pub struct FsRoot {
    id: EntryId,
    root: PathBuf,
}

/// The most entries [`FsRoot::list`] returns: a bigger directory is Invalid.
pub const MAX_DIR_ENTRIES: usize = 100_000;

/// Where an entry of a root is on the host: its directory (links resolved, inside the
/// root) and its name, not followed (`None`: the root itself).
pub(crate) struct Place {
    pub(crate) dir: PathBuf,
    pub(crate) name: Option<OsString>,
}

impl FsRoot {
    /// A root at `dir` (which must exist) for entry `id`.
    pub fn new(id: EntryId, dir: &Path) -> Result<FsRoot> {
        let root = dir.canonicalize().map_err(|e| {
            Error::not_found(format!("directory {} is not usable: {e}", dir.display()))
        })?;
        Ok(FsRoot { id, root })
    }

    /// The entry id.
    pub fn id(&self) -> &EntryId {
        &self.id
    }

    /// The root directory on the host.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The host path of `path` inside the root, rejecting any escape.
    pub fn resolve(&self, path: &str) -> Result<PathBuf> {
        let out = self.root.join(relative(path, &self.id)?);
        // Symlinks: whatever exists of the path must stay under the root once resolved.
        let mut existing = out.as_path();
        while !existing.exists() {
            match existing.parent() {
                Some(parent) => existing = parent,
                None => break,
            }
        }
        let real = existing
            .canonicalize()
            .map_err(|e| Error::not_found(format!("{path}: {e}")))?;
        if !real.starts_with(&self.root) {
            return Err(escape(path, &self.id));
        }
        Ok(out)
    }

    /// Reads a whole file inside the root (a WebAssembly module, say): a regular file of
    /// at most [`MAX_MODULE_FILE_BYTES`]; a FIFO, a device or a bigger file is Invalid.
    pub fn read(&self, path: &str) -> Result<Vec<u8>> {
        let full = self.resolve(path)?;
        BoundedRead::new(MAX_MODULE_FILE_BYTES)
            .within(&self.root)
            .bytes(&full)
            .map_err(|e| match e {
                FileError::Io { source, .. } => {
                    let kind = if source.kind() == std::io::ErrorKind::NotFound {
                        ErrorKind::NotFound
                    } else {
                        ErrorKind::Internal
                    };
                    Error::new(kind, format!("failed to open file: {path} ({source})"))
                }
                FileError::OutsideRoot { .. } => escape(path, &self.id),
                other => Error::from(other.shown_as(Path::new(path))),
            })
    }

    /// The metadata of `path`, links followed; NotFound when nothing is there.
    pub fn stat(&self, path: &str) -> Result<FileInfo> {
        let real = self.follow(path)?.ok_or_else(|| missing(path))?;
        let meta = std::fs::metadata(&real).map_err(|e| io_error(path, e))?;
        Ok(FileInfo::of(path, &meta))
    }

    /// Whether something is at `path` (a link to nothing is not; a missing directory on
    /// the way is just `false`). Errors only for a path that is bad or leaves the root.
    pub fn exists(&self, path: &str) -> Result<bool> {
        match self.follow(path) {
            Ok(found) => Ok(found.is_some()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The entries of the directory `path`, sorted by name (at most
    /// [`MAX_DIR_ENTRIES`]); NotFound when missing, Invalid when not a directory.
    pub fn list(&self, path: &str) -> Result<Vec<DirEntry>> {
        let real = self.follow(path)?.ok_or_else(|| missing(path))?;
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&real).map_err(|e| io_error(path, e))? {
            let entry = entry.map_err(|e| io_error(path, e))?;
            if out.len() == MAX_DIR_ENTRIES {
                return Err(fail(Error::invalid(format!(
                    "{path} has more than {MAX_DIR_ENTRIES} entries"
                ))));
            }
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            out.push(DirEntry {
                name: entry.file_name().to_string_lossy().into_owned(),
                kind: if is_dir {
                    FileKind::Directory
                } else {
                    FileKind::File
                },
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Creates the directory `path` with mode `0755` (the umask applies), not its
    /// parents: NotFound when the parent is missing, AlreadyExists when something is
    /// there (a link included).
    pub fn create_dir(&self, path: &str) -> Result<()> {
        let place = self.place(path)?;
        let Some(name) = &place.name else {
            return Err(fail(Error::new(
                ErrorKind::AlreadyExists,
                format!("{path} already exists"),
            )));
        };
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o755);
        builder
            .create(place.dir.join(name))
            .map_err(|e| io_error(path, e))
    }

    /// Removes the file, link (not what it points to) or empty directory `path`:
    /// NotFound when missing, Invalid for a directory that is not empty or the root.
    pub fn remove(&self, path: &str) -> Result<()> {
        let place = self.place(path)?;
        let Some(name) = &place.name else {
            return Err(fail(Error::invalid("the root cannot be removed")));
        };
        let target = place.dir.join(name);
        let meta = std::fs::symlink_metadata(&target).map_err(|e| io_error(path, e))?;
        if meta.is_dir() {
            std::fs::remove_dir(&target)
        } else {
            std::fs::remove_file(&target)
        }
        .map_err(|e| io_error(path, e))
    }

    /// Where `path` is: its directory resolved (NotFound when it is missing or not a
    /// directory) and inside the root, and its last component.
    pub(crate) fn place(&self, path: &str) -> Result<Place> {
        let rel = relative(path, &self.id)?;
        let Some(name) = rel.file_name().map(OsString::from) else {
            return Ok(Place {
                dir: self.root.clone(),
                name: None,
            });
        };
        let parent = self.root.join(rel.parent().unwrap_or(Path::new("")));
        let dir = parent.canonicalize().map_err(|e| match e.kind() {
            io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => {
                fail(Error::not_found(format!("{path}: no such directory")))
            }
            _ => io_error(path, e),
        })?;
        Ok(Place {
            dir: self.inside(dir, path)?,
            name: Some(name),
        })
    }

    /// The host path of `path` with every link resolved, inside the root; `None` when
    /// nothing is there.
    fn follow(&self, path: &str) -> Result<Option<PathBuf>> {
        let place = self.place(path)?;
        self.follow_place(&place, path)
    }

    /// [`FsRoot::follow`] of a place already found.
    pub(crate) fn follow_place(&self, place: &Place, path: &str) -> Result<Option<PathBuf>> {
        let Some(name) = &place.name else {
            return Ok(Some(place.dir.clone()));
        };
        match place.dir.join(name).canonicalize() {
            Ok(real) => self.inside(real, path).map(Some),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(io_error(path, e)),
        }
    }

    /// `real` if it is inside the root, else the escape error.
    fn inside(&self, real: PathBuf, path: &str) -> Result<PathBuf> {
        if real.starts_with(&self.root) {
            Ok(real)
        } else {
            Err(escape(path, &self.id))
        }
    }
}

/// `path` relative to the root: Invalid with a NUL byte, PermissionDenied with `..`.
fn relative(path: &str, id: &EntryId) -> Result<PathBuf> {
    if path.contains('\0') {
        return Err(fail(Error::invalid(format!(
            "path {path:?} contains a NUL byte"
        ))));
    }
    let mut out = PathBuf::new();
    for part in Path::new(path.trim_start_matches('/')).components() {
        match part {
            Component::Normal(name) => out.push(name),
            Component::CurDir | Component::RootDir => {}
            Component::ParentDir | Component::Prefix(_) => return Err(escape(path, id)),
        }
    }
    Ok(out)
}

fn escape(path: &str, id: &EntryId) -> Error {
    fail(Error::permission_denied(format!(
        "path {path:?} escapes the root of {id}"
    )))
}

fn missing(path: &str) -> Error {
    fail(Error::not_found(format!(
        "{path}: no such file or directory"
    )))
}

/// The same error, not retryable (what the system refused will be refused again).
pub(crate) fn fail(e: Error) -> Error {
    e.with_retryable(Some(false))
}

/// An I/O error about `path`, with its kind: NotFound, AlreadyExists, PermissionDenied,
/// Invalid (not a directory, a directory, not empty, a bad argument), else Internal.
pub(crate) fn io_error(path: &str, e: io::Error) -> Error {
    use io::ErrorKind as Io;
    let kind = match e.kind() {
        Io::NotFound => ErrorKind::NotFound,
        Io::AlreadyExists => ErrorKind::AlreadyExists,
        Io::PermissionDenied => ErrorKind::PermissionDenied,
        Io::NotADirectory
        | Io::IsADirectory
        | Io::DirectoryNotEmpty
        | Io::InvalidInput
        | Io::InvalidFilename => ErrorKind::Invalid,
        _ => ErrorKind::Internal,
    };
    let reason = match e.kind() {
        Io::NotFound => "no such file or directory".to_string(),
        Io::AlreadyExists => "already exists".to_string(),
        Io::NotADirectory => "not a directory".to_string(),
        Io::IsADirectory => "is a directory".to_string(),
        Io::DirectoryNotEmpty => "directory not empty".to_string(),
        _ => e.to_string(),
    };
    fail(Error::new(kind, format!("{path}: {reason}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> (tempfile::TempDir, FsRoot) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("inner/sub")).unwrap();
        std::fs::write(dir.path().join("inner/a.txt"), "A").unwrap();
        std::fs::write(dir.path().join("secret.txt"), "S").unwrap();
        let root = FsRoot::new(EntryId::new("t", "fs"), &dir.path().join("inner")).unwrap();
        (dir, root)
    }

    #[test]
    fn reads_inside_the_root() {
        let (_d, root) = root();
        assert_eq!(root.read("/a.txt").unwrap(), b"A");
        assert_eq!(
            root.read("sub/../a.txt").unwrap_err().kind(),
            ErrorKind::PermissionDenied
        );
        assert_eq!(root.read("a.txt").unwrap(), b"A");
        assert_eq!(
            root.read("missing.txt").unwrap_err().kind(),
            ErrorKind::NotFound
        );
    }

    #[test]
    fn escapes_are_denied() {
        let (_d, root) = root();
        for path in ["../secret.txt", "/../secret.txt", "sub/../../secret.txt"] {
            let err = root.read(path).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{path}: {err}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn only_regular_files_are_read() {
        let (d, root) = root();
        let fifo = d.path().join("inner/pipe.wasm");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.unwrap().success());
        std::os::unix::fs::symlink("/dev/zero", d.path().join("inner/zero.wasm")).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send((
                root.read("/pipe.wasm"),
                root.read("zero.wasm"),
                root.read("sub"),
            ));
        });
        let timeout = std::time::Duration::from_secs(10);
        let (pipe, zero, dir) = rx.recv_timeout(timeout).expect("reads finish at once");
        let pipe = pipe.unwrap_err();
        assert_eq!(pipe.kind(), ErrorKind::Invalid);
        assert_eq!(pipe.message(), "/pipe.wasm is a FIFO, not a regular file");
        // /dev/zero is outside the root: refused before it is opened.
        assert_eq!(zero.unwrap_err().kind(), ErrorKind::PermissionDenied);
        assert_eq!(
            dir.unwrap_err().message(),
            "sub is a directory, not a regular file"
        );
        // A root that holds devices still reads only regular files.
        let dev = FsRoot::new(EntryId::new("t", "dev"), Path::new("/dev")).unwrap();
        let zero = dev.read("zero").unwrap_err();
        assert_eq!(zero.kind(), ErrorKind::Invalid);
        assert_eq!(
            zero.message(),
            "zero is a character device, not a regular file"
        );
    }

    fn kind<T: std::fmt::Debug>(r: Result<T>) -> ErrorKind {
        r.unwrap_err().kind()
    }

    #[test]
    fn stat_exists_and_list() {
        let (d, root) = root();
        std::fs::write(d.path().join("inner/sub/b.txt"), "BB").unwrap();
        std::fs::create_dir(d.path().join("inner/sub/c")).unwrap();
        let info = root.stat("/sub/b.txt").unwrap();
        assert_eq!((info.name.as_str(), info.size), ("b.txt", 2));
        assert_eq!(info.kind, FileKind::File);
        let dir = root.stat("sub").unwrap();
        assert_eq!((dir.name.as_str(), dir.kind), ("sub", FileKind::Directory));
        assert_eq!(root.stat("/").unwrap().name, "/");
        assert_eq!(kind(root.stat("nope")), ErrorKind::NotFound);
        assert_eq!(kind(root.stat("a.txt/x")), ErrorKind::NotFound);
        assert!(root.exists("a.txt").unwrap());
        assert!(root.exists("/").unwrap());
        assert!(!root.exists("nope").unwrap());
        assert!(!root.exists("nope/deeper").unwrap());
        assert!(!root.exists("a.txt/x").unwrap());
        let names: Vec<(String, FileKind)> = root
            .list("sub")
            .unwrap()
            .into_iter()
            .map(|e| (e.name, e.kind))
            .collect();
        assert_eq!(
            names,
            [
                ("b.txt".to_string(), FileKind::File),
                ("c".to_string(), FileKind::Directory)
            ]
        );
        assert!(root.list("sub/c").unwrap().is_empty());
        assert_eq!(kind(root.list("a.txt")), ErrorKind::Invalid);
        assert_eq!(kind(root.list("nope")), ErrorKind::NotFound);
        for bad in ["a\0b", "sub/\0"] {
            assert_eq!(kind(root.stat(bad)), ErrorKind::Invalid);
            assert_eq!(kind(root.exists(bad)), ErrorKind::Invalid);
        }
        let err = root.stat("../secret.txt").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PermissionDenied);
        assert_eq!(err.retryable(), Some(false));
    }

    #[test]
    fn create_and_remove() {
        let (d, root) = root();
        let inner = d.path().join("inner");
        root.create_dir("/made").unwrap();
        assert!(inner.join("made").is_dir());
        assert_eq!(kind(root.create_dir("made")), ErrorKind::AlreadyExists);
        assert_eq!(kind(root.create_dir("/")), ErrorKind::AlreadyExists);
        assert_eq!(kind(root.create_dir("x/y")), ErrorKind::NotFound);
        assert!(!inner.join("x").exists());
        std::fs::write(inner.join("made/f"), "").unwrap();
        let err = root.remove("made").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Invalid);
        assert_eq!(err.message(), "made: directory not empty");
        root.remove("made/f").unwrap();
        root.remove("made").unwrap();
        assert!(!inner.join("made").exists());
        assert_eq!(kind(root.remove("made")), ErrorKind::NotFound);
        assert_eq!(kind(root.remove("/")), ErrorKind::Invalid);
        assert_eq!(
            kind(root.remove("../secret.txt")),
            ErrorKind::PermissionDenied
        );
        assert!(d.path().join("secret.txt").exists());
    }

    #[cfg(unix)]
    #[test]
    fn operations_stay_inside_through_links() {
        let (d, root) = root();
        let inner = d.path().join("inner");
        std::os::unix::fs::symlink(d.path().join("secret.txt"), inner.join("out")).unwrap();
        std::os::unix::fs::symlink(d.path(), inner.join("up")).unwrap();
        assert_eq!(kind(root.stat("out")), ErrorKind::PermissionDenied);
        assert_eq!(kind(root.exists("out")), ErrorKind::PermissionDenied);
        assert_eq!(kind(root.list("up")), ErrorKind::PermissionDenied);
        assert_eq!(kind(root.create_dir("up/new")), ErrorKind::PermissionDenied);
        assert_eq!(
            kind(root.remove("up/secret.txt")),
            ErrorKind::PermissionDenied
        );
        assert!(!d.path().join("new").exists());
        // Removing a link removes the link, never what it points to.
        root.remove("out").unwrap();
        assert!(!inner.join("out").exists());
        assert_eq!(
            std::fs::read_to_string(d.path().join("secret.txt")).unwrap(),
            "S"
        );
        // A listing shows a link as a file and does not follow it.
        let up = root.list("/").unwrap().into_iter().find(|e| e.name == "up");
        assert_eq!(up.map(|e| e.kind), Some(FileKind::File));
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_pointing_out_are_denied() {
        let (d, root) = root();
        std::os::unix::fs::symlink(d.path().join("secret.txt"), d.path().join("inner/link"))
            .unwrap();
        std::os::unix::fs::symlink(d.path(), d.path().join("inner/up")).unwrap();
        assert_eq!(
            root.read("link").unwrap_err().kind(),
            ErrorKind::PermissionDenied
        );
        assert_eq!(
            root.read("up/secret.txt").unwrap_err().kind(),
            ErrorKind::PermissionDenied
        );
    }
}

//! [`FsRoot`]: one `fs.directory` root that every access is confined to.
//!
//! A path inside a root is relative to it (a leading `/` is stripped, `/` alone is the
//! root). Paths that climb out with `..`, or through a symlink that points outside the
//! root, are rejected: nothing outside is ever read.

use std::path::{Component, Path, PathBuf};

use weft_core::{BoundedRead, EntryId, Error, ErrorKind, FileError, MAX_MODULE_FILE_BYTES, Result};

/// One `fs.directory` root.
#[derive(Debug)]
pub struct FsRoot {
    id: EntryId,
    root: PathBuf,
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
        let mut out = self.root.clone();
        for part in Path::new(path.trim_start_matches('/')).components() {
            match part {
                Component::Normal(name) => out.push(name),
                Component::CurDir | Component::RootDir => {}
                Component::ParentDir | Component::Prefix(_) => {
                    return Err(escape(path, &self.id));
                }
            }
        }
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
}

fn escape(path: &str, id: &EntryId) -> Error {
    Error::permission_denied(format!("path {path:?} escapes the root of {id}"))
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

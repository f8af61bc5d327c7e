//! [`BoundedRead`]: the one way weft reads a file of an app, its config or its cache.
//!
//! A read opens the file without blocking (a FIFO never hangs the open), checks the
//! opened handle (not the path, so nothing changes in between) is a regular file,
//! refuses one larger than the cap, and reads at most one byte past the cap (a file
//! growing while read is still bounded). With [`BoundedRead::within`], the path must
//! also resolve, symbolic links followed, inside that root.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::{Error, ErrorKind};

/// The cap on text files: definition files, `.wippy.yaml`/`--config`, `wippy.lock`,
/// `file://` sources and `.env` files (16 MiB).
pub const MAX_TEXT_FILE_BYTES: u64 = 16 << 20;

/// The cap on WebAssembly modules (`path` of a `function.wasm`/`process.wasm` entry) and
/// compile-cache artifacts (256 MiB).
pub const MAX_MODULE_FILE_BYTES: u64 = 256 << 20;

/// How to read one file: the size cap and, optionally, the root it must stay inside.
#[derive(Clone, Copy, Debug)]
pub struct BoundedRead<'a> {
    max_bytes: u64,
    root: Option<&'a Path>,
}

/// Why a file could not be read; each message names the file.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// Opening or reading failed (a missing file: [`FileError::is_not_found`]).
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
    /// The file is a FIFO, a device, a socket or a directory.
    #[error("{} is {what}, not a regular file", path.display())]
    NotRegular {
        /// The file.
        path: PathBuf,
        /// What it is instead (`"a FIFO"`, `"a character device"`, …).
        what: &'static str,
    },
    /// The file is larger than the cap.
    #[error("{} is larger than the {} limit", path.display(), size_text(*limit))]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The cap, in bytes.
        limit: u64,
    },
    /// The path resolves, through a symbolic link, outside its root.
    #[error(
        "{} resolves outside {} via a symbolic link: {}",
        path.display(),
        root.display(),
        target.display()
    )]
    OutsideRoot {
        /// The file.
        path: PathBuf,
        /// The root it had to stay in.
        root: PathBuf,
        /// Where it resolves to.
        target: PathBuf,
    },
    /// A text file that is not UTF-8.
    #[error("{} is not valid UTF-8 text", path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
    },
}

impl<'a> BoundedRead<'a> {
    /// A read of at most `max_bytes` bytes, anywhere.
    pub const fn new(max_bytes: u64) -> BoundedRead<'a> {
        BoundedRead {
            max_bytes,
            root: None,
        }
    }

    /// The same read, confined to `root`: the path, links resolved, must be inside it.
    pub fn within(self, root: &'a Path) -> BoundedRead<'a> {
        BoundedRead {
            root: Some(root),
            ..self
        }
    }

    /// The bytes of the regular file at `path`.
    pub fn bytes(&self, path: &Path) -> Result<Vec<u8>, FileError> {
        let file = self.open(path)?;
        let meta = file.metadata().map_err(|e| io_error(path, e))?;
        if let Some(what) = not_regular(&meta) {
            return Err(FileError::NotRegular {
                path: path.to_path_buf(),
                what,
            });
        }
        let too_large = || FileError::TooLarge {
            path: path.to_path_buf(),
            limit: self.max_bytes,
        };
        if meta.len() > self.max_bytes {
            return Err(too_large());
        }
        let mut out = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
        file.take(self.max_bytes.saturating_add(1))
            .read_to_end(&mut out)
            .map_err(|e| io_error(path, e))?;
        if out.len() as u64 > self.max_bytes {
            return Err(too_large());
        }
        Ok(out)
    }

    /// The text of the regular file at `path` (UTF-8).
    pub fn text(&self, path: &Path) -> Result<String, FileError> {
        String::from_utf8(self.bytes(path)?).map_err(|_| FileError::NotUtf8 {
            path: path.to_path_buf(),
        })
    }

    /// Opens the file without blocking, after the root check.
    fn open(&self, path: &Path) -> Result<File, FileError> {
        let mut options = OpenOptions::new();
        options.read(true);
        let Some(root) = self.root else {
            return options
                .nonblocking(false)
                .open(path)
                .map_err(|e| io_error(path, e));
        };
        let root_real = root.canonicalize().map_err(|e| io_error(root, e))?;
        let real = path.canonicalize().map_err(|e| io_error(path, e))?;
        if !real.starts_with(&root_real) {
            return Err(FileError::OutsideRoot {
                path: path.to_path_buf(),
                root: root.to_path_buf(),
                target: real,
            });
        }
        // The resolved path has no link left: one appearing since is refused.
        options
            .nonblocking(true)
            .open(&real)
            .map_err(|e| io_error(path, e))
    }
}

impl FileError {
    /// True when the file (or its root) does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, FileError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound)
    }

    /// The same error naming the file as `shown` (a path relative to the app, say).
    pub fn shown_as(mut self, shown: &Path) -> FileError {
        match &mut self {
            FileError::Io { path, .. }
            | FileError::NotRegular { path, .. }
            | FileError::TooLarge { path, .. }
            | FileError::OutsideRoot { path, .. }
            | FileError::NotUtf8 { path } => *path = shown.to_path_buf(),
        }
        self
    }
}

impl From<FileError> for Error {
    /// NotFound for a missing file, PermissionDenied for an escape, Internal for other
    /// I/O failures, Invalid for the rest.
    fn from(e: FileError) -> Error {
        let kind = match &e {
            _ if e.is_not_found() => ErrorKind::NotFound,
            FileError::Io { .. } => ErrorKind::Internal,
            FileError::OutsideRoot { .. } => ErrorKind::PermissionDenied,
            FileError::NotRegular { .. }
            | FileError::TooLarge { .. }
            | FileError::NotUtf8 { .. } => ErrorKind::Invalid,
        };
        Error::new(kind, e.to_string())
    }
}

/// Open flags: `O_NONBLOCK` (a FIFO's open returns at once) and `O_NOCTTY` always,
/// `O_NOFOLLOW` when `no_follow` (the path was resolved already).
trait OpenExt {
    fn nonblocking(&mut self, no_follow: bool) -> &mut Self;
}

impl OpenExt for OpenOptions {
    #[cfg(unix)]
    fn nonblocking(&mut self, no_follow: bool) -> &mut Self {
        use std::os::unix::fs::OpenOptionsExt;
        let follow = if no_follow { libc::O_NOFOLLOW } else { 0 };
        self.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | follow)
    }

    #[cfg(not(unix))]
    fn nonblocking(&mut self, _no_follow: bool) -> &mut Self {
        self
    }
}

/// What a file that is not regular is, for messages; `None` for a regular file.
fn not_regular(meta: &Metadata) -> Option<&'static str> {
    let file_type = meta.file_type();
    if file_type.is_file() {
        return None;
    }
    if file_type.is_dir() {
        return Some("a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return Some("a FIFO");
        }
        if file_type.is_char_device() {
            return Some("a character device");
        }
        if file_type.is_block_device() {
            return Some("a block device");
        }
        if file_type.is_socket() {
            return Some("a socket");
        }
    }
    Some("a special file")
}

fn io_error(path: &Path, source: io::Error) -> FileError {
    FileError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// `16 MiB`, `4 KiB` or `100 bytes`.
fn size_text(bytes: u64) -> String {
    const MIB: u64 = 1 << 20;
    const KIB: u64 = 1 << 10;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::symlink;
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;

    /// Runs `f` on a thread; a hang fails the test after 10 s instead of hanging it.
    fn soon<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(f());
        });
        rx.recv_timeout(Duration::from_secs(10))
            .expect("the read did not finish within 10 s")
    }

    fn mkfifo(path: &Path) {
        let status = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .unwrap();
        assert!(status.success());
    }

    #[test]
    fn reads_a_regular_file_under_the_cap() {
        let d = tempfile::tempdir().unwrap();
        let file = d.path().join("a.txt");
        std::fs::write(&file, "hello").unwrap();
        assert_eq!(BoundedRead::new(5).text(&file).unwrap(), "hello");
        let err = BoundedRead::new(4).bytes(&file).unwrap_err();
        assert!(matches!(err, FileError::TooLarge { limit: 4, .. }), "{err}");
        assert!(
            err.to_string()
                .ends_with("a.txt is larger than the 4 bytes limit")
        );
        let err = BoundedRead::new(MAX_TEXT_FILE_BYTES)
            .bytes(&d.path().join("no"))
            .unwrap_err();
        assert!(err.is_not_found(), "{err}");
        assert_eq!(Error::from(err).kind(), ErrorKind::NotFound);
    }

    #[test]
    fn a_fifo_fails_at_once() {
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("pipe");
        mkfifo(&fifo);
        let err = soon(move || {
            BoundedRead::new(MAX_TEXT_FILE_BYTES)
                .bytes(&fifo)
                .unwrap_err()
        });
        assert!(
            err.to_string()
                .ends_with("pipe is a FIFO, not a regular file"),
            "{err}"
        );
        assert_eq!(Error::from(err).kind(), ErrorKind::Invalid);
    }

    #[test]
    fn devices_and_directories_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let zero = d.path().join("zero");
        symlink("/dev/zero", &zero).unwrap();
        let err = soon(move || {
            BoundedRead::new(MAX_TEXT_FILE_BYTES)
                .bytes(&zero)
                .unwrap_err()
        });
        assert!(err.to_string().contains("is a character device"), "{err}");
        let err = BoundedRead::new(10).bytes(d.path()).unwrap_err();
        assert!(err.to_string().contains("is a directory"), "{err}");
    }

    #[test]
    fn within_a_root_links_must_stay_inside() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("app");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("sub/in.txt"), "in").unwrap();
        std::fs::write(d.path().join("secret.txt"), "s").unwrap();
        symlink(root.join("sub/in.txt"), root.join("link-in")).unwrap();
        symlink(d.path().join("secret.txt"), root.join("link-out")).unwrap();
        symlink(d.path(), root.join("up")).unwrap();
        let read = BoundedRead::new(100).within(&root);
        assert_eq!(read.text(&root.join("link-in")).unwrap(), "in");
        for path in ["link-out", "up/secret.txt"] {
            let err = read.bytes(&root.join(path)).unwrap_err();
            assert!(matches!(err, FileError::OutsideRoot { .. }), "{err}");
            assert!(err.to_string().contains("secret.txt"), "{err}");
            assert_eq!(Error::from(err).kind(), ErrorKind::PermissionDenied);
        }
        let err = read
            .bytes(&root.join("link-out"))
            .unwrap_err()
            .shown_as(Path::new("link-out"));
        assert!(
            err.to_string().starts_with("link-out resolves outside "),
            "{err}"
        );
    }

    #[test]
    fn text_must_be_utf8() {
        let d = tempfile::tempdir().unwrap();
        let file = d.path().join("bin");
        std::fs::write(&file, [0xff, 0xfe]).unwrap();
        let err = BoundedRead::new(10).text(&file).unwrap_err();
        assert!(
            err.to_string().ends_with("bin is not valid UTF-8 text"),
            "{err}"
        );
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(size_text(MAX_TEXT_FILE_BYTES), "16 MiB");
        assert_eq!(size_text(MAX_MODULE_FILE_BYTES), "256 MiB");
        assert_eq!(size_text(4096), "4 KiB");
        assert_eq!(size_text(100), "100 bytes");
    }
}

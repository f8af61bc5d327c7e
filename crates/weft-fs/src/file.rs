//! Files inside a root: [`FsRoot::open`] gives an [`FsFile`] (read, write, seek, stat,
//! sync); [`FileInfo`] and [`DirEntry`] describe what a path names.
//!
//! Like every operation of a root, these block on the file system: an async caller runs
//! them on a blocking thread. A file is opened only if it is a regular file (a FIFO,
//! a device or a directory is Invalid, and opening never waits on a FIFO), and one read
//! returns at most [`MAX_READ_CHUNK`] bytes whatever it asks for.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::time::UNIX_EPOCH;

use weft_core::{Error, Result};

use crate::FsRoot;
use crate::root::{fail, io_error};

/// The most bytes one [`FsFile::read`] returns (16 MiB): a bigger request is a short read.
pub const MAX_READ_CHUNK: usize = 16 << 20;

/// How [`FsRoot::open`] opens a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenMode {
    /// Read only; the file must exist.
    Read,
    /// Write only: created if missing, emptied if present.
    Write,
    /// Write only: created, AlreadyExists if it exists.
    WriteNew,
    /// Write only at the end: created if missing.
    Append,
}

/// An open regular file inside a root; closed when dropped.
#[derive(Debug)]
pub struct FsFile {
    file: File,
    path: String,
    mode: OpenMode,
}

/// What a path names: a regular file or a directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// Anything that is not a directory (links are followed by [`FsRoot::stat`]).
    File,
    /// A directory.
    Directory,
}

/// The metadata of a file or directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileInfo {
    /// The last component of the path it was asked for (`/` for the root).
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its permission bits (`0o644`; set-id and sticky bits included).
    pub mode: u32,
    /// When it was last modified, in seconds since the Unix epoch (0 if unknown).
    pub modified: i64,
    /// File or directory.
    pub kind: FileKind,
}

/// One entry of a directory listing ([`FsRoot::list`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    /// Its name (a name that is not UTF-8 is shown with replacement characters).
    pub name: String,
    /// File or directory (a symbolic link is listed as a file, not followed).
    pub kind: FileKind,
}

impl FsRoot {
    /// Opens the regular file `path` inside the root with `mode`. A created file gets
    /// mode `0644` (the umask applies). NotFound when a read finds no file or the
    /// directory is missing, AlreadyExists for [`OpenMode::WriteNew`] on an existing
    /// path, Invalid for a directory or a file that is not regular, PermissionDenied for
    /// a path that leaves the root.
    pub fn open(&self, path: &str, mode: OpenMode) -> Result<FsFile> {
        let place = self.place(path)?;
        let Some(name) = &place.name else {
            return Err(fail(Error::invalid(format!("{path} is a directory"))));
        };
        let target = place.dir.join(name);
        let target = match self.follow_place(&place, path)? {
            // Checked before opening too: opening a FIFO for writing fails without a reader.
            Some(real) => {
                let meta = std::fs::metadata(&real).map_err(|e| io_error(path, e))?;
                regular(&meta, path)?;
                real
            }
            None if mode == OpenMode::Read => {
                return Err(fail(Error::not_found(format!(
                    "{path}: no such file or directory"
                ))));
            }
            // A link that points nowhere: writing through it would create its target.
            None if std::fs::symlink_metadata(&target).is_ok() => {
                return Err(fail(Error::invalid(format!(
                    "{path} is a symbolic link to nothing"
                ))));
            }
            None => target,
        };
        let mut options = OpenOptions::new();
        match mode {
            OpenMode::Read => options.read(true),
            OpenMode::Write => options.write(true).create(true).truncate(true),
            OpenMode::WriteNew => options.write(true).create_new(true),
            OpenMode::Append => options.append(true).create(true),
        };
        confined(&mut options);
        let file = options.open(&target).map_err(|e| io_error(path, e))?;
        // Again on the opened file: the path may have changed in between.
        regular(&file.metadata().map_err(|e| io_error(path, e))?, path)?;
        Ok(FsFile {
            file,
            path: path.to_string(),
            mode,
        })
    }
}

impl FsFile {
    /// The path it was opened with.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The mode it was opened with.
    pub fn mode(&self) -> OpenMode {
        self.mode
    }

    /// Up to `max` bytes from the current position (at most [`MAX_READ_CHUNK`], at
    /// least 1); `None` at the end of the file. Invalid on a file opened for writing.
    pub fn read(&self, max: usize) -> Result<Option<Vec<u8>>> {
        if self.mode != OpenMode::Read {
            return Err(fail(Error::invalid(format!(
                "{} is not open for reading",
                self.path
            ))));
        }
        let max = max.clamp(1, MAX_READ_CHUNK);
        let mut out = Vec::new();
        (&self.file)
            .take(max as u64)
            .read_to_end(&mut out)
            .map_err(|e| io_error(&self.path, e))?;
        Ok((!out.is_empty()).then_some(out))
    }

    /// Writes all of `data` at the current position (at the end in append mode).
    /// Invalid on a file opened for reading.
    pub fn write(&self, data: &[u8]) -> Result<()> {
        if self.mode == OpenMode::Read {
            return Err(fail(Error::invalid(format!(
                "{} is not open for writing",
                self.path
            ))));
        }
        (&self.file)
            .write_all(data)
            .map_err(|e| io_error(&self.path, e))
    }

    /// Moves the position and returns it, counted from the start. A position before
    /// the start is Invalid.
    pub fn seek(&self, to: SeekFrom) -> Result<u64> {
        (&self.file).seek(to).map_err(|e| io_error(&self.path, e))
    }

    /// The file's metadata.
    pub fn stat(&self) -> Result<FileInfo> {
        let meta = self.file.metadata().map_err(|e| io_error(&self.path, e))?;
        Ok(FileInfo::of(&self.path, &meta))
    }

    /// Flushes what was written to the storage device.
    pub fn sync(&self) -> Result<()> {
        self.file.sync_all().map_err(|e| io_error(&self.path, e))
    }
}

impl FileInfo {
    /// The info of `meta`, named after the last component of `path`.
    pub(crate) fn of(path: &str, meta: &Metadata) -> FileInfo {
        let name = std::path::Path::new(path.trim_start_matches('/'))
            .file_name()
            .map_or_else(|| "/".to_string(), |n| n.to_string_lossy().into_owned());
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        FileInfo {
            name,
            size: meta.len(),
            mode: permission_bits(meta),
            modified,
            kind: if meta.is_dir() {
                FileKind::Directory
            } else {
                FileKind::File
            },
        }
    }
}

/// Ok for a regular file; Invalid for a directory or anything else.
fn regular(meta: &Metadata, path: &str) -> Result<()> {
    if meta.is_dir() {
        return Err(fail(Error::invalid(format!("{path} is a directory"))));
    }
    if !meta.is_file() {
        return Err(fail(Error::invalid(format!(
            "{path} is not a regular file"
        ))));
    }
    Ok(())
}

/// The permission bits of `meta`.
fn permission_bits(meta: &Metadata) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.permissions().mode() & 0o7777
    }
    #[cfg(not(unix))]
    {
        if meta.permissions().readonly() {
            0o444
        } else {
            0o666
        }
    }
}

/// Open flags for a path resolved inside the root: `O_NOFOLLOW` (a link appearing since
/// is refused), `O_NONBLOCK` (a FIFO's open returns at once) and `O_NOCTTY`; a created
/// file gets mode `0644`.
fn confined(options: &mut OpenOptions) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options
            .mode(0o644)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    #[cfg(not(unix))]
    {
        let _ = options;
    }
}

#[cfg(test)]
mod tests {
    use weft_core::{EntryId, ErrorKind};

    use super::*;

    fn root() -> (tempfile::TempDir, FsRoot) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("inner/sub")).unwrap();
        std::fs::write(dir.path().join("inner/a.txt"), "hello world").unwrap();
        std::fs::write(dir.path().join("secret.txt"), "S").unwrap();
        let root = FsRoot::new(EntryId::new("t", "fs"), &dir.path().join("inner")).unwrap();
        (dir, root)
    }

    fn kind<T: std::fmt::Debug>(r: Result<T>) -> ErrorKind {
        r.unwrap_err().kind()
    }

    #[test]
    fn modes_create_truncate_append_and_refuse() {
        let (d, root) = root();
        let on_disk = |p: &str| std::fs::read_to_string(d.path().join("inner").join(p)).unwrap();
        let f = root.open("/new.txt", OpenMode::Write).unwrap();
        f.write(b"one").unwrap();
        drop(f);
        assert_eq!(on_disk("new.txt"), "one");
        root.open("new.txt", OpenMode::Append)
            .unwrap()
            .write(b"+two")
            .unwrap();
        assert_eq!(on_disk("new.txt"), "one+two");
        root.open("new.txt", OpenMode::Write).unwrap();
        assert_eq!(on_disk("new.txt"), "");
        assert_eq!(
            kind(root.open("new.txt", OpenMode::WriteNew)),
            ErrorKind::AlreadyExists
        );
        root.open("sub/fresh.txt", OpenMode::WriteNew).unwrap();
        assert!(d.path().join("inner/sub/fresh.txt").is_file());
        assert_eq!(
            kind(root.open("missing.txt", OpenMode::Read)),
            ErrorKind::NotFound
        );
        assert_eq!(
            kind(root.open("nodir/x.txt", OpenMode::Write)),
            ErrorKind::NotFound
        );
        assert_eq!(kind(root.open("sub", OpenMode::Read)), ErrorKind::Invalid);
        assert_eq!(kind(root.open("/", OpenMode::Write)), ErrorKind::Invalid);
        let reader = root.open("a.txt", OpenMode::Read).unwrap();
        assert_eq!(kind(reader.write(b"x")), ErrorKind::Invalid);
        let writer = root.open("new.txt", OpenMode::Append).unwrap();
        assert_eq!(kind(writer.read(1)), ErrorKind::Invalid);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(d.path().join("inner/sub/fresh.txt"))
                .unwrap()
                .permissions()
                .mode();
            // 0644 less whatever the umask removes: never more than 0644.
            assert_eq!(mode & 0o7777 & !0o644, 0);
            assert_eq!(mode & 0o600, 0o600);
        }
    }

    #[test]
    fn reads_seeks_and_stats() {
        let (_d, root) = root();
        let f = root.open("a.txt", OpenMode::Read).unwrap();
        assert_eq!(f.read(5).unwrap().unwrap(), b"hello");
        assert_eq!(f.seek(SeekFrom::Current(0)).unwrap(), 5);
        assert_eq!(f.seek(SeekFrom::Start(6)).unwrap(), 6);
        assert_eq!(f.read(100).unwrap().unwrap(), b"world");
        assert_eq!(f.read(100).unwrap(), None);
        assert_eq!(f.seek(SeekFrom::End(-5)).unwrap(), 6);
        assert_eq!(kind(f.seek(SeekFrom::Current(-100))), ErrorKind::Invalid);
        let info = f.stat().unwrap();
        assert_eq!((info.name.as_str(), info.size), ("a.txt", 11));
        assert_eq!(info.kind, FileKind::File);
        assert!(info.modified > 1_600_000_000, "{info:?}");
        f.sync().unwrap();
        assert_eq!(f.path(), "a.txt");
        assert_eq!(f.mode(), OpenMode::Read);
    }

    #[test]
    fn one_read_is_bounded() {
        let (d, root) = root();
        let big = vec![7u8; MAX_READ_CHUNK + 10];
        std::fs::write(d.path().join("inner/big.bin"), &big).unwrap();
        let f = root.open("big.bin", OpenMode::Read).unwrap();
        assert_eq!(f.read(usize::MAX).unwrap().unwrap().len(), MAX_READ_CHUNK);
        assert_eq!(f.read(usize::MAX).unwrap().unwrap().len(), 10);
        assert_eq!(f.read(0).unwrap(), None);
    }

    #[test]
    fn escapes_are_denied() {
        let (_d, root) = root();
        for path in ["../secret.txt", "sub/../../secret.txt", "/../secret.txt"] {
            for mode in [OpenMode::Read, OpenMode::Write, OpenMode::Append] {
                assert_eq!(
                    kind(root.open(path, mode)),
                    ErrorKind::PermissionDenied,
                    "{path}"
                );
            }
        }
    }

    #[cfg(unix)]
    #[test]
    fn links_out_fifos_and_devices_are_refused() {
        let (d, root) = root();
        let inner = d.path().join("inner");
        std::os::unix::fs::symlink(d.path().join("secret.txt"), inner.join("out")).unwrap();
        std::os::unix::fs::symlink(d.path(), inner.join("up")).unwrap();
        std::os::unix::fs::symlink(d.path().join("nowhere"), inner.join("dangling")).unwrap();
        std::os::unix::fs::symlink(inner.join("a.txt"), inner.join("in")).unwrap();
        for mode in [OpenMode::Read, OpenMode::Write] {
            assert_eq!(kind(root.open("out", mode)), ErrorKind::PermissionDenied);
            assert_eq!(
                kind(root.open("up/new.txt", mode)),
                ErrorKind::PermissionDenied
            );
        }
        assert_eq!(
            kind(root.open("dangling", OpenMode::Write)),
            ErrorKind::Invalid
        );
        assert!(!d.path().join("nowhere").exists());
        assert_eq!(
            std::fs::read_to_string(d.path().join("secret.txt")).unwrap(),
            "S"
        );
        // A link that stays inside is followed.
        let f = root.open("in", OpenMode::Read).unwrap();
        assert_eq!(f.read(5).unwrap().unwrap(), b"hello");

        let fifo = inner.join("pipe");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let dev = FsRoot::new(EntryId::new("t", "dev"), std::path::Path::new("/dev")).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send((
                root.open("pipe", OpenMode::Read).map(drop),
                root.open("pipe", OpenMode::Write).map(drop),
                dev.open("zero", OpenMode::Read).map(drop),
            ));
        });
        let (pipe, pipe_write, zero) = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("opens finish at once");
        assert_eq!(pipe.unwrap_err().message(), "pipe is not a regular file");
        assert_eq!(
            pipe_write.unwrap_err().message(),
            "pipe is not a regular file"
        );
        assert_eq!(zero.unwrap_err().message(), "zero is not a regular file");
    }
}

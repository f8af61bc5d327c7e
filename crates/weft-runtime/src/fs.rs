//! `fs.directory` entries: named directory roots that every access is confined to.
//!
//! A path inside a root is relative to it (a leading `/` is stripped, `/` alone is the
//! root). Paths that climb out with `..`, or through a symlink that points outside the
//! root, are rejected: nothing outside is ever read.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Weak};

use parking_lot::RwLock;
use serde::Deserialize;
use weft_core::{BoxFuture, EntryId, Error, ErrorKind, Result};
use weft_registry::{Entry, KindHandler};

use crate::Runtime;

/// One `fs.directory` root.
#[derive(Debug)]
pub struct FsRoot {
    id: EntryId,
    root: PathBuf,
}

/// The registered roots, by full entry id.
#[derive(Default)]
pub struct FsRegistry {
    roots: RwLock<HashMap<String, Arc<FsRoot>>>,
}

/// The `fs.directory` kind handler.
pub struct FsHandler(Weak<Runtime>);

/// The fields of an `fs.directory` entry (reference §2.3).
#[derive(Deserialize, Default)]
#[serde(default)]
struct FsConfig {
    directory: String,
    auto_init: bool,
    mode: Option<String>,
    base: String,
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

    /// Reads a whole file inside the root.
    pub fn read(&self, path: &str) -> Result<Vec<u8>> {
        let full = self.resolve(path)?;
        std::fs::read(&full).map_err(|e| {
            let kind = if e.kind() == std::io::ErrorKind::NotFound {
                ErrorKind::NotFound
            } else {
                ErrorKind::Internal
            };
            Error::new(kind, format!("failed to open file: {path} ({e})"))
        })
    }
}

fn escape(path: &str, id: &EntryId) -> Error {
    Error::permission_denied(format!("path {path:?} escapes the root of {id}"))
}

impl FsRegistry {
    /// Registers a root under its entry id.
    pub fn register(&self, root: FsRoot) {
        self.roots
            .write()
            .insert(root.id.as_str().to_string(), Arc::new(root));
    }

    /// The root registered as `id` (the full id string; no namespace resolution).
    pub fn get(&self, id: &str) -> Option<Arc<FsRoot>> {
        self.roots.read().get(id).cloned()
    }
}

impl FsHandler {
    /// A handler registering roots into `rt`.
    pub fn new(rt: &Arc<Runtime>) -> FsHandler {
        FsHandler(Arc::downgrade(rt))
    }
}

impl KindHandler for FsHandler {
    fn kinds(&self) -> &[&'static str] {
        &["fs.directory"]
    }

    fn apply(&self, entry: Arc<Entry>) -> BoxFuture<Result<()>> {
        let result = match self.0.upgrade() {
            Some(rt) => register(&rt, &entry),
            None => Err(Error::internal("runtime is gone")),
        };
        Box::pin(async move { result })
    }
}

/// Validates an `fs.directory` entry, creates its directory if asked, registers it.
fn register(rt: &Runtime, entry: &Entry) -> Result<()> {
    let config: FsConfig = entry.decode().map_err(Error::from)?;
    if config.directory.trim().is_empty() {
        return Err(Error::invalid("empty directory path").in_field("directory"));
    }
    if !matches!(config.base.as_str(), "" | "project" | "module") {
        return Err(Error::invalid(format!(
            "base must be project or module, got {:?}",
            config.base
        ))
        .in_field("base"));
    }
    let mode = config.mode.as_deref().unwrap_or("0755");
    let mode = u32::from_str_radix(mode.trim_start_matches("0o"), 8).map_err(|_| {
        Error::invalid(format!("mode must be an octal string, got {mode:?}")).in_field("mode")
    })?;
    let dir = Path::new(&config.directory);
    let dir = if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        rt.root.join(dir)
    };
    if !dir.is_dir() {
        if !config.auto_init {
            return Err(Error::invalid(format!(
                "directory {} does not exist (set auto_init: true to create it)",
                dir.display()
            ))
            .in_field("directory"));
        }
        create_dir(&dir, mode).map_err(|e| {
            Error::internal(format!("cannot create {}: {e}", dir.display())).in_field("directory")
        })?;
    }
    let root = FsRoot::new(entry.id.clone(), &dir).map_err(|e| e.in_field("directory"))?;
    rt.fs.register(root);
    Ok(())
}

#[cfg(unix)]
fn create_dir(dir: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(mode | 0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_dir(dir: &Path, _mode: u32) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
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

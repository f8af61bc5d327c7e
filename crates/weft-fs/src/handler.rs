//! The `fs.directory` kind handler (reference §2.3).

use std::path::Path;
use std::sync::{Arc, Weak};

use serde::Deserialize;
use weft_core::{BoxFuture, EntryId, Error, Result, Value};
use weft_registry::{BootMode, Entry, KindHandler, Staged, Undo};

use crate::{FileMode, FsRegistry, FsRoot, check_creatable, create_dirs};

/// Validates `fs.directory` entries, creates their directory when asked (not in a
/// check), and registers them into the [`FsRegistry`] it fills.
pub struct FsHandler(Weak<FsRegistry>);

/// The fields of an `fs.directory` entry.
#[derive(Deserialize, Default)]
#[serde(default)]
struct FsConfig {
    directory: String,
    auto_init: bool,
    mode: Option<Value>,
    base: String,
}

/// The mode of a directory `auto_init` creates when the entry sets none.
const DEFAULT_MODE: FileMode = FileMode::new(0o755);

impl FsHandler {
    /// A handler registering roots into `fs`.
    pub fn new(fs: &Arc<FsRegistry>) -> FsHandler {
        FsHandler(Arc::downgrade(fs))
    }
}

impl KindHandler for FsHandler {
    fn kinds(&self) -> &[&'static str] {
        &["fs.directory"]
    }

    fn stage(&self, entry: Arc<Entry>, mode: BootMode) -> BoxFuture<Result<Staged>> {
        let staged = self.registry().and_then(|fs| {
            Ok(match build(&fs, &entry, mode)? {
                Some(root) => publish(fs, entry.id.clone(), Some(Arc::new(root))),
                None => Staged::validated(),
            })
        });
        Box::pin(async move { staged })
    }

    /// A removed root answers NotFound to new `fs.get`s; files opened from it stay open.
    fn stage_remove(&self, entry: Arc<Entry>) -> Result<Staged> {
        Ok(publish(self.registry()?, entry.id.clone(), None))
    }
}

impl FsHandler {
    /// The registry this handler fills.
    fn registry(&self) -> Result<Arc<FsRegistry>> {
        self.0
            .upgrade()
            .ok_or_else(|| Error::internal("the fs registry is gone"))
    }
}

/// Publishing `root` (or its removal) under `id`, and its undo.
fn publish(fs: Arc<FsRegistry>, id: EntryId, root: Option<Arc<FsRoot>>) -> Staged {
    Staged::new(move || {
        let old = fs.replace(id.as_str(), root);
        Undo::new(move || drop(fs.replace(id.as_str(), old)))
    })
}

/// Validates an `fs.directory` entry, creates its directory if asked, and opens its root.
///
/// A check creates nothing: a missing `auto_init` directory is fine when it could be
/// created, and is not registered (there is nothing to read in it yet): `Ok(None)`.
fn build(fs: &FsRegistry, entry: &Entry, boot: BootMode) -> Result<Option<FsRoot>> {
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
    let mode = FileMode::parse(config.mode.as_ref(), DEFAULT_MODE, "mode")?;
    let dir = Path::new(&config.directory);
    let dir = if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        fs.app_root().join(dir)
    };
    if !dir.is_dir() {
        if !config.auto_init {
            return Err(Error::invalid(format!(
                "directory {} does not exist (set auto_init: true to create it)",
                dir.display()
            ))
            .in_field("directory"));
        }
        let cannot_create = |e: std::io::Error| {
            Error::internal(format!("cannot create {}: {e}", dir.display())).in_field("directory")
        };
        if boot == BootMode::Check {
            return check_creatable(&dir).map(|()| None).map_err(cannot_create);
        }
        // The owner keeps full access whatever the mode: weft must use the root.
        create_dirs(&dir, FileMode::new(mode.bits() | 0o700)).map_err(cannot_create)?;
    }
    FsRoot::new(entry.id.clone(), &dir)
        .map(Some)
        .map_err(|e| e.in_field("directory"))
}

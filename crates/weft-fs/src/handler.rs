//! The `fs.directory` kind handler (reference §2.3).

use std::path::Path;
use std::sync::{Arc, Weak};

use serde::Deserialize;
use weft_core::{BoxFuture, Error, Result, Value};
use weft_registry::{BootMode, Entry, KindHandler};

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

    fn apply(&self, entry: Arc<Entry>, mode: BootMode) -> BoxFuture<Result<()>> {
        let result = match self.0.upgrade() {
            Some(fs) => register(&fs, &entry, mode),
            None => Err(Error::internal("the fs registry is gone")),
        };
        Box::pin(async move { result })
    }
}

/// Validates an `fs.directory` entry, creates its directory if asked, registers it.
///
/// A check creates nothing: a missing `auto_init` directory is fine when it could be
/// created, and is not registered (there is nothing to read in it yet).
fn register(fs: &FsRegistry, entry: &Entry, boot: BootMode) -> Result<()> {
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
            return check_creatable(&dir).map_err(cannot_create);
        }
        // The owner keeps full access whatever the mode: weft must use the root.
        create_dirs(&dir, FileMode::new(mode.bits() | 0o700)).map_err(cannot_create)?;
    }
    let root = FsRoot::new(entry.id.clone(), &dir).map_err(|e| e.in_field("directory"))?;
    fs.register(root);
    Ok(())
}

//! weft-fs: the filesystem capability.
//!
//! - [`FsRegistry`]: the `fs.directory` roots of an app, handed out only after the
//!   caller's `fs.get` check ([`FsRegistry::get`]); every engine reaches files this way.
//! - [`FsRoot`]: one root; every path inside it is confined (no `..`, no symlink out).
//!   Besides whole-file reads it has the operations engines expose to code: `stat`,
//!   `exists`, `list`, `create_dir`, `remove`, and `open` giving an [`FsFile`] (bounded
//!   reads, writes, seek, stat, sync). They block: async callers use a blocking thread.
//! - [`FsHandler`]: the `fs.directory` kind handler.
//! - [`FileMode`], [`create_dirs`], [`create_file`], [`set_mode`]: the one parser of permission modes
//!   (`"0600"`, `"0o600"`, YAML `0o600`) and the creators other capabilities use;
//!   [`check_creatable`] is what `weft check` verifies of a creation instead of doing it.

#![deny(missing_docs)]

mod file;
mod handler;
mod mode;
mod registry;
mod root;

pub use file::{DirEntry, FileInfo, FileKind, FsFile, MAX_READ_CHUNK, OpenMode};
pub use handler::FsHandler;
pub use mode::{FileMode, check_creatable, create_dirs, create_file, set_mode};
pub use registry::FsRegistry;
pub use root::{FsRoot, MAX_DIR_ENTRIES};

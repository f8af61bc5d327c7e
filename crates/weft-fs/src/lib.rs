//! weft-fs: the filesystem capability.
//!
//! - [`FsRegistry`]: the `fs.directory` roots of an app, handed out only after the
//!   caller's `fs.get` check ([`FsRegistry::get`]); every engine reaches files this way.
//! - [`FsRoot`]: one root; every path inside it is confined (no `..`, no symlink out).
//! - [`FsHandler`]: the `fs.directory` kind handler.
//! - [`FileMode`], [`create_dirs`], [`create_file`], [`set_mode`]: the one parser of permission modes
//!   (`"0600"`, `"0o600"`, YAML `0o600`) and the creators other capabilities use;
//!   [`check_creatable`] is what `weft check` verifies of a creation instead of doing it.

#![deny(missing_docs)]

mod handler;
mod mode;
mod registry;
mod root;

pub use handler::FsHandler;
pub use mode::{FileMode, check_creatable, create_dirs, create_file, set_mode};
pub use registry::FsRegistry;
pub use root::FsRoot;

//! weft-registry: loading a Wippy-format app and the entry store it boots into.
//!
//! - [`load_app`]: `.wippy.yaml` ([`Config`]), `wippy.lock`, the definition-file walk,
//!   `file://` interpolation, duplicates, overrides and dependency order → [`App`]. Every
//!   problem of a load is collected into [`LoadErrors`].
//! - [`Registry`]: the entry store the running app reads (`registry.get` / `find`).
//! - [`boot`]: applies an [`App`]'s entries through the engines' [`KindHandler`]s, to run
//!   the app or only to check it ([`BootMode`]).
//! - [`Registry::apply`]: a live [`ChangeSet`] (create, update, delete), validated whole
//!   and published all at once or not at all, each applied set a new [`Version`].
//!
//! Where weft differs from Wippy here:
//! - without a `wippy.lock`, entries load from `./src` if it exists, else from the root
//!   (Wippy boots an empty registry);
//! - a file with `entries:` or `name` + `kind` but no namespace is an error (Wippy skips
//!   it silently), and any broken file fails the load (Wippy logs and skips it);
//! - hidden files and directories are not walked;
//! - unknown entry kinds fail the boot at once, listing them all, unless skipped.

#![deny(missing_docs)]

mod boot;
mod changes;
mod config;
mod definition;
mod entry;
mod error;
mod handler;
mod live;
mod load;
mod order;
mod overrides;
mod registry;
mod yaml;

#[cfg(test)]
mod testutil;

pub use boot::{BootOptions, BootReport, INTERNAL_KINDS, boot};
pub use changes::{Change, ChangeSet};
pub use config::{Config, duration_of};
pub use entry::{Entry, EntryError, Source};
pub use error::{LoadError, LoadErrors, UnknownKind};
pub use handler::{BootMode, KindHandler, Restorable, Staged, Undo, restore};
pub use live::{KEPT_VERSIONS, Version};
pub use load::{App, DefinitionFile, LoadOptions, definition_files, load_app};
pub use order::dependencies;
pub use registry::{FindResult, Registry, Snapshot};
pub use yaml::too_deep as yaml_too_deep;

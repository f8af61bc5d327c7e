//! [`KindHandler`]: what an engine or a capability implements for its entry kinds, and
//! the two-step protocol every change goes through: a handler *stages* a change
//! (validates and builds it, visible to nobody), then the registry *publishes* what was
//! staged ([`Staged::publish`]), which returns the [`Undo`] that takes it back.
//!
//! Boot stages and publishes each entry at once. A live change set
//! ([`Registry::apply`](crate::Registry::apply)) stages every change first and publishes
//! only when all of them staged, so a bad entry leaves the running app untouched.

use std::sync::Arc;

use weft_core::{BoxFuture, EntryId, Error};

use crate::entry::Entry;

/// A handler for one or more entry kinds, registered by engine and capability crates.
pub trait KindHandler: Send + Sync {
    /// The kinds this handler accepts.
    fn kinds(&self) -> &[&'static str];

    /// Validates and builds `entry` (a new entry, or a new version of a published one)
    /// without making it visible. Err with ErrorKind::NotFound defers the entry (it is
    /// staged again once the others are published); any other Err rejects it. In
    /// [`BootMode::Check`] the handler validates and compiles as for a run, but runs no
    /// app code and writes nothing.
    fn stage(&self, entry: Arc<Entry>, mode: BootMode) -> BoxFuture<Result<Staged, Error>>;

    /// Stages `entry` and publishes it at once, keeping it: what boot does with each
    /// entry.
    fn apply(&self, entry: Arc<Entry>, mode: BootMode) -> BoxFuture<Result<(), Error>> {
        let staged = self.stage(entry, mode);
        Box::pin(async move {
            staged.await?.publish().keep();
            Ok(())
        })
    }

    /// Stages taking a published `entry` away: once published, what the entry made
    /// (a function, a store, a route…) answers NotFound to new callers, while work in
    /// flight finishes on what it holds.
    fn stage_remove(&self, entry: Arc<Entry>) -> Result<Staged, Error>;

    /// Called once after a boot or a change set was published, for what is built from
    /// many entries at once (a server's route table); each error names the entry it
    /// belongs to. A change set whose commit fails is undone and committed again.
    fn commit(&self, _mode: BootMode) -> Vec<(EntryId, Error)> {
        Vec::new()
    }
}

/// What a boot is for; every [`KindHandler`] gets it with each entry and decides in one
/// place what checking means for its kinds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BootMode {
    /// Boot to run the app: warm pools are filled, missing files and directories that
    /// entries may create are created, caches are filled.
    #[default]
    Run,
    /// `weft check`: validate and compile every entry; run no app code (no warm VMs, no
    /// services) and write nothing (no files, no directories, no cache entries).
    Check,
}

/// A change a handler built and validated, not visible yet.
#[must_use = "a staged change does nothing until it is published"]
pub struct Staged(Box<dyn FnOnce() -> Undo + Send>);

/// How to take a published change back; running it restores exactly what was there.
#[must_use = "an undo does nothing until it is run"]
pub struct Undo(Option<Box<dyn FnOnce() + Send>>);

impl Staged {
    /// A change that `publish` makes visible; `publish` returns how to take it back.
    pub fn new(publish: impl FnOnce() -> Undo + Send + 'static) -> Staged {
        Staged(Box::new(publish))
    }

    /// A change with nothing to make visible (the entry was only validated).
    pub fn validated() -> Staged {
        Staged::new(Undo::nothing)
    }

    /// A change to `tables`, which are saved before `change` runs; the undo puts the
    /// saved copy back.
    pub fn on<T: Restorable>(tables: Arc<T>, change: impl FnOnce(&T) + Send + 'static) -> Staged {
        Staged::new(move || {
            let saved = tables.save();
            change(&tables);
            Undo::new(move || tables.restore(saved))
        })
    }

    /// Makes the change visible; cannot fail (everything that can was done by staging).
    pub fn publish(self) -> Undo {
        (self.0)()
    }
}

impl Undo {
    /// An undo running `undo`.
    pub fn new(undo: impl FnOnce() + Send + 'static) -> Undo {
        Undo(Some(Box::new(undo)))
    }

    /// Nothing to undo.
    pub fn nothing() -> Undo {
        Undo(None)
    }

    /// Takes the change back.
    pub fn run(self) {
        if let Some(undo) = self.0 {
            undo();
        }
    }

    /// Forgets how to take the change back (boot keeps what it published).
    pub fn keep(self) {}
}

/// Tables a capability copies whole (pointers only) before a live change and puts back
/// when the change set is undone ([`Staged::on`]).
pub trait Restorable: Send + Sync + 'static {
    /// The copy.
    type Saved: Send + 'static;
    /// Copies the tables.
    fn save(&self) -> Self::Saved;
    /// Puts a copy back.
    fn restore(&self, saved: Self::Saved);
}

/// The undo of putting `new` in a keyed table where `old` was: the old value back, or
/// the key removed. `put(key, value)` and `remove(key)` act on the table.
pub fn restore<K, V>(
    key: K,
    old: Option<V>,
    put: impl FnOnce(K, V) + Send + 'static,
    remove: impl FnOnce(K) + Send + 'static,
) -> Undo
where
    K: Send + 'static,
    V: Send + 'static,
{
    Undo::new(move || match old {
        Some(old) => put(key, old),
        None => remove(key),
    })
}

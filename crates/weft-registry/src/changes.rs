//! Live change sets: [`ChangeSet`] (create, update, delete) applied by
//! [`Registry::apply`] as one transaction, validated whole and published all at once or
//! not at all, each applied set a new [`Version`].
//!
//! How a set is applied (the lock is held throughout, so sets never interleave):
//! 1. **Plan.** The changes are applied to a copy of the entry map. Creating an id that
//!    exists, updating or deleting one that does not, a kind no handler accepts, and
//!    deleting an entry that others still depend on are reported together, naming the
//!    entries. Entries that depend on an updated entry (a library's importers, a
//!    service's process…) are *rebuilt*: staged again as they are.
//! 2. **Stage.** Every put whose dependencies are not in the set is staged, and every
//!    delete: handlers validate and compile (the slow part) while the running app goes
//!    on unchanged. Any error ends the set here, with nothing published.
//! 3. **Publish.** What was staged is published and the new entry map swapped in.
//! 4. **Dependent puts** (an entry whose dependency is in the same set, or a handler
//!    that deferred one) are staged and published in dependency order, now that what
//!    they depend on is visible.
//! 5. **Commit.** Every handler's [`commit`](crate::KindHandler::commit) runs (route
//!    tables). An error in 4 or 5 undoes every publish in reverse order, restores the
//!    entry map and commits again: the app is back where it was.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::SystemTime;

use weft_core::{EntryId, Error, ErrorKind};

use crate::boot::{Target, entry_error, handler_map};
use crate::entry::Entry;
use crate::error::{LoadError, LoadErrors};
use crate::handler::{Staged, Undo};
use crate::live::{Attached, Version};
use crate::order::dependencies;
use crate::registry::{EntryMap, Registry, Snapshot};

/// One change of a [`ChangeSet`].
#[derive(Clone, Debug)]
pub enum Change {
    /// A new entry; its id must not exist.
    Create(Arc<Entry>),
    /// A new version of an existing entry.
    Update(Arc<Entry>),
    /// Removes an existing entry.
    Delete(EntryId),
}

/// Changes applied together by [`Registry::apply`]: all of them or none.
#[derive(Clone, Debug, Default)]
pub struct ChangeSet {
    changes: Vec<Change>,
}

/// A planned change set: the entry map it leaves and what it touches.
struct Plan {
    /// The entries after the set.
    map: EntryMap,
    /// Created entries.
    created: Vec<Arc<Entry>>,
    /// Updated entries (their new versions).
    updated: Vec<Arc<Entry>>,
    /// Deleted entries (their last versions).
    deleted: Vec<Arc<Entry>>,
    /// Entries staged again because something they depend on changed.
    rebuilt: Vec<Arc<Entry>>,
    /// Entries of unknown kinds left out (boot skipped them too).
    warnings: Vec<String>,
}

impl ChangeSet {
    /// An empty change set.
    pub fn new() -> ChangeSet {
        ChangeSet::default()
    }

    /// Adds the creation of `entry`.
    pub fn create(&mut self, entry: Entry) {
        self.changes.push(Change::Create(Arc::new(entry)));
    }

    /// Adds a new version of the entry with `entry`'s id.
    pub fn update(&mut self, entry: Entry) {
        self.changes.push(Change::Update(Arc::new(entry)));
    }

    /// Adds the deletion of `id`.
    pub fn delete(&mut self, id: EntryId) {
        self.changes.push(Change::Delete(id));
    }

    /// The changes, in the order they were added.
    pub fn changes(&self) -> &[Change] {
        &self.changes
    }

    /// True when there is no change.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The changes that turn the entries of `current` into `wanted` (a reloaded app):
    /// new ids are created, missing ones deleted, and entries whose kind, meta or data
    /// differ updated. Where an entry is defined (its file and line) is not a change.
    pub fn between(current: &Snapshot, wanted: Vec<Entry>) -> ChangeSet {
        diff(&current.entries, wanted.into_iter().map(Arc::new))
    }
}

impl Registry {
    /// Applies `changes` as one transaction (see the module docs): the new [`Version`],
    /// or every problem found, with nothing changed. `origin` is recorded in the history.
    pub async fn apply(&self, changes: ChangeSet, origin: &str) -> Result<Version, LoadErrors> {
        let mut history = self.live.history.lock().await;
        let attached = self.live.attached().ok_or_else(not_live)?;
        let old = self.map();
        let plan = plan(&old, changes, &attached)?;
        if plan.created.is_empty() && plan.updated.is_empty() && plan.deleted.is_empty() {
            let mut current = Registry::latest(&history).ok_or_else(not_live)?;
            current.warnings = plan.warnings;
            return Ok(current);
        }
        self.run(&plan, &attached).await?;
        let version = Version {
            number: self.live.version() + 1,
            origin: origin.to_string(),
            at: SystemTime::now(),
            created: ids(&plan.created),
            updated: ids(&plan.updated),
            deleted: ids(&plan.deleted),
            rebuilt: ids(&plan.rebuilt),
            warnings: plan.warnings,
            entries: self.map(),
        };
        self.live.record(&mut history, version.clone());
        Ok(version)
    }

    /// Brings the entries back to what they were at version `number` (kept in the
    /// history), as a new change set: the answer is the new version.
    pub async fn apply_version(&self, number: u64) -> Result<Version, LoadErrors> {
        let target = {
            let history = self.live.history.lock().await;
            let kept = history.iter().find(|v| v.number == number);
            match kept {
                Some(v) => v.entries.clone(),
                None => {
                    let first = history.front().map_or(0, |v| v.number);
                    return Err(LoadError::Registry {
                        message: format!(
                            "version {number} is not in the history (it keeps versions {first} to {})",
                            self.live.version()
                        ),
                    }
                    .into());
                }
            }
        };
        let changes = diff(&self.map(), target.values().cloned());
        self.apply(changes, &format!("apply_version {number}"))
            .await
    }

    /// Stages, publishes and commits a plan; on failure everything published is undone.
    async fn run(&self, plan: &Plan, attached: &Attached) -> Result<(), LoadErrors> {
        let mode = attached.mode;
        let mut warnings = Vec::new();
        let by_kind = handler_map(&attached.handlers, &mut warnings);
        let target = |e: &Entry| Target::of(e, &by_kind);
        let puts: Vec<&Arc<Entry>> = plan
            .created
            .iter()
            .chain(&plan.updated)
            .chain(&plan.rebuilt)
            .collect();
        let in_set: HashSet<&str> = puts.iter().map(|e| e.id.as_str()).collect();
        let (later, first): (Vec<&Arc<Entry>>, Vec<&Arc<Entry>>) = puts
            .into_iter()
            .partition(|e| dependencies(e).iter().any(|d| in_set.contains(d.as_str())));

        // Stage what depends on nothing in the set, and the deletes.
        let mut errors = Vec::new();
        let mut staged: Vec<Staged> = Vec::new();
        let mut pending: Vec<&Arc<Entry>> = Vec::new();
        for entry in first {
            match target(entry).stage(entry, mode).await {
                Ok(s) => staged.push(s),
                Err(e) if e.kind() == ErrorKind::NotFound => pending.push(entry),
                Err(e) => errors.push(entry_error(entry, e).into()),
            }
        }
        for entry in &plan.deleted {
            match target(entry).stage_remove(entry) {
                Ok(s) => staged.push(s),
                Err(e) => errors.push(entry_error(entry, e).into()),
            }
        }
        if !errors.is_empty() {
            return Err(LoadErrors(errors));
        }

        // Publish them together, then the dependent puts one by one.
        let mut undo: Vec<Undo> = staged.into_iter().map(Staged::publish).collect();
        let old = self.swap_map(Arc::new(plan.map.clone()));
        pending.extend(dependency_sorted(later));
        while !pending.is_empty() {
            let before = pending.len();
            let mut still = Vec::new();
            for entry in pending {
                match target(entry).stage(entry, mode).await {
                    Ok(s) => undo.push(s.publish()),
                    Err(e) if e.kind() == ErrorKind::NotFound => still.push((entry, e)),
                    Err(e) => errors.push(entry_error(entry, e).into()),
                }
            }
            if still.len() == before {
                for (entry, e) in still {
                    let e = entry_error(entry, e);
                    let error = e.error.clone().context("unresolved dependency");
                    errors.push(LoadError::Unresolved(Box::new(crate::entry::EntryError {
                        error,
                        ..e
                    })));
                }
                break;
            }
            pending = still.into_iter().map(|(e, _)| e).collect();
        }
        if errors.is_empty() {
            errors = self.commit(attached);
        }
        if errors.is_empty() {
            return Ok(());
        }
        for u in undo.into_iter().rev() {
            u.run();
        }
        self.swap_map(old);
        errors.extend(self.commit(attached));
        Err(LoadErrors(errors))
    }

    /// Runs every handler's commit; the errors name their entries.
    fn commit(&self, attached: &Attached) -> Vec<LoadError> {
        let mut errors = Vec::new();
        for handler in &attached.handlers {
            for (id, error) in handler.commit(attached.mode) {
                let entry = self
                    .get(id.as_str())
                    .unwrap_or_else(|| Arc::new(Entry::new(id, "")));
                errors.push(entry_error(&entry, error).into());
            }
        }
        errors
    }
}

impl Target {
    /// Stages a put through this target (internal kinds need nothing).
    async fn stage(&self, entry: &Arc<Entry>, mode: crate::BootMode) -> Result<Staged, Error> {
        match self {
            Target::Internal | Target::Unknown => Ok(Staged::validated()),
            Target::Handler(h) => h.stage(Arc::clone(entry), mode).await,
        }
    }

    /// Stages a delete through this target.
    fn stage_remove(&self, entry: &Arc<Entry>) -> Result<Staged, Error> {
        match self {
            Target::Internal | Target::Unknown => Ok(Staged::validated()),
            Target::Handler(h) => h.stage_remove(Arc::clone(entry)),
        }
    }
}

/// Applies `changes` to a copy of `old` and checks the result as a whole.
fn plan(old: &EntryMap, changes: ChangeSet, attached: &Attached) -> Result<Plan, LoadErrors> {
    let mut warnings = Vec::new();
    let by_kind = handler_map(&attached.handlers, &mut warnings);
    let mut map = old.clone();
    let mut errors: Vec<LoadError> = Vec::new();
    for change in changes.changes {
        match change {
            Change::Create(e) if map.contains_key(e.id.as_str()) => errors.push(
                entry_error(&e, Error::invalid(format!("entry {} already exists", e.id))).into(),
            ),
            Change::Update(e) if !map.contains_key(e.id.as_str()) => errors.push(
                entry_error(&e, Error::not_found(format!("no entry {} to update", e.id))).into(),
            ),
            Change::Create(e) | Change::Update(e) => {
                if matches!(Target::of(&e, &by_kind), Target::Unknown) {
                    if attached.skip_unknown_kinds {
                        warnings.push(format!(
                            "{}: skipping entry {}: no handler for kind {}",
                            e.source, e.id, e.kind
                        ));
                        continue;
                    }
                    errors.push(
                        entry_error(
                            &e,
                            Error::invalid(format!("no handler for kind {}", e.kind)),
                        )
                        .into(),
                    );
                }
                map.insert(e.id.as_str().to_string(), e);
            }
            Change::Delete(id) => {
                if map.shift_remove(id.as_str()).is_none() {
                    let e = Entry::new(id.clone(), "");
                    errors.push(
                        entry_error(&e, Error::not_found(format!("no entry {id} to delete")))
                            .into(),
                    );
                }
            }
        }
    }
    let (created, updated, deleted) = classify(old, &map);
    errors.extend(dependents_of_deleted(&map, &deleted));
    if !errors.is_empty() {
        return Err(LoadErrors(errors));
    }
    let rebuilt = rebuilt(&map, &created, &updated);
    Ok(Plan {
        map,
        created,
        updated,
        deleted,
        rebuilt,
        warnings,
    })
}

/// Created, updated and deleted entries between two maps (updated: a different entry
/// object under the same id).
type Classified = (Vec<Arc<Entry>>, Vec<Arc<Entry>>, Vec<Arc<Entry>>);

/// See [`Classified`].
fn classify(old: &EntryMap, new: &EntryMap) -> Classified {
    let mut created = Vec::new();
    let mut updated = Vec::new();
    for (id, e) in new {
        match old.get(id) {
            None => created.push(e.clone()),
            Some(o) if !Arc::ptr_eq(o, e) => updated.push(e.clone()),
            Some(_) => {}
        }
    }
    let deleted = old
        .iter()
        .filter(|(id, _)| !new.contains_key(*id))
        .map(|(_, e)| e.clone())
        .collect();
    (created, updated, deleted)
}

/// An error per deleted entry that entries left in `map` still depend on, naming them.
fn dependents_of_deleted(map: &EntryMap, deleted: &[Arc<Entry>]) -> Vec<LoadError> {
    if deleted.is_empty() {
        return Vec::new();
    }
    let gone: HashSet<&str> = deleted.iter().map(|e| e.id.as_str()).collect();
    let mut dependents: HashMap<&str, Vec<&str>> = HashMap::new();
    for e in map.values() {
        for dep in dependencies(e) {
            if let Some(&id) = gone.get(dep.as_str()) {
                dependents.entry(id).or_default().push(e.id.as_str());
            }
        }
    }
    deleted
        .iter()
        .filter_map(|e| {
            let users = dependents.get(e.id.as_str())?;
            let error = Error::invalid(format!(
                "cannot delete {}: {} still depend{} on it",
                e.id,
                users.join(", "),
                if users.len() == 1 { "s" } else { "" }
            ));
            Some(entry_error(e, error).into())
        })
        .collect()
}

/// Entries of `map` that depend, directly or not, on an updated entry, and are not in
/// the set themselves: they are staged again as they are.
fn rebuilt(map: &EntryMap, created: &[Arc<Entry>], updated: &[Arc<Entry>]) -> Vec<Arc<Entry>> {
    let mut changed: HashSet<String> = updated.iter().map(|e| e.id.to_string()).collect();
    let in_set: HashSet<&str> = created
        .iter()
        .chain(updated)
        .map(|e| e.id.as_str())
        .collect();
    let deps: Vec<(&Arc<Entry>, Vec<EntryId>)> = map
        .values()
        .filter(|e| !in_set.contains(e.id.as_str()))
        .map(|e| (e, dependencies(e)))
        .collect();
    let mut out: Vec<Arc<Entry>> = Vec::new();
    loop {
        let found: Vec<&Arc<Entry>> = deps
            .iter()
            .filter(|(e, d)| {
                !changed.contains(e.id.as_str()) && d.iter().any(|d| changed.contains(d.as_str()))
            })
            .map(|(e, _)| *e)
            .collect();
        if found.is_empty() {
            return out;
        }
        for e in found {
            changed.insert(e.id.to_string());
            out.push(e.clone());
        }
    }
}

/// `entries` so that each comes after the entries of the list it depends on (a cycle
/// keeps the rest in list order).
fn dependency_sorted(entries: Vec<&Arc<Entry>>) -> Vec<&Arc<Entry>> {
    let ids: HashSet<&str> = entries.iter().map(|e| e.id.as_str()).collect();
    let deps: Vec<Vec<EntryId>> = entries
        .iter()
        .map(|e| {
            dependencies(e)
                .into_iter()
                .filter(|d| ids.contains(d.as_str()))
                .collect()
        })
        .collect();
    let mut done: HashSet<&str> = HashSet::new();
    let mut out = Vec::with_capacity(entries.len());
    let mut left: Vec<usize> = (0..entries.len()).collect();
    while !left.is_empty() {
        let (ready, blocked): (Vec<usize>, Vec<usize>) = left
            .iter()
            .partition(|&&i| deps[i].iter().all(|d| done.contains(d.as_str())));
        let ready = if ready.is_empty() {
            blocked.clone()
        } else {
            ready
        };
        for &i in &ready {
            done.insert(entries[i].id.as_str());
            out.push(entries[i]);
        }
        left.retain(|i| !ready.contains(i));
    }
    out
}

/// The changes from `current` to the entries `wanted`.
fn diff(current: &EntryMap, wanted: impl Iterator<Item = Arc<Entry>>) -> ChangeSet {
    let mut set = ChangeSet::new();
    let mut seen = HashSet::new();
    for e in wanted {
        seen.insert(e.id.to_string());
        match current.get(e.id.as_str()) {
            None => set.changes.push(Change::Create(e)),
            Some(old) if !same(old, &e) => set.changes.push(Change::Update(e)),
            Some(_) => {}
        }
    }
    for id in current.keys() {
        if !seen.contains(id) {
            set.changes.push(Change::Delete(current[id].id.clone()));
        }
    }
    set
}

/// True when two entries have the same kind, meta and data.
fn same(a: &Entry, b: &Entry) -> bool {
    a.kind == b.kind && a.meta == b.meta && a.data == b.data
}

/// The ids of entries.
fn ids(entries: &[Arc<Entry>]) -> Vec<EntryId> {
    entries.iter().map(|e| e.id.clone()).collect()
}

/// The error of a change set on a registry no boot attached handlers to.
fn not_live() -> LoadErrors {
    LoadError::Registry {
        message: "the registry takes no changes: the app was not booted".to_string(),
    }
    .into()
}

#[cfg(test)]
#[path = "changes_tests.rs"]
mod tests;

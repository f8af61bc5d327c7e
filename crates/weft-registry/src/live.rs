//! The live registry's state: the kind handlers a boot attached, the version counter and
//! the history of applied change sets ([`Version`]), kept for `registry.history()` and
//! `registry.apply_version(v)`.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use parking_lot::RwLock;
use weft_core::EntryId;

use crate::handler::{BootMode, KindHandler};
use crate::registry::{EntryMap, Registry, Snapshot};

/// How many versions the history keeps (the boot's and the latest change sets'):
/// each holds one pointer per entry, so the cost is a few KB per version.
pub const KEPT_VERSIONS: usize = 64;

/// The live-change state of a [`Registry`].
#[derive(Default)]
pub(crate) struct Live {
    /// The handlers and boot mode changes go through; `None` until a boot attached them.
    attached: RwLock<Option<Attached>>,
    /// The current version (0 before the boot finished).
    version: AtomicU64,
    /// One change set at a time: the lock is held from staging to the last publish.
    pub(crate) history: tokio::sync::Mutex<VecDeque<Version>>,
}

/// What a boot attaches for later change sets.
#[derive(Clone)]
pub(crate) struct Attached {
    /// Every kind handler, in boot order.
    pub(crate) handlers: Vec<Arc<dyn KindHandler>>,
    /// The boot's mode (a checked app stays checked).
    pub(crate) mode: BootMode,
    /// Entries of kinds no handler accepts are left out (with a warning), as boot did.
    pub(crate) skip_unknown_kinds: bool,
}

/// One applied change set: its number, what it changed and the entries it left.
#[derive(Clone, Debug)]
pub struct Version {
    /// The version number: 1 is the boot, each applied change set adds one.
    pub number: u64,
    /// Who applied it: `boot`, `lua` (the `registry` module), `watch`, `apply_version N`.
    pub origin: String,
    /// When it was applied.
    pub at: SystemTime,
    /// Entries the change set created.
    pub created: Vec<EntryId>,
    /// Entries it replaced with a new version.
    pub updated: Vec<EntryId>,
    /// Entries it deleted.
    pub deleted: Vec<EntryId>,
    /// Entries rebuilt because something they depend on changed (a library's importers).
    pub rebuilt: Vec<EntryId>,
    /// Problems that did not stop the change set (entries of unknown kinds left out).
    pub warnings: Vec<String>,
    /// The entries at this version.
    pub(crate) entries: Arc<EntryMap>,
}

impl Live {
    /// The current version.
    pub(crate) fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// The handlers a boot attached, if any.
    pub(crate) fn attached(&self) -> Option<Attached> {
        self.attached.read().clone()
    }

    /// Records an applied version (under the history lock) and makes it current.
    pub(crate) fn record(&self, history: &mut VecDeque<Version>, version: Version) {
        self.version.store(version.number, Ordering::Release);
        history.push_back(version);
        while history.len() > KEPT_VERSIONS {
            history.pop_front();
        }
    }
}

impl Version {
    /// `created a, b; updated c; deleted d` (the parts that are not empty), or `no changes`.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        for (what, ids) in [
            ("created", &self.created),
            ("updated", &self.updated),
            ("deleted", &self.deleted),
            ("rebuilt", &self.rebuilt),
        ] {
            if !ids.is_empty() {
                let ids: Vec<&str> = ids.iter().map(EntryId::as_str).collect();
                parts.push(format!("{what} {}", ids.join(", ")));
            }
        }
        if parts.is_empty() {
            "no changes".to_string()
        } else {
            parts.join("; ")
        }
    }
}

impl Registry {
    /// Attaches the handlers later change sets go through and records the boot as
    /// version 1; called by [`boot`](crate::boot) when it succeeded.
    pub(crate) async fn attach(
        &self,
        handlers: Vec<Arc<dyn KindHandler>>,
        mode: BootMode,
        skip_unknown_kinds: bool,
    ) {
        let mut history = self.live.history.lock().await;
        *self.live.attached.write() = Some(Attached {
            handlers,
            mode,
            skip_unknown_kinds,
        });
        let entries = self.map();
        let version = Version {
            number: 1,
            origin: "boot".to_string(),
            at: SystemTime::now(),
            created: entries.values().map(|e| e.id.clone()).collect(),
            updated: Vec::new(),
            deleted: Vec::new(),
            rebuilt: Vec::new(),
            warnings: Vec::new(),
            entries,
        };
        history.clear();
        self.live.record(&mut history, version);
    }

    /// The current version: 1 after the boot, one more per applied change set (0 when
    /// nothing was booted).
    pub fn current_version(&self) -> u64 {
        self.live.version()
    }

    /// The entries at version `number`, when the history keeps it.
    pub async fn snapshot_at(&self, number: u64) -> Option<Snapshot> {
        let history = self.live.history.lock().await;
        let kept = history.iter().find(|v| v.number == number)?;
        Some(Snapshot {
            version: kept.number,
            entries: kept.entries.clone(),
        })
    }

    /// The versions the history keeps, oldest first (at most [`KEPT_VERSIONS`]).
    pub async fn versions(&self) -> Vec<u64> {
        let history = self.live.history.lock().await;
        history.iter().map(|v| v.number).collect()
    }

    /// The current version's record (`None` before a boot).
    pub(crate) fn latest(history: &VecDeque<Version>) -> Option<Version> {
        history.back().cloned()
    }

    /// The applied change sets the history keeps, oldest first.
    pub async fn history(&self) -> Vec<Version> {
        self.live.history.lock().await.iter().cloned().collect()
    }
}

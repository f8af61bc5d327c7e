//! `weft run --watch`: file changes under the app are loaded again and applied to the
//! running app as one change set ([`Registry::apply`](weft_registry::Registry::apply)),
//! after a quiet moment (bursts of events, an editor's save in several writes, become
//! one reload).
//!
//! - A reload that fails to load (broken YAML, a missing `file://`) or whose change set
//!   is rejected (a Lua syntax error, a bad field, a deleted dependency) keeps the
//!   running version and prints every problem.
//! - An applied change set prints one line: its version and what it created, updated,
//!   deleted and rebuilt. A reload that changes nothing prints nothing.
//! - Hidden files and directories (`.git`, an editor's swap files) are not watched;
//!   `.wippy.yaml` is the runtime's config, which a running app cannot take: a change
//!   to it says so.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher as _};
use tokio::sync::mpsc;
use weft_registry::{ChangeSet, LoadOptions, load_app};
use weft_runtime::Runtime;

use crate::diag;

/// How long the files must be quiet before a reload.
const QUIET: Duration = Duration::from_millis(150);

/// A watch on an app's folder.
pub(crate) struct Watch {
    /// Kept alive: dropping it stops the events.
    _watcher: notify::RecommendedWatcher,
    /// Paths of relevant events.
    events: mpsc::UnboundedReceiver<PathBuf>,
    /// The app root, as watched.
    root: PathBuf,
}

impl Watch {
    /// Starts watching `root` (recursively) for changes.
    pub(crate) fn start(root: &Path) -> notify::Result<Watch> {
        let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        let (tx, events) = mpsc::unbounded_channel();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                let Ok(event) = event else { return };
                if matches!(event.kind, EventKind::Access(_) | EventKind::Other) {
                    return;
                }
                for path in event.paths {
                    let _ = tx.send(path);
                }
            })?;
        watcher.watch(&root, RecursiveMode::Recursive)?;
        Ok(Watch {
            _watcher: watcher,
            events,
            root,
        })
    }

    /// Reloads the app of `opts` into `rt` after each burst of changes; returns only if
    /// the watch itself ends.
    pub(crate) async fn run(mut self, rt: Arc<Runtime>, opts: LoadOptions) {
        eprintln!(
            "watching {} for changes",
            diag::one_line(&self.root.display().to_string())
        );
        while let Some(config_changed) = self.next_burst().await {
            if config_changed {
                eprintln!(
                    "watch: .wippy.yaml changed: the runtime's config is read at start; restart weft to apply it"
                );
            }
            reload(&rt, &opts).await;
        }
    }

    /// Waits for a relevant change, then for [`QUIET`]; `Some(true)` when the runtime
    /// config was among the changes, `None` when the watch ended.
    async fn next_burst(&mut self) -> Option<bool> {
        let mut config = false;
        loop {
            let path = self.events.recv().await?;
            if let Some(is_config) = self.relevant(&path) {
                config |= is_config;
                break;
            }
        }
        loop {
            match tokio::time::timeout(QUIET, self.events.recv()).await {
                Ok(Some(path)) => config |= self.relevant(&path).unwrap_or(false),
                Ok(None) => return None,
                Err(_) => return Some(config),
            }
        }
    }

    /// `Some(is_config)` for a path a reload should follow: inside the root, with no
    /// hidden component except the root config itself.
    fn relevant(&self, path: &Path) -> Option<bool> {
        let rel = path.strip_prefix(&self.root).ok()?;
        if rel == Path::new(".wippy.yaml") {
            return Some(true);
        }
        let hidden = rel
            .components()
            .any(|c| c.as_os_str().to_str().is_none_or(|s| s.starts_with('.')));
        (!hidden).then_some(false)
    }
}

/// Loads the app again and applies what changed, printing the outcome.
async fn reload(rt: &Runtime, opts: &LoadOptions) {
    let app = match load_app(opts) {
        Ok(app) => app,
        Err(errors) => {
            diag::rejected(
                "the app failed to load",
                rt.registry.current_version(),
                &errors,
            );
            return;
        }
    };
    let changes = ChangeSet::between(&rt.registry.snapshot(), app.entries);
    if changes.is_empty() {
        return;
    }
    match rt.registry.apply(changes, "watch").await {
        Ok(version) => {
            for warning in &version.warnings {
                tracing::warn!("{warning}");
            }
            eprintln!(
                "watch: version {}: {}",
                version.number,
                diag::one_line(&version.summary())
            );
        }
        Err(errors) => diag::rejected(
            "the changes were not applied",
            rt.registry.current_version(),
            &errors,
        ),
    }
}

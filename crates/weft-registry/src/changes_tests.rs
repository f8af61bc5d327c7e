//! Change sets against a recording handler: what is published, what is undone.

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::Mutex;
use weft_core::{BoxFuture, EntryId, Error, Value};

use super::*;
use crate::handler::{BootMode, KindHandler, Staged, Undo};
use crate::testutil::TestApp;
use crate::{BootOptions, boot};

/// A handler whose "published" state is a map id → `data.v`:
/// - `t.ok`: deferred (NotFound) while `data.after` names an id not published yet, then
///   staged unless `data.bad` is true (Invalid);
/// - every stage is counted per id, so rebuilds can be seen;
/// - commit fails (on that entry) while a published entry has `v: "commit-fails"`.
#[derive(Default)]
struct Recorder {
    published: Arc<Mutex<BTreeMap<String, String>>>,
    staged: Arc<Mutex<Vec<String>>>,
}

impl KindHandler for Recorder {
    fn kinds(&self) -> &[&'static str] {
        &["t.ok"]
    }

    fn stage(&self, entry: Arc<Entry>, _mode: BootMode) -> BoxFuture<Result<Staged, Error>> {
        self.staged.lock().push(entry.id.to_string());
        let published = self.published.clone();
        let field = |name: &str| entry.data.get(name).cloned();
        let result = if let Some(after) =
            field("after").and_then(|v| v.as_str().map(str::to_string))
            && !published.lock().contains_key(&after)
        {
            Err(Error::not_found(format!("waiting for {after}")))
        } else if field("bad") == Some(Value::Bool(true)) {
            Err(Error::invalid("bad entry").in_field("bad"))
        } else {
            let id = entry.id.to_string();
            let v = field("v").map_or_else(String::new, |v| v.to_display_string());
            Ok(Staged::new(move || {
                let old = published.lock().insert(id.clone(), v);
                Undo::new(move || {
                    match old {
                        Some(old) => published.lock().insert(id, old),
                        None => published.lock().remove(&id),
                    };
                })
            }))
        };
        Box::pin(async move { result })
    }

    fn stage_remove(&self, entry: Arc<Entry>) -> Result<Staged, Error> {
        let published = self.published.clone();
        Ok(Staged::new(move || {
            let id = entry.id.to_string();
            let old = published.lock().remove(&id);
            Undo::new(move || {
                if let Some(old) = old {
                    published.lock().insert(id, old);
                }
            })
        }))
    }

    fn commit(&self, _mode: BootMode) -> Vec<(EntryId, Error)> {
        self.published
            .lock()
            .iter()
            .filter(|(_, v)| v.as_str() == "commit-fails")
            .map(|(id, _)| {
                (
                    EntryId::parse(id).unwrap(),
                    Error::invalid("route conflict"),
                )
            })
            .collect()
    }
}

/// A booted registry over `yaml` entries (namespace `app`) and its recorder's state.
async fn booted(
    yaml: &str,
) -> (
    Registry,
    Arc<Mutex<BTreeMap<String, String>>>,
    Arc<Mutex<Vec<String>>>,
) {
    let t = TestApp::new();
    t.file(
        "src/_index.yaml",
        &format!("namespace: app\nentries:\n{yaml}"),
    );
    let app = t.load_ok();
    let registry = Registry::new();
    let recorder = Recorder::default();
    let (published, staged) = (recorder.published.clone(), recorder.staged.clone());
    let handlers: Vec<Arc<dyn KindHandler>> = vec![Arc::new(recorder)];
    boot(&app, &registry, &handlers, &BootOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    staged.lock().clear();
    (registry, published, staged)
}

/// An entry `app:<name>` of kind `t.ok` with `data` (JSON).
fn entry(name: &str, data: &str) -> Entry {
    let mut e = Entry::new(EntryId::new("app", name), "t.ok");
    e.data = serde_json::from_str(data).unwrap();
    e
}

fn state(published: &Mutex<BTreeMap<String, String>>) -> Vec<String> {
    published
        .lock()
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect()
}

fn problems(e: &LoadErrors) -> Vec<String> {
    e.iter().map(|e| e.to_string()).collect()
}

const APP: &str = "  - {name: a, kind: t.ok, v: 1}\n  - {name: b, kind: t.ok, v: 1}\n";

#[tokio::test]
async fn a_change_set_is_published_whole_as_a_new_version() {
    let (registry, published, _) = booted(APP).await;
    assert_eq!(registry.current_version(), 1);
    let mut set = ChangeSet::new();
    set.create(entry("c", r#"{"v": 1}"#));
    set.update(entry("a", r#"{"v": 2}"#));
    set.delete(EntryId::new("app", "b"));
    let v = registry
        .apply(set, "test")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v.number, 2);
    assert_eq!(v.summary(), "created app:c; updated app:a; deleted app:b");
    assert_eq!(registry.current_version(), 2);
    assert_eq!(state(&published), ["app:a=2", "app:c=1"]);
    assert!(registry.get("app:b").is_none());
    assert_eq!(
        registry.get("app:a").unwrap().data.get("v"),
        Some(&Value::Int(2))
    );
    assert_eq!(registry.versions().await, [1, 2]);
    let history = registry.history().await;
    assert_eq!(history[0].origin, "boot");
    assert_eq!(history[1].origin, "test");
    // The snapshot of version 1 still shows what was there.
    assert!(history[0].entries.contains_key("app:b"));
}

#[tokio::test]
async fn one_bad_entry_applies_nothing_and_every_problem_is_named() {
    let (registry, published, _) = booted(APP).await;
    let before = state(&published);
    let mut set = ChangeSet::new();
    set.update(entry("a", r#"{"v": 2}"#));
    set.create(entry("x", r#"{"bad": true}"#));
    set.create(entry("y", r#"{"bad": true}"#));
    set.create(Entry::new(EntryId::new("app", "z"), "no.such.kind"));
    let err = registry.apply(set, "test").await.unwrap_err();
    let lines = problems(&err);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("entry app:z (no.such.kind): no handler for kind no.such.kind")),
        "{lines:?}"
    );
    assert_eq!(
        err.len(),
        1,
        "an unknown kind is found before staging: {lines:?}"
    );
    let mut set = ChangeSet::new();
    set.update(entry("a", r#"{"v": 2}"#));
    set.create(entry("x", r#"{"bad": true}"#));
    set.create(entry("y", r#"{"bad": true}"#));
    let err = registry.apply(set, "test").await.unwrap_err();
    let lines = problems(&err);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].contains("entry app:x (t.ok): field bad: bad entry"),
        "{lines:?}"
    );
    assert!(lines[1].contains("entry app:y"), "{lines:?}");
    assert_eq!(state(&published), before);
    assert_eq!(registry.current_version(), 1);
    assert_eq!(
        registry.get("app:a").unwrap().data.get("v"),
        Some(&Value::Int(1))
    );
    assert!(registry.get("app:x").is_none());
}

#[tokio::test]
async fn ids_must_exist_for_updates_and_deletes_and_not_for_creates() {
    let (registry, _, _) = booted(APP).await;
    let mut set = ChangeSet::new();
    set.create(entry("a", "{}"));
    set.update(entry("nope", "{}"));
    set.delete(EntryId::new("app", "gone"));
    let lines = problems(&registry.apply(set, "test").await.unwrap_err());
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        lines[0].ends_with("entry app:a already exists"),
        "{lines:?}"
    );
    assert!(
        lines[1].ends_with("no entry app:nope to update"),
        "{lines:?}"
    );
    assert!(
        lines[2].ends_with("no entry app:gone to delete"),
        "{lines:?}"
    );
}

#[tokio::test]
async fn deleting_an_entry_others_depend_on_names_the_dependents() {
    let app = "  - {name: lib, kind: t.ok}\n  - {name: f, kind: t.ok, imports: {l: lib}}\n  - {name: g, kind: t.ok, imports: {l: 'app:lib'}}\n";
    let (registry, published, _) = booted(app).await;
    let mut set = ChangeSet::new();
    set.delete(EntryId::new("app", "lib"));
    let lines = problems(&registry.apply(set, "test").await.unwrap_err());
    assert_eq!(lines.len(), 1);
    assert!(
        lines[0].ends_with("cannot delete app:lib: app:f, app:g still depend on it"),
        "{lines:?}"
    );
    assert!(published.lock().contains_key("app:lib"));
    // Deleting the dependents in the same set is fine.
    let mut set = ChangeSet::new();
    for name in ["lib", "f", "g"] {
        set.delete(EntryId::new("app", name));
    }
    registry
        .apply(set, "test")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(published.lock().is_empty());
}

#[tokio::test]
async fn dependents_of_an_updated_entry_are_rebuilt_after_it() {
    let app = "  - {name: lib, kind: t.ok, v: 1}\n  - {name: f, kind: t.ok, imports: {l: lib}}\n  - {name: h, kind: t.ok, imports: {f: f}}\n  - {name: other, kind: t.ok}\n";
    let (registry, _, staged) = booted(app).await;
    let mut set = ChangeSet::new();
    set.update(entry("lib", r#"{"v": 2}"#));
    let v = registry
        .apply(set, "test")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v.summary(), "updated app:lib; rebuilt app:f, app:h");
    // The library first (alone in the first stage), then its importers in order.
    assert_eq!(*staged.lock(), ["app:lib", "app:f", "app:h"]);
}

#[tokio::test]
async fn a_failing_dependent_undoes_what_was_published_before_it() {
    let (registry, published, _) = booted(APP).await;
    let before = state(&published);
    let mut set = ChangeSet::new();
    set.update(entry("a", r#"{"v": 2}"#));
    // Waits for `c` of the same set: staged after the first publish, and fails then.
    set.create(entry("c", r#"{"v": 1}"#));
    set.create(entry("d", r#"{"bad": true, "after": "app:c"}"#));
    let mut declared = entry("e", r#"{"bad": true}"#);
    declared
        .meta
        .insert("depends_on".into(), Value::from("app:c"));
    let err = registry.apply(set.clone(), "test").await.unwrap_err();
    assert!(problems(&err)[0].contains("entry app:d"), "{err}");
    assert_eq!(state(&published), before);
    assert!(registry.get("app:c").is_none());
    assert_eq!(
        registry.get("app:a").unwrap().data.get("v"),
        Some(&Value::Int(1))
    );
    assert_eq!(registry.current_version(), 1);
}

#[tokio::test]
async fn a_deferred_entry_waits_for_one_published_in_the_same_set() {
    let (registry, published, _) = booted(APP).await;
    let mut set = ChangeSet::new();
    // No declared dependency: the handler defers it until `late` is published.
    set.create(entry("early", r#"{"after": "app:late", "v": 1}"#));
    set.create(entry("late", r#"{"v": 1}"#));
    registry
        .apply(set, "test")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(published.lock().contains_key("app:early"));
    let mut set = ChangeSet::new();
    set.create(entry("never", r#"{"after": "app:ghost"}"#));
    let err = registry.apply(set, "test").await.unwrap_err();
    assert!(
        problems(&err)[0].contains("unresolved dependency: waiting for app:ghost"),
        "{err}"
    );
    assert!(!published.lock().contains_key("app:never"));
}

#[tokio::test]
async fn a_failing_commit_undoes_the_set_and_commits_the_old_state_again() {
    let (registry, published, _) = booted(APP).await;
    let before = state(&published);
    let mut set = ChangeSet::new();
    set.update(entry("a", r#"{"v": "commit-fails"}"#));
    let err = registry.apply(set, "test").await.unwrap_err();
    let lines = problems(&err);
    assert_eq!(
        lines.len(),
        1,
        "the second commit, on the old state, passes: {lines:?}"
    );
    assert!(
        lines[0].contains("entry app:a (t.ok): route conflict"),
        "{lines:?}"
    );
    assert_eq!(state(&published), before);
    assert_eq!(registry.current_version(), 1);
}

#[tokio::test]
async fn apply_version_brings_back_an_earlier_version_as_a_new_one() {
    let (registry, published, _) = booted(APP).await;
    let mut set = ChangeSet::new();
    set.update(entry("a", r#"{"v": 2}"#));
    set.delete(EntryId::new("app", "b"));
    set.create(entry("c", "{}"));
    registry.apply(set, "test").await.unwrap();
    let v = registry
        .apply_version(1)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v.number, 3);
    assert_eq!(v.origin, "apply_version 1");
    assert_eq!(state(&published), ["app:a=1", "app:b=1"]);
    assert_eq!(v.summary(), "created app:b; updated app:a; deleted app:c");
    let err = registry.apply_version(9).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "version 9 is not in the history (it keeps versions 1 to 3)"
    );
}

#[tokio::test]
async fn between_finds_what_a_reload_changed() {
    let (registry, _, _) = booted(APP).await;
    let mut moved = entry("a", r#"{"v": 1}"#);
    moved.source.line = Some(40);
    let wanted = vec![moved, entry("b", r#"{"v": 5}"#), entry("n", "{}")];
    let set = ChangeSet::between(&registry.snapshot(), wanted);
    let kinds: Vec<String> = set
        .changes()
        .iter()
        .map(|c| match c {
            Change::Create(e) => format!("create {}", e.id),
            Change::Update(e) => format!("update {}", e.id),
            Change::Delete(id) => format!("delete {id}"),
        })
        .collect();
    assert_eq!(kinds, ["update app:b", "create app:n"]);
    let set = ChangeSet::between(&registry.snapshot(), vec![entry("a", r#"{"v": 1}"#)]);
    assert!(matches!(set.changes(), [Change::Delete(id)] if id.as_str() == "app:b"));
    // Nothing changed: the same version comes back.
    let same = ChangeSet::between(
        &registry.snapshot(),
        vec![entry("a", r#"{"v":1}"#), entry("b", r#"{"v":1}"#)],
    );
    assert!(same.is_empty());
    assert_eq!(registry.apply(same, "test").await.unwrap().number, 1);
}

#[tokio::test]
async fn a_registry_never_booted_takes_no_changes() {
    let err = Registry::new()
        .apply(ChangeSet::new(), "test")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("the app was not booted"), "{err}");
}

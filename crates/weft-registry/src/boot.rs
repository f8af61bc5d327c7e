//! [`boot`]: applies a loaded app's entries through the kind handlers, in order, with
//! deferral of entries whose dependencies are not there yet (reference §1.7).

use std::collections::HashMap;
use std::sync::Arc;

use weft_core::{EntryId, Error, ErrorKind};

use crate::entry::{Entry, EntryError};
use crate::error::{LoadError, LoadErrors, UnknownKind};
use crate::handler::{BootMode, KindHandler};
use crate::load::App;
use crate::registry::Registry;

/// Kinds that need no handler: they are inserted into the registry as data.
pub const INTERNAL_KINDS: [&str; 4] = [
    "registry.entry",
    "ns.definition",
    "ns.requirement",
    "ns.dependency",
];

/// The context prefix [`EntryError`]s carry as `weft_core::Error`s: `field <path>`.
use weft_core::FIELD_PREFIX as FIELD_CONTEXT;

/// How to boot.
#[derive(Clone, Debug, Default)]
pub struct BootOptions {
    /// Skip entries of kinds no handler accepts (with a warning) instead of failing.
    pub skip_unknown_kinds: bool,
    /// Run or check; handed to every [`KindHandler::apply`].
    pub mode: BootMode,
}

/// What a successful boot did.
#[derive(Clone, Debug, Default)]
pub struct BootReport {
    /// Entries inserted into the registry.
    pub applied: usize,
    /// Entries skipped because no handler accepts their kind.
    pub skipped_unknown: Vec<EntryId>,
    /// Problems that did not stop the boot.
    pub warnings: Vec<String>,
}

/// Where an entry goes: through a handler, or into the registry as data.
pub(crate) enum Target {
    /// Inserted as data.
    Internal,
    /// Applied through this handler.
    Handler(Arc<dyn KindHandler>),
    /// No handler accepts the kind.
    Unknown,
}

impl Target {
    /// The target of `entry`'s kind.
    pub(crate) fn of(
        entry: &Entry,
        by_kind: &HashMap<&'static str, &Arc<dyn KindHandler>>,
    ) -> Target {
        if INTERNAL_KINDS.contains(&entry.kind.as_str()) {
            Target::Internal
        } else if let Some(h) = by_kind.get(entry.kind.as_str()) {
            Target::Handler(Arc::clone(h))
        } else {
            Target::Unknown
        }
    }
}

/// Applies entries in order through their handlers and inserts accepted ones into `registry`.
///
/// Unknown kinds fail the boot before anything is applied (unless skipped). Deferred
/// entries (NotFound) are retried in passes while progress is made; every rejection is
/// reported together at the end. Entries accepted before a failure stay in the registry.
pub async fn boot(
    app: &App,
    registry: &Registry,
    handlers: &[Arc<dyn KindHandler>],
    opts: &BootOptions,
) -> Result<BootReport, LoadErrors> {
    let mut report = BootReport::default();
    let by_kind = handler_map(handlers, &mut report.warnings);

    let mut unknown = Vec::new();
    let mut plan = Vec::with_capacity(app.entries.len());
    for entry in &app.entries {
        let target = Target::of(entry, &by_kind);
        if let Target::Unknown = target {
            unknown.push(UnknownKind {
                id: entry.id.clone(),
                kind: entry.kind.clone(),
                source: entry.source.clone(),
            });
            continue;
        }
        plan.push((Arc::new(entry.clone()), target));
    }
    if !unknown.is_empty() {
        if !opts.skip_unknown_kinds {
            return Err(LoadError::UnknownKinds { entries: unknown }.into());
        }
        for u in unknown {
            report.warnings.push(format!(
                "{}: skipping entry {}: no handler for kind {}",
                u.source, u.id, u.kind
            ));
            report.skipped_unknown.push(u.id);
        }
    }

    let mut errors = Vec::new();
    let mut deferred = Vec::new();
    for (entry, target) in plan {
        match apply(&entry, &target, opts.mode).await {
            Ok(()) => accept(registry, entry, &mut report),
            Err(e) if e.kind() == ErrorKind::NotFound => deferred.push((entry, target, e)),
            Err(e) => errors.push(entry_error(&entry, e).into()),
        }
    }

    while !deferred.is_empty() {
        let before = deferred.len();
        let mut still = Vec::new();
        for (entry, target, _) in deferred {
            match apply(&entry, &target, opts.mode).await {
                Ok(()) => accept(registry, entry, &mut report),
                Err(e) if e.kind() == ErrorKind::NotFound => still.push((entry, target, e)),
                Err(e) => errors.push(entry_error(&entry, e).into()),
            }
        }
        deferred = still;
        if deferred.len() == before {
            break;
        }
    }
    for (entry, _, e) in deferred {
        let e = entry_error(&entry, e);
        let error = e.error.clone().context("unresolved dependency");
        errors.push(LoadError::Unresolved(Box::new(EntryError { error, ..e })));
    }

    if errors.is_empty() {
        for handler in handlers {
            for (id, error) in handler.commit(opts.mode) {
                let entry = registry
                    .get(id.as_str())
                    .unwrap_or_else(|| Arc::new(Entry::new(id, "")));
                errors.push(entry_error(&entry, error).into());
            }
        }
    }
    if errors.is_empty() {
        registry
            .attach(handlers.to_vec(), opts.mode, opts.skip_unknown_kinds)
            .await;
        Ok(report)
    } else {
        Err(LoadErrors(errors))
    }
}

/// Kind → handler; a kind claimed twice keeps the first handler (with a warning).
pub(crate) fn handler_map<'h>(
    handlers: &'h [Arc<dyn KindHandler>],
    warnings: &mut Vec<String>,
) -> HashMap<&'static str, &'h Arc<dyn KindHandler>> {
    let mut map: HashMap<&'static str, &Arc<dyn KindHandler>> = HashMap::new();
    for h in handlers {
        for &kind in h.kinds() {
            if map.contains_key(kind) {
                warnings.push(format!(
                    "kind {kind} has more than one handler; the first one is used"
                ));
            } else {
                map.insert(kind, h);
            }
        }
    }
    map
}

/// Applies the entry through its handler (internal kinds always succeed).
async fn apply(entry: &Arc<Entry>, target: &Target, mode: BootMode) -> Result<(), Error> {
    match target {
        Target::Internal | Target::Unknown => Ok(()),
        Target::Handler(h) => h.apply(Arc::clone(entry), mode).await,
    }
}

/// Inserts an accepted entry.
fn accept(registry: &Registry, entry: Arc<Entry>, report: &mut BootReport) {
    registry.insert_arc(entry);
    report.applied += 1;
}

/// An [`EntryError`] for a handler's error; a leading `field <path>` context (from
/// `Error::from(EntryError)`) becomes the field.
pub(crate) fn entry_error(entry: &Entry, error: Error) -> EntryError {
    let field = error
        .context_chain()
        .first()
        .and_then(|c| c.strip_prefix(FIELD_CONTEXT))
        .map(str::to_string);
    let Some(field) = field else {
        return entry.error(None, error);
    };
    let mut stripped = Error::new(error.kind(), error.message())
        .with_retryable(error.retryable())
        .with_details(error.details().cloned());
    if let Some(stack) = error.stack() {
        stripped = stripped.with_stack(stack);
    }
    for ctx in error.context_chain().iter().skip(1).rev() {
        stripped = stripped.context(ctx.clone());
    }
    entry.error(Some(field), stripped)
}

impl From<EntryError> for Error {
    /// The inner error with a `field <path>` context when the field is known; [`boot`]
    /// turns that context back into the field of its own [`EntryError`].
    fn from(e: EntryError) -> Error {
        match e.field {
            Some(field) => e.error.context(format!("{FIELD_CONTEXT}{field}")),
            None => e.error,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use parking_lot::Mutex;
    use serde::Deserialize;
    use weft_core::BoxFuture;

    use super::*;
    use crate::handler::Staged;
    use crate::testutil::TestApp;

    /// A handler for test kinds:
    /// - `t.ok`: accepted;
    /// - `t.wait`: deferred (NotFound) until the entry named in `data.after` was applied;
    /// - `t.bad`: rejected (Invalid);
    /// - `t.cfg`: decodes `{pool: {size: u32}}`, rejecting with the field path.
    ///
    /// It records the boot mode of every call.
    #[derive(Default)]
    struct TestHandler {
        applied: Arc<Mutex<Vec<String>>>,
        calls: Arc<Mutex<usize>>,
        modes: Arc<Mutex<Vec<BootMode>>>,
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Cfg {
        pool: Pool,
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Pool {
        size: u32,
    }

    impl KindHandler for TestHandler {
        fn kinds(&self) -> &[&'static str] {
            &["t.ok", "t.wait", "t.bad", "t.cfg"]
        }

        fn stage_remove(&self, _entry: Arc<Entry>) -> Result<Staged, Error> {
            Ok(Staged::validated())
        }

        fn stage(&self, entry: Arc<Entry>, mode: BootMode) -> BoxFuture<Result<Staged, Error>> {
            let applied = Arc::clone(&self.applied);
            *self.calls.lock() += 1;
            self.modes.lock().push(mode);
            Box::pin(async move {
                let result = match entry.kind.as_str() {
                    "t.wait" => {
                        let after = entry.data.get("after").and_then(|v| v.as_str());
                        let after = after.unwrap_or_default().to_string();
                        if applied.lock().contains(&after) {
                            Ok(())
                        } else {
                            Err(Error::not_found(format!("waiting for {after}")))
                        }
                    }
                    "t.bad" => Err(Error::invalid("bad entry")),
                    "t.cfg" => entry.decode::<Cfg>().map(|_| ()).map_err(Error::from),
                    _ => Ok(()),
                };
                if result.is_ok() {
                    applied.lock().push(entry.id.to_string());
                }
                result.map(|()| Staged::validated())
            })
        }
    }

    fn handlers(h: TestHandler) -> Vec<Arc<dyn KindHandler>> {
        vec![Arc::new(h)]
    }

    async fn run(
        t: &TestApp,
        skip: bool,
        h: TestHandler,
    ) -> (Registry, Result<BootReport, LoadErrors>) {
        let app = t.load_ok();
        let registry = Registry::new();
        let opts = BootOptions {
            skip_unknown_kinds: skip,
            ..BootOptions::default()
        };
        let result = boot(&app, &registry, &handlers(h), &opts).await;
        (registry, result)
    }

    fn lines(e: &LoadErrors) -> Vec<String> {
        e.iter().map(|e| e.to_string()).collect()
    }

    #[tokio::test]
    async fn applies_in_order_with_deferral() {
        let t = TestApp::new();
        // `w` sorts before `z` and has no declared dependency on it, so the handler
        // defers it until `z` is applied.
        t.file(
            "src/_index.yaml",
            "namespace: app\nentries:\n  - {name: w, kind: t.wait, after: \"app:z\"}\n  - {name: z, kind: t.ok}\n  - {name: reg, kind: registry.entry, data: {x: 1}}\n  - {name: a, kind: t.ok}\n",
        );
        let h = TestHandler::default();
        let applied = Arc::clone(&h.applied);
        let (registry, result) = run(&t, false, h).await;
        let report = result.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(report.applied, 4);
        assert_eq!(*applied.lock(), ["app:a", "app:z", "app:w"]);
        assert_eq!(registry.len(), 4);
        assert!(registry.get("app:reg").is_some());
        let order: Vec<String> = registry.all().iter().map(|e| e.id.to_string()).collect();
        assert_eq!(order, ["app:a", "app:reg", "app:z", "app:w"]);
    }

    #[tokio::test]
    async fn deferral_chains_resolve_over_several_passes() {
        let t = TestApp::new();
        t.file(
            "src/_index.yaml",
            "namespace: app\nentries:\n  - {name: a, kind: t.wait, after: \"app:b\"}\n  - {name: b, kind: t.wait, after: \"app:c\"}\n  - {name: c, kind: t.wait, after: \"app:d\"}\n  - {name: d, kind: t.ok}\n",
        );
        let h = TestHandler::default();
        let applied = Arc::clone(&h.applied);
        let (_, result) = run(&t, false, h).await;
        assert_eq!(result.map(|r| r.applied).ok(), Some(4));
        assert_eq!(*applied.lock(), ["app:d", "app:c", "app:b", "app:a"]);
    }

    #[tokio::test]
    async fn unresolved_and_rejected_entries_are_reported_together() {
        let t = TestApp::new();
        t.file(
            "src/_index.yaml",
            "namespace: app\nentries:\n  - name: never\n    kind: t.wait\n    after: \"app:ghost\"\n  - name: bad1\n    kind: t.bad\n  - name: good\n    kind: t.ok\n  - name: bad2\n    kind: t.bad\n  - name: cfg\n    kind: t.cfg\n    pool: {size: lots}\n",
        );
        let (registry, result) = run(&t, false, TestHandler::default()).await;
        let errors = lines(&result.expect_err("boot should fail"));
        assert_eq!(
            errors,
            [
                "src/_index.yaml:6: entry app:bad1 (t.bad): bad entry",
                "src/_index.yaml:10: entry app:bad2 (t.bad): bad entry",
                "src/_index.yaml:12: entry app:cfg (t.cfg): field pool.size: invalid type: string \"lots\", expected u32",
                "src/_index.yaml:3: entry app:never (t.wait): unresolved dependency: waiting for app:ghost",
            ]
        );
        assert!(registry.get("app:good").is_some());
    }

    #[tokio::test]
    async fn unknown_kinds_fail_before_anything_is_applied() {
        let t = TestApp::new();
        t.file(
            "src/_index.yaml",
            "namespace: app\nentries:\n  - {name: a, kind: t.ok}\n  - {name: x, kind: queue.queue}\n  - {name: y, kind: exec.native}\n",
        );
        let h = TestHandler::default();
        let calls = Arc::clone(&h.calls);
        let (registry, result) = run(&t, false, h).await;
        let err = result.expect_err("unknown kinds must fail");
        assert_eq!(err.len(), 1);
        let text = err.to_string();
        assert!(text.contains("exec.native, queue.queue"), "{text}");
        assert!(text.contains("--skip-unknown-kinds"), "{text}");
        assert!(
            text.contains("src/_index.yaml:4: entry app:x (queue.queue)"),
            "{text}"
        );
        assert!(
            text.contains("src/_index.yaml:5: entry app:y (exec.native)"),
            "{text}"
        );
        assert_eq!(*calls.lock(), 0);
        assert!(registry.is_empty());
    }

    #[tokio::test]
    async fn unknown_kinds_can_be_skipped() {
        let t = TestApp::new();
        t.file(
            "src/_index.yaml",
            "namespace: app\nentries:\n  - {name: a, kind: t.ok}\n  - {name: x, kind: queue.queue}\n",
        );
        let (registry, result) = run(&t, true, TestHandler::default()).await;
        let report = result.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(report.applied, 1);
        assert_eq!(report.skipped_unknown.len(), 1);
        assert_eq!(report.skipped_unknown[0].as_str(), "app:x");
        assert_eq!(report.warnings.len(), 1);
        assert!(report.warnings[0].contains("no handler for kind queue.queue"));
        assert!(registry.get("app:x").is_none());
    }

    #[tokio::test]
    async fn a_kind_claimed_twice_keeps_the_first_handler() {
        let t = TestApp::new();
        t.file("src/_index.yaml", "namespace: app\nname: a\nkind: t.ok\n");
        let app = t.load_ok();
        let first = TestHandler::default();
        let first_calls = Arc::clone(&first.calls);
        let hs: Vec<Arc<dyn KindHandler>> = vec![Arc::new(first), Arc::new(TestHandler::default())];
        let report = boot(&app, &Registry::new(), &hs, &BootOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(*first_calls.lock(), 1);
        let claimed: HashSet<&String> = report.warnings.iter().collect();
        assert_eq!(claimed.len(), 4);
    }

    #[tokio::test]
    async fn every_handler_call_gets_the_boot_mode() {
        let t = TestApp::new();
        t.file(
            "src/_index.yaml",
            "namespace: app\nentries:\n  - {name: w, kind: t.wait, after: \"app:z\"}\n  - {name: z, kind: t.ok}\n",
        );
        let app = t.load_ok();
        for mode in [BootMode::Run, BootMode::Check] {
            let h = TestHandler::default();
            let modes = Arc::clone(&h.modes);
            let opts = BootOptions {
                mode,
                ..BootOptions::default()
            };
            boot(&app, &Registry::new(), &handlers(h), &opts)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            // w (deferred), z, then w again.
            assert_eq!(*modes.lock(), [mode; 3]);
        }
        assert_eq!(BootOptions::default().mode, BootMode::Run);
    }
}

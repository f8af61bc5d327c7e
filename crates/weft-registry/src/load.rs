//! [`load_app`]: `.wippy.yaml`, `wippy.lock`, the definition-file walk, duplicates,
//! overrides and dependency order, with every problem collected into [`LoadErrors`].

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use weft_core::{EntryId, Value};

use crate::config::{self, Config};
use crate::definition::{self, FileContext};
use crate::entry::Entry;
use crate::error::{LoadError, LoadErrors};
use crate::{order, overrides, yaml};

/// The default config file name, at the app root.
const CONFIG_FILE: &str = ".wippy.yaml";

/// The lock file name, at the app root.
const LOCK_FILE: &str = "wippy.lock";

/// Directory names never walked (besides hidden ones).
const SKIPPED_DIRS: [&str; 1] = ["node_modules"];

/// What to load.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// The app root (the project directory).
    pub root: PathBuf,
    /// The config file (relative paths from the CWD); `None` means `.wippy.yaml` at the
    /// root, if present.
    pub config_file: Option<PathBuf>,
    /// CLI overrides, `ns:entry:path=value` (`-o`).
    pub overrides: Vec<String>,
}

/// A loaded app: config and entries in dependency order.
#[derive(Clone, Debug)]
pub struct App {
    /// The app root, absolute.
    pub root: PathBuf,
    /// The runtime config.
    pub config: Config,
    /// Every entry, in dependency order.
    pub entries: Vec<Entry>,
    /// Problems that did not stop the load (duplicates, dependency cycles).
    pub warnings: Vec<String>,
}

/// A directory entry definitions are loaded from.
#[derive(Clone, Debug)]
struct LoadPath {
    /// The directory, absolute and clean.
    dir: PathBuf,
    /// The directory other load paths must not walk into (a replacement's root).
    claimed: PathBuf,
    /// The module its entries belong to (`meta.module`), for lock replacements.
    module: Option<String>,
}

/// A definition file found by the walk.
struct FoundFile {
    /// The file, absolute.
    abs: PathBuf,
    /// The index of its load path.
    load_path: usize,
}

/// Loads the app at `opts.root`; every problem of the load is reported together.
pub fn load_app(opts: &LoadOptions) -> Result<App, LoadErrors> {
    let mut errors = Vec::new();
    let root = absolute_clean(&opts.root);
    if !root.is_dir() {
        return Err(LoadError::File {
            file: root,
            line: None,
            message: "app root is not a directory".into(),
        }
        .into());
    }

    let config_path = opts
        .config_file
        .as_ref()
        .map(|p| absolute_clean(p))
        .unwrap_or_else(|| root.join(CONFIG_FILE));
    let config = load_config(&root, &config_path, opts.config_file.is_some()).unwrap_or_else(|e| {
        errors.push(e);
        Config::default()
    });

    let load_paths = load_paths(&root, &mut errors);
    let files = walk_load_paths(&load_paths, &config_path);

    let mut entries: IndexMap<EntryId, Entry> = IndexMap::new();
    let mut first_files: IndexMap<EntryId, PathBuf> = IndexMap::new();
    let mut warnings = Vec::new();
    for found in &files {
        let Some(load_path) = load_paths.get(found.load_path) else {
            continue;
        };
        let loaded = load_one(&root, load_path, &found.abs);
        match loaded {
            Ok(file_entries) => {
                for entry in file_entries {
                    note_duplicate(&entry, &mut first_files, &mut warnings);
                    entries.insert(entry.id.clone(), entry);
                }
            }
            Err(mut errs) => errors.append(&mut errs),
        }
    }

    let override_list = overrides::collect(&config, &opts.overrides, &mut errors);
    errors.extend(overrides::apply(&mut entries, &override_list));

    if !errors.is_empty() {
        return Err(LoadErrors(errors));
    }
    let (entries, mut order_warnings) = order::dependency_order(entries.into_values().collect());
    warnings.append(&mut order_warnings);
    Ok(App {
        root,
        config,
        entries,
        warnings,
    })
}

/// Reads the config file; a missing default file is an empty config.
fn load_config(root: &Path, path: &Path, explicit: bool) -> Result<Config, LoadError> {
    if !explicit && !path.exists() {
        return Ok(Config::default());
    }
    config::read_config(path, &shown(root, path))
}

/// The load paths: the lock's `directories.src` (default: `./src` if it exists, else the
/// root) and each lock replacement.
fn load_paths(root: &Path, errors: &mut Vec<LoadError>) -> Vec<LoadPath> {
    let lock_path = root.join(LOCK_FILE);
    let default_src = || {
        let src = root.join("src");
        if src.is_dir() {
            src
        } else {
            root.to_path_buf()
        }
    };
    if !lock_path.is_file() {
        let dir = default_src();
        return vec![LoadPath {
            claimed: dir.clone(),
            dir,
            module: None,
        }];
    }
    let shown_lock = PathBuf::from(LOCK_FILE);
    let lock_error = |message: String| LoadError::Config {
        file: shown_lock.clone(),
        message,
    };
    let lock = match std::fs::read_to_string(&lock_path)
        .map_err(|e| lock_error(format!("cannot read lock file: {e}")))
        .and_then(|text| yaml::parse(&text, &shown_lock))
    {
        Ok(lock) => lock,
        Err(e) => {
            errors.push(e);
            return Vec::new();
        }
    };

    let mut paths = Vec::new();
    match lock.get_path("directories.src") {
        None | Some(Value::Nil) => paths.push(LoadPath {
            dir: root.to_path_buf(),
            claimed: root.to_path_buf(),
            module: None,
        }),
        Some(v) => match v.as_str() {
            Some(src) => {
                let dir = resolve_dir(root, src);
                if dir.is_dir() {
                    paths.push(LoadPath {
                        claimed: dir.clone(),
                        dir,
                        module: None,
                    });
                } else {
                    errors.push(lock_error(format!(
                        "directories.src: source directory {src} not found"
                    )));
                }
            }
            None => errors.push(lock_error(format!(
                "directories.src must be a string, found {}",
                v.type_name()
            ))),
        },
    }

    let replacements = match lock.get("replacements") {
        None | Some(Value::Nil) => &[][..],
        Some(v) => match v.as_array() {
            Some(items) => items,
            None => {
                errors.push(lock_error(format!(
                    "replacements must be a list, found {}",
                    v.type_name()
                )));
                &[][..]
            }
        },
    };
    for (i, item) in replacements.iter().enumerate() {
        let from = item.get("from").and_then(Value::as_str);
        let to = item.get("to").and_then(Value::as_str);
        let (Some(from), Some(to)) = (from, to) else {
            errors.push(lock_error(format!(
                "replacements[{i}]: expected {{from: <module>, to: <path>}}"
            )));
            continue;
        };
        let dir = resolve_dir(root, to);
        if !dir.is_dir() {
            errors.push(lock_error(format!(
                "replacements[{i}]: directory {to} for module {from} not found"
            )));
            continue;
        }
        let src = dir.join("src");
        paths.push(LoadPath {
            dir: if src.is_dir() { src } else { dir.clone() },
            claimed: dir,
            module: Some(from.to_string()),
        });
    }
    paths
}

/// Every definition file under every load path, in walk order. A load path nested in
/// another is walked only as itself.
fn walk_load_paths(paths: &[LoadPath], config_path: &Path) -> Vec<FoundFile> {
    let mut files = Vec::new();
    for (index, path) in paths.iter().enumerate() {
        let nested: Vec<&Path> = paths
            .iter()
            .enumerate()
            .filter(|(j, other)| *j != index && other.claimed != path.dir)
            .map(|(_, other)| other.claimed.as_path())
            .collect();
        let mut found = Vec::new();
        walk_dir(&path.dir, &nested, config_path, &mut found);
        files.extend(found.into_iter().map(|abs| FoundFile {
            abs,
            load_path: index,
        }));
    }
    files
}

/// Walks `dir` recursively in lexical order, collecting `.yaml`/`.yml`/`.json` files;
/// skips hidden names, `node_modules`, the `skip` directories and the config file.
fn walk_dir(dir: &Path, skip: &[&Path], config_path: &Path, out: &mut Vec<PathBuf>) {
    let Ok(read) = std::fs::read_dir(dir) else {
        return;
    };
    let mut children: Vec<_> = read.filter_map(Result::ok).collect();
    children.sort_by_key(|c| c.file_name());
    for child in children {
        let name = child.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') {
            continue;
        }
        let path = child.path();
        let Ok(file_type) = child.file_type() else {
            continue;
        };
        if file_type.is_dir() {
            if !SKIPPED_DIRS.contains(&name.as_ref()) && !skip.contains(&path.as_path()) {
                walk_dir(&path, skip, config_path, out);
            }
            continue;
        }
        let is_file = file_type.is_file() || (file_type.is_symlink() && path.is_file());
        if is_file && is_definition_name(&name) && path != config_path {
            out.push(path);
        }
    }
}

/// True for `.yaml`, `.yml` and `.json` file names.
fn is_definition_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".yaml") || lower.ends_with(".yml") || lower.ends_with(".json")
}

/// Reads and parses one definition file.
fn load_one(root: &Path, load_path: &LoadPath, abs: &Path) -> Result<Vec<Entry>, Vec<LoadError>> {
    let shown_path = shown(root, abs);
    let text = std::fs::read_to_string(abs).map_err(|e| {
        vec![LoadError::File {
            file: shown_path.clone(),
            line: None,
            message: format!("cannot read file: {e}"),
        }]
    })?;
    let cx = FileContext {
        abs,
        shown: &shown_path,
        load_root: &load_path.dir,
        app_root: root,
        module: load_path.module.as_deref(),
    };
    definition::load_file(&cx, &text)
}

/// Records the first file of each id and warns about later definitions.
fn note_duplicate(
    entry: &Entry,
    first: &mut IndexMap<EntryId, PathBuf>,
    warnings: &mut Vec<String>,
) {
    match first.get(&entry.id) {
        Some(first_file) => warnings.push(format!(
            "duplicate entry {} in {} (first in {}); the last definition wins",
            entry.id,
            entry.source.file.display(),
            first_file.display()
        )),
        None => {
            first.insert(entry.id.clone(), entry.source.file.clone());
        }
    }
}

/// A lock path resolved against the root (absolute paths kept), cleaned.
fn resolve_dir(root: &Path, path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        absolute_clean(p)
    } else {
        definition::join_clean(root, p).unwrap_or_else(|| root.join(p))
    }
}

/// An absolute, lexically clean path (relative paths are taken from the CWD).
fn absolute_clean(path: &Path) -> PathBuf {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for component in abs.components() {
        match component {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// A path as shown in messages: relative to the app root when inside it.
fn shown(root: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(root)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{TestApp, ids};

    fn entry<'a>(app: &'a App, id: &str) -> &'a Entry {
        app.entries
            .iter()
            .find(|e| e.id.as_str() == id)
            .unwrap_or_else(|| panic!("no entry {id} in {:?}", ids(app)))
    }

    fn has(errors: &[String], needle: &str) -> bool {
        errors.iter().any(|e| e.contains(needle))
    }

    #[test]
    fn batch_and_single_forms() {
        let t = TestApp::new();
        t.file(
            "src/_index.yaml",
            "version: \"1.0\"\nnamespace: app\nentries:\n  - name: a\n    kind: function.lua\n    method: run\n    pool: {size: 2}\n  - name: b\n    kind: registry.entry\n    data: {x: 1}\n    ignored: true\n",
        );
        t.file(
            "src/single.yaml",
            "namespace: app.one\nname: s\nkind: http.service\nmeta: {title: T}\nversion: \"1.0\"\nrequirements: []\naddr: \":8080\"\n",
        );
        let app = t.load_ok();
        assert_eq!(ids(&app), ["app.one:s", "app:a", "app:b"]);
        let a = entry(&app, "app:a");
        assert_eq!(a.kind, "function.lua");
        assert_eq!(a.data.get("method").and_then(|v| v.as_str()), Some("run"));
        assert_eq!(a.data.get_path("pool.size"), Some(&Value::Int(2)));
        assert!(a.data.get("name").is_none() && a.data.get("kind").is_none());
        assert_eq!(a.source.file, PathBuf::from("src/_index.yaml"));
        assert_eq!(a.source.line, Some(4));
        let b = entry(&app, "app:b");
        assert_eq!(b.data.as_map().map(|m| m.len()), Some(1));
        assert_eq!(b.data.get("x"), Some(&Value::Int(1)));
        assert_eq!(b.source.line, Some(8));
        let s = entry(&app, "app.one:s");
        assert_eq!(s.meta_str("title"), Some("T"));
        let keys: Vec<&String> = s
            .data
            .as_map()
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        assert_eq!(keys, ["addr"]);
        assert_eq!(s.source.line, Some(2));
    }

    #[test]
    fn file_meta_merges_under_entry_meta() {
        let t = TestApp::new();
        t.file(
            "src/_index.yaml",
            "namespace: app\nmeta: {suite: s1, type: test, nested: {a: 1}}\nentries:\n  - name: a\n    kind: function.lua\n    meta: {suite: s2, nested: {b: 2}}\n  - name: b\n    kind: function.lua\n",
        );
        let app = t.load_ok();
        let a = entry(&app, "app:a");
        assert_eq!(a.meta_str("suite"), Some("s2"));
        assert_eq!(a.meta_str("type"), Some("test"));
        assert_eq!(a.meta_value("nested.b"), Some(&Value::Int(2)));
        assert_eq!(a.meta_value("nested.a"), None, "merge is per top-level key");
        assert_eq!(entry(&app, "app:b").meta_str("suite"), Some("s1"));
    }

    #[test]
    fn file_urls_resolve_against_file_dir_and_load_root() {
        let t = TestApp::new();
        t.file("src/shared/lib.lua", "return 1");
        t.file("src/mod/code.lua", "return 2");
        t.file(
            "src/mod/_index.yaml",
            "namespace: app\nmeta: {doc: \"file://code.lua\"}\nentries:\n  - name: a\n    kind: function.lua\n    source: file://code.lua\n    other: file:///shared/lib.lua\n    up: file://../shared/lib.lua\n    list: [\"file://code.lua\", \"not file://code.lua\"]\n",
        );
        let app = t.load_ok();
        let a = entry(&app, "app:a");
        let s = |k: &str| a.data.get(k).and_then(|v| v.as_str());
        assert_eq!(s("source"), Some("return 2"));
        assert_eq!(s("other"), Some("return 1"));
        assert_eq!(s("up"), Some("return 1"));
        let list = a
            .data
            .get("list")
            .and_then(|v| v.as_array())
            .unwrap_or_default();
        assert_eq!(list[0].as_str(), Some("return 2"));
        assert_eq!(list[1].as_str(), Some("not file://code.lua"));
        assert_eq!(a.meta_str("doc"), Some("return 2"));
    }

    #[test]
    fn bad_file_urls_are_reported() {
        let t = TestApp::new();
        t.file("secret.txt", "no");
        t.file(
            "src/_index.yaml",
            "namespace: app\nentries:\n  - name: missing\n    kind: function.lua\n    source: file://nope.lua\n  - name: escape\n    kind: function.lua\n    source: file://../secret.txt\n  - name: escape_root\n    kind: function.lua\n    source: file:///../secret.txt\n  - name: empty\n    kind: function.lua\n    source: \"file://\"\n  - name: fine\n    kind: function.lua\n",
        );
        let errors = t.load_err();
        assert_eq!(errors.len(), 4, "{errors:#?}");
        assert!(
            has(
                &errors,
                "src/_index.yaml:3: entry app:missing (function.lua): field source: file not found: src/nope.lua"
            ),
            "{errors:#?}"
        );
        assert!(has(
            &errors,
            "entry app:escape (function.lua): field source: path traversal detected in file path: ../secret.txt"
        ));
        assert!(has(
            &errors,
            "entry app:escape_root (function.lua): field source: path traversal detected in file path: /../secret.txt"
        ));
        assert!(has(
            &errors,
            "entry app:empty (function.lua): field source: empty file path in file:// URL"
        ));
    }

    #[test]
    fn malformed_yaml_reports_file_line_and_column() {
        let t = TestApp::new();
        t.file(
            "src/bad.yaml",
            "namespace: app\nentries:\n  - name: a\n    kind: [unclosed\n",
        );
        let errors = t.load_err();
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert!(errors[0].starts_with("src/bad.yaml:5:"), "{errors:#?}");
        assert!(errors[0].contains("invalid YAML"), "{errors:#?}");
        let t = TestApp::new();
        t.file(
            "src/bad.json",
            "{\"namespace\": \"app\",\n \"entries\": [}\n",
        );
        let errors = t.load_err();
        assert!(errors[0].starts_with("src/bad.json:2:"), "{errors:#?}");
    }

    #[test]
    fn missing_namespace_name_and_kind() {
        let t = TestApp::new();
        t.file("src/a.yaml", "entries:\n  - name: a\n    kind: k\n");
        t.file("src/b.yaml", "name: a\nkind: k\n");
        t.file(
            "src/c.yaml",
            "namespace: app\nentries:\n  - kind: k\n  - name: y\n  - name: \"  \"\n    kind: k\n",
        );
        t.file("src/d.yaml", "namespace: app\nfoo: bar\n");
        t.file("src/e.yaml", "namespace: app\nentries: {a: 1}\n");
        t.file("src/f.yaml", "namespace: \" \"\nentries: []\n");
        let errors = t.load_err();
        assert_eq!(
            errors,
            [
                "src/a.yaml: missing namespace",
                "src/b.yaml: missing namespace",
                "src/c.yaml:3: entry #1: missing name",
                "src/c.yaml:4: entry app:y: missing kind",
                "src/c.yaml:5: entry #3: missing name",
                "src/d.yaml: either entries array or single entry (name/kind) must be provided",
                "src/e.yaml: entries must be a list, found map",
                "src/f.yaml: missing namespace",
            ]
        );
    }

    #[test]
    fn non_wippy_files_are_skipped_silently() {
        let t = TestApp::new();
        t.file("src/openapi.yaml", "openapi: 3.0.0\ninfo: {title: x}\n");
        t.file("src/package.json", "{\"name\": \"x\", \"version\": \"1\"}");
        t.file("src/blank.yaml", "namespace: \"   \"\nfoo: 1\n");
        t.file("src/empty.yaml", "");
        t.file("src/list.yaml", "- 1\n- 2\n");
        t.file(
            "src/node_modules/x/_index.yaml",
            "namespace: nm\nname: a\nkind: k\n",
        );
        t.file(
            "src/.hidden/_index.yaml",
            "namespace: hid\nname: a\nkind: k\n",
        );
        t.file("src/notes.txt", "namespace: txt\nname: a\nkind: k\n");
        t.file("src/ok.yml", "namespace: app\nname: a\nkind: k\n");
        let app = t.load_ok();
        assert_eq!(ids(&app), ["app:a"]);
    }

    #[test]
    fn walk_is_lexical_and_last_duplicate_wins() {
        let t = TestApp::new();
        t.file(
            "src/b/_index.yaml",
            "namespace: app\nname: x\nkind: k\nfrom: b\n",
        );
        t.file("src/a.yaml", "namespace: app\nname: x\nkind: k\nfrom: a\n");
        t.file("src/c.yaml", "namespace: app\nname: x\nkind: k\nfrom: c\n");
        t.file(
            "src/b.yaml",
            "namespace: app\nname: x\nkind: k\nfrom: b.yaml\n",
        );
        let app = t.load_ok();
        assert_eq!(app.entries.len(), 1);
        assert_eq!(
            app.entries[0].data.get("from").and_then(|v| v.as_str()),
            Some("c")
        );
        // Go's lexical walk: "b" sorts before "b.yaml", so b/ is walked first.
        assert_eq!(
            app.warnings,
            [
                "duplicate entry app:x in src/b/_index.yaml (first in src/a.yaml); the last definition wins",
                "duplicate entry app:x in src/b.yaml (first in src/a.yaml); the last definition wins",
                "duplicate entry app:x in src/c.yaml (first in src/a.yaml); the last definition wins",
            ]
        );
    }

    #[test]
    fn config_errors_are_reported_with_file_errors() {
        let t = TestApp::new();
        t.file(".wippy.yaml", "version: \"2\"\n");
        t.file("src/a.yaml", "namespace: app\nentries:\n  - name: a\n");
        let errors = t.load_err();
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert!(has(&errors, ".wippy.yaml: unsupported config version: 2"));
        assert!(has(&errors, "src/a.yaml:3: entry app:a: missing kind"));

        let t = TestApp::new();
        t.file(".wippy.yaml", "security: {strict_mode: true}\n");
        assert!(has(&t.load_err(), ".wippy.yaml: missing version field"));

        let t = TestApp::new();
        let mut opts = t.options();
        opts.config_file = Some(t.root().join("nope.yaml"));
        let errors = load_app(&opts).unwrap_err().to_string();
        assert!(errors.contains("cannot read config file"), "{errors}");
    }

    #[test]
    fn config_is_read_and_custom_config_file_is_not_an_entry_file() {
        let t = TestApp::new();
        t.file(
            "weft.yaml",
            "version: \"1.0\"\nsecurity: {strict_mode: true}\n",
        );
        t.file("app.yaml", "namespace: app\nname: a\nkind: k\n");
        let mut opts = t.options();
        opts.config_file = Some(t.root().join("weft.yaml"));
        let app = load_app(&opts).unwrap_or_else(|e| panic!("{e}"));
        assert!(app.config.bool_or("security.strict_mode", false));
        assert_eq!(ids(&app), ["app:a"]);
    }

    #[test]
    fn lock_sets_src_and_replacements_tag_module() {
        let t = TestApp::new();
        t.file(
            "wippy.lock",
            "directories: {modules: .wippy, src: ./app}\nreplacements:\n  - from: wippy/fixture\n    to: ./modules/fixture\n  - from: wippy/flat\n    to: ./flat\n",
        );
        t.file("app/_index.yaml", "namespace: app\nname: a\nkind: k\n");
        t.file(
            "src/_index.yaml",
            "namespace: not_loaded\nname: a\nkind: k\n",
        );
        t.file(
            "modules/fixture/src/_index.yaml",
            "namespace: fx\nname: f\nkind: k\n",
        );
        t.file(
            "modules/fixture/other.yaml",
            "namespace: fx_root\nname: f\nkind: k\n",
        );
        t.file(
            "flat/_index.yaml",
            "namespace: flat\nname: f\nkind: k\nmeta: {module: wrong}\n",
        );
        let app = t.load_ok();
        assert_eq!(ids(&app), ["app:a", "flat:f", "fx:f"]);
        assert_eq!(
            entry(&app, "fx:f").meta_str("module"),
            Some("wippy/fixture")
        );
        assert_eq!(entry(&app, "flat:f").meta_str("module"), Some("wippy/flat"));
        assert_eq!(entry(&app, "app:a").meta_str("module"), None);
        assert_eq!(
            entry(&app, "fx:f").source.file,
            PathBuf::from("modules/fixture/src/_index.yaml")
        );
    }

    #[test]
    fn lock_without_src_walks_the_root_but_not_replacements_twice() {
        let t = TestApp::new();
        t.file(
            "wippy.lock",
            "replacements:\n  - {from: m/x, to: ./mods/x}\n",
        );
        t.file("_index.yaml", "namespace: app\nname: a\nkind: k\n");
        t.file("mods/x/_index.yaml", "namespace: x\nname: b\nkind: k\n");
        let app = t.load_ok();
        assert_eq!(ids(&app), ["app:a", "x:b"]);
        assert!(app.warnings.is_empty(), "{:?}", app.warnings);
        assert_eq!(entry(&app, "x:b").meta_str("module"), Some("m/x"));
    }

    #[test]
    fn bad_lock_is_reported() {
        let t = TestApp::new();
        t.file(
            "wippy.lock",
            "directories: {src: ./nope}\nreplacements:\n  - {from: m/x}\n",
        );
        let errors = t.load_err();
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert!(has(
            &errors,
            "wippy.lock: directories.src: source directory ./nope not found"
        ));
        assert!(has(&errors, "wippy.lock: replacements[0]"));
    }

    #[test]
    fn without_lock_src_is_preferred_then_root() {
        let t = TestApp::new();
        t.file("root.yaml", "namespace: root\nname: a\nkind: k\n");
        assert_eq!(ids(&t.load_ok()), ["root:a"]);
        t.file("src/_index.yaml", "namespace: src\nname: a\nkind: k\n");
        assert_eq!(ids(&t.load_ok()), ["src:a"]);
    }

    #[test]
    fn overrides_from_config_and_cli() {
        let t = TestApp::new();
        t.file(
            ".wippy.yaml",
            "version: \"1.0\"\noverride:\n  \"app:a:pool.size\": \"4\"\n  \"app:a:kind\": function.wasm\n  \"app:a:meta.command.name\": go\n  \"app:a:ratio\": 0.5\n",
        );
        t.file(
            "src/_index.yaml",
            "namespace: app\nentries:\n  - name: a\n    kind: function.lua\n    pool: {size: 1}\n    flag: false\n",
        );
        let mut opts = t.options();
        opts.overrides = vec![
            "app:a:pool.size=8".into(),
            "app:a:flag=true".into(),
            "app:a:name_text=hello world".into(),
            "app:a:meta.order=2.5".into(),
        ];
        let app = load_app(&opts).unwrap_or_else(|e| panic!("{e}"));
        let a = entry(&app, "app:a");
        assert_eq!(a.kind, "function.wasm");
        assert_eq!(a.data.get_path("pool.size"), Some(&Value::Int(8)));
        assert_eq!(a.data.get("flag"), Some(&Value::Bool(true)));
        assert_eq!(a.data.get("ratio"), Some(&Value::Float(0.5)));
        assert_eq!(
            a.data.get("name_text").and_then(|v| v.as_str()),
            Some("hello world")
        );
        assert_eq!(a.meta_str("command.name"), Some("go"));
        assert_eq!(a.meta_value("order"), Some(&Value::Float(2.5)));
    }

    #[test]
    fn bad_overrides_are_errors() {
        let t = TestApp::new();
        t.file(
            "src/_index.yaml",
            "namespace: app\nname: a\nkind: k\ntext: s\n",
        );
        let mut opts = t.options();
        opts.overrides = vec![
            "app:nope:x=1".into(),
            "app:a:x".into(),
            "app:a=1".into(),
            "app:a:text.inner=1".into(),
        ];
        let errors: Vec<String> = match load_app(&opts) {
            Ok(_) => panic!("overrides should fail"),
            Err(e) => e.0.iter().map(|e| e.to_string()).collect(),
        };
        assert_eq!(
            errors,
            [
                "override app:a:x: expected ns:entry:path=value",
                "override app:a: expected ns:entry:path (all three parts non-empty)",
                "override app:nope:x: entry app:nope not found",
                "override app:a:text.inner: cannot set text.inner: text is a string, not a mapping",
            ]
        );
    }

    #[test]
    fn entries_come_in_dependency_order() {
        let t = TestApp::new();
        t.file(
            "src/_index.yaml",
            "namespace: app\nentries:\n  - name: endpoint\n    kind: http.endpoint\n    meta: {router: router}\n    func: handler\n  - name: router\n    kind: http.router\n    meta: {server: server}\n  - name: server\n    kind: http.service\n  - name: handler\n    kind: function.lua\n    imports: {lib: other:lib}\n",
        );
        t.file(
            "src/other.yaml",
            "namespace: other\nname: lib\nkind: library.lua\n",
        );
        let app = t.load_ok();
        assert_eq!(
            ids(&app),
            [
                "app:server",
                "other:lib",
                "app:handler",
                "app:router",
                "app:endpoint"
            ]
        );
    }

    #[test]
    fn many_problems_are_reported_together() {
        let t = TestApp::new();
        t.file(".wippy.yaml", "version: \"1.0\"\nsecurity: nope\n");
        t.file("src/a.yaml", "namespace: app\nentries: [\n");
        t.file("src/b.yaml", "entries: []\n");
        t.file(
            "src/c.yaml",
            "namespace: app\nentries:\n  - name: c\n    kind: k\n    source: file://gone.lua\n",
        );
        t.file("src/d.yaml", "namespace: app\nname: d\nkind: k\n");
        let errors = t.load_err();
        assert_eq!(errors.len(), 4, "{errors:#?}");
        assert!(errors[0].starts_with(".wippy.yaml: config section security"));
        assert!(errors[1].starts_with("src/a.yaml:"));
        assert_eq!(errors[2], "src/b.yaml: missing namespace");
        assert!(
            errors[3].starts_with("src/c.yaml:3: entry app:c (k): field source: file not found")
        );
    }

    #[test]
    fn a_thousand_entries_across_fifty_files() {
        let t = TestApp::new();
        for f in 0..50 {
            let mut text = format!("namespace: ns{f:02}\nentries:\n");
            for e in 0..20 {
                let n = f * 20 + e;
                text.push_str(&format!(
                    "  - name: e{e:02}\n    kind: function.lua\n    source: return {n}\n"
                ));
                if f > 0 {
                    text.push_str(&format!(
                        "    imports: {{prev: \"ns{:02}:e{e:02}\"}}\n",
                        f - 1
                    ));
                }
            }
            t.file(&format!("src/f{f:02}/_index.yaml"), &text);
        }
        let app = t.load_ok();
        assert_eq!(app.entries.len(), 1000);
        let pos: std::collections::HashMap<&str, usize> = app
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.id.as_str(), i))
            .collect();
        for e in &app.entries {
            for dep in crate::order::dependencies(e) {
                assert!(
                    pos[dep.as_str()] < pos[e.id.as_str()],
                    "{dep} after {}",
                    e.id
                );
            }
        }
        assert!(app.entries.iter().all(|e| e.source.line.is_some()));
        assert_eq!(app.entries[0].id.as_str(), "ns00:e00");
        assert_eq!(app.entries[999].id.as_str(), "ns49:e19");
    }

    #[test]
    fn walk_order_is_lexical_with_dirs_interleaved() {
        let t = TestApp::new();
        for rel in [
            "src/b.yaml",
            "src/a/z.yml",
            "src/a.json",
            "src/c/d/e.yaml",
            "src/B.yaml",
        ] {
            t.file(rel, "");
        }
        let mut out = Vec::new();
        walk_dir(
            &t.root().join("src"),
            &[],
            Path::new("/nonexistent"),
            &mut out,
        );
        let rel: Vec<String> = out
            .iter()
            .filter_map(|p| p.strip_prefix(t.root()).ok())
            .map(|p| p.display().to_string())
            .collect();
        // Names sort bytewise, as Go's fs.WalkDir does: "a" < "a.json".
        assert_eq!(
            rel,
            [
                "src/B.yaml",
                "src/a/z.yml",
                "src/a.json",
                "src/b.yaml",
                "src/c/d/e.yaml"
            ]
        );
    }
}

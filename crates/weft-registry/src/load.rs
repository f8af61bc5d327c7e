//! [`load_app`]: `.wippy.yaml`, `wippy.lock`, the definition-file walk, duplicates,
//! overrides and dependency order, with every problem collected into [`LoadErrors`].

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use weft_core::{BoundedRead, EntryId, MAX_TEXT_FILE_BYTES, Value};

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

    let config_path = config_path(opts, &root);
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

/// A definition file of an app, where [`load_app`] finds it.
#[derive(Clone, Debug)]
pub struct DefinitionFile {
    /// The file, absolute.
    pub path: PathBuf,
    /// The file as messages and [`Source::file`](crate::Source) show it (relative to the
    /// app root when inside it).
    pub shown: PathBuf,
    /// The load path it was found under, absolute: reading it must stay inside.
    pub load_root: PathBuf,
}

/// The files [`load_app`] reads entries from, in its order, without reading them: for
/// tools that look at their text (`weft check`'s schema warnings). A broken
/// `wippy.lock` gives only the load paths it still names.
pub fn definition_files(opts: &LoadOptions) -> Vec<DefinitionFile> {
    let root = absolute_clean(&opts.root);
    let config_path = config_path(opts, &root);
    let load_paths = load_paths(&root, &mut Vec::new());
    walk_load_paths(&load_paths, &config_path)
        .into_iter()
        .filter_map(|found| {
            let load_path = load_paths.get(found.load_path)?;
            Some(DefinitionFile {
                shown: shown(&root, &found.abs),
                path: found.abs,
                load_root: load_path.dir.clone(),
            })
        })
        .collect()
}

/// The config file of `opts`, absolute: `--config`, else `.wippy.yaml` at `root`.
fn config_path(opts: &LoadOptions, root: &Path) -> PathBuf {
    opts.config_file
        .as_ref()
        .map(|p| absolute_clean(p))
        .unwrap_or_else(|| root.join(CONFIG_FILE))
}

/// Reads the config file; a missing default file is an empty config. The default file
/// must stay inside the app root; `--config` may name any file.
fn load_config(root: &Path, path: &Path, explicit: bool) -> Result<Config, LoadError> {
    if explicit {
        return config::read_config(path, &shown(root, path), None);
    }
    if !exists(path) {
        return Ok(Config::default());
    }
    config::read_config(path, &shown(root, path), Some(root))
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
    if !exists(&lock_path) {
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
    let lock = match BoundedRead::new(MAX_TEXT_FILE_BYTES)
        .within(root)
        .text(&lock_path)
        .map_err(|e| lock_error(e.shown_as(Path::new("lock file")).to_string()))
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

/// Walks `dir` recursively in lexical order, collecting `.yaml`/`.yml`/`.json` names
/// (not directories, nor links to them); skips hidden names, `node_modules`, the `skip`
/// directories and the config file.
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
        // Anything else with a definition name (a FIFO, a device, a link out of the load
        // path) is read too, so that reading it reports why it cannot be.
        let is_file = !(file_type.is_symlink() && path.is_dir());
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

/// Reads and parses one definition file: a regular file of at most
/// [`MAX_TEXT_FILE_BYTES`] inside its load path, links resolved.
fn load_one(root: &Path, load_path: &LoadPath, abs: &Path) -> Result<Vec<Entry>, Vec<LoadError>> {
    let shown_path = shown(root, abs);
    let text = BoundedRead::new(MAX_TEXT_FILE_BYTES)
        .within(&load_path.dir)
        .text(abs)
        .map_err(|e| {
            vec![LoadError::File {
                file: shown_path.clone(),
                line: None,
                message: e.shown_as(Path::new("file")).to_string(),
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

/// True when something is at `path`, even a link that leads nowhere (reading it then
/// says why it cannot be read, instead of the file being silently absent).
fn exists(path: &Path) -> bool {
    path.symlink_metadata().is_ok()
}

/// A path as shown in messages: relative to the app root when inside it.
fn shown(root: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(root)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(all(test, unix))]
mod file_tests;
#[cfg(test)]
mod tests;

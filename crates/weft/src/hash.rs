//! `weft hash [entry…]` and `weft check --fix-hashes`: write the sha256 of each WASM
//! entry's file into its `hash:` field, in the definition file itself.
//!
//! - The file is the one the engine loads (weft-wasm's `load`): the entry's `fs`, an
//!   `fs.directory` whose `directory` is relative to the app root, and `path` inside it,
//!   read through [`FsRoot`] with the same confinement; its hash is `sha256:<hex>`, what
//!   `verify_hash` compares.
//! - Nothing boots: the app is only loaded ([`load_app`]), so an app whose hashes are
//!   wrong (which fails at boot) can be fixed.
//! - The definition file is rewritten in place, only the `hash:` value changing (or a
//!   `hash:` line added after `path:`): see [`edit`]. The app is then loaded again to
//!   confirm each entry now has its new hash; if one does not (a layout not understood,
//!   an override setting the field), every file is put back as it was.
//! - Every problem is reported, each naming the entry, the field and the file; when
//!   there is one, nothing is written.

mod edit;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};
use weft_core::{EntryId, Error, ErrorKind};
use weft_fs::FsRoot;
use weft_registry::{App, Entry, LoadOptions, load_app};

use crate::diag;

/// Examples for `weft hash --help`.
pub(crate) const EXAMPLES: &str = "\
Examples:
  weft hash app:greet                after rebuilding the file app:greet loads
  weft -C my-app hash                every function.wasm and process.wasm entry
  weft check --fix-hashes            fix every hash, then check the app

Prints `app:greet: sha256:1a2b… → sha256:3c4d…` for each hash it changed, and says
which were up to date. Only the `hash:` value changes in the file; an entry without one
gets a `hash:` line after its `path:`.";

/// The kinds whose entries load a file checked against `hash`.
const FILE_KINDS: [&str; 2] = ["function.wasm", "process.wasm"];

/// The fields of a WASM entry that name its file.
#[derive(Deserialize, Default)]
#[serde(default)]
struct FileFields {
    fs: String,
    path: String,
    hash: String,
}

/// One entry's file and hashes.
struct Target<'a> {
    /// The entry.
    entry: &'a Entry,
    /// Its `hash:` now.
    old: String,
    /// The file's hash.
    new: String,
}

/// `weft hash [ids…]` (every WASM entry when `ids` is empty): fixes the hashes and
/// prints what changed (on stderr with `to_stderr`); returns the exit code.
pub(crate) fn run(opts: &LoadOptions, ids: &[String], to_stderr: bool) -> i32 {
    let say = |line: String| {
        if to_stderr {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    };
    let app = match load_app(opts) {
        Ok(app) => app,
        Err(errors) => return diag::report(&errors),
    };
    let targets = match select(&app, ids).and_then(|entries| targets(&app, &entries)) {
        Ok(targets) => targets,
        Err(problems) => return failed(&problems),
    };
    if targets.is_empty() {
        say("no function.wasm or process.wasm entry in the app: no hash to write".into());
        return 0;
    }
    let stale: Vec<&Target> = targets.iter().filter(|t| t.old != t.new).collect();
    if let Err(problems) = rewrite(opts, &app, &stale) {
        return failed(&problems);
    }
    for target in &targets {
        let id = diag::one_line(target.entry.id.as_str());
        let source = target.entry.source.to_string();
        let source = diag::one_line(&source);
        say(if target.old == target.new {
            format!("{id}: up to date ({})", short(&target.new))
        } else if target.old.is_empty() {
            format!("{id}: hash added: {} ({source})", short(&target.new))
        } else {
            format!(
                "{id}: {} → {} ({source})",
                short(&target.old),
                short(&target.new)
            )
        });
    }
    0
}

/// Prints every problem and that nothing was written; returns exit code 1.
fn failed(problems: &[String]) -> i32 {
    for problem in problems {
        diag::error(problem);
    }
    eprintln!("no file was changed");
    1
}

/// The entries named by `ids`, or every WASM entry.
fn select<'a>(app: &'a App, ids: &[String]) -> Result<Vec<&'a Entry>, Vec<String>> {
    if ids.is_empty() {
        // In the order of the files, not the load's dependency order.
        let mut entries: Vec<&Entry> = app
            .entries
            .iter()
            .filter(|e| FILE_KINDS.contains(&e.kind.as_str()))
            .collect();
        entries
            .sort_by(|a, b| (&a.source.file, a.source.line).cmp(&(&b.source.file, b.source.line)));
        return Ok(entries);
    }
    let mut problems = Vec::new();
    let mut entries: Vec<&Entry> = Vec::new();
    for id in ids {
        match app.entries.iter().find(|e| e.id.as_str() == id) {
            Some(entry) if FILE_KINDS.contains(&entry.kind.as_str()) => {
                if !entries.iter().any(|e| e.id == entry.id) {
                    entries.push(entry);
                }
            }
            Some(entry) if entry.kind == "function.wat" => problems.push(format!(
                "{}: entry {} is a function.wat: its code is inline (`source`), there is no \
                 file to hash",
                entry.source, entry.id
            )),
            Some(entry) => problems.push(format!(
                "{}: entry {} is a {}, not a WASM entry with a file (function.wasm or \
                 process.wasm)",
                entry.source, entry.id, entry.kind
            )),
            None => problems.push(unknown(app, id)),
        }
    }
    if problems.is_empty() {
        Ok(entries)
    } else {
        Err(problems)
    }
}

/// "no entry X", naming the WASM entries it may have meant.
fn unknown(app: &App, id: &str) -> String {
    let wanted_name = id.rsplit_once(':').map_or(id, |(_, name)| name);
    let close: Vec<&str> = app
        .entries
        .iter()
        .filter(|e| FILE_KINDS.contains(&e.kind.as_str()))
        .map(|e| e.id.as_str())
        .filter(|other| {
            let name = other.rsplit_once(':').map_or(*other, |(_, name)| name);
            name == wanted_name || strsim::levenshtein(id, other) <= 2
        })
        .take(3)
        .collect();
    match close.as_slice() {
        [] => format!("no entry {id:?} in the app"),
        close => format!(
            "no entry {id:?} in the app; did you mean {}?",
            close.join(" or ")
        ),
    }
}

/// Each entry's file hashed, or every problem.
fn targets<'a>(app: &App, entries: &[&'a Entry]) -> Result<Vec<Target<'a>>, Vec<String>> {
    let mut targets = Vec::new();
    let mut problems = Vec::new();
    for entry in entries {
        match target(app, entry) {
            Ok(target) => targets.push(target),
            Err(problem) => problems.push(problem),
        }
    }
    if problems.is_empty() {
        Ok(targets)
    } else {
        Err(problems)
    }
}

/// The entry's file, read as the engine reads it, and its hash; or the problem, naming
/// the entry, the field and the definition file.
fn target<'a>(app: &App, entry: &'a Entry) -> Result<Target<'a>, String> {
    let invalid = |field: &str, message: String| {
        entry
            .error(Some(field.to_string()), Error::invalid(message))
            .to_string()
    };
    let fields: FileFields = entry.decode().map_err(|e| e.to_string())?;
    if fields.fs.is_empty() {
        return Err(invalid("fs", "fs is required".into()));
    }
    if fields.path.is_empty() {
        return Err(invalid("path", "path is required".into()));
    }
    let fs_id = EntryId::resolve(fields.fs.trim(), entry.id.ns());
    let fs = app
        .entries
        .iter()
        .find(|e| e.id == fs_id && e.kind == "fs.directory")
        .ok_or_else(|| invalid("fs", format!("no fs.directory entry {:?}", fields.fs)))?;
    let directory = fs
        .data
        .get("directory")
        .and_then(|d| d.as_str())
        .unwrap_or_default();
    if directory.trim().is_empty() {
        return Err(invalid(
            "fs",
            format!("the fs.directory entry {} has no directory", fs.id),
        ));
    }
    let shown = Path::new(directory).join(fields.path.trim_start_matches('/'));
    let unreadable = |why: &str, missing: bool| {
        invalid(
            "path",
            format!(
                "cannot read {} (fs {}, path {}): {why}{}",
                shown.display(),
                fs.id,
                fields.path,
                if missing { "; build it first" } else { "" }
            ),
        )
    };
    let root = FsRoot::new(fs.id.clone(), &app.root.join(directory))
        .map_err(|_| unreadable(&format!("the folder {directory} does not exist"), true))?;
    let bytes = root
        .read(&fields.path)
        .map_err(|e| unreadable(e.message(), e.kind() == ErrorKind::NotFound))?;
    Ok(Target {
        entry,
        old: fields.hash,
        new: format!("sha256:{}", hex::encode(Sha256::digest(&bytes))),
    })
}

/// Writes the new hashes of `stale` into their files, then confirms them by loading the
/// app again (putting every file back if one is not confirmed).
fn rewrite(opts: &LoadOptions, app: &App, stale: &[&Target]) -> Result<(), Vec<String>> {
    // The edits, by file.
    let mut files: BTreeMap<PathBuf, Vec<&Target>> = BTreeMap::new();
    for target in stale {
        files
            .entry(app.root.join(&target.entry.source.file))
            .or_default()
            .push(target);
    }
    let mut problems = Vec::new();
    let mut writes = Vec::new();
    for (path, targets) in &files {
        match edited(path, targets) {
            Ok(write) => writes.push(write),
            Err(mut more) => problems.append(&mut more),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let written = write_all(&writes)?;
    let confirmed = confirm(opts, stale);
    if confirmed.is_err() {
        for (path, old, _) in written {
            // Best effort: the error says what could not be done either way.
            let _ = std::fs::write(path, old);
        }
    }
    confirmed
}

/// A file's path, its text and its new text.
type Rewrite = (PathBuf, String, String);

/// The new text of the definition file at `path` with the hashes of `targets`.
fn edited(path: &Path, targets: &[&Target]) -> Result<Rewrite, Vec<String>> {
    let cannot = |target: &Target, why: &str| {
        format!(
            "{}: entry {}: cannot rewrite its hash ({why}); set it by hand: hash: {}",
            target.entry.source, target.entry.id, target.new
        )
    };
    if path.extension().is_some_and(|ext| ext == "json") {
        return Err(targets.iter().map(|t| cannot(t, "a JSON file")).collect());
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| vec![format!("cannot read {}: {e}", path.display())])?;
    let mut edits = Vec::new();
    let mut problems = Vec::new();
    for target in targets {
        let Some(line) = target.entry.source.line else {
            problems.push(cannot(target, "its line in the file is not known"));
            continue;
        };
        match edit::set_hash(&text, line, &target.new) {
            Ok(edit) => edits.push(edit),
            Err(why) => problems.push(cannot(target, &why)),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let new = edit::apply(&text, edits);
    Ok((path.to_path_buf(), text, new))
}

/// Writes every file; on a failure, puts back those already written.
fn write_all(writes: &[Rewrite]) -> Result<&[Rewrite], Vec<String>> {
    for (i, (path, _, new)) in writes.iter().enumerate() {
        if let Err(e) = std::fs::write(path, new) {
            for (path, old, _) in &writes[..i] {
                let _ = std::fs::write(path, old);
            }
            return Err(vec![format!("cannot write {}: {e}", path.display())]);
        }
    }
    Ok(writes)
}

/// Loads the app again and checks that each entry of `stale` has its new hash.
fn confirm(opts: &LoadOptions, stale: &[&Target]) -> Result<(), Vec<String>> {
    let app = load_app(opts).map_err(|errors| {
        let mut problems = vec!["the app no longer loads after the rewrite:".to_string()];
        problems.extend(errors.iter().map(|e| e.to_string()));
        problems
    })?;
    let problems: Vec<String> = stale
        .iter()
        .filter(|target| {
            let now = app
                .entries
                .iter()
                .find(|e| e.id == target.entry.id)
                .and_then(|e| e.data.get("hash"))
                .and_then(|h| h.as_str());
            now != Some(target.new.as_str())
        })
        .map(|target| {
            format!(
                "{}: entry {}: its hash did not change in the file as written (an unusual \
                 layout, or an override setting it); set it by hand: hash: {}",
                target.entry.source, target.entry.id, target.new
            )
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// A hash for people: `sha256:` and the first 12 hex digits.
fn short(hash: &str) -> String {
    match hash.split_once(':') {
        Some((algo, hex)) if hex.len() > 12 && hex.is_ascii() => {
            format!("{algo}:{}…", &hex[..12])
        }
        _ => diag::one_line(hash).into_owned(),
    }
}

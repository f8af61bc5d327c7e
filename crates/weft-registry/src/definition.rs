//! One definition file (`_index.yaml` and friends) → entries: namespace, batch and
//! single-entry forms, meta merge, entry data, `file://` interpolation, entry lines.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use weft_core::{BoundedRead, EntryId, Error, MAX_TEXT_FILE_BYTES, Map, Value};

use crate::entry::{Entry, Source};
use crate::error::LoadError;
use crate::yaml;

/// Top-level keys that are never entry data in the single-entry form.
const SINGLE_FORM_RESERVED: [&str; 4] = ["namespace", "version", "requirements", "entries"];

/// Entry keys that are never entry data.
const ENTRY_RESERVED: [&str; 4] = ["name", "kind", "meta", "data"];

/// The `file://` URL prefix.
const FILE_URL: &str = "file://";

/// Where one definition file sits.
pub(crate) struct FileContext<'a> {
    /// The file, absolute.
    pub abs: &'a Path,
    /// The file as shown in messages (relative to the app root when inside it).
    pub shown: &'a Path,
    /// The root of the load path the file was found under (absolute, clean).
    pub load_root: &'a Path,
    /// The app root (absolute, clean), for messages.
    pub app_root: &'a Path,
    /// The module the load path belongs to (`meta.module`), for replacements.
    pub module: Option<&'a str>,
}

/// Parses one definition file into entries, or every problem found in it.
///
/// A file that is not a Wippy definition file (no namespace and nothing that looks like
/// entries) gives no entries and no errors.
pub(crate) fn load_file(cx: &FileContext<'_>, text: &str) -> Result<Vec<Entry>, Vec<LoadError>> {
    let doc = parse_text(cx, text).map_err(|e| vec![e])?;
    let Value::Map(top) = doc else {
        return Ok(Vec::new());
    };
    let file_error = |line: Option<usize>, message: String| LoadError::File {
        file: cx.shown.to_path_buf(),
        line,
        message,
    };
    let Some(ns) = namespace(&top).map_err(|m| vec![file_error(None, m)])? else {
        let looks_like_entries =
            top.contains_key("entries") || (has_value(&top, "name") && has_value(&top, "kind"));
        return if looks_like_entries {
            Err(vec![file_error(None, "missing namespace".into())])
        } else {
            Ok(Vec::new())
        };
    };

    let (raws, batch) = raw_entries(&top).map_err(|m| vec![file_error(None, m)])?;
    let mut errors = Vec::new();
    // In the single-entry form the top-level meta is the entry's own meta.
    let file_meta_value = if batch { top.get("meta") } else { None };
    let mut file_meta = match mapping(file_meta_value) {
        Ok(m) => m,
        Err(found) => {
            errors.push(file_error(
                None,
                format!("meta must be a mapping, found {found}"),
            ));
            Map::new()
        }
    };
    for (field, message) in interpolate_map(&mut file_meta, "meta", cx) {
        errors.push(file_error(None, format!("{field}: {message}")));
    }
    let lines = entry_lines(text, batch, &raws);
    let mut entries = Vec::with_capacity(raws.len());
    for (index, raw) in raws.into_iter().enumerate() {
        let line = lines.get(index).copied().flatten();
        match build_entry(cx, &ns, &file_meta, raw, index, line) {
            Ok(entry) => entries.push(entry),
            Err(mut errs) => errors.append(&mut errs),
        }
    }
    if errors.is_empty() {
        Ok(entries)
    } else {
        Err(errors)
    }
}

/// Parses the file as JSON (`.json`) or YAML (anything else).
fn parse_text(cx: &FileContext<'_>, text: &str) -> Result<Value, LoadError> {
    let is_json = cx
        .abs
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if is_json {
        yaml::parse_json(text, cx.shown)
    } else {
        yaml::parse(text, cx.shown)
    }
}

/// The file's namespace: `None` when absent or blank.
fn namespace(top: &Map) -> Result<Option<String>, String> {
    match top.get("namespace") {
        None | Some(Value::Nil) => Ok(None),
        Some(v) => {
            let Some(s) = v.as_str() else {
                return Err(format!(
                    "namespace must be a string, found {}",
                    v.type_name()
                ));
            };
            let s = s.trim();
            if s.is_empty() {
                Ok(None)
            } else if s.contains(':') {
                Err(format!("invalid namespace {s:?}: it must not contain ':'"))
            } else {
                Ok(Some(s.to_string()))
            }
        }
    }
}

/// The raw entry maps of the file and whether it uses the batch form.
fn raw_entries(top: &Map) -> Result<(Vec<Value>, bool), String> {
    if let Some(list) = top.get("entries") {
        return match list {
            Value::Nil => Ok((Vec::new(), true)),
            Value::Array(items) => Ok((items.as_ref().clone(), true)),
            other => Err(format!(
                "entries must be a list, found {}",
                other.type_name()
            )),
        };
    }
    if has_value(top, "name") && has_value(top, "kind") {
        let raw: Map = top
            .iter()
            .filter(|(k, _)| !SINGLE_FORM_RESERVED.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        return Ok((vec![Value::map(raw)], false));
    }
    Err("either entries array or single entry (name/kind) must be provided".into())
}

/// Builds one entry from its raw map, or the problems with it.
fn build_entry(
    cx: &FileContext<'_>,
    ns: &str,
    file_meta: &Map,
    raw: Value,
    index: usize,
    line: Option<usize>,
) -> Result<Entry, Vec<LoadError>> {
    let number = index + 1;
    let file_error = |message: String| LoadError::File {
        file: cx.shown.to_path_buf(),
        line,
        message,
    };
    let Value::Map(raw) = raw else {
        return Err(vec![file_error(format!(
            "entry #{number}: must be a mapping, found {}",
            raw.type_name()
        ))]);
    };
    let name = match text_field(&raw, "name") {
        Ok(Some(name)) => name,
        Ok(None) => return Err(vec![file_error(format!("entry #{number}: missing name"))]),
        Err(message) => return Err(vec![file_error(format!("entry #{number}: {message}"))]),
    };
    let source = Source {
        file: cx.shown.to_path_buf(),
        line,
    };
    let mut entry = Entry {
        id: EntryId::new(ns, &name),
        kind: String::new(),
        meta: Map::new(),
        data: Value::map(Map::new()),
        source,
    };
    let mut errors = Vec::new();
    let mut fail = |entry: &Entry, field: Option<String>, message: String| {
        errors.push(entry.error(field, Error::invalid(message)).into());
    };
    match text_field(&raw, "kind") {
        Ok(Some(kind)) => entry.kind = kind,
        Ok(None) => fail(&entry, None, "missing kind".into()),
        Err(message) => fail(&entry, Some("kind".into()), message),
    }

    let mut raw = Arc::unwrap_or_clone(raw);
    for (field, message) in interpolate_map(&mut raw, "", cx) {
        fail(&entry, Some(field), message);
    }

    entry.meta = file_meta.clone();
    match mapping(raw.get("meta")) {
        Ok(meta) => entry.meta.extend(meta),
        Err(found) => fail(
            &entry,
            Some("meta".into()),
            format!("meta must be a mapping, found {found}"),
        ),
    }
    if let Some(module) = cx.module {
        entry.meta.insert("module".into(), Value::str(module));
    }

    if raw.contains_key("data") {
        match mapping(raw.get("data")) {
            Ok(data) => entry.data = Value::map(data),
            Err(found) => fail(
                &entry,
                Some("data".into()),
                format!("data must be a mapping, found {found}"),
            ),
        }
    } else {
        raw.retain(|k, _| !ENTRY_RESERVED.contains(&k.as_str()));
        entry.data = Value::map(raw);
    }

    if errors.is_empty() {
        Ok(entry)
    } else {
        Err(errors)
    }
}

/// True when `key` is present and not null.
fn has_value(map: &Map, key: &str) -> bool {
    map.get(key).is_some_and(|v| !v.is_nil())
}

/// A name-like field: a non-blank string (or an integer, as YAML may type it).
fn text_field(map: &Map, key: &str) -> Result<Option<String>, String> {
    match map.get(key) {
        None | Some(Value::Nil) => Ok(None),
        Some(Value::Int(i)) => Ok(Some(i.to_string())),
        Some(v) => match v.as_str() {
            Some(s) if s.trim().is_empty() => Ok(None),
            Some(s) => Ok(Some(s.to_string())),
            None => Err(format!("{key} must be a string, found {}", v.type_name())),
        },
    }
}

/// A mapping field (absent or null → empty); `Err` carries the found type's name.
fn mapping(value: Option<&Value>) -> Result<Map, &'static str> {
    match value {
        None | Some(Value::Nil) => Ok(Map::new()),
        Some(Value::Map(m)) => Ok(m.as_ref().clone()),
        Some(other) => Err(other.type_name()),
    }
}

/// Replaces every `file://` string inside `map` by the file's contents; returns
/// `(field path, message)` for each failure. `prefix` is the field path of `map`.
fn interpolate_map(map: &mut Map, prefix: &str, cx: &FileContext<'_>) -> Vec<(String, String)> {
    let mut errors = Vec::new();
    for (key, value) in map.iter_mut() {
        let path = join_field(prefix, key);
        interpolate(value, path, cx, &mut errors);
    }
    errors
}

/// Interpolates one value in place (recursively), collecting failures.
fn interpolate(
    value: &mut Value,
    path: String,
    cx: &FileContext<'_>,
    errors: &mut Vec<(String, String)>,
) {
    match value {
        Value::Str(_) => {
            let Some(url) = value.as_str().filter(|s| s.starts_with(FILE_URL)) else {
                return;
            };
            match read_file_url(url, cx) {
                Ok(bytes) => *value = Value::bytes(bytes),
                Err(message) => errors.push((path, message)),
            }
        }
        Value::Array(items) => {
            for (i, item) in Arc::make_mut(items).iter_mut().enumerate() {
                interpolate(item, format!("{path}[{i}]"), cx, errors);
            }
        }
        Value::Map(map) => {
            for (key, item) in Arc::make_mut(map).iter_mut() {
                interpolate(item, join_field(&path, key), cx, errors);
            }
        }
        _ => {}
    }
}

/// `a.b` from a prefix and a key (no dot for an empty prefix).
fn join_field(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// Reads the file a `file://` URL names: `file:///x` from the load-path root, `file://x`
/// from the definition file's directory; never outside the load-path root (no `..` above
/// it, no symbolic link out of it), only a regular file of at most
/// [`MAX_TEXT_FILE_BYTES`].
fn read_file_url(url: &str, cx: &FileContext<'_>) -> Result<Vec<u8>, String> {
    let rest = url.get(FILE_URL.len()..).unwrap_or_default();
    let (base, rel) = match rest.strip_prefix('/') {
        Some(rel) => (cx.load_root.to_path_buf(), rel),
        None => (cx.abs.parent().unwrap_or(cx.load_root).to_path_buf(), rest),
    };
    if rel.trim().trim_matches('/').is_empty() {
        return Err("empty file path in file:// URL".into());
    }
    let target = join_clean(&base, Path::new(rel))
        .filter(|p| p.starts_with(cx.load_root))
        .ok_or_else(|| format!("path traversal detected in file path: {rest}"))?;
    BoundedRead::new(MAX_TEXT_FILE_BYTES)
        .within(cx.load_root)
        .bytes(&target)
        .map_err(|e| {
            let shown = target.strip_prefix(cx.app_root).unwrap_or(&target);
            if e.is_not_found() {
                format!("file not found: {} (from {url})", shown.display())
            } else {
                format!("{} (from {url})", e.shown_as(shown))
            }
        })
}

/// Joins `rel` onto `base` lexically (`.` dropped, `..` popped, leading `/` ignored);
/// `None` for a path that cannot be joined (a drive prefix, `..` above the filesystem root).
pub(crate) fn join_clean(base: &Path, rel: &Path) -> Option<PathBuf> {
    let mut out = base.to_path_buf();
    for component in rel.components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::CurDir | Component::RootDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

/// The 1-based line of each raw entry, found cheaply in the text: the list items under a
/// top-level `entries:` key, else the line of each entry's `name:`.
fn entry_lines(text: &str, batch: bool, raws: &[Value]) -> Vec<Option<usize>> {
    if batch {
        let items = batch_item_lines(text);
        if items.len() == raws.len() {
            return items.into_iter().map(Some).collect();
        }
    }
    let names = NameLines::scan(text, !batch);
    raws.iter()
        .map(|raw| {
            let name = raw.get("name")?;
            let name = match name {
                Value::Int(i) => i.to_string(),
                other => other.as_str()?.to_string(),
            };
            names.line_of(&name)
        })
        .collect()
}

/// Lines of the block-sequence items under the top-level `entries:` key.
fn batch_item_lines(text: &str) -> Vec<usize> {
    let mut items = Vec::new();
    let mut in_entries = false;
    let mut item_indent: Option<usize> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if !in_entries {
            if indent == 0 && key_of(trimmed) == Some("entries") {
                in_entries = true;
            }
            continue;
        }
        let is_item = trimmed == "-" || trimmed.starts_with("- ");
        match item_indent {
            None if is_item => {
                item_indent = Some(indent);
                items.push(i + 1);
            }
            None => break,
            Some(ii) if indent == ii && is_item => items.push(i + 1),
            Some(ii) if indent <= ii || trimmed.starts_with("---") => break,
            Some(_) => {}
        }
    }
    items
}

/// The key of a `key:` line, quotes removed.
fn key_of(line: &str) -> Option<&str> {
    let (key, _) = line.split_once(':')?;
    Some(key.trim().trim_matches(|c| c == '"' || c == '\''))
}

/// Lines of `name: X` (YAML) and `"name": "X"` (JSON) keys, by name.
struct NameLines<'t> {
    /// Lines of `- name: X` (list items), the best guess for an entry.
    items: HashMap<&'t str, usize>,
    /// Lines of other `name: X` keys.
    others: HashMap<&'t str, usize>,
}

impl<'t> NameLines<'t> {
    /// Scans the text once; `top_only` keeps only unindented keys (single-entry YAML form).
    fn scan(text: &'t str, top_only: bool) -> NameLines<'t> {
        let mut names = NameLines {
            items: HashMap::new(),
            others: HashMap::new(),
        };
        for (i, line) in text.lines().enumerate() {
            let trimmed = line.trim_start();
            let indented = trimmed.len() != line.len();
            let (is_item, rest) = match trimmed.strip_prefix("- ") {
                Some(rest) => (true, rest.trim_start()),
                None => (false, trimmed),
            };
            let value = rest
                .strip_prefix("name:")
                .or_else(|| rest.strip_prefix("\"name\":"));
            let Some(value) = value.and_then(scalar_text) else {
                continue;
            };
            let json = rest.starts_with('"');
            if top_only && indented && !json {
                continue;
            }
            let map = if is_item {
                &mut names.items
            } else {
                &mut names.others
            };
            map.entry(value).or_insert(i + 1);
        }
        names
    }

    /// The line of the entry named `name`.
    fn line_of(&self, name: &str) -> Option<usize> {
        self.items
            .get(name)
            .or_else(|| self.others.get(name))
            .copied()
    }
}

/// The text of a one-line scalar: quotes removed, a trailing `,` or `# comment` dropped.
fn scalar_text(raw: &str) -> Option<&str> {
    let raw = raw.trim();
    let raw = raw.strip_suffix(',').unwrap_or(raw).trim_end();
    for quote in ['"', '\''] {
        if let Some(inner) = raw.strip_prefix(quote) {
            return inner.split_once(quote).map(|(text, _)| text);
        }
    }
    let text = raw.split(" #").next().unwrap_or(raw).trim();
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(text: &str) -> Vec<Option<usize>> {
        let doc: Value = serde_yaml_ng::from_str(text).unwrap();
        let raws = doc
            .get("entries")
            .and_then(Value::as_array)
            .unwrap()
            .to_vec();
        entry_lines(text, true, &raws)
    }

    #[test]
    fn batch_items_are_found_by_indentation() {
        let text = "namespace: a\nentries:\n  # first\n  - name: x\n    kind: k\n    source: |\n      - not an item\n  - kind: k\n    name: y\nmeta: {}\n";
        assert_eq!(lines_of(text), [Some(4), Some(8)]);
        let text = "namespace: a\nentries:\n- name: x\n  kind: k\n- name: y\n  kind: k\n";
        assert_eq!(lines_of(text), [Some(3), Some(5)]);
    }

    #[test]
    fn flow_lists_fall_back_to_name_lines() {
        let text =
            "namespace: a\nentries: [\n  {name: x, kind: k},\n  {kind: k,\n   name: \"y\"}]\n";
        assert_eq!(lines_of(text), [None, Some(5)]);
    }

    #[test]
    fn scalar_text_strips_quotes_and_comments() {
        assert_eq!(scalar_text(" x # c"), Some("x"));
        assert_eq!(scalar_text(" \"x y\","), Some("x y"));
        assert_eq!(scalar_text(" 'x'"), Some("x"));
        assert_eq!(scalar_text("  "), None);
    }

    #[test]
    fn join_clean_stays_lexical() {
        let base = Path::new("/app/src");
        assert_eq!(
            join_clean(base, Path::new("a/../b/./c")),
            Some(PathBuf::from("/app/src/b/c"))
        );
        assert_eq!(
            join_clean(base, Path::new("/etc/passwd")),
            Some(PathBuf::from("/app/src/etc/passwd"))
        );
        assert_eq!(
            join_clean(base, Path::new("../x")),
            Some(PathBuf::from("/app/x"))
        );
        assert_eq!(join_clean(Path::new("/"), Path::new("../x")), None);
    }
}

//! `weft schema`: the JSON Schema of the app format, and the schema check `weft check`
//! runs over every definition file.
//!
//! The schema (`schema/app.schema.json`, draft 2020-12) is written by hand: it is
//! documentation that editors read (`# yaml-language-server: $schema=…`), one branch per
//! entry kind with its fields, their types, enums and a line each; `tests/schema.rs`
//! fails when weft learns a kind the schema lacks. Entries keep every unknown key
//! (Wippy apps carry extra fields), so the schema types what it knows and allows the rest.
//!
//! `weft check` validates each definition file and reports what the schema finds as
//! warnings: weft's own checks at load stay the authority (they know what a schema cannot
//! say: references, files, hashes). A warning names the file, the line and column of the
//! field (found by [`position`]: serde_yaml_ng keeps no positions), the entry, its kind
//! and the field, as weft's own errors do.

mod position;

use std::sync::OnceLock;

use jsonschema::error::ValidationErrorKind;
use serde_json::Value as Json;
use weft_registry::DefinitionFile;

use crate::check::{Problem, Severity};
pub(crate) use position::Positions;

/// After `weft schema --help`.
pub(crate) const EXAMPLES: &str = "\
Examples:
  mkdir -p .weft && weft schema > .weft/schema.json
                                      save it in the app (a hidden folder: not loaded)
  # yaml-language-server: $schema=../.weft/schema.json
                                      the first line of src/_index.yaml, for editors
  weft check                          checks every definition file against it too";

/// The schema, as `weft schema` prints it.
pub(crate) const APP_SCHEMA: &str = include_str!("../schema/app.schema.json");

/// How deeply a definition file may nest (the loader refuses deeper files first).
const MAX_NESTING: usize = 1000;

/// The longest message a warning keeps (a type error quotes the value it found).
const MAX_MESSAGE_CHARS: usize = 300;

/// Top-level keys of a definition file that are never an entry's fields.
const FILE_KEYS: [&str; 4] = ["namespace", "version", "requirements", "entries"];

/// `weft schema`: prints the schema; exit code 0.
pub(crate) fn print() -> i32 {
    print!("{APP_SCHEMA}");
    0
}

/// The schema's warnings about one definition file whose text is `text`. A file that
/// does not parse, or is not a Wippy definition file (no namespace, nothing like
/// entries), gets none: the loader reports the one and skips the other.
pub(crate) fn check_file<'p>(
    file: &DefinitionFile,
    text: &str,
    positions: impl FnOnce() -> Option<&'p Positions>,
) -> Vec<Problem> {
    let Some(instance) = instance_of(file, text) else {
        return Vec::new();
    };
    let validator = match validator() {
        Ok(validator) => validator,
        Err(message) => return vec![Problem::warning(message)],
    };
    let mut errors = validator.iter_errors(&instance).peekable();
    if errors.peek().is_none() {
        return Vec::new();
    }
    let positions = positions();
    errors
        .map(|error| {
            let mut pointer = error.instance_path().as_str().to_string();
            match error.kind() {
                ValidationErrorKind::Required { property } => {
                    if let Some(name) = property.as_str() {
                        pointer = format!("{pointer}/{}", escape_pointer(name));
                    }
                }
                ValidationErrorKind::AdditionalProperties { unexpected }
                    if unexpected.len() == 1 =>
                {
                    pointer = format!("{pointer}/{}", escape_pointer(&unexpected[0]));
                }
                _ => {}
            }
            let at = positions.map(|p| p.at_pointer(&pointer));
            let place = Place::of(&instance, &pointer);
            Problem {
                severity: Severity::Warning,
                file: Some(file.shown.display().to_string()),
                line: at.map(|a| a.line),
                column: at.map(|a| a.column),
                entry: place.entry,
                kind: place.kind,
                field: place.field,
                message: shortened(&format!("schema: {error}")),
            }
        })
        .collect()
}

/// The compiled schema (compiled once); an error when the embedded schema is broken.
fn validator() -> Result<&'static jsonschema::Validator, String> {
    static VALIDATOR: OnceLock<Result<jsonschema::Validator, String>> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| {
            let schema: Json = serde_json::from_str(APP_SCHEMA)
                .map_err(|e| format!("weft's app schema is not JSON: {e}"))?;
            jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .build(&schema)
                .map_err(|e| format!("weft's app schema does not compile: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// The file as the JSON the schema validates, when it is a definition file: parsed as
/// the loader parses it (JSON for `.json`, else YAML, into weft's values), so the schema
/// sees what weft sees.
fn instance_of(file: &DefinitionFile, text: &str) -> Option<Json> {
    let is_json = file
        .path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let doc: weft_core::Value = if is_json {
        serde_json::from_str(text).ok()?
    } else {
        if weft_registry::yaml_too_deep(text, MAX_NESTING).is_some() {
            return None;
        }
        serde_yaml_ng::from_str(text).ok()?
    };
    let top = doc.as_map()?;
    let has = |key: &str| top.get(key).is_some_and(|v| !v.is_nil());
    let named = top
        .get("namespace")
        .and_then(weft_core::Value::as_str)
        .is_some_and(|ns| !ns.trim().is_empty());
    let looks_like_entries = top.contains_key("entries") || (has("name") && has("kind"));
    if !named && !looks_like_entries {
        return None;
    }
    serde_json::to_value(&doc).ok()
}

/// What a JSON pointer into a definition file is about: the entry (its id and kind) and
/// the field in it, as weft's errors name them (`pool.size`, `wasi.env[0]`, the fields
/// of a `data:` entry without `data.`).
#[derive(Default)]
struct Place {
    /// The entry's id.
    entry: Option<String>,
    /// The entry's kind.
    kind: Option<String>,
    /// The field.
    field: Option<String>,
}

impl Place {
    /// The place `pointer` names in `file`.
    fn of(file: &Json, pointer: &str) -> Place {
        let segments: Vec<String> = pointer.split('/').skip(1).map(unescape_pointer).collect();
        let batch = file.get("entries").is_some();
        let (entry, rest) = match segments.as_slice() {
            [entries, index, rest @ ..] if batch && entries == "entries" => {
                match index
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| file["entries"].get(i))
                {
                    Some(entry) => (Some(entry), rest),
                    None => (None, segments.as_slice()),
                }
            }
            [first, ..] if FILE_KEYS.contains(&first.as_str()) => (None, segments.as_slice()),
            _ if !batch => (Some(file), segments.as_slice()),
            _ => (None, segments.as_slice()),
        };
        let Some(entry) = entry else {
            return Place {
                field: field_text(file, rest),
                ..Place::default()
            };
        };
        let (fields, rest) = match rest {
            [data, inner @ ..]
                if data == "data" && entry.get("data").is_some_and(Json::is_object) =>
            {
                (&entry["data"], inner)
            }
            _ => (entry, rest),
        };
        let name = match entry.get("name") {
            Some(Json::String(s)) => Some(s.clone()),
            Some(Json::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let namespace = file.get("namespace").and_then(Json::as_str).map(str::trim);
        Place {
            entry: name.map(|n| format!("{}:{n}", namespace.unwrap_or_default())),
            kind: entry.get("kind").and_then(Json::as_str).map(str::to_string),
            field: field_text(fields, rest),
        }
    }
}

/// `pool.size`, `wasi.env[0].name`: the pointer `segments` from `start`, an index where
/// they step into an array; `None` for no segment.
fn field_text(start: &Json, segments: &[String]) -> Option<String> {
    let mut field = String::new();
    let mut node = Some(start);
    for segment in segments {
        match node {
            Some(Json::Array(items)) => {
                field.push_str(&format!("[{segment}]"));
                node = segment.parse::<usize>().ok().and_then(|i| items.get(i));
            }
            _ => {
                if !field.is_empty() {
                    field.push('.');
                }
                field.push_str(segment);
                node = node.and_then(|n| n.get(segment.as_str()));
            }
        }
    }
    (!field.is_empty()).then_some(field)
}

/// A key as a JSON pointer segment.
fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// A JSON pointer segment as the key it stands for.
fn unescape_pointer(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// `message`, cut to [`MAX_MESSAGE_CHARS`] characters.
fn shortened(message: &str) -> String {
    match message.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((at, _)) => format!("{}…", &message[..at]),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A definition file at `src/_index.yaml` (or `.json`), not read from disk.
    fn file(name: &str) -> DefinitionFile {
        DefinitionFile {
            path: format!("/app/src/{name}").into(),
            shown: format!("src/{name}").into(),
            load_root: "/app/src".into(),
        }
    }

    /// The warnings of `text` as a YAML definition file.
    fn warnings(text: &str) -> Vec<Problem> {
        let positions = Positions::parse(text);
        check_file(&file("_index.yaml"), text, || positions.as_ref())
    }

    #[test]
    fn the_schema_compiles_and_accepts_unknown_keys() {
        validator().unwrap();
        let text = "namespace: app\nentries:\n  - name: f\n    kind: function.lua\n    source: x\n    method: run\n    wippy_extra: {anything: [1]}\n  - name: t\n    kind: template.jet\n    whatever: 1\n";
        assert!(warnings(text).is_empty(), "{:?}", warnings(text));
    }

    #[test]
    fn a_wrong_type_is_placed_at_its_field() {
        let text = "namespace: app\nentries:\n  - name: f\n    kind: function.lua\n    source: x\n    method: run\n    pool: {size: big}\n";
        let found = warnings(text);
        assert_eq!(found.len(), 1, "{found:?}");
        let w = &found[0];
        assert_eq!(w.severity, Severity::Warning);
        assert_eq!(w.file.as_deref(), Some("src/_index.yaml"));
        assert_eq!((w.line, w.column), (Some(7), Some(12)));
        assert_eq!(w.entry.as_deref(), Some("app:f"));
        assert_eq!(w.kind.as_deref(), Some("function.lua"));
        assert_eq!(w.field.as_deref(), Some("pool.size"));
        assert!(w.message.contains("integer"), "{}", w.message);
    }

    #[test]
    fn missing_and_unknown_fields_name_the_field() {
        let text = "namespace: app\nentries:\n  - name: e\n    kind: http.endpoint\n    data:\n      method: get\n      path: /x\n  - name: p\n    kind: security.policy\n    policy: {actions: '*', resources: '*', effect: allow, effects: deny}\n";
        let found = warnings(text);
        let fields: Vec<_> = found
            .iter()
            .map(|w| (w.entry.as_deref(), w.field.as_deref(), w.line))
            .collect();
        assert!(
            fields.contains(&(Some("app:e"), Some("method"), Some(6))),
            "{fields:?}"
        );
        assert!(
            fields.contains(&(Some("app:e"), Some("func"), Some(5))),
            "{fields:?}"
        );
        assert!(
            fields.contains(&(Some("app:p"), Some("policy.effects"), Some(10))),
            "{fields:?}"
        );
    }

    #[test]
    fn single_entry_json_and_top_level_problems() {
        let text = "namespace: app\nname: h\nkind: terminal.host\nhide_logs: 'yes'\n";
        let found = warnings(text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].entry.as_deref(), Some("app:h"));
        assert_eq!(found[0].field.as_deref(), Some("hide_logs"));
        assert_eq!((found[0].line, found[0].column), (Some(4), Some(1)));

        let json = "{\"namespace\": \"a:b\", \"entries\": [{\"name\": \"x\", \"kind\": \"fs.directory\"}]}";
        let positions = Positions::parse(json);
        let found = check_file(&file("defs.json"), json, || positions.as_ref());
        let fields: Vec<_> = found
            .iter()
            .map(|w| (w.entry.as_deref(), w.field.as_deref()))
            .collect();
        assert!(fields.contains(&(None, Some("namespace"))), "{fields:?}");
        assert!(
            fields.contains(&(Some("a:b:x"), Some("directory"))),
            "{fields:?}"
        );
    }

    #[test]
    fn files_that_are_not_definitions_are_skipped() {
        assert!(warnings("just: data\nnot: an app file\n").is_empty());
        assert!(warnings("a: [1, 2\n").is_empty());
        assert!(warnings("- 1\n- 2\n").is_empty());
    }

    #[test]
    fn long_messages_are_cut() {
        let long = "x".repeat(1000);
        assert_eq!(shortened(&long).chars().count(), MAX_MESSAGE_CHARS + 1);
        assert_eq!(shortened("short"), "short");
    }
}

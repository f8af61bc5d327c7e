//! [`Entry`]: one registry entry as loaded from a definition file, with [`Source`] (where it
//! came from) and [`EntryError`] (a problem about one entry).

use std::fmt;
use std::path::PathBuf;

use serde::de::DeserializeOwned;
use weft_core::{EntryId, Error, Map, Value};

/// One registry entry: id, kind, merged meta and data.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The id, `namespace:name`.
    pub id: EntryId,
    /// The kind (`function.lua`, `http.service`, ...).
    pub kind: String,
    /// Meta: file meta merged under entry meta.
    pub meta: Map,
    /// The entry data; always a [`Value::Map`].
    pub data: Value,
    /// Where the entry was defined.
    pub source: Source,
}

/// Where an entry was defined.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Source {
    /// The definition file, relative to the app root (for messages).
    pub file: PathBuf,
    /// The 1-based line of the entry in that file, when known.
    pub line: Option<usize>,
}

/// An error about one entry: renders as `<file>:<line>: entry <id> (<kind>): field <field>: <message>`.
#[derive(Clone, Debug)]
pub struct EntryError {
    /// The entry's id.
    pub id: EntryId,
    /// The entry's kind (empty when unknown).
    pub kind: String,
    /// Where the entry was defined.
    pub source: Source,
    /// The field path the error is about (`pool.size`), when known.
    pub field: Option<String>,
    /// The error itself.
    pub error: Error,
}

impl Entry {
    /// Builds an entry with empty meta and data and an unknown source.
    pub fn new(id: EntryId, kind: impl Into<String>) -> Entry {
        Entry {
            id,
            kind: kind.into(),
            meta: Map::new(),
            data: Value::map(Map::new()),
            source: Source::default(),
        }
    }

    /// Decodes the entry data into a config struct; errors name the field path (`pool.size`).
    #[allow(
        clippy::result_large_err,
        reason = "EntryError is the documented error of decode; it is cold and rich"
    )]
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, EntryError> {
        let json = serde_json::to_value(&self.data).map_err(|e| {
            self.error(
                None,
                Error::internal(format!("entry data is not representable: {e}")),
            )
        })?;
        serde_path_to_error::deserialize(json).map_err(|e| {
            let path = e.path().to_string();
            let message = e.inner().to_string();
            let field = field_of(&path, &message);
            self.error(field, Error::invalid(message))
        })
    }

    /// A string in meta at a dotted path (`command.name`).
    pub fn meta_str(&self, path: &str) -> Option<&str> {
        self.meta_value(path).and_then(Value::as_str)
    }

    /// A value in meta at a dotted path (`command.name`); an exact key with dots is tried first.
    pub fn meta_value(&self, path: &str) -> Option<&Value> {
        if let Some(v) = self.meta.get(path) {
            return Some(v);
        }
        let (first, rest) = path.split_once('.')?;
        self.meta.get(first)?.get_path(rest)
    }

    /// The data as a map (empty for a non-map, which the loader never produces).
    pub fn data_map(&self) -> &Map {
        static EMPTY: std::sync::OnceLock<Map> = std::sync::OnceLock::new();
        self.data
            .as_map()
            .unwrap_or_else(|| EMPTY.get_or_init(Map::new))
    }

    /// An [`EntryError`] about this entry.
    pub fn error(&self, field: Option<String>, error: Error) -> EntryError {
        EntryError {
            id: self.id.clone(),
            kind: self.kind.clone(),
            source: self.source.clone(),
            field,
            error,
        }
    }
}

/// The field a decode error is about: the path, extended by the name in "missing field `x`".
fn field_of(path: &str, message: &str) -> Option<String> {
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(name, _)| name);
    match (path, missing) {
        (".", Some(name)) => Some(name.to_string()),
        (".", None) => None,
        (p, Some(name)) => Some(format!("{p}.{name}")),
        (p, None) => Some(p.to_string()),
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        Ok(())
    }
}

impl fmt::Display for EntryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.source.file.as_os_str().is_empty() {
            write!(f, "{}: ", self.source)?;
        }
        write!(f, "entry {}", self.id)?;
        if !self.kind.is_empty() {
            write!(f, " ({})", self.kind)?;
        }
        if let Some(field) = &self.field {
            write!(f, ": field {field}")?;
        }
        write!(f, ": {}", self.error)
    }
}

impl std::error::Error for EntryError {}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use weft_core::ErrorKind;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Pool {
        size: u32,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Config {
        source: String,
        pool: Option<Pool>,
    }

    fn entry(data: &str) -> Entry {
        let mut e = Entry::new(EntryId::new("app", "f"), "function.lua");
        e.data = serde_json::from_str(data).unwrap();
        e.source = Source {
            file: "src/_index.yaml".into(),
            line: Some(4),
        };
        e
    }

    #[test]
    fn decode_names_the_field_path() {
        let e = entry(r#"{"source":"x","pool":{"size":"big"}}"#);
        let err = e.decode::<Config>().unwrap_err();
        assert_eq!(err.field.as_deref(), Some("pool.size"));
        assert_eq!(err.error.kind(), ErrorKind::Invalid);
        let text = err.to_string();
        assert!(
            text.starts_with("src/_index.yaml:4: entry app:f (function.lua): field pool.size: "),
            "{text}"
        );
    }

    #[test]
    fn decode_names_missing_fields() {
        let err = entry("{}").decode::<Config>().unwrap_err();
        assert_eq!(err.field.as_deref(), Some("source"));
        let err = entry(r#"{"pool":{}}"#).decode::<Config>().unwrap_err();
        assert_eq!(err.field.as_deref(), Some("pool.size"));
        let c: Config = entry(r#"{"source":"x","extra":1}"#).decode().unwrap();
        assert_eq!(c.source, "x");
    }

    #[test]
    fn meta_str_follows_dotted_paths() {
        let mut e = entry("{}");
        e.meta = serde_json::from_str(r#"{"command":{"name":"hi"},"a.b":"exact"}"#).unwrap();
        assert_eq!(e.meta_str("command.name"), Some("hi"));
        assert_eq!(e.meta_str("a.b"), Some("exact"));
        assert_eq!(e.meta_str("command.nope"), None);
        assert_eq!(e.meta_str("command"), None);
    }

    #[test]
    fn entry_error_omits_unknown_parts() {
        let e = Entry::new(EntryId::new("app", "x"), "");
        let err = e.error(None, Error::invalid("bad"));
        assert_eq!(err.to_string(), "entry app:x: bad");
    }
}

//! Entry overrides (reference §1.9): config `override.<ns>:<entry>:<path>` keys and CLI
//! `-o ns:entry:path=value`, applied to the loaded entries.

use std::sync::Arc;

use indexmap::IndexMap;
use weft_core::{EntryId, Map, Value};

use crate::config::Config;
use crate::entry::Entry;
use crate::error::LoadError;

/// One override to apply.
#[derive(Clone, Debug)]
pub(crate) struct Override {
    /// The override as written, for messages.
    key: String,
    /// The entry it targets.
    id: EntryId,
    /// `kind`, `meta.x.y`, or a dotted data path.
    path: String,
    /// The new value.
    value: Value,
}

/// Collects the config overrides, then the CLI ones (so the CLI wins); malformed ones go
/// to `errors`.
pub(crate) fn collect(
    config: &Config,
    cli: &[String],
    errors: &mut Vec<LoadError>,
) -> Vec<Override> {
    let mut out = Vec::new();
    let from_config = config.section("override").map(|(target, value)| {
        let value = match value.as_str() {
            Some(text) => coerce(text),
            None => value.clone(),
        };
        (target.to_string(), value)
    });
    let from_cli = cli.iter().map(|arg| match arg.split_once('=') {
        Some((target, value)) => (target.to_string(), Ok(coerce(value))),
        None => (arg.clone(), Err(())),
    });
    for (target, value) in from_config.map(|(t, v)| (t, Ok(v))).chain(from_cli) {
        let Ok(value) = value else {
            errors.push(LoadError::Override {
                key: target,
                message: "expected ns:entry:path=value".into(),
            });
            continue;
        };
        match parse_target(&target) {
            Some((id, path)) => out.push(Override {
                key: target.clone(),
                id,
                path,
                value,
            }),
            None => errors.push(LoadError::Override {
                key: target,
                message: "expected ns:entry:path (all three parts non-empty)".into(),
            }),
        }
    }
    out
}

/// Applies overrides in order; returns the ones that cannot be applied.
pub(crate) fn apply(entries: &mut IndexMap<EntryId, Entry>, list: &[Override]) -> Vec<LoadError> {
    let mut errors = Vec::new();
    for o in list {
        let err = |message: String| LoadError::Override {
            key: o.key.clone(),
            message,
        };
        let Some(entry) = entries.get_mut(&o.id) else {
            errors.push(err(format!("entry {} not found", o.id)));
            continue;
        };
        if let Err(message) = apply_one(entry, &o.path, o.value.clone()) {
            errors.push(err(message));
        }
    }
    errors
}

/// Sets one path of one entry.
fn apply_one(entry: &mut Entry, path: &str, value: Value) -> Result<(), String> {
    if path == "kind" {
        return match value.as_str() {
            Some(kind) if !kind.trim().is_empty() => {
                entry.kind = kind.to_string();
                Ok(())
            }
            _ => Err("kind must be a non-empty string".into()),
        };
    }
    let segments: Vec<&str> = path.split('.').collect();
    if segments.iter().any(|s| s.is_empty()) {
        return Err(format!("empty segment in path {path}"));
    }
    match segments.split_first() {
        Some((&"meta", rest)) if !rest.is_empty() => {
            let mut meta = Value::map(std::mem::take(&mut entry.meta));
            let result = set_path(&mut meta, rest, value, "meta");
            entry.meta = match meta {
                Value::Map(m) => Arc::unwrap_or_clone(m),
                _ => Map::new(),
            };
            result
        }
        _ => set_path(&mut entry.data, &segments, value, ""),
    }
}

/// Sets `value` at `segments` inside `target`, creating maps on the way; list items are
/// addressed by index. `done` is the path walked so far, for messages.
fn set_path(target: &mut Value, segments: &[&str], value: Value, done: &str) -> Result<(), String> {
    let Some((first, rest)) = segments.split_first() else {
        *target = value;
        return Ok(());
    };
    let here = if done.is_empty() {
        first.to_string()
    } else {
        format!("{done}.{first}")
    };
    if target.is_nil() {
        *target = Value::map(Map::new());
    }
    match target {
        Value::Map(map) => {
            let child = Arc::make_mut(map)
                .entry(first.to_string())
                .or_insert(Value::Nil);
            set_path(child, rest, value, &here)
        }
        Value::Array(items) => {
            let items = Arc::make_mut(items);
            let len = items.len();
            let child = first
                .parse::<usize>()
                .ok()
                .and_then(|i| items.get_mut(i))
                .ok_or_else(|| format!("{here}: no list item {first} (the list has {len})"))?;
            set_path(child, rest, value, &here)
        }
        other => Err(format!(
            "cannot set {here}: {} is a {}, not a mapping",
            if done.is_empty() { "the data" } else { done },
            other.type_name()
        )),
    }
}

/// Splits `ns:entry:path` at its first two colons.
fn parse_target(target: &str) -> Option<(EntryId, String)> {
    let mut parts = target.splitn(3, ':');
    let ns = parts.next()?.trim();
    let name = parts.next()?.trim();
    let path = parts.next()?.trim();
    if ns.is_empty() || name.is_empty() || path.is_empty() {
        return None;
    }
    Some((EntryId::new(ns, name), path.to_string()))
}

/// Coerces override text: `true`/`false` → bool, integer text → int, float text
/// (containing `.`, `e` or `E`) → float, anything else stays a string.
pub(crate) fn coerce(text: &str) -> Value {
    match text {
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        _ => {}
    }
    if let Ok(i) = text.parse::<i64>() {
        return Value::Int(i);
    }
    if text.contains(['.', 'e', 'E'])
        && let Ok(f) = text.parse::<f64>()
    {
        return Value::Float(f);
    }
    Value::str(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coercion_follows_the_reference() {
        assert_eq!(coerce("true"), Value::Bool(true));
        assert_eq!(coerce("false"), Value::Bool(false));
        assert_eq!(coerce("42"), Value::Int(42));
        assert_eq!(coerce("-3"), Value::Int(-3));
        assert_eq!(coerce("2.5"), Value::Float(2.5));
        assert_eq!(coerce("1e3"), Value::Float(1000.0));
        assert_eq!(coerce("e"), Value::str("e"));
        assert_eq!(coerce("True"), Value::str("True"));
        assert_eq!(coerce(""), Value::str(""));
    }

    #[test]
    fn set_path_creates_maps_and_indexes_lists() {
        let mut v: Value =
            serde_json::from_str(r#"{"wasi":{"mounts":[{"fs":"a"}]},"s":"x"}"#).unwrap();
        set_path(&mut v, &["wasi", "mounts", "0", "fs"], Value::str("b"), "").unwrap();
        set_path(&mut v, &["pool", "size"], Value::Int(4), "").unwrap();
        assert_eq!(
            v.get_path("wasi.mounts")
                .and_then(Value::as_array)
                .and_then(|a| a[0].get("fs"))
                .and_then(Value::as_str),
            Some("b")
        );
        assert_eq!(v.get_path("pool.size"), Some(&Value::Int(4)));
        let e = set_path(&mut v, &["s", "x"], Value::Nil, "").unwrap_err();
        assert!(e.contains("s is a string"), "{e}");
        let e = set_path(&mut v, &["wasi", "mounts", "7"], Value::Nil, "").unwrap_err();
        assert!(e.contains("no list item 7"), "{e}");
    }
}

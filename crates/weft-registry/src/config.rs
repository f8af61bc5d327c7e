//! [`Config`]: the runtime config from `.wippy.yaml`, flattened to dotted keys.

use std::path::Path;
use std::time::Duration;

use indexmap::IndexMap;
use weft_core::{BoundedRead, MAX_TEXT_FILE_BYTES, Map, Value};

use crate::error::LoadError;
use crate::yaml;

/// The only config file version weft understands.
const CONFIG_VERSION: &str = "1.0";

/// Runtime config: flattened dotted keys from `.wippy.yaml` (`security.strict_mode` → value).
#[derive(Clone, Debug, Default)]
pub struct Config {
    values: IndexMap<String, Value>,
}

impl Config {
    /// The value at a dotted key.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.values.get(key)
    }

    /// A boolean at `key` (also `"true"`/`"false"` text), or `default`.
    pub fn bool_or(&self, key: &str, default: bool) -> bool {
        match self.get(key) {
            Some(Value::Bool(b)) => *b,
            Some(v) => match v.as_str().map(str::trim) {
                Some("true") => true,
                Some("false") => false,
                _ => default,
            },
            None => default,
        }
    }

    /// A duration at `key` (see [`duration_of`]: Go duration text such as `"30s"`,
    /// `"1m30s"`, `"250ms"`, or seconds); `default` when absent, unreadable or negative.
    pub fn duration_or(&self, key: &str, default: Duration) -> Duration {
        self.get(key)
            .and_then(|v| duration_of(v).ok())
            .unwrap_or(default)
    }

    /// A string at `key`, or `default`.
    pub fn str_or<'a>(&'a self, key: &str, default: &'a str) -> &'a str {
        self.get(key).and_then(Value::as_str).unwrap_or(default)
    }

    /// Sets a dotted key (CLI `--set`, tests).
    pub fn set(&mut self, key: impl Into<String>, value: Value) {
        self.values.insert(key.into(), value);
    }

    /// Every key and value, in file order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The keys under `prefix.` with the prefix removed, in file order.
    pub fn section<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a str, &'a Value)> {
        self.iter().filter_map(move |(k, v)| {
            k.strip_prefix(prefix)
                .and_then(|rest| rest.strip_prefix('.'))
                .map(|rest| (rest, v))
        })
    }
}

/// Reads a config file; `shown` is the name used in messages. A regular file of at most
/// [`MAX_TEXT_FILE_BYTES`], inside `root` (links resolved) when one is given.
pub(crate) fn read_config(
    path: &Path,
    shown: &Path,
    root: Option<&Path>,
) -> Result<Config, LoadError> {
    let read = BoundedRead::new(MAX_TEXT_FILE_BYTES);
    let read = match root {
        Some(root) => read.within(root),
        None => read,
    };
    let text = read.text(path).map_err(|e| LoadError::Config {
        file: shown.to_path_buf(),
        message: e.shown_as(Path::new("config file")).to_string(),
    })?;
    parse_config(&text, shown)
}

/// Parses config text: a `version: "1.0"` and sections that are mappings.
pub(crate) fn parse_config(text: &str, shown: &Path) -> Result<Config, LoadError> {
    let doc = yaml::parse(text, shown)?;
    let err = |message: String| LoadError::Config {
        file: shown.to_path_buf(),
        message,
    };
    let empty = Map::new();
    let top = match &doc {
        Value::Map(m) => m.as_ref(),
        Value::Nil => &empty,
        other => {
            return Err(err(format!(
                "config must be a mapping, found {}",
                other.type_name()
            )));
        }
    };
    match top.get("version") {
        None | Some(Value::Nil) => return Err(err("missing version field".into())),
        Some(v) if is_supported_version(v) => {}
        Some(v) => {
            return Err(err(format!(
                "unsupported config version: {} (expected \"{CONFIG_VERSION}\")",
                v.to_display_string()
            )));
        }
    }
    let mut config = Config::default();
    for (section, value) in top {
        if section == "version" {
            continue;
        }
        match value {
            Value::Map(m) => flatten(section, m, &mut config.values),
            Value::Nil => {}
            other => {
                return Err(err(format!(
                    "config section {section} must be a mapping, found {}",
                    other.type_name()
                )));
            }
        }
    }
    Ok(config)
}

/// `"1.0"`, or a YAML float written `1.0`.
fn is_supported_version(v: &Value) -> bool {
    match v {
        Value::Float(f) => *f == 1.0,
        other => other.as_str().map(str::trim) == Some(CONFIG_VERSION),
    }
}

/// Adds every leaf of `map` under `prefix.` to `out`.
fn flatten(prefix: &str, map: &Map, out: &mut IndexMap<String, Value>) {
    for (k, v) in map {
        let key = format!("{prefix}.{k}");
        match v {
            Value::Map(inner) if !inner.is_empty() => flatten(&key, inner, out),
            _ => {
                out.insert(key, v.clone());
            }
        }
    }
}

/// A duration from a config value: integer or float seconds, a string of digits (seconds)
/// or Go duration text (`"1s"`, `"1m30s"`, `"250ms"`, parsed by [`weft_time`]). Negative
/// values are rejected. The error text says what is wrong with the value.
pub fn duration_of(value: &Value) -> Result<Duration, String> {
    let negative = || format!("must not be negative, got {}", value.to_display_string());
    match value {
        Value::Int(i) => u64::try_from(*i)
            .map(Duration::from_secs)
            .map_err(|_| negative()),
        Value::Float(f) if *f < 0.0 => Err(negative()),
        Value::Float(f) => Duration::try_from_secs_f64(*f).map_err(|e| e.to_string()),
        Value::Str(_) => {
            let text = value.as_str().unwrap_or_default().trim();
            if text.starts_with('-') {
                return Err(negative());
            }
            if let Ok(secs) = text.parse::<u64>() {
                return Ok(Duration::from_secs(secs));
            }
            weft_time::parse_std_duration(text).map_err(|_| {
                format!("invalid duration {text:?} (expected e.g. \"1s\", \"250ms\" or seconds)")
            })
        }
        other => Err(format!(
            "expected a duration (\"1s\", \"250ms\" or seconds), got {}",
            other.type_name()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, LoadError> {
        parse_config(text, Path::new(".wippy.yaml"))
    }

    #[test]
    fn sections_flatten_to_dotted_keys() {
        let c = parse(
            "version: \"1.0\"\nsecurity:\n  strict_mode: true\nlua:\n  type_system:\n    enabled: false\nregistry:\n  event_wait_timeout: 2m\n",
        )
        .unwrap();
        assert!(c.bool_or("security.strict_mode", false));
        assert!(!c.bool_or("lua.type_system.enabled", true));
        assert!(c.bool_or("lua.type_system.strict", true));
        assert_eq!(
            c.duration_or("registry.event_wait_timeout", Duration::ZERO),
            Duration::from_secs(120)
        );
        assert_eq!(c.section("security").count(), 1);
    }

    #[test]
    fn version_is_required_and_checked() {
        let e = parse("security: {}\n").unwrap_err();
        assert!(e.to_string().ends_with("missing version field"), "{e}");
        let e = parse("version: \"2.0\"\n").unwrap_err();
        assert!(
            e.to_string().contains("unsupported config version: 2.0"),
            "{e}"
        );
        let e = parse("").unwrap_err();
        assert!(e.to_string().contains("missing version field"), "{e}");
        assert!(parse("version: 1.0\n").is_ok());
    }

    #[test]
    fn sections_must_be_mappings() {
        let e = parse("version: \"1.0\"\nsecurity: true\n").unwrap_err();
        assert!(
            e.to_string()
                .contains("config section security must be a mapping"),
            "{e}"
        );
    }

    #[test]
    fn malformed_config_reports_line() {
        let e = parse("version: \"1.0\"\nsecurity: [\n").unwrap_err();
        assert!(matches!(e, LoadError::Yaml { line: Some(_), .. }), "{e}");
    }

    #[test]
    fn go_durations() {
        let d = |s: &str| weft_time::parse_std_duration(s).ok();
        assert_eq!(d("30s"), Some(Duration::from_secs(30)));
        assert_eq!(d("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(d("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(d("1.5h"), Some(Duration::from_secs(5400)));
        assert_eq!(d("0"), Some(Duration::ZERO));
        assert_eq!(d("10"), None);
        assert_eq!(d("-1s"), None);
        assert_eq!(d("5x"), None);
        assert_eq!(d(""), None);
        let mut c = Config::default();
        c.set("a", Value::Int(7));
        c.set("b", Value::str("nonsense"));
        c.set("c", Value::str("12"));
        let dflt = Duration::from_secs(1);
        assert_eq!(c.duration_or("a", dflt), Duration::from_secs(7));
        assert_eq!(c.duration_or("b", dflt), dflt);
        assert_eq!(c.duration_or("c", dflt), Duration::from_secs(12));
        assert_eq!(c.duration_or("missing", dflt), dflt);
    }

    #[test]
    fn duration_values() {
        let ok = |v: Value| duration_of(&v).unwrap();
        assert_eq!(ok(Value::Int(0)), Duration::ZERO);
        assert_eq!(ok(Value::Float(1.5)), Duration::from_millis(1500));
        assert_eq!(ok(Value::str(" 12 ")), Duration::from_secs(12));
        assert_eq!(ok(Value::str("+12")), Duration::from_secs(12));
        assert_eq!(ok(Value::str("1.5s")), Duration::from_millis(1500));
        assert_eq!(ok(Value::str("5.s")), Duration::from_secs(5));
        assert_eq!(ok(Value::str("1h2m3.5s")), Duration::from_millis(3_723_500));
        assert_eq!(ok(Value::str("+0")), Duration::ZERO);
        assert_eq!(ok(Value::str("3µs")), Duration::from_micros(3));
        let err = |v: Value| duration_of(&v).unwrap_err();
        assert_eq!(err(Value::Int(-5)), "must not be negative, got -5");
        assert_eq!(err(Value::Float(-0.5)), "must not be negative, got -0.5");
        assert_eq!(err(Value::str("-1s")), "must not be negative, got -1s");
        assert_eq!(err(Value::str("-5")), "must not be negative, got -5");
        assert_eq!(
            err(Value::str("soon")),
            "invalid duration \"soon\" (expected e.g. \"1s\", \"250ms\" or seconds)"
        );
        assert!(err(Value::str("100000000h")).starts_with("invalid duration"));
        assert!(err(Value::Float(f64::INFINITY)).contains("too big"));
        assert_eq!(
            err(Value::Bool(true)),
            "expected a duration (\"1s\", \"250ms\" or seconds), got boolean"
        );
        assert!(err(Value::Nil).starts_with("expected a duration"));
    }
}

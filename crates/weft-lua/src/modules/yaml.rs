//! The `yaml` module (Wippy's `yaml` spec): `encode(table, options?)` and
//! `decode(text)`, with `serde_yaml_ng`.
//!
//! Encoding copies the table with weft's value conversion (`convert::to_value`: arrays
//! for tables with a sequence, maps otherwise, nesting and cycles capped at
//! [`convert::MAX_DEPTH`]) and writes map keys sorted, so the text is deterministic;
//! `field_order` puts the keys it names first, at every level; strings must be UTF-8.
//! Decoding reads the first document, applies merge keys (`<<`), drops custom tags and
//! converts through [`Value`]; text nesting
//! deeper than [`convert::MAX_DEPTH`] is refused by a linear scan before the parser
//! (whose time grows with the square of the nesting) runs.

use mlua::{Lua, MultiValue, Table, Value as LuaValue};
use serde::Deserialize as _;
use weft_core::{Error, Value};

use crate::convert;
use crate::errors;
use crate::modules::args;

/// Builds the `yaml` module table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "encode",
        lua.create_function(|lua, args: MultiValue| match encode(lua, args) {
            Ok(text) => Ok((LuaValue::String(lua.create_string(text)?), LuaValue::Nil)),
            Err(e) => errors::fail(lua, e),
        })?,
    )?;
    t.set(
        "decode",
        lua.create_function(|lua, args: MultiValue| match decode(args) {
            Ok(v) => Ok((convert::to_lua(lua, &v)?, LuaValue::Nil)),
            Err(e) => errors::fail(lua, e),
        })?,
    )?;
    Ok(t)
}

/// `yaml.encode(data, options?)`: Invalid for a non-table, a bad option or a table that
/// nests too deep (a cycle); Internal if the serializer fails.
fn encode(lua: &Lua, args: MultiValue) -> Result<String, Error> {
    const FUNC: &str = "yaml.encode";
    let args = args::at_most(FUNC, args, 2)?;
    let data = &args[0];
    if !matches!(data, LuaValue::Table(_)) {
        return Err(args::expected(FUNC, "data", "a table", data));
    }
    let opts = args::options(FUNC, &args[1])?;
    let order = args::strings_field(FUNC, opts.as_ref(), "field_order")?.unwrap_or_default();
    // Keys the order does not name are always sorted; the flag is read for its type.
    args::bool_field(FUNC, opts.as_ref(), "sort_unordered")?;
    let value = convert::to_value(lua, data)
        .map_err(|e| Error::invalid(format!("{FUNC}: cannot encode data: {}", e.message())))?;
    let value = ordered(&value, &order).ok_or_else(|| {
        Error::invalid(format!(
            "{FUNC}: cannot encode data: a string is not UTF-8 text (YAML holds text only)"
        ))
    })?;
    serde_yaml_ng::to_string(&value)
        .map_err(|e| args::internal(format!("{FUNC}: encode failed: {e}")))
}

/// `yaml.decode(text)`: Invalid for a non-string or empty input; Internal for text that
/// is not YAML (the message names the line and column) or nests too deep.
fn decode(args: MultiValue) -> Result<Value, Error> {
    const FUNC: &str = "yaml.decode";
    let args = args::at_most(FUNC, args, 1)?;
    let bytes = args::bytes(FUNC, "data", &args[0])?;
    if bytes.is_empty() {
        return Err(Error::invalid(format!("{FUNC}: data is empty")));
    }
    let text = std::str::from_utf8(&bytes)
        .map_err(|e| args::internal(format!("{FUNC}: invalid YAML: not UTF-8 text ({e})")))?;
    if let Some((line, column)) = weft_registry::yaml_too_deep(text, convert::MAX_DEPTH) {
        return Err(args::internal(format!(
            "{FUNC}: invalid YAML: collections nest deeper than {} levels at line {line} \
             column {column}",
            convert::MAX_DEPTH
        )));
    }
    let invalid = |e: serde_yaml_ng::Error| args::internal(format!("{FUNC}: invalid YAML: {e}"));
    let Some(document) = serde_yaml_ng::Deserializer::from_str(text).next() else {
        return Ok(Value::Nil);
    };
    let mut yaml = serde_yaml_ng::Value::deserialize(document).map_err(invalid)?;
    yaml.apply_merge().map_err(invalid)?;
    Value::deserialize(untagged(yaml)).map_err(invalid)
}

/// `v` with every map's keys in `order` first, then sorted; `None` if a string in it is
/// not UTF-8 (the serializer would replace its bytes).
fn ordered(v: &Value, order: &[String]) -> Option<Value> {
    Some(match v {
        Value::Str(bytes) => {
            std::str::from_utf8(bytes).ok()?;
            v.clone()
        }
        Value::Array(items) => Value::array(
            items
                .iter()
                .map(|i| ordered(i, order))
                .collect::<Option<_>>()?,
        ),
        Value::Map(map) => {
            let rank = |k: &str| order.iter().position(|o| o == k).unwrap_or(order.len());
            let mut entries = map
                .iter()
                .map(|(k, item)| Some((k.clone(), ordered(item, order)?)))
                .collect::<Option<Vec<(String, Value)>>>()?;
            entries.sort_by(|(a, _), (b, _)| rank(a).cmp(&rank(b)).then_with(|| a.cmp(b)));
            Value::map(entries.into_iter().collect())
        }
        other => other.clone(),
    })
}

/// `v` with its tags dropped (`!custom 1` reads as 1; YAML's own tags are resolved by
/// the parser already).
fn untagged(v: serde_yaml_ng::Value) -> serde_yaml_ng::Value {
    use serde_yaml_ng::Value as Yaml;
    match v {
        Yaml::Tagged(tagged) => untagged(tagged.value),
        Yaml::Sequence(items) => Yaml::Sequence(items.into_iter().map(untagged).collect()),
        Yaml::Mapping(map) => Yaml::Mapping(
            map.into_iter()
                .map(|(k, item)| (untagged(k), untagged(item)))
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(text: &str) -> Result<Value, Error> {
        let lua = Lua::new();
        let arg = LuaValue::String(lua.create_string(text).unwrap());
        decode(MultiValue::from_vec(vec![arg]))
    }

    #[test]
    fn merge_keys_apply_and_only_the_first_document_is_read() {
        let v = decoded("base: &b {x: 1, y: 2}\nitem:\n  <<: *b\n  y: 3\n---\nz: 9\n").unwrap();
        let item = v.get("item").unwrap();
        assert_eq!(item.get("x"), Some(&Value::Int(1)));
        assert_eq!(item.get("y"), Some(&Value::Int(3)));
        assert!(v.get("z").is_none());
    }

    #[test]
    fn nesting_past_the_cap_is_refused_before_parsing() {
        let deep = "a: ".to_string() + &"[".repeat(100_000);
        let started = std::time::Instant::now();
        let e = decoded(&deep).unwrap_err();
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        assert!(
            e.message().contains("deeper than 128 levels at line 1"),
            "{e}"
        );
        let ok = "a: ".to_string() + &"[".repeat(100) + &"]".repeat(100);
        assert!(decoded(&ok).is_ok());
    }

    #[test]
    fn aliases_cannot_expand_without_bound() {
        let mut text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n".to_string();
        for (prev, name) in ["a", "b", "c", "d", "e", "f", "g", "h"]
            .iter()
            .zip("bcdefghi".chars())
        {
            let refs = vec![format!("*{prev}"); 10].join(", ");
            text.push_str(&format!("{name}: &{name} [{refs}]\n"));
        }
        let e = decoded(&text).unwrap_err();
        assert!(e.message().contains("repetition limit exceeded"), "{e}");
    }

    #[test]
    fn field_order_comes_first_then_sorted_keys() {
        let v = Value::from_pairs([
            ("zeta", Value::Int(1)),
            ("name", Value::Int(2)),
            (
                "alpha",
                Value::from_pairs([("b", Value::Int(3)), ("name", Value::Int(4))]),
            ),
        ]);
        let text = serde_yaml_ng::to_string(&ordered(&v, &["name".to_string()]).unwrap()).unwrap();
        assert_eq!(text, "name: 2\nalpha:\n  name: 4\n  b: 3\nzeta: 1\n");
    }
}

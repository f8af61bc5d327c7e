//! [`Value`]: the interchange form between Lua, WASM, HTTP and process messages.
//!
//! A `Value` is `Send + Sync` and cheap to clone: strings, arrays and maps are reference
//! counted. Nothing of a Lua VM or a WASM store ever lives inside a `Value`: crossing an
//! engine boundary is a deep copy into this form.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use indexmap::IndexMap;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use crate::Error;

/// An ordered map with string keys, the payload of [`Value::Map`].
pub type Map = IndexMap<String, Value>;

/// A dynamically typed value.
#[derive(Clone, Default)]
pub enum Value {
    /// The absence of a value (Lua `nil`, JSON `null`, WIT `none`).
    #[default]
    Nil,
    /// A boolean.
    Bool(bool),
    /// A 64-bit signed integer.
    Int(i64),
    /// A 64-bit float.
    Float(f64),
    /// A byte string; usually, but not necessarily, UTF-8.
    Str(Bytes),
    /// An ordered sequence.
    Array(Arc<Vec<Value>>),
    /// An ordered map with string keys.
    Map(Arc<Map>),
    /// An error value (a Lua error object passed as data, a process exit error).
    Error(Arc<Error>),
}

impl Value {
    /// A string value from anything string-like.
    pub fn str(s: impl Into<String>) -> Value {
        Value::Str(Bytes::from(s.into()))
    }

    /// A byte-string value.
    pub fn bytes(b: impl Into<Bytes>) -> Value {
        Value::Str(b.into())
    }

    /// An array value.
    pub fn array(items: Vec<Value>) -> Value {
        Value::Array(Arc::new(items))
    }

    /// A map value.
    pub fn map(m: Map) -> Value {
        Value::Map(Arc::new(m))
    }

    /// A map value from `(key, value)` pairs.
    pub fn from_pairs<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::map(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// The name of this value's type, as used in error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::Array(_) => "array",
            Value::Map(_) => "map",
            Value::Error(_) => "error",
        }
    }

    /// True for [`Value::Nil`].
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    /// The string, if this is a UTF-8 string value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(b) => std::str::from_utf8(b).ok(),
            _ => None,
        }
    }

    /// The raw bytes of a string value.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Str(b) => Some(b),
            _ => None,
        }
    }

    /// The integer, if this is an integer or an integral float.
    pub fn as_int(&self) -> Option<i64> {
        match *self {
            Value::Int(i) => Some(i),
            Value::Float(f) if f.fract() == 0.0 && f >= -(2f64.powi(63)) && f < 2f64.powi(63) => {
                Some(f as i64)
            }
            _ => None,
        }
    }

    /// The number as a float, for integers and floats.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::Int(i) => Some(i as f64),
            Value::Float(f) => Some(f),
            _ => None,
        }
    }

    /// The boolean, if this is a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The map, if this is a map.
    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The items, if this is an array.
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// A field of a map value (`None` for other values or a missing key).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_map().and_then(|m| m.get(key))
    }

    /// Follows a dotted path (`a.b.c`) through nested maps.
    pub fn get_path(&self, path: &str) -> Option<&Value> {
        path.split('.').try_fold(self, |v, k| v.get(k))
    }

    /// The value as text for people: scalars plainly, bytes lossily, containers in debug form.
    pub fn to_display_string(&self) -> String {
        match self {
            Value::Nil => "nil".into(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => format_float(*f),
            Value::Str(b) => String::from_utf8_lossy(b).into_owned(),
            Value::Error(e) => e.to_string(),
            Value::Array(_) | Value::Map(_) => format!("{self:?}"),
        }
    }
}

/// Formats a float the way Lua prints it: integral floats keep a `.0`.
fn format_float(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e16 {
        format!("{f:.1}")
    } else {
        f.to_string()
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Nil, Value::Nil) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a == b,
            (Value::Int(a), Value::Float(b)) | (Value::Float(b), Value::Int(a)) => {
                (*a as f64) == *b && b.fract() == 0.0
            }
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::Array(a), Value::Array(b)) => a == b,
            (Value::Map(a), Value::Map(b)) => a == b,
            (Value::Error(a), Value::Error(b)) => a.to_string() == b.to_string(),
            _ => false,
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => f.write_str("nil"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => f.write_str(&format_float(*x)),
            Value::Str(b) => write!(f, "{:?}", String::from_utf8_lossy(b)),
            Value::Array(a) => f.debug_list().entries(a.iter()).finish(),
            Value::Map(m) => f.debug_map().entries(m.iter()).finish(),
            Value::Error(e) => write!(f, "error({e})"),
        }
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<i32> for Value {
    fn from(i: i32) -> Self {
        Value::Int(i.into())
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::str(s)
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::str(s)
    }
}

impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Self {
        Value::array(v)
    }
}

impl From<Map> for Value {
    fn from(m: Map) -> Self {
        Value::map(m)
    }
}

impl From<Error> for Value {
    fn from(e: Error) -> Self {
        Value::Error(Arc::new(e))
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(o: Option<T>) -> Self {
        o.map_or(Value::Nil, Into::into)
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Nil => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            Value::Float(f) => s.serialize_f64(*f),
            Value::Str(b) => match std::str::from_utf8(b) {
                Ok(text) => s.serialize_str(text),
                Err(_) => s.serialize_str(&String::from_utf8_lossy(b)),
            },
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items.iter() {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Map(m) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                for (k, v) in m.iter() {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
            Value::Error(e) => s.serialize_str(&e.to_string()),
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

/// Builds a [`Value`] from any self-describing format (YAML, JSON).
struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
        Ok(Value::Int(i))
    }

    fn visit_u64<E: de::Error>(self, u: u64) -> Result<Value, E> {
        i64::try_from(u)
            .map(Value::Int)
            .or(Ok(Value::Float(u as f64)))
    }

    fn visit_f64<E>(self, f: f64) -> Result<Value, E> {
        Ok(Value::Float(f))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::str(s))
    }

    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::str(s))
    }

    fn visit_bytes<E>(self, b: &[u8]) -> Result<Value, E> {
        Ok(Value::bytes(b.to_vec()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::with_capacity(access.size_hint().unwrap_or(0));
        while let Some((key, value)) = access.next_entry::<Value, Value>()? {
            let key = match key {
                Value::Str(_) => key.to_display_string(),
                Value::Nil => "null".to_string(),
                other => other.to_display_string(),
            };
            map.insert(key, value);
        }
        Ok(Value::map(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_keeps_order_and_types() {
        let v: Value = serde_json::from_str(r#"{"b":1,"a":[true,2.5,"x",null]}"#).unwrap();
        let m = v.as_map().unwrap();
        assert_eq!(m.keys().collect::<Vec<_>>(), ["b", "a"]);
        assert_eq!(v.get("b"), Some(&Value::Int(1)));
        assert_eq!(
            v.get("a").unwrap().as_array().unwrap()[1],
            Value::Float(2.5)
        );
        let back = serde_json::to_string(&v).unwrap();
        assert_eq!(back, r#"{"b":1,"a":[true,2.5,"x",null]}"#);
    }

    #[test]
    fn int_and_float_compare_by_value() {
        assert_eq!(Value::Int(3), Value::Float(3.0));
        assert_ne!(Value::Int(3), Value::Float(3.5));
        assert_ne!(Value::Int(1), Value::str("1"));
    }

    #[test]
    fn get_path_walks_maps() {
        let v: Value = serde_json::from_str(r#"{"meta":{"command":{"name":"hi"}}}"#).unwrap();
        assert_eq!(
            v.get_path("meta.command.name").unwrap().as_str(),
            Some("hi")
        );
        assert!(v.get_path("meta.nope.name").is_none());
    }

    #[test]
    fn as_int_accepts_integral_floats_only() {
        assert_eq!(Value::Float(4.0).as_int(), Some(4));
        assert_eq!(Value::Float(4.5).as_int(), None);
        assert_eq!(Value::Float(1e300).as_int(), None);
        assert_eq!(Value::str("4").as_int(), None);
    }

    #[test]
    fn non_string_map_keys_are_stringified() {
        let v: Value = serde_json::from_str(r#"{"1":"a"}"#).unwrap();
        assert_eq!(v.get("1").unwrap().as_str(), Some("a"));
    }

    #[test]
    fn display_of_floats_keeps_fraction_marker() {
        assert_eq!(Value::Float(2.0).to_display_string(), "2.0");
        assert_eq!(Value::Float(2.5).to_display_string(), "2.5");
        assert_eq!(Value::Int(2).to_display_string(), "2");
    }
}

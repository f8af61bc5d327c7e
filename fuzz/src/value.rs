//! Arbitrary [`Value`]s with the edges the converters care about.

use arbitrary::{Result, Unstructured};
use weft_core::{Error, ErrorKind, Map, Value};

/// Names used as map keys and strings: WIT field, case and flag names, result arms.
pub const NAMES: &[&str] = &[
    "a",
    "b",
    "c",
    "x",
    "y",
    "ok",
    "err",
    "name",
    "tags",
    "id",
    "none",
    "some",
    "value",
    "key",
    "first-name",
    "x1",
    "empty",
    "circle",
    "r",
    "g",
];

/// Integers at the edges of the WIT integer types.
const INTS: &[i64] = &[
    0,
    1,
    -1,
    127,
    128,
    -128,
    -129,
    255,
    256,
    32767,
    32768,
    -32768,
    65535,
    65536,
    i32::MAX as i64,
    i32::MIN as i64,
    u32::MAX as i64,
    1 << 32,
    0xD800,
    0x10FFFF,
    0x110000,
    i64::MAX,
    i64::MIN,
];

/// Floats at the edges: NaN, infinities, signed zero, `f32` limits, non-integers.
const FLOATS: &[f64] = &[
    0.0,
    -0.0,
    0.5,
    -1.5,
    1.0,
    255.0,
    256.0,
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f32::MAX as f64,
    1e39,
    -1e39,
    9007199254740992.0,
    9223372036854775808.0,
    18446744073709551615.0,
    1.8446744073709552e19,
    -9223372036854775808.0,
    f64::MIN_POSITIVE,
    f64::MAX,
];

/// An integer, mostly from the edges.
pub fn int(u: &mut Unstructured) -> Result<i64> {
    if u.ratio(2, 3)? {
        Ok(*u.choose(INTS)?)
    } else {
        u.arbitrary()
    }
}

/// A float, mostly from the edges.
pub fn float(u: &mut Unstructured) -> Result<f64> {
    if u.ratio(2, 3)? {
        Ok(*u.choose(FLOATS)?)
    } else {
        u.arbitrary()
    }
}

/// A string: a known name, short UTF-8 text, or arbitrary bytes (maybe not UTF-8).
pub fn bytes(u: &mut Unstructured) -> Result<Vec<u8>> {
    Ok(match u.int_in_range(0..=4)? {
        0 | 1 => u.choose(NAMES)?.as_bytes().to_vec(),
        2 => {
            let c: char = u.arbitrary()?;
            c.to_string().into_bytes()
        }
        3 => {
            let s: String = u.arbitrary()?;
            s.chars().take(16).collect::<String>().into_bytes()
        }
        _ => {
            let len = u.int_in_range(0..=16)?;
            u.bytes(len)?.to_vec()
        }
    })
}

/// A map key: a known name or short text.
pub fn key(u: &mut Unstructured) -> Result<String> {
    if u.ratio(3, 4)? {
        Ok((*u.choose(NAMES)?).to_owned())
    } else {
        let s: String = u.arbitrary()?;
        Ok(s.chars().take(8).collect())
    }
}

/// An error value: a kind, a message and maybe details.
pub fn error(u: &mut Unstructured, depth: u32) -> Result<Error> {
    let kind = *u.choose(&ErrorKind::ALL)?;
    let message = String::from_utf8_lossy(&bytes(u)?).into_owned();
    let mut err = Error::new(kind, message).with_retryable(u.arbitrary()?);
    if u.ratio(1, 3)? {
        err = err.with_details(Some(value(u, depth + 1)?));
    }
    Ok(err)
}

/// An arbitrary value at most about `4 - depth` levels deep.
pub fn value(u: &mut Unstructured, depth: u32) -> Result<Value> {
    let leaf = depth >= 4 || u.is_empty();
    let choices = if leaf { 5 } else { 8 };
    Ok(match u.int_in_range(0..=choices)? {
        0 => Value::Nil,
        1 => Value::Bool(u.arbitrary()?),
        2 => Value::Int(int(u)?),
        3 => Value::Float(float(u)?),
        4 | 5 => Value::bytes(bytes(u)?),
        6 => {
            let n = u.int_in_range(0..=4)?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                items.push(value(u, depth + 1)?);
            }
            Value::array(items)
        }
        7 => {
            let n = u.int_in_range(0..=4)?;
            let mut map = Map::new();
            for _ in 0..n {
                map.insert(key(u)?, value(u, depth + 1)?);
            }
            Value::map(map)
        }
        _ => Value::from(error(u, depth)?),
    })
}

/// A chain of `depth` nested one-item arrays around a leaf (for the depth limits).
pub fn deep(u: &mut Unstructured, depth: usize) -> Result<Value> {
    let mut v = value(u, 4)?;
    for _ in 0..depth {
        v = if u.ratio(1, 2)? {
            Value::array(vec![v])
        } else {
            Value::from_pairs([("a", v)])
        };
    }
    Ok(v)
}

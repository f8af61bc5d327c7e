//! Type-directed conversion between weft [`Value`]s and wasmtime component [`Val`]s.
//!
//! Arguments are *lowered* against the function's WIT parameter types ([`lower_args`],
//! [`lower`]); a result is *lifted* back with its WIT type ([`lift_as`]). The mapping follows
//! DESIGN.md §7 and the Wippy reference §3.8, with weft's decisions:
//!
//! | WIT | lowering accepts | lifting gives |
//! |---|---|---|
//! | `bool` | a boolean only (no truthiness) | boolean |
//! | integers | an integer or an integral float, in range (never truncated) | integer; a `u64` above `i64::MAX` is an Internal error |
//! | `f32`, `f64` | any number; a finite number beyond `f32` is out of range; NaN is canonical | float (`f32` widened exactly) |
//! | `char` | a one-code-point string or an integer code point | a one-character string |
//! | `string` | a UTF-8 string | string |
//! | `list<u8>` | a byte string, or an array of integers 0..=255 | a byte string |
//! | `list<T>`, `tuple` | an array (an empty map `{}` is an empty array); tuples need the exact length | array, `{}` when empty (never nil) |
//! | `record` | a map keyed by the WIT field names; `option` fields may be absent (none), other fields are required; extra keys are ignored | map in field order (none fields are present as nil) |
//! | `option<T>` | nil → none, anything else → some | nil or the value |
//! | `result<T, E>` | a map with an `ok` key, else one with an `err` key | `{ok = v}` / `{err = e}` |
//! | `variant` | a map whose key is a case name (the first case in WIT order that is a key wins) | `{case = payload}` |
//! | `enum` | the case name, or its 0-based index | the case name |
//! | `flags` | an array of flag names, a `{name = true}` map, or a non-negative integer bitmask (bit i = i-th flag) | an array of the set flag names, in WIT order |
//! | `map<string, V>` | a map (an empty array counts as empty) | a map; other key types give an array of `{key, value}` pairs |
//! | resources, `future`, `stream`, `error-context` | Invalid: "type X is not supported from Lua" | the same error |
//!
//! Payload-less arms: an `ok`, `err` or variant case without a payload lifts to the value
//! `true` (`{ok = true}`, `{err = true}`, `{empty = true}`), so that `if r.ok then` works in
//! Lua and no arm lifts to an ambiguous `{}` (Wippy gives `{}` for a payload-less `ok`).
//! On lowering, the value under a payload-less arm's key is ignored, any value will do.
//! A key is present when the map has it, even with a nil value (Lua tables never hold nil;
//! JSON-born maps may, and `{"ok": null}` then means `ok(none)` for `result<option<T>, E>`).
//! The other way, `ok(none)` lifts to `{ok = nil}`, which a Lua table cannot hold: Lua sees
//! `{}`, and tells it from an error by `r.err == nil`.
//!
//! Error paths are the Lua access path to the offending value: `argument 1 (users)` for
//! the first parameter (named `users`), `[2]` for the 2nd element of an array (1-based,
//! as in Lua), `.tags` for a record field or map key, `.ok`/`.err` for result payloads,
//! `.circle` for a variant payload; an option is transparent (no segment). For example
//! `argument 1 (users)[2].tags[1]: expected string, got integer`. Lifting errors are
//! prefixed with `result` and the path when the bad value is nested (`result[3].id: …`).

use std::borrow::Cow;

use wasmtime::component::{Type, Val};
use weft_core::{Error, Map, Value};

mod blob;
mod path;
mod shape;

pub use blob::{Blob, BlobArg, BlobOut, BlobSig, lift_blob, lower_blob};
pub use path::ValuePath;
pub use shape::Shape;

/// Lowers call arguments for the function's `(name, type)` parameters, exactly one per parameter.
pub fn lower_args(params: &[(String, Type)], args: &[Value]) -> Result<Vec<Val>, Error> {
    let shapes: Vec<(String, Shape)> = params
        .iter()
        .map(|(name, ty)| (name.clone(), Shape::of(ty)))
        .collect();
    lower_planned(&shapes, args)
}

/// [`lower_args`] with the parameters' shapes built once (at load).
pub fn lower_planned(params: &[(String, Shape)], args: &[Value]) -> Result<Vec<Val>, Error> {
    check_arity(params.len(), args.len())?;
    params
        .iter()
        .zip(args)
        .enumerate()
        .map(|(i, ((name, shape), arg))| {
            lower_shape(shape, arg, &mut ValuePath::argument(i + 1, name))
        })
        .collect()
}

/// Checks that a call passes exactly one argument per parameter.
fn check_arity(params: usize, args: usize) -> Result<(), Error> {
    if params == args {
        return Ok(());
    }
    let plural = if params == 1 { "" } else { "s" };
    Err(Error::invalid(format!(
        "expected {params} argument{plural}, got {args}"
    )))
}

/// Lowers one value for type `ty`; `path` names where it is, for errors.
pub fn lower(ty: &Type, v: &Value, path: &mut ValuePath) -> Result<Val, Error> {
    lower_shape(&Shape::of(ty), v, path)
}

/// Lowers one value of shape `shape`; `path` names where it is, for errors.
fn lower_shape(shape: &Shape, v: &Value, path: &mut ValuePath) -> Result<Val, Error> {
    Ok(match shape {
        Shape::Bool => match v {
            Value::Bool(b) => Val::Bool(*b),
            _ => return Err(mismatch(path, "boolean", v)),
        },
        Shape::S8 => Val::S8(int_in(v, path, "s8", i8::MIN.into(), i8::MAX.into())? as i8),
        Shape::U8 => Val::U8(int_in(v, path, "u8", 0, u8::MAX.into())? as u8),
        Shape::S16 => Val::S16(int_in(v, path, "s16", i16::MIN.into(), i16::MAX.into())? as i16),
        Shape::U16 => Val::U16(int_in(v, path, "u16", 0, u16::MAX.into())? as u16),
        Shape::S32 => Val::S32(int_in(v, path, "s32", i32::MIN.into(), i32::MAX.into())? as i32),
        Shape::U32 => Val::U32(int_in(v, path, "u32", 0, u32::MAX.into())? as u32),
        Shape::S64 => Val::S64(int_in(v, path, "s64", i64::MIN.into(), i64::MAX.into())? as i64),
        Shape::U64 => Val::U64(int_in(v, path, "u64", 0, u64::MAX.into())? as u64),
        Shape::F32 => Val::Float32(lower_f32(v, path)?),
        Shape::F64 => {
            let f = number(v, path)?;
            Val::Float64(if f.is_nan() { f64::NAN } else { f })
        }
        Shape::Char => Val::Char(lower_char(v, path)?),
        Shape::String => match v {
            Value::Str(b) => Val::String(utf8(b, path)?.to_owned()),
            _ => return Err(mismatch(path, "string", v)),
        },
        Shape::List(elem) => match &**elem {
            Shape::U8 => Val::List(lower_bytes(v, path)?),
            elem => Val::List(lower_items(elem, sequence(v, path, "array")?, path)?),
        },
        Shape::FixedList(len, elem) => {
            let items = sequence(v, path, "array")?;
            expect_len(items, *len, path)?;
            Val::FixedLengthList(lower_items(elem, items, path)?)
        }
        Shape::Tuple(types) => {
            let items = sequence(v, path, "array")?;
            expect_len(items, types.len(), path)?;
            let mut vals = Vec::with_capacity(items.len());
            for (i, (shape, item)) in types.iter().zip(items).enumerate() {
                vals.push(path.at_index(i, |path| lower_shape(shape, item, path))?);
            }
            Val::Tuple(vals)
        }
        Shape::Record(record) => {
            let m = table(v, path, "map")?;
            let mut fields = Vec::with_capacity(record.len());
            for field in record.iter() {
                let name = &*field.name;
                let val = match m.and_then(|m| m.get(name)) {
                    Some(fv) => path.at_key(name, |path| lower_shape(&field.shape, fv, path))?,
                    None if matches!(field.shape, Shape::Option(_)) => Val::Option(None),
                    None => {
                        let msg = format!("missing required field \"{name}\"");
                        return Err(invalid(path, msg));
                    }
                };
                fields.push((name.to_owned(), val));
            }
            Val::Record(fields)
        }
        Shape::Variant(cases) => {
            let m = table(v, path, "map")?;
            for case in cases.iter() {
                let name = &*case.name;
                let Some(payload) = m.and_then(|m| m.get(name)) else {
                    continue;
                };
                let payload = match &case.shape {
                    Some(shape) => Some(Box::new(
                        path.at_key(name, |path| lower_shape(shape, payload, path))?,
                    )),
                    None => None,
                };
                return Ok(Val::Variant(name.to_owned(), payload));
            }
            let names = join(cases.iter().map(|c| &*c.name));
            let msg = format!(
                "expected a map with one of the keys {names}, got {}",
                keys(m)
            );
            return Err(invalid(path, msg));
        }
        Shape::Enum(names) => Val::Enum(lower_enum(names, v, path)?),
        Shape::Option(inner) => match v {
            Value::Nil => Val::Option(None),
            _ => Val::Option(Some(Box::new(lower_shape(inner, v, path)?))),
        },
        Shape::Result(ok_shape, err_shape) => {
            let m = table(v, path, "map")?;
            let arm = |key: &str| m.and_then(|m| m.get(key));
            if let Some(ok) = arm("ok") {
                Val::Result(Ok(lower_arm(ok_shape.as_deref(), "ok", ok, path)?))
            } else if let Some(err) = arm("err") {
                Val::Result(Err(lower_arm(err_shape.as_deref(), "err", err, path)?))
            } else {
                let msg = format!(
                    "expected a map with an \"ok\" or \"err\" key, got {}",
                    keys(m)
                );
                return Err(invalid(path, msg));
            }
        }
        Shape::Flags(names) => Val::Flags(lower_flags(names, v, path)?),
        Shape::Map(key_shape, value_shape) => {
            let entries = table(v, path, "map")?;
            let mut pairs = Vec::with_capacity(entries.map_or(0, |m| m.len()));
            for (k, item) in entries.into_iter().flatten() {
                let key = path.at_key(k, |path| {
                    lower_shape(key_shape, &Value::str(k.as_str()), path)
                })?;
                pairs.push((
                    key,
                    path.at_key(k, |path| lower_shape(value_shape, item, path))?,
                ));
            }
            Val::Map(pairs)
        }
        Shape::Unsupported(name) => return Err(unsupported(path, name)),
    })
}

/// Lifts a result of type `ty` (exact for empty `list<u8>`, which becomes an empty string).
pub fn lift_as(ty: &Type, v: &Val) -> Result<Value, Error> {
    lift_planned(&Shape::of(ty), v.clone())
}

/// [`lift_as`] with the result's shape built once (at load). It takes the result, so
/// that its strings and record field names move into the [`Value`] uncopied.
pub fn lift_planned(shape: &Shape, v: Val) -> Result<Value, Error> {
    lift_at(v, Some(shape), &mut ValuePath::new())
}

/// The result slots for `Func::call_async`, one per result type (it only checks the
/// slice length and overwrites them).
pub fn result_slots(results: &[Type]) -> Vec<Val> {
    results.iter().map(|_| Val::Bool(false)).collect()
}

/// An integer in `min..=max` (an integer, or an integral float).
fn int_in(v: &Value, path: &ValuePath, ty: &str, min: i128, max: i128) -> Result<i128, Error> {
    let n = integer(v, path)?;
    if n < min || n > max {
        let msg = format!("{} is out of range for {ty} ({min} to {max})", show(v));
        return Err(invalid(path, msg));
    }
    Ok(n)
}

/// The integer value of an integer or an integral float (huge floats saturate, to fail ranges).
fn integer(v: &Value, path: &ValuePath) -> Result<i128, Error> {
    match *v {
        Value::Int(i) => Ok(i.into()),
        Value::Float(f) if f.is_finite() && f.fract() == 0.0 => Ok(f as i128),
        Value::Float(f) => {
            let msg = format!("expected integer, got float {f:?}");
            Err(invalid(path, msg))
        }
        _ => Err(mismatch(path, "integer", v)),
    }
}

/// Any number as a float.
fn number(v: &Value, path: &ValuePath) -> Result<f64, Error> {
    v.as_f64().ok_or_else(|| mismatch(path, "number", v))
}

/// A number as `f32`: finite numbers beyond `f32`'s range are errors, NaN is canonical.
fn lower_f32(v: &Value, path: &ValuePath) -> Result<f32, Error> {
    let f = number(v, path)?;
    let narrow = f as f32;
    if f.is_finite() && narrow.is_infinite() {
        let msg = format!("{} is out of range for f32", show(v));
        return Err(invalid(path, msg));
    }
    Ok(if narrow.is_nan() { f32::NAN } else { narrow })
}

/// A `char` from a one-code-point string or an integer code point.
fn lower_char(v: &Value, path: &ValuePath) -> Result<char, Error> {
    match v {
        Value::Str(b) => {
            let s = utf8(b, path)?;
            let mut chars = s.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => Ok(c),
                _ => {
                    let n = s.chars().count();
                    let msg =
                        format!("expected a single character, got a string of {n} characters");
                    Err(invalid(path, msg))
                }
            }
        }
        Value::Int(_) | Value::Float(_) => u32::try_from(integer(v, path)?)
            .ok()
            .and_then(char::from_u32)
            .ok_or_else(|| {
                let msg = format!("{} is not a Unicode scalar value", show(v));
                invalid(path, msg)
            }),
        _ => Err(mismatch(
            path,
            "character (a one-character string or a code point)",
            v,
        )),
    }
}

/// The text of a string value that must be UTF-8.
fn utf8<'v>(b: &'v [u8], path: &ValuePath) -> Result<&'v str, Error> {
    std::str::from_utf8(b).map_err(|e| {
        let msg = format!("string is not valid UTF-8 (at byte {})", e.valid_up_to());
        invalid(path, msg)
    })
}

/// A `list<u8>` as one `Val` per byte.
fn lower_bytes(v: &Value, path: &mut ValuePath) -> Result<Vec<Val>, Error> {
    Ok(bytes_of(v, path)?.iter().map(|&x| Val::U8(x)).collect())
}

/// The bytes of a `list<u8>`: a byte string (borrowed) or an array of integers 0..=255.
fn bytes_of<'v>(v: &'v Value, path: &mut ValuePath) -> Result<Cow<'v, [u8]>, Error> {
    match v {
        Value::Str(b) => Ok(Cow::Borrowed(b)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| path.at_index(i, |path| Ok(int_in(item, path, "u8", 0, 255)? as u8)))
            .collect(),
        Value::Map(m) if m.is_empty() => Ok(Cow::Borrowed(&[])),
        _ => Err(mismatch(path, "string or array of bytes", v)),
    }
}

/// Lowers each item of an array as `elem`.
fn lower_items(elem: &Shape, items: &[Value], path: &mut ValuePath) -> Result<Vec<Val>, Error> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| path.at_index(i, |path| lower_shape(elem, item, path)))
        .collect()
}

/// The items of an array value; an empty map is an empty array (Lua cannot tell them apart).
fn sequence<'v>(v: &'v Value, path: &ValuePath, expected: &str) -> Result<&'v [Value], Error> {
    match v {
        Value::Array(items) => Ok(items),
        Value::Map(m) if m.is_empty() => Ok(&[]),
        _ => Err(mismatch(path, expected, v)),
    }
}

/// Checks that an array has exactly `len` items.
fn expect_len(items: &[Value], len: usize, path: &ValuePath) -> Result<(), Error> {
    if items.len() == len {
        return Ok(());
    }
    let msg = format!(
        "expected an array of {len} elements, got {} elements",
        items.len()
    );
    Err(invalid(path, msg))
}

/// The entries of a map value; `None` for an empty array (an empty Lua table).
fn table<'v>(v: &'v Value, path: &ValuePath, expected: &str) -> Result<Option<&'v Map>, Error> {
    match v {
        Value::Map(m) => Ok(Some(m)),
        Value::Array(items) if items.is_empty() => Ok(None),
        _ => Err(mismatch(path, expected, v)),
    }
}

/// The payload of a result arm: lowered under `.key` when the arm has a type, else ignored.
fn lower_arm(
    shape: Option<&Shape>,
    key: &str,
    v: &Value,
    path: &mut ValuePath,
) -> Result<Option<Box<Val>>, Error> {
    match shape {
        Some(shape) => Ok(Some(Box::new(
            path.at_key(key, |path| lower_shape(shape, v, path))?,
        ))),
        None => Ok(None),
    }
}

/// An enum case from its name or its 0-based index.
fn lower_enum(names: &[Box<str>], v: &Value, path: &ValuePath) -> Result<String, Error> {
    match v {
        Value::Str(b) => {
            let s = utf8(b, path)?;
            if names.iter().any(|n| &**n == s) {
                return Ok(s.to_owned());
            }
            let msg = format!(
                "unknown enum case \"{s}\", expected one of {}",
                join(names.iter().map(|n| &**n))
            );
            Err(invalid(path, msg))
        }
        Value::Int(_) | Value::Float(_) => {
            let index = integer(v, path)?;
            usize::try_from(index)
                .ok()
                .and_then(|i| names.get(i))
                .map(|name| name.to_string())
                .ok_or_else(|| {
                    let last = names.len().saturating_sub(1);
                    let msg = format!("enum index {} is out of range (0 to {last})", show(v));
                    invalid(path, msg)
                })
        }
        _ => Err(mismatch(path, "enum case name or index", v)),
    }
}

/// The set flags, in declaration order, from names, a `{name = true}` map or a bitmask.
fn lower_flags(names: &[Box<str>], v: &Value, path: &mut ValuePath) -> Result<Vec<String>, Error> {
    let mut set = vec![false; names.len()];
    let find = |name: &str, path: &ValuePath| {
        names.iter().position(|n| &**n == name).ok_or_else(|| {
            let msg = format!(
                "unknown flag \"{name}\", expected one of {}",
                join(names.iter().map(|n| &**n))
            );
            invalid(path, msg)
        })
    };
    match v {
        Value::Int(_) | Value::Float(_) => {
            let count = u32::try_from(names.len()).unwrap_or(u32::MAX);
            let allowed = 1u128.checked_shl(count).map_or(u128::MAX, |bit| bit - 1);
            let mask = u128::try_from(integer(v, path)?).ok();
            let Some(mask) = mask.filter(|mask| mask & !allowed == 0) else {
                let msg = format!(
                    "flags bitmask {} is not a set of the {} flags (0 to {allowed})",
                    show(v),
                    names.len()
                );
                return Err(invalid(path, msg));
            };
            for (i, slot) in (0u32..).zip(set.iter_mut()) {
                *slot = mask.checked_shr(i).is_some_and(|m| m & 1 == 1);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.at_index(i, |path| {
                    let Value::Str(b) = item else {
                        return Err(mismatch(path, "flag name (string)", item));
                    };
                    set[find(utf8(b, path)?, path)?] = true;
                    Ok(())
                })?;
            }
        }
        Value::Map(m) => {
            for (name, item) in m.iter() {
                path.at_key(name, |path| {
                    let on = match item {
                        Value::Bool(on) => *on,
                        Value::Nil => false,
                        _ => return Err(mismatch(path, "boolean", item)),
                    };
                    set[find(name, path)?] |= on;
                    Ok(())
                })?;
            }
        }
        _ => {
            let expected = "flags (an array of names, a map of name = boolean, or a bitmask)";
            return Err(mismatch(path, expected, v));
        }
    }
    Ok(names
        .iter()
        .zip(set)
        .filter(|(_, on)| *on)
        .map(|(name, _)| name.to_string())
        .collect())
}

/// Lifts `v`, following `shape` where known (it only decides empty `list<u8>`s).
fn lift_at(v: Val, shape: Option<&Shape>, path: &mut ValuePath) -> Result<Value, Error> {
    Ok(match v {
        Val::Bool(b) => Value::Bool(b),
        Val::S8(n) => Value::Int(n.into()),
        Val::U8(n) => Value::Int(n.into()),
        Val::S16(n) => Value::Int(n.into()),
        Val::U16(n) => Value::Int(n.into()),
        Val::S32(n) => Value::Int(n.into()),
        Val::U32(n) => Value::Int(n.into()),
        Val::S64(n) => Value::Int(n),
        Val::U64(n) => Value::Int(i64::try_from(n).map_err(|_| {
            let msg = format!("u64 value {n} does not fit a Lua integer");
            lift_error(Error::internal, path, msg)
        })?),
        Val::Float32(f) => Value::Float(f.into()),
        Val::Float64(f) => Value::Float(f),
        Val::Char(c) => Value::str(c.to_string()),
        Val::String(s) => Value::str(s),
        Val::List(items) => {
            let elem = match shape {
                Some(Shape::List(elem)) => Some(&**elem),
                _ => None,
            };
            let bytes = match elem {
                Some(elem) => matches!(elem, Shape::U8),
                None => matches!(items.first(), Some(Val::U8(_))),
            };
            if bytes {
                Value::bytes(lift_bytes(&items, path)?)
            } else {
                lift_items(items, elem, path)?
            }
        }
        Val::FixedLengthList(items) => {
            let elem = match shape {
                Some(Shape::FixedList(_, elem)) => Some(&**elem),
                _ => None,
            };
            lift_items(items, elem, path)?
        }
        Val::Tuple(items) => {
            let types: &[Shape] = match shape {
                Some(Shape::Tuple(types)) => types,
                _ => &[],
            };
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                out.push(path.at_index(i, |path| lift_at(item, types.get(i), path))?);
            }
            Value::array(out)
        }
        Val::Record(fields) => {
            let types: &[shape::Field] = match shape {
                Some(Shape::Record(record)) => record,
                _ => &[],
            };
            let mut map = Map::with_capacity(fields.len());
            for (i, (name, field)) in fields.into_iter().enumerate() {
                let field_shape = types.get(i).map(|f| &f.shape);
                let value = path.at_key(&name, |path| lift_at(field, field_shape, path))?;
                map.insert(name, value);
            }
            Value::map(map)
        }
        Val::Variant(case, payload) => {
            let case_shape = match shape {
                Some(Shape::Variant(cases)) => cases
                    .iter()
                    .find(|c| *c.name == case)
                    .and_then(|c| c.shape.as_ref()),
                _ => None,
            };
            lift_arm(case, payload.map(|p| *p), case_shape, path)?
        }
        Val::Enum(case) => Value::str(case),
        Val::Option(None) => Value::Nil,
        Val::Option(Some(inner)) => {
            let inner_shape = match shape {
                Some(Shape::Option(inner)) => Some(&**inner),
                _ => None,
            };
            lift_at(*inner, inner_shape, path)?
        }
        Val::Result(result) => {
            let (ok_shape, err_shape) = match shape {
                Some(Shape::Result(ok, err)) => (ok.as_deref(), err.as_deref()),
                _ => (None, None),
            };
            match result {
                Ok(payload) => lift_arm("ok".into(), payload.map(|p| *p), ok_shape, path)?,
                Err(payload) => lift_arm("err".into(), payload.map(|p| *p), err_shape, path)?,
            }
        }
        Val::Flags(names) => Value::array(names.into_iter().map(Value::str).collect()),
        Val::Map(pairs) => {
            let (key_shape, value_shape) = match shape {
                Some(Shape::Map(key, value)) => (Some(&**key), Some(&**value)),
                _ => (None, None),
            };
            lift_map(pairs, key_shape, value_shape, path)?
        }
        Val::Resource(_) => return Err(lift_unsupported(path, "resource")),
        Val::Future(_) => return Err(lift_unsupported(path, "future")),
        Val::Stream(_) => return Err(lift_unsupported(path, "stream")),
        Val::ErrorContext(_) => return Err(lift_unsupported(path, "error-context")),
    })
}

/// The bytes of a lifted `list<u8>`.
fn lift_bytes(items: &[Val], path: &ValuePath) -> Result<Vec<u8>, Error> {
    items
        .iter()
        .map(|item| match item {
            Val::U8(b) => Ok(*b),
            _ => Err(lift_error(
                Error::internal,
                path,
                "list<u8> holds a non-u8 value".into(),
            )),
        })
        .collect()
}

/// A lifted array, each item as `elem` where known.
fn lift_items(items: Vec<Val>, elem: Option<&Shape>, path: &mut ValuePath) -> Result<Value, Error> {
    let items = items
        .into_iter()
        .enumerate()
        .map(|(i, item)| path.at_index(i, |path| lift_at(item, elem, path)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Value::array(items))
}

/// `{key = payload}`, or `{key = true}` for an arm without a payload.
fn lift_arm(
    key: String,
    payload: Option<Val>,
    shape: Option<&Shape>,
    path: &mut ValuePath,
) -> Result<Value, Error> {
    let value = match payload {
        Some(payload) => path.at_key(&key, |path| lift_at(payload, shape, path))?,
        None => Value::Bool(true),
    };
    Ok(Value::from_pairs([(key, value)]))
}

/// A lifted `map<K, V>`: a map for string keys, else an array of `{key, value}` pairs.
fn lift_map(
    pairs: Vec<(Val, Val)>,
    key_ty: Option<&Shape>,
    value_ty: Option<&Shape>,
    path: &mut ValuePath,
) -> Result<Value, Error> {
    let string_keys = match key_ty {
        Some(shape) => matches!(shape, Shape::String),
        None => pairs.iter().all(|(k, _)| matches!(k, Val::String(_))),
    };
    if string_keys {
        let mut map = Map::with_capacity(pairs.len());
        for (key, value) in pairs {
            let Val::String(key) = key else {
                return Err(lift_error(
                    Error::internal,
                    path,
                    "map key is not a string".into(),
                ));
            };
            let value = path.at_key(&key, |path| lift_at(value, value_ty, path))?;
            map.insert(key, value);
        }
        return Ok(Value::map(map));
    }
    let mut out = Vec::with_capacity(pairs.len());
    for (i, (key, value)) in pairs.into_iter().enumerate() {
        let pair = path.at_index(i, |path| {
            let key = path.at_index(0, |path| lift_at(key, key_ty, path))?;
            let value = path.at_index(1, |path| lift_at(value, value_ty, path))?;
            Ok::<_, Error>(Value::array(vec![key, value]))
        })?;
        out.push(pair);
    }
    Ok(Value::array(out))
}

/// An Invalid error at `path`.
fn invalid(path: &ValuePath, msg: String) -> Error {
    if path.is_empty() {
        Error::invalid(msg)
    } else {
        Error::invalid(format!("{path}: {msg}"))
    }
}

/// "expected X, got <type of v>" at `path`.
fn mismatch(path: &ValuePath, expected: &str, v: &Value) -> Error {
    invalid(path, format!("expected {expected}, got {}", v.type_name()))
}

/// "type X is not supported from Lua" at `path`.
fn unsupported(path: &ValuePath, ty: &str) -> Error {
    invalid(path, format!("type {ty} is not supported from Lua"))
}

/// A lifting error; nested values are named `result<path>`.
fn lift_error(kind: fn(String) -> Error, path: &ValuePath, msg: String) -> Error {
    if path.is_empty() {
        kind(msg)
    } else {
        kind(format!("result{path}: {msg}"))
    }
}

/// "type X is not supported from Lua" for a lifted value.
fn lift_unsupported(path: &ValuePath, ty: &str) -> Error {
    lift_error(
        Error::invalid,
        path,
        format!("type {ty} is not supported from Lua"),
    )
}

/// A number as messages show it (`300`, `1.5`, `1e39`).
fn show(v: &Value) -> String {
    match v {
        Value::Float(f) => format!("{f:?}"),
        _ => v.to_display_string(),
    }
}

/// Names joined with ", ".
fn join<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names.collect::<Vec<_>>().join(", ")
}

/// Describes a table's keys for "got …" in messages.
fn keys(m: Option<&Map>) -> String {
    match m {
        Some(m) if !m.is_empty() => {
            format!("a map with keys {}", join(m.keys().map(String::as_str)))
        }
        _ => "an empty map".to_owned(),
    }
}

#[cfg(test)]
mod tests;

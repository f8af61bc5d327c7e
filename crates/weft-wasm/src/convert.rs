//! Type-directed conversion between weft [`Value`]s and wasmtime component [`Val`]s.
//!
//! Arguments are *lowered* against the function's WIT parameter types ([`lower_args`],
//! [`lower`]); a result is *lifted* back ([`lift`], [`lift_as`]). The mapping follows
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

use std::fmt;
use std::fmt::Write as _;

use wasmtime::component::{Type, Val};
use weft_core::{Error, Map, Value};

/// Lowers call arguments for the function's `(name, type)` parameters, exactly one per parameter.
pub fn lower_args(params: &[(String, Type)], args: &[Value]) -> Result<Vec<Val>, Error> {
    if params.len() != args.len() {
        let plural = if params.len() == 1 { "" } else { "s" };
        return Err(Error::invalid(format!(
            "expected {} argument{plural}, got {}",
            params.len(),
            args.len()
        )));
    }
    params
        .iter()
        .zip(args)
        .enumerate()
        .map(|(i, ((name, ty), arg))| lower(ty, arg, &mut ValuePath::argument(i + 1, name)))
        .collect()
}

/// Lowers one value for type `ty`; `path` names where it is, for errors.
pub fn lower(ty: &Type, v: &Value, path: &mut ValuePath) -> Result<Val, Error> {
    Ok(match ty {
        Type::Bool => match v {
            Value::Bool(b) => Val::Bool(*b),
            _ => return Err(mismatch(path, "boolean", v)),
        },
        Type::S8 => Val::S8(int_in(v, path, "s8", i8::MIN.into(), i8::MAX.into())? as i8),
        Type::U8 => Val::U8(int_in(v, path, "u8", 0, u8::MAX.into())? as u8),
        Type::S16 => Val::S16(int_in(v, path, "s16", i16::MIN.into(), i16::MAX.into())? as i16),
        Type::U16 => Val::U16(int_in(v, path, "u16", 0, u16::MAX.into())? as u16),
        Type::S32 => Val::S32(int_in(v, path, "s32", i32::MIN.into(), i32::MAX.into())? as i32),
        Type::U32 => Val::U32(int_in(v, path, "u32", 0, u32::MAX.into())? as u32),
        Type::S64 => Val::S64(int_in(v, path, "s64", i64::MIN.into(), i64::MAX.into())? as i64),
        Type::U64 => Val::U64(int_in(v, path, "u64", 0, u64::MAX.into())? as u64),
        Type::Float32 => Val::Float32(lower_f32(v, path)?),
        Type::Float64 => {
            let f = number(v, path)?;
            Val::Float64(if f.is_nan() { f64::NAN } else { f })
        }
        Type::Char => Val::Char(lower_char(v, path)?),
        Type::String => match v {
            Value::Str(b) => Val::String(utf8(b, path)?.to_owned()),
            _ => return Err(mismatch(path, "string", v)),
        },
        Type::List(list) => match list.ty() {
            Type::U8 => Val::List(lower_bytes(v, path)?),
            elem => Val::List(lower_items(&elem, sequence(v, path, "array")?, path)?),
        },
        Type::FixedLengthList(list) => {
            let items = sequence(v, path, "array")?;
            expect_len(items, list.len().try_into().unwrap_or(usize::MAX), path)?;
            Val::FixedLengthList(lower_items(&list.ty(), items, path)?)
        }
        Type::Tuple(tuple) => {
            let items = sequence(v, path, "array")?;
            expect_len(items, tuple.types().len(), path)?;
            let mut vals = Vec::with_capacity(items.len());
            for (i, (ty, item)) in tuple.types().zip(items).enumerate() {
                vals.push(path.at_index(i, |path| lower(&ty, item, path))?);
            }
            Val::Tuple(vals)
        }
        Type::Record(record) => {
            let m = table(v, path, "map")?;
            let mut fields = Vec::with_capacity(record.fields().len());
            for field in record.fields() {
                let val = match m.and_then(|m| m.get(field.name)) {
                    Some(fv) => path.at_key(field.name, |path| lower(&field.ty, fv, path))?,
                    None if matches!(field.ty, Type::Option(_)) => Val::Option(None),
                    None => {
                        let msg = format!("missing required field \"{}\"", field.name);
                        return Err(invalid(path, msg));
                    }
                };
                fields.push((field.name.to_owned(), val));
            }
            Val::Record(fields)
        }
        Type::Variant(variant) => {
            let m = table(v, path, "map")?;
            for case in variant.cases() {
                let Some(payload) = m.and_then(|m| m.get(case.name)) else {
                    continue;
                };
                let payload = match &case.ty {
                    Some(ty) => Some(Box::new(
                        path.at_key(case.name, |path| lower(ty, payload, path))?,
                    )),
                    None => None,
                };
                return Ok(Val::Variant(case.name.to_owned(), payload));
            }
            let names = join(variant.cases().map(|c| c.name));
            let msg = format!(
                "expected a map with one of the keys {names}, got {}",
                keys(m)
            );
            return Err(invalid(path, msg));
        }
        Type::Enum(enum_) => Val::Enum(lower_enum(&enum_.names().collect::<Vec<_>>(), v, path)?),
        Type::Option(option) => match v {
            Value::Nil => Val::Option(None),
            _ => Val::Option(Some(Box::new(lower(&option.ty(), v, path)?))),
        },
        Type::Result(result) => {
            let m = table(v, path, "map")?;
            let arm = |key: &str| m.and_then(|m| m.get(key));
            if let Some(ok) = arm("ok") {
                Val::Result(Ok(lower_arm(result.ok(), "ok", ok, path)?))
            } else if let Some(err) = arm("err") {
                Val::Result(Err(lower_arm(result.err(), "err", err, path)?))
            } else {
                let msg = format!(
                    "expected a map with an \"ok\" or \"err\" key, got {}",
                    keys(m)
                );
                return Err(invalid(path, msg));
            }
        }
        Type::Flags(flags) => Val::Flags(lower_flags(flags.names().collect(), v, path)?),
        Type::Map(map) => {
            let (key_ty, value_ty) = (map.key(), map.value());
            let entries = table(v, path, "map")?;
            let mut pairs = Vec::with_capacity(entries.map_or(0, |m| m.len()));
            for (k, item) in entries.into_iter().flatten() {
                let key = path.at_key(k, |path| lower(&key_ty, &Value::str(k.as_str()), path))?;
                pairs.push((key, path.at_key(k, |path| lower(&value_ty, item, path))?));
            }
            Val::Map(pairs)
        }
        Type::Own(_) | Type::Borrow(_) | Type::Future(_) | Type::Stream(_) | Type::ErrorContext => {
            return Err(unsupported(path, type_name(ty)));
        }
    })
}

/// Lifts a result without its type; an empty `list<u8>` becomes `{}` (use [`lift_as`] for `""`).
pub fn lift(v: &Val) -> Result<Value, Error> {
    lift_at(v, None, &mut ValuePath::new())
}

/// Lifts a result of type `ty` (exact for empty `list<u8>`, which becomes an empty string).
pub fn lift_as(ty: &Type, v: &Val) -> Result<Value, Error> {
    lift_at(v, Some(ty), &mut ValuePath::new())
}

/// A result slot for `Func::call_async`, which only checks the slice length and overwrites it.
pub fn placeholder(_ty: &Type) -> Val {
    Val::Bool(false)
}

/// Where a value sits inside the arguments (`argument 1 (users)[2].tags`), for error messages.
#[derive(Clone, Debug, Default)]
pub struct ValuePath {
    text: String,
    marks: Vec<usize>,
}

impl ValuePath {
    /// An empty path (the value itself, no argument named).
    pub fn new() -> ValuePath {
        ValuePath::default()
    }

    /// The path of argument `number` (1-based) whose parameter is `name`.
    pub fn argument(number: usize, name: &str) -> ValuePath {
        let text = if name.is_empty() {
            format!("argument {number}")
        } else {
            format!("argument {number} ({name})")
        };
        ValuePath {
            text,
            marks: Vec::new(),
        }
    }

    /// The path as text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Runs `f` with the 0-based `index` (shown 1-based) appended to the path.
    fn at_index<T>(&mut self, index: usize, f: impl FnOnce(&mut Self) -> T) -> T {
        self.marks.push(self.text.len());
        let _ = write!(self.text, "[{}]", index.saturating_add(1));
        self.scoped(f)
    }

    /// Runs `f` with `.key` appended to the path.
    fn at_key<T>(&mut self, key: &str, f: impl FnOnce(&mut Self) -> T) -> T {
        self.marks.push(self.text.len());
        self.text.push('.');
        self.text.push_str(key);
        self.scoped(f)
    }

    /// Runs `f`, then drops the segment pushed last.
    fn scoped<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        let out = f(self);
        if let Some(mark) = self.marks.pop() {
            self.text.truncate(mark);
        }
        out
    }
}

impl fmt::Display for ValuePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
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

/// The bytes of a `list<u8>`: a byte string or an array of integers 0..=255.
fn lower_bytes(v: &Value, path: &mut ValuePath) -> Result<Vec<Val>, Error> {
    match v {
        Value::Str(b) => Ok(b.iter().map(|&x| Val::U8(x)).collect()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                path.at_index(i, |path| {
                    Ok(Val::U8(int_in(item, path, "u8", 0, 255)? as u8))
                })
            })
            .collect(),
        Value::Map(m) if m.is_empty() => Ok(Vec::new()),
        _ => Err(mismatch(path, "string or array of bytes", v)),
    }
}

/// Lowers each item of an array as `elem`.
fn lower_items(elem: &Type, items: &[Value], path: &mut ValuePath) -> Result<Vec<Val>, Error> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| path.at_index(i, |path| lower(elem, item, path)))
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
    ty: Option<Type>,
    key: &str,
    v: &Value,
    path: &mut ValuePath,
) -> Result<Option<Box<Val>>, Error> {
    match ty {
        Some(ty) => Ok(Some(Box::new(
            path.at_key(key, |path| lower(&ty, v, path))?,
        ))),
        None => Ok(None),
    }
}

/// An enum case from its name or its 0-based index.
fn lower_enum(names: &[&str], v: &Value, path: &ValuePath) -> Result<String, Error> {
    match v {
        Value::Str(b) => {
            let s = utf8(b, path)?;
            if names.contains(&s) {
                return Ok(s.to_owned());
            }
            let msg = format!(
                "unknown enum case \"{s}\", expected one of {}",
                join(names.iter().copied())
            );
            Err(invalid(path, msg))
        }
        Value::Int(_) | Value::Float(_) => {
            let index = integer(v, path)?;
            usize::try_from(index)
                .ok()
                .and_then(|i| names.get(i))
                .map(|name| (*name).to_owned())
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
fn lower_flags(names: Vec<&str>, v: &Value, path: &mut ValuePath) -> Result<Vec<String>, Error> {
    let mut set = vec![false; names.len()];
    let find = |name: &str, path: &ValuePath| {
        names.iter().position(|n| *n == name).ok_or_else(|| {
            let msg = format!(
                "unknown flag \"{name}\", expected one of {}",
                join(names.iter().copied())
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
        .map(|(name, _)| (*name).to_owned())
        .collect())
}

/// Lifts `v`, following `ty` where known (it only decides empty `list<u8>`s).
fn lift_at(v: &Val, ty: Option<&Type>, path: &mut ValuePath) -> Result<Value, Error> {
    Ok(match v {
        Val::Bool(b) => Value::Bool(*b),
        Val::S8(n) => Value::Int((*n).into()),
        Val::U8(n) => Value::Int((*n).into()),
        Val::S16(n) => Value::Int((*n).into()),
        Val::U16(n) => Value::Int((*n).into()),
        Val::S32(n) => Value::Int((*n).into()),
        Val::U32(n) => Value::Int((*n).into()),
        Val::S64(n) => Value::Int(*n),
        Val::U64(n) => Value::Int(i64::try_from(*n).map_err(|_| {
            let msg = format!("u64 value {n} does not fit a Lua integer");
            lift_error(Error::internal, path, msg)
        })?),
        Val::Float32(f) => Value::Float((*f).into()),
        Val::Float64(f) => Value::Float(*f),
        Val::Char(c) => Value::str(c.to_string()),
        Val::String(s) => Value::str(s.as_str()),
        Val::List(items) => {
            let elem = match ty {
                Some(Type::List(list)) => Some(list.ty()),
                _ => None,
            };
            let bytes = match &elem {
                Some(elem) => matches!(elem, Type::U8),
                None => matches!(items.first(), Some(Val::U8(_))),
            };
            if bytes {
                Value::bytes(lift_bytes(items, path)?)
            } else {
                lift_items(items, elem.as_ref(), path)?
            }
        }
        Val::FixedLengthList(items) => {
            let elem = match ty {
                Some(Type::FixedLengthList(list)) => Some(list.ty()),
                _ => None,
            };
            lift_items(items, elem.as_ref(), path)?
        }
        Val::Tuple(items) => {
            let types: Vec<Type> = match ty {
                Some(Type::Tuple(tuple)) => tuple.types().collect(),
                _ => Vec::new(),
            };
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                out.push(path.at_index(i, |path| lift_at(item, types.get(i), path))?);
            }
            Value::array(out)
        }
        Val::Record(fields) => {
            let types: Vec<Type> = match ty {
                Some(Type::Record(record)) => record.fields().map(|f| f.ty).collect(),
                _ => Vec::new(),
            };
            let mut map = Map::with_capacity(fields.len());
            for (i, (name, field)) in fields.iter().enumerate() {
                let value = path.at_key(name, |path| lift_at(field, types.get(i), path))?;
                map.insert(name.clone(), value);
            }
            Value::map(map)
        }
        Val::Variant(case, payload) => {
            let case_ty = match ty {
                Some(Type::Variant(variant)) => {
                    variant.cases().find(|c| c.name == case).and_then(|c| c.ty)
                }
                _ => None,
            };
            lift_arm(case, payload.as_deref(), case_ty.as_ref(), path)?
        }
        Val::Enum(case) => Value::str(case.as_str()),
        Val::Option(None) => Value::Nil,
        Val::Option(Some(inner)) => {
            let inner_ty = match ty {
                Some(Type::Option(option)) => Some(option.ty()),
                _ => None,
            };
            lift_at(inner, inner_ty.as_ref(), path)?
        }
        Val::Result(result) => {
            let (ok_ty, err_ty) = match ty {
                Some(Type::Result(r)) => (r.ok(), r.err()),
                _ => (None, None),
            };
            match result {
                Ok(payload) => lift_arm("ok", payload.as_deref(), ok_ty.as_ref(), path)?,
                Err(payload) => lift_arm("err", payload.as_deref(), err_ty.as_ref(), path)?,
            }
        }
        Val::Flags(names) => Value::array(names.iter().map(|n| Value::str(n.as_str())).collect()),
        Val::Map(pairs) => {
            let (key_ty, value_ty) = match ty {
                Some(Type::Map(map)) => (Some(map.key()), Some(map.value())),
                _ => (None, None),
            };
            lift_map(pairs, key_ty.as_ref(), value_ty.as_ref(), path)?
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
fn lift_items(items: &[Val], elem: Option<&Type>, path: &mut ValuePath) -> Result<Value, Error> {
    let items = items
        .iter()
        .enumerate()
        .map(|(i, item)| path.at_index(i, |path| lift_at(item, elem, path)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Value::array(items))
}

/// `{key = payload}`, or `{key = true}` for an arm without a payload.
fn lift_arm(
    key: &str,
    payload: Option<&Val>,
    ty: Option<&Type>,
    path: &mut ValuePath,
) -> Result<Value, Error> {
    let value = match payload {
        Some(payload) => path.at_key(key, |path| lift_at(payload, ty, path))?,
        None => Value::Bool(true),
    };
    Ok(Value::from_pairs([(key, value)]))
}

/// A lifted `map<K, V>`: a map for string keys, else an array of `{key, value}` pairs.
fn lift_map(
    pairs: &[(Val, Val)],
    key_ty: Option<&Type>,
    value_ty: Option<&Type>,
    path: &mut ValuePath,
) -> Result<Value, Error> {
    let string_keys = match key_ty {
        Some(ty) => matches!(ty, Type::String),
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
            let value = path.at_key(key, |path| lift_at(value, value_ty, path))?;
            map.insert(key.clone(), value);
        }
        return Ok(Value::map(map));
    }
    let mut out = Vec::with_capacity(pairs.len());
    for (i, (key, value)) in pairs.iter().enumerate() {
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
    if path.as_str().is_empty() {
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
    if path.as_str().is_empty() {
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

/// The WIT name of a type that Lua values cannot carry.
fn type_name(ty: &Type) -> &'static str {
    match ty {
        Type::Own(_) => "own",
        Type::Borrow(_) => "borrow",
        Type::Future(_) => "future",
        Type::Stream(_) => "stream",
        Type::ErrorContext => "error-context",
        _ => "value",
    }
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
mod tests {
    use std::sync::LazyLock;

    use wasmtime::component::types::{ComponentFunc, ComponentItem};
    use wasmtime::component::{Component, Linker};
    use wasmtime::{Config, Engine, Store};
    use weft_core::ErrorKind;

    use super::*;

    /// A component importing one function per type under test (`t-<type>: func(x: T) -> T`)
    /// and a few other signatures: importing needs no core code, only the types.
    const WAT: &str = r#"
        (component
            (type $point' (record (field "x" s32) (field "y" s32)))
            (import "point" (type $point (eq $point')))
            (type $user' (record
                (field "name" string) (field "age" u8)
                (field "tags" (list string)) (field "email" (option string))))
            (import "user" (type $user (eq $user')))
            (type $opts' (record (field "a" (option u32)) (field "b" (option string))))
            (import "opts" (type $opts (eq $opts')))
            (type $blob-info' (record (field "id" u64) (field "data" (list u8))))
            (import "blob-info" (type $blob-info (eq $blob-info')))
            (type $shape' (variant (case "circle" f64) (case "rectangle" $point) (case "empty")))
            (import "shape" (type $shape (eq $shape')))
            (type $color' (enum "red" "green" "blue"))
            (import "color" (type $color (eq $color')))
            (type $perms' (flags "read" "write" "exec"))
            (import "perms" (type $perms (eq $perms')))
            (import "blob" (type $blob (sub resource)))

            (import "t-bool" (func (param "x" bool) (result bool)))
            (import "t-s8" (func (param "x" s8) (result s8)))
            (import "t-u8" (func (param "x" u8) (result u8)))
            (import "t-s16" (func (param "x" s16) (result s16)))
            (import "t-u16" (func (param "x" u16) (result u16)))
            (import "t-s32" (func (param "x" s32) (result s32)))
            (import "t-u32" (func (param "x" u32) (result u32)))
            (import "t-s64" (func (param "x" s64) (result s64)))
            (import "t-u64" (func (param "x" u64) (result u64)))
            (import "t-f32" (func (param "x" f32) (result f32)))
            (import "t-f64" (func (param "x" f64) (result f64)))
            (import "t-char" (func (param "x" char) (result char)))
            (import "t-string" (func (param "x" string) (result string)))
            (import "t-bytes" (func (param "x" (list u8)) (result (list u8))))
            (import "t-strings" (func (param "x" (list string)) (result (list string))))
            (import "t-point" (func (param "x" $point) (result $point)))
            (import "t-opts" (func (param "x" $opts) (result $opts)))
            (import "t-blob-info" (func (param "x" $blob-info) (result $blob-info)))
            (import "t-users" (func (param "users" (list $user)) (result (list $user))))
            (import "t-tuple" (func (param "x" (tuple string u32)) (result (tuple string u32))))
            (import "t-shape" (func (param "x" $shape) (result $shape)))
            (import "t-color" (func (param "x" $color) (result $color)))
            (import "t-perms" (func (param "x" $perms) (result $perms)))
            (import "t-option" (func (param "x" (option s32)) (result (option s32))))
            (import "t-option2" (func (param "x" (option (option s32)))))
            (import "t-result" (func (param "x" (result s32 (error $point)))))
            (import "t-unit-ok" (func (param "x" (result (error string)))))
            (import "t-unit" (func (param "x" (result))))
            (import "t-map" (func (param "x" (map string u32)) (result (map string u32))))
            (import "two" (func (param "a" s32) (param "b" (option string))))
            (import "take" (func (param "b" (own $blob))))
            (import "peek" (func (param "b" (borrow $blob))))
        )
    "#;

    /// The compiled test component and its engine.
    static FIXTURE: LazyLock<(Engine, Component)> = LazyLock::new(|| {
        let bytes = wat::parse_str(WAT).expect("parse WAT");
        let mut config = Config::new();
        config.wasm_component_model_map(true);
        let engine = Engine::new(&config).expect("engine");
        let component = Component::new(&engine, &bytes).expect("compile component");
        (engine, component)
    });

    /// The type of an imported function.
    fn func(name: &str) -> ComponentFunc {
        let (engine, component) = &*FIXTURE;
        match component
            .component_type()
            .get_import(engine, name)
            .map(|e| e.ty)
        {
            Some(ComponentItem::ComponentFunc(f)) => f,
            _ => panic!("no function {name}"),
        }
    }

    /// The `(name, type)` parameters of an exported function.
    fn params(name: &str) -> Vec<(String, Type)> {
        func(name)
            .params()
            .map(|(n, t)| (n.to_owned(), t))
            .collect()
    }

    /// The type of `t-<ty>`'s single parameter.
    fn ty(ty: &str) -> Type {
        params(&format!("t-{ty}")).remove(0).1
    }

    /// Lowers `v` as argument 1 of `t-<t>`.
    fn low(t: &str, v: Value) -> Result<Val, Error> {
        let ps = params(&format!("t-{t}"));
        lower_args(&ps, &[v]).map(|mut vals| vals.remove(0))
    }

    /// Lowers `v` for `t-<t>`, then lifts it back through the same type.
    fn round(t: &str, v: Value) -> Value {
        let val = low(t, v).expect("lower");
        lift_as(&ty(t), &val).expect("lift")
    }

    /// The message of an Invalid lowering error.
    fn bad(t: &str, v: Value) -> String {
        let err = low(t, v).expect_err("should fail");
        assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");
        err.to_string()
    }

    fn s(text: &str) -> Value {
        Value::str(text)
    }

    fn arr(items: Vec<Value>) -> Value {
        Value::array(items)
    }

    fn map<const N: usize>(pairs: [(&str, Value); N]) -> Value {
        Value::from_pairs(pairs)
    }

    fn empty_map() -> Value {
        Value::map(Map::new())
    }

    #[test]
    fn scalars_round_trip() {
        assert_eq!(round("bool", Value::Bool(true)), Value::Bool(true));
        for (t, min, max) in [
            ("s8", i8::MIN.into(), i8::MAX.into()),
            ("u8", 0, u8::MAX.into()),
            ("s16", i16::MIN.into(), i16::MAX.into()),
            ("u16", 0, u16::MAX.into()),
            ("s32", i32::MIN.into(), i32::MAX.into()),
            ("u32", 0, u32::MAX.into()),
            ("s64", i64::MIN, i64::MAX),
            ("u64", 0, i64::MAX),
        ] {
            assert_eq!(round(t, Value::Int(min)), Value::Int(min), "{t} min");
            assert_eq!(round(t, Value::Int(max)), Value::Int(max), "{t} max");
        }
        assert_eq!(low("u8", Value::Int(255)).unwrap(), Val::U8(255));
        assert_eq!(low("s8", Value::Int(-128)).unwrap(), Val::S8(-128));
        assert_eq!(round("f64", Value::Float(2.5)), Value::Float(2.5));
        assert_eq!(round("f32", Value::Float(0.5)), Value::Float(0.5));
        assert_eq!(round("string", s("héllo")), s("héllo"));
        assert_eq!(round("char", s("é")), s("é"));
    }

    #[test]
    fn numbers_convert_between_integer_and_float() {
        assert_eq!(low("s32", Value::Float(3.0)).unwrap(), Val::S32(3));
        assert_eq!(
            low("u64", Value::Float(9223372036854775808.0)).unwrap(),
            Val::U64(1 << 63)
        );
        assert_eq!(low("f64", Value::Int(7)).unwrap(), Val::Float64(7.0));
        assert_eq!(low("f32", Value::Int(-7)).unwrap(), Val::Float32(-7.0));
        assert_eq!(
            low("f32", Value::Float(f64::INFINITY)).unwrap(),
            Val::Float32(f32::INFINITY)
        );
        let Val::Float64(nan) = low("f64", Value::Float(-f64::NAN)).unwrap() else {
            panic!()
        };
        assert_eq!(nan.to_bits(), f64::NAN.to_bits(), "NaN is canonical");
        let Val::Float32(nan) = low("f32", Value::Float(f64::NAN)).unwrap() else {
            panic!()
        };
        assert_eq!(nan.to_bits(), f32::NAN.to_bits());
        let Value::Float(f) = lift(&Val::Float32(f32::NAN)).unwrap() else {
            panic!()
        };
        assert!(f.is_nan());
        assert_eq!(
            lift(&Val::Float32(0.1)).unwrap(),
            Value::Float(0.1f32.into())
        );
    }

    #[test]
    fn integers_out_of_range_are_invalid_for_every_width() {
        for (t, below, above) in [
            ("s8", -129, 128),
            ("u8", -1, 256),
            ("s16", -32769, 32768),
            ("u16", -1, 65536),
            ("s32", i64::from(i32::MIN) - 1, i64::from(i32::MAX) + 1),
            ("u32", -1, i64::from(u32::MAX) + 1),
        ] {
            assert!(
                bad(t, Value::Int(below)).contains(&format!("{below} is out of range for {t}"))
            );
            assert!(
                bad(t, Value::Int(above)).contains(&format!("{above} is out of range for {t}"))
            );
        }
        assert_eq!(
            bad("u8", Value::Int(256)),
            "argument 1 (x): 256 is out of range for u8 (0 to 255)"
        );
        assert_eq!(
            bad("s8", Value::Int(-129)),
            "argument 1 (x): -129 is out of range for s8 (-128 to 127)"
        );
        assert!(bad("u64", Value::Int(-1)).contains("-1 is out of range for u64"));
        assert!(bad("u64", Value::Float(18446744073709551616.0)).contains("out of range for u64"));
        assert!(bad("s64", Value::Float(9223372036854775808.0)).contains("out of range for s64"));
        assert!(bad("u8", Value::Float(1e300)).contains("out of range for u8"));
        assert!(bad("f32", Value::Float(1e39)).contains("1e39 is out of range for f32"));
    }

    #[test]
    fn wrong_scalar_types_are_invalid() {
        assert_eq!(
            bad("bool", Value::Int(1)),
            "argument 1 (x): expected boolean, got integer"
        );
        assert_eq!(
            bad("bool", Value::Nil),
            "argument 1 (x): expected boolean, got nil"
        );
        assert_eq!(
            bad("s32", s("1")),
            "argument 1 (x): expected integer, got string"
        );
        assert_eq!(
            bad("s32", Value::Float(1.5)),
            "argument 1 (x): expected integer, got float 1.5"
        );
        assert_eq!(
            bad("u32", Value::Float(f64::NAN)),
            "argument 1 (x): expected integer, got float NaN"
        );
        assert_eq!(
            bad("f64", Value::Bool(true)),
            "argument 1 (x): expected number, got boolean"
        );
        assert_eq!(
            bad("string", Value::Int(3)),
            "argument 1 (x): expected string, got integer"
        );
        assert_eq!(
            bad("string", Value::bytes(vec![b'a', 0xff])),
            "argument 1 (x): string is not valid UTF-8 (at byte 1)"
        );
    }

    #[test]
    fn chars_accept_one_code_point_or_an_integer() {
        assert_eq!(low("char", s("😀")).unwrap(), Val::Char('😀'));
        assert_eq!(low("char", Value::Int(0x1F600)).unwrap(), Val::Char('😀'));
        assert_eq!(low("char", Value::Float(65.0)).unwrap(), Val::Char('A'));
        assert_eq!(lift(&Val::Char('😀')).unwrap(), s("😀"));
        assert!(
            bad("char", s("ab"))
                .ends_with("expected a single character, got a string of 2 characters")
        );
        assert!(bad("char", s("")).ends_with("got a string of 0 characters"));
        assert!(bad("char", Value::Int(0xD800)).ends_with("55296 is not a Unicode scalar value"));
        assert!(bad("char", Value::Int(-1)).ends_with("-1 is not a Unicode scalar value"));
        assert!(bad("char", Value::Int(0x110000)).ends_with("is not a Unicode scalar value"));
        assert!(bad("char", Value::bytes(vec![0xc3])).ends_with("not valid UTF-8 (at byte 0)"));
        assert!(bad("char", Value::Bool(true)).contains("expected character"));
    }

    #[test]
    fn byte_lists_are_strings() {
        let bytes = Value::bytes(vec![0u8, 1, 255]);
        let vals = Val::List(vec![Val::U8(0), Val::U8(1), Val::U8(255)]);
        assert_eq!(low("bytes", bytes.clone()).unwrap(), vals);
        let ints = arr(vec![Value::Int(0), Value::Float(1.0), Value::Int(255)]);
        assert_eq!(low("bytes", ints).unwrap(), vals);
        assert_eq!(low("bytes", empty_map()).unwrap(), Val::List(vec![]));
        assert_eq!(lift(&vals).unwrap(), bytes);
        assert_eq!(
            lift_as(&ty("bytes"), &Val::List(vec![])).unwrap(),
            Value::bytes(vec![])
        );
        assert_eq!(
            bad("bytes", arr(vec![Value::Int(1), Value::Int(256)])),
            "argument 1 (x)[2]: 256 is out of range for u8 (0 to 255)"
        );
        assert_eq!(
            bad("bytes", arr(vec![s("a")])),
            "argument 1 (x)[1]: expected integer, got string"
        );
        assert_eq!(
            bad("bytes", Value::Int(1)),
            "argument 1 (x): expected string or array of bytes, got integer"
        );
        // Nested, through the record's type: an empty `data` stays a byte string.
        let info = Val::Record(vec![
            ("id".into(), Val::U64(1)),
            ("data".into(), Val::List(vec![])),
        ]);
        let lifted = lift_as(&ty("blob-info"), &info).unwrap();
        assert_eq!(lifted.get("data"), Some(&Value::bytes(vec![])));
    }

    #[test]
    fn lists_are_arrays_and_empty_tables_are_empty_lists() {
        let words = arr(vec![s("a"), s("b")]);
        assert_eq!(
            low("strings", words.clone()).unwrap(),
            Val::List(vec![Val::String("a".into()), Val::String("b".into())])
        );
        assert_eq!(round("strings", words.clone()), words);
        assert_eq!(low("strings", empty_map()).unwrap(), Val::List(vec![]));
        assert_eq!(low("strings", arr(vec![])).unwrap(), Val::List(vec![]));
        assert_eq!(lift(&Val::List(vec![])).unwrap(), arr(vec![]), "never nil");
        assert_eq!(
            lift_as(&ty("strings"), &Val::List(vec![])).unwrap(),
            arr(vec![])
        );
        assert_eq!(
            bad("strings", map([("a", s("b"))])),
            "argument 1 (x): expected array, got map"
        );
        assert_eq!(
            bad("strings", s("ab")),
            "argument 1 (x): expected array, got string"
        );
    }

    #[test]
    fn nested_errors_name_the_path() {
        let user = |tags: Vec<Value>| {
            map([
                ("name", s("ann")),
                ("age", Value::Int(30)),
                ("tags", arr(tags)),
            ])
        };
        let users = arr(vec![user(vec![s("x")]), user(vec![Value::Int(1)])]);
        let err = lower_args(&params("t-users"), &[users]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Invalid);
        assert_eq!(
            err.to_string(),
            "argument 1 (users)[2].tags[1]: expected string, got integer"
        );
        let users = arr(vec![map([("name", s("bo"))])]);
        assert_eq!(
            lower_args(&params("t-users"), &[users])
                .unwrap_err()
                .to_string(),
            "argument 1 (users)[1]: missing required field \"age\""
        );
        let mut path = ValuePath::new();
        let err = lower(&ty("point"), &map([("x", s("1"))]), &mut path).unwrap_err();
        assert_eq!(err.to_string(), ".x: expected integer, got string");
        assert_eq!(path.as_str(), "", "the path is restored after an error");
    }

    #[test]
    fn records_follow_declaration_order_and_optional_fields() {
        let point = map([
            ("y", Value::Int(2)),
            ("x", Value::Int(1)),
            ("z", s("extra")),
        ]);
        let val = low("point", point).unwrap();
        assert_eq!(
            val,
            Val::Record(vec![("x".into(), Val::S32(1)), ("y".into(), Val::S32(2))])
        );
        let lifted = lift(&val).unwrap();
        assert_eq!(
            lifted.as_map().unwrap().keys().collect::<Vec<_>>(),
            ["x", "y"]
        );
        assert_eq!(lifted, map([("x", Value::Int(1)), ("y", Value::Int(2))]));

        let user = map([
            ("name", s("ann")),
            ("age", Value::Int(30)),
            ("tags", empty_map()),
        ]);
        let Val::Record(fields) = low("users", arr(vec![user]))
            .map(|v| match v {
                Val::List(mut items) => items.remove(0),
                other => other,
            })
            .unwrap()
        else {
            panic!("not a record")
        };
        assert_eq!(fields[2], ("tags".into(), Val::List(vec![])));
        assert_eq!(
            fields[3],
            ("email".into(), Val::Option(None)),
            "absent option field"
        );

        let none = Val::Record(vec![
            ("a".into(), Val::Option(None)),
            ("b".into(), Val::Option(None)),
        ]);
        assert_eq!(low("opts", empty_map()).unwrap(), none);
        assert_eq!(
            low("opts", arr(vec![])).unwrap(),
            none,
            "an empty array is an empty table"
        );
        assert_eq!(low("opts", map([("a", Value::Nil)])).unwrap(), none);
        assert_eq!(
            lift(&none).unwrap(),
            map([("a", Value::Nil), ("b", Value::Nil)])
        );
        assert_eq!(
            bad("point", map([("x", Value::Int(1))])),
            "argument 1 (x): missing required field \"y\""
        );
        assert_eq!(
            bad("point", arr(vec![Value::Int(1)])),
            "argument 1 (x): expected map, got array"
        );
    }

    #[test]
    fn tuples_are_arrays_of_exact_length() {
        let pair = arr(vec![s("a"), Value::Int(2)]);
        assert_eq!(
            low("tuple", pair.clone()).unwrap(),
            Val::Tuple(vec![Val::String("a".into()), Val::U32(2)])
        );
        assert_eq!(round("tuple", pair), arr(vec![s("a"), Value::Int(2)]));
        assert_eq!(
            bad("tuple", arr(vec![s("a")])),
            "argument 1 (x): expected an array of 2 elements, got 1 elements"
        );
        assert_eq!(
            bad("tuple", arr(vec![s("a"), Value::Int(-2)])),
            "argument 1 (x)[2]: -2 is out of range for u32 (0 to 4294967295)"
        );
    }

    #[test]
    fn variants_are_single_key_maps() {
        let circle = low("shape", map([("circle", Value::Int(2))])).unwrap();
        assert_eq!(
            circle,
            Val::Variant("circle".into(), Some(Box::new(Val::Float64(2.0))))
        );
        assert_eq!(lift(&circle).unwrap(), map([("circle", Value::Float(2.0))]));
        let empty = low("shape", map([("empty", s("ignored"))])).unwrap();
        assert_eq!(empty, Val::Variant("empty".into(), None));
        assert_eq!(lift(&empty).unwrap(), map([("empty", Value::Bool(true))]));
        assert_eq!(
            round("shape", map([("empty", Value::Bool(true))])),
            map([("empty", Value::Bool(true))])
        );
        // The first case in WIT order wins, whatever the map's order.
        let both = map([("empty", Value::Bool(true)), ("circle", Value::Int(1))]);
        assert!(matches!(low("shape", both).unwrap(), Val::Variant(c, _) if c == "circle"));
        assert_eq!(
            bad("shape", map([("square", Value::Int(1))])),
            "argument 1 (x): expected a map with one of the keys circle, rectangle, empty, got a map with keys square"
        );
        assert_eq!(
            bad("shape", empty_map()),
            "argument 1 (x): expected a map with one of the keys circle, rectangle, empty, got an empty map"
        );
        assert_eq!(
            bad("shape", map([("rectangle", map([("x", Value::Int(0))]))])),
            "argument 1 (x).rectangle: missing required field \"y\""
        );
        assert_eq!(
            bad("shape", s("empty")),
            "argument 1 (x): expected map, got string"
        );
    }

    #[test]
    fn enums_take_names_or_indices_and_lift_to_names() {
        assert_eq!(low("color", s("green")).unwrap(), Val::Enum("green".into()));
        assert_eq!(
            low("color", Value::Int(2)).unwrap(),
            Val::Enum("blue".into())
        );
        assert_eq!(
            low("color", Value::Float(0.0)).unwrap(),
            Val::Enum("red".into())
        );
        assert_eq!(lift(&Val::Enum("blue".into())).unwrap(), s("blue"));
        assert_eq!(
            bad("color", s("purple")),
            "argument 1 (x): unknown enum case \"purple\", expected one of red, green, blue"
        );
        assert_eq!(
            bad("color", Value::Int(3)),
            "argument 1 (x): enum index 3 is out of range (0 to 2)"
        );
        assert_eq!(
            bad("color", Value::Int(-1)),
            "argument 1 (x): enum index -1 is out of range (0 to 2)"
        );
        assert_eq!(
            bad("color", Value::Float(0.5)),
            "argument 1 (x): expected integer, got float 0.5"
        );
        assert_eq!(
            bad("color", Value::Bool(true)),
            "argument 1 (x): expected enum case name or index, got boolean"
        );
    }

    #[test]
    fn flags_take_names_sets_or_bitmasks_and_lift_to_names() {
        let rx = Val::Flags(vec!["read".into(), "exec".into()]);
        assert_eq!(
            low("perms", arr(vec![s("exec"), s("read"), s("exec")])).unwrap(),
            rx
        );
        let set = map([
            ("exec", Value::Bool(true)),
            ("write", Value::Bool(false)),
            ("read", Value::Bool(true)),
        ]);
        assert_eq!(low("perms", set).unwrap(), rx);
        assert_eq!(low("perms", Value::Int(0b101)).unwrap(), rx);
        assert_eq!(low("perms", Value::Int(0)).unwrap(), Val::Flags(vec![]));
        assert_eq!(low("perms", empty_map()).unwrap(), Val::Flags(vec![]));
        assert_eq!(low("perms", arr(vec![])).unwrap(), Val::Flags(vec![]));
        assert_eq!(lift(&rx).unwrap(), arr(vec![s("read"), s("exec")]));
        assert_eq!(lift(&Val::Flags(vec![])).unwrap(), arr(vec![]));
        assert_eq!(
            bad("perms", arr(vec![s("read"), s("fly")])),
            "argument 1 (x)[2]: unknown flag \"fly\", expected one of read, write, exec"
        );
        assert_eq!(
            bad("perms", map([("fly", Value::Bool(true))])),
            "argument 1 (x).fly: unknown flag \"fly\", expected one of read, write, exec"
        );
        assert_eq!(
            bad("perms", map([("read", Value::Int(1))])),
            "argument 1 (x).read: expected boolean, got integer"
        );
        assert_eq!(
            bad("perms", arr(vec![Value::Int(1)])),
            "argument 1 (x)[1]: expected flag name (string), got integer"
        );
        assert_eq!(
            bad("perms", Value::Int(8)),
            "argument 1 (x): flags bitmask 8 is not a set of the 3 flags (0 to 7)"
        );
        assert!(bad("perms", Value::Int(-1)).contains("flags bitmask -1 is not a set"));
        assert!(bad("perms", s("read")).contains("expected flags (an array of names"));
    }

    #[test]
    fn options_are_nil_or_the_value() {
        assert_eq!(low("option", Value::Nil).unwrap(), Val::Option(None));
        let five = low("option", Value::Int(5)).unwrap();
        assert_eq!(five, Val::Option(Some(Box::new(Val::S32(5)))));
        assert_eq!(lift(&five).unwrap(), Value::Int(5));
        assert_eq!(lift(&Val::Option(None)).unwrap(), Value::Nil);
        assert_eq!(
            low("option2", Value::Int(5)).unwrap(),
            Val::Option(Some(Box::new(Val::Option(Some(Box::new(Val::S32(5)))))))
        );
        assert_eq!(low("option2", Value::Nil).unwrap(), Val::Option(None));
        assert_eq!(
            bad("option", s("5")),
            "argument 1 (x): expected integer, got string"
        );
    }

    #[test]
    fn results_are_ok_or_err_maps() {
        let ok = low("result", map([("ok", Value::Int(4))])).unwrap();
        assert_eq!(ok, Val::Result(Ok(Some(Box::new(Val::S32(4))))));
        assert_eq!(lift(&ok).unwrap(), map([("ok", Value::Int(4))]));
        let point = map([("x", Value::Int(1)), ("y", Value::Int(2))]);
        assert_eq!(
            round("result", map([("err", point.clone())])),
            map([("err", point)])
        );
        // `ok` wins when both keys are present.
        let both = map([("err", Value::Int(1)), ("ok", Value::Int(2))]);
        assert!(matches!(low("result", both).unwrap(), Val::Result(Ok(_))));
        assert_eq!(
            bad("result", map([("err", map([("x", Value::Int(1))]))])),
            "argument 1 (x).err: missing required field \"y\""
        );
        assert_eq!(
            bad("result", map([("ok", s("4"))])),
            "argument 1 (x).ok: expected integer, got string"
        );
        assert_eq!(
            bad("result", map([("value", Value::Int(1))])),
            "argument 1 (x): expected a map with an \"ok\" or \"err\" key, got a map with keys value"
        );
        assert_eq!(
            bad("result", empty_map()),
            "argument 1 (x): expected a map with an \"ok\" or \"err\" key, got an empty map"
        );
        assert_eq!(
            bad("result", Value::Int(1)),
            "argument 1 (x): expected map, got integer"
        );
    }

    #[test]
    fn payload_less_result_arms_are_true() {
        let ok = low("unit-ok", map([("ok", Value::Bool(true))])).unwrap();
        assert_eq!(ok, Val::Result(Ok(None)));
        assert_eq!(lift(&ok).unwrap(), map([("ok", Value::Bool(true))]));
        assert_eq!(
            low("unit-ok", map([("ok", Value::Int(0))])).unwrap(),
            ok,
            "payload ignored"
        );
        let err = low("unit-ok", map([("err", s("no"))])).unwrap();
        assert_eq!(lift(&err).unwrap(), map([("err", s("no"))]));
        assert_eq!(
            round("unit", map([("err", Value::Bool(false))])),
            map([("err", Value::Bool(true))])
        );
        assert_eq!(
            round("unit", map([("ok", s("x"))])),
            map([("ok", Value::Bool(true))])
        );
    }

    #[test]
    fn string_keyed_maps_are_maps() {
        let m = map([("a", Value::Int(1)), ("b", Value::Int(2))]);
        let val = low("map", m.clone()).unwrap();
        assert_eq!(
            val,
            Val::Map(vec![
                (Val::String("a".into()), Val::U32(1)),
                (Val::String("b".into()), Val::U32(2)),
            ])
        );
        assert_eq!(lift(&val).unwrap(), m);
        assert_eq!(low("map", arr(vec![])).unwrap(), Val::Map(vec![]));
        assert_eq!(
            bad("map", map([("a", Value::Int(-1))])),
            "argument 1 (x).a: -1 is out of range for u32 (0 to 4294967295)"
        );
        let pairs = Val::Map(vec![(Val::U32(1), Val::String("one".into()))]);
        assert_eq!(
            lift(&pairs).unwrap(),
            arr(vec![arr(vec![Value::Int(1), s("one")])])
        );
    }

    #[test]
    fn resources_are_not_supported_from_lua() {
        let take = params("take");
        let err = lower_args(&take, &[Value::Int(1)]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Invalid);
        assert_eq!(
            err.to_string(),
            "argument 1 (b): type own is not supported from Lua"
        );
        let peek = params("peek");
        assert_eq!(
            lower_args(&peek, &[Value::Nil]).unwrap_err().to_string(),
            "argument 1 (b): type borrow is not supported from Lua"
        );
    }

    #[test]
    fn argument_count_must_match_exactly() {
        let two = params("two");
        let err = lower_args(&two, &[Value::Int(1), Value::Nil, Value::Nil]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Invalid);
        assert_eq!(err.to_string(), "expected 2 arguments, got 3");
        assert_eq!(
            lower_args(&two, &[Value::Int(1)]).unwrap_err().to_string(),
            "expected 2 arguments, got 1"
        );
        assert_eq!(
            lower_args(&params("t-bool"), &[]).unwrap_err().to_string(),
            "expected 1 argument, got 0"
        );
        let vals = lower_args(&two, &[Value::Int(1), Value::Nil]).unwrap();
        assert_eq!(vals, [Val::S32(1), Val::Option(None)]);
        assert_eq!(
            lower_args(&two, &[Value::Int(1), Value::Int(2)])
                .unwrap_err()
                .to_string(),
            "argument 2 (b): expected string, got integer"
        );
    }

    #[test]
    fn u64_beyond_i64_is_an_internal_error() {
        let err = lift(&Val::U64(u64::MAX)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Internal);
        assert_eq!(
            err.to_string(),
            "u64 value 18446744073709551615 does not fit a Lua integer"
        );
        assert_eq!(
            lift(&Val::U64(i64::MAX as u64)).unwrap(),
            Value::Int(i64::MAX)
        );
        let nested = Val::List(vec![
            Val::Record(vec![("id".into(), Val::U64(1))]),
            Val::Record(vec![("id".into(), Val::U64(1 << 63))]),
        ]);
        assert_eq!(
            lift(&nested).unwrap_err().to_string(),
            "result[2].id: u64 value 9223372036854775808 does not fit a Lua integer"
        );
    }

    #[test]
    fn placeholders_fill_result_slots() {
        let results: Vec<Val> = func("t-users").results().map(|t| placeholder(&t)).collect();
        assert_eq!(results.len(), 1);
        assert!(func("two").results().next().is_none());
    }

    /// The `types` guest, if another build produced it (`guests/dist/types.wasm`).
    fn types_guest() -> Option<Vec<u8>> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../guests/dist/types.wasm");
        std::fs::read(path).ok()
    }

    #[tokio::test]
    async fn round_trips_through_the_types_guest() {
        let Some(bytes) = types_guest() else {
            eprintln!("guests/dist/types.wasm not built; skipping");
            return;
        };
        let engine = Engine::default();
        let component = Component::new(&engine, &bytes).expect("compile types.wasm");
        let mut linker = Linker::<()>::new(&engine);
        linker
            .define_unknown_imports_as_traps(&component)
            .expect("trap imports");
        let mut store = Store::new(&engine, ());
        let instance = linker
            .instantiate_async(&mut store, &component)
            .await
            .expect("instantiate");

        let user = map([
            ("name", s("ann")),
            ("age", Value::Int(41)),
            ("tags", arr(vec![s("a"), s("b")])),
            ("email", s("a@x")),
        ]);
        let no_email = map([
            ("name", s("bo")),
            ("age", Value::Int(9)),
            ("tags", empty_map()),
        ]);
        let mut no_email_out = no_email.as_map().unwrap().clone();
        no_email_out.insert("tags".into(), arr(vec![]));
        no_email_out.insert("email".into(), Value::Nil);
        let cases: Vec<(&str, Vec<Value>, Value)> = vec![
            ("echo-bool", vec![Value::Bool(true)], Value::Bool(true)),
            ("echo-s8", vec![Value::Int(-128)], Value::Int(-128)),
            ("inc-u8", vec![Value::Int(255)], Value::Int(0)),
            ("echo-s64", vec![Value::Int(i64::MIN)], Value::Int(i64::MIN)),
            ("echo-f32", vec![Value::Float(1.5)], Value::Float(1.5)),
            ("double-f64", vec![Value::Int(2)], Value::Float(4.0)),
            ("next-char", vec![s("a")], s("b")),
            ("to-upper", vec![s("hé")], s("HÉ")),
            (
                "reverse-bytes",
                vec![Value::bytes(vec![1u8, 2])],
                Value::bytes(vec![2u8, 1]),
            ),
            ("echo-bytes", vec![empty_map()], Value::bytes(vec![])),
            ("range", vec![Value::Int(0)], arr(vec![])),
            (
                "range",
                vec![Value::Int(2)],
                arr(vec![Value::Int(0), Value::Int(1)]),
            ),
            ("echo-user", vec![user.clone()], user),
            (
                "echo-users",
                vec![arr(vec![no_email])],
                arr(vec![Value::map(no_email_out)]),
            ),
            ("maybe-double", vec![Value::Nil], Value::Nil),
            ("maybe-double", vec![Value::Int(4)], Value::Int(8)),
            (
                "check-positive",
                vec![Value::Int(1)],
                map([("ok", Value::Bool(true))]),
            ),
            (
                "check-positive",
                vec![Value::Int(0)],
                map([("err", s("0 is not positive"))]),
            ),
            (
                "echo-result",
                vec![map([("err", Value::Int(7))])],
                map([("err", Value::Int(7))]),
            ),
            (
                "make-shape",
                vec![s("other")],
                map([("empty", Value::Bool(true))]),
            ),
            (
                "echo-shape",
                vec![map([("circle", Value::Int(1))])],
                map([("circle", Value::Float(1.0))]),
            ),
            ("next-color", vec![Value::Int(2)], s("red")),
            (
                "toggle-exec",
                vec![arr(vec![s("read")])],
                arr(vec![s("read"), s("exec")]),
            ),
            (
                "echo-perms",
                vec![Value::Int(7)],
                arr(vec![s("read"), s("write"), s("exec")]),
            ),
            (
                "swap",
                vec![arr(vec![s("a"), Value::Int(1)])],
                arr(vec![Value::Int(1), s("a")]),
            ),
            ("noop", vec![], Value::Nil),
        ];
        for (name, args, want) in cases {
            let f = instance
                .get_func(&mut store, name)
                .unwrap_or_else(|| panic!("no {name}"));
            let ty = f.ty(&store);
            let params: Vec<(String, Type)> = ty.params().map(|(n, t)| (n.to_owned(), t)).collect();
            let result_ty: Vec<Type> = ty.results().collect();
            let vals = lower_args(&params, &args).unwrap_or_else(|e| panic!("{name}: {e}"));
            let mut results: Vec<Val> = result_ty.iter().map(placeholder).collect();
            f.call_async(&mut store, &vals, &mut results)
                .await
                .expect(name);
            let got = match (result_ty.first(), results.first()) {
                (Some(t), Some(v)) => lift_as(t, v).unwrap_or_else(|e| panic!("{name}: {e}")),
                _ => Value::Nil,
            };
            assert_eq!(got, want, "{name}");
        }
    }
}

//! Values shaped by a WIT type, well-typed component values, and the checks of the
//! WIT ⇄ `Value` conversion (`weft_wasm::fuzzing`).
//!
//! The checks, for a type `T`, a value `v` and a well-typed component value `c`:
//! - nothing panics; lowering and lifting fail only with their documented kinds;
//! - `lower(T, v)`, when it succeeds, is a value of type `T` (as wasmtime checks it in a
//!   call) and leaves the error path as it found it;
//! - where `T` round-trips ([`Ty::round_trips`]): `lower(T, lift(T, c)) == c`, so also
//!   `lower(T, lift(T, lower(T, v))) == lower(T, v)`.

use arbitrary::{Result, Unstructured};
use wasmtime::component::{Type, Val};
use weft_core::{ErrorKind, Map, Value};
use weft_wasm::fuzzing::{ValuePath, lift_as, lower};

use crate::value;
use crate::wit::Ty;

/// The range of an integer type.
fn int_range(ty: &Type) -> Option<(i128, i128)> {
    Some(match ty {
        Type::S8 => (i8::MIN.into(), i8::MAX.into()),
        Type::U8 => (0, u8::MAX.into()),
        Type::S16 => (i16::MIN.into(), i16::MAX.into()),
        Type::U16 => (0, u16::MAX.into()),
        Type::S32 => (i32::MIN.into(), i32::MAX.into()),
        Type::U32 => (0, u32::MAX.into()),
        Type::S64 => (i64::MIN.into(), i64::MAX.into()),
        Type::U64 => (0, u64::MAX.into()),
        _ => return None,
    })
}

/// An integer near the edges of `lo..=hi`, as an integer or an integral float.
fn int_value(u: &mut Unstructured, lo: i128, hi: i128) -> Result<Value> {
    let n: i128 = match u.int_in_range(0..=5)? {
        0 => lo,
        1 => hi,
        2 => lo - 1,
        3 => hi + 1,
        _ => i128::from(u.arbitrary::<i64>()?).clamp(lo, hi),
    };
    Ok(match i64::try_from(n) {
        Ok(i) if u.ratio(4, 5)? => Value::Int(i),
        _ => Value::Float(n as f64),
    })
}

/// A value shaped by `ty` (usually fitting it, sometimes off by a little, sometimes
/// anything at all), so that lowering gets deep into the type.
pub fn value_for(u: &mut Unstructured, ty: &Type, depth: u32) -> Result<Value> {
    if depth > 8 || u.ratio(1, 16)? {
        return value::value(u, 2);
    }
    let items = |u: &mut Unstructured, elem: &Type, n: usize| -> Result<Vec<Value>> {
        (0..n).map(|_| value_for(u, elem, depth + 1)).collect()
    };
    Ok(match ty {
        Type::Bool => Value::Bool(u.arbitrary()?),
        Type::Float32 | Type::Float64 => Value::Float(value::float(u)?),
        Type::Char => match u.int_in_range(0..=2)? {
            0 => Value::Int(value::int(u)?),
            _ => Value::bytes(value::bytes(u)?),
        },
        Type::String => Value::bytes(value::bytes(u)?),
        Type::List(list) => {
            let elem = list.ty();
            let n = u.int_in_range(0..=3)?;
            match u.int_in_range(0..=5)? {
                0 => Value::map(Map::new()),
                1 if matches!(elem, Type::U8) => Value::bytes(value::bytes(u)?),
                _ => Value::array(items(u, &elem, n)?),
            }
        }
        Type::FixedLengthList(list) => {
            let len = list.len() as usize;
            let n = if u.ratio(7, 8)? { len } else { len + 1 };
            Value::array(items(u, &list.ty(), n)?)
        }
        Type::Tuple(tuple) => {
            let mut out = Vec::new();
            for t in tuple.types() {
                out.push(value_for(u, &t, depth + 1)?);
            }
            if u.ratio(1, 10)? {
                out.pop();
            }
            Value::array(out)
        }
        Type::Record(record) => {
            let mut map = Map::new();
            for field in record.fields() {
                if u.ratio(7, 8)? {
                    map.insert(field.name.to_owned(), value_for(u, &field.ty, depth + 1)?);
                }
            }
            if u.ratio(1, 8)? {
                map.insert(value::key(u)?, value::value(u, 3)?);
            }
            Value::map(map)
        }
        Type::Variant(variant) => {
            let mut map = Map::new();
            for _ in 0..u.int_in_range(0..=2)? {
                let cases: Vec<_> = variant.cases().collect();
                let case = u.choose(&cases)?;
                let payload = match &case.ty {
                    Some(t) => value_for(u, t, depth + 1)?,
                    None => value::value(u, 3)?,
                };
                map.insert(case.name.to_owned(), payload);
            }
            Value::map(map)
        }
        Type::Enum(e) => {
            let names: Vec<&str> = e.names().collect();
            match u.int_in_range(0..=3)? {
                0 => Value::Int(u.int_in_range(-1..=names.len() as i64)?),
                1 => Value::bytes(value::bytes(u)?),
                _ => Value::str(*u.choose(&names)?),
            }
        }
        Type::Option(option) => match u.ratio(1, 3)? {
            true => Value::Nil,
            false => value_for(u, &option.ty(), depth + 1)?,
        },
        Type::Result(result) => {
            let mut map = Map::new();
            let arms = [("ok", result.ok()), ("err", result.err())];
            for (name, ty) in arms {
                if u.arbitrary()? {
                    let v = match ty {
                        Some(t) => value_for(u, &t, depth + 1)?,
                        None => value::value(u, 3)?,
                    };
                    map.insert(name.to_owned(), v);
                }
            }
            Value::map(map)
        }
        Type::Flags(flags) => {
            let names: Vec<&str> = flags.names().collect();
            match u.int_in_range(0..=2)? {
                0 => Value::Int(value::int(u)?),
                1 => {
                    let mut map = Map::new();
                    for _ in 0..u.int_in_range(0..=3)? {
                        map.insert((*u.choose(&names)?).to_owned(), value::value(u, 4)?);
                    }
                    Value::map(map)
                }
                _ => {
                    let n = u.int_in_range(0..=3)?;
                    let picked: Result<Vec<Value>> =
                        (0..n).map(|_| Ok(Value::str(*u.choose(&names)?))).collect();
                    Value::array(picked?)
                }
            }
        }
        Type::Map(map_ty) => {
            let mut map = Map::new();
            for _ in 0..u.int_in_range(0..=3)? {
                let key = match map_ty.key() {
                    Type::Bool => if u.arbitrary()? { "true" } else { "false" }.to_owned(),
                    Type::Char | Type::String => value::key(u)?,
                    _ => value::int(u)?.to_string(),
                };
                map.insert(key, value_for(u, &map_ty.value(), depth + 1)?);
            }
            Value::map(map)
        }
        other => match int_range(other) {
            Some((lo, hi)) => int_value(u, lo, hi)?,
            None => value::value(u, 3)?,
        },
    })
}

/// A well-typed component value of type `ty`, as a guest's result lifts; `None` for
/// resources (only a store makes them). Flags are in WIT order and string-keyed maps
/// have distinct keys, as wasmtime gives them.
pub fn val_for(u: &mut Unstructured, ty: &Type) -> Result<Option<Val>> {
    let items = |u: &mut Unstructured, elem: &Type, n: usize| -> Result<Option<Vec<Val>>> {
        (0..n).map(|_| val_for(u, elem)).collect()
    };
    Ok(Some(match ty {
        Type::Bool => Val::Bool(u.arbitrary()?),
        Type::S8 => Val::S8(u.arbitrary()?),
        Type::U8 => Val::U8(u.arbitrary()?),
        Type::S16 => Val::S16(u.arbitrary()?),
        Type::U16 => Val::U16(u.arbitrary()?),
        Type::S32 => Val::S32(u.arbitrary()?),
        Type::U32 => Val::U32(u.arbitrary()?),
        Type::S64 => Val::S64(u.arbitrary()?),
        Type::U64 => Val::U64(u.arbitrary()?),
        Type::Float32 => Val::Float32(value::float(u)? as f32),
        Type::Float64 => Val::Float64(value::float(u)?),
        Type::Char => Val::Char(u.arbitrary()?),
        Type::String => Val::String(String::from_utf8_lossy(&value::bytes(u)?).into_owned()),
        Type::List(list) => {
            let n = u.int_in_range(0..=3)?;
            match items(u, &list.ty(), n)? {
                Some(vals) => Val::List(vals),
                None => return Ok(None),
            }
        }
        Type::FixedLengthList(list) => match items(u, &list.ty(), list.len() as usize)? {
            Some(vals) => Val::FixedLengthList(vals),
            None => return Ok(None),
        },
        Type::Tuple(tuple) => {
            let mut out = Vec::new();
            for t in tuple.types() {
                let Some(v) = val_for(u, &t)? else {
                    return Ok(None);
                };
                out.push(v);
            }
            Val::Tuple(out)
        }
        Type::Record(record) => {
            let mut out = Vec::new();
            for field in record.fields() {
                let Some(v) = val_for(u, &field.ty)? else {
                    return Ok(None);
                };
                out.push((field.name.to_owned(), v));
            }
            Val::Record(out)
        }
        Type::Variant(variant) => {
            let cases: Vec<_> = variant.cases().collect();
            let case = u.choose(&cases)?;
            let payload = match &case.ty {
                Some(t) => match val_for(u, t)? {
                    Some(v) => Some(Box::new(v)),
                    None => return Ok(None),
                },
                None => None,
            };
            Val::Variant(case.name.to_owned(), payload)
        }
        Type::Enum(e) => {
            let names: Vec<&str> = e.names().collect();
            Val::Enum((*u.choose(&names)?).to_owned())
        }
        Type::Option(option) => match u.arbitrary()? {
            false => Val::Option(None),
            true => match val_for(u, &option.ty())? {
                Some(v) => Val::Option(Some(Box::new(v))),
                None => return Ok(None),
            },
        },
        Type::Result(result) => {
            let ok = u.arbitrary()?;
            let arm = if ok { result.ok() } else { result.err() };
            let payload = match arm {
                Some(t) => match val_for(u, &t)? {
                    Some(v) => Some(Box::new(v)),
                    None => return Ok(None),
                },
                None => None,
            };
            Val::Result(if ok { Ok(payload) } else { Err(payload) })
        }
        Type::Flags(flags) => {
            let mut set = Vec::new();
            for name in flags.names() {
                if u.arbitrary()? {
                    set.push(name.to_owned());
                }
            }
            Val::Flags(set)
        }
        Type::Map(map) => {
            let mut pairs: Vec<(Val, Val)> = Vec::new();
            for _ in 0..u.int_in_range(0..=3)? {
                let (Some(k), Some(v)) = (val_for(u, &map.key())?, val_for(u, &map.value())?)
                else {
                    return Ok(None);
                };
                if !pairs.iter().any(|(have, _)| *have == k) {
                    pairs.push((k, v));
                }
            }
            Val::Map(pairs)
        }
        Type::Own(_) | Type::Borrow(_) | Type::Future(_) | Type::Stream(_) | Type::ErrorContext => {
            return Ok(None);
        }
    }))
}

/// Checks `val` against `ty` as wasmtime does when it lowers a call's arguments.
pub fn typecheck(ty: &Type, val: &Val) -> std::result::Result<(), String> {
    fn all<'v>(
        mut pairs: impl Iterator<Item = (Type, &'v Val)>,
    ) -> std::result::Result<(), String> {
        pairs.try_for_each(|(t, v)| typecheck(&t, v))
    }
    let ok = match (ty, val) {
        (Type::Bool, Val::Bool(_))
        | (Type::S8, Val::S8(_))
        | (Type::U8, Val::U8(_))
        | (Type::S16, Val::S16(_))
        | (Type::U16, Val::U16(_))
        | (Type::S32, Val::S32(_))
        | (Type::U32, Val::U32(_))
        | (Type::S64, Val::S64(_))
        | (Type::U64, Val::U64(_))
        | (Type::Float32, Val::Float32(_))
        | (Type::Float64, Val::Float64(_))
        | (Type::Char, Val::Char(_))
        | (Type::String, Val::String(_)) => true,
        (Type::List(l), Val::List(items)) => {
            return all(items.iter().map(|v| (l.ty(), v)));
        }
        (Type::FixedLengthList(l), Val::FixedLengthList(items)) => {
            if items.len() != l.len() as usize {
                return Err(format!(
                    "fixed list of {} items, not {}",
                    items.len(),
                    l.len()
                ));
            }
            return all(items.iter().map(|v| (l.ty(), v)));
        }
        (Type::Tuple(t), Val::Tuple(items)) => {
            if items.len() != t.types().len() {
                return Err("tuple length".into());
            }
            return all(t.types().zip(items));
        }
        (Type::Record(r), Val::Record(fields)) => {
            if fields.len() != r.fields().len() {
                return Err("record field count".into());
            }
            for (field, (name, v)) in r.fields().zip(fields) {
                if field.name != name {
                    return Err(format!("field {name}, expected {}", field.name));
                }
                typecheck(&field.ty, v)?;
            }
            return Ok(());
        }
        (Type::Variant(variant), Val::Variant(name, payload)) => {
            let case = variant.cases().find(|c| c.name == name);
            let Some(case) = case else {
                return Err(format!("no case {name}"));
            };
            return payload_check(case.ty.as_ref(), payload.as_deref());
        }
        (Type::Enum(e), Val::Enum(name)) => e.names().any(|n| n == name),
        (Type::Option(o), Val::Option(v)) => {
            return payload_check(v.as_ref().map(|_| o.ty()).as_ref(), v.as_deref());
        }
        (Type::Result(r), Val::Result(Ok(v))) => {
            return payload_check(r.ok().as_ref(), v.as_deref());
        }
        (Type::Result(r), Val::Result(Err(v))) => {
            return payload_check(r.err().as_ref(), v.as_deref());
        }
        (Type::Flags(f), Val::Flags(set)) => set.iter().all(|s| f.names().any(|n| n == s)),
        (Type::Map(m), Val::Map(pairs)) => {
            for (k, v) in pairs {
                typecheck(&m.key(), k)?;
                typecheck(&m.value(), v)?;
            }
            return Ok(());
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{val:?} is not a {ty:?}"))
    }
}

/// A payload against an optional payload type: both present and matching, or both absent.
fn payload_check(ty: Option<&Type>, v: Option<&Val>) -> std::result::Result<(), String> {
    match (ty, v) {
        (Some(t), Some(v)) => typecheck(t, v),
        (None, None) => Ok(()),
        _ => Err("payload presence".into()),
    }
}

/// Lowers `v` as `ty` and checks the result; the lowered value when it succeeded.
pub fn check_lower(ty: &Type, v: &Value) -> Option<Val> {
    let mut path = ValuePath::new();
    let lowered = lower(ty, v, &mut path);
    assert!(path.is_empty(), "the path is restored");
    match lowered {
        Ok(val) => {
            if let Err(e) = typecheck(ty, &val) {
                panic!("lowering {v:?} gave an ill-typed value: {e}");
            }
            Some(val)
        }
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::Invalid, "{e}");
            let _ = e.to_string();
            None
        }
    }
}

/// Lifts a well-typed `val` and, where `shape` round-trips, lowers it back to `val`.
pub fn check_lift(ty: &Type, shape: &Ty, val: &Val) {
    let lifted = match lift_as(ty, val) {
        Ok(v) => v,
        Err(e) => {
            // The only failure a well-typed value has: a u64 beyond i64.
            assert_eq!(e.kind(), ErrorKind::Internal, "{e}");
            assert!(e.message().contains("does not fit a Lua integer"), "{e}");
            return;
        }
    };
    if !shape.round_trips() {
        return;
    }
    let mut path = ValuePath::new();
    match lower(ty, &lifted, &mut path) {
        Ok(back) => assert_eq!(&back, val, "lowering the lifted {lifted:?}"),
        Err(e) => panic!("the lifted {lifted:?} of {val:?} does not lower: {e}"),
    }
}

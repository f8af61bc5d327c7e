//! Command-line arguments of a `process.wasm` command, each parsed by the WIT type of
//! its parameter (`weft run <command> args…`).
//!
//! | WIT type | the argument |
//! |---|---|
//! | `string` | the text as it is (no quotes) |
//! | `bool` | `true` or `false` |
//! | integers | a decimal integer in the type's range (`-5`, `+7`) |
//! | `f32`, `f64` | a decimal number, `inf`, `-inf` or `nan` |
//! | `char` | one character, or a WAVE char (`'\n'`, `'\u{1F600}'`) |
//! | `enum` | a case name |
//! | `option<T>` | `none`, `some(…)` in WAVE, or a `T` as above |
//! | records, lists, tuples, variants, results, flags | WAVE: `{x: 1, y: 2}`, `["a", "b"]`, `("a", 1)`, `circle(1.5)`, `ok(3)`, `{read, write}` |
//!
//! WAVE also takes an option's or a result's `ok` value bare (`3` for `some(3)` or
//! `ok(3)`), and an option record field may be left out (none).
//!
//! WAVE is the WebAssembly Value Encoding (the `wasm-wave` crate, through wasmtime's
//! `wave` feature): the text form of component values, as `wasmtime run --invoke`
//! takes them. Each parsed value is lifted to the weft [`Value`] a call from Lua would
//! pass (`crate::convert`), so the call path lowers it as it lowers any argument.
//!
//! A bad argument names the parameter, its type and the text:
//! `argument 1 (code: u8): "abc" is not a u8`; a wrong count names the parameters.

use std::fmt::Write as _;

use wasmtime::component::{Type, Val, wasm_wave};
use weft_core::{Error, Value};

use crate::convert;

/// Types longer than this are cut (with `…`) in messages.
const MAX_TYPE_TEXT: usize = 160;

/// Parses one command-line argument per parameter of `params`, in order.
///
/// Errors (Invalid): a count that is not the number of parameters (naming them), or
/// the first argument its type does not take (naming parameter, type and text).
pub(crate) fn parse_args(params: &[(String, Type)], args: &[String]) -> Result<Vec<Value>, Error> {
    if params.len() != args.len() {
        return Err(count_error(params, args.len()));
    }
    params
        .iter()
        .zip(args)
        .enumerate()
        .map(|(i, ((name, ty), text))| {
            let fail = |why: String| {
                Error::invalid(format!(
                    "argument {} ({name}: {}): {why}",
                    i + 1,
                    type_text(ty)
                ))
            };
            let val = parse_arg(ty, text).map_err(fail)?;
            convert::lift_as(ty, &val)
                .map_err(|e| fail(format!("{text:?} cannot be passed: {}", e.message())))
        })
        .collect()
}

/// The parameters as `name: type` (`code: u8, verbose: bool`), for messages and help.
pub(crate) fn params_text(params: &[(String, Type)]) -> String {
    params
        .iter()
        .map(|(name, ty)| format!("{name}: {}", type_text(ty)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A component type in WIT-like text (`list<string>`, `record { x: s32, y: s32 }`):
/// wasmtime's types carry no names, so named types are written out, cut past
/// [`MAX_TYPE_TEXT`] characters.
pub(crate) fn type_text(ty: &Type) -> String {
    let mut out = String::new();
    write_type(&mut out, ty);
    if out.chars().count() > MAX_TYPE_TEXT {
        out = out.chars().take(MAX_TYPE_TEXT).collect();
        out.push('…');
    }
    out
}

/// "expected 2 arguments (a: s32, b: s32), got 1".
fn count_error(params: &[(String, Type)], got: usize) -> Error {
    let expected = match params.len() {
        0 => "expected no arguments".to_string(),
        1 => format!("expected 1 argument ({})", params_text(params)),
        n => format!("expected {n} arguments ({})", params_text(params)),
    };
    Error::invalid(format!("{expected}, got {got}"))
}

/// One argument as a value of `ty`, or why not (without the parameter's name).
fn parse_arg(ty: &Type, text: &str) -> Result<Val, String> {
    match ty {
        Type::String => Ok(Val::String(text.to_owned())),
        Type::Bool => match text {
            "true" => Ok(Val::Bool(true)),
            "false" => Ok(Val::Bool(false)),
            _ => Err(format!("{text:?} is not a bool (true or false)")),
        },
        Type::S8 => int(text, "s8", i8::MIN.into(), i8::MAX.into()).map(|n| Val::S8(n as i8)),
        Type::U8 => int(text, "u8", 0, u8::MAX.into()).map(|n| Val::U8(n as u8)),
        Type::S16 => int(text, "s16", i16::MIN.into(), i16::MAX.into()).map(|n| Val::S16(n as i16)),
        Type::U16 => int(text, "u16", 0, u16::MAX.into()).map(|n| Val::U16(n as u16)),
        Type::S32 => int(text, "s32", i32::MIN.into(), i32::MAX.into()).map(|n| Val::S32(n as i32)),
        Type::U32 => int(text, "u32", 0, u32::MAX.into()).map(|n| Val::U32(n as u32)),
        Type::S64 => int(text, "s64", i64::MIN.into(), i64::MAX.into()).map(|n| Val::S64(n as i64)),
        // A weft value holds integers as i64: a larger u64 could not reach the guest.
        Type::U64 => int(text, "u64", 0, i64::MAX.into()).map(|n| Val::U64(n as u64)),
        Type::Float32 => float(text, "f32").and_then(|f| {
            let narrow = f as f32;
            if f.is_finite() && narrow.is_infinite() {
                Err(format!("{text:?} is out of range for f32"))
            } else {
                Ok(Val::Float32(narrow))
            }
        }),
        Type::Float64 => float(text, "f64").map(Val::Float64),
        Type::Char => {
            let mut chars = text.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => Ok(Val::Char(c)),
                _ => wave(ty, text).map_err(|_| {
                    format!("{text:?} is not a char (one character, or a WAVE char like '\\n')")
                }),
            }
        }
        Type::Enum(cases) => {
            if cases.names().any(|name| name == text) {
                Ok(Val::Enum(text.to_owned()))
            } else {
                let names: Vec<&str> = cases.names().collect();
                Err(format!("{text:?} is not one of {}", names.join(", ")))
            }
        }
        Type::Option(option) => match text {
            "none" => Ok(Val::Option(None)),
            _ if text.starts_with("some(") => wave(ty, text).map_err(|e| not_wave(ty, text, &e)),
            _ => Ok(Val::Option(Some(Box::new(parse_arg(&option.ty(), text)?)))),
        },
        Type::Map(_)
        | Type::Own(_)
        | Type::Borrow(_)
        | Type::Future(_)
        | Type::Stream(_)
        | Type::ErrorContext => Err(format!(
            "a {} cannot be given on the command line",
            kind_name(ty)
        )),
        Type::List(_)
        | Type::FixedLengthList(_)
        | Type::Record(_)
        | Type::Tuple(_)
        | Type::Variant(_)
        | Type::Result(_)
        | Type::Flags(_) => wave(ty, text).map_err(|e| not_wave(ty, text, &e)),
    }
}

/// A decimal integer in `min..=max`.
fn int(text: &str, ty: &str, min: i128, max: i128) -> Result<i128, String> {
    let n: i128 = text
        .parse()
        .map_err(|_| format!("{text:?} is not {}", a(ty)))?;
    if n < min || n > max {
        return Err(format!("{text:?} is not {} ({min} to {max})", a(ty)));
    }
    Ok(n)
}

/// A decimal number (`inf`, `-inf` and `nan` included).
fn float(text: &str, ty: &str) -> Result<f64, String> {
    text.parse()
        .map_err(|_| format!("{text:?} is not {}", a(ty)))
}

/// `text` in WAVE as a value of `ty`.
fn wave(ty: &Type, text: &str) -> Result<Val, wasm_wave::parser::ParserError> {
    wasm_wave::from_str::<Val>(ty, text)
}

/// Why `text` is not a WAVE value of `ty`, with an example of one.
fn not_wave(ty: &Type, text: &str, error: &wasm_wave::parser::ParserError) -> String {
    let example = wasm_wave::to_string(&example(ty))
        .map(|e| format!(" (e.g. {e})"))
        .unwrap_or_default();
    format!(
        "{text:?} is not a WAVE {} value{example}: {error}",
        kind_name(ty)
    )
}

/// A value of `ty` to show as an example: zeros, empty strings, the first case, one
/// item per list.
fn example(ty: &Type) -> Val {
    match ty {
        Type::Bool => Val::Bool(false),
        Type::S8 => Val::S8(0),
        Type::U8 => Val::U8(0),
        Type::S16 => Val::S16(0),
        Type::U16 => Val::U16(0),
        Type::S32 => Val::S32(0),
        Type::U32 => Val::U32(0),
        Type::S64 => Val::S64(0),
        Type::U64 => Val::U64(0),
        Type::Float32 => Val::Float32(0.0),
        Type::Float64 => Val::Float64(0.0),
        Type::Char => Val::Char('a'),
        Type::String => Val::String(String::new()),
        Type::List(list) => Val::List(vec![example(&list.ty())]),
        Type::FixedLengthList(list) => {
            let len = usize::try_from(list.len()).unwrap_or(0);
            Val::FixedLengthList(vec![example(&list.ty()); len])
        }
        Type::Record(record) => Val::Record(
            record
                .fields()
                .map(|f| (f.name.to_owned(), example(&f.ty)))
                .collect(),
        ),
        Type::Tuple(tuple) => Val::Tuple(tuple.types().map(|t| example(&t)).collect()),
        Type::Variant(variant) => match variant.cases().next() {
            Some(case) => Val::Variant(
                case.name.to_owned(),
                case.ty.as_ref().map(|t| Box::new(example(t))),
            ),
            None => Val::Bool(false),
        },
        Type::Enum(cases) => Val::Enum(cases.names().next().unwrap_or_default().to_owned()),
        Type::Option(option) => Val::Option(Some(Box::new(example(&option.ty())))),
        Type::Result(result) => Val::Result(Ok(result.ok().map(|t| Box::new(example(&t))))),
        Type::Flags(flags) => Val::Flags(flags.names().take(1).map(str::to_owned).collect()),
        // Never shown: these are refused before an example is made.
        Type::Map(_)
        | Type::Own(_)
        | Type::Borrow(_)
        | Type::Future(_)
        | Type::Stream(_)
        | Type::ErrorContext => Val::Bool(false),
    }
}

/// "a u8", "an s32", "an f64": a number type's name with its article (s… and f… are
/// read "es…", "ef…").
fn a(number_type: &str) -> String {
    let an = number_type.starts_with(['s', 'f']);
    format!("{} {number_type}", if an { "an" } else { "a" })
}

/// The kind of a type as a noun (`record`, `list`, `u8`).
fn kind_name(ty: &Type) -> &'static str {
    match ty {
        Type::Bool => "bool",
        Type::S8 => "s8",
        Type::U8 => "u8",
        Type::S16 => "s16",
        Type::U16 => "u16",
        Type::S32 => "s32",
        Type::U32 => "u32",
        Type::S64 => "s64",
        Type::U64 => "u64",
        Type::Float32 => "f32",
        Type::Float64 => "f64",
        Type::Char => "char",
        Type::String => "string",
        Type::List(_) | Type::FixedLengthList(_) => "list",
        Type::Record(_) => "record",
        Type::Tuple(_) => "tuple",
        Type::Variant(_) => "variant",
        Type::Enum(_) => "enum",
        Type::Option(_) => "option",
        Type::Result(_) => "result",
        Type::Flags(_) => "flags",
        Type::Map(_) => "map",
        Type::Own(_) => "resource",
        Type::Borrow(_) => "borrowed resource",
        Type::Future(_) => "future",
        Type::Stream(_) => "stream",
        Type::ErrorContext => "error-context",
    }
}

/// Writes `ty` as WIT-like text.
fn write_type(out: &mut String, ty: &Type) {
    match ty {
        Type::List(list) => {
            out.push_str("list<");
            write_type(out, &list.ty());
            out.push('>');
        }
        Type::FixedLengthList(list) => {
            out.push_str("list<");
            write_type(out, &list.ty());
            let _ = write!(out, ", {}>", list.len());
        }
        Type::Record(record) => {
            out.push_str("record { ");
            for (i, field) in record.fields().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                let _ = write!(out, "{}: ", field.name);
                write_type(out, &field.ty);
            }
            out.push_str(" }");
        }
        Type::Tuple(tuple) => {
            out.push_str("tuple<");
            for (i, t) in tuple.types().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_type(out, &t);
            }
            out.push('>');
        }
        Type::Variant(variant) => {
            out.push_str("variant { ");
            for (i, case) in variant.cases().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(case.name);
                if let Some(t) = &case.ty {
                    out.push('(');
                    write_type(out, t);
                    out.push(')');
                }
            }
            out.push_str(" }");
        }
        Type::Enum(cases) => {
            let names: Vec<&str> = cases.names().collect();
            let _ = write!(out, "enum {{ {} }}", names.join(", "));
        }
        Type::Flags(flags) => {
            let names: Vec<&str> = flags.names().collect();
            let _ = write!(out, "flags {{ {} }}", names.join(", "));
        }
        Type::Option(option) => {
            out.push_str("option<");
            write_type(out, &option.ty());
            out.push('>');
        }
        Type::Result(result) => {
            out.push_str("result");
            match (result.ok(), result.err()) {
                (None, None) => {}
                (Some(ok), None) => {
                    out.push('<');
                    write_type(out, &ok);
                    out.push('>');
                }
                (ok, Some(err)) => {
                    out.push('<');
                    match ok {
                        Some(ok) => write_type(out, &ok),
                        None => out.push('_'),
                    }
                    out.push_str(", ");
                    write_type(out, &err);
                    out.push('>');
                }
            }
        }
        Type::Map(map) => {
            out.push_str("map<");
            write_type(out, &map.key());
            out.push_str(", ");
            write_type(out, &map.value());
            out.push('>');
        }
        Type::Future(future) => {
            out.push_str("future");
            if let Some(t) = future.ty() {
                out.push('<');
                write_type(out, &t);
                out.push('>');
            }
        }
        Type::Stream(stream) => {
            out.push_str("stream");
            if let Some(t) = stream.ty() {
                out.push('<');
                write_type(out, &t);
                out.push('>');
            }
        }
        Type::Own(_) => out.push_str("own<resource>"),
        Type::Borrow(_) => out.push_str("borrow<resource>"),
        other => out.push_str(kind_name(other)),
    }
}

#[cfg(test)]
mod tests;

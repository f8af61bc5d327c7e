//! Values as Lua and the command line write them, from `wit-parser` types, following
//! the conversion rules of `crate::convert` (Lua) and `crate::cli_args` (CLI):
//!
//! - [`lua_example`]: a Lua value a call lowers for the type (`{x = 0, y = 0}`);
//! - [`lua_shape`]: what a result of the type lifts to, as a Lua type (`{ok = integer}
//!   | {err = string}`);
//! - [`cli_example`]: a command-line argument for the type (`{x: 0, y: 0}` in WAVE);
//! - [`unsupported`]: a type no value crosses into Lua for (resources, streams).

use wit_parser::{Handle, Resolve, Type, TypeDefKind};

/// A Lua value of type `ty`: zeros, `"text"`, the first case, one item per list; a
/// record is a table keyed by its WIT field names (`["top-left"]` where a name is not a
/// Lua identifier).
pub(super) fn lua_example(resolve: &Resolve, ty: &Type) -> String {
    match ty {
        Type::Bool => "true".into(),
        Type::U8 | Type::U16 | Type::U32 | Type::U64 => "0".into(),
        Type::S8 | Type::S16 | Type::S32 | Type::S64 => "0".into(),
        Type::F32 | Type::F64 => "0.0".into(),
        Type::Char => "\"a\"".into(),
        Type::String => "\"text\"".into(),
        Type::ErrorContext => unsupported_value("error-context"),
        Type::Id(id) => match &resolve.types[*id].kind {
            TypeDefKind::Record(r) => table(
                r.fields
                    .iter()
                    .map(|f| format!("{} = {}", lua_key(&f.name), lua_example(resolve, &f.ty))),
            ),
            TypeDefKind::Variant(v) => match v.cases.first() {
                Some(case) => {
                    let payload = case
                        .ty
                        .as_ref()
                        .map_or_else(|| "true".to_string(), |t| lua_example(resolve, t));
                    format!("{{{} = {payload}}}", lua_key(&case.name))
                }
                None => "{}".into(),
            },
            TypeDefKind::Enum(e) => e
                .cases
                .first()
                .map_or_else(|| "\"\"".to_string(), |c| format!("{:?}", c.name)),
            TypeDefKind::Flags(f) => table(f.flags.iter().take(1).map(|f| format!("{:?}", f.name))),
            TypeDefKind::Tuple(t) => table(t.types.iter().map(|t| lua_example(resolve, t))),
            TypeDefKind::Option(t) | TypeDefKind::Type(t) => lua_example(resolve, t),
            TypeDefKind::Result(r) => {
                let ok =
                    r.ok.as_ref()
                        .map_or_else(|| "true".to_string(), |t| lua_example(resolve, t));
                format!("{{ok = {ok}}}")
            }
            TypeDefKind::List(Type::U8) => "\"\"".into(),
            TypeDefKind::List(t) => table(std::iter::once(lua_example(resolve, t))),
            TypeDefKind::FixedLengthList(t, n) => {
                let item = lua_example(resolve, t);
                table((0..*n).map(|_| item.clone()))
            }
            TypeDefKind::Map(..) => "{}".into(),
            other => unsupported_value(kind_name(other)),
        },
    }
}

/// What a result of type `ty` is in Lua, written as a Lua type: `integer`, `number`,
/// `string`, `boolean`, tables with their keys, `A | B` for alternatives, `T | nil` for
/// an option.
pub(super) fn lua_shape(resolve: &Resolve, ty: &Type) -> String {
    match ty {
        Type::Bool => "boolean".into(),
        Type::U8 | Type::U16 | Type::U32 | Type::U64 => "integer".into(),
        Type::S8 | Type::S16 | Type::S32 | Type::S64 => "integer".into(),
        Type::F32 | Type::F64 => "number".into(),
        Type::Char => "string (one character)".into(),
        Type::String => "string".into(),
        Type::ErrorContext => "error-context (not supported from Lua)".into(),
        Type::Id(id) => match &resolve.types[*id].kind {
            TypeDefKind::Record(r) => table(
                r.fields
                    .iter()
                    .map(|f| format!("{} = {}", lua_key(&f.name), lua_shape(resolve, &f.ty))),
            ),
            TypeDefKind::Variant(v) => v
                .cases
                .iter()
                .map(|c| {
                    let payload =
                        c.ty.as_ref()
                            .map_or_else(|| "true".to_string(), |t| lua_shape(resolve, t));
                    format!("{{{} = {payload}}}", lua_key(&c.name))
                })
                .collect::<Vec<_>>()
                .join(" | "),
            TypeDefKind::Enum(e) => e
                .cases
                .iter()
                .map(|c| format!("{:?}", c.name))
                .collect::<Vec<_>>()
                .join(" | "),
            TypeDefKind::Flags(f) => {
                let names: Vec<String> = f.flags.iter().map(|f| format!("{:?}", f.name)).collect();
                format!("{{{}, ...}} (the set flags)", names.join(" | "))
            }
            TypeDefKind::Tuple(t) => table(t.types.iter().map(|t| lua_shape(resolve, t))),
            TypeDefKind::Option(t) => format!("{} | nil", lua_shape(resolve, t)),
            TypeDefKind::Type(t) => lua_shape(resolve, t),
            TypeDefKind::Result(r) => {
                let arm = |key: &str, t: &Option<Type>| {
                    let payload = t
                        .as_ref()
                        .map_or_else(|| "true".to_string(), |t| lua_shape(resolve, t));
                    format!("{{{key} = {payload}}}")
                };
                format!("{} | {}", arm("ok", &r.ok), arm("err", &r.err))
            }
            TypeDefKind::List(Type::U8) => "string (bytes)".into(),
            TypeDefKind::List(t) | TypeDefKind::FixedLengthList(t, _) => {
                format!("{{{}, ...}}", lua_shape(resolve, t))
            }
            TypeDefKind::Map(Type::String, v) => {
                format!("{{[string] = {}}}", lua_shape(resolve, v))
            }
            TypeDefKind::Map(k, v) => format!(
                "{{{{{}, {}}}, ...}}",
                lua_shape(resolve, k),
                lua_shape(resolve, v)
            ),
            other => format!("{} (not supported from Lua)", kind_name(other)),
        },
    }
}

/// A command-line argument of type `ty`, as `crate::cli_args` parses it: a `string`,
/// `char` or `enum` as a plain word, numbers and bools as written, the rest in WAVE
/// (where strings are quoted).
pub(super) fn cli_example(resolve: &Resolve, ty: &Type) -> String {
    match ty {
        Type::String => "text".into(),
        Type::Char => "a".into(),
        Type::Id(id) => match &resolve.types[*id].kind {
            TypeDefKind::Enum(e) => e.cases.first().map(|c| c.name.clone()).unwrap_or_default(),
            TypeDefKind::Option(t) | TypeDefKind::Type(t) => cli_example(resolve, t),
            _ => wave_example(resolve, ty),
        },
        _ => wave_example(resolve, ty),
    }
}

/// What kind of value type `ty` is that no value crosses into Lua for (`resource`,
/// `stream`), looking inside it; `None` when Lua values can carry it.
pub(super) fn unsupported(resolve: &Resolve, ty: &Type) -> Option<&'static str> {
    let Type::Id(id) = ty else {
        return (*ty == Type::ErrorContext).then_some("error-context");
    };
    let inner = |types: &mut dyn Iterator<Item = &Type>| {
        types
            .map(|t| unsupported(resolve, t))
            .find(Option::is_some)
            .flatten()
    };
    match &resolve.types[*id].kind {
        TypeDefKind::Record(r) => inner(&mut r.fields.iter().map(|f| &f.ty)),
        TypeDefKind::Variant(v) => inner(&mut v.cases.iter().filter_map(|c| c.ty.as_ref())),
        TypeDefKind::Tuple(t) => inner(&mut t.types.iter()),
        TypeDefKind::Result(r) => inner(&mut r.ok.iter().chain(r.err.iter())),
        TypeDefKind::Option(t)
        | TypeDefKind::Type(t)
        | TypeDefKind::List(t)
        | TypeDefKind::FixedLengthList(t, _) => unsupported(resolve, t),
        TypeDefKind::Map(k, v) => unsupported(resolve, k).or_else(|| unsupported(resolve, v)),
        TypeDefKind::Enum(_) | TypeDefKind::Flags(_) => None,
        other => Some(kind_name(other)),
    }
}

/// A WAVE value of type `ty`: zeros, `""`, the first case, one item per list.
fn wave_example(resolve: &Resolve, ty: &Type) -> String {
    match ty {
        Type::Bool => "false".into(),
        Type::U8 | Type::U16 | Type::U32 | Type::U64 => "0".into(),
        Type::S8 | Type::S16 | Type::S32 | Type::S64 => "0".into(),
        Type::F32 | Type::F64 => "0.0".into(),
        Type::Char => "'a'".into(),
        Type::String => "\"text\"".into(),
        Type::ErrorContext => String::new(),
        Type::Id(id) => match &resolve.types[*id].kind {
            TypeDefKind::Record(r) => format!(
                "{{{}}}",
                r.fields
                    .iter()
                    .map(|f| format!("{}: {}", f.name, wave_example(resolve, &f.ty)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            TypeDefKind::Variant(v) => match v.cases.first() {
                Some(c) => match &c.ty {
                    Some(t) => format!("{}({})", c.name, wave_example(resolve, t)),
                    None => c.name.clone(),
                },
                None => String::new(),
            },
            TypeDefKind::Enum(e) => e.cases.first().map(|c| c.name.clone()).unwrap_or_default(),
            TypeDefKind::Flags(f) => format!(
                "{{{}}}",
                f.flags.first().map(|f| f.name.as_str()).unwrap_or_default()
            ),
            TypeDefKind::Tuple(t) => format!(
                "({})",
                t.types
                    .iter()
                    .map(|t| wave_example(resolve, t))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            TypeDefKind::Option(t) => format!("some({})", wave_example(resolve, t)),
            TypeDefKind::Type(t) => wave_example(resolve, t),
            TypeDefKind::Result(r) => match &r.ok {
                Some(t) => format!("ok({})", wave_example(resolve, t)),
                None => "ok".into(),
            },
            TypeDefKind::List(t) => format!("[{}]", wave_example(resolve, t)),
            TypeDefKind::FixedLengthList(t, n) => {
                let item = wave_example(resolve, t);
                format!("[{}]", vec![item; *n as usize].join(", "))
            }
            _ => String::new(),
        },
    }
}

/// `{a, b}` from the items.
fn table(items: impl Iterator<Item = String>) -> String {
    let items: Vec<String> = items.collect();
    if items.is_empty() {
        "{}".into()
    } else {
        format!("{{{}}}", items.join(", "))
    }
}

/// A table key: `name` when it is a Lua identifier (and no keyword), else `["name"]`.
fn lua_key(name: &str) -> String {
    const KEYWORDS: &[&str] = &[
        "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if",
        "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
    ];
    let mut chars = name.chars();
    let identifier = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !KEYWORDS.contains(&name);
    if identifier {
        name.to_string()
    } else {
        format!("[{name:?}]")
    }
}

/// A value for a type Lua cannot pass, commented.
fn unsupported_value(kind: &str) -> String {
    format!("nil --[[ {kind}: not supported from Lua ]]")
}

/// The WIT kind of a type no Lua value carries (`resource`, `borrow`, `stream`).
fn kind_name(kind: &TypeDefKind) -> &'static str {
    match kind {
        TypeDefKind::Resource => "resource",
        TypeDefKind::Handle(Handle::Own(_)) => "resource",
        TypeDefKind::Handle(Handle::Borrow(_)) => "borrowed resource",
        TypeDefKind::Future(_) => "future",
        TypeDefKind::Stream(_) => "stream",
        _ => "type",
    }
}

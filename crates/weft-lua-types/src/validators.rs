//! Validators after a type: `@min(n)`, `@max(n)` (numbers), `@min_len(n)`, `@max_len(n)`
//! (strings and arrays), `@pattern("re")` (strings). Each is checked against the type it
//! follows when that type's base is known (`string @min(0)` is an error); on a name, a
//! union, an intersection, `any` or `unknown` the check is left to the runtime.

use crate::ast::{Literal, Type, Validator};
use crate::error::Result;
use crate::lex::{Cursor, Kind, Token};
use crate::values::{self, Number};

/// The validators at the cursor (at `@`), checked against `ty`, the type they follow.
pub(crate) fn validators(cur: &mut Cursor, ty: &Type) -> Result<Vec<Validator>> {
    let mut found = Vec::new();
    while cur.kind() == Kind::At {
        let at = cur.tok;
        cur.advance();
        if cur.kind() != Kind::Name {
            return Err(cur.expected("a validator name after '@'"));
        }
        let name = cur.text(cur.tok);
        if !matches!(name, "min" | "max" | "min_len" | "max_len" | "pattern") {
            return Err(cur.error(format!(
                "unknown validator @{name} (expected @min, @max, @min_len, @max_len or @pattern)"
            )));
        }
        cur.advance();
        if cur.kind() != Kind::LParen {
            return Err(cur.expected(&format!("'(' after @{name}")));
        }
        cur.advance();
        let validator = match name {
            "min" => Validator::Min(number_arg(cur, name)?),
            "max" => Validator::Max(number_arg(cur, name)?),
            "min_len" => Validator::MinLen(length_arg(cur, name)?),
            "max_len" => Validator::MaxLen(length_arg(cur, name)?),
            _ => Validator::Pattern(pattern_arg(cur)?),
        };
        if cur.kind() != Kind::RParen {
            return Err(cur.expected(&format!("')' to close @{name}(")));
        }
        cur.advance();
        check(cur, at, name, &validator, ty)?;
        found.push(validator);
    }
    Ok(found)
}

/// `@min` / `@max`'s argument: a number, maybe negative.
fn number_arg(cur: &mut Cursor, name: &str) -> Result<f64> {
    let negative = cur.kind() == Kind::Minus;
    if negative {
        cur.advance();
    }
    let value =
        numeral(cur).ok_or_else(|| cur.expected(&format!("a number as @{name}'s argument")))?;
    cur.advance();
    Ok(if negative {
        -value.as_f64()
    } else {
        value.as_f64()
    })
}

/// `@min_len` / `@max_len`'s argument: a non-negative integer.
fn length_arg(cur: &mut Cursor, name: &str) -> Result<u64> {
    match numeral(cur) {
        Some(Number::Int(n)) if n >= 0 => {
            cur.advance();
            Ok(n.unsigned_abs())
        }
        _ => Err(cur.expected(&format!("a non-negative integer as @{name}'s argument"))),
    }
}

/// `@pattern`'s argument: a string (its text after escapes, UTF-8).
fn pattern_arg(cur: &mut Cursor) -> Result<String> {
    if cur.kind() != Kind::String {
        return Err(cur.expected("a string as @pattern's argument"));
    }
    let bytes = values::string(cur.text(cur.tok))
        .map_err(|problem| cur.error(format!("{problem} in @pattern's argument")))?;
    let pattern =
        String::from_utf8(bytes).map_err(|_| cur.error("@pattern's argument is not UTF-8"))?;
    cur.advance();
    Ok(pattern)
}

/// The numeral at the cursor, if it is one.
fn numeral(cur: &Cursor) -> Option<Number> {
    if cur.kind() != Kind::Number {
        return None;
    }
    values::number(cur.text(cur.tok))
}

/// Fails when `validator` cannot apply to `ty`'s base type, where that base is known.
fn check(cur: &Cursor, at: Token, name: &str, validator: &Validator, ty: &Type) -> Result<()> {
    let mut base = ty;
    while let Type::Optional(inner) | Type::Validated(inner, _) = base {
        base = inner;
    }
    let numeric = matches!(validator, Validator::Min(_) | Validator::Max(_));
    let length = matches!(validator, Validator::MinLen(_) | Validator::MaxLen(_));
    let fits = match base {
        Type::Any | Type::Unknown | Type::Named(_) | Type::Union(_) | Type::Intersection(_) => true,
        Type::Number | Type::Integer | Type::Literal(Literal::Integer(_) | Literal::Number(_)) => {
            numeric
        }
        Type::String | Type::Literal(Literal::String(_)) => !numeric,
        Type::Array(_) | Type::Table => length,
        _ => false,
    };
    if fits {
        return Ok(());
    }
    let applies = if numeric {
        "number"
    } else if length {
        "string or array"
    } else {
        "string"
    };
    Err(cur.error_at(
        at,
        format!(
            "validator @{name} applies to {applies}, not {}",
            describe(base)
        ),
    ))
}

/// How a (base) type reads in a message.
fn describe(ty: &Type) -> String {
    match ty {
        Type::Any => "any".into(),
        Type::Unknown => "unknown".into(),
        Type::Never => "never".into(),
        Type::Nil => "nil".into(),
        Type::Boolean => "boolean".into(),
        Type::Number => "number".into(),
        Type::Integer => "integer".into(),
        Type::String => "string".into(),
        Type::Table => "table".into(),
        Type::Function => "function".into(),
        Type::Primitive(name) => name.clone(),
        Type::Literal(Literal::String(_)) => "a string literal".into(),
        Type::Literal(Literal::Integer(_) | Literal::Number(_)) => "a number literal".into(),
        Type::Literal(Literal::Boolean(_)) => "a boolean literal".into(),
        Type::Record(_) => "a record".into(),
        Type::Array(_) => "an array".into(),
        Type::Map(..) => "a map".into(),
        Type::Func(_) => "a function type".into(),
        Type::Named(named) => named.path.join("."),
        Type::Optional(_) | Type::Validated(..) | Type::Union(_) | Type::Intersection(_) => {
            "this type".into()
        }
    }
}

//! [`Condition`]: one `policy.conditions[i]` entry, compiled (reference §5.2, step 3).
//!
//! A condition that errors (a non-number for `lt`, an `actor.*` path with an empty actor,
//! a list for `contains` against a map, …) does not hold, exactly like a false one: the
//! policy is Undefined either way.

use std::cmp::Ordering;

use regex::bytes::{Regex, RegexBuilder};
use weft_core::{Error, Map, Result, Value};

use crate::path::{FieldPath, Input};
use crate::value::{self, Val};

/// The operator names, in the order the reference lists them.
pub(crate) const OPERATORS: [&str; 14] = [
    "eq",
    "ne",
    "lt",
    "gt",
    "lte",
    "gte",
    "in",
    "nin",
    "contains",
    "ncontains",
    "matches",
    "nmatches",
    "exists",
    "nexists",
];

/// A compiled operator; the regex operators carry their regex.
#[derive(Debug)]
pub(crate) enum Op {
    /// `eq`.
    Eq,
    /// `ne`.
    Ne,
    /// `lt`.
    Lt,
    /// `gt`.
    Gt,
    /// `lte`.
    Lte,
    /// `gte`.
    Gte,
    /// `in`.
    In,
    /// `nin`.
    Nin,
    /// `contains`.
    Contains,
    /// `ncontains`.
    Ncontains,
    /// `matches`, with the regex compiled at load.
    Matches(Box<Regex>),
    /// `nmatches`, with the regex compiled at load.
    Nmatches(Box<Regex>),
    /// `exists`.
    Exists,
    /// `nexists`.
    Nexists,
}

/// Where the comparison operand comes from.
#[derive(Debug)]
pub(crate) enum Operand {
    /// `value`: a literal.
    Value(Value),
    /// `value_from`: another field.
    From(FieldPath),
}

/// One compiled condition.
#[derive(Debug)]
pub(crate) struct Condition {
    /// The field compared.
    pub(crate) field: FieldPath,
    /// The operator.
    pub(crate) op: Op,
    /// The operand.
    pub(crate) operand: Operand,
}

/// The keys a condition may have.
const KEYS: [&str; 4] = ["field", "operator", "value", "value_from"];

/// The most memory one condition's compiled regex may take.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

impl Condition {
    /// Validates and compiles `policy.conditions[index]`; errors are Invalid and name the
    /// field (`policy.conditions[2].operator`).
    pub(crate) fn compile(raw: &Value, index: usize) -> Result<Condition> {
        let at = format!("policy.conditions[{index}]");
        let Value::Map(map) = raw else {
            return Err(Error::invalid(format!(
                "a condition must be a map with field, operator and value or value_from, got {}",
                raw.type_name()
            ))
            .in_field(at));
        };
        if let Some(key) = map.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(Error::invalid(format!(
                "unknown key `{key}` (a condition has {})",
                KEYS.join(", ")
            ))
            .in_field(format!("{at}.{key}")));
        }
        let field = required_str(map, "field", &at)?;
        let field = FieldPath::parse(field)
            .map_err(|m| Error::invalid(m).in_field(format!("{at}.field")))?;
        let operator = required_str(map, "operator", &at)?;
        if !OPERATORS.contains(&operator) {
            return Err(Error::invalid(format!(
                "invalid operator: {operator} (one of {})",
                OPERATORS.join(", ")
            ))
            .in_field(format!("{at}.operator")));
        }
        let operand = operand(map, &at)?;
        let op = op(operator, &operand, &at)?;
        Ok(Condition { field, op, operand })
    }

    /// True when the condition holds for `input` (an error is false).
    pub(crate) fn holds(&self, input: &Input) -> bool {
        let Some(field) = self.field.lookup(input) else {
            return false;
        };
        let operand = match &self.operand {
            Operand::Value(v) => Val::of(v),
            Operand::From(path) => match path.lookup(input) {
                Some(v) => v,
                None => return false,
            },
        };
        self.test(field, operand).unwrap_or(false)
    }

    /// The operator on `field` and `operand`; `Err` is an evaluation error.
    fn test(&self, field: Val, operand: Val) -> Result<bool, ()> {
        if field.is_nil() {
            return match self.op {
                Op::Exists => flag(operand).map(|want| !want),
                Op::Nexists => flag(operand),
                _ => Ok(false),
            };
        }
        match &self.op {
            Op::Eq => Ok(value::equals(field, operand)),
            Op::Ne => Ok(!value::equals(field, operand)),
            Op::Lt => value::order(field, operand).map(|o| o == Some(Ordering::Less)),
            Op::Gt => value::order(field, operand).map(|o| o == Some(Ordering::Greater)),
            Op::Lte => value::order(field, operand)
                .map(|o| matches!(o, Some(Ordering::Less | Ordering::Equal))),
            Op::Gte => value::order(field, operand)
                .map(|o| matches!(o, Some(Ordering::Greater | Ordering::Equal))),
            Op::In => value::is_in(field, operand),
            Op::Nin => value::is_in(field, operand).map(|b| !b),
            Op::Contains => value::contains(field, operand),
            Op::Ncontains => value::contains(field, operand).map(|b| !b),
            Op::Matches(re) => value::matches(field, re),
            Op::Nmatches(re) => value::matches(field, re).map(|b| !b),
            Op::Exists => flag(operand),
            Op::Nexists => flag(operand).map(|want| !want),
        }
    }
}

/// A string key that must be present and non-empty.
fn required_str<'m>(map: &'m Map, key: &str, at: &str) -> Result<&'m str> {
    match map.get(key) {
        None | Some(Value::Nil) => {
            Err(Error::invalid(format!("{key} is required")).in_field(format!("{at}.{key}")))
        }
        Some(v) => match v.as_str() {
            Some("") => {
                Err(Error::invalid(format!("{key} is required")).in_field(format!("{at}.{key}")))
            }
            Some(s) => Ok(s),
            None => Err(
                Error::invalid(format!("{key} must be a string, got {}", v.type_name()))
                    .in_field(format!("{at}.{key}")),
            ),
        },
    }
}

/// The operand: `value_from` when set (it wins over `value`, as in Wippy), else `value`.
fn operand(map: &Map, at: &str) -> Result<Operand> {
    match map.get("value_from") {
        None | Some(Value::Nil) => {}
        Some(v) => match v.as_str() {
            Some("") => {}
            Some(path) => {
                return FieldPath::parse(path)
                    .map(Operand::From)
                    .map_err(|m| Error::invalid(m).in_field(format!("{at}.value_from")));
            }
            None => {
                return Err(Error::invalid(format!(
                    "value_from must be a field path string, got {}",
                    v.type_name()
                ))
                .in_field(format!("{at}.value_from")));
            }
        },
    }
    match map.get("value") {
        None | Some(Value::Nil) => {
            Err(Error::invalid("value or value_from is required").in_field(format!("{at}.value")))
        }
        Some(v) => Ok(Operand::Value(v.clone())),
    }
}

/// The operator, checking what a literal operand must be for it (a condition that could
/// only ever fail is a load error) and compiling regexes.
fn op(operator: &str, operand: &Operand, at: &str) -> Result<Op> {
    let literal = match operand {
        Operand::Value(v) => Some(v),
        Operand::From(_) => None,
    };
    let bad = |what: &str| {
        let got = literal.map_or("value_from", |v| v.type_name());
        Error::invalid(format!("{operator} needs {what}, got {got}"))
            .in_field(format!("{at}.value"))
    };
    Ok(match operator {
        "eq" => Op::Eq,
        "ne" => Op::Ne,
        "lt" | "gt" | "lte" | "gte" => {
            if literal.is_some_and(|v| !Val::of(v).is_number()) {
                return Err(bad("a number"));
            }
            match operator {
                "lt" => Op::Lt,
                "gt" => Op::Gt,
                "lte" => Op::Lte,
                _ => Op::Gte,
            }
        }
        "in" | "nin" => {
            if literal.is_some_and(|v| !matches!(v, Value::Array(_) | Value::Str(_))) {
                return Err(bad("a list or a string"));
            }
            if operator == "in" { Op::In } else { Op::Nin }
        }
        "contains" => Op::Contains,
        "ncontains" => Op::Ncontains,
        "exists" | "nexists" => {
            if literal.is_some_and(|v| !matches!(v, Value::Bool(_))) {
                return Err(bad("a boolean value (true or false)"));
            }
            if operator == "exists" {
                Op::Exists
            } else {
                Op::Nexists
            }
        }
        _ => {
            let Some(pattern) = literal.and_then(Value::as_str) else {
                return Err(bad("a regex string in value"));
            };
            let re = RegexBuilder::new(pattern)
                .size_limit(REGEX_SIZE_LIMIT)
                .build()
                .map_err(|e| {
                    Error::invalid(format!("invalid regex {pattern:?}: {}", one_line(&e)))
                        .in_field(format!("{at}.value"))
                })?;
            if operator == "matches" {
                Op::Matches(Box::new(re))
            } else {
                Op::Nmatches(Box::new(re))
            }
        }
    })
}

/// A regex error on one line (the crate's message spans several).
fn one_line(e: &regex::Error) -> String {
    let text = e.to_string();
    let parts: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    parts.join(" ")
}

/// The boolean operand of `exists`/`nexists`; anything else is an error.
fn flag(operand: Val) -> Result<bool, ()> {
    match operand {
        Val::Bool(b) => Ok(b),
        _ => Err(()),
    }
}

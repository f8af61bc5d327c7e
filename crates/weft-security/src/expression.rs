//! [`Expression`]: the `policy.expression` of a `security.policy.expr` entry (reference
//! §2.7, §5.2), compiled once at load with [`weft_expr`] and evaluated per check against
//! `{actor = {id, meta}, action, resource, meta}`.
//!
//! The expression reads the check where it lies: `actor.meta.role`, `action` or
//! `meta.owner` borrow from the actor and the check, so a check allocates nothing unless
//! the expression builds values (`actor` as a whole, `map(…)`, string `+`).

use weft_core::{Error, Map, Result, Value};
use weft_expr::{Env, Program, Val, fetch};

use crate::path::Input;

/// The variables an expression can read.
const VARIABLES: [&str; 4] = ["actor", "action", "resource", "meta"];

/// The field the expression is in.
const FIELD: &str = "policy.expression";

/// A compiled `policy.expression`.
#[derive(Debug)]
pub(crate) struct Expression(Program);

impl Expression {
    /// Compiles `expression` of the policy map `def`; errors are Invalid in
    /// `policy.expression`: missing, not a string, a syntax error, an unknown variable.
    pub(crate) fn compile(def: &Map) -> Result<Expression> {
        let invalid = |message: String| Error::invalid(message).in_field(FIELD);
        let source = match def.get("expression") {
            None | Some(Value::Nil) => {
                return Err(invalid(
                    "expression is required: an expr-lang expression".into(),
                ));
            }
            Some(v) => v.as_str().ok_or_else(|| {
                invalid(format!(
                    "expression must be a string, got {}",
                    v.type_name()
                ))
            })?,
        };
        let program =
            Program::compile(source).map_err(|e| invalid(format!("invalid expression: {e}")))?;
        if let Some(name) = program
            .variables()
            .iter()
            .find(|name| !VARIABLES.contains(&&***name))
        {
            return Err(invalid(format!(
                "unknown variable `{name}` (an expression reads {})",
                VARIABLES.join(", ")
            )));
        }
        Ok(Expression(program))
    }

    /// True when the expression is `true` for `input`; false, any other value and an
    /// evaluation error are not (the policy is then Undefined).
    pub(crate) fn holds(&self, input: &Input) -> bool {
        matches!(self.0.run(&Check(*input)), Ok(Val::Bool(true)))
    }
}

/// The variables of one check.
struct Check<'a>(Input<'a>);

impl Env for Check<'_> {
    fn get(&self, name: &str) -> Val<'_> {
        let input = &self.0;
        match name {
            "action" => Val::Str(input.action.as_bytes()),
            "resource" => Val::Str(input.resource.as_bytes()),
            "meta" => input.meta.map_or(Val::Nil, Val::Map),
            // `actor` whole (rare: `actor.…` paths go through `get_path`).
            "actor" => Val::owned(Value::from_pairs([
                ("id", Value::str(input.actor.id())),
                ("meta", Value::map(input.actor.meta().clone())),
            ])),
            _ => Val::Nil,
        }
    }

    fn get_path(
        &self,
        name: &str,
        keys: &[Box<str>],
    ) -> std::result::Result<Val<'_>, weft_expr::Error> {
        let input = &self.0;
        let (start, rest) = match (name, keys) {
            ("actor", [first, rest @ ..]) if &**first == "id" => {
                (Val::Str(input.actor.id().as_bytes()), rest)
            }
            ("actor", [first, rest @ ..]) if &**first == "meta" => {
                (Val::Map(input.actor.meta()), rest)
            }
            // No resource meta reads like an empty map (Go's nil map): `meta.k` is nil.
            ("meta", [_, rest @ ..]) if input.meta.is_none() => (Val::Nil, rest),
            _ => (self.get(name), keys),
        };
        fetch(start, rest)
    }
}

#[cfg(test)]
mod tests;

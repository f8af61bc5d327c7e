//! [`CompiledPolicy`]: one `security.policy` or `security.policy.expr` entry, validated
//! and compiled at load (reference §2.7 for the fields, §5.2 for the evaluation).
//!
//! ```yaml
//! - name: admins
//!   kind: security.policy
//!   policy:
//!     actions: "*"              # a string or a non-empty list of patterns
//!     resources: ["app:*"]
//!     effect: allow             # allow | deny
//!     conditions:               # optional, all must hold
//!       - {field: actor.meta.role, operator: eq, value: admin}
//!   groups: [staff]             # a bare name gets the policy's namespace
//! - name: owners
//!   kind: security.policy.expr
//!   policy:
//!     actions: "document.*"
//!     resources: "*"
//!     effect: allow
//!     expression: 'meta.owner == actor.id or "admin" in actor.meta.roles'
//! ```
//!
//! Both kinds match `actions` and `resources` the same way; then every condition must
//! hold, or the expression must be `true` (false, another value or an error: Undefined).

use weft_core::{Actor, Decision, EntryId, Error, Map, Policy, Result, Value};
use weft_registry::Entry;

use crate::EXPR_KIND;
use crate::condition::Condition;
use crate::expression::Expression;
use crate::path::Input;
use crate::pattern::Patterns;

/// The keys of the `policy:` map of a `security.policy`.
const CONDITIONS_KEYS: [&str; 4] = ["actions", "resources", "effect", "conditions"];

/// The keys of the `policy:` map of a `security.policy.expr`.
const EXPRESSION_KEYS: [&str; 4] = ["actions", "resources", "effect", "expression"];

/// A `security.policy` or `security.policy.expr` entry, validated and compiled at load.
#[derive(Debug)]
pub struct CompiledPolicy {
    id: EntryId,
    actions: Patterns,
    resources: Patterns,
    effect: Decision,
    rule: Rule,
    groups: Box<[EntryId]>,
}

/// What must hold, once actions and resources match.
#[derive(Debug)]
enum Rule {
    /// `security.policy`: every condition (none: always).
    Conditions(Box<[Condition]>),
    /// `security.policy.expr`: the expression is `true`.
    Expression(Expression),
}

impl CompiledPolicy {
    /// Validates and compiles `entry` by its kind (`security.policy.expr` or
    /// `security.policy`); errors are Invalid and name the field.
    pub fn from_entry(entry: &Entry) -> Result<CompiledPolicy> {
        if entry.kind == EXPR_KIND {
            CompiledPolicy::compile_expr(entry.id.clone(), &entry.data)
        } else {
            CompiledPolicy::compile(entry.id.clone(), &entry.data)
        }
    }

    /// Validates and compiles the data `data` of the `security.policy` entry `id`.
    pub fn compile(id: EntryId, data: &Value) -> Result<CompiledPolicy> {
        CompiledPolicy::build(id, data, &CONDITIONS_KEYS, conditions)
    }

    /// Validates and compiles the data `data` of the `security.policy.expr` entry `id`:
    /// the expression is parsed here, once (a syntax error names `policy.expression`).
    pub fn compile_expr(id: EntryId, data: &Value) -> Result<CompiledPolicy> {
        CompiledPolicy::build(id, data, &EXPRESSION_KEYS, |def| {
            Expression::compile(def).map(Rule::Expression)
        })
    }

    /// Validates the fields both kinds share (the `policy:` map has only `keys`) and
    /// compiles the kind's own with `rule`.
    fn build(
        id: EntryId,
        data: &Value,
        keys: &[&str],
        rule: impl FnOnce(&Map) -> Result<Rule>,
    ) -> Result<CompiledPolicy> {
        let def = definition(data, keys)?;
        let effect = effect(def.get("effect"))?;
        let actions = patterns(def, "actions")?;
        let resources = patterns(def, "resources")?;
        let rule = rule(def)?;
        let groups = groups(data.get("groups"), id.ns())?;
        Ok(CompiledPolicy {
            id,
            actions,
            resources,
            effect,
            rule,
            groups,
        })
    }

    /// The groups the policy belongs to (`ns:group`), without duplicates.
    pub fn groups(&self) -> &[EntryId] {
        &self.groups
    }

    /// The decision when the policy applies: Allow or Deny.
    pub fn effect(&self) -> Decision {
        self.effect
    }
}

impl Policy for CompiledPolicy {
    fn id(&self) -> &EntryId {
        &self.id
    }

    fn evaluate(
        &self,
        actor: &Actor,
        action: &str,
        resource: &str,
        meta: Option<&Map>,
    ) -> Decision {
        if !self.actions.matches(action) || !self.resources.matches(resource) {
            return Decision::Undefined;
        }
        let input = Input {
            actor,
            action,
            resource,
            meta,
        };
        let holds = match &self.rule {
            Rule::Conditions(conditions) => conditions.iter().all(|c| c.holds(&input)),
            Rule::Expression(expression) => expression.holds(&input),
        };
        if holds {
            self.effect
        } else {
            Decision::Undefined
        }
    }
}

/// The `policy:` map of `data`, with no key outside `keys`.
fn definition<'d>(data: &'d Value, keys: &[&str]) -> Result<&'d Map> {
    let what = format!("a map of {}", keys.join(", "));
    let def = match data.get("policy") {
        Some(Value::Map(def)) => def,
        None | Some(Value::Nil) => {
            return Err(Error::invalid(format!("policy is required: {what}")).in_field("policy"));
        }
        Some(other) => {
            return Err(Error::invalid(format!(
                "policy must be {what}, got {}",
                other.type_name()
            ))
            .in_field("policy"));
        }
    };
    if let Some(key) = def.keys().find(|k| !keys.contains(&k.as_str())) {
        return Err(Error::invalid(format!(
            "unknown key `{key}` (a policy has {})",
            keys.join(", ")
        ))
        .in_field(format!("policy.{key}")));
    }
    Ok(def)
}

/// `policy.conditions` of a `security.policy`: a list of conditions, or none.
fn conditions(def: &Map) -> Result<Rule> {
    let conditions = match def.get("conditions") {
        None | Some(Value::Nil) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, c)| Condition::compile(c, i))
            .collect::<Result<_>>()?,
        Some(other) => {
            return Err(Error::invalid(format!(
                "conditions must be a list, got {}",
                other.type_name()
            ))
            .in_field("policy.conditions"));
        }
    };
    Ok(Rule::Conditions(conditions.into_boxed_slice()))
}

/// `policy.effect`: `allow` or `deny`.
fn effect(value: Option<&Value>) -> Result<Decision> {
    match value.and_then(Value::as_str) {
        Some("allow") => Ok(Decision::Allow),
        Some("deny") => Ok(Decision::Deny),
        Some(other) => Err(Error::invalid(format!(
            "invalid policy effect: {other:?} (allow or deny)"
        ))),
        None => Err(match value {
            None | Some(Value::Nil) => Error::invalid("effect is required: allow or deny"),
            Some(v) => Error::invalid(format!(
                "invalid policy effect: a {} (allow or deny)",
                v.type_name()
            )),
        }),
    }
    .map_err(|e| e.in_field("policy.effect"))
}

/// `policy.actions` / `policy.resources`: a non-empty string or a non-empty list of them.
fn patterns(def: &Map, key: &str) -> Result<Patterns> {
    let field = format!("policy.{key}");
    match def.get(key) {
        Some(Value::Str(_)) => match def.get(key).and_then(Value::as_str) {
            Some("") => Err(Error::invalid(format!("{key} string cannot be empty"))),
            Some(pattern) => Ok(Patterns::new([pattern])),
            None => Err(Error::invalid(format!("{key} must be UTF-8 text"))),
        },
        Some(Value::Array(items)) if items.is_empty() => {
            Err(Error::invalid(format!("{key} list cannot be empty")))
        }
        Some(Value::Array(items)) => {
            let mut list = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                match item.as_str() {
                    Some(pattern) => list.push(pattern),
                    None => {
                        return Err(Error::invalid(format!(
                            "a pattern must be a string, got {}",
                            item.type_name()
                        ))
                        .in_field(format!("{field}[{i}]")));
                    }
                }
            }
            Ok(Patterns::new(list))
        }
        None | Some(Value::Nil) => Err(Error::invalid(format!(
            "{key} is required: a pattern string or a list of them"
        ))),
        Some(other) => Err(Error::invalid(format!(
            "{key} must be a string or list, got {}",
            other.type_name()
        ))),
    }
    .map_err(|e| {
        // Item errors already name their own field.
        if e.context_chain().is_empty() {
            e.in_field(field)
        } else {
            e
        }
    })
}

/// `groups`: group ids; a bare name gets the policy's namespace `ns`.
fn groups(value: Option<&Value>, ns: &str) -> Result<Box<[EntryId]>> {
    let items = match value {
        None | Some(Value::Nil) => return Ok(Box::new([])),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(Error::invalid(format!(
                "groups must be a list of group ids, got {}",
                other.type_name()
            ))
            .in_field("groups"));
        }
    };
    let mut groups: Vec<EntryId> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let group = match item.as_str() {
            Some(g) if !g.trim_start_matches(':').is_empty() => EntryId::resolve(g, ns),
            Some(_) => {
                return Err(
                    Error::invalid("a group id cannot be empty").in_field(format!("groups[{i}]"))
                );
            }
            None => {
                return Err(Error::invalid(format!(
                    "a group id must be a string, got {}",
                    item.type_name()
                ))
                .in_field(format!("groups[{i}]")));
            }
        };
        if !groups.contains(&group) {
            groups.push(group);
        }
    }
    Ok(groups.into_boxed_slice())
}

#[cfg(test)]
mod tests;

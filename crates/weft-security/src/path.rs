//! [`FieldPath`]: what a condition's `field` or `value_from` names (reference §5.2), parsed
//! at load and looked up without allocating.

use weft_core::{Actor, Map, Value};

use crate::value::Val;

/// The question a policy answers: who does what to which resource, with what meta.
#[derive(Clone, Copy)]
pub(crate) struct Input<'a> {
    /// The actor.
    pub(crate) actor: &'a Actor,
    /// The action.
    pub(crate) action: &'a str,
    /// The resource.
    pub(crate) resource: &'a str,
    /// The resource meta passed to the check.
    pub(crate) meta: Option<&'a Map>,
}

/// A parsed field path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum FieldPath {
    /// `actor.id`.
    ActorId,
    /// `actor.meta` (empty) or `actor.meta.k.k2…` (nested maps).
    ActorMeta(Box<[Box<str>]>),
    /// `action`.
    Action,
    /// `resource`.
    Resource,
    /// `meta.k.k2…`: the resource meta, through nested maps.
    Meta(Box<[Box<str>]>),
    /// Any other string: one whole key of the resource meta.
    MetaKey(Box<str>),
}

impl FieldPath {
    /// Parses a path; paths that could only ever fail (`actor`, `actor.name`, `meta`,
    /// `action.x`, …) are rejected with a message.
    pub(crate) fn parse(path: &str) -> Result<FieldPath, String> {
        let mut parts = path.split('.');
        let head = parts.next().unwrap_or_default();
        let rest: Vec<&str> = parts.collect();
        match (head, rest.as_slice()) {
            ("actor", ["id"]) => Ok(FieldPath::ActorId),
            ("actor", ["meta", keys @ ..]) => Ok(FieldPath::ActorMeta(boxed(keys))),
            ("actor", _) => Err(format!(
                "unknown field path {path:?}: the actor has `actor.id` and `actor.meta[.key…]`"
            )),
            ("meta", []) => Err(format!(
                "unknown field path {path:?}: name a key, `meta.key[.key…]`"
            )),
            ("meta", keys) => Ok(FieldPath::Meta(boxed(keys))),
            ("action", []) => Ok(FieldPath::Action),
            ("resource", []) => Ok(FieldPath::Resource),
            ("action" | "resource", _) => Err(format!(
                "unknown field path {path:?}: `{head}` is a string without fields"
            )),
            _ => Ok(FieldPath::MetaKey(path.into())),
        }
    }

    /// The value at this path: [`Val::Nil`] when missing; `None` (an error, the policy is
    /// Undefined) for an `actor.*` path when the actor is empty.
    pub(crate) fn lookup<'a>(&self, input: &Input<'a>) -> Option<Val<'a>> {
        Some(match self {
            FieldPath::ActorId | FieldPath::ActorMeta(_) if input.actor.is_empty() => return None,
            FieldPath::ActorId => Val::Str(input.actor.id().as_bytes()),
            FieldPath::ActorMeta(keys) if keys.is_empty() => Val::Map(input.actor.meta()),
            FieldPath::ActorMeta(keys) => walk(input.actor.meta(), keys),
            FieldPath::Action => Val::Str(input.action.as_bytes()),
            FieldPath::Resource => Val::Str(input.resource.as_bytes()),
            FieldPath::Meta(keys) => input.meta.map_or(Val::Nil, |m| walk(m, keys)),
            FieldPath::MetaKey(key) => input
                .meta
                .and_then(|m| m.get(&**key))
                .map_or(Val::Nil, Val::of),
        })
    }
}

fn boxed(keys: &[&str]) -> Box<[Box<str>]> {
    keys.iter().map(|k| Box::from(*k)).collect()
}

/// Follows `keys` through nested maps; anything missing or not a map on the way is nil.
fn walk<'a>(map: &'a Map, keys: &[Box<str>]) -> Val<'a> {
    let Some((last, inner)) = keys.split_last() else {
        return Val::Map(map);
    };
    let mut current = map;
    for key in inner {
        match current.get(&**key) {
            Some(Value::Map(next)) => current = next,
            _ => return Val::Nil,
        }
    }
    current.get(&**last).map_or(Val::Nil, Val::of)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> Map {
        let v: Value = serde_json::from_str(
            r#"{"role":"admin","org":{"team":{"name":"core"},"size":3},"a.b":"dotted","nil":null}"#,
        )
        .unwrap();
        v.as_map().unwrap().clone()
    }

    fn text(v: Option<Val>) -> Option<String> {
        match v? {
            Val::Str(s) => Some(String::from_utf8(s.to_vec()).unwrap()),
            Val::Nil => Some("<nil>".into()),
            other => Some(format!("{other:?}")),
        }
    }

    #[test]
    fn parses_every_form() {
        assert_eq!(FieldPath::parse("actor.id"), Ok(FieldPath::ActorId));
        assert_eq!(
            FieldPath::parse("actor.meta"),
            Ok(FieldPath::ActorMeta(Box::new([])))
        );
        assert_eq!(
            FieldPath::parse("actor.meta.org.team"),
            Ok(FieldPath::ActorMeta(Box::new([
                "org".into(),
                "team".into()
            ])))
        );
        assert_eq!(FieldPath::parse("action"), Ok(FieldPath::Action));
        assert_eq!(FieldPath::parse("resource"), Ok(FieldPath::Resource));
        assert_eq!(
            FieldPath::parse("meta.owner"),
            Ok(FieldPath::Meta(Box::new(["owner".into()])))
        );
        assert_eq!(
            FieldPath::parse("pid"),
            Ok(FieldPath::MetaKey("pid".into()))
        );
        assert_eq!(
            FieldPath::parse("a.b"),
            Ok(FieldPath::MetaKey("a.b".into()))
        );
        for bad in [
            "actor",
            "actor.name",
            "actor.id.x",
            "meta",
            "action.x",
            "resource.y",
        ] {
            let err = FieldPath::parse(bad).unwrap_err();
            assert!(err.contains(bad), "{err}");
        }
    }

    #[test]
    fn looks_up_actor_action_resource_and_meta() {
        let actor_meta = meta();
        let actor = Actor::new("ann", actor_meta);
        let resource_meta = meta();
        let input = Input {
            actor: &actor,
            action: "fs.get",
            resource: "app:data",
            meta: Some(&resource_meta),
        };
        let get = |p: &str| text(FieldPath::parse(p).unwrap().lookup(&input));
        assert_eq!(get("actor.id").as_deref(), Some("ann"));
        assert_eq!(get("actor.meta.role").as_deref(), Some("admin"));
        assert_eq!(get("actor.meta.org.team.name").as_deref(), Some("core"));
        assert_eq!(get("actor.meta.org.team.none").as_deref(), Some("<nil>"));
        assert_eq!(get("actor.meta.role.x").as_deref(), Some("<nil>"));
        assert!(get("actor.meta").unwrap().starts_with("Map"));
        assert_eq!(get("action").as_deref(), Some("fs.get"));
        assert_eq!(get("resource").as_deref(), Some("app:data"));
        assert_eq!(get("meta.org.team.name").as_deref(), Some("core"));
        assert_eq!(get("meta.org.size").as_deref(), Some("Int(3)"));
        assert_eq!(get("meta.nil").as_deref(), Some("<nil>"));
        assert_eq!(get("a.b").as_deref(), Some("dotted"));
        assert_eq!(get("role").as_deref(), Some("admin"));
        assert_eq!(get("missing").as_deref(), Some("<nil>"));
        // `meta.a.b` walks maps; it does not find the dotted key.
        assert_eq!(get("meta.a.b").as_deref(), Some("<nil>"));
    }

    #[test]
    fn no_meta_is_missing_and_an_empty_actor_is_an_error() {
        let empty = Actor::new("", Map::new());
        let input = Input {
            actor: &empty,
            action: "a",
            resource: "r",
            meta: None,
        };
        let get = |p: &str| FieldPath::parse(p).unwrap().lookup(&input);
        assert!(get("actor.id").is_none());
        assert!(get("actor.meta").is_none());
        assert!(get("actor.meta.role").is_none());
        assert!(get("meta.x").unwrap().is_nil());
        assert!(get("x").unwrap().is_nil());
        assert!(get("action").is_some());
    }
}

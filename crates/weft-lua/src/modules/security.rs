//! `security`: the current actor and scope, `can`, and building actors, scopes and
//! policies (reference §4.8).
//!
//! Checks run in the caller's context (`CallContext::check`). Creating an actor or a
//! scope (`new_actor`, `new_scope`, `scope:with`, `scope:without`) raises on denial;
//! `policy` and `named_scope` return `nil, err`. Bare policy and group ids resolve
//! against the calling entry's namespace. `token_store` is in `token_store.rs`.

use std::sync::Arc;

use mlua::{Lua, MetaMethod, Table, UserData, UserDataMethods, Value as LuaValue};
use weft_core::{Actor, CallContext, EntryId, Error, Map, Policy, Result, Scope, Value};

use crate::{convert, errors, frame};

/// An actor in Lua (`security.actor()`, `security.new_actor`).
#[derive(Clone)]
pub struct LuaActor(pub Actor);

/// A scope in Lua (`security.scope()`, `security.new_scope`, `security.named_scope`).
#[derive(Clone)]
pub struct LuaScope(pub Scope);

/// A compiled policy in Lua (`security.policy`, `scope:policies()`).
#[derive(Clone)]
pub struct LuaPolicy(pub Arc<dyn Policy>);

/// Builds the `security` module table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "actor",
        lua.create_function(|lua, ()| match frame::current(lua).actor() {
            Some(actor) => lua
                .create_userdata(LuaActor(actor.clone()))
                .map(LuaValue::UserData),
            None => Ok(LuaValue::Nil),
        })?,
    )?;
    t.set(
        "scope",
        lua.create_function(|lua, ()| match frame::current(lua).scope() {
            Some(scope) => lua
                .create_userdata(LuaScope(scope.clone()))
                .map(LuaValue::UserData),
            None => Ok(LuaValue::Nil),
        })?,
    )?;
    t.set(
        "can",
        lua.create_function(
            |lua, (action, resource, meta): (LuaValue, LuaValue, LuaValue)| {
                let action = text(&action, "action").map_err(mlua::Error::external)?;
                let resource = text(&resource, "resource").map_err(mlua::Error::external)?;
                let meta = meta_arg(lua, &meta).map_err(mlua::Error::external)?;
                Ok(frame::current(lua).can(&action, &resource, meta.as_ref()))
            },
        )?,
    )?;
    t.set(
        "new_actor",
        lua.create_function(|lua, (id, meta): (LuaValue, LuaValue)| {
            let actor =
                new_actor(lua, &frame::current(lua), &id, &meta).map_err(mlua::Error::external)?;
            Ok(LuaActor(actor))
        })?,
    )?;
    t.set(
        "new_scope",
        lua.create_function(|lua, policies: LuaValue| {
            frame::current(lua)
                .check("security.scope.create", "custom")
                .map_err(mlua::Error::external)?;
            let policies = policy_list(&policies).map_err(mlua::Error::external)?;
            Ok(LuaScope(Scope::new(policies)))
        })?,
    )?;
    t.set(
        "policy",
        lua.create_function(|lua, id: LuaValue| {
            let cx = frame::current(lua);
            let rt = frame::runtime(lua)?;
            let found =
                text(&id, "policy id").and_then(|id| rt.policies.read(&cx, &full_id(&cx, &id)));
            match found {
                Ok(policy) => Ok((
                    LuaValue::UserData(lua.create_userdata(LuaPolicy(policy))?),
                    LuaValue::Nil,
                )),
                Err(e) => errors::fail(lua, e),
            }
        })?,
    )?;
    t.set("token_store", lua.create_function(super::token_store::get)?)?;
    t.set(
        "named_scope",
        lua.create_function(|lua, group: LuaValue| {
            let cx = frame::current(lua);
            let rt = frame::runtime(lua)?;
            let found = text(&group, "group id")
                .and_then(|group| rt.policies.read_group(&cx, &full_id(&cx, &group)))
                .map(Scope::new);
            match found {
                Ok(scope) => Ok((
                    LuaValue::UserData(lua.create_userdata(LuaScope(scope))?),
                    LuaValue::Nil,
                )),
                Err(e) => errors::fail(lua, e),
            }
        })?,
    )?;
    Ok(t)
}

impl UserData for LuaActor {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("id", |_, this, ()| Ok(this.0.id().to_string()));
        methods.add_method("meta", |lua, this, ()| {
            convert::to_lua(lua, &Value::map(this.0.meta().clone()))
        });
        methods.add_meta_method(MetaMethod::ToString, |_, this, ()| {
            Ok(format!("security.Actor{{id={}}}", this.0.id()))
        });
    }
}

impl UserData for LuaScope {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("with", |lua, this, policy: LuaValue| {
            let policy = as_policy(&policy).map_err(mlua::Error::external)?;
            frame::current(lua)
                .check("security.scope.create", "with")
                .map_err(mlua::Error::external)?;
            Ok(LuaScope(this.0.with(policy)))
        });
        methods.add_method("without", |lua, this, policy: LuaValue| {
            let id = policy_ref(&policy).map_err(mlua::Error::external)?;
            frame::current(lua)
                .check("security.scope.create", "without")
                .map_err(mlua::Error::external)?;
            Ok(LuaScope(this.0.without(&id)))
        });
        methods.add_method("contains", |_, this, policy: LuaValue| {
            let id = policy_ref(&policy).map_err(mlua::Error::external)?;
            Ok(this.0.contains(&id))
        });
        methods.add_method("policies", |lua, this, ()| {
            let out = lua.create_table()?;
            for policy in this.0.policies() {
                out.push(LuaPolicy(policy.clone()))?;
            }
            Ok(out)
        });
        methods.add_method("evaluate", |lua, this, args: EvaluateArgs| {
            Question::answer(lua, args, |a, act, res, meta| {
                this.0.evaluate(a, act, res, meta)
            })
        });
        methods.add_meta_method(MetaMethod::ToString, |_, this, ()| {
            let ids: Vec<&str> = this.0.policies().map(|p| p.id().as_str()).collect();
            Ok(format!("security.Scope{{{}}}", ids.join(", ")))
        });
    }
}

impl UserData for LuaPolicy {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("id", |_, this, ()| Ok(this.0.id().as_str().to_string()));
        methods.add_method("evaluate", |lua, this, args: EvaluateArgs| {
            Question::answer(lua, args, |a, act, res, meta| {
                this.0.evaluate(a, act, res, meta)
            })
        });
        methods.add_meta_method(MetaMethod::ToString, |_, this, ()| {
            Ok(format!("security.Policy{{id={}}}", this.0.id()))
        });
    }
}

/// The arguments of `evaluate(actor, action, resource, meta?)`.
struct Question {
    actor: Actor,
    action: String,
    resource: String,
    meta: Option<Map>,
}

/// The Lua arguments of `:evaluate(actor, action, resource, meta?)`.
type EvaluateArgs = (LuaValue, LuaValue, LuaValue, LuaValue);

impl Question {
    /// Reads `:evaluate`'s arguments and returns what `decide` says, as its Lua name.
    fn answer(
        lua: &Lua,
        (actor, action, resource, meta): EvaluateArgs,
        decide: impl Fn(&Actor, &str, &str, Option<&Map>) -> weft_core::Decision,
    ) -> mlua::Result<&'static str> {
        let q =
            Question::new(lua, &actor, &action, &resource, &meta).map_err(mlua::Error::external)?;
        Ok(decide(&q.actor, &q.action, &q.resource, q.meta.as_ref()).as_str())
    }

    /// Reads the arguments; a nil actor is the empty actor.
    fn new(
        lua: &Lua,
        actor: &LuaValue,
        action: &LuaValue,
        resource: &LuaValue,
        meta: &LuaValue,
    ) -> Result<Question> {
        let actor = match actor {
            LuaValue::Nil => Actor::new("", Map::new()),
            other => as_actor(other)?,
        };
        Ok(Question {
            actor,
            action: text(action, "action")?,
            resource: text(resource, "resource")?,
            meta: meta_arg(lua, meta)?,
        })
    }
}

/// `security.new_actor(id, meta?)` in the caller's frame `cx`: checks
/// `security.actor.create` on the id.
fn new_actor(lua: &Lua, cx: &CallContext, id: &LuaValue, meta: &LuaValue) -> Result<Actor> {
    let id = text(id, "actor id")?;
    let meta = meta_arg(lua, meta)?.unwrap_or_default();
    cx.check("security.actor.create", &id)?;
    Ok(Actor::new(id, meta))
}

/// An `Actor` userdata argument.
pub fn as_actor(v: &LuaValue) -> Result<Actor> {
    match v {
        LuaValue::UserData(ud) => match ud.borrow::<LuaActor>() {
            Ok(a) => Ok(a.0.clone()),
            Err(_) => Err(Error::invalid("expected an Actor, got userdata")),
        },
        other => Err(Error::invalid(format!(
            "expected an Actor, got {}",
            other.type_name()
        ))),
    }
}

/// A `Scope` userdata argument.
pub fn as_scope(v: &LuaValue) -> Result<Scope> {
    match v {
        LuaValue::UserData(ud) => match ud.borrow::<LuaScope>() {
            Ok(s) => Ok(s.0.clone()),
            Err(_) => Err(Error::invalid("expected a Scope, got userdata")),
        },
        other => Err(Error::invalid(format!(
            "expected a Scope, got {}",
            other.type_name()
        ))),
    }
}

/// A `Policy` userdata argument.
fn as_policy(v: &LuaValue) -> Result<Arc<dyn Policy>> {
    match v {
        LuaValue::UserData(ud) => match ud.borrow::<LuaPolicy>() {
            Ok(p) => Ok(p.0.clone()),
            Err(_) => Err(Error::invalid("expected a Policy, got userdata")),
        },
        other => Err(Error::invalid(format!(
            "expected a Policy, got {}",
            other.type_name()
        ))),
    }
}

/// `new_scope`'s optional seed: nil or an array of Policy userdata.
fn policy_list(v: &LuaValue) -> Result<Vec<Arc<dyn Policy>>> {
    match v {
        LuaValue::Nil => Ok(Vec::new()),
        LuaValue::Table(t) => {
            let mut out = Vec::new();
            for (i, item) in t.sequence_values::<LuaValue>().enumerate() {
                let item = item.map_err(|e| errors::from_mlua(&e))?;
                out.push(as_policy(&item).map_err(|e| e.context(format!("policies[{}]", i + 1)))?);
            }
            Ok(out)
        }
        other => Err(Error::invalid(format!(
            "policies must be an array of Policy, got {}",
            other.type_name()
        ))),
    }
}

/// A policy named by id string, Policy userdata or `{ns = …, name = …}`.
fn policy_ref(v: &LuaValue) -> Result<String> {
    match v {
        LuaValue::String(_) => text(v, "policy id"),
        LuaValue::UserData(_) => as_policy(v).map(|p| p.id().as_str().to_string()),
        LuaValue::Table(t) => {
            let ns: Option<String> = t.get("ns").map_err(|e| errors::from_mlua(&e))?;
            let name: Option<String> = t.get("name").map_err(|e| errors::from_mlua(&e))?;
            match (ns, name) {
                (Some(ns), Some(name)) => Ok(format!("{ns}:{name}")),
                _ => Err(Error::invalid("a policy reference table needs ns and name")),
            }
        }
        other => Err(Error::invalid(format!(
            "expected a policy id, a Policy or {{ns, name}}, got {}",
            other.type_name()
        ))),
    }
}

/// A string argument; anything else is Invalid naming `what`.
fn text(v: &LuaValue, what: &str) -> Result<String> {
    match v {
        LuaValue::String(s) => s
            .to_str()
            .map(|s| s.to_string())
            .map_err(|_| Error::invalid(format!("{what} must be UTF-8 text"))),
        other => Err(Error::invalid(format!(
            "{what} must be a string, got {}",
            other.type_name()
        ))),
    }
}

/// An optional meta table (nil, or a table with string keys).
fn meta_arg(lua: &Lua, v: &LuaValue) -> Result<Option<Map>> {
    match v {
        LuaValue::Nil => Ok(None),
        LuaValue::Table(_) => match convert::to_value(lua, v)? {
            Value::Map(m) => Ok(Some((*m).clone())),
            _ => Err(Error::invalid(
                "meta must be a table with string keys, not an array",
            )),
        },
        other => Err(Error::invalid(format!(
            "meta must be a table, got {}",
            other.type_name()
        ))),
    }
}

/// A bare id resolved against the calling entry's namespace.
pub(crate) fn full_id(cx: &CallContext, id: &str) -> String {
    match (id.find(':'), cx.entry()) {
        (Some(colon), _) if colon > 0 => id.to_string(),
        (_, Some(entry)) => EntryId::resolve(id, entry.ns()).as_str().to_string(),
        _ => id.to_string(),
    }
}

//! The `channel` global: Go-style channels for Lua (reference §4.2), over
//! [`weft_runtime::Channel`]. A blocked send, receive or select suspends the Lua
//! coroutine; no thread ever blocks.
//!
//! A channel carries [`Item`]s: Lua values of the VM that made them, or runtime messages
//! and events (a process' inbox and events), which become Lua values when received.

use std::time::UNIX_EPOCH;

use mlua::{AnyUserData, Lua, MetaMethod, Table, UserData, UserDataMethods, Value as LuaValue};
use weft_core::{Error, Value};
use weft_runtime::{Case, Channel, Selected};
use weft_runtime::{Event, EventKind, Message};

use crate::payload::{MessageData, Payload};
use crate::{convert, errors};

/// What a Lua channel carries.
pub enum Item {
    /// A value of this VM.
    Lua(LuaValue),
    /// A message from another process.
    Message(Message),
    /// A lifecycle event.
    Event(Event),
    /// A plain value (from Rust: timers, futures).
    Value(Value),
    /// A call result, delivered as a Payload userdata.
    Payload(Value),
}

/// A channel userdata.
#[derive(Clone)]
pub struct LuaChannel(pub Channel<Item>);

/// A select case (`ch:case_send(v)`, `ch:case_receive()`).
struct SelectCase {
    channel: AnyUserData,
    send: Option<LuaValue>,
}

impl UserData for SelectCase {}

impl LuaChannel {
    /// A channel with room for `capacity` items.
    pub fn new(capacity: usize) -> LuaChannel {
        LuaChannel(Channel::new(capacity))
    }
}

impl UserData for LuaChannel {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_async_method("send", |_, this, v: LuaValue| async move {
            match this.0.send(Item::Lua(v)).await {
                Ok(()) => Ok(true),
                Err(_) => Err(mlua::Error::runtime("send on closed channel")),
            }
        });
        methods.add_async_method("receive", |lua, this, ()| async move {
            match this.0.recv().await {
                Some(item) => Ok((to_lua(&lua, item)?, true)),
                None => Ok((LuaValue::Nil, false)),
            }
        });
        methods.add_method("close", |_, this, ()| {
            if this.0.close() {
                Ok(true)
            } else {
                Err(mlua::Error::runtime("close of closed channel"))
            }
        });
        methods.add_function("case_send", |_, (ud, v): (AnyUserData, LuaValue)| {
            ud.borrow::<LuaChannel>()?;
            Ok(SelectCase {
                channel: ud,
                send: Some(v),
            })
        });
        methods.add_function("case_receive", |_, ud: AnyUserData| {
            ud.borrow::<LuaChannel>()?;
            Ok(SelectCase {
                channel: ud,
                send: None,
            })
        });
        methods.add_meta_method(MetaMethod::Eq, |_, this, other: AnyUserData| {
            Ok(other
                .borrow::<LuaChannel>()
                .is_ok_and(|o| o.0.same(&this.0)))
        });
        methods.add_meta_method(MetaMethod::ToString, |_, this, ()| {
            Ok(format!("channel({} buffered)", this.0.len()))
        });
    }
}

/// Installs the `channel` global.
pub fn install(lua: &Lua) -> mlua::Result<()> {
    let t = lua.create_table()?;
    t.set(
        "new",
        lua.create_function(|_, n: Option<i64>| {
            let n = n.unwrap_or(0);
            if n < 0 {
                return Err(mlua::Error::external(Error::invalid(
                    "channel size cannot be negative",
                )));
            }
            Ok(LuaChannel::new(usize::try_from(n).unwrap_or(usize::MAX)))
        })?,
    )?;
    t.set("select", lua.create_async_function(select)?)?;
    lua.globals().set("channel", t)
}

/// `channel.select{case, …, default = true?}` → `{channel, value, ok}` or `{default, ok}`.
async fn select(lua: Lua, cases: Table) -> mlua::Result<Table> {
    let default = cases.get::<Option<bool>>("default")?.unwrap_or(false);
    let mut chans = Vec::new();
    let mut plan = Vec::new();
    for case in cases.sequence_values::<AnyUserData>() {
        let case = case.map_err(|_| {
            mlua::Error::external(Error::invalid(
                "channel.select takes cases made by case_send / case_receive",
            ))
        })?;
        let case = case.borrow::<SelectCase>()?;
        let chan = case.channel.borrow::<LuaChannel>()?.0.clone();
        plan.push(match &case.send {
            Some(v) => Case::Send(chan, Item::Lua(v.clone())),
            None => Case::Recv(chan),
        });
        chans.push((case.channel.clone(), case.send.clone()));
    }
    if plan.is_empty() && !default {
        return Err(mlua::Error::external(Error::invalid(
            "channel.select needs at least one case or default = true",
        )));
    }
    let out = lua.create_table()?;
    match weft_runtime::select(plan, default).await {
        Ok(Selected::Default) => {
            out.set("default", true)?;
            out.set("ok", true)?;
        }
        Ok(Selected::Sent(i)) => {
            out.set("channel", chans[i].0.clone())?;
            out.set("value", chans[i].1.clone())?;
            out.set("ok", true)?;
        }
        Ok(Selected::Received(i, item)) => {
            out.set("channel", chans[i].0.clone())?;
            match item {
                Some(item) => {
                    out.set("value", to_lua(&lua, item)?)?;
                    out.set("ok", true)?;
                }
                None => out.set("ok", false)?,
            }
        }
        Err(_) => return Err(mlua::Error::runtime("send on closed channel")),
    }
    Ok(out)
}

/// Turns a received item into a Lua value of `lua`.
pub fn to_lua(lua: &Lua, item: Item) -> mlua::Result<LuaValue> {
    match item {
        Item::Lua(v) => Ok(v),
        Item::Value(v) => convert::to_lua(lua, &v),
        Item::Payload(v) => Ok(LuaValue::UserData(lua.create_userdata(Payload(v))?)),
        Item::Message(m) => Ok(LuaValue::UserData(lua.create_userdata(MessageData(m))?)),
        Item::Event(e) => event_table(lua, e),
    }
}

/// `{kind, from, at, result = {value, error}}` (EXIT, LINK_DOWN) or `{kind, from, at, deadline}`.
fn event_table(lua: &Lua, e: Event) -> mlua::Result<LuaValue> {
    let t = lua.create_table()?;
    t.set("kind", e.kind.name())?;
    t.set("from", &*e.from)?;
    let at =
        e.at.duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
    t.set("at", at)?;
    match e.kind {
        EventKind::Exit(result) | EventKind::LinkDown(result) => {
            let r = lua.create_table()?;
            match result {
                Ok(v) => r.set("value", convert::to_lua(lua, &v)?)?,
                Err(err) => r.set("error", errors::push(lua, err)?)?,
            }
            t.set("result", r)?;
        }
        EventKind::Cancel(deadline) => {
            if let Some(d) = deadline {
                t.set("deadline", i64::try_from(d.as_millis()).unwrap_or(i64::MAX))?;
            }
        }
    }
    Ok(LuaValue::Table(t))
}

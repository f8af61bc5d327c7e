//! Payload and Message userdata: values delivered by futures, messages and `listen`.

use mlua::{Lua, MetaMethod, UserData, UserDataMethods, Value as LuaValue};
use weft_core::Value;
use weft_runtime::Message;

use crate::convert;

/// A delivered value, as Wippy's Payload: `p:data()`.
pub struct Payload(pub Value);

impl UserData for Payload {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("data", |lua, this, ()| {
            Ok((convert::to_lua(lua, &this.0)?, LuaValue::Nil))
        });
        methods.add_method("unmarshal", |lua, this, ()| {
            Ok((convert::to_lua(lua, &this.0)?, LuaValue::Nil))
        });
        methods.add_method("get_format", |_, _, ()| Ok("lua/any"));
    }
}

/// A message from another process: `topic()`, `payload()`, `from()`.
pub struct MessageData(pub Message);

impl UserData for MessageData {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("topic", |_, this, ()| Ok(this.0.topic.clone()));
        methods.add_method("from", |_, this, ()| {
            Ok(this.0.from.as_deref().unwrap_or_default().to_string())
        });
        methods.add_method("payload", |lua, this, ()| {
            payload_list(lua, &this.0.payload)
        });
        methods.add_meta_method(MetaMethod::ToString, |_, this, ()| {
            Ok(format!("process.Message{{topic={}}}", this.0.topic))
        });
    }
}

/// `nil`, one Payload, or an array of Payloads.
pub fn payload_list(lua: &Lua, values: &[Value]) -> mlua::Result<LuaValue> {
    match values {
        [] => Ok(LuaValue::Nil),
        [one] => Ok(LuaValue::UserData(
            lua.create_userdata(Payload(one.clone()))?,
        )),
        many => {
            let t = lua.create_table_with_capacity(many.len(), 0)?;
            for v in many {
                t.push(lua.create_userdata(Payload(v.clone()))?)?;
            }
            Ok(LuaValue::Table(t))
        }
    }
}

//! `logger`: structured logging through `tracing`, tagged with the entry and pid.
//!
//! The module value is a userdata, so calls use colon syntax: `logger:info(msg, fields)`.

use mlua::{Lua, Table, UserData, UserDataMethods, Value as LuaValue};
use weft_core::{EntryId, Error, Map, Value};

use crate::{convert, frame};

/// Builds the `logger` module value (a root logger).
pub fn module(lua: &Lua) -> mlua::Result<LuaValue> {
    Ok(LuaValue::UserData(lua.create_userdata(Logger::default())?))
}

/// A logger with a name and fields added to every record.
#[derive(Clone, Default)]
struct Logger {
    name: Option<String>,
    fields: Map,
}

#[derive(Clone, Copy)]
enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

impl UserData for Logger {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        for (name, level) in [
            ("debug", Level::Debug),
            ("info", Level::Info),
            ("warn", Level::Warn),
            ("error", Level::Error),
        ] {
            methods.add_method(
                name,
                move |lua, this, (msg, fields): (LuaValue, Option<Table>)| {
                    this.emit(lua, level, &msg, fields)
                },
            );
        }
        methods.add_method("with", |lua, this, fields: Table| {
            let mut next = this.clone();
            next.fields.extend(to_map(lua, fields)?);
            Ok(next)
        });
        methods.add_method("named", |_, this, name: String| {
            if name.is_empty() {
                return Err(mlua::Error::external(Error::invalid(
                    "name cannot be empty",
                )));
            }
            let mut next = this.clone();
            next.name = Some(match &this.name {
                Some(parent) => format!("{parent}.{name}"),
                None => name,
            });
            Ok(next)
        });
    }
}

impl Logger {
    fn emit(
        &self,
        lua: &Lua,
        level: Level,
        msg: &LuaValue,
        fields: Option<Table>,
    ) -> mlua::Result<()> {
        let msg = match msg {
            LuaValue::String(s) => s.to_string_lossy(),
            other => other.to_string().unwrap_or_default(),
        };
        let mut all = self.fields.clone();
        if let Some(fields) = fields {
            all.extend(to_map(lua, fields)?);
        }
        let rendered = all
            .iter()
            .map(|(k, v)| match v {
                Value::Str(_) => format!("{k}={:?}", v.to_display_string()),
                other => format!("{k}={}", serde_json::to_string(other).unwrap_or_default()),
            })
            .collect::<Vec<_>>()
            .join(" ");
        let cx = frame::current(lua);
        let entry = cx.entry().map(EntryId::as_str).unwrap_or("");
        let pid = cx.pid().unwrap_or("");
        let name = self.name.as_deref().unwrap_or("");
        match level {
            Level::Debug => {
                tracing::debug!(target: "weft::lua", entry, pid, logger = name, "{msg} {rendered}")
            }
            Level::Info => {
                tracing::info!(target: "weft::lua", entry, pid, logger = name, "{msg} {rendered}")
            }
            Level::Warn => {
                tracing::warn!(target: "weft::lua", entry, pid, logger = name, "{msg} {rendered}")
            }
            Level::Error => {
                tracing::error!(target: "weft::lua", entry, pid, logger = name, "{msg} {rendered}")
            }
        }
        Ok(())
    }
}

fn to_map(lua: &Lua, fields: Table) -> mlua::Result<Map> {
    match convert::to_value(lua, &LuaValue::Table(fields)).map_err(mlua::Error::external)? {
        Value::Map(m) => Ok((*m).clone()),
        Value::Array(items) => Ok(items
            .iter()
            .enumerate()
            .map(|(i, v)| ((i + 1).to_string(), v.clone()))
            .collect()),
        _ => Ok(Map::new()),
    }
}

//! The Lua modules an entry can list under `modules:`, and the `os` and `process`
//! globals every VM has.

mod args;
mod base64;
mod compress;
mod crypto;
mod ctx;
mod env;
mod expr;
mod fs;
mod funcs;
mod hash;
mod http;
mod http_client;
mod io;
mod json;
mod logger;
mod os;
mod process;
mod registry;
mod security;
mod store;
mod stream;
mod system;
mod text;
mod time;
mod timers;
mod token_store;
mod uuid;
mod websocket;
mod yaml;

use mlua::{Lua, Value as LuaValue};
use weft_core::Error;

/// Modules weft provides.
const AVAILABLE: &[&str] = &[
    "base64",
    "compress",
    "crypto",
    "ctx",
    "env",
    "expr",
    "fs",
    "funcs",
    "hash",
    "http",
    "http_client",
    "io",
    "json",
    "logger",
    "process",
    "registry",
    "security",
    "store",
    "stream",
    "system",
    "text",
    "time",
    "uuid",
    "websocket",
    "yaml",
];

/// Modules Wippy has that weft does not provide: listing one is a clear boot error.
const WIPPY_ONLY: &[&str] = &[
    "cdc",
    "cloudstorage",
    "contract",
    "eval",
    "events",
    "excel",
    "exec",
    "html",
    "hub",
    "metrics",
    "ostime",
    "payload",
    "pg",
    "queue",
    "sql",
    "template",
    "treesitter",
    "tty",
    "workflow",
];

/// Checks a `modules:` name at registration.
pub fn validate(name: &str) -> Result<(), Error> {
    if name.is_empty() {
        return Err(Error::invalid("module name cannot be empty"));
    }
    if name.contains(':') {
        return Err(Error::invalid(format!(
            "module name {name:?} must not have a namespace (imports: binds library entries)"
        )));
    }
    if AVAILABLE.contains(&name) {
        return Ok(());
    }
    if WIPPY_ONLY.contains(&name) {
        return Err(Error::invalid(format!(
            "module {name:?} is not available in this version of weft (available: {})",
            AVAILABLE.join(", ")
        )));
    }
    Err(Error::invalid(format!(
        "unknown module {name:?} (available: {})",
        AVAILABLE.join(", ")
    )))
}

/// Installs the `os` and `process` globals.
pub fn install_globals(lua: &Lua) -> mlua::Result<()> {
    let g = lua.globals();
    g.raw_set("os", os::module(lua)?)?;
    g.raw_set("process", process::module(lua)?)
}

/// Creates the module `name` in `lua` (names were validated at registration).
pub fn create(lua: &Lua, name: &str) -> mlua::Result<LuaValue> {
    Ok(match name {
        "base64" => LuaValue::Table(base64::module(lua)?),
        "compress" => LuaValue::Table(compress::module(lua)?),
        "crypto" => LuaValue::Table(crypto::module(lua)?),
        "ctx" => LuaValue::Table(ctx::module(lua)?),
        "env" => LuaValue::Table(env::module(lua)?),
        "expr" => LuaValue::Table(expr::module(lua)?),
        "fs" => LuaValue::Table(fs::module(lua)?),
        "funcs" => LuaValue::Table(funcs::module(lua)?),
        "hash" => LuaValue::Table(hash::module(lua)?),
        "http" => LuaValue::Table(http::module(lua)?),
        "http_client" => LuaValue::Table(http_client::module(lua)?),
        "io" => LuaValue::Table(io::module(lua)?),
        "json" => LuaValue::Table(json::module(lua)?),
        "logger" => logger::module(lua)?,
        "process" => LuaValue::Table(process::module(lua)?),
        "registry" => LuaValue::Table(registry::module(lua)?),
        "security" => LuaValue::Table(security::module(lua)?),
        "store" => LuaValue::Table(store::module(lua)?),
        "stream" => LuaValue::Table(stream::module(lua)?),
        "system" => LuaValue::Table(system::module(lua)?),
        "text" => LuaValue::Table(text::module(lua)?),
        "time" => {
            let t = time::module(lua)?;
            timers::extend(lua, &t)?;
            LuaValue::Table(t)
        }
        "uuid" => LuaValue::Table(uuid::module(lua)?),
        "websocket" => LuaValue::Table(websocket::module(lua)?),
        "yaml" => LuaValue::Table(yaml::module(lua)?),
        other => {
            return Err(mlua::Error::external(Error::invalid(format!(
                "unknown module {other:?}"
            ))));
        }
    })
}

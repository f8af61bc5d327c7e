//! Error objects in Lua: the `errors` global and the conversions between Lua errors and
//! [`weft_core::Error`].
//!
//! An error object is a [`LuaError`] userdata; its kind, retryable flag and details
//! survive `funcs.call`, process exits and `error(obj)` (entry methods run under an
//! `xpcall` handler that hands back the raised value untouched).

use std::sync::Arc;

use mlua::{AnyUserData, Lua, MetaMethod, Table, UserData, UserDataMethods, Value as LuaValue};
use weft_core::{Error, ErrorKind};

use crate::{convert, stack};

/// A Lua error object.
#[derive(Clone)]
pub struct LuaError(pub Arc<Error>);

impl UserData for LuaError {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("kind", |_, this, ()| Ok(this.0.kind().as_str()));
        methods.add_method("message", |_, this, ()| Ok(this.0.message().to_string()));
        methods.add_method("retryable", |_, this, ()| Ok(this.0.retryable()));
        methods.add_method("details", |lua, this, ()| match this.0.details() {
            Some(d) => convert::to_lua(lua, d),
            None => Ok(LuaValue::Nil),
        });
        methods.add_method("stack", |_, this, ()| {
            Ok(this.0.stack().unwrap_or_default().to_string())
        });
        methods.add_meta_method(MetaMethod::ToString, |_, this, ()| Ok(this.0.to_string()));
        methods.add_meta_function(MetaMethod::Concat, |_, (a, b): (LuaValue, LuaValue)| {
            Ok(format!("{}{}", concat_part(&a)?, concat_part(&b)?))
        });
        methods.add_meta_method(MetaMethod::Eq, |_, this, other: AnyUserData| {
            Ok(other
                .borrow::<LuaError>()
                .is_ok_and(|o| Arc::ptr_eq(&o.0, &this.0)))
        });
    }
}

/// Pushes `err` into `lua` as an error object; one made here (not one that came back
/// from a call with its own) records the Lua traceback where it was made.
pub fn push(lua: &Lua, err: Error) -> mlua::Result<LuaValue> {
    let err = match (err.stack(), stack::capture(lua)) {
        (None, Some(traceback)) => err.with_stack(traceback),
        _ => err,
    };
    lua.create_userdata(LuaError(Arc::new(err)))
        .map(LuaValue::UserData)
}

/// The `nil, err` pair that module functions return on failure.
pub fn fail(lua: &Lua, err: Error) -> mlua::Result<(LuaValue, LuaValue)> {
    Ok((LuaValue::Nil, push(lua, err)?))
}

/// Converts an mlua error (a raised error that crossed into Rust) to a weft error.
pub fn from_mlua(e: &mlua::Error) -> Error {
    match e {
        mlua::Error::CallbackError { cause, .. } => from_mlua(cause),
        mlua::Error::WithContext { context, cause } => from_mlua(cause).context(context.clone()),
        mlua::Error::ExternalError(inner) => match inner.downcast_ref::<Error>() {
            Some(err) => err.clone(),
            None => Error::new(ErrorKind::Unknown, inner.to_string()),
        },
        mlua::Error::RuntimeError(msg) => Error::new(ErrorKind::Unknown, msg.clone()),
        mlua::Error::SyntaxError { message, .. } => Error::invalid(message.clone()),
        mlua::Error::MemoryError(msg) => Error::internal(format!("{OUT_OF_MEMORY_PREFIX}{msg}")),
        other => Error::internal(other.to_string()),
    }
}

/// What Lua raises when an allocation fails (its `LUA_ERRMEM` message).
const LUA_OUT_OF_MEMORY: &str = "not enough memory";

/// Whether `e` is Lua running out of memory (the VM's `limits.max_memory_mb`), raised
/// as a memory error or caught and re-raised as Lua's message.
pub fn is_out_of_memory(e: &Error) -> bool {
    let message = e.message();
    message == LUA_OUT_OF_MEMORY || message.starts_with(OUT_OF_MEMORY_PREFIX)
}

/// How a memory error of mlua is rendered by [`from_mlua`].
const OUT_OF_MEMORY_PREFIX: &str = "out of memory: ";

/// Converts a raised Lua value (caught by the call's `xpcall` handler) to a weft error.
pub fn from_raised(v: &LuaValue) -> Error {
    match v {
        LuaValue::UserData(ud) => match ud.borrow::<LuaError>() {
            Ok(e) => (*e.0).clone(),
            Err(_) => Error::new(ErrorKind::Unknown, lua_text(v)),
        },
        LuaValue::Error(e) => from_mlua(e),
        LuaValue::String(s) => Error::new(ErrorKind::Unknown, s.to_string_lossy()),
        other => Error::new(ErrorKind::Unknown, lua_text(other)),
    }
}

/// Reads an error object or a message string (the second return value convention).
pub fn from_return(v: &LuaValue) -> Option<Error> {
    match v {
        LuaValue::Nil | LuaValue::Boolean(false) => None,
        LuaValue::String(_) | LuaValue::Error(_) => Some(from_raised(v)),
        LuaValue::UserData(ud) if ud.is::<LuaError>() => Some(from_raised(v)),
        _ => None,
    }
}

/// Installs the `errors` global.
pub fn install(lua: &Lua) -> mlua::Result<()> {
    let t = lua.create_table()?;
    for kind in ErrorKind::ALL {
        t.set(constant_name(kind), kind.as_str())?;
    }
    t.set("new", lua.create_function(new)?)?;
    t.set(
        "wrap",
        lua.create_function(|lua, (err, ctx): (LuaValue, Option<String>)| {
            if err.is_nil() {
                return Ok(LuaValue::Nil);
            }
            let base = from_raised(&err);
            push(
                lua,
                match ctx {
                    Some(ctx) => base.context(ctx),
                    None => base,
                },
            )
        })?,
    )?;
    t.set(
        "is",
        lua.create_function(|_, (v, kind): (LuaValue, String)| {
            Ok(as_error(&v).is_some_and(|e| e.kind().as_str() == kind))
        })?,
    )?;
    t.set(
        "call_stack",
        lua.create_function(|lua, v: LuaValue| {
            let Some(traceback) = as_error(&v).and_then(|e| e.stack().map(str::to_string)) else {
                return Ok(LuaValue::Nil);
            };
            let frames = lua.create_table()?;
            for frame in stack::frames(&traceback) {
                let t = lua.create_table()?;
                t.set("source", frame.source)?;
                t.set("line", frame.line)?;
                t.set("name", frame.name)?;
                frames.push(t)?;
            }
            let out = lua.create_table()?;
            out.set("thread", "main")?;
            out.set("frames", frames)?;
            Ok(LuaValue::Table(out))
        })?,
    )?;
    lua.globals().set("errors", t)
}

/// `errors.new(msg)` or `errors.new({message, kind, retryable, details})`.
fn new(lua: &Lua, arg: LuaValue) -> mlua::Result<LuaValue> {
    let err = match &arg {
        LuaValue::String(s) => Error::new(ErrorKind::Unknown, s.to_string_lossy()),
        LuaValue::Table(t) => from_table(lua, t)?,
        LuaValue::UserData(_) | LuaValue::Error(_) => from_raised(&arg),
        other => {
            return Err(mlua::Error::external(Error::invalid(format!(
                "errors.new expects a message string or a table, got {}",
                other.type_name()
            ))));
        }
    };
    push(lua, err)
}

fn from_table(lua: &Lua, t: &Table) -> mlua::Result<Error> {
    let message: Option<String> = t.get("message")?;
    let kind_name: Option<String> = t.get("kind")?;
    let kind = match kind_name.as_deref() {
        None => ErrorKind::Unknown,
        Some(name) => ErrorKind::parse(name).ok_or_else(|| {
            mlua::Error::external(Error::invalid(format!("unknown error kind: {name}")))
        })?,
    };
    let retryable: Option<bool> = t.get("retryable")?;
    let details: LuaValue = t.get("details")?;
    let details = if details.is_nil() {
        None
    } else {
        Some(convert::to_value(lua, &details).map_err(mlua::Error::external)?)
    };
    Ok(Error::new(kind, message.unwrap_or_default())
        .with_retryable(retryable)
        .with_details(details))
}

/// The error inside an error object (`None` for anything else).
pub fn as_error(v: &LuaValue) -> Option<Error> {
    match v {
        LuaValue::UserData(ud) => ud.borrow::<LuaError>().ok().map(|e| (*e.0).clone()),
        LuaValue::Error(e) => Some(from_mlua(e)),
        _ => None,
    }
}

fn concat_part(v: &LuaValue) -> mlua::Result<String> {
    match v {
        LuaValue::String(s) => Ok(s.to_string_lossy()),
        LuaValue::Integer(_) | LuaValue::Number(_) => Ok(lua_text(v)),
        LuaValue::UserData(ud) if ud.is::<LuaError>() => Ok(from_raised(v).to_string()),
        other => Err(mlua::Error::runtime(format!(
            "attempt to concatenate a {} value",
            other.type_name()
        ))),
    }
}

fn lua_text(v: &LuaValue) -> String {
    v.to_string().unwrap_or_else(|_| v.type_name().to_string())
}

fn constant_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Unknown => "UNKNOWN",
        ErrorKind::NotFound => "NOT_FOUND",
        ErrorKind::AlreadyExists => "ALREADY_EXISTS",
        ErrorKind::Invalid => "INVALID",
        ErrorKind::PermissionDenied => "PERMISSION_DENIED",
        ErrorKind::Unavailable => "UNAVAILABLE",
        ErrorKind::Internal => "INTERNAL",
        ErrorKind::Canceled => "CANCELED",
        ErrorKind::Conflict => "CONFLICT",
        ErrorKind::Timeout => "TIMEOUT",
        ErrorKind::RateLimited => "RATE_LIMITED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lua() -> Lua {
        let lua = Lua::new();
        install(&lua).unwrap();
        lua
    }

    #[test]
    fn table_form_keeps_kind_retryable_and_details() {
        let lua = lua();
        let (kind, msg, retry, detail): (String, String, bool, i64) = lua
            .load(
                "local e = errors.new({message = 'gone', kind = errors.NOT_FOUND, retryable = true, details = {n = 3}})
                 return e:kind(), e:message(), e:retryable(), e:details().n",
            )
            .eval()
            .unwrap();
        assert_eq!(
            (kind.as_str(), msg.as_str(), retry, detail),
            ("NotFound", "gone", true, 3)
        );
    }

    #[test]
    fn invalid_input_errors_are_not_retryable() {
        let lua = lua();
        let (kind, retryable): (String, LuaValue) = lua
            .load("local e = errors.new({message = 'x', kind = errors.INVALID}) return e:kind(), e:retryable()")
            .eval()
            .unwrap();
        // errors.new keeps what the code says (nothing here); module errors say false.
        assert_eq!((kind.as_str(), retryable), ("Invalid", LuaValue::Nil));
        let made = push(&lua, Error::invalid("bad input")).unwrap();
        lua.globals().set("made", made).unwrap();
        let retryable: LuaValue = lua.load("return made:retryable()").eval().unwrap();
        assert_eq!(retryable, LuaValue::Boolean(false));
    }

    #[test]
    fn empty_details_read_back_as_an_empty_table() {
        let lua = lua();
        let (kind, n): (String, i64) = lua
            .load(
                "local d = errors.new({message = 'x', details = {}}):details()
                 local n = 0
                 for _ in pairs(d) do n = n + 1 end
                 return type(d), n",
            )
            .eval()
            .unwrap();
        assert_eq!((kind.as_str(), n), ("table", 0));
    }

    #[test]
    fn an_error_carries_the_traceback_of_where_it_was_made() {
        let lua = lua();
        let (stack, source, line, name, wrapped_line): (String, String, i64, String, i64) = lua
            .load(
                "local function make()\n  return errors.new('x')\nend\n\
                 local e = make()\n\
                 local cs = errors.call_stack(e)\n\
                 local w = errors.call_stack(errors.wrap(e, 'ctx'))\n\
                 return e:stack(), cs.frames[1].source, cs.frames[1].line, cs.frames[1].name, w.frames[1].line",
            )
            .set_name("=app:f")
            .eval()
            .unwrap();
        assert!(stack.starts_with("stack traceback:"), "{stack}");
        assert!(stack.contains("app:f:2: in function 'make'"), "{stack}");
        assert_eq!((source.as_str(), line, name.as_str()), ("app:f", 2, "make"));
        assert_eq!(wrapped_line, 2, "a wrapped error keeps where it was made");
        let none: LuaValue = lua.load("return errors.call_stack('text')").eval().unwrap();
        assert_eq!(none, LuaValue::Nil);
    }

    #[test]
    fn wrap_keeps_inner_message_and_prefixes_the_string_form() {
        let lua = lua();
        let (msg, text, kind): (String, String, String) = lua
            .load(
                "local e = errors.wrap(errors.new({message = 'inner', kind = 'Invalid'}), 'outer')
                 return e:message(), tostring(e), e:kind()",
            )
            .eval()
            .unwrap();
        assert_eq!(
            (msg.as_str(), text.as_str(), kind.as_str()),
            ("inner", "outer: inner", "Invalid")
        );
    }

    #[test]
    fn is_and_concat_and_unknown_kind() {
        let lua = lua();
        let (is, not, cat): (bool, bool, String) = lua
            .load(
                "local e = errors.new({message = 'x', kind = 'Timeout'})
                 return errors.is(e, errors.TIMEOUT), errors.is('x', 'Timeout'), 'a: ' .. e .. '!'",
            )
            .eval()
            .unwrap();
        assert!(is && !not);
        assert_eq!(cat, "a: x!");
        let err = lua
            .load("errors.new({message = 'x', kind = 'Weird'})")
            .exec()
            .unwrap_err();
        assert!(err.to_string().contains("unknown error kind: Weird"));
        assert_eq!(
            lua.load("return errors.UNKNOWN").eval::<String>().unwrap(),
            ""
        );
    }

    #[test]
    fn raised_error_objects_are_recovered_whole() {
        let lua = lua();
        let v: LuaValue = lua
            .load("local ok, e = pcall(error, errors.new({message = 'm', kind = 'Conflict'})) return e")
            .eval()
            .unwrap();
        let e = from_raised(&v);
        assert_eq!((e.kind(), e.message()), (ErrorKind::Conflict, "m"));
    }
}

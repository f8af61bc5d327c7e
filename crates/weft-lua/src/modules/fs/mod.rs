//! `fs`: the app's `fs.directory` roots (spec `wippy-modules/fs.md`), a thin binding of
//! `weft_fs`.
//!
//! `fs.get(id)` checks `fs.get` on the id (a bare id resolves against the caller's
//! namespace) and returns a Volume (the spec's FS object), or `nil, err`. A Volume has a
//! working directory of its own (`chdir`, `pwd`); every path it is given goes through
//! [`weft_fs::FsRoot`], which keeps it inside the root: `/` is the root of the volume
//! (never the host's), and `..` anywhere or a link pointing out is PermissionDenied.
//! Every file operation runs on a blocking thread while the VM yields. Failures come
//! back as `nil, err` (`false, err` from the methods that return a boolean), never
//! raised; a wrong argument type is an Invalid error like any other bad input.
//!
//! The File objects of `open` are in `file.rs`.

mod file;

use std::sync::Arc;

use mlua::{Lua, ObjectLike, Table, UserData, UserDataMethods, Value as LuaValue};
use parking_lot::Mutex;
use weft_core::{Error, ErrorKind, Result};
use weft_fs::{FileInfo, FileKind, FsRoot, OpenMode};

use self::file::LuaFile;
use crate::modules::security::full_id;
use crate::{errors, frame};

/// A Volume: one root and the working directory its relative paths start from.
struct Volume {
    root: Arc<FsRoot>,
    /// Always absolute and normalized (`/`, `/a/b`).
    cwd: Mutex<String>,
}

/// What `writefile` writes: a string's bytes, or what a reader gives.
enum Data<'a> {
    Bytes(Vec<u8>),
    Reader(&'a mlua::AnyUserData),
}

/// How many bytes `writefile` asks a reader for at a time.
const COPY_CHUNK: usize = 64 * 1024;

/// Builds the `fs` module table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set("get", lua.create_function(get)?)?;
    let kinds = lua.create_table()?;
    kinds.set("FILE", kind_name(FileKind::File))?;
    kinds.set("DIR", kind_name(FileKind::Directory))?;
    t.set("type", kinds)?;
    let seek = lua.create_table()?;
    for (name, value) in [("SET", "set"), ("CUR", "cur"), ("END", "end")] {
        seek.set(name, value)?;
    }
    t.set("seek", seek)?;
    Ok(t)
}

/// `fs.get(id)` → Volume, or `nil, err`.
fn get(lua: &Lua, id: LuaValue) -> mlua::Result<(LuaValue, LuaValue)> {
    let id = match text_arg(&id, "filesystem name") {
        Ok(id) => id,
        Err(e) => return errors::fail(lua, e),
    };
    let cx = frame::current(lua);
    match frame::fs(lua)?.get(&cx, &full_id(&cx, &id)) {
        Ok(root) => {
            let volume = Volume {
                root,
                cwd: Mutex::new("/".to_string()),
            };
            Ok((
                LuaValue::UserData(lua.create_userdata(volume)?),
                LuaValue::Nil,
            ))
        }
        Err(e) => errors::fail(lua, e),
    }
}

impl UserData for Volume {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("pwd", |_, this, ()| {
            Ok((this.cwd.lock().clone(), LuaValue::Nil))
        });
        methods.add_async_method("chdir", |lua, this, path: LuaValue| async move {
            let moved = this
                .run(&path, |root, dir| match root.stat(dir)?.kind {
                    FileKind::Directory => Ok(normalize(dir)),
                    FileKind::File => Err(Error::invalid(format!("{dir} is not a directory"))),
                })
                .await
                .map(|dir| *this.cwd.lock() = dir);
            done(&lua, moved)
        });
        methods.add_async_method(
            "open",
            |lua, this, (path, mode): (LuaValue, LuaValue)| async move {
                let opened = match open_mode(&mode, true) {
                    Ok(mode) => {
                        this.run(&path, move |root, path| root.open(path, mode))
                            .await
                    }
                    Err(e) => Err(e),
                };
                match opened {
                    Ok(file) => Ok((
                        LuaValue::UserData(lua.create_userdata(LuaFile::new(&lua, file))?),
                        LuaValue::Nil,
                    )),
                    Err(e) => errors::fail(&lua, e),
                }
            },
        );
        methods.add_async_method("stat", |lua, this, path: LuaValue| async move {
            match this.run(&path, |root, path| root.stat(path)).await {
                Ok(info) => Ok((LuaValue::Table(info_table(&lua, &info)?), LuaValue::Nil)),
                Err(e) => errors::fail(&lua, e),
            }
        });
        methods.add_async_method("mkdir", |lua, this, path: LuaValue| async move {
            let made = this.run(&path, |root, path| root.create_dir(path)).await;
            done(&lua, made)
        });
        methods.add_async_method("remove", |lua, this, path: LuaValue| async move {
            let removed = this.run(&path, |root, path| root.remove(path)).await;
            done(&lua, removed)
        });
        methods.add_async_method("readdir", |lua, this, path: LuaValue| async move {
            match this.run(&path, |root, path| root.list(path)).await {
                Ok(entries) => {
                    let list = lua.create_table_with_capacity(entries.len(), 0)?;
                    for entry in entries {
                        let t = lua.create_table()?;
                        t.set("name", entry.name)?;
                        t.set("type", kind_name(entry.kind))?;
                        list.push(t)?;
                    }
                    Ok((LuaValue::Function(iterator(&lua)?), LuaValue::Table(list)))
                }
                Err(e) => errors::fail(&lua, e),
            }
        });
        methods.add_async_method("exists", |lua, this, path: LuaValue| async move {
            let found = this.run(&path, |root, path| root.exists(path)).await;
            boolean(&lua, found)
        });
        methods.add_async_method("isdir", |lua, this, path: LuaValue| async move {
            let is_dir = this
                .run(&path, |root, path| {
                    Ok(root.stat(path)?.kind == FileKind::Directory)
                })
                .await;
            boolean(&lua, is_dir)
        });
        methods.add_async_method("readfile", |lua, this, path: LuaValue| async move {
            match this.run(&path, |root, path| root.read(path)).await {
                Ok(bytes) => Ok((LuaValue::String(lua.create_string(&bytes)?), LuaValue::Nil)),
                Err(e) => errors::fail(&lua, e),
            }
        });
        methods.add_async_method(
            "writefile",
            |lua, this, (path, data, mode): (LuaValue, LuaValue, LuaValue)| async move {
                let written = this.write_file(&path, &data, &mode).await;
                done(&lua, written)
            },
        );
        methods.add_meta_method(mlua::MetaMethod::ToString, |_, this, ()| {
            Ok(format!("fs.FS{{{}}}", this.root.id()))
        });
    }
}

impl Volume {
    /// The path of `arg` inside the volume: absolute as given, or relative to the
    /// working directory.
    fn path(&self, arg: &LuaValue) -> Result<String> {
        let path = text_arg(arg, "path")?;
        if path.starts_with('/') {
            return Ok(path);
        }
        let cwd = self.cwd.lock();
        Ok(match cwd.as_str() {
            "/" => format!("/{path}"),
            dir => format!("{dir}/{path}"),
        })
    }

    /// Runs `op` on the root and the path of `arg`, on a blocking thread.
    async fn run<T: Send + 'static>(
        &self,
        arg: &LuaValue,
        op: impl FnOnce(&FsRoot, &str) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let path = self.path(arg)?;
        let root = self.root.clone();
        blocking(move || op(&root, &path)).await
    }

    /// `writefile(path, data, mode?)`: `data` is a string, or an object with a `read`
    /// method (a Stream, a File) that is copied until it ends.
    async fn write_file(&self, path: &LuaValue, data: &LuaValue, mode: &LuaValue) -> Result<()> {
        let path = self.path(path)?;
        let mode = match mode {
            LuaValue::Nil => OpenMode::Write,
            mode => open_mode(mode, false)?,
        };
        let reader = match data {
            LuaValue::Nil => return Err(Error::invalid("data is required")),
            LuaValue::String(s) => Data::Bytes(s.as_bytes().to_vec()),
            LuaValue::UserData(ud) if ud.get::<LuaValue>("read").is_ok_and(|r| r.is_function()) => {
                Data::Reader(ud)
            }
            other => {
                return Err(Error::invalid(format!(
                    "data must be a string or a reader (an object with a read method), got {}",
                    other.type_name()
                )));
            }
        };
        let root = self.root.clone();
        let file = Arc::new(blocking(move || root.open(&path, mode)).await?);
        let reader = match reader {
            Data::Bytes(bytes) => return blocking(move || file.write(&bytes)).await,
            Data::Reader(reader) => reader,
        };
        loop {
            let (chunk, err): (LuaValue, LuaValue) = reader
                .call_async_method("read", COPY_CHUNK)
                .await
                .map_err(|e| errors::from_mlua(&e))?;
            let bytes = match (chunk, errors::from_return(&err)) {
                (LuaValue::String(s), _) => s.as_bytes().to_vec(),
                // A File says NotFound at its end, a Stream `nil, nil`.
                (_, None) => return Ok(()),
                (_, Some(e)) if e.kind() == ErrorKind::NotFound => return Ok(()),
                (_, Some(e)) => return Err(e.context("reading the data to write")),
            };
            let file = file.clone();
            blocking(move || file.write(&bytes)).await?;
        }
    }
}

/// A string argument (numbers are not paths or names); empty is Invalid.
fn text_arg(value: &LuaValue, what: &str) -> Result<String> {
    let text = match value {
        LuaValue::String(s) => s
            .to_str()
            .map(|s| s.to_string())
            .map_err(|_| Error::invalid(format!("{what} must be UTF-8 text")))?,
        other => {
            return Err(Error::invalid(format!(
                "{what} must be a string, got {}",
                other.type_name()
            )));
        }
    };
    if text.is_empty() {
        return Err(Error::invalid(format!("{what} is required")));
    }
    Ok(text)
}

/// An open mode: `r` (if `read` is allowed), `w`, `wx` or `a`.
fn open_mode(value: &LuaValue, read: bool) -> Result<OpenMode> {
    let mode = match value {
        LuaValue::String(s) => s.to_string_lossy(),
        LuaValue::Nil => return Err(Error::invalid("mode is required")),
        other => {
            return Err(Error::invalid(format!(
                "mode must be a string, got {}",
                other.type_name()
            )));
        }
    };
    Ok(match mode.as_str() {
        "r" if read => OpenMode::Read,
        "w" => OpenMode::Write,
        "wx" => OpenMode::WriteNew,
        "a" => OpenMode::Append,
        other => {
            let allowed = if read { "r, w, wx or a" } else { "w, wx or a" };
            return Err(Error::invalid(format!(
                "invalid mode {other:?}: must be {allowed}"
            )));
        }
    })
}

/// `/a/./b//c` → `/a/b/c` (a working directory; `..` never gets this far).
fn normalize(path: &str) -> String {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    format!("/{}", parts.join("/"))
}

/// The Lua name of a kind (`fs.type.FILE`, `fs.type.DIR`).
fn kind_name(kind: FileKind) -> &'static str {
    match kind {
        FileKind::File => "file",
        FileKind::Directory => "directory",
    }
}

/// The info table of `stat`: `name`, `size`, `mode`, `modified`, `is_dir`, `type`.
fn info_table(lua: &Lua, info: &FileInfo) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set("name", info.name.as_str())?;
    t.set("size", i64::try_from(info.size).unwrap_or(i64::MAX))?;
    t.set("mode", info.mode)?;
    t.set("modified", info.modified)?;
    t.set("is_dir", info.kind == FileKind::Directory)?;
    t.set("type", kind_name(info.kind))?;
    Ok(t)
}

/// The iterator of `readdir`: each call returns the next entry of the list it is
/// given as its state, then nil.
fn iterator(lua: &Lua) -> mlua::Result<mlua::Function> {
    let next = std::sync::atomic::AtomicI64::new(0);
    lua.create_function(move |_, (list, _): (Table, LuaValue)| {
        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        list.raw_get::<LuaValue>(i)
    })
}

/// Runs blocking file work off the async workers.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        Err(e) => Err(Error::internal(format!(
            "the file operation did not finish: {e}"
        ))),
    }
}

/// `true, nil` or `false, err`.
fn done(lua: &Lua, result: Result<()>) -> mlua::Result<(LuaValue, LuaValue)> {
    boolean(lua, result.map(|()| true))
}

/// `flag, nil` or `false, err`.
fn boolean(lua: &Lua, result: Result<bool>) -> mlua::Result<(LuaValue, LuaValue)> {
    match result {
        Ok(flag) => Ok((LuaValue::Boolean(flag), LuaValue::Nil)),
        Err(e) => Ok((LuaValue::Boolean(false), errors::push(lua, e)?)),
    }
}

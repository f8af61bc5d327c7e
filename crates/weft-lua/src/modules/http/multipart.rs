//! `req:parse_multipart(max_memory?)` (reference §2.3) with `multer`, keeping Go's
//! `ParseMultipartForm` memory rules: a file stays in memory while the files read so far
//! fit in `max_memory` (default 32 MiB), else it goes to a temp file (removed when the
//! last Lua reference to it is collected); the values may use `max_memory` + 10 MiB,
//! more is `multipart: message too large`. The whole body is capped by the request's
//! `max_body` and read within its `timeout`.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderName};
use indexmap::IndexMap;
use mlua::{Lua, MetaMethod, Table, UserData, UserDataMethods, Value as LuaValue};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use weft_core::Error;
use weft_http::{BodyError, Exchange};

use super::request::body_error;
use super::string_arg;
use crate::errors;
use crate::modules::stream::{LuaStream, ReadFuture, Source};

/// `max_memory` when none is given: 32 MiB, as in Wippy.
pub const DEFAULT_MAX_MEMORY: u64 = 32 << 20;

/// What the values may use beyond `max_memory` (Go's 10 MiB).
const EXTRA_VALUE_MEMORY: u64 = 10 << 20;

/// How much a read of a file kept on disk asks for when the caller says "what comes".
const FILE_READ_CHUNK: usize = 64 * 1024;

/// The most one read of a file kept on disk gives (a read returns up to `n` bytes).
const MAX_FILE_READ: usize = 1 << 20;

/// A parsed form: files and values by field, in the order they came.
#[derive(Default)]
pub struct Form {
    files: IndexMap<String, Vec<MultipartFile>>,
    values: IndexMap<String, Vec<Bytes>>,
}

/// An uploaded file (a `MultipartFile` in Lua).
#[derive(Clone)]
pub struct MultipartFile(Arc<FileData>);

struct FileData {
    filename: String,
    size: u64,
    headers: HeaderMap,
    content: Content,
}

enum Content {
    Memory(Bytes),
    Disk(tempfile::NamedTempFile),
}

fn failed(e: impl std::fmt::Display) -> Error {
    Error::internal(format!("failed to parse multipart form: {e}")).with_retryable(Some(false))
}

/// Reads the request's multipart body into a [`Form`].
pub async fn parse(
    ex: &Exchange,
    content_type: Option<&str>,
    max_memory: u64,
    max_body: u64,
    timeout: Duration,
) -> Result<Form, Error> {
    let ct = content_type.unwrap_or("");
    let is_multipart = ct
        .get(..19)
        .is_some_and(|p| p.eq_ignore_ascii_case("multipart/form-data"));
    if !is_multipart {
        return Err(
            Error::invalid("content type is not multipart/form-data").with_retryable(Some(false))
        );
    }
    let boundary = multer::parse_boundary(ct).map_err(failed)?;
    if ex.content_length().is_some_and(|n| n > max_body) {
        return Err(body_error(BodyError::TooLarge));
    }
    let body = ex.take_body().ok_or_else(|| failed(BodyError::Consumed))?;
    let stream = http_body_util::BodyDataStream::new(body);
    let limits = multer::SizeLimit::new().whole_stream(max_body);
    let constraints = multer::Constraints::new().size_limit(limits);
    let mut multipart = multer::Multipart::with_constraints(stream, boundary, constraints);
    match tokio::time::timeout(timeout, read_form(&mut multipart, max_memory)).await {
        Ok(form) => form,
        Err(_) => Err(failed(BodyError::Timeout(timeout.as_millis()))),
    }
}

/// Go's `readForm`: the parts one by one, files kept in memory while they fit.
async fn read_form(
    multipart: &mut multer::Multipart<'static>,
    max_memory: u64,
) -> Result<Form, Error> {
    let mut form = Form::default();
    let mut file_memory = max_memory;
    let mut value_memory = max_memory.saturating_add(EXTRA_VALUE_MEMORY);
    while let Some(mut field) = multipart.next_field().await.map_err(multer_error)? {
        let Some(name) = field.name().filter(|n| !n.is_empty()).map(str::to_string) else {
            continue;
        };
        let filename = field
            .file_name()
            .filter(|f| !f.is_empty())
            .map(str::to_string);
        let Some(filename) = filename else {
            let mut value = BytesMut::new();
            while let Some(chunk) = field.chunk().await.map_err(multer_error)? {
                if chunk.len() as u64 > value_memory {
                    return Err(failed("multipart: message too large"));
                }
                value_memory -= chunk.len() as u64;
                value.extend_from_slice(&chunk);
            }
            form.values.entry(name).or_default().push(value.freeze());
            continue;
        };
        let headers = field.headers().clone();
        let mut memory = BytesMut::new();
        let mut disk: Option<(tempfile::NamedTempFile, tokio::fs::File)> = None;
        let mut size = 0u64;
        while let Some(chunk) = field.chunk().await.map_err(multer_error)? {
            size += chunk.len() as u64;
            if disk.is_none() && size > file_memory {
                let named = tokio::task::spawn_blocking(tempfile::NamedTempFile::new)
                    .await
                    .map_err(failed)?
                    .map_err(failed)?;
                let file = named.as_file().try_clone().map_err(failed)?;
                let mut file = tokio::fs::File::from_std(file);
                file.write_all(&memory).await.map_err(failed)?;
                memory.clear();
                disk = Some((named, file));
            }
            match &mut disk {
                Some((_, file)) => file.write_all(&chunk).await.map_err(failed)?,
                None => memory.extend_from_slice(&chunk),
            }
        }
        let content = match disk {
            Some((named, mut file)) => {
                file.flush().await.map_err(failed)?;
                Content::Disk(named)
            }
            None => {
                file_memory -= size;
                value_memory = value_memory.saturating_sub(size);
                Content::Memory(memory.freeze())
            }
        };
        let file = MultipartFile(Arc::new(FileData {
            filename,
            size,
            headers,
            content,
        }));
        form.files.entry(name).or_default().push(file);
    }
    Ok(form)
}

fn multer_error(e: multer::Error) -> Error {
    match e {
        multer::Error::StreamSizeExceeded { .. } => body_error(BodyError::TooLarge),
        other => failed(other),
    }
}

impl Form {
    /// `{files = {field = {MultipartFile…}}, values = {field = "v" | {"v1", "v2"}}}`.
    pub fn into_lua_table(self, lua: &Lua) -> mlua::Result<Table> {
        let files = lua.create_table()?;
        for (name, list) in self.files {
            let t = lua.create_table_with_capacity(list.len(), 0)?;
            for (i, file) in list.into_iter().enumerate() {
                t.raw_set(i + 1, file)?;
            }
            files.raw_set(name, t)?;
        }
        let values = lua.create_table()?;
        for (name, mut list) in self.values {
            if list.len() == 1 {
                values.raw_set(name, lua.create_string(list.remove(0))?)?;
                continue;
            }
            let t = lua.create_table_with_capacity(list.len(), 0)?;
            for (i, v) in list.into_iter().enumerate() {
                t.raw_set(i + 1, lua.create_string(v)?)?;
            }
            values.raw_set(name, t)?;
        }
        let form = lua.create_table()?;
        form.raw_set("files", files)?;
        form.raw_set("values", values)?;
        Ok(form)
    }
}

impl UserData for MultipartFile {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("name", |_, this, ()| {
            Ok((this.0.filename.clone(), LuaValue::Nil))
        });
        methods.add_method("size", |_, this, ()| {
            Ok((
                i64::try_from(this.0.size).unwrap_or(i64::MAX),
                LuaValue::Nil,
            ))
        });
        methods.add_method("header", |lua, this, name: LuaValue| {
            let name = string_arg(1, "header", &name)?;
            let value = HeaderName::from_bytes(&name)
                .ok()
                .and_then(|n| this.0.headers.get(n));
            match value {
                Some(v) => Ok(LuaValue::String(lua.create_string(v.as_bytes())?)),
                None => Ok(LuaValue::Nil),
            }
        });
        methods.add_async_method("stream", |lua, this, ()| async move {
            let stream = match &this.0.content {
                Content::Memory(bytes) => LuaStream::new(MemorySource(bytes.clone(), this.0.size)),
                Content::Disk(named) => match tokio::fs::File::open(named.path()).await {
                    Ok(file) => LuaStream::new(DiskSource {
                        file,
                        data: this.0.clone(),
                    }),
                    Err(e) => {
                        tracing::debug!(error = %e, "cannot open a spilled multipart file");
                        let err =
                            Error::internal("failed to open file").with_retryable(Some(false));
                        return errors::fail(&lua, err);
                    }
                },
            };
            Ok((
                LuaValue::UserData(lua.create_userdata(stream)?),
                LuaValue::Nil,
            ))
        });
        methods.add_meta_method(MetaMethod::ToString, |_, this, ()| {
            Ok(format!(
                "http.MultipartFile{{name={}, size={}}}",
                this.0.filename, this.0.size
            ))
        });
    }
}

/// A file kept in memory, as a stream source: what is left to read, and the size.
struct MemorySource(Bytes, u64);

impl Source for MemorySource {
    fn read(&mut self, max: usize) -> ReadFuture<'_> {
        let n = if max == 0 {
            self.0.len()
        } else {
            max.min(self.0.len())
        };
        let data = (n > 0).then(|| self.0.split_to(n));
        Box::pin(async move { Ok(data) })
    }

    fn size(&self) -> Option<u64> {
        Some(self.1)
    }
}

/// A file kept on disk, as a stream source (it keeps the temp file alive).
struct DiskSource {
    file: tokio::fs::File,
    data: Arc<FileData>,
}

impl Source for DiskSource {
    fn read(&mut self, max: usize) -> ReadFuture<'_> {
        Box::pin(async move {
            let want = if max == 0 {
                FILE_READ_CHUNK
            } else {
                max.min(MAX_FILE_READ)
            };
            let mut buf = vec![0; want];
            let n = self.file.read(&mut buf).await.map_err(|e| {
                Error::internal(format!("read failure: {e}")).with_retryable(Some(false))
            })?;
            if n == 0 {
                return Ok(None);
            }
            buf.truncate(n);
            Ok(Some(Bytes::from(buf)))
        })
    }

    fn size(&self) -> Option<u64> {
        Some(self.data.size)
    }
}

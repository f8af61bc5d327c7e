//! Environment variables (reference §2.4): the `env.storage.*` kinds that hold values and
//! the `env.variable` kind, a named handle on one key of a storage.
//!
//! Storages:
//! - `env.storage.memory`: a volatile map;
//! - `env.storage.file`: a `.env` file (`KEY=value`, `#` comments, blank lines, an
//!   optional `export ` prefix, single- or double-quoted values); a write rewrites the
//!   file atomically, keeping its other lines;
//! - `env.storage.os`: the process environment, read-only;
//! - `env.storage.static`: `values: {K: V}` from the entry, read-only;
//! - `env.storage.router`: `storages: [ids]`; reads try each in order (the first non-empty
//!   value wins), writes go to the first.
//!
//! [`EnvRegistry::lookup`] resolves a public name or an id the way the reference
//! describes; an empty value counts as unset, and then the variable's `default` applies
//! (a weft decision: Wippy skips the default on this path).

use std::collections::HashMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::SystemTime;

use parking_lot::{Mutex, RwLock};
use serde::Deserialize;
use weft_core::{BoxFuture, EntryId, Error, Map, Result, Value};
use weft_registry::{Entry, KindHandler};

use crate::Runtime;

/// The kinds [`EnvHandler`] accepts.
pub const KINDS: [&str; 6] = [
    "env.storage.memory",
    "env.storage.file",
    "env.storage.os",
    "env.storage.static",
    "env.storage.router",
    "env.variable",
];

/// Where variable values live.
pub trait EnvStorage: Send + Sync {
    /// The value stored under `key` (`None` when absent).
    fn get(&self, key: &str) -> Result<Option<String>>;
    /// Stores `value` under `key`; a read-only storage fails with [`read_only`].
    fn set(&self, key: &str, value: &str) -> Result<()>;
    /// True when every [`set`](Self::set) fails.
    fn is_read_only(&self) -> bool {
        false
    }
}

/// The error of a write to something read-only (`what` names it); kind Invalid.
pub fn read_only(what: impl fmt::Display) -> Error {
    Error::invalid(format!("{what} is read-only"))
}

/// `env.storage.memory`: a volatile map.
#[derive(Default)]
pub struct MemoryStorage {
    values: RwLock<HashMap<String, String>>,
}

impl EnvStorage for MemoryStorage {
    fn get(&self, key: &str) -> Result<Option<String>> {
        Ok(self.values.read().get(key).cloned())
    }

    fn set(&self, key: &str, value: &str) -> Result<()> {
        self.values
            .write()
            .insert(key.to_string(), value.to_string());
        Ok(())
    }
}

/// `env.storage.os`: the process environment, read-only.
pub struct OsStorage {
    id: EntryId,
}

impl OsStorage {
    /// The OS storage of entry `id`.
    pub fn new(id: EntryId) -> OsStorage {
        OsStorage { id }
    }
}

impl EnvStorage for OsStorage {
    fn get(&self, key: &str) -> Result<Option<String>> {
        // Names the OS cannot hold are never set (and must not reach getenv).
        if key.is_empty() || key.contains(['=', '\0']) {
            return Ok(None);
        }
        match std::env::var(key) {
            Ok(v) => Ok(Some(v)),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => Err(Error::invalid(format!(
                "OS environment variable {key} is not valid UTF-8"
            ))),
        }
    }

    fn set(&self, _key: &str, _value: &str) -> Result<()> {
        Err(read_only(format_args!("env storage {}", self.id)))
    }

    fn is_read_only(&self) -> bool {
        true
    }
}

/// `env.storage.static`: fixed values from the entry, read-only.
pub struct StaticStorage {
    id: EntryId,
    values: HashMap<String, String>,
}

impl StaticStorage {
    /// A static storage of entry `id` holding `values`.
    pub fn new(id: EntryId, values: HashMap<String, String>) -> StaticStorage {
        StaticStorage { id, values }
    }
}

impl EnvStorage for StaticStorage {
    fn get(&self, key: &str) -> Result<Option<String>> {
        Ok(self.values.get(key).cloned())
    }

    fn set(&self, _key: &str, _value: &str) -> Result<()> {
        Err(read_only(format_args!("env storage {}", self.id)))
    }

    fn is_read_only(&self) -> bool {
        true
    }
}

/// `env.storage.router`: reads try each storage in order, writes go to the first.
pub struct RouterStorage {
    storages: Vec<Arc<dyn EnvStorage>>,
}

impl RouterStorage {
    /// A router over `storages`, which must not be empty.
    pub fn new(storages: Vec<Arc<dyn EnvStorage>>) -> Result<RouterStorage> {
        if storages.is_empty() {
            return Err(Error::invalid("a router needs at least one storage"));
        }
        Ok(RouterStorage { storages })
    }
}

impl EnvStorage for RouterStorage {
    fn get(&self, key: &str) -> Result<Option<String>> {
        for storage in &self.storages {
            match storage.get(key)? {
                Some(v) if !v.is_empty() => return Ok(Some(v)),
                _ => {}
            }
        }
        Ok(None)
    }

    fn set(&self, key: &str, value: &str) -> Result<()> {
        match self.storages.first() {
            Some(first) => first.set(key, value),
            None => Err(Error::internal("router without storages")),
        }
    }

    fn is_read_only(&self) -> bool {
        self.storages.first().is_none_or(|s| s.is_read_only())
    }
}

/// `env.storage.file`: a `.env` file, cached and re-read when it changes on disk.
pub struct FileStorage {
    id: EntryId,
    path: PathBuf,
    file_mode: u32,
    state: Mutex<FileState>,
}

/// What was last read from the file, and the file's size and mtime then.
#[derive(Default)]
struct FileState {
    values: HashMap<String, String>,
    stamp: Option<(SystemTime, u64)>,
}

impl FileStorage {
    /// A storage over the existing file `path`; new versions are written with `file_mode`.
    pub fn open(id: EntryId, path: PathBuf, file_mode: u32) -> Result<FileStorage> {
        let storage = FileStorage {
            id,
            path,
            file_mode,
            state: Mutex::new(FileState::default()),
        };
        storage.refresh(&mut storage.state.lock())?;
        Ok(storage)
    }

    /// The file's host path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Re-reads the file when its size or mtime changed since the last read.
    fn refresh(&self, state: &mut FileState) -> Result<()> {
        let meta = match std::fs::metadata(&self.path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                state.values.clear();
                state.stamp = None;
                return Ok(());
            }
            Err(e) => return Err(self.io_error("read", &e)),
        };
        let stamp = (
            meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            meta.len(),
        );
        if state.stamp == Some(stamp) {
            return Ok(());
        }
        let text = std::fs::read_to_string(&self.path).map_err(|e| self.io_error("read", &e))?;
        state.values = parse_dotenv(&text);
        state.stamp = Some(stamp);
        Ok(())
    }

    fn io_error(&self, what: &str, e: &std::io::Error) -> Error {
        Error::internal(format!(
            "env storage {}: cannot {what} {}: {e}",
            self.id,
            self.path.display()
        ))
    }

    /// Writes `text` to a temporary file next to the target and renames it over it.
    fn write_atomically(&self, text: &str) -> Result<()> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let dir = self.path.parent().unwrap_or_else(|| Path::new("."));
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "env".to_string());
        let tmp = dir.join(format!(
            ".{name}.{}.{}.tmp",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let written = (|| {
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)?;
            set_mode(&tmp, self.file_mode)?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
            std::fs::rename(&tmp, &self.path)
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(self.io_error("write", &e));
        }
        Ok(())
    }
}

impl EnvStorage for FileStorage {
    fn get(&self, key: &str) -> Result<Option<String>> {
        let mut state = self.state.lock();
        self.refresh(&mut state)?;
        Ok(state.values.get(key).cloned())
    }

    fn set(&self, key: &str, value: &str) -> Result<()> {
        check_file_key(key)?;
        let mut state = self.state.lock();
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(self.io_error("read", &e)),
        };
        let text = rewrite_dotenv(&text, key, value);
        self.write_atomically(&text)?;
        state.values = parse_dotenv(&text);
        state.stamp = std::fs::metadata(&self.path)
            .ok()
            .map(|m| (m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()));
        Ok(())
    }
}

/// Keys a `.env` line can hold.
fn check_file_key(key: &str) -> Result<()> {
    if key.is_empty()
        || key.starts_with('#')
        || key
            .chars()
            .any(|c| c == '=' || c.is_whitespace() || c.is_control())
    {
        return Err(Error::invalid(format!(
            "{key:?} cannot be a key of a .env file (no spaces, '=' or control characters, no leading '#')"
        )));
    }
    Ok(())
}

/// Parses `.env` text; lines that are not `KEY=value` are ignored, a later key wins.
pub fn parse_dotenv(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(parse_line)
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}

/// The key and value of one `.env` line.
fn parse_line(line: &str) -> Option<(&str, String)> {
    let (_, key, raw) = split_line(line)?;
    Some((key, parse_value(raw)))
}

/// Whether an assignment line has the `export ` prefix, its key and its raw value text.
fn split_line(line: &str) -> Option<(bool, &str, &str)> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let unexported = line
        .strip_prefix("export")
        .filter(|rest| rest.starts_with([' ', '\t']))
        .map(str::trim_start);
    let (key, raw) = unexported.unwrap_or(line).split_once('=')?;
    let key = key.trim();
    if key.is_empty() {
        return None;
    }
    Some((unexported.is_some(), key, raw.trim_start()))
}

/// A value: `"..."` with `\n \r \t \" \\` escapes, `'...'` literally, else the text up to
/// a ` #` comment, trimmed.
fn parse_value(raw: &str) -> String {
    if let Some(rest) = raw.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = rest.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => return out,
                '\\' => match chars.next() {
                    Some('n') => out.push('\n'),
                    Some('r') => out.push('\r'),
                    Some('t') => out.push('\t'),
                    Some(other) => out.push(other),
                    None => out.push('\\'),
                },
                c => out.push(c),
            }
        }
        // No closing quote: the text as written.
        return raw.trim_end().to_string();
    }
    if let Some(rest) = raw.strip_prefix('\'')
        && let Some(end) = rest.find('\'')
    {
        return rest[..end].to_string();
    }
    let cut = raw
        .char_indices()
        .find(|&(i, c)| c == '#' && i > 0 && raw[..i].ends_with([' ', '\t']))
        .map_or(raw.len(), |(i, _)| i);
    raw[..cut].trim_end().to_string()
}

/// `value` as `.env` text: bare when it is plain, else double-quoted with escapes.
fn format_value(value: &str) -> String {
    let plain = !value.is_empty()
        && !value
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '#' | '"' | '\'' | '\\'));
    if plain {
        return value.to_string();
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `text` with `key` set to `value`: its first line is replaced (keeping an `export `
/// prefix), later lines of the key dropped, or a line appended; other lines are kept.
fn rewrite_dotenv(text: &str, key: &str, value: &str) -> String {
    let mut out = String::with_capacity(text.len() + key.len() + value.len() + 2);
    let mut done = false;
    for line in text.lines() {
        match split_line(line) {
            Some((exported, k, _)) if k == key => {
                if !done {
                    let export = if exported { "export " } else { "" };
                    out.push_str(&format!("{export}{key}={}\n", format_value(value)));
                    done = true;
                }
            }
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    if !done {
        out.push_str(&format!("{key}={}\n", format_value(value)));
    }
    out
}

/// One `env.variable`: a named handle on one key of a storage.
pub struct EnvVariable {
    id: EntryId,
    public: String,
    key: String,
    storage: Arc<dyn EnvStorage>,
    default: Option<String>,
    readonly: bool,
}

impl EnvVariable {
    /// A variable `id` on `key` of `storage`; its public name is `variable` or the full id.
    pub fn new(
        id: EntryId,
        variable: Option<String>,
        storage: Arc<dyn EnvStorage>,
        default: Option<String>,
        readonly: bool,
    ) -> EnvVariable {
        let key = variable.unwrap_or_else(|| id.as_str().to_string());
        EnvVariable {
            public: key.clone(),
            key,
            id,
            storage,
            default,
            readonly,
        }
    }

    /// The entry id.
    pub fn id(&self) -> &EntryId {
        &self.id
    }

    /// The storage key (the `variable` field, else the full id).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The default applied when the storage has no (or an empty) value.
    pub fn default_value(&self) -> Option<&str> {
        self.default.as_deref()
    }

    /// True for `readonly: true`.
    pub fn is_readonly(&self) -> bool {
        self.readonly
    }

    /// The value: the storage's unless empty, else the default (empty counts as unset).
    pub fn value(&self) -> Result<Option<String>> {
        let stored = self
            .storage
            .get(&self.key)
            .map_err(|e| e.context(format!("env variable {}", self.id)))?;
        Ok(stored
            .filter(|v| !v.is_empty())
            .or_else(|| self.default.clone().filter(|d| !d.is_empty())))
    }

    /// Writes the value; a read-only variable or storage fails (Invalid) naming `name`.
    pub fn set(&self, name: &str, value: &str) -> Result<()> {
        if self.readonly {
            return Err(read_only(format_args!("env variable {name}")));
        }
        self.storage
            .set(&self.key, value)
            .map_err(|e| e.context(format!("cannot set env variable {name}")))
    }
}

/// The registered storages and variables.
#[derive(Default)]
pub struct EnvRegistry {
    storages: RwLock<HashMap<String, Arc<dyn EnvStorage>>>,
    variables: RwLock<HashMap<String, Arc<EnvVariable>>>,
    public: RwLock<HashMap<String, Arc<EnvVariable>>>,
}

impl EnvRegistry {
    /// Registers a storage under its full entry id (replacing one of the same id).
    pub fn register_storage(&self, id: &EntryId, storage: Arc<dyn EnvStorage>) {
        self.storages
            .write()
            .insert(id.as_str().to_string(), storage);
    }

    /// The storage registered as `id` (the full id string).
    pub fn storage(&self, id: &str) -> Option<Arc<dyn EnvStorage>> {
        self.storages.read().get(id).cloned()
    }

    /// Registers a variable by id, and by public name unless an earlier variable claimed
    /// that name (the first keeps it, as in Wippy).
    pub fn register_variable(&self, variable: EnvVariable) {
        let variable = Arc::new(variable);
        let mut public = self.public.write();
        match public.get(&variable.public) {
            // Another variable claimed the name first; a re-registered one replaces itself.
            Some(first) if first.id != variable.id => {}
            _ => {
                public.insert(variable.public.clone(), Arc::clone(&variable));
            }
        }
        drop(public);
        self.variables
            .write()
            .insert(variable.id.as_str().to_string(), variable);
    }

    /// Resolves `name_or_id` (reference §2.4): the public-name index, then — for a name
    /// without a namespace — `<frame_namespace>:<name>`, then the id itself.
    pub fn variable(
        &self,
        name_or_id: &str,
        frame_namespace: Option<&str>,
    ) -> Option<Arc<EnvVariable>> {
        if let Some(v) = self.public.read().get(name_or_id) {
            return Some(Arc::clone(v));
        }
        let variables = self.variables.read();
        let bare = !matches!(name_or_id.find(':'), Some(i) if i > 0);
        if bare && let Some(ns) = frame_namespace.filter(|ns| !ns.is_empty()) {
            let name = name_or_id.trim_start_matches(':');
            if let Some(v) = variables.get(&format!("{ns}:{name}")) {
                return Some(Arc::clone(v));
            }
        }
        variables.get(name_or_id).cloned()
    }

    /// The value of a variable (WASI env mapping): `Ok(None)` for an unknown variable or
    /// one with no value and no default; an empty value counts as unset.
    pub fn lookup(
        &self,
        name_or_id: &str,
        frame_namespace: Option<&str>,
    ) -> Result<Option<String>> {
        match self.variable(name_or_id, frame_namespace) {
            Some(v) => v.value(),
            None => Ok(None),
        }
    }

    /// The value of a variable (Lua `env.get`): as [`lookup`](Self::lookup), but an empty
    /// name is Invalid and an unknown variable is NotFound.
    pub fn get(&self, name: &str, frame_namespace: Option<&str>) -> Result<Option<String>> {
        self.known(name, frame_namespace)?.value()
    }

    /// Sets a variable (Lua `env.set`): an empty name is Invalid, an unknown variable
    /// NotFound, a `readonly` variable or read-only storage Invalid naming the variable.
    pub fn set(&self, name: &str, value: &str, frame_namespace: Option<&str>) -> Result<()> {
        self.known(name, frame_namespace)?.set(name, value)
    }

    fn known(&self, name: &str, frame_namespace: Option<&str>) -> Result<Arc<EnvVariable>> {
        if name.is_empty() {
            return Err(Error::invalid("env variable name is empty"));
        }
        self.variable(name, frame_namespace)
            .ok_or_else(|| Error::not_found(format!("env variable not found: {name}")))
    }
}

/// The kind handler of the env storages and `env.variable`.
pub struct EnvHandler(Weak<Runtime>);

impl EnvHandler {
    /// A handler registering into `rt`.
    pub fn new(rt: &Arc<Runtime>) -> EnvHandler {
        EnvHandler(Arc::downgrade(rt))
    }
}

impl KindHandler for EnvHandler {
    fn kinds(&self) -> &[&'static str] {
        &KINDS
    }

    fn apply(&self, entry: Arc<Entry>) -> BoxFuture<Result<()>> {
        let result = match self.0.upgrade() {
            Some(rt) => register(&rt, &entry),
            None => Err(Error::internal("runtime is gone")),
        };
        Box::pin(async move { result })
    }
}

/// The fields of an `env.storage.file` entry.
#[derive(Deserialize, Default)]
#[serde(default)]
struct FileConfig {
    file_path: String,
    auto_create: bool,
    file_mode: Option<Value>,
    dir_mode: Option<Value>,
}

/// The fields of an `env.storage.static` entry.
#[derive(Deserialize, Default)]
#[serde(default)]
struct StaticConfig {
    values: Option<Map>,
}

/// The fields of an `env.storage.router` entry.
#[derive(Deserialize, Default)]
#[serde(default)]
struct RouterConfig {
    storages: Vec<String>,
}

/// The fields of an `env.variable` entry.
#[derive(Deserialize, Default)]
#[serde(default)]
struct VariableConfig {
    storage: String,
    variable: Option<String>,
    default: Option<Value>,
    readonly: bool,
}

/// Validates one env entry and registers it into `rt.env`.
fn register(rt: &Runtime, entry: &Entry) -> Result<()> {
    let env = &rt.env;
    let id = &entry.id;
    match entry.kind.as_str() {
        "env.storage.memory" => env.register_storage(id, Arc::new(MemoryStorage::default())),
        "env.storage.os" => env.register_storage(id, Arc::new(OsStorage::new(id.clone()))),
        "env.storage.static" => {
            let config: StaticConfig = entry.decode().map_err(Error::from)?;
            let mut values = HashMap::new();
            for (key, value) in config.values.unwrap_or_default() {
                let text =
                    scalar_text(&value).map_err(|e| e.in_field(format_args!("values.{key}")))?;
                values.insert(key, text);
            }
            env.register_storage(id, Arc::new(StaticStorage::new(id.clone(), values)));
        }
        "env.storage.file" => {
            let storage = file_storage(&rt.root, entry)?;
            env.register_storage(id, Arc::new(storage));
        }
        "env.storage.router" => {
            let config: RouterConfig = entry.decode().map_err(Error::from)?;
            if config.storages.is_empty() {
                return Err(
                    Error::invalid("storages must list at least one storage").in_field("storages")
                );
            }
            let mut storages = Vec::with_capacity(config.storages.len());
            for (i, reference) in config.storages.iter().enumerate() {
                let target = resolve_storage(env, entry, reference)
                    .map_err(|e| e.in_field(format_args!("storages[{i}]")))?;
                storages.push(target);
            }
            env.register_storage(id, Arc::new(RouterStorage::new(storages)?));
        }
        "env.variable" => {
            let config: VariableConfig = entry.decode().map_err(Error::from)?;
            if let Some(name) = &config.variable {
                check_variable_name(name).map_err(|e| e.in_field("variable"))?;
            }
            let default = match &config.default {
                None | Some(Value::Nil) => None,
                Some(v) => Some(scalar_text(v).map_err(|e| e.in_field("default"))?),
            };
            let storage =
                resolve_storage(env, entry, &config.storage).map_err(|e| e.in_field("storage"))?;
            env.register_variable(EnvVariable::new(
                id.clone(),
                config.variable,
                storage,
                default,
                config.readonly,
            ));
        }
        other => return Err(Error::invalid(format!("not an env kind: {other}"))),
    }
    Ok(())
}

/// The storage a `storage`/`storages` reference names (a bare name is in the entry's
/// namespace); NotFound (so the boot retries the entry later) while it is not registered.
fn resolve_storage(
    env: &EnvRegistry,
    entry: &Entry,
    reference: &str,
) -> Result<Arc<dyn EnvStorage>> {
    let reference = reference.trim();
    if reference.is_empty() {
        return Err(Error::invalid("a storage id is required"));
    }
    let target = EntryId::resolve(reference, entry.id.ns());
    if target == entry.id {
        return Err(Error::invalid(format!(
            "{target} cannot use itself as a storage"
        )));
    }
    env.storage(target.as_str())
        .ok_or_else(|| Error::not_found(format!("env storage not found: {target}")))
}

/// A public variable name: letters, digits and `_` (Wippy's rule).
fn check_variable_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::invalid(
            "variable name is empty (leave it out to use the entry id)",
        ));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(Error::invalid(format!(
            "variable name {name:?} may only have letters, digits and '_'"
        )));
    }
    Ok(())
}

/// A scalar YAML value as text (`8080` → `"8080"`); containers are Invalid.
fn scalar_text(value: &Value) -> Result<String> {
    match value {
        Value::Str(_) => match value.as_str() {
            Some(s) => Ok(s.to_string()),
            None => Err(Error::invalid("must be UTF-8 text")),
        },
        Value::Bool(_) | Value::Int(_) | Value::Float(_) => Ok(value.to_display_string()),
        Value::Nil => Ok(String::new()),
        other => Err(Error::invalid(format!(
            "must be a string, number or boolean, got {}",
            other.type_name()
        ))),
    }
}

/// A permission mode: an octal string (`"0600"`, `"0o600"`) or a YAML integer (`0o600`).
fn parse_mode(value: Option<&Value>, default: u32, field: &str) -> Result<u32> {
    let bad = |shown: String| {
        Error::invalid(format!(
            "{field} must be an octal mode like \"0600\", got {shown}"
        ))
        .in_field(field)
    };
    let mode = match value {
        None | Some(Value::Nil) => return Ok(default),
        Some(Value::Int(n)) => u32::try_from(*n).map_err(|_| bad(n.to_string()))?,
        Some(v @ Value::Str(_)) => {
            let text = v.as_str().unwrap_or_default().trim();
            let digits = text.strip_prefix("0o").unwrap_or(text);
            if digits.is_empty() {
                return Err(bad(format!("{text:?}")));
            }
            u32::from_str_radix(digits, 8).map_err(|_| bad(format!("{text:?}")))?
        }
        Some(other) => return Err(bad(other.type_name().to_string())),
    };
    if mode > 0o7777 {
        return Err(bad(format!("{mode:#o}")));
    }
    Ok(mode)
}

/// Validates an `env.storage.file` entry and opens (or creates) its file.
fn file_storage(root: &Path, entry: &Entry) -> Result<FileStorage> {
    let config: FileConfig = entry.decode().map_err(Error::from)?;
    if config.file_path.trim().is_empty() {
        return Err(Error::invalid("file_path is required").in_field("file_path"));
    }
    let file_mode = parse_mode(config.file_mode.as_ref(), 0o644, "file_mode")?;
    let dir_mode = parse_mode(config.dir_mode.as_ref(), 0o755, "dir_mode")?;
    let path = Path::new(&config.file_path);
    let path = if path.is_absolute() {
        path.to_path_buf()
    } else {
        root.join(path)
    };
    if path.is_dir() {
        return Err(
            Error::invalid(format!("{} is a directory", path.display())).in_field("file_path")
        );
    }
    if !path.exists() {
        if !config.auto_create {
            return Err(Error::invalid(format!(
                "file {} does not exist (set auto_create: true to create it)",
                path.display()
            ))
            .in_field("file_path"));
        }
        create_file(&path, file_mode, dir_mode).map_err(|e| {
            Error::internal(format!("cannot create {}: {e}", path.display())).in_field("file_path")
        })?;
    }
    FileStorage::open(entry.id.clone(), path, file_mode).map_err(|e| e.in_field("file_path"))
}

/// Creates an empty file with `file_mode`, and its missing directories with `dir_mode`.
fn create_file(path: &Path, file_mode: u32, dir_mode: u32) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.is_dir()
    {
        create_dirs(dir, dir_mode)?;
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(_) => set_mode(path, file_mode),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(unix)]
fn create_dirs(dir: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(mode)
        .create(dir)
}

#[cfg(not(unix))]
fn create_dirs(dir: &Path, _mode: u32) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

/// Sets the exact permission bits (the umask does not apply).
#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

impl fmt::Debug for EnvVariable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvVariable")
            .field("id", &self.id)
            .field("key", &self.key)
            .field("readonly", &self.readonly)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use weft_core::ErrorKind;
    use weft_registry::Config;

    fn rt(dir: &Path) -> Arc<Runtime> {
        Runtime::new(dir.to_path_buf(), Config::default())
    }

    fn entry(id: &str, kind: &str, data: &str) -> Entry {
        let mut e = Entry::new(EntryId::parse(id).unwrap(), kind);
        e.data = serde_json::from_str(data).unwrap();
        e
    }

    fn apply(rt: &Runtime, id: &str, kind: &str, data: &str) -> Result<()> {
        register(rt, &entry(id, kind, data))
    }

    fn ok(rt: &Runtime, id: &str, kind: &str, data: &str) {
        if let Err(e) = apply(rt, id, kind, data) {
            panic!("{id}: {e}");
        }
    }

    fn field_error(rt: &Runtime, kind: &str, data: &str) -> (ErrorKind, String) {
        let e = apply(rt, "t:x", kind, data).expect_err("must be rejected");
        (e.kind(), e.to_string())
    }

    #[test]
    fn memory_storage_round_trips() {
        let d = tempfile::tempdir().unwrap();
        let rt = rt(d.path());
        ok(&rt, "t:mem", "env.storage.memory", "{}");
        ok(
            &rt,
            "t:v",
            "env.variable",
            r#"{"storage":"t:mem","variable":"APP_MODE"}"#,
        );
        assert_eq!(rt.env.get("APP_MODE", None).unwrap(), None);
        rt.env.set("APP_MODE", "prod", None).unwrap();
        assert_eq!(
            rt.env.get("APP_MODE", None).unwrap().as_deref(),
            Some("prod")
        );
        let mem = rt.env.storage("t:mem").unwrap();
        assert_eq!(mem.get("APP_MODE").unwrap().as_deref(), Some("prod"));
    }

    #[test]
    fn os_storage_reads_the_process_environment_and_is_read_only() {
        let d = tempfile::tempdir().unwrap();
        let rt = rt(d.path());
        ok(&rt, "t:os", "env.storage.os", "{}");
        ok(
            &rt,
            "t:path",
            "env.variable",
            r#"{"storage":"os","variable":"PATH"}"#,
        );
        ok(&rt, "t:odd", "env.variable", r#"{"storage":"os"}"#);
        let os = rt.env.storage("t:os").unwrap();
        assert_eq!(os.get("PATH").unwrap(), std::env::var("PATH").ok());
        for key in ["", "A=B", "NUL\0"] {
            assert_eq!(os.get(key).unwrap(), None, "{key:?}");
        }
        assert_eq!(
            rt.env.lookup("PATH", None).unwrap(),
            std::env::var("PATH").ok()
        );
        // The key of a variable without `variable` is its id: never an OS name.
        assert_eq!(rt.env.lookup("t:odd", None).unwrap(), None);
        let e = rt.env.set("PATH", "/x", None).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Invalid);
        assert!(e.to_string().contains("env variable PATH"), "{e}");
        let e = os.set("PATH", "/x").unwrap_err();
        assert_eq!(e.to_string(), "env storage t:os is read-only");
    }

    #[test]
    fn static_storage_holds_scalars_and_is_read_only() {
        let d = tempfile::tempdir().unwrap();
        let rt = rt(d.path());
        ok(
            &rt,
            "t:st",
            "env.storage.static",
            r#"{"values":{"HOST":"api.example.com","PORT":8080,"DEBUG":true}}"#,
        );
        let st = rt.env.storage("t:st").unwrap();
        assert_eq!(st.get("HOST").unwrap().as_deref(), Some("api.example.com"));
        assert_eq!(st.get("PORT").unwrap().as_deref(), Some("8080"));
        assert_eq!(st.get("DEBUG").unwrap().as_deref(), Some("true"));
        assert_eq!(st.get("NOPE").unwrap(), None);
        assert!(st.is_read_only());
        assert_eq!(st.set("HOST", "x").unwrap_err().kind(), ErrorKind::Invalid);
        let (kind, text) = field_error(&rt, "env.storage.static", r#"{"values":{"A":[1]}}"#);
        assert_eq!(kind, ErrorKind::Invalid);
        assert_eq!(
            text,
            "field values.A: must be a string, number or boolean, got array"
        );
    }

    #[test]
    fn router_reads_in_order_and_writes_to_the_first() {
        let d = tempfile::tempdir().unwrap();
        let rt = rt(d.path());
        ok(&rt, "t.env:mem", "env.storage.memory", "{}");
        ok(
            &rt,
            "t.env:st",
            "env.storage.static",
            r#"{"values":{"A":"static-a","B":"static-b","E":""}}"#,
        );
        ok(&rt, "t.env:mem2", "env.storage.memory", "{}");
        ok(
            &rt,
            "t.env:router",
            "env.storage.router",
            r#"{"storages":["mem","t.env:st","mem2"]}"#,
        );
        let router = rt.env.storage("t.env:router").unwrap();
        let mem = rt.env.storage("t.env:mem").unwrap();
        let mem2 = rt.env.storage("t.env:mem2").unwrap();
        mem.set("A", "mem-a").unwrap();
        mem.set("B", "").unwrap();
        mem2.set("E", "mem2-e").unwrap();
        assert_eq!(router.get("A").unwrap().as_deref(), Some("mem-a"));
        // An empty value is passed over: the next storage answers.
        assert_eq!(router.get("B").unwrap().as_deref(), Some("static-b"));
        assert_eq!(router.get("E").unwrap().as_deref(), Some("mem2-e"));
        assert_eq!(router.get("Z").unwrap(), None);
        router.set("Z", "written").unwrap();
        assert_eq!(mem.get("Z").unwrap().as_deref(), Some("written"));
        assert_eq!(mem2.get("Z").unwrap(), None);
        assert!(!router.is_read_only());

        ok(
            &rt,
            "t.env:ro",
            "env.storage.router",
            r#"{"storages":["t.env:st","t.env:mem"]}"#,
        );
        let ro = rt.env.storage("t.env:ro").unwrap();
        assert!(ro.is_read_only());
        assert_eq!(ro.set("A", "x").unwrap_err().kind(), ErrorKind::Invalid);
    }

    #[test]
    fn missing_storages_defer_and_bad_references_are_rejected() {
        let d = tempfile::tempdir().unwrap();
        let rt = rt(d.path());
        let e = apply(&rt, "t:v", "env.variable", r#"{"storage":"t:later"}"#).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
        assert_eq!(
            e.to_string(),
            "field storage: env storage not found: t:later"
        );
        let e = apply(
            &rt,
            "t:r",
            "env.storage.router",
            r#"{"storages":["later"]}"#,
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
        assert_eq!(
            e.to_string(),
            "field storages[0]: env storage not found: t:later"
        );
        // Once the storage exists, both register.
        ok(&rt, "t:later", "env.storage.memory", "{}");
        ok(&rt, "t:v", "env.variable", r#"{"storage":"t:later"}"#);
        ok(
            &rt,
            "t:r",
            "env.storage.router",
            r#"{"storages":["later"]}"#,
        );

        assert_eq!(
            field_error(&rt, "env.storage.router", r#"{"storages":[]}"#),
            (
                ErrorKind::Invalid,
                "field storages: storages must list at least one storage".into()
            )
        );
        assert_eq!(
            field_error(&rt, "env.storage.router", "{}"),
            (
                ErrorKind::Invalid,
                "field storages: storages must list at least one storage".into()
            )
        );
        assert_eq!(
            field_error(&rt, "env.storage.router", r#"{"storages":["x"]}"#),
            (
                ErrorKind::Invalid,
                "field storages[0]: t:x cannot use itself as a storage".into()
            )
        );
        assert_eq!(
            field_error(&rt, "env.variable", "{}"),
            (
                ErrorKind::Invalid,
                "field storage: a storage id is required".into()
            )
        );
        assert_eq!(
            field_error(
                &rt,
                "env.variable",
                r#"{"storage":"t:later","variable":"BAD-NAME"}"#
            ),
            (
                ErrorKind::Invalid,
                "field variable: variable name \"BAD-NAME\" may only have letters, digits and '_'"
                    .into()
            )
        );
        assert_eq!(
            field_error(
                &rt,
                "env.variable",
                r#"{"storage":"t:later","default":{"a":1}}"#
            ),
            (
                ErrorKind::Invalid,
                "field default: must be a string, number or boolean, got map".into()
            )
        );
        let (kind, text) = field_error(
            &rt,
            "env.variable",
            r#"{"storage":"t:later","readonly":"yes"}"#,
        );
        assert_eq!(kind, ErrorKind::Invalid);
        assert!(text.starts_with("field readonly: invalid type"), "{text}");
    }

    #[test]
    fn lookup_order_public_name_then_frame_namespace_then_id() {
        let d = tempfile::tempdir().unwrap();
        let rt = rt(d.path());
        ok(
            &rt,
            "a:st",
            "env.storage.static",
            r#"{"values":{"PORT":"1","a:key":"a-key","b:key":"b-key","key":"public-key","b:secret":"b-secret"}}"#,
        );
        ok(
            &rt,
            "a:port",
            "env.variable",
            r#"{"storage":"a:st","variable":"PORT"}"#,
        );
        // `a:key` and `b:key` have no public name: their keys are their ids.
        ok(&rt, "a:key", "env.variable", r#"{"storage":"a:st"}"#);
        ok(&rt, "b:key", "env.variable", r#"{"storage":"a:st"}"#);
        ok(&rt, "b:secret", "env.variable", r#"{"storage":"a:st"}"#);
        let env = &rt.env;
        // 1. the public-name index (public names and full ids of unnamed variables).
        assert_eq!(env.lookup("PORT", None).unwrap().as_deref(), Some("1"));
        assert_eq!(env.lookup("PORT", Some("b")).unwrap().as_deref(), Some("1"));
        assert_eq!(
            env.lookup("a:key", Some("b")).unwrap().as_deref(),
            Some("a-key")
        );
        // 2. a bare name in the frame's namespace.
        assert_eq!(
            env.lookup("key", Some("a")).unwrap().as_deref(),
            Some("a-key")
        );
        assert_eq!(
            env.lookup("key", Some("b")).unwrap().as_deref(),
            Some("b-key")
        );
        assert_eq!(
            env.lookup("secret", Some("b")).unwrap().as_deref(),
            Some("b-secret")
        );
        assert_eq!(env.lookup("secret", Some("a")).unwrap(), None);
        assert_eq!(env.lookup("key", None).unwrap(), None);
        // 3. the id (a variable with a public name is reachable by its id too).
        assert_eq!(env.lookup("a:port", None).unwrap().as_deref(), Some("1"));
        assert_eq!(
            env.lookup("a:port", Some("b")).unwrap().as_deref(),
            Some("1")
        );
        // Unknown: Ok(None) for lookup, NotFound for get/set.
        assert_eq!(env.lookup("NOPE", Some("a")).unwrap(), None);
        assert_eq!(
            env.get("NOPE", None).unwrap_err().kind(),
            ErrorKind::NotFound
        );
        assert_eq!(
            env.set("NOPE", "x", None).unwrap_err().kind(),
            ErrorKind::NotFound
        );
        assert_eq!(env.get("", None).unwrap_err().kind(), ErrorKind::Invalid);
        assert_eq!(
            env.set("", "x", None).unwrap_err().kind(),
            ErrorKind::Invalid
        );
    }

    #[test]
    fn the_first_variable_keeps_a_public_name() {
        let d = tempfile::tempdir().unwrap();
        let rt = rt(d.path());
        ok(&rt, "t:m1", "env.storage.memory", "{}");
        ok(&rt, "t:m2", "env.storage.memory", "{}");
        ok(
            &rt,
            "t:first",
            "env.variable",
            r#"{"storage":"m1","variable":"NAME","default":"one"}"#,
        );
        ok(
            &rt,
            "t:second",
            "env.variable",
            r#"{"storage":"m2","variable":"NAME","default":"two"}"#,
        );
        assert_eq!(rt.env.lookup("NAME", None).unwrap().as_deref(), Some("one"));
        assert_eq!(
            rt.env.lookup("t:second", None).unwrap().as_deref(),
            Some("two")
        );
        // Registering the first again replaces it under its name.
        ok(
            &rt,
            "t:first",
            "env.variable",
            r#"{"storage":"m1","variable":"NAME","default":"uno"}"#,
        );
        assert_eq!(rt.env.lookup("NAME", None).unwrap().as_deref(), Some("uno"));
        assert_eq!(
            rt.env.lookup("t:first", None).unwrap().as_deref(),
            Some("uno")
        );
    }

    #[test]
    fn defaults_apply_when_unset_or_empty() {
        let d = tempfile::tempdir().unwrap();
        let rt = rt(d.path());
        ok(&rt, "t:mem", "env.storage.memory", "{}");
        ok(
            &rt,
            "t:port",
            "env.variable",
            r#"{"storage":"mem","variable":"PORT","default":8080}"#,
        );
        ok(
            &rt,
            "t:host",
            "env.variable",
            r#"{"storage":"mem","variable":"HOST","default":""}"#,
        );
        ok(
            &rt,
            "t:none",
            "env.variable",
            r#"{"storage":"mem","variable":"NONE","default":null}"#,
        );
        let env = &rt.env;
        assert_eq!(env.lookup("PORT", None).unwrap().as_deref(), Some("8080"));
        assert_eq!(env.get("PORT", None).unwrap().as_deref(), Some("8080"));
        env.set("PORT", "", None).unwrap();
        assert_eq!(env.lookup("PORT", None).unwrap().as_deref(), Some("8080"));
        env.set("PORT", "9090", None).unwrap();
        assert_eq!(env.lookup("PORT", None).unwrap().as_deref(), Some("9090"));
        // An empty value with an empty (or no) default is unset.
        assert_eq!(env.lookup("HOST", None).unwrap(), None);
        env.set("NONE", "", None).unwrap();
        assert_eq!(env.get("NONE", None).unwrap(), None);
        let v = env.variable("PORT", None).unwrap();
        assert_eq!(
            (v.id().as_str(), v.key(), v.default_value()),
            ("t:port", "PORT", Some("8080"))
        );
    }

    #[test]
    fn readonly_variables_refuse_writes_naming_the_variable() {
        let d = tempfile::tempdir().unwrap();
        let rt = rt(d.path());
        ok(&rt, "t:mem", "env.storage.memory", "{}");
        ok(
            &rt,
            "t:key",
            "env.variable",
            r#"{"storage":"mem","variable":"KEY","readonly":true,"default":"d"}"#,
        );
        let e = rt.env.set("KEY", "x", None).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Invalid);
        assert_eq!(e.to_string(), "env variable KEY is read-only");
        assert!(rt.env.variable("KEY", None).unwrap().is_readonly());
        // Nothing was written.
        assert_eq!(rt.env.storage("t:mem").unwrap().get("KEY").unwrap(), None);
        assert_eq!(rt.env.get("KEY", None).unwrap().as_deref(), Some("d"));

        ok(&rt, "t:st", "env.storage.static", r#"{"values":{"S":"v"}}"#);
        ok(
            &rt,
            "t:s",
            "env.variable",
            r#"{"storage":"st","variable":"S"}"#,
        );
        let e = rt.env.set("S", "x", None).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Invalid);
        assert_eq!(
            e.to_string(),
            "cannot set env variable S: env storage t:st is read-only"
        );
    }

    #[test]
    fn dotenv_parsing_handles_comments_quotes_and_export() {
        let text = "# a comment\n\n  export A=1\nB = two words # trailing comment\nC=\"quoted # not a comment\\n\\\"x\\\"\"\nD='single $x \\n'\nE=\nF=url#frag\nexportG=3\nnot a line\n=novalue\nA=last wins\nH=\"unterminated\n";
        let v = parse_dotenv(text);
        let get = |k: &str| v.get(k).map(String::as_str);
        assert_eq!(get("A"), Some("last wins"));
        assert_eq!(get("B"), Some("two words"));
        assert_eq!(get("C"), Some("quoted # not a comment\n\"x\""));
        assert_eq!(get("D"), Some("single $x \\n"));
        assert_eq!(get("E"), Some(""));
        assert_eq!(get("F"), Some("url#frag"));
        assert_eq!(get("exportG"), Some("3"));
        assert_eq!(get("H"), Some("\"unterminated"));
        assert_eq!(v.len(), 8, "{v:?}");
    }

    #[test]
    fn rewrite_keeps_export_prefixes_only_where_they_were() {
        let text = "export A=1\nexporter=2\nexport=3\n";
        let text = rewrite_dotenv(text, "A", "x");
        let text = rewrite_dotenv(&text, "exporter", "y");
        let text = rewrite_dotenv(&text, "export", "z");
        assert_eq!(text, "export A=x\nexporter=y\nexport=z\n");
    }

    #[test]
    fn dotenv_values_round_trip_through_rewrite() {
        for value in [
            "plain",
            "",
            "two words",
            "a#b",
            "quote\"s",
            "back\\slash",
            "line\nbreak\ttab\r",
            "'single'",
            "ünïcode",
        ] {
            let text = rewrite_dotenv("", "K", value);
            assert_eq!(
                parse_dotenv(&text).get("K").map(String::as_str),
                Some(value),
                "{text:?}"
            );
        }
    }

    #[test]
    fn file_storage_reads_writes_and_keeps_other_lines() {
        let d = tempfile::tempdir().unwrap();
        let rt = rt(d.path());
        std::fs::create_dir(d.path().join("conf")).unwrap();
        let file = d.path().join("conf/app.env");
        std::fs::write(
            &file,
            "# settings\nexport PORT=80\nNAME='weft app'\nPORT=81\n\nOTHER=1\n",
        )
        .unwrap();
        ok(
            &rt,
            "t:file",
            "env.storage.file",
            r#"{"file_path":"conf/app.env"}"#,
        );
        ok(
            &rt,
            "t:port",
            "env.variable",
            r#"{"storage":"file","variable":"PORT"}"#,
        );
        ok(
            &rt,
            "t:name",
            "env.variable",
            r#"{"storage":"file","variable":"NAME"}"#,
        );
        ok(
            &rt,
            "t:new",
            "env.variable",
            r#"{"storage":"file","variable":"NEW"}"#,
        );
        let env = &rt.env;
        assert_eq!(env.get("PORT", None).unwrap().as_deref(), Some("81"));
        assert_eq!(env.get("NAME", None).unwrap().as_deref(), Some("weft app"));
        env.set("PORT", "8080", None).unwrap();
        env.set("NEW", "a value # with hash", None).unwrap();
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "# settings\nexport PORT=8080\nNAME='weft app'\n\nOTHER=1\nNEW=\"a value # with hash\"\n"
        );
        assert_eq!(env.get("PORT", None).unwrap().as_deref(), Some("8080"));
        assert_eq!(
            env.get("NEW", None).unwrap().as_deref(),
            Some("a value # with hash")
        );
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(d.path().join("conf"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["app.env"]);
        // Changes made to the file by someone else are seen.
        std::fs::write(&file, "PORT=9999 # changed\n").unwrap();
        assert_eq!(env.get("PORT", None).unwrap().as_deref(), Some("9999"));
        std::fs::remove_file(&file).unwrap();
        assert_eq!(env.get("PORT", None).unwrap(), None);
        // A write recreates it.
        env.set("PORT", "1", None).unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "PORT=1\n");
        // Keys a .env line cannot hold.
        let storage = rt.env.storage("t:file").unwrap();
        for key in ["", "A B", "A=B", "#A", "A\nB"] {
            assert_eq!(
                storage.set(key, "v").unwrap_err().kind(),
                ErrorKind::Invalid,
                "{key:?}"
            );
        }
    }

    #[test]
    fn file_storage_writes_replace_the_file_atomically() {
        let d = tempfile::tempdir().unwrap();
        let file = d.path().join("a.env");
        std::fs::write(&file, "A=1\n").unwrap();
        let storage = FileStorage::open(EntryId::new("t", "f"), file.clone(), 0o600).unwrap();
        #[cfg(unix)]
        let inode = {
            use std::os::unix::fs::MetadataExt;
            std::fs::metadata(&file).unwrap().ino()
        };
        // A reader holding the old file keeps seeing the old contents.
        let old = std::fs::File::open(&file).unwrap();
        storage.set("B", "2").unwrap();
        assert_eq!(std::io::read_to_string(old).unwrap(), "A=1\n");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "A=1\nB=2\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::{MetadataExt, PermissionsExt};
            let meta = std::fs::metadata(&file).unwrap();
            assert_ne!(
                meta.ino(),
                inode,
                "the file must be replaced, not edited in place"
            );
            assert_eq!(meta.permissions().mode() & 0o7777, 0o600);
        }
        // A write that cannot replace the target fails and leaves no temporary file.
        let blocked = d.path().join("blocked.env");
        let storage = FileStorage::open(EntryId::new("t", "b"), blocked.clone(), 0o600).unwrap();
        std::fs::create_dir_all(blocked.join("child")).unwrap();
        let e = storage.write_atomically("A=1\n").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Internal);
        assert!(
            e.to_string().starts_with("env storage t:b: cannot write "),
            "{e}"
        );
        let mut names: Vec<_> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["a.env", "blocked.env"]);
    }

    #[test]
    fn file_storage_auto_create_makes_the_file_and_its_directories() {
        let d = tempfile::tempdir().unwrap();
        let rt = rt(d.path());
        ok(
            &rt,
            "t:file",
            "env.storage.file",
            r#"{"file_path":"data/env/.env","auto_create":true,"file_mode":"0600","dir_mode":"0o700"}"#,
        );
        let file = d.path().join("data/env/.env");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
            assert_eq!(mode(&file), 0o600);
            assert_eq!(mode(&d.path().join("data/env")), 0o700);
        }
        // An existing file is kept as it is.
        std::fs::write(&file, "K=v\n").unwrap();
        ok(
            &rt,
            "t:again",
            "env.storage.file",
            r#"{"file_path":"data/env/.env","auto_create":true}"#,
        );
        assert_eq!(
            rt.env
                .storage("t:again")
                .unwrap()
                .get("K")
                .unwrap()
                .as_deref(),
            Some("v")
        );
        // An absolute path is used as is.
        let abs = d.path().join("abs.env");
        let data = format!(
            r#"{{"file_path":{:?},"auto_create":true,"file_mode":384}}"#,
            abs.display().to_string()
        );
        ok(&rt, "t:abs", "env.storage.file", &data);
        assert!(abs.is_file());
    }

    #[test]
    fn file_storage_validation_names_the_field() {
        let d = tempfile::tempdir().unwrap();
        let rt = rt(d.path());
        std::fs::create_dir(d.path().join("dir")).unwrap();
        let cases = [
            ("{}", "field file_path: file_path is required"),
            (
                r#"{"file_path":"  "}"#,
                "field file_path: file_path is required",
            ),
            (r#"{"file_path":"dir"}"#, "is a directory"),
            (
                r#"{"file_path":"missing.env"}"#,
                "does not exist (set auto_create: true to create it)",
            ),
            (
                r#"{"file_path":"a.env","auto_create":true,"file_mode":"0999"}"#,
                "field file_mode: file_mode must be an octal mode like \"0600\", got \"0999\"",
            ),
            (
                r#"{"file_path":"a.env","auto_create":true,"file_mode":"rw"}"#,
                "field file_mode: ",
            ),
            (
                r#"{"file_path":"a.env","auto_create":true,"file_mode":""}"#,
                "field file_mode: ",
            ),
            (
                r#"{"file_path":"a.env","auto_create":true,"dir_mode":"17777"}"#,
                "field dir_mode: dir_mode must be an octal mode like \"0600\", got 0o17777",
            ),
            (
                r#"{"file_path":"a.env","auto_create":true,"dir_mode":-1}"#,
                "field dir_mode: ",
            ),
            (
                r#"{"file_path":"a.env","auto_create":true,"dir_mode":true}"#,
                "field dir_mode: ",
            ),
            (
                r#"{"file_path":"a.env","auto_create":"yes"}"#,
                "field auto_create: invalid type",
            ),
        ];
        for (data, expected) in cases {
            let (kind, text) = field_error(&rt, "env.storage.file", data);
            assert_eq!(kind, ErrorKind::Invalid, "{data}: {text}");
            assert!(text.contains(expected), "{data}: {text}");
            if !expected.starts_with("field") {
                assert!(text.starts_with("field file_path: "), "{data}: {text}");
            }
        }
        assert!(!d.path().join("a.env").exists());
    }

    #[tokio::test]
    async fn the_handler_registers_every_kind() {
        let d = tempfile::tempdir().unwrap();
        let rt = rt(d.path());
        let handler = EnvHandler::new(&rt);
        assert_eq!(handler.kinds(), KINDS);
        handler
            .apply(Arc::new(entry("t:mem", "env.storage.memory", "{}")))
            .await
            .unwrap();
        let e = handler
            .apply(Arc::new(entry("t:x", "env.other", "{}")))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Invalid);
        assert!(rt.env.storage("t:mem").is_some());
        drop(rt);
        let e = handler
            .apply(Arc::new(entry("t:m2", "env.storage.memory", "{}")))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Internal);
    }
}

//! The kind handler of `env.storage.*` and `env.variable` (reference §2.4).

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Weak};

use serde::Deserialize;
use weft_core::{BoxFuture, EntryId, Error, Map, Result, Value};
use weft_fs::{FileMode, check_creatable, create_file};
use weft_registry::{BootMode, Entry, KindHandler, Staged};

use crate::registry::EnvRegistry;
use crate::storage::{
    EnvStorage, FileStorage, MemoryStorage, OsStorage, RouterStorage, StaticStorage,
};
use crate::variable::EnvVariable;

/// The kinds [`EnvHandler`] accepts.
pub(crate) const KINDS: [&str; 6] = [
    "env.storage.memory",
    "env.storage.file",
    "env.storage.os",
    "env.storage.static",
    "env.storage.router",
    "env.variable",
];

/// The kind handler of the env storages and `env.variable`: validates them and
/// registers them into the [`EnvRegistry`] it fills.
pub struct EnvHandler(Weak<EnvRegistry>);

impl EnvHandler {
    /// A handler registering into `env`.
    pub fn new(env: &Arc<EnvRegistry>) -> EnvHandler {
        EnvHandler(Arc::downgrade(env))
    }
}

impl KindHandler for EnvHandler {
    fn kinds(&self) -> &[&'static str] {
        &KINDS
    }

    fn stage(&self, entry: Arc<Entry>, mode: BootMode) -> BoxFuture<Result<Staged>> {
        let staged = self.registry().and_then(|env| {
            let made = build(&env, &entry, mode)?;
            Ok(Staged::on(env, move |env| match made {
                Made::Storage(storage) => env.register_storage(&entry.id, storage),
                Made::Variable(variable) => env.register_variable(variable),
            }))
        });
        Box::pin(async move { staged })
    }

    /// A removed storage or variable is unknown to new readers; a variable or router
    /// still using a removed storage is refused by the registry before this runs.
    fn stage_remove(&self, entry: Arc<Entry>) -> Result<Staged> {
        Ok(Staged::on(self.registry()?, move |env| {
            env.remove(entry.id.as_str())
        }))
    }
}

impl EnvHandler {
    /// The registry this handler fills.
    fn registry(&self) -> Result<Arc<EnvRegistry>> {
        self.0
            .upgrade()
            .ok_or_else(|| Error::internal("the env registry is gone"))
    }
}

/// What an env entry makes.
enum Made {
    /// A storage (`env.storage.*`).
    Storage(Arc<dyn EnvStorage>),
    /// An `env.variable`.
    Variable(EnvVariable),
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

/// Validates one env entry and makes what it describes (a check creates no file).
fn build(env: &EnvRegistry, entry: &Entry, mode: BootMode) -> Result<Made> {
    let id = &entry.id;
    let made = match entry.kind.as_str() {
        "env.storage.memory" => Made::Storage(Arc::new(MemoryStorage::default())),
        "env.storage.os" => Made::Storage(Arc::new(OsStorage::new(id.clone()))),
        "env.storage.static" => {
            let config: StaticConfig = entry.decode().map_err(Error::from)?;
            let mut values = HashMap::new();
            for (key, value) in config.values.unwrap_or_default() {
                let text =
                    scalar_text(&value).map_err(|e| e.in_field(format_args!("values.{key}")))?;
                values.insert(key, text);
            }
            Made::Storage(Arc::new(StaticStorage::new(id.clone(), values)))
        }
        "env.storage.file" => Made::Storage(Arc::new(file_storage(env.app_root(), entry, mode)?)),
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
            Made::Storage(Arc::new(RouterStorage::new(storages)?))
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
            Made::Variable(EnvVariable::new(
                id.clone(),
                config.variable,
                storage,
                default,
                config.readonly,
            ))
        }
        other => return Err(Error::invalid(format!("not an env kind: {other}"))),
    };
    Ok(made)
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

/// Validates an `env.storage.file` entry and opens (or creates) its file.
///
/// A check creates nothing: a missing `auto_create` file is fine when it could be
/// created, and reads as empty (as the new file would).
fn file_storage(root: &Path, entry: &Entry, mode: BootMode) -> Result<FileStorage> {
    let config: FileConfig = entry.decode().map_err(Error::from)?;
    if config.file_path.trim().is_empty() {
        return Err(Error::invalid("file_path is required").in_field("file_path"));
    }
    let file_mode = FileMode::parse(config.file_mode.as_ref(), FileMode::new(0o644), "file_mode")?;
    let dir_mode = FileMode::parse(config.dir_mode.as_ref(), FileMode::new(0o755), "dir_mode")?;
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
        let created = match mode {
            BootMode::Run => create_file(&path, file_mode, dir_mode),
            BootMode::Check => check_creatable(&path),
        };
        created.map_err(|e| {
            Error::internal(format!("cannot create {}: {e}", path.display())).in_field("file_path")
        })?;
    }
    FileStorage::open(entry.id.clone(), path, file_mode).map_err(|e| e.in_field("file_path"))
}

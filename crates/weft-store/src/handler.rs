//! The kind handler of `store.memory` and `security.token_store`.

use std::sync::{Arc, Weak};

use serde::Deserialize;
use weft_core::{BoxFuture, EntryId, Error, Result, Value};
use weft_registry::{BootMode, Entry, KindHandler, Staged, duration_of};

use crate::memory::{
    DEFAULT_CLEANUP_INTERVAL, DEFAULT_MAX_SIZE, MIN_CLEANUP_INTERVAL, MemoryStore,
};
use crate::registry::StoreRegistry;
use crate::token::{
    DEFAULT_EXPIRATION, DEFAULT_TOKEN_LENGTH, TOKEN_LENGTHS, TokenSettings, TokenStore,
};

/// The kinds [`StoreHandler`] accepts.
pub const KINDS: [&str; 2] = ["store.memory", "security.token_store"];

/// Validates `store.memory` and `security.token_store` entries and registers them into
/// the [`StoreRegistry`] it fills. A check validates and registers as a run does (a
/// token store's `store` must resolve either way) but starts no sweep task and logs no
/// warning about a missing token key.
pub struct StoreHandler(Weak<StoreRegistry>);

impl StoreHandler {
    /// A handler registering into `stores`.
    pub fn new(stores: &Arc<StoreRegistry>) -> StoreHandler {
        StoreHandler(Arc::downgrade(stores))
    }
}

impl KindHandler for StoreHandler {
    fn kinds(&self) -> &[&'static str] {
        &KINDS
    }

    fn stage(&self, entry: Arc<Entry>, mode: BootMode) -> BoxFuture<Result<Staged>> {
        let staged = self.registry().and_then(|stores| {
            let made = build(&stores, &entry, mode)?;
            Ok(Staged::on(stores, move |stores| match made {
                Made::Store(store) => stores.register_store(store),
                Made::TokenStore(ts) => stores.register_token_store(*ts),
            }))
        });
        Box::pin(async move { staged })
    }

    /// A removed store is unknown to new callers (a token store still using it is
    /// refused by the registry before this runs).
    fn stage_remove(&self, entry: Arc<Entry>) -> Result<Staged> {
        Ok(Staged::on(self.registry()?, move |stores| {
            stores.remove(entry.id.as_str())
        }))
    }
}

impl StoreHandler {
    /// The registry this handler fills.
    fn registry(&self) -> Result<Arc<StoreRegistry>> {
        self.0
            .upgrade()
            .ok_or_else(|| Error::internal("the store registry is gone"))
    }
}

/// What a store entry makes.
enum Made {
    /// A `store.memory` (a new, empty store: an updated entry starts empty).
    Store(Arc<MemoryStore>),
    /// A `security.token_store`.
    TokenStore(Box<TokenStore>),
}

/// The fields of a `store.memory` entry (`lifecycle` and others are ignored).
#[derive(Deserialize, Default)]
#[serde(default)]
struct MemoryConfig {
    max_size: i64,
    cleanup_interval: Option<Value>,
}

/// The fields of a `security.token_store` entry.
#[derive(Deserialize, Default)]
#[serde(default)]
struct TokenConfig {
    store: String,
    token_length: Option<i64>,
    default_expiration: Option<Value>,
    token_key: Option<String>,
    token_key_env: Option<String>,
}

/// Validates one entry and makes its store.
fn build(stores: &StoreRegistry, entry: &Entry, mode: BootMode) -> Result<Made> {
    match entry.kind.as_str() {
        "store.memory" => {
            let store = Arc::new(memory_store(entry)?);
            if mode == BootMode::Run {
                MemoryStore::start_sweeper(&store);
            }
            Ok(Made::Store(store))
        }
        "security.token_store" => Ok(Made::TokenStore(Box::new(token_store(
            stores, entry, mode,
        )?))),
        other => Err(Error::invalid(format!("not a store kind: {other}"))),
    }
}

/// A `store.memory` entry's store: `max_size` 0 or unset is [`DEFAULT_MAX_SIZE`],
/// `cleanup_interval` 0 or unset [`DEFAULT_CLEANUP_INTERVAL`] (as Wippy).
fn memory_store(entry: &Entry) -> Result<MemoryStore> {
    let config: MemoryConfig = entry.decode().map_err(Error::from)?;
    let max_size = match usize::try_from(config.max_size) {
        Ok(0) => DEFAULT_MAX_SIZE,
        Ok(n) => n,
        Err(_) => {
            return Err(Error::invalid(format!(
                "max_size must not be negative, got {}",
                config.max_size
            ))
            .in_field("max_size"));
        }
    };
    let cleanup_interval = match &config.cleanup_interval {
        None | Some(Value::Nil) => DEFAULT_CLEANUP_INTERVAL,
        Some(v) => match duration_of(v) {
            Ok(d) if d.is_zero() => DEFAULT_CLEANUP_INTERVAL,
            Ok(d) if d < MIN_CLEANUP_INTERVAL => {
                return Err(Error::invalid(format!(
                    "cleanup_interval must be at least {}s, got {d:?}",
                    MIN_CLEANUP_INTERVAL.as_secs()
                ))
                .in_field("cleanup_interval"));
            }
            Ok(d) => d,
            Err(e) => return Err(Error::invalid(e).in_field("cleanup_interval")),
        },
    };
    Ok(MemoryStore::new(
        entry.id.clone(),
        max_size,
        cleanup_interval,
    ))
}

/// A `security.token_store` entry's token store; NotFound (the boot retries the entry
/// later) while its `store` is not registered.
fn token_store(stores: &StoreRegistry, entry: &Entry, mode: BootMode) -> Result<TokenStore> {
    let config: TokenConfig = entry.decode().map_err(Error::from)?;
    let reference = config.store.trim();
    if reference.is_empty() {
        return Err(Error::invalid("a store id is required").in_field("store"));
    }
    let target = EntryId::resolve(reference, entry.id.ns());
    let store = match stores.backing(target.as_str()) {
        Some(store) => store,
        None if stores.is_token_store(target.as_str()) => {
            return Err(
                Error::invalid(format!("{target} is a security.token_store, not a store"))
                    .in_field("store"),
            );
        }
        None => {
            return Err(Error::not_found(format!("store not found: {target}")).in_field("store"));
        }
    };
    let token_length = match config.token_length {
        None | Some(0) => DEFAULT_TOKEN_LENGTH,
        Some(n) => match usize::try_from(n) {
            Ok(n) if TOKEN_LENGTHS.contains(&n) => n,
            _ => {
                return Err(Error::invalid(format!(
                    "token_length must be {} to {} bytes, got {n}",
                    TOKEN_LENGTHS.start(),
                    TOKEN_LENGTHS.end()
                ))
                .in_field("token_length"));
            }
        },
    };
    let default_expiration = match &config.default_expiration {
        None | Some(Value::Nil) => DEFAULT_EXPIRATION,
        Some(v) => match duration_of(v) {
            Ok(d) if d.is_zero() => DEFAULT_EXPIRATION,
            Ok(d) => d,
            Err(e) => return Err(Error::invalid(e).in_field("default_expiration")),
        },
    };
    let key = token_key(entry, &config, mode)?;
    let settings = TokenSettings {
        token_length,
        default_expiration,
        key,
    };
    TokenStore::new(entry.id.clone(), store, stores.policies().clone(), settings)
}

/// The HMAC key: `token_key` as written, or the process environment variable
/// `token_key_env` names (read once, at boot; weft's env capability is not used here),
/// or, with neither, 32 random bytes for this boot (tokens die with the process).
fn token_key(entry: &Entry, config: &TokenConfig, mode: BootMode) -> Result<Vec<u8>> {
    match (&config.token_key, &config.token_key_env) {
        (Some(_), Some(_)) => {
            Err(Error::invalid("set token_key or token_key_env, not both")
                .in_field("token_key_env"))
        }
        (Some(key), None) => {
            if key.is_empty() {
                return Err(Error::invalid("token_key is empty").in_field("token_key"));
            }
            if key.starts_with("${") {
                return Err(Error::invalid(format!(
                    "token_key {key:?} looks like an interpolation, which weft does not do \
                     (the text itself would be the key); use token_key_env: NAME"
                ))
                .in_field("token_key"));
            }
            Ok(key.as_bytes().to_vec())
        }
        (None, Some(name)) => {
            if name.is_empty() {
                return Err(Error::invalid("token_key_env is empty").in_field("token_key_env"));
            }
            match std::env::var_os(name) {
                Some(v) if !v.is_empty() => Ok(v.into_encoded_bytes()),
                _ => Err(Error::invalid(format!(
                    "environment variable {name} (the token key) is not set or empty"
                ))
                .in_field("token_key_env")),
            }
        }
        (None, None) => {
            if mode == BootMode::Run {
                tracing::warn!(
                    token_store = %entry.id,
                    "no token_key or token_key_env: tokens are signed with a random key \
                     and stop validating when the process restarts"
                );
            }
            let mut key = vec![0u8; 32];
            getrandom::fill(&mut key)
                .map_err(|e| Error::internal(format!("no random bytes for a token key: {e}")))?;
            Ok(key)
        }
    }
}

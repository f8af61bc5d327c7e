//! [`StoreRegistry`]: the stores and token stores of an app, handed out after their
//! permission checks, and [`Store`], a store as callers use it (each key operation
//! checked).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::RwLock;
use weft_core::{CallContext, EntryId, Error, Map, Result, Value};
use weft_registry::Restorable;
use weft_security::PolicyRegistry;

use crate::memory::MemoryStore;
use crate::token::{TokenStore, TokenValidator};

/// The registered `store.memory` and `security.token_store` entries of an app, by full
/// entry id. One per app, made before its entries are applied.
pub struct StoreRegistry {
    policies: PolicyRegistry,
    stores: RwLock<HashMap<String, Arc<MemoryStore>>>,
    token_stores: RwLock<HashMap<String, Arc<TokenStore>>>,
}

impl StoreRegistry {
    /// An empty registry; token scopes are rebuilt from `policies` (the runtime's).
    pub fn new(policies: PolicyRegistry) -> StoreRegistry {
        StoreRegistry {
            policies,
            stores: RwLock::default(),
            token_stores: RwLock::default(),
        }
    }

    /// The store `id` (a full id) for the caller `cx` (Lua `store.get`):
    /// PermissionDenied without `store.get` on the id (checked first, so a denied
    /// caller learns nothing), Invalid when the id is a token store, NotFound when no
    /// store has it.
    pub fn store(&self, cx: &CallContext, id: &str) -> Result<Store> {
        cx.check("store.get", id)?;
        if let Some(store) = self.stores.read().get(id) {
            return Ok(Store(Arc::clone(store)));
        }
        if self.token_stores.read().contains_key(id) {
            return Err(Error::invalid(format!(
                "{id} is a security.token_store, not a store"
            )));
        }
        Err(Error::not_found(format!("store not found: {id}")))
    }

    /// The token store `id` (a full id) for the caller `cx` (Lua
    /// `security.token_store`): PermissionDenied without `security.token_store.get` on
    /// the id (checked first), Invalid when the id is a plain store, NotFound when no
    /// token store has it. Its operations check again, each with its own action.
    pub fn token_store(&self, cx: &CallContext, id: &str) -> Result<Arc<TokenStore>> {
        cx.check("security.token_store.get", id)?;
        self.find_token_store(id)
    }

    /// The token store `id` for the HTTP `token_auth` middleware, with **no**
    /// permission check: the middleware validates a request's bearer token on behalf of
    /// the server, before any actor exists (the token is what establishes one), so
    /// there is no caller context to check in. The server's configuration names the
    /// token store; app code never reaches this path, and what it hands out can only
    /// validate (no create, no revoke). Invalid when the id is a plain store, NotFound
    /// when no token store has it.
    pub fn token_store_for_middleware(&self, id: &str) -> Result<TokenValidator> {
        self.find_token_store(id).map(TokenValidator)
    }

    fn find_token_store(&self, id: &str) -> Result<Arc<TokenStore>> {
        if let Some(ts) = self.token_stores.read().get(id) {
            return Ok(Arc::clone(ts));
        }
        if self.stores.read().contains_key(id) {
            return Err(Error::invalid(format!(
                "{id} is a store, not a security.token_store"
            )));
        }
        Err(Error::not_found(format!("token store not found: {id}")))
    }

    /// The policies token scopes are rebuilt from.
    pub(crate) fn policies(&self) -> &PolicyRegistry {
        &self.policies
    }

    /// The store registered as `id`, for a token store's `store` field (no check: the
    /// entry, not a caller, names it).
    pub(crate) fn backing(&self, id: &str) -> Option<Arc<MemoryStore>> {
        self.stores.read().get(id).cloned()
    }

    /// True when `id` is a registered token store.
    pub(crate) fn is_token_store(&self, id: &str) -> bool {
        self.token_stores.read().contains_key(id)
    }

    /// Registers a store under its entry id, replacing one of the same id.
    pub(crate) fn register_store(&self, store: Arc<MemoryStore>) {
        self.stores
            .write()
            .insert(store.id().as_str().to_string(), store);
    }

    /// Registers a token store under its entry id, replacing one of the same id.
    pub(crate) fn register_token_store(&self, ts: TokenStore) {
        self.token_stores
            .write()
            .insert(ts.id().as_str().to_string(), Arc::new(ts));
    }

    /// Removes the store or token store `id` (a live change): new callers get NotFound,
    /// holders of its handle go on using it.
    pub(crate) fn remove(&self, id: &str) {
        self.stores.write().remove(id);
        self.token_stores.write().remove(id);
    }
}

impl Restorable for StoreRegistry {
    type Saved = Tables;

    fn save(&self) -> Tables {
        Tables {
            stores: self.stores.read().clone(),
            token_stores: self.token_stores.read().clone(),
        }
    }

    fn restore(&self, tables: Tables) {
        *self.stores.write() = tables.stores;
        *self.token_stores.write() = tables.token_stores;
    }
}

/// A copy of a [`StoreRegistry`]'s tables, taken before a live change is published.
pub struct Tables {
    stores: HashMap<String, Arc<MemoryStore>>,
    token_stores: HashMap<String, Arc<TokenStore>>,
}

/// A `store.memory` as callers use it ([`StoreRegistry::store`]): every operation
/// checks `store.key.<op>` on the store id with resource meta `{key = <key>}` in the
/// caller's context before it reads or writes. An empty key is Invalid.
#[derive(Clone)]
pub struct Store(Arc<MemoryStore>);

impl Store {
    /// The store's entry id.
    pub fn id(&self) -> &EntryId {
        self.0.id()
    }

    /// The value of `key`, or none when it is unset or expired (`store.key.get`).
    pub fn get(&self, cx: &CallContext, key: &str) -> Result<Option<Value>> {
        self.check(cx, "store.key.get", key)?;
        Ok(self.0.get_at(key, Instant::now()))
    }

    /// Sets `key` to `value` for `ttl` (none or zero: no expiry) (`store.key.set`). A
    /// nil value is Invalid; a new key in a full store is RateLimited.
    pub fn set(
        &self,
        cx: &CallContext,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
    ) -> Result<()> {
        self.check(cx, "store.key.set", key)?;
        if value.is_nil() {
            return Err(Error::invalid("value is required"));
        }
        self.0.set_at(key, value, ttl, Instant::now())
    }

    /// True when `key` is set and not expired (`store.key.has`).
    pub fn has(&self, cx: &CallContext, key: &str) -> Result<bool> {
        self.check(cx, "store.key.has", key)?;
        Ok(self.0.has_at(key, Instant::now()))
    }

    /// Removes `key`; false when it was not set (`store.key.delete`).
    pub fn delete(&self, cx: &CallContext, key: &str) -> Result<bool> {
        self.check(cx, "store.key.delete", key)?;
        Ok(self.0.delete_at(key, Instant::now()))
    }

    /// The key check of every operation: an empty key, then the permission (as Wippy).
    fn check(&self, cx: &CallContext, action: &str, key: &str) -> Result<()> {
        if key.is_empty() {
            return Err(Error::invalid("key is required"));
        }
        let meta = Map::from_iter([("key".to_string(), Value::str(key))]);
        cx.check_with(action, self.0.id().as_str(), Some(&meta))
    }
}

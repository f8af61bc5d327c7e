//! `security.token_store`: bearer tokens that stand for an actor and a scope.
//!
//! A token is `<body>.<mac>`: `body` is `token_length` random bytes, `mac` is
//! HMAC-SHA256 over the token store's id and the body, both base64url without padding.
//! A token whose mac does not verify is refused before the backing store is read, so a
//! forged or mistyped token costs one HMAC and no lookup, and a token of one token store
//! never validates at another (even one sharing its key and backing store).
//!
//! The record is kept in the backing `store.memory` under `security.token:<sha256 of the
//! body>` (the store never holds a usable token), with the token's lifetime as its TTL:
//! `{store, actor = {id, meta}, policies = [ids], meta, expires_at}` (Unix seconds). The
//! scope is rebuilt from the policy ids at every validation, so a token carries the
//! policies as they are now; a policy that no longer exists fails the validation
//! instead of silently narrowing (or, for a deny, widening) what the token allows.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use weft_core::{Actor, CallContext, EntryId, Error, Map, Policy, Result, Scope, Value};
use weft_security::PolicyRegistry;

use crate::memory::MemoryStore;

/// The random bytes of a token when `token_length` is unset.
pub const DEFAULT_TOKEN_LENGTH: usize = 32;

/// The token lengths accepted, in random bytes (128 to 4096 bits).
pub const TOKEN_LENGTHS: std::ops::RangeInclusive<usize> = 16..=512;

/// A token's lifetime when `default_expiration` is unset (Wippy's default).
pub const DEFAULT_EXPIRATION: Duration = Duration::from_secs(24 * 3600);

/// The longest text taken as a token; anything longer is refused unread.
const MAX_TOKEN_CHARS: usize = 2048;

/// The prefix of token records in the backing store.
const RECORD_PREFIX: &str = "security.token:";

type HmacSha256 = Hmac<Sha256>;

/// How a token store is set up (from its entry).
pub(crate) struct TokenSettings {
    pub(crate) token_length: usize,
    pub(crate) default_expiration: Duration,
    pub(crate) key: Vec<u8>,
}

/// What [`TokenStore::create`] takes beside the actor and the scope.
#[derive(Clone, Debug, Default)]
pub struct TokenOptions {
    /// The token's lifetime; none: the store's `default_expiration`.
    pub expiration: Option<Duration>,
    /// Free-form data kept with the token.
    pub meta: Map,
}

/// One `security.token_store` entry: creates, validates and revokes tokens, each
/// operation checked in the caller's context with the token store's id as resource.
pub struct TokenStore {
    id: EntryId,
    store: Arc<MemoryStore>,
    policies: PolicyRegistry,
    token_length: usize,
    default_expiration: Duration,
    /// The HMAC keyed with the store's key, cloned for each token.
    keyed: HmacSha256,
}

impl TokenStore {
    /// A token store of entry `id` keeping its records in `store`.
    pub(crate) fn new(
        id: EntryId,
        store: Arc<MemoryStore>,
        policies: PolicyRegistry,
        settings: TokenSettings,
    ) -> Result<TokenStore> {
        // HMAC takes keys of every length; the error is kept only to avoid a panic path.
        let keyed = HmacSha256::new_from_slice(&settings.key)
            .map_err(|e| Error::invalid(format!("unusable token key: {e}")))?;
        Ok(TokenStore {
            id,
            store,
            policies,
            token_length: settings.token_length,
            default_expiration: settings.default_expiration,
            keyed,
        })
    }

    /// The token store's entry id.
    pub fn id(&self) -> &EntryId {
        &self.id
    }

    /// The id of the backing store.
    pub fn store_id(&self) -> &EntryId {
        self.store.id()
    }

    /// A new token for `actor` and `scope`, for the caller `cx`: PermissionDenied
    /// without `security.token.create` on the store id (resource meta `{actor = id}`);
    /// Invalid for a zero expiration or a scope policy that is not a registered policy;
    /// RateLimited when the backing store is full.
    pub fn create(
        &self,
        cx: &CallContext,
        actor: &Actor,
        scope: &Scope,
        options: TokenOptions,
    ) -> Result<String> {
        let meta = Map::from_iter([("actor".to_string(), Value::str(actor.id()))]);
        cx.check_with("security.token.create", self.id.as_str(), Some(&meta))?;
        self.issue(actor, scope, options, Instant::now(), SystemTime::now())
    }

    /// The actor and scope `token` stands for, for the caller `cx`: PermissionDenied
    /// without `security.token.validate` on the store id (checked first), else as
    /// [`TokenValidator::validate`].
    pub fn validate(&self, cx: &CallContext, token: &str) -> Result<(Actor, Scope)> {
        cx.check("security.token.validate", self.id.as_str())?;
        self.lookup(token, Instant::now(), SystemTime::now())
    }

    /// Revokes `token` for the caller `cx`: PermissionDenied without
    /// `security.token.revoke` on the store id; Invalid for a token this store did not
    /// sign; a signed token that is unknown (expired, revoked) is revoked already: Ok.
    pub fn revoke(&self, cx: &CallContext, token: &str) -> Result<()> {
        cx.check("security.token.revoke", self.id.as_str())?;
        let body = self.verify(token)?;
        self.store.delete_at(&record_key(&body), Instant::now());
        Ok(())
    }

    /// Makes and stores a token at `now` / `wall` (the clocks of the store's TTL and of
    /// the record's `expires_at`).
    pub(crate) fn issue(
        &self,
        actor: &Actor,
        scope: &Scope,
        options: TokenOptions,
        now: Instant,
        wall: SystemTime,
    ) -> Result<String> {
        let expiration = options.expiration.unwrap_or(self.default_expiration);
        if expiration.is_zero() {
            return Err(Error::invalid("token expiration must be positive"));
        }
        let expires_at = wall
            .checked_add(expiration)
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .and_then(|d| i64::try_from(d.as_secs()).ok())
            .ok_or_else(|| Error::invalid("token expiration is too far in the future"))?;
        let mut policies = Vec::new();
        for policy in scope.policies() {
            let id = policy.id().as_str();
            if self.policies.get(id).is_none() {
                return Err(Error::invalid(format!(
                    "scope policy {id} is not a registered security.policy (a token keeps policy ids)"
                )));
            }
            policies.push(Value::str(id));
        }
        let mut body = vec![0u8; self.token_length];
        getrandom::fill(&mut body)
            .map_err(|e| Error::internal(format!("no random bytes for a token: {e}")))?;
        let record = Value::from_pairs([
            ("store", Value::str(self.id.as_str())),
            (
                "actor",
                Value::from_pairs([
                    ("id", Value::str(actor.id())),
                    ("meta", Value::map(actor.meta().clone())),
                ]),
            ),
            ("policies", Value::array(policies)),
            ("meta", Value::map(options.meta)),
            ("expires_at", Value::Int(expires_at)),
        ]);
        self.store
            .set_at(&record_key(&body), record, Some(expiration), now)?;
        let mac = self.mac(&body).finalize().into_bytes();
        Ok(format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&body),
            URL_SAFE_NO_PAD.encode(mac)
        ))
    }

    /// Verifies `token` and rebuilds its actor and scope at `now` / `wall`.
    pub(crate) fn lookup(
        &self,
        token: &str,
        now: Instant,
        wall: SystemTime,
    ) -> Result<(Actor, Scope)> {
        let body = self.verify(token)?;
        let gone = || Error::not_found("token is expired or revoked");
        let record = self
            .store
            .get_at(&record_key(&body), now)
            .ok_or_else(gone)?;
        let malformed =
            || Error::internal(format!("token record in {} is malformed", self.store.id()));
        if record.get("store").and_then(Value::as_str) != Some(self.id.as_str()) {
            return Err(malformed());
        }
        let expires_at = record
            .get("expires_at")
            .and_then(Value::as_int)
            .ok_or_else(malformed)?;
        let now_secs = wall
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        if expires_at <= now_secs {
            return Err(gone());
        }
        let actor = record.get("actor").ok_or_else(malformed)?;
        let actor = Actor::new(
            actor
                .get("id")
                .and_then(Value::as_str)
                .ok_or_else(malformed)?,
            actor
                .get("meta")
                .and_then(Value::as_map)
                .cloned()
                .unwrap_or_default(),
        );
        let ids = record
            .get("policies")
            .and_then(Value::as_array)
            .ok_or_else(malformed)?;
        let mut policies: Vec<Arc<dyn Policy>> = Vec::with_capacity(ids.len());
        for id in ids {
            let id = id.as_str().ok_or_else(malformed)?;
            let policy = self.policies.get(id).ok_or_else(|| {
                Error::not_found(format!("token scope policy {id} no longer exists"))
            })?;
            policies.push(policy);
        }
        Ok((actor, Scope::new(policies)))
    }

    /// The body of `token` when its mac verifies; Invalid otherwise (nothing is read).
    fn verify(&self, token: &str) -> Result<Vec<u8>> {
        let invalid = || Error::invalid("invalid token");
        if token.len() > MAX_TOKEN_CHARS {
            return Err(invalid());
        }
        let (body, mac) = token.split_once('.').ok_or_else(invalid)?;
        let body = URL_SAFE_NO_PAD.decode(body).map_err(|_| invalid())?;
        let mac = URL_SAFE_NO_PAD.decode(mac).map_err(|_| invalid())?;
        if body.len() != self.token_length {
            return Err(invalid());
        }
        // verify_slice compares in constant time.
        self.mac(&body).verify_slice(&mac).map_err(|_| invalid())?;
        Ok(body)
    }

    /// The HMAC of `body`, bound to this token store's id.
    fn mac(&self, body: &[u8]) -> HmacSha256 {
        let mut mac = self.keyed.clone();
        mac.update(self.id.as_str().as_bytes());
        mac.update(&[0]);
        mac.update(body);
        mac
    }
}

/// Where the record of a token body is kept: the body's sha256, never the body.
fn record_key(body: &[u8]) -> String {
    format!(
        "{RECORD_PREFIX}{}",
        URL_SAFE_NO_PAD.encode(Sha256::digest(body))
    )
}

/// A token store as the HTTP `token_auth` middleware sees it: validation only, with no
/// permission check ([`crate::StoreRegistry::token_store_for_middleware`] says why).
#[derive(Clone)]
pub struct TokenValidator(pub(crate) Arc<TokenStore>);

impl TokenValidator {
    /// The token store's entry id.
    pub fn id(&self) -> &EntryId {
        self.0.id()
    }

    /// The actor and scope `token` stands for: Invalid for a token this store did not
    /// sign (malformed, forged, of another store; the backing store is not read),
    /// NotFound when it expired, was revoked or names a policy that no longer exists.
    pub fn validate(&self, token: &str) -> Result<(Actor, Scope)> {
        self.0.lookup(token, Instant::now(), SystemTime::now())
    }
}

//! `store.memory`: an in-memory key/value store with per-key TTL, a size cap and a
//! periodic sweep of expired keys.
//!
//! An expired key is invisible at once (every read compares its deadline with the
//! clock); its memory is reclaimed by the sweep every `cleanup_interval`, by a write
//! that finds the store full, or by a read that meets it. So the store never holds
//! more than `max_size` keys, expired or not.

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use weft_core::{EntryId, Error, Result, Value};

/// The number of keys a store holds when `max_size` is unset or 0 (Wippy's default).
pub const DEFAULT_MAX_SIZE: usize = 10_000;

/// How often expired keys are swept when `cleanup_interval` is unset or 0 (Wippy's).
pub const DEFAULT_CLEANUP_INTERVAL: Duration = Duration::from_secs(300);

/// The shortest `cleanup_interval` accepted: a shorter sweep would only burn CPU.
pub const MIN_CLEANUP_INTERVAL: Duration = Duration::from_secs(1);

/// One `store.memory` entry's keys.
pub(crate) struct MemoryStore {
    id: EntryId,
    max_size: usize,
    cleanup_interval: Duration,
    items: Mutex<HashMap<String, Item>>,
}

/// A stored value and the instant it expires (none: never).
struct Item {
    value: Value,
    expires: Option<Instant>,
}

impl Item {
    fn live(&self, now: Instant) -> bool {
        self.expires.is_none_or(|at| now < at)
    }
}

impl MemoryStore {
    /// An empty store of entry `id` holding at most `max_size` keys.
    pub(crate) fn new(id: EntryId, max_size: usize, cleanup_interval: Duration) -> MemoryStore {
        MemoryStore {
            id,
            max_size,
            cleanup_interval,
            items: Mutex::new(HashMap::new()),
        }
    }

    /// The entry id of the store.
    pub(crate) fn id(&self) -> &EntryId {
        &self.id
    }

    /// The value of `key` at `now`, if it is set and not expired.
    pub(crate) fn get_at(&self, key: &str, now: Instant) -> Option<Value> {
        let mut items = self.items.lock();
        match items.get(key) {
            Some(item) if item.live(now) => Some(item.value.clone()),
            Some(_) => {
                items.remove(key);
                None
            }
            None => None,
        }
    }

    /// Sets `key` at `now`, expiring after `ttl` (none or zero: never). A new key in a
    /// full store is RateLimited once expired keys are swept and it is still full.
    pub(crate) fn set_at(
        &self,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
        now: Instant,
    ) -> Result<()> {
        // A deadline past what an Instant can hold is as good as never.
        let expires = ttl
            .filter(|ttl| !ttl.is_zero())
            .and_then(|ttl| now.checked_add(ttl));
        let mut items = self.items.lock();
        if !items.contains_key(key) && items.len() >= self.max_size {
            items.retain(|_, item| item.live(now));
            if items.len() >= self.max_size {
                return Err(Error::new(
                    weft_core::ErrorKind::RateLimited,
                    format!(
                        "store {} is full (max_size: {} keys)",
                        self.id, self.max_size
                    ),
                ));
            }
        }
        items.insert(key.to_string(), Item { value, expires });
        Ok(())
    }

    /// True when `key` is set and not expired at `now`.
    pub(crate) fn has_at(&self, key: &str, now: Instant) -> bool {
        self.get_at(key, now).is_some()
    }

    /// Removes `key`; false when it was not set (or had expired) at `now`.
    pub(crate) fn delete_at(&self, key: &str, now: Instant) -> bool {
        self.items
            .lock()
            .remove(key)
            .is_some_and(|item| item.live(now))
    }

    /// Drops every key expired at `now`; returns how many.
    pub(crate) fn sweep_at(&self, now: Instant) -> usize {
        let mut items = self.items.lock();
        let before = items.len();
        items.retain(|_, item| item.live(now));
        before - items.len()
    }

    /// The keys held, expired ones not yet swept included.
    #[cfg(test)]
    pub(crate) fn held(&self) -> usize {
        self.items.lock().len()
    }

    /// Starts the periodic sweep on the current tokio runtime (none outside one: reads
    /// and full writes still drop expired keys). The task holds the store weakly and
    /// ends with it.
    pub(crate) fn start_sweeper(store: &Arc<MemoryStore>) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let weak: Weak<MemoryStore> = Arc::downgrade(store);
        let every = store.cleanup_interval;
        handle.spawn(async move {
            let start = tokio::time::Instant::now() + every;
            let mut tick = tokio::time::interval_at(start, every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(store) = weak.upgrade() else { break };
                let swept = store.sweep_at(Instant::now());
                if swept > 0 {
                    tracing::debug!(store = %store.id, swept, "expired keys swept");
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use weft_core::ErrorKind;

    use super::*;

    fn store(max: usize) -> MemoryStore {
        MemoryStore::new(EntryId::new("app", "cache"), max, DEFAULT_CLEANUP_INTERVAL)
    }

    const SEC: Duration = Duration::from_secs(1);

    #[test]
    fn values_round_trip_and_deletes_report_presence() {
        let s = store(10);
        let now = Instant::now();
        let v = Value::from_pairs([("name", Value::str("ann")), ("n", Value::Int(3))]);
        s.set_at("k", v.clone(), None, now).unwrap();
        assert_eq!(s.get_at("k", now), Some(v));
        assert!(s.has_at("k", now));
        assert!(s.delete_at("k", now));
        assert!(!s.delete_at("k", now));
        assert_eq!(s.get_at("k", now), None);
        assert!(!s.has_at("k", now));
    }

    #[test]
    fn a_key_expires_after_its_ttl_and_zero_means_never() {
        let s = store(10);
        let now = Instant::now();
        s.set_at("short", Value::Int(1), Some(10 * SEC), now)
            .unwrap();
        s.set_at("forever", Value::Int(2), Some(Duration::ZERO), now)
            .unwrap();
        s.set_at("huge", Value::Int(3), Some(Duration::MAX), now)
            .unwrap();
        let later = now + 10 * SEC;
        assert_eq!(s.get_at("short", now + 9 * SEC), Some(Value::Int(1)));
        assert_eq!(s.get_at("short", later), None);
        assert!(!s.has_at("short", later));
        assert!(!s.delete_at("short", later), "an expired key was not there");
        assert_eq!(s.get_at("forever", later + 1000 * SEC), Some(Value::Int(2)));
        assert_eq!(s.get_at("huge", later + 1000 * SEC), Some(Value::Int(3)));
        // Setting again renews the deadline.
        s.set_at("short", Value::Int(4), Some(10 * SEC), later)
            .unwrap();
        assert_eq!(s.get_at("short", later + 5 * SEC), Some(Value::Int(4)));
    }

    #[test]
    fn the_sweep_drops_expired_keys_only() {
        let s = store(10);
        let now = Instant::now();
        for i in 0..5 {
            s.set_at(&format!("t{i}"), Value::Int(i), Some(SEC), now)
                .unwrap();
        }
        s.set_at("keep", Value::Int(9), None, now).unwrap();
        assert_eq!(s.held(), 6);
        assert_eq!(s.sweep_at(now), 0);
        assert_eq!(s.sweep_at(now + 2 * SEC), 5);
        assert_eq!(s.held(), 1);
        assert_eq!(s.get_at("keep", now + 2 * SEC), Some(Value::Int(9)));
    }

    #[test]
    fn a_full_store_refuses_new_keys_after_sweeping_but_takes_updates() {
        let s = store(2);
        let now = Instant::now();
        s.set_at("a", Value::Int(1), None, now).unwrap();
        s.set_at("b", Value::Int(2), Some(SEC), now).unwrap();
        let err = s.set_at("c", Value::Int(3), None, now).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::RateLimited);
        assert_eq!(err.message(), "store app:cache is full (max_size: 2 keys)");
        s.set_at("a", Value::Int(10), None, now).unwrap();
        assert_eq!(s.get_at("a", now), Some(Value::Int(10)));
        // Once b has expired, the write sweeps it and fits.
        s.set_at("c", Value::Int(3), None, now + 2 * SEC).unwrap();
        assert_eq!(s.held(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn the_sweeper_runs_every_cleanup_interval_and_ends_with_the_store() {
        let s = Arc::new(MemoryStore::new(EntryId::new("app", "c"), 10, 2 * SEC));
        MemoryStore::start_sweeper(&s);
        s.set_at(
            "k",
            Value::Int(1),
            Some(Duration::from_millis(10)),
            Instant::now(),
        )
        .unwrap();
        assert_eq!(s.held(), 1);
        // The paused tokio clock drives the sweeper; the store's own clock is real, so
        // wait until the key has really expired before the tick.
        std::thread::sleep(Duration::from_millis(20));
        tokio::time::sleep(3 * SEC).await;
        assert_eq!(s.held(), 0, "the sweeper dropped the expired key");
        let weak = Arc::downgrade(&s);
        drop(s);
        tokio::time::sleep(3 * SEC).await;
        assert!(weak.upgrade().is_none());
    }
}

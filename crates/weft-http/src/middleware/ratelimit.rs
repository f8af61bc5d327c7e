//! `ratelimit`: a token bucket per client key (reference §1.10), with Go's `x/time/rate`
//! semantics: a bucket holds `burst` tokens and starts full, refills at `requests` per
//! `window`, and a request takes one token or is refused with 429 `Rate limit exceeded`
//! (with `X-RateLimit-Limit: <requests>` and `X-RateLimit-Window: <window as written>`).
//!
//! The key is the client's IP (`ip`, after `real_ip` if it ran first), a request header
//! (`header:<Name>`) or a query parameter (`query:<name>`); a request without one is a 400
//! `Rate limit key extraction failed`.
//!
//! Memory is bounded as in Wippy, lazily (no background task): at most once per
//! `cleanup_interval` a request sweeps out the buckets not used for `entry_ttl`; a new
//! key when `max_entries` are held first evicts the least recently used sixteenth
//! (Wippy evicts the single oldest, a full scan for every new key once it is full).
//!
//! A small map under a mutex rather than `governor`: its keyed limiter has neither an
//! entry TTL nor a cap on keys, which are this middleware's options.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{HeaderValue, StatusCode};
use parking_lot::Mutex;

use super::{Layer, MiddlewareContext, duration_option, invalid_option, number_option, option};
use crate::pipeline::{Handler, HttpRequest, RequestFrame, handler_fn, text_error};
use weft_core::Result;

const REQUESTS: &str = "ratelimit.requests";
const WINDOW: &str = "ratelimit.window";
const BURST: &str = "ratelimit.burst";
const KEY: &str = "ratelimit.key";
const CLEANUP: &str = "ratelimit.cleanup_interval";
const TTL: &str = "ratelimit.entry_ttl";
const MAX_ENTRIES: &str = "ratelimit.max_entries";

/// Where a request's key comes from.
enum KeySource {
    Ip,
    Header(http::HeaderName),
    Query(String),
}

/// The made middleware: its settings and its buckets.
struct RateLimit {
    key: KeySource,
    limit: HeaderValue,
    window: HeaderValue,
    store: Mutex<Store>,
}

/// The buckets by key.
struct Store {
    buckets: HashMap<String, Bucket>,
    /// Tokens per second.
    rate: f64,
    burst: f64,
    ttl: Duration,
    cleanup_interval: Duration,
    max_entries: usize,
    last_cleanup: Instant,
}

/// One key's bucket.
struct Bucket {
    tokens: f64,
    /// When `tokens` was computed, and the key last seen.
    last: Instant,
}

/// Makes `ratelimit` from its options.
pub(super) fn make(options: &BTreeMap<String, String>, _cx: &MiddlewareContext) -> Result<Layer> {
    let limit = Arc::new(RateLimit::from_options(options, Instant::now())?);
    Ok(Arc::new(move |next: Handler| {
        let limit = limit.clone();
        handler_fn(move |req| {
            let limit = limit.clone();
            let next = next.clone();
            async move {
                let Some(key) = limit.key_of(&req) else {
                    return text_error(StatusCode::BAD_REQUEST, "Rate limit key extraction failed");
                };
                if !limit.store.lock().allow(&key, Instant::now()) {
                    let mut res = text_error(StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded");
                    let headers = res.headers_mut();
                    headers.insert("x-ratelimit-limit", limit.limit.clone());
                    headers.insert("x-ratelimit-window", limit.window.clone());
                    return res;
                }
                crate::pipeline::call(next, req).await
            }
        })
    }))
}

impl RateLimit {
    fn from_options(options: &BTreeMap<String, String>, now: Instant) -> Result<RateLimit> {
        let requests = number_option(options, REQUESTS, REQUESTS, 100, 1)?;
        let (window, window_text) = duration_option(options, WINDOW, "1m")?;
        let burst = number_option(options, BURST, BURST, 20, 1)?;
        let key = match option(options, KEY, KEY).unwrap_or("ip") {
            "ip" => KeySource::Ip,
            raw => match raw.split_once(':') {
                Some(("header", name)) if !name.is_empty() => KeySource::Header(
                    http::HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                        invalid_option(options, KEY, KEY, format!("{name:?} is not a header name"))
                    })?,
                ),
                Some(("query", name)) if !name.is_empty() => KeySource::Query(name.to_string()),
                _ => {
                    return Err(invalid_option(
                        options,
                        KEY,
                        KEY,
                        format!("must be ip, header:<Name> or query:<name>, got {raw:?}"),
                    ));
                }
            },
        };
        let (cleanup_interval, _) = duration_option(options, CLEANUP, "5m")?;
        let (ttl, _) = duration_option(options, TTL, "10m")?;
        let max_entries = number_option(options, MAX_ENTRIES, MAX_ENTRIES, 100_000, 1)?;
        // As Wippy: a window under a second counts as one.
        let window = window.max(Duration::from_secs(1));
        let window_text = HeaderValue::from_str(&window_text)
            .map_err(|_| invalid_option(options, WINDOW, WINDOW, "not a header value"))?;
        Ok(RateLimit {
            key,
            limit: HeaderValue::from(requests),
            window: window_text,
            store: Mutex::new(Store {
                buckets: HashMap::new(),
                rate: requests as f64 / window.as_secs_f64(),
                burst: burst as f64,
                ttl,
                cleanup_interval,
                max_entries: usize::try_from(max_entries).unwrap_or(usize::MAX),
                last_cleanup: now,
            }),
        })
    }

    /// The request's key, or `None` when it has none.
    fn key_of(&self, req: &HttpRequest) -> Option<String> {
        let key = match &self.key {
            KeySource::Ip => {
                let addr = &req.extensions().get::<RequestFrame>()?.remote_addr;
                match addr.parse::<SocketAddr>() {
                    Ok(a) => a.ip().to_string(),
                    Err(_) => addr
                        .parse::<IpAddr>()
                        .map_or_else(|_| addr.to_string(), |ip| ip.to_string()),
                }
            }
            KeySource::Header(name) => {
                String::from_utf8_lossy(req.headers().get(name)?.as_bytes()).into_owned()
            }
            KeySource::Query(name) => url::form_urlencoded::parse(req.uri().query()?.as_bytes())
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())?,
        };
        (!key.is_empty()).then_some(key)
    }
}

impl Store {
    /// Takes a token from `key`'s bucket, if it has one.
    fn allow(&mut self, key: &str, now: Instant) -> bool {
        if now.saturating_duration_since(self.last_cleanup) >= self.cleanup_interval {
            self.last_cleanup = now;
            let ttl = self.ttl;
            self.buckets
                .retain(|_, b| now.saturating_duration_since(b.last) <= ttl);
        }
        if !self.buckets.contains_key(key) && self.buckets.len() >= self.max_entries {
            self.evict_oldest();
        }
        let (rate, burst) = (self.rate, self.burst);
        let bucket = self.buckets.entry(key.to_string()).or_insert(Bucket {
            tokens: burst,
            last: now,
        });
        let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(burst);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Drops the least recently used sixteenth of the buckets (at least one), so that
    /// the scan is paid once per many new keys.
    fn evict_oldest(&mut self) {
        let count = (self.buckets.len() / 16).max(1);
        let mut seen: Vec<Instant> = self.buckets.values().map(|b| b.last).collect();
        let (_, cutoff, _) = seen.select_nth_unstable(count - 1);
        let cutoff = *cutoff;
        let mut left = count;
        self.buckets.retain(|_, b| {
            if left > 0 && b.last <= cutoff {
                left -= 1;
                false
            } else {
                true
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::middleware::testing::{body, header, layer, opts, request, request_from, send};
    use crate::pipeline::{full, handler_fn};

    fn ok() -> Handler {
        handler_fn(|_req| async { http::Response::new(full("ok")) })
    }

    #[tokio::test]
    async fn refuses_after_the_burst_per_key() {
        let h = layer(
            "ratelimit",
            &[
                ("ratelimit.requests", "1"),
                ("ratelimit.window", "1h"),
                ("ratelimit.burst", "3"),
            ],
        )
        .unwrap()(ok());
        for _ in 0..3 {
            let res = send(&h, request_from("198.51.100.1:1000", "GET", "/", &[])).await;
            assert_eq!(res.status(), StatusCode::OK);
        }
        // Another port of the same client shares its bucket.
        let res = send(&h, request_from("198.51.100.1:2000", "GET", "/", &[])).await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(header(&res, "x-ratelimit-limit").as_deref(), Some("1"));
        assert_eq!(header(&res, "x-ratelimit-window").as_deref(), Some("1h"));
        assert_eq!(body(res).await, b"Rate limit exceeded\n");
        // Another client has its own.
        let res = send(&h, request_from("198.51.100.2:1000", "GET", "/", &[])).await;
        assert_eq!(res.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn a_layer_shares_its_buckets_across_handlers() {
        let l = layer("ratelimit", &[("ratelimit.burst", "1")]).unwrap();
        let (a, b) = (l(ok()), l(ok()));
        assert_eq!(
            send(&a, request("GET", "/", &[])).await.status(),
            StatusCode::OK
        );
        assert_eq!(
            send(&b, request("GET", "/", &[])).await.status(),
            StatusCode::TOO_MANY_REQUESTS
        );
    }

    #[tokio::test]
    async fn header_and_query_keys() {
        let h = layer(
            "ratelimit",
            &[
                ("ratelimit.burst", "1"),
                ("ratelimit.key", "header:X-Api-Key"),
            ],
        )
        .unwrap()(ok());
        let with = |k: &'static str| request("GET", "/", &[("x-api-key", k)]);
        assert_eq!(send(&h, with("a")).await.status(), StatusCode::OK);
        assert_eq!(
            send(&h, with("a")).await.status(),
            StatusCode::TOO_MANY_REQUESTS
        );
        assert_eq!(send(&h, with("b")).await.status(), StatusCode::OK);
        let res = send(&h, request("GET", "/", &[])).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert_eq!(body(res).await, b"Rate limit key extraction failed\n");

        let h = layer(
            "ratelimit",
            &[("ratelimit.burst", "1"), ("ratelimit.key", "query:user")],
        )
        .unwrap()(ok());
        let q = |uri: &'static str| request("GET", uri, &[]);
        assert_eq!(
            send(&h, q("/?user=al%20ice")).await.status(),
            StatusCode::OK
        );
        assert_eq!(
            send(&h, q("/?x=1&user=al+ice")).await.status(),
            StatusCode::TOO_MANY_REQUESTS
        );
        assert_eq!(
            send(&h, q("/?user=")).await.status(),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(send(&h, q("/")).await.status(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn refills_at_the_rate() {
        let options = opts(&[
            ("ratelimit.requests", "10"),
            ("ratelimit.window", "1s"),
            ("ratelimit.burst", "2"),
        ]);
        let t0 = Instant::now();
        let limit = RateLimit::from_options(&options, t0).unwrap();
        let mut store = limit.store.lock();
        assert!(store.allow("k", t0));
        assert!(store.allow("k", t0));
        assert!(!store.allow("k", t0));
        assert!(!store.allow("k", t0 + Duration::from_millis(50)));
        assert!(store.allow("k", t0 + Duration::from_millis(100)));
        assert!(!store.allow("k", t0 + Duration::from_millis(110)));
        // Never more than the burst saved up.
        let later = t0 + Duration::from_secs(60);
        assert!(store.allow("k", later));
        assert!(store.allow("k", later));
        assert!(!store.allow("k", later));
    }

    #[test]
    fn memory_is_bounded() {
        let options = opts(&[
            ("ratelimit.max_entries", "32"),
            ("ratelimit.cleanup_interval", "1m"),
            ("ratelimit.entry_ttl", "2m"),
        ]);
        let t0 = Instant::now();
        let limit = RateLimit::from_options(&options, t0).unwrap();
        let mut store = limit.store.lock();
        for i in 0..100 {
            store.allow(&format!("k{i}"), t0 + Duration::from_millis(i));
            assert!(store.buckets.len() <= 32);
        }
        assert!(store.buckets.contains_key("k99"));
        assert!(!store.buckets.contains_key("k0"), "the oldest went first");
        // Past the TTL, the next sweep empties the map but for the key just used.
        store.allow("fresh", t0 + Duration::from_secs(300));
        assert_eq!(store.buckets.len(), 1);
    }

    #[test]
    fn small_windows_count_as_a_second() {
        let limit =
            RateLimit::from_options(&opts(&[("ratelimit.window", "0s")]), Instant::now()).unwrap();
        assert_eq!(limit.store.lock().rate, 100.0);
        assert_eq!(limit.window, "0s");
    }

    #[test]
    fn bad_options_name_the_option() {
        for (key, value) in [
            ("ratelimit.requests", "0"),
            ("ratelimit.requests", "many"),
            ("ratelimit.window", "1d"),
            ("ratelimit.window", "m"),
            ("ratelimit.window", "1.5s"),
            ("ratelimit.burst", "-1"),
            ("ratelimit.key", "cookie:sid"),
            ("ratelimit.key", "header:"),
            ("ratelimit.key", "header:bad name"),
            ("ratelimit.cleanup_interval", "soon"),
            ("ratelimit.entry_ttl", "10"),
            ("ratelimit.max_entries", "0"),
        ] {
            let err = layer("ratelimit", &[(key, value)]).err().expect(key);
            assert!(
                err.to_string().contains(&format!("option {key}:")),
                "{key}={value}: {err}"
            );
        }
    }
}

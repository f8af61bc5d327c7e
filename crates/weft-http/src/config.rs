//! The fields of the `http.*` kinds, decoded and validated (reference §1.2–§1.5). Every
//! error names its field; the messages are Wippy's where it has one.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use weft_core::{EntryId, Error, Result, Value};
use weft_registry::{Entry, duration_of};

/// The methods an endpoint may name (exact upper case, as Wippy checks).
const METHODS: [&str; 8] = [
    "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE",
];

/// Go's `MaxHeaderBytes` default: the most a request head may take (else 431).
pub const DEFAULT_MAX_HEADER_BYTES: usize = 1 << 20;

/// How long a client may take to send a request head (also the idle keep-alive limit)
/// when `timeouts` set neither `read_header` nor `read`.
pub const DEFAULT_READ_HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// A validated `http.service`.
#[derive(Clone, Debug)]
pub struct ServiceConfig {
    /// `addr` as written (`:8085`, `127.0.0.1:0`).
    pub addr: String,
    /// `timeouts`.
    pub timeouts: Timeouts,
    /// Manual TLS, when `tls.mode` is `manual`.
    pub tls: Option<TlsFiles>,
    /// `max_header_bytes` (a weft extension; Go's default, 1 MiB).
    pub max_header_bytes: usize,
}

/// The `timeouts` of a service; `None` is no limit.
#[derive(Clone, Debug, Default)]
pub struct Timeouts {
    /// Reading a whole request (head and body).
    pub read: Option<Duration>,
    /// Reading a request head.
    pub read_header: Option<Duration>,
    /// Writing a whole response, from the end of the request head.
    pub write: Option<Duration>,
    /// An idle keep-alive connection.
    pub idle: Option<Duration>,
}

impl Timeouts {
    /// The limit on reading a request head and on a connection idle between requests:
    /// `read_header`, else `read`, else `idle`, else [`DEFAULT_READ_HEADER_TIMEOUT`].
    pub fn head(&self) -> Duration {
        self.read_header
            .or(self.read)
            .or(self.idle)
            .unwrap_or(DEFAULT_READ_HEADER_TIMEOUT)
    }
}

/// Where the certificate and key of a manual TLS service come from.
#[derive(Clone, Debug)]
pub enum TlsSource {
    /// A PEM file (relative to the app root).
    File(PathBuf),
    /// An environment variable holding PEM text or a file path.
    Env(String),
}

/// Manual TLS: the certificate chain and its key.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    /// The certificate chain.
    pub cert: TlsSource,
    /// The private key.
    pub key: TlsSource,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawService {
    addr: Option<String>,
    timeouts: Option<BTreeMap<String, Value>>,
    tls: Option<RawTls>,
    host: Option<RawRelayHost>,
    max_header_bytes: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawTls {
    mode: Option<String>,
    cert: Option<String>,
    key: Option<String>,
    cert_env: Option<String>,
    key_env: Option<String>,
    client_ca: Option<String>,
    client_ca_env: Option<String>,
    client_auth: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawRelayHost {
    buffer_size: Option<i64>,
    worker_count: Option<i64>,
}

impl ServiceConfig {
    /// Decodes and validates an `http.service` entry.
    pub fn from_entry(entry: &Entry) -> Result<ServiceConfig> {
        let raw: RawService = entry.decode().map_err(Error::from)?;
        let addr = raw.addr.map(|a| a.trim().to_string()).unwrap_or_default();
        if addr.is_empty() {
            return Err(Error::invalid("address is required").in_field("addr"));
        }
        parse_addr(&addr).map_err(|e| e.in_field("addr"))?;
        let timeouts = timeouts(raw.timeouts.unwrap_or_default())?;
        if let Some(host) = raw.host {
            for (field, v) in [
                ("host.buffer_size", host.buffer_size),
                ("host.worker_count", host.worker_count),
            ] {
                if v.is_some_and(|v| v < 0) {
                    let what = field.trim_start_matches("host.").replace('_', " ");
                    return Err(
                        Error::invalid(format!("{what} must be non-negative")).in_field(field)
                    );
                }
            }
        }
        let max_header_bytes = match raw.max_header_bytes {
            None => DEFAULT_MAX_HEADER_BYTES,
            Some(n) if (8192..=64 << 20).contains(&n) => n as usize,
            Some(n) => {
                return Err(Error::invalid(format!(
                    "must be between 8192 and 67108864 bytes, got {n}"
                ))
                .in_field("max_header_bytes"));
            }
        };
        let tls = tls(raw.tls.unwrap_or_default())?;
        Ok(ServiceConfig {
            addr,
            timeouts,
            tls,
            max_header_bytes,
        })
    }
}

/// The socket address of `addr`: `:port` is every IPv4 interface; a host name is
/// resolved when the server starts, so only its form is checked here.
pub fn parse_addr(addr: &str) -> Result<String> {
    let full = match addr.strip_prefix(':') {
        Some(port) => format!("0.0.0.0:{port}"),
        None => addr.to_string(),
    };
    let Some((host, port)) = full.rsplit_once(':') else {
        return Err(Error::invalid(format!(
            "address {addr:?} needs a port (host:port or :port)"
        )));
    };
    if port.parse::<u16>().is_err() {
        return Err(Error::invalid(format!(
            "address {addr:?} has an invalid port"
        )));
    }
    if host.is_empty() {
        return Err(Error::invalid(format!("address {addr:?} has no host")));
    }
    Ok(full)
}

/// `timeouts`: duration strings (`"5s"`); a number is seconds; `"0"` or absent is none.
fn timeouts(raw: BTreeMap<String, Value>) -> Result<Timeouts> {
    let mut out = Timeouts::default();
    for (key, value) in raw {
        let slot = match key.as_str() {
            "read" => &mut out.read,
            "read_header" => &mut out.read_header,
            "write" => &mut out.write,
            "idle" => &mut out.idle,
            _ => {
                return Err(Error::invalid(format!(
                    "unknown timeout {key:?} (read, read_header, write, idle)"
                ))
                .in_field(format!("timeouts.{key}")));
            }
        };
        let name = key.replace('_', " ");
        let d = duration_of(&value).map_err(|e| {
            Error::invalid(format!("invalid {name} timeout: {e}"))
                .in_field(format!("timeouts.{key}"))
        })?;
        *slot = (!d.is_zero()).then_some(d);
    }
    Ok(out)
}

/// The `tls` block, checked as Wippy checks it; `auto` needs an overlay network weft
/// does not have.
fn tls(raw: RawTls) -> Result<Option<TlsFiles>> {
    let mode = raw.mode.as_deref().map(str::trim).unwrap_or("");
    let has_cert = raw.cert.is_some() || raw.key.is_some();
    let has_env = raw.cert_env.is_some() || raw.key_env.is_some();
    let has_mtls =
        raw.client_ca.is_some() || raw.client_ca_env.is_some() || raw.client_auth.is_some();
    let field = |f: &str| format!("tls.{f}");
    match mode {
        "" => {
            if has_cert || has_env || has_mtls {
                return Err(
                    Error::invalid("tls certificate fields need tls.mode: manual")
                        .in_field(field("mode")),
                );
            }
            Ok(None)
        }
        "auto" => Err(
            Error::invalid("tls.mode=auto requires an overlay network driver")
                .in_field(field("mode")),
        ),
        "manual" => {
            if has_mtls {
                return Err(Error::invalid(
                    "client certificate authentication (client_ca, client_auth) is not supported",
                )
                .in_field(field("client_auth")));
            }
            let files = (raw.cert.as_deref(), raw.key.as_deref());
            let envs = (raw.cert_env.as_deref(), raw.key_env.as_deref());
            match (files, envs) {
                ((Some(cert), Some(key)), (None, None)) => Ok(Some(TlsFiles {
                    cert: TlsSource::File(cert.into()),
                    key: TlsSource::File(key.into()),
                })),
                ((None, None), (Some(cert), Some(key))) => Ok(Some(TlsFiles {
                    cert: TlsSource::Env(cert.into()),
                    key: TlsSource::Env(key.into()),
                })),
                ((None, None), (None, None)) => Err(Error::invalid(
                    "tls.mode=manual needs cert and key, or cert_env and key_env",
                )
                .in_field(field("cert"))),
                _ => Err(Error::invalid(
                    "tls.mode=manual takes exactly one pair: cert and key, or cert_env and key_env",
                )
                .in_field(field("cert"))),
            }
        }
        other => Err(
            Error::invalid(format!("invalid tls mode {other:?} (\"\", auto or manual)"))
                .in_field(field("mode")),
        ),
    }
}

/// A validated `http.router`.
#[derive(Clone, Debug)]
pub struct RouterConfig {
    /// The server (`meta.server`).
    pub server: EntryId,
    /// `prefix`.
    pub prefix: String,
    /// `middleware` with `options`.
    pub middleware: Vec<String>,
    /// The options of `middleware`.
    pub options: BTreeMap<String, String>,
    /// `post_middleware` with `post_options`.
    pub post_middleware: Vec<String>,
    /// The options of `post_middleware`.
    pub post_options: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawRouter {
    prefix: Option<String>,
    middleware: Option<Vec<String>>,
    options: Option<BTreeMap<String, Value>>,
    post_middleware: Option<Vec<String>>,
    post_options: Option<BTreeMap<String, Value>>,
}

impl RouterConfig {
    /// Decodes and validates an `http.router` entry.
    pub fn from_entry(entry: &Entry) -> Result<RouterConfig> {
        let raw: RawRouter = entry.decode().map_err(Error::from)?;
        let server = meta_ref(entry, "server", "server metadata is required")?;
        Ok(RouterConfig {
            server,
            prefix: raw.prefix.unwrap_or_default().trim().to_string(),
            middleware: raw.middleware.unwrap_or_default(),
            options: options(raw.options.unwrap_or_default()),
            post_middleware: raw.post_middleware.unwrap_or_default(),
            post_options: options(raw.post_options.unwrap_or_default()),
        })
    }
}

/// A validated `http.endpoint`.
#[derive(Clone, Debug)]
pub struct EndpointConfig {
    /// The router (`meta.router`).
    pub router: EntryId,
    /// `method`.
    pub method: String,
    /// `path`, with `:name` segments rewritten to `{name}`.
    pub path: String,
    /// `func`.
    pub func: EntryId,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawEndpoint {
    method: Option<String>,
    path: Option<String>,
    func: Option<String>,
}

impl EndpointConfig {
    /// Decodes and validates an `http.endpoint` entry, in Wippy's order of checks.
    pub fn from_entry(entry: &Entry) -> Result<EndpointConfig> {
        let raw: RawEndpoint = entry.decode().map_err(Error::from)?;
        let func = raw.func.unwrap_or_default();
        let func = func.trim();
        if func.is_empty() {
            return Err(Error::invalid("function name is required").in_field("func"));
        }
        let path = raw.path.unwrap_or_default();
        if path.is_empty() {
            return Err(Error::invalid("path is required").in_field("path"));
        }
        if !path.starts_with('/') {
            return Err(Error::invalid("path must start with /").in_field("path"));
        }
        let method = raw.method.unwrap_or_default();
        if method.is_empty() {
            return Err(Error::invalid("method is required").in_field("method"));
        }
        if !METHODS.contains(&method.as_str()) {
            return Err(Error::invalid(format!("invalid HTTP method: {method}")).in_field("method"));
        }
        if entry.meta.is_empty() {
            return Err(Error::invalid("metadata is required").in_field("meta"));
        }
        let router = meta_ref(entry, "router", "router metadata is required")?;
        Ok(EndpointConfig {
            router,
            method,
            path: colon_params(&path),
            func: EntryId::resolve(func, entry.id.ns()),
        })
    }
}

/// A validated `http.static`.
#[derive(Clone, Debug)]
pub struct StaticConfig {
    /// The server (`meta.server`).
    pub server: EntryId,
    /// `path`: where it is mounted.
    pub path: String,
    /// The `fs.directory` it serves.
    pub fs: EntryId,
    /// Serve `index` for paths that name no file.
    pub spa: bool,
    /// The SPA index file.
    pub index: Option<String>,
    /// `Cache-Control` on every response.
    pub cache: Option<String>,
    /// `middleware` with `options`.
    pub middleware: Vec<String>,
    /// The options of `middleware`.
    pub options: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawStatic {
    path: Option<String>,
    fs: Option<String>,
    static_options: Option<RawStaticOptions>,
    middleware: Option<Vec<String>>,
    options: Option<BTreeMap<String, Value>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawStaticOptions {
    spa: Option<Value>,
    index: Option<String>,
    cache: Option<String>,
}

impl StaticConfig {
    /// Decodes and validates an `http.static` entry; the legacy `options.spa` / `index` /
    /// `cache` move to `static_options` as Wippy moves them.
    pub fn from_entry(entry: &Entry) -> Result<StaticConfig> {
        let raw: RawStatic = entry.decode().map_err(Error::from)?;
        let server = meta_ref(entry, "server", "server metadata is required")?;
        let path = raw.path.unwrap_or_default();
        if path.is_empty() {
            return Err(Error::invalid("path is required").in_field("path"));
        }
        if !path.starts_with('/') {
            return Err(Error::invalid("path must start with /").in_field("path"));
        }
        let fs = raw.fs.unwrap_or_default();
        if fs.trim().is_empty() {
            return Err(Error::invalid("filesystem is required").in_field("fs"));
        }
        let mut options = raw.options.unwrap_or_default();
        let so = raw.static_options.unwrap_or_default();
        let legacy_spa = options.remove("spa");
        let legacy_index = options.remove("index");
        let legacy_cache = options.remove("cache");
        let spa = match so.spa.or(legacy_spa) {
            None => false,
            Some(v) => truthy(&v).ok_or_else(|| {
                Error::invalid(format!(
                    "spa must be true or false, got {}",
                    v.to_display_string()
                ))
                .in_field("static_options.spa")
            })?,
        };
        let text = |v: Value| {
            v.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_display_string())
        };
        let index = so
            .index
            .or(legacy_index.map(text))
            .filter(|s| !s.is_empty());
        let cache = so
            .cache
            .or(legacy_cache.map(text))
            .filter(|s| !s.is_empty());
        if spa && index.is_none() {
            return Err(Error::invalid("index file must be specified for SPA mode")
                .in_field("static_options.index"));
        }
        Ok(StaticConfig {
            server,
            path,
            fs: EntryId::resolve(fs.trim(), entry.id.ns()),
            spa,
            index,
            cache,
            middleware: raw.middleware.unwrap_or_default(),
            options: self::options(options),
        })
    }
}

/// A `meta.<key>` reference, resolved in the entry's namespace.
fn meta_ref(entry: &Entry, key: &str, missing: &str) -> Result<EntryId> {
    match entry.meta_str(key).map(str::trim) {
        Some(id) if !id.is_empty() => Ok(EntryId::resolve(id, entry.id.ns())),
        _ => Err(Error::invalid(missing).in_field(format!("meta.{key}"))),
    }
}

/// Middleware options: Wippy reads a string map; other scalars are written as text.
fn options(raw: BTreeMap<String, Value>) -> BTreeMap<String, String> {
    raw.into_iter()
        .map(|(k, v)| {
            let text = v
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_display_string());
            (k, text)
        })
        .collect()
}

/// A YAML boolean or the strings `"true"` / `"false"`.
fn truthy(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        _ => match v.as_str()?.trim() {
            "true" => Some(true),
            "false" | "" => Some(false),
            _ => None,
        },
    }
}

/// `/users/:id` → `/users/{id}` (Wippy's undocumented rewrite).
fn colon_params(path: &str) -> String {
    path.split('/')
        .map(|seg| match seg.strip_prefix(':') {
            Some(name) if !name.is_empty() => format!("{{{name}}}"),
            _ => seg.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colon_segments_become_wildcards() {
        assert_eq!(
            colon_params("/users/:id/posts/:post"),
            "/users/{id}/posts/{post}"
        );
        assert_eq!(colon_params("/a/:"), "/a/:");
        assert_eq!(colon_params("/"), "/");
    }

    /// An entry `app:x` of `kind` with `data` (and `meta`).
    fn entry(kind: &str, data: serde_json::Value, meta: serde_json::Value) -> Entry {
        let mut e = Entry::new(EntryId::new("app", "x"), kind);
        e.data = serde_json::from_value(data).unwrap();
        if let Value::Map(m) = serde_json::from_value::<Value>(meta).unwrap() {
            e.meta = (*m).clone();
        }
        e
    }

    /// The error of a service config: (field, message).
    fn service_error(data: serde_json::Value) -> (String, String) {
        let e = ServiceConfig::from_entry(&entry("http.service", data, serde_json::json!({})))
            .unwrap_err();
        (e.context_chain().join(","), e.message().to_string())
    }

    #[test]
    fn bad_service_fields_are_named() {
        use serde_json::json;
        let cases = [
            (json!({}), "addr", "address is required"),
            (
                json!({"addr": ":8080", "timeouts": {"read": "soon"}}),
                "timeouts.read",
                "invalid read timeout",
            ),
            (
                json!({"addr": ":8080", "timeouts": {"read": "-1s"}}),
                "timeouts.read",
                "invalid read timeout",
            ),
            (
                json!({"addr": ":8080", "timeouts": {"slow": "1s"}}),
                "timeouts.slow",
                "unknown timeout",
            ),
            (
                json!({"addr": ":8080", "host": {"buffer_size": -1}}),
                "host.buffer_size",
                "buffer size must be non-negative",
            ),
            (
                json!({"addr": ":8080", "max_header_bytes": 10}),
                "max_header_bytes",
                "between 8192",
            ),
            (
                json!({"addr": ":8080", "tls": {"mode": "auto"}}),
                "tls.mode",
                "overlay network",
            ),
            (
                json!({"addr": ":8080", "tls": {"mode": "manual", "cert": "c.pem"}}),
                "tls.cert",
                "exactly one pair",
            ),
            (
                json!({"addr": ":8080", "tls": {"mode": "manual"}}),
                "tls.cert",
                "needs cert and key",
            ),
            (
                json!({"addr": ":8080", "tls": {"cert": "c.pem", "key": "k.pem"}}),
                "tls.mode",
                "tls.mode: manual",
            ),
            (
                json!({"addr": ":8080", "tls": {"mode": "manual", "cert": "c", "key": "k", "client_auth": "require_any"}}),
                "tls.client_auth",
                "not supported",
            ),
            (
                json!({"addr": ":8080", "tls": {"mode": "sometimes"}}),
                "tls.mode",
                "invalid tls mode",
            ),
        ];
        for (data, field, message) in cases {
            let (got_field, got) = service_error(data.clone());
            assert!(got_field.ends_with(field), "{data}: field {got_field}");
            assert!(got.contains(message), "{data}: {got}");
        }
        let ok = ServiceConfig::from_entry(&entry(
            "http.service",
            json!({"addr": "127.0.0.1:0", "timeouts": {"read_header": "2s", "idle": 0}}),
            json!({}),
        ))
        .unwrap();
        assert_eq!(ok.timeouts.head(), std::time::Duration::from_secs(2));
        assert_eq!(ok.timeouts.idle, None);
    }

    #[test]
    fn static_mounts_read_the_legacy_options_and_need_an_index_for_spa() {
        use serde_json::json;
        let meta = json!({"server": "gateway"});
        let legacy = StaticConfig::from_entry(&entry(
            "http.static",
            json!({"path": "/", "fs": "public", "options": {"spa": "true", "index": "index.html", "cache": "no-cache", "compress.level": 9}}),
            meta.clone(),
        ))
        .unwrap();
        assert!(legacy.spa);
        assert_eq!(legacy.index.as_deref(), Some("index.html"));
        assert_eq!(legacy.cache.as_deref(), Some("no-cache"));
        assert_eq!(legacy.fs.as_str(), "app:public");
        assert_eq!(
            legacy.options.get("compress.level").map(String::as_str),
            Some("9")
        );
        for (data, message) in [
            (
                json!({"path": "/", "fs": "p", "static_options": {"spa": true}}),
                "index file must be specified",
            ),
            (json!({"path": "x", "fs": "p"}), "path must start with /"),
            (
                json!({"path": "/", "fs": "p", "options": {"spa": "maybe"}}),
                "spa must be true or false",
            ),
            (json!({"path": "/"}), "filesystem is required"),
        ] {
            let e = StaticConfig::from_entry(&entry("http.static", data.clone(), meta.clone()))
                .unwrap_err();
            assert!(e.message().contains(message), "{data}: {e}");
        }
        let e = StaticConfig::from_entry(&entry(
            "http.static",
            json!({"path": "/", "fs": "p"}),
            json!({}),
        ))
        .unwrap_err();
        assert_eq!(e.message(), "server metadata is required");
        let e = RouterConfig::from_entry(&entry("http.router", json!({}), json!({}))).unwrap_err();
        assert_eq!(e.message(), "server metadata is required");
    }

    #[test]
    fn addresses_need_a_port() {
        assert_eq!(parse_addr(":8085").unwrap(), "0.0.0.0:8085");
        assert_eq!(parse_addr("127.0.0.1:0").unwrap(), "127.0.0.1:0");
        assert!(parse_addr("localhost").is_err());
        assert!(parse_addr(":http").is_err());
        assert!(parse_addr(":99999").is_err());
    }
}

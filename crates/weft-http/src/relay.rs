//! What the WebSocket and SSE relays share (reference §1.11, §1.12): the process each
//! relayed connection runs as, the relay command's fields, the payload encodings and the
//! origin patterns.
//!
//! A relayed connection is a process on the server's host (`{app:gateway|…}`, as Wippy's
//! `pidGen.Generate(<server id>)`), so process code addresses it like any other: it is
//! spawned from the entry `weft.http:relay`, whose factory runs the connection's body
//! handed over by the middleware (a token in the spawn's arguments picks it).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use parking_lot::Mutex;
use weft_core::{BoxFuture, CallContext, EntryId, Error, Result, Value};
use weft_runtime::{Pid, ProcessFactory, Runtime, Spawn};

use crate::pipeline::RequestFrame;

/// The entry every relayed connection runs as.
pub(crate) const RELAY_ENTRY: &str = "weft.http:relay";

/// A connection's body, run once in its process' context.
pub(crate) type Job = Box<dyn FnOnce(CallContext) -> BoxFuture<Result<Value>> + Send>;

/// Bodies handed to processes being spawned, by token.
static PENDING: LazyLock<Mutex<HashMap<u64, Job>>> = LazyLock::new(Default::default);
static NEXT: AtomicU64 = AtomicU64::new(1);

/// The factory of `weft.http:relay`.
struct RelayProcess;

impl ProcessFactory for RelayProcess {
    fn run(&self, cx: CallContext, args: Vec<Value>) -> BoxFuture<Result<Value>> {
        let job = match args.first() {
            Some(Value::Int(token)) => PENDING.lock().remove(&(*token as u64)),
            _ => None,
        };
        match job {
            Some(job) => job(cx),
            None => Box::pin(std::future::ready(Err(Error::invalid(
                "weft.http:relay runs only as a connection of an HTTP relay",
            )))),
        }
    }
}

/// Spawns a relayed connection on the request's server: `job` runs as its process with
/// the request's actor and scope. The runtime spawns it (no `process.spawn` check: the
/// app's own configuration asked for the relay).
pub(crate) fn spawn(rt: &Arc<Runtime>, frame: &RequestFrame, job: Job) -> Result<Pid> {
    if rt.factories.get(RELAY_ENTRY).is_none() {
        rt.factories.register(
            EntryId::parse(RELAY_ENTRY).expect("a valid id"),
            Arc::new(RelayProcess),
        );
    }
    let token = NEXT.fetch_add(1, Ordering::Relaxed);
    PENDING.lock().insert(token, job);
    let mut req = Spawn::new(
        RELAY_ENTRY,
        frame.server.as_str(),
        vec![Value::Int(token as i64)],
    );
    req.actor = frame.cx.actor().cloned();
    req.scope = frame.cx.scope().cloned();
    rt.processes
        .spawn(rt, &rt.system_context(), req)
        .inspect_err(|_| {
            PENDING.lock().remove(&token);
        })
}

/// The relay command of `X-WS-Relay` / `X-SSE-Relay`: `{target_pid, message_topic?,
/// heartbeat_interval?, metadata?}`, plus the SSE timeouts.
#[derive(Clone, Debug, Default)]
pub(crate) struct Command {
    pub target_pid: Option<String>,
    pub message_topic: Option<String>,
    pub heartbeat_interval: Option<Duration>,
    pub idle_timeout: Option<Duration>,
    pub hard_timeout: Option<Duration>,
    pub metadata: Value,
}

impl Command {
    /// Parses the header's JSON; the error says what is wrong.
    pub fn parse(text: &[u8]) -> std::result::Result<Command, String> {
        let value: Value = serde_json::from_slice(text).map_err(|e| e.to_string())?;
        Command::from_value(&value)
    }

    /// Reads the fields of a map (the header's JSON, a `*.control` payload).
    pub fn from_value(value: &Value) -> std::result::Result<Command, String> {
        let Value::Map(map) = value else {
            return Err("the relay command must be a JSON object".into());
        };
        let text = |key: &str| -> std::result::Result<Option<String>, String> {
            match map.get(key) {
                None | Some(Value::Nil) => Ok(None),
                Some(Value::Str(s)) => Ok(Some(String::from_utf8_lossy(s).into_owned())),
                Some(_) => Err(format!("{key} must be a string")),
            }
        };
        Ok(Command {
            target_pid: text("target_pid")?.filter(|s| !s.is_empty()),
            message_topic: text("message_topic")?.filter(|s| !s.is_empty()),
            heartbeat_interval: duration(map.get("heartbeat_interval"), "heartbeat_interval")?,
            idle_timeout: duration(map.get("idle_timeout"), "idle_timeout")?,
            hard_timeout: duration(map.get("hard_timeout"), "hard_timeout")?,
            metadata: map.get("metadata").cloned().unwrap_or(Value::Nil),
        })
    }
}

/// A duration field: a number of nanoseconds (Go's `time.Duration` in JSON) or a Go
/// duration string (`"30s"`); zero or absent is none.
fn duration(v: Option<&Value>, key: &str) -> std::result::Result<Option<Duration>, String> {
    let d = match v {
        None | Some(Value::Nil) => return Ok(None),
        Some(Value::Int(n)) if *n >= 0 => Duration::from_nanos(*n as u64),
        Some(Value::Float(f)) if *f >= 0.0 => Duration::from_nanos(*f as u64),
        Some(Value::Str(s)) => weft_time::parse_std_duration(&String::from_utf8_lossy(s))
            .map_err(|e| format!("{key}: {e}"))?,
        Some(_) => return Err(format!("{key} must be a duration")),
    };
    Ok((!d.is_zero()).then_some(d))
}

/// A message's payload as one value: the only one, nil for none, an array for several.
pub(crate) fn payload(mut values: Vec<Value>) -> Value {
    match values.len() {
        0 => Value::Nil,
        1 => values.pop().unwrap_or(Value::Nil),
        _ => Value::Array(Arc::new(values)),
    }
}

/// A payload as JSON text: a UTF-8 string as a JSON string, other bytes as base64, the
/// rest transcoded.
pub(crate) fn json(value: &Value) -> String {
    match value {
        Value::Str(b) if std::str::from_utf8(b).is_err() => {
            use base64::Engine;
            serde_json::to_string(&base64::engine::general_purpose::STANDARD.encode(b))
                .unwrap_or_default()
        }
        other => serde_json::to_string(other).unwrap_or_else(|_| "null".into()),
    }
}

/// A payload as the text of one frame or event: a UTF-8 string as it is, the rest as
/// [`json`].
pub(crate) fn text(value: &Value) -> String {
    match value {
        Value::Str(b) => match std::str::from_utf8(b) {
            Ok(s) => s.to_string(),
            Err(_) => json(value),
        },
        other => json(other),
    }
}

/// A map value from pairs.
pub(crate) fn map(pairs: Vec<(&str, Value)>) -> Value {
    let mut m = weft_core::Map::new();
    for (k, v) in pairs {
        m.insert(k.to_string(), v);
    }
    Value::Map(Arc::new(m))
}

/// The origin patterns of a relay: `<prefix>.allowed.origins`, else `allow_origins`,
/// else `allowed_origins`, a comma list.
pub(crate) fn origin_patterns(
    options: &std::collections::BTreeMap<String, String>,
    key: &str,
) -> Vec<String> {
    crate::middleware::option(options, key, "allow_origins")
        .or_else(|| crate::middleware::option(options, "allowed_origins", "allowed_origins"))
        .map(|list| {
            list.split(',')
                .map(|p| p.trim().to_ascii_lowercase())
                .filter(|p| !p.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// Go's `path.Match` for the patterns here: `*` any run of characters but `/`, `?` one
/// character, the rest literal (compared lower-case).
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    fn go(p: &[char], t: &[char]) -> bool {
        match p.first() {
            None => t.is_empty(),
            Some('*') => (0..=t.len())
                .take_while(|&i| i == 0 || t[i - 1] != '/')
                .any(|i| go(&p[1..], &t[i..])),
            Some('?') => !t.is_empty() && t[0] != '/' && go(&p[1..], &t[1..]),
            Some(c) => t.first() == Some(c) && go(&p[1..], &t[1..]),
        }
    }
    go(&p, &t)
}

/// The server's stop signal, in the requests of a server with relays: a relayed
/// connection ends when its server stops.
#[derive(Clone)]
pub(crate) struct Stopping(pub tokio::sync::watch::Receiver<bool>);

impl Stopping {
    /// Resolves once the server stops (at once when it has).
    pub async fn wait(mut self) {
        let _ = self.0.wait_for(|stopping| *stopping).await;
    }
}

/// Resolves when `stop` does; never without one.
pub(crate) async fn stopped(stop: &Option<Stopping>) {
    match stop {
        Some(s) => s.clone().wait().await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_path_match() {
        assert!(glob("*", "example.com"));
        assert!(glob("*.example.com", "app.example.com"));
        assert!(!glob("*.example.com", "example.com"));
        assert!(glob("localhost:*", "localhost:3000"));
        assert!(!glob("a?c", "a/c"));
    }

    #[test]
    fn commands_parse_with_go_and_string_durations() {
        let c = Command::parse(
            br#"{"target_pid":"{a|1}","heartbeat_interval":5000000000,"metadata":{"room":"x"}}"#,
        )
        .unwrap();
        assert_eq!(c.target_pid.as_deref(), Some("{a|1}"));
        assert_eq!(c.heartbeat_interval, Some(Duration::from_secs(5)));
        let c = Command::parse(br#"{"idle_timeout":"1.5s"}"#).unwrap();
        assert_eq!(c.idle_timeout, Some(Duration::from_millis(1500)));
        assert!(Command::parse(b"[1]").is_err());
        assert!(Command::parse(br#"{"target_pid":1}"#).is_err());
    }

    #[test]
    fn payloads_encode_as_the_reference_says() {
        assert_eq!(json(&Value::str("hi")), "\"hi\"");
        assert_eq!(json(&Value::bytes(vec![0xff, 0])), "\"/wA=\"");
        assert_eq!(text(&Value::str("hi")), "hi");
        assert_eq!(json(&map(vec![("a", Value::Int(1))])), r#"{"a":1}"#);
    }
}

//! `websocket_relay`: a Lua endpoint turns its request into a WebSocket relayed to a
//! process (reference §1.11).
//!
//! The handler runs first; when its response carries `X-WS-Relay` (the JSON command
//! `{target_pid, message_topic?, heartbeat_interval?, metadata?}`), the header is
//! removed, the handshake checked, and the connection answers 101 and becomes a process
//! on the server's host that monitors the target:
//!
//! - it sends the target `ws.join` `{client_pid, metadata}`; each text frame from the
//!   client goes to the target as a string on `message_topic` (default `ws.message`), each
//!   binary frame as bytes; every `heartbeat_interval` (default 30 s) `ws.heartbeat`
//!   `{client_pid, uptime, message_count, metadata}`;
//! - any message sent to its pid becomes one text frame `{"data":…,"topic":"…"}`, except
//!   `ws.control` (a command's fields: retarget, topic, heartbeat, metadata) and
//!   `ws.close` (close, the payload string as the reason);
//! - the target's EXIT closes the socket (`target process exited`); a client that closes
//!   or vanishes sends `ws.leave` `{client_pid, metadata}` and the process completes with
//!   `websocket connection closed`.
//!
//! Limits (weft's options): `wsrelay.max_message_size` (bytes, default 1 MiB: a larger
//! message or frame closes with 1009), `wsrelay.max_pending` (messages waiting for a
//! client, default 1024: past it the client is too slow and is disconnected with 1008),
//! `wsrelay.write_timeout` (`10s`: a frame the client does not take within it
//! disconnects it). Frames from a client whose target's mailbox is full wait (no more are
//! read) until it has room, for up to the write timeout, then the client is disconnected.

use std::collections::BTreeMap;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use http::{HeaderValue, StatusCode, header};
use hyper_util::rt::TokioIo;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use weft_core::{CallContext, ErrorKind, Result, Value};
use weft_runtime::{EventKind, Runtime};

use super::{Layer, MiddlewareContext, duration_option, number_option};
use crate::pipeline::{Handler, HttpRequest, HttpResponse, RequestFrame, handler_fn, text_error};
use crate::relay::{self, Command, Stopping};

const HEADER: &str = "x-ws-relay";
const DEFAULT_TOPIC: &str = "ws.message";
const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(30);
/// The shortest heartbeat (a command asking for less gets this).
const MIN_HEARTBEAT: Duration = Duration::from_millis(100);

/// The relay's settings.
#[derive(Clone)]
struct Settings {
    origins: Vec<String>,
    max_message: usize,
    max_pending: usize,
    write_timeout: Duration,
    rt: Weak<Runtime>,
}

/// Makes `websocket_relay` from its options.
pub(super) fn make(options: &BTreeMap<String, String>, cx: &MiddlewareContext) -> Result<Layer> {
    let max_message = number_option(
        options,
        "wsrelay.max_message_size",
        "wsrelay.max_message_size",
        1 << 20,
        1,
    )? as usize;
    let max_pending = number_option(
        options,
        "wsrelay.max_pending",
        "wsrelay.max_pending",
        1024,
        1,
    )? as usize;
    let (write_timeout, _) = duration_option(options, "wsrelay.write_timeout", "10s")?;
    let settings = Arc::new(Settings {
        origins: relay::origin_patterns(options, "wsrelay.allowed.origins"),
        max_message,
        max_pending,
        write_timeout,
        rt: cx.rt.clone(),
    });
    Ok(Arc::new(move |next: Handler| {
        let settings = settings.clone();
        handler_fn(move |req| {
            let settings = settings.clone();
            let next = next.clone();
            async move { serve(settings, next, req).await }
        })
    }))
}

/// Runs the handler, then relays if it asked to.
async fn serve(settings: Arc<Settings>, next: Handler, mut req: HttpRequest) -> HttpResponse {
    let upgrade = req.extensions_mut().remove::<hyper::upgrade::OnUpgrade>();
    let handshake = Handshake::of(&req);
    let frame = req.extensions().get::<RequestFrame>().cloned();
    let stop = req.extensions().get::<Stopping>().cloned();
    let mut res = crate::pipeline::call(next, req).await;
    let Some(raw) = res.headers_mut().remove(HEADER) else {
        return res;
    };
    let cmd = match Command::parse(raw.as_bytes()) {
        Ok(cmd) => cmd,
        Err(e) => {
            tracing::warn!(error = %e, "websocket_relay: invalid X-WS-Relay command");
            return res;
        }
    };
    let Some(target) = cmd.target_pid.clone().filter(|t| is_pid(t)) else {
        return text_error(
            StatusCode::BAD_REQUEST,
            &format!(
                "Invalid target PID: {:?}",
                cmd.target_pid.unwrap_or_default()
            ),
        );
    };
    let (Some(frame), Ok(rt)) = (frame, Runtime::upgrade(&settings.rt)) else {
        return text_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "websocket relay unavailable",
        );
    };
    if rt.processes.get(&target).is_none() {
        return text_error(
            StatusCode::BAD_REQUEST,
            &format!("Invalid target PID: process not found: {target}"),
        );
    }
    let key = match handshake.check(&settings.origins) {
        Ok(key) => key,
        Err(res) => return *res,
    };
    let Some(upgrade) = upgrade else {
        return text_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "websocket relay: this connection cannot be upgraded",
        );
    };
    let conn = Conn {
        settings: settings.clone(),
        cmd,
        target,
        stop,
    };
    let job: relay::Job = Box::new(move |cx| Box::pin(conn.run(cx, upgrade)));
    if let Err(e) = relay::spawn(&rt, &frame, job) {
        return text_error(StatusCode::SERVICE_UNAVAILABLE, e.message());
    }
    let mut out = crate::pipeline::status_only(StatusCode::SWITCHING_PROTOCOLS);
    let headers = out.headers_mut();
    for cookie in res.headers().get_all(header::SET_COOKIE) {
        headers.append(header::SET_COOKIE, cookie.clone());
    }
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    if let Ok(accept) = HeaderValue::try_from(
        tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes()),
    ) {
        headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    }
    out
}

/// A pid in its string form, `{host|id}`.
fn is_pid(s: &str) -> bool {
    s.len() > 3 && s.starts_with('{') && s.ends_with('}') && s.contains('|')
}

/// What the handshake needs of the request, read before the handler takes it.
struct Handshake {
    get: bool,
    upgrade: bool,
    connection: bool,
    version: bool,
    key: Option<String>,
    origin: Option<String>,
    host: Option<String>,
}

impl Handshake {
    fn of(req: &HttpRequest) -> Handshake {
        let h = req.headers();
        let has = |name: header::HeaderName, token: &str| {
            h.get_all(name).iter().any(|v| {
                v.to_str()
                    .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
            })
        };
        let text = |name: header::HeaderName| {
            h.get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        Handshake {
            get: req.method() == http::Method::GET,
            upgrade: has(header::UPGRADE, "websocket"),
            connection: has(header::CONNECTION, "upgrade"),
            version: h
                .get(header::SEC_WEBSOCKET_VERSION)
                .is_some_and(|v| v.as_bytes() == b"13"),
            key: text(header::SEC_WEBSOCKET_KEY),
            origin: text(header::ORIGIN),
            host: text(header::HOST).or_else(|| req.uri().authority().map(|a| a.to_string())),
        }
    }

    /// The client's key, or the refusal (coder/websocket's rules: 400 for a request
    /// that is no WebSocket handshake, 426 for another version, 403 for an origin not
    /// allowed: none, the request's host, or one matching a pattern passes).
    fn check(self, origins: &[String]) -> std::result::Result<String, Box<HttpResponse>> {
        if !self.get || !self.upgrade || !self.connection {
            let mut res = text_error(
                StatusCode::BAD_REQUEST,
                "WebSocket protocol violation: not a WebSocket handshake (GET with Connection: Upgrade and Upgrade: websocket)",
            );
            if self.get {
                *res.status_mut() = StatusCode::UPGRADE_REQUIRED;
                res.headers_mut()
                    .insert(header::UPGRADE, HeaderValue::from_static("websocket"));
            }
            return Err(Box::new(res));
        }
        if !self.version {
            let mut res = text_error(
                StatusCode::BAD_REQUEST,
                "unsupported WebSocket protocol version (only 13 is supported)",
            );
            res.headers_mut().insert(
                header::SEC_WEBSOCKET_VERSION,
                HeaderValue::from_static("13"),
            );
            return Err(Box::new(res));
        }
        let Some(key) = self.key.filter(|k| !k.is_empty()) else {
            return Err(Box::new(text_error(
                StatusCode::BAD_REQUEST,
                "WebSocket protocol violation: missing Sec-WebSocket-Key",
            )));
        };
        if let Some(origin) = &self.origin {
            let origin_host = url::Url::parse(origin).ok().and_then(|u| {
                u.host_str().map(|h| match u.port() {
                    Some(p) => format!("{h}:{p}"),
                    None => h.to_string(),
                })
            });
            let Some(origin_host) = origin_host.map(|h| h.to_ascii_lowercase()) else {
                return Err(Box::new(text_error(
                    StatusCode::FORBIDDEN,
                    &format!("request Origin {origin:?} is not a valid URL with a host"),
                )));
            };
            let same = self
                .host
                .as_deref()
                .is_some_and(|h| h.eq_ignore_ascii_case(&origin_host));
            let allowed = same
                || origins
                    .iter()
                    .any(|p| relay::glob(p, &origin_host) || p == "*");
            if !allowed {
                return Err(Box::new(text_error(
                    StatusCode::FORBIDDEN,
                    &format!(
                        "request Origin {origin:?} is not authorized for Host {:?}",
                        self.host.unwrap_or_default()
                    ),
                )));
            }
        }
        Ok(key)
    }
}

/// One relayed connection, before it runs.
struct Conn {
    settings: Arc<Settings>,
    cmd: Command,
    target: String,
    stop: Option<Stopping>,
}

/// Why a connection ends.
enum End {
    /// The client closed or vanished: `ws.leave`.
    Client,
    /// The server closes with this code and reason, after `ws.leave`.
    Close(CloseCode, String),
    /// The target exited: close, no `ws.leave`.
    TargetExit,
}

impl Conn {
    /// The connection's process body.
    async fn run(self, cx: CallContext, upgrade: hyper::upgrade::OnUpgrade) -> Result<Value> {
        let rt = Runtime::upgrade(&self.settings.rt)?;
        let me: String = cx.pid().unwrap_or_default().to_string();
        let receivers = rt
            .processes
            .get(&me)
            .and_then(|p| p.take_receivers())
            .ok_or_else(|| weft_core::Error::internal("relay process has no mailbox"))?;
        let (mut mailbox, mut events) = (receivers.mailbox, receivers.events);
        let upgraded = match tokio::time::timeout(self.settings.write_timeout, upgrade).await {
            Ok(Ok(u)) => u,
            _ => return Ok(Value::str("websocket upgrade failed")),
        };
        let config = WebSocketConfig::default()
            .max_message_size(Some(self.settings.max_message))
            .max_frame_size(Some(self.settings.max_message))
            .max_write_buffer_size(self.settings.max_message.saturating_mul(2).max(1 << 20));
        let mut ws =
            WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config))
                .await;
        let Conn {
            settings,
            cmd,
            mut target,
            stop,
        } = self;
        let mut topic = cmd
            .message_topic
            .clone()
            .unwrap_or_else(|| DEFAULT_TOPIC.into());
        let mut metadata = cmd.metadata.clone();
        let mut every = cmd
            .heartbeat_interval
            .unwrap_or(DEFAULT_HEARTBEAT)
            .max(MIN_HEARTBEAT);
        let started = Instant::now();
        let mut count: i64 = 0;
        let client = Value::str(me.clone());
        let who = |metadata: &Value| {
            relay::map(vec![
                ("client_pid", client.clone()),
                ("metadata", metadata.clone()),
            ])
        };
        if rt.processes.monitor(&cx, &target).is_err() {
            close(&mut ws, CloseCode::Normal, "target process exited").await;
            return Ok(Value::str("target process exited"));
        }
        let _ = rt
            .processes
            .send(&cx, &target, "ws.join", vec![who(&metadata)]);
        let mut beat = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        let end = loop {
            tokio::select! {
                frame = ws.next() => {
                    let value = match frame {
                        Some(Ok(Message::Text(t))) => Value::str(t.as_str()),
                        Some(Ok(Message::Binary(b))) => Value::bytes(b),
                        Some(Ok(Message::Close(_))) | None => break End::Client,
                        Some(Ok(_)) => continue,
                        Some(Err(tokio_tungstenite::tungstenite::Error::Capacity(e))) => {
                            break End::Close(CloseCode::Size, e.to_string());
                        }
                        Some(Err(_)) => break End::Client,
                    };
                    count += 1;
                    if let Err(why) = deliver(&rt, &cx, &target, &topic, value, settings.write_timeout).await {
                        break why;
                    }
                }
                msg = mailbox.recv() => {
                    let Some(msg) = msg else { break End::Client };
                    match msg.topic.as_str() {
                        "ws.close" => {
                            let reason = match relay::payload(msg.payload) {
                                Value::Nil => String::new(),
                                v => relay::text(&v),
                            };
                            break End::Close(CloseCode::Normal, reason);
                        }
                        "ws.control" => {
                            let Ok(c) = Command::from_value(&relay::payload(msg.payload)) else {
                                continue;
                            };
                            if let Some(t) = c.message_topic { topic = t; }
                            if !matches!(c.metadata, Value::Nil) { metadata = c.metadata; }
                            if let Some(h) = c.heartbeat_interval {
                                every = h.max(MIN_HEARTBEAT);
                                beat = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
                            }
                            if let Some(new) = c.target_pid.filter(|t| is_pid(t) && *t != target) {
                                let _ = rt.processes.send(&cx, &target, "ws.leave", vec![who(&metadata)]);
                                let _ = rt.processes.unmonitor(&cx, &target);
                                target = new;
                                if rt.processes.monitor(&cx, &target).is_err() {
                                    break End::TargetExit;
                                }
                                let _ = rt.processes.send(&cx, &target, "ws.join", vec![who(&metadata)]);
                            }
                        }
                        _ => {
                            if mailbox.len() >= settings.max_pending {
                                break End::Close(CloseCode::Policy, "client too slow".into());
                            }
                            let data = relay::json(&relay::payload(msg.payload));
                            let topic = serde_json::to_string(&msg.topic).unwrap_or_default();
                            let text = format!("{{\"data\":{data},\"topic\":{topic}}}");
                            match write(&mut ws, Message::text(text), &mailbox, &settings).await {
                                Ok(()) => {}
                                Err(end) => break end,
                            }
                        }
                    }
                }
                event = events.recv() => match event.map(|e| (e.kind, e.from)) {
                    Some((EventKind::Exit(_), from)) if *from == *target => break End::TargetExit,
                    Some((EventKind::Cancel(_), _)) => break End::Close(CloseCode::Away, "connection stopped".into()),
                    Some(_) => {}
                    None => break End::Client,
                },
                _ = beat.tick() => {
                    let uptime = started.elapsed().as_secs_f64();
                    let _ = rt.processes.send(&cx, &target, "ws.heartbeat", vec![relay::map(vec![
                        ("client_pid", client.clone()),
                        ("uptime", Value::Float(uptime)),
                        ("message_count", Value::Int(count)),
                        ("metadata", metadata.clone()),
                    ])]);
                }
                _ = relay::stopped(&stop) => break End::Close(CloseCode::Away, "server shutting down".into()),
            }
        };
        match end {
            End::TargetExit => {
                close(&mut ws, CloseCode::Normal, "target process exited").await;
                Ok(Value::str("target process exited"))
            }
            End::Client | End::Close(..) => {
                if let End::Close(code, reason) = end {
                    close(&mut ws, code, &reason).await;
                }
                let _ = rt
                    .processes
                    .send(&cx, &target, "ws.leave", vec![who(&metadata)]);
                let _ = rt.processes.unmonitor(&cx, &target);
                Ok(Value::str("websocket connection closed"))
            }
        }
    }
}

/// Writes one frame to a client: a client that does not take it within the write
/// timeout, or for whom `max_pending` messages pile up meanwhile, is too slow.
async fn write<S>(
    ws: &mut WebSocketStream<S>,
    msg: Message,
    mailbox: &tokio::sync::mpsc::Receiver<weft_runtime::Message>,
    settings: &Settings,
) -> std::result::Result<(), End>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let too_slow = || End::Close(CloseCode::Policy, "client too slow".into());
    let send = ws.send(msg);
    tokio::pin!(send);
    // Most frames go out at once: no timers for them.
    if let std::task::Poll::Ready(sent) = futures::poll!(&mut send) {
        return sent.map_err(|_| End::Client);
    }
    let deadline = tokio::time::sleep(settings.write_timeout);
    tokio::pin!(deadline);
    let mut check = tokio::time::interval(Duration::from_millis(10));
    loop {
        tokio::select! {
            sent = &mut send => return sent.map_err(|_| End::Client),
            () = &mut deadline => return Err(too_slow()),
            _ = check.tick() => {
                if mailbox.len() >= settings.max_pending {
                    return Err(too_slow());
                }
            }
        }
    }
}

/// Sends a client's message to the target; a full mailbox is retried (the client's
/// frames wait meanwhile) until `patience` runs out.
async fn deliver(
    rt: &Runtime,
    cx: &CallContext,
    target: &str,
    topic: &str,
    value: Value,
    patience: Duration,
) -> std::result::Result<(), End> {
    let deadline = Instant::now() + patience;
    let mut wait = Duration::from_millis(1);
    loop {
        match rt.processes.send(cx, target, topic, vec![value.clone()]) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == ErrorKind::RateLimited && Instant::now() < deadline => {
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_millis(50));
            }
            Err(e) if e.kind() == ErrorKind::RateLimited => {
                return Err(End::Close(
                    CloseCode::Again,
                    "target is not keeping up".into(),
                ));
            }
            // A target that is gone: its EXIT closes the socket.
            Err(_) => return Ok(()),
        }
    }
}

/// Sends a close frame (bounded in time) and lets the socket go.
async fn close<S>(ws: &mut WebSocketStream<S>, code: CloseCode, reason: &str)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut reason = reason.to_string();
    // A close frame's reason holds at most 123 bytes.
    while reason.len() > 123 {
        reason.pop();
    }
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = tokio::time::timeout(Duration::from_secs(2), ws.close(Some(frame))).await;
}

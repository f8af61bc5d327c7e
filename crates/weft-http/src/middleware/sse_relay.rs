//! `sse_relay`: a Lua endpoint turns its response into a server-sent event stream fed
//! by process messages (reference §1.12).
//!
//! The handler runs first; when its response carries `X-SSE-Relay` (the JSON command
//! `{target_pid?, message_topic?, heartbeat_interval?, idle_timeout?, hard_timeout?,
//! metadata?}`), the header is removed and the response becomes `text/event-stream`
//! (`Cache-Control: no-cache`, `Connection: keep-alive`, `X-Accel-Buffering: no`), fed
//! by a stream process on the server's host:
//!
//! - **managed** (`target_pid` set): the process monitors the target and sends it
//!   `sse.join` / `sse.leave` `{stream_pid, client_pid, metadata}` and, every heartbeat,
//!   `sse.heartbeat` `{stream_pid, client_pid, uptime, message_count, metadata}`; the
//!   target's EXIT ends the stream;
//! - **detached** (no target): the first event is `ready` `{stream_pid, message_topic,
//!   metadata?}`, so the page can hand its stream pid to whoever publishes.
//!
//! Each message sent to the stream pid is one event named by its topic, its data the
//! payload (a string as it is, anything else as JSON, one `data:` line per line);
//! `sse.close` ends the stream with its payload as the reason. Every
//! `heartbeat_interval` (default 30 s) a `: ping` comment goes out. `idle_timeout` (no
//! message for that long) and `hard_timeout` end it with `event: done`, data
//! `{"reason":"idle timeout"|"hard timeout"|…}`.
//!
//! Refused (the handler's response goes out unchanged, with a warning): a response that
//! is not a 200, or a body the handler already wrote. An origin outside the patterns
//! (`sserelay.allowed.origins`, legacy `allow_origins`/`allowed_origins`; `*`, exact, or
//! `path.Match` on the full origin; none: same origin only) is 403 `origin is not
//! allowed`. A client slower than `sserelay.write_timeout` (`10s`) for one event, or
//! with more than `sserelay.max_pending` (1024) messages waiting, is disconnected.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use http_body::{Body as _, Frame};
use http_body_util::BodyExt;
use tokio::sync::mpsc;
use weft_core::{CallContext, Result, Value};
use weft_runtime::{EventKind, Runtime};

use super::{Layer, MiddlewareContext, duration_option, number_option};
use crate::pipeline::{
    BoxError, Handler, HttpRequest, HttpResponse, RequestFrame, handler_fn, text_error,
};
use crate::relay::{self, Command, Stopping};

const HEADER: &str = "x-sse-relay";
const DEFAULT_TOPIC: &str = "sse.message";
const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(30);
const MIN_HEARTBEAT: Duration = Duration::from_millis(100);
/// Events buffered for the client's connection.
const BUFFER: usize = 64;

struct Settings {
    origins: Vec<String>,
    max_pending: usize,
    write_timeout: Duration,
    rt: Weak<Runtime>,
}

/// Makes `sse_relay` from its options.
pub(super) fn make(options: &BTreeMap<String, String>, cx: &MiddlewareContext) -> Result<Layer> {
    let max_pending = number_option(
        options,
        "sserelay.max_pending",
        "sserelay.max_pending",
        1024,
        1,
    )? as usize;
    let (write_timeout, _) = duration_option(options, "sserelay.write_timeout", "10s")?;
    let settings = Arc::new(Settings {
        origins: relay::origin_patterns(options, "sserelay.allowed.origins"),
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

async fn serve(settings: Arc<Settings>, next: Handler, req: HttpRequest) -> HttpResponse {
    let frame = req.extensions().get::<RequestFrame>().cloned();
    let stop = req.extensions().get::<Stopping>().cloned();
    let origin_ok = origin_allowed(&req, &settings.origins);
    let mut res = crate::pipeline::call(next, req).await;
    let Some(raw) = res.headers_mut().remove(HEADER) else {
        return res;
    };
    if res.status() != StatusCode::OK || res.body().size_hint().lower() > 0 {
        tracing::warn!("sse_relay: the handler already answered; X-SSE-Relay ignored");
        return res;
    }
    let cmd = match Command::parse(raw.as_bytes()) {
        Ok(cmd) => cmd,
        Err(e) => {
            tracing::warn!(error = %e, "sse_relay: invalid X-SSE-Relay command");
            return res;
        }
    };
    if !origin_ok {
        return text_error(StatusCode::FORBIDDEN, "origin is not allowed");
    }
    let (Some(frame), Ok(rt)) = (frame, Runtime::upgrade(&settings.rt)) else {
        return text_error(StatusCode::INTERNAL_SERVER_ERROR, "sse relay unavailable");
    };
    if let Some(target) = &cmd.target_pid
        && rt.processes.get(target).is_none()
    {
        return text_error(
            StatusCode::BAD_REQUEST,
            &format!("Invalid target PID: process not found: {target}"),
        );
    }
    let (tx, rx) = mpsc::channel(BUFFER);
    let stream = Stream {
        settings: settings.clone(),
        cmd,
        stop,
        tx,
    };
    let job: relay::Job = Box::new(move |cx| Box::pin(stream.run(cx)));
    if let Err(e) = relay::spawn(&rt, &frame, job) {
        return text_error(StatusCode::SERVICE_UNAVAILABLE, e.message());
    }
    let (mut parts, _) = res.into_parts();
    let h = &mut parts.headers;
    h.remove(header::CONTENT_LENGTH);
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::CONNECTION, HeaderValue::from_static("keep-alive"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    http::Response::from_parts(parts, ChannelBody(rx).boxed_unsync())
}

/// Whether the request's origin may open a stream: none, a pattern (`*`, exact, or
/// `path.Match` on the full origin), or, without patterns, the same origin.
fn origin_allowed(req: &HttpRequest, patterns: &[String]) -> bool {
    let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    else {
        return true;
    };
    let origin = origin.to_ascii_lowercase();
    if patterns.is_empty() {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let scheme = req
            .headers()
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .or(req.uri().scheme_str())
            .unwrap_or("http");
        return origin == format!("{scheme}://{host}").to_ascii_lowercase();
    }
    patterns
        .iter()
        .any(|p| p == "*" || *p == origin || relay::glob(p, &origin))
}

/// The response body: what the stream process sends.
struct ChannelBody(mpsc::Receiver<Bytes>);

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<std::result::Result<Frame<Bytes>, BoxError>>> {
        self.0.poll_recv(cx).map(|b| b.map(|b| Ok(Frame::data(b))))
    }
}

/// One event in the wire format: `event: <name>` and a `data:` line per line of `data`.
fn event(name: &str, data: &str) -> Bytes {
    let mut out = String::with_capacity(data.len() + name.len() + 16);
    out.push_str("event: ");
    out.push_str(&name.replace(['\r', '\n'], " "));
    out.push('\n');
    for line in data.split('\n') {
        out.push_str("data: ");
        out.push_str(line.strip_suffix('\r').unwrap_or(line));
        out.push('\n');
    }
    out.push('\n');
    Bytes::from(out)
}

/// One relayed stream, before it runs.
struct Stream {
    settings: Arc<Settings>,
    cmd: Command,
    stop: Option<Stopping>,
    tx: mpsc::Sender<Bytes>,
}

impl Stream {
    async fn run(self, cx: CallContext) -> Result<Value> {
        let rt = Runtime::upgrade(&self.settings.rt)?;
        let me: String = cx.pid().unwrap_or_default().to_string();
        let receivers = rt
            .processes
            .get(&me)
            .and_then(|p| p.take_receivers())
            .ok_or_else(|| weft_core::Error::internal("relay process has no mailbox"))?;
        let (mut mailbox, mut events) = (receivers.mailbox, receivers.events);
        let Stream {
            settings,
            cmd,
            stop,
            tx,
        } = self;
        let topic = cmd
            .message_topic
            .clone()
            .unwrap_or_else(|| DEFAULT_TOPIC.into());
        let metadata = cmd.metadata.clone();
        let pid = Value::str(me.clone());
        let who = || {
            relay::map(vec![
                ("stream_pid", pid.clone()),
                ("client_pid", pid.clone()),
                ("metadata", metadata.clone()),
            ])
        };
        let target = cmd.target_pid.clone();
        let send = |bytes: Bytes| {
            let tx = tx.clone();
            let patience = settings.write_timeout;
            async move {
                matches!(
                    tokio::time::timeout(patience, tx.send(bytes)).await,
                    Ok(Ok(()))
                )
            }
        };
        match &target {
            Some(t) => {
                if rt.processes.monitor(&cx, t).is_err() {
                    let _ = send(done("target process exited")).await;
                    return Ok(Value::str("target process exited"));
                }
                let _ = rt.processes.send(&cx, t, "sse.join", vec![who()]);
            }
            None => {
                let mut fields = vec![
                    ("stream_pid", pid.clone()),
                    ("message_topic", Value::str(topic.clone())),
                ];
                if !matches!(metadata, Value::Nil) {
                    fields.push(("metadata", metadata.clone()));
                }
                if !send(event("ready", &relay::json(&relay::map(fields)))).await {
                    return Ok(Value::str("client gone"));
                }
            }
        }
        let every = cmd
            .heartbeat_interval
            .unwrap_or(DEFAULT_HEARTBEAT)
            .max(MIN_HEARTBEAT);
        let started = Instant::now();
        let far = Duration::from_secs(100 * 365 * 24 * 3600);
        let hard = tokio::time::sleep(cmd.hard_timeout.unwrap_or(far));
        tokio::pin!(hard);
        let idle_after = cmd.idle_timeout.unwrap_or(far);
        let idle = tokio::time::sleep(idle_after);
        tokio::pin!(idle);
        let mut beat = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        let mut count: i64 = 0;
        // Some(reason): end with `event: done`; None: the client went away.
        let reason: Option<String> = loop {
            tokio::select! {
                msg = mailbox.recv() => {
                    let Some(msg) = msg else { break None };
                    if msg.topic == "sse.close" {
                        let why = match relay::payload(msg.payload) {
                            Value::Nil => "closed".to_string(),
                            v => relay::text(&v),
                        };
                        break Some(why);
                    }
                    if mailbox.len() >= settings.max_pending {
                        break None;
                    }
                    count += 1;
                    idle.as_mut().reset(tokio::time::Instant::now() + idle_after);
                    let data = relay::text(&relay::payload(msg.payload));
                    if !send(event(&msg.topic, &data)).await {
                        break None;
                    }
                }
                ev = events.recv() => match ev.map(|e| (e.kind, e.from)) {
                    Some((EventKind::Exit(_), from)) if target.as_deref() == Some(&*from) => {
                        break Some("target process exited".into());
                    }
                    Some((EventKind::Cancel(_), _)) => break Some("stream stopped".into()),
                    Some(_) => {}
                    None => break None,
                },
                _ = beat.tick() => {
                    if !send(Bytes::from_static(b": ping\n\n")).await {
                        break None;
                    }
                    if let Some(t) = &target {
                        let _ = rt.processes.send(&cx, t, "sse.heartbeat", vec![relay::map(vec![
                            ("stream_pid", pid.clone()),
                            ("client_pid", pid.clone()),
                            ("uptime", Value::Float(started.elapsed().as_secs_f64())),
                            ("message_count", Value::Int(count)),
                            ("metadata", metadata.clone()),
                        ])]);
                    }
                }
                () = &mut idle => break Some("idle timeout".into()),
                () = &mut hard => break Some("hard timeout".into()),
                () = tx.closed() => break None,
                () = relay::stopped(&stop) => break Some("server shutting down".into()),
            }
        };
        if let Some(why) = &reason {
            let _ = send(done(why)).await;
        }
        drop(tx);
        if let Some(t) = &target {
            let _ = rt.processes.send(&cx, t, "sse.leave", vec![who()]);
            let _ = rt.processes.unmonitor(&cx, t);
        }
        Ok(Value::str(reason.unwrap_or_else(|| "client gone".into())))
    }
}

/// The closing `done` event.
fn done(reason: &str) -> Bytes {
    event(
        "done",
        &relay::json(&relay::map(vec![("reason", Value::str(reason))])),
    )
}

//! WASM entries as HTTP endpoints: the request reaches the entry as the
//! [`weft_http::Exchange`] of its call's context (an `http.endpoint` calls its function
//! with no arguments), and the entry answers through it.
//!
//! - [`transport`] (`transport: wasi-http`, reference §4.1): the request body, read
//!   whole, is the method's one string argument (none when empty); the result is the
//!   response (nil → 204, a string → 200 `text/plain`, a `list<u8>` → 200
//!   `application/octet-stream`, anything else → JSON).
//! - [`incoming`] (`method: wasi:http/incoming-handler#handle`): a fresh instance of a
//!   `wasi:http/proxy` component gets the whole request (method, path with query,
//!   headers, the body as a stream) through wasmtime-wasi-http's resources, and its
//!   response streams out through the exchange while the guest runs.
//!
//! Either way the guest runs in the call's context (the request's actor and scope), so
//! its outgoing `wasi:http`, sockets and `funcs` calls are checked against them, with the
//! entry's pool, instance, memory and time limits. Called outside a request, both fail.

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use http_body::{Body as _, Frame};
use http_body_util::BodyExt;
use tokio::sync::oneshot;
use wasmtime::component::{Resource, Type};
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::http::types::{ErrorCode, Scheme};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::p2::types::{HostIncomingRequest, HostResponseOutparam};
use weft_core::{CallContext, Error, Result, Value};
use weft_http::{BodyError, Exchange};

use crate::call::{Loaded, before};

/// How long reading a `wasi-http` transport's request body may take when the entry has
/// no `max_execution_ms` (the Lua `http` module's default).
const BODY_READ_TIMEOUT: Duration = Duration::from_secs(300);

/// What the guest hands `response-outparam.set`.
type GuestResponse = std::result::Result<http::Response<HyperOutgoingBody>, ErrorCode>;

/// The request of the call `cx`, or the error for a call outside one.
fn request_of(f: &Loaded, cx: &CallContext, what: &str) -> Result<Arc<Exchange>> {
    cx.handle::<Exchange>().ok_or_else(|| {
        Error::invalid(format!(
            "{}: {what} answers HTTP requests: it can only be the func of an http.endpoint, \
             not called outside a request",
            f.id
        ))
    })
}

/// A `transport: wasi-http` call: the body in, the response out (reference §4.1).
pub(crate) async fn transport(f: &Loaded, cx: CallContext, args: Vec<Value>) -> Result<Value> {
    let ex = request_of(f, &cx, "a function with transport: wasi-http")?;
    let args = if args.is_empty() {
        body_args(f, &ex).await?
    } else {
        args
    };
    let value = f.call(cx, args).await?;
    if !ex.handled() {
        answer(f, &ex, value).await;
    }
    Ok(Value::Nil)
}

/// The request body as the method's arguments: none when empty, else one string (at
/// most the entry's memory limit).
async fn body_args(f: &Loaded, ex: &Exchange) -> Result<Vec<Value>> {
    let mb = f.limits.memory_mb();
    let timeout = match f.limits.max_execution_ms {
        0 => BODY_READ_TIMEOUT,
        ms => Duration::from_millis(ms as u64),
    };
    let body = ex.read_body(mb << 20, timeout).await.map_err(|e| {
        let text = format!("{}: reading the request body: {e}", f.id);
        match e {
            BodyError::TooLarge => Error::invalid(format!(
                "{}: the request body is larger than its memory limit \
                 (limits.max_memory_mb: {mb} MB)",
                f.id
            )),
            BodyError::Timeout(_) => Error::timeout(text),
            BodyError::Consumed | BodyError::Read(_) => Error::invalid(text),
        }
    })?;
    Ok(if body.is_empty() {
        Vec::new()
    } else {
        vec![Value::Str(body)]
    })
}

/// Writes the response of a `wasi-http` transport's `value`: nil → 204, a string →
/// 200 `text/plain`, a `list<u8>` → 200 `application/octet-stream` (unless a
/// `Content-Type` is set), anything else → 200 JSON.
async fn answer(f: &Loaded, ex: &Exchange, value: Value) {
    let (content_type, body) = match (&value, f.results.first()) {
        (Value::Nil, _) | (_, None) => {
            ex.write_header(StatusCode::NO_CONTENT).await;
            return;
        }
        (Value::Str(s), Some(Type::String)) => ("text/plain; charset=utf-8", s.clone()),
        (Value::Str(b), Some(Type::List(list))) if list.ty() == Type::U8 => {
            ("application/octet-stream", b.clone())
        }
        _ => match serde_json::to_vec(&value) {
            Ok(json) => ("application/json", Bytes::from(json)),
            Err(e) => {
                let text = format!("cannot encode the returned value as JSON: {e}");
                ex.set_header(header::CONTENT_TYPE, plain()).await;
                ex.write_header(StatusCode::INTERNAL_SERVER_ERROR).await;
                let _ = ex.write(text.as_bytes()).await;
                return;
            }
        },
    };
    if ex.response_header(&header::CONTENT_TYPE).await.is_none() {
        let value = HeaderValue::from_static(content_type);
        ex.set_header(header::CONTENT_TYPE, value).await;
    }
    ex.write_header(StatusCode::OK).await;
    // A client gone away is no error of the call's.
    let _ = ex.write(&body).await;
}

/// `text/plain; charset=utf-8`.
fn plain() -> HeaderValue {
    HeaderValue::from_static("text/plain; charset=utf-8")
}

/// A `wasi:http/incoming-handler#handle` call: a fresh instance handles the request and
/// its response streams out through the exchange.
///
/// The response is relayed as the guest writes it: the head when the guest sets the
/// response-outparam, each body chunk as it comes. Chunks are held back (so that a small
/// response goes out whole, with its length) until the guest would have to wait, then
/// flushed. The response ends when the guest finishes its body, even if the guest runs
/// on. A guest that fails or runs out of time before setting a response fails the call
/// (the endpoint answers 500, or 504 for `max_execution_ms`); after, the response is
/// aborted ([`Exchange::abort`]): a 500 if nothing went out yet, else a broken stream.
pub(crate) async fn incoming(f: &Loaded, cx: CallContext, _args: Vec<Value>) -> Result<Value> {
    let ex = request_of(f, &cx, "a wasi:http/incoming-handler")?;
    let started = f.start(&cx).await?;
    let deadline = started.deadline;
    let mut store = started.store;
    let setup = |e: wasmtime::Error| Error::internal(format!("{}: {e:#}", f.id));
    let (scheme, request) = request_for_guest(&ex);
    let (tx, rx) = oneshot::channel::<GuestResponse>();
    let req = store
        .data_mut()
        .http()
        .new_incoming_request(scheme, request)
        .map_err(setup)?;
    let out = store
        .data_mut()
        .http()
        .new_response_outparam(tx)
        .map_err(setup)?;
    let guest = async move {
        let result = async {
            let instance = f.pre.instantiate_async(&mut store).await?;
            let handle = instance.get_typed_func::<(
                Resource<HostIncomingRequest>,
                Resource<HostResponseOutparam>,
            ), ()>(&mut store, f.export)?;
            handle.call_async(&mut store, (req, out)).await
        }
        .await;
        // The store holds the senders of the response and its body: dropping it ends
        // both, whatever the guest left behind.
        drop(store);
        result
    };
    // `started` keeps the call's pool slot and instance until the end of this call.
    let outcome = before(deadline, relay(&ex, guest, rx)).await;
    let outcome = outcome.map_err(|e| f.call_error(&e));
    if let Err(e) = &outcome
        && ex.handled()
    {
        // Failed after its head: the client must not take what came as the whole body.
        ex.abort(&e.to_string()).await;
    }
    outcome.map(|()| Value::Nil)
}

/// The request as the guest sees it: the exchange's method, target (with the `Host` as
/// its authority), headers and streaming body.
fn request_for_guest(ex: &Exchange) -> (Scheme, http::Request<impl GuestBody>) {
    let https = ex.uri().scheme() == Some(&http::uri::Scheme::HTTPS);
    let host = ex.host();
    let path = ex.uri().path_and_query().map_or("/", |p| p.as_str());
    let uri = http::Uri::builder()
        .scheme(if https { "https" } else { "http" })
        .authority(if host.is_empty() { "localhost" } else { &host })
        .path_and_query(path)
        .build()
        .unwrap_or_else(|_| ex.uri().clone());
    let body = ex.take_body().unwrap_or_else(weft_http::empty);
    let body = BodyExt::map_err(body, |e| {
        wasmtime_wasi_http::Error::InternalError(Some(format!("reading the request body: {e}")))
    });
    let mut request = http::Request::new(body);
    *request.method_mut() = ex.method().clone();
    *request.uri_mut() = uri;
    *request.headers_mut() = ex.headers().clone();
    let scheme = if https { Scheme::Https } else { Scheme::Http };
    (scheme, request)
}

/// A request body wasmtime-wasi-http takes.
trait GuestBody:
    http_body::Body<Data = Bytes, Error = wasmtime_wasi_http::Error> + Send + 'static
{
}

impl<B> GuestBody for B where
    B: http_body::Body<Data = Bytes, Error = wasmtime_wasi_http::Error> + Send + 'static
{
}

/// What happened next in a relayed response.
enum Event {
    /// The guest set the response-outparam (or dropped it: `Err`).
    Head(std::result::Result<GuestResponse, oneshot::error::RecvError>),
    /// A frame of the response body, an error if the guest aborted it, or its end.
    Frame(Option<std::result::Result<Frame<Bytes>, wasmtime_wasi_http::Error>>),
    /// The guest's call ended.
    Guest(wasmtime::Result<()>),
}

/// The state of a relayed response.
struct Relay<'a, G> {
    guest: Pin<&'a mut G>,
    guest_done: bool,
    head: Option<oneshot::Receiver<GuestResponse>>,
    body: Option<HyperOutgoingBody>,
}

impl<G: Future<Output = wasmtime::Result<()>>> Relay<'_, G> {
    /// The next event ready now, polling the response before the guest (so that what it
    /// wrote goes out before it runs on); `None` when nothing is ready.
    fn poll_event(&mut self, cx: &mut Context<'_>) -> Option<Event> {
        if let Some(rx) = &mut self.head
            && let Poll::Ready(head) = Pin::new(rx).poll(cx)
        {
            self.head = None;
            return Some(Event::Head(head));
        }
        if let Some(body) = &mut self.body
            && let Poll::Ready(frame) = Pin::new(body).poll_frame(cx)
        {
            if frame.is_none() {
                self.body = None;
            }
            return Some(Event::Frame(frame));
        }
        if !self.guest_done
            && let Poll::Ready(result) = self.guest.as_mut().poll(cx)
        {
            self.guest_done = true;
            return Some(Event::Guest(result));
        }
        None
    }

    /// Whether every source has ended.
    fn ended(&self) -> bool {
        self.guest_done && self.head.is_none() && self.body.is_none()
    }
}

/// Runs `guest` and relays the response it sets on `head` through `ex`.
async fn relay(
    ex: &Exchange,
    guest: impl Future<Output = wasmtime::Result<()>>,
    head: oneshot::Receiver<GuestResponse>,
) -> wasmtime::Result<()> {
    let mut r = Relay {
        guest: pin!(guest),
        guest_done: false,
        head: Some(head),
        body: None,
    };
    let mut answered = false;
    let mut unflushed = false;
    loop {
        if r.ended() {
            if answered {
                return Ok(());
            }
            return Err(wasmtime::Error::msg(
                "the guest returned without setting its response-outparam",
            ));
        }
        let ready = poll_fn(|cx| Poll::Ready(r.poll_event(cx))).await;
        let event = match ready {
            Some(event) => event,
            None => {
                // About to wait for the guest: what it wrote goes out now.
                if unflushed {
                    unflushed = false;
                    if ex.flush().await.is_err() {
                        return Ok(());
                    }
                }
                poll_fn(|cx| match r.poll_event(cx) {
                    Some(event) => Poll::Ready(event),
                    None => Poll::Pending,
                })
                .await
            }
        };
        match event {
            Event::Guest(Err(e)) => return Err(e),
            Event::Guest(Ok(())) => {}
            Event::Head(Ok(Ok(response))) => {
                answered = true;
                let (parts, body) = response.into_parts();
                for (name, value) in &parts.headers {
                    ex.append_header(name.clone(), value.clone()).await;
                }
                ex.write_header(parts.status).await;
                r.body = Some(body);
                unflushed = true;
            }
            Event::Head(Ok(Err(code))) => {
                return Err(wasmtime::Error::msg(format!(
                    "the guest answered with an error: {code:?}"
                )));
            }
            // Dropped without a response: the guest's outcome says why.
            Event::Head(Err(_)) => {}
            Event::Frame(Some(Ok(frame))) => {
                if let Ok(data) = frame.into_data() {
                    if ex.write(&data).await.is_err() {
                        // The client went away.
                        return Ok(());
                    }
                    unflushed = true;
                }
            }
            Event::Frame(Some(Err(e))) => {
                return Err(wasmtime::Error::msg(format!(
                    "the guest aborted its response body: {e:?}"
                )));
            }
            Event::Frame(None) => {
                // The body is complete: the client has the whole response even if the
                // guest runs on.
                ex.finish().await;
                unflushed = false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The relay is polled inside the endpoint's `Send` future.
    #[allow(dead_code)]
    fn relay_is_send(ex: &Exchange, rx: oneshot::Receiver<GuestResponse>) {
        fn send<T: Send>(_: T) {}
        send(relay(ex, async { Ok(()) }, rx));
    }
}

//! The handler of an `http.endpoint` (reference §1.8): the function is called through the
//! function registry with no arguments, the request reaching its direct callee only as
//! an [`Exchange`]; what it did decides the response.
//!
//! The call runs inside the request's own future until it ends (a whole response: the
//! usual case, no task spawned) or starts streaming; from then on the rest of it runs on
//! a task of its own, so that chunks reach the client while it runs, and that task ends
//! with the response body. A client that goes away (the request future or the body is
//! dropped) drops or aborts the call.

use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};

use http::{HeaderValue, StatusCode, header};
use http_body_util::BodyExt;
use tokio::sync::oneshot;
use tokio::task::AbortHandle;
use weft_core::{BoxFuture, EntryId, Error, ErrorKind, Result, Value};
use weft_runtime::Runtime;

use crate::exchange::Exchange;
use crate::pipeline::{
    Body, BoxError, Handler, HttpRequest, HttpResponse, RequestFrame, RouteInfo, full, handler_fn,
    text_error,
};

/// The handler calling `func` for each request.
pub(crate) fn endpoint_handler(rt: Weak<Runtime>, func: EntryId) -> Handler {
    handler_fn(move |req| serve(rt.clone(), func.clone(), req))
}

/// Runs one request through the function.
async fn serve(rt: Weak<Runtime>, func: EntryId, req: HttpRequest) -> HttpResponse {
    let (parts, body) = req.into_parts();
    let Some(frame) = parts.extensions.get::<RequestFrame>().cloned() else {
        return text_error(StatusCode::INTERNAL_SERVER_ERROR, "Configuration error");
    };
    let route = parts.extensions.get::<RouteInfo>().cloned();
    let (respond, response) = oneshot::channel();
    let exchange = Arc::new(Exchange::new(
        parts,
        body,
        frame.remote_addr,
        route,
        respond,
    ));
    let cx = frame.cx.with_handle(exchange.clone());
    let mut call: BoxFuture<()> = Box::pin(async move {
        let result = match Runtime::upgrade(&rt) {
            Ok(rt) => rt.functions.call(&cx, func.as_str(), Vec::new()).await,
            Err(e) => Err(e),
        };
        settle(&exchange, result).await;
    });
    let mut response = response;
    // Whichever comes first: the call's end (its response is then sent whole) or a
    // response head while the call still runs (it streams).
    let head = std::future::poll_fn(|cx| {
        if let Poll::Ready(res) = Pin::new(&mut response).poll(cx) {
            return Poll::Ready(Some(res));
        }
        call.as_mut().poll(cx).map(|()| None)
    })
    .await;
    let streaming = match head {
        Some(Ok(res)) => res,
        Some(Err(_)) => return ended_without_response(),
        None => return response.await.unwrap_or_else(|_| ended_without_response()),
    };
    let task = tokio::spawn(call);
    let guard = AbortOnDrop(task.abort_handle());
    streaming.map(|inner| {
        Guarded {
            inner,
            _guard: guard,
        }
        .boxed_unsync()
    })
}

/// The answer when a call ended without a response (it panicked).
fn ended_without_response() -> HttpResponse {
    text_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "the handler ended without a response",
    )
}

/// Turns the call's outcome into the response (the 200 / 500 rules of §1.8).
async fn settle(exchange: &Exchange, result: Result<Value>) {
    if exchange.handled() {
        // A call error after the response was started leaves the partial response.
        if let Err(e) = &result {
            tracing::debug!(error = %e, "endpoint failed after it answered");
        }
        exchange.finish().await;
        return;
    }
    let response = match result {
        Err(_) | Ok(Value::Nil) if exchange.body_too_large() => {
            text_error(StatusCode::PAYLOAD_TOO_LARGE, "request body too large")
        }
        Err(e) => error_response(&e),
        Ok(Value::Nil) => text_error(StatusCode::INTERNAL_SERVER_ERROR, "no response sent"),
        Ok(value) => value_response(&value),
    };
    exchange.respond(response).await;
}

/// A failed call: 504 for a deadline, else 500; the error's text, nothing internal.
fn error_response(e: &Error) -> HttpResponse {
    let status = match e.kind() {
        ErrorKind::Timeout => StatusCode::GATEWAY_TIMEOUT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    text_error(status, &e.to_string())
}

/// A value returned without writing, as JSON (Wippy sends an empty 200 here;
/// docs/http.md says why weft sends the value).
fn value_response(value: &Value) -> HttpResponse {
    let body = match serde_json::to_vec(value) {
        Ok(json) => json,
        Err(e) => {
            return text_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("cannot encode the returned value as JSON: {e}"),
            );
        }
    };
    let mut res = http::Response::new(full(body));
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

/// A streamed response body that keeps its call alive: dropped (the client went away,
/// or the response ended) it aborts the call. Size and end are the inner body's.
struct Guarded {
    inner: Body,
    _guard: AbortOnDrop,
}

impl http_body::Body for Guarded {
    type Data = bytes::Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<std::result::Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Aborts a task when dropped.
struct AbortOnDrop(AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

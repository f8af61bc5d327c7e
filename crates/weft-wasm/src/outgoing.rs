//! Outgoing `wasi:http` requests, checked against policy in the caller's context.
//!
//! A request needs the `wasi:http` import and `http_client.request` on its URL; a
//! target that is loopback, private, link-local or unspecified (a literal IP, or any
//! address its host resolves to) also needs `http_client.private_ip` on that address.
//! A denied request reaches the guest as `HTTP-request-denied` and is never sent.
//! (The check resolves the host once and the client resolves it again to connect: a
//! DNS answer that changes in between is not caught.)

use std::future::Future;
use std::net::IpAddr;

use wasmtime_wasi_http::{
    Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks, default_hooks,
};
use weft_core::CallContext;

/// What a guest's response future resolves to.
type Sent = wasmtime_wasi_http::Result<(
    http::Response<WasiBody>,
    Box<dyn Future<Output = Result<(), HttpError>> + Send>,
)>;

/// The `wasi:http` hooks of one call.
pub(crate) struct HttpGuard {
    cx: CallContext,
    granted: bool,
}

impl HttpGuard {
    /// Hooks for a call in `cx`; `granted` is whether the entry imported `wasi:http`.
    pub(crate) fn new(cx: CallContext, granted: bool) -> HttpGuard {
        HttpGuard { cx, granted }
    }
}

impl WasiHttpHooks for HttpGuard {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> Box<dyn Future<Output = Sent> + Send> {
        let cx = self.cx.clone();
        let granted = self.granted;
        Box::new(async move {
            if !granted || !allowed(&cx, request.uri()).await {
                tracing::debug!(url = %request.uri(), "outgoing wasi:http request denied");
                return Err(HttpError::HttpRequestDenied);
            }
            Box::into_pin(default_hooks().send_request(request, options, fut)).await
        })
    }
}

/// The policy checks of one request.
async fn allowed(cx: &CallContext, uri: &http::Uri) -> bool {
    if cx.check("http_client.request", &uri.to_string()).is_err() {
        return false;
    }
    let Some(host) = uri.host() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<IpAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => {
            let port = uri.port_u16().unwrap_or(80);
            match tokio::net::lookup_host((host, port)).await {
                Ok(found) => found.map(|a| a.ip()).collect(),
                // Unresolvable: the client fails on its own, nothing to reach.
                Err(_) => Vec::new(),
            }
        }
    };
    addrs
        .iter()
        .filter(|ip| is_private(ip))
        .all(|ip| cx.check("http_client.private_ip", &ip.to_string()).is_ok())
}

/// Loopback, private, link-local or unspecified.
pub(crate) fn is_private(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback() || v4.is_private() || v4.is_link_local() || v4.is_unspecified()
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private(&IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link local
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_addresses_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "172.16.0.1",
            "169.254.1.1",
            "0.0.0.0",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_private(&ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "2001:4860:4860::8888", "::ffff:1.1.1.1"] {
            assert!(!is_private(&ip.parse().unwrap()), "{ip}");
        }
    }
}

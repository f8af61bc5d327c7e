//! `real_ip`: the client's address from a trusted proxy's headers (reference §1.10).
//!
//! When the connection comes from a trusted subnet (by default loopback, the private
//! ranges, link-local and CGNAT), the request's `remote_addr` becomes the first of
//! `True-Client-IP`, `X-Real-IP` and the first `X-Forwarded-For` entry that is set; it is
//! used only if it is an IP address, and it is bare (no port), as in Wippy.
//! `real_ip.trust_all: "true"` trusts every connection.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use http::HeaderMap;
use ipnet::IpNet;

use super::{Layer, MiddlewareContext, bool_option, invalid_option, option};
use crate::pipeline::{Handler, RequestFrame, handler_fn};
use weft_core::Result;

const SUBNETS: (&str, &str) = ("real_ip.trusted.subnets", "trusted_subnets");
const TRUST_ALL: &str = "real_ip.trust_all";

const DEFAULT_SUBNETS: &str = "127.0.0.0/8,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,\
                               169.254.0.0/16,100.64.0.0/10,::1/128,fc00::/7,fe80::/10";

/// Whom the middleware believes.
enum Trust {
    All,
    Subnets(Vec<IpNet>),
}

/// Makes `real_ip` from its options.
pub(super) fn make(options: &BTreeMap<String, String>, _cx: &MiddlewareContext) -> Result<Layer> {
    let trust = Arc::new(if bool_option(options, TRUST_ALL, TRUST_ALL, false)? {
        Trust::All
    } else {
        let raw = option(options, SUBNETS.0, SUBNETS.1).unwrap_or(DEFAULT_SUBNETS);
        let mut subnets = Vec::new();
        for cidr in raw.split(',').map(str::trim).filter(|c| !c.is_empty()) {
            let net = cidr.parse::<IpNet>().map_err(|_| {
                invalid_option(
                    options,
                    SUBNETS.0,
                    SUBNETS.1,
                    format!("{cidr:?} is not a subnet in CIDR form (like 10.0.0.0/8)"),
                )
            })?;
            subnets.push(net);
        }
        Trust::Subnets(subnets)
    });
    Ok(Arc::new(move |next: Handler| {
        let trust = trust.clone();
        handler_fn(move |mut req| {
            let ip = real_ip(req.headers());
            if let Some(ip) = ip
                && let Some(frame) = req.extensions_mut().get_mut::<RequestFrame>()
                && trust.trusts(&frame.remote_addr)
            {
                frame.remote_addr = ip.to_string().into();
            }
            crate::pipeline::call(next.clone(), req)
        })
    }))
}

impl Trust {
    /// Whether a connection from `remote_addr` (`ip:port`, or a bare ip after another
    /// `real_ip`) is believed.
    fn trusts(&self, remote_addr: &str) -> bool {
        match self {
            Trust::All => true,
            // Wippy trusts everyone when the list is empty (`real_ip.trusted.subnets: ","`).
            Trust::Subnets(nets) if nets.is_empty() => true,
            Trust::Subnets(nets) => {
                let ip = remote_addr
                    .parse::<SocketAddr>()
                    .map(|a| a.ip())
                    .or_else(|_| remote_addr.parse::<IpAddr>());
                ip.is_ok_and(|ip| nets.iter().any(|n| n.contains(&ip)))
            }
        }
    }
}

/// The client's address from the proxy headers: `True-Client-IP`, else `X-Real-IP`, else
/// the first `X-Forwarded-For` entry; the first of them that is set, if it is an IP.
fn real_ip(headers: &HeaderMap) -> Option<IpAddr> {
    let first = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
    };
    let raw = first("true-client-ip")
        .or_else(|| first("x-real-ip"))
        .or_else(|| first("x-forwarded-for").map(|v| v.split(',').next().unwrap_or("").trim()))?;
    raw.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::middleware::testing::{body, layer, request_from, send};
    use crate::pipeline::{HttpRequest, full};

    /// A handler answering with the request's `remote_addr`.
    fn echo() -> Handler {
        handler_fn(|req: HttpRequest| async move {
            let addr = req
                .extensions()
                .get::<RequestFrame>()
                .map(|f| f.remote_addr.to_string())
                .unwrap_or_default();
            http::Response::new(full(addr))
        })
    }

    async fn remote(options: &[(&str, &str)], peer: &str, headers: &[(&str, &str)]) -> String {
        let h = layer("real_ip", options).unwrap()(echo());
        let res = send(&h, request_from(peer, "GET", "/", headers)).await;
        String::from_utf8(body(res).await).unwrap()
    }

    #[tokio::test]
    async fn trusted_proxy_headers_in_order() {
        let all = [
            ("true-client-ip", "198.51.100.1"),
            ("x-real-ip", "198.51.100.2"),
            ("x-forwarded-for", "198.51.100.3, 10.0.0.1"),
        ];
        assert_eq!(remote(&[], "127.0.0.1:999", &all).await, "198.51.100.1");
        assert_eq!(remote(&[], "10.1.2.3:999", &all[1..]).await, "198.51.100.2");
        assert_eq!(remote(&[], "[::1]:999", &all[2..]).await, "198.51.100.3");
        assert_eq!(
            remote(&[], "192.168.1.1:1", &[("x-forwarded-for", "2001:db8::1")]).await,
            "2001:db8::1"
        );
    }

    #[tokio::test]
    async fn untrusted_or_unusable_leaves_the_address() {
        let h = [("x-real-ip", "198.51.100.2")];
        assert_eq!(
            remote(&[], "203.0.113.9:4567", &h).await,
            "203.0.113.9:4567"
        );
        assert_eq!(
            remote(&[], "127.0.0.1:5", &[("x-real-ip", "not-an-ip")]).await,
            "127.0.0.1:5"
        );
        // The first header that is set decides, even when it is not an IP.
        assert_eq!(
            remote(
                &[],
                "127.0.0.1:5",
                &[("true-client-ip", "junk"), ("x-real-ip", "198.51.100.2")]
            )
            .await,
            "127.0.0.1:5"
        );
        assert_eq!(remote(&[], "127.0.0.1:5", &[]).await, "127.0.0.1:5");
    }

    #[tokio::test]
    async fn configured_subnets_and_trust_all() {
        let h = [("x-real-ip", "198.51.100.2")];
        let only = [("real_ip.trusted.subnets", "203.0.113.0/24")];
        assert_eq!(remote(&only, "203.0.113.9:1", &h).await, "198.51.100.2");
        assert_eq!(remote(&only, "127.0.0.1:1", &h).await, "127.0.0.1:1");
        let legacy = [("trusted_subnets", "203.0.113.9/32, 10.0.0.0/8")];
        assert_eq!(remote(&legacy, "203.0.113.9:1", &h).await, "198.51.100.2");
        let all = [("real_ip.trust_all", "true")];
        assert_eq!(remote(&all, "8.8.8.8:1", &h).await, "198.51.100.2");
    }

    #[test]
    fn bad_options_name_the_option() {
        for (key, value) in [
            ("real_ip.trusted.subnets", "10.0.0.0/8,nope"),
            ("trusted_subnets", "10.0.0.0/33"),
            ("real_ip.trust_all", "yes"),
        ] {
            let err = layer("real_ip", &[(key, value)]).err().expect(key);
            assert!(
                err.to_string().contains(&format!("option {key}:")),
                "{key}: {err}"
            );
        }
    }
}

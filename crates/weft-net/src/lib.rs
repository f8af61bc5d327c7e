//! weft-net: the one outbound network policy every engine goes through.
//!
//! - Sockets: `socket.connect` / `socket.listen` on `ip:port` ([`check_socket`]) and
//!   `socket.resolve` on a name ([`check_resolve`]).
//! - Outgoing HTTP: `http_client.request` on the URL and, for a target that is loopback,
//!   private, link-local or unspecified (a literal IP, or any address its host resolves
//!   to), `http_client.private_ip` on that address ([`check_http_request`]); for the
//!   `http_client`, also `http_client.unix_socket` and `http_client.insecure_tls`, in
//!   Wippy's order ([`check_http_target`]).
//!
//! Each check runs in the caller's [`CallContext`] and fails with PermissionDenied
//! before anything is sent. The HTTP check resolves the host once and the client
//! resolves it again to connect: a DNS answer that changes in between is not caught.

#![deny(missing_docs)]

use std::net::{IpAddr, SocketAddr};

use weft_core::{CallContext, Error, Result};

/// What a socket address is used for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SocketUse {
    /// Binding a local address (TCP or UDP).
    Bind,
    /// Listening for TCP connections.
    Listen,
    /// Connecting, or sending datagrams, to a remote address.
    Connect,
}

/// Checks a socket use: `socket.listen` for binds and listens, `socket.connect` for
/// connects and datagrams. The implicit bind to the wildcard address (port 0) that
/// every connect makes is not a listen and passes.
pub fn check_socket(cx: &CallContext, addr: SocketAddr, usage: SocketUse) -> Result<()> {
    let action = match usage {
        SocketUse::Bind if addr.ip().is_unspecified() && addr.port() == 0 => return Ok(()),
        SocketUse::Bind | SocketUse::Listen => "socket.listen",
        SocketUse::Connect => "socket.connect",
    };
    cx.check(action, &addr.to_string())
}

/// Checks a name lookup (`socket.resolve` on the name).
pub fn check_resolve(cx: &CallContext, name: &str) -> Result<()> {
    cx.check("socket.resolve", name)
}

/// Checks an outgoing HTTP request to `uri`: `http_client.request` on the URL, then
/// `http_client.private_ip` on every private address the host is or resolves to. A
/// URL without a host is Invalid; a host that does not resolve passes (the client then
/// fails on its own, with nothing reached).
pub async fn check_http_request(cx: &CallContext, uri: &http::Uri) -> Result<()> {
    cx.check("http_client.request", &uri.to_string())?;
    check_private_ip(cx, uri).await
}

/// What the policy looks at in one outgoing HTTP request of the `http_client` (the
/// first one, or a redirect target).
#[derive(Clone, Copy, Debug)]
pub struct HttpTarget<'a> {
    /// The URL as the caller wrote it (the resource of `http_client.request`).
    pub url: &'a str,
    /// The same URL, parsed.
    pub uri: &'a http::Uri,
    /// The unix socket the request is sent over, if any.
    pub unix_socket: Option<&'a str>,
    /// Whether the server's certificate goes unverified.
    pub insecure_tls: bool,
}

/// Checks an `http_client` request in Wippy's order: `http_client.unix_socket` on the
/// socket path (when one is used), `http_client.insecure_tls` on the URL (when
/// verification is off), `http_client.request` on the URL, then, unless the request
/// goes over a unix socket, `http_client.private_ip` as [`check_http_request`] does.
pub async fn check_http_target(cx: &CallContext, target: HttpTarget<'_>) -> Result<()> {
    if let Some(path) = target.unix_socket {
        cx.check("http_client.unix_socket", path)?;
    }
    if target.insecure_tls {
        cx.check("http_client.insecure_tls", target.url)?;
    }
    cx.check("http_client.request", target.url)?;
    if target.unix_socket.is_some() {
        return Ok(());
    }
    check_private_ip(cx, target.uri).await
}

/// `http_client.private_ip` on every private address `uri`'s host is or resolves to.
async fn check_private_ip(cx: &CallContext, uri: &http::Uri) -> Result<()> {
    let Some(host) = uri.host() else {
        return Err(Error::invalid(format!("URL has no host: {uri}")));
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<IpAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => {
            let port = uri.port_u16().unwrap_or(80);
            match tokio::net::lookup_host((host, port)).await {
                Ok(found) => found.map(|a| a.ip()).collect(),
                Err(_) => Vec::new(),
            }
        }
    };
    for ip in addrs.iter().filter(|ip| is_private(ip)) {
        cx.check("http_client.private_ip", &ip.to_string())?;
    }
    Ok(())
}

/// Loopback, private, link-local or unspecified.
pub fn is_private(ip: &IpAddr) -> bool {
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
    use weft_core::{Actor, ErrorKind, Map, Scope};

    fn denied() -> CallContext {
        CallContext::root(false)
            .with_actor(Some(Actor::new("eve", Map::new())))
            .with_scope(Some(Scope::default()))
    }

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

    #[test]
    fn socket_checks_name_the_action_and_the_address() {
        let cx = denied();
        let addr: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let err = check_socket(&cx, addr, SocketUse::Connect).unwrap_err();
        assert_eq!(
            err.message(),
            "not allowed: socket.connect on 127.0.0.1:8080"
        );
        let err = check_socket(&cx, addr, SocketUse::Bind).unwrap_err();
        assert_eq!(
            err.message(),
            "not allowed: socket.listen on 127.0.0.1:8080"
        );
        assert!(check_socket(&cx, addr, SocketUse::Listen).is_err());
        // The implicit wildcard bind of a connect is not a listen.
        let any: SocketAddr = "0.0.0.0:0".parse().unwrap();
        assert!(check_socket(&cx, any, SocketUse::Bind).is_ok());
        assert!(check_socket(&cx, "0.0.0.0:80".parse().unwrap(), SocketUse::Bind).is_err());
        assert_eq!(
            check_resolve(&cx, "example.com").unwrap_err().kind(),
            ErrorKind::PermissionDenied
        );
        let open = CallContext::root(false);
        assert!(check_socket(&open, addr, SocketUse::Connect).is_ok());
        assert!(check_resolve(&open, "example.com").is_ok());
    }

    #[tokio::test]
    async fn http_requests_need_the_request_and_private_ip_permissions() {
        let uri: http::Uri = "http://127.0.0.1:9/x".parse().unwrap();
        assert!(
            check_http_request(&CallContext::root(false), &uri)
                .await
                .is_ok()
        );
        let err = check_http_request(&denied(), &uri).await.unwrap_err();
        assert_eq!(
            err.message(),
            "not allowed: http_client.request on http://127.0.0.1:9/x"
        );
        let relative: http::Uri = "/x".parse().unwrap();
        let err = check_http_target(
            &CallContext::root(false),
            HttpTarget {
                url: "/x",
                uri: &relative,
                unix_socket: None,
                insecure_tls: false,
            },
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Invalid);
        let err = check_http_request(&CallContext::root(false), &relative)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Invalid);
    }

    #[tokio::test]
    async fn http_targets_are_checked_in_wippys_order() {
        /// Denies the actions listed, allows the rest.
        struct Deny(Vec<&'static str>, weft_core::EntryId);
        impl weft_core::Policy for Deny {
            fn id(&self) -> &weft_core::EntryId {
                &self.1
            }
            fn evaluate(
                &self,
                _: &Actor,
                action: &str,
                _: &str,
                _: Option<&Map>,
            ) -> weft_core::Decision {
                if self.0.contains(&action) {
                    weft_core::Decision::Deny
                } else {
                    weft_core::Decision::Allow
                }
            }
        }
        let denying = |actions: Vec<&'static str>| {
            let policy: std::sync::Arc<dyn weft_core::Policy> =
                std::sync::Arc::new(Deny(actions, weft_core::EntryId::new("t", "p")));
            CallContext::root(false)
                .with_actor(Some(Actor::new("eve", Map::new())))
                .with_scope(Some(Scope::new([policy])))
        };
        let uri: http::Uri = "https://127.0.0.1:9/x".parse().unwrap();
        let target = HttpTarget {
            url: "https://127.0.0.1:9/x",
            uri: &uri,
            unix_socket: Some("/run/app.sock"),
            insecure_tls: true,
        };
        let all = vec![
            "http_client.unix_socket",
            "http_client.insecure_tls",
            "http_client.request",
            "http_client.private_ip",
        ];
        let err = check_http_target(&denying(all.clone()), target)
            .await
            .unwrap_err();
        assert_eq!(
            err.message(),
            "not allowed: http_client.unix_socket on /run/app.sock"
        );
        let err = check_http_target(&denying(all[1..].to_vec()), target)
            .await
            .unwrap_err();
        assert_eq!(
            err.message(),
            "not allowed: http_client.insecure_tls on https://127.0.0.1:9/x"
        );
        let err = check_http_target(&denying(all[2..].to_vec()), target)
            .await
            .unwrap_err();
        assert_eq!(
            err.message(),
            "not allowed: http_client.request on https://127.0.0.1:9/x"
        );
        // Over a unix socket the private-IP check does not apply.
        assert!(
            check_http_target(&denying(all[3..].to_vec()), target)
                .await
                .is_ok()
        );
        let direct = HttpTarget {
            unix_socket: None,
            insecure_tls: false,
            ..target
        };
        let err = check_http_target(&denying(all[3..].to_vec()), direct)
            .await
            .unwrap_err();
        assert_eq!(
            err.message(),
            "not allowed: http_client.private_ip on 127.0.0.1"
        );
    }
}

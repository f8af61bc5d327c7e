//! `cors`: Wippy's CORS rules (reference §1.10), written out rather than tower-http's
//! `CorsLayer`, whose rules differ: it answers every preflight itself (Wippy passes a
//! disallowed one on), sends a literal `*` (Wippy echoes the origin), and knows neither
//! the `localhost` pattern nor `*.suffix`.
//!
//! - A **preflight** is an `OPTIONS` with `Access-Control-Request-Method`. Without an
//!   `Origin`, or from an origin not allowed, it goes on to the next handler (the
//!   automatic `OPTIONS` 204, with no CORS headers). From an allowed origin it is
//!   answered here: 204 with the origin echoed, the configured methods, headers and max
//!   age, the credentials and private-network flags when set, and `Vary`.
//! - **Any other request** from an allowed origin goes on, and its response gets the
//!   origin echoed, the exposed headers, the flags and `Vary: Origin` (a header the
//!   handler set itself is kept, as a Go handler's `Set` would replace the middleware's).
//!   A disallowed origin gets no CORS header and is not refused.

use std::collections::BTreeMap;
use std::sync::Arc;

use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};

use super::{Layer, MiddlewareContext, bool_option, invalid_option, number_option, option};
use crate::pipeline::{Handler, HttpRequest, HttpResponse, handler_fn, status_only};
use weft_core::Result;

const ORIGINS: (&str, &str) = ("cors.allow.origins", "allow_origins");
const METHODS: (&str, &str) = ("cors.allow.methods", "allow_methods");
const HEADERS: (&str, &str) = ("cors.allow.headers", "allow_headers");
const EXPOSE: (&str, &str) = ("cors.expose.headers", "expose_headers");
const CREDENTIALS: (&str, &str) = ("cors.allow.credentials", "allow_credentials");
const MAX_AGE: (&str, &str) = ("cors.max.age", "max_age");
const PRIVATE_NETWORK: (&str, &str) = ("cors.allow.private.network", "allow_private_network");

const DEFAULT_METHODS: &str = "GET,POST,PUT,DELETE,OPTIONS,PATCH";
const DEFAULT_HEADERS: &str = "Origin,Content-Type,Accept,Authorization,X-Requested-With";

const PREFLIGHT_VARY: &str =
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";

/// The made middleware.
struct Cors {
    /// `None`: every origin (the option is `*`).
    origins: Option<Vec<String>>,
    methods: HeaderValue,
    headers: HeaderValue,
    expose: Option<HeaderValue>,
    max_age: HeaderValue,
    credentials: bool,
    private_network: bool,
}

/// Makes `cors` from its options.
pub(super) fn make(options: &BTreeMap<String, String>, _cx: &MiddlewareContext) -> Result<Layer> {
    let cors = Arc::new(Cors::from_options(options)?);
    Ok(Arc::new(move |next: Handler| {
        let cors = cors.clone();
        handler_fn(move |req| {
            let cors = cors.clone();
            let next = next.clone();
            async move { cors.serve(next, req).await }
        })
    }))
}

impl Cors {
    fn from_options(options: &BTreeMap<String, String>) -> Result<Cors> {
        let value = |(key, legacy): (&str, &str), default: &str| -> Result<HeaderValue> {
            let raw = option(options, key, legacy).unwrap_or(default);
            HeaderValue::from_str(raw).map_err(|_| {
                invalid_option(
                    options,
                    key,
                    legacy,
                    format!("{raw:?} cannot be sent as a header value"),
                )
            })
        };
        let origins = option(options, ORIGINS.0, ORIGINS.1).unwrap_or("*");
        let origins = (origins != "*").then(|| {
            origins
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(str::to_string)
                .collect()
        });
        let expose = match option(options, EXPOSE.0, EXPOSE.1) {
            Some(_) => Some(value(EXPOSE, "")?),
            None => None,
        };
        let max_age = number_option(options, MAX_AGE.0, MAX_AGE.1, 86400, 0)?;
        Ok(Cors {
            origins,
            methods: value(METHODS, DEFAULT_METHODS)?,
            headers: value(HEADERS, DEFAULT_HEADERS)?,
            expose,
            max_age: HeaderValue::from(max_age),
            credentials: bool_option(options, CREDENTIALS.0, CREDENTIALS.1, false)?,
            private_network: bool_option(options, PRIVATE_NETWORK.0, PRIVATE_NETWORK.1, false)?,
        })
    }

    /// Whether `origin` may make cross-origin requests.
    fn allows(&self, origin: &HeaderValue) -> bool {
        let Some(allowed) = &self.origins else {
            return true;
        };
        let origin = String::from_utf8_lossy(origin.as_bytes());
        allowed.iter().any(|a| origin_matches(a, &origin))
    }

    async fn serve(&self, next: Handler, req: HttpRequest) -> HttpResponse {
        let origin = req.headers().get(header::ORIGIN).cloned();
        let preflight = req.method() == Method::OPTIONS
            && req
                .headers()
                .get(header::ACCESS_CONTROL_REQUEST_METHOD)
                .is_some_and(|m| !m.is_empty());
        let allowed = origin.filter(|o| !o.is_empty()).filter(|o| self.allows(o));
        let Some(origin) = allowed else {
            return crate::pipeline::call(next, req).await;
        };
        if preflight {
            let mut res = status_only(StatusCode::NO_CONTENT);
            self.preflight_headers(res.headers_mut(), origin);
            return res;
        }
        let mut res = crate::pipeline::call(next, req).await;
        self.actual_headers(res.headers_mut(), origin);
        res
    }

    fn preflight_headers(&self, headers: &mut HeaderMap, origin: HeaderValue) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, self.methods.clone());
        if !self.headers.is_empty() {
            headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, self.headers.clone());
        }
        headers.insert(header::ACCESS_CONTROL_MAX_AGE, self.max_age.clone());
        self.flags(headers, false);
        headers.insert(header::VARY, HeaderValue::from_static(PREFLIGHT_VARY));
    }

    /// The headers of an allowed non-preflight response; the handler's own win.
    fn actual_headers(&self, headers: &mut HeaderMap, origin: HeaderValue) {
        let mut set = |name: HeaderName, value: HeaderValue| {
            headers.entry(name).or_insert(value);
        };
        set(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        if let Some(expose) = &self.expose {
            set(header::ACCESS_CONTROL_EXPOSE_HEADERS, expose.clone());
        }
        set(header::VARY, HeaderValue::from_static("Origin"));
        self.flags(headers, true);
    }

    /// `Access-Control-Allow-Credentials` / `-Private-Network`, when configured.
    fn flags(&self, headers: &mut HeaderMap, keep_existing: bool) {
        let truth = HeaderValue::from_static("true");
        let mut set = |name: HeaderName| {
            if keep_existing {
                headers.entry(name).or_insert(truth.clone());
            } else {
                headers.insert(name, truth.clone());
            }
        };
        if self.credentials {
            set(header::ACCESS_CONTROL_ALLOW_CREDENTIALS);
        }
        if self.private_network {
            set(HeaderName::from_static(
                "access-control-allow-private-network",
            ));
        }
    }
}

/// One allowed-origin pattern against an origin: `*`; the whole origin; `*.suffix` (the
/// origin ends with `.suffix` after something; the scheme is not looked at); `localhost`
/// (`http` or `https`, any port).
fn origin_matches(allowed: &str, origin: &str) -> bool {
    if allowed == "*" || allowed == origin {
        return true;
    }
    if let Some(suffix) = allowed.strip_prefix('*')
        && suffix.starts_with('.')
        && origin.len() > suffix.len()
        && origin.ends_with(suffix)
    {
        return true;
    }
    allowed == "localhost"
        && ["http://localhost", "https://localhost"]
            .iter()
            .any(|base| {
                origin
                    .strip_prefix(base)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with(':'))
            })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::middleware::testing::{header, layer, request, send};
    use crate::pipeline::{full, handler_fn};

    /// A handler answering 200 `ok` (and a 204 for `OPTIONS`, as the automatic one).
    fn inner() -> Handler {
        handler_fn(|req: HttpRequest| async move {
            if req.method() == Method::OPTIONS {
                let mut res = status_only(StatusCode::NO_CONTENT);
                res.headers_mut()
                    .insert("x-inner", HeaderValue::from_static("yes"));
                return res;
            }
            http::Response::new(full("ok"))
        })
    }

    fn cors(options: &[(&str, &str)]) -> Handler {
        layer("cors", options).unwrap()(inner())
    }

    fn preflight(origin: &str) -> HttpRequest {
        request(
            "OPTIONS",
            "/api/x",
            &[
                ("origin", origin),
                ("access-control-request-method", "POST"),
            ],
        )
    }

    #[tokio::test]
    async fn allowed_preflight_is_answered_here() {
        let h = cors(&[("cors.allow.origins", "https://app.example")]);
        let res = send(&h, preflight("https://app.example")).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_eq!(header(&res, "x-inner"), None, "the next handler never ran");
        assert_eq!(
            header(&res, "access-control-allow-origin").as_deref(),
            Some("https://app.example")
        );
        assert_eq!(
            header(&res, "access-control-allow-methods").as_deref(),
            Some(DEFAULT_METHODS)
        );
        assert_eq!(
            header(&res, "access-control-allow-headers").as_deref(),
            Some(DEFAULT_HEADERS)
        );
        assert_eq!(
            header(&res, "access-control-max-age").as_deref(),
            Some("86400")
        );
        assert_eq!(header(&res, "vary").as_deref(), Some(PREFLIGHT_VARY));
        assert_eq!(header(&res, "access-control-allow-credentials"), None);
        assert_eq!(header(&res, "access-control-allow-private-network"), None);
    }

    #[tokio::test]
    async fn wildcard_echoes_the_origin_never_a_star() {
        let h = cors(&[]);
        let res = send(&h, preflight("http://anything.test:81")).await;
        assert_eq!(
            header(&res, "access-control-allow-origin").as_deref(),
            Some("http://anything.test:81")
        );
        let res = send(
            &h,
            request("GET", "/api/x", &[("origin", "https://other.test")]),
        )
        .await;
        assert_eq!(
            header(&res, "access-control-allow-origin").as_deref(),
            Some("https://other.test")
        );
        assert_eq!(header(&res, "vary").as_deref(), Some("Origin"));
    }

    #[tokio::test]
    async fn disallowed_or_originless_preflight_goes_on_without_headers() {
        let h = cors(&[("allow_origins", "https://app.example")]);
        for req in [
            preflight("https://evil.example"),
            request(
                "OPTIONS",
                "/api/x",
                &[("access-control-request-method", "POST")],
            ),
        ] {
            let res = send(&h, req).await;
            assert_eq!(res.status(), StatusCode::NO_CONTENT);
            assert_eq!(header(&res, "x-inner").as_deref(), Some("yes"));
            assert_eq!(header(&res, "access-control-allow-origin"), None);
            assert_eq!(header(&res, "vary"), None);
        }
    }

    #[tokio::test]
    async fn disallowed_request_is_served_without_cors_headers() {
        let h = cors(&[("cors.allow.origins", "https://app.example")]);
        let res = send(
            &h,
            request("GET", "/api/x", &[("origin", "https://evil.example")]),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(
            res.headers()
                .keys()
                .all(|k| !k.as_str().starts_with("access-control-")),
            "{:?}",
            res.headers()
        );
        assert_eq!(header(&res, "vary"), None);
    }

    #[tokio::test]
    async fn options_without_request_method_is_not_a_preflight() {
        let h = cors(&[("expose_headers", "X-Total")]);
        let res = send(
            &h,
            request("OPTIONS", "/api/x", &[("origin", "https://a.test")]),
        )
        .await;
        assert_eq!(header(&res, "x-inner").as_deref(), Some("yes"));
        assert_eq!(
            header(&res, "access-control-allow-origin").as_deref(),
            Some("https://a.test")
        );
        assert_eq!(
            header(&res, "access-control-expose-headers").as_deref(),
            Some("X-Total")
        );
        assert_eq!(header(&res, "access-control-allow-methods"), None);
    }

    #[tokio::test]
    async fn flags_and_configured_lists() {
        let h = cors(&[
            ("cors.allow.origins", "localhost"),
            ("cors.allow.methods", "GET"),
            ("cors.allow.headers", "X-A"),
            ("cors.max.age", "60"),
            ("cors.allow.credentials", "true"),
            ("allow_private_network", "true"),
        ]);
        let res = send(&h, preflight("http://localhost:5173")).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_eq!(
            header(&res, "access-control-allow-methods").as_deref(),
            Some("GET")
        );
        assert_eq!(
            header(&res, "access-control-allow-headers").as_deref(),
            Some("X-A")
        );
        assert_eq!(
            header(&res, "access-control-max-age").as_deref(),
            Some("60")
        );
        assert_eq!(
            header(&res, "access-control-allow-credentials").as_deref(),
            Some("true")
        );
        assert_eq!(
            header(&res, "access-control-allow-private-network").as_deref(),
            Some("true")
        );
        let res = send(&h, request("GET", "/", &[("origin", "https://localhost")])).await;
        assert_eq!(
            header(&res, "access-control-allow-credentials").as_deref(),
            Some("true")
        );
    }

    #[tokio::test]
    async fn the_handlers_own_headers_win() {
        let h = layer("cors", &[]).unwrap()(handler_fn(|_req| async {
            let mut res = http::Response::new(full("ok"));
            res.headers_mut()
                .insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
            res
        }));
        let res = send(&h, request("GET", "/", &[("origin", "https://a.test")])).await;
        assert_eq!(header(&res, "vary").as_deref(), Some("Accept-Encoding"));
        assert_eq!(
            header(&res, "access-control-allow-origin").as_deref(),
            Some("https://a.test")
        );
    }

    #[test]
    fn origin_patterns() {
        let yes = [
            ("*", "https://x.test"),
            ("https://a.test", "https://a.test"),
            ("*.example.com", "https://api.example.com"),
            ("*.example.com", "http://a.b.example.com:8080x.example.com"),
            ("localhost", "http://localhost"),
            ("localhost", "https://localhost:3000"),
        ];
        let no = [
            ("https://a.test", "https://a.test:443"),
            ("https://a.test", "http://a.test"),
            ("*.example.com", ".example.com"),
            ("*.example.com", "https://example.com"),
            ("*.example.com", "https://api.example.com:8443"),
            ("localhost", "http://localhost.evil.test"),
            ("localhost", "ftp://localhost"),
        ];
        for (a, o) in yes {
            assert!(origin_matches(a, o), "{a} should allow {o}");
        }
        for (a, o) in no {
            assert!(!origin_matches(a, o), "{a} should refuse {o}");
        }
    }

    #[test]
    fn bad_options_name_the_option() {
        for (key, value) in [
            ("cors.allow.credentials", "yes"),
            ("allow_private_network", "1"),
            ("cors.max.age", "a day"),
            ("max_age", "-1"),
            ("cors.allow.headers", "X-A\nX-B"),
        ] {
            let err = layer("cors", &[(key, value)]).err().expect(key);
            assert!(
                err.to_string().contains(&format!("option {key}:")),
                "{key}: {err}"
            );
        }
    }
}

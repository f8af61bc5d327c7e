//! `token_auth`: the request's actor and scope from a bearer token (reference §1.10).
//!
//! The token is read from the header (`Authorization`, only with its `Bearer ` prefix),
//! else the query parameter, else the cookie (`x-auth-token` both), and validated by the
//! `security.token_store` named in `token_auth.store`. A valid token replaces the actor and
//! scope of the request's frame; a missing or invalid one changes nothing. It never
//! answers itself: the firewalls decide.
//!
//! Unlike Wippy, which looks the store up per request and skips silently when it is
//! missing, the store is resolved when the router is built: a name that is not a token
//! store fails the boot on the router.

use std::collections::BTreeMap;
use std::sync::Arc;

use http::HeaderMap;
use weft_core::{Error, Result};
use weft_store::TokenValidator;

use super::{Layer, MiddlewareContext, option};
use crate::pipeline::{Handler, RequestFrame, handler_fn};

/// Where tokens are looked for.
struct Sources {
    header: http::HeaderName,
    prefix: String,
    query: String,
    cookie: String,
}

/// Makes `token_auth` from its options.
pub(super) fn make(options: &BTreeMap<String, String>, cx: &MiddlewareContext) -> Result<Layer> {
    let Some(store) = option(options, "token_auth.store", "token_store") else {
        return Err(Error::invalid(
            "option token_auth.store: a security.token_store id is required",
        ));
    };
    let stores = cx
        .stores
        .as_ref()
        .ok_or_else(|| Error::internal("token_auth: no token stores in this runtime"))?;
    let validator = Arc::new(
        stores
            .token_store_for_middleware(store)
            .map_err(|e| e.context("option token_auth.store"))?,
    );
    let header_name =
        option(options, "token_auth.header.name", "header_name").unwrap_or("Authorization");
    let header = http::HeaderName::try_from(header_name).map_err(|_| {
        Error::invalid(format!(
            "option token_auth.header.name: {header_name:?} is not a header name"
        ))
    })?;
    let sources = Arc::new(Sources {
        header,
        prefix: options
            .get("token_auth.header.prefix")
            .or_else(|| options.get("header_prefix"))
            .cloned()
            .unwrap_or_else(|| "Bearer ".to_string()),
        query: option(options, "token_auth.query.param", "query_param")
            .unwrap_or("x-auth-token")
            .to_string(),
        cookie: option(options, "token_auth.cookie.name", "cookie_name")
            .unwrap_or("x-auth-token")
            .to_string(),
    });
    Ok(Arc::new(move |next: Handler| {
        let validator = validator.clone();
        let sources = sources.clone();
        handler_fn(move |mut req| {
            let token = sources.token(req.headers(), req.uri().query());
            if let Some(token) = token {
                authenticate(
                    &validator,
                    &token,
                    req.extensions_mut().get_mut::<RequestFrame>(),
                );
            }
            crate::pipeline::call(next.clone(), req)
        })
    }))
}

/// Sets the frame's actor and scope from a valid token.
fn authenticate(validator: &TokenValidator, token: &str, frame: Option<&mut RequestFrame>) {
    let Some(frame) = frame else {
        return;
    };
    match validator.validate(token) {
        Ok((actor, scope)) => {
            frame.cx = frame.cx.with_actor(Some(actor)).with_scope(Some(scope));
        }
        Err(e) => tracing::debug!(store = %validator.id(), error = %e, "token_auth: token refused"),
    }
}

impl Sources {
    /// The first token found: header (with its prefix), query parameter, cookie.
    fn token(&self, headers: &HeaderMap, query: Option<&str>) -> Option<String> {
        let from_header = headers
            .get_all(&self.header)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix(self.prefix.as_str()))
            .map(str::trim)
            .filter(|t| !t.is_empty());
        if let Some(token) = from_header {
            return Some(token.to_string());
        }
        let from_query = query.and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(k, v)| k == self.query.as_str() && !v.is_empty())
                .map(|(_, v)| v.into_owned())
        });
        if from_query.is_some() {
            return from_query;
        }
        headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, value)| *name == self.cookie && !value.is_empty())
            .map(|(_, value)| value.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources() -> Sources {
        Sources {
            header: http::header::AUTHORIZATION,
            prefix: "Bearer ".into(),
            query: "x-auth-token".into(),
            cookie: "x-auth-token".into(),
        }
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(http::HeaderName::try_from(*k).unwrap(), v.parse().unwrap());
        }
        h
    }

    #[test]
    fn tokens_come_from_header_then_query_then_cookie() {
        let s = sources();
        let all = headers(&[
            ("authorization", "Bearer H"),
            ("cookie", "a=1; x-auth-token=C"),
        ]);
        assert_eq!(s.token(&all, Some("x-auth-token=Q")).as_deref(), Some("H"));
        // A header without the prefix is skipped.
        let basic = headers(&[("authorization", "Basic abc"), ("cookie", "x-auth-token=C")]);
        assert_eq!(
            s.token(&basic, Some("x-auth-token=Q")).as_deref(),
            Some("Q")
        );
        assert_eq!(s.token(&basic, None).as_deref(), Some("C"));
        assert_eq!(s.token(&HeaderMap::new(), Some("other=1")), None);
    }
}

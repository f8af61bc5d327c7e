//! Following redirects as Go's client does (up to 10; 301/302/303 turn a non-GET/HEAD
//! request into a body-less GET, 307/308 keep method and body; credentials and cookies
//! are dropped on the way to another host), with one difference: every target goes
//! through the outbound policy before it is requested.

use http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, LOCATION};
use http::{HeaderMap, Method, StatusCode};

use super::error::ClientError;

/// The most redirects followed.
pub(crate) const MAX_REDIRECTS: usize = 10;

/// What the next request of a redirect looks like.
pub(crate) struct Hop {
    /// The target.
    pub(crate) url: url::Url,
    /// Its method.
    pub(crate) method: Method,
    /// Whether the body goes again.
    pub(crate) keep_body: bool,
}

/// The redirect `status` with `headers` asks for from `from`, or `None` when the
/// response is the final one (not a redirect, or one without a Location).
pub(crate) fn next(
    status: StatusCode,
    headers: &HeaderMap,
    from: &url::Url,
    method: &Method,
) -> Result<Option<Hop>, ClientError> {
    let (method, keep_body) = match status.as_u16() {
        301..=303 if method == Method::GET || method == Method::HEAD => (method.clone(), false),
        301..=303 => (Method::GET, false),
        307 | 308 => (method.clone(), true),
        _ => return Ok(None),
    };
    let Some(location) = headers.get(LOCATION) else {
        return Ok(None);
    };
    let location = String::from_utf8_lossy(location.as_bytes()).into_owned();
    let bad = |reason: String| ClientError::Location {
        from: from.to_string(),
        location: location.clone(),
        reason,
    };
    let url = from.join(&location).map_err(|e| bad(e.to_string()))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(bad(format!("unsupported scheme {:?}", url.scheme())));
    }
    Ok(Some(Hop {
        url,
        method,
        keep_body,
    }))
}

/// The headers of the next hop: without the body's headers when the body is dropped,
/// and without `Authorization` and `Cookie` when the target is neither the original
/// host nor one of its subdomains (Go's `shouldCopyHeaderOnRedirect`).
pub(crate) fn headers(mut headers: HeaderMap, hop: &Hop, origin: &url::Url) -> HeaderMap {
    if !hop.keep_body {
        headers.remove(CONTENT_TYPE);
        headers.remove(CONTENT_LENGTH);
    }
    let from = origin.host_str().unwrap_or_default().to_ascii_lowercase();
    let to = hop.url.host_str().unwrap_or_default().to_ascii_lowercase();
    let same = from == to || to.ends_with(&format!(".{from}"));
    if !same {
        headers.remove(AUTHORIZATION);
        headers.remove(COOKIE);
        headers.remove("www-authenticate");
        headers.remove("cookie2");
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hop(status: u16, location: &str, method: Method) -> Option<Hop> {
        let mut h = HeaderMap::new();
        h.insert(LOCATION, location.parse().unwrap());
        let from = url::Url::parse("http://a.test/dir/page").unwrap();
        next(StatusCode::from_u16(status).unwrap(), &h, &from, &method).unwrap()
    }

    #[test]
    fn methods_and_bodies_follow_gos_rules() {
        let h = hop(302, "other", Method::POST).unwrap();
        assert_eq!(h.url.as_str(), "http://a.test/dir/other");
        assert_eq!((h.method, h.keep_body), (Method::GET, false));
        let h = hop(303, "/x", Method::HEAD).unwrap();
        assert_eq!((h.method, h.keep_body), (Method::HEAD, false));
        let h = hop(307, "http://b.test/", Method::PUT).unwrap();
        assert_eq!((h.method, h.keep_body), (Method::PUT, true));
        assert!(hop(200, "/x", Method::GET).is_none());
        assert!(hop(304, "/x", Method::GET).is_none());
        let from = url::Url::parse("http://a.test/").unwrap();
        assert!(
            next(StatusCode::FOUND, &HeaderMap::new(), &from, &Method::GET)
                .unwrap()
                .is_none()
        );
        let mut h = HeaderMap::new();
        h.insert(LOCATION, "ftp://x/".parse().unwrap());
        assert!(next(StatusCode::FOUND, &h, &from, &Method::GET).is_err());
    }

    #[test]
    fn credentials_stay_on_the_host_and_its_subdomains() {
        let origin = url::Url::parse("http://a.test/").unwrap();
        let mut base = HeaderMap::new();
        base.insert(AUTHORIZATION, "Basic x".parse().unwrap());
        base.insert(COOKIE, "a=1".parse().unwrap());
        base.insert(CONTENT_TYPE, "text/plain".parse().unwrap());
        let to = |u: &str, keep_body| Hop {
            url: url::Url::parse(u).unwrap(),
            method: Method::GET,
            keep_body,
        };
        let h = headers(base.clone(), &to("http://api.a.test/", true), &origin);
        assert!(h.contains_key(AUTHORIZATION) && h.contains_key(COOKIE));
        assert!(h.contains_key(CONTENT_TYPE));
        let h = headers(base.clone(), &to("http://evil.test/", false), &origin);
        assert!(!h.contains_key(AUTHORIZATION) && !h.contains_key(COOKIE));
        assert!(!h.contains_key(CONTENT_TYPE));
    }
}

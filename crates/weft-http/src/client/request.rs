//! What a caller asks for ([`Request`]) and how it becomes the bytes on the wire: the
//! query merge, the body (multipart `files`, else a urlencoded `form`, else `body`) and
//! the headers (the body's Content-Type, the caller's headers, cookies, basic auth).

use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE};
use http::{HeaderMap, HeaderName, HeaderValue};

use super::encode::query_escape;
use super::error::ClientError;

/// The response body cap when a request sets none: 120 MiB, as in Wippy.
pub const DEFAULT_MAX_RESPONSE_BODY: u64 = 120 << 20;

/// The timeout when a request sets none: 30 s, as in Wippy.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// One outgoing request of the `http_client` (reference §3.2); `Request::new` and
/// struct update syntax fill the rest with the defaults.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// The method, upper-cased by the client (`GET`, `POST`…).
    pub method: String,
    /// The URL as the caller wrote it; the `http_client.request` check is on this text.
    pub url: String,
    /// Headers, added after the automatic Content-Type (names in any case).
    pub headers: Vec<(String, String)>,
    /// A raw body, used when neither `form` nor `files` is set.
    pub body: Option<Bytes>,
    /// A urlencoded form (keys sorted), used when `files` is empty; with `files`, its
    /// fields go into the multipart body first.
    pub form: Option<Vec<(String, String)>>,
    /// Multipart file parts.
    pub files: Vec<FilePart>,
    /// Query parameters merged into the URL's (each replaces a key already there); the
    /// query is then re-encoded with its keys sorted.
    pub query: Vec<(String, String)>,
    /// Cookies sent in one `Cookie` header.
    pub cookies: Vec<(String, String)>,
    /// Basic auth credentials.
    pub auth: Option<BasicAuth>,
    /// The whole exchange, body included (also a streamed body's reads); `None` or zero
    /// is [`DEFAULT_TIMEOUT`]. The caller's deadline bounds it too.
    pub timeout: Option<Duration>,
    /// The largest body read into memory; `None` or zero is
    /// [`DEFAULT_MAX_RESPONSE_BODY`]. A streamed body is not capped.
    pub max_response_body: Option<u64>,
    /// Hand the body over as a [`BodyStream`](super::BodyStream) instead of bytes.
    pub stream: bool,
    /// Send the request over this unix socket instead of TCP.
    pub unix_socket: Option<String>,
    /// Per-request TLS settings.
    pub tls: Option<TlsOptions>,
}

/// One part of a multipart body.
#[derive(Clone, Debug, Default)]
pub struct FilePart {
    /// The form field name.
    pub name: String,
    /// The file name sent in Content-Disposition (omitted when `None`).
    pub filename: Option<String>,
    /// The part's bytes.
    pub content: Bytes,
    /// The part's Content-Type; `None` is `application/octet-stream`.
    pub content_type: Option<String>,
}

/// Basic auth credentials.
#[derive(Clone, Debug, Default)]
pub struct BasicAuth {
    /// The user name.
    pub user: String,
    /// The password.
    pub pass: String,
}

/// Per-request TLS: trust, client certificate, name, verification.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// PEM certificates trusted instead of the built-in roots.
    pub ca: Option<String>,
    /// A PEM client certificate chain (mTLS), with `key`.
    pub cert: Option<String>,
    /// The PEM private key of `cert`.
    pub key: Option<String>,
    /// The name sent as SNI and verified in the server's certificate instead of the
    /// URL's host.
    pub server_name: Option<String>,
    /// Accept any server certificate (checked: `http_client.insecure_tls`).
    pub insecure_skip_verify: bool,
}

impl TlsOptions {
    /// Whether nothing is set (an empty `tls` table is ignored, as in Wippy).
    pub fn is_empty(&self) -> bool {
        *self == TlsOptions::default()
    }
}

impl Request {
    /// A request with `method` to `url` and every option at its default.
    pub fn new(method: impl Into<String>, url: impl Into<String>) -> Request {
        Request {
            method: method.into(),
            url: url.into(),
            ..Request::default()
        }
    }

    /// The TLS options, unless there are none or they are all unset.
    pub(crate) fn tls_options(&self) -> Option<&TlsOptions> {
        self.tls.as_ref().filter(|t| !t.is_empty())
    }

    /// The timeout that applies.
    pub(crate) fn effective_timeout(&self) -> Duration {
        self.timeout
            .filter(|t| !t.is_zero())
            .unwrap_or(DEFAULT_TIMEOUT)
    }

    /// The body cap that applies.
    pub(crate) fn effective_max_body(&self) -> u64 {
        self.max_response_body
            .filter(|m| *m > 0)
            .unwrap_or(DEFAULT_MAX_RESPONSE_BODY)
    }
}

/// Merges `query` into `url` (Go's `q.Set` for each pair, then `q.Encode()`: keys
/// sorted); an empty `query` leaves the URL as it is.
pub(crate) fn merge_query(url: &mut url::Url, query: &[(String, String)]) {
    if query.is_empty() {
        return;
    }
    let mut pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .filter(|(k, _)| !query.iter().any(|(q, _)| q == k))
        .collect();
    pairs.extend(query.iter().cloned());
    url.set_query(Some(&encode_pairs(pairs)));
}

/// Go's `url.Values.Encode`: keys sorted (values of one key in order), each escaped.
pub(crate) fn encode_pairs(mut pairs: Vec<(String, String)>) -> String {
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                query_escape(k.as_bytes()),
                query_escape(v.as_bytes())
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The body and its automatic Content-Type: multipart when there are files, else the
/// urlencoded form, else the raw body.
pub(crate) fn body(req: &Request) -> (Bytes, Option<String>) {
    if !req.files.is_empty() {
        let boundary = boundary();
        let fields = req.form.as_deref().unwrap_or_default();
        let body = multipart(&boundary, fields, &req.files);
        return (
            body,
            Some(format!("multipart/form-data; boundary={boundary}")),
        );
    }
    if let Some(form) = &req.form {
        let text = encode_pairs(form.clone());
        return (
            Bytes::from(text),
            Some("application/x-www-form-urlencoded".to_string()),
        );
    }
    (req.body.clone().unwrap_or_default(), None)
}

/// The request headers: the automatic Content-Type, then the caller's headers (a
/// caller's Content-Type replaces the automatic one, except a multipart body's, whose
/// boundary only the client knows), then cookies and basic auth.
pub(crate) fn headers(req: &Request, auto_type: Option<String>) -> Result<HeaderMap, ClientError> {
    let mut map = HeaderMap::new();
    if let Some(t) = &auto_type {
        map.insert(CONTENT_TYPE, value(t)?);
    }
    let multipart = !req.files.is_empty();
    let mut caller_type = false;
    for (name, text) in &req.headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| ClientError::Header(name.clone()))?;
        if name == CONTENT_TYPE {
            if multipart {
                continue;
            }
            if !caller_type {
                map.remove(CONTENT_TYPE);
                caller_type = true;
            }
        }
        map.append(name, value(text)?);
    }
    if !req.cookies.is_empty() {
        let mut pairs = Vec::with_capacity(req.cookies.len());
        for (name, v) in &req.cookies {
            if name.is_empty() || !name.bytes().all(is_token_byte) {
                return Err(ClientError::Cookie(name.clone()));
            }
            pairs.push(format!("{name}={}", cookie_value(v)));
        }
        map.append(COOKIE, value(&pairs.join("; "))?);
    }
    if let Some(auth) = &req.auth {
        let token = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", auth.user, auth.pass));
        map.insert(AUTHORIZATION, value(&format!("Basic {token}"))?);
    }
    Ok(map)
}

/// A header value; CR, LF and NUL are refused.
fn value(text: &str) -> Result<HeaderValue, ClientError> {
    HeaderValue::from_str(text).map_err(|_| ClientError::Header(text.to_string()))
}

/// A cookie value as Go's `sanitizeCookieValue` writes it: bytes a cookie value cannot
/// hold are dropped, and a value with a space or a comma is quoted.
fn cookie_value(v: &str) -> String {
    let kept: String = v
        .chars()
        .filter(|&c| (' '..='~').contains(&c) && c != '"' && c != ';' && c != '\\')
        .collect();
    if kept.contains(' ') || kept.contains(',') {
        format!("\"{kept}\"")
    } else {
        kept
    }
}

/// A byte allowed in a token (a cookie name).
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A fresh multipart boundary (30 random hex bytes, like Go's).
fn boundary() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    (0..4)
        .map(|i| {
            let mut h = RandomState::new().build_hasher();
            h.write_u64(i);
            format!("{:016x}", h.finish())
        })
        .collect::<String>()[..60]
        .to_string()
}

/// A multipart/form-data body: the form fields, then the files.
fn multipart(boundary: &str, fields: &[(String, String)], files: &[FilePart]) -> Bytes {
    let mut out = Vec::new();
    for (name, v) in fields {
        out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        out.extend_from_slice(
            format!(
                "Content-Disposition: form-data; name=\"{}\"\r\n\r\n",
                escape_quotes(name)
            )
            .as_bytes(),
        );
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    for file in files {
        out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let mut disposition = format!("form-data; name=\"{}\"", escape_quotes(&file.name));
        if let Some(filename) = &file.filename {
            disposition.push_str(&format!("; filename=\"{}\"", escape_quotes(filename)));
        }
        let content_type = file
            .content_type
            .as_deref()
            .filter(|t| !t.is_empty())
            .unwrap_or("application/octet-stream");
        out.extend_from_slice(
            format!(
                "Content-Disposition: {disposition}\r\nContent-Type: {}\r\n\r\n",
                strip_line_breaks(content_type)
            )
            .as_bytes(),
        );
        out.extend_from_slice(&file.content);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    Bytes::from(out)
}

/// Go's multipart quote escaping (`\` and `"` escaped), line breaks dropped so a name
/// cannot start a header of its own.
fn escape_quotes(s: &str) -> String {
    strip_line_breaks(s)
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
}

/// `s` without CR and LF.
fn strip_line_breaks(s: &str) -> String {
    s.chars().filter(|c| *c != '\r' && *c != '\n').collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_merges_with_sorted_keys_and_replaces_keys_already_there() {
        let mut url = url::Url::parse("http://h/p?z=1&a=old&a=older").unwrap();
        merge_query(
            &mut url,
            &[("a".into(), "new value".into()), ("m".into(), "x&y".into())],
        );
        assert_eq!(url.query(), Some("a=new+value&m=x%26y&z=1"));
        let mut url = url::Url::parse("http://h/p?b=2&a=1").unwrap();
        merge_query(&mut url, &[]);
        assert_eq!(url.query(), Some("b=2&a=1"));
    }

    #[test]
    fn a_callers_content_type_replaces_the_automatic_one_once() {
        let req = Request {
            form: Some(vec![("k".into(), "v".into())]),
            headers: vec![(
                "content-type".into(),
                "application/x-www-form-urlencoded; charset=utf-8".into(),
            )],
            ..Request::new("POST", "http://h/")
        };
        let (bytes, auto) = body(&req);
        assert_eq!(&bytes[..], b"k=v");
        let map = headers(&req, auto).unwrap();
        let types: Vec<_> = map.get_all(CONTENT_TYPE).iter().collect();
        assert_eq!(types, ["application/x-www-form-urlencoded; charset=utf-8"]);
        // With files the multipart type (and its boundary) stays.
        let req = Request {
            files: vec![FilePart {
                name: "f".into(),
                content: Bytes::from_static(b"x"),
                ..FilePart::default()
            }],
            ..req
        };
        let (_, auto) = body(&req);
        let map = headers(&req, auto).unwrap();
        let types: Vec<_> = map.get_all(CONTENT_TYPE).iter().collect();
        assert_eq!(types.len(), 1);
        assert!(
            types[0]
                .to_str()
                .unwrap()
                .starts_with("multipart/form-data; boundary=")
        );
    }

    #[test]
    fn cookies_auth_and_bad_headers() {
        let req = Request {
            cookies: vec![("a".into(), "1".into()), ("b".into(), "x y".into())],
            auth: Some(BasicAuth {
                user: "ann".into(),
                pass: "pw".into(),
            }),
            ..Request::new("GET", "http://h/")
        };
        let map = headers(&req, None).unwrap();
        assert_eq!(map[COOKIE], "a=1; b=\"x y\"");
        assert_eq!(map[AUTHORIZATION], "Basic YW5uOnB3");
        let bad = Request {
            headers: vec![("X-A".into(), "a\r\nb".into())],
            ..Request::new("GET", "http://h/")
        };
        assert!(matches!(headers(&bad, None), Err(ClientError::Header(_))));
        let bad = Request {
            headers: vec![("bad name".into(), "v".into())],
            ..Request::new("GET", "http://h/")
        };
        assert!(matches!(headers(&bad, None), Err(ClientError::Header(_))));
    }

    #[test]
    fn multipart_names_cannot_break_out_of_their_header() {
        let files = [FilePart {
            name: "a\"\r\nX-Evil: 1".into(),
            filename: Some("f.txt".into()),
            content: Bytes::from_static(b"data"),
            content_type: Some("text/plain".into()),
        }];
        let body = multipart("B", &[("k".into(), "v".into())], &files);
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert_eq!(
            text,
            "--B\r\nContent-Disposition: form-data; name=\"k\"\r\n\r\nv\r\n\
             --B\r\nContent-Disposition: form-data; name=\"a\\\"X-Evil: 1\"; filename=\"f.txt\"\r\n\
             Content-Type: text/plain\r\n\r\ndata\r\n--B--\r\n"
        );
    }
}

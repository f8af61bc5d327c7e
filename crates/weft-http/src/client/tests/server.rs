//! A small HTTP test server on loopback (TCP, TLS or a unix socket), shared by the
//! client's tests here and the Lua `http_client` tests (included by path).
//!
//! Routes:
//! - `/echo`: JSON `{method, path, query, headers: {lower-case name: [values]}, body}`.
//! - `/raw`: the request body back, its Content-Type in `X-Request-Content-Type`.
//! - `/redirect?to=URL&status=N`: a redirect (302 unless `status`).
//! - `/chain/N`: N redirects (`/chain/N-1` … `/chain/0`, which answers `done`).
//! - `/cookies`: sets `a=1` and `b=two` (two Set-Cookie headers).
//! - `/headers`: `x-custom-header` twice, `www-authenticate`, `x-ssl`.
//! - `/slow?ms=N`: answers `slow` after N ms.
//! - `/drip?chunks=N&ms=M`: N chunks `chunk<i>\n`, M ms apart.
//! - `/big?n=N` (with a Content-Length) and `/big-chunked?n=N` (without): N bytes `x`.
//! - `/empty`: 200 with no body.
//! - `/status/N`: status N, body `status N`.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, UnixListener};

type Body = BoxBody<Bytes, Infallible>;

/// A running test server; its tasks stop with the runtime.
pub struct TestServer {
    /// `http://127.0.0.1:port` (or `https://localhost:port`).
    pub base: String,
    /// The listening address (TCP servers).
    pub addr: Option<SocketAddr>,
}

/// A plain HTTP server on 127.0.0.1.
pub async fn start() -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(serve(tcp));
        }
    });
    TestServer {
        base: format!("http://127.0.0.1:{}", addr.port()),
        addr: Some(addr),
    }
}

/// A plain HTTP server on a unix socket at `path`.
pub async fn start_unix(path: &Path) -> TestServer {
    let listener = UnixListener::bind(path).unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream));
        }
    });
    TestServer {
        base: "http://unix.invalid".to_string(),
        addr: None,
    }
}

/// A self-signed certificate for `names`: (cert PEM, key PEM).
pub fn self_signed(names: &[&str]) -> (String, String) {
    let names = names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
    let key = rcgen::generate_simple_self_signed(names).unwrap();
    (key.cert.pem(), key.signing_key.serialize_pem())
}

/// An HTTPS server on 127.0.0.1 with `cert`/`key` (PEM); with `client_ca`, clients
/// must present a certificate signed by it (mTLS). `base` is `https://localhost:port`.
pub async fn start_tls(cert: &str, key: &str, client_ca: Option<&str>) -> TestServer {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert.as_bytes())
        .collect::<Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap();
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = match client_ca {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in CertificateDer::pem_slice_iter(ca.as_bytes()) {
                roots.add(c.unwrap()).unwrap();
            }
            let verifier =
                rustls::server::WebPkiClientVerifier::builder_with_provider(roots.into(), provider)
                    .build()
                    .unwrap();
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_single_cert(chain, key).unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(tcp).await {
                    serve(tls).await;
                }
            });
        }
    });
    TestServer {
        base: format!("https://localhost:{}", addr.port()),
        addr: Some(addr),
    }
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin + Send + 'static>(stream: S) {
    let _ = http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service_fn(handle))
        .await;
}

fn full(status: u16, body: impl Into<Bytes>) -> Response<Body> {
    Response::builder()
        .status(status)
        .body(Full::new(body.into()).boxed())
        .unwrap()
}

fn params(req: &Request<Incoming>) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

fn num(params: &BTreeMap<String, String>, key: &str, default: u64) -> u64 {
    params
        .get(key)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn handle(req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let path = req.uri().path().to_string();
    let q = params(&req);
    let response = match path.as_str() {
        "/echo" => {
            let method = req.method().to_string();
            let query = req.uri().query().unwrap_or("").to_string();
            let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for (name, value) in req.headers() {
                headers
                    .entry(name.as_str().to_string())
                    .or_default()
                    .push(String::from_utf8_lossy(value.as_bytes()).into_owned());
            }
            let body = req.into_body().collect().await.unwrap().to_bytes();
            let json = serde_json::json!({
                "method": method,
                "path": path,
                "query": query,
                "headers": headers,
                "body": String::from_utf8_lossy(&body),
            });
            let mut r = full(200, json.to_string());
            r.headers_mut()
                .insert("content-type", "application/json".parse().unwrap());
            r
        }
        "/raw" => {
            let ct = req.headers().get("content-type").cloned();
            let body = req.into_body().collect().await.unwrap().to_bytes();
            let mut r = full(200, body);
            if let Some(ct) = ct {
                r.headers_mut().insert("x-request-content-type", ct);
            }
            r
        }
        "/redirect" => {
            let status = num(&q, "status", 302) as u16;
            let mut r = full(status, "");
            r.headers_mut().insert(
                "location",
                q.get("to").cloned().unwrap_or_default().parse().unwrap(),
            );
            r
        }
        p if p.starts_with("/chain/") => {
            let n: u64 = p["/chain/".len()..].parse().unwrap_or(0);
            if n == 0 {
                full(200, "done")
            } else {
                let mut r = full(302, "");
                r.headers_mut()
                    .insert("location", format!("/chain/{}", n - 1).parse().unwrap());
                r
            }
        }
        "/cookies" => {
            let mut r = full(200, "cookies");
            r.headers_mut()
                .append("set-cookie", "a=1; Path=/".parse().unwrap());
            r.headers_mut()
                .append("set-cookie", "b=two; HttpOnly".parse().unwrap());
            r
        }
        "/headers" => {
            let mut r = full(200, "headers");
            let h = r.headers_mut();
            h.append("x-custom-header", "one".parse().unwrap());
            h.append("x-custom-header", "two".parse().unwrap());
            h.append("www-authenticate", "Basic".parse().unwrap());
            h.append("x-ssl", "on".parse().unwrap());
            r
        }
        "/slow" => {
            tokio::time::sleep(Duration::from_millis(num(&q, "ms", 200))).await;
            full(200, "slow")
        }
        "/drip" => {
            let chunks = num(&q, "chunks", 3);
            let ms = num(&q, "ms", 50);
            let stream = futures::stream::unfold(0u64, move |i| async move {
                if i >= chunks {
                    return None;
                }
                if i > 0 {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                }
                let frame = Frame::data(Bytes::from(format!("chunk{i}\n")));
                Some((Ok::<_, Infallible>(frame), i + 1))
            });
            Response::new(StreamBody::new(stream).boxed())
        }
        "/big" => full(200, vec![b'x'; num(&q, "n", 0) as usize]),
        "/big-chunked" => {
            let n = num(&q, "n", 0) as usize;
            let stream = futures::stream::iter((0..n).step_by(4096).map(move |start| {
                let len = 4096.min(n - start);
                Ok::<_, Infallible>(Frame::data(Bytes::from(vec![b'x'; len])))
            }));
            Response::new(StreamBody::new(stream).boxed())
        }
        "/empty" => full(200, ""),
        p if p.starts_with("/status/") => {
            let n: u16 = p["/status/".len()..].parse().unwrap_or(500);
            full(n, format!("status {n}"))
        }
        _ => full(404, "not found"),
    };
    Ok(response)
}

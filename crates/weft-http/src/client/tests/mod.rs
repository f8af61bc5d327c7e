//! The client against real servers on loopback (`server.rs`): every option, the
//! response, the checks (redirects included), timeouts, caps, unix sockets, TLS.

mod server;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::Value as Json;
use weft_core::{Actor, CallContext, Decision, EntryId, ErrorKind, Map, Policy, Scope};

use super::*;
use server::{self_signed, start, start_tls, start_unix};

/// Denies `action` on resources containing `needle`; allows everything else.
struct Deny(Vec<(&'static str, &'static str)>, EntryId);

impl Policy for Deny {
    fn id(&self) -> &EntryId {
        &self.1
    }

    fn evaluate(&self, _: &Actor, action: &str, resource: &str, _: Option<&Map>) -> Decision {
        if self
            .0
            .iter()
            .any(|(a, needle)| *a == action && resource.contains(needle))
        {
            Decision::Deny
        } else {
            Decision::Allow
        }
    }
}

/// A context whose scope denies each `(action, resource substring)`.
fn denying(rules: Vec<(&'static str, &'static str)>) -> CallContext {
    let policy: Arc<dyn Policy> = Arc::new(Deny(rules, EntryId::new("t", "deny")));
    CallContext::root(false)
        .with_actor(Some(Actor::new("tester", Map::new())))
        .with_scope(Some(Scope::new([policy])))
}

fn open() -> CallContext {
    CallContext::root(false)
}

fn get(url: impl Into<String>) -> Request {
    Request::new("get", url)
}

fn text(resp: &Response) -> String {
    match &resp.body {
        ResponseBody::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        ResponseBody::Stream(_) => panic!("streamed"),
    }
}

fn json(resp: &Response) -> Json {
    serde_json::from_str(&text(resp)).unwrap()
}

fn header<'a>(resp: &'a Response, name: &str) -> Option<&'a str> {
    resp.headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn method_headers_body_query_cookies_and_auth_reach_the_server() {
    let srv = start().await;
    let client = HttpClient::new();
    let req = Request {
        headers: vec![("X-One".into(), "1".into()), ("x-two".into(), "b".into())],
        body: Some(Bytes::from_static(b"payload")),
        query: vec![("b".into(), "new value".into()), ("c".into(), "&".into())],
        cookies: vec![("session".into(), "abc".into())],
        auth: Some(BasicAuth {
            user: "ann".into(),
            pass: "secret".into(),
        }),
        ..Request::new("patch", format!("{}/echo?z=9&b=old", srv.base))
    };
    let resp = client.request(&open(), req).await.unwrap();
    assert_eq!(resp.status, 200);
    let echo = json(&resp);
    assert_eq!(echo["method"], "PATCH");
    assert_eq!(echo["query"], "b=new+value&c=%26&z=9");
    assert_eq!(echo["body"], "payload");
    assert_eq!(echo["headers"]["x-one"][0], "1");
    assert_eq!(echo["headers"]["x-two"][0], "b");
    assert_eq!(echo["headers"]["cookie"][0], "session=abc");
    assert_eq!(
        echo["headers"]["authorization"][0],
        "Basic YW5uOnNlY3JldA=="
    );
    assert!(echo["headers"].get("content-type").is_none());
    assert_eq!(header(&resp, "Content-Type"), Some("application/json"));
    assert_eq!(resp.url, format!("{}/echo?b=new+value&c=%26&z=9", srv.base));
}

#[tokio::test]
async fn forms_are_urlencoded_with_sorted_keys_and_one_content_type() {
    let srv = start().await;
    let client = HttpClient::new();
    let req = Request {
        form: Some(vec![
            ("z".into(), "last".into()),
            ("a".into(), "x y".into()),
        ]),
        body: Some(Bytes::from_static(b"ignored")),
        headers: vec![(
            "Content-Type".into(),
            "application/x-www-form-urlencoded".into(),
        )],
        ..Request::new("POST", format!("{}/echo", srv.base))
    };
    let echo = json(&client.request(&open(), req).await.unwrap());
    assert_eq!(echo["body"], "a=x+y&z=last");
    assert_eq!(
        echo["headers"]["content-type"],
        serde_json::json!(["application/x-www-form-urlencoded"])
    );
}

#[tokio::test]
async fn multipart_files_reach_the_server_intact() {
    let srv = start().await;
    let client = HttpClient::new();
    let binary: Vec<u8> = (0..=255u8)
        .chain(b"\r\n--not-a-boundary\r\n".iter().copied())
        .collect();
    let req = Request {
        form: Some(vec![("field".into(), "value".into())]),
        files: vec![
            FilePart {
                name: "upload".into(),
                filename: Some("data.bin".into()),
                content: Bytes::from(binary.clone()),
                content_type: Some("image/png".into()),
            },
            FilePart {
                name: "notes".into(),
                filename: Some("a.txt".into()),
                content: Bytes::from_static(b"hello"),
                content_type: None,
            },
        ],
        headers: vec![("Content-Type".into(), "text/plain".into())],
        ..Request::new("POST", format!("{}/raw", srv.base))
    };
    let resp = client.request(&open(), req).await.unwrap();
    let ct = header(&resp, "X-Request-Content-Type").unwrap().to_string();
    let boundary = ct
        .strip_prefix("multipart/form-data; boundary=")
        .expect("the multipart type wins over the caller's");
    let ResponseBody::Bytes(body) = &resp.body else {
        panic!("streamed")
    };
    let mut expected = Vec::new();
    expected.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"field\"\r\n\r\nvalue\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"data.bin\"\r\n\
             Content-Type: image/png\r\n\r\n"
        )
        .as_bytes(),
    );
    expected.extend_from_slice(&binary);
    expected.extend_from_slice(
        format!(
            "\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"notes\"; filename=\"a.txt\"\r\n\
             Content-Type: application/octet-stream\r\n\r\nhello\r\n--{boundary}--\r\n"
        )
        .as_bytes(),
    );
    assert_eq!(&body[..], &expected[..]);
}

#[tokio::test]
async fn responses_have_canonical_first_valued_headers_cookies_and_statuses() {
    let srv = start().await;
    let client = HttpClient::new();
    let resp = client
        .request(&open(), get(format!("{}/headers", srv.base)))
        .await
        .unwrap();
    assert_eq!(header(&resp, "X-Custom-Header"), Some("one"));
    assert_eq!(header(&resp, "Www-Authenticate"), Some("Basic"));
    assert_eq!(header(&resp, "X-Ssl"), Some("on"));
    let resp = client
        .request(&open(), get(format!("{}/cookies", srv.base)))
        .await
        .unwrap();
    assert_eq!(
        resp.cookies,
        [
            ("a".to_string(), "1".to_string()),
            ("b".into(), "two".into())
        ]
    );
    let resp = client
        .request(&open(), get(format!("{}/status/503", srv.base)))
        .await
        .unwrap();
    assert_eq!((resp.status, text(&resp).as_str()), (503, "status 503"));
    let resp = client
        .request(&open(), get(format!("{}/empty", srv.base)))
        .await
        .unwrap();
    assert_eq!(resp.body_size(), 0);
    let resp = client
        .request(
            &open(),
            Request::new("HEAD", format!("{}/big?n=10", srv.base)),
        )
        .await
        .unwrap();
    assert_eq!(resp.body_size(), 0);
    assert_eq!(header(&resp, "Content-Length"), Some("10"));
}

#[tokio::test]
async fn timeouts_bound_the_exchange_fractions_included() {
    let srv = start().await;
    let client = HttpClient::new();
    let started = Instant::now();
    let req = Request {
        timeout: Some(Duration::from_millis(150)),
        ..get(format!("{}/slow?ms=2000", srv.base))
    };
    let err = client.request(&open(), req).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(err.message().contains("timed out after 150ms"), "{err}");
    assert!(started.elapsed() < Duration::from_millis(1000));
    // The caller's deadline bounds it too.
    let cx = open().with_deadline(Instant::now() + Duration::from_millis(100));
    let err = client
        .request(&cx, get(format!("{}/slow?ms=2000", srv.base)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    // A slow body read is inside the timeout.
    let req = Request {
        timeout: Some(Duration::from_millis(150)),
        ..get(format!("{}/drip?chunks=5&ms=100", srv.base))
    };
    let err = client.request(&open(), req).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    let req = Request {
        timeout: Some(Duration::from_millis(1500)),
        ..get(format!("{}/slow?ms=50", srv.base))
    };
    assert_eq!(text(&client.request(&open(), req).await.unwrap()), "slow");
}

#[tokio::test]
async fn bodies_over_max_response_body_fail() {
    let srv = start().await;
    let client = HttpClient::new();
    for path in ["big", "big-chunked"] {
        let req = Request {
            max_response_body: Some(10_000),
            ..get(format!("{}/{path}?n=10001", srv.base))
        };
        let err = client.request(&open(), req).await.unwrap_err();
        assert_eq!(err.message(), "response body too large (max 10000 bytes)");
        let req = Request {
            max_response_body: Some(10_000),
            ..get(format!("{}/{path}?n=10000", srv.base))
        };
        let resp = client.request(&open(), req).await.unwrap();
        assert_eq!(resp.body_size(), 10_000);
    }
}

#[tokio::test]
async fn streams_read_piece_by_piece_within_the_timeout() {
    let srv = start().await;
    let client = HttpClient::new();
    let req = Request {
        stream: true,
        ..get(format!("{}/drip?chunks=3&ms=30", srv.base))
    };
    let resp = client.request(&open(), req).await.unwrap();
    assert_eq!(resp.body_size(), -1);
    let ResponseBody::Stream(mut stream) = resp.body else {
        panic!("not streamed")
    };
    assert_eq!(&stream.read(3).await.unwrap().unwrap()[..], b"chu");
    assert_eq!(&stream.read(0).await.unwrap().unwrap()[..], b"nk0\n");
    let mut rest = Vec::new();
    while let Some(piece) = stream.read(1024).await.unwrap() {
        rest.extend_from_slice(&piece);
    }
    assert_eq!(rest, b"chunk1\nchunk2\n");
    assert!(!stream.is_open());
    // A stream read past the timeout fails.
    let req = Request {
        stream: true,
        timeout: Some(Duration::from_millis(200)),
        ..get(format!("{}/drip?chunks=3&ms=500", srv.base))
    };
    let ResponseBody::Stream(mut stream) = client.request(&open(), req).await.unwrap().body else {
        panic!("not streamed")
    };
    assert!(stream.read(0).await.unwrap().is_some());
    let err = stream.read(0).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(stream.read(0).await.unwrap().is_none());
}

#[tokio::test]
async fn redirects_are_followed_as_go_does() {
    let srv = start().await;
    let client = HttpClient::new();
    let resp = client
        .request(&open(), get(format!("{}/chain/10", srv.base)))
        .await
        .unwrap();
    assert_eq!(
        (text(&resp).as_str(), resp.url.clone()),
        ("done", format!("{}/chain/0", srv.base))
    );
    let err = client
        .request(&open(), get(format!("{}/chain/11", srv.base)))
        .await
        .unwrap_err();
    assert_eq!(err.message(), "stopped after 10 redirects");
    // 302 turns a POST into a GET without its body; 307 keeps both.
    for (status, method, body) in [(302, "GET", ""), (307, "POST", "data")] {
        let req = Request {
            body: Some(Bytes::from_static(b"data")),
            ..Request::new(
                "POST",
                format!("{}/redirect?status={status}&to=/echo", srv.base),
            )
        };
        let echo = json(&client.request(&open(), req).await.unwrap());
        assert_eq!(
            (echo["method"].as_str(), echo["body"].as_str()),
            (Some(method), Some(body))
        );
    }
}

#[tokio::test]
async fn every_redirect_target_is_checked_before_it_is_followed() {
    let srv = start().await;
    let client = HttpClient::new();
    let cx = denying(vec![("http_client.request", "/forbidden")]);
    let target = format!("{}/forbidden", srv.base);
    let req = get(format!(
        "{}/redirect?to={}",
        srv.base,
        query_escape(target.as_bytes())
    ));
    let err = client.request(&cx, req).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);
    assert_eq!(
        err.message(),
        format!("not allowed: http_client.request on {target}")
    );
    assert!(err.to_string().contains(&format!("to {target}")), "{err}");
    // The same request without the redirect's target denied goes through.
    let cx = denying(vec![("http_client.request", "/elsewhere")]);
    let to = format!("{}/echo", srv.base);
    let req = get(format!(
        "{}/redirect?to={}",
        srv.base,
        query_escape(to.as_bytes())
    ));
    assert_eq!(client.request(&cx, req).await.unwrap().status, 200);
}

#[tokio::test]
async fn private_addresses_need_http_client_private_ip() {
    let srv = start().await;
    let client = HttpClient::new();
    let cx = denying(vec![("http_client.private_ip", "127.0.0.1")]);
    let err = client
        .request(&cx, get(format!("{}/echo", srv.base)))
        .await
        .unwrap_err();
    assert_eq!(
        err.message(),
        "not allowed: http_client.private_ip on 127.0.0.1"
    );
    let cx = denying(vec![("http_client.request", "/echo")]);
    let err = client
        .request(&cx, get(format!("{}/echo", srv.base)))
        .await
        .unwrap_err();
    assert_eq!(
        err.message(),
        format!("not allowed: http_client.request on {}/echo", srv.base)
    );
}

#[tokio::test]
async fn unix_sockets_are_dialled_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.sock");
    start_unix(&path).await;
    let client = HttpClient::new();
    let socket = path.to_str().unwrap().to_string();
    let req = Request {
        unix_socket: Some(socket.clone()),
        ..get("http://localhost/echo?x=1")
    };
    // No private-IP check over a unix socket.
    let cx = denying(vec![("http_client.private_ip", "")]);
    let echo = json(&client.request(&cx, req.clone()).await.unwrap());
    assert_eq!(
        (echo["path"].as_str(), echo["query"].as_str()),
        (Some("/echo"), Some("x=1"))
    );
    let cx = denying(vec![("http_client.unix_socket", "app.sock")]);
    let err = client.request(&cx, req).await.unwrap_err();
    assert_eq!(
        err.message(),
        format!("not allowed: http_client.unix_socket on {socket}")
    );
}

#[tokio::test]
async fn batches_run_concurrently_and_keep_each_outcome_in_place() {
    let srv = start().await;
    let client = HttpClient::new();
    let started = Instant::now();
    let reqs = vec![
        get(format!("{}/slow?ms=400", srv.base)),
        get(format!("{}/slow?ms=400", srv.base)),
        get("http://127.0.0.1:1/refused"),
    ];
    let out = client.request_batch(&open(), reqs).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(750),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(text(out[0].as_ref().unwrap()), "slow");
    assert_eq!(text(out[1].as_ref().unwrap()), "slow");
    let err = out[2].as_ref().unwrap_err();
    assert_eq!(
        (err.kind(), err.retryable()),
        (ErrorKind::Internal, Some(true))
    );
    // A denial, a bad request or a stream fails the whole batch before anything is sent.
    let cx = denying(vec![("http_client.request", "/second")]);
    let reqs = vec![
        get(format!("{}/first", srv.base)),
        get(format!("{}/second", srv.base)),
    ];
    let err = client.request_batch(&cx, reqs).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);
    let reqs = vec![Request {
        stream: true,
        ..get(format!("{}/echo", srv.base))
    }];
    let err = client.request_batch(&open(), reqs).await.unwrap_err();
    assert_eq!(err.message(), "streaming not supported in batch requests");
}

#[tokio::test]
async fn bad_requests_are_invalid() {
    let client = HttpClient::new();
    for (method, url) in [
        ("GET", "not a url"),
        ("GET", "ftp://h/x"),
        ("GET", "file:///etc/passwd"),
        ("BAD METHOD", "http://127.0.0.1:1/"),
    ] {
        let err = client
            .request(&open(), Request::new(method, url))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Invalid, "{method} {url}: {err}");
    }
    let req = Request {
        tls: Some(TlsOptions {
            ca: Some("not pem".into()),
            ..TlsOptions::default()
        }),
        ..get("https://127.0.0.1:1/")
    };
    let err = client.request(&open(), req).await.unwrap_err();
    assert_eq!(err.message(), "tls.ca: no PEM certificate found");
    let req = Request {
        tls: Some(TlsOptions {
            cert: Some("x".into()),
            ..TlsOptions::default()
        }),
        ..get("https://127.0.0.1:1/")
    };
    let err = client.request(&open(), req).await.unwrap_err();
    assert_eq!(err.message(), "tls.key: is required with tls.cert");
}

#[tokio::test]
async fn tls_verifies_against_the_roots_a_ca_or_nothing_when_allowed() {
    let (cert, key) = self_signed(&["localhost"]);
    let srv = start_tls(&cert, &key, None).await;
    let client = HttpClient::new();
    let url = format!("{}/echo", srv.base);
    // The built-in roots do not know a self-signed certificate.
    let err = client.request(&open(), get(&url)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Internal);
    assert!(
        err.message().to_lowercase().contains("certificate"),
        "{err}"
    );
    let with = |tls: TlsOptions, url: &str| Request {
        tls: Some(tls),
        ..get(url)
    };
    let ca = TlsOptions {
        ca: Some(cert.clone()),
        ..TlsOptions::default()
    };
    assert_eq!(
        client
            .request(&open(), with(ca.clone(), &url))
            .await
            .unwrap()
            .status,
        200
    );
    // server_name: the name verified (and sent) instead of the URL's host.
    let by_ip = format!("https://127.0.0.1:{}/echo", srv.addr.unwrap().port());
    assert!(
        client
            .request(&open(), with(ca.clone(), &by_ip))
            .await
            .is_err()
    );
    let named = TlsOptions {
        server_name: Some("localhost".into()),
        ..ca
    };
    assert_eq!(
        client
            .request(&open(), with(named, &by_ip))
            .await
            .unwrap()
            .status,
        200
    );
    // insecure_skip_verify works when allowed and is checked.
    let insecure = TlsOptions {
        insecure_skip_verify: true,
        ..TlsOptions::default()
    };
    let resp = client
        .request(&open(), with(insecure.clone(), &url))
        .await
        .unwrap();
    assert_eq!(resp.status, 200);
    let cx = denying(vec![("http_client.insecure_tls", "")]);
    let err = client.request(&cx, with(insecure, &url)).await.unwrap_err();
    assert_eq!(
        err.message(),
        format!("not allowed: http_client.insecure_tls on {url}")
    );
}

#[tokio::test]
async fn mutual_tls_presents_the_client_certificate() {
    let (cert, key) = self_signed(&["localhost"]);
    let (client_cert, client_key) = self_signed(&["client.test"]);
    let srv = start_tls(&cert, &key, Some(&client_cert)).await;
    let client = HttpClient::new();
    let url = format!("{}/echo", srv.base);
    let tls = TlsOptions {
        ca: Some(cert.clone()),
        ..TlsOptions::default()
    };
    let without = Request {
        tls: Some(tls.clone()),
        ..get(&url)
    };
    assert!(client.request(&open(), without).await.is_err());
    let with = Request {
        tls: Some(TlsOptions {
            cert: Some(client_cert),
            key: Some(client_key),
            ..tls
        }),
        ..get(&url)
    };
    assert_eq!(client.request(&open(), with).await.unwrap().status, 200);
}

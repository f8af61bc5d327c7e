//! `compress`: gzip responses for clients that accept it (reference §1.10), through
//! tower-http's `CompressionLayer` with gzip alone.
//!
//! `compress.level` is `fastest`, `default` or `best`; `compress.min.length` (default
//! 1024) is the smallest body compressed, judged by the body's known length or its
//! `Content-Length`. A streamed body of unknown length is compressed (Wippy's `gzhttp`
//! buffers up to the minimum to decide). As tower-http does by default, images, gRPC and
//! `text/event-stream` responses are left alone, as is a response that already has a
//! `Content-Encoding`.

use std::collections::BTreeMap;
use std::sync::Arc;

use http::header;
use http_body::Body as HttpBody;
use http_body_util::BodyExt;
use tower::Layer as _;
use tower_http::compression::predicate::{NotForContentType, Predicate};
use tower_http::compression::{CompressionLayer, CompressionLevel};

use super::{Layer, MiddlewareContext, invalid_option, number_option, option};
use crate::pipeline::{BoxError, Handler};
use tower::util::BoxCloneSyncService;
use weft_core::Result;

const LEVEL: &str = "compress.level";
const MIN_LENGTH: &str = "compress.min.length";

/// Makes `compress` from its options.
pub(super) fn make(options: &BTreeMap<String, String>, _cx: &MiddlewareContext) -> Result<Layer> {
    let level = match option(options, LEVEL, LEVEL).unwrap_or("default") {
        "fastest" => CompressionLevel::Fastest,
        "default" => CompressionLevel::Default,
        "best" => CompressionLevel::Best,
        other => {
            return Err(invalid_option(
                options,
                LEVEL,
                LEVEL,
                format!("must be fastest, default or best, got {other:?}"),
            ));
        }
    };
    let min = number_option(options, MIN_LENGTH, MIN_LENGTH, 1024, 1)?;
    let layer = CompressionLayer::new()
        .gzip(true)
        .no_br()
        .no_deflate()
        .no_zstd()
        .quality(level)
        .compress_when(
            MinLength(min)
                .and(NotForContentType::GRPC)
                .and(NotForContentType::IMAGES)
                .and(NotForContentType::SSE),
        );
    Ok(Arc::new(move |next: Handler| {
        let service = tower::util::MapResponseLayer::new(|res: http::Response<_>| {
            res.map(
                |body: tower_http::compression::CompressionBody<crate::pipeline::Body>| {
                    body.map_err(|e| -> BoxError { e }).boxed_unsync()
                },
            )
        })
        .layer(layer.layer(next));
        BoxCloneSyncService::new(service)
    }))
}

/// Compresses a body of at least this many bytes, or of unknown length.
#[derive(Clone, Copy)]
struct MinLength(u64);

impl Predicate for MinLength {
    fn should_compress<B>(&self, response: &http::Response<B>) -> bool
    where
        B: HttpBody,
    {
        let known = response.body().size_hint().exact().or_else(|| {
            response
                .headers()
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok())
        });
        known.is_none_or(|len| len >= self.0)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use http::{HeaderValue, StatusCode};

    use super::*;
    use crate::middleware::testing::{body, header, layer, request, send};
    use crate::pipeline::{HttpRequest, full, handler_fn};

    /// A handler answering `len` bytes of text (from the query).
    fn text() -> Handler {
        handler_fn(|req: HttpRequest| async move {
            let len: usize = req.uri().query().unwrap_or("0").parse().unwrap();
            let mut res = http::Response::new(full("a".repeat(len)));
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            res
        })
    }

    fn gunzip(bytes: &[u8]) -> String {
        let mut out = String::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_string(&mut out)
            .unwrap();
        out
    }

    #[tokio::test]
    async fn gzip_only_when_accepted_and_long_enough() {
        let h = layer("compress", &[]).unwrap()(text());
        let gz = [("accept-encoding", "gzip, deflate, br")];

        let res = send(&h, request("GET", "/?5000", &gz)).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(header(&res, "content-encoding").as_deref(), Some("gzip"));
        assert_eq!(header(&res, "vary").as_deref(), Some("accept-encoding"));
        let bytes = body(res).await;
        assert!(bytes.len() < 5000);
        assert_eq!(gunzip(&bytes), "a".repeat(5000));

        let res = send(&h, request("GET", "/?5000", &[])).await;
        assert_eq!(header(&res, "content-encoding"), None);
        assert_eq!(body(res).await.len(), 5000);

        let res = send(&h, request("GET", "/?1023", &gz)).await;
        assert_eq!(header(&res, "content-encoding"), None);
        assert_eq!(body(res).await.len(), 1023);

        let res = send(&h, request("GET", "/?1024", &gz)).await;
        assert_eq!(header(&res, "content-encoding").as_deref(), Some("gzip"));

        let res = send(&h, request("GET", "/?5000", &[("accept-encoding", "br")])).await;
        assert_eq!(header(&res, "content-encoding"), None, "gzip only");
    }

    #[tokio::test]
    async fn min_length_and_level() {
        let h = layer(
            "compress",
            &[("compress.min.length", "10"), ("compress.level", "best")],
        )
        .unwrap()(text());
        let res = send(&h, request("GET", "/?20", &[("accept-encoding", "gzip")])).await;
        assert_eq!(header(&res, "content-encoding").as_deref(), Some("gzip"));
        assert_eq!(gunzip(&body(res).await), "a".repeat(20));
        let res = send(&h, request("GET", "/?9", &[("accept-encoding", "gzip")])).await;
        assert_eq!(header(&res, "content-encoding"), None);
    }

    #[test]
    fn bad_options_name_the_option() {
        for (key, value) in [
            ("compress.level", "max"),
            ("compress.min.length", "0"),
            ("compress.min.length", "1k"),
        ] {
            let err = layer("compress", &[(key, value)]).err().expect(key);
            assert!(
                err.to_string().contains(&format!("option {key}:")),
                "{key}: {err}"
            );
        }
    }
}

//! `sendfile`: a handler answers with a file by naming it (reference §1.10).
//!
//! After the handler, a response header `X-Sendfile` (or Wippy's older `X-File-Path`)
//! names a file in the `fs.directory` of the `sendfile.fs` option (legacy `fs`): the
//! headers are removed and the file is served instead of the handler's body, through
//! tower-http's `ServeFile` as static files are (content type from the extension unless
//! the handler set one, `Range`, `If-Modified-Since`). `X-File-Name` becomes
//! `Content-Disposition: attachment; filename="…"`. The handler's other headers are
//! kept. The path resolves inside the root (`FsRoot::resolve`: no `..`, no symlink out).
//!
//! | case | response |
//! |---|---|
//! | empty, `.`, `..`, or a path leaving the root | 400 `sendfile middleware: invalid file path` |
//! | no such file (or a directory) | 404 `sendfile middleware: file not found: <path>` |
//!
//! Unlike Wippy, which answers 500 at request time, a missing `sendfile.fs` or an fs
//! that does not exist fails the boot.

use std::collections::BTreeMap;
use std::sync::Arc;

use http::{HeaderMap, HeaderValue, StatusCode, header};
use http_body_util::BodyExt;
use tower_http::services::ServeFile;
use weft_core::{CallContext, Result};
use weft_fs::FsRoot;

use super::{Layer, MiddlewareContext, invalid_option, option};
use crate::pipeline::{BoxError, Handler, HttpResponse, empty, handler_fn, text_error};

const FS: (&str, &str) = ("sendfile.fs", "fs");

const X_SENDFILE: &str = "x-sendfile";
const X_FILE_PATH: &str = "x-file-path";
const X_FILE_NAME: &str = "x-file-name";

/// Headers of the handler's response that describe its own body, not the file's.
const BODY_HEADERS: [header::HeaderName; 7] = [
    header::CONTENT_LENGTH,
    header::CONTENT_RANGE,
    header::CONTENT_ENCODING,
    header::TRANSFER_ENCODING,
    header::ACCEPT_RANGES,
    header::LAST_MODIFIED,
    header::ETAG,
];

/// Makes `sendfile` from its options.
pub(super) fn make(options: &BTreeMap<String, String>, cx: &MiddlewareContext) -> Result<Layer> {
    let Some(id) = option(options, FS.0, FS.1) else {
        return Err(invalid_option(
            options,
            FS.0,
            FS.1,
            "required: the fs.directory to serve files from",
        ));
    };
    // The app's own configuration names the fs: looked up as the runtime, not a caller.
    let root = cx
        .fs
        .get(&CallContext::system(true), id)
        .map_err(|e| invalid_option(options, FS.0, FS.1, e.message()))?;
    Ok(layer(root))
}

/// The middleware serving files from `root`.
fn layer(root: Arc<FsRoot>) -> Layer {
    Arc::new(move |next: Handler| {
        let root = root.clone();
        handler_fn(move |req| {
            let root = root.clone();
            let next = next.clone();
            async move {
                // What the file service needs of the request (method, Range, If-*).
                let mut file_req = http::Request::new(empty());
                *file_req.method_mut() = req.method().clone();
                *file_req.uri_mut() = req.uri().clone();
                *file_req.headers_mut() = req.headers().clone();
                let res = crate::pipeline::call(next, req).await;
                send_file(&root, res, file_req).await
            }
        })
    })
}

/// The handler's response, or the file it names.
async fn send_file(
    root: &FsRoot,
    res: HttpResponse,
    file_req: http::Request<crate::pipeline::Body>,
) -> HttpResponse {
    let (mut parts, body) = res.into_parts();
    let path = take(&mut parts.headers, X_SENDFILE);
    let legacy = take(&mut parts.headers, X_FILE_PATH);
    let Some(path) = path.or(legacy) else {
        return HttpResponse::from_parts(parts, body);
    };
    drop(body);
    if matches!(path.as_str(), "" | "." | "..") || path.contains('\0') {
        return invalid_path();
    }
    let Ok(file) = root.resolve(&path) else {
        return invalid_path();
    };
    if !file.is_file() {
        return text_error(
            StatusCode::NOT_FOUND,
            &format!("sendfile middleware: file not found: {path}"),
        );
    }
    let mut res = {
        use tower::Service;
        match ServeFile::new(&file).call(file_req).await {
            Ok(res) => res.map(|b| b.map_err(|e| -> BoxError { Box::new(e) }).boxed_unsync()),
            Err(never) => match never {},
        }
    };
    let file_name = take(&mut parts.headers, X_FILE_NAME);
    for name in BODY_HEADERS {
        parts.headers.remove(name);
    }
    // The handler's headers (its Content-Type, Cache-Control…) over the file service's.
    for name in parts.headers.keys() {
        if name == header::CONTENT_TYPE && !res.status().is_success() {
            continue;
        }
        res.headers_mut().remove(name);
        for value in parts.headers.get_all(name) {
            res.headers_mut().append(name.clone(), value.clone());
        }
    }
    if let Some(name) = file_name
        && let Ok(value) =
            HeaderValue::from_bytes(format!("attachment; filename={}", go_quote(&name)).as_bytes())
    {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, value);
    }
    res
}

/// 400 for a path that is empty, `.`, `..`, or leaves the root.
fn invalid_path() -> HttpResponse {
    text_error(
        StatusCode::BAD_REQUEST,
        "sendfile middleware: invalid file path",
    )
}

/// Removes a header, giving its first value as text.
fn take(headers: &mut HeaderMap, name: &str) -> Option<String> {
    let value = headers.get(name)?;
    let text = String::from_utf8_lossy(value.as_bytes()).trim().to_string();
    headers.remove(name);
    (!text.is_empty()).then_some(text)
}

/// `s` quoted as Go's `%q` does for printable text (`"` and `\` escaped, control
/// characters as `\n`, `\t`, `\x00`…).
fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use weft_core::EntryId;

    use super::*;
    use crate::middleware::testing::{body, header, layer as make_layer, request, send};
    use crate::pipeline::{HttpRequest, full};

    fn root() -> (tempfile::TempDir, Arc<FsRoot>) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("files/sub")).unwrap();
        std::fs::write(dir.path().join("files/report.txt"), "0123456789").unwrap();
        std::fs::write(dir.path().join("files/sub/data.json"), "{}").unwrap();
        std::fs::write(dir.path().join("secret.txt"), "S").unwrap();
        let root = FsRoot::new(EntryId::new("app", "files"), &dir.path().join("files")).unwrap();
        (dir, Arc::new(root))
    }

    /// A handler setting the headers named in the request's `x-set-*` headers.
    fn naming() -> Handler {
        handler_fn(|req: HttpRequest| async move {
            let mut res = http::Response::new(full("the handler's body"));
            for (name, value) in req.headers() {
                if let Some(set) = name.as_str().strip_prefix("x-set-") {
                    res.headers_mut().insert(
                        http::HeaderName::from_bytes(set.as_bytes()).unwrap(),
                        value.clone(),
                    );
                }
            }
            res
        })
    }

    fn handler() -> (tempfile::TempDir, Handler) {
        let (dir, root) = root();
        (dir, layer(root)(naming()))
    }

    #[tokio::test]
    async fn serves_the_named_file() {
        let (_dir, h) = handler();
        let res = send(
            &h,
            request(
                "GET",
                "/dl",
                &[
                    ("x-set-x-sendfile", "report.txt"),
                    ("x-set-x-file-name", "Q3 \"final\".txt"),
                    ("x-set-cache-control", "no-store"),
                ],
            ),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(header(&res, "x-sendfile"), None);
        assert_eq!(header(&res, "x-file-name"), None);
        assert_eq!(
            header(&res, "content-disposition").as_deref(),
            Some(r#"attachment; filename="Q3 \"final\".txt""#)
        );
        assert_eq!(header(&res, "cache-control").as_deref(), Some("no-store"));
        assert_eq!(header(&res, "content-type").as_deref(), Some("text/plain"));
        assert_eq!(header(&res, "content-length").as_deref(), Some("10"));
        assert_eq!(body(res).await, b"0123456789");
    }

    #[tokio::test]
    async fn legacy_header_ranges_and_the_handlers_content_type() {
        let (_dir, h) = handler();
        let res = send(
            &h,
            request(
                "GET",
                "/dl",
                &[
                    ("x-set-x-file-path", "/sub/data.json"),
                    ("x-set-content-type", "application/vnd.test+json"),
                    ("range", "bytes=0-0"),
                ],
            ),
        )
        .await;
        assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(header(&res, "x-file-path"), None);
        assert_eq!(
            header(&res, "content-type").as_deref(),
            Some("application/vnd.test+json")
        );
        assert_eq!(body(res).await, b"{");
    }

    #[tokio::test]
    async fn without_the_header_the_response_is_the_handlers() {
        let (_dir, h) = handler();
        let res = send(&h, request("GET", "/", &[])).await;
        assert_eq!(body(res).await, b"the handler's body");
    }

    #[tokio::test]
    async fn refuses_paths_out_of_the_root() {
        let (_dir, h) = handler();
        for path in [
            "../secret.txt",
            "sub/../../secret.txt",
            "..",
            ".",
            "/../secret.txt",
        ] {
            let res = send(&h, request("GET", "/", &[("x-set-x-sendfile", path)])).await;
            assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{path}");
            assert_eq!(body(res).await, b"sendfile middleware: invalid file path\n");
        }
    }

    #[tokio::test]
    async fn missing_files_are_404() {
        let (_dir, h) = handler();
        for path in ["nope.txt", "sub"] {
            let res = send(&h, request("GET", "/", &[("x-set-x-sendfile", path)])).await;
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
            assert_eq!(
                body(res).await,
                format!("sendfile middleware: file not found: {path}\n").as_bytes()
            );
        }
    }

    #[test]
    fn the_fs_option_is_required_and_must_exist() {
        let err = make_layer("sendfile", &[]).err().unwrap();
        assert!(
            err.to_string().contains("option sendfile.fs: required"),
            "{err}"
        );
        let err = make_layer("sendfile", &[("fs", "app:nope")]).err().unwrap();
        assert!(
            err.to_string()
                .contains("option fs: filesystem not found: app:nope"),
            "{err}"
        );
    }

    #[test]
    fn quoting_as_go_does() {
        assert_eq!(go_quote("a b.txt"), r#""a b.txt""#);
        assert_eq!(go_quote("a\"\\\n\u{1}é"), r#""a\"\\\n\x01é""#);
    }
}

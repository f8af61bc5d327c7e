//! `http.static`: files of an `fs.directory` under a mount path (reference §1.5).
//!
//! As Go's `FileServer`: a directory without its trailing `/` gets a 301 to it; a
//! directory serves its `index.html`, else an HTML listing; `…/index.html` redirects to
//! its directory. Files go out through tower-http's `ServeFile` (content type, `Range`,
//! `If-Modified-Since`). Every path resolves inside the root, symlinks included
//! (`FsRoot::resolve`); what would leave it is a 404.
//!
//! In SPA mode a path that names no file serves the `index` file as HTML. Unlike Wippy
//! (a **Quirk**: it did not strip the mount path, so SPA worked only at `/`), the mount
//! path is stripped in both modes.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use http::{HeaderValue, StatusCode, header};
use http_body_util::BodyExt;
use tower_http::services::ServeFile;
use weft_fs::FsRoot;

use crate::config::StaticConfig;
use crate::pipeline::{
    BoxError, Handler, HttpRequest, HttpResponse, full, handler_fn, status_only, text_error,
};

/// What a mount serves and how.
struct Mount {
    root: Arc<FsRoot>,
    /// The mount path without its trailing `/` (`""` at the root).
    prefix: String,
    spa: bool,
    index: Option<String>,
    cache: Option<HeaderValue>,
}

/// The handler of a static mount.
pub(crate) fn static_handler(root: Arc<FsRoot>, config: &StaticConfig) -> Handler {
    let mount = Arc::new(Mount {
        root,
        prefix: config.path.trim_end_matches('/').to_string(),
        spa: config.spa,
        index: config.index.clone(),
        cache: config
            .cache
            .as_deref()
            .and_then(|c| HeaderValue::from_str(c).ok()),
    });
    handler_fn(move |req| {
        let mount = mount.clone();
        async move {
            let mut res = mount.serve(req).await;
            if let Some(cache) = &mount.cache {
                res.headers_mut()
                    .insert(header::CACHE_CONTROL, cache.clone());
            }
            res
        }
    })
}

impl Mount {
    /// Serves one request.
    async fn serve(&self, req: HttpRequest) -> HttpResponse {
        let raw = req.uri().path().to_string();
        let rel = raw.strip_prefix(&self.prefix).unwrap_or(&raw);
        let decoded = percent_encoding::percent_decode_str(rel)
            .decode_utf8_lossy()
            .into_owned();
        if decoded.contains('\0') {
            return not_found();
        }
        let found = self.root.resolve(&decoded).ok().filter(|p| p.exists());
        if self.spa {
            return match found.filter(|p| p.is_file()) {
                Some(file) => serve_file(&file, req).await,
                None => self.spa_index(req).await,
            };
        }
        let Some(path) = found else {
            return not_found();
        };
        if path.is_dir() {
            if !raw.ends_with('/') {
                return redirect(&format!("{}/", last_segment(&raw)), req.uri().query());
            }
            let index = path.join("index.html");
            if index.is_file() {
                return serve_file(&index, req).await;
            }
            return listing(&path);
        }
        if raw.ends_with("/index.html") {
            return redirect("./", req.uri().query());
        }
        serve_file(&path, req).await
    }

    /// The SPA index as HTML, or 500 when it is missing.
    async fn spa_index(&self, req: HttpRequest) -> HttpResponse {
        let index = self.index.as_deref().unwrap_or("index.html");
        match self.root.resolve(index).ok().filter(|p| p.is_file()) {
            Some(file) => {
                let mut res = serve_file(&file, req).await;
                res.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                );
                res
            }
            None => text_error(StatusCode::INTERNAL_SERVER_ERROR, "index file not found"),
        }
    }
}

/// A file through tower-http's `ServeFile`.
async fn serve_file(path: &Path, req: HttpRequest) -> HttpResponse {
    use tower::Service;
    let response = ServeFile::new(path).call(req);
    match response.await {
        Ok(res) => res.map(|b| b.map_err(|e| -> BoxError { Box::new(e) }).boxed_unsync()),
        Err(never) => match never {},
    }
}

/// 404 as Go's `FileServer` writes it.
fn not_found() -> HttpResponse {
    text_error(StatusCode::NOT_FOUND, "404 page not found")
}

/// A relative 301 (Go's `localRedirect`), keeping the query.
fn redirect(to: &str, query: Option<&str>) -> HttpResponse {
    let location = match query {
        Some(q) => format!("{to}?{q}"),
        None => to.to_string(),
    };
    let mut res = status_only(StatusCode::MOVED_PERMANENTLY);
    if let Ok(value) = HeaderValue::try_from(location) {
        res.headers_mut().insert(header::LOCATION, value);
    }
    res
}

/// The last segment of a path (`/a/b` → `b`), as a relative redirect target.
fn last_segment(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// An HTML listing of a directory, as Go's `dirList` writes it.
fn listing(dir: &PathBuf) -> HttpResponse {
    let Ok(read) = std::fs::read_dir(dir) else {
        return text_error(StatusCode::INTERNAL_SERVER_ERROR, "Error reading directory");
    };
    let mut names: Vec<String> = read
        .filter_map(|e| e.ok())
        .map(|e| {
            let mut name = e.file_name().to_string_lossy().into_owned();
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                name.push('/');
            }
            name
        })
        .collect();
    names.sort();
    let mut html = String::from(
        "<!doctype html>\n<meta name=\"viewport\" content=\"width=device-width\">\n<pre>\n",
    );
    for name in names {
        let href = percent_encoding::utf8_percent_encode(&name, PATH_SEGMENT).to_string();
        let _ = writeln!(
            html,
            "<a href=\"{}\">{}</a>",
            escape_html(&href),
            escape_html(&name)
        );
    }
    html.push_str("</pre>\n");
    let mut res = http::Response::new(full(html));
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    res
}

/// What a listing escapes in a link.
const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// `s` with HTML's special characters escaped.
fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

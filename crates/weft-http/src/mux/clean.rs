//! Request path cleaning (Go's `cleanPath`) and the `Location` of a redirect.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `path` with `.` and `..` segments resolved and repeated `/` collapsed, keeping a
/// trailing `/` (Go's `cleanPath`: `path.Clean`, then the trailing slash put back). A
/// clean path is returned as it is, without allocating.
pub(super) fn clean_path(path: &str) -> Cow<'_, str> {
    if is_clean(path) {
        return Cow::Borrowed(path);
    }
    let mut out = String::with_capacity(path.len() + 1);
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                let cut = out.rfind('/').unwrap_or(0);
                out.truncate(cut);
            }
            _ => {
                out.push('/');
                out.push_str(seg);
            }
        }
    }
    // The root, or a trailing `/` put back.
    if out.is_empty() || path.ends_with('/') {
        out.push('/');
    }
    Cow::Owned(out)
}

/// Whether [`clean_path`] would leave `path` unchanged: it starts with `/`, and no
/// segment but the last is empty, none is `.` or `..` (one pass, as it runs on every
/// request).
fn is_clean(path: &str) -> bool {
    let bytes = path.as_bytes();
    if bytes.first() != Some(&b'/') {
        return false;
    }
    let mut start = 1;
    loop {
        let end = bytes[start..]
            .iter()
            .position(|&b| b == b'/')
            .map_or(bytes.len(), |at| start + at);
        let seg = &bytes[start..end];
        if seg == b"." || seg == b".." || (seg.is_empty() && end < bytes.len()) {
            return false;
        }
        if end == bytes.len() {
            return true;
        }
        start = end + 1;
    }
}

/// The `Location` of a 301 to the clean `path` (plus a `/` when `slash`), with the query
/// when there is one. The path keeps its escapes; any other byte that is not a plain path
/// character is escaped, so the location is always a same-origin path (a `\` could make a
/// browser read `/\host` as `//host`).
pub(super) fn location(path: &str, slash: bool, query: Option<&str>) -> String {
    let query = query.filter(|q| !q.is_empty());
    let mut out = String::with_capacity(path.len() + 2 + query.map_or(0, str::len));
    escape_into(&mut out, path, is_path_byte);
    if slash {
        out.push('/');
    }
    if let Some(query) = query {
        out.push('?');
        escape_into(&mut out, query, |b| b.is_ascii_graphic());
    }
    out
}

/// Appends `text` to `out`, percent-escaping every byte `keep` refuses.
fn escape_into(out: &mut String, text: &str, keep: fn(u8) -> bool) {
    for (i, b) in text.bytes().enumerate() {
        if keep(b) {
            // `keep` only accepts ASCII, so this byte is a whole character.
            out.push_str(&text[i..i + 1]);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

/// An RFC 3986 path character (`pchar` or `/`), or the `%` of an escape already there.
fn is_path_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/%".contains(&b)
}

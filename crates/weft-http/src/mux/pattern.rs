//! Pattern paths, parsed into Go's representation of segments (`net/http` `pattern.go`),
//! and the per-segment percent-decoding shared by patterns and requests.
//!
//! Syntax (reference §1.4, Go ≥ 1.22): `/`-separated segments, each a literal, `{name}`,
//! `{name...}` (last only) or `{$}` (last only); a trailing `/` is an anonymous
//! `{...}`; in routes, a segment `:name` is rewritten to `{name}` (Wippy's `AddRoute`).
//! weft is stricter than Go where Go accepts what can never match or is a typo: see
//! docs/http.md, "Routing".

use std::borrow::Cow;
use std::sync::Arc;

use percent_encoding::percent_decode_str;

use super::clean::clean_path;

/// A parsed pattern: the method (none for a static mount, which matches any) and the
/// path's segments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Pattern {
    /// The method; `None` matches every method.
    pub method: Option<Box<str>>,
    /// The path, in Go's representation.
    pub segments: Vec<Segment>,
}

/// One piece of a parsed pattern path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Segment {
    /// A literal segment, percent-decoded (so `%61` is `a`, and `%2F` a `/` inside it).
    Lit(Box<[u8]>),
    /// `{name}`: exactly one segment.
    Wild(Arc<str>),
    /// `{name...}`, or a trailing `/` (no name): the rest of the path, possibly empty.
    Multi(Option<Arc<str>>),
    /// `{$}`: the trailing slash, then the end of the path.
    End,
}

/// The segments of a route path (`/users/:id`, `/files/{path...}`, `/{$}`), or why not.
pub(super) fn parse_route_path(path: &str) -> Result<Vec<Segment>, String> {
    check_text(path)?;
    let rewritten = rewrite_colons(path);
    parse_segments(&rewritten)
}

/// The segments of a static mount (`/assets`, which serves `/assets/` and below), or why
/// not: a mount path is literal, and gets the trailing `/` of a subtree.
pub(super) fn parse_mount_path(path: &str) -> Result<Vec<Segment>, String> {
    check_text(path)?;
    if path.contains(['{', '}']) {
        return Err("a static mount path has no wildcards".into());
    }
    let mut segments = parse_segments(path)?;
    if !matches!(segments.last(), Some(Segment::Multi(None))) {
        segments.push(Segment::Multi(None));
    }
    Ok(segments)
}

/// Whether `seg` (a raw request or pattern segment) is decoded before use: it has a `%`
/// and every `%` starts a valid escape. Go's `pathUnescape` keeps a segment with a bad
/// escape as it is, and so does weft.
pub(super) fn decodes(seg: &str) -> bool {
    let bytes = seg.as_bytes();
    let mut any = false;
    let mut i = 0;
    while let Some(off) = bytes[i..].iter().position(|&b| b == b'%') {
        let at = i + off;
        match bytes.get(at + 1..at + 3) {
            Some([a, b]) if a.is_ascii_hexdigit() && b.is_ascii_hexdigit() => any = true,
            _ => return false,
        }
        i = at + 3;
    }
    any
}

/// `seg` percent-decoded as Go's `pathUnescape` does (unchanged when [`decodes`] is false).
pub(super) fn unescape(seg: &str) -> Cow<'_, [u8]> {
    if decodes(seg) {
        Cow::Owned(percent_decode_str(seg).collect())
    } else {
        Cow::Borrowed(seg.as_bytes())
    }
}

/// Refuses text no request path can hold: an empty path, one without the leading `/`
/// (Go would read what comes before the first `/` as a host), control characters, spaces,
/// `?` and `#`, and a path that cleaning would change (requests are cleaned first, so
/// Go refuses those in method patterns; weft in every pattern).
fn check_text(path: &str) -> Result<(), String> {
    if !path.starts_with('/') {
        return Err("a path must start with \"/\" (weft has no host patterns)".into());
    }
    if let Some(c) = path
        .chars()
        .find(|c| c.is_ascii_control() || matches!(c, ' ' | '?' | '#'))
    {
        return Err(format!("invalid character {c:?} in a path"));
    }
    if clean_path(path) != path {
        return Err(
            "a path with \".\", \"..\" or \"//\" segments never matches (requests are cleaned first)"
                .into(),
        );
    }
    Ok(())
}

/// `/users/:id` → `/users/{id}`: Wippy's rewrite of whole segments starting with `:`.
fn rewrite_colons(path: &str) -> Cow<'_, str> {
    if !path.contains("/:") {
        return Cow::Borrowed(path);
    }
    let rewritten = path
        .split('/')
        .map(|seg| match seg.strip_prefix(':') {
            Some(name) => format!("{{{name}}}"),
            None => seg.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/");
    Cow::Owned(rewritten)
}

/// Go's `parsePattern` loop over a path that starts with `/`, with weft's extra checks.
fn parse_segments(path: &str) -> Result<Vec<Segment>, String> {
    let mut segments = Vec::new();
    let mut names: Vec<&str> = Vec::new();
    let mut rest = path;
    while let Some(after) = rest.strip_prefix('/') {
        if after.is_empty() {
            segments.push(Segment::Multi(None));
            break;
        }
        let end = after.find('/').unwrap_or(after.len());
        let (seg, tail) = after.split_at(end);
        rest = tail;
        if !seg.contains(['{', '}']) {
            if seg.contains('%') && !decodes(seg) {
                return Err(format!("invalid percent-encoding in segment {seg:?}"));
            }
            segments.push(Segment::Lit(unescape(seg).into()));
            continue;
        }
        let Some(inner) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else {
            return Err(format!(
                "segment {seg:?}: a wildcard is a whole segment, \"{{name}}\""
            ));
        };
        if inner == "$" {
            if !rest.is_empty() {
                return Err("\"{$}\" must be the last segment".into());
            }
            segments.push(Segment::End);
            break;
        }
        let (name, multi) = match inner.strip_suffix("...") {
            Some(name) => (name, true),
            None => (inner, false),
        };
        if multi && !rest.is_empty() {
            return Err(format!("\"{{{inner}}}\" must be the last segment"));
        }
        if name.is_empty() {
            return Err(format!("segment {seg:?}: empty wildcard name"));
        }
        if !is_identifier(name) {
            return Err(format!(
                "segment {seg:?}: a wildcard name is letters, digits and \"_\", not starting with a digit"
            ));
        }
        if names.contains(&name) {
            return Err(format!("duplicate wildcard name {name:?}"));
        }
        names.push(name);
        segments.push(if multi {
            Segment::Multi(Some(name.into()))
        } else {
            Segment::Wild(name.into())
        });
    }
    Ok(segments)
}

/// A Go identifier: letters, digits and `_`, not starting with a digit.
fn is_identifier(name: &str) -> bool {
    name.chars()
        .enumerate()
        .all(|(i, c)| c.is_alphabetic() || c == '_' || (i > 0 && c.is_numeric()))
}

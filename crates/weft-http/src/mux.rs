//! The route table of a server, with Go's `net/http` ServeMux semantics (Go ≥ 1.22;
//! reference §1.6, §1.9; docs/http.md "Routing"). Pure and synchronous: the server asks
//! it what a request is, then acts.
//!
//! - [`MuxBuilder`]: router prefixes, routes (`GET /users/{id}`) and static mounts in;
//!   [`MuxBuilder::build`] checks everything (malformed patterns, conflicts between
//!   routes, between a route and a mount, duplicate mounts and prefixes) and reports
//!   every problem as a [`MuxError`] naming both entries.
//! - [`Mux::route`]: a request's method and path to a [`Match`]: a handler with its
//!   [`Params`], the automatic `OPTIONS` answer, a 301, a 404 or a 405 with its [`Allow`]
//!   list. A lookup walks one segment tree per candidate table (the method's, `GET`'s
//!   for `HEAD`, the auto `OPTIONS`, the mounts) and allocates nothing but the params of
//!   a hit and the location of a redirect.

mod build;
mod clean;
mod pattern;
mod relation;
mod tree;

#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;

pub use build::{MuxBuilder, MuxError, Router};

use clean::{clean_path, location};
use pattern::{Pattern, Segment, unescape};
use tree::{Hit, Node};

/// A built route table; immutable, so a server swaps in a new one whole.
#[derive(Debug)]
pub struct Mux<H> {
    /// Every route and mount, in the order added; tree leaves index it.
    entries: Vec<Entry<H>>,
    /// The methods of the routes, with `HEAD` and `OPTIONS`, sorted as Go sorts `Allow`.
    methods: Vec<Box<str>>,
    /// Each method's routes, in the order of `methods`.
    tables: Vec<Node>,
    /// The paths of every route but the `OPTIONS` ones, for the automatic `OPTIONS`; an
    /// equivalent path keeps the route added first.
    auto_options: Node,
    /// The static mounts, for every method.
    mounts: Node,
}

/// What a request is, for the server.
#[derive(Debug, PartialEq, Eq)]
pub enum Match<'a, H> {
    /// A route or a mount: serve it.
    Found {
        /// The handler key it was added with.
        handler: &'a H,
        /// Its wildcards' values.
        params: Params,
    },
    /// The automatic `OPTIONS` of a route's path (no explicit `OPTIONS` route matched):
    /// answer 204 with no body, inside the middleware of that route's router.
    AutoOptions {
        /// The key of the route the path belongs to (the first added, when several).
        handler: &'a H,
    },
    /// 301 Moved Permanently to `location`: the path cleaned (`.`, `..`, `//`), or given
    /// the trailing `/` of the subtree it names.
    Redirect {
        /// A same-origin path, with the request's query when it had one.
        location: String,
    },
    /// 405 Method Not Allowed: the path has routes, none for this method.
    MethodNotAllowed {
        /// The `Allow` header's methods.
        allow: Allow<'a>,
    },
    /// 404 Not Found.
    NotFound,
}

/// The wildcards' values of a match, percent-decoded, by name; a wildcard that matched
/// nothing (`{rest...}` on `/files/`) has none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Params(Vec<(Arc<str>, String)>);

/// The methods of a 405's `Allow` header: each with a route for the path (or for it with
/// a trailing `/`), `HEAD` with `GET`, `OPTIONS` with any; in byte order, as Go sorts
/// them. [`Display`](fmt::Display) gives the header value, `GET, HEAD, OPTIONS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Allow<'a> {
    methods: &'a [Box<str>],
    bits: u64,
}

/// A route or mount of the table.
#[derive(Debug)]
struct Entry<H> {
    handler: H,
    segments: Vec<Segment>,
}

/// Where a lookup found its pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    /// A route or a mount.
    Pattern,
    /// The automatic `OPTIONS` of a route.
    AutoOptions,
}

impl<H> Mux<H> {
    /// A table with no routes: every request is a 404.
    pub fn empty() -> Self {
        Mux::from_checked(Vec::new())
    }

    /// What to do with a request: `method` as sent, `path` the request target's path as
    /// sent (still percent-encoded: segments are decoded one by one, so `%2F` never
    /// splits one), `query` its query, kept in a redirect's location.
    ///
    /// As Go does: the path is cleaned first; `/x` when only the subtree `/x/` matches
    /// redirects there; a path that needed cleaning redirects to the clean one; then the
    /// method's routes are tried, `GET`'s for `HEAD`, the automatic `OPTIONS` for
    /// `OPTIONS`, then the mounts; with no match, a path that has routes for other methods
    /// is a 405, anything else a 404. A path not starting with `/` (an authority-form
    /// `CONNECT`, `*`) is a 404.
    pub fn route(&self, method: &str, path: &str, query: Option<&str>) -> Match<'_, H> {
        if !path.starts_with('/') {
            return Match::NotFound;
        }
        let clean = clean_path(path);
        let hit = self.lookup(method, &clean, false);
        let exact = |hit: Option<(Source, Hit)>| hit.is_some_and(|(_, h)| h.exact);
        if !exact(hit) && !clean.ends_with('/') && exact(self.lookup(method, &clean, true)) {
            return Match::Redirect {
                location: location(&clean, true, query),
            };
        }
        if clean != path {
            return Match::Redirect {
                location: location(&clean, false, query),
            };
        }
        let entry = hit.and_then(|(source, h)| Some((source, self.entries.get(h.id)?)));
        match entry {
            Some((Source::Pattern, entry)) => Match::Found {
                handler: &entry.handler,
                params: Params::capture(&entry.segments, path),
            },
            Some((Source::AutoOptions, entry)) => Match::AutoOptions {
                handler: &entry.handler,
            },
            None => {
                let allow = self.allow(path);
                if allow.bits == 0 {
                    Match::NotFound
                } else {
                    Match::MethodNotAllowed { allow }
                }
            }
        }
    }

    /// The table of checked patterns: each method's routes, the auto `OPTIONS`, the
    /// mounts.
    fn from_checked(patterns: Vec<(Pattern, H)>) -> Self {
        let mut methods: Vec<Box<str>> = ["HEAD", "OPTIONS"].map(Box::from).into();
        methods.extend(patterns.iter().filter_map(|(p, _)| p.method.clone()));
        methods.sort();
        methods.dedup();
        let mut tables: Vec<Node> = methods.iter().map(|_| Node::default()).collect();
        let mut auto_options = Node::default();
        let mut mounts = Node::default();
        let mut entries = Vec::with_capacity(patterns.len());
        for (id, (pattern, handler)) in patterns.into_iter().enumerate() {
            let segments = pattern.segments;
            // The build found no two equivalent patterns, so only the auto `OPTIONS` of
            // equivalent paths can meet, and there the first stays: `insert` keeps it.
            match pattern.method.as_deref() {
                Some(method) => {
                    let table = methods.binary_search_by(|m| (**m).cmp(method)).ok();
                    if let Some(table) = table.and_then(|i| tables.get_mut(i)) {
                        let _ = table.insert(&segments, id);
                    }
                    if method != "OPTIONS" {
                        let _ = auto_options.insert(&segments, id);
                    }
                }
                None => {
                    let _ = mounts.insert(&segments, id);
                }
            }
            entries.push(Entry { handler, segments });
        }
        Mux {
            entries,
            methods,
            tables,
            auto_options,
            mounts,
        }
    }

    /// The pattern serving `method` on `path` (plus a `/` when `slash`), in Go's order:
    /// the method's routes, `GET`'s for `HEAD`, the auto `OPTIONS` for `OPTIONS`, the
    /// mounts. An explicit `HEAD` or `OPTIONS` route wins over the implicit one.
    fn lookup(&self, method: &str, path: &str, slash: bool) -> Option<(Source, Hit)> {
        let in_table = |m: &str| self.table(m).and_then(|t| t.find(path, slash));
        let found = in_table(method).or_else(|| match method {
            "HEAD" => in_table("GET"),
            _ => None,
        });
        if let Some(hit) = found {
            return Some((Source::Pattern, hit));
        }
        if method == "OPTIONS"
            && let Some(hit) = self.auto_options.find(path, slash)
        {
            return Some((Source::AutoOptions, hit));
        }
        self.mounts
            .find(path, slash)
            .map(|hit| (Source::Pattern, hit))
    }

    /// The routes of `method`.
    fn table(&self, method: &str) -> Option<&Node> {
        let at = self.methods.binary_search_by(|m| (**m).cmp(method)).ok()?;
        self.tables.get(at)
    }

    /// The methods with a route for `path` or, when it has no trailing `/`, for `path/`
    /// (Go's `matchingMethods`; mounts match every method, so they are not listed).
    fn allow(&self, path: &str) -> Allow<'_> {
        let slash = !path.ends_with('/');
        let matches =
            |t: &Node| t.find(path, false).is_some() || (slash && t.find(path, true).is_some());
        let bit = |name: &str| {
            let at = self.methods.binary_search_by(|m| (**m).cmp(name)).ok();
            at.map_or(0, |i| 1u64.checked_shl(i as u32).unwrap_or(0))
        };
        // Every route but the `OPTIONS` ones is in the auto `OPTIONS` tree: when neither
        // matches, no table does (the common 404 asks two trees, not every table).
        let mut bits = 0;
        if matches(&self.auto_options) {
            bits |= bit("OPTIONS");
        } else if self.table("OPTIONS").is_none_or(|t| !matches(t)) {
            return Allow {
                methods: &self.methods,
                bits,
            };
        }
        for (i, table) in self.tables.iter().enumerate() {
            if matches(table) {
                bits |= 1u64.checked_shl(i as u32).unwrap_or(0);
            }
        }
        if bits & bit("GET") != 0 {
            bits |= bit("HEAD");
        }
        Allow {
            methods: &self.methods,
            bits,
        }
    }
}

impl Params {
    /// The value of the wildcard `name` (`{name}` or `{name...}`).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| **n == *name)
            .map(|(_, v)| v.as_str())
    }

    /// Every name and value, in the pattern's order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (&**n, v.as_str()))
    }

    /// How many wildcards have a value.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no wildcard has a value.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The values the wildcards of `segments` take in the clean `path` they matched:
    /// each decoded on its own (a `{name...}` tail as a whole), as Go's `pathUnescape`
    /// does; bytes that are not UTF-8 after decoding become U+FFFD.
    fn capture(segments: &[Segment], path: &str) -> Params {
        let mut params = Vec::new();
        let mut push = |name: &Arc<str>, raw: &str| {
            if !raw.is_empty() {
                let value = String::from_utf8_lossy(&unescape(raw)).into_owned();
                params.push((name.clone(), value));
            }
        };
        let mut rest = path;
        for segment in segments {
            let Some(after) = rest.strip_prefix('/') else {
                break;
            };
            let end = after.find('/').unwrap_or(after.len());
            match segment {
                Segment::Lit(_) => rest = &after[end..],
                Segment::Wild(name) => {
                    push(name, &after[..end]);
                    rest = &after[end..];
                }
                Segment::Multi(Some(name)) => {
                    push(name, after);
                    break;
                }
                Segment::Multi(None) | Segment::End => break,
            }
        }
        Params(params)
    }
}

impl<'a> Allow<'a> {
    /// The methods, in order.
    pub fn iter(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        let (methods, bits) = (self.methods, self.bits);
        methods
            .iter()
            .enumerate()
            .filter(move |(i, _)| bits & 1u64.checked_shl(*i as u32).unwrap_or(0) != 0)
            .map(|(_, m)| &**m)
    }
}

impl fmt::Display for Allow<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, method) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(method)?;
        }
        Ok(())
    }
}

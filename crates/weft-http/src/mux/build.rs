//! [`MuxBuilder`]: router prefixes, routes and static mounts go in; a [`Mux`] comes out,
//! or every problem, each naming the entries involved ([`MuxError`]).

use std::collections::BTreeSet;

use super::Mux;
use super::pattern::{Pattern, parse_mount_path, parse_route_path};
use super::relation::conflict;
use crate::header::is_token_byte;

/// How many distinct methods (`HEAD` and `OPTIONS` included) a table may hold: the
/// `Allow` list of a 405 is a bit set.
const MAX_METHODS: usize = 64;

/// Collects one server's routing and checks it all at once in [`MuxBuilder::build`].
///
/// `H` is the caller's handler key, handed back by [`Mux::route`]; owners are the entry
/// ids errors name (`app:hello.endpoint`).
#[derive(Debug)]
pub struct MuxBuilder<H> {
    /// The routers, by [`Router`] index.
    routers: Vec<RouterDef>,
    /// Routes and mounts, in the order they were added.
    items: Vec<Item<H>>,
}

/// A router added with [`MuxBuilder::router`], to add its routes with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Router(usize);

/// Why a table cannot be built. Each names the owner of the pattern (or prefix) at fault
/// and, for a clash, the other one; the server reports it on the owner's entry.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MuxError {
    /// A route or mount pattern that cannot be parsed, or never matches.
    #[error("pattern \"{pattern}\" of {owner}: {reason}")]
    Invalid {
        /// The entry that added the pattern.
        owner: String,
        /// The pattern as written (`GET /api/users/:id`; a mount as its subtree, `/assets/`).
        pattern: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A router prefix that is not a path (Go would read it as a host name).
    #[error(
        "router prefix \"{prefix}\" of {owner} must be empty or start with \"/\": \
         weft has no host patterns"
    )]
    Prefix {
        /// The router.
        owner: String,
        /// Its prefix.
        prefix: String,
    },
    /// Two routers of one server with the same prefix (a trailing `/` aside).
    #[error(
        "router prefix \"{prefix}\" of {owner} is the prefix \"{other_prefix}\" of {other_owner}"
    )]
    DuplicatePrefix {
        /// The router added last.
        owner: String,
        /// Its prefix.
        prefix: String,
        /// The router added first.
        other_owner: String,
        /// Its prefix.
        other_prefix: String,
    },
    /// Two patterns matching some request where neither is more specific (Go's
    /// ServeMux would panic), a route against a route or a mount.
    #[error(
        "pattern \"{pattern}\" of {owner} conflicts with pattern \"{other_pattern}\" of \
         {other_owner}: {reason}"
    )]
    Conflict {
        /// The entry that added the pattern last.
        owner: String,
        /// Its pattern ("the first" in `reason`).
        pattern: String,
        /// The entry that added the other pattern.
        other_owner: String,
        /// The other pattern ("the second" in `reason`).
        other_pattern: String,
        /// Why, with example paths when the paths overlap.
        reason: String,
    },
    /// Two static mounts at one path.
    #[error("static mount \"{pattern}\" of {owner} is mounted already by {other_owner}")]
    DuplicateMount {
        /// The entry mounted last.
        owner: String,
        /// Its mount, as its subtree pattern (`/assets/`).
        pattern: String,
        /// The entry mounted first.
        other_owner: String,
    },
}

/// A router: the entry and its prefix.
#[derive(Debug)]
struct RouterDef {
    owner: String,
    prefix: String,
}

/// A route or a mount as added.
#[derive(Debug)]
struct Item<H> {
    owner: String,
    /// `Some((router index, method))` for a route, `None` for a mount.
    route: Option<(usize, String)>,
    path: String,
    handler: H,
}

/// A pattern that parsed, with what errors say of it.
struct Parsed<H> {
    owner: String,
    text: String,
    pattern: Pattern,
    handler: H,
}

impl<H> Default for MuxBuilder<H> {
    fn default() -> Self {
        Self::new()
    }
}

impl<H> MuxBuilder<H> {
    /// An empty builder.
    pub fn new() -> Self {
        MuxBuilder {
            routers: Vec::new(),
            items: Vec::new(),
        }
    }

    /// Adds a router (`owner`: its entry id) whose routes' paths follow `prefix`
    /// (`""`, `"/"`, `"/api"` or `"/api/"`; a trailing `/` is dropped when joining). A
    /// prefix not starting with `/` fails the build, its routes left out; so does a
    /// prefix another router has, its routes still checked.
    pub fn router(&mut self, owner: impl Into<String>, prefix: impl Into<String>) -> Router {
        self.routers.push(RouterDef {
            owner: owner.into(),
            prefix: prefix.into(),
        });
        Router(self.routers.len() - 1)
    }

    /// Adds a route of `router`: `method` (an HTTP token, `GET`) on the router's prefix
    /// joined with `path` (`/users/{id}`, `/users/:id`, `/files/{path...}`, `/{$}`; a
    /// trailing `/` makes a subtree). Every route but an `OPTIONS` one also answers
    /// `OPTIONS` on its path ([`Match::AutoOptions`](super::Match::AutoOptions)).
    pub fn route(
        &mut self,
        router: Router,
        owner: impl Into<String>,
        method: impl Into<String>,
        path: impl Into<String>,
        handler: H,
    ) -> &mut Self {
        self.items.push(Item {
            owner: owner.into(),
            route: Some((router.0, method.into())),
            path: path.into(),
            handler,
        });
        self
    }

    /// Adds a static mount: every method on `path` + `/` and below (`/assets` serves
    /// `/assets/…`, and `/assets` redirects there). The path is literal.
    pub fn mount(
        &mut self,
        owner: impl Into<String>,
        path: impl Into<String>,
        handler: H,
    ) -> &mut Self {
        self.items.push(Item {
            owner: owner.into(),
            route: None,
            path: path.into(),
            handler,
        });
        self
    }

    /// The table, or every problem found: bad prefixes and patterns, then conflicts,
    /// each conflict reported once, on the pattern added later.
    pub fn build(self) -> Result<Mux<H>, Vec<MuxError>> {
        let mut errors = Vec::new();
        let usable = check_routers(&self.routers, &mut errors);
        let mut parsed = Vec::with_capacity(self.items.len());
        let mut methods: BTreeSet<String> = ["HEAD", "OPTIONS"].map(String::from).into();
        for item in self.items {
            match parse(item, &self.routers, &usable, &mut methods) {
                Ok(Some(p)) => parsed.push(p),
                Ok(None) => {}
                Err(e) => errors.push(e),
            }
        }
        for (i, p) in parsed.iter().enumerate() {
            let clash = parsed[..i]
                .iter()
                .find_map(|q| conflict(&p.pattern, &q.pattern).map(|why| (q, why)));
            if let Some((q, reason)) = clash {
                errors.push(clash_error(p, q, reason));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let patterns = parsed.into_iter().map(|p| (p.pattern, p.handler)).collect();
        Ok(Mux::from_checked(patterns))
    }
}

/// Which routers' routes can be added: a bad prefix is reported and its routes left
/// out; a duplicate prefix is reported, its routes kept (their own clashes show too).
fn check_routers(routers: &[RouterDef], errors: &mut Vec<MuxError>) -> Vec<bool> {
    fn trimmed(prefix: &str) -> &str {
        prefix.strip_suffix('/').unwrap_or(prefix)
    }
    let mut usable = Vec::with_capacity(routers.len());
    for (i, r) in routers.iter().enumerate() {
        let ok = r.prefix.is_empty() || r.prefix.starts_with('/');
        if !ok {
            errors.push(MuxError::Prefix {
                owner: r.owner.clone(),
                prefix: r.prefix.clone(),
            });
        } else if let Some(other) = routers[..i]
            .iter()
            .zip(&usable)
            .find(|(o, ok)| **ok && trimmed(&o.prefix) == trimmed(&r.prefix))
            .map(|(o, _)| o)
        {
            errors.push(MuxError::DuplicatePrefix {
                owner: r.owner.clone(),
                prefix: r.prefix.clone(),
                other_owner: other.owner.clone(),
                other_prefix: other.prefix.clone(),
            });
        }
        usable.push(ok);
    }
    usable
}

/// Parses one route or mount; `Ok(None)` for a route of a router left out.
fn parse<H>(
    item: Item<H>,
    routers: &[RouterDef],
    usable: &[bool],
    methods: &mut BTreeSet<String>,
) -> Result<Option<Parsed<H>>, MuxError> {
    let Item {
        owner,
        route,
        path,
        handler,
    } = item;
    let Some((router, method)) = route else {
        let text = if path.ends_with('/') {
            path.clone()
        } else {
            format!("{path}/")
        };
        return match parse_mount_path(&path) {
            Ok(segments) => Ok(Some(Parsed {
                owner,
                text,
                pattern: Pattern {
                    method: None,
                    segments,
                },
                handler,
            })),
            Err(reason) => Err(MuxError::Invalid {
                owner,
                pattern: text,
                reason,
            }),
        };
    };
    let invalid = |owner: String, text: String, reason: String| {
        Err(MuxError::Invalid {
            owner,
            pattern: text,
            reason,
        })
    };
    let Some(def) = routers.get(router) else {
        let text = format!("{method} {path}");
        return invalid(owner, text, "a router of another builder".into());
    };
    if !usable.get(router).copied().unwrap_or(false) {
        return Ok(None);
    }
    let joined = format!(
        "{}{path}",
        def.prefix.strip_suffix('/').unwrap_or(&def.prefix)
    );
    let text = format!("{method} {joined}");
    if method.is_empty() || !method.bytes().all(is_token_byte) {
        return invalid(owner, text, format!("invalid method {method:?}"));
    }
    let segments = match parse_route_path(&joined) {
        Ok(segments) => segments,
        Err(reason) => return invalid(owner, text, reason),
    };
    if !methods.contains(&method) {
        if methods.len() == MAX_METHODS {
            let reason = format!("more than {MAX_METHODS} methods in one table");
            return invalid(owner, text, reason);
        }
        methods.insert(method.clone());
    }
    Ok(Some(Parsed {
        owner,
        text,
        pattern: Pattern {
            method: Some(method.into()),
            segments,
        },
        handler,
    }))
}

/// The error for `p` clashing with `q`, added before it.
fn clash_error<H>(p: &Parsed<H>, q: &Parsed<H>, reason: String) -> MuxError {
    if p.pattern.method.is_none() && q.pattern.method.is_none() {
        return MuxError::DuplicateMount {
            owner: p.owner.clone(),
            pattern: p.text.clone(),
            other_owner: q.owner.clone(),
        };
    }
    MuxError::Conflict {
        owner: p.owner.clone(),
        pattern: p.text.clone(),
        other_owner: q.owner.clone(),
        other_pattern: q.text.clone(),
        reason,
    }
}

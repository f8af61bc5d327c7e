//! Seeded random tables and requests: `build` and `route` never panic, and every answer
//! is the one a brute-force router gives (the most specific of the patterns matching,
//! found by comparing each with every other).

use std::collections::BTreeSet;

use super::super::pattern::{Pattern, Segment, parse_mount_path, parse_route_path, unescape};
use super::super::relation::{Rel, relate};
use super::{ask, build, show};
use crate::mux::{Match, MuxBuilder};

/// A xorshift generator, so every run tests the same cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

#[test]
fn build_and_route_never_panic_on_junk() {
    let chars = [
        "/", "/", "/", "a", "b", "{", "}", "$", ".", "..", ":", "%", "2F", "%zz", " ", "é", "\\",
        "?", "...", "x}", "{x", "{$}", "{a...}",
    ];
    let mut rng = Rng(0x5eed_0001);
    let junk = |rng: &mut Rng| {
        let n = rng.below(10);
        (0..n).map(|_| *rng.pick(&chars)).collect::<String>()
    };
    let methods = [
        "GET", "HEAD", "OPTIONS", "POST", "", "get", "G T", "CONNECT",
    ];
    for _ in 0..3000 {
        let mut b = MuxBuilder::new();
        let routers = [
            b.router("app:r0", junk(&mut rng)),
            b.router("app:r1", *rng.pick(&["", "/", "/api", "api", "/{x}"])),
        ];
        for i in 0..rng.below(6) {
            let path = junk(&mut rng);
            match rng.below(4) {
                0 => b.mount(format!("app:p{i}"), path, i),
                _ => {
                    let (router, method) = (*rng.pick(&routers), *rng.pick(&methods));
                    b.route(router, format!("app:p{i}"), method, path, i)
                }
            };
        }
        let mux = match b.build() {
            Ok(mux) => mux,
            Err(errors) => {
                assert!(!errors.is_empty());
                for e in errors {
                    assert!(e.to_string().contains("app:"), "{e}");
                }
                continue;
            }
        };
        for _ in 0..20 {
            let (method, path) = (*rng.pick(&methods), junk(&mut rng));
            let query = rng.pick(&[None, Some(""), Some("a=1"), Some("é \\")]);
            if let Match::Redirect { location } = mux.route(method, &path, *query) {
                assert!(
                    location.starts_with('/') && !location.starts_with("//"),
                    "{location}"
                );
                assert!(location.bytes().all(|b| b.is_ascii_graphic()), "{location}");
            }
        }
    }
}

#[test]
fn routing_agrees_with_brute_force() {
    let mut rng = Rng(0x5eed_0002);
    let (mut tables, mut checked) = (0, 0);
    for _ in 0..4000 {
        let specs: Vec<String> = (0..1 + rng.below(5)).map(|_| spec(&mut rng)).collect();
        let refs: Vec<&str> = specs.iter().map(String::as_str).collect();
        let Ok(mux) = build(&refs) else {
            continue;
        };
        tables += 1;
        let patterns: Vec<Pattern> = refs.iter().map(|s| parse(s)).collect();
        for _ in 0..30 {
            let path = request_path(&mut rng);
            let method = *rng.pick(&["GET", "HEAD", "POST", "PUT"]);
            let got = ask(&mux, &format!("{method} {path}"));
            let context = format!(
                "{refs:?}: {method} {path} → {}",
                show(ask(&mux, &format!("{method} {path}")))
            );
            let want = most_specific(&patterns, method, &path, &context);
            match got {
                Match::Found { handler, .. } => assert_eq!(want, Some(*handler), "{context}"),
                Match::Redirect { location } => {
                    assert_eq!(location, format!("{path}/"), "{context}");
                    assert!(
                        most_specific(&patterns, method, &location, &context).is_some(),
                        "{context}"
                    );
                }
                Match::MethodNotAllowed { allow } => {
                    assert_eq!(want, None, "{context}");
                    let allow: Vec<&str> = allow.iter().collect();
                    assert_eq!(allow, allowed(&patterns, &path), "{context}");
                    assert!(!allow.is_empty(), "{context}");
                }
                Match::NotFound => {
                    assert_eq!(want, None, "{context}");
                    assert_eq!(allowed(&patterns, &path), Vec::<&str>::new(), "{context}");
                }
                Match::AutoOptions { .. } => panic!("{context}: no OPTIONS asked"),
            }
            checked += 1;
        }
    }
    // The generator must give tables that build, not only conflicts.
    assert!(
        tables > 1000 && checked > 30_000,
        "{tables} tables, {checked} requests"
    );
    eprintln!("{tables} tables, {checked} requests");
}

/// A random route (`GET /a/{w1}/`) or mount (`/a/b`), mostly valid; literals include
/// `%61`, which is `a`.
fn spec(rng: &mut Rng) -> String {
    let mount = rng.below(6) == 0;
    let mut path = String::new();
    for k in 0..rng.below(4) {
        if !mount && rng.below(3) == 0 {
            path.push_str(&format!("/{{w{k}}}"));
        } else {
            path.push('/');
            let lit = *rng.pick(&["a", "b", "%61"]);
            path.push_str(lit);
        }
    }
    if mount {
        return if path.is_empty() { "/".into() } else { path };
    }
    match rng.below(5) {
        0 => path.push('/'),
        1 => path.push_str("/{r...}"),
        2 => path.push_str("/{$}"),
        _ if path.is_empty() => path.push('/'),
        _ => {}
    }
    let method = rng.pick(&["GET", "GET", "POST", "HEAD", "OPTIONS"]);
    format!("{method} {path}")
}

/// A clean request path of a few segments, maybe with a trailing slash.
fn request_path(rng: &mut Rng) -> String {
    let mut path: String = (0..rng.below(5))
        .map(|_| format!("/{}", rng.pick(&["a", "b", "c", "%61", "%62"])))
        .collect();
    if path.is_empty() || rng.below(3) == 0 {
        path.push('/');
    }
    path
}

/// A spec's pattern, as `build` parses it.
fn parse(spec: &str) -> Pattern {
    match spec.split_once(' ') {
        Some((method, path)) => Pattern {
            method: Some(method.into()),
            segments: parse_route_path(path).unwrap(),
        },
        None => Pattern {
            method: None,
            segments: parse_mount_path(spec).unwrap(),
        },
    }
}

/// The pattern that should serve `method` on `path`: the one more specific than every
/// other that matches. There must be exactly one when any matches (no conflicts).
fn most_specific(patterns: &[Pattern], method: &str, path: &str, context: &str) -> Option<usize> {
    let serves = |p: &Pattern| match p.method.as_deref() {
        None => true,
        Some(m) => m == method || (method == "HEAD" && m == "GET"),
    };
    let matching: Vec<usize> = (0..patterns.len())
        .filter(|&i| serves(&patterns[i]) && matches(&patterns[i].segments, path))
        .collect();
    let best: Vec<usize> = matching
        .iter()
        .copied()
        .filter(|&i| {
            matching
                .iter()
                .all(|&j| j == i || relate(&patterns[i], &patterns[j]) == Rel::MoreSpecific)
        })
        .collect();
    assert!(
        matching.is_empty() || best.len() == 1,
        "{context}: {matching:?} match, best {best:?}"
    );
    best.first().copied()
}

/// The methods a 405 should list for `path`.
fn allowed<'a>(patterns: &'a [Pattern], path: &str) -> Vec<&'a str> {
    let slashed = format!("{path}/");
    let mut set = BTreeSet::new();
    for p in patterns {
        let Some(method) = p.method.as_deref() else {
            continue;
        };
        if matches(&p.segments, path) || (!path.ends_with('/') && matches(&p.segments, &slashed)) {
            set.insert(method);
            if method != "OPTIONS" {
                set.insert("OPTIONS");
            }
        }
    }
    if set.contains("GET") {
        set.insert("HEAD");
    }
    set.into_iter().collect()
}

/// Whether the segments match the clean `path`, by the definition of each segment.
fn matches(segments: &[Segment], path: &str) -> bool {
    let inner = &path[1..];
    let (inner, trailing) = match inner.strip_suffix('/') {
        Some(inner) => (inner, true),
        None => (inner, inner.is_empty()),
    };
    let request: Vec<Vec<u8>> = if inner.is_empty() {
        vec![]
    } else {
        inner.split('/').map(|s| unescape(s).into_owned()).collect()
    };
    walk(segments, &request, trailing)
}

fn walk(segments: &[Segment], request: &[Vec<u8>], trailing: bool) -> bool {
    match segments.split_first() {
        None => request.is_empty() && !trailing,
        Some((Segment::Multi(_), _)) => !request.is_empty() || trailing,
        Some((Segment::End, _)) => request.is_empty() && trailing,
        Some((Segment::Wild(_), rest)) => {
            !request.is_empty() && walk(rest, &request[1..], trailing)
        }
        Some((Segment::Lit(lit), rest)) => {
            request.first().is_some_and(|s| **s == **lit) && walk(rest, &request[1..], trailing)
        }
    }
}

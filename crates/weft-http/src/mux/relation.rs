//! How two patterns relate, and so whether they conflict: Go's ServeMux rules
//! (`net/http` `pattern.go`). A pattern is more specific than another when it matches a
//! strict subset of the other's requests; two patterns that match some request in common
//! conflict when neither is more specific. Routing relies on this: once no two patterns
//! conflict, trying literals, then wildcards, then subtrees finds the most specific.

use std::fmt::Write as _;

use super::pattern::{Pattern, Segment};

/// The relation of a pattern `a` to a pattern `b`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Rel {
    /// Both match the same requests.
    Equivalent,
    /// `a` matches every request `b` does, and more.
    MoreGeneral,
    /// `b` matches every request `a` does, and more.
    MoreSpecific,
    /// No request matches both.
    Disjoint,
    /// Some request matches both, and neither is more specific.
    Overlaps,
}

/// Why `a` and `b` conflict, or `None` when they do not (one is more specific, or no
/// request matches both). The text calls `a` "the first" and `b` "the second".
pub(super) fn conflict(a: &Pattern, b: &Pattern) -> Option<String> {
    let methods = compare_methods(a.method.as_deref(), b.method.as_deref());
    if methods == Rel::Disjoint {
        return None;
    }
    let paths = compare_paths(&a.segments, &b.segments);
    match methods.and(paths) {
        Rel::Equivalent => Some("both match the same requests".into()),
        Rel::Overlaps if paths == Rel::Overlaps => Some(format!(
            "both match some paths, like {:?}, and neither is more specific: \
             only the first matches {:?}, only the second {:?}",
            common_path(&a.segments, &b.segments),
            difference_path(&a.segments, &b.segments),
            difference_path(&b.segments, &a.segments),
        )),
        Rel::Overlaps if methods == Rel::MoreGeneral => Some(
            "the first matches more methods than the second but fewer paths, \
             so neither is more specific"
                .into(),
        ),
        Rel::Overlaps => Some(
            "the first matches fewer methods than the second but more paths, \
             so neither is more specific"
                .into(),
        ),
        _ => None,
    }
}

/// The relation of `a` to `b`, methods and paths together (the tests' brute-force
/// router picks the most specific match with it).
#[cfg(test)]
pub(super) fn relate(a: &Pattern, b: &Pattern) -> Rel {
    compare_methods(a.method.as_deref(), b.method.as_deref())
        .and(compare_paths(&a.segments, &b.segments))
}

impl Rel {
    /// The relation of `b` to `a`.
    fn inverse(self) -> Rel {
        match self {
            Rel::MoreGeneral => Rel::MoreSpecific,
            Rel::MoreSpecific => Rel::MoreGeneral,
            other => other,
        }
    }

    /// The relation of two patterns whose first parts relate as `self` and whose other
    /// parts relate as `next` (Go's `combineRelationships`).
    fn and(self, next: Rel) -> Rel {
        match self {
            Rel::Equivalent => next,
            Rel::Disjoint => Rel::Disjoint,
            Rel::Overlaps if next == Rel::Disjoint => Rel::Disjoint,
            Rel::Overlaps => Rel::Overlaps,
            Rel::MoreGeneral | Rel::MoreSpecific => match next {
                Rel::Equivalent => self,
                n if n == self.inverse() => Rel::Overlaps,
                n => n,
            },
        }
    }
}

/// No method matches every method; `GET` matches `GET` and `HEAD`; any other method
/// only itself.
fn compare_methods(a: Option<&str>, b: Option<&str>) -> Rel {
    match (a, b) {
        _ if a == b => Rel::Equivalent,
        (None, _) => Rel::MoreGeneral,
        (_, None) => Rel::MoreSpecific,
        (Some("GET"), Some("HEAD")) => Rel::MoreGeneral,
        (Some("HEAD"), Some("GET")) => Rel::MoreSpecific,
        _ => Rel::Disjoint,
    }
}

/// Segment by segment; a pattern ending in a subtree also relates to the other's extra
/// segments.
fn compare_paths(a: &[Segment], b: &[Segment]) -> Rel {
    let ends_multi = |s: &[Segment]| matches!(s.last(), Some(Segment::Multi(_)));
    if a.len() != b.len() && !ends_multi(a) && !ends_multi(b) {
        return Rel::Disjoint;
    }
    let mut rel = Rel::Equivalent;
    for (x, y) in a.iter().zip(b) {
        rel = rel.and(compare_segments(x, y));
        if rel == Rel::Disjoint {
            return Rel::Disjoint;
        }
    }
    match a.len().cmp(&b.len()) {
        std::cmp::Ordering::Equal => rel,
        std::cmp::Ordering::Less if ends_multi(a) => rel.and(Rel::MoreGeneral),
        std::cmp::Ordering::Greater if ends_multi(b) => rel.and(Rel::MoreSpecific),
        _ => Rel::Disjoint,
    }
}

/// One segment against another.
fn compare_segments(a: &Segment, b: &Segment) -> Rel {
    use Segment::{End, Lit, Multi, Wild};
    match (a, b) {
        (Multi(_), Multi(_)) | (Wild(_), Wild(_)) | (End, End) => Rel::Equivalent,
        (Multi(_), _) => Rel::MoreGeneral,
        (_, Multi(_)) => Rel::MoreSpecific,
        (Wild(_), Lit(_)) => Rel::MoreGeneral,
        (Lit(_), Wild(_)) => Rel::MoreSpecific,
        (Lit(x), Lit(y)) if x == y => Rel::Equivalent,
        // A wildcard never matches the trailing slash of `{$}`.
        (Lit(_), Lit(_)) | (Wild(_) | Lit(_), End) | (End, Wild(_) | Lit(_)) => Rel::Disjoint,
    }
}

/// A path both `a` and `b` match (they overlap): at each place, the more specific of the
/// two segments.
fn common_path(a: &[Segment], b: &[Segment]) -> String {
    let mut out = String::new();
    for (x, y) in a.iter().zip(b) {
        let pick = match (x, y) {
            (_, Segment::Multi(_)) => x,
            (Segment::Wild(_) | Segment::Multi(_), _) => y,
            _ => x,
        };
        push_sample(&mut out, pick);
    }
    let n = a.len().min(b.len());
    for seg in a[n..].iter().chain(&b[n..]) {
        push_sample(&mut out, seg);
    }
    out
}

/// A path `a` matches and `b` does not (they overlap and neither is more specific).
fn difference_path(a: &[Segment], b: &[Segment]) -> String {
    let mut out = String::new();
    for (x, y) in a.iter().zip(b) {
        match (x, y) {
            (Segment::Multi(name), _) => {
                // A trailing slash tells a subtree from anything but `{$}`; after `{$}`,
                // any further segment does.
                out.push('/');
                if *y == Segment::End {
                    out.push_str(name.as_deref().unwrap_or("x"));
                }
                return out;
            }
            (Segment::Wild(name), Segment::Lit(lit)) if name.as_bytes() == &**lit => {
                let _ = write!(out, "/{name}x");
            }
            _ => push_sample(&mut out, x),
        }
    }
    let n = a.len().min(b.len());
    for seg in a[n..].iter().chain(&b[n..]) {
        push_sample(&mut out, seg);
    }
    out
}

/// Appends a request path piece `seg` matches: a literal (re-escaping `/` and `%`), a
/// wildcard's name, or just the `/` of a subtree or `{$}`.
fn push_sample(out: &mut String, seg: &Segment) {
    out.push('/');
    match seg {
        Segment::Lit(lit) => {
            for c in String::from_utf8_lossy(lit).chars() {
                match c {
                    '/' => out.push_str("%2F"),
                    '%' => out.push_str("%25"),
                    c => out.push(c),
                }
            }
        }
        Segment::Wild(name) => out.push_str(name),
        Segment::Multi(_) | Segment::End => {}
    }
}

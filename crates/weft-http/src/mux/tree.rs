//! The segment tree one method's patterns (or the mounts, or the auto `OPTIONS`) are
//! matched in (Go's `routing_tree.go`, one tree per method).
//!
//! At each node a request segment tries the literal child first, then the `{name}`
//! child, then the subtree (`{name...}` or a trailing `/`) that ends here, backtracking on
//! failure. With no two patterns in conflict that finds the most specific match, and since
//! every node is tried at most once per lookup, a lookup costs at most the tree's size,
//! usually one node per segment. Lookups never allocate: a percent-encoded request
//! segment is decoded lazily while it is compared.

use percent_encoding::percent_decode_str;

use super::pattern::{Segment, decodes};

/// A node of the tree; the root stands for the path's leading `/`.
#[derive(Debug, Default)]
pub(super) struct Node {
    /// The pattern that ends exactly here (`/a/b` at the node of `b`).
    leaf: Option<usize>,
    /// Literal children, sorted by their (decoded) bytes.
    literals: Vec<(Box<[u8]>, Node)>,
    /// The `{name}` child.
    wild: Option<Box<Node>>,
    /// The pattern whose `{$}` comes here: a trailing `/`, then the end.
    end: Option<usize>,
    /// The pattern whose subtree starts here: `{name...}` or a trailing `/`.
    multi: Option<usize>,
}

/// A pattern that matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Hit {
    /// The pattern's index, as inserted.
    pub id: usize,
    /// Whether the match is exact: anything but a subtree that matched a non-empty rest
    /// (Go's `exactMatch`; a request for `/x` redirects to `/x/` only when that is exact).
    pub exact: bool,
}

/// The next step through a request path.
enum Step<'a> {
    /// The path is used up.
    End,
    /// Only a trailing `/` is left.
    Slash,
    /// A segment (still escaped), what follows it, and whether a `/` is still to come
    /// after it all.
    Seg(&'a str, &'a str, bool),
}

impl Node {
    /// Adds the pattern `id` with these segments; when an equivalent pattern is there
    /// already, keeps it and returns its id.
    pub(super) fn insert(&mut self, segments: &[Segment], id: usize) -> Result<(), usize> {
        let Some((first, rest)) = segments.split_first() else {
            return set(&mut self.leaf, id);
        };
        match first {
            Segment::Lit(lit) => {
                let at = match self.literals.binary_search_by(|(k, _)| (**k).cmp(lit)) {
                    Ok(at) => at,
                    Err(at) => {
                        self.literals.insert(at, (lit.clone(), Node::default()));
                        at
                    }
                };
                self.literals[at].1.insert(rest, id)
            }
            Segment::Wild(_) => self
                .wild
                .get_or_insert_with(Default::default)
                .insert(rest, id),
            // `{name...}`, the trailing `/` and `{$}` are always last.
            Segment::Multi(_) => set(&mut self.multi, id),
            Segment::End => set(&mut self.end, id),
        }
    }

    /// The pattern matching `path` (a clean request path, starting with `/`), as if a `/`
    /// were appended when `slash`.
    pub(super) fn find(&self, path: &str, slash: bool) -> Option<Hit> {
        let (seg, rest, slash) = match step(path, slash)? {
            Step::End => return self.leaf.map(|id| Hit { id, exact: true }),
            Step::Slash => {
                // A wildcard never matches the trailing slash; a subtree matches it empty.
                let id = self.end.or(self.multi)?;
                return Some(Hit { id, exact: true });
            }
            Step::Seg(seg, rest, slash) => (seg, rest, slash),
        };
        if let Some(hit) = self.literal(seg).and_then(|child| child.find(rest, slash)) {
            return Some(hit);
        }
        if let Some(hit) = self.wild.as_ref().and_then(|child| child.find(rest, slash)) {
            return Some(hit);
        }
        self.multi.map(|id| Hit { id, exact: false })
    }

    /// The literal child for the request segment `seg`, compared decoded.
    fn literal(&self, seg: &str) -> Option<&Node> {
        let found = if decodes(seg) {
            self.literals
                .binary_search_by(|(k, _)| k.iter().copied().cmp(percent_decode_str(seg)))
        } else {
            self.literals
                .binary_search_by(|(k, _)| (**k).cmp(seg.as_bytes()))
        };
        found.ok().map(|at| &self.literals[at].1)
    }
}

/// Sets `slot` to `id` unless it holds a pattern already.
fn set(slot: &mut Option<usize>, id: usize) -> Result<(), usize> {
    match *slot {
        Some(first) => Err(first),
        None => {
            *slot = Some(id);
            Ok(())
        }
    }
}

/// Splits the next segment off `path`; `None` when `path` is not a path.
fn step(path: &str, slash: bool) -> Option<Step<'_>> {
    if path.is_empty() {
        return Some(if slash { Step::Slash } else { Step::End });
    }
    let after = path.strip_prefix('/')?;
    if after.is_empty() {
        return Some(Step::Slash);
    }
    let end = after.find('/').unwrap_or(after.len());
    Some(Step::Seg(&after[..end], &after[end..], slash))
}

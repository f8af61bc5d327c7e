//! Where things are in a definition file: the line and column of each key and value.
//!
//! serde_yaml_ng keeps no positions, so the file is read a second time with saphyr's
//! event parser, whose events carry marks, into a tree of positions only (keys, scalar
//! text, no values). Two ways in:
//! - a JSON pointer (`/entries/3/pool/size`, what the schema validator reports) is
//!   walked segment by segment;
//! - an entry's field path as weft's errors name it (`pool.size`, `wasi.env[0].name`,
//!   `options.cors.allow.origins`) is walked from the entry's node, each step taking the
//!   longest key that starts the rest of the path (keys may hold dots).
//!
//! A step that does not exist (an alias, a merge key, a field weft derived) stops the
//! walk: the answer is the deepest node found, so a position is never wrong by more than
//! "its parent". Parsing runs in one pass, without recursion; a file the parser refuses
//! has no positions (the loader reports it).

use saphyr_parser::{Event, Parser, Span};

/// A 1-based line and column (in characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Pos {
    /// The line, from 1.
    pub line: usize,
    /// The column, from 1.
    pub column: usize,
}

/// The positions of one YAML (or JSON) document.
pub(crate) struct Positions {
    /// The document's root node.
    root: Node,
}

/// A node of the document: where it starts and what is under it.
enum Node {
    /// A scalar (or an alias), with its text.
    Leaf {
        /// Where it starts.
        at: Pos,
        /// The scalar's text (empty for an alias).
        text: String,
    },
    /// A sequence.
    Seq {
        /// Where it starts.
        at: Pos,
        /// Its items.
        items: Vec<Node>,
    },
    /// A mapping.
    Map {
        /// Where it starts.
        at: Pos,
        /// Its keys (their text and position) with their values, in file order.
        pairs: Vec<(Key, Node)>,
    },
}

/// A mapping key.
struct Key {
    /// The key's text (empty for a collection used as a key).
    text: String,
    /// Where the key starts.
    at: Pos,
}

/// A collection being read.
enum Open {
    /// A sequence and its items so far.
    Seq(Pos, Vec<Node>),
    /// A mapping, its pairs so far and the key waiting for its value.
    Map(Pos, Vec<(Key, Node)>, Option<Key>),
}

/// Where an entry is in the file: its node, and the node its fields are in (the
/// `data:` mapping when the entry has one).
pub(crate) struct EntryNode<'a> {
    /// The entry's mapping.
    entry: &'a Node,
    /// Where its data fields are.
    data: &'a Node,
}

impl Positions {
    /// The positions of the first document of `text`; `None` when it does not parse.
    pub(crate) fn parse(text: &str) -> Option<Positions> {
        let mut parser = Parser::new_from_str(text);
        let mut stack: Vec<Open> = Vec::new();
        while let Some(event) = parser.next_event() {
            let (event, span) = event.ok()?;
            let at = pos(&span);
            let done = match event {
                Event::Scalar(text, ..) => Some(Node::Leaf {
                    at,
                    text: text.into_owned(),
                }),
                Event::Alias(_) => Some(Node::Leaf {
                    at,
                    text: String::new(),
                }),
                Event::SequenceStart(..) => {
                    stack.push(Open::Seq(at, Vec::new()));
                    None
                }
                Event::MappingStart(..) => {
                    stack.push(Open::Map(at, Vec::new(), None));
                    None
                }
                Event::SequenceEnd | Event::MappingEnd => match stack.pop()? {
                    Open::Seq(at, items) => Some(Node::Seq { at, items }),
                    Open::Map(at, pairs, _) => Some(Node::Map { at, pairs }),
                },
                Event::StreamEnd => return None,
                _ => None,
            };
            let Some(node) = done else { continue };
            match stack.last_mut() {
                None => return Some(Positions { root: node }),
                Some(Open::Seq(_, items)) => items.push(node),
                Some(Open::Map(_, pairs, pending)) => match pending.take() {
                    Some(key) => pairs.push((key, node)),
                    None => *pending = Some(key_of(node)),
                },
            }
        }
        None
    }

    /// The position of what the JSON `pointer` names (`/entries/0/pool/size`): the key
    /// of a mapping member, the start of a sequence item; the deepest part that exists.
    pub(crate) fn at_pointer(&self, pointer: &str) -> Pos {
        let segments = pointer
            .split('/')
            .skip(1)
            .map(|s| s.replace("~1", "/").replace("~0", "~"));
        let (mut node, mut at) = (&self.root, self.root.at());
        for segment in segments {
            match node.child(&segment) {
                Some((child, child_at)) => (node, at) = (child, child_at),
                None => break,
            }
        }
        at
    }

    /// The entry named `name` whose definition the loader placed at `line`: an item of
    /// `entries` (by name, the line telling same-named items apart), or the document
    /// itself in the single-entry form.
    pub(crate) fn entry(&self, name: &str, line: Option<usize>) -> Option<EntryNode<'_>> {
        let entry = match self.root.child("entries") {
            Some((Node::Seq { items, .. }, _)) => {
                let named = |n: &&Node| n.text_of("name") == Some(name);
                let on_line = |n: &&Node| Some(n.at().line) == line;
                items
                    .iter()
                    .find(|n| named(n) && on_line(n))
                    .or_else(|| items.iter().find(named))
                    .or_else(|| items.iter().find(on_line))?
            }
            _ => &self.root,
        };
        let data = match entry.child("data") {
            Some((data @ Node::Map { .. }, _)) => data,
            _ => entry,
        };
        Some(EntryNode { entry, data })
    }
}

impl EntryNode<'_> {
    /// Where the entry starts.
    pub(crate) fn at(&self) -> Pos {
        self.entry.at()
    }

    /// The position of the entry's `field` (`pool.size`, `wasi.env[0]`, `meta.router`):
    /// its key, or the deepest part of the path that exists (the entry at least).
    pub(crate) fn field(&self, field: &str) -> Pos {
        let in_meta = field == "meta" || field.starts_with("meta.");
        let (mut node, mut at) = if in_meta {
            (self.entry, self.entry.at())
        } else {
            (self.data, self.data.at())
        };
        let mut rest = field;
        while !rest.is_empty() {
            let Some((child, child_at, after)) = node.step(rest) else {
                break;
            };
            (node, at, rest) = (child, child_at, after);
        }
        at
    }
}

impl Node {
    /// Where the node starts.
    fn at(&self) -> Pos {
        match self {
            Node::Leaf { at, .. } | Node::Seq { at, .. } | Node::Map { at, .. } => *at,
        }
    }

    /// The member `key` of a mapping (with its key's position) or the item `key` of a
    /// sequence (with its own); the last of duplicate keys, as a parser keeps it.
    fn child(&self, key: &str) -> Option<(&Node, Pos)> {
        match self {
            Node::Map { pairs, .. } => pairs
                .iter()
                .rev()
                .find(|(k, _)| k.text == key)
                .map(|(k, v)| (v, k.at)),
            Node::Seq { items, .. } => {
                let item = items.get(key.parse::<usize>().ok()?)?;
                Some((item, item.at()))
            }
            Node::Leaf { .. } => None,
        }
    }

    /// The text of the scalar member `key` of a mapping.
    fn text_of(&self, key: &str) -> Option<&str> {
        match self.child(key)? {
            (Node::Leaf { text, .. }, _) => Some(text),
            _ => None,
        }
    }

    /// One step of a field path: `[i]` into a sequence, or the longest key of a mapping
    /// that `path` starts with (followed by nothing, `.` or `[`); the child, its
    /// position and the rest of the path.
    fn step<'p>(&self, path: &'p str) -> Option<(&Node, Pos, &'p str)> {
        match self {
            Node::Seq { .. } => {
                let (index, rest) = path.strip_prefix('[')?.split_once(']')?;
                let (child, at) = self.child(index)?;
                Some((child, at, rest.strip_prefix('.').unwrap_or(rest)))
            }
            Node::Map { pairs, .. } => {
                let (key, value) = pairs
                    .iter()
                    .filter(|(k, _)| {
                        path.strip_prefix(k.text.as_str()).is_some_and(|rest| {
                            rest.is_empty() || rest.starts_with('.') || rest.starts_with('[')
                        })
                    })
                    .max_by_key(|(k, _)| k.text.len())?;
                let rest = &path[key.text.len()..];
                Some((value, key.at, rest.strip_prefix('.').unwrap_or(rest)))
            }
            Node::Leaf { .. } => None,
        }
    }
}

/// A node read where a key was expected: its text when it is a scalar.
fn key_of(node: Node) -> Key {
    match node {
        Node::Leaf { at, text } => Key { text, at },
        other => Key {
            text: String::new(),
            at: other.at(),
        },
    }
}

/// The 1-based position of the start of `span`.
fn pos(span: &Span) -> Pos {
    Pos {
        line: span.start.line(),
        column: span.start.col() + 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Line and column.
    fn lc(pos: Pos) -> (usize, usize) {
        (pos.line, pos.column)
    }

    const BATCH: &str = "\
namespace: app
entries:
  - name: f
    kind: function.lua
    pool: {size: big}
    options:
      cors.allow.origins: x
  -
    name: g
    kind: function.wasm
    wasi:
      env:
        - {id: app:v, name: V}
        - id: app:w
          name: W
    meta: {router: api}
  - name: d
    kind: registry.entry
    data:
      pool: {size: 1}
";

    #[test]
    fn pointers_reach_keys_and_items() {
        let p = Positions::parse(BATCH).unwrap();
        assert_eq!(lc(p.at_pointer("/entries/0/pool/size")), (5, 12));
        assert_eq!(lc(p.at_pointer("/entries/1/wasi/env/1/name")), (15, 11));
        assert_eq!(lc(p.at_pointer("/entries/1/wasi/env/0")), (13, 11));
        assert_eq!(lc(p.at_pointer("/namespace")), (1, 1));
        assert_eq!(lc(p.at_pointer("")), (1, 1));
        // A missing step stops at the deepest part found.
        assert_eq!(lc(p.at_pointer("/entries/0/pool/workers")), (5, 5));
        assert_eq!(lc(p.at_pointer("/entries/9/x")), (2, 1));
    }

    #[test]
    fn field_paths_walk_from_the_entry_with_dotted_keys() {
        let p = Positions::parse(BATCH).unwrap();
        let f = p.entry("f", Some(3)).unwrap();
        assert_eq!(lc(f.at()), (3, 5));
        assert_eq!(lc(f.field("pool.size")), (5, 12));
        assert_eq!(lc(f.field("options.cors.allow.origins")), (7, 7));
        assert_eq!(lc(f.field("pool.nope")), (5, 5));
        let g = p.entry("g", Some(8)).unwrap();
        assert_eq!(lc(g.at()), (9, 5));
        assert_eq!(lc(g.field("wasi.env[1].name")), (15, 11));
        assert_eq!(lc(g.field("wasi.env[0]")), (13, 11));
        assert_eq!(lc(g.field("meta.router")), (16, 12));
        // A `data:` entry's fields are under data; meta stays on the entry.
        let d = p.entry("d", None).unwrap();
        assert_eq!(lc(d.field("pool.size")), (20, 14));
    }

    #[test]
    fn single_entry_files_and_json() {
        let p = Positions::parse("namespace: a\nname: x\nkind: k\nlimits:\n  max_memory_mb: -1\n")
            .unwrap();
        let e = p.entry("x", Some(2)).unwrap();
        assert_eq!(lc(e.field("limits.max_memory_mb")), (5, 3));
        let json = "{\n  \"namespace\": \"a\",\n  \"entries\": [\n    {\"name\": \"x\", \"kind\": \"k\", \"pool\": {\"size\": \"big\"}}\n  ]\n}\n";
        let p = Positions::parse(json).unwrap();
        assert_eq!(lc(p.at_pointer("/entries/0/pool/size")), (4, 41));
    }

    #[test]
    fn same_named_entries_are_told_apart_by_line_and_broken_files_have_none() {
        let text =
            "namespace: a\nentries:\n  - {name: x, kind: k, a: 1}\n  - {name: x, kind: k, b: 2}\n";
        let p = Positions::parse(text).unwrap();
        assert_eq!(lc(p.entry("x", Some(4)).unwrap().field("b")), (4, 24));
        assert_eq!(lc(p.entry("x", None).unwrap().field("a")), (3, 24));
        assert!(Positions::parse("a: [1, 2\nb: 3\n").is_none());
        assert!(Positions::parse("").is_none());
    }
}

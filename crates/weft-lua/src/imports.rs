//! Library imports waiting at boot, and the import cycles among them.
//!
//! An entry importing a library that is not registered yet is deferred (NotFound) and
//! retried after the others. In a cycle every member waits for another one, so without
//! a check each would end as "library not found" for a library that exists. [`Waiting`]
//! records the imports of every entry that waits; an import cycle among them is a
//! rejection naming the cycle, reported as soon as its last member is applied. A diamond
//! (two libraries importing a third) is no cycle: its entries wait only until the shared
//! library is registered.

use std::collections::{HashMap, HashSet};

use parking_lot::Mutex;
use weft_core::{EntryId, Error};

/// The imports (library ids, in the entry's order) of every entry waiting for a library.
#[derive(Default)]
pub(crate) struct Waiting(Mutex<HashMap<EntryId, Vec<EntryId>>>);

impl Waiting {
    /// `entry` waits for one of its `imports` (alias, library id, in its order): records
    /// them and, when the waiting imports now close a cycle through `entry` or lead from
    /// it into one, returns the rejection naming that cycle (Invalid, in the field of the
    /// import the path starts with). None: no cycle, the entry just waits.
    ///
    /// The imports stay recorded until `entry` is registered ([`Waiting::done`]), also
    /// when it is rejected: the edges are the app's, and the other members of a cycle
    /// still need them to name it.
    pub(crate) fn wait(&self, entry: &EntryId, imports: &[(String, EntryId)]) -> Option<Error> {
        let mut edges = self.0.lock();
        let ids = imports.iter().map(|(_, id)| id.clone()).collect();
        edges.insert(entry.clone(), ids);
        let path = find_cycle(&edges, entry)?;
        let first = path.get(1)?;
        let field = match imports.iter().find(|(_, id)| id == first) {
            Some((alias, _)) => format!("imports.{alias}"),
            None => "imports".to_string(),
        };
        let last = path.last()?;
        let message = if path.first() == Some(last) {
            format!("library import cycle: {}", show(&path))
        } else {
            let from = path.iter().position(|id| id == last)?;
            format!(
                "imports {first}, which leads into the library import cycle {}",
                show(&path[from..])
            )
        };
        Some(Error::invalid(message).in_field(field))
    }

    /// `entry` was registered: it waits no longer.
    pub(crate) fn done(&self, entry: &EntryId) {
        self.0.lock().remove(entry);
    }
}

/// Depth-first search from `start` through the waiting imports, iterative (an app may
/// chain many libraries): the path from `start` up to the first import that leads back
/// onto it, that import included (`f, a, b, a`); None when no cycle is reachable.
fn find_cycle(edges: &HashMap<EntryId, Vec<EntryId>>, start: &EntryId) -> Option<Vec<EntryId>> {
    // The current path: each node with the index of its next import to search.
    let mut path: Vec<(&EntryId, usize)> = vec![(start, 0)];
    let mut on_path: HashSet<&EntryId> = HashSet::from([start]);
    // Nodes whose every import was searched without finding a cycle.
    let mut finished: HashSet<&EntryId> = HashSet::new();
    while let Some((node, next)) = path.last_mut() {
        let Some(import) = imports_of(edges, node).get(*next) else {
            finished.insert(*node);
            on_path.remove(*node);
            path.pop();
            continue;
        };
        *next += 1;
        if on_path.contains(import) {
            let mut found: Vec<EntryId> = path.iter().map(|(n, _)| (*n).clone()).collect();
            found.push(import.clone());
            return Some(found);
        }
        if !finished.contains(import) {
            on_path.insert(import);
            path.push((import, 0));
        }
    }
    None
}

/// The recorded imports of `id` (none when it does not wait).
fn imports_of<'a>(edges: &'a HashMap<EntryId, Vec<EntryId>>, id: &EntryId) -> &'a [EntryId] {
    edges.get(id).map_or(&[], Vec::as_slice)
}

/// `a -> b -> a`.
fn show(ids: &[EntryId]) -> String {
    ids.iter()
        .map(EntryId::as_str)
        .collect::<Vec<_>>()
        .join(" -> ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> EntryId {
        EntryId::resolve(s, "t")
    }

    /// Records the entries in order, as a boot applies them; the messages they got.
    fn apply(edges: &[(&str, &[&str])]) -> (Waiting, Vec<Option<String>>) {
        let w = Waiting::default();
        let got = edges
            .iter()
            .map(|(from, to)| {
                let imports: Vec<(String, EntryId)> =
                    to.iter().map(|t| (format!("x{t}"), id(t))).collect();
                w.wait(&id(from), &imports)
                    .map(|e| format!("{}: {}", e.context_chain().join(": "), e.message()))
            })
            .collect();
        (w, got)
    }

    #[test]
    fn a_cycle_is_named_in_order_when_its_last_member_waits() {
        let (_, got) = apply(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"])]);
        assert_eq!(
            got,
            [
                None,
                None,
                Some("field imports.xa: library import cycle: t:c -> t:a -> t:b -> t:c".into())
            ]
        );
        let (_, got) = apply(&[("a", &["a"])]);
        assert_eq!(
            got,
            [Some(
                "field imports.xa: library import cycle: t:a -> t:a".into()
            )]
        );
    }

    #[test]
    fn an_entry_leading_into_a_cycle_names_it() {
        let (w, _) = apply(&[("a", &["b"]), ("b", &["a"])]);
        let imports = [("x".to_string(), id("ok")), ("lib".to_string(), id("a"))];
        let e = w.wait(&id("f"), &imports).expect("a cycle");
        assert_eq!(
            e.message(),
            "imports t:a, which leads into the library import cycle t:a -> t:b -> t:a"
        );
        assert_eq!(
            e.context_chain(),
            [format!("{}imports.lib", weft_core::FIELD_PREFIX)]
        );
    }

    #[test]
    fn a_diamond_is_no_cycle() {
        let (w, got) = apply(&[("a", &["b", "c"]), ("b", &["d"]), ("c", &["d"])]);
        assert_eq!(got, [None, None, None]);
        w.done(&id("b"));
        w.done(&id("c"));
        assert!(w.wait(&id("a"), &[("b".into(), id("b"))]).is_none());
    }
}

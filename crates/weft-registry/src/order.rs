//! Dependency order (reference §1.7): dependencies are read from known meta and data
//! paths, then entries are sorted into topological levels, by id inside a level.

use std::collections::HashMap;

use weft_core::{EntryId, Value};

use crate::entry::Entry;

/// Where a dependency path starts.
#[derive(Clone, Copy)]
enum Root {
    /// The entry meta.
    Meta,
    /// The entry data.
    Data,
}

/// The paths dependencies are read from; `*` walks every map value or list item.
const DEPENDENCY_PATHS: &[(Root, &[&str])] = &[
    (Root::Meta, &["depends_on", "*"]),
    (Root::Meta, &["parent"]),
    (Root::Meta, &["groups", "*"]),
    (Root::Meta, &["server"]),
    (Root::Meta, &["router"]),
    (Root::Data, &["config"]),
    (Root::Data, &["groups", "*"]),
    (Root::Data, &["imports", "*"]),
    (Root::Data, &["*", "depends_on", "*"]),
    (Root::Data, &["server"]),
    (Root::Data, &["func"]),
    (Root::Data, &["fs"]),
    (Root::Data, &["host"]),
    (Root::Data, &["process"]),
    (Root::Data, &["lifecycle", "requires", "*"]),
    (Root::Data, &["lifecycle", "depends_on", "*"]),
    (Root::Data, &["env"]),
    (Root::Data, &["storage"]),
    (Root::Data, &["storages", "*"]),
    (Root::Data, &["wasi", "mounts", "*", "fs"]),
    (Root::Data, &["wasi", "env", "*", "id"]),
];

/// The most cycle members named in a warning.
const CYCLE_NAMES_SHOWN: usize = 10;

/// The ids an entry depends on: every reference at the dependency paths, bare names
/// resolved against the entry's namespace; `group:` and `ns:` references are left out.
/// Ids are not checked against loaded entries.
pub fn dependencies(entry: &Entry) -> Vec<EntryId> {
    let mut refs = Vec::new();
    for (root, path) in DEPENDENCY_PATHS {
        match root {
            Root::Meta => collect_in_map(&entry.meta, path, &mut refs),
            Root::Data => collect(&entry.data, path, &mut refs),
        }
    }
    let mut ids: Vec<EntryId> = refs
        .into_iter()
        .filter(|r| !r.starts_with("group:") && !r.starts_with("ns:") && !r.trim().is_empty())
        .map(|r| EntryId::resolve(&r, entry.id.ns()))
        .filter(|id| *id != entry.id)
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// Sorts entries into dependency order; warns about cycles (their members, and everything
/// after them, fall back to id order).
pub(crate) fn dependency_order(entries: Vec<Entry>) -> (Vec<Entry>, Vec<String>) {
    let index: HashMap<&str, usize> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.id.as_str(), i))
        .collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); entries.len()];
    let mut pending: Vec<usize> = vec![0; entries.len()];
    for (i, entry) in entries.iter().enumerate() {
        for dep in dependencies(entry) {
            if let Some(&j) = index.get(dep.as_str()) {
                dependents[j].push(i);
                pending[i] += 1;
            }
        }
    }

    let by_id = |a: &usize, b: &usize| entries[*a].id.as_str().cmp(entries[*b].id.as_str());
    let mut order = Vec::with_capacity(entries.len());
    let mut level: Vec<usize> = (0..entries.len()).filter(|&i| pending[i] == 0).collect();
    while !level.is_empty() {
        level.sort_by(by_id);
        let mut next = Vec::new();
        for &i in &level {
            for &d in &dependents[i] {
                pending[d] -= 1;
                if pending[d] == 0 {
                    next.push(d);
                }
            }
        }
        order.append(&mut level);
        level = next;
    }

    let mut warnings = Vec::new();
    if order.len() < entries.len() {
        let mut rest: Vec<usize> = (0..entries.len()).filter(|&i| pending[i] > 0).collect();
        rest.sort_by(by_id);
        let names: Vec<&str> = rest
            .iter()
            .take(CYCLE_NAMES_SHOWN)
            .map(|&i| entries[i].id.as_str())
            .collect();
        let more = rest.len().saturating_sub(CYCLE_NAMES_SHOWN);
        warnings.push(format!(
            "dependency cycle: {} entries cannot be ordered by dependencies and are applied by id: {}{}",
            rest.len(),
            names.join(", "),
            if more > 0 { format!(" and {more} more") } else { String::new() }
        ));
        order.append(&mut rest);
    }

    let mut slots: Vec<Option<Entry>> = entries.into_iter().map(Some).collect();
    let sorted = order
        .into_iter()
        .filter_map(|i| slots.get_mut(i).and_then(Option::take))
        .collect();
    (sorted, warnings)
}

/// Collects the reference strings found at `path` under `value`.
fn collect(value: &Value, path: &[&str], out: &mut Vec<String>) {
    let Some((first, rest)) = path.split_first() else {
        collect_refs(value, out);
        return;
    };
    match (*first, value) {
        (_, Value::Map(m)) => collect_in_map(m, path, out),
        ("*", Value::Array(a)) => a.iter().for_each(|v| collect(v, rest, out)),
        _ => {}
    }
}

/// [`collect`] starting at a map; `path` is not empty.
fn collect_in_map(map: &weft_core::Map, path: &[&str], out: &mut Vec<String>) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    if *first == "*" {
        map.values().for_each(|v| collect(v, rest, out));
    } else if let Some(v) = map.get(*first) {
        collect(v, rest, out);
    }
}

/// The references a terminal value holds: a string, a list of strings, or `{ns, name}`.
fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Array(items) => items.iter().for_each(|v| collect_ref(v, out)),
        other => collect_ref(other, out),
    }
}

/// One reference: a string or an `{ns, name}` object.
fn collect_ref(value: &Value, out: &mut Vec<String>) {
    if let Some(s) = value.as_str() {
        out.push(s.to_string());
        return;
    }
    let ns = value.get("ns").and_then(Value::as_str);
    let name = value.get("name").and_then(Value::as_str);
    if let (Some(ns), Some(name)) = (ns, name) {
        out.push(format!("{ns}:{name}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, meta: &str, data: &str) -> Entry {
        let id = EntryId::parse(id).unwrap();
        let mut e = Entry::new(id, "test.kind");
        e.meta = serde_json::from_str(meta).unwrap();
        e.data = serde_json::from_str(data).unwrap();
        e
    }

    fn ids(entries: &[Entry]) -> Vec<&str> {
        entries.iter().map(|e| e.id.as_str()).collect()
    }

    #[test]
    fn every_dependency_path_is_read() {
        let e = entry(
            "app:x",
            r#"{"depends_on":["a","o:b","group:g","ns:n"],"parent":"p","groups":["g1"],"server":"s","router":"r"}"#,
            r#"{"config":"c","groups":["g2"],"imports":{"m":"lib:m","w":"wasi:io"},
               "thing":{"depends_on":["d"]},"server":"s2","func":"f","fs":"o:fs","host":"h",
               "process":"pr","lifecycle":{"requires":["q"],"depends_on":["q2"]},
               "env":"e","storage":"st","storages":{"x":"st2"},
               "wasi":{"mounts":[{"fs":"o:m","guest":"/d"}],"env":[{"id":"o:v","name":"V"}]},
               "method":"not_a_dep"}"#,
        );
        let deps: Vec<String> = dependencies(&e).iter().map(|d| d.to_string()).collect();
        for want in [
            "app:a", "o:b", "app:p", "app:g1", "app:s", "app:r", "app:c", "app:g2", "lib:m",
            "wasi:io", "app:d", "app:s2", "app:f", "o:fs", "app:h", "app:pr", "app:q", "app:q2",
            "app:e", "app:st", "app:st2", "o:m", "o:v",
        ] {
            assert!(
                deps.contains(&want.to_string()),
                "missing {want} in {deps:?}"
            );
        }
        assert!(
            !deps
                .iter()
                .any(|d| d.contains("not_a_dep") || d.contains("group:"))
        );
    }

    #[test]
    fn levels_sort_by_id_and_unknown_deps_are_ignored() {
        let entries = vec![
            entry("app:z", "{}", r#"{"func":"b"}"#),
            entry("app:b", "{}", r#"{"func":"nowhere"}"#),
            entry("app:c", "{}", "{}"),
            entry("app:a", "{}", r#"{"func":"z"}"#),
        ];
        let (sorted, warnings) = dependency_order(entries);
        assert_eq!(ids(&sorted), ["app:b", "app:c", "app:z", "app:a"]);
        assert!(warnings.is_empty());
    }

    #[test]
    fn cycles_fall_back_to_id_order_with_a_warning() {
        let entries = vec![
            entry("app:y", "{}", r#"{"func":"x"}"#),
            entry("app:x", "{}", r#"{"func":"y"}"#),
            entry("app:w", "{}", r#"{"func":"x"}"#),
            entry("app:a", "{}", "{}"),
        ];
        let (sorted, warnings) = dependency_order(entries);
        assert_eq!(ids(&sorted), ["app:a", "app:w", "app:x", "app:y"]);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("dependency cycle"), "{warnings:?}");
    }
}

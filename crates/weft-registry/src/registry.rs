//! [`Registry`]: the entry store a running app reads (Lua `registry.get` / `find`), with
//! the finder's filter semantics (reference §4.9). The store is copy-on-write: a change
//! set builds a new map and swaps it in whole, so readers never see half of one, and a
//! [`Snapshot`] is one pointer.

use std::sync::Arc;

use indexmap::IndexMap;
use parking_lot::RwLock;
use regex::Regex;
use weft_core::{CallContext, Error, Map, Result, Value};

use crate::entry::Entry;
use crate::live::Live;

/// Entries by id, in insertion (boot) order.
pub(crate) type EntryMap = IndexMap<String, Arc<Entry>>;

/// The entry store: entries by id, in insertion (boot) order, and the live-change
/// machinery ([`Registry::apply`], versions and history).
#[derive(Default)]
pub struct Registry {
    entries: RwLock<Arc<EntryMap>>,
    pub(crate) live: Live,
}

/// The registry's entries at one version: what `registry.snapshot()` reads.
#[derive(Clone)]
pub struct Snapshot {
    /// The version the entries are at.
    pub version: u64,
    pub(crate) entries: Arc<EntryMap>,
}

/// The answer of [`Registry::find`].
#[derive(Clone, Debug, Default)]
pub struct FindResult {
    /// The matching entries, in registry order.
    pub entries: Vec<Arc<Entry>>,
    /// Filter keys that were ignored (no `meta.` prefix, not a known `.field`).
    pub ignored_keys: Vec<String>,
    /// Filter keys that could not be used (a bad regex): `"<key>: <problem>"`. Such a key
    /// matches nothing.
    pub errors: Vec<String>,
}

/// One compiled filter condition.
enum Condition {
    /// `.kind` / `.name` / `.ns` / `.id` glob.
    Root(RootField, String),
    /// `meta.<path>` equality (a list value: every item present).
    MetaEq(String, Value),
    /// `~ * ^ $` `meta.<path>` string operators.
    MetaText(String, TextOp),
    /// A condition that matches nothing (a bad regex).
    Never,
}

/// The root field a `.key` filter matches.
#[derive(Clone, Copy)]
enum RootField {
    /// `.kind`.
    Kind,
    /// `.name`.
    Name,
    /// `.ns`.
    Ns,
    /// `.id`.
    Id,
}

/// A string operator on a meta field.
enum TextOp {
    /// `~`: regex search.
    Regex(Regex),
    /// `*`: contains.
    Contains(String),
    /// `^`: starts with.
    Prefix(String),
    /// `$`: ends with.
    Suffix(String),
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Registry::default()
    }

    /// Inserts or replaces an entry.
    pub fn insert(&self, e: Entry) {
        self.insert_arc(Arc::new(e));
    }

    /// Inserts or replaces an already shared entry.
    pub fn insert_arc(&self, e: Arc<Entry>) {
        Arc::make_mut(&mut self.entries.write()).insert(e.id.as_str().to_string(), e);
    }

    /// Removes an entry, returning it.
    pub fn remove(&self, id: &str) -> Option<Arc<Entry>> {
        Arc::make_mut(&mut self.entries.write()).shift_remove(id)
    }

    /// Every entry at the current version, as one consistent view.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            version: self.live.version(),
            entries: self.map(),
        }
    }

    /// The current entry map (one pointer; later changes do not touch it).
    pub(crate) fn map(&self) -> Arc<EntryMap> {
        self.entries.read().clone()
    }

    /// Replaces the entry map whole (a change set, or its undo).
    pub(crate) fn swap_map(&self, map: Arc<EntryMap>) -> Arc<EntryMap> {
        std::mem::replace(&mut self.entries.write(), map)
    }

    /// The entry with this id (`ns:name`).
    pub fn get(&self, id: &str) -> Option<Arc<Entry>> {
        self.entries.read().get(id).cloned()
    }

    /// The entry `id` as the caller `cx` may see it: PermissionDenied without
    /// `registry.get` on the id, NotFound when there is no such entry.
    pub fn read(&self, cx: &CallContext, id: &str) -> Result<Arc<Entry>> {
        cx.check("registry.get", id)?;
        self.get(id)
            .ok_or_else(|| Error::not_found(format!("entry not found: {id}")))
    }

    /// [`find`](Self::find) for the caller `cx`: only the entries it may `registry.get`.
    pub fn find_visible(&self, cx: &CallContext, filter: &Map) -> FindResult {
        let mut found = self.find(filter);
        found
            .entries
            .retain(|e| cx.check("registry.get", e.id.as_str()).is_ok());
        found
    }

    /// Every entry, in registry order.
    pub fn all(&self) -> Vec<Arc<Entry>> {
        self.entries.read().values().cloned().collect()
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.read().len()
    }

    /// True when there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.read().is_empty()
    }

    /// Finds entries matching every condition of `filter` (reference §4.9): `.kind`,
    /// `.name`, `.ns`, `.id` glob (`*` anywhere); `meta.f` equality (a list value: all
    /// listed items present in a list field; a scalar also matches a list field containing
    /// it); `~meta.f` regex, `*meta.f` contains, `^meta.f` prefix, `$meta.f` suffix. Other
    /// keys are ignored and returned in `ignored_keys`.
    pub fn find(&self, filter: &Map) -> FindResult {
        find_in(&self.map(), filter)
    }
}

impl Snapshot {
    /// The entry with this id at this version.
    pub fn get(&self, id: &str) -> Option<Arc<Entry>> {
        self.entries.get(id).cloned()
    }

    /// Every entry at this version, in registry order.
    pub fn all(&self) -> Vec<Arc<Entry>> {
        self.entries.values().cloned().collect()
    }
}

/// The entries of `map` matching every condition of `filter`.
fn find_in(map: &EntryMap, filter: &Map) -> FindResult {
    let mut result = FindResult::default();
    let conditions: Vec<Condition> = filter
        .iter()
        .filter_map(|(key, value)| compile(key, value, &mut result))
        .collect();
    result.entries = map
        .values()
        .filter(|e| conditions.iter().all(|c| c.matches(e)))
        .cloned()
        .collect();
    result
}

impl Condition {
    /// True when the entry satisfies the condition.
    fn matches(&self, entry: &Entry) -> bool {
        match self {
            Condition::Root(field, pattern) => {
                let text = match field {
                    RootField::Kind => entry.kind.as_str(),
                    RootField::Name => entry.id.name(),
                    RootField::Ns => entry.id.ns(),
                    RootField::Id => entry.id.as_str(),
                };
                glob_match(pattern, text)
            }
            Condition::MetaEq(path, want) => entry
                .meta_value(path)
                .is_some_and(|have| meta_equals(have, want)),
            Condition::MetaText(path, op) => match entry.meta_value(path) {
                Some(Value::Array(items)) => items.iter().any(|v| op.matches(v)),
                Some(v) => op.matches(v),
                None => false,
            },
            Condition::Never => false,
        }
    }
}

impl TextOp {
    /// Applies the operator to a scalar meta value (numbers and booleans as text).
    fn matches(&self, value: &Value) -> bool {
        let text = match value {
            Value::Str(_) => match value.as_str() {
                Some(s) => s.to_string(),
                None => return false,
            },
            Value::Int(_) | Value::Float(_) | Value::Bool(_) => value.to_display_string(),
            _ => return false,
        };
        match self {
            TextOp::Regex(re) => re.is_match(&text),
            TextOp::Contains(s) => text.contains(s.as_str()),
            TextOp::Prefix(s) => text.starts_with(s.as_str()),
            TextOp::Suffix(s) => text.ends_with(s.as_str()),
        }
    }
}

/// Compiles one filter key; ignored keys and bad regexes are recorded in `result`.
fn compile(key: &str, value: &Value, result: &mut FindResult) -> Option<Condition> {
    if let Some(field) = key.strip_prefix('.') {
        let field = match field {
            "kind" => RootField::Kind,
            "name" => RootField::Name,
            "ns" => RootField::Ns,
            "id" => RootField::Id,
            _ => {
                result.ignored_keys.push(key.to_string());
                return None;
            }
        };
        return Some(Condition::Root(field, value_text(value)));
    }
    if let Some(path) = key.strip_prefix("meta.") {
        return Some(Condition::MetaEq(path.to_string(), value.clone()));
    }
    let mut chars = key.chars();
    let op = chars.next();
    let path = chars.as_str().strip_prefix("meta.");
    let (Some(op), Some(path)) = (op, path) else {
        result.ignored_keys.push(key.to_string());
        return None;
    };
    let text = value_text(value);
    let op = match op {
        '~' => match Regex::new(&text) {
            Ok(re) => TextOp::Regex(re),
            Err(e) => {
                result.errors.push(format!("{key}: invalid regex: {e}"));
                return Some(Condition::Never);
            }
        },
        '*' => TextOp::Contains(text),
        '^' => TextOp::Prefix(text),
        '$' => TextOp::Suffix(text),
        _ => {
            result.ignored_keys.push(key.to_string());
            return None;
        }
    };
    Some(Condition::MetaText(path.to_string(), op))
}

/// A filter value as text (strings as is, other scalars displayed).
fn value_text(value: &Value) -> String {
    value
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| value.to_display_string())
}

/// Meta equality: a list filter needs every item in a list field; a scalar filter equals
/// the field or is contained in a list field.
fn meta_equals(have: &Value, want: &Value) -> bool {
    match (have, want) {
        (Value::Array(have), Value::Array(want)) => want.iter().all(|w| have.contains(w)),
        (_, Value::Array(_)) => false,
        (Value::Array(have), w) => have.contains(w),
        (h, w) => h == w,
    }
}

/// Glob match where `*` stands for any run of characters.
pub(crate) fn glob_match(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let Some(first) = parts.next() else {
        return text.is_empty();
    };
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let middle: Vec<&str> = parts.collect();
    let Some((last, middle)) = middle.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(pos) => rest = &rest[pos + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use weft_core::EntryId;

    fn registry() -> Registry {
        let r = Registry::new();
        for (id, kind, meta) in [
            (
                "app.test:one",
                "function.lua",
                r#"{"type":"test","suite":"wasm","tags":["a","b"],"order":2}"#,
            ),
            (
                "app.test:two",
                "function.wasm",
                r#"{"type":"test","suite":"lua","tags":["b"]}"#,
            ),
            (
                "app:svc",
                "process.lua",
                r#"{"command":{"name":"serve"},"comment":"HTTP server"}"#,
            ),
        ] {
            let mut e = Entry::new(EntryId::parse(id).unwrap(), kind);
            e.meta = serde_json::from_str(meta).unwrap();
            r.insert(e);
        }
        r
    }

    fn find(r: &Registry, filter: &str) -> (Vec<String>, FindResult) {
        let filter: Map = serde_json::from_str(filter).unwrap();
        let res = r.find(&filter);
        (res.entries.iter().map(|e| e.id.to_string()).collect(), res)
    }

    /// Allows `registry.get` on ids that start with a prefix.
    struct AllowIds(EntryId, &'static str);

    impl weft_core::Policy for AllowIds {
        fn id(&self) -> &EntryId {
            &self.0
        }
        fn evaluate(
            &self,
            _: &weft_core::Actor,
            action: &str,
            resource: &str,
            _: Option<&Map>,
        ) -> weft_core::Decision {
            if action == "registry.get" && resource.starts_with(self.1) {
                weft_core::Decision::Allow
            } else {
                weft_core::Decision::Undefined
            }
        }
    }

    #[test]
    fn callers_see_only_the_entries_they_may_get() {
        use std::sync::Arc;
        use weft_core::{Actor, ErrorKind, Scope};
        let r = registry();
        let open = CallContext::root(false);
        assert_eq!(r.read(&open, "app:svc").unwrap().kind, "process.lua");
        assert_eq!(
            r.read(&open, "app:nope").unwrap_err().kind(),
            ErrorKind::NotFound
        );
        let policy: Arc<dyn weft_core::Policy> =
            Arc::new(AllowIds(EntryId::new("p", "tests"), "app.test:"));
        let cx = open
            .with_actor(Some(Actor::new("ann", Map::new())))
            .with_scope(Some(Scope::new([policy])));
        assert_eq!(r.read(&cx, "app.test:one").unwrap().kind, "function.lua");
        // Denied before the lookup: an unknown id is denied too, never NotFound.
        for id in ["app:svc", "app:nope"] {
            let err = r.read(&cx, id).unwrap_err();
            assert_eq!(err.message(), format!("not allowed: registry.get on {id}"));
        }
        let all: Map = serde_json::from_str("{}").unwrap();
        let seen: Vec<String> = r
            .find_visible(&cx, &all)
            .entries
            .iter()
            .map(|e| e.id.to_string())
            .collect();
        assert_eq!(seen, ["app.test:one", "app.test:two"]);
        assert_eq!(r.find_visible(&open, &all).entries.len(), 3);
    }

    #[test]
    fn root_fields_glob() {
        let r = registry();
        assert_eq!(find(&r, r#"{".kind":"function.*"}"#).0.len(), 2);
        assert_eq!(
            find(&r, r#"{".kind":"*.lua"}"#).0,
            ["app.test:one", "app:svc"]
        );
        assert_eq!(find(&r, r#"{".id":"app.*:t*o"}"#).0, ["app.test:two"]);
        assert_eq!(find(&r, r#"{".ns":"app"}"#).0, ["app:svc"]);
        assert_eq!(find(&r, r#"{".name":"*n*"}"#).0, ["app.test:one"]);
        assert_eq!(find(&r, r#"{".name":"*"}"#).0.len(), 3);
    }

    #[test]
    fn meta_equality_and_tags() {
        let r = registry();
        assert_eq!(find(&r, r#"{"meta.type":"test"}"#).0.len(), 2);
        assert_eq!(
            find(&r, r#"{"meta.type":"test","meta.suite":"wasm"}"#).0,
            ["app.test:one"]
        );
        assert_eq!(find(&r, r#"{"meta.tags":["a","b"]}"#).0, ["app.test:one"]);
        assert_eq!(find(&r, r#"{"meta.tags":["b"]}"#).0.len(), 2);
        assert_eq!(find(&r, r#"{"meta.tags":"a"}"#).0, ["app.test:one"]);
        assert_eq!(find(&r, r#"{"meta.order":2}"#).0, ["app.test:one"]);
        assert_eq!(find(&r, r#"{"meta.command.name":"serve"}"#).0, ["app:svc"]);
    }

    #[test]
    fn meta_operators() {
        let r = registry();
        assert_eq!(find(&r, r#"{"~meta.suite":"^w.s"}"#).0, ["app.test:one"]);
        assert_eq!(find(&r, r#"{"*meta.comment":"TTP"}"#).0, ["app:svc"]);
        assert_eq!(find(&r, r#"{"^meta.suite":"lu"}"#).0, ["app.test:two"]);
        assert_eq!(find(&r, r#"{"$meta.suite":"sm"}"#).0, ["app.test:one"]);
        let (ids, res) = find(&r, r#"{"~meta.suite":"("}"#);
        assert!(ids.is_empty());
        assert_eq!(res.errors.len(), 1);
    }

    #[test]
    fn unprefixed_keys_are_ignored_and_reported() {
        let r = registry();
        let (ids, res) = find(&r, r#"{"kind":"nope","type":"x",".bogus":"y"}"#);
        assert_eq!(ids.len(), 3);
        assert_eq!(res.ignored_keys, ["kind", "type", ".bogus"]);
    }

    #[test]
    fn insert_get_replace_remove() {
        let r = registry();
        assert_eq!(r.len(), 3);
        assert!(r.get("app:svc").is_some());
        assert!(r.get("app:nope").is_none());
        r.insert(Entry::new(EntryId::parse("app:svc").unwrap(), "other"));
        assert_eq!(r.len(), 3);
        assert_eq!(r.get("app:svc").unwrap().kind, "other");
        assert!(r.remove("app:svc").is_some());
        assert_eq!(r.all().len(), 2);
    }

    #[test]
    fn glob_cases() {
        assert!(glob_match("abc", "abc"));
        assert!(!glob_match("abc", "abcd"));
        assert!(glob_match("a*", "abc"));
        assert!(glob_match("*c", "abc"));
        assert!(glob_match("a*c", "abc"));
        assert!(glob_match("a*c", "ac"));
        assert!(!glob_match("ab*bc", "abc"));
        assert!(glob_match("*b*", "abc"));
        assert!(glob_match("**", ""));
        assert!(!glob_match("", "x"));
    }
}

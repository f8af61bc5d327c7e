//! [`EntryId`]: the `namespace:name` id of a registry entry.

use std::fmt;
use std::sync::Arc;

use crate::Error;

/// A registry entry id, `namespace:name`, split at the first `:`.
///
/// Cheap to clone (one reference-counted string).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntryId {
    full: Arc<str>,
    colon: usize,
}

impl EntryId {
    /// Builds an id from its two parts.
    pub fn new(ns: &str, name: &str) -> EntryId {
        EntryId {
            full: format!("{ns}:{name}").into(),
            colon: ns.len(),
        }
    }

    /// Parses `ns:name`; both parts must be non-empty.
    pub fn parse(s: &str) -> Result<EntryId, Error> {
        if s.is_empty() {
            return Err(Error::invalid("function ID required"));
        }
        let Some(colon) = s.find(':') else {
            return Err(Error::invalid(format!(
                "namespace required in function ID: {s}"
            )));
        };
        if colon == 0 {
            return Err(Error::invalid(format!(
                "namespace required in function ID: {s}"
            )));
        }
        if colon + 1 == s.len() {
            return Err(Error::invalid(format!("name required in function ID: {s}")));
        }
        Ok(EntryId {
            full: s.into(),
            colon,
        })
    }

    /// Resolves a possibly bare reference against `ns`: `name` becomes `ns:name`.
    pub fn resolve(reference: &str, ns: &str) -> EntryId {
        match reference.find(':') {
            Some(colon) if colon > 0 => EntryId {
                full: reference.into(),
                colon,
            },
            _ => EntryId::new(ns, reference.trim_start_matches(':')),
        }
    }

    /// The namespace part.
    pub fn ns(&self) -> &str {
        &self.full[..self.colon]
    }

    /// The name part.
    pub fn name(&self) -> &str {
        &self.full[self.colon + 1..]
    }

    /// The whole id as a string.
    pub fn as_str(&self) -> &str {
        &self.full
    }
}

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full)
    }
}

impl fmt::Debug for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", &*self.full)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn splits_at_first_colon() {
        let id = EntryId::parse("wasi:cli/environment@0.2.3").unwrap();
        assert_eq!(id.ns(), "wasi");
        assert_eq!(id.name(), "cli/environment@0.2.3");
        assert_eq!(id.to_string(), "wasi:cli/environment@0.2.3");
    }

    #[test]
    fn rejects_missing_parts_with_reference_messages() {
        let e = EntryId::parse("").unwrap_err();
        assert_eq!(
            (e.kind(), e.message()),
            (ErrorKind::Invalid, "function ID required")
        );
        assert!(
            EntryId::parse("plain")
                .unwrap_err()
                .message()
                .starts_with("namespace required")
        );
        assert!(
            EntryId::parse(":x")
                .unwrap_err()
                .message()
                .starts_with("namespace required")
        );
        assert!(
            EntryId::parse("ns:")
                .unwrap_err()
                .message()
                .starts_with("name required")
        );
    }

    #[test]
    fn resolve_fills_in_the_namespace_of_bare_names() {
        assert_eq!(EntryId::resolve("greet", "app").as_str(), "app:greet");
        assert_eq!(
            EntryId::resolve("other:greet", "app").as_str(),
            "other:greet"
        );
    }
}

//! [`LoadError`] and [`LoadErrors`]: every problem of one load or boot, reported together.

use std::fmt;
use std::path::PathBuf;

use weft_core::EntryId;

use crate::entry::{EntryError, Source};

/// All problems of one load, reported together; `Display` prints one per line.
#[derive(Debug)]
pub struct LoadErrors(pub Vec<LoadError>);

/// One problem found while loading or booting an app.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A definition, config or lock file is not valid YAML (or JSON).
    #[error("{}{}: {message}", file.display(), location(*line, *column))]
    Yaml {
        /// The file, relative to the app root.
        file: PathBuf,
        /// The 1-based line, when known.
        line: Option<usize>,
        /// The 1-based column, when known.
        column: Option<usize>,
        /// The parser's message.
        message: String,
    },
    /// `.wippy.yaml` or `wippy.lock` is wrong.
    #[error("{}: {message}", file.display())]
    Config {
        /// The config or lock file, relative to the app root when inside it.
        file: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A problem about one entry (boxed: entry errors are large and cold).
    #[error("{0}")]
    Entry(Box<EntryError>),
    /// A problem about a file that names no entry (unreadable, missing namespace, bad shape).
    #[error("{}{}: {message}", file.display(), location(*line, None))]
    File {
        /// The file, relative to the app root.
        file: PathBuf,
        /// The 1-based line, when known.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// An override (config `override.*` key or CLI `-o`) that cannot be applied.
    #[error("override {key}: {message}")]
    Override {
        /// The override as written (`app:x:pool.size`).
        key: String,
        /// What is wrong.
        message: String,
    },
    /// An entry whose handler kept deferring it (NotFound) until no progress was possible.
    #[error("{0}")]
    Unresolved(Box<EntryError>),
    /// A change set that cannot be applied as a whole (the registry was not booted, a
    /// version is no longer kept).
    #[error("{message}")]
    Registry {
        /// What is wrong.
        message: String,
    },
    /// Entries whose kind no handler accepts.
    #[error("{}", unknown_kinds_text(entries))]
    UnknownKinds {
        /// Every entry of an unknown kind.
        entries: Vec<UnknownKind>,
    },
}

/// An entry of a kind no handler accepts.
#[derive(Clone, Debug)]
pub struct UnknownKind {
    /// The entry's id.
    pub id: EntryId,
    /// The unknown kind.
    pub kind: String,
    /// Where the entry was defined.
    pub source: Source,
}

impl From<EntryError> for LoadError {
    fn from(e: EntryError) -> Self {
        LoadError::Entry(Box::new(e))
    }
}

impl LoadErrors {
    /// True when no problem was collected.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The number of problems.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The problems, in the order they were found.
    pub fn iter(&self) -> std::slice::Iter<'_, LoadError> {
        self.0.iter()
    }
}

impl fmt::Display for LoadErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadErrors {}

impl From<LoadError> for LoadErrors {
    fn from(e: LoadError) -> Self {
        LoadErrors(vec![e])
    }
}

impl<'a> IntoIterator for &'a LoadErrors {
    type Item = &'a LoadError;
    type IntoIter = std::slice::Iter<'a, LoadError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// `:line:column`, `:line` or nothing.
fn location(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(":{l}:{c}"),
        (Some(l), None) => format!(":{l}"),
        _ => String::new(),
    }
}

/// The text of [`LoadError::UnknownKinds`]: a header, then one line per entry.
fn unknown_kinds_text(entries: &[UnknownKind]) -> String {
    let mut kinds: Vec<&str> = entries.iter().map(|u| u.kind.as_str()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    let mut text = format!(
        "no handler for entry kind(s) {} (pass --skip-unknown-kinds to load the rest):",
        kinds.join(", ")
    );
    for u in entries {
        text.push_str(&format!("\n  {}: entry {} ({})", u.source, u.id, u.kind));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_prints_one_problem_per_line() {
        let errs = LoadErrors(vec![
            LoadError::Yaml {
                file: "src/a.yaml".into(),
                line: Some(3),
                column: Some(5),
                message: "bad".into(),
            },
            LoadError::File {
                file: "src/b.yaml".into(),
                line: None,
                message: "missing namespace".into(),
            },
        ]);
        assert_eq!(
            errs.to_string(),
            "src/a.yaml:3:5: bad\nsrc/b.yaml: missing namespace"
        );
    }
}

//! `weft check`: load, validate and compile every entry without running any app code or
//! writing anything ([`BootMode::Check`]), and check every definition file against
//! the app schema (`weft schema`).
//!
//! What it finds are [`Problem`]s: the load's errors (which fail the check: exit 1) and
//! warnings (the schema's, the load's own such as duplicates), each with the file, line,
//! column, entry, kind and field it is about when known. `--format text` prints them for
//! people (the errors as every other command does, the load's warnings in the log);
//! `--format json` prints them all as one JSON array on stdout for tools, `null` where a
//! part is unknown.
//!
//! Columns: weft's own errors carry a file and a line (the entry's) and a field; the
//! column, and the line of the field itself, come from reading the file again with a
//! parser that keeps positions (`schema::Positions`), as for the schema's warnings.
//! A schema warning about a field weft already rejected with an error is dropped: the
//! error says it with weft's own words.

use std::cell::OnceCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use weft_core::{BoundedRead, MAX_TEXT_FILE_BYTES};
use weft_registry::{
    BootMode, BootOptions, DefinitionFile, EntryError, LoadError, LoadErrors, LoadOptions,
    definition_files,
};

use crate::diag;
use crate::schema::{self, Positions};

/// After `weft check --help`.
pub(crate) const EXAMPLES: &str = "\
Examples:
  weft check                          every problem of the app in the current directory
  weft -C my-app check --format json  the problems as a JSON array, for editors and CI

Errors fail the check (exit 1); schema warnings (`weft schema`) do not.";

/// How `weft check` reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// For people: problems on stderr, a summary on stdout.
    #[default]
    Text,
    /// For tools: a JSON array of problems on stdout.
    Json,
}

/// One problem of a check, as `--format json` prints it.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Problem {
    /// An error fails the check; a warning does not.
    pub severity: Severity,
    /// The file, as shown in messages (relative to the app root when inside it).
    pub file: Option<String>,
    /// The 1-based line.
    pub line: Option<usize>,
    /// The 1-based column (in characters).
    pub column: Option<usize>,
    /// The entry's id.
    pub entry: Option<String>,
    /// The entry's kind.
    pub kind: Option<String>,
    /// The field (`pool.size`, `wasi.env[0].name`).
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

/// How bad a [`Problem`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Severity {
    /// It fails the check.
    Error,
    /// It does not.
    Warning,
}

/// The app's definition files, read once, with their positions parsed when asked for.
struct Files {
    /// Each file by the path messages show.
    by_shown: HashMap<PathBuf, Source>,
    /// The shown paths, in the loader's order.
    order: Vec<PathBuf>,
}

/// One definition file, read.
struct Source {
    /// Where it is.
    file: DefinitionFile,
    /// Its text (`None`: unreadable, which the loader reports).
    text: Option<String>,
    /// Where things are in it, parsed on first use (`None`: it does not parse).
    positions: OnceCell<Option<Positions>>,
}

/// `weft check`; returns the exit code (0: the app loads, 1: it does not).
pub(crate) async fn run(opts: &LoadOptions, skip_unknown_kinds: bool, format: Format) -> i32 {
    let files = Files::read(opts);
    let mut warnings = files.schema_warnings();
    let boot_opts = BootOptions {
        skip_unknown_kinds,
        mode: BootMode::Check,
    };
    let progress = crate::progress::BootProgress::start();
    let booted = weft::boot_app_with(opts, &boot_opts, progress.hook()).await;
    progress.finish();
    let (errors, summary) = match &booted {
        Ok(booted) => {
            for warning in &booted.warnings {
                // Logged as every boot logs them; the JSON report carries them.
                match format {
                    Format::Text => tracing::warn!("{warning}"),
                    Format::Json => warnings.push(Problem::warning(warning.clone())),
                }
            }
            let rt = &booted.runtime;
            let summary = format!(
                "ok: {} entries, {} functions, {} commands",
                rt.registry.len(),
                rt.functions.ids().len(),
                weft_runtime::commands(&rt.registry).len()
            );
            (Vec::new(), summary)
        }
        Err(errors) => (files.problems(errors), String::new()),
    };
    warnings.retain(|w| !errors.iter().any(|e| e.covers(w)));
    match format {
        Format::Text => {
            for w in &warnings {
                eprintln!("warning: {}", diag::one_line(&w.text()));
            }
            match &booted {
                Ok(_) => {
                    println!("{summary}");
                    0
                }
                Err(errors) => diag::report(errors),
            }
        }
        Format::Json => {
            let code = if errors.is_empty() { 0 } else { 1 };
            let problems: Vec<Problem> = errors.into_iter().chain(warnings).collect();
            match serde_json::to_string_pretty(&problems) {
                Ok(text) => {
                    println!("{}", diag::json(&text));
                    code
                }
                Err(e) => {
                    diag::error(format_args!("cannot write the problems as JSON: {e}"));
                    1
                }
            }
        }
    }
}

impl Problem {
    /// A warning about no particular place.
    pub(crate) fn warning(message: String) -> Problem {
        Problem {
            severity: Severity::Warning,
            file: None,
            line: None,
            column: None,
            entry: None,
            kind: None,
            field: None,
            message,
        }
    }

    /// An error with what `LoadError` said and nothing else known yet.
    fn error(message: String) -> Problem {
        Problem {
            severity: Severity::Error,
            ..Problem::warning(message)
        }
    }

    /// The same problem saying `message`.
    fn with_message(self, message: String) -> Problem {
        Problem { message, ..self }
    }

    /// Whether this error already says what `warning` says: the same field of the same
    /// entry, or a field inside it.
    fn covers(&self, warning: &Problem) -> bool {
        let (Some(field), Some(other)) = (&self.field, &warning.field) else {
            return false;
        };
        self.entry.is_some()
            && self.file == warning.file
            && self.entry == warning.entry
            && other
                .strip_prefix(field.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
    }

    /// As one line for people: `file:line:column: entry id (kind): field f: message`.
    fn text(&self) -> String {
        let mut text = String::new();
        if let Some(file) = &self.file {
            text.push_str(file);
            for n in [self.line, self.column].into_iter().map_while(|n| n) {
                text.push_str(&format!(":{n}"));
            }
            text.push_str(": ");
        }
        if let Some(entry) = &self.entry {
            text.push_str(&format!("entry {entry}"));
            if let Some(kind) = &self.kind {
                text.push_str(&format!(" ({kind})"));
            }
            text.push_str(": ");
        }
        if let Some(field) = &self.field {
            text.push_str(&format!("field {field}: "));
        }
        text.push_str(&self.message);
        text
    }
}

impl Files {
    /// Reads every definition file of the app (a file that cannot be read is left to the
    /// loader to report).
    fn read(opts: &LoadOptions) -> Files {
        let mut by_shown = HashMap::new();
        let mut order = Vec::new();
        for file in definition_files(opts) {
            let text = BoundedRead::new(MAX_TEXT_FILE_BYTES)
                .within(&file.load_root)
                .text(&file.path)
                .ok();
            order.push(file.shown.clone());
            let source = Source {
                file,
                text,
                positions: OnceCell::new(),
            };
            by_shown.insert(source.file.shown.clone(), source);
        }
        Files { by_shown, order }
    }

    /// The schema's warnings about every file, in the loader's order.
    fn schema_warnings(&self) -> Vec<Problem> {
        let mut warnings = Vec::new();
        for shown in &self.order {
            let Some(Source {
                file,
                text: Some(text),
                ..
            }) = self.by_shown.get(shown)
            else {
                continue;
            };
            warnings.extend(schema::check_file(file, text, || self.positions(shown)));
        }
        warnings
    }

    /// The positions of the file shown as `shown`, parsed on first use.
    fn positions(&self, shown: &Path) -> Option<&Positions> {
        let source = self.by_shown.get(shown)?;
        source
            .positions
            .get_or_init(|| source.text.as_deref().and_then(Positions::parse))
            .as_ref()
    }

    /// The problems of a failed load, placed in their files.
    fn problems(&self, errors: &LoadErrors) -> Vec<Problem> {
        let mut problems = Vec::new();
        for error in errors {
            match error {
                LoadError::Yaml {
                    file,
                    line,
                    column,
                    message,
                } => problems.push(Problem {
                    file: Some(file.display().to_string()),
                    line: *line,
                    column: *column,
                    ..Problem::error(message.clone())
                }),
                LoadError::Config { file, message } => problems.push(Problem {
                    file: Some(file.display().to_string()),
                    ..Problem::error(message.clone())
                }),
                LoadError::File {
                    file,
                    line,
                    message,
                } => problems.push(Problem {
                    file: Some(file.display().to_string()),
                    line: *line,
                    ..Problem::error(message.clone())
                }),
                LoadError::Entry(e) | LoadError::Unresolved(e) => {
                    problems.push(self.entry_problem(e))
                }
                LoadError::UnknownKinds { entries } => {
                    problems.extend(entries.iter().map(|u| {
                        let place = self.place(&u.source.file, u.id.name(), u.source.line, None);
                        Problem {
                            entry: Some(u.id.to_string()),
                            kind: Some(u.kind.clone()),
                            ..place.unwrap_or_else(|| Problem {
                                file: shown_file(&u.source.file),
                                line: u.source.line,
                                ..Problem::error(String::new())
                            })
                        }
                        .with_message(format!(
                            "no handler for entry kind {} (pass --skip-unknown-kinds to load the rest)",
                            u.kind
                        ))
                    }));
                }
                // Overrides, change sets and anything newer: the message alone.
                #[allow(unreachable_patterns)]
                other => problems.push(Problem::error(other.to_string())),
            }
        }
        problems
    }

    /// The problem of an entry error: placed at its field when the file says where.
    fn entry_problem(&self, e: &EntryError) -> Problem {
        let placed = self.place(
            &e.source.file,
            e.id.name(),
            e.source.line,
            e.field.as_deref(),
        );
        let problem = placed.unwrap_or_else(|| Problem {
            file: shown_file(&e.source.file),
            line: e.source.line,
            ..Problem::error(String::new())
        });
        Problem {
            entry: Some(e.id.to_string()),
            kind: (!e.kind.is_empty()).then(|| e.kind.clone()),
            field: e.field.clone(),
            ..problem
        }
        .with_message(e.error.to_string())
    }

    /// An error placed at the entry `name` defined at `line` of `file` (at its `field`
    /// when given); `None` when the file has no positions.
    fn place(
        &self,
        file: &Path,
        name: &str,
        line: Option<usize>,
        field: Option<&str>,
    ) -> Option<Problem> {
        let entry = self.positions(file)?.entry(name, line)?;
        let at = match field {
            Some(field) => entry.field(field),
            None => entry.at(),
        };
        Some(Problem {
            file: shown_file(file),
            line: Some(at.line),
            column: Some(at.column),
            ..Problem::error(String::new())
        })
    }
}

/// A source file as a problem shows it (`None` for an entry made by no file).
fn shown_file(file: &Path) -> Option<String> {
    (!file.as_os_str().is_empty()).then(|| file.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn warning(entry: &str, field: &str) -> Problem {
        Problem {
            file: Some("src/a.yaml".into()),
            entry: Some(entry.into()),
            field: Some(field.into()),
            ..Problem::warning("w".into())
        }
    }

    #[test]
    fn an_error_covers_warnings_on_its_field_and_inside_it() {
        let error = Problem {
            severity: Severity::Error,
            ..warning("app:f", "pool")
        };
        assert!(error.covers(&warning("app:f", "pool")));
        assert!(error.covers(&warning("app:f", "pool.size")));
        assert!(!error.covers(&warning("app:f", "pools")));
        assert!(!error.covers(&warning("app:g", "pool")));
        let whole_entry = Problem {
            field: None,
            ..error.clone()
        };
        assert!(!whole_entry.covers(&warning("app:f", "pool")));
    }

    #[test]
    fn text_leaves_out_what_is_unknown() {
        let w = Problem {
            line: Some(3),
            column: Some(5),
            kind: Some("function.lua".into()),
            ..warning("app:f", "pool.size")
        };
        assert_eq!(
            w.text(),
            "src/a.yaml:3:5: entry app:f (function.lua): field pool.size: w"
        );
        assert_eq!(Problem::warning("dup".into()).text(), "dup");
    }
}

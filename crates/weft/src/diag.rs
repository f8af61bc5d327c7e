//! Diagnostics for people, made safe for a terminal: the one place where what weft says
//! about problems is rendered, so that text from an app (entry names, field values, file
//! contents quoted in an error, a Lua error message) never reaches the terminal raw.
//!
//! The rule, for everything printed here, the error of a failed command (through the
//! terminal's diagnostics hook) and every log line:
//! - a character that can drive a terminal or reorder what it shows is written escaped,
//!   in Rust's form (`\u{1b}`, `\r`, `\t`, `\u{9b}`, `\u{202e}`): C0 and C1 control
//!   characters, DEL, and the Unicode bidirectional controls. Values that errors quote
//!   (`{:?}`) already come escaped the same way, newlines included.
//! - a newline is kept between problems, and inside one problem (a Lua traceback, a wasm
//!   backtrace) too, but a load problem's further lines are indented under it, so no app
//!   text can pass for a problem or an `error:` line of its own.
//! - a log line is one event: its message and fields have their newlines escaped too.

use std::borrow::Cow;
use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::{FormatFields, Writer};
use weft_registry::LoadErrors;

/// Prints every load problem, one per line (its further lines indented under it), and
/// returns exit code 1.
pub(crate) fn report(errors: &LoadErrors) -> i32 {
    let n = errors.len();
    eprintln!(
        "error: the app failed to load ({n} problem{}):",
        if n == 1 { "" } else { "s" }
    );
    for e in errors.iter() {
        eprintln!("  {}", indented(&e.to_string(), "    "));
    }
    1
}

/// Prints why a reload of `weft run --watch` was not applied, every problem on its own
/// line, and that `version` keeps running.
pub(crate) fn rejected(what: &str, version: u64, errors: &LoadErrors) {
    let n = errors.len();
    eprintln!(
        "watch: {what} ({n} problem{}); version {version} keeps running:",
        if n == 1 { "" } else { "s" }
    );
    for e in errors.iter() {
        eprintln!("  {}", indented(&e.to_string(), "    "));
    }
}

/// Prints `error: <e>`, its further lines indented under it.
pub(crate) fn error(e: impl fmt::Display) {
    eprintln!("error: {}", indented(&e.to_string(), "  "));
}

/// The terminal's diagnostics hook: a failed command's error, escaped, its lines kept.
pub(crate) fn command_error(text: &str) -> String {
    escape(text, Newlines::Keep).into_owned()
}

/// `text` escaped for one line (a command's name or description, a log field).
pub(crate) fn one_line(text: &str) -> Cow<'_, str> {
    escape(text, Newlines::Escape)
}

/// JSON text made as safe: every character that can drive a terminal (they only occur
/// inside JSON strings; serde_json leaves DEL, C1 and the bidirectional controls raw) as
/// a JSON `\uXXXX` escape, so the text stays valid JSON.
pub(crate) fn json(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| is_unsafe(c) && c != '\n') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_unsafe(c) && c != '\n' {
            // Every unsafe character is in the Basic Multilingual Plane: one escape.
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `text` escaped, each line after the first starting with `indent`.
fn indented(text: &str, indent: &str) -> String {
    escape(text, Newlines::Keep).replace('\n', &format!("\n{indent}"))
}

/// What [`escape`] does with a newline.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Newlines {
    /// Written as it is.
    Keep,
    /// Written as `\n`.
    Escape,
}

/// `text` with every character that can drive a terminal written escaped (the module
/// docs say which); borrowed when there is none.
fn escape(text: &str, newlines: Newlines) -> Cow<'_, str> {
    let unsafe_char = |c: char| is_unsafe(c) && !(c == '\n' && newlines == Newlines::Keep);
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if unsafe_char(c) {
            // Writing to a String cannot fail.
            let _ = write!(out, "{}", c.escape_debug());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A control character (C0, DEL, C1) or a Unicode bidirectional control (which makes a
/// terminal show text in another order than it was written).
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// The log's field formatter: the message, then `name=value` per field, each escaped
/// for one line ([`one_line`]). tracing-subscriber's own formatter escapes only some
/// characters of the message (ESC, BEL, BS, FF, DEL, C1) and none of a `%`-field.
pub(crate) struct LogFields;

impl<'w> FormatFields<'w> for LogFields {
    fn format_fields<R: RecordFields>(&self, writer: Writer<'w>, fields: R) -> fmt::Result {
        let mut visitor = LogVisitor {
            writer,
            first: true,
            result: Ok(()),
        };
        fields.record(&mut visitor);
        visitor.result
    }
}

/// Writes the fields of one event or span.
struct LogVisitor<'w> {
    writer: Writer<'w>,
    first: bool,
    result: fmt::Result,
}

impl Visit for LogVisitor<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.result.is_err() {
            return;
        }
        // The message is `format_args!`, whose Debug form is its text.
        let text = format!("{value:?}");
        let sep = if self.first { "" } else { " " };
        self.first = false;
        self.result = match field.name() {
            "message" => write!(self.writer, "{sep}{}", one_line(&text)),
            name => write!(self.writer, "{sep}{name}={}", one_line(&text)),
        };
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;

    #[test]
    fn control_and_bidi_characters_are_escaped_newlines_as_asked() {
        let text = "a\u{1b}[31mb\rc\td\u{7f}\u{9b}2J\u{202e}e\nf";
        assert_eq!(
            escape(text, Newlines::Keep),
            "a\\u{1b}[31mb\\rc\\td\\u{7f}\\u{9b}2J\\u{202e}e\nf"
        );
        assert_eq!(
            one_line(text),
            "a\\u{1b}[31mb\\rc\\td\\u{7f}\\u{9b}2J\\u{202e}e\\nf"
        );
        assert!(matches!(
            escape("plain ü → ✓", Newlines::Escape),
            Cow::Borrowed(_)
        ));
        assert_eq!(
            indented("first\nsecond\u{1b}", "    "),
            "first\n    second\\u{1b}"
        );
    }

    /// A log writer into a shared buffer.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn log_lines_carry_no_control_character_from_their_message_or_fields() {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .without_time()
            .with_target(false)
            .fmt_fields(LogFields)
            .finish();
        let id = "app:x\u{1b}[2J";
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(service = %id, name = id, "exited\r\u{1b}[31mforged\nline");
        });
        let out = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        assert_eq!(
            out,
            " WARN exited\\r\\u{1b}[31mforged\\nline service=app:x\\u{1b}[2J \
             name=\"app:x\\u{1b}[2J\"\n"
        );
    }
}

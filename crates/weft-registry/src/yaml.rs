//! Parsing YAML and JSON text into [`Value`]s, with the error location kept.

use std::path::Path;

use weft_core::Value;

use crate::error::LoadError;

/// How deeply collections may nest in a YAML file. The parser needs time quadratic in
/// the depth, so deeper files are refused by a linear scan before it runs (serde's own
/// recursion limit would refuse them anyway, only after the parser's quadratic work).
const MAX_NESTING: usize = 1000;

/// Parses YAML text; errors carry the file, line and column.
pub(crate) fn parse(text: &str, shown: &Path) -> Result<Value, LoadError> {
    if let Some((line, column)) = too_deep(text, MAX_NESTING) {
        return Err(LoadError::Yaml {
            file: shown.to_path_buf(),
            line: Some(line),
            column: Some(column),
            message: format!("invalid YAML: collections nest deeper than {MAX_NESTING} levels"),
        });
    }
    serde_yaml_ng::from_str::<Value>(text).map_err(|e| {
        let location = e.location();
        let line = location.as_ref().map(|l| l.line());
        let column = location.as_ref().map(|l| l.column());
        let mut message = e.to_string();
        if let (Some(l), Some(c)) = (line, column) {
            let at = format!(" at line {l} column {c}");
            if let Some(pos) = message.find(&at) {
                message.replace_range(pos..pos + at.len(), "");
            }
        }
        LoadError::Yaml {
            file: shown.to_path_buf(),
            line,
            column,
            message: format!("invalid YAML: {message}"),
        }
    })
}

/// Where (1-based line and column) `text` first nests more than `max` levels: flow
/// brackets (`[`, `{`) outside quoted scalars and comments, plus the block sequence
/// entries (`- - - x`) that open a line. Linear in the text. A quote opens a scalar only
/// where one can start (after a space or `[{,:`), as in YAML, so `it's` opens nothing.
/// The Lua `yaml` module runs it too, before parsing untrusted text.
pub fn too_deep(text: &str, max: usize) -> Option<(usize, usize)> {
    let mut flow = 0usize;
    for (n, line) in text.lines().enumerate() {
        let mut block = 0usize;
        let mut rest = line.trim_start();
        while let Some(after) = rest.strip_prefix("- ").or_else(|| rest.strip_prefix("-\t")) {
            block += 1;
            rest = after.trim_start();
        }
        if block > max {
            return Some((n + 1, 1));
        }
        let mut quote: Option<char> = None;
        let mut escaped = false;
        let mut previous = ' ';
        let mut chars = line.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match quote {
                Some('"') if escaped => escaped = false,
                Some('"') if c == '\\' => escaped = true,
                Some('\'') if c == '\'' && chars.peek().is_some_and(|&(_, n)| n == '\'') => {
                    chars.next();
                }
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None => match c {
                    '"' | '\'' if previous.is_whitespace() || "[{,:".contains(previous) => {
                        quote = Some(c);
                    }
                    '#' if previous.is_whitespace() => break,
                    '[' | '{' => flow += 1,
                    ']' | '}' => flow = flow.saturating_sub(1),
                    _ => {}
                },
            }
            if flow + block > max {
                return Some((n + 1, i + 1));
            }
            previous = c;
        }
    }
    None
}

/// Parses JSON text; errors carry the file, line and column.
pub(crate) fn parse_json(text: &str, shown: &Path) -> Result<Value, LoadError> {
    serde_json::from_str::<Value>(text).map_err(|e| {
        let (line, column) = (e.line(), e.column());
        let mut message = e.to_string();
        let at = format!(" at line {line} column {column}");
        if let Some(pos) = message.find(&at) {
            message.replace_range(pos..pos + at.len(), "");
        }
        LoadError::Yaml {
            file: shown.to_path_buf(),
            line: (line > 0).then_some(line),
            column: (line > 0).then_some(column),
            message: format!("invalid JSON: {message}"),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_errors_keep_location_out_of_the_message() {
        let e = parse("a: 1\nb: [1, 2\nc: 3\n", Path::new("x.yaml")).unwrap_err();
        let LoadError::Yaml {
            line,
            column,
            message,
            ..
        } = &e
        else {
            panic!("{e:?}")
        };
        assert!(line.is_some() && column.is_some());
        assert!(message.starts_with("invalid YAML: "), "{message}");
        let text = e.to_string();
        assert!(text.starts_with("x.yaml:"), "{text}");
    }

    #[test]
    fn deep_nesting_is_refused_before_parsing() {
        for text in [
            "a: ".to_string() + &"[".repeat(200_000),
            "a: ".to_string() + &"{x: ".repeat(200_000),
            "- ".repeat(200_000) + "x",
        ] {
            let e = parse(&text, Path::new("deep.yaml")).unwrap_err();
            let LoadError::Yaml { line, message, .. } = &e else {
                panic!("{e:?}")
            };
            assert_eq!(*line, Some(1));
            assert!(message.contains("deeper than 1000 levels"), "{message}");
        }
        // Brackets inside quotes and comments do not count; ordinary files pass.
        let quoted = format!(
            "a: \"{}\"\nb: '{}' # {}\nc: [1, [2, {{d: 3}}]]\n",
            "[".repeat(5000),
            "{".repeat(5000),
            "[".repeat(5000)
        );
        assert!(parse(&quoted, Path::new("ok.yaml")).is_ok());
        // An apostrophe inside a plain scalar opens no quote: the nesting after it counts.
        let hidden = "a: [it's, ".to_string() + &"[".repeat(200_000);
        assert!(too_deep(&hidden, MAX_NESTING).is_some());
        let escapes = "a: \"x\\\" [\"\nb: 'it''s [' \nc: [1]\n";
        assert_eq!(too_deep(escapes, MAX_NESTING), None);
        assert!(parse(escapes, Path::new("esc.yaml")).is_ok());
    }

    #[test]
    fn json_errors_have_line_and_column() {
        let e = parse_json("{\n  \"a\": ,\n}", Path::new("x.json")).unwrap_err();
        assert!(matches!(e, LoadError::Yaml { line: Some(2), .. }), "{e:?}");
    }
}

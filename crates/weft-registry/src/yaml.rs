//! Parsing YAML and JSON text into [`Value`]s, with the error location kept.

use std::path::Path;

use weft_core::Value;

use crate::error::LoadError;

/// Parses YAML text; errors carry the file, line and column.
pub(crate) fn parse(text: &str, shown: &Path) -> Result<Value, LoadError> {
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
    fn json_errors_have_line_and_column() {
        let e = parse_json("{\n  \"a\": ,\n}", Path::new("x.json")).unwrap_err();
        assert!(matches!(e, LoadError::Yaml { line: Some(2), .. }), "{e:?}");
    }
}

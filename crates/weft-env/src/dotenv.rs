//! The `.env` format: `KEY=value` lines, `#` comment lines, blank lines, an optional
//! `export ` prefix; `"…"` values take `\n \r \t \" \\` escapes, `'…'` values are
//! literal, an unquoted value ends at ` #`. Writing one key keeps every other line.

use std::collections::HashMap;

use weft_core::{Error, Result};

/// Parses `.env` text; lines that are not `KEY=value` are ignored, a later key wins.
pub(crate) fn parse_dotenv(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(parse_line)
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}

/// The key and value of one `.env` line.
fn parse_line(line: &str) -> Option<(&str, String)> {
    let (_, key, raw) = split_line(line)?;
    Some((key, parse_value(raw)))
}

/// Whether an assignment line has the `export ` prefix, its key and its raw value text.
fn split_line(line: &str) -> Option<(bool, &str, &str)> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let unexported = line
        .strip_prefix("export")
        .filter(|rest| rest.starts_with([' ', '\t']))
        .map(str::trim_start);
    let (key, raw) = unexported.unwrap_or(line).split_once('=')?;
    let key = key.trim();
    if key.is_empty() {
        return None;
    }
    Some((unexported.is_some(), key, raw.trim_start()))
}

/// A value: `"..."` with `\n \r \t \" \\` escapes, `'...'` literally, else the text up to
/// a ` #` comment, trimmed.
fn parse_value(raw: &str) -> String {
    if let Some(rest) = raw.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = rest.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => return out,
                '\\' => match chars.next() {
                    Some('n') => out.push('\n'),
                    Some('r') => out.push('\r'),
                    Some('t') => out.push('\t'),
                    Some(other) => out.push(other),
                    None => out.push('\\'),
                },
                c => out.push(c),
            }
        }
        // No closing quote: the text as written.
        return raw.trim_end().to_string();
    }
    if let Some(rest) = raw.strip_prefix('\'')
        && let Some(end) = rest.find('\'')
    {
        return rest[..end].to_string();
    }
    let cut = raw
        .char_indices()
        .find(|&(i, c)| c == '#' && i > 0 && raw[..i].ends_with([' ', '\t']))
        .map_or(raw.len(), |(i, _)| i);
    raw[..cut].trim_end().to_string()
}

/// `value` as `.env` text: bare when it is plain, else double-quoted with escapes.
fn format_value(value: &str) -> String {
    let plain = !value.is_empty()
        && !value
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '#' | '"' | '\'' | '\\'));
    if plain {
        return value.to_string();
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `text` with `key` set to `value`: its first line is replaced (keeping an `export `
/// prefix), later lines of the key dropped, or a line appended; other lines are kept.
pub(crate) fn rewrite_dotenv(text: &str, key: &str, value: &str) -> String {
    let mut out = String::with_capacity(text.len() + key.len() + value.len() + 2);
    let mut done = false;
    for line in text.lines() {
        match split_line(line) {
            Some((exported, k, _)) if k == key => {
                if !done {
                    let export = if exported { "export " } else { "" };
                    out.push_str(&format!("{export}{key}={}\n", format_value(value)));
                    done = true;
                }
            }
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    if !done {
        out.push_str(&format!("{key}={}\n", format_value(value)));
    }
    out
}

/// Keys a `.env` line can hold.
pub(crate) fn check_file_key(key: &str) -> Result<()> {
    if key.is_empty()
        || key.starts_with('#')
        || key
            .chars()
            .any(|c| c == '=' || c.is_whitespace() || c.is_control())
    {
        return Err(Error::invalid(format!(
            "{key:?} cannot be a key of a .env file (no spaces, '=' or control characters, no leading '#')"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotenv_parsing_handles_comments_quotes_and_export() {
        let text = "# a comment\n\n  export A=1\nB = two words # trailing comment\nC=\"quoted # not a comment\\n\\\"x\\\"\"\nD='single $x \\n'\nE=\nF=url#frag\nexportG=3\nnot a line\n=novalue\nA=last wins\nH=\"unterminated\n";
        let v = parse_dotenv(text);
        let get = |k: &str| v.get(k).map(String::as_str);
        assert_eq!(get("A"), Some("last wins"));
        assert_eq!(get("B"), Some("two words"));
        assert_eq!(get("C"), Some("quoted # not a comment\n\"x\""));
        assert_eq!(get("D"), Some("single $x \\n"));
        assert_eq!(get("E"), Some(""));
        assert_eq!(get("F"), Some("url#frag"));
        assert_eq!(get("exportG"), Some("3"));
        assert_eq!(get("H"), Some("\"unterminated"));
        assert_eq!(v.len(), 8, "{v:?}");
    }

    #[test]
    fn rewrite_keeps_export_prefixes_only_where_they_were() {
        let text = "export A=1\nexporter=2\nexport=3\n";
        let text = rewrite_dotenv(text, "A", "x");
        let text = rewrite_dotenv(&text, "exporter", "y");
        let text = rewrite_dotenv(&text, "export", "z");
        assert_eq!(text, "export A=x\nexporter=y\nexport=z\n");
    }

    #[test]
    fn dotenv_values_round_trip_through_rewrite() {
        for value in [
            "plain",
            "",
            "two words",
            "a#b",
            "quote\"s",
            "back\\slash",
            "line\nbreak\ttab\r",
            "'single'",
            "ünïcode",
        ] {
            let text = rewrite_dotenv("", "K", value);
            assert_eq!(
                parse_dotenv(&text).get("K").map(String::as_str),
                Some(value),
                "{text:?}"
            );
        }
    }
}

//! Rewriting one entry's `hash:` in its definition file, keeping every other byte.
//!
//! The entry is found by the line the loader recorded for it (`Entry.source.line`: its
//! `- ` list item, or its `name:` line), then its keys by indentation: a key of the
//! entry is a `key:` line at the column of the entry's first key (or, when the entry
//! puts its data under `data:`, at the column of that block's keys). Only the value of
//! `hash:` is replaced, in the quotes it had, keeping a comment after it; an entry
//! without `hash:` gets one on the line after its `path:` value, at the same column.
//! Flow style (`{name: x, …}`) is not rewritten: the caller says what to write by hand.

/// A change to one line of a file.
#[derive(Debug)]
pub(super) struct Edit {
    /// The 0-based line.
    line: usize,
    /// Replace it, or insert after it.
    action: Action,
}

/// What an [`Edit`] does.
#[derive(Debug)]
enum Action {
    /// The line becomes this (its line ending included).
    Replace(String),
    /// This line (without a line ending) goes after the line.
    InsertAfter(String),
}

/// The keys of one mapping: the lines it spans and the column of its keys.
#[derive(Clone, Copy, Debug)]
struct Block {
    /// The first line (for an entry, its `- ` line).
    first: usize,
    /// One past the last line.
    end: usize,
    /// The column its keys start at.
    column: usize,
}

/// The edit that sets the `hash:` of the entry at `line` (1-based) of `text` to `hash`.
pub(super) fn set_hash(text: &str, line: usize, hash: &str) -> Result<Edit, String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let index = line
        .checked_sub(1)
        .filter(|&i| i < lines.len())
        .ok_or_else(|| format!("line {line} is past the end of the file"))?;
    let entry = entry_block(&lines, index).ok_or_else(|| {
        "the entry is not a block mapping (flow style `{…}` or an unusual layout)".to_string()
    })?;
    let data = match find_key(&lines, entry, "data") {
        Some(at) => {
            if !value_of(&lines, at, entry.column).is_empty() {
                return Err("its `data:` is not a block mapping".into());
            }
            child_block(&lines, at, entry)
                .ok_or_else(|| "its `data:` has no keys under it".to_string())?
        }
        None => entry,
    };
    if let Some(at) = find_key(&lines, data, "hash") {
        let continued = next_content_line(&lines, at + 1)
            .is_some_and(|next| next < data.end && indent(content(lines[next])) > data.column);
        if continued {
            return Err("its `hash:` value goes on over more lines".into());
        }
        let new_line = replace_value(lines[at], data, hash)?;
        return Ok(Edit {
            line: at,
            action: Action::Replace(new_line),
        });
    }
    let path =
        find_key(&lines, data, "path").ok_or_else(|| "it has no `path:` line".to_string())?;
    // After the path's value, which may go on over more indented lines.
    let mut after = path;
    while after + 1 < data.end {
        let next = content(lines[after + 1]);
        if next.trim().is_empty() || indent(next) <= data.column {
            break;
        }
        after += 1;
    }
    Ok(Edit {
        line: after,
        action: Action::InsertAfter(format!("{}hash: {hash}", " ".repeat(data.column))),
    })
}

/// `text` with `edits` applied (each made against `text`, at most one per line).
pub(super) fn apply(text: &str, mut edits: Vec<Edit>) -> String {
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
    let file_newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    // From the bottom up, so that the line numbers of the edits left stay right.
    edits.sort_by_key(|edit| std::cmp::Reverse(edit.line));
    for edit in edits {
        match edit.action {
            Action::Replace(line) => lines[edit.line] = line,
            Action::InsertAfter(mut line) => {
                let before = &mut lines[edit.line];
                if before.ends_with("\r\n") {
                    line.push_str("\r\n");
                } else if before.ends_with('\n') {
                    line.push('\n');
                } else {
                    // The last line of a file without a final newline.
                    before.push_str(file_newline);
                }
                lines.insert(edit.line + 1, line);
            }
        }
    }
    lines.concat()
}

/// The block of the entry whose `- ` item (or `name:` key) is at `index`.
fn entry_block(lines: &[&str], index: usize) -> Option<Block> {
    let line = content(lines[index]);
    let start = indent(line);
    // The `- ` line, its indent, and the line and column of the entry's first key.
    let (first, item_indent, key_line, column) = if let Some(body) = item_body(&line[start..]) {
        if body.is_empty() {
            // `-` alone: the keys start on the next line.
            let next = next_content_line(lines, index + 1)?;
            (index, start, next, indent(content(lines[next])))
        } else {
            (index, start, index, line.len() - body.len())
        }
    } else if start == 0 {
        // The single-entry form: the whole file is the entry.
        return Some(Block {
            first: 0,
            end: lines.len(),
            column: 0,
        });
    } else {
        // A `name:` line under a `- ` item that starts with another key.
        let dash = (0..index).rev().find(|&i| {
            let l = content(lines[i]);
            !is_blank_or_comment(l) && indent(l) < start
        })?;
        let l = content(lines[dash]);
        let body = item_body(&l[indent(l)..])?;
        if l.len() - body.len() != start {
            return None;
        }
        (dash, indent(l), dash, start)
    };
    if content(lines[key_line])
        .get(column..)
        .is_none_or(|keys| keys.starts_with(['{', '[']))
    {
        return None;
    }
    let end = (first + 1..lines.len())
        .find(|&i| {
            let l = content(lines[i]);
            !is_blank_or_comment(l) && (indent(l) <= item_indent || l.starts_with("---"))
        })
        .unwrap_or(lines.len());
    Some(Block { first, end, column })
}

/// The keys under the key at line `at` of `parent`: the more indented lines after it.
fn child_block(lines: &[&str], at: usize, parent: Block) -> Option<Block> {
    let first = next_content_line(lines, at + 1).filter(|&i| i < parent.end)?;
    let column = indent(content(lines[first]));
    if column <= parent.column {
        return None;
    }
    let end = (first..parent.end)
        .find(|&i| {
            let l = content(lines[i]);
            !is_blank_or_comment(l) && indent(l) < column
        })
        .unwrap_or(parent.end);
    Some(Block { first, end, column })
}

/// The line of `key:` among the keys of `block`.
fn find_key(lines: &[&str], block: Block, key: &str) -> Option<usize> {
    (block.first..block.end).find(|&i| {
        let line = content(lines[i]);
        let at_column = if i == block.first {
            line.len() >= block.column
        } else {
            indent(line) == block.column
        };
        at_column && line.get(block.column..).and_then(key_of) == Some(key)
    })
}

/// The value after the key on line `at` (the key at `column`), a comment dropped.
fn value_of<'t>(lines: &[&'t str], at: usize, column: usize) -> &'t str {
    let after_key = content(lines[at]).get(column..).unwrap_or("");
    let value = after_key.split_once(':').map_or("", |(_, v)| v).trim();
    if value.starts_with('#') { "" } else { value }
}

/// `line` (a `hash: <value>` line at `block.column`) with its value replaced by `hash`,
/// in the value's quotes, keeping what follows it (a comment) and the line ending.
fn replace_value(line: &str, block: Block, hash: &str) -> Result<String, String> {
    let body = content(line);
    let ending = &line[body.len()..];
    let key_end = body
        .get(block.column..)
        .and_then(|key| key.find(':'))
        .map(|colon| block.column + colon + 1)
        .ok_or("its `hash:` line has no `:`")?;
    let after = &body[key_end..];
    let value_start = key_end + (after.len() - after.trim_start().len());
    let value = &body[value_start..];
    let (new_value, value_len) = match value.chars().next() {
        None => (hash.to_string(), 0),
        Some('#') if value_start > key_end => (format!("{hash} "), 0),
        Some('"') => (format!("\"{hash}\""), quoted_len(value, '"')?),
        Some('\'') => (format!("'{hash}'"), quoted_len(value, '\'')?),
        Some(c) if "|>&*![{".contains(c) => {
            return Err(format!(
                "its `hash:` value starts with `{c}`: not a plain value"
            ));
        }
        Some(_) => {
            let len = value.find(" #").unwrap_or(value.len());
            (hash.to_string(), value[..len].trim_end().len())
        }
    };
    let prefix = if value_start == key_end {
        format!("{} ", &body[..key_end])
    } else {
        body[..value_start].to_string()
    };
    Ok(format!(
        "{prefix}{new_value}{}{ending}",
        &body[value_start + value_len..]
    ))
}

/// The length of the quoted scalar at the start of `value` (quotes included).
fn quoted_len(value: &str, quote: char) -> Result<usize, String> {
    let mut chars = value.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' if quote == '"' => {
                chars.next();
            }
            c if c == quote => {
                // '' inside single quotes is a quote.
                if quote == '\'' && value[i + 1..].starts_with('\'') {
                    chars.next();
                    continue;
                }
                return Ok(i + 1);
            }
            _ => {}
        }
    }
    Err("its `hash:` value has no closing quote on its line".into())
}

/// The text after `- ` of a list item line (`Some("")` for `-` alone); `None` otherwise.
fn item_body(rest: &str) -> Option<&str> {
    if rest == "-" {
        return Some("");
    }
    let after = rest.strip_prefix("- ")?;
    Some(after.trim_start())
}

/// The key of a `key: value` (or `key:`) line, quotes removed.
fn key_of(text: &str) -> Option<&str> {
    let text = text.strip_prefix("- ").unwrap_or(text);
    let (key, rest) = text.split_once(':')?;
    if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
        return None;
    }
    let key = key.trim_end();
    for quote in ['"', '\''] {
        if let Some(inner) = key.strip_prefix(quote).and_then(|k| k.strip_suffix(quote)) {
            return Some(inner);
        }
    }
    Some(key)
}

/// The first line at or after `from` that is not blank or a comment.
fn next_content_line(lines: &[&str], from: usize) -> Option<usize> {
    (from..lines.len()).find(|&i| !is_blank_or_comment(content(lines[i])))
}

/// Whether a line holds nothing for YAML (blank, or only a comment).
fn is_blank_or_comment(line: &str) -> bool {
    let trimmed = line.trim_start();
    trimmed.is_empty() || trimmed.starts_with('#')
}

/// A line without its line ending.
fn content(line: &str) -> &str {
    line.strip_suffix('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .unwrap_or(line)
}

/// The number of leading spaces.
fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `text` with the entry at `line` given `hash`.
    fn set(text: &str, line: usize, hash: &str) -> String {
        apply(text, vec![set_hash(text, line, hash).unwrap()])
    }

    const FILE: &str = "namespace: app\nentries:\n  # the component\n  - name: a\n    kind: function.wasm\n    fs: app:wasm\n    path: /a.wasm\n    hash: sha256:old  # keep me\n    method: run\n\n  - name: b\n    kind: function.wasm\n    path: /b.wasm\n    method: run\n";

    #[test]
    fn only_the_value_changes() {
        let out = set(FILE, 4, "sha256:new");
        assert_eq!(out, FILE.replace("sha256:old", "sha256:new"));
    }

    #[test]
    fn a_missing_hash_goes_after_path() {
        let out = set(FILE, 11, "sha256:new");
        assert_eq!(
            out,
            FILE.replace("path: /b.wasm\n", "path: /b.wasm\n    hash: sha256:new\n")
        );
    }

    #[test]
    fn quotes_comments_and_crlf_are_kept() {
        let text = "entries:\r\n- name: a\r\n  hash: \"sha256:o#ld\" # c\r\n  path: x\r\n";
        assert_eq!(
            set(text, 2, "sha256:n"),
            "entries:\r\n- name: a\r\n  hash: \"sha256:n\" # c\r\n  path: x\r\n"
        );
        let text = "entries:\n- name: a\n  hash: 'it''s'\n";
        assert_eq!(
            set(text, 2, "sha256:n"),
            "entries:\n- name: a\n  hash: 'sha256:n'\n"
        );
        let text = "entries:\n- name: a\n  path: x";
        assert_eq!(
            set(text, 2, "h"),
            "entries:\n- name: a\n  path: x\n  hash: h"
        );
    }

    #[test]
    fn keys_of_nested_maps_and_other_entries_are_not_taken() {
        let text = "entries:\n  - name: a\n    pool:\n      hash: nested\n    path: /a\n  - name: b\n    hash: other\n";
        assert_eq!(
            set(text, 2, "h"),
            text.replace("path: /a\n", "path: /a\n    hash: h\n")
        );
    }

    #[test]
    fn the_name_line_and_data_blocks_are_followed() {
        let text = "entries:\n  - kind: function.wasm\n    name: a\n    hash: old\n";
        assert_eq!(set(text, 3, "h"), text.replace("old", "h"));
        let text =
            "entries:\n  - name: a\n    data:\n      path: /a\n      hash: old\n    hash: outer\n";
        assert_eq!(set(text, 2, "h"), text.replace("old", "h"));
        let text = "namespace: app\nname: a\nkind: function.wasm\nhash: old\n";
        assert_eq!(set(text, 2, "h"), text.replace("old", "h"));
    }

    #[test]
    fn flow_style_and_values_over_lines_are_refused() {
        let text = "entries:\n  - name: a\n    hash:\n      sha256:old\n";
        assert!(set_hash(text, 2, "h").is_err());
        let text = "entries:\n  - {name: a, hash: old}\n";
        assert!(set_hash(text, 2, "h").is_err());
        assert!(set_hash(text, 9, "h").is_err());
    }
}

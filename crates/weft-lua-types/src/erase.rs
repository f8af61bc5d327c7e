//! Erasure: typed Lua to plain Lua 5.4 on the same lines, and the annotation sites.
//!
//! Annotations, casts, generic lists and `!` become spaces (a line break inside one stays);
//! a type declaration becomes, on its first line, the statement defining its type value,
//! then its line breaks; `typeof(x)` of an annotated local gets the type as an argument.
//! A source where the parser fails before meeting any type syntax is returned as it is:
//! it is not valid Lua, and Lua 5.4 reports its own error for it.

use std::borrow::Cow;

use crate::error::SyntaxError;
use crate::parse::{Edit, Parser};
use crate::sites::Site;

/// A source erased to plain Lua 5.4.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Erased<'a> {
    /// The plain Lua, every line where it was (the source itself when it had no types).
    pub code: Cow<'a, str>,
    /// Whether the source had type syntax.
    pub typed: bool,
}

/// Erases the type syntax of `source`, keeping every line at its line number.
pub fn erase(source: &str) -> Result<Erased<'_>, SyntaxError> {
    let mut parser = Parser::new(source, false);
    if let Err(error) = parser.chunk()
        && parser.typed
    {
        return Err(error);
    }
    if parser.edits.is_empty() {
        return Ok(Erased {
            code: Cow::Borrowed(source),
            typed: false,
        });
    }
    Ok(Erased {
        code: Cow::Owned(apply(source, parser.edits)),
        typed: true,
    })
}

/// The annotation sites of `source`, in source order (none for an untyped source).
pub fn annotations(source: &str) -> Result<Vec<Site>, SyntaxError> {
    let mut parser = Parser::new(source, true);
    if let Err(error) = parser.chunk() {
        if parser.typed {
            return Err(error);
        }
        return Ok(Vec::new());
    }
    Ok(parser.sites.unwrap_or_default())
}

/// The source with the edits made.
fn apply(source: &str, mut edits: Vec<Edit>) -> String {
    edits.sort_by_key(|edit| match edit {
        Edit::Blank(start, _) | Edit::Replace(start, ..) => *start,
    });
    let added: usize = edits
        .iter()
        .map(|edit| {
            if let Edit::Replace(_, _, text) = edit {
                text.len()
            } else {
                0
            }
        })
        .sum();
    let mut out = String::with_capacity(source.len() + added);
    let mut pos = 0;
    for edit in &edits {
        let (start, end) = match edit {
            Edit::Blank(start, end) | Edit::Replace(start, end, _) => (*start, *end),
        };
        if start < pos {
            continue;
        }
        out.push_str(source.get(pos..start).unwrap_or(""));
        match edit {
            Edit::Blank(..) => {
                let erased = source.as_bytes().get(start..end).unwrap_or(&[]);
                out.extend(erased.iter().map(|&b| {
                    if b == b'\n' || b == b'\r' {
                        b as char
                    } else {
                        ' '
                    }
                }));
            }
            Edit::Replace(_, _, text) => out.push_str(text),
        }
        pos = end;
    }
    out.push_str(source.get(pos..).unwrap_or(""));
    out
}

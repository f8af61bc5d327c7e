//! The Lua that replaces a type declaration and completes `typeof(x)`, and the names a
//! type refers to (the lazy references that code passes to the runtime).
//!
//! `type Name<G> = T` becomes, on its first line,
//! `local Name; Name = __weft_type("Name<G> = T", {Ref = function() return Ref end});`
//! and `typeof(x)` of an annotated local becomes `typeof(x, __weft_type("= T", {…}))`.
//! The text in the string is the source's, on one line: the tokens as written, a gap of
//! spaces and tabs kept, any other gap (line breaks, comments) one space.

use std::collections::HashSet;
use std::fmt::Write as _;

use crate::ast::{Generic, Type, TypeDecl};
use crate::lex::{Kind, Lexer, Token};

/// The names `ty` refers to, first use first, each once: every [`Type::Named`] (dotted
/// ones joined with `.`) except single names in `generics` or bound by a generic function
/// type inside `ty`. Built-in names and literals are not names, so never listed.
pub fn references(ty: &Type, generics: &[&str]) -> Vec<String> {
    let mut refs = Refs {
        bound: generics.to_vec(),
        seen: HashSet::new(),
        found: Vec::new(),
    };
    refs.ty(ty);
    refs.found
}

/// The names a declaration refers to: its body's and its generics' constraints', its own
/// generics and the enclosing functions' (`outer`) excluded; its own name included.
pub(crate) fn decl_references(decl: &TypeDecl, outer: &[&str]) -> Vec<String> {
    let mut refs = Refs {
        bound: outer.to_vec(),
        seen: HashSet::new(),
        found: Vec::new(),
    };
    refs.generics(&decl.generics);
    refs.ty(&decl.ty);
    refs.found
}

/// The statement replacing a declaration: `name`, its one-line `text`, its `refs`, then
/// `breaks` (the line breaks the declaration spanned).
pub(crate) fn declaration(name: &str, text: &str, refs: &[String], breaks: &str) -> String {
    let mut out = format!("local {name}; {name} = __weft_type(");
    quote(text, &mut out);
    out.push_str(", ");
    table(refs, &mut out);
    out.push_str(");");
    out.push_str(breaks);
    out
}

/// The argument added to `typeof(x)`: `, __weft_type("= T", {…})`.
pub(crate) fn typeof_argument(text: &str, refs: &[String]) -> String {
    let mut out = String::from(", __weft_type(");
    quote(&format!("= {text}"), &mut out);
    out.push_str(", ");
    table(refs, &mut out);
    out.push(')');
    out
}

/// The source from `first` to `end` on one line (see the module's doc).
pub(crate) fn one_line(src: &str, first: &Token, end: usize) -> String {
    let mut lex = Lexer::at(src, first);
    let mut out = String::new();
    let mut prev_end = None;
    loop {
        let tok = lex.next_token();
        if tok.kind == Kind::Eof || tok.start >= end {
            return out;
        }
        if let Some(prev) = prev_end {
            let gap = src.get(prev..tok.start).unwrap_or("");
            if gap.bytes().all(|b| b == b' ' || b == b'\t') {
                out.push_str(gap);
            } else {
                out.push(' ');
            }
        }
        // A `>=` or `>>` split at the end: only its `>` belongs to the type.
        out.push_str(src.get(tok.start..tok.end.min(end)).unwrap_or(""));
        prev_end = Some(tok.end);
    }
}

/// The line breaks in `text`, in order (`\r\n` stays `\r\n`, so Lua counts the same lines).
pub(crate) fn line_breaks(text: &str) -> String {
    text.chars().filter(|&c| c == '\n' || c == '\r').collect()
}

/// Appends `text` as a Lua string literal on one line.
fn quote(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\x7f' => {
                let _ = write!(out, "\\{:03}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends the table of lazy references.
fn table(refs: &[String], out: &mut String) {
    out.push('{');
    for (i, name) in refs.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        if name.contains('.') {
            out.push('[');
            quote(name, out);
            out.push(']');
        } else {
            out.push_str(name);
        }
        out.push_str(" = function() return ");
        out.push_str(name);
        out.push_str(" end");
    }
    out.push('}');
}

/// The walk collecting references.
struct Refs<'t> {
    bound: Vec<&'t str>,
    seen: HashSet<String>,
    found: Vec<String>,
}

impl<'t> Refs<'t> {
    /// Collects from a type.
    fn ty(&mut self, ty: &'t Type) {
        match ty {
            Type::Named(named) => {
                let bound =
                    matches!(named.path.as_slice(), [one] if self.bound.contains(&one.as_str()));
                if !bound {
                    let name = named.path.join(".");
                    if self.seen.insert(name.clone()) {
                        self.found.push(name);
                    }
                }
                named.args.iter().for_each(|arg| self.ty(arg));
            }
            Type::Func(func) => {
                let mark = self.bound.len();
                self.generics(&func.generics);
                func.params
                    .iter()
                    .chain(func.variadic.as_deref())
                    .chain(&func.returns)
                    .for_each(|t| self.ty(t));
                self.bound.truncate(mark);
            }
            Type::Optional(inner) | Type::Array(inner) | Type::Validated(inner, _) => {
                self.ty(inner)
            }
            Type::Union(members) | Type::Intersection(members) => {
                members.iter().for_each(|m| self.ty(m))
            }
            Type::Record(fields) => fields.iter().for_each(|field| self.ty(&field.ty)),
            Type::Map(key, value) => {
                self.ty(key);
                self.ty(value);
            }
            Type::Any
            | Type::Unknown
            | Type::Never
            | Type::Nil
            | Type::Boolean
            | Type::Number
            | Type::Integer
            | Type::String
            | Type::Table
            | Type::Function
            | Type::Primitive(_)
            | Type::Literal(_) => {}
        }
    }

    /// Binds generic parameters, then collects from their constraints.
    fn generics(&mut self, generics: &'t [Generic]) {
        self.bound.extend(generics.iter().map(|g| g.name.as_str()));
        generics
            .iter()
            .filter_map(|g| g.constraint.as_ref())
            .for_each(|c| self.ty(c));
    }
}

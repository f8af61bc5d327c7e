//! A core module's `wit:` signature: the snippet parsed with wit-parser into the world
//! the module is wrapped with.
//!
//! A snippet is what an interface body holds: `name: func(...) -> T;` lines (an
//! `export` before a name is accepted, as in Wippy), and the named types they use
//! (`record`, `enum`, `variant`, `flags`, `type x = ...`), in any order. It is parsed
//! twice:
//!
//! 1. as the body of an interface, with every `export` keyword blanked out (columns
//!    kept): this checks the snippet and finds each function's name, and an error
//!    points at a line and column of the snippet itself;
//! 2. as the body of a world, with `export ` put before each function's name: the
//!    types become world-level types, which `wit-component` inlines into the
//!    component, so the wrapped module imports nothing for them and the functions are
//!    world exports named as the core module's exports are.

use weft_core::{Error, Result};
use wit_parser::{FunctionKind, PackageId, ParseError, Resolve, ResolveError, WorldId};

/// The synthetic package and interface the first parse wraps the snippet in.
const INTERFACE_HEADER: &str = "package weft:core-module;\ninterface signature {\n";
/// The synthetic package and world the second parse wraps the snippet in.
const WORLD_HEADER: &str = "package weft:core-module;\nworld module {\n";
/// What closes either wrapper.
const FOOTER: &str = "\n}\n";

/// A parsed `wit:` snippet: the world to embed into a core module and its functions.
pub(crate) struct Signature {
    /// The world `module` and everything it uses.
    pub(crate) resolve: Resolve,
    /// The world a core module is wrapped with.
    pub(crate) world: WorldId,
    /// The functions the snippet defines, in its order.
    functions: Vec<String>,
}

impl Signature {
    /// Parses a snippet; an error names the line and column of the snippet it is about.
    pub(crate) fn parse(wit: &str) -> Result<Signature> {
        let body = blank_export_keywords(wit);
        let (functions, name_offsets) = functions_of(&body)?;
        if functions.is_empty() {
            return Err(Error::invalid("no functions found in WIT text"));
        }
        let mut world = String::with_capacity(WORLD_HEADER.len() + body.len() + 64);
        world.push_str(WORLD_HEADER);
        let mut at = 0;
        for offset in name_offsets {
            world.push_str(&body[at..offset]);
            world.push_str("export ");
            at = offset;
        }
        world.push_str(&body[at..]);
        world.push_str(FOOTER);
        let mut resolve = Resolve::default();
        // The first parse checked the snippet: what fails here is about worlds.
        let pkg = resolve.push_str("wit", &world).map_err(world_error)?;
        let world = resolve
            .select_world(&[pkg], Some("module"))
            .map_err(world_error)?;
        Ok(Signature {
            resolve,
            world,
            functions,
        })
    }

    /// The functions the snippet defines, in its order.
    pub(crate) fn functions(&self) -> &[String] {
        &self.functions
    }
}

/// The snippet's freestanding functions (names, and byte offsets of the names in `body`,
/// ascending), from parsing `body` as an interface body.
fn functions_of(body: &str) -> Result<(Vec<String>, Vec<usize>)> {
    let mut resolve = Resolve::default();
    let text = format!("{INTERFACE_HEADER}{body}{FOOTER}");
    let pkg = resolve
        .push_str("wit", &text)
        .map_err(|e| snippet_error(&resolve, e.as_ref(), body))?;
    let iface = interface(&resolve, pkg)
        .ok_or_else(|| Error::internal("the wit signature wrapper lost its interface"))?;
    let mut found = Vec::new();
    for f in resolve.interfaces[iface].functions.values() {
        if !matches!(
            f.kind,
            FunctionKind::Freestanding | FunctionKind::AsyncFreestanding
        ) {
            continue;
        }
        let offset = resolve
            .source_map
            .resolve_span(f.span)
            .and_then(|loc| loc.range.start.checked_sub(INTERFACE_HEADER.len()))
            .filter(|&o| o <= body.len() && body.is_char_boundary(o))
            .ok_or_else(|| Error::internal(format!("no position for wit function {:?}", f.name)))?;
        found.push((offset, f.name.clone()));
    }
    found.sort();
    Ok(found.into_iter().map(|(o, n)| (n, o)).unzip())
}

/// An error of the world wrapper (the snippet itself parsed as an interface body).
fn world_error(e: impl std::fmt::Display) -> Error {
    Error::invalid(format!("invalid wit signature: {e:#}"))
}

/// The interface `signature` of the wrapper package.
fn interface(resolve: &Resolve, pkg: PackageId) -> Option<wit_parser::InterfaceId> {
    resolve.packages[pkg].interfaces.get("signature").copied()
}

/// A parse or resolve error of the interface wrapper, placed in the snippet: `invalid wit
/// signature at line L, column C: <message>` (or without the place when it has none).
fn snippet_error(resolve: &Resolve, e: &(dyn std::error::Error + 'static), body: &str) -> Error {
    let mut chain = std::iter::successors(Some(e), |layer| layer.source());
    let found = chain.find_map(|layer| {
        if let Some(pe) = layer.downcast_ref::<ParseError>() {
            Some((pe.kind().span(), pe.to_string()))
        } else {
            layer
                .downcast_ref::<ResolveError>()
                .map(|re| (re.kind().span(), re.to_string()))
        }
    });
    let Some((span, message)) = found else {
        return Error::invalid(format!("invalid wit signature: {e}"));
    };
    let message = message.replace('\n', "; ");
    let offset = resolve
        .source_map
        .resolve_span(span)
        .map(|loc| loc.range.start.saturating_sub(INTERFACE_HEADER.len()));
    match offset {
        Some(offset) if offset < body.len() => {
            let (line, column) = line_column(body, offset);
            Error::invalid(format!(
                "invalid wit signature at line {line}, column {column}: {message}"
            ))
        }
        Some(_) => Error::invalid(format!("invalid wit signature at its end: {message}")),
        None => Error::invalid(format!("invalid wit signature: {message}")),
    }
}

/// The 1-based line and column (in characters) of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut at = offset.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// `wit` with every `export` keyword replaced by as many spaces, so the snippet parses
/// as an interface body and keeps its columns. Only a whole word is a keyword:
/// `export-data` and `%export` are names and stay.
fn blank_export_keywords(wit: &str) -> String {
    const KEYWORD: &str = "export";
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '%';
    let mut out = String::with_capacity(wit.len());
    let mut rest = wit;
    while let Some(i) = rest.find(KEYWORD) {
        let end = i + KEYWORD.len();
        let before = rest[..i].chars().next_back();
        let after = rest[end..].chars().next();
        out.push_str(&rest[..i]);
        if before.is_some_and(is_word) || after.is_some_and(is_word) {
            out.push_str(KEYWORD);
        } else {
            out.push_str(&" ".repeat(KEYWORD.len()));
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(wit: &str) -> Vec<String> {
        Signature::parse(wit)
            .unwrap_or_else(|e| panic!("{wit}: {e}"))
            .functions()
            .to_vec()
    }

    fn error(wit: &str) -> String {
        match Signature::parse(wit) {
            Ok(_) => panic!("{wit}: parsed"),
            Err(e) => e.message().to_string(),
        }
    }

    #[test]
    fn plain_and_exported_functions() {
        assert_eq!(names("answer: func() -> s32;"), ["answer"]);
        assert_eq!(
            names(
                "export greet: func(name: string) -> string;\n  add: func(a: s32, b: s32) -> s32;"
            ),
            ["greet", "add"]
        );
        assert_eq!(
            names("export-data: func(exported: u8) -> u8;"),
            ["export-data"]
        );
    }

    #[test]
    fn named_types_before_and_after_the_functions() {
        let wit = "enum color { red, green, blue }\n\
                   type offset = s32;\n\
                   /// a pixel\n\
                   record pixel { x: s32, y: s32, color: color }\n\
                   shift: func(p: pixel, dx: offset) -> pixel;\n\
                   export flip: func(p: perms) -> perms;\n\
                   flags perms { read, write }\n\
                   variant shape { circle(f32), none }\n\
                   area: func(s: shape) -> option<f32>;";
        assert_eq!(names(wit), ["shift", "flip", "area"]);
        let sig = Signature::parse(wit).unwrap();
        let world = &sig.resolve.worlds[sig.world];
        let exports: Vec<String> = world
            .exports
            .keys()
            .map(|k| sig.resolve.name_world_key(k))
            .collect();
        assert_eq!(exports, ["shift", "flip", "area"]);
    }

    #[test]
    fn errors_point_into_the_snippet() {
        assert_eq!(
            error("record point { x: s32 }\nmove: func(p: pointt) -> point;"),
            "invalid wit signature at line 2, column 15: name `pointt` does not exist"
        );
        assert_eq!(
            error("answer: func() -> s32"),
            "invalid wit signature at its end: expected ';', found '}'"
        );
        assert_eq!(
            error("enum color { red }"),
            "no functions found in WIT text"
        );
        assert_eq!(error(""), "no functions found in WIT text");
        assert!(
            error("import x: func();").starts_with("invalid wit signature at line 1, column 1: "),
            "{}",
            error("import x: func();")
        );
    }

    #[test]
    fn line_and_column_count_characters() {
        assert_eq!(line_column("ab\nçd", 5), (2, 2));
        assert_eq!(line_column("abc", 0), (1, 1));
    }
}

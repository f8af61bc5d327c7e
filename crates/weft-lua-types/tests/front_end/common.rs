//! Helpers: erasing with the checks every test wants, and short type builders.

use std::borrow::Cow;

use weft_lua_types::{
    Field, FuncType, Literal, Named, SiteKind, Type, TypeDecl, Validator, annotations, erase,
};

/// Erases a typed `src`, checking that it was typed, kept its lines and loads in Lua 5.4.
pub fn erased(src: &str) -> String {
    let out = erase(src).unwrap_or_else(|e| panic!("{e}\n{src}"));
    assert!(out.typed, "not typed:\n{src}");
    assert!(matches!(out.code, Cow::Owned(_)));
    let code = out.code.into_owned();
    assert_eq!(
        line_breaks(&code),
        line_breaks(src),
        "line count changed:\n{code}"
    );
    if let Err(e) = mlua::Lua::new().load(&code).into_function() {
        panic!("Lua 5.4 rejects the erased code: {e}\n{code}");
    }
    code
}

/// Checks that a plain `src` comes back borrowed, untouched, and that Lua 5.4 loads it.
pub fn plain(src: &str) {
    let out = erase(src).unwrap_or_else(|e| panic!("{e}\n{src}"));
    assert!(!out.typed, "typed:\n{src}");
    assert!(
        matches!(out.code, Cow::Borrowed(s) if std::ptr::eq(s, src)),
        "not borrowed:\n{src}"
    );
    if let Err(e) = mlua::Lua::new().load(src).into_function() {
        panic!("Lua 5.4 rejects the plain code: {e}\n{src}");
    }
}

/// The number of line breaks as Lua counts them (`\r\n` and `\n\r` are one).
pub fn line_breaks(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut count = 0;
    let mut i = 0;
    while i < bytes.len() {
        if matches!(bytes[i], b'\n' | b'\r') {
            count += 1;
            if matches!(bytes.get(i + 1), Some(&n) if (n == b'\n' || n == b'\r') && n != bytes[i]) {
                i += 1;
            }
        }
        i += 1;
    }
    count
}

/// The site kinds of `src`.
pub fn sites(src: &str) -> Vec<SiteKind> {
    annotations(src)
        .unwrap_or_else(|e| panic!("{e}\n{src}"))
        .into_iter()
        .map(|s| s.kind)
        .collect()
}

/// The annotated locals of `src`: (name, type).
pub fn locals(src: &str) -> Vec<(String, Type)> {
    sites(src)
        .into_iter()
        .filter_map(|k| match k {
            SiteKind::Local { name, ty } => Some((name, ty)),
            _ => None,
        })
        .collect()
}

/// The annotated parameters of `src`: (name, type).
pub fn params(src: &str) -> Vec<(String, Type)> {
    sites(src)
        .into_iter()
        .filter_map(|k| match k {
            SiteKind::Param { name, ty } => Some((name, ty)),
            _ => None,
        })
        .collect()
}

/// The return annotations of `src`.
pub fn returns(src: &str) -> Vec<Vec<Type>> {
    sites(src)
        .into_iter()
        .filter_map(|k| match k {
            SiteKind::Returns(types) => Some(types),
            _ => None,
        })
        .collect()
}

/// The type declarations of `src`.
pub fn decls(src: &str) -> Vec<TypeDecl> {
    sites(src)
        .into_iter()
        .filter_map(|k| match k {
            SiteKind::Decl(decl) => Some(decl),
            _ => None,
        })
        .collect()
}

/// A name (dotted for a path).
pub fn named(path: &str) -> Type {
    Type::Named(Named {
        path: path.split('.').map(String::from).collect(),
        args: Vec::new(),
    })
}

/// A name with type arguments.
pub fn generic(path: &str, args: Vec<Type>) -> Type {
    Type::Named(Named {
        path: path.split('.').map(String::from).collect(),
        args,
    })
}

/// `T?`.
pub fn opt(ty: Type) -> Type {
    Type::Optional(Box::new(ty))
}

/// `{T}`.
pub fn arr(ty: Type) -> Type {
    Type::Array(Box::new(ty))
}

/// `{[K]: V}`.
pub fn map(key: Type, value: Type) -> Type {
    Type::Map(Box::new(key), Box::new(value))
}

/// A record; a name ending in `?` is an optional field.
pub fn rec(fields: Vec<(&str, Type)>) -> Type {
    Type::Record(
        fields
            .into_iter()
            .map(|(name, ty)| Field {
                name: name.trim_end_matches('?').to_string(),
                optional: name.ends_with('?'),
                readonly: false,
                ty,
            })
            .collect(),
    )
}

/// `(params) -> returns`.
pub fn func(params: Vec<Type>, returns: Vec<Type>) -> Type {
    Type::Func(FuncType {
        generics: Vec::new(),
        params,
        variadic: None,
        returns,
    })
}

/// A string literal type.
pub fn lit(text: &str) -> Type {
    Type::Literal(Literal::String(text.as_bytes().to_vec()))
}

/// A boolean literal type.
pub fn bool_lit(value: bool) -> Type {
    Type::Literal(Literal::Boolean(value))
}

/// `A | B | …`.
pub fn union(members: Vec<Type>) -> Type {
    Type::Union(members)
}

/// `T @v…`.
pub fn validated(ty: Type, validators: Vec<Validator>) -> Type {
    Type::Validated(Box::new(ty), validators)
}

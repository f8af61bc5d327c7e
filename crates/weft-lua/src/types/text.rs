//! Types as text, in the dialect's own syntax: `{x: number, y: number}`, `string?`,
//! `"a" | "b"`, `(number, ...: string) -> (boolean, string)`, `number @min(0)`.
//!
//! Pure (no Lua): names are shown by the caller's `name` function, so the same code
//! renders a type as written (names as their paths) and a resolved one (names as the
//! aliases they stand for). Nesting past [`MAX_DEPTH`] is shown as `…`.

use weft_lua_types::{Field, FuncType, Generic, Literal, Named, Type, Validator};

/// How deep a type is rendered before the rest is elided.
const MAX_DEPTH: usize = 64;

/// Binding strength, loosest first: a part looser than its place asks is parenthesized.
#[derive(Clone, Copy, PartialEq, PartialOrd)]
enum Prec {
    /// `(A) -> R`: its return type would swallow a following `|`.
    Func,
    /// `A | B`.
    Union,
    /// `A & B`.
    Intersection,
    /// `T @min(0)`.
    Validated,
    /// `T?`, names and everything bracketed.
    Atom,
}

/// Renders `ty`; `name` shows a named type (without its arguments).
pub fn render(ty: &Type, name: &dyn Fn(&Named) -> String) -> String {
    let mut out = String::new();
    Renderer { name }.ty(&mut out, ty, Prec::Func, 0);
    out
}

/// A validator as written: `@min(0)`, `@pattern("^a")`.
pub fn validator(v: &Validator) -> String {
    match v {
        Validator::Min(n) => format!("@min({})", bound(*n)),
        Validator::Max(n) => format!("@max({})", bound(*n)),
        Validator::MinLen(n) => format!("@min_len({n})"),
        Validator::MaxLen(n) => format!("@max_len({n})"),
        Validator::Pattern(p) => format!("@pattern({})", quote(p.as_bytes())),
    }
}

/// A literal as written: `"text"`, `42`, `1.5`, `true`.
pub fn literal(l: &Literal) -> String {
    match l {
        Literal::String(s) => quote(s),
        Literal::Integer(i) => i.to_string(),
        Literal::Number(f) => float(*f),
        Literal::Boolean(b) => b.to_string(),
    }
}

/// A float as Lua prints it (`%.14g`, `.0` added to an integral value): `1.5`, `2.0`,
/// `1e+20`, `inf`, `nan`.
pub fn float(f: f64) -> String {
    if f.is_nan() {
        return "nan".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    let sci = format!("{f:.13e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..14).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{}e{sign}{:02}", trim_zeros(mantissa), exp.abs());
    }
    let decimals = usize::try_from(13 - exp).unwrap_or(0);
    let fixed = format!("{f:.decimals$}");
    let text = trim_zeros(&fixed);
    if text.bytes().all(|b| b == b'-' || b.is_ascii_digit()) {
        format!("{text}.0")
    } else {
        text.to_string()
    }
}

/// A decimal without the trailing zeros of its fraction (nor a bare `.`).
fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// A validator's bound: `150`, `0.5` (an integral bound without `.0`).
fn bound(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{f:.0}")
    } else {
        float(f)
    }
}

/// Bytes as a double-quoted string with `\"`, `\\` and control bytes escaped (invalid
/// UTF-8 shown as `\xNN`).
pub fn quote(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('"');
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out.push('"');
    out
}

struct Renderer<'a> {
    name: &'a dyn Fn(&Named) -> String,
}

impl Renderer<'_> {
    fn ty(&self, out: &mut String, ty: &Type, place: Prec, depth: usize) {
        if depth > MAX_DEPTH {
            out.push('…');
            return;
        }
        let own = prec(ty);
        let paren = own < place;
        if paren {
            out.push('(');
        }
        self.bare(out, ty, depth + 1);
        if paren {
            out.push(')');
        }
    }

    fn bare(&self, out: &mut String, ty: &Type, depth: usize) {
        match ty {
            Type::Any => out.push_str("any"),
            Type::Unknown => out.push_str("unknown"),
            Type::Never => out.push_str("never"),
            Type::Nil => out.push_str("nil"),
            Type::Boolean => out.push_str("boolean"),
            Type::Number => out.push_str("number"),
            Type::Integer => out.push_str("integer"),
            Type::String => out.push_str("string"),
            Type::Table => out.push_str("table"),
            Type::Function => out.push_str("function"),
            Type::Primitive(name) => out.push_str(name),
            Type::Literal(l) => out.push_str(&literal(l)),
            Type::Optional(inner) => {
                self.ty(out, inner, Prec::Atom, depth);
                out.push('?');
            }
            Type::Union(members) => self.list(out, members, " | ", Prec::Intersection, depth),
            Type::Intersection(members) => self.list(out, members, " & ", Prec::Validated, depth),
            Type::Record(fields) => self.record(out, fields, depth),
            Type::Array(elem) => {
                out.push('{');
                self.ty(out, elem, Prec::Func, depth);
                out.push('}');
            }
            Type::Map(key, value) => {
                out.push_str("{[");
                self.ty(out, key, Prec::Func, depth);
                out.push_str("]: ");
                self.ty(out, value, Prec::Func, depth);
                out.push('}');
            }
            Type::Func(f) => self.func(out, f, depth),
            Type::Named(named) => {
                out.push_str(&(self.name)(named));
                if !named.args.is_empty() {
                    out.push('<');
                    self.list(out, &named.args, ", ", Prec::Func, depth);
                    out.push('>');
                }
            }
            Type::Validated(inner, validators) => {
                self.ty(out, inner, Prec::Atom, depth);
                for v in validators {
                    out.push(' ');
                    out.push_str(&validator(v));
                }
            }
        }
    }

    fn list(&self, out: &mut String, items: &[Type], sep: &str, place: Prec, depth: usize) {
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push_str(sep);
            }
            self.ty(out, item, place, depth);
        }
    }

    fn record(&self, out: &mut String, fields: &[Field], depth: usize) {
        out.push('{');
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            if f.readonly {
                out.push_str("readonly ");
            }
            out.push_str(&f.name);
            out.push_str(if f.optional { "?: " } else { ": " });
            self.ty(out, &f.ty, Prec::Func, depth);
        }
        out.push('}');
    }

    fn func(&self, out: &mut String, f: &FuncType, depth: usize) {
        if !f.generics.is_empty() {
            out.push('<');
            for (i, g) in f.generics.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                self.generic(out, g, depth);
            }
            out.push('>');
        }
        out.push('(');
        self.list(out, &f.params, ", ", Prec::Func, depth);
        if let Some(rest) = &f.variadic {
            if !f.params.is_empty() {
                out.push_str(", ");
            }
            out.push_str("...: ");
            self.ty(out, rest, Prec::Func, depth);
        }
        out.push_str(") -> ");
        match f.returns.as_slice() {
            [one] => self.ty(out, one, Prec::Union, depth),
            many => {
                out.push('(');
                self.list(out, many, ", ", Prec::Func, depth);
                out.push(')');
            }
        }
    }

    fn generic(&self, out: &mut String, g: &Generic, depth: usize) {
        out.push_str(&g.name);
        if let Some(c) = &g.constraint {
            out.push_str(": ");
            self.ty(out, c, Prec::Union, depth);
        }
    }
}

fn prec(ty: &Type) -> Prec {
    match ty {
        Type::Func(_) => Prec::Func,
        Type::Union(_) => Prec::Union,
        Type::Intersection(_) => Prec::Intersection,
        Type::Validated(..) => Prec::Validated,
        _ => Prec::Atom,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(ty: &Type) -> String {
        render(ty, &|n| n.path.join("."))
    }

    fn field(name: &str, ty: Type) -> Field {
        Field {
            name: name.into(),
            ty,
            optional: false,
            readonly: false,
        }
    }

    #[test]
    fn records_arrays_maps_and_optionals() {
        let point = Type::Record(vec![field("x", Type::Number), field("y", Type::Number)]);
        assert_eq!(shown(&point), "{x: number, y: number}");
        let mut opt = field("tag", Type::String);
        opt.optional = true;
        let mut ro = field("id", Type::Integer);
        ro.readonly = true;
        assert_eq!(
            shown(&Type::Record(vec![ro, opt])),
            "{readonly id: integer, tag?: string}"
        );
        assert_eq!(shown(&Type::Array(Box::new(Type::String))), "{string}");
        assert_eq!(
            shown(&Type::Map(Box::new(Type::String), Box::new(Type::Number))),
            "{[string]: number}"
        );
        let union = Type::Union(vec![Type::Number, Type::String]);
        assert_eq!(
            shown(&Type::Optional(Box::new(union))),
            "(number | string)?"
        );
        assert_eq!(shown(&Type::Record(vec![])), "{}");
    }

    #[test]
    fn literals_validators_and_names() {
        let status = Type::Union(vec![
            Type::Literal(Literal::String(b"pending".to_vec())),
            Type::Literal(Literal::Integer(42)),
            Type::Literal(Literal::Number(1.5)),
            Type::Literal(Literal::Boolean(true)),
        ]);
        assert_eq!(shown(&status), r#""pending" | 42 | 1.5 | true"#);
        let id = Type::Union(vec![
            Type::Validated(Box::new(Type::Number), vec![Validator::Min(1.0)]),
            Type::Validated(Box::new(Type::String), vec![Validator::MinLen(1)]),
        ]);
        assert_eq!(shown(&id), "number @min(1) | string @min_len(1)");
        let email = Type::Validated(
            Box::new(Type::String),
            vec![Validator::Pattern("^.+@.+$".into()), Validator::Max(0.5)],
        );
        assert_eq!(shown(&email), r#"string @pattern("^.+@.+$") @max(0.5)"#);
        let result = Type::Named(Named {
            path: vec!["lib".into(), "Result".into()],
            args: vec![Type::Number, Type::String],
        });
        assert_eq!(shown(&result), "lib.Result<number, string>");
        assert_eq!(quote(b"a\"b\\\n\xff"), r#""a\"b\\\n\xff""#);
    }

    #[test]
    fn functions_and_precedence() {
        let f = |params: Vec<Type>, variadic: Option<Type>, returns: Vec<Type>| {
            Type::Func(FuncType {
                generics: vec![],
                params,
                variadic: variadic.map(Box::new),
                returns,
            })
        };
        assert_eq!(
            shown(&f(
                vec![Type::Number, Type::String],
                None,
                vec![Type::Boolean]
            )),
            "(number, string) -> boolean"
        );
        assert_eq!(
            shown(&f(vec![Type::Number], Some(Type::String), vec![])),
            "(number, ...: string) -> ()"
        );
        assert_eq!(
            shown(&f(vec![], None, vec![Type::String, Type::Nil])),
            "() -> (string, nil)"
        );
        let in_union = Type::Union(vec![f(vec![], None, vec![Type::Number]), Type::Nil]);
        assert_eq!(shown(&in_union), "(() -> number) | nil");
        let generic = Type::Func(FuncType {
            generics: vec![Generic {
                name: "T".into(),
                constraint: Some(Type::Table),
            }],
            params: vec![Type::Named(Named {
                path: vec!["T".into()],
                args: vec![],
            })],
            variadic: None,
            returns: vec![Type::Union(vec![Type::Number, Type::Nil])],
        });
        assert_eq!(shown(&generic), "<T: table>(T) -> number | nil");
        let inter = Type::Intersection(vec![
            Type::Union(vec![Type::Number, Type::String]),
            Type::Table,
        ]);
        assert_eq!(shown(&inter), "(number | string) & table");
    }

    #[test]
    fn floats_print_as_lua_does() {
        assert_eq!(float(151.0), "151.0");
        assert_eq!(float(1.5), "1.5");
        assert_eq!(float(1e20), "1e+20");
        assert_eq!(float(2f64.powi(63)), "9.2233720368548e+18");
        assert_eq!(float(1e-5), "1e-05");
        assert_eq!(float(0.1), "0.1");
        assert_eq!(float(-0.0), "-0.0");
        assert_eq!(float(1.0 / 3.0), "0.33333333333333");
        assert_eq!(float(f64::NAN), "nan");
        assert_eq!(float(f64::NEG_INFINITY), "-inf");
        assert_eq!(bound(150.0), "150");
        assert_eq!(bound(-0.25), "-0.25");
    }
}

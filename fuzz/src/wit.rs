//! Arbitrary WIT types, as real `wasmtime::component::Type`s.
//!
//! A type tree ([`Ty`]) is drawn from the input, rendered as a component that imports a
//! function `f` taking one parameter per type (importing needs no core code, so nothing
//! is compiled but the types: the converter's own tests use the same trick), and
//! compiled; the parameters' types are what the converter walks in a real call.

use std::fmt::Write as _;
use std::sync::LazyLock;

use arbitrary::{Result, Unstructured};
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, Type};
use wasmtime::{Config, Engine};

use crate::value::NAMES;

/// The primitive WIT types.
const PRIMS: &[&str] = &[
    "bool", "s8", "u8", "s16", "u16", "s32", "u32", "s64", "u64", "f32", "f64", "char", "string",
];

/// The key types of generated maps (WIT allows no float keys), strings twice as likely.
const MAP_KEYS: &[&str] = &[
    "bool", "u8", "s32", "u64", "s64", "char", "string", "string",
];

/// A WIT type to render.
#[derive(Debug, Clone)]
pub enum Ty {
    /// One of [`PRIMS`].
    Prim(&'static str),
    /// `list<T>`.
    List(Box<Ty>),
    /// `list<T, N>`.
    FixedList(Box<Ty>, u32),
    /// `tuple<…>`.
    Tuple(Vec<Ty>),
    /// `option<T>`.
    Option(Box<Ty>),
    /// `result<T, E>` with either side optional.
    Result(Option<Box<Ty>>, Option<Box<Ty>>),
    /// `map<K, V>` with a primitive key.
    Map(&'static str, Box<Ty>),
    /// A named record.
    Record(Vec<(String, Ty)>),
    /// A named variant.
    Variant(Vec<(String, Option<Ty>)>),
    /// A named enum.
    Enum(Vec<String>),
    /// Named flags.
    Flags(Vec<String>),
    /// `own<r>` of an imported resource.
    Own,
    /// `borrow<r>` (only as a whole parameter).
    Borrow,
}

/// The engine every fuzz target compiles with: weft's features, plus the WIT `map` and
/// fixed-length lists, which the converter supports.
pub static ENGINE: LazyLock<Engine> = LazyLock::new(|| {
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .wasm_component_model_map(true)
        .wasm_component_model_fixed_length_lists(true);
    Engine::new(&config).expect("engine")
});

/// `n` distinct names (from [`NAMES`], then `n0`, `n1`, …).
fn names(u: &mut Unstructured, n: usize) -> Result<Vec<String>> {
    let mut pool: Vec<String> = NAMES.iter().map(|s| (*s).to_owned()).collect();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        if pool.is_empty() {
            out.push(format!("n{i}"));
        } else {
            let at = u.choose_index(pool.len())?;
            out.push(pool.swap_remove(at));
        }
    }
    Ok(out)
}

impl Ty {
    /// A type about `3 - depth` levels deep; `budget` bounds the nodes of the whole tree.
    pub fn arbitrary(u: &mut Unstructured, depth: u32, budget: &mut u32) -> Result<Ty> {
        *budget = budget.saturating_sub(1);
        if depth >= 3 || *budget == 0 || u.is_empty() {
            return Ok(Ty::Prim(u.choose(PRIMS)?));
        }
        let mut child = |u: &mut Unstructured| Ty::arbitrary(u, depth + 1, budget).map(Box::new);
        Ok(match u.int_in_range(0..=16)? {
            0..=4 => Ty::Prim(u.choose(PRIMS)?),
            5 => Ty::List(child(u)?),
            6 => Ty::List(Box::new(Ty::Prim("u8"))),
            7 => Ty::FixedList(child(u)?, u.int_in_range(1..=3)?),
            8 => {
                let n = u.int_in_range(1..=3)?;
                Ty::Tuple(
                    (0..n)
                        .map(|_| child(u).map(|t| *t))
                        .collect::<Result<_>>()?,
                )
            }
            9 => Ty::Option(child(u)?),
            10 => {
                let ok = if u.arbitrary()? {
                    Some(child(u)?)
                } else {
                    None
                };
                let err = if u.arbitrary()? {
                    Some(child(u)?)
                } else {
                    None
                };
                Ty::Result(ok, err)
            }
            11 => Ty::Map(u.choose(MAP_KEYS)?, child(u)?),
            12 => {
                let n = u.int_in_range(1..=4)?;
                let names = names(u, n)?;
                let mut fields = Vec::with_capacity(n);
                for name in names {
                    fields.push((name, *child(u)?));
                }
                Ty::Record(fields)
            }
            13 => {
                let n = u.int_in_range(1..=4)?;
                let names = names(u, n)?;
                let mut cases = Vec::with_capacity(n);
                for name in names {
                    let payload = if u.arbitrary()? {
                        Some(*child(u)?)
                    } else {
                        None
                    };
                    cases.push((name, payload));
                }
                Ty::Variant(cases)
            }
            14 => {
                let n = u.int_in_range(1..=5)?;
                Ty::Enum(names(u, n)?)
            }
            15 => {
                let n = if u.ratio(1, 8)? {
                    32
                } else {
                    u.int_in_range(1..=6)?
                };
                Ty::Flags(names(u, n)?)
            }
            _ => Ty::Own,
        })
    }

    /// Whether a lifted value of this type lowers back to the same component value:
    /// not for `option<option<T>>` (`some(none)` lifts to nil, as `none` does) nor for
    /// maps whose keys are not strings (they lift to an array of pairs).
    pub fn round_trips(&self) -> bool {
        match self {
            Ty::Prim(_) | Ty::Enum(_) | Ty::Flags(_) | Ty::Own | Ty::Borrow => true,
            Ty::List(t) | Ty::FixedList(t, _) => t.round_trips(),
            Ty::Tuple(ts) => ts.iter().all(Ty::round_trips),
            Ty::Option(t) => !matches!(**t, Ty::Option(_)) && t.round_trips(),
            Ty::Result(ok, err) => [ok, err].into_iter().flatten().all(|t| t.round_trips()),
            Ty::Map(k, v) => *k == "string" && v.round_trips(),
            Ty::Record(fields) => fields.iter().all(|(_, t)| t.round_trips()),
            Ty::Variant(cases) => cases.iter().flat_map(|(_, t)| t).all(Ty::round_trips),
        }
    }
}

/// Renders types as the WAT of a component importing `f` with one parameter per type.
pub fn component_wat(params: &[Ty]) -> String {
    let mut out = String::from("(component\n  (import \"r\" (type $r (sub resource)))\n");
    let mut next = 0;
    let rendered: Vec<String> = params
        .iter()
        .map(|t| render(t, &mut out, &mut next))
        .collect();
    out.push_str("  (import \"f\" (func");
    for (i, t) in rendered.iter().enumerate() {
        let _ = write!(out, " (param \"p{i}\" {t})");
    }
    out.push_str("))\n)\n");
    out
}

/// The reference to `ty`, defining (and importing, as WIT requires) its named types in `out`.
fn render(ty: &Ty, out: &mut String, next: &mut u32) -> String {
    let quoted = |names: &[String]| {
        names
            .iter()
            .map(|n| format!("\"{n}\""))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let body = match ty {
        Ty::Prim(p) => return (*p).to_owned(),
        Ty::List(t) => return format!("(list {})", render(t, out, next)),
        Ty::FixedList(t, n) => return format!("(list {} {n})", render(t, out, next)),
        Ty::Tuple(ts) => {
            let parts: Vec<String> = ts.iter().map(|t| render(t, out, next)).collect();
            return format!("(tuple {})", parts.join(" "));
        }
        Ty::Option(t) => return format!("(option {})", render(t, out, next)),
        Ty::Result(ok, err) => {
            let mut s = String::from("(result");
            if let Some(ok) = ok {
                let _ = write!(s, " {}", render(ok, out, next));
            }
            if let Some(err) = err {
                let _ = write!(s, " (error {})", render(err, out, next));
            }
            s.push(')');
            return s;
        }
        Ty::Map(k, v) => return format!("(map {k} {})", render(v, out, next)),
        Ty::Own => return "(own $r)".into(),
        Ty::Borrow => return "(borrow $r)".into(),
        Ty::Record(fields) => {
            let mut s = String::from("(record");
            for (name, t) in fields {
                let t = render(t, out, next);
                let _ = write!(s, " (field \"{name}\" {t})");
            }
            s + ")"
        }
        Ty::Variant(cases) => {
            let mut s = String::from("(variant");
            for (name, t) in cases {
                match t {
                    Some(t) => {
                        let t = render(t, out, next);
                        let _ = write!(s, " (case \"{name}\" {t})");
                    }
                    None => {
                        let _ = write!(s, " (case \"{name}\")");
                    }
                }
            }
            s + ")"
        }
        Ty::Enum(names) => format!("(enum {})", quoted(names)),
        Ty::Flags(names) => format!("(flags {})", quoted(names)),
    };
    let n = *next;
    *next += 1;
    let _ = writeln!(out, "  (type $t{n}' {body})");
    let _ = writeln!(out, "  (import \"t{n}\" (type $t{n} (eq $t{n}')))");
    format!("$t{n}")
}

/// Up to `max` parameter types; a whole parameter may be a `borrow`.
pub fn arbitrary_params(u: &mut Unstructured, max: usize) -> Result<Vec<Ty>> {
    let n = u.int_in_range(1..=max)?;
    let mut budget = 24;
    let mut params = Vec::with_capacity(n);
    for _ in 0..n {
        params.push(if u.ratio(1, 40)? {
            Ty::Borrow
        } else {
            Ty::arbitrary(u, 0, &mut budget)?
        });
    }
    Ok(params)
}

/// The `(name, type)` parameters of `f` in the component the types render to.
///
/// Panics when the rendering does not compile: that is a bug of this generator.
pub fn compile(params: &[Ty]) -> Vec<(String, Type)> {
    let wat = component_wat(params);
    let bytes = wat::parse_str(&wat).unwrap_or_else(|e| panic!("bad WAT: {e}\n{wat}"));
    let component =
        Component::new(&ENGINE, &bytes).unwrap_or_else(|e| panic!("invalid: {e:?}\n{wat}"));
    let ty = component.component_type();
    let Some(ComponentItem::ComponentFunc(f)) = ty.get_import(&ENGINE, "f").map(|e| e.ty) else {
        panic!("no function f in\n{wat}");
    };
    f.params().map(|(n, t)| (n.to_owned(), t)).collect()
}

//! Small Lua chunks whose results are awkward to convert: cycles, holes, metatables with
//! `__tostring` that raises, yields, loops or mutates, functions, coroutines, odd keys.
//!
//! The chunks run with two globals besides the standard library: `G`, a shared table
//! that metamethods mutate (also while it is being converted), and `E`, a weft error
//! object.

use std::fmt::Write as _;

use arbitrary::{Result, Unstructured};

/// Leaves: literals at the edges and values the converter stringifies.
const LEAVES: &[&str] = &[
    "nil",
    "true",
    "false",
    "0",
    "-1",
    "1",
    "3",
    "math.maxinteger",
    "math.mininteger",
    "0/0",
    "1/0",
    "-1/0",
    "-0.0",
    "0.5",
    "2^53",
    "2^63",
    "1e308",
    "''",
    "'a'",
    "'ok'",
    "'err'",
    "'\\0\\255'",
    "'1'",
    "G",
    "E",
    "print",
    "string",
    "coroutine.create(function() end)",
    "coroutine.running()",
    "function() end",
];

/// Bodies of a `__tostring` (run when a table or userdata key is stringified).
const TOSTRING: &[&str] = &[
    "return 'k'",
    "return 'ok'",
    "return 1",
    "return nil",
    "error('boom')",
    "error(E)",
    "error(setmetatable({}, {__tostring = function() error('again') end}))",
    "coroutine.yield()",
    "while true do end",
    "G[#G + 1] = G return 'g'",
    "for k in pairs(G) do G[k] = nil end return 'cleared'",
    "G[{}] = 1 G.new = 2 return 'grew'",
    "return string.rep('x', 100000)",
    "return tostring(G)",
];

/// Other metatable fields.
const META: &[&str] = &[
    "__len = function() return 5 end",
    "__index = function(t, k) return k end",
    "__index = {1, 2, 3}",
    "__name = 'thing'",
    "__pairs = function(t) return next, {1}, nil end",
    "__metatable = false",
    "__eq = function() return true end",
    "__newindex = function() error('read-only') end",
    "__gc = function() G.gc = (G.gc or 0) + 1 end",
    "__mode = 'k'",
];

/// A string literal of arbitrary bytes, every byte escaped.
fn string_literal(u: &mut Unstructured) -> Result<String> {
    let len = u.int_in_range(0..=6)?;
    let mut s = String::from("'");
    for b in u.bytes(len)? {
        let _ = write!(s, "\\{b}");
    }
    s.push('\'');
    Ok(s)
}

/// A table constructor of up to five fields (positional, named, or bracketed keys).
fn table(u: &mut Unstructured, depth: u32) -> Result<String> {
    let mut s = String::from("{");
    for _ in 0..u.int_in_range(0..=5)? {
        match u.int_in_range(0..=3)? {
            0 | 1 => s.push_str(&expr(u, depth + 1)?),
            2 => {
                let name = u.choose(crate::value::NAMES)?.replace('-', "_");
                let _ = write!(s, "{name} = {}", expr(u, depth + 1)?);
            }
            _ => {
                let _ = write!(s, "[{}] = {}", expr(u, depth + 1)?, expr(u, depth + 1)?);
            }
        }
        s.push_str(", ");
    }
    s.push('}');
    Ok(s)
}

/// A metatable constructor.
fn metatable(u: &mut Unstructured) -> Result<String> {
    let mut s = String::from("{");
    if u.arbitrary()? {
        let _ = write!(s, "__tostring = function() {} end, ", u.choose(TOSTRING)?);
    }
    for _ in 0..u.int_in_range(0..=2)? {
        let _ = write!(s, "{}, ", u.choose(META)?);
    }
    s.push('}');
    Ok(s)
}

/// A sparse table `{0, [2] = 1, [4] = 2, …}` (maybe with `[math.maxinteger]`): made by
/// one constructor, its keys stay in the hash part, and Lua's border search may report
/// a length far beyond its entries.
fn sparse(u: &mut Unstructured) -> Result<String> {
    let mut s = String::from("{0");
    for i in 1..=u.int_in_range(0..=62)? {
        let _ = write!(s, ", [1 << {i}] = {i}");
    }
    if u.arbitrary()? {
        s.push_str(", [math.maxinteger] = 0");
    }
    s.push('}');
    Ok(s)
}

/// An expression about `4 - depth` levels deep.
pub fn expr(u: &mut Unstructured, depth: u32) -> Result<String> {
    if depth >= 4 || u.is_empty() {
        return Ok((*u.choose(LEAVES)?).to_owned());
    }
    Ok(match u.int_in_range(0..=12)? {
        0..=2 => (*u.choose(LEAVES)?).to_owned(),
        3 => string_literal(u)?,
        4 | 5 => table(u, depth)?,
        6 | 7 => format!("setmetatable({}, {})", table(u, depth)?, metatable(u)?),
        8 => format!(
            "(function() local t = {} t[{}] = t return t end)()",
            table(u, depth)?,
            expr(u, depth + 1)?
        ),
        9 => format!(
            "(function() G[{}] = {} return G end)()",
            expr(u, depth + 1)?,
            expr(u, depth + 1)?
        ),
        10 => format!("{{{}, nil, {}}}", expr(u, depth + 1)?, expr(u, depth + 1)?),
        11 => sparse(u)?,
        _ => format!(
            "string.rep({}, {})",
            string_literal(u)?,
            u.int_in_range(0..=2000)?
        ),
    })
}

/// A chunk returning one to three expressions.
pub fn chunk(u: &mut Unstructured) -> Result<String> {
    let n = u.int_in_range(1..=3)?;
    let exprs: Result<Vec<String>> = (0..n).map(|_| expr(u, 0)).collect();
    Ok(format!("return {}", exprs?.join(", ")))
}

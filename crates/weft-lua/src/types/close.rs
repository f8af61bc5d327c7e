//! Closing a type value: resolving every name it reaches into one self-contained
//! [`Graph`], so validation, reflection and comparison need no more Lua.
//!
//! Each alias instance reached (`Point`, `Result<number, string>`) becomes a definition
//! of the graph, and its uses the reference `#i` (a [`Named`] whose one segment is `#`
//! and the index: no Lua name looks like it). A name is resolved by calling its thunk
//! from the declaration's `refs` table, which must give a type value; a generic alias
//! is instantiated by substituting its (closed) arguments for its parameters, or, used
//! bare, its parameters' constraints (`any` without one). The parameters of a generic
//! function type become their constraints too: parameters are not checked at run time.
//! A single name missing from `refs` is a type parameter of an enclosing generic
//! function (the front end lists every other name there) and stands for `any`.
//!
//! A graph is bounded: [`MAX_DEFS`] instances, [`MAX_DEPTH`] levels of nesting
//! (counted through the aliases used), [`MAX_ARG_DEPTH`] levels in type arguments
//! (polymorphic recursion such as `type Nest<T> = {next: Nest<{T}>?}` would go on).
//! A definition that reaches itself without passing through a table or function type
//! (`type A = A | number`) is rejected: it describes no value and would never end.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use mlua::{AnyUserData, Table, Value as LuaValue};
use regex::bytes::Regex;
use weft_lua_types::{Field, FuncType, Named, Type};

use super::subtype::Scope;
use super::value::TypeValue;
use super::{Fault, text};

/// How many alias instances one graph may hold.
pub const MAX_DEFS: usize = 1000;

/// How deep a type may nest while it is closed, counted through the aliases it uses.
pub const MAX_DEPTH: usize = 200;

/// How deep the type arguments of an alias instance may nest.
const MAX_ARG_DEPTH: usize = 32;

/// A type value in closed form: its graph and its own type.
pub struct Closed {
    /// The definitions its names refer to.
    pub graph: Arc<Graph>,
    /// Its type (`#i` for an alias).
    pub root: Type,
}

/// The definitions of a closed type, and its compiled `@pattern`s.
#[derive(Default)]
pub struct Graph {
    /// Alias instances, referred to as `#i`.
    pub defs: Vec<Def>,
    /// The compiled `@pattern`s, by source.
    pub patterns: HashMap<String, Regex>,
}

/// One alias instance.
pub struct Def {
    /// The alias' name (`Result`).
    pub alias: String,
    /// How it is shown (`Result<number, string>`).
    pub display: String,
    /// What it stands for.
    pub ty: Type,
}

/// The reference to definition `i`.
pub fn reference(i: usize) -> Type {
    Type::Named(Named {
        path: vec![format!("#{i}")],
        args: Vec::new(),
    })
}

fn index(named: &Named) -> Option<usize> {
    match named.path.as_slice() {
        [one] => one.strip_prefix('#')?.parse().ok(),
        _ => None,
    }
}

impl Graph {
    /// The definition a reference names.
    pub fn def(&self, named: &Named) -> Option<&Def> {
        self.defs.get(index(named)?)
    }

    /// `ty` as text, references shown as their aliases.
    pub fn show(&self, ty: &Type) -> String {
        text::render(ty, &|n| {
            self.def(n)
                .map_or_else(|| n.path.join("."), |d| d.display.clone())
        })
    }

    /// `ty` with references and validators taken off until neither is outside.
    pub fn unfold<'a>(&'a self, mut ty: &'a Type) -> &'a Type {
        for _ in 0..=self.defs.len() + MAX_DEPTH {
            ty = match ty {
                Type::Named(n) => match self.def(n) {
                    Some(d) => &d.ty,
                    None => return ty,
                },
                Type::Validated(inner, _) => inner,
                _ => return ty,
            };
        }
        ty
    }
}

impl Scope for Graph {
    fn resolve(&self, named: &Named) -> Option<Cow<'_, Type>> {
        self.def(named).map(|d| Cow::Borrowed(&d.ty))
    }
}

/// One graph holding both `a` and `b` (for comparing them), with their roots in it.
pub fn merge(a: &Closed, b: &Closed) -> (Graph, Type, Type) {
    let offset = a.graph.defs.len();
    let mut defs: Vec<Def> = a.graph.defs.iter().map(|d| renamed(d, 0)).collect();
    defs.extend(b.graph.defs.iter().map(|d| renamed(d, offset)));
    let graph = Graph {
        defs,
        patterns: HashMap::new(),
    };
    (graph, a.root.clone(), shift(&b.root, offset))
}

fn renamed(d: &Def, offset: usize) -> Def {
    Def {
        alias: d.alias.clone(),
        display: d.display.clone(),
        ty: shift(&d.ty, offset),
    }
}

/// Closes the type value `ud`: `Err` with a message for a type that cannot be closed
/// (an unknown name, a wrong number of type arguments, a self-referring alias).
pub fn close(ud: &AnyUserData) -> mlua::Result<Result<Closed, String>> {
    let mut closer = Closer {
        defs: Vec::new(),
        instances: Vec::new(),
        imports: Vec::new(),
        held: Vec::new(),
        patterns: HashMap::new(),
    };
    let root = match closer.instance(ud, Vec::new(), 0) {
        Ok(root) => root,
        Err(Fault::Invalid(message)) => return Ok(Err(message)),
        Err(Fault::Lua(e)) => return Err(e),
    };
    let graph = Graph {
        defs: closer.defs,
        patterns: closer.patterns,
    };
    if let Some(def) = self_referring(&graph) {
        return Ok(Err(format!(
            "type {} is defined in terms of itself",
            def.display
        )));
    }
    Ok(Ok(Closed {
        graph: Arc::new(graph),
        root,
    }))
}

/// The names of a declaration's scope: the `refs` thunks and the bound parameters.
struct Env {
    refs: Option<Table>,
    bound: Vec<(String, Type)>,
}

struct Closer {
    defs: Vec<Def>,
    /// The instances made: the type value (by address), its arguments, its definition.
    instances: Vec<(usize, Vec<Type>, usize)>,
    /// The closed-only values copied in: address, offset of their definitions.
    imports: Vec<(usize, usize)>,
    /// The type values met, held so that no address is reused while closing.
    held: Vec<AnyUserData>,
    patterns: HashMap<String, Regex>,
}

impl Closer {
    /// The closed type of the type value `ud` applied to `args`.
    fn instance(&mut self, ud: &AnyUserData, args: Vec<Type>, depth: usize) -> Result<Type, Fault> {
        let key = ud.to_pointer() as usize;
        self.held.push(ud.clone());
        let decl = match &*ud.borrow::<TypeValue>()? {
            TypeValue::Declared { decl, .. } => decl.clone(),
            TypeValue::Closed(closed) => {
                if !args.is_empty() {
                    return Err(Fault::Invalid(format!(
                        "type {} takes no type arguments",
                        closed.graph.show(&closed.root)
                    )));
                }
                return Ok(self.import(key, closed));
            }
        };
        for (source, re) in &decl.patterns {
            self.patterns
                .entry(source.clone())
                .or_insert_with(|| re.clone());
        }
        let refs = match ud.user_value::<LuaValue>()? {
            LuaValue::Table(t) => Some(t),
            _ => None,
        };
        let d = &decl.decl;
        if d.name.is_empty() {
            let env = Env {
                refs,
                bound: Vec::new(),
            };
            return self.walk(&d.ty, &env, depth + 1);
        }
        if !args.is_empty() && args.len() != d.generics.len() {
            return Err(Fault::Invalid(format!(
                "type {} takes {} type argument{}, got {}",
                d.name,
                d.generics.len(),
                if d.generics.len() == 1 { "" } else { "s" },
                args.len()
            )));
        }
        if args.iter().any(|a| deeper_than(a, MAX_ARG_DEPTH)) {
            return Err(Fault::Invalid(format!(
                "type {} expands without end (type arguments nested deeper than {MAX_ARG_DEPTH} levels)",
                d.name
            )));
        }
        if let Some((_, _, i)) = self
            .instances
            .iter()
            .find(|(k, a, _)| *k == key && *a == args)
        {
            return Ok(reference(*i));
        }
        if self.defs.len() >= MAX_DEFS {
            return Err(Fault::Invalid(format!(
                "type {} expands to more than {MAX_DEFS} types",
                d.name
            )));
        }
        let mut env = Env {
            refs,
            bound: Vec::new(),
        };
        let display = if args.is_empty() {
            d.name.clone()
        } else {
            let shown: Vec<String> = args.iter().map(|a| self.show(a)).collect();
            format!("{}<{}>", d.name, shown.join(", "))
        };
        if args.is_empty() {
            for g in &d.generics {
                let t = match &g.constraint {
                    Some(c) => self.walk(c, &env, depth + 1)?,
                    None => Type::Any,
                };
                env.bound.push((g.name.clone(), t));
            }
        } else {
            env.bound = d
                .generics
                .iter()
                .map(|g| g.name.clone())
                .zip(args.iter().cloned())
                .collect();
        }
        let i = self.defs.len();
        self.defs.push(Def {
            alias: d.name.clone(),
            display,
            ty: Type::Never,
        });
        self.instances.push((key, args, i));
        let ty = self.walk(&d.ty, &env, depth + 1)?;
        self.defs[i].ty = ty;
        Ok(reference(i))
    }

    /// Copies a closed value's graph in (once per value) and gives its root.
    fn import(&mut self, key: usize, closed: &Closed) -> Type {
        let offset = match self.imports.iter().find(|(k, _)| *k == key) {
            Some((_, offset)) => *offset,
            None => {
                let offset = self.defs.len();
                self.defs
                    .extend(closed.graph.defs.iter().map(|d| renamed(d, offset)));
                for (source, re) in &closed.graph.patterns {
                    self.patterns
                        .entry(source.clone())
                        .or_insert_with(|| re.clone());
                }
                self.imports.push((key, offset));
                offset
            }
        };
        shift(&closed.root, offset)
    }

    fn show(&self, ty: &Type) -> String {
        text::render(ty, &|n| {
            index(n)
                .and_then(|i| self.defs.get(i))
                .map_or_else(|| n.path.join("."), |d| d.display.clone())
        })
    }

    /// `ty` of a declaration closed in `env`.
    fn walk(&mut self, ty: &Type, env: &Env, depth: usize) -> Result<Type, Fault> {
        if depth > MAX_DEPTH {
            return Err(Fault::Invalid(format!(
                "type nested deeper than {MAX_DEPTH} levels"
            )));
        }
        let d = depth + 1;
        Ok(match ty {
            Type::Named(n) => return self.name(n, env, d),
            Type::Optional(inner) => Type::Optional(Box::new(self.walk(inner, env, d)?)),
            Type::Array(inner) => Type::Array(Box::new(self.walk(inner, env, d)?)),
            Type::Map(k, v) => Type::Map(
                Box::new(self.walk(k, env, d)?),
                Box::new(self.walk(v, env, d)?),
            ),
            Type::Union(ms) => Type::Union(self.walk_all(ms, env, d)?),
            Type::Intersection(ms) => Type::Intersection(self.walk_all(ms, env, d)?),
            Type::Record(fields) => Type::Record(
                fields
                    .iter()
                    .map(|f| {
                        Ok(Field {
                            ty: self.walk(&f.ty, env, d)?,
                            ..f.clone()
                        })
                    })
                    .collect::<Result<_, Fault>>()?,
            ),
            Type::Func(f) => Type::Func(self.func(f, env, d)?),
            Type::Validated(inner, vs) => {
                Type::Validated(Box::new(self.walk(inner, env, d)?), vs.clone())
            }
            leaf => leaf.clone(),
        })
    }

    fn walk_all(&mut self, tys: &[Type], env: &Env, depth: usize) -> Result<Vec<Type>, Fault> {
        tys.iter().map(|t| self.walk(t, env, depth)).collect()
    }

    /// A function type with its generic parameters replaced by their constraints.
    fn func(&mut self, f: &FuncType, env: &Env, depth: usize) -> Result<FuncType, Fault> {
        let mut inner = Env {
            refs: env.refs.clone(),
            bound: env.bound.clone(),
        };
        for g in &f.generics {
            let t = match &g.constraint {
                Some(c) => self.walk(c, &inner, depth)?,
                None => Type::Any,
            };
            inner.bound.push((g.name.clone(), t));
        }
        Ok(FuncType {
            generics: Vec::new(),
            params: self.walk_all(&f.params, &inner, depth)?,
            variadic: match &f.variadic {
                Some(v) => Some(Box::new(self.walk(v, &inner, depth)?)),
                None => None,
            },
            returns: self.walk_all(&f.returns, &inner, depth)?,
        })
    }

    /// A name: a bound parameter, or an alias from the `refs` thunks.
    fn name(&mut self, n: &Named, env: &Env, depth: usize) -> Result<Type, Fault> {
        if let [one] = n.path.as_slice()
            && let Some((_, t)) = env.bound.iter().rev().find(|(name, _)| name == one)
        {
            if !n.args.is_empty() {
                return Err(Fault::Invalid(format!(
                    "type parameter {one} takes no type arguments"
                )));
            }
            return Ok(t.clone());
        }
        let path = n.path.join(".");
        let thunk = match &env.refs {
            Some(refs) => refs.raw_get::<LuaValue>(path.as_str())?,
            None => LuaValue::Nil,
        };
        let target = match thunk {
            // A thunk that raises (`lib.Point` with no `lib`) names no type either.
            LuaValue::Function(f) => match f.call::<LuaValue>(()) {
                Ok(v) => v,
                Err(e @ mlua::Error::MemoryError(_)) => return Err(e.into()),
                Err(_) => LuaValue::Nil,
            },
            // Not a reference: a type parameter of an enclosing generic function (the
            // front end lists every other name), unchecked at run time.
            LuaValue::Nil if n.path.len() == 1 && n.args.is_empty() => return Ok(Type::Any),
            _ => LuaValue::Nil,
        };
        let target = match target {
            LuaValue::UserData(ud) if ud.is::<TypeValue>() => ud,
            _ => return Err(Fault::Invalid(format!("unknown type {path}"))),
        };
        let args = self.walk_all(&n.args, env, depth)?;
        self.instance(&target, args, depth)
    }
}

/// Whether `ty` nests deeper than `limit` levels.
fn deeper_than(ty: &Type, limit: usize) -> bool {
    let Some(l) = limit.checked_sub(1) else {
        return true;
    };
    match ty {
        Type::Optional(t) | Type::Array(t) | Type::Validated(t, _) => deeper_than(t, l),
        Type::Map(k, v) => deeper_than(k, l) || deeper_than(v, l),
        Type::Union(ms) | Type::Intersection(ms) => ms.iter().any(|m| deeper_than(m, l)),
        Type::Record(fields) => fields.iter().any(|f| deeper_than(&f.ty, l)),
        Type::Func(f) => f
            .params
            .iter()
            .chain(f.variadic.as_deref())
            .chain(&f.returns)
            .any(|t| deeper_than(t, l)),
        Type::Named(n) => n.args.iter().any(|a| deeper_than(a, l)),
        _ => false,
    }
}

/// `ty` with each reference `#i` made `#(i + offset)`.
fn shift(ty: &Type, offset: usize) -> Type {
    if offset == 0 {
        return ty.clone();
    }
    map(ty, &|n| index(n).map(|i| reference(i + offset)))
}

/// `ty` with each name `f` maps replaced (others kept).
fn map(ty: &Type, f: &dyn Fn(&Named) -> Option<Type>) -> Type {
    let each = |t: &Type| map(t, f);
    let boxed = |t: &Type| Box::new(map(t, f));
    match ty {
        Type::Named(n) => f(n).unwrap_or_else(|| {
            Type::Named(Named {
                path: n.path.clone(),
                args: n.args.iter().map(each).collect(),
            })
        }),
        Type::Optional(inner) => Type::Optional(boxed(inner)),
        Type::Array(inner) => Type::Array(boxed(inner)),
        Type::Map(k, v) => Type::Map(boxed(k), boxed(v)),
        Type::Union(ms) => Type::Union(ms.iter().map(each).collect()),
        Type::Intersection(ms) => Type::Intersection(ms.iter().map(each).collect()),
        Type::Record(fields) => Type::Record(
            fields
                .iter()
                .map(|fl| Field {
                    ty: each(&fl.ty),
                    ..fl.clone()
                })
                .collect(),
        ),
        Type::Func(fu) => Type::Func(FuncType {
            generics: fu.generics.clone(),
            params: fu.params.iter().map(each).collect(),
            variadic: fu.variadic.as_deref().map(boxed),
            returns: fu.returns.iter().map(each).collect(),
        }),
        Type::Validated(inner, vs) => Type::Validated(boxed(inner), vs.clone()),
        leaf => leaf.clone(),
    }
}

/// A definition that reaches itself through unions, intersections, optionals,
/// validators and names only.
fn self_referring(graph: &Graph) -> Option<&Def> {
    (0..graph.defs.len()).find_map(|i| {
        let mut seen = vec![false; graph.defs.len()];
        reaches(graph, &graph.defs[i].ty, i, &mut seen).then(|| &graph.defs[i])
    })
}

fn reaches(graph: &Graph, ty: &Type, target: usize, seen: &mut [bool]) -> bool {
    match ty {
        Type::Named(n) => match index(n) {
            Some(i) if i == target => true,
            Some(i) if i < seen.len() && !seen[i] => {
                seen[i] = true;
                reaches(graph, &graph.defs[i].ty, target, seen)
            }
            _ => false,
        },
        Type::Union(ms) | Type::Intersection(ms) => {
            ms.iter().any(|m| reaches(graph, m, target, seen))
        }
        Type::Optional(inner) | Type::Validated(inner, _) => reaches(graph, inner, target, seen),
        _ => false,
    }
}

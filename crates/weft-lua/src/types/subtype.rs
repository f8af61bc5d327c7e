//! Subtyping and structural equality of types: the pure rules behind `<=`, `<` and `==`
//! of type values, kept free of Lua so a static checker can reuse them.
//!
//! Names resolve through a [`Scope`]. Recursive types are compared coinductively: a pair
//! of names met again while it is being compared is assumed to hold; a comparison that
//! fails withdraws the assumptions made inside it. Comparisons deeper than
//! [`MAX_DEPTH`] do not hold.
//!
//! The rules (after Wippy's checker): `never` is below and `any`/`unknown` above every
//! type, and `any`/`unknown` are below only types with a top member; `integer <: number`;
//! a literal is below its base type; a union is below `T` when each member is, and below
//! a union when it is below one member; `T?` is `T | nil`; an intersection is below `T`
//! when one member is (records are merged first), and above `T` when each member is;
//! records have width subtyping, readonly fields are covariant and mutable ones
//! invariant except for widening (`integer` to `number`, a literal to its base, `nil` to
//! an optional); arrays are covariant; map keys and values are invariant (a slot typed
//! `any` or `unknown` takes any type); an empty record is below every array and map, a
//! record below a map whose key takes its field names and value takes its field types,
//! an array below a map with integer keys; function parameters are contravariant,
//! returns covariant; `table` is above records, arrays and maps, `function` above
//! function types. A type with validators is below one whose validators it implies.

use std::borrow::Cow;

use weft_lua_types::{Field, FuncType, Literal, Named, Type, Validator};

/// How deep a comparison may recurse before it is taken not to hold.
pub const MAX_DEPTH: usize = 200;

/// Where the names of compared types are defined.
pub trait Scope {
    /// The type `named` stands for (its arguments substituted), or `None` if unknown.
    fn resolve(&self, named: &Named) -> Option<Cow<'_, Type>>;
}

/// Whether every value of `sub` is a value of `sup`.
pub fn is_subtype(sub: &Type, sup: &Type, scope: &dyn Scope) -> bool {
    Relation::new(scope).sub(sub, sup, 0)
}

/// Whether `a` and `b` are the same type: the same structure once names are resolved,
/// union and intersection members and record fields in any order.
pub fn equal(a: &Type, b: &Type, scope: &dyn Scope) -> bool {
    Relation::new(scope).eq(a, b, 0)
}

/// One derivation: the scope and the assumed pairs of names (subtyping and equality
/// keep separate trails).
struct Relation<'s> {
    scope: &'s dyn Scope,
    below: Vec<(Named, Named)>,
    same: Vec<(Named, Named)>,
}

impl<'s> Relation<'s> {
    fn new(scope: &'s dyn Scope) -> Self {
        Relation {
            scope,
            below: Vec::new(),
            same: Vec::new(),
        }
    }

    /// `sub <: sup`, withdrawing the assumptions of a failed attempt.
    fn sub(&mut self, sub: &Type, sup: &Type, depth: usize) -> bool {
        let mark = self.below.len();
        let holds = depth <= MAX_DEPTH && self.derive(sub, sup, depth + 1);
        if !holds {
            self.below.truncate(mark);
        }
        holds
    }

    fn derive(&mut self, sub: &Type, sup: &Type, depth: usize) -> bool {
        if let (Type::Named(a), Type::Named(b)) = (sub, sup) {
            if a == b || self.below.iter().any(|(x, y)| x == a && y == b) {
                return true;
            }
            self.below.push((a.clone(), b.clone()));
        }
        if let Type::Named(n) = sub {
            return match self.scope.resolve(n) {
                Some(t) => self.sub(&t, sup, depth),
                None => false,
            };
        }
        if let Type::Named(n) = sup {
            return match self.scope.resolve(n) {
                Some(t) => self.sub(sub, &t, depth),
                None => false,
            };
        }
        match (sub, sup) {
            (_, Type::Any | Type::Unknown) | (Type::Never, _) => return true,
            (_, Type::Never) => return false,
            (Type::Any | Type::Unknown, _) => return self.has_top(sup, depth),
            _ => {}
        }
        match sub {
            Type::Union(members) => return members.iter().all(|m| self.sub(m, sup, depth)),
            Type::Optional(inner) => {
                return self.sub(inner, sup, depth) && self.sub(&Type::Nil, sup, depth);
            }
            _ => {}
        }
        if let Type::Validated(base, wanted) = sup {
            return implies(validators(sub), wanted) && self.sub(sub, base, depth);
        }
        match sup {
            Type::Union(members) => return members.iter().any(|m| self.sub(sub, m, depth)),
            Type::Optional(inner) => {
                return matches!(sub, Type::Nil) || self.sub(sub, inner, depth);
            }
            _ => {}
        }
        if let Type::Validated(base, _) = sub {
            return self.sub(base, sup, depth);
        }
        if let Type::Intersection(members) = sub {
            if let Some(fields) = self.merged(members, depth) {
                return self.sub(&Type::Record(fields), sup, depth);
            }
            return members.iter().any(|m| self.sub(m, sup, depth));
        }
        if let Type::Intersection(members) = sup {
            return members.iter().all(|m| self.sub(sub, m, depth));
        }
        self.structural(sub, sup, depth)
    }

    /// The rules between two types that are neither names, unions nor intersections.
    fn structural(&mut self, sub: &Type, sup: &Type, depth: usize) -> bool {
        match (sub, sup) {
            (Type::Literal(a), Type::Literal(b)) => a == b,
            (Type::Literal(l), base) => literal_in(l, base),
            (Type::Integer, Type::Number) => true,
            (Type::Record(_) | Type::Array(_) | Type::Map(..) | Type::Table, Type::Table) => true,
            (Type::Func(_) | Type::Function, Type::Function) => true,
            (Type::Record(a), Type::Record(b)) => self.record(a, b, depth),
            (Type::Record(fields), Type::Array(_) | Type::Map(..)) if fields.is_empty() => true,
            (Type::Record(fields), Type::Map(key, value)) => fields.iter().all(|f| {
                let name = Type::Literal(Literal::String(f.name.as_bytes().to_vec()));
                self.sub(&name, key, depth) && self.sub(&f.ty, value, depth)
            }),
            (Type::Array(a), Type::Array(b)) => self.sub(a, b, depth),
            (Type::Array(elem), Type::Map(key, value)) => {
                self.sub(&Type::Integer, key, depth) && self.sub(elem, value, depth)
            }
            (Type::Map(ka, va), Type::Map(kb, vb)) => {
                self.slot(ka, kb, depth) && self.slot(va, vb, depth)
            }
            (Type::Func(f), Type::Func(g)) => self.func(f, g, depth),
            // The remaining pairs are leaves: nil, boolean, number, … the same or not.
            _ => sub == sup,
        }
    }

    /// Width and depth subtyping of records.
    fn record(&mut self, sub: &[Field], sup: &[Field], depth: usize) -> bool {
        sup.iter().all(|want| {
            let Some(have) = sub.iter().find(|f| f.name == want.name) else {
                return want.optional || self.admits_nil(&want.ty, depth);
            };
            let absent_ok = want.optional || self.admits_nil(&want.ty, depth);
            if absent_ok && matches!(have.ty, Type::Nil) {
                return true;
            }
            if have.optional && !absent_ok {
                return false;
            }
            if want.readonly {
                return self.sub(&have.ty, &want.ty, depth);
            }
            !have.readonly
                && self.sub(&have.ty, &want.ty, depth)
                && (self.sub(&want.ty, &have.ty, depth) || self.widens(&have.ty, &want.ty, depth))
        })
    }

    /// A mutable slot (map key or value): both ways, or the wider side is `any`/`unknown`.
    fn slot(&mut self, sub: &Type, sup: &Type, depth: usize) -> bool {
        self.sub(sub, sup, depth)
            && (self.sub(sup, sub, depth)
                || matches!(self.unfold(sup, depth).as_ref(), Type::Any | Type::Unknown))
    }

    /// Contravariant parameters, covariant returns; `f` may not need more arguments
    /// than `g` passes, nor return fewer values.
    fn func(&mut self, f: &FuncType, g: &FuncType, depth: usize) -> bool {
        let (need_f, need_g) = (self.required(f, depth), self.required(g, depth));
        if need_f > need_g || (g.variadic.is_none() && need_f > g.params.len()) {
            return false;
        }
        let slots = f.params.len().max(g.params.len());
        for i in 0..slots {
            let mine = f.params.get(i).or(f.variadic.as_deref());
            let theirs = g.params.get(i).or(g.variadic.as_deref());
            if let (Some(mine), Some(theirs)) = (mine, theirs)
                && !self.sub(theirs, mine, depth)
            {
                return false;
            }
        }
        if let (Some(mine), Some(theirs)) = (&f.variadic, &g.variadic)
            && !self.sub(theirs, mine, depth)
        {
            return false;
        }
        f.returns.len() >= g.returns.len()
            && g.returns
                .iter()
                .zip(&f.returns)
                .all(|(theirs, mine)| self.sub(mine, theirs, depth))
    }

    /// How many leading parameters of `f` must be passed (up to its last one that does
    /// not take nil).
    fn required(&mut self, f: &FuncType, depth: usize) -> usize {
        let params = &f.params;
        (0..params.len())
            .rev()
            .find(|&i| !self.admits_nil(&params[i], depth))
            .map_or(0, |i| i + 1)
    }

    /// Whether a mutable field of type `narrow` may be widened to `wide` (already
    /// `narrow <: wide`): a number to a wider number, a literal to its base, nil to an
    /// optional, member by member, element by element and field by field.
    fn widens(&mut self, narrow: &Type, wide: &Type, depth: usize) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        let narrow = self.unfold(narrow, depth).into_owned();
        let wide = self.unfold(wide, depth).into_owned();
        let depth = depth + 1;
        match (&narrow, &wide) {
            (_, Type::Any | Type::Unknown) => true,
            (Type::Nil, _) => self.admits_nil(&wide, depth),
            (_, Type::Optional(inner)) => {
                self.sub(&narrow, inner, depth) || self.widens(&narrow, inner, depth)
            }
            (Type::Union(members), _) => members.iter().all(|m| {
                (self.sub(m, &wide, depth) && self.sub(&wide, m, depth))
                    || self.widens(m, &wide, depth)
            }),
            (_, Type::Union(members)) => members.iter().any(|m| {
                !matches!(m, Type::Literal(_))
                    && (self.sub(&narrow, m, depth) || self.widens(&narrow, m, depth))
            }),
            (Type::Integer, Type::Number) => true,
            (Type::Literal(l), base) => literal_in(l, base),
            (Type::Array(a), Type::Array(b)) => self.sub(a, b, depth) || self.widens(a, b, depth),
            (Type::Record(have), Type::Record(want)) => want.iter().all(|w| {
                have.iter().find(|h| h.name == w.name).is_none_or(|h| {
                    self.sub(&w.ty, &h.ty, depth) || self.widens(&h.ty, &w.ty, depth)
                })
            }),
            _ => false,
        }
    }

    /// Whether nil is a value of `ty`.
    fn admits_nil(&mut self, ty: &Type, depth: usize) -> bool {
        self.sub(&Type::Nil, ty, depth)
    }

    /// Whether `ty` has `any` or `unknown` among its members (so every value is in it).
    fn has_top(&mut self, ty: &Type, depth: usize) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        match self.unfold(ty, depth).as_ref() {
            Type::Any | Type::Unknown => true,
            Type::Optional(inner) => self.has_top(inner, depth + 1),
            Type::Union(members) => members.iter().any(|m| self.has_top(m, depth + 1)),
            _ => false,
        }
    }

    /// The fields of an intersection whose members are all records (first field of a
    /// name wins), or `None`.
    fn merged(&mut self, members: &[Type], depth: usize) -> Option<Vec<Field>> {
        let mut fields: Vec<Field> = Vec::new();
        for m in members {
            let Type::Record(own) = self.unfold(m, depth).into_owned() else {
                return None;
            };
            for f in own {
                if !fields.iter().any(|have| have.name == f.name) {
                    fields.push(f);
                }
            }
        }
        Some(fields)
    }

    /// `ty` with names resolved until it is not a name (unknown names stay).
    fn unfold<'t>(&self, ty: &'t Type, depth: usize) -> Cow<'t, Type> {
        let mut cur = Cow::Borrowed(ty);
        for _ in depth..=MAX_DEPTH {
            let next = match cur.as_ref() {
                Type::Named(n) => match self.scope.resolve(n) {
                    Some(t) => t.into_owned(),
                    None => break,
                },
                _ => break,
            };
            cur = Cow::Owned(next);
        }
        cur
    }

    /// Structural equality, withdrawing the assumptions of a failed attempt.
    fn eq(&mut self, a: &Type, b: &Type, depth: usize) -> bool {
        let mark = self.same.len();
        let holds = depth <= MAX_DEPTH && self.derive_eq(a, b, depth + 1);
        if !holds {
            self.same.truncate(mark);
        }
        holds
    }

    fn derive_eq(&mut self, a: &Type, b: &Type, depth: usize) -> bool {
        if let (Type::Named(x), Type::Named(y)) = (a, b) {
            if x == y || self.same.iter().any(|(p, q)| p == x && q == y) {
                return true;
            }
            self.same.push((x.clone(), y.clone()));
        }
        if matches!(a, Type::Named(_)) || matches!(b, Type::Named(_)) {
            let (ua, ub) = (self.unfold(a, depth), self.unfold(b, depth));
            if matches!(ua.as_ref(), Type::Named(_)) || matches!(ub.as_ref(), Type::Named(_)) {
                return ua == ub;
            }
            return self.eq(&ua, &ub, depth);
        }
        match (a, b) {
            (Type::Union(_) | Type::Optional(_), _) | (_, Type::Union(_) | Type::Optional(_)) => {
                let (ma, mb) = (self.members(a, depth), self.members(b, depth));
                self.same_set(&ma, &mb, depth)
            }
            (Type::Intersection(ma), Type::Intersection(mb)) => self.same_set(ma, mb, depth),
            (Type::Record(fa), Type::Record(fb)) => {
                fa.len() == fb.len()
                    && fa.iter().all(|f| {
                        fb.iter().find(|g| g.name == f.name).is_some_and(|g| {
                            f.optional == g.optional
                                && f.readonly == g.readonly
                                && self.eq(&f.ty, &g.ty, depth)
                        })
                    })
            }
            (Type::Array(x), Type::Array(y)) => self.eq(x, y, depth),
            (Type::Map(ka, va), Type::Map(kb, vb)) => {
                self.eq(ka, kb, depth) && self.eq(va, vb, depth)
            }
            (Type::Func(f), Type::Func(g)) => {
                self.same_list(&f.params, &g.params, depth)
                    && self.same_list(&f.returns, &g.returns, depth)
                    && match (&f.variadic, &g.variadic) {
                        (None, None) => true,
                        (Some(x), Some(y)) => self.eq(x, y, depth),
                        _ => false,
                    }
            }
            (Type::Validated(x, vx), Type::Validated(y, vy)) => {
                vx.len() == vy.len() && vx.iter().all(|v| vy.contains(v)) && self.eq(x, y, depth)
            }
            _ => a == b,
        }
    }

    /// The members of a union or optional, nested ones flattened (`T?` is `T | nil`).
    fn members(&self, ty: &Type, depth: usize) -> Vec<Type> {
        let mut out = Vec::new();
        self.flatten(ty, depth, &mut out);
        out
    }

    fn flatten(&self, ty: &Type, depth: usize, out: &mut Vec<Type>) {
        if depth > MAX_DEPTH {
            out.push(ty.clone());
            return;
        }
        match ty {
            Type::Union(ms) => ms.iter().for_each(|m| self.flatten(m, depth + 1, out)),
            Type::Optional(inner) => {
                self.flatten(inner, depth + 1, out);
                out.push(Type::Nil);
            }
            Type::Named(_) => match self.unfold(ty, depth).into_owned() {
                t @ (Type::Union(_) | Type::Optional(_)) => self.flatten(&t, depth + 1, out),
                _ => out.push(ty.clone()),
            },
            other => out.push(other.clone()),
        }
    }

    /// Each member of `a` equals one of `b` and each of `b` one of `a`.
    fn same_set(&mut self, a: &[Type], b: &[Type], depth: usize) -> bool {
        a.iter().all(|x| b.iter().any(|y| self.eq(x, y, depth)))
            && b.iter().all(|y| a.iter().any(|x| self.eq(x, y, depth)))
    }

    fn same_list(&mut self, a: &[Type], b: &[Type], depth: usize) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| self.eq(x, y, depth))
    }
}

/// Whether the literal `l` is a value of the (non-literal) type `base`.
fn literal_in(l: &Literal, base: &Type) -> bool {
    matches!(
        (l, base),
        (Literal::Boolean(_), Type::Boolean)
            | (Literal::String(_), Type::String)
            | (Literal::Integer(_), Type::Integer | Type::Number)
            | (Literal::Number(_), Type::Number)
    )
}

/// The validators on the outside of `ty`.
fn validators(ty: &Type) -> &[Validator] {
    match ty {
        Type::Validated(_, vs) => vs,
        _ => &[],
    }
}

/// Whether values passing `have` pass each of `want` (a tighter or equal bound, the
/// same pattern).
fn implies(have: &[Validator], want: &[Validator]) -> bool {
    want.iter().all(|w| {
        have.iter().any(|h| match (h, w) {
            (Validator::Min(a), Validator::Min(b)) | (Validator::Max(b), Validator::Max(a)) => {
                a >= b
            }
            (Validator::MinLen(a), Validator::MinLen(b))
            | (Validator::MaxLen(b), Validator::MaxLen(a)) => a >= b,
            (Validator::Pattern(a), Validator::Pattern(b)) => a == b,
            _ => false,
        })
    })
}

#[cfg(test)]
#[path = "subtype_tests.rs"]
mod tests;

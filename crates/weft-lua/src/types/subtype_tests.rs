//! Tests of the subtyping and equality rules, on hand-made types.

use std::collections::HashMap;

use super::*;

/// Named types by their single-segment name.
struct Names(HashMap<String, Type>);

impl Scope for Names {
    fn resolve(&self, named: &Named) -> Option<Cow<'_, Type>> {
        self.0.get(&named.path.join(".")).map(Cow::Borrowed)
    }
}

fn names(defs: &[(&str, Type)]) -> Names {
    Names(
        defs.iter()
            .map(|(n, t)| (n.to_string(), t.clone()))
            .collect(),
    )
}

fn none() -> Names {
    names(&[])
}

fn name(n: &str) -> Type {
    Type::Named(Named {
        path: vec![n.into()],
        args: vec![],
    })
}

fn field(n: &str, ty: Type) -> Field {
    Field {
        name: n.into(),
        ty,
        optional: false,
        readonly: false,
    }
}

fn optional(n: &str, ty: Type) -> Field {
    Field {
        optional: true,
        ..field(n, ty)
    }
}

fn readonly(n: &str, ty: Type) -> Field {
    Field {
        readonly: true,
        ..field(n, ty)
    }
}

fn rec(fields: Vec<Field>) -> Type {
    Type::Record(fields)
}

fn lit(s: &str) -> Type {
    Type::Literal(Literal::String(s.as_bytes().to_vec()))
}

fn func(params: Vec<Type>, returns: Vec<Type>) -> Type {
    Type::Func(FuncType {
        generics: vec![],
        params,
        variadic: None,
        returns,
    })
}

fn union(members: Vec<Type>) -> Type {
    Type::Union(members)
}

fn opt(t: Type) -> Type {
    Type::Optional(Box::new(t))
}

fn sub(a: &Type, b: &Type) -> bool {
    is_subtype(a, b, &none())
}

#[test]
fn the_documented_rules() {
    assert!(sub(&Type::Integer, &Type::Number));
    assert!(!sub(&Type::Number, &Type::Integer));
    for t in [Type::Number, Type::String, rec(vec![]), Type::Any] {
        assert!(sub(&Type::Never, &t));
        assert!(sub(&t, &Type::Any));
        assert!(sub(&t, &Type::Unknown));
    }
    let a_or_b = union(vec![Type::Number, Type::String]);
    assert!(sub(&Type::Number, &a_or_b));
    assert!(sub(
        &a_or_b,
        &union(vec![Type::String, Type::Boolean, Type::Number])
    ));
    assert!(!sub(&a_or_b, &Type::Number));
    assert!(
        !sub(&Type::Any, &Type::Number),
        "any is the top, not a bottom"
    );
    assert!(sub(&Type::Any, &opt(Type::Unknown)));
}

#[test]
fn literals_optionals_and_primitives() {
    assert!(sub(&lit("a"), &Type::String));
    assert!(sub(&Type::Literal(Literal::Integer(1)), &Type::Integer));
    assert!(sub(&Type::Literal(Literal::Integer(1)), &Type::Number));
    assert!(!sub(&Type::Literal(Literal::Number(1.5)), &Type::Integer));
    assert!(sub(&lit("a"), &union(vec![lit("a"), lit("b")])));
    assert!(!sub(&lit("c"), &union(vec![lit("a"), lit("b")])));
    assert!(!sub(&Type::String, &lit("a")));
    assert!(sub(&Type::Nil, &opt(Type::Number)));
    assert!(sub(&Type::Number, &opt(Type::Number)));
    assert!(sub(&opt(Type::Integer), &opt(Type::Number)));
    assert!(!sub(&opt(Type::Number), &Type::Number));
    assert!(sub(
        &opt(Type::Number),
        &union(vec![Type::Number, Type::Nil])
    ));
    assert!(sub(&rec(vec![]), &Type::Table));
    assert!(sub(&Type::Array(Box::new(Type::Number)), &Type::Table));
    assert!(!sub(&Type::Table, &rec(vec![])));
    assert!(sub(&func(vec![], vec![]), &Type::Function));
    assert!(!sub(&Type::Function, &func(vec![], vec![])));
    let thread = Type::Primitive("thread".into());
    assert!(sub(&thread, &thread));
    assert!(!sub(&thread, &Type::Primitive("userdata".into())));
}

#[test]
fn records_have_width_depth_and_variance() {
    let point = rec(vec![field("x", Type::Number), field("y", Type::Number)]);
    let point3 = rec(vec![
        field("x", Type::Number),
        field("y", Type::Number),
        field("z", Type::Number),
    ]);
    assert!(sub(&point3, &point), "width");
    assert!(!sub(&point, &point3));
    let with_opt_z = rec(vec![field("x", Type::Number), optional("z", Type::Number)]);
    assert!(sub(&point, &with_opt_z), "a missing optional field");
    let int_x = rec(vec![field("x", Type::Integer)]);
    let num_x = rec(vec![field("x", Type::Number)]);
    assert!(sub(&int_x, &num_x), "integer widens to number");
    assert!(!sub(&num_x, &int_x));
    let lit_x = rec(vec![field("x", lit("a"))]);
    assert!(
        sub(&lit_x, &rec(vec![field("x", Type::String)])),
        "a literal widens"
    );
    let name_only = rec(vec![field("n", Type::String)]);
    let name_or_num = rec(vec![field("n", union(vec![Type::String, Type::Number]))]);
    assert!(
        sub(&name_only, &name_or_num),
        "a member widens into a union"
    );
    let strings = rec(vec![field("a", Type::Array(Box::new(Type::String)))]);
    let anys = rec(vec![field("a", Type::Array(Box::new(Type::Any)))]);
    assert!(sub(&strings, &anys));
    let deep_a = rec(vec![field("p", rec(vec![field("x", Type::Number)]))]);
    let deep_b = rec(vec![field(
        "p",
        rec(vec![field("x", Type::Number), field("y", Type::Number)]),
    )]);
    assert!(
        sub(&deep_b, &deep_a),
        "depth: a mutable field's record widens by width"
    );
    let ro_sub = rec(vec![readonly("x", Type::Number)]);
    assert!(
        !sub(&ro_sub, &num_x),
        "a readonly field is not a mutable one"
    );
    assert!(sub(&num_x, &rec(vec![readonly("x", Type::Number)])));
    let ro_union = rec(vec![readonly("x", union(vec![Type::Number, Type::String]))]);
    assert!(sub(&int_x, &ro_union), "readonly is covariant");
    let mut_union_lits = rec(vec![field("s", union(vec![lit("a"), lit("b")]))]);
    let mut_a = rec(vec![field("s", lit("a"))]);
    assert!(
        !sub(&mut_a, &mut_union_lits),
        "a mutable tag stays invariant"
    );
    assert!(sub(
        &mut_a,
        &rec(vec![readonly("s", union(vec![lit("a"), lit("b")]))])
    ));
    let opt_x = rec(vec![optional("x", Type::Number)]);
    assert!(!sub(&opt_x, &num_x), "optional is not required");
    assert!(sub(&num_x, &opt_x), "required is optional");
}

#[test]
fn arrays_maps_and_tables() {
    let arr = |t: Type| Type::Array(Box::new(t));
    let map = |k: Type, v: Type| Type::Map(Box::new(k), Box::new(v));
    assert!(
        sub(&arr(Type::Integer), &arr(Type::Number)),
        "arrays are covariant"
    );
    assert!(!sub(&arr(Type::Number), &arr(Type::Integer)));
    assert!(!sub(
        &map(Type::String, Type::Integer),
        &map(Type::String, Type::Number)
    ));
    assert!(sub(
        &map(Type::String, Type::Integer),
        &map(Type::String, Type::Any)
    ));
    assert!(sub(
        &map(Type::String, Type::Number),
        &map(Type::String, Type::Number)
    ));
    assert!(sub(&rec(vec![]), &arr(Type::String)));
    assert!(sub(&rec(vec![]), &map(Type::String, Type::String)));
    let r = rec(vec![field("a", Type::Integer), field("b", Type::Integer)]);
    assert!(sub(&r, &map(Type::String, Type::Number)));
    assert!(!sub(&r, &map(Type::Integer, Type::Number)));
    assert!(sub(&arr(Type::String), &map(Type::Integer, Type::String)));
    assert!(sub(&arr(Type::String), &map(Type::Number, Type::String)));
    assert!(!sub(&arr(Type::String), &map(Type::String, Type::String)));
}

#[test]
fn functions_are_contravariant_in_params_covariant_in_returns() {
    let takes_num = func(vec![Type::Number], vec![Type::Integer]);
    let takes_int = func(vec![Type::Integer], vec![Type::Number]);
    assert!(sub(&takes_num, &takes_int));
    assert!(!sub(&takes_int, &takes_num));
    let fewer = func(vec![], vec![Type::Integer]);
    assert!(sub(&fewer, &takes_int), "ignoring an argument is fine");
    let needs_two = func(vec![Type::Number, Type::Number], vec![Type::Number]);
    assert!(
        !sub(&needs_two, &takes_int),
        "needing more arguments is not"
    );
    let opt_second = func(vec![Type::Number, opt(Type::Number)], vec![Type::Number]);
    assert!(
        sub(&opt_second, &takes_int),
        "an optional extra parameter is fine"
    );
    let no_return = func(vec![Type::Integer], vec![]);
    assert!(!sub(&no_return, &takes_int), "fewer returns than promised");
    assert!(sub(&takes_int, &no_return), "more returns than promised");
    let variadic = |t: Type| {
        Type::Func(FuncType {
            generics: vec![],
            params: vec![],
            variadic: Some(Box::new(t)),
            returns: vec![],
        })
    };
    assert!(sub(&variadic(Type::Number), &variadic(Type::Integer)));
    assert!(!sub(&variadic(Type::Integer), &variadic(Type::Number)));
}

#[test]
fn intersections_and_validators() {
    let named = rec(vec![field("name", Type::String)]);
    let aged = rec(vec![field("age", Type::Number)]);
    let person = Type::Intersection(vec![named.clone(), aged.clone()]);
    let both = rec(vec![
        field("name", Type::String),
        field("age", Type::Number),
    ]);
    assert!(sub(&person, &both), "records of an intersection merge");
    assert!(sub(&both, &person));
    assert!(sub(&person, &named));
    let v = |t: Type, vs: Vec<Validator>| Type::Validated(Box::new(t), vs);
    let pct = v(
        Type::Number,
        vec![Validator::Min(0.0), Validator::Max(100.0)],
    );
    let nonneg = v(Type::Number, vec![Validator::Min(0.0)]);
    assert!(sub(&pct, &nonneg));
    assert!(!sub(&nonneg, &pct));
    assert!(sub(&pct, &Type::Number));
    assert!(!sub(&Type::Number, &nonneg));
    let tighter = v(Type::Integer, vec![Validator::Min(5.0)]);
    assert!(sub(&tighter, &nonneg));
    assert!(sub(&nonneg, &union(vec![nonneg.clone(), Type::String])));
    let short = v(Type::String, vec![Validator::MaxLen(5)]);
    assert!(sub(&v(Type::String, vec![Validator::MaxLen(3)]), &short));
    assert!(!sub(&v(Type::String, vec![Validator::MaxLen(9)]), &short));
    let pat = |p: &str| v(Type::String, vec![Validator::Pattern(p.into())]);
    assert!(sub(&pat("^a"), &pat("^a")));
    assert!(!sub(&pat("^a"), &pat("^b")));
}

#[test]
fn recursive_types_compare_coinductively() {
    let tree = |n: &str| {
        rec(vec![
            field("value", Type::Number),
            field("children", Type::Array(Box::new(name(n)))),
        ])
    };
    let scope = names(&[
        ("Tree", tree("Tree")),
        ("Tree2", tree("Tree2")),
        (
            "IntTree",
            rec(vec![
                field("value", Type::Integer),
                field("children", Type::Array(Box::new(name("IntTree")))),
            ]),
        ),
        ("List", rec(vec![field("next", opt(name("List")))])),
    ]);
    assert!(is_subtype(&name("Tree"), &name("Tree2"), &scope));
    assert!(is_subtype(&name("IntTree"), &name("Tree"), &scope));
    assert!(!is_subtype(&name("Tree"), &name("IntTree"), &scope));
    assert!(is_subtype(&name("Tree"), &tree("Tree"), &scope));
    assert!(!is_subtype(&name("List"), &name("Tree"), &scope));
    assert!(equal(&name("Tree"), &name("Tree2"), &scope));
    assert!(!equal(&name("Tree"), &name("IntTree"), &scope));
    assert!(!is_subtype(&name("Missing"), &Type::Number, &scope));
}

#[test]
fn equality_is_structural_and_order_free() {
    let eq = |a: &Type, b: &Type| equal(a, b, &none());
    let p1 = rec(vec![field("x", Type::Number), field("y", Type::Number)]);
    let p2 = rec(vec![field("y", Type::Number), field("x", Type::Number)]);
    assert!(eq(&p1, &p2));
    assert!(!eq(&p1, &rec(vec![field("x", Type::Number)])));
    assert!(!eq(
        &p1,
        &rec(vec![field("x", Type::Number), optional("y", Type::Number)])
    ));
    assert!(eq(
        &union(vec![Type::Number, Type::String]),
        &union(vec![Type::String, Type::Number])
    ));
    assert!(eq(
        &opt(Type::Number),
        &union(vec![Type::Nil, Type::Number])
    ));
    assert!(!eq(&Type::Any, &Type::Unknown));
    assert!(!eq(&Type::Integer, &Type::Number));
    assert!(eq(
        &func(vec![Type::Number], vec![]),
        &func(vec![Type::Number], vec![])
    ));
    assert!(!eq(
        &func(vec![Type::Number], vec![]),
        &func(vec![Type::Integer], vec![])
    ));
    let v = |vs: Vec<Validator>| Type::Validated(Box::new(Type::Number), vs);
    assert!(eq(
        &v(vec![Validator::Min(0.0), Validator::Max(1.0)]),
        &v(vec![Validator::Max(1.0), Validator::Min(0.0)])
    ));
    assert!(!eq(&v(vec![Validator::Min(0.0)]), &Type::Number));
}

#[test]
fn runaway_comparisons_stop() {
    let mut deep = Type::Number;
    for _ in 0..(MAX_DEPTH + 10) {
        deep = Type::Array(Box::new(deep));
    }
    assert!(
        !sub(&deep, &deep.clone()),
        "past the depth limit a comparison fails"
    );
    let scope = names(&[("Loop", name("Loop"))]);
    assert!(!is_subtype(&name("Loop"), &Type::Number, &scope));
    assert!(!equal(&name("Loop"), &Type::Number, &scope));
}

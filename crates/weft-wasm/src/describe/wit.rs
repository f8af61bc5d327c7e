//! WIT text of `wit-parser` types, functions, interfaces and worlds, for descriptions.

use std::collections::HashSet;
use std::fmt::Write as _;

use wit_parser::{Function, Handle, Interface, Resolve, Type, TypeDefKind, TypeId};

use super::{ExportDescription, ImportDescription, NamedType};

/// How a type is written where it is used: its name when it has one (`point`), else its
/// structure (`list<string>`, `option<point>`).
pub(super) fn type_name(resolve: &Resolve, ty: &Type) -> String {
    let mut out = String::new();
    write_type(&mut out, resolve, ty);
    out
}

/// A function's declaration: `name: func(a: T) -> R`.
pub(super) fn func_decl(resolve: &Resolve, f: &Function) -> String {
    let params: Vec<String> = f
        .params
        .iter()
        .map(|p| format!("{}: {}", p.name, type_name(resolve, &p.ty)))
        .collect();
    let keyword = if f.kind.is_async() {
        "async func"
    } else {
        "func"
    };
    let mut out = format!("{}: {keyword}({})", f.item_name(), params.join(", "));
    if let Some(result) = &f.result {
        let _ = write!(out, " -> {}", type_name(resolve, result));
    }
    out
}

/// An interface as a WIT block of its functions (its types are listed with the
/// world's): `interface math {\n    gcd: func(a: u64, b: u64) -> u64;\n}`.
pub(super) fn interface_body(resolve: &Resolve, iface: &Interface) -> String {
    let mut out = format!(
        "interface {} {{\n",
        iface.name.as_deref().unwrap_or("exported")
    );
    for f in iface.functions.values() {
        let _ = writeln!(out, "    {};", func_decl(resolve, f));
    }
    out.push('}');
    out
}

/// The named types reachable from `functions` and the world's own `world_types`, each
/// with its definition, dependencies first.
pub(super) fn named_types(
    resolve: &Resolve,
    functions: &[&Function],
    world_types: &[TypeId],
) -> Vec<NamedType> {
    let mut walk = Walk {
        resolve,
        seen: HashSet::new(),
        out: Vec::new(),
    };
    for id in world_types {
        walk.visit(&Type::Id(*id));
    }
    for f in functions {
        for p in &f.params {
            walk.visit(&p.ty);
        }
        if let Some(result) = &f.result {
            walk.visit(result);
        }
    }
    walk.out
}

/// The world as WIT text: its imports (each with whether it is granted), the named
/// types, its exports, then the body of each exported interface.
pub(super) fn world_text(
    name: &str,
    imports: &[ImportDescription],
    types: &[NamedType],
    exports: &[ExportDescription],
) -> String {
    let mut out = format!("world {name} {{\n");
    for import in imports {
        let _ = writeln!(out, "    {}  // {}", import.wit, import.note);
    }
    let body = !(types.is_empty() && exports.is_empty());
    if !imports.is_empty() && body {
        out.push('\n');
    }
    for ty in types {
        let _ = writeln!(out, "    {}", ty.wit);
    }
    if !types.is_empty() && !exports.is_empty() {
        out.push('\n');
    }
    for export in exports {
        match export.kind {
            "interface" => {
                let _ = writeln!(out, "    export {};", export.name);
            }
            _ => {
                let _ = writeln!(out, "    export {};", export.wit);
            }
        }
    }
    out.push('}');
    for export in exports.iter().filter(|e| e.kind == "interface") {
        let _ = write!(out, "\n\n// {}\n{}", export.name, export.wit);
    }
    out
}

/// A depth-first walk collecting named type definitions in dependency order.
struct Walk<'r> {
    /// Where the types are.
    resolve: &'r Resolve,
    /// The types visited.
    seen: HashSet<TypeId>,
    /// The named types found, dependencies first.
    out: Vec<NamedType>,
}

impl Walk<'_> {
    /// Visits `ty` and what it uses; a named type is added after its dependencies.
    fn visit(&mut self, ty: &Type) {
        let Type::Id(id) = ty else {
            return;
        };
        if !self.seen.insert(*id) {
            return;
        }
        let def = &self.resolve.types[*id];
        for child in children(&def.kind) {
            self.visit(&child);
        }
        if let Some(name) = &def.name {
            self.out.push(NamedType {
                name: name.clone(),
                wit: definition(self.resolve, name, &def.kind),
            });
        }
    }
}

/// The types a type definition uses directly.
fn children(kind: &TypeDefKind) -> Vec<Type> {
    match kind {
        TypeDefKind::Record(r) => r.fields.iter().map(|f| f.ty).collect(),
        TypeDefKind::Variant(v) => v.cases.iter().filter_map(|c| c.ty).collect(),
        TypeDefKind::Tuple(t) => t.types.clone(),
        TypeDefKind::Option(t) | TypeDefKind::List(t) | TypeDefKind::Type(t) => vec![*t],
        TypeDefKind::FixedLengthList(t, _) => vec![*t],
        TypeDefKind::Result(r) => r.ok.iter().chain(r.err.iter()).copied().collect(),
        TypeDefKind::Map(k, v) => vec![*k, *v],
        TypeDefKind::Future(t) | TypeDefKind::Stream(t) => t.iter().copied().collect(),
        TypeDefKind::Handle(Handle::Own(r) | Handle::Borrow(r)) => vec![Type::Id(*r)],
        TypeDefKind::Flags(_)
        | TypeDefKind::Enum(_)
        | TypeDefKind::Resource
        | TypeDefKind::Unknown => Vec::new(),
    }
}

/// The WIT definition of the named type `name` (`record point { x: s32, y: s32 }`).
fn definition(resolve: &Resolve, name: &str, kind: &TypeDefKind) -> String {
    let list = |items: Vec<String>| items.join(", ");
    match kind {
        TypeDefKind::Record(r) => format!(
            "record {name} {{ {} }}",
            list(
                r.fields
                    .iter()
                    .map(|f| format!("{}: {}", f.name, type_name(resolve, &f.ty)))
                    .collect()
            )
        ),
        TypeDefKind::Variant(v) => format!(
            "variant {name} {{ {} }}",
            list(
                v.cases
                    .iter()
                    .map(|c| match &c.ty {
                        Some(ty) => format!("{}({})", c.name, type_name(resolve, ty)),
                        None => c.name.clone(),
                    })
                    .collect()
            )
        ),
        TypeDefKind::Enum(e) => format!(
            "enum {name} {{ {} }}",
            list(e.cases.iter().map(|c| c.name.clone()).collect())
        ),
        TypeDefKind::Flags(f) => format!(
            "flags {name} {{ {} }}",
            list(f.flags.iter().map(|f| f.name.clone()).collect())
        ),
        TypeDefKind::Resource => format!("resource {name};"),
        TypeDefKind::Type(ty) => format!("type {name} = {};", type_name(resolve, ty)),
        other => {
            let mut body = String::new();
            write_structure(&mut body, resolve, other);
            format!("type {name} = {body};")
        }
    }
}

/// Writes `ty` as it is written where used.
fn write_type(out: &mut String, resolve: &Resolve, ty: &Type) {
    let primitive = match ty {
        Type::Bool => "bool",
        Type::U8 => "u8",
        Type::U16 => "u16",
        Type::U32 => "u32",
        Type::U64 => "u64",
        Type::S8 => "s8",
        Type::S16 => "s16",
        Type::S32 => "s32",
        Type::S64 => "s64",
        Type::F32 => "f32",
        Type::F64 => "f64",
        Type::Char => "char",
        Type::String => "string",
        Type::ErrorContext => "error-context",
        Type::Id(id) => {
            let def = &resolve.types[*id];
            match &def.name {
                Some(name) => out.push_str(name),
                None => write_structure(out, resolve, &def.kind),
            }
            return;
        }
    };
    out.push_str(primitive);
}

/// Writes an unnamed type's structure (`list<string>`, `result<_, string>`).
fn write_structure(out: &mut String, resolve: &Resolve, kind: &TypeDefKind) {
    let generic = |out: &mut String, name: &str, args: &[Option<&Type>]| {
        out.push_str(name);
        out.push('<');
        for (i, arg) in args.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            match arg {
                Some(ty) => write_type(out, resolve, ty),
                None => out.push('_'),
            }
        }
        out.push('>');
    };
    match kind {
        TypeDefKind::List(t) => generic(out, "list", &[Some(t)]),
        TypeDefKind::FixedLengthList(t, n) => {
            out.push_str("list<");
            write_type(out, resolve, t);
            let _ = write!(out, ", {n}>");
        }
        TypeDefKind::Option(t) => generic(out, "option", &[Some(t)]),
        TypeDefKind::Tuple(t) => {
            let args: Vec<Option<&Type>> = t.types.iter().map(Some).collect();
            generic(out, "tuple", &args);
        }
        TypeDefKind::Result(r) => match (&r.ok, &r.err) {
            (None, None) => out.push_str("result"),
            (Some(ok), None) => generic(out, "result", &[Some(ok)]),
            (ok, Some(err)) => generic(out, "result", &[ok.as_ref(), Some(err)]),
        },
        TypeDefKind::Map(k, v) => generic(out, "map", &[Some(k), Some(v)]),
        TypeDefKind::Future(t) => match t {
            Some(t) => generic(out, "future", &[Some(t)]),
            None => out.push_str("future"),
        },
        TypeDefKind::Stream(t) => match t {
            Some(t) => generic(out, "stream", &[Some(t)]),
            None => out.push_str("stream"),
        },
        TypeDefKind::Handle(Handle::Own(r)) => write_type(out, resolve, &Type::Id(*r)),
        TypeDefKind::Handle(Handle::Borrow(r)) => generic(out, "borrow", &[Some(&Type::Id(*r))]),
        TypeDefKind::Type(t) => write_type(out, resolve, t),
        TypeDefKind::Record(_) => out.push_str("record"),
        TypeDefKind::Variant(_) => out.push_str("variant"),
        TypeDefKind::Enum(_) => out.push_str("enum"),
        TypeDefKind::Flags(_) => out.push_str("flags"),
        TypeDefKind::Resource => out.push_str("resource"),
        TypeDefKind::Unknown => out.push_str("unknown"),
    }
}

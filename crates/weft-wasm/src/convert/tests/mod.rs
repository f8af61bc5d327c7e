//! Tests of the `convert` module: the fixture component and helpers here, the cases by
//! job below.

use std::sync::LazyLock;

use wasmtime::component::types::{ComponentFunc, ComponentItem};
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, Store};
use weft_core::ErrorKind;

use super::*;

/// A component importing one function per type under test (`t-<type>: func(x: T) -> T`)
/// and a few other signatures: importing needs no core code, only the types.
const WAT: &str = r#"
    (component
        (type $point' (record (field "x" s32) (field "y" s32)))
        (import "point" (type $point (eq $point')))
        (type $user' (record
            (field "name" string) (field "age" u8)
            (field "tags" (list string)) (field "email" (option string))))
        (import "user" (type $user (eq $user')))
        (type $opts' (record (field "a" (option u32)) (field "b" (option string))))
        (import "opts" (type $opts (eq $opts')))
        (type $blob-info' (record (field "id" u64) (field "data" (list u8))))
        (import "blob-info" (type $blob-info (eq $blob-info')))
        (type $shape' (variant (case "circle" f64) (case "rectangle" $point) (case "empty")))
        (import "shape" (type $shape (eq $shape')))
        (type $color' (enum "red" "green" "blue"))
        (import "color" (type $color (eq $color')))
        (type $perms' (flags "read" "write" "exec"))
        (import "perms" (type $perms (eq $perms')))
        (type $ident' (record (field "id" u64)))
        (import "ident" (type $ident (eq $ident')))
        (import "blob" (type $blob (sub resource)))

        (import "t-bool" (func (param "x" bool) (result bool)))
        (import "t-s8" (func (param "x" s8) (result s8)))
        (import "t-u8" (func (param "x" u8) (result u8)))
        (import "t-s16" (func (param "x" s16) (result s16)))
        (import "t-u16" (func (param "x" u16) (result u16)))
        (import "t-s32" (func (param "x" s32) (result s32)))
        (import "t-u32" (func (param "x" u32) (result u32)))
        (import "t-s64" (func (param "x" s64) (result s64)))
        (import "t-u64" (func (param "x" u64) (result u64)))
        (import "t-f32" (func (param "x" f32) (result f32)))
        (import "t-f64" (func (param "x" f64) (result f64)))
        (import "t-char" (func (param "x" char) (result char)))
        (import "t-string" (func (param "x" string) (result string)))
        (import "t-bytes" (func (param "x" (list u8)) (result (list u8))))
        (import "t-strings" (func (param "x" (list string)) (result (list string))))
        (import "t-point" (func (param "x" $point) (result $point)))
        (import "t-opts" (func (param "x" $opts) (result $opts)))
        (import "t-blob-info" (func (param "x" $blob-info) (result $blob-info)))
        (import "t-users" (func (param "users" (list $user)) (result (list $user))))
        (import "t-tuple" (func (param "x" (tuple string u32)) (result (tuple string u32))))
        (import "t-shape" (func (param "x" $shape) (result $shape)))
        (import "t-color" (func (param "x" $color) (result $color)))
        (import "t-perms" (func (param "x" $perms) (result $perms)))
        (import "t-option" (func (param "x" (option s32)) (result (option s32))))
        (import "t-option2" (func (param "x" (option (option s32)))))
        (import "t-result" (func (param "x" (result s32 (error $point)))))
        (import "t-unit-ok" (func (param "x" (result (error string)))))
        (import "t-unit" (func (param "x" (result))))
        (import "t-map" (func (param "x" (map string u32)) (result (map string u32))))
        (import "t-idmap" (func (param "x" (map u32 string)) (result (map u32 string))))
        (import "t-idents" (func (param "x" (list $ident)) (result (list $ident))))
        (import "two" (func (param "a" s32) (param "b" (option string))))
        (import "take" (func (param "b" (own $blob))))
        (import "peek" (func (param "b" (borrow $blob))))
    )
"#;

/// The compiled test component and its engine.
static FIXTURE: LazyLock<(Engine, Component)> = LazyLock::new(|| {
    let bytes = wat::parse_str(WAT).expect("parse WAT");
    let mut config = Config::new();
    config.wasm_component_model_map(true);
    let engine = Engine::new(&config).expect("engine");
    let component = Component::new(&engine, &bytes).expect("compile component");
    (engine, component)
});

/// The type of an imported function.
fn func(name: &str) -> ComponentFunc {
    let (engine, component) = &*FIXTURE;
    match component
        .component_type()
        .get_import(engine, name)
        .map(|e| e.ty)
    {
        Some(ComponentItem::ComponentFunc(f)) => f,
        _ => panic!("no function {name}"),
    }
}

/// The `(name, type)` parameters of an exported function.
fn params(name: &str) -> Vec<(String, Type)> {
    func(name)
        .params()
        .map(|(n, t)| (n.to_owned(), t))
        .collect()
}

/// The type of `t-<ty>`'s single parameter.
fn ty(ty: &str) -> Type {
    params(&format!("t-{ty}")).remove(0).1
}

/// Lowers `v` as argument 1 of `t-<t>`.
fn low(t: &str, v: Value) -> Result<Val, Error> {
    let ps = params(&format!("t-{t}"));
    lower_args(&ps, &[v]).map(|mut vals| vals.remove(0))
}

/// Lowers `v` for `t-<t>`, then lifts it back through the same type.
fn round(t: &str, v: Value) -> Value {
    let val = low(t, v).expect("lower");
    lift_as(&ty(t), &val).expect("lift")
}

/// The message of an Invalid lowering error.
fn bad(t: &str, v: Value) -> String {
    let err = low(t, v).expect_err("should fail");
    assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");
    err.to_string()
}

fn s(text: &str) -> Value {
    Value::str(text)
}

fn arr(items: Vec<Value>) -> Value {
    Value::array(items)
}

fn map<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    Value::from_pairs(pairs)
}

fn empty_map() -> Value {
    Value::map(Map::new())
}

mod blob;
mod calls;
mod compound;
mod scalars;

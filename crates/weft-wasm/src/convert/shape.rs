//! [`Shape`]: a WIT type as the converters need it, built once per entry at load (the
//! conversion plan of DESIGN §2): record fields and variant cases in order with their
//! names, enum and flag names, element shapes. A call walks its shape, never wasmtime's
//! type tables (which hand out a new `Type` per field and element asked for).

use wasmtime::component::Type;

/// How values of one WIT type are lowered and lifted.
#[derive(Clone, Debug)]
pub enum Shape {
    /// `bool`.
    Bool,
    /// `s8`.
    S8,
    /// `u8`.
    U8,
    /// `s16`.
    S16,
    /// `u16`.
    U16,
    /// `s32`.
    S32,
    /// `u32`.
    U32,
    /// `s64`.
    S64,
    /// `u64`.
    U64,
    /// `f32`.
    F32,
    /// `f64`.
    F64,
    /// `char`.
    Char,
    /// `string`.
    String,
    /// `list<T>` (`list<u8>` is a byte string).
    List(Box<Shape>),
    /// `list<T, N>`.
    FixedList(usize, Box<Shape>),
    /// `tuple<…>`.
    Tuple(Box<[Shape]>),
    /// `record`: its fields in order.
    Record(Box<[Field]>),
    /// `variant`: its cases in order.
    Variant(Box<[Case]>),
    /// `enum`: its case names.
    Enum(Box<[Box<str>]>),
    /// `option<T>`.
    Option(Box<Shape>),
    /// `result<T, E>`, either side possibly empty.
    Result(Option<Box<Shape>>, Option<Box<Shape>>),
    /// `flags`: their names.
    Flags(Box<[Box<str>]>),
    /// `map<K, V>`.
    Map(Box<Shape>, Box<Shape>),
    /// A type Lua values cannot carry (resources, futures, streams, error contexts).
    Unsupported(&'static str),
}

/// A record field.
#[derive(Clone, Debug)]
pub struct Field {
    /// Its name.
    pub name: Box<str>,
    /// Its shape.
    pub shape: Shape,
}

/// A variant case.
#[derive(Clone, Debug)]
pub struct Case {
    /// Its name.
    pub name: Box<str>,
    /// Its payload's shape (`None`: no payload).
    pub shape: Option<Shape>,
}

impl Shape {
    /// The shape of `ty`.
    pub fn of(ty: &Type) -> Shape {
        let boxed = |ty: &Type| Box::new(Shape::of(ty));
        match ty {
            Type::Bool => Shape::Bool,
            Type::S8 => Shape::S8,
            Type::U8 => Shape::U8,
            Type::S16 => Shape::S16,
            Type::U16 => Shape::U16,
            Type::S32 => Shape::S32,
            Type::U32 => Shape::U32,
            Type::S64 => Shape::S64,
            Type::U64 => Shape::U64,
            Type::Float32 => Shape::F32,
            Type::Float64 => Shape::F64,
            Type::Char => Shape::Char,
            Type::String => Shape::String,
            Type::List(list) => Shape::List(boxed(&list.ty())),
            Type::FixedLengthList(list) => Shape::FixedList(
                list.len().try_into().unwrap_or(usize::MAX),
                boxed(&list.ty()),
            ),
            Type::Tuple(tuple) => Shape::Tuple(tuple.types().map(|t| Shape::of(&t)).collect()),
            Type::Record(record) => Shape::Record(
                record
                    .fields()
                    .map(|f| Field {
                        name: f.name.into(),
                        shape: Shape::of(&f.ty),
                    })
                    .collect(),
            ),
            Type::Variant(variant) => Shape::Variant(
                variant
                    .cases()
                    .map(|c| Case {
                        name: c.name.into(),
                        shape: c.ty.as_ref().map(Shape::of),
                    })
                    .collect(),
            ),
            Type::Enum(e) => Shape::Enum(e.names().map(Into::into).collect()),
            Type::Option(option) => Shape::Option(boxed(&option.ty())),
            Type::Result(result) => Shape::Result(
                result.ok().as_ref().map(boxed),
                result.err().as_ref().map(boxed),
            ),
            Type::Flags(flags) => Shape::Flags(flags.names().map(Into::into).collect()),
            Type::Map(map) => Shape::Map(boxed(&map.key()), boxed(&map.value())),
            Type::Own(_) => Shape::Unsupported("own"),
            Type::Borrow(_) => Shape::Unsupported("borrow"),
            Type::Future(_) => Shape::Unsupported("future"),
            Type::Stream(_) => Shape::Unsupported("stream"),
            Type::ErrorContext => Shape::Unsupported("error-context"),
        }
    }
}

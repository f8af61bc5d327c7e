//! The type model: what a type expression of the dialect says, as the parser reads it.
//!
//! A [`Type`] is a tree; names of other types stay names ([`Type::Named`]) and are
//! resolved by whoever uses the tree (the runtime resolves them against the aliases in
//! scope where the type was written). Validators (`@min(0)`) sit on the node they follow.

/// A type expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Type {
    /// `any`: every value, unchecked.
    Any,
    /// `unknown`: every value (must be narrowed before use, for a checker).
    Unknown,
    /// `never`: no value.
    Never,
    /// `nil`.
    Nil,
    /// `boolean`.
    Boolean,
    /// `number` (integers and floats).
    Number,
    /// `integer` (a subtype of `number`).
    Integer,
    /// `string`.
    String,
    /// `table`: any table.
    Table,
    /// `function`: any function.
    Function,
    /// `thread`, `userdata`: other Lua values by their `type()` name; `error`: what the
    /// return convention reads as an error (an error object or a message).
    Primitive(String),
    /// A literal type: `"pending"`, `42`, `true`.
    Literal(Literal),
    /// `T?`: `T` or nil.
    Optional(Box<Type>),
    /// `A | B | …` (at least two).
    Union(Vec<Type>),
    /// `A & B & …` (at least two).
    Intersection(Vec<Type>),
    /// `{name: T, other?: U}`: a record, fields in source order.
    Record(Vec<Field>),
    /// `{T}`: an array of `T`.
    Array(Box<Type>),
    /// `{[K]: V}`: a map.
    Map(Box<Type>, Box<Type>),
    /// `(A, B) -> R`, `(...: T) -> (R, S)`, `<T>(T) -> T`.
    Func(FuncType),
    /// A name: another alias (`Point`), a generic parameter (`T`), a dotted export
    /// (`lib.Point`), with type arguments when it has them (`Result<number, string>`).
    Named(Named),
    /// A type with validators: `number @min(0) @max(100)`.
    Validated(Box<Type>, Vec<Validator>),
}

/// A literal type's value.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// `"text"` (the string's bytes after escapes).
    String(Vec<u8>),
    /// `42`.
    Integer(i64),
    /// `1.5`.
    Number(f64),
    /// `true` / `false`.
    Boolean(bool),
}

/// One field of a record.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// The field's name.
    pub name: String,
    /// Its type.
    pub ty: Type,
    /// `name?: T`: the field may be absent (nil).
    pub optional: bool,
    /// `readonly name: T`: the field may not be assigned (covariant for a checker).
    pub readonly: bool,
}

/// A function type.
#[derive(Clone, Debug, PartialEq)]
pub struct FuncType {
    /// Generic parameters (`<T: Named>`), if any.
    pub generics: Vec<Generic>,
    /// Parameter types (a parameter's name, when written `(x: number) -> …`, is dropped).
    pub params: Vec<Type>,
    /// `...: T`: the type of the variadic tail, if any.
    pub variadic: Option<Box<Type>>,
    /// Return types (`-> R` is one, `-> (R, S)` two, `-> ()` none).
    pub returns: Vec<Type>,
}

/// A name with its type arguments.
#[derive(Clone, Debug, PartialEq)]
pub struct Named {
    /// The name, dotted for an export of another value (`lib.Point`).
    pub path: Vec<String>,
    /// `Result<number, string>`: the arguments.
    pub args: Vec<Type>,
}

/// A generic parameter: `T` or `T: Constraint`.
#[derive(Clone, Debug, PartialEq)]
pub struct Generic {
    /// Its name.
    pub name: String,
    /// Its constraint (`T: Named`), if any.
    pub constraint: Option<Type>,
}

/// A validator: `@min(0)`, `@max(100)`, `@min_len(1)`, `@max_len(10)`, `@pattern("^a")`.
#[derive(Clone, Debug, PartialEq)]
pub enum Validator {
    /// `@min(n)`: a number at least `n`.
    Min(f64),
    /// `@max(n)`: a number at most `n`.
    Max(f64),
    /// `@min_len(n)`: a string (bytes) or array at least `n` long.
    MinLen(u64),
    /// `@max_len(n)`: a string (bytes) or array at most `n` long.
    MaxLen(u64),
    /// `@pattern(re)`: a string matching the regular expression (its source text).
    Pattern(String),
}

/// A `type` declaration: `type Name<T, E> = …` (or `export type …`).
#[derive(Clone, Debug, PartialEq)]
pub struct TypeDecl {
    /// The alias' name.
    pub name: String,
    /// Its generic parameters.
    pub generics: Vec<Generic>,
    /// What it stands for.
    pub ty: Type,
    /// Written `export type`.
    pub exported: bool,
}

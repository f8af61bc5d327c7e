//! Byte-shaped methods: one parameter and at most one result, each a `string` or a
//! `list<u8>` (a hash, a compressor, an encoder, a template). wasmtime's dynamic API
//! turns a byte list into one `Val` per byte (about 40 ns and 40 bytes of host memory
//! each); its typed API copies the bytes in bulk. weft can name a typed signature only
//! where it knows the Rust types at its own compile time, so it does for this shape: the
//! argument is borrowed from its [`Value`] straight into guest memory and the result
//! becomes the [`Value`] without another copy. Every other signature takes the dynamic
//! path. Both paths accept the same values and give the same errors (tests compare them).

use std::borrow::Cow;

use weft_core::{Error, Value};

use super::{Shape, ValuePath, bytes_of, check_arity, mismatch, utf8};

/// A `string` or a `list<u8>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Blob {
    /// `list<u8>`.
    Bytes,
    /// `string`.
    Text,
}

impl Blob {
    /// The blob type of `shape`, if it is one.
    fn of(shape: &Shape) -> Option<Blob> {
        match shape {
            Shape::String => Some(Blob::Text),
            Shape::List(elem) if matches!(**elem, Shape::U8) => Some(Blob::Bytes),
            _ => None,
        }
    }
}

/// The signature of a byte-shaped method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlobSig {
    /// Its one parameter.
    pub param: Blob,
    /// Its result, if it has one.
    pub result: Option<Blob>,
}

impl BlobSig {
    /// The signature of a method with `params` and `results`, if it is byte-shaped.
    pub fn of(params: &[(String, Shape)], results: &[Shape]) -> Option<BlobSig> {
        let [(_, param)] = params else {
            return None;
        };
        let result = match results {
            [] => None,
            [result] => Some(Blob::of(result)?),
            _ => return None,
        };
        Some(BlobSig {
            param: Blob::of(param)?,
            result,
        })
    }
}

/// The argument of a byte-shaped call, borrowed from its value where it can be.
#[derive(Debug, PartialEq, Eq)]
pub enum BlobArg<'a> {
    /// For a `list<u8>`: a byte string as it is, an array of integers copied.
    Bytes(Cow<'a, [u8]>),
    /// For a `string`: checked UTF-8.
    Text(&'a str),
}

/// A byte-shaped call's result.
#[derive(Debug)]
pub enum BlobOut {
    /// A `list<u8>`.
    Bytes(Vec<u8>),
    /// A `string`.
    Text(String),
}

/// Lowers the one argument of a byte-shaped method, as [`super::lower_planned`] would.
pub fn lower_blob<'a>(
    sig: BlobSig,
    params: &'a [(String, Shape)],
    args: &'a [Value],
) -> Result<BlobArg<'a>, Error> {
    check_arity(params.len(), args.len())?;
    let (Some((name, _)), Some(v)) = (params.first(), args.first()) else {
        return Err(Error::internal("a byte-shaped method has one parameter"));
    };
    let mut path = ValuePath::argument(1, name);
    match sig.param {
        Blob::Bytes => Ok(BlobArg::Bytes(bytes_of(v, &mut path)?)),
        Blob::Text => match v {
            Value::Str(b) => Ok(BlobArg::Text(utf8(b, &path)?)),
            _ => Err(mismatch(&path, "string", v)),
        },
    }
}

/// The value of a byte-shaped call's result (nil without one).
pub fn lift_blob(out: Option<BlobOut>) -> Value {
    match out {
        Some(BlobOut::Bytes(bytes)) => Value::bytes(bytes),
        Some(BlobOut::Text(text)) => Value::str(text),
        None => Value::Nil,
    }
}

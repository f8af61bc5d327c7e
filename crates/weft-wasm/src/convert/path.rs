//! [`ValuePath`]: where a value sits inside a call's arguments or result, for the
//! converters' error messages.

use std::fmt;

/// Where a value sits inside the arguments (`argument 1 (users)[2].tags`), for error
/// messages. Kept cheap, since every value converted moves through it and almost none
/// fails: the argument is named by reference, a key is copied into one buffer, an index
/// is only noted, and the text is made when an error asks for it.
#[derive(Clone, Debug, Default)]
pub struct ValuePath<'a> {
    /// The argument (1-based number, parameter name), if the path starts at one.
    argument: Option<(usize, &'a str)>,
    /// The keys entered so far, each as `.key`.
    keys: String,
    /// One per segment entered, innermost last.
    marks: Vec<Mark>,
}

/// A segment of a [`ValuePath`]: where `keys` ended when it was entered, and its index
/// (`None` for a key, which is in `keys`).
#[derive(Clone, Copy, Debug)]
struct Mark {
    at: usize,
    index: Option<usize>,
}

impl<'a> ValuePath<'a> {
    /// An empty path (the value itself, no argument named).
    pub fn new() -> ValuePath<'a> {
        ValuePath::default()
    }

    /// The path of argument `number` (1-based) whose parameter is `name`.
    pub fn argument(number: usize, name: &'a str) -> ValuePath<'a> {
        ValuePath {
            argument: Some((number, name)),
            ..ValuePath::default()
        }
    }

    /// True for the path of the value itself.
    pub fn is_empty(&self) -> bool {
        self.argument.is_none() && self.marks.is_empty()
    }

    /// Runs `f` with the 0-based `index` (shown 1-based) appended to the path.
    pub(super) fn at_index<T>(&mut self, index: usize, f: impl FnOnce(&mut Self) -> T) -> T {
        self.marks.push(Mark {
            at: self.keys.len(),
            index: Some(index),
        });
        self.scoped(f)
    }

    /// Runs `f` with `.key` appended to the path.
    pub(super) fn at_key<T>(&mut self, key: &str, f: impl FnOnce(&mut Self) -> T) -> T {
        self.marks.push(Mark {
            at: self.keys.len(),
            index: None,
        });
        self.keys.push('.');
        self.keys.push_str(key);
        self.scoped(f)
    }

    /// Runs `f`, then drops the segment pushed last.
    fn scoped<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        let out = f(self);
        if let Some(mark) = self.marks.pop() {
            self.keys.truncate(mark.at);
        }
        out
    }
}

impl fmt::Display for ValuePath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.argument {
            Some((number, "")) => write!(f, "argument {number}")?,
            Some((number, name)) => write!(f, "argument {number} ({name})")?,
            None => {}
        }
        let mut from = 0;
        for mark in &self.marks {
            if let Some(index) = mark.index {
                f.write_str(&self.keys[from..mark.at])?;
                write!(f, "[{}]", index.saturating_add(1))?;
                from = mark.at;
            }
        }
        f.write_str(&self.keys[from..])
    }
}

//! The locals in scope, for `typeof(x)`: which names are annotated locals (or parameters)
//! where the parser is, with Lua's block scoping and shadowing.
//!
//! Only what can matter is kept: until an annotated local is declared nothing is pushed
//! (an unannotated local can only shadow an annotated one declared before it), so untyped
//! code costs nothing here. A local is pending (not yet visible) until its statement ends:
//! in `local x: T = typeof(x)` the `x` inside refers to an outer `x`.

use crate::ast::Type;

/// An annotated local's annotation.
pub(crate) struct Annotation {
    /// The first token of its type (for the type's text).
    pub first: crate::lex::Token,
    /// The byte after the type's last token.
    pub end: usize,
    /// The type.
    pub ty: Type,
    /// How many enclosing generic parameters were in scope (their names are not values).
    pub generics: usize,
}

/// The locals in scope, innermost last.
#[derive(Default)]
pub(crate) struct Scope<'s> {
    locals: Vec<Local<'s>>,
    annotated: usize,
}

/// One local.
struct Local<'s> {
    name: &'s str,
    visible: bool,
    annotation: Option<Annotation>,
}

impl<'s> Scope<'s> {
    /// Where a block starts (to [`Scope::close`] it).
    pub fn mark(&self) -> usize {
        self.locals.len()
    }

    /// Ends the block opened at `mark`: its locals go out of scope.
    pub fn close(&mut self, mark: usize) {
        if mark < self.locals.len() {
            let gone = self.locals[mark..]
                .iter()
                .filter(|l| l.annotation.is_some())
                .count();
            self.annotated -= gone;
            self.locals.truncate(mark);
        }
    }

    /// Declares a local, visible now or (`pending`) from the next [`Scope::reveal`].
    pub fn declare(&mut self, name: &'s str, annotation: Option<Annotation>, pending: bool) {
        if annotation.is_none() && self.annotated == 0 {
            return;
        }
        self.annotated += usize::from(annotation.is_some());
        self.locals.push(Local {
            name,
            visible: !pending,
            annotation,
        });
    }

    /// Makes the locals declared since `mark` visible.
    pub fn reveal(&mut self, mark: usize) {
        for local in self.locals.iter_mut().skip(mark) {
            local.visible = true;
        }
    }

    /// The annotation of the visible local `name`, if it is annotated.
    pub fn lookup(&self, name: &str) -> Option<&Annotation> {
        let local = self
            .locals
            .iter()
            .rev()
            .find(|l| l.visible && l.name == name)?;
        local.annotation.as_ref()
    }
}

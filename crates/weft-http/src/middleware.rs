//! Middleware: named layers a router (`middleware`, `post_middleware`) or a static mount
//! wraps its handlers in, each configured from the entry's string `options` (reference
//! §1.10). The first listed is the outermost.
//!
//! [`Middlewares`] is the catalogue. A name it does not know fails the boot on the entry
//! that lists it; a bad option fails it when the middleware is made.

use std::collections::BTreeMap;
use std::sync::{Arc, Weak};

use weft_core::{Error, Result};
use weft_fs::FsRegistry;
use weft_runtime::Runtime;

use crate::pipeline::Handler;

/// A made middleware: wraps a handler.
pub type Layer = Arc<dyn Fn(Handler) -> Handler + Send + Sync>;

/// What a middleware may need when it is made.
#[derive(Clone)]
pub struct MiddlewareContext {
    /// The runtime (function calls, policies).
    pub rt: Weak<Runtime>,
    /// The `fs.directory` roots (`sendfile`).
    pub fs: Arc<FsRegistry>,
}

/// Makes a middleware from its options.
type Maker = fn(&BTreeMap<String, String>, &MiddlewareContext) -> Result<Layer>;

/// The middleware catalogue.
pub struct Middlewares {
    makers: BTreeMap<&'static str, Maker>,
}

impl Middlewares {
    /// The built-in middleware.
    pub fn builtin() -> Middlewares {
        Middlewares {
            makers: BTreeMap::new(),
        }
    }

    /// Whether `name` is known.
    pub fn contains(&self, name: &str) -> bool {
        self.makers.contains_key(name)
    }

    /// The known names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.makers.keys().copied()
    }

    /// Makes the middleware `name` with `options`.
    pub fn make(
        &self,
        name: &str,
        options: &BTreeMap<String, String>,
        cx: &MiddlewareContext,
    ) -> Result<Layer> {
        let maker = self.makers.get(name).ok_or_else(|| not_found(name))?;
        maker(options, cx).map_err(|e| e.context(format!("middleware {name}")))
    }

    /// Wraps `inner` in the middleware `names` (the first outermost).
    pub fn chain(
        &self,
        names: &[String],
        options: &BTreeMap<String, String>,
        cx: &MiddlewareContext,
        inner: Handler,
    ) -> Result<Handler> {
        let mut layers = Vec::with_capacity(names.len());
        for name in names {
            layers.push(self.make(name, options, cx)?);
        }
        Ok(layers.iter().rev().fold(inner, |h, layer| layer(h)))
    }

    /// Checks that every name in `names` is known; the error names the first unknown one.
    pub fn check(&self, names: &[String]) -> Result<()> {
        match names.iter().find(|n| !self.contains(n)) {
            Some(name) => Err(not_found(name)),
            None => Ok(()),
        }
    }
}

/// Wippy's error for an unknown name.
fn not_found(name: &str) -> Error {
    Error::invalid(format!(
        "failed to create middleware: middleware not found: {name}"
    ))
}

/// An option by its new-style key, else its legacy key (Wippy's `getOption`).
pub fn option<'a>(
    options: &'a BTreeMap<String, String>,
    key: &str,
    legacy: &str,
) -> Option<&'a str> {
    options
        .get(key)
        .or_else(|| options.get(legacy))
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
}

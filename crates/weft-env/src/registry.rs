//! [`EnvRegistry`]: the storages and variables of an app, and the one place env
//! variables are read and written with their permission checks.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::RwLock;
use weft_core::{CallContext, EntryId, Error, Result};
use weft_registry::Restorable;

use crate::storage::EnvStorage;
use crate::variable::EnvVariable;

impl Restorable for EnvRegistry {
    type Saved = Tables;

    fn save(&self) -> Tables {
        Tables {
            storages: self.storages.read().clone(),
            variables: self.variables.read().clone(),
            public: self.public.read().clone(),
        }
    }

    fn restore(&self, tables: Tables) {
        *self.storages.write() = tables.storages;
        *self.variables.write() = tables.variables;
        *self.public.write() = tables.public;
    }
}

/// A copy of an [`EnvRegistry`]'s tables (pointers only), taken before a live change
/// is published and put back if the change set is undone.
pub struct Tables {
    storages: HashMap<String, Arc<dyn EnvStorage>>,
    variables: HashMap<String, Arc<EnvVariable>>,
    public: HashMap<String, Arc<EnvVariable>>,
}

/// The registered storages and variables of an app.
pub struct EnvRegistry {
    app_root: PathBuf,
    storages: RwLock<HashMap<String, Arc<dyn EnvStorage>>>,
    variables: RwLock<HashMap<String, Arc<EnvVariable>>>,
    public: RwLock<HashMap<String, Arc<EnvVariable>>>,
}

impl EnvRegistry {
    /// An empty registry for the app at `app_root` (relative file paths start there).
    pub fn new(app_root: PathBuf) -> EnvRegistry {
        EnvRegistry {
            app_root,
            storages: RwLock::default(),
            variables: RwLock::default(),
            public: RwLock::default(),
        }
    }

    /// The app root directory.
    pub fn app_root(&self) -> &Path {
        &self.app_root
    }

    /// Registers a storage under its full entry id (replacing one of the same id).
    pub(crate) fn register_storage(&self, id: &EntryId, storage: Arc<dyn EnvStorage>) {
        self.storages
            .write()
            .insert(id.as_str().to_string(), storage);
    }

    /// The storage registered as `id` (the full id string).
    pub(crate) fn storage(&self, id: &str) -> Option<Arc<dyn EnvStorage>> {
        self.storages.read().get(id).cloned()
    }

    /// Registers a variable by id, and by public name unless an earlier variable claimed
    /// that name (the first keeps it, as in Wippy).
    pub(crate) fn register_variable(&self, variable: EnvVariable) {
        let variable = Arc::new(variable);
        let mut public = self.public.write();
        match public.get(&variable.public) {
            // Another variable claimed the name first; a re-registered one replaces itself.
            Some(first) if first.id != variable.id => {}
            _ => {
                public.insert(variable.public.clone(), Arc::clone(&variable));
            }
        }
        drop(public);
        self.variables
            .write()
            .insert(variable.id.as_str().to_string(), variable);
    }

    /// Removes the storage or variable `id` (a live change). A public name it held goes
    /// to the remaining variable of that name with the smallest id.
    pub(crate) fn remove(&self, id: &str) {
        self.storages.write().remove(id);
        let Some(gone) = self.variables.write().remove(id) else {
            return;
        };
        let mut public = self.public.write();
        if public.get(&gone.public).is_some_and(|v| v.id == gone.id) {
            public.remove(&gone.public);
            let heir = self
                .variables
                .read()
                .values()
                .filter(|v| v.public == gone.public)
                .min_by(|a, b| a.id.cmp(&b.id))
                .cloned();
            if let Some(heir) = heir {
                public.insert(heir.public.clone(), heir);
            }
        }
    }

    /// Resolves `name_or_id` (reference §2.4): the public-name index, then — for a name
    /// without a namespace — `<frame_namespace>:<name>`, then the id itself.
    pub(crate) fn variable(
        &self,
        name_or_id: &str,
        frame_namespace: Option<&str>,
    ) -> Option<Arc<EnvVariable>> {
        if let Some(v) = self.public.read().get(name_or_id) {
            return Some(Arc::clone(v));
        }
        let variables = self.variables.read();
        let bare = !matches!(name_or_id.find(':'), Some(i) if i > 0);
        if bare && let Some(ns) = frame_namespace.filter(|ns| !ns.is_empty()) {
            let name = name_or_id.trim_start_matches(':');
            if let Some(v) = variables.get(&format!("{ns}:{name}")) {
                return Some(Arc::clone(v));
            }
        }
        variables.get(name_or_id).cloned()
    }

    /// The value of a variable a mapping names (WASI `wasi.env`), read for the caller
    /// `cx`: a name the caller may not `env.get` is absent (`Ok(None)`, nothing read), as
    /// is an unknown variable or one with no value and no default; an empty value counts
    /// as unset. A bare name resolves against `namespace` (the declaring entry's).
    pub fn lookup(
        &self,
        cx: &CallContext,
        name_or_id: &str,
        namespace: Option<&str>,
    ) -> Result<Option<String>> {
        if cx.check("env.get", name_or_id).is_err() {
            return Ok(None);
        }
        match self.variable(name_or_id, namespace) {
            Some(v) => v.value(),
            None => Ok(None),
        }
    }

    /// The value of a variable for the caller `cx` (Lua `env.get`): PermissionDenied
    /// without `env.get` on the name (checked first: a denied caller reads nothing); a
    /// bare name resolves against the caller's namespace; an empty name is Invalid and
    /// an unknown variable NotFound.
    pub fn get(&self, cx: &CallContext, name: &str) -> Result<Option<String>> {
        cx.check("env.get", name)?;
        self.known(cx, name)?.value()
    }

    /// Sets a variable for the caller `cx` (Lua `env.set`): PermissionDenied without
    /// `env.set` on the name (nothing is written); an empty name is Invalid, an unknown
    /// variable NotFound, a `readonly` variable or read-only storage Invalid naming it.
    pub fn set(&self, cx: &CallContext, name: &str, value: &str) -> Result<()> {
        cx.check("env.set", name)?;
        self.known(cx, name)?.set(name, value)
    }

    fn known(&self, cx: &CallContext, name: &str) -> Result<Arc<EnvVariable>> {
        if name.is_empty() {
            return Err(Error::invalid("env variable name is empty"));
        }
        self.variable(name, cx.entry().map(EntryId::ns))
            .ok_or_else(|| Error::not_found(format!("env variable not found: {name}")))
    }
}

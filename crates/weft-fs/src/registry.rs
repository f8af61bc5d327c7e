//! [`FsRegistry`]: the app's `fs.directory` roots, handed out after the `fs.get` check.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::RwLock;
use weft_core::{CallContext, Error, Result};

use crate::FsRoot;

/// The registered roots, by full entry id, and the app root relative paths start from.
pub struct FsRegistry {
    app_root: PathBuf,
    roots: RwLock<HashMap<String, Arc<FsRoot>>>,
}

impl FsRegistry {
    /// An empty registry for the app at `app_root`.
    pub fn new(app_root: PathBuf) -> FsRegistry {
        FsRegistry {
            app_root,
            roots: RwLock::default(),
        }
    }

    /// The app root directory (relative `directory` and file paths start there).
    pub fn app_root(&self) -> &Path {
        &self.app_root
    }

    /// The root `id` (a full id) for the caller `cx`: PermissionDenied without `fs.get`
    /// on the id (checked first, so a denied caller learns nothing), NotFound when no
    /// such root is registered.
    pub fn get(&self, cx: &CallContext, id: &str) -> Result<Arc<FsRoot>> {
        cx.check("fs.get", id)?;
        self.roots
            .read()
            .get(id)
            .cloned()
            .ok_or_else(|| Error::not_found(format!("filesystem not found: {id}")))
    }

    /// Puts `root` (or nothing) under `id`, returning what was there: a live change and
    /// its undo. Files opened from a replaced root stay open.
    pub(crate) fn replace(&self, id: &str, root: Option<Arc<FsRoot>>) -> Option<Arc<FsRoot>> {
        let mut roots = self.roots.write();
        match root {
            Some(root) => roots.insert(id.to_string(), root),
            None => roots.remove(id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use weft_core::{Actor, EntryId, ErrorKind, Map, Scope};

    #[test]
    fn get_checks_fs_get_before_looking() {
        let dir = tempfile::tempdir().unwrap();
        let fs = FsRegistry::new(dir.path().to_path_buf());
        let root = FsRoot::new(EntryId::new("app", "data"), dir.path()).unwrap();
        fs.replace("app:data", Some(Arc::new(root)));
        let open = CallContext::root(false);
        assert_eq!(fs.get(&open, "app:data").unwrap().id().as_str(), "app:data");
        assert_eq!(
            fs.get(&open, "app:nope").unwrap_err().kind(),
            ErrorKind::NotFound
        );
        let denied = open
            .with_actor(Some(Actor::new("eve", Map::new())))
            .with_scope(Some(Scope::default()));
        for id in ["app:data", "app:nope"] {
            let err = fs.get(&denied, id).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{id}");
            assert_eq!(err.message(), format!("not allowed: fs.get on {id}"));
        }
    }
}

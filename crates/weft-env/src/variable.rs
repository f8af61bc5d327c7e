//! [`EnvVariable`]: a named handle on one key of a storage.

use std::fmt;
use std::sync::Arc;

use weft_core::{EntryId, Result};

use crate::storage::{EnvStorage, read_only};

/// One `env.variable`: a named handle on one key of a storage.
pub struct EnvVariable {
    pub(crate) id: EntryId,
    pub(crate) public: String,
    pub(crate) key: String,
    storage: Arc<dyn EnvStorage>,
    pub(crate) default: Option<String>,
    pub(crate) readonly: bool,
}

impl EnvVariable {
    /// A variable `id` on `key` of `storage`; its public name is `variable` or the full id.
    pub fn new(
        id: EntryId,
        variable: Option<String>,
        storage: Arc<dyn EnvStorage>,
        default: Option<String>,
        readonly: bool,
    ) -> EnvVariable {
        let key = variable.unwrap_or_else(|| id.as_str().to_string());
        EnvVariable {
            public: key.clone(),
            key,
            id,
            storage,
            default,
            readonly,
        }
    }

    /// The value: the storage's unless empty, else the default (empty counts as unset).
    pub fn value(&self) -> Result<Option<String>> {
        let stored = self
            .storage
            .get(&self.key)
            .map_err(|e| e.context(format!("env variable {}", self.id)))?;
        Ok(stored
            .filter(|v| !v.is_empty())
            .or_else(|| self.default.clone().filter(|d| !d.is_empty())))
    }

    /// Writes the value; a read-only variable or storage fails (Invalid) naming `name`.
    pub fn set(&self, name: &str, value: &str) -> Result<()> {
        if self.readonly {
            return Err(read_only(format_args!("env variable {name}")));
        }
        self.storage
            .set(&self.key, value)
            .map_err(|e| e.context(format!("cannot set env variable {name}")))
    }
}

impl fmt::Debug for EnvVariable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvVariable")
            .field("id", &self.id)
            .field("key", &self.key)
            .field("readonly", &self.readonly)
            .finish_non_exhaustive()
    }
}

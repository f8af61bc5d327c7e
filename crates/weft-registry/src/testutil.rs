//! Test helpers: real app folders on disk.

use std::path::{Path, PathBuf};

use crate::error::LoadErrors;
use crate::load::{App, LoadOptions, load_app};

/// A temporary app folder.
pub(crate) struct TestApp {
    dir: tempfile::TempDir,
}

impl TestApp {
    /// An empty app folder.
    pub(crate) fn new() -> TestApp {
        TestApp {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    /// The app root.
    pub(crate) fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file (creating parent directories); returns `self` for chaining.
    pub(crate) fn file(&self, rel: &str, text: &str) -> &TestApp {
        let path = self.dir.path().join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(path, text).expect("write");
        self
    }

    /// Load options for this app.
    pub(crate) fn options(&self) -> LoadOptions {
        LoadOptions {
            root: PathBuf::from(self.root()),
            ..LoadOptions::default()
        }
    }

    /// Loads the app with default options.
    pub(crate) fn load(&self) -> Result<App, LoadErrors> {
        load_app(&self.options())
    }

    /// Loads the app, expecting success.
    pub(crate) fn load_ok(&self) -> App {
        match self.load() {
            Ok(app) => app,
            Err(e) => panic!("load failed:\n{e}"),
        }
    }

    /// Loads the app, expecting failure; returns the rendered errors, one per line.
    pub(crate) fn load_err(&self) -> Vec<String> {
        match self.load() {
            Ok(app) => panic!("load succeeded with {} entries", app.entries.len()),
            Err(e) => e.0.iter().map(|e| e.to_string()).collect(),
        }
    }
}

/// The ids of entries, as strings.
pub(crate) fn ids(app: &App) -> Vec<String> {
    app.entries.iter().map(|e| e.id.to_string()).collect()
}

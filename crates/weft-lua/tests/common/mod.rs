//! Test helpers: real app folders on disk, booted through the real loader.

use std::path::Path;
use std::sync::Arc;

use weft_env::{EnvHandler, EnvRegistry};
use weft_lua::{Capabilities, LuaEngine};
use weft_registry::{BootOptions, KindHandler, LoadErrors, LoadOptions, boot, load_app};
use weft_runtime::{HostHandler, Runtime};

/// Writes `files` (path, text) under a new temp dir.
pub fn app(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let full = dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }
    dir
}

pub async fn boot_dir(root: &Path) -> Result<Arc<Runtime>, LoadErrors> {
    let app = load_app(&LoadOptions {
        root: root.to_path_buf(),
        ..LoadOptions::default()
    })?;
    let rt = Runtime::new(app.root.clone(), app.config.clone());
    let env = Arc::new(EnvRegistry::new(app.root.clone()));
    let fs = Arc::new(weft_fs::FsRegistry::new(app.root.clone()));
    let handlers: Vec<Arc<dyn KindHandler>> = vec![
        Arc::new(LuaEngine::new(
            &rt,
            Capabilities {
                env: env.clone(),
                fs: fs.clone(),
                http: Arc::new(weft_http::HttpClient::new()),
                store: Arc::new(weft_store::StoreRegistry::new(rt.policies.clone())),
            },
        )),
        Arc::new(HostHandler),
        Arc::new(EnvHandler::new(&env)),
        Arc::new(weft_fs::FsHandler::new(&fs)),
    ];
    boot(&app, &rt.registry, &handlers, &BootOptions::default()).await?;
    Ok(rt)
}

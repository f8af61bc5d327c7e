//! Helpers shared by the integration tests that use the committed guests.
//! (Each test binary uses a part of them.)
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// `guests/dist`, where the committed test guests are.
pub fn dist() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../guests/dist")
        .canonicalize()
        .expect("guests/dist")
}

/// The `sha256:<hex>` of a file, as an entry's `hash:` field wants it.
pub fn sha(path: &Path) -> String {
    format!(
        "sha256:{}",
        hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
    )
}

/// An entry of `kind` (`function.wasm` or `process.wasm`) named `name` for the guest
/// `guests/dist/<guest>.wasm`, read from the `t:guests` fs, with extra YAML lines.
pub fn guest_entry(kind: &str, name: &str, guest: &str, method: &str, extra: &str) -> String {
    let hash = sha(&dist().join(format!("{guest}.wasm")));
    format!(
        "  - name: {name}\n    kind: {kind}\n    fs: t:guests\n    path: /{guest}.wasm\n    hash: {hash}\n    method: \"{method}\"\n{extra}"
    )
}

/// Boots the app in `root` as the CLI does; the boot's error text on failure.
pub async fn boot_dir(root: &Path) -> Result<std::sync::Arc<weft_runtime::Runtime>, String> {
    boot_app_dir(root).await.map(|b| b.runtime)
}

/// [`boot_dir`] with the booted capabilities too.
pub async fn boot_app_dir(root: &Path) -> Result<weft::Booted, String> {
    let opts = weft_registry::LoadOptions {
        root: root.to_path_buf(),
        ..weft_registry::LoadOptions::default()
    };
    weft::boot_app(&opts, &weft_registry::BootOptions::default())
        .await
        .map_err(|e| e.to_string())
}

/// Writes `files` (path under the root, contents) into a new temp dir: an app.
pub fn write_app(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, body) in files {
        let full = dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, body).unwrap();
    }
    dir
}

/// Boots the app in `root`, starts its services, and returns it with the address its
/// `http.service` `server` listens on.
pub async fn serve_http(root: &Path, server: &str) -> (weft::Booted, std::net::SocketAddr) {
    let booted = boot_app_dir(root).await.expect("boot");
    booted.runtime.services.start_all().await.expect("start");
    let addr = booted
        .http
        .server(server)
        .and_then(|s| s.local_addr())
        .expect("bound");
    (booted, addr)
}

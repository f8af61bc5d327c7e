//! `fs.directory` entries at boot: `auto_init` creates the directory (with `mode`),
//! a missing directory without it is an error, and a bad `mode` or `base` names the field.

use weft::boot_app;
use weft_registry::{BootOptions, LoadOptions};

/// Boots an app made of `entries` in a temp dir; the boot's error text on failure.
async fn boot(entries: &str) -> (tempfile::TempDir, Result<(), String>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("src/_index.yaml"),
        format!("namespace: t\nentries:\n{entries}"),
    )
    .unwrap();
    let opts = LoadOptions {
        root: dir.path().to_path_buf(),
        ..LoadOptions::default()
    };
    let result = boot_app(&opts, &BootOptions::default())
        .await
        .map(|_| ())
        .map_err(|e| e.to_string());
    (dir, result)
}

#[tokio::test]
async fn auto_init_creates_the_directory_with_its_mode() {
    let (dir, result) =
        boot("  - {name: data, kind: fs.directory, directory: var/data, auto_init: true, mode: \"0750\"}\n")
            .await;
    result.unwrap();
    let created = dir.path().join("var/data");
    assert!(created.is_dir());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&created).unwrap().permissions().mode() & 0o777;
        // The umask may clear group bits; the owner always gets rwx, others nothing.
        assert_eq!(mode & 0o707, 0o700, "{mode:o}");
    }
}

#[tokio::test]
async fn a_missing_directory_without_auto_init_fails_naming_the_field() {
    let (dir, result) = boot("  - {name: data, kind: fs.directory, directory: nowhere}\n").await;
    let err = result.unwrap_err();
    assert!(err.contains("t:data"), "{err}");
    assert!(err.contains("directory"), "{err}");
    assert!(err.contains("auto_init"), "{err}");
    assert!(!dir.path().join("nowhere").exists());
}

#[tokio::test]
async fn a_bad_mode_or_base_fails_naming_the_field() {
    for (yaml, field) in [
        ("mode: \"rwx\"", "mode"),
        ("mode: \"0999\"", "mode"),
        ("base: elsewhere", "base"),
    ] {
        let (dir, result) = boot(&format!(
            "  - {{name: data, kind: fs.directory, directory: made, auto_init: true, {yaml}}}\n"
        ))
        .await;
        let err = result.unwrap_err();
        assert!(err.contains("t:data"), "{yaml}: {err}");
        assert!(err.contains(&format!("field {field}")), "{yaml}: {err}");
        assert!(
            !dir.path().join("made").exists(),
            "{yaml}: nothing is created"
        );
    }
}

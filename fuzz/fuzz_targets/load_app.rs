//! App loading: arbitrary bytes as the files of an app, through the real loader
//! (`weft_registry::load_app`), then the loaded entries through the registry.
//!
//! The input is split at NUL bytes (which YAML and JSON text never holds) into, in
//! order: `src/_index.yaml`, `.wippy.yaml`, `src/sub/defs.json`, `wippy.lock`,
//! `mods/a/_index.yaml` (a module a lock may point to) and CLI overrides (one per
//! line). A missing part is a missing file. The app lives in a directory of its own on
//! tmpfs, rewritten per input and removed at exit, with `src/hello.lua` and
//! `mods/a/data.txt` for `file://` sources to find.

#![no_main]

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use weft_registry::{LoadOptions, Registry, dependencies, load_app};

/// The app directory of this process.
static ROOT: LazyLock<PathBuf> = LazyLock::new(|| {
    let base = Path::new("/dev/shm");
    let base = if base.is_dir() {
        base.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    let root = base.join(format!("weft-fuzz-load-{}", std::process::id()));
    for dir in ["src/sub", "mods/a"] {
        std::fs::create_dir_all(root.join(dir)).expect("app dirs");
    }
    std::fs::write(root.join("src/hello.lua"), "return {}\n").expect("hello.lua");
    std::fs::write(root.join("mods/a/data.txt"), "data\n").expect("data.txt");
    // SAFETY: registers a plain function; libFuzzer ends a run with exit(), which runs it.
    unsafe { libc::atexit(remove_root) };
    root
});

/// Removes the app directory when the process exits.
extern "C" fn remove_root() {
    let _ = std::fs::remove_dir_all(&*ROOT);
}

/// The files the parts of the input become, in order.
const FILES: [&str; 5] = [
    "src/_index.yaml",
    ".wippy.yaml",
    "src/sub/defs.json",
    "wippy.lock",
    "mods/a/_index.yaml",
];

/// Whether a lock text may be used: a lock may name any directory on the machine as a
/// source, so one that could leave the app (a `/`, a `\` escape, `..`) is left out.
fn confined(text: &[u8]) -> bool {
    !text.contains(&b'/') && !text.contains(&b'\\') && !text.windows(2).any(|w| w == b"..")
}

fuzz_target!(|data: &[u8]| {
    let root = &*ROOT;
    let mut parts = data.split(|b| *b == 0);
    for file in FILES {
        let path = root.join(file);
        match parts.next() {
            Some(text) if file != "wippy.lock" || confined(text) => {
                std::fs::write(&path, text).expect("write");
            }
            _ => {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
    let overrides = parts
        .next()
        .map(|text| {
            String::from_utf8_lossy(text)
                .lines()
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let opts = LoadOptions {
        root: root.clone(),
        config_file: None,
        overrides,
    };
    match load_app(&opts) {
        Ok(app) => {
            let registry = Registry::new();
            for entry in &app.entries {
                let _ = dependencies(entry);
                let _ = format!("{entry:?}");
                registry.insert(entry.clone());
            }
            // Each entry's fields as a registry filter: globs, regexes, meta paths.
            for entry in &app.entries {
                let found = registry.find(entry.data_map());
                let _ = (found.entries.len(), found.errors, found.ignored_keys);
            }
            let _ = app
                .config
                .duration_or("shutdown.timeout", Default::default());
            let _ = app.config.iter().count();
        }
        Err(errors) => {
            let _ = errors.to_string();
            for e in errors.iter() {
                let _ = e.to_string();
            }
        }
    }
});

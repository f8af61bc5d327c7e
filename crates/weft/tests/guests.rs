//! The committed WebAssembly guests match their sources.
//!
//! `guests/build.sh` builds every guest and writes `guests/dist/MANIFEST.txt`: per guest,
//! the sha256 of the committed `.wasm` and a sha256 over its source files. This test
//! recomputes both from the files on disk, with no wasm toolchain, and fails when a source
//! changed without a rebuild (or an artifact changed without its source). The hash format
//! is described at the top of `guests/build.sh`; the two must agree.

use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// One line of the manifest.
struct Entry {
    name: String,
    kind: String,
    artifact: Option<String>,
    wasm_sha256: Option<String>,
    source_sha256: String,
    sources: Vec<String>,
}

fn manifest() -> Vec<Entry> {
    let path = repo_root().join("guests/dist/MANIFEST.txt");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}: run guests/build.sh", path.display()));
    let dash = |s: &str| (s != "-").then(|| s.to_string());
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            assert!(f.len() >= 6, "malformed manifest line: {line}");
            Entry {
                name: f[0].to_string(),
                kind: f[1].to_string(),
                artifact: dash(f[2]),
                wasm_sha256: dash(f[3]),
                source_sha256: f[4].to_string(),
                sources: f[5..].iter().map(|s| s.to_string()).collect(),
            }
        })
        .collect()
}

/// Every regular file under `rel` (a file or a directory, relative to the repository
/// root), skipping directories named `target` or `node_modules` and symlinks, as
/// `find -type f` does.
fn collect_files(root: &Path, rel: &str, out: &mut Vec<String>) -> std::io::Result<()> {
    let meta = std::fs::symlink_metadata(root.join(rel))?;
    if meta.is_file() {
        out.push(rel.to_string());
    } else if meta.is_dir() {
        for entry in std::fs::read_dir(root.join(rel))? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name == "target" || name == "node_modules" {
                continue;
            }
            collect_files(root, &format!("{rel}/{name}"), out)?;
        }
    }
    Ok(())
}

/// sha256 of the `sha256sum`-style listing (`<hex>  <path>\n` per file, sorted by path).
fn source_hash(root: &Path, sources: &[String]) -> Result<String, String> {
    let mut files = Vec::new();
    for src in sources {
        collect_files(root, src, &mut files).map_err(|e| format!("{src}: {e}"))?;
    }
    files.sort();
    let mut listing = String::new();
    for file in &files {
        let bytes = std::fs::read(root.join(file)).map_err(|e| format!("{file}: {e}"))?;
        writeln!(listing, "{}  {file}", hex(&sha256(&bytes))).unwrap();
    }
    Ok(hex(&sha256(listing.as_bytes())))
}

#[test]
fn guests_match_their_sources() {
    let root = repo_root();
    let entries = manifest();
    assert!(
        !entries.is_empty(),
        "guests/dist/MANIFEST.txt lists no guest"
    );
    let mut problems = Vec::new();
    for e in &entries {
        let src = e.sources.first().map(String::as_str).unwrap_or("?");
        match source_hash(&root, &e.sources) {
            Ok(h) if h == e.source_sha256 => {}
            Ok(_) => problems.push(match &e.artifact {
                Some(a) => format!("{src} changed since {a} was built: run guests/build.sh"),
                None => {
                    format!("{src} changed since the manifest was written: run guests/build.sh")
                }
            }),
            Err(err) => problems.push(format!(
                "{}: cannot read a source ({err}): run guests/build.sh",
                e.name
            )),
        }
        if let (Some(artifact), Some(want)) = (&e.artifact, &e.wasm_sha256) {
            match std::fs::read(root.join(artifact)) {
                Ok(bytes) if hex(&sha256(&bytes)) == *want => {}
                Ok(_) => problems.push(format!(
                    "{artifact} is not the file guests/build.sh built from {src}: run guests/build.sh"
                )),
                Err(err) => problems.push(format!("{artifact}: {err}: run guests/build.sh")),
            }
        } else {
            assert_eq!(
                e.kind, "wat",
                "{}: a component needs an artifact and its sha256",
                e.name
            );
        }
    }
    assert!(
        problems.is_empty(),
        "guests out of date:\n  {}",
        problems.join("\n  ")
    );
}

/// A guest added to the tree but not to `guests/build.sh` would never be checked.
#[test]
fn every_guest_is_in_the_manifest() {
    let root = repo_root();
    let entries = manifest();
    let listed = |path: &str| entries.iter().any(|e| e.sources.iter().any(|s| s == path));
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(root.join("guests")).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = format!("guests/{name}");
        let crate_or_package = entry.path().join("Cargo.toml").is_file()
            || entry.path().join("package.json").is_file();
        if crate_or_package && !listed(&path) {
            missing.push(path);
        }
    }
    for entry in std::fs::read_dir(root.join("guests/wat")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let path = format!("guests/wat/{name}");
        if (name.ends_with(".wat") || name.ends_with(".wit")) && !listed(&path) {
            missing.push(path);
        }
    }
    assert!(
        missing.is_empty(),
        "not in guests/dist/MANIFEST.txt (add them to guests/build.sh): {missing:?}"
    );
}

/// Rebuilds every guest from scratch in a temporary target dir and compares the bytes
/// with the committed ones. Needs rustup's wasm32-wasip2 target and a few minutes:
/// `cargo test -p weft --test guests -- --ignored`.
#[test]
#[ignore = "rebuilds the guests with the wasm32-wasip2 toolchain (minutes)"]
fn guests_rebuild_byte_for_byte() {
    let status = Command::new("bash")
        .arg(repo_root().join("guests/build.sh"))
        .arg("--check")
        .status()
        .expect("run guests/build.sh --check");
    assert!(
        status.success(),
        "guests/build.sh --check failed (its output says which guest)"
    );
}

/// Lowercase hex of a digest.
fn hex(bytes: &[u8]) -> String {
    ::hex::encode(bytes)
}

/// The sha256 of `data`.
fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

//! Tests of what `load` reads: only regular files, under the cap, inside their root.

use std::os::unix::fs::symlink;
use std::sync::mpsc;
use std::time::Duration;

use super::*;
use crate::testutil::TestApp;

/// Loads with `opts` on a thread, failing after 10 s: a hang is a failure, not a stuck suite.
fn load_soon(opts: LoadOptions) -> Vec<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(load_app(&opts));
    });
    match rx.recv_timeout(Duration::from_secs(10)) {
        Ok(Ok(app)) => panic!("load succeeded with {} entries", app.entries.len()),
        Ok(Err(e)) => e.0.iter().map(|e| e.to_string()).collect(),
        Err(_) => panic!("the load did not finish within 10 s"),
    }
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo");
    assert!(status.success());
}

/// An app whose one entry has `source: file://<name>`.
fn app_with_source(name: &str) -> TestApp {
    let t = TestApp::new();
    t.file(
        "src/_index.yaml",
        &format!("namespace: app\nentries:\n  - name: f\n    kind: function.lua\n    source: file://{name}\n"),
    );
    t
}

fn only(errors: &[String]) -> &str {
    assert_eq!(errors.len(), 1, "{errors:#?}");
    &errors[0]
}

#[test]
fn a_fifo_source_fails_at_once() {
    let t = app_with_source("pipe.lua");
    mkfifo(&t.root().join("src/pipe.lua"));
    let errors = load_soon(t.options());
    assert_eq!(
        only(&errors),
        "src/_index.yaml:3: entry app:f (function.lua): field source: src/pipe.lua is a FIFO, not a regular file (from file://pipe.lua)"
    );
}

#[test]
fn a_link_to_a_device_fails_at_once() {
    let t = app_with_source("zero.lua");
    symlink("/dev/zero", t.root().join("src/zero.lua")).unwrap();
    let errors = load_soon(t.options());
    let error = only(&errors);
    // /dev/zero is outside the app: the link is refused before anything is opened.
    assert!(
        error.contains("field source: src/zero.lua resolves outside ")
            && error.ends_with("via a symbolic link: /dev/zero (from file://zero.lua)"),
        "{error}"
    );
}

#[test]
fn a_source_over_the_cap_fails() {
    let t = app_with_source("big.lua");
    let big = std::fs::File::create(t.root().join("src/big.lua")).unwrap();
    big.set_len(MAX_TEXT_FILE_BYTES + 1).unwrap();
    let errors = load_soon(t.options());
    assert!(
        only(&errors).ends_with(
            "field source: src/big.lua is larger than the 16 MiB limit (from file://big.lua)"
        ),
        "{errors:#?}"
    );
}

#[test]
fn a_link_out_of_the_app_fails_and_one_inside_works() {
    let t = app_with_source("out.lua");
    t.file("secret.txt", "TOPSECRET");
    symlink(t.root().join("secret.txt"), t.root().join("src/out.lua")).unwrap();
    let errors = load_soon(t.options());
    let error = only(&errors);
    assert!(
        error.contains("entry app:f (function.lua): field source: src/out.lua resolves outside")
            && error.contains("secret.txt (from file://out.lua)")
            && !error.contains("TOPSECRET"),
        "{error}"
    );

    let t = app_with_source("lib/in.lua");
    t.file("src/real/code.lua", "return 1");
    std::fs::create_dir_all(t.root().join("src/lib")).unwrap();
    symlink("../real/code.lua", t.root().join("src/lib/in.lua")).unwrap();
    let app = t.load_ok();
    let source = app.entries[0].data.get("source").and_then(|v| v.as_str());
    assert_eq!(source, Some("return 1"));
}

#[test]
fn a_fifo_config_fails_at_once() {
    let t = TestApp::new();
    t.file("src/a.yaml", "namespace: app\nname: a\nkind: k\n");
    let fifo = t.root().join("weft.yaml");
    mkfifo(&fifo);
    let mut opts = t.options();
    opts.config_file = Some(fifo);
    assert_eq!(
        only(&load_soon(opts)),
        "weft.yaml: config file is a FIFO, not a regular file"
    );

    let t = TestApp::new();
    mkfifo(&t.root().join(".wippy.yaml"));
    assert_eq!(
        only(&load_soon(t.options())),
        ".wippy.yaml: config file is a FIFO, not a regular file"
    );
}

#[test]
fn config_may_be_elsewhere_only_when_named() {
    let elsewhere = tempfile::tempdir().unwrap();
    let config = elsewhere.path().join("weft.yaml");
    std::fs::write(&config, "version: \"1.0\"\nsecurity: {strict_mode: true}\n").unwrap();

    let t = TestApp::new();
    symlink(&config, t.root().join(".wippy.yaml")).unwrap();
    let errors = load_soon(t.options());
    assert!(
        only(&errors).starts_with(".wippy.yaml: config file resolves outside "),
        "{errors:#?}"
    );

    let t = TestApp::new();
    let mut opts = t.options();
    opts.config_file = Some(config);
    let app = load_app(&opts).unwrap_or_else(|e| panic!("{e}"));
    assert!(app.config.bool_or("security.strict_mode", false));
}

#[test]
fn special_definition_and_lock_files_are_reported() {
    let t = TestApp::new();
    t.file("src/a.yaml", "namespace: app\nname: a\nkind: k\n");
    mkfifo(&t.root().join("src/b.yaml"));
    symlink("/dev/zero", t.root().join("src/c.yaml")).unwrap();
    let errors = load_soon(t.options());
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert_eq!(errors[0], "src/b.yaml: file is a FIFO, not a regular file");
    assert!(
        errors[1].starts_with("src/c.yaml: file resolves outside ")
            && errors[1].ends_with("via a symbolic link: /dev/zero"),
        "{errors:#?}"
    );

    let t = TestApp::new();
    mkfifo(&t.root().join("wippy.lock"));
    assert_eq!(
        only(&load_soon(t.options())),
        "wippy.lock: lock file is a FIFO, not a regular file"
    );
}

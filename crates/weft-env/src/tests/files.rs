//! `env.storage.file`: reads, atomic writes that keep other lines, creation, validation.

use super::*;

#[test]
fn file_storage_reads_writes_and_keeps_other_lines() {
    let d = tempfile::tempdir().unwrap();
    let rt = rt(d.path());
    std::fs::create_dir(d.path().join("conf")).unwrap();
    let file = d.path().join("conf/app.env");
    std::fs::write(
        &file,
        "# settings\nexport PORT=80\nNAME='weft app'\nPORT=81\n\nOTHER=1\n",
    )
    .unwrap();
    ok(
        &rt,
        "t:file",
        "env.storage.file",
        r#"{"file_path":"conf/app.env"}"#,
    );
    ok(
        &rt,
        "t:port",
        "env.variable",
        r#"{"storage":"file","variable":"PORT"}"#,
    );
    ok(
        &rt,
        "t:name",
        "env.variable",
        r#"{"storage":"file","variable":"NAME"}"#,
    );
    ok(
        &rt,
        "t:new",
        "env.variable",
        r#"{"storage":"file","variable":"NEW"}"#,
    );
    let env = &rt;
    assert_eq!(env.get(&cx(None), "PORT").unwrap().as_deref(), Some("81"));
    assert_eq!(
        env.get(&cx(None), "NAME").unwrap().as_deref(),
        Some("weft app")
    );
    env.set(&cx(None), "PORT", "8080").unwrap();
    env.set(&cx(None), "NEW", "a value # with hash").unwrap();
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "# settings\nexport PORT=8080\nNAME='weft app'\n\nOTHER=1\nNEW=\"a value # with hash\"\n"
    );
    assert_eq!(env.get(&cx(None), "PORT").unwrap().as_deref(), Some("8080"));
    assert_eq!(
        env.get(&cx(None), "NEW").unwrap().as_deref(),
        Some("a value # with hash")
    );
    // No temporary file is left behind.
    let names: Vec<_> = std::fs::read_dir(d.path().join("conf"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["app.env"]);
    // Changes made to the file by someone else are seen.
    std::fs::write(&file, "PORT=9999 # changed\n").unwrap();
    assert_eq!(env.get(&cx(None), "PORT").unwrap().as_deref(), Some("9999"));
    std::fs::remove_file(&file).unwrap();
    assert_eq!(env.get(&cx(None), "PORT").unwrap(), None);
    // A write recreates it.
    env.set(&cx(None), "PORT", "1").unwrap();
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "PORT=1\n");
    // Keys a .env line cannot hold.
    let storage = rt.storage("t:file").unwrap();
    for key in ["", "A B", "A=B", "#A", "A\nB"] {
        assert_eq!(
            storage.set(key, "v").unwrap_err().kind(),
            ErrorKind::Invalid,
            "{key:?}"
        );
    }
}

#[test]
fn file_storage_writes_replace_the_file_atomically() {
    let d = tempfile::tempdir().unwrap();
    let file = d.path().join("a.env");
    std::fs::write(&file, "A=1\n").unwrap();
    let storage =
        FileStorage::open(EntryId::new("t", "f"), file.clone(), FileMode::new(0o600)).unwrap();
    #[cfg(unix)]
    let inode = {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(&file).unwrap().ino()
    };
    // A reader holding the old file keeps seeing the old contents.
    let old = std::fs::File::open(&file).unwrap();
    storage.set("B", "2").unwrap();
    assert_eq!(std::io::read_to_string(old).unwrap(), "A=1\n");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "A=1\nB=2\n");
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let meta = std::fs::metadata(&file).unwrap();
        assert_ne!(
            meta.ino(),
            inode,
            "the file must be replaced, not edited in place"
        );
        assert_eq!(meta.permissions().mode() & 0o7777, 0o600);
    }
    // A write that cannot replace the target fails and leaves no temporary file.
    let blocked = d.path().join("blocked.env");
    let storage = FileStorage::open(
        EntryId::new("t", "b"),
        blocked.clone(),
        FileMode::new(0o600),
    )
    .unwrap();
    std::fs::create_dir_all(blocked.join("child")).unwrap();
    let e = storage.write_atomically("A=1\n").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Internal);
    assert!(
        e.to_string().starts_with("env storage t:b: cannot write "),
        "{e}"
    );
    let mut names: Vec<_> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["a.env", "blocked.env"]);
}

#[test]
fn file_storage_auto_create_makes_the_file_and_its_directories() {
    let d = tempfile::tempdir().unwrap();
    let rt = rt(d.path());
    ok(
        &rt,
        "t:file",
        "env.storage.file",
        r#"{"file_path":"data/env/.env","auto_create":true,"file_mode":"0600","dir_mode":"0o700"}"#,
    );
    let file = d.path().join("data/env/.env");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(&d.path().join("data/env")), 0o700);
    }
    // An existing file is kept as it is.
    std::fs::write(&file, "K=v\n").unwrap();
    ok(
        &rt,
        "t:again",
        "env.storage.file",
        r#"{"file_path":"data/env/.env","auto_create":true}"#,
    );
    assert_eq!(
        rt.storage("t:again").unwrap().get("K").unwrap().as_deref(),
        Some("v")
    );
    // An absolute path is used as is.
    let abs = d.path().join("abs.env");
    let data = format!(
        r#"{{"file_path":{:?},"auto_create":true,"file_mode":384}}"#,
        abs.display().to_string()
    );
    ok(&rt, "t:abs", "env.storage.file", &data);
    assert!(abs.is_file());
}

#[test]
fn a_check_creates_no_file_and_still_validates_the_path() {
    let d = tempfile::tempdir().unwrap();
    let rt = rt(d.path());
    let check =
        |id: &str, data: &str| register(&rt, &entry(id, "env.storage.file", data), BootMode::Check);
    check(
        "t:file",
        r#"{"file_path":"data/env/.env","auto_create":true}"#,
    )
    .unwrap();
    assert!(!d.path().join("data").exists());
    // The storage is there and reads as the new file would: empty.
    assert_eq!(rt.storage("t:file").unwrap().get("K").unwrap(), None);
    // What would make the creation fail fails the check.
    std::fs::write(d.path().join("plain"), "").unwrap();
    let e = check("t:bad", r#"{"file_path":"plain/.env","auto_create":true}"#).unwrap_err();
    assert!(
        e.to_string()
            .contains("plain exists and is not a directory"),
        "{e}"
    );
    // Without auto_create a missing file fails a check as it fails a run.
    let e = check("t:gone", r#"{"file_path":"gone.env"}"#).unwrap_err();
    assert!(e.to_string().contains("does not exist"), "{e}");
}

#[test]
fn file_storage_validation_names_the_field() {
    let d = tempfile::tempdir().unwrap();
    let rt = rt(d.path());
    std::fs::create_dir(d.path().join("dir")).unwrap();
    let cases = [
        ("{}", "field file_path: file_path is required"),
        (
            r#"{"file_path":"  "}"#,
            "field file_path: file_path is required",
        ),
        (r#"{"file_path":"dir"}"#, "is a directory"),
        (
            r#"{"file_path":"missing.env"}"#,
            "does not exist (set auto_create: true to create it)",
        ),
        (
            r#"{"file_path":"a.env","auto_create":true,"file_mode":"0999"}"#,
            "field file_mode: file_mode must be an octal mode like \"0600\", got \"0999\"",
        ),
        (
            r#"{"file_path":"a.env","auto_create":true,"file_mode":"rw"}"#,
            "field file_mode: ",
        ),
        (
            r#"{"file_path":"a.env","auto_create":true,"file_mode":""}"#,
            "field file_mode: ",
        ),
        (
            r#"{"file_path":"a.env","auto_create":true,"dir_mode":"17777"}"#,
            "field dir_mode: dir_mode must be an octal mode like \"0600\", got 0o17777",
        ),
        (
            r#"{"file_path":"a.env","auto_create":true,"dir_mode":-1}"#,
            "field dir_mode: ",
        ),
        (
            r#"{"file_path":"a.env","auto_create":true,"dir_mode":true}"#,
            "field dir_mode: ",
        ),
        (
            r#"{"file_path":"a.env","auto_create":"yes"}"#,
            "field auto_create: invalid type",
        ),
    ];
    for (data, expected) in cases {
        let (kind, text) = field_error(&rt, "env.storage.file", data);
        assert_eq!(kind, ErrorKind::Invalid, "{data}: {text}");
        assert!(text.contains(expected), "{data}: {text}");
        if !expected.starts_with("field") {
            assert!(text.starts_with("field file_path: "), "{data}: {text}");
        }
    }
    assert!(!d.path().join("a.env").exists());
}

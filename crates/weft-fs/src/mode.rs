//! Permission modes and the creation of files and directories with them.

use std::path::Path;

use weft_core::{Error, Result, Value};

/// Unix permission bits (owner, group, others: at most `0o777`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileMode(u32);

impl FileMode {
    /// The permission bits of `bits` (set-id and sticky bits are dropped).
    pub const fn new(bits: u32) -> FileMode {
        FileMode(bits & 0o777)
    }

    /// The permission bits.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Reads the entry field `field`: an octal string (`"0600"`, `"0o600"`; YAML reads an
    /// unquoted `0600` as such a string) or a YAML octal integer (`0o600`); absent or nil
    /// gives `default`. Set-id and sticky bits are refused: nothing weft makes needs
    /// them, and a decimal integer such as `755` (octal 1363) is a mistake they catch.
    /// Errors are Invalid and name the field.
    pub fn parse(value: Option<&Value>, default: FileMode, field: &str) -> Result<FileMode> {
        let bad = |shown: String| {
            Error::invalid(format!(
                "{field} must be an octal mode like \"0600\", got {shown}"
            ))
            .in_field(field)
        };
        let mode = match value {
            None | Some(Value::Nil) => return Ok(default),
            Some(Value::Int(n)) => u32::try_from(*n).map_err(|_| bad(n.to_string()))?,
            Some(v @ Value::Str(_)) => {
                let text = v.as_str().unwrap_or_default().trim();
                let digits = text.strip_prefix("0o").unwrap_or(text);
                if digits.is_empty() {
                    return Err(bad(format!("{text:?}")));
                }
                u32::from_str_radix(digits, 8).map_err(|_| bad(format!("{text:?}")))?
            }
            Some(other) => return Err(bad(other.type_name().to_string())),
        };
        if mode > 0o777 {
            return Err(bad(format!(
                "{mode:#o} (only permission bits, at most 0o777; write a YAML integer as 0o755)"
            )));
        }
        Ok(FileMode(mode))
    }
}

/// Creates `dir` and its missing parents with `mode` (the umask applies).
pub fn create_dirs(dir: &Path, mode: FileMode) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(mode.0)
            .create(dir)
    }
    #[cfg(not(unix))]
    {
        let _ = mode;
        std::fs::create_dir_all(dir)
    }
}

/// Creates an empty file with exactly `file_mode` (the umask does not apply), and its
/// missing directories with `dir_mode`; an existing file is left as it is.
pub fn create_file(path: &Path, file_mode: FileMode, dir_mode: FileMode) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.is_dir()
    {
        create_dirs(dir, dir_mode)?;
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(_) => set_mode(path, file_mode),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Checks, creating nothing, that [`create_dirs`] or [`create_file`] could make `path`
/// and its missing parents: the nearest of `path` and its ancestors that exists must be
/// a directory (what `weft check` can see of a creation without doing it).
pub fn check_creatable(path: &Path) -> std::io::Result<()> {
    let mut existing = Some(path);
    while let Some(p) = existing {
        if p.as_os_str().is_empty() || p.is_dir() {
            return Ok(());
        }
        if std::fs::symlink_metadata(p).is_ok() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotADirectory,
                format!("{} exists and is not a directory", p.display()),
            ));
        }
        existing = p.parent();
    }
    Ok(())
}

/// Sets the exact permission bits of a file (the umask does not apply).
pub fn set_mode(path: &Path, mode: FileMode) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode.0))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_from_strings_and_integers() {
        let d = FileMode(0o644);
        let p = |v: Value| FileMode::parse(Some(&v), d, "mode");
        assert_eq!(FileMode::parse(None, d, "mode").unwrap(), d);
        assert_eq!(p(Value::Nil).unwrap(), d);
        assert_eq!(p(Value::str("0600")).unwrap(), FileMode(0o600));
        assert_eq!(p(Value::str("0o750")).unwrap(), FileMode(0o750));
        assert_eq!(p(Value::Int(0o700)).unwrap(), FileMode(0o700));
        for bad in [
            Value::str("rwx"),
            Value::str("0999"),
            Value::str(""),
            Value::Int(-1),
            Value::Int(0o17777),
            Value::Int(755),
            Value::str("1755"),
            Value::Bool(true),
        ] {
            let err = p(bad).unwrap_err();
            assert!(err.to_string().contains("field mode"), "{err}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn files_get_their_exact_mode_and_directories_are_made() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a/b/c.env");
        create_file(&file, FileMode(0o600), FileMode(0o700)).unwrap();
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o600);
        assert!(dir.path().join("a/b").is_dir());
        std::fs::write(&file, "kept").unwrap();
        create_file(&file, FileMode(0o644), FileMode(0o700)).unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "kept");
    }

    #[test]
    fn creatable_paths_are_checked_without_creating_anything() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("file"), "").unwrap();
        check_creatable(&dir.path().join("a/b/c.env")).unwrap();
        check_creatable(dir.path()).unwrap();
        check_creatable(Path::new("relative/new")).unwrap();
        assert!(!dir.path().join("a").exists());
        for blocked in ["file", "file/sub/c.env"] {
            let err = check_creatable(&dir.path().join(blocked)).unwrap_err();
            assert!(
                err.to_string()
                    .ends_with("file exists and is not a directory"),
                "{err}"
            );
        }
    }
}

//! `weft init [dir] --template …`: writes a new app from a template that runs at once and
//! passes its own `weft test`.
//!
//! - The templates are real files under `crates/weft/templates/<name>/`, embedded in the
//!   binary ([`Template::files`] lists each with the path it is written to).
//! - `{{name}}` in a file becomes the app's name: the target folder's name.
//! - A folder that exists and is not empty is refused unless `--force`; with `--force`
//!   the template's files are written over what is there, and nothing else is touched
//!   (no file is deleted). Every check runs before the first write, so a refusal leaves
//!   the folder as it was.

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use clap::ValueEnum;

use crate::diag;

/// Examples for `weft init --help`.
pub(crate) const EXAMPLES: &str = "\
Examples:
  weft init my-app                           a Lua app: a function, a command, a test
  weft init api --template http              a JSON endpoint on 127.0.0.1:8080
  weft init greeter --template rust-component
  weft init --force                          write the lua template into the current folder,
                                             over its files of the same names

Then: weft -C my-app run hello, weft -C my-app test. The component templates carry the
guest's source and a build.sh; after building, `weft -C <dir> hash app:greet` writes the
new file's hash into src/_index.yaml.";

/// The templates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Template {
    /// A Lua function, a command calling it, a test.
    Lua,
    /// An HTTP server with a JSON endpoint, its logic in a Lua library, a command, a test.
    Http,
    /// A Rust WebAssembly component (cargo, wasm32-wasip2) called from a Lua command.
    RustComponent,
    /// A JavaScript WebAssembly component (componentize-js, npm) called from a Lua command.
    JsComponent,
}

/// One file of a template.
struct TemplateFile {
    /// Where it goes, relative to the app folder.
    path: &'static str,
    /// Its text, `{{name}}` not yet replaced.
    text: &'static str,
    /// Whether it is a script to make executable.
    executable: bool,
}

/// A template file: `templates/<$from>` written to `$to`; `exec` marks a script.
macro_rules! file {
    ($from:literal => $to:literal) => {
        file!($from => $to, false)
    };
    ($from:literal => $to:literal, exec) => {
        file!($from => $to, true)
    };
    ($from:literal => $to:literal, $exec:expr) => {
        TemplateFile {
            path: $to,
            text: include_str!(concat!("../templates/", $from)),
            executable: $exec,
        }
    };
}

/// `--template lua`.
const LUA: &[TemplateFile] = &[
    file!("lua/README.md" => "README.md"),
    file!("lua/src/_index.yaml" => "src/_index.yaml"),
    file!("lua/src/greet.lua" => "src/greet.lua"),
    file!("lua/src/hello.lua" => "src/hello.lua"),
    file!("lua/src/greet_test.lua" => "src/greet_test.lua"),
];

/// `--template http`.
const HTTP: &[TemplateFile] = &[
    file!("http/README.md" => "README.md"),
    file!("http/src/_index.yaml" => "src/_index.yaml"),
    file!("http/src/greeting.lua" => "src/greeting.lua"),
    file!("http/src/hello_handler.lua" => "src/hello_handler.lua"),
    file!("http/src/hello.lua" => "src/hello.lua"),
    file!("http/src/greeting_test.lua" => "src/greeting_test.lua"),
];

/// `--template rust-component`.
const RUST_COMPONENT: &[TemplateFile] = &[
    file!("rust-component/README.md" => "README.md"),
    file!("rust-component/gitignore" => ".gitignore"),
    file!("rust-component/build.sh" => "build.sh", exec),
    file!("rust-component/guest/Cargo.toml" => "guest/Cargo.toml"),
    file!("rust-component/guest/Cargo.lock" => "guest/Cargo.lock"),
    file!("rust-component/guest/src/lib.rs" => "guest/src/lib.rs"),
    file!("rust-component/guest/wit/world.wit" => "guest/wit/world.wit"),
    file!("rust-component/src/_index.yaml" => "src/_index.yaml"),
    file!("rust-component/src/hello.lua" => "src/hello.lua"),
    file!("rust-component/src/greet_test.lua" => "src/greet_test.lua"),
];

/// `--template js-component`.
const JS_COMPONENT: &[TemplateFile] = &[
    file!("js-component/README.md" => "README.md"),
    file!("js-component/gitignore" => ".gitignore"),
    file!("js-component/build.sh" => "build.sh", exec),
    file!("js-component/guest/package.json" => "guest/package.json"),
    file!("js-component/guest/build.mjs" => "guest/build.mjs"),
    file!("js-component/guest/src/guest.js" => "guest/src/guest.js"),
    file!("js-component/guest/wit/world.wit" => "guest/wit/world.wit"),
    file!("js-component/src/_index.yaml" => "src/_index.yaml"),
    file!("js-component/src/hello.lua" => "src/hello.lua"),
    file!("js-component/src/greet_test.lua" => "src/greet_test.lua"),
];

/// Where the app goes: the folder to write and how to name it in the next steps.
pub(crate) struct Target {
    /// The folder (created when missing).
    pub(crate) dir: PathBuf,
    /// The folder as the user named it (`-C` and `[dir]` joined); `None` for the current
    /// folder, which the next steps then need no `-C` for.
    pub(crate) shown: Option<PathBuf>,
}

/// `weft init`: writes `template` into `target`; returns the exit code.
pub(crate) fn run(target: &Target, template: Template, force: bool) -> i32 {
    match write_app(&target.dir, template, force) {
        Ok(written) => {
            print!("{}", next_steps(target, template, written));
            0
        }
        Err(e) => {
            diag::error(e);
            1
        }
    }
}

impl Template {
    /// The template's files.
    fn files(self) -> &'static [TemplateFile] {
        match self {
            Template::Lua => LUA,
            Template::Http => HTTP,
            Template::RustComponent => RUST_COMPONENT,
            Template::JsComponent => JS_COMPONENT,
        }
    }

    /// The name `--template` takes.
    fn name(self) -> &'static str {
        match self {
            Template::Lua => "lua",
            Template::Http => "http",
            Template::RustComponent => "rust-component",
            Template::JsComponent => "js-component",
        }
    }
}

/// Checks the folder, then writes the template's files into it; returns how many.
fn write_app(dir: &Path, template: Template, force: bool) -> Result<usize, String> {
    let shown = dir.display();
    match std::fs::metadata(dir) {
        Ok(meta) if !meta.is_dir() => {
            return Err(format!("{shown} exists and is not a folder"));
        }
        Ok(_) => {
            let mut items = std::fs::read_dir(dir)
                .map_err(|e| format!("cannot read the folder {shown}: {e}"))?;
            if !force && items.next().is_some() {
                return Err(format!(
                    "the folder {shown} is not empty\nweft init writes a new app into an \
                     empty or new folder; --force writes the template's files over the \
                     files of the same names there and leaves the others"
                ));
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot use the folder {shown}: {e}")),
    }
    let files = template.files();
    // Refuse before writing anything: a place taken by a folder, a file or a link.
    for file in files {
        check_place(dir, file.path)?;
    }
    let name = app_name(dir);
    for file in files {
        let path = dir.join(file.path);
        let text = file.text.replace("{{name}}", &name);
        write_file(&path, &text, file.executable)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(files.len())
}

/// Checks that the template can write `path` under `dir`: its folders are folders (or
/// missing), it is a file (or missing), and none of them is a link.
fn check_place(dir: &Path, path: &str) -> Result<(), String> {
    let mut place = dir.to_path_buf();
    let parts: Vec<&str> = path.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        place.push(part);
        let is_file = i + 1 == parts.len();
        match std::fs::symlink_metadata(&place) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(format!(
                    "{} is a symbolic link: weft init does not write through links",
                    place.display()
                ));
            }
            Ok(meta) if is_file && !meta.is_file() => {
                return Err(format!(
                    "{} exists and is not a file: the template writes a file there",
                    place.display()
                ));
            }
            Ok(meta) if !is_file && !meta.is_dir() => {
                return Err(format!(
                    "{} exists and is not a folder: the template writes files in it",
                    place.display()
                ));
            }
            Ok(_) => {}
            // Missing: made by the write (an unreadable place fails the write, named).
            Err(_) => return Ok(()),
        }
    }
    Ok(())
}

/// Writes one file, making its folders (and the file executable when asked).
fn write_file(path: &Path, text: &str, executable: bool) -> io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, text)?;
    #[cfg(unix)]
    if executable {
        use std::os::unix::fs::PermissionsExt;
        let mut perms = std::fs::metadata(path)?.permissions();
        perms.set_mode(perms.mode() | 0o111);
        std::fs::set_permissions(path, perms)?;
    }
    #[cfg(not(unix))]
    let _ = executable;
    Ok(())
}

/// The app's name for `{{name}}`: the folder's name (`app` when it has none, as `/`).
fn app_name(dir: &Path) -> String {
    let absolute = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    // `a/b/.` names `b`: drop the `.`s `absolute` keeps.
    absolute
        .components()
        .rfind(|c| !matches!(c, std::path::Component::CurDir))
        .and_then(|c| match c {
            std::path::Component::Normal(name) => Some(name.to_string_lossy().into_owned()),
            _ => None,
        })
        .unwrap_or_else(|| "app".to_string())
}

/// What to do next, for `template` written into `target`.
fn next_steps(target: &Target, template: Template, written: usize) -> String {
    let (weft, script) = match &target.shown {
        Some(dir) => {
            let dir = shell_word(&dir.display().to_string());
            (format!("weft -C {dir}"), format!("{dir}/build.sh"))
        }
        None => ("weft".to_string(), "./build.sh".to_string()),
    };
    let place = match &target.shown {
        Some(dir) => diag::one_line(&dir.display().to_string()).into_owned(),
        None => "the current folder".to_string(),
    };
    let mut steps: Vec<(String, &str)> = Vec::new();
    match template {
        Template::Lua => {}
        Template::Http => {
            steps.push((
                format!("{weft} run"),
                "serve http://127.0.0.1:8080 until Ctrl-C",
            ));
            steps.push((
                "curl '127.0.0.1:8080/api/hello?name=Ada'".into(),
                "call the endpoint (from another terminal)",
            ));
        }
        Template::RustComponent => {
            steps.push((script, "build the component (cargo, wasm32-wasip2)"));
        }
        Template::JsComponent => steps.push((script, "build the component (node, npm)")),
    }
    if matches!(template, Template::RustComponent | Template::JsComponent) {
        steps.push((
            format!("{weft} hash app:greet"),
            "write the built file's hash into src/_index.yaml",
        ));
    }
    steps.push((format!("{weft} run hello"), "run its command"));
    steps.push((format!("{weft} test"), "run its tests"));
    let width = steps
        .iter()
        .map(|(command, _)| command.len())
        .max()
        .unwrap_or(0);
    let mut out = format!(
        "Created an app from the {} template in {place} ({written} files; its README.md \
         says what each is).\n\nNext:\n",
        template.name()
    );
    for (command, what) in steps {
        // Writing to a String cannot fail.
        let _ = writeln!(out, "  {command:<width$}   {what}");
    }
    out
}

/// `text` as one shell word: as it is when plain, else in single quotes.
fn shell_word(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./+,:@%".contains(c));
    if plain {
        return text.to_string();
    }
    let quoted = format!("'{}'", text.replace('\'', r"'\''"));
    diag::one_line(&quoted).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_names_come_from_the_folder() {
        assert_eq!(app_name(Path::new("/tmp/my-app")), "my-app");
        assert_eq!(app_name(Path::new("/tmp/my-app/.")), "my-app");
        assert_eq!(app_name(Path::new("/")), "app");
    }

    #[test]
    fn shell_words_are_quoted_when_needed() {
        assert_eq!(shell_word("my-app/x"), "my-app/x");
        assert_eq!(shell_word("my app"), "'my app'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }

    #[test]
    fn every_template_has_an_index_with_the_schema_line() {
        for template in Template::value_variants() {
            let index = template
                .files()
                .iter()
                .find(|f| f.path == "src/_index.yaml")
                .expect("an index");
            assert!(
                index
                    .text
                    .starts_with("# yaml-language-server: $schema=../.weft/schema.json\n"),
                "{}",
                template.name()
            );
        }
    }
}

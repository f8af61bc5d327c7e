//! The `fs` module end to end: an app with `fs.directory` entries over real temp
//! directories, booted through the real loader, and a Lua function running snippets
//! against them. Every effect is checked on disk: writes, removals, confinement (`..`,
//! links pointing out, host paths), the `fs.get` check (a denying policy, strict mode),
//! bad arguments and big reads and writes.

mod common;

use std::sync::Arc;

use weft_core::{Actor, CallContext, Decision, EntryId, Map, Policy, Scope, Value};
use weft_runtime::Runtime;

const INDEX: &str = r#"
namespace: app
entries:
  - {name: data, kind: fs.directory, directory: data}
  - {name: other, kind: fs.directory, directory: other}
  - name: f
    kind: function.lua
    source: file://f.lua
    method: run
    modules: [fs]
    pool: {type: static, workers: 1, size: 1}
"#;

/// Runs the Lua snippet it is given (the VM's globals, `fs` among them, are its own).
const RUNNER: &str = r#"
local M = {}
function M.run(code) return assert(load(code, "=snippet"))() end
return M
"#;

/// An app folder with `data/` and `other/` and the booted runtime.
struct App {
    dir: tempfile::TempDir,
    rt: Arc<Runtime>,
}

impl App {
    async fn boot(extra: &[(&str, &str)]) -> App {
        let mut files = vec![
            ("src/_index.yaml", INDEX),
            ("src/f.lua", RUNNER),
            ("other/secret.txt", "other secret"),
            ("secret.txt", "TOP SECRET"),
        ];
        files.extend_from_slice(extra);
        let dir = common::app(&files);
        std::fs::create_dir_all(dir.path().join("data")).unwrap();
        let rt = match common::boot_dir(dir.path()).await {
            Ok(rt) => rt,
            Err(e) => panic!("boot failed:\n{e}"),
        };
        App { dir, rt }
    }

    fn data(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }

    async fn run(&self, code: &str) -> Value {
        self.run_in(&self.rt.root_context(), code).await
    }

    async fn run_in(&self, cx: &CallContext, code: &str) -> Value {
        match self
            .rt
            .functions
            .call(cx, "app:f", vec![Value::str(code)])
            .await
        {
            Ok(v) => v,
            Err(e) => panic!("call failed: {e}\n{code}"),
        }
    }
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{key} is not a string in {v:?}"))
}

fn int(v: &Value, key: &str) -> i64 {
    v.get(key)
        .and_then(Value::as_int)
        .unwrap_or_else(|| panic!("{key} is not an integer in {v:?}"))
}

fn flag(v: &Value, key: &str) -> bool {
    v.get(key)
        .and_then(Value::as_bool)
        .unwrap_or_else(|| panic!("{key} is not a boolean in {v:?}"))
}

/// The Lua helper every snippet starts with: `k(ok, err)` is the error kind or "ok".
const PRELUDE: &str = r#"
local vol = assert(fs.get("app:data"))
local function k(value, err)
  if err ~= nil then return err:kind() end
  if value == nil or value == false then return "no error but " .. tostring(value) end
  return "ok"
end
local out = {}
"#;

fn snippet(body: &str) -> String {
    format!("{PRELUDE}\n{body}\nreturn out")
}

#[tokio::test]
async fn volume_operations_change_the_disk() {
    let app = App::boot(&[]).await;
    let r = app
        .run(&snippet(
            r#"
            out.pwd = vol:pwd()
            out.mkdir = k(vol:mkdir("/docs"))
            out.mkdir_again = k(vol:mkdir("docs"))
            out.mkdir_deep = k(vol:mkdir("/x/y"))
            out.write = k(vol:writefile("/docs/a.txt", "alpha\nbeta"))
            out.write_bin = k(vol:writefile("docs/b.bin", "\0\1\2\255"))
            out.append = k(vol:writefile("/docs/a.txt", "\ngamma", "a"))
            out.exclusive = k(vol:writefile("/docs/a.txt", "no", "wx"))
            out.text = vol:readfile("docs/a.txt")
            out.bin = vol:readfile("/docs/b.bin")
            local info = vol:stat("/docs/a.txt")
            out.size, out.name, out.type, out.is_dir = info.size, info.name, info.type, info.is_dir
            out.mode, out.modified = info.mode, info.modified
            local d = vol:stat("/docs")
            out.dir_type, out.dir_is_dir = d.type, d.is_dir
            out.exists = vol:exists("/docs/a.txt")
            out.exists_missing = vol:exists("/docs/zzz")
            out.exists_under_missing = vol:exists("/nope/zzz")
            out.isdir = vol:isdir("/docs")
            out.isdir_file = vol:isdir("/docs/a.txt")
            out.isdir_missing = k(vol:isdir("/nope"))
            out.stat_missing = k(vol:stat("/nope"))
            out.read_missing = k(vol:readfile("/nope"))
            local names = {}
            for entry in vol:readdir("/docs") do
              names[#names + 1] = entry.name .. ":" .. entry.type
            end
            out.names = table.concat(names, ",")
            vol:mkdir("/empty")
            local n = 0
            for _ in vol:readdir("/empty") do n = n + 1 end
            out.empty_count = n
            local iter, err = vol:readdir("/nope")
            out.readdir_missing = (iter == nil) and err:kind()
            out.readdir_file = k(vol:readdir("/docs/a.txt"))
            out.remove_nonempty = k(vol:remove("/docs"))
            out.remove_file = k(vol:remove("/docs/b.bin"))
            out.remove_missing = k(vol:remove("/docs/b.bin"))
            out.remove_root = k(vol:remove("/"))
            out.constants = fs.type.FILE .. "," .. fs.type.DIR .. "," .. fs.seek.SET .. fs.seek.CUR .. fs.seek.END
            out.tostring = tostring(vol)
            "#,
        ))
        .await;
    let data = app.data();
    assert_eq!(text(&r, "pwd"), "/");
    for key in ["mkdir", "write", "write_bin", "append", "remove_file"] {
        assert_eq!(text(&r, key), "ok", "{key}: {r:?}");
    }
    assert_eq!(text(&r, "mkdir_again"), "AlreadyExists");
    assert_eq!(text(&r, "mkdir_deep"), "NotFound");
    assert!(!data.join("x").exists());
    assert_eq!(text(&r, "exclusive"), "AlreadyExists");
    let on_disk = std::fs::read_to_string(data.join("docs/a.txt")).unwrap();
    assert_eq!(on_disk, "alpha\nbeta\ngamma");
    assert_eq!(text(&r, "text"), on_disk);
    assert_eq!(
        r.get("bin").and_then(Value::as_bytes),
        Some(&b"\0\x01\x02\xff"[..])
    );
    assert!(!data.join("docs/b.bin").exists(), "removed");

    let meta = std::fs::metadata(data.join("docs/a.txt")).unwrap();
    assert_eq!(int(&r, "size"), meta.len() as i64);
    assert_eq!(text(&r, "name"), "a.txt");
    assert_eq!((text(&r, "type"), flag(&r, "is_dir")), ("file", false));
    let mtime = meta
        .modified()
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert_eq!(int(&r, "modified"), mtime);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            int(&r, "mode"),
            i64::from(meta.permissions().mode() & 0o7777)
        );
    }
    assert_eq!(
        (text(&r, "dir_type"), flag(&r, "dir_is_dir")),
        ("directory", true)
    );
    assert!(flag(&r, "exists"));
    assert!(!flag(&r, "exists_missing"));
    assert!(!flag(&r, "exists_under_missing"));
    assert!(flag(&r, "isdir"));
    assert!(!flag(&r, "isdir_file"));
    assert_eq!(text(&r, "isdir_missing"), "NotFound");
    assert_eq!(text(&r, "stat_missing"), "NotFound");
    assert_eq!(text(&r, "read_missing"), "NotFound");
    assert_eq!(text(&r, "names"), "a.txt:file,b.bin:file");
    assert_eq!(int(&r, "empty_count"), 0);
    assert_eq!(text(&r, "readdir_missing"), "NotFound");
    assert_eq!(text(&r, "readdir_file"), "Invalid");
    assert_eq!(text(&r, "remove_nonempty"), "Invalid");
    assert!(data.join("docs/a.txt").exists());
    assert_eq!(text(&r, "remove_missing"), "NotFound");
    assert_eq!(text(&r, "remove_root"), "Invalid");
    assert!(data.is_dir());
    assert_eq!(text(&r, "constants"), "file,directory,setcurend");
    assert_eq!(text(&r, "tostring"), "fs.FS{app:data}");

    // Removing the rest leaves the root empty.
    let r = app
        .run(&snippet(
            r#"
            out.a = k(vol:remove("/docs/a.txt"))
            out.d = k(vol:remove("docs"))
            out.e = k(vol:remove("empty"))
            "#,
        ))
        .await;
    assert_eq!(
        (text(&r, "a"), text(&r, "d"), text(&r, "e")),
        ("ok", "ok", "ok")
    );
    assert_eq!(std::fs::read_dir(&data).unwrap().count(), 0);
}

#[tokio::test]
async fn files_read_write_seek_and_scan() {
    let app = App::boot(&[]).await;
    let r = app
        .run(&snippet(
            r#"
            local f = assert(vol:open("/log.txt", "w"))
            out.w1 = k(f:write("line one\n"))
            out.w2 = k(f:write("line two\n"))
            out.sync = k(f:sync())
            out.wstat = f:stat().size
            out.close = k(f:close())
            out.close_again = k(f:close())
            out.closed_write = k(f:write("x"))
            out.closed_read = k(f:read())
            out.tostring_closed = tostring(f)

            f = assert(vol:open("log.txt", "r"))
            out.tostring = tostring(f)
            out.first = f:read(4)
            out.pos = f:seek("cur", 0)
            out.set = f:seek(fs.seek.SET, 5)
            out.word = f:read(3)
            out.endpos = f:seek("end", 0)
            local data, eof = f:read()
            out.eof_data, out.eof = tostring(data), eof:kind()
            out.rest_from = f:seek("end", -4)
            out.rest = f:read(100)
            out.size = f:stat().size
            f:seek("set", 0)
            local sc = assert(f:scanner("lines"))
            local lines = {}
            while sc:scan() do lines[#lines + 1] = sc:text() end
            out.lines, out.scan_err = table.concat(lines, "|"), tostring(sc:err())
            f:seek("set", 0)
            local words = {}
            local ws = f:scanner("words")
            while ws:scan() do words[#words + 1] = ws:text() end
            out.words = table.concat(words, "+")
            out.read0 = k(f:read(0))
            out.read_neg = k(f:read(-3))
            out.read_frac = k(f:read(1.5))
            out.read_str = k(f:read("x"))
            out.bad_whence = k(f:seek("middle", 0))
            out.seek_neg = k(f:seek("set", -1))
            out.seek_before = k(f:seek("cur", -1000))
            out.seek_no_offset = k(f:seek("set"))
            out.write_ro = k(f:write("x"))
            out.bad_split = k(f:scanner("sentences"))
            f:close()
            out.scan_closed = k(f:scanner())

            local a = assert(vol:open("/log.txt", "a"))
            a:write("line three\n")
            out.a_read = k(a:read())
            a:close()
            out.wx = k(vol:open("/log.txt", "wx"))
            out.wx_new = k(vol:open("/new.txt", "wx"))
            out.r_missing = k(vol:open("/missing.txt", "r"))
            out.bad_mode = k(vol:open("/log.txt", "rw"))
            out.no_mode = k(vol:open("/log.txt"))
            out.dir = k(vol:open("/", "r"))
            local w = assert(vol:open("/e.txt", "w"))
            out.empty_write = k(w:write(""))
            out.number_write = k(w:write(42))
            out.table_write = k(w:write({}))
            w:close()
            "#,
        ))
        .await;
    for key in ["w1", "w2", "sync", "close", "close_again", "wx_new"] {
        assert_eq!(text(&r, key), "ok", "{key}: {r:?}");
    }
    assert_eq!(int(&r, "wstat"), 18);
    assert_eq!(text(&r, "closed_write"), "Invalid");
    assert_eq!(text(&r, "closed_read"), "Invalid");
    assert_eq!(text(&r, "tostring_closed"), "fs.File{closed}");
    assert_eq!(text(&r, "tostring"), "fs.File{/log.txt}");
    assert_eq!(text(&r, "first"), "line");
    assert_eq!(int(&r, "pos"), 4);
    assert_eq!(int(&r, "set"), 5);
    assert_eq!(text(&r, "word"), "one");
    assert_eq!(int(&r, "endpos"), 18);
    assert_eq!((text(&r, "eof_data"), text(&r, "eof")), ("nil", "NotFound"));
    assert_eq!(int(&r, "rest_from"), 14);
    assert_eq!(text(&r, "rest"), "two\n");
    assert_eq!(int(&r, "size"), 18);
    assert_eq!(text(&r, "lines"), "line one|line two");
    assert_eq!(text(&r, "scan_err"), "nil");
    assert_eq!(text(&r, "words"), "line+one+line+two");
    for key in [
        "read0",
        "read_neg",
        "read_frac",
        "read_str",
        "bad_whence",
        "seek_neg",
        "seek_before",
        "seek_no_offset",
        "write_ro",
        "bad_split",
        "scan_closed",
        "a_read",
        "bad_mode",
        "no_mode",
        "dir",
        "empty_write",
        "number_write",
        "table_write",
    ] {
        assert_eq!(text(&r, key), "Invalid", "{key}: {r:?}");
    }
    assert_eq!(text(&r, "wx"), "AlreadyExists");
    assert_eq!(text(&r, "r_missing"), "NotFound");
    let data = app.data();
    assert_eq!(
        std::fs::read_to_string(data.join("log.txt")).unwrap(),
        "line one\nline two\nline three\n"
    );
    assert!(data.join("new.txt").is_file());
    assert!(!data.join("missing.txt").exists());
    assert_eq!(std::fs::read(data.join("e.txt")).unwrap(), b"");
}

#[tokio::test]
async fn files_left_open_are_closed_when_the_call_returns() {
    let app = App::boot(&[]).await;
    let r = app
        .run(&snippet(
            r#"
            KEPT = assert(vol:open("/kept.txt", "w"))
            out.w = k(KEPT:write("kept"))
            "#,
        ))
        .await;
    assert_eq!(text(&r, "w"), "ok");
    // The pool has one VM: the next call sees the global, its file closed.
    let r = app
        .run(&snippet(
            r#"
            out.kind = k(KEPT:write("more"))
            out.text = tostring(KEPT)
            "#,
        ))
        .await;
    assert_eq!(text(&r, "kind"), "Invalid");
    assert_eq!(text(&r, "text"), "fs.File{closed}");
    assert_eq!(
        std::fs::read_to_string(app.data().join("kept.txt")).unwrap(),
        "kept"
    );
}

#[tokio::test]
async fn the_working_directory_applies_to_relative_paths() {
    let app = App::boot(&[]).await;
    let r = app
        .run(&snippet(
            r#"
            vol:mkdir("/a")
            vol:mkdir("/a/b")
            vol:writefile("/top.txt", "t")
            out.cd = k(vol:chdir("a"))
            out.pwd1 = vol:pwd()
            out.cd2 = k(vol:chdir("./b/"))
            out.pwd2 = vol:pwd()
            out.w = k(vol:writefile("in_b.txt", "b"))
            out.abs = vol:readfile("/top.txt")
            out.cd_file = k(vol:chdir("/top.txt"))
            out.cd_missing = k(vol:chdir("nowhere"))
            out.cd_up = k(vol:chdir(".."))
            out.cd_empty = k(vol:chdir(""))
            out.pwd3 = vol:pwd()
            out.cd_root = k(vol:chdir("/"))
            out.pwd4 = vol:pwd()
            local other = assert(fs.get("app:data"))
            out.fresh_pwd = other:pwd()
            "#,
        ))
        .await;
    for key in ["cd", "cd2", "w", "cd_root"] {
        assert_eq!(text(&r, key), "ok", "{key}: {r:?}");
    }
    assert_eq!(text(&r, "pwd1"), "/a");
    assert_eq!(text(&r, "pwd2"), "/a/b");
    assert_eq!(
        std::fs::read_to_string(app.data().join("a/b/in_b.txt")).unwrap(),
        "b"
    );
    assert_eq!(text(&r, "abs"), "t");
    assert_eq!(text(&r, "cd_file"), "Invalid");
    assert_eq!(text(&r, "cd_missing"), "NotFound");
    assert_eq!(text(&r, "cd_up"), "PermissionDenied");
    assert_eq!(text(&r, "cd_empty"), "Invalid");
    assert_eq!(text(&r, "pwd3"), "/a/b");
    assert_eq!(text(&r, "pwd4"), "/");
    assert_eq!(text(&r, "fresh_pwd"), "/");
}

#[cfg(unix)]
#[tokio::test]
async fn paths_stay_inside_the_root() {
    let app = App::boot(&[]).await;
    let root = app.dir.path();
    let data = app.data();
    std::fs::create_dir(data.join("sub")).unwrap();
    std::os::unix::fs::symlink(root.join("secret.txt"), data.join("out")).unwrap();
    std::os::unix::fs::symlink(root, data.join("updir")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", data.join("zero")).unwrap();
    std::fs::write(data.join("inside.txt"), "in").unwrap();
    std::os::unix::fs::symlink(data.join("inside.txt"), data.join("in")).unwrap();
    let fifo = std::process::Command::new("mkfifo")
        .arg(data.join("pipe"))
        .status()
        .unwrap();
    assert!(fifo.success());
    let r = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        app.run(&snippet(
            r#"
            out.read_up = k(vol:readfile("../secret.txt"))
            out.read_up_abs = k(vol:readfile("/../secret.txt"))
            out.read_up_mid = k(vol:readfile("sub/../../secret.txt"))
            out.read_dot_mid = k(vol:readfile("sub/../inside.txt"))
            out.write_up = k(vol:writefile("../evil.txt", "x"))
            out.stat_up = k(vol:stat("../secret.txt"))
            out.exists_up = k(vol:exists("../secret.txt"))
            out.mkdir_up = k(vol:mkdir("../evil"))
            out.remove_up = k(vol:remove("../secret.txt"))
            out.open_up = k(vol:open("../secret.txt", "r"))
            out.readdir_up = k(vol:readdir(".."))
            out.host_path = k(vol:readfile("/etc/passwd"))
            out.link_out = k(vol:readfile("out"))
            out.link_out_write = k(vol:writefile("out", "pwned"))
            out.link_out_open = k(vol:open("out", "a"))
            out.updir_write = k(vol:writefile("updir/evil.txt", "x"))
            out.updir_list = k(vol:readdir("updir"))
            out.updir_cd = k(vol:chdir("updir"))
            out.zero_read = k(vol:readfile("zero"))
            out.zero_open = k(vol:open("zero", "r"))
            out.pipe_read = k(vol:readfile("pipe"))
            out.pipe_open = k(vol:open("pipe", "r"))
            out.pipe_write = k(vol:open("pipe", "w"))
            out.nul = k(vol:readfile("a\0b"))
            out.link_in = vol:readfile("in")
            out.remove_link = k(vol:remove("out"))
            "#,
        )),
    )
    .await
    .expect("nothing hangs on a FIFO or a device");
    for key in [
        "read_up",
        "read_up_abs",
        "read_up_mid",
        "read_dot_mid",
        "write_up",
        "stat_up",
        "exists_up",
        "mkdir_up",
        "remove_up",
        "open_up",
        "readdir_up",
        "link_out",
        "link_out_write",
        "link_out_open",
        "updir_write",
        "updir_list",
        "updir_cd",
        "zero_read",
        "zero_open",
    ] {
        assert_eq!(text(&r, key), "PermissionDenied", "{key}: {r:?}");
    }
    // `/` is the root of the volume: host paths are looked up inside it.
    assert_eq!(text(&r, "host_path"), "NotFound");
    for key in ["pipe_read", "pipe_open", "pipe_write", "nul"] {
        assert_eq!(text(&r, key), "Invalid", "{key}: {r:?}");
    }
    assert_eq!(text(&r, "link_in"), "in");
    assert_eq!(text(&r, "remove_link"), "ok");
    assert!(!data.join("out").exists());
    assert_eq!(
        std::fs::read_to_string(root.join("secret.txt")).unwrap(),
        "TOP SECRET"
    );
    for escaped in ["evil.txt", "evil"] {
        assert!(!root.join(escaped).exists(), "{escaped}");
        assert!(!root.parent().unwrap().join(escaped).exists(), "{escaped}");
    }
}

#[tokio::test]
async fn big_reads_are_bounded_and_big_writes_work() {
    let app = App::boot(&[]).await;
    let data = app.data();
    let big = vec![b'z'; 20 << 20];
    std::fs::write(data.join("big.bin"), &big).unwrap();
    // A sparse file over the whole-file cap (256 MiB): refused without reading it.
    let huge = std::fs::File::create(data.join("huge.bin")).unwrap();
    huge.set_len(300 << 20).unwrap();
    drop(huge);
    let r = app
        .run(&snippet(
            r#"
            local f = assert(vol:open("/big.bin", "r"))
            out.chunk = #f:read(2^40)
            out.rest = #f:read(2^40)
            f:close()
            out.whole = #vol:readfile("/big.bin")
            local _, err = vol:readfile("/huge.bin")
            out.huge, out.huge_msg = err:kind(), err:message()
            local h = assert(vol:open("/huge.bin", "r"))
            out.huge_chunk = #h:read(2^40)
            h:close()
            out.written = k(vol:writefile("/out.bin", string.rep("w", 32 * 1024 * 1024)))
            local src = assert(vol:open("/big.bin", "r"))
            out.copied = k(vol:writefile("/copy.bin", src))
            src:close()
            "#,
        ))
        .await;
    assert_eq!(int(&r, "chunk"), 16 << 20);
    assert_eq!(int(&r, "rest"), 4 << 20);
    assert_eq!(int(&r, "whole"), 20 << 20);
    assert_eq!(text(&r, "huge"), "Invalid");
    assert!(text(&r, "huge_msg").contains("256 MiB"), "{r:?}");
    assert_eq!(int(&r, "huge_chunk"), 16 << 20);
    assert_eq!(text(&r, "written"), "ok");
    assert_eq!(
        std::fs::metadata(data.join("out.bin")).unwrap().len(),
        32 << 20
    );
    assert_eq!(text(&r, "copied"), "ok");
    assert!(std::fs::read(data.join("copy.bin")).unwrap() == big);
}

#[tokio::test]
async fn bad_arguments_are_invalid_errors() {
    let app = App::boot(&[]).await;
    let r = app
        .run(&snippet(
            r#"
            out.get_none = k(fs.get())
            out.get_number = k(fs.get(42))
            out.get_empty = k(fs.get(""))
            out.get_missing = k(fs.get("app:nope"))
            out.get_bare = k(fs.get("data"))
            out.get_table = k(fs.get({}))
            out.stat_nil = k(vol:stat())
            out.stat_table = k(vol:stat({}))
            out.stat_number = k(vol:stat(5))
            out.mkdir_empty = k(vol:mkdir(""))
            out.open_number = k(vol:open(123, "r"))
            out.write_nil = k(vol:writefile("/x.txt", nil))
            out.write_table = k(vol:writefile("/x.txt", {}))
            out.write_bool = k(vol:writefile("/x.txt", true))
            out.write_r = k(vol:writefile("/x.txt", "d", "r"))
            out.write_mode = k(vol:writefile("/x.txt", "d", 7))
            out.exists_nul = k(vol:exists("a\0"))
            out.isdir_bad = k(vol:isdir(false))
            out.readdir_bad = k(vol:readdir({}))
            out.remove_bad = k(vol:remove(1))
            out.chdir_bad = k(vol:chdir())
            "#,
        ))
        .await;
    for key in [
        "get_none",
        "get_number",
        "get_empty",
        "get_table",
        "stat_nil",
        "stat_table",
        "stat_number",
        "mkdir_empty",
        "open_number",
        "write_nil",
        "write_table",
        "write_bool",
        "write_r",
        "write_mode",
        "exists_nul",
        "isdir_bad",
        "readdir_bad",
        "remove_bad",
        "chdir_bad",
    ] {
        assert_eq!(text(&r, key), "Invalid", "{key}: {r:?}");
    }
    assert_eq!(text(&r, "get_missing"), "NotFound");
    assert_eq!(text(&r, "get_bare"), "ok");
    assert!(!app.data().join("x.txt").exists());
}

/// Allows `funcs.call` and `fs.get` on one filesystem; everything else is undefined
/// (denied).
struct FsPolicy(EntryId, &'static str);

impl Policy for FsPolicy {
    fn id(&self) -> &EntryId {
        &self.0
    }

    fn evaluate(&self, _: &Actor, action: &str, resource: &str, _: Option<&Map>) -> Decision {
        if action == "funcs.call" || (action == "fs.get" && resource == self.1) {
            Decision::Allow
        } else {
            Decision::Undefined
        }
    }
}

const GET_BOTH: &str = r#"
local out = {}
local a, ea = fs.get("app:data")
out.data = ea and ea:kind() or tostring(a)
local b, eb = fs.get("app:other")
out.other, out.other_msg = eb and eb:kind() or tostring(b), eb and eb:message()
local _, ec = fs.get("app:missing")
out.missing = ec:kind()
return out
"#;

#[tokio::test]
async fn fs_get_is_checked_in_the_callers_context() {
    let app = App::boot(&[]).await;
    let policy: Arc<dyn Policy> = Arc::new(FsPolicy(EntryId::new("app", "p"), "app:data"));
    let cx = app
        .rt
        .root_context()
        .with_actor(Some(Actor::new("tester", Map::new())))
        .with_scope(Some(Scope::new([policy])));
    let r = app.run_in(&cx, GET_BOTH).await;
    assert_eq!(text(&r, "data"), "fs.FS{app:data}");
    assert_eq!(text(&r, "other"), "PermissionDenied");
    assert_eq!(text(&r, "other_msg"), "not allowed: fs.get on app:other");
    // Denied before the lookup: a denied caller cannot probe which roots exist.
    assert_eq!(text(&r, "missing"), "PermissionDenied");

    let open = app.run(GET_BOTH).await;
    assert_eq!(text(&open, "other"), "fs.FS{app:other}");
    assert_eq!(text(&open, "missing"), "NotFound");
}

#[tokio::test]
async fn strict_mode_denies_fs_get_without_a_security_context() {
    let app = App::boot(&[(
        ".wippy.yaml",
        "version: \"1.0\"\nsecurity:\n  strict_mode: true\n",
    )])
    .await;
    // The runtime's own context may call; the callee's context is ordinary and strict.
    let r = app.run_in(&app.rt.system_context(), GET_BOTH).await;
    assert_eq!(text(&r, "data"), "PermissionDenied");
    assert_eq!(text(&r, "other"), "PermissionDenied");
    assert!(app.data().is_dir());
}

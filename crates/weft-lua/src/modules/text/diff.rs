//! `text.diff.new(options?)` and the Differ object, on `dmp` (a Rust port of Google's
//! diff-match-patch; Wippy uses the Go port): character diffs, patches in the
//! `@@ -a,b +c,d @@` text form, and fuzzy patch application.
//!
//! Every text is UTF-8 and at most [`MAX_TEXT`] bytes (the library works on arrays of
//! characters, four bytes each, and copies them per patch); a diff gives up refining
//! after `diff_timeout` seconds, which is always finite; making or applying patches, whose
//! time grows with the number of edits times the text's length, is refused past
//! [`MAX_WORK`]. The library indexes freely, so
//! each call into it runs under `catch_unwind`: a panic on some input is an Internal
//! error, never an unwinding Lua VM.

use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};

use dmp::Dmp;
use mlua::{Lua, MultiValue, Table, UserData, UserDataMethods, Value as LuaValue};
use weft_core::Error;

use super::raised;
use crate::modules::args;

/// The largest text (and total patch text) a Differ takes.
pub const MAX_TEXT: usize = 1 << 20;

/// The most work a patch call may take on: edits (`patch_make`) or patches
/// (`patch_apply`) times the characters of the text, as the library copies or rewrites
/// the text for each (about a second per 2^28 on a fast machine).
const MAX_WORK: usize = 1 << 30;

/// The longest `diff_timeout`, in seconds.
const MAX_TIMEOUT: f64 = 60.0;

/// A configured differ.
struct Differ(Dmp);

/// What a diff does with its text.
#[derive(Clone, Copy, PartialEq)]
enum Op {
    /// Text in both.
    Equal,
    /// Text only in the first.
    Delete,
    /// Text only in the second.
    Insert,
}

/// Builds the `text.diff` table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "new",
        lua.create_function(|lua, args: MultiValue| {
            args::reply(lua, new(args), |d| {
                lua.create_userdata(d).map(LuaValue::UserData)
            })
        })?,
    )?;
    Ok(t)
}

/// `new(options?)`: the spec's defaults; Invalid for an option of the wrong type or out
/// of range.
fn new(args: MultiValue) -> Result<Differ, Error> {
    const FUNC: &str = "text.diff.new";
    let args = args::at_most(FUNC, args, 1)?;
    let opts = args::options(FUNC, &args[0])?;
    let opts = opts.as_ref();
    let mut d = dmp::new();
    let timeout = args::number_field(FUNC, opts, "diff_timeout", 0.0..=MAX_TIMEOUT)?;
    if timeout == Some(0.0) {
        return Err(Error::invalid(format!(
            "{FUNC}: diff_timeout must be greater than 0 (diffs are always time-bounded)"
        )));
    }
    d.diff_timeout = Some(timeout.unwrap_or(1.0) as f32);
    d.edit_cost = int32(args::int_field(FUNC, opts, "diff_edit_cost", 1..=1000)?, 4);
    d.match_threshold = number_field(FUNC, opts, "match_threshold")?.unwrap_or(0.5);
    d.match_distance = int32(
        args::int_field(FUNC, opts, "match_distance", 0..=i64::from(i32::MAX))?,
        1000,
    );
    d.patch_delete_threshold = number_field(FUNC, opts, "patch_delete_threshold")?.unwrap_or(0.5);
    d.patch_margin = int32(args::int_field(FUNC, opts, "patch_margin", 1..=32)?, 4);
    Ok(Differ(d))
}

impl UserData for Differ {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_method("compare", |lua, this, args: MultiValue| {
            args::reply(lua, compare(&this.0, args), |diffs| {
                diffs_table(lua, &diffs)
            })
        });
        m.add_method("summarize", |lua, _, args: MultiValue| {
            let diffs = diffs_arg("summarize", args).map_err(raised)?;
            let count = |op: Op| -> usize {
                diffs
                    .iter()
                    .filter(|(o, _)| *o == op)
                    .map(|(_, text)| text.chars().count())
                    .sum()
            };
            let t = lua.create_table()?;
            t.set("insertions", count(Op::Insert))?;
            t.set("deletions", count(Op::Delete))?;
            t.set("equals", count(Op::Equal))?;
            Ok(t)
        });
        m.add_method("pretty_text", |lua, _, args: MultiValue| {
            let text = diffs_arg("pretty_text", args).map(|diffs| pretty_text(&diffs));
            args::reply(lua, text, |t| lua.create_string(t).map(LuaValue::String))
        });
        m.add_method("pretty_html", |lua, _, args: MultiValue| {
            let html = diffs_arg("pretty_html", args).map(|diffs| pretty_html(&diffs));
            args::reply(lua, html, |t| lua.create_string(t).map(LuaValue::String))
        });
        m.add_method("patch_make", |lua, this, args: MultiValue| {
            args::reply(lua, patch_make(&this.0, args), |texts| {
                let list = lua.create_table()?;
                for text in texts {
                    let p = lua.create_table()?;
                    p.set("text", text)?;
                    list.raw_push(p)?;
                }
                Ok(LuaValue::Table(list))
            })
        });
        m.add_method("patch_apply", |_, this, args: MultiValue| {
            patch_apply(&this.0, args).map_err(raised)
        });
    }
}

/// `differ:compare(text1, text2)`: the character diff, uncleaned (as Wippy).
fn compare(d: &Dmp, args: MultiValue) -> Result<Vec<(Op, String)>, Error> {
    const FUNC: &str = "text.Differ:compare";
    let args = args::at_most(FUNC, args, 2)?;
    let (a, b) = (
        texts(FUNC, &args[0], "text1")?,
        texts(FUNC, &args[1], "text2")?,
    );
    let diffs = guarded(FUNC, || d.diff_main(&a, &b, false))?;
    Ok(diffs
        .into_iter()
        .map(|x| (op(x.operation), x.text))
        .collect())
}

/// `differ:patch_make(text1, text2)`: the patches' text forms.
fn patch_make(d: &Dmp, args: MultiValue) -> Result<Vec<String>, Error> {
    const FUNC: &str = "text.Differ:patch_make";
    let args = args::at_most(FUNC, args, 2)?;
    let (a, b) = (
        texts(FUNC, &args[0], "text1")?,
        texts(FUNC, &args[1], "text2")?,
    );
    // What `patch_make1` does, with the work checked before the costly last step.
    let diffs = guarded(FUNC, || {
        let mut diffs = d.diff_main(&a, &b, true);
        if diffs.len() > 2 {
            d.diff_cleanup_semantic(&mut diffs);
            d.diff_cleanup_efficiency(&mut diffs);
        }
        diffs
    })?;
    within_work(FUNC, diffs.len(), "edits", &a)?;
    let patches = guarded(FUNC, || d.patch_make4(&a, &diffs))?;
    Ok(patches.iter().map(ToString::to_string).collect())
}

/// `differ:patch_apply(patches, text)`: the patched text and whether every patch applied;
/// a malformed patch is an Invalid error (Wippy skips it).
fn patch_apply(d: &Dmp, args: MultiValue) -> Result<(String, bool), Error> {
    const FUNC: &str = "text.Differ:patch_apply";
    let args = args::at_most(FUNC, args, 2)?;
    let list = args::table(FUNC, "patches", &args[0])?;
    let text = texts(FUNC, &args[1], "text")?;
    let mut patches = Vec::new();
    let mut total = 0usize;
    for (i, item) in list.sequence_values::<LuaValue>().enumerate() {
        let name = format!("patches[{}]", i + 1);
        let item = item.map_err(|e| Error::invalid(format!("{FUNC}: {name}: {e}")))?;
        let patch = args::table(FUNC, &name, &item)?;
        let field = args::field(FUNC, Some(&patch), "text")?;
        let body = args::text(FUNC, &format!("{name}.text"), &field)?;
        total += body.len();
        if total > MAX_TEXT {
            return Err(too_long(FUNC, "patches"));
        }
        let parsed = guarded(FUNC, || d.patch_from_text(body.to_string()))?
            .map_err(|e| Error::invalid(format!("{FUNC}: {name} is not a patch ({e:?})")))?;
        patches.extend(parsed);
    }
    within_work(FUNC, patches.len(), "patches", &text)?;
    let (chars, applied) = guarded(FUNC, || d.patch_apply(&patches, &text))?
        .map_err(|e| Error::invalid(format!("{FUNC}: cannot apply the patches ({e:?})")))?;
    Ok((chars.into_iter().collect(), applied.iter().all(|ok| *ok)))
}

/// The diffs a Lua table lists (`{operation = "equal"|"delete"|"insert", text = ...}`).
fn diffs_arg(method: &str, args: MultiValue) -> Result<Vec<(Op, String)>, Error> {
    let func = format!("text.Differ:{method}");
    let args = args::at_most(&func, args, 1)?;
    let list = args::table(&func, "diffs", &args[0])?;
    let mut diffs = Vec::new();
    for (i, item) in list.sequence_values::<LuaValue>().enumerate() {
        let name = format!("diffs[{}]", i + 1);
        let item = item.map_err(|e| Error::invalid(format!("{func}: {name}: {e}")))?;
        let diff = args::table(&func, &name, &item)?;
        let field = args::field(&func, Some(&diff), "operation")?;
        let op = match &*args::text(&func, &format!("{name}.operation"), &field)? {
            "equal" => Op::Equal,
            "delete" => Op::Delete,
            "insert" => Op::Insert,
            other => {
                return Err(Error::invalid(format!(
                    "{func}: {name}.operation must be \"equal\", \"delete\" or \"insert\", \
                     got {other:?}"
                )));
            }
        };
        let field = args::field(&func, Some(&diff), "text")?;
        diffs.push((
            op,
            args::text(&func, &format!("{name}.text"), &field)?.to_string(),
        ));
    }
    Ok(diffs)
}

/// The diffs as Lua tables.
fn diffs_table(lua: &Lua, diffs: &[(Op, String)]) -> mlua::Result<LuaValue> {
    let list = lua.create_table_with_capacity(diffs.len(), 0)?;
    for (op, text) in diffs {
        let d = lua.create_table_with_capacity(0, 2)?;
        d.set("operation", op.name())?;
        d.set("text", text.as_str())?;
        list.raw_push(d)?;
    }
    Ok(LuaValue::Table(list))
}

/// Insertions green, deletions red (ANSI colors), as Go's `DiffPrettyText`.
fn pretty_text(diffs: &[(Op, String)]) -> String {
    let mut out = String::new();
    for (op, text) in diffs {
        match op {
            Op::Equal => out.push_str(text),
            Op::Insert => {
                let _ = write!(out, "\x1b[32m{text}\x1b[0m");
            }
            Op::Delete => {
                let _ = write!(out, "\x1b[31m{text}\x1b[0m");
            }
        }
    }
    out
}

/// `<ins>`, `<del>` and `<span>` elements, text escaped and newlines shown as `¶<br>`,
/// as Go's `DiffPrettyHtml`.
fn pretty_html(diffs: &[(Op, String)]) -> String {
    let mut out = String::new();
    for (op, text) in diffs {
        let mut escaped = String::with_capacity(text.len());
        for c in text.chars() {
            match c {
                '&' => escaped.push_str("&amp;"),
                '<' => escaped.push_str("&lt;"),
                '>' => escaped.push_str("&gt;"),
                '"' => escaped.push_str("&#34;"),
                '\'' => escaped.push_str("&#39;"),
                '\n' => escaped.push_str("&para;<br>"),
                c => escaped.push(c),
            }
        }
        let _ = match op {
            Op::Insert => write!(out, "<ins style=\"background:#e6ffe6;\">{escaped}</ins>"),
            Op::Delete => write!(out, "<del style=\"background:#ffe6e6;\">{escaped}</del>"),
            Op::Equal => write!(out, "<span>{escaped}</span>"),
        };
    }
    out
}

impl Op {
    /// The operation's name in Lua.
    fn name(self) -> &'static str {
        match self {
            Op::Equal => "equal",
            Op::Delete => "delete",
            Op::Insert => "insert",
        }
    }
}

/// The operation of a `dmp` diff (-1, 0, 1).
fn op(operation: i32) -> Op {
    match operation {
        ..0 => Op::Delete,
        0 => Op::Equal,
        _ => Op::Insert,
    }
}

/// A text argument: UTF-8, at most [`MAX_TEXT`] bytes.
fn texts(func: &str, v: &LuaValue, name: &str) -> Result<String, Error> {
    let text = args::text(func, name, v)?;
    if text.len() > MAX_TEXT {
        return Err(too_long(func, name));
    }
    Ok(text.to_string())
}

/// Checks that `count` edits or patches over `text` stay within [`MAX_WORK`].
fn within_work(func: &str, count: usize, what: &str, text: &str) -> Result<(), Error> {
    let chars = text.chars().count();
    if count.saturating_mul(chars) > MAX_WORK {
        return Err(Error::invalid(format!(
            "{func}: {count} {what} over a text of {chars} characters is more work than the \
             differ's limit ({MAX_WORK} {what} × characters)"
        )));
    }
    Ok(())
}

/// The error for a text past [`MAX_TEXT`].
fn too_long(func: &str, name: &str) -> Error {
    Error::invalid(format!(
        "{func}: {name} is longer than the differ's limit of {MAX_TEXT} bytes"
    ))
}

/// A number option within 0..=1, as the library's `f32`.
fn number_field(func: &str, opts: Option<&Table>, key: &str) -> Result<Option<f32>, Error> {
    Ok(args::number_field(func, opts, key, 0.0..=1.0)?.map(|n| n as f32))
}

/// An integer option (already range-checked to fit) or its default.
fn int32(v: Option<i64>, default: i32) -> i32 {
    v.and_then(|n| i32::try_from(n).ok()).unwrap_or(default)
}

/// Runs a call into the library; a panic is an Internal error.
fn guarded<T>(func: &str, f: impl FnOnce() -> T) -> Result<T, Error> {
    catch_unwind(AssertUnwindSafe(f))
        .map_err(|_| args::internal(format!("{func}: the diff library failed on this input")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pretty_forms_match_gos() {
        let diffs = vec![
            (Op::Equal, "a<b>\n".to_string()),
            (Op::Delete, "\"x\"".to_string()),
            (Op::Insert, "y&'".to_string()),
        ];
        assert_eq!(
            pretty_text(&diffs),
            "a<b>\n\x1b[31m\"x\"\x1b[0m\x1b[32my&'\x1b[0m"
        );
        assert_eq!(
            pretty_html(&diffs),
            "<span>a&lt;b&gt;&para;<br></span><del style=\"background:#ffe6e6;\">&#34;x&#34;</del>\
             <ins style=\"background:#e6ffe6;\">y&amp;&#39;</ins>"
        );
    }

    #[test]
    fn a_panic_in_the_library_is_an_internal_error() {
        let e = guarded("text.Differ:f", || -> usize {
            panic!("index out of bounds")
        });
        let e = e.unwrap_err();
        assert_eq!(e.kind(), weft_core::ErrorKind::Internal);
        assert!(e.message().starts_with("text.Differ:f: "), "{e}");
    }
}

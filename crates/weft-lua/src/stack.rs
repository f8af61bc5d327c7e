//! Where an error object was made: the Lua traceback an error carries from its creation
//! (`err:stack()`), and the frames `errors.call_stack(err)` reads back from it.
//!
//! The traceback is Lua's own format, one frame per line after `stack traceback:`:
//! `<source>:<line>: in function '<name>'` (or `in main chunk`, `in function
//! <source:line>`). weft's internal chunks, mlua's async poller
//! and C functions are left out: they are not the app's code.

use mlua::Lua;

/// One frame of a traceback, as `errors.call_stack` gives it.
#[derive(Debug, PartialEq, Eq)]
pub struct Frame {
    /// The chunk's printable name (an entry id for entry sources).
    pub source: String,
    /// The line being run, if known.
    pub line: Option<i64>,
    /// The function's name (`main chunk` or `?` when Lua cannot name it).
    pub name: String,
}

/// The most frames a traceback keeps (the innermost ones).
const MAX_FRAMES: usize = 32;

/// The first line of every traceback.
const HEADER: &str = "stack traceback:";

/// The traceback of the Lua code running in `lua` (the caller of the Rust function
/// asking), or `None` when no Lua code is running.
pub fn capture(lua: &Lua) -> Option<String> {
    let mut out = String::from(HEADER);
    let mut frames = 0;
    for level in 1.. {
        if frames == MAX_FRAMES {
            break;
        }
        let Some(line) = lua.inspect_stack(level, |debug| {
            let source = debug.source();
            let short = source.short_src.as_deref().unwrap_or("?");
            if source.what == "C" || is_internal(source.source.as_deref()) {
                return None;
            }
            let line = debug.current_line().map_or(-1, |l| l as i64);
            let what = match (source.what, debug.names().name) {
                ("main", _) => "main chunk".to_string(),
                (_, Some(name)) => format!("function '{name}'"),
                (_, None) => format!(
                    "function <{short}:{}>",
                    source.line_defined.unwrap_or_default()
                ),
            };
            Some(format!("\n\t{short}:{line}: in {what}"))
        }) else {
            break;
        };
        if let Some(line) = line {
            out.push_str(&line);
            frames += 1;
        }
    }
    (frames > 0).then_some(out)
}

/// The frames of a traceback made by [`capture`] (lines it cannot read are skipped).
pub fn frames(traceback: &str) -> Vec<Frame> {
    traceback
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && *l != HEADER)
        .filter_map(|l| {
            // The source may hold colons (`app:handler`): the line number is the last
            // `:<digits>` before `: in `.
            let (place, what) = l.split_once(": in ")?;
            let (source, line) = place.rsplit_once(':')?;
            let name = match what.strip_prefix("function '") {
                Some(quoted) => quoted.trim_end_matches('\''),
                None => what,
            };
            Some(Frame {
                source: source.to_string(),
                line: line.parse().ok().filter(|l| *l >= 0),
                name: name.to_string(),
            })
        })
        .collect()
}

/// Whether `source` is one of weft's or mlua's own chunks.
fn is_internal(source: Option<&str>) -> bool {
    source.is_some_and(|s| s.starts_with("=weft:") || s.starts_with("=__mlua"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_traceback_names_the_lines_and_functions_of_the_lua_code() {
        let lua = Lua::new();
        let here = lua
            .create_function(|lua, ()| Ok(capture(lua).unwrap_or_default()))
            .unwrap();
        lua.globals().set("here", here).unwrap();
        let text: String = lua
            .load("local function inner()\n  return here()\nend\nlocal function outer()\n  return (inner())\nend\nlocal r = outer()\nreturn r")
            .set_name("=app:handler")
            .eval()
            .unwrap();
        assert!(text.starts_with(HEADER), "{text}");
        let frames = frames(&text);
        assert_eq!(
            frames[..2],
            [
                Frame {
                    source: "app:handler".into(),
                    line: Some(2),
                    name: "inner".into()
                },
                Frame {
                    source: "app:handler".into(),
                    line: Some(5),
                    name: "outer".into()
                },
            ]
        );
        assert_eq!(frames.last().map(|f| f.name.as_str()), Some("main chunk"));
    }

    #[test]
    fn nothing_running_is_no_traceback() {
        assert_eq!(capture(&Lua::new()), None);
        assert!(frames("stack traceback:\n\tgarbage").is_empty());
    }
}

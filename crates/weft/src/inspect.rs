//! `weft inspect <entry-id>`: what an entry is and how to use it, for people (`text`)
//! or tools (`--format json`); and `weft run <command> --help`.
//!
//! The app is booted in `BootMode::Check` (every entry validated and compiled, no app
//! code run, nothing written), so what is described is what a run loads.
//!
//! JSON fields (stable): `id`, `kind`, `file`, `line` (null when unknown), `meta`;
//! for WASM entries `wasm` ([`weft_wasm::WasmDescription`]: `binary`, `method`,
//! `function` {`wit`, `params` [{`name`, `type`, `lua`, `cli`}], `result`, `lua_call`,
//! `lua_result`, `note`}, `world` {`name`, `types` [{`name`, `wit`}], `exports`
//! [{`name`, `kind`, `wit`}], `imports` [{`name`, `kind`, `wit`, `granted`, `import`,
//! `note`}], `wit`}, `imports`), `pool` and `limits`; for Lua entries `lua` {`method`,
//! `modules`, `imports` {alias: id}, `source` {`file`, `url`, `lines`}} and, but for
//! `library.lua`, `pool` and `limits`; for other kinds `data`. `pool` is {`type`:
//! `inline`} | {`type`: `lazy`|`adaptive`, `max`} | {`type`: `static`, `workers`,
//! `queue`}; `limits` is {`max_execution_ms` (0: none), `max_memory_mb`,
//! `max_memory_mb_default`}.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::json;
use weft_core::{BoundedRead, MAX_TEXT_FILE_BYTES, Value};
use weft_registry::Entry;
use weft_runtime::{PoolConfig, PoolKind};
use weft_wasm::{LimitsDescription, WasmDescription};

use crate::diag;

/// Examples shown under `weft inspect --help`.
pub(crate) const EXAMPLES: &str = "\
Examples:
  weft inspect app:greet                 the entry, how to call it, its pool and limits
  weft inspect app:resize --format json  the same as a JSON object (fields in docs/wasm.md)
  weft run resize --help                 a command's parameters and their WIT types";

/// How `weft inspect` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// For people.
    Text,
    /// One JSON object (stable field names, see the module docs).
    Json,
}

/// The memory a Lua VM may use when `limits.max_memory_mb` is not set (weft-lua's
/// default, docs/lua.md).
const LUA_DEFAULT_MAX_MEMORY_MB: u64 = 256;

/// The fields of a Lua entry that a description shows.
#[derive(Deserialize, Default)]
#[serde(default)]
struct LuaFields {
    method: String,
    modules: Vec<String>,
    imports: serde_json::Map<String, serde_json::Value>,
    pool: PoolConfig,
    limits: LuaLimits,
}

/// `limits:` of a Lua entry.
#[derive(Deserialize, Default)]
#[serde(default)]
struct LuaLimits {
    max_execution_ms: i64,
    max_memory_mb: i64,
}

/// Where a Lua entry's source is.
#[derive(Serialize)]
struct SourceOrigin {
    /// The file it was read from (relative to the app root), or `None` when inline.
    file: Option<String>,
    /// The `file://` URL the entry gives, or `None` when inline.
    url: Option<String>,
    /// Its number of lines.
    lines: usize,
}

/// `weft inspect <id>` on the booted app: prints the description and returns 0, or
/// prints why not (a missing entry is named, with close ids) and returns 1.
pub(crate) fn run(booted: &weft::Booted, id: &str, format: Format) -> i32 {
    let rt = &booted.runtime;
    let Some(entry) = rt.registry.get(id) else {
        diag::error(not_found(id, &rt.registry.all()));
        return 1;
    };
    let described = match describe(booted, &entry) {
        Ok(described) => described,
        Err(e) => {
            diag::error(format_args!("{id}: {e}"));
            return 1;
        }
    };
    match format {
        Format::Json => {
            let json = serde_json::to_string_pretty(&described.json)
                .unwrap_or_else(|e| format!("{{\"error\": {:?}}}", e.to_string()));
            write_out(&format!("{}\n", diag::json(&json)));
        }
        Format::Text => print_out(&format!("{}\n", described.text)),
    }
    0
}

/// `weft run <command> --help`: the command's description and its parameters (with
/// their WIT types for a `process.wasm` command); 1 for an unknown command.
pub(crate) fn command_help(booted: &weft::Booted, name: &str) -> i32 {
    let rt = &booted.runtime;
    let commands = weft_runtime::commands(&rt.registry);
    let Some(command) = commands.iter().find(|c| c.name == name) else {
        diag::error(format_args!(
            "command \"{name}\" not found. Use 'weft run list' to see available commands"
        ));
        return 1;
    };
    let Some(entry) = rt.registry.get(command.entry.as_str()) else {
        diag::error(format_args!(
            "command \"{name}\": entry {} not found",
            command.entry
        ));
        return 1;
    };
    let mut out = String::new();
    let wasm = if entry.kind == "process.wasm" {
        match weft_wasm::describe(rt, &booted.fs, &entry) {
            Ok(d) => Some(d),
            Err(e) => {
                diag::error(format_args!("{}: {e}", entry.id));
                return 1;
            }
        }
    } else {
        None
    };
    let usage = match &wasm {
        Some(d) => d
            .function
            .params
            .iter()
            .map(|p| format!("<{}>", p.name))
            .collect::<Vec<_>>()
            .join(" "),
        None => "[args…]".to_string(),
    };
    let line = format!("Usage: weft run {name} {usage}");
    let _ = writeln!(out, "{}", line.trim_end());
    for key in ["short", "long"] {
        if let Some(text) = entry.meta_str(&format!("command.{key}")) {
            let _ = writeln!(out, "\n{text}");
        }
    }
    match &wasm {
        Some(d) => wasm_command_help(&mut out, &entry, d),
        None => {
            let method = entry.data.get("method").and_then(Value::as_str);
            let _ = writeln!(
                out,
                "\n{} ({}, method {}): its arguments reach it as strings.",
                entry.id,
                entry.kind,
                method.unwrap_or("main")
            );
        }
    }
    print_out(&out);
    0
}

/// The parameters of a `process.wasm` command with their WIT types and examples, its
/// result, and the named types they use.
fn wasm_command_help(out: &mut String, entry: &Entry, d: &WasmDescription) {
    let _ = writeln!(
        out,
        "\n{} ({}, method {}). Each argument is parsed by the WIT type of its \
         parameter: a string as it is, numbers, true/false, a char, an enum case \
         by name, `none` or a value for an option, and WAVE for records, lists, \
         tuples, variants, results and flags (strings quoted inside them).",
        entry.id, entry.kind, d.method
    );
    let params = &d.function.params;
    if params.is_empty() {
        let _ = writeln!(out, "\nArguments: none");
    } else {
        let _ = writeln!(out, "\nArguments:");
        let width = params
            .iter()
            .map(|p| p.name.len() + p.ty.len() + 2)
            .max()
            .unwrap_or(0);
        for p in params {
            let decl = format!("{}: {}", p.name, p.ty);
            let _ = writeln!(out, "  {decl:width$}  e.g. {}", shell_word(&p.cli));
        }
    }
    if let Some(result) = &d.function.result {
        let _ = writeln!(
            out,
            "\nResult: {result} (a string is printed; an integer is the exit code)"
        );
    }
    let used = used_types(d);
    if !used.is_empty() {
        let _ = writeln!(out, "\nTypes:");
        for ty in used {
            let _ = writeln!(out, "  {ty}");
        }
    }
}

/// Writes `text` to stdout, escaped as diagnostics are: app text (names, meta, WIT from
/// a guest) never reaches the terminal raw. A closed stdout (`| head`) is not an error.
fn print_out(text: &str) {
    write_out(&diag::command_error(text));
}

/// Writes `text` to stdout as it is; a closed stdout is not an error.
fn write_out(text: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// A description in both forms.
struct Described {
    /// For people.
    text: String,
    /// For tools.
    json: serde_json::Value,
}

/// Describes `entry` by its kind.
fn describe(booted: &weft::Booted, entry: &Entry) -> weft_core::Result<Described> {
    let mut text = format!("{} ({})", entry.id, entry.kind);
    if !entry.source.file.as_os_str().is_empty() {
        let _ = write!(text, ", defined in {}", entry.source);
    }
    text.push('\n');
    let mut json = json!({
        "id": entry.id.as_str(),
        "kind": entry.kind,
        "file": (!entry.source.file.as_os_str().is_empty())
            .then(|| entry.source.file.display().to_string()),
        "line": entry.source.line,
        "meta": Value::map(entry.meta.clone()),
    });
    let object = json.as_object_mut().expect("a JSON object");
    if weft_wasm::WASM_KINDS.contains(&entry.kind.as_str()) {
        let d = weft_wasm::describe(&booted.runtime, &booted.fs, entry)?;
        wasm_text(&mut text, &d);
        object.insert("wasm".into(), json!(d));
        object.insert("pool".into(), pool_json(d.pool));
        object.insert("limits".into(), json!(d.limits));
    } else if matches!(
        entry.kind.as_str(),
        "function.lua" | "library.lua" | "process.lua"
    ) {
        let fields: LuaFields = entry.decode().map_err(weft_core::Error::from)?;
        let origin = source_origin(&booted.runtime.root, entry);
        let library = entry.kind == "library.lua";
        let pool = (!library).then(|| fields.pool.resolve()).transpose()?;
        let limits = LimitsDescription {
            max_execution_ms: fields.limits.max_execution_ms,
            max_memory_mb: match fields.limits.max_memory_mb {
                0 => LUA_DEFAULT_MAX_MEMORY_MB,
                mb => mb.max(0) as u64,
            },
            max_memory_mb_default: fields.limits.max_memory_mb == 0,
        };
        lua_text(&mut text, &fields, &origin, pool.map(|p| (p, limits)));
        object.insert(
            "lua".into(),
            json!({
                "method": (!fields.method.is_empty()).then_some(&fields.method),
                "modules": fields.modules,
                "imports": fields.imports,
                "source": origin,
            }),
        );
        if let Some(pool) = pool {
            object.insert("pool".into(), pool_json(pool));
            object.insert("limits".into(), json!(limits));
        }
    } else {
        object.insert("data".into(), json!(entry.data));
        let _ = writeln!(text, "data:\n{}", indent(&yaml(&entry.data), "  "));
    }
    if !entry.meta.is_empty() {
        let meta = Value::map(entry.meta.clone());
        let _ = writeln!(text, "meta:\n{}", indent(&yaml(&meta), "  "));
    }
    Ok(Described {
        text: text.trim_end().to_string(),
        json,
    })
}

/// The text of a WASM entry.
fn wasm_text(out: &mut String, d: &WasmDescription) {
    let f = &d.function;
    let imports = if d.imports.is_empty() {
        "none".to_string()
    } else {
        d.imports.join(", ")
    };
    let _ = writeln!(out, "binary:  {}", d.binary);
    let _ = writeln!(out, "method:  {}", f.wit);
    let _ = writeln!(out, "imports: {imports}");
    let _ = writeln!(out, "pool:    {}", pool_text(d.pool));
    let _ = writeln!(out, "limits:  {}", limits_text(&d.limits));
    let _ = writeln!(out, "\nfrom Lua:");
    if let Some(call) = &f.lua_call {
        let _ = writeln!(out, "  local result, err = {call}");
        let _ = writeln!(out, "  -- result: {}", f.lua_result);
    }
    if let Some(note) = &f.note {
        let _ = writeln!(out, "  -- {note}");
    }
    if !f.params.is_empty() {
        let _ = writeln!(out, "\nparameters:");
        for p in &f.params {
            let _ = writeln!(
                out,
                "  {}: {}    Lua: {}    CLI: {}",
                p.name, p.ty, p.lua, p.cli
            );
        }
    }
    let _ = writeln!(out, "\nworld:\n{}", indent(&d.world.wit, "  "));
}

/// The text of a Lua entry (`pool` and limits for a function or process).
fn lua_text(
    out: &mut String,
    fields: &LuaFields,
    origin: &SourceOrigin,
    runner: Option<(PoolKind, LimitsDescription)>,
) {
    if !fields.method.is_empty() {
        let _ = writeln!(out, "method:  {}", fields.method);
    }
    let lines = match origin.lines {
        1 => "1 line".to_string(),
        n => format!("{n} lines"),
    };
    let source = match (&origin.file, &origin.url) {
        (Some(file), Some(url)) => format!("{file} ({url}, {lines})"),
        (None, Some(url)) => format!("{url} ({lines})"),
        _ => format!("inline ({lines})"),
    };
    let _ = writeln!(out, "source:  {source}");
    let modules = if fields.modules.is_empty() {
        "none".to_string()
    } else {
        fields.modules.join(", ")
    };
    let _ = writeln!(out, "modules: {modules}");
    if fields.imports.is_empty() {
        let _ = writeln!(out, "imports: none");
    } else {
        let _ = writeln!(out, "imports:");
        for (alias, id) in &fields.imports {
            let id = id.as_str().map_or_else(|| id.to_string(), str::to_string);
            let _ = writeln!(out, "  {alias} -> {id}");
        }
    }
    if let Some((pool, limits)) = runner {
        let _ = writeln!(out, "pool:    {}", pool_text(pool));
        let _ = writeln!(out, "limits:  {}", limits_text(&limits));
    }
}

/// A pool for people: `lazy (up to 100 at once)`.
fn pool_text(pool: PoolKind) -> String {
    match pool {
        PoolKind::Inline => "inline (no bound: runs on the caller's task)".into(),
        PoolKind::Lazy { max } => format!("lazy (up to {max} at once, built on demand)"),
        PoolKind::Adaptive { max } => format!("adaptive (up to {max} at once)"),
        PoolKind::Static { workers, queue } => {
            format!("static ({workers} workers, up to {queue} callers waiting)")
        }
    }
}

/// A pool for tools: `{"type": "lazy", "max": 100}`.
fn pool_json(pool: PoolKind) -> serde_json::Value {
    match pool {
        PoolKind::Inline => json!({"type": "inline"}),
        PoolKind::Lazy { max } => json!({"type": "lazy", "max": max}),
        PoolKind::Adaptive { max } => json!({"type": "adaptive", "max": max}),
        PoolKind::Static { workers, queue } => {
            json!({"type": "static", "workers": workers, "queue": queue})
        }
    }
}

/// Limits for people: `max_execution_ms: none, max_memory_mb: 256 (default)`.
fn limits_text(limits: &LimitsDescription) -> String {
    let time = match limits.max_execution_ms {
        0 => "none".to_string(),
        ms => ms.to_string(),
    };
    let default = if limits.max_memory_mb_default {
        " (default)"
    } else {
        ""
    };
    format!(
        "max_execution_ms: {time}, max_memory_mb: {}{default}",
        limits.max_memory_mb
    )
}

/// The named types a command's parameters and result use (their definitions).
fn used_types(d: &WasmDescription) -> Vec<&str> {
    let words: Vec<&str> = d
        .function
        .params
        .iter()
        .map(|p| p.ty.as_str())
        .chain(d.function.result.as_deref())
        .collect();
    let mut used: Vec<&str> = Vec::new();
    // Dependencies come first in the world's list: walk it backwards so that a type a
    // used type uses is found too, then restore the order.
    for ty in d.world.types.iter().rev() {
        let mentioned = |text: &str| mentions(text, &ty.name);
        if words.iter().any(|w| mentioned(w)) || used.iter().any(|u| mentioned(u)) {
            used.push(&ty.wit);
        }
    }
    used.reverse();
    used
}

/// Whether the WIT text `text` names the type `name` (as a whole word).
fn mentions(text: &str, name: &str) -> bool {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .any(|word| word == name)
}

/// `word` as a shell would take it back: as it is when plain, else single-quoted.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.,:/@+=".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Where a Lua entry's source came from: the `file://` URL its definition gives and the
/// file it names (checked against the loaded text), or inline.
///
/// The loader replaces a `file://` value with the file's text and keeps no trace of it,
/// so the definition file is read again for the URL, which resolves as the loader
/// resolves it: from the definition file's folder, or (`file:///…`) from the root of
/// its load path, an ancestor folder; the candidate whose text is the loaded source is
/// the one.
fn source_origin(root: &Path, entry: &Entry) -> SourceOrigin {
    let loaded = entry
        .data
        .get("source")
        .and_then(Value::as_bytes)
        .unwrap_or_default();
    let lines = if loaded.is_empty() {
        0
    } else {
        loaded.iter().filter(|b| **b == b'\n').count() + usize::from(!loaded.ends_with(b"\n"))
    };
    let inline = SourceOrigin {
        file: None,
        url: None,
        lines,
    };
    let definition = root.join(&entry.source.file);
    let Some(url) = source_url(root, &definition, entry) else {
        return inline;
    };
    let rest = url.trim_start_matches("file://");
    let dir = definition.parent().unwrap_or(root).to_path_buf();
    let candidates: Vec<PathBuf> = match rest.strip_prefix('/') {
        Some(rel) => dir.ancestors().map(|a| a.join(rel)).collect(),
        None => vec![dir.join(rest)],
    };
    let found = candidates.iter().find(|path| {
        BoundedRead::new(MAX_TEXT_FILE_BYTES)
            .bytes(path)
            .is_ok_and(|bytes| bytes == loaded)
    });
    let shown = found.map(|p| p.strip_prefix(root).unwrap_or(p).display().to_string());
    SourceOrigin {
        file: shown,
        url: Some(url),
        lines,
    }
}

/// The `file://` URL of the entry's `source` in its definition file, if it has one.
fn source_url(root: &Path, definition: &Path, entry: &Entry) -> Option<String> {
    let text = BoundedRead::new(MAX_TEXT_FILE_BYTES)
        .within(root)
        .text(definition)
        .ok()?;
    let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).ok()?;
    let name = entry.id.name();
    let is_entry = |item: &serde_yaml_ng::Value| {
        item.get("name").and_then(serde_yaml_ng::Value::as_str) == Some(name)
    };
    let item = match doc
        .get("entries")
        .and_then(serde_yaml_ng::Value::as_sequence)
    {
        Some(items) => items.iter().find(|i| is_entry(i))?,
        None if is_entry(&doc) => &doc,
        None => return None,
    };
    let source = item
        .get("source")
        .or_else(|| item.get("data").and_then(|d| d.get("source")))?
        .as_str()?;
    source.starts_with("file://").then(|| source.to_string())
}

/// `value` as YAML for people.
fn yaml(value: &Value) -> String {
    serde_yaml_ng::to_string(value)
        .unwrap_or_else(|e| format!("(cannot be shown: {e})"))
        .trim_end()
        .to_string()
}

/// `text` with every line indented by `prefix`.
fn indent(text: &str, prefix: &str) -> String {
    text.lines()
        .map(|line| format!("{prefix}{line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// "no entry X" with the ids close to it.
fn not_found(id: &str, entries: &[std::sync::Arc<Entry>]) -> String {
    let close = close_ids(id, entries.iter().map(|e| e.id.as_str()));
    match close.as_slice() {
        [] => format!("no entry {id:?} in the app"),
        [one] => format!("no entry {id:?} in the app; did you mean {one}?"),
        many => format!(
            "no entry {id:?} in the app; did you mean one of {}?",
            many.join(", ")
        ),
    }
}

/// Up to three ids close to `wanted`: by edit distance on the whole id, or on the name
/// alone (a name given without its namespace, or in another one).
fn close_ids<'a>(wanted: &str, ids: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let wanted_name = wanted.rsplit_once(':').map_or(wanted, |(_, n)| n);
    let mut scored: Vec<(usize, &str)> = ids
        .filter_map(|id| {
            let name = id.rsplit_once(':').map_or(id, |(_, n)| n);
            let distance =
                strsim::levenshtein(wanted, id).min(strsim::levenshtein(wanted_name, name));
            let bound = (wanted_name.chars().count() / 3).max(2);
            (distance <= bound).then_some((distance, id))
        })
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, id)| id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_ids_find_typos_and_missing_namespaces() {
        let ids = ["app:greet", "app:great_big", "lib:greet", "app:other"];
        assert_eq!(
            close_ids("app:gret", ids.into_iter()),
            ["app:greet", "lib:greet"]
        );
        assert_eq!(
            close_ids("greet", ids.into_iter()),
            ["app:greet", "lib:greet"]
        );
        assert!(close_ids("zzz:qqqqqqqq", ids.into_iter()).is_empty());
    }

    #[test]
    fn shell_words_are_quoted_when_needed() {
        assert_eq!(shell_word("42"), "42");
        assert_eq!(shell_word("{x: 0, y: 0}"), "'{x: 0, y: 0}'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }

    #[test]
    fn types_are_mentioned_as_whole_words() {
        assert!(mentions("list<point>", "point"));
        assert!(!mentions("list<endpoint>", "point"));
        assert!(!mentions("point-3d", "point"));
    }
}

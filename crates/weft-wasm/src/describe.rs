//! What `weft inspect` shows of a WASM entry: its WIT world (exports with their types,
//! imports and which of them the entry's `imports:` grant), how Lua calls its method
//! and what the call returns, its pool and its limits.
//!
//! The world is read from the binary the entry loads (a component's own type
//! information, decoded with `wit-parser`; for a core module, the world its `wit:`
//! signature wraps it in), so the types have their WIT names. Describe an entry of an
//! app that booted (in `BootMode::Check` it compiles the same binaries and runs
//! nothing): the fields are taken as valid, and the call shapes follow the conversion
//! rules of `crate::convert`.

mod shapes;
mod wit;

use serde::{Deserialize, Serialize};
use weft_core::{Error, Result};
use weft_fs::FsRegistry;
use weft_registry::Entry;
use weft_runtime::{PoolConfig, PoolKind, Runtime};
use wit_parser::{Function, Resolve, WorldId, WorldItem, WorldKey};

use crate::call::Limits;
use crate::component::{BinaryKind, binary_kind};
use crate::profiles::{self, Grants, Profile};
use crate::signature::Signature;

/// The kinds [`describe`] describes.
pub const WASM_KINDS: [&str; 3] = ["function.wat", "function.wasm", "process.wasm"];

/// A WASM entry described: every field has a stable name in `weft inspect --format json`.
#[derive(Clone, Debug, Serialize)]
pub struct WasmDescription {
    /// `component`, or `core module` (wrapped with its `wit:` signature).
    pub binary: &'static str,
    /// The entry's `method`.
    pub method: String,
    /// The method: its WIT signature and how Lua calls it.
    pub function: FunctionShape,
    /// The component's world.
    pub world: WorldDescription,
    /// The entry's `imports:`, as written.
    pub imports: Vec<String>,
    /// The entry's pool, defaults applied.
    #[serde(skip)]
    pub pool: PoolKind,
    /// The entry's limits, defaults applied.
    pub limits: LimitsDescription,
}

/// The method of an entry.
#[derive(Clone, Debug, Serialize)]
pub struct FunctionShape {
    /// Its WIT declaration (`area: func(s: shape) -> f64`).
    pub wit: String,
    /// Its parameters in order.
    pub params: Vec<ParamShape>,
    /// Its result type in WIT (`None`: no result).
    pub result: Option<String>,
    /// A Lua line calling it with example arguments (`funcs.call("app:area", {circle =
    /// 0.0})`; `process.exec(…)` for a process); `None` for HTTP handlers, which only
    /// requests reach.
    pub lua_call: Option<String>,
    /// The result as Lua sees it (`number`, `{x = integer, y = integer}`, `"red" |
    /// "green"`); `nil` without a result.
    pub lua_result: String,
    /// Why Lua cannot call it, when it cannot (an HTTP handler, a resource parameter).
    pub note: Option<String>,
}

/// One parameter of the method.
#[derive(Clone, Debug, Serialize)]
pub struct ParamShape {
    /// Its name.
    pub name: String,
    /// Its type in WIT (`point`, `list<string>`).
    #[serde(rename = "type")]
    pub ty: String,
    /// An example Lua value (`{x = 0, y = 0}`).
    pub lua: String,
    /// An example command-line argument (`{x: 0, y: 0}` in WAVE; a plain word for a
    /// string), as `weft run` parses it.
    pub cli: String,
}

/// The world of a component.
#[derive(Clone, Debug, Serialize)]
pub struct WorldDescription {
    /// The world's name (`root` for a component's inferred world).
    pub name: String,
    /// The named types the exports use, each defined in WIT, dependencies first.
    pub types: Vec<NamedType>,
    /// What the component exports.
    pub exports: Vec<ExportDescription>,
    /// What the component imports, and whether the entry grants it.
    pub imports: Vec<ImportDescription>,
    /// The whole world as WIT text.
    pub wit: String,
}

/// A named WIT type.
#[derive(Clone, Debug, Serialize)]
pub struct NamedType {
    /// Its name.
    pub name: String,
    /// Its definition (`record point { x: s32, y: s32 }`).
    pub wit: String,
}

/// One export of a world.
#[derive(Clone, Debug, Serialize)]
pub struct ExportDescription {
    /// Its name: a function name, or an interface (`test:types/math@0.1.0`).
    pub name: String,
    /// `function` or `interface`.
    pub kind: &'static str,
    /// Its WIT: a function's declaration, an interface's body.
    pub wit: String,
}

/// One import of a world.
#[derive(Clone, Debug, Serialize)]
pub struct ImportDescription {
    /// Its name (`wasi:cli/environment@0.2.3`, or a function's name).
    pub name: String,
    /// `function` or `interface`.
    pub kind: &'static str,
    /// Its WIT (`import wasi:cli/environment@0.2.3;`, `import log: func(msg: string);`).
    pub wit: String,
    /// Whether the entry gets what it is for.
    pub granted: bool,
    /// The `imports:` name that grants it (`wasi:cli`); `None` for what is always
    /// linked and what no host provides.
    pub import: Option<&'static str>,
    /// What the guest sees (`always linked`, `not granted: calls trap`).
    pub note: String,
}

/// The limits of an entry, defaults applied.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct LimitsDescription {
    /// Wall-clock time a call may take, in ms; 0 is no limit.
    pub max_execution_ms: i64,
    /// Memory a guest may use, in MB.
    pub max_memory_mb: u64,
    /// Whether `max_memory_mb` is the default (not set by the entry).
    pub max_memory_mb_default: bool,
}

/// The fields of a WASM entry that a description reads.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Fields {
    source: String,
    fs: String,
    path: String,
    method: String,
    wit: String,
    transport: String,
    imports: Vec<String>,
    limits: Limits,
    pool: PoolConfig,
}

/// Describes the WASM entry `entry` of the booted app `rt`, reading its binary through
/// `fs` as boot did.
///
/// Errors: Invalid for an entry that is not a WASM entry or whose binary or method no
/// longer reads as it did at boot.
pub fn describe(rt: &Runtime, fs: &FsRegistry, entry: &Entry) -> Result<WasmDescription> {
    if !WASM_KINDS.contains(&entry.kind.as_str()) {
        return Err(Error::invalid(format!(
            "{} is a {}, not a WASM entry",
            entry.id, entry.kind
        )));
    }
    let fields: Fields = entry.decode().map_err(Error::from)?;
    let bytes = if entry.kind == "function.wat" {
        wat::parse_str(&fields.source)
            .map_err(|e| Error::invalid(format!("failed to load wat module: {e}")))?
    } else {
        fs.get(&rt.system_context(), &fields.fs)?
            .read(&fields.path)?
    };
    let kind = binary_kind(&bytes)?;
    let (resolve, world) = match kind {
        BinaryKind::Core => {
            let signature = Signature::parse(&fields.wit)?;
            (signature.resolve, signature.world)
        }
        BinaryKind::Component => match wit_parser::decoding::decode(&bytes) {
            Ok(wit_parser::decoding::DecodedWasm::Component(resolve, world)) => (resolve, world),
            Ok(_) => {
                return Err(Error::invalid(
                    "the binary is a WIT package, not a component",
                ));
            }
            Err(e) => {
                return Err(Error::invalid(format!(
                    "cannot read the component's WIT: {e:#}"
                )));
            }
        },
    };
    let grants = Grants::of(&profiles::check(
        &fields.imports,
        kind == BinaryKind::Component,
    )?);
    let function = find_method(&resolve, world, &fields.method).ok_or_else(|| {
        Error::invalid(format!(
            "export \"{}\" not found in the component's world",
            fields.method
        ))
    })?;
    let call = CallOf {
        id: entry.id.as_str(),
        process_host: (entry.kind == "process.wasm").then(|| process_host(rt)),
        http: http_note(&fields),
    };
    Ok(WasmDescription {
        binary: match kind {
            BinaryKind::Core => "core module",
            BinaryKind::Component => "component",
        },
        method: fields.method.clone(),
        function: shape_of(&resolve, function, &call),
        world: world_of(&resolve, world, grants),
        imports: fields.imports.clone(),
        pool: fields.pool.resolve()?,
        limits: LimitsDescription {
            max_execution_ms: fields.limits.max_execution_ms,
            max_memory_mb: fields.limits.memory_mb(),
            max_memory_mb_default: fields.limits.max_memory_mb == 0,
        },
    })
}

/// How Lua reaches an entry, for its call line.
struct CallOf<'a> {
    /// The entry id.
    id: &'a str,
    /// For a process: the host to run it on in the example.
    process_host: Option<String>,
    /// For an HTTP handler: why Lua does not call it.
    http: Option<String>,
}

/// The method `method` of `world`: a world export, or `iface#func` (split at the last
/// `#`; an interface named without its version matches any version).
fn find_method<'r>(resolve: &'r Resolve, world: WorldId, method: &str) -> Option<&'r Function> {
    let exports = &resolve.worlds[world].exports;
    let Some((iface, func)) = method.rsplit_once('#') else {
        return exports.iter().find_map(|(key, item)| match (key, item) {
            (WorldKey::Name(name), WorldItem::Function(f)) if name == method => Some(f),
            _ => None,
        });
    };
    exports.iter().find_map(|(key, item)| {
        let WorldItem::Interface { id, .. } = item else {
            return None;
        };
        let name = resolve.name_world_key(key);
        let unversioned = name.split_once('@').map_or(name.as_str(), |(n, _)| n);
        (name == iface || unversioned == iface)
            .then(|| resolve.interfaces[*id].functions.get(func))
            .flatten()
    })
}

/// The method's signature, its example Lua call and its result in Lua.
fn shape_of(resolve: &Resolve, f: &Function, call: &CallOf<'_>) -> FunctionShape {
    let params: Vec<ParamShape> = f
        .params
        .iter()
        .map(|p| ParamShape {
            name: p.name.clone(),
            ty: wit::type_name(resolve, &p.ty),
            lua: shapes::lua_example(resolve, &p.ty),
            cli: shapes::cli_example(resolve, &p.ty),
        })
        .collect();
    let unsupported = f
        .params
        .iter()
        .find_map(|p| {
            shapes::unsupported(resolve, &p.ty).map(|what| (format!("parameter {}", p.name), what))
        })
        .or_else(|| {
            let what = shapes::unsupported(resolve, f.result.as_ref()?)?;
            Some(("the result".to_string(), what))
        });
    let note = match (&call.http, &unsupported) {
        (Some(http), _) => Some(http.clone()),
        (None, Some((name, what))) => Some(format!(
            "{name} is a {what}, which cannot cross into Lua: Lua cannot call this method"
        )),
        (None, None) => None,
    };
    let args: Vec<&str> = params.iter().map(|p| p.lua.as_str()).collect();
    let lua_call = match (&call.http, &call.process_host) {
        (Some(_), _) => None,
        (None, Some(host)) => Some(call_line(
            "process.exec",
            &[&format!("{:?}", call.id), &format!("{host:?}")],
            &args,
        )),
        (None, None) => Some(call_line("funcs.call", &[&format!("{:?}", call.id)], &args)),
    };
    FunctionShape {
        wit: wit::func_decl(resolve, f),
        params,
        result: f.result.as_ref().map(|ty| wit::type_name(resolve, ty)),
        lua_call,
        lua_result: match &f.result {
            Some(ty) => shapes::lua_shape(resolve, ty),
            None => "nil".to_string(),
        },
        note,
    }
}

/// `f(a, b, c)` from the leading arguments and the rest.
fn call_line(f: &str, lead: &[&str], args: &[&str]) -> String {
    let all: Vec<&str> = lead.iter().chain(args).copied().collect();
    format!("{f}({})", all.join(", "))
}

/// A `process.host` of the app to run a process on in examples (the first by id), or a
/// placeholder.
fn process_host(rt: &Runtime) -> String {
    let mut hosts: Vec<String> = rt
        .registry
        .all()
        .iter()
        .filter(|e| e.kind == "process.host")
        .map(|e| e.id.as_str().to_string())
        .collect();
    hosts.sort();
    hosts
        .into_iter()
        .next()
        .unwrap_or_else(|| "<process.host id>".to_string())
}

/// Why Lua does not call an HTTP handler (`transport: wasi-http` or an incoming
/// handler), or `None`.
fn http_note(fields: &Fields) -> Option<String> {
    if fields.method.starts_with("wasi:http/incoming-handler") {
        Some(
            "a wasi:http/incoming-handler: only HTTP requests reach it (an http.endpoint's func)"
                .into(),
        )
    } else if fields.transport == "wasi-http" {
        Some("transport: wasi-http: only HTTP requests reach it (an http.endpoint's func)".into())
    } else {
        None
    }
}

/// The world described: its types, exports and imports (with grants) and its text.
fn world_of(resolve: &Resolve, world: WorldId, grants: Grants) -> WorldDescription {
    let w = &resolve.worlds[world];
    let mut exports = Vec::new();
    let mut functions: Vec<&Function> = Vec::new();
    for (key, item) in &w.exports {
        match item {
            WorldItem::Function(f) => {
                functions.push(f);
                exports.push(ExportDescription {
                    name: f.name.clone(),
                    kind: "function",
                    wit: wit::func_decl(resolve, f),
                });
            }
            WorldItem::Interface { id, .. } => {
                let iface = &resolve.interfaces[*id];
                functions.extend(iface.functions.values());
                exports.push(ExportDescription {
                    name: resolve.name_world_key(key),
                    kind: "interface",
                    wit: wit::interface_body(resolve, iface),
                });
            }
            WorldItem::Type { .. } => {}
        }
    }
    let mut world_types = Vec::new();
    let mut imports = Vec::new();
    for (key, item) in &w.imports {
        let (kind, name, wit) = match item {
            WorldItem::Type { id, .. } => {
                world_types.push(*id);
                continue;
            }
            WorldItem::Function(f) => (
                "function",
                f.name.clone(),
                format!("import {};", wit::func_decl(resolve, f)),
            ),
            WorldItem::Interface { .. } => {
                let name = resolve.name_world_key(key);
                ("interface", name.clone(), format!("import {name};"))
            }
        };
        let (granted, import, note) = import_status(&name, grants);
        imports.push(ImportDescription {
            name,
            kind,
            wit,
            granted,
            import,
            note,
        });
    }
    let types = wit::named_types(resolve, &functions, &world_types);
    let wit = wit::world_text(&w.name, &imports, &types, &exports);
    WorldDescription {
        name: w.name.clone(),
        types,
        exports,
        imports,
        wit,
    }
}

/// Whether an import is granted, by which `imports:` name, and what the guest sees:
/// the rule `crate::link` links by (an interface that can say no says no; one that
/// cannot traps, naming the import to add).
fn import_status(name: &str, grants: Grants) -> (bool, Option<&'static str>, String) {
    /// Interface prefix, profile, its `imports:` name, what the guest sees without it.
    const RULES: &[(&str, Profile, &str, &str)] = &[
        (
            "wasi:cli/",
            Profile::Cli,
            "wasi:cli",
            "no args or env, stdout/stderr closed, stdin empty",
        ),
        ("wasi:clocks/", Profile::Clocks, "wasi:clocks", "calls trap"),
        ("wasi:random/", Profile::Random, "wasi:random", "calls trap"),
        (
            "wasi:filesystem/",
            Profile::Filesystem,
            "wasi:filesystem",
            "no directories",
        ),
        (
            "wasi:sockets/",
            Profile::Sockets,
            "wasi:sockets",
            "every address and name lookup denied",
        ),
        (
            "wasi:http/types",
            Profile::Http,
            "wasi:http",
            "every outgoing request denied",
        ),
        (
            "wasi:http/outgoing-handler",
            Profile::Http,
            "wasi:http",
            "every outgoing request denied",
        ),
        ("wippy:runtime/funcs", Profile::Funcs, "funcs", "calls trap"),
    ];
    if name.starts_with("wasi:io/") {
        return (
            true,
            None,
            "always linked (streams, errors, pollables)".into(),
        );
    }
    match RULES.iter().find(|(prefix, ..)| name.starts_with(prefix)) {
        Some((_, profile, import, _)) if grants.has(*profile) => {
            (true, Some(*import), format!("granted by `{import}`"))
        }
        Some((_, _, import, without)) => (
            false,
            Some(*import),
            format!("not granted: {without} (add `{import}` to imports)"),
        ),
        None => (false, None, "no host provides it: calls trap".into()),
    }
}

#[cfg(test)]
mod tests;

//! WASI for WASM entries: what an entry is granted (its `imports:` profiles), the static
//! `wasi:` configuration checked at boot, and what each call's guest sees.
//!
//! Linking follows one rule, so an entry never gets a capability it did not ask for:
//! an interface that can say no is linked real and says no unless its profile is
//! imported; an interface that cannot say no is linked as traps naming the profile.
//!
//! | Not imported      | The guest sees                                               |
//! |-------------------|--------------------------------------------------------------|
//! | `wasi:cli`        | no args, no env, cwd unset, stdin at its end, stdout/stderr closed |
//! | `wasi:filesystem` | no preopened directories                                     |
//! | `wasi:sockets`    | every address and name lookup denied (`access-denied`)       |
//! | `wasi:http`       | every outgoing request denied (`HTTP-request-denied`)        |
//! | `wasi:clocks`, `wasi:random`, `funcs` | a trap naming the interface and the missing import |
//!
//! `wasi:io` and `wasi:poll` only define streams, errors and pollables, which a guest can
//! only obtain through another interface; they are always linked.
//!
//! Per call, permission and env lookups run before the guest starts (their errors fail
//! that call). The `WasiCtx` itself is built on the guest's first WASI call, since most
//! calls make none; entries with mounts build it up front, opening their directories.

use std::sync::Arc;
use wasmtime::Engine;

use wasmtime::component::{Component, Linker};
use wasmtime_wasi::p2::bindings::{cli, clocks, filesystem, random, sockets};
use wasmtime_wasi::sockets::SocketAddrUse;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder};
use weft_core::{CallContext, EntryId, Error, ErrorKind, Result};
use weft_runtime::Runtime;

use crate::profiles::Profile;
use crate::stdio::{Input, Output};
use crate::store::StoreState;

/// The profiles an entry imported.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct Grants(u16);

/// The `wasi:` configuration of an entry, checked at boot.
#[derive(Debug, Default)]
pub(crate) struct WasiPlan {
    /// What the entry may use.
    pub grants: Grants,
    /// `wasi.args`; `None` means the terminal's args (CLI commands) or none.
    args: Option<Arc<[String]>>,
    /// `wasi.cwd`, or `/`.
    cwd: Arc<str>,
    /// `wasi.env`: (guest name, variable id, required), sorted by guest name.
    env: Vec<(String, String, bool)>,
    /// `wasi.mounts`: (fs id, guest path, read only), sorted by guest path.
    mounts: Vec<(String, String, bool)>,
}

/// What one call's guest sees: the plan resolved in the caller's context.
pub(crate) struct CallWasi {
    /// The entry being called.
    pub entry: EntryId,
    /// The caller's context (actor, scope, terminal…).
    pub cx: CallContext,
    /// The entry's grants.
    pub grants: Grants,
    args: Arc<[String]>,
    cwd: Arc<str>,
    env: Vec<(String, String)>,
    mounts: Vec<(std::path::PathBuf, String, bool)>,
}

/// The fields of `wasi:` as written in an entry.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(crate) struct WasiConfig {
    pub args: Option<Vec<String>>,
    pub cwd: String,
    pub env: Vec<WasiEnv>,
    pub mounts: Vec<WasiMount>,
}

/// One `wasi.env` item.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(crate) struct WasiEnv {
    pub id: String,
    pub name: String,
    pub required: bool,
}

/// One `wasi.mounts` item.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(crate) struct WasiMount {
    pub fs: String,
    pub guest: String,
    pub read_only: bool,
}

impl Grants {
    /// The grants of these profiles.
    pub fn of(profiles: &[Profile]) -> Grants {
        Grants(profiles.iter().fold(0, |set, p| set | Self::bit(*p)))
    }

    /// Whether `profile` was imported.
    pub fn has(self, profile: Profile) -> bool {
        self.0 & Self::bit(profile) != 0
    }

    fn bit(profile: Profile) -> u16 {
        1 << profile as u16
    }
}

impl WasiPlan {
    /// The plan of an entry; `wasi:` fields that need a profile the entry did not
    /// import are errors naming the field.
    pub fn new(config: &WasiConfig, grants: Grants) -> Result<WasiPlan> {
        let needs = |field: &str, profile: &str| {
            Err(Error::invalid(format!(
                "{field} needs `{profile}` in imports (without it the guest cannot see it)"
            ))
            .in_field(field))
        };
        if !grants.has(Profile::Cli) {
            if config.args.as_ref().is_some_and(|a| !a.is_empty()) {
                return needs("wasi.args", "wasi:cli");
            }
            if !config.cwd.is_empty() {
                return needs("wasi.cwd", "wasi:cli");
            }
            if !config.env.is_empty() {
                return needs("wasi.env", "wasi:cli");
            }
        }
        if !grants.has(Profile::Filesystem) && !config.mounts.is_empty() {
            return needs("wasi.mounts", "wasi:filesystem");
        }
        let mut env: Vec<_> = config
            .env
            .iter()
            .map(|e| (e.name.trim().to_string(), e.id.clone(), e.required))
            .collect();
        env.sort_by(|a, b| a.0.cmp(&b.0));
        let mut mounts: Vec<_> = config
            .mounts
            .iter()
            .map(|m| (m.fs.clone(), clean_guest_path(&m.guest), m.read_only))
            .collect();
        mounts.sort_by(|a, b| a.1.cmp(&b.1));
        Ok(WasiPlan {
            grants,
            args: config.args.as_deref().map(Arc::from),
            cwd: if config.cwd.is_empty() {
                Arc::from("/")
            } else {
                Arc::from(config.cwd.as_str())
            },
            env,
            mounts,
        })
    }

    /// Whether calls build their WASI context before the guest runs.
    pub fn eager(&self) -> bool {
        !self.mounts.is_empty()
    }

    /// Resolves the plan for one call in the caller's context: env values from their
    /// storages, mounts after the `fs.get` check. Errors fail that call only.
    pub fn resolve(&self, rt: &Runtime, entry: &EntryId, cx: &CallContext) -> Result<CallWasi> {
        let mut env = Vec::with_capacity(self.env.len());
        for (name, id, required) in &self.env {
            let value = rt
                .env
                .lookup(id, Some(entry.ns()))
                .map_err(|e| {
                    Error::new(
                        e.kind(),
                        format!("failed to resolve wasi env mapping: {id}: {}", e.message()),
                    )
                })?
                .filter(|v| !v.is_empty());
            match value {
                Some(v) => env.push((name.clone(), v)),
                None if *required => {
                    return Err(Error::not_found(format!(
                        "required wasi env variable not found: {id}"
                    )));
                }
                None => {}
            }
        }
        let mut mounts = Vec::with_capacity(self.mounts.len());
        for (fs, guest, read_only) in &self.mounts {
            cx.check("fs.get", fs).map_err(|_| {
                Error::permission_denied(format!("not allowed to access filesystem: {fs}"))
            })?;
            let root = rt.fs.get(fs).ok_or_else(|| {
                Error::not_found(format!("wasi mount filesystem not found: {fs}"))
            })?;
            mounts.push((root.root().to_path_buf(), guest.clone(), *read_only));
        }
        let args = match &self.args {
            Some(args) => args.clone(),
            None => cx
                .terminal()
                .map_or_else(|| Arc::from([]), |t| Arc::from(t.args())),
        };
        Ok(CallWasi {
            entry: entry.clone(),
            cx: cx.clone(),
            grants: self.grants,
            args,
            cwd: self.cwd.clone(),
            env,
            mounts,
        })
    }
}

impl CallWasi {
    /// The guest's WASI context. Opening a mounted directory can fail.
    pub fn build(&self) -> Result<WasiCtx> {
        let mut b = self.base();
        for (host, guest, read_only) in &self.mounts {
            let perms = if *read_only {
                FsPerms::ReadOnly
            } else {
                FsPerms::ReadWrite
            };
            b.preopened_dir(host, guest, perms).map_err(|e| {
                Error::new(
                    ErrorKind::Internal,
                    format!("cannot open mount {guest} ({}): {e}", host.display()),
                )
            })?;
        }
        Ok(b.build())
    }

    /// The context without mounts (what lazily built contexts are).
    pub fn build_unmounted(&self) -> WasiCtx {
        self.base().build()
    }

    fn base(&self) -> WasiCtxBuilder {
        let mut b = WasiCtxBuilder::new();
        if self.grants.has(Profile::Cli) {
            b.args(&self.args).envs(&self.env).initial_cwd(&*self.cwd);
            match self.cx.terminal() {
                Some(t) => {
                    b.stdin(Input::Terminal(t.stdin().clone()))
                        .stdout(Output::Terminal(t.stdout().clone()))
                        .stderr(Output::Terminal(t.stderr().clone()));
                }
                None => {
                    b.stdin(Input::Empty)
                        .stdout(Output::Log(self.entry.clone(), "stdout"))
                        .stderr(Output::Log(self.entry.clone(), "stderr"));
                }
            }
        } else {
            b.stdin(Input::Empty)
                .stdout(Output::Closed)
                .stderr(Output::Closed);
        }
        if self.grants.has(Profile::Sockets) {
            let cx = self.cx.clone();
            b.allow_tcp(true)
                .allow_udp(true)
                .allow_ip_name_lookup(true)
                .socket_addr_check(move |addr, usage| {
                    let allowed = socket_allowed(&cx, addr, usage);
                    Box::pin(async move { allowed })
                });
        } else {
            b.allow_tcp(false)
                .allow_udp(false)
                .allow_ip_name_lookup(false);
        }
        b
    }
}

/// Links what an entry may use into `linker`, and every import nobody provides as a trap
/// naming it.
pub(crate) fn link(
    linker: &mut Linker<StoreState>,
    engine: &Engine,
    component: &Component,
    grants: Grants,
    entry: &EntryId,
) -> Result<()> {
    link_wasi(linker, grants).map_err(|e| Error::internal(format!("linking WASI: {e:#}")))?;
    if grants.has(Profile::Funcs) {
        crate::funcs::link(linker)
            .map_err(|e| Error::internal(format!("linking {}: {e:#}", crate::funcs::INTERFACE)))?;
    }
    let ty = component.component_type();
    for (name, item) in ty.imports(engine) {
        let missing =
            |profile: &str| format!("not granted to {entry}: add `{profile}` to its imports");
        let why = if name.starts_with("wasi:clocks/") && !grants.has(Profile::Clocks) {
            missing("wasi:clocks")
        } else if name.starts_with("wasi:random/") && !grants.has(Profile::Random) {
            missing("wasi:random")
        } else if name.starts_with("wippy:runtime/funcs") {
            if grants.has(Profile::Funcs) {
                continue;
            }
            missing("funcs")
        } else if LINKED.iter().any(|p| name.starts_with(p)) {
            continue;
        } else {
            "unresolved host import: no host provides it".to_string()
        };
        crate::engine::stub_import(linker, engine, name, &item.ty, why)
            .map_err(|e| Error::internal(format!("stubbing import {name}: {e:#}")))?;
    }
    Ok(())
}

/// Interface prefixes [`link_wasi`] defines (clocks and random only when granted).
const LINKED: &[&str] = &[
    "wasi:io/",
    "wasi:cli/",
    "wasi:clocks/",
    "wasi:random/",
    "wasi:filesystem/",
    "wasi:sockets/",
    "wasi:http/types",
    "wasi:http/outgoing-handler",
];

/// The WASI 0.2 interfaces, following the rule in the module docs.
fn link_wasi(l: &mut Linker<StoreState>, grants: Grants) -> wasmtime::Result<()> {
    use wasmtime_wasi::cli::WasiCli;
    use wasmtime_wasi::clocks::WasiClocks;
    use wasmtime_wasi::filesystem::WasiFilesystem;
    use wasmtime_wasi::random::WasiRandom;
    use wasmtime_wasi::sockets::WasiSockets;
    use wasmtime_wasi::{
        cli::WasiCliView as _, clocks::WasiClocksView as _, filesystem::WasiFilesystemView as _,
        sockets::WasiSocketsView as _,
    };
    type S = StoreState;

    wasmtime_wasi_io::add_to_linker_async(l)?;
    if grants.has(Profile::Clocks) {
        clocks::wall_clock::add_to_linker::<S, WasiClocks>(l, S::clocks)?;
        clocks::monotonic_clock::add_to_linker::<S, WasiClocks>(l, S::clocks)?;
    }
    if grants.has(Profile::Random) {
        random::random::add_to_linker::<S, WasiRandom>(l, S::random_ctx)?;
        random::insecure::add_to_linker::<S, WasiRandom>(l, S::random_ctx)?;
        random::insecure_seed::add_to_linker::<S, WasiRandom>(l, S::random_ctx)?;
    }
    cli::exit::add_to_linker::<S, WasiCli>(l, S::cli)?;
    cli::environment::add_to_linker::<S, WasiCli>(l, S::cli)?;
    cli::stdin::add_to_linker::<S, WasiCli>(l, S::cli)?;
    cli::stdout::add_to_linker::<S, WasiCli>(l, S::cli)?;
    cli::stderr::add_to_linker::<S, WasiCli>(l, S::cli)?;
    cli::terminal_input::add_to_linker::<S, WasiCli>(l, S::cli)?;
    cli::terminal_output::add_to_linker::<S, WasiCli>(l, S::cli)?;
    cli::terminal_stdin::add_to_linker::<S, WasiCli>(l, S::cli)?;
    cli::terminal_stdout::add_to_linker::<S, WasiCli>(l, S::cli)?;
    cli::terminal_stderr::add_to_linker::<S, WasiCli>(l, S::cli)?;
    filesystem::types::add_to_linker::<S, WasiFilesystem>(l, S::filesystem)?;
    filesystem::preopens::add_to_linker::<S, WasiFilesystem>(l, S::filesystem)?;
    sockets::tcp::add_to_linker::<S, WasiSockets>(l, S::sockets)?;
    sockets::udp::add_to_linker::<S, WasiSockets>(l, S::sockets)?;
    sockets::tcp_create_socket::add_to_linker::<S, WasiSockets>(l, S::sockets)?;
    sockets::udp_create_socket::add_to_linker::<S, WasiSockets>(l, S::sockets)?;
    sockets::instance_network::add_to_linker::<S, WasiSockets>(l, S::sockets)?;
    sockets::network::add_to_linker::<S, WasiSockets>(l, &Default::default(), S::sockets)?;
    sockets::ip_name_lookup::add_to_linker::<S, crate::store::GuardedLookup>(l, S::lookup)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(l)?;
    Ok(())
}

/// The policy check of a socket use: `socket.listen` for binds and listens,
/// `socket.connect` for connects and datagrams. The implicit bind to the wildcard
/// address that every connect makes is not a listen.
fn socket_allowed(cx: &CallContext, addr: std::net::SocketAddr, usage: SocketAddrUse) -> bool {
    let (action, implicit) = match usage {
        SocketAddrUse::TcpBind | SocketAddrUse::UdpBind => (
            "socket.listen",
            addr.ip().is_unspecified() && addr.port() == 0,
        ),
        SocketAddrUse::TcpListen => ("socket.listen", false),
        _ => ("socket.connect", false),
    };
    implicit || cx.check(action, &addr.to_string()).is_ok()
}

/// A guest path with `.` and `..` resolved lexically.
pub(crate) fn clean_guest_path(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    if parts.is_empty() {
        if p.starts_with('/') {
            "/".into()
        } else {
            ".".into()
        }
    } else {
        format!("/{}", parts.join("/"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_hold_exactly_their_profiles() {
        let g = Grants::of(&[Profile::Cli, Profile::Clocks]);
        assert!(g.has(Profile::Cli) && g.has(Profile::Clocks));
        assert!(!g.has(Profile::Filesystem) && !g.has(Profile::Funcs));
    }

    #[test]
    fn wasi_fields_need_their_profile() {
        let config = WasiConfig {
            mounts: vec![WasiMount {
                fs: "app:data".into(),
                guest: "/data".into(),
                read_only: true,
            }],
            ..WasiConfig::default()
        };
        let err = WasiPlan::new(&config, Grants::of(&[Profile::Cli])).unwrap_err();
        assert!(err.message().contains("wasi:filesystem"), "{err}");
        let config = WasiConfig {
            args: Some(vec!["a".into()]),
            ..WasiConfig::default()
        };
        let err = WasiPlan::new(&config, Grants::default()).unwrap_err();
        assert!(err.message().contains("wasi:cli"), "{err}");
        assert!(WasiPlan::new(&config, Grants::of(&[Profile::Cli])).is_ok());
    }

    #[test]
    fn guest_paths_are_cleaned() {
        assert_eq!(clean_guest_path("/a/./b/../c/"), "/a/c");
        assert_eq!(clean_guest_path("/.."), "/");
        assert_eq!(clean_guest_path(""), ".");
    }
}

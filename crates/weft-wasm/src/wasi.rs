//! WASI for WASM entries: the static `wasi:` configuration checked at boot, and what
//! each call's guest sees.
//!
//! Without its profile in `imports:`, an interface is linked but gives nothing (the
//! linking rule is in the `link` module):
//!
//! | Not imported      | The guest sees                                               |
//! |-------------------|--------------------------------------------------------------|
//! | `wasi:cli`        | no args, no env, cwd unset, stdin at its end, stdout/stderr closed |
//! | `wasi:filesystem` | no preopened directories                                     |
//! | `wasi:sockets`    | every address and name lookup denied (`access-denied`)       |
//! | `wasi:http`       | every outgoing request denied (`HTTP-request-denied`)        |
//!
//! A [`WasiPlan`] is made at boot from the entry's `wasi:` fields; `wasi:` fields that
//! need a profile the entry did not import fail the boot. Per call the plan is resolved
//! in the caller's context ([`WasiPlan::resolve`]): env values through the env
//! capability, mounts through the fs capability (its `fs.get` check), before the guest
//! starts, so their errors fail that call. The `WasiCtx` itself is built on the guest's
//! first WASI call, since most calls make none; entries with mounts build it up front,
//! opening their directories.

use std::path::PathBuf;
use std::sync::Arc;

use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder};
use weft_core::{CallContext, EntryId, Error, ErrorKind, Result};
use weft_env::EnvRegistry;
use weft_fs::FsRegistry;
use weft_runtime::Terminal;

use crate::guards::socket_check;
use crate::profiles::{Grants, Profile};
use crate::stdio::{Input, Output};

/// The app capabilities WASM entries reach.
#[derive(Clone)]
pub struct Capabilities {
    /// The app's environment variables, for the `wasi.env` mappings of entries.
    pub env: Arc<EnvRegistry>,
    /// The app's filesystems, for `.wasm` files (read at boot by the runtime itself) and
    /// `wasi.mounts` (opened per call after the caller's `fs.get` check).
    pub fs: Arc<FsRegistry>,
}

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
#[derive(Clone)]
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
    mounts: Vec<(PathBuf, String, bool)>,
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

impl WasiPlan {
    /// The plan of an entry in namespace `ns` (a mount's bare `fs` name is resolved
    /// against it); `wasi:` fields that need a profile the entry did not import are
    /// errors naming the field.
    pub fn new(config: &WasiConfig, grants: Grants, ns: &str) -> Result<WasiPlan> {
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
            .map(|m| {
                let fs = EntryId::resolve(m.fs.trim(), ns).as_str().to_owned();
                (fs, clean_guest_path(&m.guest), m.read_only)
            })
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

    /// Resolves the plan for one call of `entry` in the caller's context `cx`: env
    /// values from their storages, mounts through the fs capability (its `fs.get`
    /// check). Errors fail that call only.
    pub fn resolve(
        &self,
        caps: &Capabilities,
        entry: &EntryId,
        cx: &CallContext,
    ) -> Result<CallWasi> {
        let mut env = Vec::with_capacity(self.env.len());
        for (name, id, required) in &self.env {
            let value = caps
                .env
                .lookup(cx, id, Some(entry.ns()))
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
            let root = caps.fs.get(cx, fs).map_err(|e| match e.kind() {
                ErrorKind::PermissionDenied => {
                    Error::permission_denied(format!("not allowed to access filesystem: {fs}"))
                }
                ErrorKind::NotFound => {
                    Error::not_found(format!("wasi mount filesystem not found: {fs}"))
                }
                _ => e,
            })?;
            mounts.push((root.root().to_path_buf(), guest.clone(), *read_only));
        }
        let args = match &self.args {
            Some(args) => args.clone(),
            None => cx
                .handle::<Terminal>()
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

    /// Everything but the mounts: stdio, args, env and cwd per `wasi:cli`, sockets per
    /// `wasi:sockets`.
    fn base(&self) -> WasiCtxBuilder {
        let mut b = WasiCtxBuilder::new();
        if self.grants.has(Profile::Cli) {
            b.args(&self.args).envs(&self.env).initial_cwd(&*self.cwd);
            match self.cx.handle::<Terminal>() {
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
            b.allow_tcp(true)
                .allow_udp(true)
                .allow_ip_name_lookup(true)
                .socket_addr_check(socket_check(self.cx.clone()));
        } else {
            b.allow_tcp(false)
                .allow_udp(false)
                .allow_ip_name_lookup(false);
        }
        b
    }
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
    fn wasi_fields_need_their_profile() {
        let config = WasiConfig {
            mounts: vec![WasiMount {
                fs: "app:data".into(),
                guest: "/data".into(),
                read_only: true,
            }],
            ..WasiConfig::default()
        };
        let err = WasiPlan::new(&config, Grants::of(&[Profile::Cli]), "app").unwrap_err();
        assert!(err.message().contains("wasi:filesystem"), "{err}");
        let config = WasiConfig {
            args: Some(vec!["a".into()]),
            ..WasiConfig::default()
        };
        let err = WasiPlan::new(&config, Grants::default(), "app").unwrap_err();
        assert!(err.message().contains("wasi:cli"), "{err}");
        assert!(WasiPlan::new(&config, Grants::of(&[Profile::Cli]), "app").is_ok());
    }

    #[test]
    fn guest_paths_are_cleaned() {
        assert_eq!(clean_guest_path("/a/./b/../c/"), "/a/c");
        assert_eq!(clean_guest_path("/.."), "/");
        assert_eq!(clean_guest_path(""), ".");
    }
}

//! Linking an entry: the WASI 0.2 interfaces per its grants, the `funcs` host, and a
//! trap for every import nobody provides.
//!
//! Linking follows one rule, so an entry never gets a capability it did not ask for:
//! an interface that can say no is linked real and says no unless its profile is
//! imported (`wasi:cli`, `wasi:filesystem`, `wasi:sockets`, `wasi:http`: what the guest
//! then sees is in [`crate::wasi`]); an interface that cannot say no (`wasi:clocks`,
//! `wasi:random`, `funcs`) is linked as traps naming the missing import.
//!
//! `wasi:io` and `wasi:poll` only define streams, errors and pollables, which a guest can
//! only obtain through another interface; they are always linked.

use wasmtime::Engine;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, Linker, ResourceType};
use wasmtime_wasi::p2::bindings::{cli, clocks, filesystem, random, sockets};
use weft_core::{EntryId, Error, Result};

use crate::funcs;
use crate::guards::GuardedLookup;
use crate::profiles::{Grants, Profile};
use crate::store::StoreState;

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

/// A linker for `component` as entry `entry` with `grants`: what the entry may use,
/// and every other import as a trap naming it.
pub(crate) fn linker(
    engine: &Engine,
    component: &Component,
    grants: Grants,
    entry: &EntryId,
) -> Result<Linker<StoreState>> {
    let mut linker = Linker::new(engine);
    link_wasi(&mut linker, grants).map_err(|e| Error::internal(format!("linking WASI: {e:#}")))?;
    if grants.has(Profile::Funcs) {
        funcs::link(&mut linker)
            .map_err(|e| Error::internal(format!("linking {}: {e:#}", funcs::INTERFACE)))?;
    }
    for (name, item) in component.component_type().imports(engine) {
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
        stub_import(&mut linker, engine, name, &item.ty, why)
            .map_err(|e| Error::internal(format!("stubbing import {name}: {e:#}")))?;
    }
    Ok(linker)
}

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
    sockets::ip_name_lookup::add_to_linker::<S, GuardedLookup>(l, S::lookup)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(l)?;
    Ok(())
}

/// Defines every function of an import as a trap saying `why` it is not there.
fn stub_import(
    linker: &mut Linker<StoreState>,
    engine: &Engine,
    name: &str,
    item: &ComponentItem,
    why: String,
) -> wasmtime::Result<()> {
    match item {
        ComponentItem::ComponentInstance(instance) => {
            let mut inst = linker.instance(name)?;
            for (fname, fitem) in instance.exports(engine) {
                match fitem.ty {
                    ComponentItem::ComponentFunc(_) => {
                        let why = format!("{name}#{fname}: {why}");
                        inst.func_new(fname, move |_, _, _, _| {
                            Err(wasmtime::Error::msg(why.clone()))
                        })?;
                    }
                    ComponentItem::Resource(_) => {
                        inst.resource(fname, resource_type(fname), |_, _| Ok(()))?;
                    }
                    _ => {}
                }
            }
        }
        ComponentItem::ComponentFunc(_) => {
            let why = format!("{name}: {why}");
            linker.root().func_new(name, move |_, _, _, _| {
                Err(wasmtime::Error::msg(why.clone()))
            })?;
        }
        _ => {}
    }
    Ok(())
}

/// The host type behind resources of unprovided imports.
struct Unprovided;

/// The type a stubbed interface gives a resource it names: the real `wasi:io` types
/// for the resources stubbed WASI interfaces use from `wasi:io` (a `pollable` from a
/// clock), else a type of its own.
fn resource_type(name: &str) -> ResourceType {
    use wasmtime_wasi_io::{poll::DynPollable, streams};
    match name {
        "pollable" => ResourceType::host::<DynPollable>(),
        "input-stream" => ResourceType::host::<streams::DynInputStream>(),
        "output-stream" => ResourceType::host::<streams::DynOutputStream>(),
        "error" => ResourceType::host::<streams::Error>(),
        _ => ResourceType::host::<Unprovided>(),
    }
}

//! Booting an app and running what the command line asked for.

use std::sync::Arc;
use std::time::Duration;

use weft_registry::{BootMode, BootOptions, LoadOptions, Registry, load_app};
use weft_runtime::{Runtime, Terminal};

use crate::{Cli, Command, RunArgs, diag};

/// Runs the CLI and returns the process exit code.
pub async fn main(cli: Cli) -> i32 {
    let root = match &cli.dir {
        Some(dir) => dir.clone(),
        None => match std::env::current_dir() {
            Ok(dir) => dir,
            Err(e) => {
                diag::error(format_args!("cannot read the current directory: {e}"));
                return 1;
            }
        },
    };
    let overrides = match &cli.command {
        Command::Run(run) => run.overrides.clone(),
        Command::Test(test) => test.overrides.clone(),
        Command::Check(_)
        | Command::Inspect(_)
        | Command::Init(_)
        | Command::Hash(_)
        | Command::Schema
        | Command::Completions { .. } => Vec::new(),
    };
    let opts = LoadOptions {
        root,
        config_file: cli.config.clone(),
        overrides,
    };
    match &cli.command {
        Command::Check(args) if args.fix_hashes => {
            // A JSON report owns stdout: what the fix changed goes to stderr then.
            let to_stderr = args.format == crate::check::Format::Json;
            match crate::hash::run(&opts, &[], to_stderr) {
                0 => crate::check::run(&opts, cli.skip_unknown_kinds, args.format).await,
                code => code,
            }
        }
        Command::Check(args) => crate::check::run(&opts, cli.skip_unknown_kinds, args.format).await,
        Command::Init(args) => {
            crate::init::run(&init_target(&cli, args), args.template, args.force)
        }
        Command::Hash(args) => crate::hash::run(&opts, &args.entries, false),
        Command::Schema => crate::schema::print(),
        Command::Completions { shell } => crate::help::completions(*shell),
        Command::Run(run) if run.command.first().map(String::as_str) == Some("list") => list(&opts),
        Command::Run(run) if run.command.get(1).map(String::as_str) == Some("--help") => {
            match boot(&opts, cli.skip_unknown_kinds, BootMode::Check).await {
                Ok(booted) => crate::inspect::command_help(&booted, &run.command[0]),
                Err(code) => code,
            }
        }
        Command::Inspect(args) => {
            match boot(&opts, cli.skip_unknown_kinds, BootMode::Check).await {
                Ok(booted) => crate::inspect::run(&booted, &args.entry, args.format),
                Err(code) => code,
            }
        }
        Command::Run(run) => run_app(&opts, run, cli.skip_unknown_kinds).await,
        Command::Test(test) => match start(&opts, cli.skip_unknown_kinds, BootMode::Run).await {
            Ok(rt) => crate::testing::run(&rt, test).await,
            Err(code) => code,
        },
    }
}

/// Where `weft init` writes: `[dir]` under `-C` (each defaulting to the current folder).
fn init_target(cli: &Cli, args: &crate::InitArgs) -> crate::init::Target {
    let shown = match (&cli.dir, &args.folder) {
        (Some(base), Some(dir)) => Some(base.join(dir)),
        (Some(dir), None) | (None, Some(dir)) => Some(dir.clone()),
        (None, None) => None,
    }
    .filter(|dir| dir.as_os_str() != ".");
    let dir = shown
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from("."));
    crate::init::Target { dir, shown }
}

/// `weft run list`: the app's commands (loaded, not booted).
fn list(opts: &LoadOptions) -> i32 {
    let app = match load_app(opts) {
        Ok(app) => app,
        Err(errors) => return diag::report(&errors),
    };
    let registry = Registry::new();
    for entry in app.entries {
        registry.insert(entry);
    }
    let commands = weft_runtime::commands(&registry);
    if commands.is_empty() {
        println!("No commands found.");
        println!(
            "Add `meta.command: {{name: ..., short: ...}}` to a process.lua entry to make one."
        );
        return 0;
    }
    println!("Available commands:");
    let width = commands.iter().map(|c| c.name.len()).max().unwrap_or(0);
    for c in commands {
        let (name, short) = (diag::one_line(&c.name), diag::one_line(&c.short));
        println!(
            "  {name:width$}  {short}  ({})",
            diag::one_line(c.entry.as_str())
        );
    }
    0
}

/// `weft run [command args…]`.
async fn run_app(opts: &LoadOptions, run: &RunArgs, skip_unknown_kinds: bool) -> i32 {
    let Some((name, args)) = run.command.split_first() else {
        return serve(opts, skip_unknown_kinds, run.watch).await;
    };
    if run.watch {
        diag::error("--watch runs the app's services; it takes no command");
        return 2;
    }
    let rt = match start(opts, skip_unknown_kinds, BootMode::Run).await {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let term = Arc::new(Terminal::stdio(args.to_vec()).with_diagnostics(diag::command_error));
    match weft_runtime::run_command(&rt, run.host.as_deref(), name, term).await {
        Ok(code) => code,
        Err(e) => {
            diag::error(e);
            1
        }
    }
}

/// `weft run` without a command: boot, start the `auto_start` services, run until SIGINT
/// or SIGTERM (applying file changes meanwhile with `--watch`), then stop the services
/// within `shutdown.timeout`. A second signal during the shutdown exits with 1 at once.
async fn serve(opts: &LoadOptions, skip_unknown_kinds: bool, watch: bool) -> i32 {
    // Listen before booting so that an early signal is not fatal.
    let mut signals = match Signals::new() {
        Ok(signals) => signals,
        Err(e) => {
            diag::error(format_args!("cannot listen for signals: {e}"));
            return 1;
        }
    };
    // Watching before booting, so that no change made during the boot is missed.
    let watch = match watch
        .then(|| crate::watch::Watch::start(&opts.root))
        .transpose()
    {
        Ok(watch) => watch,
        Err(e) => {
            diag::error(format_args!("cannot watch {}: {e}", opts.root.display()));
            return 1;
        }
    };
    let booted = match boot(opts, skip_unknown_kinds, BootMode::Run).await {
        Ok(booted) => booted,
        Err(code) => return code,
    };
    let rt = booted.runtime.clone();
    // Bound before the services start, so that a taken address fails the run at once.
    let metrics = match start_metrics(&booted) {
        Ok(metrics) => metrics,
        Err(e) => {
            diag::error(e);
            return 1;
        }
    };
    drop(booted);
    let timeout = rt
        .config
        .duration_or("shutdown.timeout", DEFAULT_SHUTDOWN_TIMEOUT);
    let code = match rt.services.start_all().await {
        Ok(started) => {
            tracing::info!("{started} services started");
            tracing::info!("app running; press Ctrl-C to stop");
            let watching = async {
                match watch {
                    Some(watch) => watch.run(rt.clone(), opts.clone()).await,
                    None => std::future::pending().await,
                }
            };
            let signal = tokio::select! {
                signal = signals.next() => signal,
                () = watching => signals.next().await,
            };
            tracing::info!("{signal}: shutting down (timeout {timeout:?})");
            0
        }
        Err(e) => {
            diag::error(e);
            1
        }
    };
    tokio::select! {
        terminated = rt.services.stop_all(timeout) => {
            if terminated > 0 {
                tracing::warn!("{terminated} services did not stop within {timeout:?} and were terminated");
            }
            if let Some(metrics) = metrics {
                metrics.stop().await;
            }
            tracing::info!("stopped");
            code
        }
        signal = signals.next() => {
            eprintln!("{signal} during shutdown: exiting now");
            1
        }
    }
}

/// The metrics endpoint (`metrics.addr`, `metrics.path` in `.wippy.yaml`), listening;
/// `None` when `metrics.addr` is not set.
fn start_metrics(booted: &weft::Booted) -> weft_core::Result<Option<weft_http::MetricsServer>> {
    let Some(config) = weft_http::MetricsConfig::from_config(&booted.runtime.config)? else {
        return Ok(None);
    };
    let (rt, http) = (booted.runtime.clone(), booted.http.metrics());
    let render: weft_http::RenderMetrics = Arc::new(move || weft_http::render_metrics(&rt, &http));
    weft_http::MetricsEndpoint::bind(&config, render)?
        .start()
        .map(Some)
}

/// The `shutdown.timeout` when the config has none.
const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

/// SIGINT and SIGTERM (Ctrl-C elsewhere).
struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    /// Starts listening.
    fn new() -> std::io::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Signals {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    /// The next signal's name.
    async fn next(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.interrupt.recv() => "SIGINT",
                _ = self.terminate.recv() => "SIGTERM",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        }
    }
}

/// Loads and boots the app; on failure prints every problem and returns exit code 1.
async fn start(
    opts: &LoadOptions,
    skip_unknown_kinds: bool,
    mode: BootMode,
) -> Result<Arc<Runtime>, i32> {
    boot(opts, skip_unknown_kinds, mode)
        .await
        .map(|booted| booted.runtime)
}

/// [`start`], with the booted capabilities.
async fn boot(
    opts: &LoadOptions,
    skip_unknown_kinds: bool,
    mode: BootMode,
) -> Result<weft::Booted, i32> {
    let boot_opts = BootOptions {
        skip_unknown_kinds,
        mode,
    };
    let progress = crate::progress::BootProgress::start();
    let booted = weft::boot_app_with(opts, &boot_opts, progress.hook()).await;
    progress.finish();
    let booted = booted.map_err(|e| diag::report(&e))?;
    for warning in &booted.warnings {
        tracing::warn!("{warning}");
    }
    Ok(booted)
}

//! `weft`: load a Wippy-format app, check it, and run its commands.
//!
//! Errors are typed inside the crates; this is the edge where they are rendered for
//! people (`diag`): every problem of a load on its own line, then a non-zero exit, with
//! no control character from the app reaching the terminal raw, in them or in the logs.

mod app;
mod diag;

/// mimalloc: calls allocate many small short-lived values (measured in docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// The command line.
#[derive(Parser)]
#[command(
    name = "weft",
    version,
    about = "Run Wippy-format apps: Lua and WebAssembly entries in one registry"
)]
struct Cli {
    /// The app root (default: the current directory).
    #[arg(short = 'C', long = "dir", global = true, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// The runtime config file (default: .wippy.yaml in the app root).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// More logs (-v info, -vv debug, -vvv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// No logs at all.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    silent: bool,
    /// Load entries of unknown kinds as inert data (with a warning) instead of failing.
    #[arg(long, global = true)]
    skip_unknown_kinds: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a command (`weft run <name> [args…]`), list them (`weft run list`), or with no
    /// name start the app's services and run until interrupted.
    Run(RunArgs),
    /// Load, validate and compile the app and report every problem; run no app code and
    /// write nothing.
    Check,
}

#[derive(Args)]
struct RunArgs {
    /// Override an entry field: `ns:entry:path=value` (repeatable).
    #[arg(short = 'o', long = "override", value_name = "NS:ENTRY:PATH=VALUE")]
    overrides: Vec<String>,
    /// The terminal host to run the command on (when the app has several).
    #[arg(long, value_name = "ID")]
    host: Option<String>,
    /// The command name (`list` lists the commands) and its arguments.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    command: Vec<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let quiet_by_default = matches!(&cli.command, Command::Run(r) if !r.command.is_empty());
    init_logging(cli.verbose, cli.silent, quiet_by_default);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(app::main(cli));
    // Do not wait for tasks still running (a finished command ends the program).
    runtime.shutdown_background();
    // As a POSIX exit status: the low 8 bits (-1 exits 255, as Go's os.Exit(-1) does).
    ExitCode::from(code.rem_euclid(256) as u8)
}

/// Logs go to stderr: warnings by default, errors only while a command runs, none with -s.
fn init_logging(verbose: u8, silent: bool, quiet_by_default: bool) {
    let level = match (silent, verbose) {
        (true, _) => "off",
        (false, 0) if quiet_by_default => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("WEFT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    // Colours only for a person at a terminal, never into a file or a pipe.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(false)
        .fmt_fields(diag::LogFields)
        .init();
}

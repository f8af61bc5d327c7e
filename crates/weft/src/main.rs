//! `weft`: load a Wippy-format app, check it, and run its commands.
//!
//! Errors are typed inside the crates; this is the edge where they are rendered for
//! people (`diag`): every problem of a load on its own line, then a non-zero exit, with
//! no control character from the app reaching the terminal raw, in them or in the logs.

mod app;
mod check;
mod diag;
mod hash;
mod help;
mod init;
mod inspect;
mod progress;
mod schema;
mod testing;
mod watch;

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
    about = "Run Wippy-format apps: Lua and WebAssembly entries in one registry",
    after_help = help::EXAMPLES
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
    #[command(after_help = help::RUN_EXAMPLES)]
    Run(RunArgs),
    /// Load, validate and compile the app and report every problem; run no app code and
    /// write nothing. Every definition file is checked against `weft schema` too
    /// (warnings).
    #[command(after_help = check::EXAMPLES)]
    Check(CheckArgs),
    /// Run the app's tests (`weft test [filter…]`): every entry with `meta.type: test`,
    /// called as a function, in parallel; exit 0 only when all pass.
    #[command(after_help = testing::EXAMPLES)]
    Test(TestArgs),
    /// Describe an entry (`weft inspect app:resize`): for WASM its WIT world, which
    /// imports it is granted, how Lua calls its method and what it returns; for Lua its
    /// method, modules, imports and source; pool and limits. Boots as `check` does.
    #[command(after_help = inspect::EXAMPLES)]
    Inspect(InspectArgs),
    /// Write a new app from a template (`weft init my-app --template lua`): one that runs
    /// at once and passes its own `weft test`. Refuses a folder that is not empty unless
    /// `--force`.
    #[command(after_help = init::EXAMPLES)]
    Init(InitArgs),
    /// Write the sha256 of each WASM entry's file into its `hash:` field (`weft hash
    /// app:greet`; every `function.wasm`/`process.wasm` entry without ids), after a
    /// rebuild. Loads the app without booting it; changes only the `hash:` values.
    #[command(after_help = hash::EXAMPLES)]
    Hash(HashArgs),
    /// Print the JSON Schema (draft 2020-12) of definition files: every entry kind weft
    /// knows, with its fields, their types and a line each, for editors.
    #[command(after_help = schema::EXAMPLES)]
    Schema,
    /// Print the tab-completion script of a shell.
    #[command(after_help = help::COMPLETIONS_EXAMPLES)]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Args)]
struct CheckArgs {
    /// `text` for people; `json` for tools: every problem as a JSON array on stdout
    /// (`severity`, `file`, `line`, `column`, `entry`, `kind`, `field`, `message`).
    #[arg(long, value_enum, default_value = "text")]
    format: check::Format,
    /// First write the hash of every WASM entry whose file changed into its `hash:`
    /// field (as `weft hash` does), then check.
    #[arg(long)]
    fix_hashes: bool,
}

#[derive(Args)]
struct InitArgs {
    /// The app's folder (made when missing; default: the current folder, or `-C`'s).
    #[arg(value_name = "DIR")]
    folder: Option<PathBuf>,
    /// What the app starts with.
    #[arg(short, long, value_enum, default_value = "lua")]
    template: init::Template,
    /// Write into a folder that is not empty: the template's files replace files of the
    /// same names; no other file is touched.
    #[arg(long)]
    force: bool,
}

#[derive(Args)]
struct HashArgs {
    /// The entries (`namespace:name`); none: every function.wasm and process.wasm entry.
    #[arg(value_name = "ENTRY")]
    entries: Vec<String>,
}

#[derive(Args)]
struct InspectArgs {
    /// The entry id, `namespace:name`.
    #[arg(value_name = "ENTRY")]
    entry: String,
    /// `text` for people; `json` for tools (one object, stable field names).
    #[arg(long, value_enum, default_value = "text")]
    format: inspect::Format,
}

#[derive(Args)]
struct RunArgs {
    /// Override an entry field: `ns:entry:path=value` (repeatable).
    #[arg(short = 'o', long = "override", value_name = "NS:ENTRY:PATH=VALUE")]
    overrides: Vec<String>,
    /// The terminal host to run the command on (when the app has several).
    #[arg(long, value_name = "ID")]
    host: Option<String>,
    /// Apply file changes under the app to the running app (without a command only):
    /// each burst of changes is loaded again and applied as one change set, or
    /// rejected whole with every problem printed.
    #[arg(long)]
    watch: bool,
    /// The command name (`list` lists the commands; `<name> --help` describes one, its
    /// parameters typed for a `process.wasm` command) and its arguments.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    command: Vec<String>,
}

#[derive(Args)]
struct TestArgs {
    /// Override an entry field: `ns:entry:path=value` (repeatable).
    #[arg(short = 'o', long = "override", value_name = "NS:ENTRY:PATH=VALUE")]
    overrides: Vec<String>,
    /// Run at most N tests at a time (default: the number of CPUs).
    #[arg(short = 'j', long, value_name = "N")]
    jobs: Option<std::num::NonZeroUsize>,
    /// Fail a test that runs longer than this Go duration (`30s`, `1m`, `250ms`).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = testing::parse_timeout)]
    timeout: std::time::Duration,
    /// The report: `pretty` for people; `tap`, `junit` or `json` for tools (on stdout).
    #[arg(long, value_enum, default_value = "pretty")]
    format: testing::Format,
    /// Run only the tests whose id or suite contains one of these (plain substrings,
    /// case-sensitive), e.g. `math` or `app.tests:`.
    #[arg(value_name = "FILTER")]
    filters: Vec<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let quiet_by_default = matches!(&cli.command, Command::Run(r) if !r.command.is_empty());
    init_logging(cli.verbose, cli.silent, quiet_by_default);
    progress::set_silent(cli.silent);
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

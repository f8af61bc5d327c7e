//! The examples `weft --help` and `weft run --help` end with (the other subcommands keep
//! theirs beside their code: `check::EXAMPLES`, `testing::EXAMPLES`, …), and
//! `weft completions`.

use clap::CommandFactory;

/// After `weft --help`.
pub(crate) const EXAMPLES: &str = "\
Examples:
  weft -C examples/hello run hello World   run one command of an app
  weft run list                            the app's commands
  weft run                                 start the app's services until Ctrl-C
  weft check                               validate and compile everything, run nothing
  weft test                                run the app's tests
  weft schema > .weft/schema.json          the JSON Schema of definition files, for editors
  source <(weft completions bash)          tab completion in this shell";

/// After `weft run --help`.
pub(crate) const RUN_EXAMPLES: &str = "\
Examples:
  weft run list                        the app's commands
  weft run hello World                 run the command `hello`; its result is the exit code
  weft run resize --help               a command's parameters (WIT-typed for process.wasm)
  weft run                             start the app's services until Ctrl-C
  weft run -o app:gateway:addr=:9000   the same with an entry's field overridden
  weft run --watch                     the same, applying file changes as they happen";

/// After `weft completions --help`.
pub(crate) const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  source <(weft completions bash)                        in this bash session
  weft completions bash > ~/.local/share/bash-completion/completions/weft
  weft completions zsh > \"${fpath[1]}/_weft\"             zsh: a directory of fpath
  weft completions fish > ~/.config/fish/completions/weft.fish";

/// `weft completions <shell>`: the completion script of `shell` on stdout; exit code 0.
pub(crate) fn completions(shell: clap_complete::Shell) -> i32 {
    let mut command = crate::Cli::command();
    clap_complete::generate(shell, &mut command, "weft", &mut std::io::stdout());
    0
}

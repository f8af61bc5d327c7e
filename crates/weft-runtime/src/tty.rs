//! [`Terminal`]: the stdio and arguments of a process run by a `terminal.host`, carried
//! to the process' frames as a context handle.

use std::io::{BufRead, Write};
use std::sync::Arc;

use parking_lot::Mutex;
use weft_core::{Handle, Inherit};

/// A shared writer (stdout or stderr).
pub type SharedWriter = Arc<Mutex<Box<dyn Write + Send>>>;
/// A shared line reader (stdin).
pub type SharedReader = Arc<Mutex<Box<dyn BufRead + Send>>>;

/// The terminal a CLI process talks to: its arguments and its three streams.
///
/// Reads are blocking: callers run them on a blocking thread, never on a runtime worker.
pub struct Terminal {
    args: Vec<String>,
    stdin: SharedReader,
    stdout: SharedWriter,
    stderr: SharedWriter,
}

/// Every call a CLI process makes talks to its terminal; a process it spawns does not.
impl Handle for Terminal {
    const INHERIT: Inherit = Inherit::Calls;
}

impl Terminal {
    /// A terminal over the process' real stdio.
    pub fn stdio(args: Vec<String>) -> Terminal {
        Terminal::new(
            args,
            Box::new(std::io::BufReader::new(std::io::stdin())),
            Box::new(std::io::stdout()),
            Box::new(std::io::stderr()),
        )
    }

    /// A terminal over the given streams (tests pass buffers).
    pub fn new(
        args: Vec<String>,
        stdin: Box<dyn BufRead + Send>,
        stdout: Box<dyn Write + Send>,
        stderr: Box<dyn Write + Send>,
    ) -> Terminal {
        Terminal {
            args,
            stdin: Arc::new(Mutex::new(stdin)),
            stdout: Arc::new(Mutex::new(stdout)),
            stderr: Arc::new(Mutex::new(stderr)),
        }
    }

    /// The command-line arguments after the command name.
    pub fn args(&self) -> &[String] {
        &self.args
    }

    /// The input stream.
    pub fn stdin(&self) -> &SharedReader {
        &self.stdin
    }

    /// The output stream.
    pub fn stdout(&self) -> &SharedWriter {
        &self.stdout
    }

    /// The error stream.
    pub fn stderr(&self) -> &SharedWriter {
        &self.stderr
    }
}

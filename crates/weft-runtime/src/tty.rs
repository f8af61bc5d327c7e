//! [`Terminal`]: the stdio and arguments of a process run by a `terminal.host`, carried
//! to the process' frames as a context handle, and its line reader bounded by the host's
//! `max_line_bytes`.

use std::io::{BufRead, Read, Write};
use std::sync::Arc;

use parking_lot::Mutex;
use weft_core::{Error, Handle, Inherit, Result};

use crate::limits::DEFAULT_MAX_LINE_BYTES;

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
    lines: Mutex<LineCap>,
    /// How weft's own diagnostics are shown on it ([`Terminal::with_diagnostics`]).
    diagnostics: Option<fn(&str) -> String>,
}

/// The longest line [`Terminal::read_line`] reads, and the host that set it.
struct LineCap {
    max_bytes: usize,
    host: Option<String>,
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
            lines: Mutex::new(LineCap {
                max_bytes: DEFAULT_MAX_LINE_BYTES,
                host: None,
            }),
            diagnostics: None,
        }
    }

    /// This terminal with `render` for weft's own diagnostics written on it (a failed
    /// command's error), not for what the app writes: the CLI escapes control
    /// characters with it. Without one, diagnostics are written as they are.
    pub fn with_diagnostics(mut self, render: fn(&str) -> String) -> Terminal {
        self.diagnostics = Some(render);
        self
    }

    /// `text`, a diagnostic of weft's, as this terminal shows it.
    pub fn diagnostic<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
        match self.diagnostics {
            Some(render) => render(text).into(),
            None => text.into(),
        }
    }

    /// Caps the lines [`read_line`](Self::read_line) reads at `max_bytes` (the terminal
    /// host `host`'s `max_line_bytes`; 1 MiB until set).
    pub fn limit_lines(&self, max_bytes: usize, host: &str) {
        *self.lines.lock() = LineCap {
            max_bytes,
            host: Some(host.to_string()),
        };
    }

    /// Reads one line from stdin without its `\n` (and the `\r`s before it); `None` at the
    /// end of input. A line with more than `max_line_bytes` bytes before its `\n` fails
    /// with Invalid naming the cap, having consumed `max_line_bytes + 1` bytes of it: the
    /// read stops there, so a line without end (stdin from `/dev/zero`) costs no more.
    /// Blocking: run it on a blocking thread.
    pub fn read_line(&self) -> Result<Option<Vec<u8>>> {
        let (max, host) = {
            let cap = self.lines.lock();
            (cap.max_bytes, cap.host.clone())
        };
        let mut line = Vec::new();
        let mut stdin = self.stdin.lock();
        let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
        Read::take(&mut **stdin, limit)
            .read_until(b'\n', &mut line)
            .map_err(|e| Error::internal(format!("reading stdin: {e}")))?;
        if line.is_empty() {
            return Ok(None);
        }
        if line.last() != Some(&b'\n') && line.len() > max {
            let on = host.map(|h| format!(" on {h}")).unwrap_or_default();
            return Err(Error::invalid(format!(
                "line longer than {max} bytes (max_line_bytes: {max}{on})"
            )));
        }
        while matches!(line.last(), Some(b'\n' | b'\r')) {
            line.pop();
        }
        Ok(Some(line))
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

#[cfg(test)]
mod tests {
    use std::io::{BufReader, Cursor};
    use std::sync::atomic::{AtomicUsize, Ordering};

    use weft_core::ErrorKind;

    use super::*;

    /// A reader of `len` bytes of `x` without a newline that counts what was read of it.
    struct Endless {
        left: usize,
        read: Arc<AtomicUsize>,
    }

    impl Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.left);
            buf[..n].fill(b'x');
            self.left -= n;
            self.read.fetch_add(n, Ordering::Relaxed);
            Ok(n)
        }
    }

    fn terminal(stdin: Box<dyn BufRead + Send>) -> Terminal {
        Terminal::new(
            vec![],
            stdin,
            Box::new(std::io::sink()),
            Box::new(std::io::sink()),
        )
    }

    #[test]
    fn lines_come_without_their_ending_then_none() {
        let term = terminal(Box::new(Cursor::new(b"one\r\ntwo\n\nlast".to_vec())));
        let lines: Vec<_> = std::iter::from_fn(|| term.read_line().unwrap()).collect();
        assert_eq!(lines, [&b"one"[..], b"two", b"", b"last"]);
    }

    #[test]
    fn a_line_at_the_cap_passes_and_one_past_it_fails_naming_the_cap() {
        let term = terminal(Box::new(Cursor::new(b"12345\n123456\nok\n".to_vec())));
        term.limit_lines(5, "app:terminal");
        assert_eq!(term.read_line().unwrap().unwrap(), b"12345");
        let err = term.read_line().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Invalid);
        assert_eq!(
            err.to_string(),
            "line longer than 5 bytes (max_line_bytes: 5 on app:terminal)"
        );
        // The rest of the long line stays in the stream; the next line reads as usual.
        assert_eq!(term.read_line().unwrap().unwrap(), b"");
        assert_eq!(term.read_line().unwrap().unwrap(), b"ok");
    }

    #[test]
    fn reading_stops_at_the_cap_on_a_line_without_end() {
        let read = Arc::new(AtomicUsize::new(0));
        let endless = Endless {
            left: 64 << 20,
            read: read.clone(),
        };
        let term = terminal(Box::new(BufReader::with_capacity(4096, endless)));
        term.limit_lines(10_000, "app:terminal");
        let err = term.read_line().unwrap_err();
        assert!(err.to_string().contains("max_line_bytes: 10000"), "{err}");
        // The cap plus at most one buffer of read-ahead, not the 64 MiB of the stream.
        assert!(read.load(Ordering::Relaxed) <= 10_001 + 4096, "{read:?}");
    }

    #[test]
    fn the_default_cap_is_one_mebibyte() {
        let long = vec![b'x'; (1 << 20) + 1];
        let term = terminal(Box::new(Cursor::new(long)));
        let err = term.read_line().unwrap_err();
        assert_eq!(
            err.to_string(),
            "line longer than 1048576 bytes (max_line_bytes: 1048576)"
        );
    }
}

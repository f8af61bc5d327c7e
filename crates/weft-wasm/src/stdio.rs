//! A guest's stdin, stdout and stderr.
//!
//! - Run by a terminal host (a CLI command): the terminal's own streams.
//! - Granted `wasi:cli` elsewhere: stdout and stderr go to the log, one line per line
//!   written, tagged with the entry id; stdin is at its end.
//! - Not granted `wasi:cli`: stdout and stderr are closed (a write fails), stdin is at
//!   its end.
//!
//! Only WASI 0.2 streams are linked; the WASI 0.3 (`async_stream`) forms write through
//! the same sinks so both paths behave alike.

use std::future::Future;
use std::io::{BufRead, Write};
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use wasmtime_wasi::cli::{IsTerminal, StdinStream, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError, StreamResult};
use wasmtime_wasi_io::bytes::Bytes;
use weft_core::EntryId;
use weft_runtime::{SharedReader, SharedWriter};

/// Bytes a guest may write at once.
const WRITE_BUDGET: usize = 64 * 1024;

/// Where a guest's stdout or stderr goes.
#[derive(Clone)]
pub(crate) enum Output {
    /// The terminal's stream.
    Terminal(SharedWriter),
    /// The log, tagged with the entry and the stream name.
    Log(EntryId, &'static str),
    /// Nowhere: every write fails.
    Closed,
}

/// Where a guest's stdin comes from.
#[derive(Clone)]
pub(crate) enum Input {
    /// The terminal's stdin.
    Terminal(SharedReader),
    /// Nothing: the stream is at its end.
    Empty,
}

impl Output {
    /// Writes `bytes` to the sink.
    fn put(&self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Output::Terminal(w) => {
                let mut w = w.lock();
                w.write_all(bytes)?;
                w.flush()
            }
            Output::Log(entry, stream) => {
                let text = String::from_utf8_lossy(bytes);
                for line in text.trim_end_matches('\n').split('\n') {
                    tracing::info!(target: "weft::wasm::stdio", entry = %entry, stream, "{line}");
                }
                Ok(())
            }
            Output::Closed => Err(std::io::Error::new(
                std::io::ErrorKind::BrokenPipe,
                "stdio is closed: the entry does not import wasi:cli",
            )),
        }
    }
}

impl IsTerminal for Output {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for Output {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for Output {
    async fn ready(&mut self) {}
}

impl OutputStream for Output {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        match self {
            Output::Closed => Err(StreamError::Closed),
            _ => self
                .put(&bytes)
                .map_err(|e| StreamError::LastOperationFailed(e.into())),
        }
    }

    fn flush(&mut self) -> StreamResult<()> {
        match self {
            Output::Closed => Err(StreamError::Closed),
            _ => Ok(()),
        }
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        match self {
            Output::Closed => Err(StreamError::Closed),
            _ => Ok(WRITE_BUDGET),
        }
    }
}

impl AsyncWrite for Output {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Poll::Ready(self.put(buf).map(|()| buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl IsTerminal for Input {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdinStream for Input {
    fn async_stream(&self) -> Box<dyn AsyncRead + Send + Sync> {
        match self {
            Input::Terminal(r) => Box::new(TerminalReader {
                source: r.clone(),
                pending: None,
                ready: Vec::new(),
            }),
            Input::Empty => Box::new(tokio::io::empty()),
        }
    }
}

/// Reads a terminal's stdin on the blocking pool, so a guest waiting for input parks
/// instead of holding a scheduler thread.
struct TerminalReader {
    source: SharedReader,
    pending: Option<tokio::task::JoinHandle<std::io::Result<Vec<u8>>>>,
    ready: Vec<u8>,
}

impl AsyncRead for TerminalReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        loop {
            if !self.ready.is_empty() {
                let n = self.ready.len().min(buf.remaining());
                buf.put_slice(&self.ready[..n]);
                self.ready.drain(..n);
                return Poll::Ready(Ok(()));
            }
            let pending = match self.pending.as_mut() {
                Some(p) => p,
                None => {
                    let source = self.source.clone();
                    self.pending.insert(tokio::task::spawn_blocking(move || {
                        let mut source = source.lock();
                        let chunk = source.fill_buf()?.to_vec();
                        source.consume(chunk.len());
                        Ok(chunk)
                    }))
                }
            };
            let chunk = match Pin::new(pending).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(joined) => joined.map_err(std::io::Error::other)??,
            };
            self.pending = None;
            if chunk.is_empty() {
                return Poll::Ready(Ok(())); // end of input
            }
            self.ready = chunk;
        }
    }
}

//! The connector under hyper-util's pooled client: TCP (or a unix socket), then TLS for
//! `https` with the request's configuration; HTTP/2 when ALPN picks it.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::Uri;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpStream, UnixStream};

use super::request::TlsOptions;
use super::tls;

/// A byte stream a connection runs over.
trait Io: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Io for T {}

/// Opens connections: where to (TCP to the URL's host, or one unix socket) and with
/// which TLS configuration.
#[derive(Clone)]
pub(crate) struct Connector {
    tls: Arc<ClientConfig>,
    /// `server_name` and the rest of the request's TLS options, if any.
    options: Option<Arc<TlsOptions>>,
    unix: Option<Arc<str>>,
}

impl Connector {
    /// A connector over TCP or `unix`, with `tls` (and the `options` it was made of).
    pub(crate) fn new(
        tls: Arc<ClientConfig>,
        options: Option<TlsOptions>,
        unix: Option<&str>,
    ) -> Connector {
        Connector {
            tls,
            options: options.map(Arc::new),
            unix: unix.map(Arc::from),
        }
    }

    async fn connect(self, uri: Uri) -> io::Result<Conn> {
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            other => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("unsupported scheme {other:?}"),
                ));
            }
        };
        let host = uri
            .host()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "URL has no host"))?;
        let stream: Box<dyn Io> = match &self.unix {
            Some(path) => Box::new(UnixStream::connect(&**path).await?),
            None => {
                let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
                let bare = host.trim_start_matches('[').trim_end_matches(']');
                let tcp = TcpStream::connect((bare, port)).await?;
                tcp.set_nodelay(true)?;
                Box::new(tcp)
            }
        };
        if !https {
            return Ok(Conn {
                io: TokioIo::new(stream),
                h2: false,
            });
        }
        let name = tls::server_name(host, self.options.as_deref())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        let tls = tokio_rustls::TlsConnector::from(self.tls.clone())
            .connect(name, stream)
            .await?;
        let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
        Ok(Conn {
            io: TokioIo::new(Box::new(tls)),
            h2,
        })
    }
}

impl tower_service::Service<Uri> for Connector {
    type Response = Conn;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Conn>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        Box::pin(self.clone().connect(uri))
    }
}

/// One connection: its stream and whether TLS negotiated HTTP/2.
pub(crate) struct Conn {
    io: TokioIo<Box<dyn Io>>,
    h2: bool,
}

impl Connection for Conn {
    fn connected(&self) -> Connected {
        let connected = Connected::new();
        if self.h2 {
            connected.negotiated_h2()
        } else {
            connected
        }
    }
}

impl Read for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl Write for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
}

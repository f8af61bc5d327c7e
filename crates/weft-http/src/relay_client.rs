//! The outbound WebSocket client the Lua `websocket` module binds (reference
//! `wippy-modules/websocket.md`): `ws://` and `wss://` (rustls, the webpki roots),
//! checked in the caller's context before anything is dialled: `websocket.connect` on
//! the URL.

use std::time::Duration;

use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use weft_core::{CallContext, Error, ErrorKind, Result};

/// The byte stream under a client: TCP, or TLS over it.
pub trait WsIo: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> WsIo for T {}

type Stream = WebSocketStream<Box<dyn WsIo>>;

/// How to connect.
#[derive(Clone, Debug, Default)]
pub struct WsConnectOptions {
    /// Extra handshake headers.
    pub headers: Vec<(String, String)>,
    /// `Sec-WebSocket-Protocol` offers.
    pub protocols: Vec<String>,
    /// Bounds the dial and the handshake (none: 30 s).
    pub dial_timeout: Option<Duration>,
    /// The largest message accepted (none: 64 MiB, tungstenite's default).
    pub read_limit: Option<usize>,
}

/// The sending half of a client connection.
pub struct WsSender(SplitSink<Stream, Message>);

/// The receiving half.
pub struct WsReceiver(SplitStream<Stream>);

/// A message received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WsMessage {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
}

/// Connects to `url` in `cx`'s name.
pub async fn ws_connect(
    cx: &CallContext,
    url: &str,
    opts: &WsConnectOptions,
) -> Result<(WsSender, WsReceiver)> {
    let parsed = url::Url::parse(url).map_err(|e| Error::invalid(format!("invalid URL: {e}")))?;
    let tls = match parsed.scheme() {
        "ws" => false,
        "wss" => true,
        other => {
            return Err(Error::invalid(format!(
                "unsupported scheme {other:?}: ws:// or wss:// expected"
            )));
        }
    };
    let host = parsed
        .host_str()
        .ok_or_else(|| Error::invalid("invalid URL: no host"))?
        .trim_matches(['[', ']'])
        .to_string();
    let port = parsed
        .port_or_known_default()
        .unwrap_or(if tls { 443 } else { 80 });
    cx.check("websocket.connect", url)?;
    let mut request = url
        .into_client_request()
        .map_err(|e| Error::invalid(format!("invalid URL: {e}")))?;
    for (k, v) in &opts.headers {
        let name = http::HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| Error::invalid(format!("invalid header name {k:?}")))?;
        let value = http::HeaderValue::from_str(v)
            .map_err(|_| Error::invalid(format!("invalid value of header {k}")))?;
        request.headers_mut().insert(name, value);
    }
    if !opts.protocols.is_empty()
        && let Ok(v) = http::HeaderValue::from_str(&opts.protocols.join(", "))
    {
        request
            .headers_mut()
            .insert(http::header::SEC_WEBSOCKET_PROTOCOL, v);
    }
    let config = opts.read_limit.map(|n| {
        WebSocketConfig::default()
            .max_message_size(Some(n))
            .max_frame_size(Some(n))
    });
    let dial = async {
        let tcp = tokio::net::TcpStream::connect((host.as_str(), port))
            .await
            .map_err(|e| unavailable(format!("dial {host}:{port}: {e}")))?;
        let _ = tcp.set_nodelay(true);
        let io: Box<dyn WsIo> = if tls {
            let name = rustls::pki_types::ServerName::try_from(host.clone())
                .map_err(|e| Error::invalid(format!("invalid server name {host}: {e}")))?;
            let connector = tokio_rustls::TlsConnector::from(tls_config());
            Box::new(
                connector
                    .connect(name, tcp)
                    .await
                    .map_err(|e| unavailable(format!("TLS handshake with {host}: {e}")))?,
            )
        } else {
            Box::new(tcp)
        };
        tokio_tungstenite::client_async_with_config(request, io, config)
            .await
            .map_err(|e| unavailable(format!("websocket handshake: {e}")))
    };
    let wait = opts.dial_timeout.unwrap_or(Duration::from_secs(30));
    let (ws, _) = tokio::time::timeout(wait, dial).await.map_err(|_| {
        Error::new(
            ErrorKind::Timeout,
            format!("dial {url}: timeout after {wait:?}"),
        )
        .with_retryable(Some(true))
    })??;
    let (sink, stream) = ws.split();
    Ok((WsSender(sink), WsReceiver(stream)))
}

/// The TLS settings of `wss://`: the webpki roots, HTTP/1.1 only (a WebSocket
/// handshake is an HTTP/1.1 upgrade).
fn tls_config() -> std::sync::Arc<rustls::ClientConfig> {
    static CONFIG: std::sync::LazyLock<std::sync::Arc<rustls::ClientConfig>> =
        std::sync::LazyLock::new(|| {
            let roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            let mut config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .unwrap_or_else(|_| unreachable!("ring supports TLS 1.2 and 1.3"))
            .with_root_certificates(roots)
            .with_no_client_auth();
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
            std::sync::Arc::new(config)
        });
    CONFIG.clone()
}

fn unavailable(message: String) -> Error {
    Error::new(ErrorKind::Unavailable, message).with_retryable(Some(true))
}

impl WsSender {
    /// Sends a text or binary message.
    pub async fn send(&mut self, msg: WsMessage) -> Result<()> {
        let msg = match msg {
            WsMessage::Text(t) => Message::text(t),
            WsMessage::Binary(b) => Message::binary(b),
        };
        self.0.send(msg).await.map_err(send_error)
    }

    /// Sends a ping.
    pub async fn ping(&mut self) -> Result<()> {
        self.0
            .send(Message::Ping(Default::default()))
            .await
            .map_err(send_error)
    }

    /// Sends a close frame with `code` and `reason`.
    pub async fn close(&mut self, code: u16, reason: &str) -> Result<()> {
        let frame = CloseFrame {
            code: CloseCode::from(code),
            reason: reason.to_string().into(),
        };
        match self.0.send(Message::Close(Some(frame))).await {
            Ok(())
            | Err(tokio_tungstenite::tungstenite::Error::ConnectionClosed)
            | Err(tokio_tungstenite::tungstenite::Error::AlreadyClosed) => Ok(()),
            Err(e) => Err(send_error(e)),
        }
    }
}

fn send_error(e: tokio_tungstenite::tungstenite::Error) -> Error {
    Error::internal(format!("websocket send failed: {e}"))
}

impl WsReceiver {
    /// The next text or binary message; `None` once the connection closed (a close
    /// frame, an error, the peer gone). Pings are answered as they arrive.
    pub async fn recv(&mut self) -> Option<WsMessage> {
        loop {
            match self.0.next().await? {
                Ok(Message::Text(t)) => return Some(WsMessage::Text(t.as_str().to_string())),
                Ok(Message::Binary(b)) => return Some(WsMessage::Binary(b.to_vec())),
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }
}

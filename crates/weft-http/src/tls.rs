//! Manual TLS for an `http.service`: the certificate chain and key, from PEM files or
//! environment variables, read at boot (a bad file fails the boot on the entry).

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use weft_core::{BoundedRead, Error, MAX_TEXT_FILE_BYTES, Result};

use crate::config::{TlsFiles, TlsSource};

/// The acceptor of a manual TLS service: TLS 1.2 and later, offering HTTP/2 and 1.1.
pub(crate) fn acceptor(files: &TlsFiles, root: &Path) -> Result<tokio_rustls::TlsAcceptor> {
    let cert_pem = pem(&files.cert, root, "cert")?;
    let key_pem = pem(&files.key, root, "key")?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| Error::invalid(format!("certificate: {e}")))?;
    if certs.is_empty() {
        return Err(Error::invalid("certificate: no PEM certificate found"));
    }
    let key =
        PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| Error::invalid(format!("key: {e}")))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::internal(format!("TLS: {e}")))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| Error::invalid(format!("certificate and key: {e}")))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// The PEM text of a source: a file relative to the app root, or a variable holding
/// PEM text or a file path.
fn pem(source: &TlsSource, root: &Path, what: &str) -> Result<Vec<u8>> {
    let path = match source {
        TlsSource::File(path) => root.join(path),
        TlsSource::Env(var) => {
            let value = std::env::var(var).map_err(|_| {
                Error::invalid(format!("{what}_env: environment variable {var} is not set"))
            })?;
            if value.trim_start().starts_with("-----BEGIN") {
                return Ok(value.into_bytes());
            }
            root.join(value.trim())
        }
    };
    BoundedRead::new(MAX_TEXT_FILE_BYTES)
        .bytes(&path)
        .map_err(|e| Error::invalid(format!("{what}: {}: {e}", path.display())))
}

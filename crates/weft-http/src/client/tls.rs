//! rustls client configurations (ring provider): the default one (the webpki roots,
//! ALPN h2 and http/1.1) and one per request with `tls` options: a CA replacing the
//! roots, a client certificate (mTLS), or no verification at all.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::error::ClientError;
use super::request::TlsOptions;

/// The default configuration: the webpki roots.
pub(crate) fn default_config() -> Arc<ClientConfig> {
    let roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let config = builder()
        .map(|b| b.with_root_certificates(roots).with_no_client_auth())
        // The ring provider supports the safe default versions; this cannot fail.
        .unwrap_or_else(|_| unreachable!("ring supports TLS 1.2 and 1.3"));
    with_alpn(config)
}

/// The configuration of a request's `tls` options.
pub(crate) fn config(opts: &TlsOptions) -> Result<Arc<ClientConfig>, ClientError> {
    let tls = |field, reason: String| ClientError::Tls { field, reason };
    let builder = builder().map_err(|e| tls("ca", e.to_string()))?;
    let builder = if opts.insecure_skip_verify {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerify(algorithms())))
    } else {
        let mut roots = RootCertStore::empty();
        match &opts.ca {
            Some(pem) => {
                let certs = certificates(pem, "ca")?;
                for cert in certs {
                    roots
                        .add(cert)
                        .map_err(|e| tls("ca", format!("not a usable CA certificate: {e}")))?;
                }
            }
            None => roots.roots = webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        }
        builder.with_root_certificates(roots)
    };
    let config = match (&opts.cert, &opts.key) {
        (Some(cert), Some(key)) => {
            let chain = certificates(cert, "cert")?;
            let key = PrivateKeyDer::from_pem_slice(key.as_bytes())
                .map_err(|e| tls("key", format!("no PEM private key: {e}")))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| tls("key", format!("does not fit tls.cert: {e}")))?
        }
        (None, None) => builder.with_no_client_auth(),
        (Some(_), None) => return Err(tls("key", "is required with tls.cert".into())),
        (None, Some(_)) => return Err(tls("cert", "is required with tls.key".into())),
    };
    Ok(with_alpn(config))
}

/// The certificates of a PEM text; none is an error naming the field.
fn certificates(
    pem: &str,
    field: &'static str,
) -> Result<Vec<CertificateDer<'static>>, ClientError> {
    let certs: Vec<_> = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|e| ClientError::Tls {
            field,
            reason: format!("bad PEM: {e}"),
        })?;
    if certs.is_empty() {
        return Err(ClientError::Tls {
            field,
            reason: "no PEM certificate found".into(),
        });
    }
    Ok(certs)
}

/// The server name to verify and send as SNI: `server_name` when set, else the host.
pub(crate) fn server_name(
    host: &str,
    opts: Option<&TlsOptions>,
) -> Result<ServerName<'static>, ClientError> {
    let name = opts
        .and_then(|o| o.server_name.as_deref())
        .filter(|n| !n.is_empty())
        .unwrap_or(host);
    let bare = name.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(bare.to_string()).map_err(|e| ClientError::Tls {
        field: "server_name",
        reason: format!("{name:?} is not a DNS name or IP address: {e}"),
    })
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn algorithms() -> WebPkiSupportedAlgorithms {
    rustls::crypto::ring::default_provider().signature_verification_algorithms
}

fn builder() -> Result<rustls::ConfigBuilder<ClientConfig, rustls::WantsVerifier>, rustls::Error> {
    ClientConfig::builder_with_provider(provider()).with_safe_default_protocol_versions()
}

fn with_alpn(mut config: ClientConfig) -> Arc<ClientConfig> {
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Arc::new(config)
}

/// `insecure_skip_verify`: any certificate and name is accepted (the handshake
/// signatures are still checked against the certificate's key).
#[derive(Debug)]
struct NoVerify(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

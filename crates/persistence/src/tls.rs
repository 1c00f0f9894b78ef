//! TLS to PostgreSQL (PRODUCT.md section 13): the `sslmode` and `sslrootcert` parameters of
//! a `postgres://` URL, as libpq reads them, with rustls.
//!
//! - `disable`, `allow`, `prefer` (libpq's default): no TLS. (libpq's `prefer` tries TLS
//!   first; a service that means to encrypt says `require` or stronger.)
//! - `require`: TLS, the server's certificate not checked, unless `sslrootcert` names a file:
//!   then as `verify-ca` (libpq does the same).
//! - `verify-ca`: the certificate must chain to `sslrootcert` (else the system's roots).
//! - `verify-full`: as `verify-ca`, and the certificate must name the host of the URL.
//!
//! tokio-postgres knows neither `sslrootcert` nor the `verify-*` modes, so both are taken
//! out of the URL here and the connection is made with `sslmode=require` and the verifier
//! of the mode.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, Error, RootCertStore};
use tokio_postgres_rustls::MakeRustlsConnect;

/// What a URL asks of TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SslMode {
    /// `disable`, `allow`, `prefer`.
    Off,
    /// `require` without `sslrootcert`.
    Require,
    /// `verify-ca` (or `require` with `sslrootcert`).
    VerifyCa,
    /// `verify-full`.
    VerifyFull,
}

/// A PostgreSQL URL split into what tokio-postgres reads and the TLS it needs.
#[derive(Debug, Clone)]
pub(crate) struct PgTarget {
    /// The URL without `sslrootcert`, with `sslmode=require` for every TLS mode.
    pub url: String,
    /// The mode asked for.
    pub mode: SslMode,
    /// `sslrootcert`.
    pub root_cert: Option<PathBuf>,
}

/// Why the TLS settings of a URL cannot work. Messages name parameters and files, never the
/// URL (it may hold a password).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TlsError {
    /// An `sslmode` libpq does not know.
    #[error("sslmode={0:?} is not one of disable, allow, prefer, require, verify-ca, verify-full")]
    Mode(String),
    /// `sslrootcert` cannot be read or holds no certificate.
    #[error("sslrootcert {path}: {reason}")]
    RootCert {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The system's root certificates cannot be loaded, and no `sslrootcert` was given.
    #[error("no sslrootcert and no usable system root certificates: {0}")]
    NoRoots(String),
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Config(String),
}

impl PgTarget {
    /// Splits `url` (a `postgres://` URL that parses).
    pub(crate) fn parse(url: &str) -> Result<Self, TlsError> {
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut kept = Vec::new();
        let mut mode = None;
        let mut root_cert = None;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "sslmode" => mode = Some(value.to_owned()),
                "sslrootcert" => {
                    root_cert = Some(PathBuf::from(
                        percent_encoding::percent_decode_str(value)
                            .decode_utf8_lossy()
                            .into_owned(),
                    ))
                }
                _ => kept.push(pair),
            }
        }
        let mode = match mode.as_deref() {
            None | Some("disable" | "allow" | "prefer") => SslMode::Off,
            Some("require") if root_cert.is_some() => SslMode::VerifyCa,
            Some("require") => SslMode::Require,
            Some("verify-ca") => SslMode::VerifyCa,
            Some("verify-full") => SslMode::VerifyFull,
            Some(other) => return Err(TlsError::Mode(other.to_owned())),
        };
        kept.push(match mode {
            SslMode::Off => "sslmode=disable",
            _ => "sslmode=require",
        });
        Ok(Self {
            url: format!("{base}?{}", kept.join("&")),
            mode,
            root_cert,
        })
    }

    /// The TLS connector of the mode; `None` for [`SslMode::Off`].
    pub(crate) fn connector(&self) -> Result<Option<MakeRustlsConnect>, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier: Arc<dyn ServerCertVerifier> = match self.mode {
            SslMode::Off => return Ok(None),
            SslMode::Require => {
                Arc::new(AnyCertificate(provider.signature_verification_algorithms))
            }
            SslMode::VerifyCa => Arc::new(ChainOnly(self.webpki(&provider)?)),
            SslMode::VerifyFull => self.webpki(&provider)?,
        };
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Config(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(Some(MakeRustlsConnect::new(config)))
    }

    fn webpki(
        &self,
        provider: &Arc<CryptoProvider>,
    ) -> Result<Arc<WebPkiServerVerifier>, TlsError> {
        let mut roots = RootCertStore::empty();
        match &self.root_cert {
            Some(path) => {
                let shown = path.display().to_string();
                let bad = |reason: String| TlsError::RootCert {
                    path: shown.clone(),
                    reason,
                };
                let certs = CertificateDer::pem_file_iter(path)
                    .map_err(|e| bad(e.to_string()))?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| bad(e.to_string()))?;
                if certs.is_empty() {
                    return Err(bad("holds no PEM certificate".to_owned()));
                }
                for cert in certs {
                    roots.add(cert).map_err(|e| bad(e.to_string()))?;
                }
            }
            None => {
                let found = rustls_native_certs::load_native_certs();
                if found.certs.is_empty() {
                    let why = found
                        .errors
                        .first()
                        .map_or_else(|| "none found".to_owned(), ToString::to_string);
                    return Err(TlsError::NoRoots(why));
                }
                roots.add_parsable_certificates(found.certs);
            }
        }
        WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| TlsError::Config(e.to_string()))
    }
}

/// `verify-ca`: the chain is checked, the name is not (libpq's meaning).
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// `require` without `sslrootcert`: encrypted, the certificate not checked (libpq's meaning;
/// it protects against a passive listener only). The handshake's signatures are still
/// checked, so the session key belongs to whoever holds the certificate's key.
#[derive(Debug)]
struct AnyCertificate(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_keeps_its_other_parameters_and_loses_what_tokio_postgres_cannot_read() {
        let t = PgTarget::parse(
            "postgres://u:p@db:5432/x?application_name=pas&sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem",
        )
        .unwrap();
        assert_eq!(t.mode, SslMode::VerifyFull);
        assert_eq!(
            t.root_cert.as_deref(),
            Some(std::path::Path::new("/etc/ca.pem"))
        );
        assert_eq!(
            t.url,
            "postgres://u:p@db:5432/x?application_name=pas&sslmode=require"
        );
        let plain = PgTarget::parse("postgres://u@db/x").unwrap();
        assert_eq!(plain.mode, SslMode::Off);
        assert_eq!(plain.url, "postgres://u@db/x?sslmode=disable");
    }

    #[test]
    fn require_with_a_root_certificate_verifies_the_chain_and_unknown_modes_are_refused() {
        let t = PgTarget::parse("postgres://db/x?sslmode=require&sslrootcert=ca.pem").unwrap();
        assert_eq!(t.mode, SslMode::VerifyCa);
        assert_eq!(
            PgTarget::parse("postgres://db/x?sslmode=always").unwrap_err(),
            TlsError::Mode("always".to_owned())
        );
    }

    #[test]
    fn an_unreadable_root_certificate_is_named() {
        let t =
            PgTarget::parse("postgres://db/x?sslmode=verify-ca&sslrootcert=/nonexistent/ca.pem")
                .unwrap();
        let e = t.connector().err().unwrap();
        assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
    }
}

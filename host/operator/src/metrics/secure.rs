//! `--metrics-secure`: `/metrics` over TLS, each scrape authenticated with a TokenReview and authorised with a
//! SubjectAccessReview (non-resource URL = the request path, verb = the lower-case method) against the API server.
//!
//! The serving certificate is `--metrics-cert-path`/`--metrics-cert-name` with the key
//! `--metrics-cert-path`/`--metrics-cert-key`, re-read when either file changes (so a rotated Secret mount takes
//! effect without a restart), or a self-signed certificate for `localhost` generated at start when no path is set.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::{Duration, SystemTime},
};

use axum::{
    Router,
    extract::{Request, State},
    http::{StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
};
use hyper_util::{
    rt::{TokioExecutor, TokioIo},
    server::conn::auto,
    service::TowerToHyperService,
};
use k8s_openapi::api::{
    authentication::v1::{TokenReview, TokenReviewSpec},
    authorization::v1::{NonResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec},
};
use kube::{Api, api::PostParams};
use rustls::{
    ServerConfig,
    crypto::ring::sign::any_supported_type,
    pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
    server::{ClientHello, ResolvesServerCert},
    sign::CertifiedKey,
};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use super::server::MetricsError;

/// How long a client may take to complete the TLS handshake before its connection is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the secure metrics server could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SecureError {
    /// The certificate or key file could not be read or parsed.
    #[error("metrics serving certificate {path}: {reason}")]
    Certificate {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The self-signed certificate could not be generated.
    #[error("generating the self-signed metrics certificate: {0}")]
    SelfSigned(String),
    /// The TLS configuration was rejected.
    #[error("metrics TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
}

/// Where the serving certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertSource {
    /// Generated at start, self-signed for `localhost`.
    SelfSigned,
    /// Certificate chain and private key files (PEM), re-read when they change.
    Files {
        /// The certificate chain.
        cert: PathBuf,
        /// The private key.
        key: PathBuf,
    },
}

impl CertSource {
    /// The source the flags name: files in `path` when it is set, otherwise a self-signed certificate.
    pub fn from_flags(path: &str, cert_name: &str, key_name: &str) -> Self {
        if path.is_empty() {
            return Self::SelfSigned;
        }
        let dir = Path::new(path);
        Self::Files {
            cert: dir.join(cert_name),
            key: dir.join(key_name),
        }
    }
}

/// What the secure metrics server needs: the certificate source, HTTP/2 or not, and the client that posts the
/// access reviews.
pub struct SecureSettings {
    /// The serving certificate.
    pub cert: CertSource,
    /// Offer HTTP/2 through ALPN (`--enable-http2`); otherwise HTTP/1.1 only.
    pub http2: bool,
    /// The API server that answers TokenReviews and SubjectAccessReviews.
    pub client: kube::Client,
}

/// Serves `app` over TLS on `address`, every request filtered by the access reviews, until `shutdown` is
/// cancelled; returns the bound address.
pub(crate) async fn serve(
    address: SocketAddr,
    app: Router,
    settings: SecureSettings,
    shutdown: CancellationToken,
) -> Result<SocketAddr, MetricsError> {
    let tls = tls_config(&settings.cert, settings.http2)?;
    let app = app.layer(middleware::from_fn_with_state(settings.client, authorize));
    let bind = |source| MetricsError::Bind { address, source };
    let listener = tokio::net::TcpListener::bind(address).await.map_err(bind)?;
    let bound = listener.local_addr().map_err(bind)?;
    let acceptor = TlsAcceptor::from(Arc::new(tls));
    let http2 = settings.http2;
    tokio::spawn(async move {
        loop {
            let (stream, peer) = tokio::select! {
                () = shutdown.cancelled() => return,
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        tracing::warn!(%error, "secure metrics server: accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
            };
            let (acceptor, app, shutdown) = (acceptor.clone(), app.clone(), shutdown.clone());
            tokio::spawn(async move {
                let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(Ok(tls)) => tls,
                    Ok(Err(error)) => {
                        tracing::debug!(%error, %peer, "metrics TLS handshake failed");
                        return;
                    }
                    Err(_) => return,
                };
                let mut builder = auto::Builder::new(TokioExecutor::new());
                if !http2 {
                    builder = builder.http1_only();
                }
                let connection = builder.serve_connection(TokioIo::new(tls), TowerToHyperService::new(app));
                tokio::select! {
                    served = connection => if let Err(error) = served {
                        tracing::debug!(%error, %peer, "metrics connection ended");
                    },
                    () = shutdown.cancelled() => {}
                }
            });
        }
    });
    Ok(bound)
}

/// The rustls server configuration: the certificate source, and ALPN `h2` only with `http2`.
pub fn tls_config(cert: &CertSource, http2: bool) -> Result<ServerConfig, SecureError> {
    let resolver: Arc<dyn ResolvesServerCert> = match cert {
        CertSource::SelfSigned => Arc::new(Fixed(Arc::new(self_signed()?))),
        CertSource::Files { cert, key } => Arc::new(FileCert::load(cert.clone(), key.clone())?),
    };
    let mut config = ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_cert_resolver(resolver);
    config.alpn_protocols = if http2 {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    } else {
        vec![b"http/1.1".to_vec()]
    };
    Ok(config)
}

fn self_signed() -> Result<CertifiedKey, SecureError> {
    let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .map_err(|e| SecureError::SelfSigned(e.to_string()))?;
    let key = PrivateKeyDer::try_from(generated.signing_key.serialize_der())
        .map_err(|e| SecureError::SelfSigned(e.to_owned()))?;
    let key = any_supported_type(&key)?;
    Ok(CertifiedKey::new(vec![generated.cert.der().clone()], key))
}

/// One certificate for every handshake (the self-signed one).
#[derive(Debug)]
struct Fixed(Arc<CertifiedKey>);

impl ResolvesServerCert for Fixed {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

/// A certificate and key read from files, re-read on a handshake after either file's modification time changed.
/// A file that became unreadable or invalid keeps the last good pair in use until the files change again.
#[derive(Debug)]
struct FileCert {
    cert: PathBuf,
    key: PathBuf,
    current: Mutex<(Option<Stamps>, Arc<CertifiedKey>)>,
}

impl FileCert {
    fn load(cert: PathBuf, key: PathBuf) -> Result<Self, SecureError> {
        let stamp = stamps(&cert, &key);
        let loaded = read_pair(&cert, &key)?;
        Ok(Self {
            cert,
            key,
            current: Mutex::new((stamp, Arc::new(loaded))),
        })
    }

    fn current(&self) -> Arc<CertifiedKey> {
        let mut current = self
            .current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let stamp = stamps(&self.cert, &self.key);
        if stamp.is_some() && stamp != current.0 {
            match read_pair(&self.cert, &self.key) {
                Ok(loaded) => {
                    tracing::info!(cert = %self.cert.display(), "reloaded the metrics serving certificate");
                    *current = (stamp, Arc::new(loaded));
                }
                Err(error) => {
                    // Once per change of the files, not on every handshake.
                    tracing::warn!(%error, "keeping the previous metrics serving certificate");
                    current.0 = stamp;
                }
            }
        }
        current.1.clone()
    }
}

impl ResolvesServerCert for FileCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

/// The modification times of the certificate and key files.
type Stamps = (SystemTime, SystemTime);

fn stamps(cert: &Path, key: &Path) -> Option<Stamps> {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    Some((modified(cert)?, modified(key)?))
}

fn read_pair(cert: &Path, key: &Path) -> Result<CertifiedKey, SecureError> {
    let bad = |path: &Path, reason: String| SecureError::Certificate {
        path: path.to_owned(),
        reason,
    };
    let cert_pem = std::fs::read(cert).map_err(|e| bad(cert, e.to_string()))?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(cert, e.to_string()))?;
    if chain.is_empty() {
        return Err(bad(cert, "no certificate in the file".to_owned()));
    }
    let key_pem = std::fs::read(key).map_err(|e| bad(key, e.to_string()))?;
    let private = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| bad(key, e.to_string()))?;
    let signer = any_supported_type(&private).map_err(|e| bad(key, e.to_string()))?;
    let pair = CertifiedKey::new(chain, signer);
    pair.keys_match().map_err(|e| bad(key, e.to_string()))?;
    Ok(pair)
}

/// The filter in front of every route: 401 without a bearer token or with one the TokenReview does not
/// authenticate, 403 when the SubjectAccessReview does not allow the verb on the path, 500 when a review cannot be
/// posted.
async fn authorize(State(client): State<kube::Client>, request: Request, next: Next) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        return (StatusCode::UNAUTHORIZED, "Unauthorized").into_response();
    };
    let review = TokenReview {
        spec: TokenReviewSpec {
            token: Some(token.to_owned()),
            audiences: None,
        },
        ..TokenReview::default()
    };
    let reviewed = match Api::<TokenReview>::all(client.clone())
        .create(&PostParams::default(), &review)
        .await
    {
        Ok(reviewed) => reviewed,
        Err(error) => {
            tracing::warn!(%error, "metrics: TokenReview failed");
            return (StatusCode::UNAUTHORIZED, "Unauthorized").into_response();
        }
    };
    let status = reviewed.status.unwrap_or_default();
    let user = match (status.authenticated, status.user) {
        (Some(true), Some(user)) => user,
        _ => return (StatusCode::UNAUTHORIZED, "Unauthorized").into_response(),
    };
    let access = SubjectAccessReview {
        spec: SubjectAccessReviewSpec {
            user: user.username,
            groups: user.groups,
            uid: user.uid,
            extra: user.extra,
            non_resource_attributes: Some(NonResourceAttributes {
                path: Some(request.uri().path().to_owned()),
                verb: Some(request.method().as_str().to_lowercase()),
            }),
            resource_attributes: None,
        },
        ..SubjectAccessReview::default()
    };
    match Api::<SubjectAccessReview>::all(client)
        .create(&PostParams::default(), &access)
        .await
    {
        Ok(reviewed) if reviewed.status.as_ref().is_some_and(|s| s.allowed) => next.run(request).await,
        Ok(_) => (StatusCode::FORBIDDEN, "Forbidden").into_response(),
        Err(error) => {
            tracing::warn!(%error, "metrics: SubjectAccessReview failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "Authorization error").into_response()
        }
    }
}

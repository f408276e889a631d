//! `--metrics-secure`: `/metrics` over TLS, scrapes authenticated by a TokenReview and authorised by a
//! SubjectAccessReview against the embedded API server (401 without or with an unknown token, 403 for a
//! ServiceAccount without `get` on the non-resource URL `/metrics`, 200 for one bound to a metrics-reader role), with a
//! self-signed certificate or the one `--metrics-cert-path` names.

use std::{net::SocketAddr, sync::Arc};

use apiserver::{ServerConfig, sim::SimConfig};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule, RoleRef, Subject};
use kube::{
    Api, Client,
    api::{ObjectMeta, PostParams},
};
use platform_mesh_operator::metrics::{
    secure::{CertSource, SecureSettings},
    server::serve_secure,
};
use rustls::{
    ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
    client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    crypto::{CryptoProvider, ring::default_provider},
    pki_types::{CertificateDer, ServerName, UnixTime},
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::TlsConnector;
use tokio_util::sync::CancellationToken;

const NS: &str = "monitoring";

async fn api_server() -> apiserver::Server {
    apiserver::start(ServerConfig {
        simulators: SimConfig::none(),
        ..ServerConfig::default()
    })
    .await
    .unwrap()
}

/// A metrics-reader ClusterRole (`get` on `/metrics`) bound to the ServiceAccount `prometheus` only.
async fn grant_reader(client: &Client) {
    let role = ClusterRole {
        metadata: ObjectMeta {
            name: Some("metrics-reader".into()),
            ..ObjectMeta::default()
        },
        rules: Some(vec![PolicyRule {
            non_resource_urls: Some(vec!["/metrics".into()]),
            verbs: vec!["get".into()],
            ..PolicyRule::default()
        }]),
        ..ClusterRole::default()
    };
    Api::<ClusterRole>::all(client.clone())
        .create(&PostParams::default(), &role)
        .await
        .unwrap();
    let binding = ClusterRoleBinding {
        metadata: ObjectMeta {
            name: Some("prometheus-metrics-reader".into()),
            ..ObjectMeta::default()
        },
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "ClusterRole".into(),
            name: "metrics-reader".into(),
        },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".into(),
            name: "prometheus".into(),
            namespace: Some(NS.into()),
            ..Subject::default()
        }]),
    };
    Api::<ClusterRoleBinding>::all(client.clone())
        .create(&PostParams::default(), &binding)
        .await
        .unwrap();
}

/// Accepts any server certificate (the self-signed one is generated inside the server), still checking the
/// handshake signatures.
#[derive(Debug)]
struct AnyCert(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCert {
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
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn client_config(roots: Option<RootCertStore>) -> Arc<ClientConfig> {
    let provider = Arc::new(default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let config = match roots {
        Some(roots) => builder.with_root_certificates(roots).with_no_client_auth(),
        None => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCert(provider)))
            .with_no_client_auth(),
    };
    Arc::new(config)
}

/// One HTTP/1.1 `GET /metrics` over TLS; the status code and the whole response.
async fn scrape(config: Arc<ClientConfig>, bound: SocketAddr, token: Option<&str>) -> (u16, String) {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", bound.port()))
        .await
        .unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let mut tls = TlsConnector::from(config).connect(name, tcp).await.unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request = format!("GET /metrics HTTP/1.1\r\nHost: localhost\r\n{auth}Connection: close\r\n\r\n");
    tls.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    // A peer that closes without close_notify is fine here: the response is complete by then.
    let _ = tls.read_to_end(&mut response).await;
    let response = String::from_utf8_lossy(&response).into_owned();
    let code = response
        .get(9..12)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {response:?}"));
    (code, response)
}

/// A CA and a `localhost` serving certificate it signs, written to `serving.pem`/`serving-key.pem` in `dir`
/// (modified at `at` when given); returns the CA certificate.
fn issue(dir: &std::path::Path, at: Option<std::time::SystemTime>) -> rcgen::Certificate {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let (cert, key) = (dir.join("serving.pem"), dir.join("serving-key.pem"));
    std::fs::write(&key, leaf_key.serialize_pem()).unwrap();
    std::fs::write(&cert, leaf.pem()).unwrap();
    if let Some(at) = at {
        set_modified(&cert, at);
        set_modified(&key, at);
    }
    ca_cert
}

fn set_modified(path: &std::path::Path, at: std::time::SystemTime) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(at)
        .unwrap();
}

/// A client trusting only `ca`.
fn trusting(ca: &rcgen::Certificate) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots.add(ca.der().clone()).unwrap();
    client_config(Some(roots))
}

fn settings(cert: CertSource, client: Client) -> SecureSettings {
    SecureSettings {
        cert,
        http2: true,
        client,
    }
}

#[tokio::test]
async fn metrics_secure_self_signed_scrapes_need_a_token_the_api_server_allows() {
    let server = api_server().await;
    let client = server.client();
    grant_reader(&client).await;
    platform_mesh_operator::metrics::global().record_plugin_set_swap(true);
    let shutdown = CancellationToken::new();
    let bound = serve_secure(
        "127.0.0.1:0".parse().unwrap(),
        settings(CertSource::SelfSigned, client),
        shutdown.clone(),
    )
    .await
    .unwrap();
    let config = client_config(None);

    let (code, _) = scrape(config.clone(), bound, None).await;
    assert_eq!(code, 401, "no token");
    let (code, _) = scrape(config.clone(), bound, Some("not-a-token")).await;
    assert_eq!(code, 401, "a token the API server did not issue");
    let denied = apiserver::sim::service_account_token("", NS, "someone-else");
    let (code, _) = scrape(config.clone(), bound, Some(&denied)).await;
    assert_eq!(code, 403, "a ServiceAccount without the metrics-reader role");
    let allowed = apiserver::sim::service_account_token("", NS, "prometheus");
    let (code, body) = scrape(config, bound, Some(&allowed)).await;
    assert_eq!(code, 200, "{body}");
    assert!(
        body.contains("platform_mesh_operator_plugin_set_swaps_total"),
        "{body}"
    );
    shutdown.cancel();
}

#[tokio::test]
async fn metrics_secure_serves_the_certificate_the_flags_name() {
    let server = api_server().await;
    let client = server.client();
    grant_reader(&client).await;
    let dir = tempfile::tempdir().unwrap();
    let ca_cert = issue(dir.path(), None);

    // A missing key file is refused at start.
    let missing = CertSource::from_flags(&dir.path().display().to_string(), "serving.pem", "tls.key");
    assert!(
        serve_secure(
            "127.0.0.1:0".parse().unwrap(),
            settings(missing, client.clone()),
            CancellationToken::new()
        )
        .await
        .is_err()
    );

    let source = CertSource::from_flags(
        &dir.path().display().to_string(),
        "serving.pem",
        "serving-key.pem",
    );
    let shutdown = CancellationToken::new();
    let bound = serve_secure(
        "127.0.0.1:0".parse().unwrap(),
        settings(source, client),
        shutdown.clone(),
    )
    .await
    .unwrap();
    // The client trusts only the CA that signed the given certificate: the handshake verifies the chain.
    let allowed = apiserver::sim::service_account_token("", NS, "prometheus");
    let (code, body) = scrape(trusting(&ca_cert), bound, Some(&allowed)).await;
    assert_eq!(code, 200, "{body}");

    // A rotated certificate (a new CA, as when the Secret is replaced) is served without a restart.
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(60);
    let rotated_ca = issue(dir.path(), Some(later));
    let (code, body) = scrape(trusting(&rotated_ca), bound, Some(&allowed)).await;
    assert_eq!(code, 200, "{body}");
    let tcp = tokio::net::TcpStream::connect(bound).await.unwrap();
    let stale = TlsConnector::from(trusting(&ca_cert))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await;
    assert!(stale.is_err(), "the old certificate is no longer served");

    // A broken replacement keeps the last good certificate in use.
    std::fs::write(dir.path().join("serving.pem"), "not a certificate").unwrap();
    set_modified(
        &dir.path().join("serving.pem"),
        later + std::time::Duration::from_secs(60),
    );
    let (code, body) = scrape(trusting(&rotated_ca), bound, Some(&allowed)).await;
    assert_eq!(code, 200, "{body}");

    // A self-signed server is not trusted by that client.
    let other = serve_secure(
        "127.0.0.1:0".parse().unwrap(),
        settings(CertSource::SelfSigned, server.client()),
        shutdown.clone(),
    )
    .await
    .unwrap();
    let tcp = tokio::net::TcpStream::connect(other).await.unwrap();
    let refused = TlsConnector::from(trusting(&ca_cert))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await;
    assert!(refused.is_err());
    shutdown.cancel();
}

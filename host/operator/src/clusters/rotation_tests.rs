//! The kcp admin configuration follows its Secret: a rotated client certificate and CA are used by the next pass.
//!
//! The embedded API server speaks plain HTTP, so the test puts a TLS front in front of it that presents a server
//! certificate of the current kcp CA and accepts only client certificates of that CA, as kcp's front proxy does.
//! Rotating swaps the CA (and drops open connections); the old credentials are then refused. The Provider
//! controller's rotation tests use the same front.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use apiserver::sim::pki::{Ca, Leaf};
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::{
    Api,
    api::{Patch, PatchParams},
};
use rustls::{
    RootCertStore, ServerConfig,
    pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
    server::WebPkiClientVerifier,
};
use serde_json::json;
use tokio::{net::TcpListener, task::JoinSet};

use super::{Clusters, KcpAdmin, Target};

pub(crate) const NS: &str = "default";
pub(crate) const SECRET: &str = "kcp-cluster-admin-client-cert";

/// A kcp CA with a server certificate for 127.0.0.1 and an admin client certificate.
pub(crate) struct Pki {
    ca: String,
    server: Leaf,
    client: Leaf,
}

pub(crate) fn pki(name: &str) -> Pki {
    let ca = Ca::generate(name).expect("CA");
    Pki {
        server: ca
            .sign("kcp", &["127.0.0.1".to_owned()])
            .expect("server certificate"),
        client: ca.sign("kcp-admin", &[]).expect("client certificate"),
        ca: ca.cert_pem.clone(),
    }
}

fn server_config(pki: &Pki) -> Arc<ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(pki.ca.as_bytes()).expect("CA PEM"))
        .expect("CA is a valid root");
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .expect("client verifier");
    let chain = vec![CertificateDer::from_pem_slice(pki.server.cert_pem.as_bytes()).expect("cert PEM")];
    let key = PrivateKeyDer::from_pem_slice(pki.server.key_pem.as_bytes()).expect("key PEM");
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .expect("server certificate");
    Arc::new(config)
}

/// TLS with client certificates in front of a plain-HTTP backend.
pub(crate) struct TlsFront {
    addr: SocketAddr,
    config: Arc<Mutex<Arc<ServerConfig>>>,
    connections: Arc<Mutex<JoinSet<()>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl TlsFront {
    pub(crate) async fn start(backend: SocketAddr, pki: &Pki) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let config = Arc::new(Mutex::new(server_config(pki)));
        let connections = Arc::new(Mutex::new(JoinSet::new()));
        let (shared, conns) = (config.clone(), connections.clone());
        let accept = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let acceptor = tokio_rustls::TlsAcceptor::from(shared.lock().unwrap().clone());
                conns.lock().unwrap().spawn(async move {
                    let Ok(mut tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    if let Ok(mut plain) = tokio::net::TcpStream::connect(backend).await {
                        let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                    }
                });
            }
        });
        TlsFront {
            addr,
            config,
            connections,
            accept,
        }
    }

    /// Serves `pki` from now on and closes every open connection.
    pub(crate) fn rotate(&self, pki: &Pki) {
        *self.config.lock().unwrap() = server_config(pki);
        self.connections.lock().unwrap().abort_all();
    }

    pub(crate) fn url(&self) -> String {
        format!("https://{}", self.addr)
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.accept.abort();
        self.connections.lock().unwrap().abort_all();
    }
}

pub(crate) async fn write_secret(client: &kube::Client, pki: &Pki) {
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": SECRET, "namespace": NS},
        "stringData": {"ca.crt": pki.ca, "tls.crt": pki.client.cert_pem, "tls.key": pki.client.key_pem}});
    Api::<Secret>::namespaced(client.clone(), NS)
        .patch(
            SECRET,
            &PatchParams::apply("test").force(),
            &Patch::Apply(&secret),
        )
        .await
        .expect("Secret written");
}

/// One pass's kcp read, as the host API does it: compare the Secret first, then use the workspace client.
async fn kcp_read(clusters: &Clusters) -> Result<Option<ConfigMap>, String> {
    clusters.refresh_kcp_admin().await.map_err(|e| e.to_string())?;
    let client = clusters
        .client(&Target::Kcp("root".into()))
        .await
        .map_err(|e| e.to_string())?;
    Api::<ConfigMap>::namespaced(client, NS)
        .get_opt("absent")
        .await
        .map_err(|e| format!("{e}"))
}

/// An embedded API server behind a client-certificate-checking TLS front signed by `first`, the admin Secret
/// written with `first`'s credentials, and the admin reference that reads it: the start of every rotation test.
pub(crate) async fn behind_tls_front(first: &Pki) -> (apiserver::Server, TlsFront, KcpAdmin) {
    let server = apiserver::start(apiserver::ServerConfig::default())
        .await
        .expect("API server starts");
    let backend: SocketAddr = server
        .url()
        .trim_start_matches("http://")
        .parse()
        .expect("backend address");
    let front = TlsFront::start(backend, first).await;
    write_secret(&server.client(), first).await;
    let admin = KcpAdmin::Secret {
        namespace: NS.into(),
        name: SECRET.into(),
        url: front.url(),
    };
    (server, front, admin)
}

#[tokio::test]
async fn a_rotated_client_certificate_and_ca_are_used_by_the_next_pass() {
    let first = pki("kcp-ca-1");
    let (server, front, admin) = behind_tls_front(&first).await;
    let clusters = Clusters::new(server.client(), server.client(), admin);
    assert_eq!(kcp_read(&clusters).await, Ok(None), "first credentials work");

    let second = pki("kcp-ca-2");
    front.rotate(&second);
    write_secret(&server.client(), &second).await;

    // The credentials of before are refused now: a process that kept them would fail every kcp call.
    let old = Clusters::new(
        server.client(),
        server.client(),
        KcpAdmin::Config(Box::new(
            super::admin_config_from_secret(secret_of(&first), NS, SECRET, &front.url())
                .await
                .expect("old config"),
        )),
    );
    assert!(
        kcp_read(&old).await.is_err(),
        "the old CA and certificate are refused"
    );

    assert_eq!(
        kcp_read(&clusters).await,
        Ok(None),
        "the next pass reads the rotated Secret and succeeds without a restart"
    );
    server.shutdown().await;
}

fn secret_of(pki: &Pki) -> Secret {
    serde_json::from_value(
        json!({"metadata": {"name": SECRET, "namespace": NS, "resourceVersion": "1"},
        "data": {
            "ca.crt": base64_of(&pki.ca),
            "tls.crt": base64_of(&pki.client.cert_pem),
            "tls.key": base64_of(&pki.client.key_pem)}}),
    )
    .expect("Secret")
}

fn base64_of(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

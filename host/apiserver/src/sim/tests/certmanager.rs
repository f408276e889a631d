use k8s_openapi::api::core::v1::Secret;
use serde_json::json;

use super::*;
use crate::sim::certmanager::{CERTIFICATE, ISSUER};

#[tokio::test]
async fn certificates_get_tls_secrets_from_one_ca_per_issuer() {
    let server = server(&[SimKind::CertManager]).await;
    let client = server.client();
    namespace(&client, "platform-mesh-system").await;
    let ns = Some("platform-mesh-system");
    let issuers = dynamic(&client, &ISSUER.api_resource(), ns);
    let certs = dynamic(&client, &CERTIFICATE.api_resource(), ns);
    create(
        &issuers,
        json!({"apiVersion": "cert-manager.io/v1", "kind": "Issuer",
        "metadata": {"name": "webhook-issuer"}, "spec": {"selfSigned": {}}}),
    )
    .await;
    for (name, dns) in [("a", "a.svc"), ("b", "b.svc")] {
        create(&certs, json!({"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": {"name": name},
            "spec": {"secretName": format!("{name}-tls"), "dnsNames": [dns], "issuerRef": {"name": "webhook-issuer"}}}))
        .await;
    }
    wait_for(&issuers, "webhook-issuer", |o| is_ready(o, "Ready")).await;
    wait_for(&certs, "a", |o| is_ready(o, "Ready")).await;
    wait_for(&certs, "b", |o| is_ready(o, "Ready")).await;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "platform-mesh-system");
    let a = secrets.get("a-tls").await.expect("secret a");
    let b = secrets.get("b-tls").await.expect("secret b");
    assert_eq!(a.type_.as_deref(), Some("kubernetes.io/tls"));
    assert!(secret_str(&a, "tls.crt").starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(secret_str(&a, "tls.key").contains("PRIVATE KEY"));
    assert_eq!(
        secret_str(&a, "ca.crt"),
        secret_str(&b, "ca.crt"),
        "one CA per issuer"
    );
    assert_ne!(secret_str(&a, "tls.crt"), secret_str(&b, "tls.crt"));
    server.shutdown().await;
}

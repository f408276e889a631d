//! ServiceAccount tokens and the platform-mesh component stand-ins.

use k8s_openapi::api::core::v1::Secret;
use serde_json::json;

use super::*;
use crate::sim::flux::HELM_RELEASE;
use crate::sim::service_account_token;
use crate::sim::tokens::SA_NAME_ANNOTATION;

fn token_secret(name: &str) -> Secret {
    serde_json::from_value(
        json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
        "metadata": {"name": name, "namespace": "default", "annotations": {SA_NAME_ANNOTATION: "robot"}}}),
    )
    .expect("secret")
}

#[tokio::test]
async fn token_secrets_are_filled_in_plain_and_kcp_clusters() {
    let server = server(&[SimKind::Tokens]).await;
    let plain = server.client();
    let kcp = server.kcp_client("root");
    namespace(&plain, "default").await;
    namespace(&kcp, "default").await;
    for client in [&plain, &kcp] {
        let secrets: Api<Secret> = Api::namespaced(client.clone(), "default");
        secrets
            .create(&PostParams::default(), &token_secret("robot-token"))
            .await
            .expect("create");
    }
    let plain_secret = wait_for(
        &Api::namespaced(plain.clone(), "default"),
        "robot-token",
        |s: &Secret| s.data.as_ref().is_some_and(|d| d.contains_key("token")),
    )
    .await;
    assert_eq!(
        secret_str(&plain_secret, "token"),
        service_account_token("", "default", "robot")
    );
    assert_eq!(secret_str(&plain_secret, "namespace"), "default");
    assert!(secret_str(&plain_secret, "ca.crt").starts_with("-----BEGIN CERTIFICATE-----"));
    let kcp_secret = wait_for(
        &Api::namespaced(kcp.clone(), "default"),
        "robot-token",
        |s: &Secret| s.data.as_ref().is_some_and(|d| d.contains_key("token")),
    )
    .await;
    let cluster = server.logical_cluster("root");
    assert_eq!(
        secret_str(&kcp_secret, "token"),
        service_account_token(&cluster, "default", "robot")
    );
    server.shutdown().await;
}

#[tokio::test]
async fn component_secrets_and_identity_provider_clients_appear() {
    // Flux makes the HelmRelease CRD exist; its source is never created, so the release is made Ready by hand.
    let server = server(&[SimKind::Components]).await;
    let client = server.client();
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "platform-mesh-system");
    let domain = secrets
        .get("domain-certificate")
        .await
        .expect("domain certificate at start");
    assert!(secret_str(&domain, "ca.crt").starts_with("-----BEGIN CERTIFICATE-----"));

    crate::sim::crds::install(&client, &[HELM_RELEASE])
        .await
        .expect("HelmRelease CRD");
    let releases = dynamic(
        &client,
        &HELM_RELEASE.api_resource(),
        Some("platform-mesh-system"),
    );
    create(
        &releases,
        json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
        "metadata": {"name": "account-operator"}, "spec": {}}),
    )
    .await;
    assert!(
        secrets
            .get_opt("account-operator-webhook-server-cert")
            .await
            .expect("get")
            .is_none()
    );
    set_status(
        &releases,
        "account-operator",
        json!({"conditions": [{"type": "Ready", "status": "True",
        "reason": "InstallSucceeded", "message": "", "lastTransitionTime": "2026-01-01T00:00:00Z"}]}),
    )
    .await;
    let webhook = wait_for(&secrets, "account-operator-webhook-server-cert", |_| true).await;
    assert!(!secret_str(&webhook, "ca.crt").is_empty());

    // The IdentityProviderConfiguration type comes from the operator's manifests; a CRD stands in for it here.
    let root = server.kcp_client("root");
    let idp_crd = crate::sim::crds::Kind {
        group: "core.platform-mesh.io",
        version: "v1alpha1",
        kind: "IdentityProviderConfiguration",
        plural: "identityproviderconfigurations",
        short_names: &[],
        namespaced: false,
        columns: &[],
    };
    crate::sim::crds::install(&root, std::slice::from_ref(&idp_crd))
        .await
        .expect("IdP CRD");
    let idps = dynamic(&root, &idp_crd.api_resource(), None);
    create(
        &idps,
        json!({"apiVersion": "core.platform-mesh.io/v1alpha1", "kind": "IdentityProviderConfiguration",
        "metadata": {"name": "welcome"}, "spec": {}}),
    )
    .await;
    let welcome = wait_for(&idps, "welcome", |o| {
        o.data["status"]["managedClients"].is_object()
    })
    .await;
    assert_eq!(
        welcome.data["status"]["managedClients"]["welcome"]["clientId"],
        "welcome"
    );
    server.shutdown().await;
}

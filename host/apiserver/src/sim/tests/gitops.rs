//! Argo CD and OCM: both only derive status from specs.

use serde_json::json;

use super::*;
use crate::sim::argocd::{APPLICATION, PLACEHOLDER};
use crate::sim::ocm::{COMPONENT, RESOURCE};

#[tokio::test]
async fn applications_sync_unless_placeholder() {
    let server = server(&[SimKind::ArgoCd]).await;
    let client = server.client();
    namespace(&client, "argocd").await;
    let apps = dynamic(&client, &APPLICATION.api_resource(), Some("argocd"));
    let app = |name: &str, repo: &str| {
        json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": name},
            "spec": {"project": "default", "source": {"repoURL": repo, "targetRevision": "1.0.0"}}})
    };
    create(&apps, app("istio-istiod", "ghcr.io/charts")).await;
    create(&apps, app("pending", PLACEHOLDER)).await;
    let synced = wait_for(&apps, "istio-istiod", |o| {
        o.data["status"]["sync"]["status"] == "Synced"
    })
    .await;
    assert_eq!(synced.data["status"]["health"]["status"], "Healthy");
    let pending = wait_for(&apps, "pending", |o| o.data["status"]["sync"].is_object()).await;
    assert_eq!(pending.data["status"]["sync"]["status"], "OutOfSync");
    assert_eq!(pending.data["status"]["health"]["status"], "Missing");
    server.shutdown().await;
}

#[tokio::test]
async fn ocm_resource_resolves_from_its_component() {
    let server = server(&[SimKind::Ocm]).await;
    let client = server.client();
    namespace(&client, "pm").await;
    let components = dynamic(&client, &COMPONENT.api_resource(), Some("pm"));
    let resources = dynamic(&client, &RESOURCE.api_resource(), Some("pm"));
    create(&resources, json!({"apiVersion": "delivery.ocm.software/v1alpha1", "kind": "Resource",
        "metadata": {"name": "keycloak", "labels": {"artifact": "chart", "repo": "oci"}},
        "spec": {"componentRef": {"name": "pm"}, "resource": {"byReference": {"resource": {"name": "chart"}}}}}))
    .await;
    let waiting = wait_for(&resources, "keycloak", |o| condition(o, "Ready").is_some()).await;
    assert_eq!(condition(&waiting, "Ready").unwrap()["status"], "False");

    create(&components, json!({"apiVersion": "delivery.ocm.software/v1alpha1", "kind": "Component",
        "metadata": {"name": "pm"}, "spec": {"component": "github.com/platform-mesh/platform-mesh", "semver": "1.4.0"}}))
    .await;
    let resolved = wait_for(&resources, "keycloak", |o| is_ready(o, "Ready")).await;
    let status = &resolved.data["status"];
    assert_eq!(status["resource"]["version"], "1.4.0");
    assert_eq!(status["resource"]["name"], "chart");
    assert_eq!(
        status["resource"]["access"]["imageReference"],
        "ghcr.io/platform-mesh/charts/keycloak:1.4.0"
    );
    assert_eq!(status["component"]["version"], "1.4.0");
    let component = wait_for(&components, "pm", |o| is_ready(o, "Ready")).await;
    assert_eq!(component.data["status"]["component"]["version"], "1.4.0");
    server.shutdown().await;
}

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

#[tokio::test]
async fn simulators_retry_failed_writes_and_rewatch_dropped_streams() {
    use crate::{FaultAction, FaultRule, Verb};

    // Rules go in before the simulator starts, so that its very first watch is already affected.
    let server = server(&[]).await;
    let client = server.client();
    namespace(&client, "argocd").await;
    // The first status writes fail and the watch stream is cut after one event; the simulator must still converge.
    let error = FaultAction::Error {
        code: 500,
        message: None,
        retry_after_seconds: None,
    };
    server.faults().add(
        FaultRule::new(error)
            .verb(Verb::Patch)
            .resource("applications.argoproj.io")
            .times(3),
    );
    let drop = FaultAction::DropWatch {
        after_events: Some(1),
        after_millis: None,
    };
    server.faults().add(
        FaultRule::new(drop)
            .verb(Verb::Watch)
            .resource("applications.argoproj.io")
            .times(2),
    );
    let config = SimConfig::none()
        .enable(SimKind::ArgoCd)
        .with_delay(Duration::from_millis(10));
    let sims = crate::sim::spawn(server.url(), &config)
        .await
        .expect("simulators start");
    let apps = dynamic(&client, &APPLICATION.api_resource(), Some("argocd"));
    for name in ["first", "second"] {
        create(
            &apps,
            json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": name},
            "spec": {"source": {"repoURL": "ghcr.io/charts"}}}),
        )
        .await;
    }
    for name in ["first", "second"] {
        wait_for(&apps, name, |o| o.data["status"]["sync"]["status"] == "Synced").await;
    }
    // Spent rules are removed: every injected failure and drop really happened.
    assert!(
        server.faults().rules().is_empty(),
        "unspent fault rules: {:?}",
        server.faults().rules()
    );
    sims.shutdown().await;
    server.shutdown().await;
}

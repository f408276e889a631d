//! End to end: the wait plugin as the product documentation describes it, beyond the Go operator — an entry that
//! checks a status field instead of a condition (an Argo CD Application's health), an entry in the documented
//! nested shape (`apiVersions`, `groupKind`, `labelSelector`) that the API server keeps, and the default entry
//! waiting for the operator's HelmReleases in the PlatformMesh's namespace, where they are rendered.

use std::time::Duration;

use e2e::{
    api::{create, dynamic},
    operator::{self, Operator, Want},
    platform::{self, NS, repo_root},
};
use kube::api::{Patch, PatchParams};
use serde_json::{Value, json};

/// The operator with only the wait subroutine: the others need kcp and the deployment, which these scenarios do
/// not install.
async fn wait_only(server: &apiserver::Server) -> anyhow::Result<Operator> {
    let config = operator::config(
        server,
        &repo_root(),
        &[
            "--subroutines-deployment-enabled=false",
            "--subroutines-kcp-setup-enabled=false",
            "--subroutines-provider-secret-enabled=false",
        ],
    )?;
    Ok(Operator::spawn(&config, &operator::clients(server)?))
}

fn within(type_: &'static str, status: &'static str) -> Want<'static> {
    Want::condition(type_, status).within(Duration::from_secs(60))
}

async fn platform_mesh(client: &kube::Client, spec: Value) -> anyhow::Result<()> {
    let platform_meshes = platform::platform_meshes(client, Some(NS));
    create(
        &platform_meshes,
        json!({"apiVersion": "core.platform-mesh.io/v1alpha1", "kind": "PlatformMesh",
               "metadata": {"name": "platform-mesh", "namespace": NS}, "spec": spec}),
    )
    .await
}

/// An operator-created HelmRelease in `namespace` whose OCIRepository `component` does not exist yet.
async fn release(client: &kube::Client, namespace: &str) -> anyhow::Result<()> {
    create(
        &platform::helm_releases(client, Some(namespace)),
        json!({
            "apiVersion": "helm.toolkit.fluxcd.io/v2",
            "kind": "HelmRelease",
            "metadata": {"name": "component", "namespace": namespace,
                         "labels": {"core.platform-mesh.io/operator-created": "true"}},
            "spec": {"interval": "1m", "chartRef": {"kind": "OCIRepository", "name": "component"}},
        }),
    )
    .await
}

/// The release's source: the simulated Flux makes the release Ready once it exists.
async fn source(client: &kube::Client) -> anyhow::Result<()> {
    let sources = dynamic(
        client,
        "source.toolkit.fluxcd.io/v1",
        "OCIRepository",
        "ocirepositories",
        Some(NS),
    );
    create(&sources, json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "OCIRepository",
        "metadata": {"name": "component", "namespace": NS},
        "spec": {"interval": "1m", "url": "oci://example.invalid/charts/component", "ref": {"tag": "1.0.0"}},
    }))
    .await
}

#[tokio::test]
async fn status_field_entry_waits_for_an_application_to_be_healthy() -> anyhow::Result<()> {
    let server = platform::server(apiserver::sim::SimConfig::all()).await?;
    let client = server.client();
    platform::apply_samples(&client, &["namespace.yaml"]).await?;
    let applications = dynamic(
        &client,
        "argoproj.io/v1alpha1",
        "Application",
        "applications",
        Some(NS),
    );
    // Its source is still the operator's placeholder: Argo CD reports it Missing, and it has no Ready condition.
    create(
        &applications,
        json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": "portal", "namespace": NS},
            "spec": {"project": "default",
                     "source": {"repoURL": "PLACEHOLDER_TO_BE_SET_BY_RESOURCE_SUBROUTINE", "chart": "portal",
                                "targetRevision": "1.0.0"},
                     "destination": {"server": "https://kubernetes.default.svc", "namespace": NS}},
        }),
    )
    .await?;
    platform_mesh(
        &client,
        json!({"wait": {"resourceTypes": [{
            "group": "argoproj.io", "version": "v1alpha1", "kind": "Application", "namespace": NS,
            "name": "portal", "statusFieldPath": ".status.health.status", "statusFieldValue": "Healthy",
        }]}}),
    )
    .await?;
    let mut operator = wait_only(&server).await?;

    let message = operator.message(within("WaitSubroutine", "False")).await?;
    assert!(
        message.contains("portal of type Application is not ready yet"),
        "{message}"
    );
    let patch = json!({"spec": {"source": {"repoURL": "oci://example.invalid/charts"}}});
    applications
        .patch("portal", &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    operator.until(within("Ready", "True")).await?;

    operator.stop().await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn documented_entry_shape_is_kept_and_waited_for() -> anyhow::Result<()> {
    let server = platform::server(apiserver::sim::SimConfig::all()).await?;
    let client = server.client();
    platform::apply_samples(&client, &["namespace.yaml"]).await?;
    release(&client, NS).await?;
    let entry = json!({
        "apiVersions": {"versions": ["v2"]},
        "groupKind": {"group": "helm.toolkit.fluxcd.io", "kind": "HelmRelease"},
        "namespace": NS,
        "labelSelector": {"matchLabels": {"core.platform-mesh.io/operator-created": "true"}},
        "conditionType": "Ready", "conditionStatus": "True",
    });
    platform_mesh(&client, json!({"wait": {"resourceTypes": [entry.clone()]}})).await?;
    // The API server accepted the documented shape and pruned nothing of it.
    let stored = platform::platform_meshes(&client, Some(NS))
        .get("platform-mesh")
        .await?;
    assert_eq!(stored.data["spec"]["wait"]["resourceTypes"], json!([entry]));

    let mut operator = wait_only(&server).await?;
    let message = operator.message(within("WaitSubroutine", "False")).await?;
    assert!(
        message.contains(&format!("{NS}/component of type HelmRelease is not ready yet")),
        "{message}"
    );
    source(&client).await?;
    operator.until(within("Ready", "True")).await?;

    operator.stop().await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn default_entry_waits_for_the_releases_in_the_platform_mesh_namespace() -> anyhow::Result<()> {
    let server = platform::server(apiserver::sim::SimConfig::all()).await?;
    let client = server.client();
    platform::apply_samples(&client, &["namespace.yaml"]).await?;
    // A release the PlatformMesh does not own, in `default`, never Ready: the default entry does not look there.
    release(&client, "default").await?;
    release(&client, NS).await?;
    platform_mesh(&client, json!({})).await?;

    let mut operator = wait_only(&server).await?;
    let message = operator.message(within("WaitSubroutine", "False")).await?;
    assert!(
        message.contains(&format!("{NS}/component of type HelmRelease is not ready yet")),
        "{message}"
    );
    source(&client).await?;
    operator.until(within("Ready", "True")).await?;

    operator.stop().await?;
    server.shutdown().await;
    Ok(())
}

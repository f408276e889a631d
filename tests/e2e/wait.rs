//! End to end: the operator with the real wasm `wait` plugin against the embedded API server. A HelmRelease the
//! PlatformMesh waits for turns Ready through the simulated Flux, the PlatformMesh turns Ready, and deleting the
//! PlatformMesh lets it disappear: the wait subroutine declares no finalizer (upstream spec §3.5), so the object
//! carries none and nothing blocks its deletion.

use std::time::Duration;

use e2e::{
    api::{create, dynamic},
    operator::{self, Operator, Want},
    platform::{self, NS, repo_root},
    wait,
};
use kube::api::DeleteParams;
use serde_json::json;

#[tokio::test]
async fn helmrelease_ready_makes_platformmesh_ready_and_deletion_completes() -> anyhow::Result<()> {
    let server = platform::server(apiserver::sim::SimConfig::all()).await?;
    let client = server.client();
    platform::apply_samples(&client, &["namespace.yaml"]).await?;

    let selector =
        json!([{"key": "core.platform-mesh.io/operator-created", "operator": "In", "values": ["true"]}]);
    let releases = platform::helm_releases(&client, Some(NS));
    create(&releases, json!({
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": "component", "namespace": NS, "labels": {"core.platform-mesh.io/operator-created": "true"}},
        "spec": {"interval": "1m", "chartRef": {"kind": "OCIRepository", "name": "component"}},
    }))
    .await?;
    let platform_meshes = platform::platform_meshes(&client, Some(NS));
    create(
        &platform_meshes,
        json!({
            "apiVersion": "core.platform-mesh.io/v1alpha1",
            "kind": "PlatformMesh",
            "metadata": {"name": "platform-mesh", "namespace": NS},
            "spec": {"wait": {"resourceTypes": [{
                "group": "helm.toolkit.fluxcd.io", "version": "v2", "kind": "HelmRelease", "namespace": NS,
                "matchExpressions": selector, "conditionType": "Ready", "conditionStatus": "True",
            }]}},
        }),
    )
    .await?;

    // Only the wait subroutine: the others need kcp and the deployment, which this scenario does not install.
    let config = operator::config(
        &server,
        &repo_root(),
        &[
            "--subroutines-deployment-enabled=false",
            "--subroutines-kcp-setup-enabled=false",
            "--subroutines-provider-secret-enabled=false",
        ],
    )?;
    let mut operator = Operator::spawn(&config, &operator::clients(&server)?);
    let within = |type_, status| Want::condition(type_, status).within(Duration::from_secs(60));

    // The release's source does not exist yet: the wait plugin stops the chain.
    operator.until(within("WaitSubroutine", "False")).await?;
    let sources = dynamic(
        &client,
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
    .await?;
    operator.until(within("Ready", "True")).await?;
    let pm = platform_meshes.get("platform-mesh").await?;
    let conditions = serde_json::to_value(&pm.data["status"]["conditions"])?;
    let wait = conditions
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == "WaitSubroutine");
    assert_eq!(
        wait.map(|c| c["status"].clone()),
        Some(json!("True")),
        "{conditions}"
    );

    assert!(
        pm.metadata.finalizers.as_ref().is_none_or(Vec::is_empty),
        "{:?}",
        pm.metadata.finalizers
    );
    platform_meshes
        .delete("platform-mesh", &DeleteParams::default())
        .await?;
    wait::gone(&platform_meshes, "platform-mesh", Duration::from_secs(30)).await?;

    operator.stop().await?;
    server.shutdown().await;
    Ok(())
}

//! End to end: the sample PlatformMesh with the default (Flux) profile reaches Ready through the real wasm
//! deployment and wait plugins on the embedded API server with simulated Flux, cert-manager, kcp-operator and OCM
//! (its OCM Resources become Flux sources through the Resource controller);
//! a second reconcile of the unchanged PlatformMesh writes nothing; a changed profile ConfigMap is picked up
//! without a restart.

use std::time::Duration;

use anyhow::Context as _;
use e2e::{
    deployment::{Platform, start},
    platform::{NS, repo_root, samples},
    wait,
};
use kube::api::{Patch, PatchParams};
use serde_json::json;

const SAMPLES: [&str; 5] = [
    "namespace.yaml",
    "ocm.yaml",
    "kcp.yaml",
    "profile.yaml",
    "platformmesh.yaml",
];

/// Touches the profile ConfigMap and waits until the operator has read the profile again and writes have stopped.
async fn reconcile_once(
    platform: &Platform,
    configmaps: &kube::Api<k8s_openapi::api::core::v1::ConfigMap>,
    touch: &str,
) -> anyhow::Result<()> {
    platform.settle(Duration::from_millis(1500)).await?;
    let profile_reads = |s: &apiserver::RequestStats| s.by_resource.get("configmaps").copied().unwrap_or(0);
    let before = profile_reads(&platform.server.requests().snapshot());
    let patch = json!({"metadata": {"annotations": {"e2e/touch": touch}}});
    configmaps
        .patch(
            "platform-mesh-profile",
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await?;
    let what = format!("the operator reading the profile again after touch {touch}");
    wait::until(&what, Duration::from_secs(10), || async {
        Ok((profile_reads(&platform.server.requests().snapshot()) > before + 1).then_some(()))
    })
    .await?;
    platform.settle(Duration::from_millis(1500)).await
}

#[tokio::test]
async fn sample_platform_mesh_becomes_ready_then_steady_state_writes_nothing_and_profile_changes_apply()
-> anyhow::Result<()> {
    let mut platform = start(&repo_root(), samples(&SAMPLES)?).await?;
    platform
        .wait_for("Ready", "True", Duration::from_secs(120))
        .await?;

    let portal = platform.helm_releases().get("portal").await?;
    assert_eq!(
        portal
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("core.platform-mesh.io/operator-created")),
        Some(&"true".to_owned())
    );
    assert!(platform.ocm_resources().get_opt("portal-chart").await?.is_some());
    // The Resource controller turns the chart Resources into the Flux sources the HelmReleases reference.
    let sources = platform.api("source.toolkit.fluxcd.io/v1", "OCIRepository", "ocirepositories");
    wait::appears(&sources, "portal", Duration::from_secs(30))
        .await
        .context("OCIRepository portal was not created from Resource portal-chart")?;
    assert!(
        platform
            .helm_releases()
            .get_opt("terminal-controller-manager")
            .await?
            .is_none()
    );

    // Steady state. The first reconcile after Ready takes back the image tags the Resource controller wrote into
    // the HelmReleases (force apply, as upstream); from then on nothing changes. Touching the profile ConfigMap's
    // annotations (one write of ours) makes the operator reconcile the unchanged PlatformMesh.
    let configmaps =
        kube::Api::<k8s_openapi::api::core::v1::ConfigMap>::namespaced(platform.client.clone(), NS);
    reconcile_once(&platform, &configmaps, "1").await?;
    let before = platform.server.requests().snapshot();
    reconcile_once(&platform, &configmaps, "2").await?;
    let after = platform.server.requests().snapshot();
    println!(
        "steady state: {} writes, {} changed",
        after.writes - before.writes,
        after.changed_writes - before.changed_writes
    );
    assert_eq!(
        after.changed_writes - before.changed_writes,
        1,
        "only the test's own touch changes anything"
    );
    assert_eq!(
        after.writes - before.writes,
        1,
        "the deployment subroutine sends no write for unchanged objects"
    );

    // A changed profile is picked up without a restart.
    let profile = configmaps.get("platform-mesh-profile").await?;
    let text = profile
        .data
        .as_ref()
        .and_then(|d| d.get("profile.yaml"))
        .cloned()
        .unwrap_or_default();
    let changed = text.replacen(
        "  services:\n",
        "  services:\n    e2e-extra:\n      enabled: true\n",
        1,
    );
    assert_ne!(changed, text);
    let patch = json!({"data": {"profile.yaml": changed}});
    configmaps
        .patch(
            "platform-mesh-profile",
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await?;
    let extra = wait::appears(&platform.helm_releases(), "e2e-extra", Duration::from_secs(30)).await?;
    assert_eq!(extra.data["spec"]["chartRef"]["name"], json!("e2e-extra"));

    platform.shutdown().await
}

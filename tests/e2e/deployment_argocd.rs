//! End to end, Argo CD variant: the sample PlatformMesh with `spec.profileConfigMap` pointing at the Argo CD
//! profile reaches Ready; its services become Applications (with sync waves) and no HelmRelease is created.

use std::time::Duration;

use e2e::{
    deployment::start,
    platform::{repo_root, samples},
};

#[tokio::test]
async fn argocd_profile_deploys_applications_and_becomes_ready() -> anyhow::Result<()> {
    // Argo CD runs in (and its AppProjects live in) namespace `argocd`.
    let mut objects =
        vec![serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "argocd"}})];
    objects.extend(samples(&[
        "namespace.yaml",
        "ocm.yaml",
        "kcp.yaml",
        "profile-argocd.yaml",
        "platformmesh-argocd.yaml",
    ])?);
    let mut platform = start(&repo_root(), objects).await?;
    platform
        .wait_for("Ready", "True", Duration::from_secs(120))
        .await?;

    let portal = serde_json::to_value(platform.applications().get("portal").await?)?;
    assert_eq!(
        portal["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"],
        "4"
    );
    assert_eq!(portal["spec"]["project"], "platform-mesh-runtime");
    assert!(platform.applications().get_opt("cert-manager").await?.is_some());
    assert!(platform.helm_releases().get_opt("portal").await?.is_none());
    assert!(platform.ocm_resources().get_opt("portal-chart").await?.is_some());
    platform.shutdown().await
}

//! End to end, bad input: a profile with a YAML syntax error, a template with an unknown function and a missing
//! profile ConfigMap each leave the DeploymentSubroutine condition False with a message naming the ConfigMap key
//! or template file and line, and nothing of the failing part is applied.

use std::time::Duration;

use serde_json::{Value, json};

use e2e::{
    deployment::start,
    platform::{NS, copy_dir, repo_root, samples},
};

fn profile(text: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "platform-mesh-profile", "namespace": NS},
           "data": {"profile.yaml": text}})
}

#[tokio::test]
async fn a_profile_syntax_error_names_config_map_key_and_line_and_applies_nothing() -> anyhow::Result<()> {
    let mut objects = samples(&["namespace.yaml", "ocm.yaml", "kcp.yaml"])?;
    objects.push(profile(
        "infra:\n  deploymentTechnology: fluxcd\ncomponents:\n  services: [unclosed\n  x: 1\n",
    ));
    objects.extend(samples(&["platformmesh.yaml"])?);
    let mut platform = start(&repo_root(), objects).await?;
    let message = platform
        .wait_for("DeploymentSubroutine", "False", Duration::from_secs(60))
        .await?;
    assert!(
        message.contains("ConfigMap platform-mesh-system/platform-mesh-profile key profile.yaml line"),
        "{message}"
    );
    assert!(
        platform
            .helm_releases()
            .list(&Default::default())
            .await?
            .items
            .is_empty()
    );
    assert!(
        platform
            .ocm_resources()
            .list(&Default::default())
            .await?
            .items
            .is_empty()
    );
    platform.shutdown().await
}

#[tokio::test]
async fn a_missing_profile_config_map_is_named_and_nothing_is_applied() -> anyhow::Result<()> {
    let objects = samples(&["namespace.yaml", "ocm.yaml", "kcp.yaml", "platformmesh.yaml"])?;
    let mut platform = start(&repo_root(), objects).await?;
    let message = platform
        .wait_for("DeploymentSubroutine", "False", Duration::from_secs(60))
        .await?;
    assert!(
        message.contains("ConfigMap platform-mesh-system/platform-mesh-profile"),
        "{message}"
    );
    assert!(
        platform
            .helm_releases()
            .list(&Default::default())
            .await?
            .items
            .is_empty()
    );
    platform.shutdown().await
}

#[tokio::test]
async fn an_unknown_template_function_names_file_and_line_and_its_directory_applies_nothing()
-> anyhow::Result<()> {
    let workspace = tempfile::tempdir()?;
    for dir in ["gotemplates", "manifests", "deploy"] {
        copy_dir(&repo_root().join(dir), &workspace.path().join(dir))?;
    }
    std::fs::write(
        workspace
            .path()
            .join("gotemplates/components/infra/zz-broken.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: {{ .releaseNamespace | nosuchfunc }}\n",
    )?;
    let objects = samples(&[
        "namespace.yaml",
        "ocm.yaml",
        "kcp.yaml",
        "profile.yaml",
        "platformmesh.yaml",
    ])?;
    let mut platform = start(workspace.path(), objects).await?;
    let message = platform
        .wait_for("DeploymentSubroutine", "False", Duration::from_secs(60))
        .await?;
    assert!(message.contains("zz-broken.yaml:5"), "{message}");
    assert!(message.contains("nosuchfunc"), "{message}");
    // The directories before it were applied; nothing of components/infra was.
    assert!(platform.ocm_resources().get_opt("portal-chart").await?.is_some());
    assert!(platform.helm_releases().get_opt("portal").await?.is_none());
    platform.shutdown().await
}

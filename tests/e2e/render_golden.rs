//! `platform-mesh-operator render` golden files: the sample PlatformMesh with the default profile, rendered for
//! Flux and for Argo CD by the real deployment plugin against the offline clusters, compared exactly with
//! `tests/golden/render-<technology>.yaml`. `PMO_UPDATE_GOLDEN=1` rewrites them.

use e2e::platform::repo_root;
use platform_mesh_operator::{
    plugin::RuntimeConfig,
    render::{self, RenderError, RenderInput},
};

fn input(technology: Option<&str>, profile: String) -> anyhow::Result<RenderInput> {
    let root = repo_root();
    Ok(RenderInput {
        platform_mesh: render::read_platform_mesh(&root.join("deploy/samples/platformmesh.yaml"))?,
        profile,
        technology: technology.map(str::to_owned),
        workspace_dir: root,
        plugins_dir: RuntimeConfig::default_plugins_dir(),
        config: render::default_config()?,
    })
}

async fn check_golden(technology: &str) -> anyhow::Result<()> {
    let profile = render::read_profile(&repo_root().join("deploy/samples/profile.yaml"))?;
    let groups = render::render(&input(Some(technology), profile)?).await?;
    let yaml = render::to_yaml(&groups)?;
    let golden = repo_root().join(format!("tests/golden/render-{technology}.yaml"));
    if std::env::var_os("PMO_UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden, &yaml)?;
    }
    let expected = std::fs::read_to_string(&golden)?;
    assert!(
        yaml == expected,
        "render output differs from {} (PMO_UPDATE_GOLDEN=1 rewrites it):\n{yaml}",
        golden.display()
    );
    Ok(())
}

#[tokio::test]
async fn fluxcd_render_matches_the_golden_file() -> anyhow::Result<()> {
    check_golden("fluxcd").await
}

#[tokio::test]
async fn argocd_render_matches_the_golden_file() -> anyhow::Result<()> {
    check_golden("argocd").await
}

#[tokio::test]
async fn a_template_error_in_the_profile_names_the_key_and_line() -> anyhow::Result<()> {
    let profile = "infra:\n  deploymentTechnology: fluxcd\ncomponents:\n  services:\n    x:\n      enabled: {{ nosuch }}\n";
    let error = render::render(&input(None, profile.to_owned())?)
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, RenderError::Deployment(_)), "{message}");
    assert!(message.contains("key profile.yaml line 6"), "{message}");
    Ok(())
}

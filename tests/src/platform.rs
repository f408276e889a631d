//! The embedded platform: an API server with simulators and the operator's CRDs, the repository's samples, and
//! the objects other subroutines would have left behind.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use apiserver::{Server, ServerConfig, sim::SimConfig};
use kube::{Api, Client, api::DynamicObject};
use platform_mesh_operator::embedded;
use serde_json::{Value, json};

use crate::api::{apply, dynamic};

/// The namespace of the samples.
pub const NS: &str = "platform-mesh-system";
/// The name of the sample PlatformMesh.
pub const PM: &str = "platform-mesh";
/// The kcp workspace of the platform.
pub const PMS: &str = "root:platform-mesh-system";

/// The repository root (templates, manifests, samples and plugins are found from here).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("the repository root exists")
}

/// Starts an API server with `simulators` and installs the operator's CRDs.
pub async fn server(simulators: SimConfig) -> anyhow::Result<Server> {
    let server = apiserver::start(ServerConfig {
        simulators,
        ..ServerConfig::default()
    })
    .await?;
    embedded::install_crds(&server.client()).await?;
    Ok(server)
}

/// The documents of sample files under `deploy/samples`.
pub fn samples(files: &[&str]) -> anyhow::Result<Vec<Value>> {
    let mut out = Vec::new();
    for file in files {
        out.extend(embedded::read_documents(
            &repo_root().join("deploy/samples").join(file),
        )?);
    }
    Ok(out)
}

/// Applies `objects` in order, as the embedded mode does.
pub async fn apply_all(client: &Client, objects: impl IntoIterator<Item = Value>) -> anyhow::Result<()> {
    for object in objects {
        embedded::apply(client, &object)
            .await
            .with_context(|| format!("applying {} {}", object["kind"], object["metadata"]["name"]))?;
    }
    Ok(())
}

/// Applies sample files under `deploy/samples`.
pub async fn apply_samples(client: &Client, files: &[&str]) -> anyhow::Result<()> {
    apply_all(client, samples(files)?).await
}

/// The RootShard and FrontProxy the deployment subroutine would have applied; the simulated kcp-operator makes
/// them Available and writes the kcp admin Secrets.
pub async fn kcp_operator_objects(client: &Client) -> anyhow::Result<()> {
    for (kind, plural, name) in [
        ("RootShard", "rootshards", "root"),
        ("FrontProxy", "frontproxies", "frontproxy"),
    ] {
        let objects = dynamic(client, "operator.kcp.io/v1alpha1", kind, plural, Some(NS));
        let object = json!({"apiVersion": "operator.kcp.io/v1alpha1", "kind": kind,
                            "metadata": {"name": name, "namespace": NS}, "spec": {}});
        apply(&objects, object).await?;
    }
    Ok(())
}

/// The webhook CA Secrets the deployed operators would have written.
pub async fn webhook_ca_secrets(client: &Client) -> anyhow::Result<()> {
    let secrets = dynamic(client, "v1", "Secret", "secrets", Some(NS));
    for name in [
        "account-operator-webhook-server-cert",
        "security-operator-ca-secret",
    ] {
        let object = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": NS},
                            "stringData": {"ca.crt": format!("CA of {name}")}});
        apply(&secrets, object).await?;
    }
    Ok(())
}

/// PlatformMeshes in `namespace` (`None`: all).
pub fn platform_meshes(client: &Client, namespace: Option<&str>) -> Api<DynamicObject> {
    dynamic(
        client,
        "core.platform-mesh.io/v1alpha1",
        "PlatformMesh",
        "platformmeshes",
        namespace,
    )
}

/// HelmReleases in `namespace` (`None`: all).
pub fn helm_releases(client: &Client, namespace: Option<&str>) -> Api<DynamicObject> {
    dynamic(
        client,
        "helm.toolkit.fluxcd.io/v2",
        "HelmRelease",
        "helmreleases",
        namespace,
    )
}

/// Copies a directory tree.
pub fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

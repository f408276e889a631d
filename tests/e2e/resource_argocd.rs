//! End to end, Argo CD: the namespace's PlatformMesh profile says `argocd`, so the real wasm `resource` plugin,
//! run by the Resource controller, sets the Applications' chart sources (OCI and git) and writes the image version
//! into an Application's Helm values (a YAML string), with one field manager per Resource. A second pass over the
//! unchanged Resources makes no write request.

use std::sync::Arc;

use anyhow::ensure;
use e2e::resource::{Cluster, Controller, VERSION, plugin_runtime, resource_lifecycle};
use platform_mesh_operator::hostapi::{ImageVersion, ImageVersionStore};
use serde_json::{Value, json};

const NS: &str = "ocm-argo";
const PLACEHOLDER: &str = "PLACEHOLDER_TO_BE_SET_BY_RESOURCE_SUBROUTINE";

const PROFILE: &str = "\
# Only what the Resource subroutine reads; a comment and a duplicate key, as users write them.
infra:
  deploymentTechnology: fluxcd
  deploymentTechnology: ArgoCD
components:
  services: {}
";

const KCP_VALUES: &str = "\
image:
  repository: ghcr.io/kcp-dev/kcp
  tag: 0.0.1
replicas: 1
";

fn application(name: &str, source: Value) -> Value {
    json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
           "metadata": {"name": name, "namespace": NS},
           "spec": {"project": "platform-mesh-runtime", "source": source,
                    "destination": {"server": "https://kubernetes.default.svc", "namespace": NS}}})
}

async fn install(cluster: &Cluster) -> anyhow::Result<()> {
    cluster
        .apply(
            json!({"apiVersion": "core.platform-mesh.io/v1alpha1", "kind": "PlatformMesh",
                      "metadata": {"name": "platform-mesh", "namespace": NS}, "spec": {}}),
        )
        .await?;
    cluster
        .apply(json!({"apiVersion": "v1", "kind": "ConfigMap",
                      "metadata": {"name": "platform-mesh-profile", "namespace": NS},
                      "data": {"profile.yaml": PROFILE}}))
        .await?;
    let placeholder_source =
        |chart: &str| json!({"repoURL": PLACEHOLDER, "targetRevision": PLACEHOLDER, "chart": chart});
    cluster
        .apply(application("keycloak", placeholder_source("keycloak")))
        .await?;
    cluster
        .apply(application(
            "gateway-api",
            json!({"repoURL": PLACEHOLDER, "path": "config/crd"}),
        ))
        .await?;
    cluster
        .apply(application(
            "kcp",
            json!({"repoURL": "ghcr.io/platform-mesh/charts", "targetRevision": "0.0.1", "chart": "kcp",
                   "helm": {"values": KCP_VALUES}}),
        ))
        .await?;
    let chart = |repo: &str| json!({"artifact": "chart", "repo": repo});
    cluster
        .ocm_resource("keycloak-chart", chart("oci"), json!({}))
        .await?;
    cluster
        .ocm_resource("gateway-api", chart("git"), json!({}))
        .await?;
    cluster
        .ocm_resource(
            "kcp-image",
            json!({}),
            json!({"artifact": "image", "repo": "oci"}),
        )
        .await
}

fn managers(object: &Value) -> Vec<String> {
    object["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["manager"].as_str().map(str::to_owned))
        .collect()
}

async fn converged(cluster: &Cluster) -> anyhow::Result<()> {
    let apps = cluster.api("argoproj.io/v1alpha1", "Application", "applications");
    let keycloak = cluster
        .wait_for(&apps, "keycloak", "OCI chart source set", |a| {
            a["spec"]["source"]["targetRevision"] == VERSION
        })
        .await?;
    assert_eq!(
        keycloak["spec"]["source"]["repoURL"],
        "ghcr.io/platform-mesh/charts"
    );
    assert_eq!(keycloak["spec"]["source"]["chart"], "keycloak");
    assert!(
        managers(&keycloak).contains(&"platform-mesh-resource-keycloak-chart".to_owned()),
        "{:?}",
        managers(&keycloak)
    );
    // The simulated Argo CD syncs once the placeholder is gone.
    cluster
        .wait_for(&apps, "keycloak", "Synced", |a| {
            a["status"]["sync"]["status"] == "Synced"
        })
        .await?;

    let gateway = cluster
        .wait_for(&apps, "gateway-api", "git source set", |a| {
            a["spec"]["source"]["repoURL"] == "https://github.com/platform-mesh/gateway-api"
        })
        .await?;
    assert_eq!(
        gateway["spec"]["source"]["targetRevision"], VERSION,
        "the component version comes before the commit"
    );

    let kcp = cluster
        .wait_for(&apps, "kcp", "image version in the Helm values", |a| {
            a["spec"]["source"]["helm"]["values"]
                .as_str()
                .is_some_and(|v| v.contains(&format!("tag: {VERSION}")))
        })
        .await?;
    let values = kcp["spec"]["source"]["helm"]["values"]
        .as_str()
        .unwrap_or_default();
    assert!(values.contains("repository: ghcr.io/kcp-dev/kcp"), "{values}");
    assert!(values.contains("replicas: 1"), "{values}");
    assert_eq!(kcp["spec"]["source"]["chart"], "kcp");
    Ok(())
}

#[tokio::test]
async fn argocd_applications_get_chart_sources_and_image_values_and_a_second_pass_writes_nothing()
-> anyhow::Result<()> {
    let cluster = Cluster::start(NS).await?;
    install(&cluster).await?;
    let store = Arc::new(ImageVersionStore::new());
    let runtime = plugin_runtime(&cluster.client, store.clone())?;
    let controller = Controller::start(&cluster.client, resource_lifecycle(&runtime).await?);
    converged(&cluster).await?;
    assert_eq!(
        store.get(NS, "kcp"),
        [ImageVersion {
            path: "image.tag".into(),
            version: VERSION.into()
        }]
    );

    cluster.quiet().await?;
    controller.stop().await?;
    let before = cluster.stats();
    let reads = cluster.platform_mesh_reads();
    let controller = Controller::start(&cluster.client, resource_lifecycle(&runtime).await?);
    cluster.passes_since(reads, 3).await?;
    cluster.quiet().await?;
    let after = cluster.stats();
    ensure!(
        after.writes == before.writes,
        "steady state wrote {} times (changed by resource: {:?})",
        after.writes - before.writes,
        after.changed_by_resource,
    );
    controller.stop().await?;
    cluster.server.shutdown().await;
    Ok(())
}

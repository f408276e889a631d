//! End to end, Flux: OCM Resources resolved by the simulated OCM controller become Flux sources and HelmRelease
//! versions through the real wasm `resource` plugin run by the Resource controller; a second pass over the
//! unchanged Resources (after swapping in a freshly loaded plugin) makes no write request at all, and the image
//! version store keeps what the first plugin recorded. A second scenario runs the whole operator (`run`) to show
//! the Resource controller is wired in beside the PlatformMesh controller.

use std::sync::Arc;

use anyhow::ensure;
use e2e::{
    operator::{self, Operator},
    platform::repo_root,
    resource::{Cluster, Controller, VERSION, eventually, plugin_runtime, resource_lifecycle},
};
use platform_mesh_operator::hostapi::{ImageVersion, ImageVersionStore};
use serde_json::{Value, json};

const NS: &str = "ocm-flux";

fn helm_release(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
           "metadata": {"name": name, "namespace": NS, "labels": {"core.platform-mesh.io/operator-created": "true"}},
           "spec": spec})
}

/// Releases the Deployment subroutine would have created, and the Resources that drive them.
async fn install(cluster: &Cluster) -> anyhow::Result<()> {
    cluster
        .apply(helm_release(
            "traefik",
            json!({"interval": "1m", "suspend": true, "chart": {"spec": {"chart": "traefik", "version": "0.0.1",
                   "sourceRef": {"kind": "HelmRepository", "name": "traefik"}}}}),
        ))
        .await?;
    cluster
        .apply(helm_release(
            "kcp",
            json!({"interval": "1m", "chartRef": {"kind": "OCIRepository", "name": "kcp"},
                   "values": {"image": {"repository": "ghcr.io/kcp-dev/kcp", "tag": "0.0.1"}, "replicas": 1}}),
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
        .ocm_resource("traefik-chart", chart("helm"), json!({"unsuspend": "true"}))
        .await?;
    cluster
        .ocm_resource(
            "kcp-image",
            json!({}),
            json!({"artifact": "image", "repo": "oci", "path": "image.tag"}),
        )
        .await?;
    cluster.ocm_resource("unrelated", json!({}), json!({})).await
}

/// Every Resource has done its work.
async fn converged(cluster: &Cluster) -> anyhow::Result<()> {
    let source = |kind, plural| cluster.api("source.toolkit.fluxcd.io/v1", kind, plural);
    let releases = cluster.api("helm.toolkit.fluxcd.io/v2", "HelmRelease", "helmreleases");

    let oci = cluster
        .wait_for(
            &source("OCIRepository", "ocirepositories"),
            "keycloak",
            "applied",
            |_| true,
        )
        .await?;
    assert_eq!(oci["spec"]["url"], "oci://ghcr.io/platform-mesh/charts/keycloak");
    assert_eq!(oci["spec"]["ref"], json!({"tag": VERSION}));
    assert_eq!(oci["spec"]["provider"], "generic");
    assert_eq!(oci["spec"]["interval"], "1m0s");
    assert_eq!(
        oci["spec"]["layerSelector"]["mediaType"],
        "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
    );
    let managers: Vec<&str> = oci["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["manager"].as_str())
        .collect();
    assert!(managers.contains(&"platform-mesh-resource"), "{managers:?}");

    let git = cluster
        .wait_for(
            &source("GitRepository", "gitrepositories"),
            "gateway-api",
            "applied",
            |_| true,
        )
        .await?;
    assert_eq!(git["spec"]["url"], "https://github.com/platform-mesh/gateway-api");
    assert_eq!(git["spec"]["ref"]["commit"].as_str().map(str::len), Some(40));
    assert_eq!(git["spec"]["timeout"], "5m");

    let helm = cluster
        .wait_for(
            &source("HelmRepository", "helmrepositories"),
            "traefik",
            "applied",
            |_| true,
        )
        .await?;
    assert_eq!(helm["spec"]["url"], "https://charts.platform-mesh.io/traefik");
    assert_eq!(helm["spec"]["interval"], "5m");

    let traefik = cluster
        .wait_for(&releases, "traefik", "chart version set and unsuspended", |r| {
            r["spec"]["chart"]["spec"]["version"] == VERSION && r["spec"]["suspend"] == false
        })
        .await?;
    assert_eq!(traefik["spec"]["chart"]["spec"]["chart"], "traefik");
    let kcp = cluster
        .wait_for(&releases, "kcp", "image version set", |r| {
            r["spec"]["values"]["image"]["tag"] == VERSION
        })
        .await?;
    assert_eq!(
        kcp["spec"]["values"]["image"]["repository"],
        "ghcr.io/kcp-dev/kcp"
    );
    assert_eq!(kcp["spec"]["values"]["replicas"], 1);
    // The simulated helm-controller takes the unsuspended release with its now existing source to Ready.
    cluster
        .wait_for(&releases, "traefik", "Ready", |r| {
            r["status"]["conditions"]
                .as_array()
                .is_some_and(|cs| cs.iter().any(|c| c["type"] == "Ready" && c["status"] == "True"))
        })
        .await?;
    Ok(())
}

#[tokio::test]
async fn ocm_resources_become_flux_sources_and_release_versions_and_a_second_pass_writes_nothing()
-> anyhow::Result<()> {
    let cluster = Cluster::start(NS).await?;
    install(&cluster).await?;
    let store = Arc::new(ImageVersionStore::new());
    let runtime = plugin_runtime(&cluster.client, store.clone())?;
    let controller = Controller::start(&cluster.client, resource_lifecycle(&runtime).await?);
    converged(&cluster).await?;
    let recorded = vec![ImageVersion {
        path: "image.tag".into(),
        version: VERSION.into(),
    }];
    assert_eq!(store.get(NS, "kcp"), recorded);
    assert!(store.is_unsuspended(NS, "traefik"));

    // Stop, swap in a freshly loaded plugin, and let a new controller pass over every unchanged Resource.
    cluster.quiet().await?;
    controller.stop().await?;
    let swapped = resource_lifecycle(&runtime).await?;
    assert_eq!(
        store.get(NS, "kcp"),
        recorded,
        "the store survives the plugin swap"
    );
    let before = cluster.stats();
    let reads = cluster.platform_mesh_reads();
    let controller = Controller::start(&cluster.client, swapped);
    cluster.passes_since(reads, 5).await?;
    cluster.quiet().await?;
    let after = cluster.stats();
    ensure!(
        after.writes == before.writes && after.changed_writes == before.changed_writes,
        "steady state wrote: {} writes, {} changed (by resource: {:?})",
        after.writes - before.writes,
        after.changed_writes - before.changed_writes,
        after.changed_by_resource,
    );
    println!(
        "second pass over 5 Resources: {} requests, {} reads, {} writes",
        after.total - before.total,
        after.reads - before.reads,
        after.writes - before.writes
    );
    controller.stop().await?;
    cluster.server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn the_operator_runs_the_resource_controller_with_the_shipped_chain_and_permissions()
-> anyhow::Result<()> {
    let cluster = Cluster::start(NS).await?;
    cluster
        .ocm_resource(
            "keycloak-chart",
            json!({"artifact": "chart", "repo": "oci"}),
            json!({}),
        )
        .await?;
    cluster
        .apply(helm_release(
            "kcp",
            json!({"interval": "1m", "chartRef": {"kind": "OCIRepository", "name": "kcp"}, "values": {}}),
        ))
        .await?;
    cluster
        .ocm_resource(
            "kcp-image",
            json!({"artifact": "image", "repo": "oci"}),
            json!({}),
        )
        .await?;
    let config = operator::config(&cluster.server, &repo_root(), &[])?;
    let operator = Operator::spawn(&config, &operator::clients(&cluster.server)?);
    let sources = cluster.api("source.toolkit.fluxcd.io/v1", "OCIRepository", "ocirepositories");
    eventually("the OCIRepository of keycloak-chart", || async {
        let found = sources.get_opt("keycloak").await?;
        ensure!(found.is_some(), "no OCIRepository yet");
        Ok(())
    })
    .await?;
    // The shipped configuration's least-privilege permissions allow the HelmRelease patch too.
    let releases = cluster.api("helm.toolkit.fluxcd.io/v2", "HelmRelease", "helmreleases");
    cluster
        .wait_for(&releases, "kcp", "image version set", |r| {
            r["spec"]["values"]["image"]["tag"] == VERSION
        })
        .await?;
    operator.stop().await?;
    cluster.server.shutdown().await;
    Ok(())
}

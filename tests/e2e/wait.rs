//! End to end: the operator with the real wasm `wait` plugin against the embedded API server. A HelmRelease the
//! PlatformMesh waits for turns Ready through the simulated Flux, the PlatformMesh turns Ready, and deleting the
//! PlatformMesh lets it disappear: the wait subroutine declares no finalizer (upstream spec §3.5), so the object
//! carries none and nothing blocks its deletion.

use std::{path::PathBuf, time::Duration};

use anyhow::{Context as _, bail};
use apiserver::{ServerConfig, sim::SimConfig};
use clap::Parser;
use kube::{
    Api, Client,
    api::{ApiResource, DeleteParams, DynamicObject, GroupVersionKind, PostParams},
};
use platform_mesh_operator::{
    clusters::KcpAdmin,
    config::OperatorConfig,
    controller::{
        ProgressEvent, ProgressSink,
        operator::{self, OperatorClients},
    },
    embedded,
};
use serde_json::{Value, json};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio_util::sync::CancellationToken;

const NS: &str = "platform-mesh-system";

#[derive(Parser)]
struct Flags {
    #[command(flatten)]
    config: OperatorConfig,
}

fn dynamic(client: &Client, group: &str, version: &str, kind: &str, plural: &str) -> Api<DynamicObject> {
    let resource = ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural);
    Api::namespaced_with(client.clone(), NS, &resource)
}

async fn create(api: &Api<DynamicObject>, object: Value) -> anyhow::Result<()> {
    let object: DynamicObject = serde_json::from_value(object)?;
    api.create(&PostParams::default(), &object)
        .await
        .context("creating an object")?;
    Ok(())
}

/// Waits for a change of `type_` on the PlatformMesh to `status`, printing what arrives.
async fn wait_for(
    events: &mut UnboundedReceiver<ProgressEvent>,
    type_: &str,
    status: &str,
) -> anyhow::Result<()> {
    let wait = async {
        while let Some(event) = events.recv().await {
            println!(
                "{} {} {} {}",
                event.change.type_, event.change.status, event.change.reason, event.change.message
            );
            if event.change.type_ == type_ && event.change.status == status {
                return Ok(());
            }
        }
        bail!("the operator stopped")
    };
    tokio::time::timeout(Duration::from_secs(60), wait)
        .await
        .with_context(|| format!("waiting for {type_}={status}"))?
}

#[tokio::test]
async fn helmrelease_ready_makes_platformmesh_ready_and_deletion_completes() -> anyhow::Result<()> {
    let server = apiserver::start(ServerConfig {
        simulators: SimConfig::all(),
        ..ServerConfig::default()
    })
    .await?;
    let client = server.client();
    embedded::install_crds(&client).await?;
    let repo_root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    for object in embedded::read_documents(&repo_root.join("deploy/samples/namespace.yaml"))? {
        embedded::apply(&client, &object).await?;
    }

    let selector =
        json!([{"key": "core.platform-mesh.io/operator-created", "operator": "In", "values": ["true"]}]);
    let releases = dynamic(
        &client,
        "helm.toolkit.fluxcd.io",
        "v2",
        "HelmRelease",
        "helmreleases",
    );
    create(&releases, json!({
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": "component", "namespace": NS, "labels": {"core.platform-mesh.io/operator-created": "true"}},
        "spec": {"interval": "1m", "chartRef": {"kind": "OCIRepository", "name": "component"}},
    }))
    .await?;
    let platform_meshes = dynamic(
        &client,
        "core.platform-mesh.io",
        "v1alpha1",
        "PlatformMesh",
        "platformmeshes",
    );
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
    let mut config = Flags::try_parse_from([
        "e2e",
        "--subroutines-deployment-enabled=false",
        "--subroutines-kcp-setup-enabled=false",
        "--subroutines-provider-secret-enabled=false",
    ])?
    .config;
    config.workspace_dir = repo_root.canonicalize()?;
    config.kcp.kcp_url = server.url().to_owned();
    let kcp = kube::Config::new(server.url().parse()?);
    let clients = OperatorClients {
        runtime: client.clone(),
        infra: client.clone(),
        kcp_admin: KcpAdmin::Config(Box::new(kcp)),
    };
    let (progress, mut events) = ProgressSink::channel();
    let stop = CancellationToken::new();
    let stopped = stop.clone();
    let operator =
        tokio::spawn(
            async move { operator::run(&config, clients, progress, stopped.cancelled_owned()).await },
        );

    // The release's source does not exist yet: the wait plugin stops the chain.
    wait_for(&mut events, "WaitSubroutine", "False").await?;
    let sources = dynamic(
        &client,
        "source.toolkit.fluxcd.io",
        "v1",
        "OCIRepository",
        "ocirepositories",
    );
    create(&sources, json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "OCIRepository",
        "metadata": {"name": "component", "namespace": NS},
        "spec": {"interval": "1m", "url": "oci://example.invalid/charts/component", "ref": {"tag": "1.0.0"}},
    }))
    .await?;
    wait_for(&mut events, "Ready", "True").await?;
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
    let gone = async {
        while platform_meshes.get_opt("platform-mesh").await?.is_some() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::Ok(())
    };
    tokio::time::timeout(Duration::from_secs(30), gone)
        .await
        .context("the PlatformMesh is deleted")??;

    stop.cancel();
    tokio::time::timeout(Duration::from_secs(30), operator)
        .await??
        .context("operator run")?;
    server.shutdown().await;
    Ok(())
}

//! Shared set-up of the reliability tests: the embedded platform with N PlatformMesh instances, each in its own
//! namespace and waiting (spec.wait) for its own HelmRelease, which the simulated Flux makes Ready; the operator
//! with the wait chain; and the checks that nothing is missing or duplicated.

#![allow(dead_code)] // each test binary uses a different part

use std::{
    collections::BTreeSet,
    path::PathBuf,
    time::{Duration, Instant},
};

use anyhow::{Context as _, bail, ensure};
use apiserver::{ServerConfig, sim::SimConfig};
use clap::Parser;
use kube::{
    Api, Client,
    api::{ApiResource, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams},
};
use platform_mesh_operator::{
    clusters::KcpAdmin,
    config::OperatorConfig,
    controller::{
        ProgressSink,
        operator::{self, OperatorClients, RunError},
    },
    embedded,
};
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

const MANAGER: &str = "reliability-test";

#[derive(Parser)]
struct Flags {
    #[command(flatten)]
    config: OperatorConfig,
}

/// The namespace of instance `i`.
pub fn namespace(i: usize) -> String {
    format!("pm-{i:03}")
}

fn api(
    client: &Client,
    group: &str,
    version: &str,
    kind: &str,
    plural: &str,
    ns: Option<&str>,
) -> Api<DynamicObject> {
    let resource = ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural);
    match ns {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &resource),
        None => Api::all_with(client.clone(), &resource),
    }
}

/// All PlatformMeshes (or those of one namespace).
pub fn platform_meshes(client: &Client, ns: Option<&str>) -> Api<DynamicObject> {
    api(
        client,
        "core.platform-mesh.io",
        "v1alpha1",
        "PlatformMesh",
        "platformmeshes",
        ns,
    )
}

/// All HelmReleases (or those of one namespace).
pub fn helm_releases(client: &Client, ns: Option<&str>) -> Api<DynamicObject> {
    api(
        client,
        "helm.toolkit.fluxcd.io",
        "v2",
        "HelmRelease",
        "helmreleases",
        ns,
    )
}

async fn apply(api: &Api<DynamicObject>, object: Value) -> anyhow::Result<()> {
    let name = object["metadata"]["name"].as_str().unwrap_or_default().to_owned();
    api.patch(
        &name,
        &PatchParams::apply(MANAGER).force(),
        &Patch::Apply(&object),
    )
    .await
    .with_context(|| format!("applying {} {name}", object["kind"]))?;
    Ok(())
}

/// The embedded platform: API server with every simulator, CRDs installed.
pub struct Platform {
    /// The server.
    pub server: apiserver::Server,
    /// A client of the plain cluster.
    pub client: Client,
    /// The repository root (the operator's workspace directory).
    pub repo: PathBuf,
    /// A compiled-plugin cache shared by every operator the test starts (warm after the first).
    pub cache: tempfile::TempDir,
}

impl Platform {
    /// Starts the server and installs the CRDs.
    pub async fn start() -> anyhow::Result<Self> {
        let server = apiserver::start(ServerConfig {
            simulators: SimConfig::all(),
            ..ServerConfig::default()
        })
        .await?;
        let client = server.client();
        embedded::install_crds(&client).await?;
        let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .canonicalize()?;
        Ok(Platform {
            server,
            client,
            repo,
            cache: tempfile::tempdir()?,
        })
    }

    /// Creates instances `range`: a namespace, an OCIRepository and a HelmRelease Flux makes Ready, and a
    /// PlatformMesh `pm` waiting for that HelmRelease.
    pub async fn add_instances(&self, range: std::ops::Range<usize>) -> anyhow::Result<()> {
        let namespaces = api(&self.client, "", "v1", "Namespace", "namespaces", None);
        for i in range {
            let ns = namespace(i);
            apply(
                &namespaces,
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
            )
            .await?;
            let sources = api(
                &self.client,
                "source.toolkit.fluxcd.io",
                "v1",
                "OCIRepository",
                "ocirepositories",
                Some(&ns),
            );
            apply(&sources, json!({
                "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "OCIRepository",
                "metadata": {"name": "component", "namespace": ns},
                "spec": {"interval": "1m", "url": "oci://example.invalid/charts/component", "ref": {"tag": "1.0.0"}},
            }))
            .await?;
            apply(
                &helm_releases(&self.client, Some(&ns)),
                json!({
                    "apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
                    "metadata": {"name": "component", "namespace": ns,
                                 "labels": {"core.platform-mesh.io/operator-created": "true"}},
                    "spec": {"interval": "1m", "chartRef": {"kind": "OCIRepository", "name": "component"}},
                }),
            )
            .await?;
            let selector = json!([{"key": "core.platform-mesh.io/operator-created", "operator": "In", "values": ["true"]}]);
            apply(&platform_meshes(&self.client, Some(&ns)), json!({
                "apiVersion": "core.platform-mesh.io/v1alpha1", "kind": "PlatformMesh",
                "metadata": {"name": "pm", "namespace": ns},
                "spec": {"wait": {"resourceTypes": [{
                    "group": "helm.toolkit.fluxcd.io", "version": "v2", "kind": "HelmRelease", "namespace": ns,
                    "matchExpressions": selector, "conditionType": "Ready", "conditionStatus": "True",
                }]}},
            }))
            .await?;
        }
        Ok(())
    }

    /// The operator configuration of these tests: the wait chain (the other subroutines need the whole
    /// platform, which one PlatformMesh per cluster owns), the shared plugin cache.
    pub fn config(&self) -> anyhow::Result<OperatorConfig> {
        let mut config = Flags::try_parse_from([
            "reliability",
            "--subroutines-deployment-enabled=false",
            "--subroutines-kcp-setup-enabled=false",
            "--subroutines-provider-secret-enabled=false",
        ])?
        .config;
        config.workspace_dir = self.repo.clone();
        config.kcp.kcp_url = self.server.url().to_owned();
        config.plugins.plugin_cache_dir = Some(self.cache.path().to_owned());
        Ok(config)
    }

    /// The operator's clients (kube retries 429/503 itself; the operator sees what is left).
    pub fn clients(&self) -> anyhow::Result<OperatorClients> {
        Ok(OperatorClients {
            runtime: self.client.clone(),
            infra: self.client.clone(),
            kcp_admin: KcpAdmin::Config(Box::new(kube::Config::new(self.server.url().parse()?))),
        })
    }

    /// Starts an operator; it runs until `stop` is cancelled.
    pub fn spawn_operator(
        &self,
        progress: ProgressSink,
        stop: CancellationToken,
    ) -> anyhow::Result<JoinHandle<Result<(), RunError>>> {
        let (config, clients) = (self.config()?, self.clients()?);
        Ok(tokio::spawn(async move {
            operator::run(&config, clients, progress, stop.cancelled_owned()).await
        }))
    }

    /// How many of the PlatformMeshes are Ready (a failed list counts as none: the caller polls).
    pub async fn ready(&self) -> usize {
        let Ok(list) = platform_meshes(&self.client, None)
            .list(&ListParams::default())
            .await
        else {
            return 0;
        };
        list.items
            .iter()
            .filter(|pm| condition(pm, "Ready") == Some("True"))
            .count()
    }

    /// Polls until `n` PlatformMeshes are Ready; returns how long it took.
    pub async fn wait_ready(&self, n: usize, timeout: Duration) -> anyhow::Result<Duration> {
        let started = Instant::now();
        loop {
            let ready = self.ready().await;
            if ready >= n {
                return Ok(started.elapsed());
            }
            if started.elapsed() > timeout {
                bail!("only {ready} of {n} PlatformMeshes Ready after {timeout:?}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Every instance `0..n` exists exactly once, with its HelmRelease, one condition per type and no
    /// duplicated finalizer.
    pub async fn check_complete(&self, n: usize) -> anyhow::Result<()> {
        let pms = platform_meshes(&self.client, None)
            .list(&ListParams::default())
            .await?;
        let found: BTreeSet<String> = pms
            .items
            .iter()
            .filter_map(|pm| pm.metadata.namespace.clone())
            .collect();
        let wanted: BTreeSet<String> = (0..n).map(namespace).collect();
        ensure!(
            pms.items.len() == n,
            "{} PlatformMeshes, expected {n}",
            pms.items.len()
        );
        ensure!(
            found == wanted,
            "PlatformMeshes missing: {:?}",
            wanted.difference(&found).collect::<Vec<_>>()
        );
        for pm in &pms.items {
            let key = pm.metadata.namespace.clone().unwrap_or_default();
            let conditions = conditions(pm);
            let types: Vec<&str> = conditions.iter().filter_map(|c| c["type"].as_str()).collect();
            let unique: BTreeSet<&str> = types.iter().copied().collect();
            ensure!(
                unique.len() == types.len(),
                "{key}: duplicated conditions {types:?}"
            );
            let finalizers = pm.metadata.finalizers.clone().unwrap_or_default();
            let unique: BTreeSet<&String> = finalizers.iter().collect();
            ensure!(
                unique.len() == finalizers.len(),
                "{key}: duplicated finalizers {finalizers:?}"
            );
        }
        let releases = helm_releases(&self.client, None)
            .list(&ListParams::default())
            .await?;
        ensure!(
            releases.items.len() == n,
            "{} HelmReleases, expected {n}",
            releases.items.len()
        );
        Ok(())
    }
}

fn conditions(object: &DynamicObject) -> Vec<Value> {
    object.data["status"]["conditions"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The status of condition `type_`.
pub fn condition<'a>(object: &'a DynamicObject, type_: &str) -> Option<&'a str> {
    object.data["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)?
        .get("status")?
        .as_str()
}

/// Prints the request statistics of the server since `since` (a snapshot taken earlier).
pub fn print_requests(label: &str, server: &apiserver::Server, since: &apiserver::RequestStats) {
    let now = server.requests().snapshot();
    println!(
        "{label}: {} requests ({} reads, {} writes, {} changed state), {} answered with an error",
        now.total - since.total,
        now.reads - since.reads,
        now.writes - since.writes,
        now.changed_writes - since.changed_writes,
        now.errors - since.errors,
    );
}

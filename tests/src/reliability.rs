//! Shared set-up of the reliability tests: the embedded platform with N PlatformMesh instances, each in its own
//! namespace and waiting (spec.wait) for its own HelmRelease, which the simulated Flux makes Ready; the operator
//! with the wait chain; and the checks that nothing is missing or duplicated.

use std::{
    collections::BTreeSet,
    path::PathBuf,
    time::{Duration, Instant},
};

use anyhow::{bail, ensure};
use apiserver::sim::SimConfig;
use kube::{Client, api::ListParams};
use platform_mesh_operator::{
    config::OperatorConfig,
    controller::{
        ProgressSink,
        operator::{self, OperatorClients, RunError},
    },
};
use serde_json::json;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{
    api::{apply, condition, conditions, dynamic},
    operator::clients,
    platform::{self, helm_releases, platform_meshes, repo_root},
};

/// The namespace of instance `i`.
pub fn namespace(i: usize) -> String {
    format!("pm-{i:03}")
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
        let server = platform::server(SimConfig::all()).await?;
        let client = server.client();
        Ok(Platform {
            server,
            client,
            repo: repo_root(),
            cache: tempfile::tempdir()?,
        })
    }

    /// Creates instances `range`: a namespace, an OCIRepository and a HelmRelease Flux makes Ready, and a
    /// PlatformMesh `pm` waiting for that HelmRelease.
    pub async fn add_instances(&self, range: std::ops::Range<usize>) -> anyhow::Result<()> {
        let namespaces = dynamic(&self.client, "v1", "Namespace", "namespaces", None);
        for i in range {
            let ns = namespace(i);
            apply(
                &namespaces,
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
            )
            .await?;
            let sources = dynamic(
                &self.client,
                "source.toolkit.fluxcd.io/v1",
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
        let mut config = crate::operator::config(
            &self.server,
            &self.repo,
            &[
                "--subroutines-deployment-enabled=false",
                "--subroutines-kcp-setup-enabled=false",
                "--subroutines-provider-secret-enabled=false",
            ],
        )?;
        config.plugins.plugin_cache_dir = Some(self.cache.path().to_owned());
        Ok(config)
    }

    /// The operator's clients (kube retries 429/503 itself; the operator sees what is left).
    pub fn clients(&self) -> anyhow::Result<OperatorClients> {
        clients(&self.server)
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

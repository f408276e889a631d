//! Shared setup of the Resource controller scenarios: an embedded API server with every simulator, the real
//! wasm `resource` plugin in a plugin runtime whose image version store the test keeps, and the Resource
//! controller started and stopped at will.

#![allow(dead_code)] // Each scenario binary uses a different part of this module.

use std::{future::Future, path::PathBuf, sync::Arc, time::Duration};

use anyhow::{Context as _, bail};
use apiserver::{RequestStats, ServerConfig, sim::SimConfig};
use kube::{
    Api, Client,
    api::{ApiResource, DynamicObject, GroupVersionKind},
};
use platform_mesh_operator::{
    clusters::{Clusters, KcpAdmin},
    controller::{platformmesh::ControllerSettings, resource},
    embedded,
    hostapi::{HostServices, ImageVersionStore},
    lifecycle::{Lifecycle, Target},
    plugin::{PluginRuntime, RuntimeConfig},
};
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The version the simulated OCM component resolves to.
pub const VERSION: &str = "1.2.3";

/// How long any awaited state may take.
const PATIENCE: Duration = Duration::from_secs(60);

/// The repository root (templates, samples, plugins are found from here).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("the repository root exists")
}

/// An embedded API server with the operator's CRDs, every simulator, a namespace and the OCM component.
pub struct Cluster {
    pub server: apiserver::Server,
    pub client: Client,
    pub namespace: String,
}

impl Cluster {
    pub async fn start(namespace: &str) -> anyhow::Result<Self> {
        let server = apiserver::start(ServerConfig {
            simulators: SimConfig::all(),
            ..ServerConfig::default()
        })
        .await?;
        let client = server.client();
        embedded::install_crds(&client).await?;
        let cluster = Cluster {
            server,
            client,
            namespace: namespace.to_owned(),
        };
        cluster
            .apply(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}))
            .await?;
        cluster
            .apply(json!({
                "apiVersion": "delivery.ocm.software/v1alpha1", "kind": "Component",
                "metadata": {"name": "platform-mesh", "namespace": namespace},
                "spec": {"component": "github.com/platform-mesh/platform-mesh", "semver": VERSION,
                         "repositoryRef": {"name": "platform-mesh"}, "interval": "1m0s"},
            }))
            .await?;
        Ok(cluster)
    }

    /// Server-side applies an object as the test's own field manager.
    pub async fn apply(&self, object: Value) -> anyhow::Result<()> {
        embedded::apply(&self.client, &object)
            .await
            .with_context(|| format!("applying {}", object["metadata"]["name"]))
    }

    /// An OCM Resource in the namespace, resolved by the simulated OCM controller against the component.
    pub async fn ocm_resource(&self, name: &str, labels: Value, annotations: Value) -> anyhow::Result<()> {
        self.apply(json!({
            "apiVersion": "delivery.ocm.software/v1alpha1", "kind": "Resource",
            "metadata": {"name": name, "namespace": self.namespace, "labels": labels, "annotations": annotations},
            "spec": {"componentRef": {"name": "platform-mesh"},
                     "resource": {"byReference": {"resource": {"name": "chart"}}}, "interval": "10m"},
        }))
        .await
    }

    pub fn api(&self, group: &str, version: &str, kind: &str, plural: &str) -> Api<DynamicObject> {
        let gvk = GroupVersionKind::gvk(group, version, kind);
        Api::namespaced_with(
            self.client.clone(),
            &self.namespace,
            &ApiResource::from_gvk_with_plural(&gvk, plural),
        )
    }

    /// The object as JSON once `ready` holds for it.
    pub async fn wait_for(
        &self,
        api: &Api<DynamicObject>,
        name: &str,
        what: &str,
        ready: impl Fn(&Value) -> bool,
    ) -> anyhow::Result<Value> {
        let poll = async {
            loop {
                if let Some(object) = api.get_opt(name).await? {
                    let value = serde_json::to_value(&object)?;
                    if ready(&value) {
                        return anyhow::Ok(value);
                    }
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        };
        tokio::time::timeout(PATIENCE, poll)
            .await
            .with_context(|| format!("waiting for {name}: {what}"))?
    }

    pub fn stats(&self) -> RequestStats {
        self.server.requests().snapshot()
    }

    /// Returns once no request changed anything for a while (simulators and controllers are done).
    pub async fn quiet(&self) -> anyhow::Result<()> {
        let settle = async {
            let mut last = self.stats().changed_writes;
            let mut calm = 0;
            while calm < 5 {
                tokio::time::sleep(Duration::from_millis(200)).await;
                let now = self.stats().changed_writes;
                calm = if now == last { calm + 1 } else { 0 };
                last = now;
            }
        };
        tokio::time::timeout(PATIENCE, settle)
            .await
            .context("waiting for the cluster to settle")
    }

    /// How often PlatformMeshes were read: every pass of the resource plugin lists them once (its technology
    /// lookup), so this counts passes when no PlatformMesh controller runs.
    pub fn platform_mesh_reads(&self) -> u64 {
        self.stats()
            .by_resource
            .get("platformmeshes.core.platform-mesh.io")
            .copied()
            .unwrap_or(0)
    }

    /// Waits until at least `passes` more resource plugin passes than `before` have happened.
    pub async fn passes_since(&self, before: u64, passes: u64) -> anyhow::Result<()> {
        let wait = async {
            while self.platform_mesh_reads() < before + passes {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        tokio::time::timeout(PATIENCE, wait)
            .await
            .with_context(|| format!("waiting for {passes} Resource passes"))
    }
}

/// The plugin runtime over the cluster, with the image version store kept by the test.
pub fn plugin_runtime(client: &Client, store: Arc<ImageVersionStore>) -> anyhow::Result<PluginRuntime> {
    // kcp is never called by the resource plugin; any URL will do.
    let kcp = KcpAdmin::Config(Box::new(kube::Config::new("http://127.0.0.1:1".parse()?)));
    let services = HostServices {
        clusters: Arc::new(Clusters::new(client.clone(), client.clone(), kcp)),
        image_versions: store,
        workspace_dir: repo_root(),
    };
    let config = RuntimeConfig::new(RuntimeConfig::default_plugins_dir(), repo_root());
    Ok(PluginRuntime::new(config, services)?)
}

/// A Resource lifecycle over the real wasm plugin, freshly loaded from `runtime` (a plugin swap when called
/// again).
pub async fn resource_lifecycle(runtime: &PluginRuntime) -> anyhow::Result<Lifecycle> {
    let path = RuntimeConfig::default_plugins_dir().join("resource.wasm");
    if !path.is_file() {
        bail!("{} was not built", path.display());
    }
    let plugin = runtime.load_file(&path).await?;
    Ok(Lifecycle::new(
        resource::CONTROLLER,
        Target::Runtime,
        vec![plugin],
        resource::lifecycle_options(),
        json!({}),
    ))
}

/// A running Resource controller.
pub struct Controller {
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl Controller {
    pub fn start(client: &Client, lifecycle: Lifecycle) -> Self {
        let stop = CancellationToken::new();
        let settings = ControllerSettings {
            concurrency: 4,
            debug_label_value: String::new(),
        };
        let task = tokio::spawn(resource::run(
            client.clone(),
            lifecycle,
            settings,
            stop.clone().cancelled_owned(),
        ));
        Controller { stop, task }
    }

    pub async fn stop(self) -> anyhow::Result<()> {
        self.stop.cancel();
        tokio::time::timeout(PATIENCE, self.task)
            .await
            .context("the Resource controller stops")??;
        Ok(())
    }
}

/// Runs `check` until it passes or time runs out, returning its last error.
pub async fn eventually<F, Fut>(what: &str, check: F) -> anyhow::Result<()>
where
    F: Fn() -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        match check().await {
            Ok(()) => return Ok(()),
            Err(error) if tokio::time::Instant::now() >= deadline => {
                return Err(error.context(format!("waiting for {what}")));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

//! Shared setup of the Resource controller scenarios: an embedded API server with every simulator, the real
//! wasm `resource` plugin in a plugin runtime whose image version store the test keeps, and the Resource
//! controller started and stopped at will.

use std::{future::Future, sync::Arc, time::Duration};

use anyhow::{Context as _, bail};
use apiserver::{RequestStats, sim::SimConfig};
use kube::{Api, Client, api::DynamicObject};
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

use crate::{
    api::dynamic,
    platform::{self, repo_root},
    wait::{self, Counter},
};

/// The version the simulated OCM component resolves to.
pub const VERSION: &str = "1.2.3";

/// How long any awaited state may take.
const PATIENCE: Duration = Duration::from_secs(60);

/// The resource of PlatformMeshes in the request counters.
const PLATFORM_MESHES: &str = "platformmeshes.core.platform-mesh.io";

/// An embedded API server with the operator's CRDs, every simulator, a namespace and the OCM component.
pub struct Cluster {
    pub server: apiserver::Server,
    pub client: Client,
    pub namespace: String,
}

impl Cluster {
    pub async fn start(namespace: &str) -> anyhow::Result<Self> {
        let server = platform::server(SimConfig::all()).await?;
        let client = server.client();
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

    pub fn api(&self, api_version: &str, kind: &str, plural: &str) -> Api<DynamicObject> {
        dynamic(&self.client, api_version, kind, plural, Some(&self.namespace))
    }

    /// The object as JSON once `ready` holds for it.
    pub async fn wait_for(
        &self,
        api: &Api<DynamicObject>,
        name: &str,
        what: &str,
        ready: impl Fn(&Value) -> bool,
    ) -> anyhow::Result<Value> {
        wait::until(&format!("{name}: {what}"), PATIENCE, || async {
            let value = match api.get_opt(name).await? {
                Some(object) => serde_json::to_value(&object)?,
                None => return Ok(None),
            };
            Ok(ready(&value).then_some(value))
        })
        .await
    }

    pub fn stats(&self) -> RequestStats {
        self.server.requests().snapshot()
    }

    /// Returns once no request changed anything for a while (simulators and controllers are done).
    pub async fn quiet(&self) -> anyhow::Result<()> {
        wait::settle(&self.server, Counter::Changes, Duration::from_secs(1), PATIENCE).await
    }

    /// How often PlatformMeshes were read: every pass of the resource plugin lists them once (its technology
    /// lookup), so this counts passes when no PlatformMesh controller runs.
    pub fn platform_mesh_reads(&self) -> u64 {
        wait::requests_for(&self.server, PLATFORM_MESHES)
    }

    /// Waits until at least `passes` more resource plugin passes than `before` have happened.
    pub async fn passes_since(&self, before: u64, passes: u64) -> anyhow::Result<()> {
        wait::requests_since(&self.server, PLATFORM_MESHES, before, passes, PATIENCE)
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

/// Runs `check` until it passes or 60 s pass, returning its last error.
pub async fn eventually<F, Fut>(what: &str, check: F) -> anyhow::Result<()>
where
    F: Fn() -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    wait::eventually(what, PATIENCE, check).await
}

//! Shared setup of the Provider/ManagedProvider end-to-end tests: the embedded server with the providers APIExport
//! in kcp, a Ready PlatformMesh, and the Provider and ManagedProvider controllers running the real wasm plugins.
use std::time::Duration;

use anyhow::Context as _;
use apiserver::sim::SimConfig;
use kube::{
    Client,
    api::{Patch, PatchParams},
};
use platform_mesh_operator::{
    clusters::Clusters,
    controller::{
        ControllerSettings, ProgressEvent, ProgressSink, chain_source, managedprovider, operator,
        provider::{self, ProviderLifecycle, ProviderSettings},
    },
    embedded,
    lifecycle::{Lifecycle, LifecycleOptions, Target},
};
use serde_json::{Value, json};
use tokio::{sync::mpsc::UnboundedReceiver, task::JoinHandle};
use tokio_util::sync::CancellationToken;

use crate::{
    api::{create_if_absent as create, dynamic},
    operator::{Want, clients, wait_for},
    platform::{self, NS, repo_root},
    wait,
};

/// The providers APIExport (and its endpoint slice).
pub const EXPORT: &str = "providers.platform-mesh.io";

/// A shipped kcp manifest of `manifests/kcp/01-platform-mesh-system`.
fn manifest(file: &str) -> anyhow::Result<Value> {
    let path = repo_root()
        .join("manifests/kcp/01-platform-mesh-system")
        .join(file);
    embedded::read_documents(&path)?
        .into_iter()
        .next()
        .with_context(|| format!("{file} holds an object"))
}

fn workspace(name: &str, type_name: &str) -> Value {
    json!({"apiVersion": "tenancy.kcp.io/v1alpha1", "kind": "Workspace", "metadata": {"name": name},
           "spec": {"type": {"name": type_name, "path": "root"}}})
}

/// kcp as KcpSetup would leave it for providers: the shipped export and schemas, an endpoint slice in
/// `root:platform-mesh-system`, WorkspaceType `provider` binding it, and workspaces `root:providers` and
/// `root:providers:system`.
pub async fn install_kcp(server: &apiserver::Server) -> anyhow::Result<()> {
    let system = server.kcp_client("root:platform-mesh-system");
    let root = server.kcp_client("root");
    create(
        &dynamic(&root, "tenancy.kcp.io/v1alpha1", "Workspace", "workspaces", None),
        workspace("platform-mesh-system", "universal"),
    )
    .await?;
    create(
        &dynamic(&root, "tenancy.kcp.io/v1alpha1", "Workspace", "workspaces", None),
        workspace("providers", "universal"),
    )
    .await?;
    let schemas = dynamic(
        &system,
        "apis.kcp.io/v1alpha1",
        "APIResourceSchema",
        "apiresourceschemas",
        None,
    );
    create(
        &schemas,
        manifest("apiresourceschema-providers.providers.platform-mesh.io.yaml")?,
    )
    .await?;
    create(
        &schemas,
        manifest("apiresourceschema-providerpermissions.providers.platform-mesh.io.yaml")?,
    )
    .await?;
    let exports = dynamic(&system, "apis.kcp.io/v1alpha2", "APIExport", "apiexports", None);
    create(&exports, manifest("apiexport-providers.platform-mesh.io.yaml")?).await?;
    create(
        &dynamic(&system, "apis.kcp.io/v1alpha1", "APIExportEndpointSlice", "apiexportendpointslices", None),
        json!({"apiVersion": "apis.kcp.io/v1alpha1", "kind": "APIExportEndpointSlice", "metadata": {"name": EXPORT},
               "spec": {"export": {"path": "root:platform-mesh-system", "name": EXPORT}}}),
    )
    .await?;
    create(
        &dynamic(&root, "tenancy.kcp.io/v1alpha1", "WorkspaceType", "workspacetypes", None),
        json!({"apiVersion": "tenancy.kcp.io/v1alpha1", "kind": "WorkspaceType", "metadata": {"name": "provider"},
               "spec": {"defaultAPIBindings": [{"export": EXPORT, "path": "root:platform-mesh-system"}]}}),
    )
    .await?;
    let providers = server.kcp_client("root:providers");
    create(
        &dynamic(
            &providers,
            "tenancy.kcp.io/v1alpha1",
            "Workspace",
            "workspaces",
            None,
        ),
        workspace("system", "provider"),
    )
    .await?;
    // Providers are served in root:providers:system once its binding is Bound.
    let served = dynamic(
        &server.kcp_client("root:providers:system"),
        "providers.platform-mesh.io/v1alpha1",
        "Provider",
        "providers",
        None,
    );
    wait::until(
        "Providers served in root:providers:system",
        Duration::from_secs(10),
        || async { Ok(served.list(&Default::default()).await.ok().map(|_| ())) },
    )
    .await
}

/// A PlatformMesh `platform-mesh` whose Ready condition is True (no PlatformMesh controller runs).
pub async fn ready_platform_mesh(client: &Client) -> anyhow::Result<()> {
    let api = platform::platform_meshes(client, Some(NS));
    create(
        &api,
        json!({"apiVersion": "core.platform-mesh.io/v1alpha1", "kind": "PlatformMesh",
        "metadata": {"name": "platform-mesh", "namespace": NS}, "spec": {}}),
    )
    .await?;
    let status = json!({"status": {"conditions": [{"type": "Ready", "status": "True", "reason": "Complete",
        "message": "", "lastTransitionTime": "2026-01-01T00:00:00Z"}]}});
    api.patch_status("platform-mesh", &PatchParams::default(), &Patch::Merge(&status))
        .await?;
    Ok(())
}

/// The running scenario.
pub struct Scenario {
    pub server: apiserver::Server,
    pub client: Client,
    pub events: UnboundedReceiver<ProgressEvent>,
    stop: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl Scenario {
    /// Starts the server with every simulator, installs CRDs, kcp's provider APIs and a Ready PlatformMesh, and
    /// runs the Provider and ManagedProvider controllers with the shipped plugins.
    pub async fn start() -> anyhow::Result<Scenario> {
        let server = platform::server(SimConfig::all().with_delay(Duration::from_millis(20))).await?;
        let client = server.client();
        platform::apply_samples(&client, &["namespace.yaml"]).await?;
        install_kcp(&server).await?;
        ready_platform_mesh(&client).await?;

        let config = crate::operator::config(&server, &repo_root(), &[])?;
        let clients = clients(&server)?;
        let plugins = operator::start_plugins(&config, &clients).await?;
        let (progress, events) = ProgressSink::channel();
        let stop = CancellationToken::new();
        let settings = ControllerSettings {
            concurrency: 4,
            debug_label_value: String::new(),
        };
        let provider_settings = ProviderSettings {
            bootstrap_retry: Duration::from_millis(200),
            ..operator::provider_settings(&config)
        };
        let clusters = Clusters::new(client.clone(), client.clone(), clients.kcp_admin.clone());
        let providers = tokio::spawn(provider::run(
            std::sync::Arc::new(clusters),
            ProviderLifecycle {
                chain: chain_source(&config.subroutines, &plugins.handle, provider::CONTROLLER),
                operator_config: config.to_plugin_json(),
            },
            provider_settings,
            progress.clone(),
            stop.clone().cancelled_owned(),
        ));
        let managed = tokio::spawn(managedprovider::run(
            client.clone(),
            Lifecycle::with_chain_source(
                managedprovider::CONTROLLER,
                Target::Runtime,
                chain_source(&config.subroutines, &plugins.handle, managedprovider::CONTROLLER),
                LifecycleOptions::default(),
                config.to_plugin_json(),
            ),
            settings,
            progress,
            stop.clone().cancelled_owned(),
        ));
        Ok(Scenario {
            server,
            client,
            events,
            stop,
            tasks: vec![providers, managed],
        })
    }

    /// Waits until a progress event of `controller` reports `type_` with `status`; returns the events seen.
    pub async fn wait_for(
        &mut self,
        controller: &str,
        type_: &str,
        status: &str,
    ) -> anyhow::Result<Vec<ProgressEvent>> {
        let want = Want::condition(type_, status)
            .of(controller)
            .within(Duration::from_secs(90));
        wait_for(&mut self.events, want).await
    }

    /// Stops the controllers and the server.
    pub async fn stop(self) {
        self.stop.cancel();
        for task in self.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
        }
        self.server.shutdown().await;
    }
}

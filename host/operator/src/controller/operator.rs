//! Wiring of `run`: cluster clients, host services, the plugin runtime and its plugin set, the PlatformMesh chain,
//! and the controller.

use std::{future::Future, path::Path, sync::Arc};

use futures::FutureExt as _;

use kube::{
    Client, Config,
    config::{KubeConfigOptions, Kubeconfig},
};

use super::{
    chain_source::chain_source,
    managedprovider,
    platformmesh::{self, ControllerError, ControllerSettings},
    progress::ProgressSink,
    provider, resource,
};
use crate::{
    clusters::{Clusters, KcpAdmin},
    config::OperatorConfig,
    hostapi::{HostServices, ImageVersionStore},
    lifecycle::{Lifecycle, LifecycleOptions, Target},
    plugin::{
        LivePlugins, PluginConfigRef, PluginError, PluginRuntime, PluginSetHandle, RuntimeConfig, StartError,
        manifest::CONTROLLERS,
    },
};

/// Why the operator could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A kubeconfig file could not be read or used.
    #[error("loading kubeconfig {path}")]
    Kubeconfig {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: kube::config::KubeconfigError,
    },
    /// No cluster configuration was found (no kubeconfig, not in a cluster).
    #[error("finding a cluster configuration (set KUBECONFIG, --kubeconfig or run in a cluster)")]
    Infer(#[source] kube::config::InferConfigError),
    /// A client could not be built.
    #[error("building a Kubernetes client")]
    Client(#[source] kube::Error),
    /// The plugin runtime failed to start or to load plugins.
    #[error("loading plugins from {dir}")]
    Plugins {
        /// `--plugins-dir`.
        dir: String,
        /// The cause.
        #[source]
        source: PluginError,
    },
    /// The controller failed.
    #[error(transparent)]
    Controller(#[from] ControllerError),
    /// `--plugin-config` is not `<namespace>/<name>`.
    #[error("--plugin-config: {0}")]
    PluginConfigFlag(String),
    /// The first plugin set could not be loaded.
    #[error(transparent)]
    PluginSet(#[from] StartError),
}

/// The clients the operator works with.
#[derive(Clone)]
pub struct OperatorClients {
    /// The watched cluster.
    pub runtime: Client,
    /// Where Flux / Argo CD run.
    pub infra: Client,
    /// Where the kcp admin configuration comes from.
    pub kcp_admin: KcpAdmin,
}

async fn client_from_file(path: &str) -> Result<Client, RunError> {
    let kubeconfig = |source| RunError::Kubeconfig {
        path: path.to_owned(),
        source,
    };
    let file = Kubeconfig::read_from(Path::new(path)).map_err(kubeconfig)?;
    let config = Config::from_custom_kubeconfig(file, &KubeConfigOptions::default())
        .await
        .map_err(kubeconfig)?;
    Client::try_from(config).map_err(RunError::Client)
}

impl OperatorClients {
    /// Clients from the flags (spec §2.4): runtime from `--remote-runtime-kubeconfig`, else `--kubeconfig`, else
    /// standard discovery; infra from `--remote-infra-kubeconfig`, else the same discovery.
    pub async fn from_config(config: &OperatorConfig) -> Result<Self, RunError> {
        let discovered = || async {
            if config.common.kubeconfig.is_empty() {
                let inferred = Config::infer().await.map_err(RunError::Infer)?;
                Client::try_from(inferred).map_err(RunError::Client)
            } else {
                client_from_file(&config.common.kubeconfig).await
            }
        };
        let runtime = match config.remote.remote_runtime_kubeconfig.as_str() {
            "" => discovered().await?,
            path => client_from_file(path).await?,
        };
        let infra = match config.remote.remote_infra_kubeconfig.as_str() {
            "" => discovered().await?,
            path => client_from_file(path).await?,
        };
        let kcp_admin = KcpAdmin::Secret {
            namespace: config.kcp.kcp_namespace.clone(),
            name: config.kcp.kcp_cluster_admin_secret_name.clone(),
            url: config.kcp.base_url(),
        };
        Ok(OperatorClients {
            runtime,
            infra,
            kcp_admin,
        })
    }
}

/// Loads the plugins, builds the PlatformMesh chain and runs the controller until `shutdown` completes. With
/// `--plugin-config` the plugin ConfigMap is watched meanwhile and plugin sets are swapped live.
pub async fn run(
    config: &OperatorConfig,
    clients: OperatorClients,
    progress: ProgressSink,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) -> Result<(), RunError> {
    // Every API request of the controllers and plugins is counted per verb (`/metrics`).
    let clients = OperatorClients {
        runtime: crate::metrics::instrument(clients.runtime),
        infra: crate::metrics::instrument(clients.infra),
        ..clients
    };
    let shutdown = shutdown.shared();
    // Not ready until the first plugin set is in service; a shutdown meanwhile (a source unreachable, retried)
    // ends the start at once.
    let starting = super::health::NotReady::hold();
    // One set of cluster clients (one kcp client cache) for the plugins' host calls and the Provider controller.
    let clusters = Arc::new(Clusters::new(
        clients.runtime.clone(),
        clients.infra.clone(),
        clients.kcp_admin.clone(),
    ));
    let plugins = tokio::select! {
        plugins = start_plugins_with(config, &clients, clusters.clone()) => plugins?,
        () = shutdown.clone() => return Ok(()),
    };
    drop(starting);
    let lifecycle = platform_mesh_lifecycle(config, &plugins.handle);
    let settings = ControllerSettings {
        concurrency: config.common.max_concurrent_reconciles,
        debug_label_value: config.common.debug_label_value.clone(),
    };
    // The OCM Resource controller runs beside it on the same plugin set (so both share the image version
    // store); it never fails, it only stops on shutdown.
    let resources = tokio::spawn(resource::run(
        clients.runtime.clone(),
        resource_lifecycle(config, &plugins.handle),
        settings.clone(),
        shutdown.clone(),
    ));
    // The Provider controller waits for kcp and its virtual workspace by itself and never fails the operator.
    let providers = tokio::spawn(provider::run(
        clusters,
        provider::ProviderLifecycle {
            chain: chain_source(&config.subroutines, &plugins.handle, provider::CONTROLLER),
            operator_config: config.to_plugin_json(),
        },
        provider_settings(config),
        progress.clone(),
        shutdown.clone(),
    ));
    // The ManagedProvider controller waits for its CRD by itself and never fails the operator.
    let managed_providers = tokio::spawn(managedprovider::run(
        clients.runtime.clone(),
        Lifecycle::with_chain_source(
            managedprovider::CONTROLLER,
            Target::Runtime,
            chain_source(&config.subroutines, &plugins.handle, managedprovider::CONTROLLER),
            LifecycleOptions::default(),
            config.to_plugin_json(),
        ),
        settings.clone(),
        progress.clone(),
        shutdown.clone(),
    ));
    let watching = tokio::spawn(plugins.watch(shutdown.clone()));
    let result = platformmesh::run(clients.runtime, lifecycle, settings, progress, shutdown).await;
    watching.abort();
    // On a PlatformMesh controller error the Resource controller's shutdown may never trigger.
    resources.abort();
    providers.abort();
    managed_providers.abort();
    result?;
    Ok(())
}

/// The Provider controller's settings from the flags.
pub fn provider_settings(config: &OperatorConfig) -> provider::ProviderSettings {
    provider::ProviderSettings {
        concurrency: config.common.max_concurrent_reconciles,
        debug_label_value: config.common.debug_label_value.clone(),
        slice_name: config.kcp.providers_apiexport_endpointslice_name.clone(),
        slice_workspace: config.kcp.providers_apiexport_endpointslice_workspace.clone(),
        bootstrap_retry: provider::BOOTSTRAP_RETRY,
    }
}

/// The plugin runtime and the first plugin set: from the plugin ConfigMap (`--plugin-config`) if it exists, else
/// the built-in configuration for `--plugins-dir`. Fails closed: an enabled step whose plugin cannot be loaded for
/// a reason that will not go away is an error naming the plugin and its path; an unreachable source is retried
/// (see [`LivePlugins::start_with`]).
pub async fn start_plugins(
    config: &OperatorConfig,
    clients: &OperatorClients,
) -> Result<LivePlugins, RunError> {
    let clusters = Arc::new(Clusters::new(
        clients.runtime.clone(),
        clients.infra.clone(),
        clients.kcp_admin.clone(),
    ));
    start_plugins_with(config, clients, clusters).await
}

/// [`start_plugins`] with the cluster clients the plugins' host calls use.
pub async fn start_plugins_with(
    config: &OperatorConfig,
    clients: &OperatorClients,
    clusters: Arc<Clusters>,
) -> Result<LivePlugins, RunError> {
    let plugins_dir = config.plugins_dir();
    let plugins_error = |source| RunError::Plugins {
        dir: plugins_dir.display().to_string(),
        source,
    };
    let services = HostServices {
        clusters,
        image_versions: Arc::new(ImageVersionStore::new()),
        workspace_dir: config.workspace_dir.clone(),
    };
    let runtime_config = RuntimeConfig {
        plugins_dir: plugins_dir.clone(),
        workspace_dir: config.workspace_dir.clone(),
        cache_dir: config.plugins.plugin_cache_dir.clone(),
        call_timeout: config.plugins.plugin_call_timeout,
        memory_limit: config.plugins.plugin_memory_limit,
    };
    let runtime = PluginRuntime::new(runtime_config, services).map_err(plugins_error)?;
    let config_ref = match config.plugins.plugin_config.as_str() {
        "" => None,
        text => Some(
            text.parse::<PluginConfigRef>()
                .map_err(RunError::PluginConfigFlag)?,
        ),
    };
    let plugins = LivePlugins::start_with(
        runtime,
        clients.runtime.clone(),
        config_ref,
        Some(config.subroutines.clone()),
    )
    .await?;
    let current = plugins.handle.current();
    for controller in CONTROLLERS {
        let names = current.chain_names(controller);
        if !names.is_empty() {
            tracing::info!(%controller, chain = ?names, origin = %current.origin, "plugin chain");
        }
    }
    Ok(plugins)
}

/// The PlatformMesh lifecycle: the chain `platformmesh` of the plugin set in service at the start of each pass,
/// without the subroutines the `--subroutines-*-enabled` flags switch off.
pub fn platform_mesh_lifecycle(config: &OperatorConfig, plugins: &PluginSetHandle) -> Lifecycle {
    Lifecycle::with_chain_source(
        platformmesh::CONTROLLER,
        Target::Runtime,
        chain_source(&config.subroutines, plugins, platformmesh::CONTROLLER),
        LifecycleOptions::default(),
        config.to_plugin_json(),
    )
    .retire_finalizers(platformmesh::RETIRED_FINALIZERS)
}

/// The OCM Resource lifecycle: the chain `resource` of the plugin set in service at the start of each pass, run
/// read-only without conditions.
pub fn resource_lifecycle(config: &OperatorConfig, plugins: &PluginSetHandle) -> Lifecycle {
    Lifecycle::with_chain_source(
        resource::CONTROLLER,
        Target::Runtime,
        chain_source(&config.subroutines, plugins, resource::CONTROLLER),
        resource::lifecycle_options(),
        config.to_plugin_json(),
    )
}

//! The PlatformMesh controller: kube-runtime's `Controller` over PlatformMesh objects, also triggered by their
//! profile ConfigMaps, running the lifecycle engine for each object.
//!
//! Profile ConfigMaps are watched one by one, scoped to their namespace and name ([`super::profiles`]): no
//! cluster-wide ConfigMap watch. A change re-reconciles the PlatformMeshes (usually one per cluster; a pass
//! that changes nothing writes nothing).
//!
//! Condition transitions into and out of errors become Kubernetes Events on the PlatformMesh
//! ([`super::events`]).

use std::{future::Future, sync::Arc, time::Duration};

use futures::FutureExt;
use kube::{
    Api, Client, Resource, ResourceExt,
    api::ListParams,
    runtime::{Controller, controller::Config, watcher},
};

use super::{
    events::EventPublisher,
    profiles,
    progress::ProgressSink,
    runner::{self, Policy, Runner},
};
use crate::{
    crd::PlatformMesh,
    lifecycle::{BackoffConfig, ConditionChange, KubeStore, Lifecycle, ObjectKey, PassReport},
};

/// The controller name used in logs and progress events.
pub const CONTROLLER: &str = "platformmesh";

/// The finalizer upstream's KcpSetup and ProviderSecret shared; each now has its own (spec §11.1 item 1).
pub const RETIRED_FINALIZERS: [&str; 1] = ["platform-mesh.core.platform-mesh.io/finalizer"];

/// Why the controller could not run.
#[derive(Debug, thiserror::Error)]
pub enum ControllerError {
    /// The PlatformMesh CRD is not installed.
    #[error(
        "the PlatformMesh CRD (platformmeshes.core.platform-mesh.io) is not installed; install it with \
         `platform-mesh-operator crds | kubectl apply -f -`"
    )]
    CrdMissing(#[source] kube::Error),
    /// Listing PlatformMeshes failed for another reason.
    #[error("checking access to PlatformMesh objects")]
    Access(#[source] kube::Error),
}

/// Settings of the controller.
#[derive(Clone, Debug)]
pub struct ControllerSettings {
    /// `--max-concurrent-reconciles`.
    pub concurrency: u16,
    /// `--debug-label-value`.
    pub debug_label_value: String,
}

/// What is the PlatformMesh controller's own: its store and its Events on the PlatformMesh.
struct PlatformMeshPolicy {
    lifecycle: Lifecycle,
    store: KubeStore,
    events: EventPublisher,
}

impl Policy for PlatformMeshPolicy {
    type Object = PlatformMesh;
    const CONTROLLER: &'static str = CONTROLLER;
    const KIND: &'static str = "PlatformMesh";

    fn key(&self, pm: &PlatformMesh) -> Option<ObjectKey> {
        Some(ObjectKey::namespaced(
            pm.namespace().unwrap_or_default(),
            pm.name_any(),
        ))
    }

    async fn pass(&self, _pm: &PlatformMesh, key: &ObjectKey) -> PassReport {
        self.lifecycle.reconcile(&self.store, key).await
    }

    async fn publish(&self, pm: &PlatformMesh, _key: &ObjectKey, changes: &[ConditionChange]) {
        self.events.publish(&pm.object_ref(&()), changes).await;
    }
}

/// Runs the PlatformMesh controller until `shutdown` completes.
///
/// # Errors
/// [`ControllerError::CrdMissing`] at start when the CRD is not installed.
pub async fn run(
    client: Client,
    lifecycle: Lifecycle,
    settings: ControllerSettings,
    progress: ProgressSink,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) -> Result<(), ControllerError> {
    let api: Api<PlatformMesh> = Api::all(client.clone());
    let shutdown = shutdown.shared();
    if !check_access(&api, shutdown.clone()).await? {
        return Ok(());
    }
    let resource = kube::api::ApiResource::erase::<PlatformMesh>(&());
    let policy = PlatformMeshPolicy {
        lifecycle,
        store: KubeStore::new(client.clone(), resource),
        events: EventPublisher::new(client.clone(), std::env::var("HOSTNAME").ok()),
    };
    let context = Arc::new(Runner::new(
        policy,
        BackoffConfig::PLATFORM_MESH,
        settings.debug_label_value,
        progress,
    ));
    let controller = Controller::new(api, watcher::Config::default().any_semantic())
        .with_config(Config::default().concurrency(settings.concurrency));
    let cache = controller.store();
    let results = controller
        .reconcile_all_on(profiles::profile_changes(client, cache))
        .graceful_shutdown_on(shutdown.clone())
        .run(runner::reconcile, runner::error_policy, context);
    runner::drive(CONTROLLER, results, shutdown).await;
    Ok(())
}

/// How long the start-up check retries an API server that answers with transient errors.
const START_RETRY: Duration = Duration::from_secs(60);

/// Fails fast when the CRD is missing (404) or access is denied (401/403); retries transient failures (5xx,
/// 429, connection errors) for [`START_RETRY`], so a flaky API server at start-up does not stop the operator.
/// `Ok(false)` when `shutdown` comes while it waits to retry: an operator asked to stop while its API server is
/// away exits at once.
async fn check_access(
    api: &Api<PlatformMesh>,
    shutdown: impl Future<Output = ()>,
) -> Result<bool, ControllerError> {
    let mut shutdown = std::pin::pin!(shutdown);
    let started = std::time::Instant::now();
    let mut delay = Duration::from_millis(100);
    loop {
        // The listing itself is not raced with `shutdown`: a refused connection fails at once, and an answer
        // (served, or the CRD missing) is worth having even when the operator is stopping.
        let error = match api.list(&ListParams::default().limit(1)).await {
            Ok(_) => return Ok(true),
            Err(error) => error,
        };
        match &error {
            kube::Error::Api(status) if status.code == 404 => return Err(ControllerError::CrdMissing(error)),
            kube::Error::Api(status) if matches!(status.code, 401 | 403) => {
                return Err(ControllerError::Access(error));
            }
            _ if started.elapsed() >= START_RETRY => return Err(ControllerError::Access(error)),
            _ => {
                tracing::warn!(error = %crate::errors::error_chain(&error), retry_in = ?delay, "listing PlatformMeshes")
            }
        }
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = &mut shutdown => return Ok(false),
        }
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An operator told to stop while its API server is unreachable at start stops at once, instead of retrying
    /// the start-up listing for [`START_RETRY`].
    #[tokio::test]
    async fn shutdown_ends_the_start_up_check_while_the_api_server_is_away() {
        // A port nothing listens on: bind one, note it, close it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let config = kube::Config::new(format!("http://127.0.0.1:{port}").parse().expect("a URL"));
        let client = Client::try_from(config).expect("a client");
        let api: Api<PlatformMesh> = Api::all(client);
        let started = std::time::Instant::now();
        let served = check_access(&api, tokio::time::sleep(Duration::from_millis(300)))
            .await
            .expect("no error before the retry budget ends");
        assert!(!served, "the API server is away");
        assert!(started.elapsed() < START_RETRY, "{:?}", started.elapsed());
    }
}

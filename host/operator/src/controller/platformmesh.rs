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

use futures::{FutureExt, StreamExt};
use kube::{
    Api, Client, Resource, ResourceExt,
    api::ListParams,
    runtime::{
        Controller,
        controller::{Action, Config},
        watcher,
    },
};

use super::{events::EventPublisher, predicate, profiles, progress::ProgressSink};
use crate::{
    crd::PlatformMesh,
    lifecycle::{Backoff, BackoffConfig, EngineError, KubeStore, Lifecycle, ObjectKey},
};

/// The controller name used in logs and progress events.
pub const CONTROLLER: &str = "platformmesh";

/// The finalizer upstream's KcpSetup and ProviderSecret shared; each now has its own (spec §11.1 item 1).
pub const RETIRED_FINALIZERS: [&str; 1] = ["platform-mesh.core.platform-mesh.io/finalizer"];

/// How long in-flight reconciles may take to finish after the shutdown trigger.
pub const SHUTDOWN_DRAIN: Duration = Duration::from_secs(5);

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

/// A failed reconcile, as handed to the error policy.
#[derive(Debug, thiserror::Error)]
#[error("reconciling PlatformMesh {key}")]
pub struct ReconcileError {
    key: ObjectKey,
    #[source]
    source: EngineError,
}

/// Settings of the controller.
#[derive(Clone, Debug)]
pub struct ControllerSettings {
    /// `--max-concurrent-reconciles`.
    pub concurrency: u16,
    /// `--debug-label-value`.
    pub debug_label_value: String,
}

struct Context {
    lifecycle: Lifecycle,
    store: KubeStore,
    progress: ProgressSink,
    events: EventPublisher,
    backoff: Backoff<ObjectKey>,
    debug_label_value: String,
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
    check_access(&api).await?;
    let resource = kube::api::ApiResource::erase::<PlatformMesh>(&());
    let context = Arc::new(Context {
        lifecycle,
        store: KubeStore::new(client.clone(), resource),
        progress,
        events: EventPublisher::new(client.clone(), std::env::var("HOSTNAME").ok()),
        backoff: Backoff::new(BackoffConfig::PLATFORM_MESH),
        debug_label_value: settings.debug_label_value,
    });
    // kube-runtime's graceful shutdown also waits for every scheduled requeue (possibly minutes away); stop
    // polling the controller a short drain period after the trigger, which aborts what is left.
    let shutdown = shutdown.shared();
    let drained = shutdown.clone().then(|()| tokio::time::sleep(SHUTDOWN_DRAIN));
    let controller = Controller::new(api, watcher::Config::default().any_semantic())
        .with_config(Config::default().concurrency(settings.concurrency));
    let cache = controller.store();
    controller
        .reconcile_all_on(profiles::profile_changes(client, cache))
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, context)
        .take_until(drained)
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(error = %error, "controller event");
            }
        })
        .await;
    Ok(())
}

/// How long the start-up check retries an API server that answers with transient errors.
const START_RETRY: Duration = Duration::from_secs(60);

/// Fails fast when the CRD is missing (404) or access is denied (401/403); retries transient failures (5xx,
/// 429, connection errors) for [`START_RETRY`], so a flaky API server at start-up does not stop the operator.
async fn check_access(api: &Api<PlatformMesh>) -> Result<(), ControllerError> {
    let started = std::time::Instant::now();
    let mut delay = Duration::from_millis(100);
    loop {
        let error = match api.list(&ListParams::default().limit(1)).await {
            Ok(_) => return Ok(()),
            Err(error) => error,
        };
        match &error {
            kube::Error::Api(status) if status.code == 404 => return Err(ControllerError::CrdMissing(error)),
            kube::Error::Api(status) if matches!(status.code, 401 | 403) => {
                return Err(ControllerError::Access(error));
            }
            _ if started.elapsed() >= START_RETRY => return Err(ControllerError::Access(error)),
            _ => {
                tracing::warn!(error = %super::error_chain(&error), retry_in = ?delay, "listing PlatformMeshes")
            }
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

fn key_of(pm: &PlatformMesh) -> ObjectKey {
    ObjectKey::namespaced(pm.namespace().unwrap_or_default(), pm.name_any())
}

async fn reconcile(pm: Arc<PlatformMesh>, ctx: Arc<Context>) -> Result<Action, ReconcileError> {
    if !predicate::debug_label_matches(pm.metadata.labels.as_ref(), &ctx.debug_label_value) {
        return Ok(Action::await_change());
    }
    let key = key_of(&pm);
    let report = ctx.lifecycle.reconcile(&ctx.store, &key).await;
    ctx.progress.emit(CONTROLLER, &key, &report.changes);
    if !report.changes.is_empty() {
        ctx.events.publish(&pm.object_ref(&()), &report.changes).await;
    }
    if let Some(source) = report.error {
        return Err(ReconcileError { key, source });
    }
    ctx.backoff.forget(&key);
    Ok(report
        .requeue_after
        .map_or_else(Action::await_change, Action::requeue))
}

fn error_policy(_pm: Arc<PlatformMesh>, error: &ReconcileError, ctx: Arc<Context>) -> Action {
    super::retry_failed_pass(error, &error.source, &error.key, &ctx.backoff)
}

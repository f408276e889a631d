//! The ManagedProvider controller (spec §2.5, §4.9): kube-runtime's `Controller` over ManagedProvider objects in
//! the runtime cluster, running the `managedprovider` chain. Until the ManagedProvider CRD is installed it checks
//! again every 15 s instead of failing the operator. Failures back off per object (2 s for 60 s, then doubling
//! to 1000 s) and are forgotten on success; a lost write race or a transient API error on the object
//! itself is retried after 1 s. Condition transitions into and out of errors become Kubernetes Events on
//! the ManagedProvider ([`super::events`]).

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

use super::{
    ControllerSettings, events::EventPublisher, platformmesh::SHUTDOWN_DRAIN, predicate,
    progress::ProgressSink,
};
use crate::{
    crd::ManagedProvider,
    lifecycle::{Backoff, BackoffConfig, EngineError, KubeStore, Lifecycle, ObjectKey},
};

/// The controller name used in logs, progress events and the plugin configuration's chains.
pub const CONTROLLER: &str = "managedprovider";

/// How often a missing CRD is looked for again.
pub const CRD_RETRY: Duration = Duration::from_secs(15);

/// A failed reconcile, as handed to the error policy.
#[derive(Debug, thiserror::Error)]
#[error("reconciling ManagedProvider {key}")]
pub struct ReconcileError {
    key: ObjectKey,
    #[source]
    source: EngineError,
}

struct Context {
    lifecycle: Lifecycle,
    store: KubeStore,
    progress: ProgressSink,
    events: EventPublisher,
    backoff: Backoff<ObjectKey>,
    debug_label_value: String,
}

/// Runs the ManagedProvider controller until `shutdown` completes; never fails.
pub async fn run(
    client: Client,
    lifecycle: Lifecycle,
    settings: ControllerSettings,
    progress: ProgressSink,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) {
    let shutdown = shutdown.shared();
    let api: Api<ManagedProvider> = Api::all(client.clone());
    while let Err(error) = api.list(&ListParams::default().limit(1)).await {
        tracing::info!(error = %super::error_chain(&error), retry_in = ?CRD_RETRY,
            "ManagedProvider controller waiting for the ManagedProvider API");
        tokio::select! {
            () = tokio::time::sleep(CRD_RETRY) => {}
            () = shutdown.clone() => return,
        }
    }
    let resource = kube::api::ApiResource::erase::<ManagedProvider>(&());
    let context = Arc::new(Context {
        lifecycle,
        store: KubeStore::new(client.clone(), resource),
        progress,
        events: EventPublisher::new(client, std::env::var("HOSTNAME").ok()),
        backoff: Backoff::new(BackoffConfig::DEFAULT),
        debug_label_value: settings.debug_label_value,
    });
    let drained = shutdown.clone().then(|()| tokio::time::sleep(SHUTDOWN_DRAIN));
    Controller::new(api, watcher::Config::default().any_semantic())
        .with_config(Config::default().concurrency(settings.concurrency))
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, context)
        .take_until(drained)
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(error = %error, "ManagedProvider controller event");
            }
        })
        .await;
}

async fn reconcile(mp: Arc<ManagedProvider>, ctx: Arc<Context>) -> Result<Action, ReconcileError> {
    if !predicate::debug_label_matches(mp.metadata.labels.as_ref(), &ctx.debug_label_value) {
        return Ok(Action::await_change());
    }
    let key = ObjectKey::namespaced(mp.namespace().unwrap_or_default(), mp.name_any());
    let report = ctx.lifecycle.reconcile(&ctx.store, &key).await;
    ctx.progress.emit(CONTROLLER, &key, &report.changes);
    if !report.changes.is_empty() {
        ctx.events.publish(&mp.object_ref(&()), &report.changes).await;
    }
    if let Some(source) = report.error {
        return Err(ReconcileError { key, source });
    }
    ctx.backoff.forget(&key);
    Ok(report
        .requeue_after
        .map_or_else(Action::await_change, Action::requeue))
}

fn error_policy(_mp: Arc<ManagedProvider>, error: &ReconcileError, ctx: Arc<Context>) -> Action {
    super::retry_failed_pass(error, &error.source, &error.key, &ctx.backoff)
}

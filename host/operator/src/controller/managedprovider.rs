//! The ManagedProvider controller (spec §2.5, §4.9): kube-runtime's `Controller` over ManagedProvider objects in
//! the runtime cluster, running the `managedprovider` chain. Until the ManagedProvider CRD is installed it waits
//! for it ([`runner::wait_for_api`]) instead of failing the operator. Failures back off per object (2 s for 60 s, then doubling
//! to 1000 s) and are forgotten on success; a lost write race or a transient API error on the object
//! itself is retried after 1 s. Condition transitions into and out of errors become Kubernetes Events on
//! the ManagedProvider ([`super::events`]).

use std::{future::Future, sync::Arc};

use futures::FutureExt;
use kube::{
    Api, Client, Resource, ResourceExt,
    runtime::{Controller, controller::Config, watcher},
};

use super::{
    ControllerSettings,
    events::EventPublisher,
    progress::ProgressSink,
    runner::{self, Policy, Runner},
};
use crate::{
    crd::ManagedProvider,
    lifecycle::{BackoffConfig, ConditionChange, KubeStore, Lifecycle, ObjectKey, PassReport},
};

/// The controller name used in logs, progress events and the plugin configuration's chains.
pub const CONTROLLER: &str = "managedprovider";

/// What is the ManagedProvider controller's own: its store and its Events on the ManagedProvider.
struct ManagedProviderPolicy {
    lifecycle: Lifecycle,
    store: KubeStore,
    events: EventPublisher,
}

impl Policy for ManagedProviderPolicy {
    type Object = ManagedProvider;
    const CONTROLLER: &'static str = CONTROLLER;
    const KIND: &'static str = "ManagedProvider";

    fn key(&self, mp: &ManagedProvider) -> Option<ObjectKey> {
        Some(ObjectKey::namespaced(
            mp.namespace().unwrap_or_default(),
            mp.name_any(),
        ))
    }

    async fn pass(&self, _mp: &ManagedProvider, key: &ObjectKey) -> PassReport {
        self.lifecycle.reconcile(&self.store, key).await
    }

    async fn publish(&self, mp: &ManagedProvider, _key: &ObjectKey, changes: &[ConditionChange]) {
        self.events.publish(&mp.object_ref(&()), changes).await;
    }
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
    if !runner::wait_for_api(&api, "ManagedProvider", shutdown.clone()).await {
        return;
    }
    let resource = kube::api::ApiResource::erase::<ManagedProvider>(&());
    let policy = ManagedProviderPolicy {
        lifecycle,
        store: KubeStore::new(client.clone(), resource),
        events: EventPublisher::new(client, std::env::var("HOSTNAME").ok()),
    };
    let context = Arc::new(Runner::new(
        policy,
        BackoffConfig::DEFAULT,
        settings.debug_label_value,
        progress,
    ));
    let results = Controller::new(api, watcher::Config::default().any_semantic())
        .with_config(Config::default().concurrency(settings.concurrency))
        .graceful_shutdown_on(shutdown.clone())
        .run(runner::reconcile, runner::error_policy, context);
    runner::drive(CONTROLLER, results, shutdown).await;
}

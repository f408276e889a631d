//! The Resource controller (upstream spec §2.5, §4.6): kube-runtime's `Controller` over OCM
//! `delivery.ocm.software/v1alpha1` `Resource` objects in every namespace of the runtime cluster, running the
//! `resource` chain read-only for each.
//!
//! # Behaviour
//! - Read-only lifecycle without conditions: no finalizers, no status or metadata writes to the Resource. Its
//!   subroutines write to the infra cluster (Flux sources, HelmReleases, Argo CD Applications).
//! - The object a pass works on is the watched one: a pass reads nothing of the Resource itself.
//! - Reads elsewhere are the plugins' direct reads (one namespace's PlatformMeshes, one ConfigMap, the target):
//!   no informer on Secrets, ConfigMaps or Pods.
//! - Every Resource is passed over again at least every [`RESYNC`], to repair drift of the values it sets.
//! - Errors back off per Resource with upstream's 2 s / 60 s / 2 s / 1000 s limiter; the debug-label filter
//!   applies like for every controller.
//! - The OCM CRD may be missing (OCM not installed yet): the controller waits for it
//!   ([`runner::wait_for_api`]) instead of failing the operator.

use std::{future::Future, sync::Arc, time::Duration};

use futures::FutureExt;
use kube::{
    Api, Client, ResourceExt,
    api::{ApiResource, DynamicObject, GroupVersionKind},
    runtime::{
        Controller,
        controller::{Action, Config},
        watcher,
    },
};
use serde::de::Error as _;
use serde_json::Value;

use super::{
    platformmesh::ControllerSettings,
    progress::ProgressSink,
    runner::{self, Policy, Runner},
};
use crate::lifecycle::{
    BackoffConfig, ConditionChange, Lifecycle, LifecycleOptions, ObjectKey, ObjectStore, PassReport,
    StoreError,
};

/// The controller name: the chain it runs and the `controller` plugins see.
pub const CONTROLLER: &str = "resource";

/// How often every Resource is passed over again without a change: a release value someone else overwrote (say
/// a Deployment pass that read the image version store just before this controller recorded a new version) is
/// repaired within this period. A pass over an unchanged world only reads.
pub const RESYNC: Duration = Duration::from_secs(300);

/// The watched kind: `delivery.ocm.software/v1alpha1` `Resource`.
pub fn api_resource() -> ApiResource {
    let gvk = GroupVersionKind::gvk("delivery.ocm.software", "v1alpha1", "Resource");
    ApiResource::from_gvk_with_plural(&gvk, "resources")
}

/// The lifecycle options of the chain: read-only, without conditions (upstream's Resource lifecycle).
pub fn lifecycle_options() -> LifecycleOptions {
    LifecycleOptions {
        conditions: false,
        read_only: true,
        observed_generation: false,
    }
}

/// What is the Resource controller's own: the watched object is the pass's store, no Events (no conditions),
/// and a clean pass comes back by [`RESYNC`].
struct ResourcePolicy {
    lifecycle: Lifecycle,
}

impl Policy for ResourcePolicy {
    type Object = DynamicObject;
    const CONTROLLER: &'static str = CONTROLLER;
    const KIND: &'static str = "Resource";

    fn key(&self, object: &DynamicObject) -> Option<ObjectKey> {
        Some(ObjectKey::namespaced(
            object.namespace().unwrap_or_default(),
            object.name_any(),
        ))
    }

    async fn pass(&self, object: &DynamicObject, key: &ObjectKey) -> PassReport {
        self.lifecycle
            .reconcile(&WatchedObject(to_json(object)), key)
            .await
    }

    async fn publish(&self, _object: &DynamicObject, _key: &ObjectKey, _changes: &[ConditionChange]) {}

    fn next(&self, requested: Option<Duration>) -> Action {
        Action::requeue(next_pass(requested))
    }
}

/// Runs the Resource controller until `shutdown` completes. Never fails: a missing CRD is waited for, watch
/// errors are retried by the watcher with backoff, and reconcile errors back off per Resource.
pub async fn run(
    client: Client,
    lifecycle: Lifecycle,
    settings: ControllerSettings,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) {
    let shutdown = shutdown.shared();
    let resource = api_resource();
    let api: Api<DynamicObject> = Api::all_with(client, &resource);
    if !runner::wait_for_api(&api, "OCM Resource", shutdown.clone()).await {
        return;
    }
    let context = Arc::new(Runner::new(
        ResourcePolicy { lifecycle },
        BackoffConfig::DEFAULT,
        settings.debug_label_value,
        ProgressSink::none(),
    ));
    let results = Controller::new_with(api, watcher::Config::default().any_semantic(), resource)
        .with_config(Config::default().concurrency(settings.concurrency))
        .graceful_shutdown_on(shutdown.clone())
        .run(runner::reconcile, runner::error_policy, context);
    runner::drive(CONTROLLER, results, shutdown).await;
}

/// The watched object as the pass's object store: the lifecycle reads it from here instead of fetching it again.
/// The Resource lifecycle is read-only, so the write methods are never called; should a misconfigured lifecycle
/// call them anyway, they fail with a message saying so instead of writing.
struct WatchedObject(Value);

fn read_only_violation() -> StoreError {
    StoreError::Json(serde_json::Error::custom(
        "the Resource controller never writes Resources; its lifecycle must be read-only",
    ))
}

impl ObjectStore for WatchedObject {
    async fn get(&self, _key: &ObjectKey) -> Result<Option<Value>, StoreError> {
        Ok(Some(self.0.clone()))
    }

    async fn patch(&self, _key: &ObjectKey, _patch: &Value) -> Result<Value, StoreError> {
        Err(read_only_violation())
    }

    async fn patch_status(&self, _key: &ObjectKey, _patch: &Value) -> Result<(), StoreError> {
        Err(read_only_violation())
    }
}

/// The object as JSON with `apiVersion` and `kind`, which watch events of some servers leave out.
fn to_json(object: &DynamicObject) -> Value {
    let mut value = serde_json::to_value(object).unwrap_or(Value::Null);
    if let Some(map) = value.as_object_mut() {
        let resource = api_resource();
        map.entry("apiVersion").or_insert(resource.api_version.into());
        map.entry("kind").or_insert(resource.kind.into());
    }
    value
}

/// When to pass over a Resource again after a clean pass: when the chain asked, but no later than [`RESYNC`].
fn next_pass(requested: Option<Duration>) -> Duration {
    requested.map_or(RESYNC, |after| after.min(RESYNC))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watched_kind_is_the_ocm_resource() {
        let resource = api_resource();
        assert_eq!(resource.api_version, "delivery.ocm.software/v1alpha1");
        assert_eq!(
            (resource.kind.as_str(), resource.plural.as_str()),
            ("Resource", "resources")
        );
    }

    #[test]
    fn clean_passes_come_back_by_the_resync_period_or_earlier_if_asked() {
        assert_eq!(next_pass(None), RESYNC);
        assert_eq!(next_pass(Some(Duration::from_secs(5))), Duration::from_secs(5));
        assert_eq!(next_pass(Some(RESYNC * 2)), RESYNC);
    }

    #[test]
    fn lifecycle_is_read_only_without_conditions() {
        let options = lifecycle_options();
        assert!(options.read_only);
        assert!(!options.conditions);
        assert!(!options.observed_generation);
    }

    #[tokio::test]
    async fn watched_object_is_served_and_writes_are_refused() {
        let object = serde_json::json!({"metadata": {"name": "r", "namespace": "ns"}});
        let store = WatchedObject(object.clone());
        let key = ObjectKey::namespaced("ns", "r");
        assert_eq!(store.get(&key).await.unwrap(), Some(object));
        let refused = store.patch(&key, &serde_json::json!({})).await.unwrap_err();
        assert!(refused.to_string().contains("converting"), "{refused}");
        assert!(store.patch_status(&key, &serde_json::json!({})).await.is_err());
    }

    #[test]
    fn objects_without_type_meta_get_it() {
        let object: DynamicObject =
            serde_json::from_value(serde_json::json!({"metadata": {"name": "r"}})).unwrap();
        let json = to_json(&object);
        assert_eq!(json["apiVersion"], "delivery.ocm.software/v1alpha1");
        assert_eq!(json["kind"], "Resource");
    }
}

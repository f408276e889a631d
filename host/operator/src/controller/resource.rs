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
//! - The OCM CRD may be missing (OCM not installed yet): the controller waits for it, checking every
//!   [`CRD_POLL`], instead of failing the operator.

use std::{future::Future, sync::Arc, time::Duration};

use futures::{FutureExt, StreamExt};
use kube::{
    Api, Client, ResourceExt,
    api::{ApiResource, DynamicObject, GroupVersionKind, ListParams},
    runtime::{
        Controller,
        controller::{Action, Config},
        watcher,
    },
};
use serde::de::Error as _;
use serde_json::Value;

use super::{platformmesh::ControllerSettings, predicate};
use crate::lifecycle::{
    Backoff, BackoffConfig, EngineError, Lifecycle, LifecycleOptions, ObjectKey, ObjectStore, StoreError,
};

/// The controller name: the chain it runs and the `controller` plugins see.
pub const CONTROLLER: &str = "resource";

/// How often a missing OCM Resource CRD is looked for again.
pub const CRD_POLL: Duration = Duration::from_secs(30);

/// How often every Resource is passed over again without a change: a release value someone else overwrote (say
/// a Deployment pass that read the image version store just before this controller recorded a new version) is
/// repaired within this period. A pass over an unchanged world only reads.
pub const RESYNC: Duration = Duration::from_secs(300);

/// How long in-flight reconciles may take to finish after the shutdown trigger.
const SHUTDOWN_DRAIN: Duration = Duration::from_secs(5);

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

/// A failed reconcile, as handed to the error policy.
#[derive(Debug, thiserror::Error)]
#[error("reconciling Resource {key}")]
pub struct ReconcileError {
    key: ObjectKey,
    #[source]
    source: EngineError,
}

struct Context {
    lifecycle: Lifecycle,
    backoff: Backoff<ObjectKey>,
    debug_label_value: String,
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
    let crd_present = wait_for_crd(&api);
    tokio::select! {
        () = crd_present => {}
        () = shutdown.clone() => return,
    }
    let context = Arc::new(Context {
        lifecycle,
        backoff: Backoff::new(BackoffConfig::DEFAULT),
        debug_label_value: settings.debug_label_value,
    });
    // Like the PlatformMesh controller: stop polling a short drain period after the trigger, since kube-runtime's
    // graceful shutdown would otherwise wait for scheduled requeues.
    let drained = shutdown.clone().then(|()| tokio::time::sleep(SHUTDOWN_DRAIN));
    Controller::new_with(api, watcher::Config::default().any_semantic(), resource)
        .with_config(Config::default().concurrency(settings.concurrency))
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, context)
        .take_until(drained)
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(error = %error, "resource controller event");
            }
        })
        .await;
}

/// Returns once Resources can be listed, logging why not while they cannot.
async fn wait_for_crd(api: &Api<DynamicObject>) {
    let mut logged = false;
    loop {
        match api.list(&ListParams::default().limit(1)).await {
            Ok(_) => {
                if logged {
                    tracing::info!("OCM Resources can be listed now; starting the Resource controller");
                }
                return;
            }
            Err(error) => {
                if !logged {
                    let hint = match &error {
                        kube::Error::Api(status) if status.code == 404 => {
                            "the OCM Resource CRD (resources.delivery.ocm.software) is not installed"
                        }
                        _ => "listing OCM Resources failed",
                    };
                    tracing::warn!(error = %super::error_chain(&error), retry_in = ?CRD_POLL,
                        "{hint}; the Resource controller waits");
                    logged = true;
                }
                tokio::time::sleep(CRD_POLL).await;
            }
        }
    }
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

async fn reconcile(object: Arc<DynamicObject>, ctx: Arc<Context>) -> Result<Action, ReconcileError> {
    if !predicate::debug_label_matches(object.metadata.labels.as_ref(), &ctx.debug_label_value) {
        return Ok(Action::await_change());
    }
    let key = ObjectKey::namespaced(object.namespace().unwrap_or_default(), object.name_any());
    let report = ctx
        .lifecycle
        .reconcile(&WatchedObject(to_json(&object)), &key)
        .await;
    if let Some(source) = report.error {
        return Err(ReconcileError { key, source });
    }
    ctx.backoff.forget(&key);
    Ok(Action::requeue(next_pass(report.requeue_after)))
}

/// When to pass over a Resource again after a clean pass: when the chain asked, but no later than [`RESYNC`].
fn next_pass(requested: Option<Duration>) -> Duration {
    requested.map_or(RESYNC, |after| after.min(RESYNC))
}

fn error_policy(_object: Arc<DynamicObject>, error: &ReconcileError, ctx: Arc<Context>) -> Action {
    let delay = ctx.backoff.next_delay(&error.key);
    tracing::warn!(error = %super::error_chain(error), retry_in = ?delay, "reconcile failed");
    Action::requeue(delay)
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
    fn shipped_resource_chain_is_the_upstream_one() {
        let manifest =
            crate::plugin::PluginManifest::parse(crate::plugin::DEFAULT_PLUGIN_CONFIG).expect("valid");
        let upstream: Vec<&str> = super::super::chain::RESOURCE_ORDER
            .iter()
            .map(|e| e.plugin)
            .collect();
        assert_eq!(manifest.chains[CONTROLLER], upstream);
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

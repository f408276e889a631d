//! The one reconcile of a lifecycle object, shared by every controller (PlatformMesh, ManagedProvider, Provider,
//! Resource). A controller contributes only what is its own through [`Policy`]: how an object is keyed, which
//! lifecycle and store a pass uses, where its Events go and when a clean pass comes back. The rules live here:
//!
//! - the debug-label filter (`--debug-label-value`) is applied before anything else;
//! - a pass is bounded by [`PASS_TIMEOUT`], so a request that hangs (kube's client has no read timeout) cannot
//!   hold a worker forever; a pass that runs out of time fails like any other and backs off;
//! - condition changes go to the progress sink and become Events;
//! - a clean pass forgets the object's backoff and comes back when the chain asked ([`Policy::next`]);
//! - a failed pass is retried after 1 s when it lost a write race or hit a transient API error on the object
//!   itself, else after the object's backoff;
//! - at shutdown, in-flight passes get [`SHUTDOWN_DRAIN`] to finish;
//! - a controller whose API is not served yet waits for it with [`wait_for_api`] instead of failing.

use std::{future::Future, sync::Arc, time::Duration};

use futures::{FutureExt as _, Stream, StreamExt as _};
use kube::{Api, Resource, api::ListParams, runtime::controller::Action};

use super::{predicate, progress::ProgressSink};
use crate::errors::error_chain;
use crate::lifecycle::{Backoff, BackoffConfig, ConditionChange, EngineError, ObjectKey, PassReport};

/// How long in-flight passes may take to finish after the shutdown trigger.
pub const SHUTDOWN_DRAIN: Duration = Duration::from_secs(5);

/// The longest one pass may take. Plugin calls have their own deadline (`--plugin-call-timeout`); this bounds
/// the engine's own requests and the chain as a whole.
pub const PASS_TIMEOUT: Duration = Duration::from_secs(600);

/// How often an API that is not served yet (its CRD not installed) is looked for again.
pub const API_RETRY: Duration = Duration::from_secs(15);

/// What a controller contributes to the reconcile of its objects.
pub trait Policy: Send + Sync + 'static {
    /// The watched kind.
    type Object: Resource + Send + Sync + 'static;

    /// The controller name (logs, progress events, the plugin configuration's chains).
    const CONTROLLER: &'static str;

    /// The kind as errors name it (`PlatformMesh`).
    const KIND: &'static str;

    /// The key of a pass over `object`, or `None` to leave it alone.
    fn key(&self, object: &Self::Object) -> Option<ObjectKey>;

    /// Runs the lifecycle over `object`.
    fn pass(&self, object: &Self::Object, key: &ObjectKey) -> impl Future<Output = PassReport> + Send;

    /// Publishes the Events of `changes` on `object`.
    fn publish(
        &self,
        object: &Self::Object,
        key: &ObjectKey,
        changes: &[ConditionChange],
    ) -> impl Future<Output = ()> + Send;

    /// When a clean pass comes back: after `requested` if the chain asked, else on the next change.
    fn next(&self, requested: Option<Duration>) -> Action {
        requested.map_or_else(Action::await_change, Action::requeue)
    }
}

/// A failed pass, as handed to the error policy.
#[derive(Debug, thiserror::Error)]
#[error("reconciling {kind} {key}")]
pub struct ReconcileError {
    kind: &'static str,
    key: ObjectKey,
    #[source]
    source: EngineError,
}

/// A controller's policy with the state every controller keeps: its backoff, its filter and progress sink.
pub struct Runner<P> {
    policy: P,
    progress: ProgressSink,
    backoff: Backoff<ObjectKey>,
    debug_label_value: String,
    pass_timeout: Duration,
}

impl<P: Policy> Runner<P> {
    /// A runner for `policy` with the backoff `backoff`.
    pub fn new(policy: P, backoff: BackoffConfig, debug_label_value: String, progress: ProgressSink) -> Self {
        Runner {
            policy,
            progress,
            backoff: Backoff::new(backoff),
            debug_label_value,
            pass_timeout: PASS_TIMEOUT,
        }
    }

    /// Another limit than [`PASS_TIMEOUT`] for one pass.
    pub fn with_pass_timeout(mut self, limit: Duration) -> Self {
        self.pass_timeout = limit;
        self
    }
}

/// The reconcile of every controller.
pub async fn reconcile<P: Policy>(
    object: Arc<P::Object>,
    ctx: Arc<Runner<P>>,
) -> Result<Action, ReconcileError> {
    let labels = object.meta().labels.as_ref();
    if !predicate::debug_label_matches(labels, &ctx.debug_label_value) {
        return Ok(Action::await_change());
    }
    let Some(key) = ctx.policy.key(&object) else {
        return Ok(Action::await_change());
    };
    let report = match tokio::time::timeout(ctx.pass_timeout, ctx.policy.pass(&object, &key)).await {
        Ok(report) => report,
        Err(_) => PassReport {
            error: Some(EngineError::TimedOut {
                after: ctx.pass_timeout,
            }),
            ..PassReport::default()
        },
    };
    ctx.progress.emit(P::CONTROLLER, &key, &report.changes);
    if !report.changes.is_empty() {
        ctx.policy.publish(&object, &key, &report.changes).await;
    }
    if let Some(source) = report.error {
        return Err(ReconcileError {
            kind: P::KIND,
            key,
            source,
        });
    }
    ctx.backoff.forget(&key);
    Ok(ctx.policy.next(report.requeue_after))
}

/// The error policy of every controller: 1 s after a lost write race or a transient API error on the object
/// itself, else the object's backoff. Logs the failure with its causes.
pub fn error_policy<P: Policy>(
    _object: Arc<P::Object>,
    error: &ReconcileError,
    ctx: Arc<Runner<P>>,
) -> Action {
    let delay = if error.source.is_conflict() || error.source.is_transient() {
        Duration::from_secs(1)
    } else {
        ctx.backoff.next_delay(&error.key)
    };
    tracing::warn!(controller = P::CONTROLLER, error = %error_chain(error), retry_in = ?delay, "reconcile failed");
    Action::requeue(delay)
}

/// Polls a controller's output until `shutdown` has fired and [`SHUTDOWN_DRAIN`] has passed (kube-runtime's
/// graceful shutdown would also wait for every scheduled requeue, possibly minutes away), logging errors.
pub async fn drive<T, E: std::fmt::Display>(
    controller: &'static str,
    results: impl Stream<Item = Result<T, E>>,
    shutdown: impl Future<Output = ()>,
) {
    let drained = shutdown.then(|()| tokio::time::sleep(SHUTDOWN_DRAIN));
    results
        .take_until(drained)
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(%controller, %error, "controller event");
            }
        })
        .await;
}

/// Returns `true` once `api` can be listed, checking every [`API_RETRY`] and logging why not while it cannot
/// (the CRD not installed yet, say); `false` if `shutdown` comes first.
pub async fn wait_for_api<K>(api: &Api<K>, what: &str, shutdown: impl Future<Output = ()>) -> bool
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let mut shutdown = std::pin::pin!(shutdown);
    let mut logged = false;
    loop {
        match api.list(&ListParams::default().limit(1)).await {
            Ok(_) => {
                if logged {
                    tracing::info!(%what, "API served now; starting the controller");
                }
                return true;
            }
            Err(error) => {
                let hint = match &error {
                    kube::Error::Api(status) if status.code == 404 => "its CRD is not installed",
                    _ => "listing failed",
                };
                if logged {
                    tracing::debug!(%what, error = %error_chain(&error), "{hint}; the controller waits");
                } else {
                    tracing::warn!(%what, error = %error_chain(&error), retry_in = ?API_RETRY,
                        "{hint}; the controller waits");
                    logged = true;
                }
            }
        }
        tokio::select! {
            () = tokio::time::sleep(API_RETRY) => {}
            () = &mut shutdown => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::ConfigMap;
    use kube::api::ObjectMeta;

    use super::*;

    /// A pass that never finishes, as one waiting on a request that hangs.
    struct Hanging;

    impl Policy for Hanging {
        type Object = ConfigMap;
        const CONTROLLER: &'static str = "test";
        const KIND: &'static str = "ConfigMap";

        fn key(&self, object: &ConfigMap) -> Option<ObjectKey> {
            Some(ObjectKey::namespaced(
                "ns",
                object.metadata.name.clone().unwrap_or_default(),
            ))
        }

        async fn pass(&self, _object: &ConfigMap, _key: &ObjectKey) -> PassReport {
            std::future::pending().await
        }

        async fn publish(&self, _object: &ConfigMap, _key: &ObjectKey, _changes: &[ConditionChange]) {}
    }

    fn object(labels: &[(&str, &str)]) -> Arc<ConfigMap> {
        Arc::new(ConfigMap {
            metadata: ObjectMeta {
                name: Some("cm".into()),
                labels: Some(labels.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect()),
                ..ObjectMeta::default()
            },
            ..ConfigMap::default()
        })
    }

    #[tokio::test]
    async fn a_pass_that_hangs_fails_after_the_pass_timeout_and_backs_off() {
        let limit = Duration::from_millis(50);
        let runner = Arc::new(
            Runner::new(
                Hanging,
                BackoffConfig::DEFAULT,
                String::new(),
                ProgressSink::none(),
            )
            .with_pass_timeout(limit),
        );
        let error = tokio::time::timeout(Duration::from_secs(30), reconcile(object(&[]), runner.clone()))
            .await
            .expect("bounded by the pass timeout, not hanging")
            .expect_err("the pass cannot finish");
        assert!(matches!(error.source, EngineError::TimedOut { .. }), "{error:?}");
        assert_eq!(error.to_string(), "reconciling ConfigMap ns/cm");
        let _ = error_policy(object(&[]), &error, runner);
    }

    #[tokio::test]
    async fn objects_the_debug_label_filter_excludes_are_left_alone() {
        let runner = Arc::new(Runner::new(
            Hanging,
            BackoffConfig::DEFAULT,
            String::new(),
            ProgressSink::none(),
        ));
        let labelled = object(&[(predicate::DEBUG_LABEL, "someone")]);
        let action = reconcile(labelled, runner).await.expect("not reconciled");
        assert_eq!(action, Action::await_change());
    }
}

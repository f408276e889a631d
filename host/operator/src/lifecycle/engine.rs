//! One reconcile pass over one object (spec §3.3), with the fixes of §11.1: finalizers are de-duplicated, a
//! conflict on the final write keeps the subroutine error, and `status.observedGeneration` is set after a clean
//! pass.
//!
//! # Flow
//! 1. Fetch the object; gone → done.
//! 2. Not deleting: add the chain's missing finalizers with one metadata merge patch and end the pass (the
//!    resulting watch event starts the next one).
//! 3. Add `Unknown` conditions for subroutines (and `Ready`) that have none.
//! 4. Run the chain in order (reversed when deleting; a subroutine finalizes only while one of its finalizers is
//!    on the object), merging each status patch into the in-memory object and writing its condition.
//! 5. Write `Ready`, then persist: a metadata merge patch if metadata changed, a status merge patch if status
//!    changed. A pass that changes nothing writes nothing.
//!
//! # Guarantees
//! The returned [`PassReport`] carries the smallest positive requeue any subroutine asked for, the error that
//! ended the chain (if any) and the conditions that changed.

use std::{sync::Arc, time::Duration};

use serde_json::{Map, Value, json};

use super::{
    chain::{Chain, ChainSource},
    conditions::{self, ConditionChange, DesiredCondition, Status, reason},
    finalizers,
    patch::merge_diff,
    store::{ObjectKey, ObjectStore, StoreError},
    subroutine::{CallContext, Outcome, Subroutine, Target},
};

/// How a lifecycle treats its objects.
#[derive(Clone, Debug)]
pub struct LifecycleOptions {
    /// Write per-subroutine and `Ready` conditions.
    pub conditions: bool,
    /// Never add finalizers and never write (the OCM Resource controller).
    pub read_only: bool,
    /// Set `status.observedGeneration` after a clean pass.
    pub observed_generation: bool,
}

impl Default for LifecycleOptions {
    fn default() -> Self {
        LifecycleOptions {
            conditions: true,
            read_only: false,
            observed_generation: true,
        }
    }
}

/// Why a pass failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Reading the object failed.
    #[error("fetching object")]
    Fetch(#[source] StoreError),
    /// Adding the chain's finalizers failed.
    #[error("adding finalizers")]
    AddFinalizers(#[source] StoreError),
    /// A subroutine failed.
    #[error("subroutine {name} failed: {message}")]
    Subroutine {
        /// The subroutine name.
        name: String,
        /// Its message.
        message: String,
    },
    /// Persisting metadata or status failed.
    #[error("persisting changes")]
    Persist(#[source] StoreError),
    /// The pass did not finish within its time limit (a request that hung); what it did so far stays.
    #[error("the pass did not finish within {after:?}")]
    TimedOut {
        /// The limit.
        after: Duration,
    },
    /// A subroutine failed and persisting the pass failed too.
    #[error("subroutine {name} failed: {message}; persisting changes also failed")]
    SubroutineAndPersist {
        /// The subroutine name.
        name: String,
        /// Its message.
        message: String,
        /// The write error.
        #[source]
        persist: StoreError,
    },
}

impl EngineError {
    /// Whether the pass failed only on reading or writing the object itself with a transient API error (see
    /// [`StoreError::is_transient`]), not in a subroutine: worth a quick retry rather than the per-object
    /// backoff, which is meant for subroutine failures (upstream's 30 s for PlatformMesh).
    pub fn is_transient(&self) -> bool {
        match self {
            EngineError::Fetch(e) | EngineError::AddFinalizers(e) | EngineError::Persist(e) => {
                e.is_transient()
            }
            _ => false,
        }
    }

    /// Whether the pass lost an optimistic-concurrency race while persisting (retry after 1 s, spec §3.3).
    pub fn is_conflict(&self) -> bool {
        match self {
            EngineError::Persist(e) | EngineError::SubroutineAndPersist { persist: e, .. } => e.is_conflict(),
            _ => false,
        }
    }
}

/// The shortest requeue a subroutine can ask for: a plugin returning 1 ms would otherwise keep a worker busy
/// with passes over one object.
pub const MIN_REQUEUE: Duration = Duration::from_secs(1);

/// A requested requeue, raised to [`MIN_REQUEUE`].
pub fn clamp_requeue(after: Duration) -> Duration {
    after.max(MIN_REQUEUE)
}

/// What a pass did.
#[derive(Debug, Default)]
pub struct PassReport {
    /// Reconcile again after this long (without error semantics).
    pub requeue_after: Option<Duration>,
    /// The error that ended the pass; the controller retries with backoff.
    pub error: Option<EngineError>,
    /// Conditions whose status, reason or message changed and were persisted.
    pub changes: Vec<ConditionChange>,
    /// Whether the object was gone, or left with no finalizers during deletion.
    pub gone: bool,
    /// Whether the pass only added finalizers.
    pub added_finalizers: bool,
}

/// A controller's chain of subroutines and the options it runs them with.
pub struct Lifecycle {
    controller: String,
    object_target: Target,
    chain: ChainSource,
    options: LifecycleOptions,
    operator_config: Value,
    retired_finalizers: Vec<String>,
}

impl Lifecycle {
    /// A lifecycle for `controller` (e.g. `platformmesh`) running `chain` in order.
    pub fn new(
        controller: impl Into<String>,
        object_target: Target,
        chain: Vec<Arc<dyn Subroutine>>,
        options: LifecycleOptions,
        operator_config: Value,
    ) -> Self {
        Self::with_chain_source(controller, object_target, chain.into(), options, operator_config)
    }

    /// A lifecycle whose chain comes from `chain`, read once at the start of every pass (a live plugin set).
    pub fn with_chain_source(
        controller: impl Into<String>,
        object_target: Target,
        chain: ChainSource,
        options: LifecycleOptions,
        operator_config: Value,
    ) -> Self {
        Lifecycle {
            controller: controller.into(),
            object_target,
            chain,
            options,
            operator_config,
            retired_finalizers: Vec::new(),
        }
    }

    /// Finalizers that earlier versions of this chain declared and that no subroutine owns any more. A deletion
    /// removes them once the chain has finalized cleanly, as their owner's finalize would have; otherwise an object
    /// deleted across an upgrade would keep them forever, since no subroutine ever finalizes for them. (Live
    /// objects lose them through the subroutines that replaced them.)
    pub fn retire_finalizers(mut self, finalizers: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.retired_finalizers = finalizers.into_iter().map(Into::into).collect();
        self
    }

    /// The subroutine names in chain order (of the chain the next pass would run).
    pub fn subroutine_names(&self) -> Vec<String> {
        self.chain
            .snapshot()
            .iter()
            .map(|s| s.name().to_owned())
            .collect()
    }

    /// Runs one pass over the object `key` in `store`, recording it in the operator's metrics.
    pub async fn reconcile<S: ObjectStore>(&self, store: &S, key: &ObjectKey) -> PassReport {
        let started = std::time::Instant::now();
        let report = self.reconcile_pass(store, key).await;
        let ok = report.error.is_none();
        crate::metrics::global().record_reconcile(&self.controller, ok, started.elapsed());
        report
    }

    async fn reconcile_pass<S: ObjectStore>(&self, store: &S, key: &ObjectKey) -> PassReport {
        let object = match store.get(key).await {
            Ok(Some(object)) => object,
            Ok(None) => {
                return PassReport {
                    gone: true,
                    ..PassReport::default()
                };
            }
            Err(error) => {
                return PassReport {
                    error: Some(EngineError::Fetch(error)),
                    ..PassReport::default()
                };
            }
        };
        let deleting = object
            .pointer("/metadata/deletionTimestamp")
            .is_some_and(|t| !t.is_null());

        // The whole pass runs on this chain, even if the plugin set is swapped meanwhile.
        let chain = self.chain.snapshot();
        if !deleting && !self.options.read_only {
            let wanted = chain.iter().flat_map(|s| s.finalizers().iter());
            let missing = finalizers::missing(&object, wanted);
            if !missing.is_empty() {
                let mut all = finalizers::current(&object);
                all.extend(missing);
                let patch = json!({"metadata": {"finalizers": all}});
                return match store.patch(key, &patch).await {
                    Ok(_) => PassReport {
                        added_finalizers: true,
                        ..PassReport::default()
                    },
                    Err(error) => PassReport {
                        error: Some(EngineError::AddFinalizers(error)),
                        ..PassReport::default()
                    },
                };
            }
        }

        let original = object.clone();
        let mut pass = Pass::new(self, chain, object);
        pass.run(deleting).await;
        self.persist(store, key, &original, pass, deleting).await
    }

    async fn persist<S: ObjectStore>(
        &self,
        store: &S,
        key: &ObjectKey,
        original: &Value,
        pass: Pass<'_>,
        deleting: bool,
    ) -> PassReport {
        let Pass {
            object,
            error,
            min_requeue,
            ..
        } = pass;
        let mut report = PassReport {
            requeue_after: min_requeue,
            ..PassReport::default()
        };
        let subroutine_error = error;
        if self.options.read_only {
            report.error = subroutine_error;
            return report;
        }
        let write = async {
            if let Some(patch) = merge_diff(&original["metadata"], &object["metadata"]) {
                store.patch(key, &json!({"metadata": patch})).await?;
            }
            if deleting && finalizers::current(&object).is_empty() {
                return Ok(true);
            }
            let empty = Value::Object(Map::new());
            let before = original.get("status").unwrap_or(&empty);
            let after = object.get("status").unwrap_or(&empty);
            if let Some(patch) = merge_diff(before, after) {
                store.patch_status(key, &json!({"status": patch})).await?;
            }
            Ok::<bool, StoreError>(false)
        };
        match write.await {
            Ok(gone) => {
                report.gone = gone;
                if !gone {
                    report.changes = conditions::changes(original, &object);
                }
                report.error = subroutine_error;
            }
            Err(persist) => {
                if persist.is_conflict() {
                    report.requeue_after = Some(Duration::from_secs(1));
                }
                report.error = Some(match subroutine_error {
                    Some(EngineError::Subroutine { name, message }) => EngineError::SubroutineAndPersist {
                        name,
                        message,
                        persist,
                    },
                    _ => EngineError::Persist(persist),
                });
            }
        }
        report
    }
}

/// The mutable state of one pass.
struct Pass<'l> {
    lifecycle: &'l Lifecycle,
    chain: Chain,
    object: Value,
    generation: i64,
    now: String,
    error: Option<EngineError>,
    stopped: bool,
    pending: bool,
    min_requeue: Option<Duration>,
}

impl<'l> Pass<'l> {
    fn new(lifecycle: &'l Lifecycle, chain: Chain, object: Value) -> Self {
        let generation = object
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        // Condition times have second precision on the wire; formatting them so keeps steady-state passes equal.
        let now = k8s_openapi::jiff::Timestamp::now()
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        Pass {
            lifecycle,
            chain,
            object,
            generation,
            now,
            error: None,
            stopped: false,
            pending: false,
            min_requeue: None,
        }
    }

    fn track_requeue(&mut self, after: Option<Duration>) {
        if let Some(after) = after.filter(|d| !d.is_zero()).map(clamp_requeue) {
            self.min_requeue = Some(self.min_requeue.map_or(after, |m| m.min(after)));
        }
    }

    fn set_condition(&mut self, type_: String, status: Status, reason: &str, message: String) {
        if self.lifecycle.options.conditions {
            let desired = DesiredCondition {
                type_,
                status,
                reason: reason.into(),
                message,
            };
            conditions::set(&mut self.object, &desired, self.generation, &self.now);
        }
    }

    fn merge_status(&mut self, patch: Option<&Value>) {
        let Some(patch) = patch else { return };
        if let Some(root) = self.object.as_object_mut() {
            let status = root.entry("status").or_insert_with(|| Value::Object(Map::new()));
            json_patch::merge(status, patch);
        }
    }

    async fn run(&mut self, deleting: bool) {
        let lifecycle = self.lifecycle;
        if lifecycle.options.conditions {
            let mut types: Vec<&str> = self.chain.iter().map(|s| s.name()).collect();
            types.push(conditions::READY);
            conditions::init_unknown(&mut self.object, types, self.generation, &self.now);
        }
        let chain = self.chain.clone();
        let mut order: Vec<&Arc<dyn Subroutine>> = chain.iter().collect();
        if deleting {
            order.reverse();
        }
        for subroutine in order {
            let finalizing = deleting;
            if finalizing && !finalizers::any_present(&self.object, subroutine.finalizers()) {
                continue;
            }
            let ctx = CallContext {
                controller: lifecycle.controller.clone(),
                object_target: lifecycle.object_target.clone(),
                object: self.object.clone(),
                operator_config: lifecycle.operator_config.clone(),
            };
            let started = std::time::Instant::now();
            let result = if finalizing {
                subroutine.finalize(&ctx).await
            } else {
                subroutine.process(&ctx).await
            };
            let name = subroutine.name().to_owned();
            let (outcome, requeue) = match result.as_ref().map(|step| &step.outcome) {
                Err(_) => ("error", None),
                Ok(Outcome::Ok { requeue_after, .. }) => ("ok", *requeue_after),
                Ok(Outcome::Pending { requeue_after, .. }) => ("pending", Some(*requeue_after)),
                Ok(Outcome::Stop { requeue_after, .. }) => ("stop", *requeue_after),
            };
            crate::metrics::global().record_step(
                &lifecycle.controller,
                &name,
                finalizing,
                outcome,
                requeue,
                started.elapsed(),
            );
            let type_ = if finalizing {
                format!("{name}Finalize")
            } else {
                name.clone()
            };
            match result {
                Err(failure) => {
                    self.merge_status(failure.status_patch.as_ref());
                    self.set_condition(type_, Status::False, reason::ERROR, failure.message.clone());
                    tracing::warn!(subroutine = %name, message = %failure.message, "subroutine failed");
                    self.error = Some(EngineError::Subroutine {
                        name,
                        message: failure.message,
                    });
                    break;
                }
                Ok(step) => {
                    self.merge_status(step.status_patch.as_ref());
                    match step.outcome {
                        Outcome::Ok {
                            requeue_after,
                            message,
                        } => {
                            self.set_condition(
                                type_,
                                Status::True,
                                reason::COMPLETE,
                                message.unwrap_or_default(),
                            );
                            self.track_requeue(requeue_after);
                            if finalizing && requeue_after.is_none_or(|d| d.is_zero()) {
                                finalizers::remove(&mut self.object, subroutine.finalizers());
                            }
                        }
                        Outcome::Pending {
                            message,
                            requeue_after,
                        } => {
                            self.set_condition(type_, Status::Unknown, reason::PENDING, message);
                            self.track_requeue(Some(requeue_after));
                            self.pending = true;
                        }
                        Outcome::Stop {
                            message,
                            requeue_after,
                        } => {
                            tracing::info!(subroutine = %name, %message, "subroutine stopped the chain");
                            self.set_condition(type_, Status::False, reason::STOPPED, message);
                            self.track_requeue(requeue_after);
                            self.stopped = true;
                            break;
                        }
                    }
                }
            }
        }
        if deleting && self.error.is_none() && !self.stopped && !self.pending {
            finalizers::remove(&mut self.object, &lifecycle.retired_finalizers);
        }
        if lifecycle.options.conditions {
            let ready = conditions::ready_condition(self.error.is_some(), self.stopped, self.pending);
            conditions::set(&mut self.object, &ready, self.generation, &self.now);
        }
        let clean = self.error.is_none() && !self.stopped && !self.pending && !deleting;
        if clean && lifecycle.options.observed_generation {
            let generation = self.generation;
            self.merge_status(Some(&json!({"observedGeneration": generation})));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requeues_below_a_second_are_raised() {
        assert_eq!(clamp_requeue(Duration::from_millis(1)), MIN_REQUEUE);
        assert_eq!(clamp_requeue(Duration::ZERO), MIN_REQUEUE);
        assert_eq!(clamp_requeue(Duration::from_secs(30)), Duration::from_secs(30));
    }
}

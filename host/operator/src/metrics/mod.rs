//! Prometheus metrics (`--metrics-bind-address`, served at `/metrics` by [`server`]).
//!
//! One process-wide registry, like controller-runtime's global one: the controllers, the lifecycle engine, the
//! plugin runtime, the API clients and the leader elector record into [`global()`] without threading a handle
//! through every constructor. Label values are fixed names (controller, subroutine, plugin, verb, outcome),
//! never error texts or object names, so the series stay few and nothing secret reaches a label.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `platform_mesh_operator_reconcile_total` | counter | `controller`, `result` (`success`/`error`) |
//! | `platform_mesh_operator_reconcile_duration_seconds` | histogram | `controller` |
//! | `platform_mesh_operator_subroutine_total` | counter | `subroutine`, `result` |
//! | `platform_mesh_operator_subroutine_duration_seconds` | histogram | `subroutine` |
//! | `lifecycle_subroutine_duration_seconds` | histogram | `controller`, `subroutine`, `action`, `outcome` |
//! | `lifecycle_subroutine_errors_total` | counter | `controller`, `subroutine`, `action` |
//! | `lifecycle_subroutine_requeue_seconds` | histogram | `controller`, `subroutine`, `outcome` |
//! | `platform_mesh_operator_plugin_call_duration_seconds` | histogram | `plugin`, `action`, `result` |
//! | `platform_mesh_operator_plugin_traps_total` | counter | `plugin`, `kind` (`trap`/`panic`/`deadline`/`memory`) |
//! | `platform_mesh_operator_api_requests_total` | counter | `verb`, `code` |
//! | `platform_mesh_operator_plugin_set_swaps_total` | counter | `result` (`success`/`error`) |
//! | `platform_mesh_operator_leader` | gauge | — (1 while this instance leads) |
//!
//! The first three are upstream's (spec §2.5), the lifecycle ones the upstream library's (spec §3.9).

mod api;
pub mod secure;
pub mod server;

use std::{
    sync::{OnceLock, atomic::AtomicI64},
    time::Duration,
};

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::{Registry, Unit},
};

pub use api::{instrument, verb_of};

/// Labels `controller`, `result`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ControllerResult {
    /// Controller name (`platformmesh`).
    pub controller: String,
    /// `success` or `error`.
    pub result: &'static str,
}

/// Label `controller`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ControllerLabel {
    /// Controller name.
    pub controller: String,
}

/// Labels `subroutine`, `result`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SubroutineResult {
    /// Subroutine name (`WaitSubroutine`).
    pub subroutine: String,
    /// `success` or `error`.
    pub result: &'static str,
}

/// Label `subroutine`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SubroutineLabel {
    /// Subroutine name.
    pub subroutine: String,
}

/// Labels of the lifecycle library's duration histogram.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LifecycleStep {
    /// Controller name.
    pub controller: String,
    /// Subroutine name.
    pub subroutine: String,
    /// `process` or `finalize`.
    pub action: &'static str,
    /// `ok`, `pending`, `stop` or `error`.
    pub outcome: &'static str,
}

/// Labels of the lifecycle library's error counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LifecycleError {
    /// Controller name.
    pub controller: String,
    /// Subroutine name.
    pub subroutine: String,
    /// `process` or `finalize`.
    pub action: &'static str,
}

/// Labels of the lifecycle library's requeue histogram.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LifecycleRequeue {
    /// Controller name.
    pub controller: String,
    /// Subroutine name.
    pub subroutine: String,
    /// `ok`, `pending` or `stop`.
    pub outcome: &'static str,
}

/// Labels of a plugin call.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PluginCall {
    /// Plugin file stem (`wait`).
    pub plugin: String,
    /// `process` or `finalize`.
    pub action: &'static str,
    /// `ok` (the plugin returned an outcome), `failure` (it returned an error) or `trap`.
    pub result: &'static str,
}

/// Labels of a plugin trap.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PluginTrap {
    /// Plugin file stem.
    pub plugin: String,
    /// `trap`, `panic`, `deadline`, `memory` or `host`.
    pub kind: &'static str,
}

/// Labels of an API request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ApiRequest {
    /// Kubernetes verb: get, list, watch, create, update, patch, apply, delete, deletecollection.
    pub verb: &'static str,
    /// HTTP status code, or `error` when no response came.
    pub code: String,
}

/// Label `result`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabel {
    /// `success` or `error`.
    pub result: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn duration_histogram() -> Histogram {
    // controller-runtime's default buckets span 5 ms .. 10 s; plugin calls and reconciles live there too.
    Histogram::new([
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    ])
}

fn requeue_histogram() -> Histogram {
    Histogram::new([1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 1200.0])
}

/// Every metric the operator records.
pub struct Metrics {
    registry: Registry,
    /// Reconciles per controller and result.
    pub reconciles: Family<ControllerResult, Counter>,
    /// Reconcile duration per controller.
    pub reconcile_duration: HistogramFamily<ControllerLabel>,
    /// Subroutine calls per subroutine and result.
    pub subroutines: Family<SubroutineResult, Counter>,
    /// Subroutine duration per subroutine.
    pub subroutine_duration: HistogramFamily<SubroutineLabel>,
    /// Lifecycle library: step duration.
    pub lifecycle_duration: HistogramFamily<LifecycleStep>,
    /// Lifecycle library: step errors.
    pub lifecycle_errors: Family<LifecycleError, Counter>,
    /// Lifecycle library: requested requeues.
    pub lifecycle_requeue: HistogramFamily<LifecycleRequeue>,
    /// Plugin call duration.
    pub plugin_calls: HistogramFamily<PluginCall>,
    /// Plugin traps (the sandbox ended the call).
    pub plugin_traps: Family<PluginTrap, Counter>,
    /// API requests per verb and code.
    pub api_requests: Family<ApiRequest, Counter>,
    /// Plugin-set swaps (a new plugin ConfigMap verified and swapped in, or refused).
    pub plugin_set_swaps: Family<ResultLabel, Counter>,
    /// 1 while this instance holds the leader lease.
    pub leader: Gauge<i64, AtomicI64>,
}

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::default();
        let metrics = Metrics {
            reconciles: Family::default(),
            reconcile_duration: Family::new_with_constructor(duration_histogram),
            subroutines: Family::default(),
            subroutine_duration: Family::new_with_constructor(duration_histogram),
            lifecycle_duration: Family::new_with_constructor(duration_histogram),
            lifecycle_errors: Family::default(),
            lifecycle_requeue: Family::new_with_constructor(requeue_histogram),
            plugin_calls: Family::new_with_constructor(duration_histogram),
            plugin_traps: Family::default(),
            api_requests: Family::default(),
            plugin_set_swaps: Family::default(),
            leader: Gauge::default(),
            registry: Registry::default(),
        };
        let pmo = "platform_mesh_operator";
        registry.register(
            format!("{pmo}_reconcile"),
            "Reconciles per controller and result",
            metrics.reconciles.clone(),
        );
        registry.register_with_unit(
            format!("{pmo}_reconcile_duration"),
            "Duration of one reconcile pass",
            Unit::Seconds,
            metrics.reconcile_duration.clone(),
        );
        registry.register(
            format!("{pmo}_subroutine"),
            "Subroutine calls per subroutine and result",
            metrics.subroutines.clone(),
        );
        registry.register_with_unit(
            format!("{pmo}_subroutine_duration"),
            "Duration of one subroutine call",
            Unit::Seconds,
            metrics.subroutine_duration.clone(),
        );
        registry.register_with_unit(
            "lifecycle_subroutine_duration",
            "Duration of one subroutine step by action and outcome",
            Unit::Seconds,
            metrics.lifecycle_duration.clone(),
        );
        registry.register(
            "lifecycle_subroutine_errors",
            "Subroutine steps that returned an error",
            metrics.lifecycle_errors.clone(),
        );
        registry.register_with_unit(
            "lifecycle_subroutine_requeue",
            "Requeue intervals subroutines asked for",
            Unit::Seconds,
            metrics.lifecycle_requeue.clone(),
        );
        registry.register_with_unit(
            format!("{pmo}_plugin_call_duration"),
            "Duration of one wasm plugin call, sandbox set-up included",
            Unit::Seconds,
            metrics.plugin_calls.clone(),
        );
        registry.register(
            format!("{pmo}_plugin_traps"),
            "Plugin calls the sandbox ended (trap, panic, deadline, memory cap)",
            metrics.plugin_traps.clone(),
        );
        registry.register(
            format!("{pmo}_api_requests"),
            "Kubernetes API requests per verb and status code",
            metrics.api_requests.clone(),
        );
        registry.register(
            format!("{pmo}_plugin_set_swaps"),
            "Plugin sets swapped in (success) or refused (error)",
            metrics.plugin_set_swaps.clone(),
        );
        registry.register(
            format!("{pmo}_leader"),
            "1 while this instance holds the leader lease",
            metrics.leader.clone(),
        );
        Metrics { registry, ..metrics }
    }

    /// Records one reconcile pass.
    pub fn record_reconcile(&self, controller: &str, ok: bool, took: Duration) {
        let result = if ok { "success" } else { "error" };
        self.reconciles
            .get_or_create(&ControllerResult {
                controller: controller.to_owned(),
                result,
            })
            .inc();
        self.reconcile_duration
            .get_or_create(&ControllerLabel {
                controller: controller.to_owned(),
            })
            .observe(took.as_secs_f64());
    }

    /// Records one subroutine step; `outcome` is `ok`, `pending`, `stop` or `error`.
    pub fn record_step(
        &self,
        controller: &str,
        subroutine: &str,
        finalizing: bool,
        outcome: &'static str,
        requeue_after: Option<Duration>,
        took: Duration,
    ) {
        let action = if finalizing { "finalize" } else { "process" };
        let result = if outcome == "error" { "error" } else { "success" };
        self.subroutines
            .get_or_create(&SubroutineResult {
                subroutine: subroutine.to_owned(),
                result,
            })
            .inc();
        self.subroutine_duration
            .get_or_create(&SubroutineLabel {
                subroutine: subroutine.to_owned(),
            })
            .observe(took.as_secs_f64());
        self.lifecycle_duration
            .get_or_create(&LifecycleStep {
                controller: controller.to_owned(),
                subroutine: subroutine.to_owned(),
                action,
                outcome,
            })
            .observe(took.as_secs_f64());
        if outcome == "error" {
            self.lifecycle_errors
                .get_or_create(&LifecycleError {
                    controller: controller.to_owned(),
                    subroutine: subroutine.to_owned(),
                    action,
                })
                .inc();
        }
        if let Some(after) = requeue_after.filter(|d| !d.is_zero()) {
            self.lifecycle_requeue
                .get_or_create(&LifecycleRequeue {
                    controller: controller.to_owned(),
                    subroutine: subroutine.to_owned(),
                    outcome,
                })
                .observe(after.as_secs_f64());
        }
    }

    /// Records one plugin call; `trap` names the sandbox failure kind, if any.
    pub fn record_plugin_call(
        &self,
        plugin: &str,
        finalizing: bool,
        result: &'static str,
        trap: Option<&'static str>,
        took: Duration,
    ) {
        let action = if finalizing { "finalize" } else { "process" };
        self.plugin_calls
            .get_or_create(&PluginCall {
                plugin: plugin.to_owned(),
                action,
                result,
            })
            .observe(took.as_secs_f64());
        if let Some(kind) = trap {
            self.plugin_traps
                .get_or_create(&PluginTrap {
                    plugin: plugin.to_owned(),
                    kind,
                })
                .inc();
        }
    }

    /// Records a plugin-set swap (`true`) or a refused plugin set (`false`).
    pub fn record_plugin_set_swap(&self, swapped: bool) {
        let result = if swapped { "success" } else { "error" };
        self.plugin_set_swaps.get_or_create(&ResultLabel { result }).inc();
    }

    /// The OpenMetrics text of every metric.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

/// The process-wide metrics.
pub fn global() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_values_appear_under_upstream_names() {
        let metrics = Metrics::new();
        metrics.record_reconcile("platformmesh", true, Duration::from_millis(3));
        metrics.record_step(
            "platformmesh",
            "WaitSubroutine",
            false,
            "pending",
            Some(Duration::from_secs(5)),
            Duration::from_millis(2),
        );
        metrics.record_plugin_call("wait", false, "trap", Some("deadline"), Duration::from_millis(1));
        metrics.record_plugin_set_swap(false);
        let text = metrics.encode();
        for expected in [
            r#"platform_mesh_operator_reconcile_total{controller="platformmesh",result="success"} 1"#,
            r#"platform_mesh_operator_subroutine_total{subroutine="WaitSubroutine",result="success"} 1"#,
            "platform_mesh_operator_subroutine_duration_seconds_count{subroutine=\"WaitSubroutine\"} 1",
            r#"lifecycle_subroutine_requeue_seconds_count{controller="platformmesh",subroutine="WaitSubroutine",outcome="pending"} 1"#,
            r#"platform_mesh_operator_plugin_traps_total{plugin="wait",kind="deadline"} 1"#,
            r#"platform_mesh_operator_plugin_set_swaps_total{result="error"} 1"#,
            "platform_mesh_operator_leader 0",
        ] {
            assert!(text.contains(expected), "missing {expected} in\n{text}");
        }
    }
}

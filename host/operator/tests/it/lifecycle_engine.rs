//! The lifecycle engine against the embedded API server: the upstream `subroutines` test inventory (spec §10.8),
//! each test named after the behaviour it checks.

use std::{sync::Arc, time::Duration};

use crate::support::*;
use apiserver::Server;
use kube::api::DeleteParams;
use platform_mesh_operator::lifecycle::{
    EngineError, KubeStore, Lifecycle, LifecycleOptions, ObjectKey, Subroutine, Target,
};
use serde_json::json;

const NS: &str = "default";
const FIN: &str = "platform-mesh.core.platform-mesh.io/finalizer";

struct Env {
    server: Server,
    store: KubeStore,
    key: ObjectKey,
}

async fn env(name: &str) -> Env {
    let server = server_with_crds().await;
    create_platform_mesh(&server.client(), NS, name, json!({})).await;
    let store = KubeStore::new(server.client(), platform_mesh_resource());
    Env {
        server,
        store,
        key: ObjectKey::namespaced(NS, name),
    }
}

fn lifecycle(chain: Vec<Arc<dyn Subroutine>>, options: LifecycleOptions) -> Lifecycle {
    Lifecycle::new(
        "platformmesh",
        Target::Runtime,
        chain,
        options,
        json!({"kcpUrl": "https://k"}),
    )
}

impl Env {
    async fn object(&self) -> Option<serde_json::Value> {
        get_platform_mesh(&self.server.client(), NS, &self.key.name).await
    }

    async fn delete(&self) {
        platform_mesh_api(&self.server.client(), NS)
            .delete(&self.key.name, &DeleteParams::default())
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn object_not_found_is_success_without_requeue() {
    let env = env("pm").await;
    let j = journal();
    let lc = lifecycle(
        vec![Arc::new(Scripted::new("A", &j))],
        LifecycleOptions::default(),
    );
    let report = lc
        .reconcile(&env.store, &ObjectKey::namespaced(NS, "missing"))
        .await;
    assert!(report.gone && report.error.is_none() && report.requeue_after.is_none());
    assert!(j.lock().unwrap().is_empty());
}

#[tokio::test]
async fn single_processor_completes_and_sets_ready_and_observed_generation() {
    let env = env("pm").await;
    let j = journal();
    let lc = lifecycle(
        vec![Arc::new(Scripted::new("A", &j))],
        LifecycleOptions::default(),
    );
    let report = lc.reconcile(&env.store, &env.key).await;
    assert!(report.error.is_none() && report.requeue_after.is_none());
    let obj = env.object().await.unwrap();
    let a = condition(&obj, "A").unwrap();
    assert_eq!(
        (a["status"].as_str(), a["reason"].as_str(), a["message"].as_str()),
        (Some("True"), Some("Complete"), Some(""))
    );
    let ready = condition(&obj, "Ready").unwrap();
    assert_eq!(ready["message"], "all subroutines completed successfully");
    assert_eq!(ready["observedGeneration"], obj["metadata"]["generation"]);
    assert_eq!(obj["status"]["observedGeneration"], obj["metadata"]["generation"]);
    let types: Vec<&str> = report.changes.iter().map(|c| c.type_.as_str()).collect();
    assert_eq!(types, ["A", "Ready"]);
}

#[tokio::test]
async fn processor_error_stops_chain_and_sets_error_conditions() {
    let env = env("pm").await;
    let j = journal();
    let chain: Vec<Arc<dyn Subroutine>> = vec![
        Arc::new(Scripted::new("A", &j).processing([Script::Fail("boom")])),
        Arc::new(Scripted::new("B", &j)),
    ];
    let report = lifecycle(chain, LifecycleOptions::default())
        .reconcile(&env.store, &env.key)
        .await;
    assert!(matches!(report.error, Some(EngineError::Subroutine { ref name, .. }) if name == "A"));
    assert_eq!(*j.lock().unwrap(), ["A:process"]);
    let obj = env.object().await.unwrap();
    assert_eq!(condition(&obj, "A").unwrap()["reason"], "Error");
    assert_eq!(condition(&obj, "A").unwrap()["message"], "boom");
    assert_eq!(
        condition(&obj, "B").unwrap()["reason"],
        "Unknown",
        "B did not run"
    );
    let ready = condition(&obj, "Ready").unwrap();
    assert_eq!(
        (ready["status"].as_str(), ready["reason"].as_str()),
        (Some("False"), Some("Error"))
    );
    assert_eq!(ready["message"], "one or more subroutines encountered an error");
    assert!(
        obj["status"].get("observedGeneration").is_none(),
        "not a clean pass"
    );
}

#[tokio::test]
async fn stop_with_requeue_breaks_chain_and_requeues() {
    let env = env("pm").await;
    let j = journal();
    let chain: Vec<Arc<dyn Subroutine>> = vec![
        Arc::new(
            Scripted::new("A", &j).processing([Script::Stop("not ready", Some(Duration::from_secs(5)))]),
        ),
        Arc::new(Scripted::new("B", &j)),
    ];
    let report = lifecycle(chain, LifecycleOptions::default())
        .reconcile(&env.store, &env.key)
        .await;
    assert!(report.error.is_none());
    assert_eq!(report.requeue_after, Some(Duration::from_secs(5)));
    assert_eq!(*j.lock().unwrap(), ["A:process"]);
    let obj = env.object().await.unwrap();
    let a = condition(&obj, "A").unwrap();
    assert_eq!(
        (a["status"].as_str(), a["reason"].as_str(), a["message"].as_str()),
        (Some("False"), Some("Stopped"), Some("not ready"))
    );
    assert_eq!(
        condition(&obj, "Ready").unwrap()["message"],
        "one or more subroutines stopped the chain"
    );
}

#[tokio::test]
async fn stop_breaks_chain_without_requeue() {
    let env = env("pm").await;
    let j = journal();
    let chain: Vec<Arc<dyn Subroutine>> = vec![
        Arc::new(Scripted::new("A", &j).processing([Script::Stop("halt", None)])),
        Arc::new(Scripted::new("B", &j)),
    ];
    let report = lifecycle(chain, LifecycleOptions::default())
        .reconcile(&env.store, &env.key)
        .await;
    assert!(report.error.is_none() && report.requeue_after.is_none());
    assert_eq!(*j.lock().unwrap(), ["A:process"]);
}

#[tokio::test]
async fn pending_continues_chain_with_ready_unknown_and_requeue() {
    let env = env("pm").await;
    let j = journal();
    let chain: Vec<Arc<dyn Subroutine>> = vec![
        Arc::new(Scripted::new("A", &j).processing([Script::Pending("waiting", Duration::from_secs(10))])),
        Arc::new(Scripted::new("B", &j)),
    ];
    let report = lifecycle(chain, LifecycleOptions::default())
        .reconcile(&env.store, &env.key)
        .await;
    assert_eq!(report.requeue_after, Some(Duration::from_secs(10)));
    assert_eq!(*j.lock().unwrap(), ["A:process", "B:process"]);
    let obj = env.object().await.unwrap();
    assert_eq!(condition(&obj, "A").unwrap()["status"], "Unknown");
    assert_eq!(condition(&obj, "B").unwrap()["status"], "True");
    let ready = condition(&obj, "Ready").unwrap();
    assert_eq!(
        (ready["status"].as_str(), ready["reason"].as_str()),
        (Some("Unknown"), Some("Pending"))
    );
}

#[tokio::test]
async fn multiple_pending_use_the_shortest_requeue() {
    let env = env("pm").await;
    let j = journal();
    let chain: Vec<Arc<dyn Subroutine>> = vec![
        Arc::new(Scripted::new("A", &j).processing([Script::Pending("a", Duration::from_secs(30))])),
        Arc::new(Scripted::new("B", &j).processing([Script::Pending("b", Duration::from_secs(7))])),
        Arc::new(Scripted::new("C", &j).processing([Script::OkRequeue(Duration::from_secs(20))])),
    ];
    let report = lifecycle(chain, LifecycleOptions::default())
        .reconcile(&env.store, &env.key)
        .await;
    assert_eq!(report.requeue_after, Some(Duration::from_secs(7)));
}

#[tokio::test]
async fn ok_with_requeue_completes_and_requeues() {
    let env = env("pm").await;
    let j = journal();
    let chain: Vec<Arc<dyn Subroutine>> = vec![Arc::new(
        Scripted::new("A", &j).processing([Script::OkRequeue(Duration::from_secs(3))]),
    )];
    let report = lifecycle(chain, LifecycleOptions::default())
        .reconcile(&env.store, &env.key)
        .await;
    assert_eq!(report.requeue_after, Some(Duration::from_secs(3)));
    let obj = env.object().await.unwrap();
    assert_eq!(condition(&obj, "Ready").unwrap()["reason"], "Complete");
}

#[tokio::test]
async fn add_finalizers_first_pass_only_adds_them_once() {
    let env = env("pm").await;
    let j = journal();
    let chain: Vec<Arc<dyn Subroutine>> = vec![
        Arc::new(Scripted::new("KcpsetupSubroutine", &j).finalizer(FIN)),
        Arc::new(Scripted::new("ProvidersecretSubroutine", &j).finalizer(FIN)),
    ];
    let lc = lifecycle(chain, LifecycleOptions::default());
    let report = lc.reconcile(&env.store, &env.key).await;
    assert!(report.added_finalizers && report.error.is_none() && report.requeue_after.is_none());
    assert!(
        j.lock().unwrap().is_empty(),
        "no subroutine runs in the finalizer pass"
    );
    let obj = env.object().await.unwrap();
    assert_eq!(
        obj["metadata"]["finalizers"],
        json!([FIN]),
        "the shared string is added once"
    );
    assert!(obj["status"].get("conditions").is_none());
    lc.reconcile(&env.store, &env.key).await;
    assert_eq!(j.lock().unwrap().len(), 2, "the next pass processes");
}

#[tokio::test]
async fn finalize_flow_runs_reversed_removes_finalizers_and_object_disappears() {
    let env = env("pm").await;
    let j = journal();
    let chain: Vec<Arc<dyn Subroutine>> = vec![
        Arc::new(Scripted::new("A", &j).finalizer("a/f")),
        Arc::new(Scripted::new("B", &j)),
        Arc::new(Scripted::new("C", &j).finalizer("c/f")),
    ];
    let lc = lifecycle(chain, LifecycleOptions::default());
    lc.reconcile(&env.store, &env.key).await;
    lc.reconcile(&env.store, &env.key).await;
    env.delete().await;
    j.lock().unwrap().clear();
    let report = lc.reconcile(&env.store, &env.key).await;
    assert!(report.error.is_none() && report.gone);
    assert_eq!(
        *j.lock().unwrap(),
        ["C:finalize", "A:finalize"],
        "reverse order; B has no finalizer and is skipped"
    );
    assert!(env.object().await.is_none());
}

#[tokio::test]
async fn finalize_with_requeue_keeps_finalizer_and_writes_finalize_condition() {
    let env = env("pm").await;
    let j = journal();
    let chain: Vec<Arc<dyn Subroutine>> = vec![
        Arc::new(Scripted::new("A", &j).finalizer("a/f")),
        Arc::new(
            Scripted::new("B", &j)
                .finalizer("b/f")
                .finalizing([Script::Stop("cleaning", Some(Duration::from_secs(2)))]),
        ),
    ];
    let lc = lifecycle(chain, LifecycleOptions::default());
    lc.reconcile(&env.store, &env.key).await;
    lc.reconcile(&env.store, &env.key).await;
    env.delete().await;
    j.lock().unwrap().clear();
    let report = lc.reconcile(&env.store, &env.key).await;
    assert_eq!(report.requeue_after, Some(Duration::from_secs(2)));
    assert_eq!(
        *j.lock().unwrap(),
        ["B:finalize"],
        "the stop ends the chain before A"
    );
    let obj = env.object().await.unwrap();
    assert_eq!(obj["metadata"]["finalizers"], json!(["a/f", "b/f"]));
    assert_eq!(condition(&obj, "BFinalize").unwrap()["reason"], "Stopped");
}

#[tokio::test]
async fn read_only_mode_adds_no_finalizers_and_writes_nothing() {
    let env = env("pm").await;
    let j = journal();
    let chain: Vec<Arc<dyn Subroutine>> = vec![Arc::new(Scripted::new("A", &j).finalizer("a/f"))];
    let options = LifecycleOptions {
        conditions: false,
        read_only: true,
        observed_generation: false,
    };
    let before = env.object().await.unwrap();
    let report = lifecycle(chain, options).reconcile(&env.store, &env.key).await;
    assert!(report.error.is_none());
    assert_eq!(*j.lock().unwrap(), ["A:process"]);
    assert_eq!(
        env.object().await.unwrap()["metadata"]["resourceVersion"],
        before["metadata"]["resourceVersion"]
    );
}

#[tokio::test]
async fn no_conditions_configured_writes_no_conditions() {
    let env = env("pm").await;
    let j = journal();
    let chain: Vec<Arc<dyn Subroutine>> = vec![Arc::new(Scripted::new("A", &j))];
    let options = LifecycleOptions {
        conditions: false,
        read_only: false,
        observed_generation: false,
    };
    lifecycle(chain, options).reconcile(&env.store, &env.key).await;
    assert!(env.object().await.unwrap()["status"].get("conditions").is_none());
}

#[tokio::test]
async fn non_finalizer_subroutine_is_skipped_during_deletion_without_condition() {
    let env = env("pm").await;
    let j = journal();
    let chain: Vec<Arc<dyn Subroutine>> = vec![
        Arc::new(
            Scripted::new("A", &j)
                .finalizer("a/f")
                .finalizing([Script::Stop("hold", None)]),
        ),
        Arc::new(Scripted::new("B", &j)),
    ];
    let lc = lifecycle(chain, LifecycleOptions::default());
    lc.reconcile(&env.store, &env.key).await;
    lc.reconcile(&env.store, &env.key).await;
    env.delete().await;
    j.lock().unwrap().clear();
    lc.reconcile(&env.store, &env.key).await;
    assert_eq!(*j.lock().unwrap(), ["A:finalize"]);
    let obj = env.object().await.unwrap();
    assert!(condition(&obj, "BFinalize").is_none());
    assert!(condition(&obj, "AFinalize").is_some());
}

#[tokio::test]
async fn status_patches_are_merged_and_seen_by_later_subroutines() {
    let env = env("pm").await;
    let j = journal();
    let second = Arc::new(Scripted::new("B", &j));
    let chain: Vec<Arc<dyn Subroutine>> = vec![
        Arc::new(Scripted::new("A", &j).processing([Script::OkWithStatus(
            json!({"kcpWorkspaces": [{"name": "root:orgs", "phase": "Ready"}]}),
        )])),
        second.clone(),
    ];
    lifecycle(chain, LifecycleOptions::default())
        .reconcile(&env.store, &env.key)
        .await;
    let seen = second.seen.lock().unwrap()[0].object.clone();
    assert_eq!(seen["status"]["kcpWorkspaces"][0]["name"], "root:orgs");
    assert_eq!(
        second.seen.lock().unwrap()[0].operator_config["kcpUrl"],
        "https://k"
    );
    let obj = env.object().await.unwrap();
    assert_eq!(obj["status"]["kcpWorkspaces"][0]["phase"], "Ready");
}

#[tokio::test]
async fn steady_state_pass_writes_nothing_and_keeps_transition_times() {
    let env = env("pm").await;
    let j = journal();
    let lc = lifecycle(
        vec![Arc::new(Scripted::new("A", &j))],
        LifecycleOptions::default(),
    );
    lc.reconcile(&env.store, &env.key).await;
    let first = env.object().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let report = lc.reconcile(&env.store, &env.key).await;
    assert!(report.changes.is_empty());
    let second = env.object().await.unwrap();
    assert_eq!(
        first["metadata"]["resourceVersion"], second["metadata"]["resourceVersion"],
        "nothing written"
    );
    assert_eq!(first["status"]["conditions"], second["status"]["conditions"]);
}

#[tokio::test]
async fn error_then_recovery_flips_transition_time_only_for_changed_status() {
    let env = env("pm").await;
    let j = journal();
    let lc = lifecycle(
        vec![Arc::new(
            Scripted::new("A", &j).processing([Script::Fail("x"), Script::Ok]),
        )],
        LifecycleOptions::default(),
    );
    lc.reconcile(&env.store, &env.key).await;
    let failed = env.object().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    lc.reconcile(&env.store, &env.key).await;
    let ok = env.object().await.unwrap();
    assert_ne!(
        condition(&failed, "A").unwrap()["lastTransitionTime"],
        condition(&ok, "A").unwrap()["lastTransitionTime"]
    );
    assert_eq!(condition(&ok, "A").unwrap()["status"], "True");
}

#[tokio::test]
async fn conflict_on_final_patch_requeues_in_one_second_and_keeps_subroutine_error() {
    use apiserver::{FaultAction, FaultRule, Verb};
    let env = env("pm").await;
    let j = journal();
    let lc = lifecycle(
        vec![Arc::new(
            Scripted::new("A", &j).processing([Script::Fail("broken")]),
        )],
        LifecycleOptions::default(),
    );
    let conflict = FaultAction::Error {
        code: 409,
        message: None,
        retry_after_seconds: None,
    };
    env.server.faults().add(
        FaultRule::new(conflict)
            .verb(Verb::Patch)
            .resource("platformmeshes.core.platform-mesh.io")
            .times(1),
    );
    let report = lc.reconcile(&env.store, &env.key).await;
    assert_eq!(report.requeue_after, Some(Duration::from_secs(1)));
    let error = report.error.expect("the error is kept");
    assert!(error.is_conflict());
    assert!(
        matches!(error, EngineError::SubroutineAndPersist { ref name, ref message, .. } if name == "A" && message == "broken"),
        "{error:?}"
    );
}

#[tokio::test]
async fn retired_finalizer_is_released_when_the_object_is_deleted() {
    let env = env("pm").await;
    let patch = json!({"metadata": {"finalizers": [FIN]}});
    platform_mesh_api(&env.server.client(), NS)
        .patch(
            "pm",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(&patch),
        )
        .await
        .unwrap();
    env.delete().await;
    let j = journal();
    let chain = || -> Vec<Arc<dyn Subroutine>> { vec![Arc::new(Scripted::new("A", &j).finalizer("a/own"))] };
    // Without retiring it, nothing ever finalizes for the old string: the object stays.
    let report = lifecycle(chain(), LifecycleOptions::default())
        .reconcile(&env.store, &env.key)
        .await;
    assert!(report.error.is_none() && !report.gone);
    assert!(env.object().await.is_some());
    let report = lifecycle(chain(), LifecycleOptions::default())
        .retire_finalizers([FIN])
        .reconcile(&env.store, &env.key)
        .await;
    assert!(report.error.is_none() && report.gone, "{report:?}");
    assert!(env.object().await.is_none());
    assert!(
        j.lock().unwrap().is_empty(),
        "A's finalizer was never on the object: A does not finalize"
    );
}

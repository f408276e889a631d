//! The PlatformMesh controller against the embedded API server: it reconciles to Ready, is triggered by the
//! profile ConfigMap, honours the debug label, and fails fast without its CRD.

use std::{sync::Arc, time::Duration};

use crate::support::*;
use apiserver::{ServerConfig, sim::SimConfig};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams, PostParams};
use platform_mesh_operator::{
    controller::{ControllerError, ControllerSettings, ProgressEvent, ProgressSink, run_platform_mesh},
    lifecycle::{Lifecycle, LifecycleOptions, Subroutine, Target},
};
use serde_json::json;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio_util::sync::CancellationToken;

fn settings(debug_label_value: &str) -> ControllerSettings {
    ControllerSettings {
        concurrency: 2,
        debug_label_value: debug_label_value.into(),
    }
}

fn lifecycle(chain: Vec<Arc<dyn Subroutine>>) -> Lifecycle {
    Lifecycle::new(
        "platformmesh",
        Target::Runtime,
        chain,
        LifecycleOptions::default(),
        json!({}),
    )
}

async fn next_ready(events: &mut UnboundedReceiver<ProgressEvent>, name: &str) -> ProgressEvent {
    let wait = async {
        loop {
            let event = events.recv().await.expect("controller is running");
            if event.key.name == name && event.change.type_ == "Ready" {
                return event;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(20), wait)
        .await
        .expect("a Ready change arrives")
}

#[tokio::test]
async fn reconciles_to_ready_and_profile_config_map_change_triggers_a_pass() {
    let server = server_with_crds().await;
    let client = server.client();
    let j = journal();
    let sub = Arc::new(
        Scripted::new("WaitSubroutine", &j).finalizer("platform-mesh.core.platform-mesh.io/finalizer"),
    );
    let (progress, mut events) = ProgressSink::channel();
    let stop = CancellationToken::new();
    let task = tokio::spawn(run_platform_mesh(
        client.clone(),
        lifecycle(vec![sub.clone()]),
        settings(""),
        progress,
        stop.clone().cancelled_owned(),
    ));
    create_platform_mesh(&client, "default", "pm", json!({})).await;
    let ready = next_ready(&mut events, "pm").await;
    assert_eq!(ready.change.status, "True");
    let obj = get_platform_mesh(&client, "default", "pm").await.unwrap();
    assert_eq!(
        obj["metadata"]["finalizers"],
        json!(["platform-mesh.core.platform-mesh.io/finalizer"])
    );

    // Let the status write's own watch event settle, then touch the profile.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let calls_before = j.lock().unwrap().len();
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let cm: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": "pm-profile"},
        "data": {"profile.yaml": "infra: {}"},
    }))
    .unwrap();
    config_maps.create(&PostParams::default(), &cm).await.unwrap();
    let grew = async {
        while j.lock().unwrap().len() == calls_before {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), grew)
        .await
        .expect("the profile ConfigMap triggers a reconcile");

    stop.cancel();
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn debug_label_filters_objects() {
    let server = server_with_crds().await;
    let client = server.client();
    let j = journal();
    let (progress, mut events) = ProgressSink::channel();
    let stop = CancellationToken::new();
    tokio::spawn(run_platform_mesh(
        client.clone(),
        lifecycle(vec![Arc::new(Scripted::new("WaitSubroutine", &j))]),
        settings("mine"),
        progress,
        stop.clone().cancelled_owned(),
    ));
    create_platform_mesh(&client, "default", "ignored", json!({})).await;
    create_platform_mesh(&client, "default", "debugged", json!({})).await;
    let api = platform_mesh_api(&client, "default");
    let label = json!({"metadata": {"labels": {"debug.platform-mesh.io": "mine"}}});
    api.patch("debugged", &PatchParams::default(), &Patch::Merge(&label))
        .await
        .unwrap();
    next_ready(&mut events, "debugged").await;
    let ignored = get_platform_mesh(&client, "default", "ignored").await.unwrap();
    assert!(
        ignored
            .get("status")
            .is_none_or(|s| s.get("conditions").is_none()),
        "{ignored}"
    );
    stop.cancel();
}

#[tokio::test]
async fn missing_crd_fails_fast_with_a_hint() {
    let server = apiserver::start(ServerConfig {
        simulators: SimConfig::none(),
        ..ServerConfig::default()
    })
    .await
    .unwrap();
    let result = run_platform_mesh(
        server.client(),
        lifecycle(vec![]),
        settings(""),
        ProgressSink::none(),
        async {},
    )
    .await;
    let error = result.unwrap_err();
    assert!(matches!(error, ControllerError::CrdMissing(_)), "{error:?}");
    assert!(error.to_string().contains("platform-mesh-operator crds"));
}

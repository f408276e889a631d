//! Events are one store with two views: what is written as `events.k8s.io/v1` is read as core `v1` (the view
//! `kubectl describe` and `kubectl get events` use) and the other way round, field selectors and watches included.

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Event as CoreEvent, ObjectReference};
use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, ListParams, ObjectMeta, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use serde_json::json;

use crate::common;

fn new_event(name: &str, regarding: &str) -> Event {
    Event {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..ObjectMeta::default()
        },
        regarding: Some(ObjectReference {
            kind: Some("PlatformMesh".into()),
            name: Some(regarding.into()),
            namespace: Some("default".into()),
            ..ObjectReference::default()
        }),
        note: Some(format!("{regarding} is ready")),
        reason: Some("Ready".into()),
        type_: Some("Normal".into()),
        action: Some("Reconcile".into()),
        reporting_controller: Some("platform-mesh-operator".into()),
        reporting_instance: Some("pod-1".into()),
        event_time: Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime(
            chrono_now(),
        )),
        deprecated_count: Some(1),
        ..Event::default()
    }
}

fn chrono_now() -> k8s_openapi::jiff::Timestamp {
    k8s_openapi::jiff::Timestamp::now()
}

#[tokio::test]
async fn events_written_in_one_group_are_read_in_the_other() {
    let server = common::server().await;
    let new_api: Api<Event> = Api::namespaced(server.client(), "default");
    let core_api: Api<CoreEvent> = Api::namespaced(server.client(), "default");
    new_api
        .create(&PostParams::default(), &new_event("a", "pm1"))
        .await
        .unwrap();
    new_api
        .create(&PostParams::default(), &new_event("b", "pm2"))
        .await
        .unwrap();

    let core = core_api.get("a").await.unwrap();
    assert_eq!(core.involved_object.name.as_deref(), Some("pm1"));
    assert_eq!(core.message.as_deref(), Some("pm1 is ready"));
    assert_eq!(
        core.reporting_component.as_deref(),
        Some("platform-mesh-operator")
    );
    assert_eq!(core.count, Some(1));

    // `kubectl describe` lists a kind's events with a field selector on involvedObject.
    let selected = core_api
        .list(&ListParams::default().fields("involvedObject.name=pm2,involvedObject.kind=PlatformMesh"))
        .await
        .unwrap();
    let names: Vec<_> = selected
        .items
        .iter()
        .filter_map(|e| e.metadata.name.clone())
        .collect();
    assert_eq!(names, ["b"]);
    let regarding = new_api
        .list(&ListParams::default().fields("regarding.name=pm1"))
        .await
        .unwrap();
    assert_eq!(regarding.items.len(), 1);

    // A core write (count bump by merge patch, as client-go's recorder does) shows in events.k8s.io.
    core_api
        .patch(
            "a",
            &PatchParams::default(),
            &Patch::Merge(json!({"count": 3, "message": "again"})),
        )
        .await
        .unwrap();
    let updated = new_api.get("a").await.unwrap();
    assert_eq!(updated.deprecated_count, Some(3));
    assert_eq!(updated.note.as_deref(), Some("again"));
    assert!(serde_json::to_value(&updated).unwrap().get("count").is_none());

    // A core create appears in the other group.
    let core_event: CoreEvent = serde_json::from_value(json!({
        "metadata": {"name": "c"},
        "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"},
        "reason": "Started", "message": "started", "type": "Normal",
        "source": {"component": "kubelet"}, "count": 1,
    }))
    .unwrap();
    core_api
        .create(&PostParams::default(), &core_event)
        .await
        .unwrap();
    let seen = new_api.get("c").await.unwrap();
    assert_eq!(seen.regarding.and_then(|r| r.name).as_deref(), Some("p"));
    assert_eq!(
        seen.deprecated_source.and_then(|s| s.component).as_deref(),
        Some("kubelet")
    );
    assert_eq!(
        core_api.list(&ListParams::default()).await.unwrap().items.len(),
        3
    );
    server.shutdown().await;
}

#[tokio::test]
async fn core_event_watches_see_events_k8s_io_writes() {
    let server = common::server().await;
    let new_api: Api<Event> = Api::namespaced(server.client(), "default");
    let core_api: Api<CoreEvent> = Api::namespaced(server.client(), "default");
    let mut stream = core_api
        .watch(&WatchParams::default().fields("involvedObject.name=pm1"), "0")
        .await
        .unwrap()
        .boxed();
    new_api
        .create(&PostParams::default(), &new_event("x", "other"))
        .await
        .unwrap();
    new_api
        .create(&PostParams::default(), &new_event("y", "pm1"))
        .await
        .unwrap();
    let first = tokio::time::timeout(std::time::Duration::from_secs(5), stream.try_next())
        .await
        .expect("an event in time")
        .unwrap();
    match first {
        Some(WatchEvent::Added(e)) => {
            assert_eq!(e.metadata.name.as_deref(), Some("y"));
            assert_eq!(e.involved_object.name.as_deref(), Some("pm1"));
        }
        other => panic!("expected the selected event: {other:?}"),
    }
    server.shutdown().await;
}

//! Watches: kube-runtime's watcher sees changes, resume from a version, 410 Gone outside the window.

use crate::common;

use std::time::Duration;

use apiserver::ServerConfig;
use apiserver::sim::SimConfig;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ObjectMeta, PostParams, WatchEvent, WatchParams};
use kube::runtime::{WatchStreamExt, watcher};

fn cm(name: &str) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..ObjectMeta::default()
        },
        ..ConfigMap::default()
    }
}

#[tokio::test]
async fn runtime_watcher_sees_applied_objects() {
    let server = common::server().await;
    let api: Api<ConfigMap> = Api::namespaced(server.client(), "default");
    api.create(&PostParams::default(), &cm("before")).await.unwrap();
    let mut stream = watcher(api.clone(), watcher::Config::default())
        .applied_objects()
        .boxed();
    let first = tokio::time::timeout(Duration::from_secs(5), stream.try_next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(first.metadata.name.as_deref(), Some("before"));
    api.create(&PostParams::default(), &cm("after")).await.unwrap();
    let second = tokio::time::timeout(Duration::from_secs(5), stream.try_next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(second.metadata.name.as_deref(), Some("after"));
    server.shutdown().await;
}

#[tokio::test]
async fn watch_resumes_from_a_version_and_reports_deletes() {
    let server = common::server().await;
    let api: Api<ConfigMap> = Api::namespaced(server.client(), "default");
    let a = api.create(&PostParams::default(), &cm("a")).await.unwrap();
    let rv = a.metadata.resource_version.unwrap();
    api.create(&PostParams::default(), &cm("b")).await.unwrap();
    api.delete("a", &Default::default()).await.unwrap();
    let mut events = api
        .watch(&WatchParams::default().timeout(5), &rv)
        .await
        .unwrap()
        .boxed();
    let mut seen = Vec::new();
    while let Some(ev) = events.try_next().await.unwrap() {
        match ev {
            WatchEvent::Added(o) => seen.push(format!("ADDED {}", o.metadata.name.unwrap())),
            WatchEvent::Deleted(o) => seen.push(format!("DELETED {}", o.metadata.name.unwrap())),
            other => seen.push(format!("{other:?}")),
        }
        if seen.len() == 2 {
            break;
        }
    }
    assert_eq!(seen, ["ADDED b", "DELETED a"]);
    server.shutdown().await;
}

#[tokio::test]
async fn too_old_versions_are_gone() {
    let config = ServerConfig {
        simulators: SimConfig::none(),
        watch_history: 3,
        ..ServerConfig::default()
    };
    let server = apiserver::start(config).await.unwrap();
    let api: Api<ConfigMap> = Api::namespaced(server.client(), "default");
    for i in 0..6 {
        api.create(&PostParams::default(), &cm(&format!("c{i}")))
            .await
            .unwrap();
    }
    let mut events = api.watch(&WatchParams::default(), "1").await.unwrap().boxed();
    match events.try_next().await {
        Ok(Some(WatchEvent::Error(e))) => assert_eq!(e.code, 410),
        Err(kube::Error::Api(s)) => assert_eq!(s.code, 410),
        other => panic!("expected 410 Gone, got {other:?}"),
    }
    server.shutdown().await;
}

#[tokio::test]
async fn objects_leaving_a_label_selector_are_deleted_for_the_watcher() {
    use kube::api::{Patch, PatchParams};
    let server = common::server().await;
    let api: Api<ConfigMap> = Api::namespaced(server.client(), "default");
    let mut watched = cm("x");
    watched.metadata.labels = Some([("app".to_string(), "a".to_string())].into());
    let made = api.create(&PostParams::default(), &watched).await.unwrap();
    let rv = made.metadata.resource_version.unwrap();
    let wp = WatchParams::default().labels("app=a").timeout(5);
    let mut events = api.watch(&wp, &rv).await.unwrap().boxed();
    let relabel = |v: &str| serde_json::json!({"metadata": {"labels": {"app": v}}});
    api.patch("x", &PatchParams::default(), &Patch::Merge(relabel("b")))
        .await
        .unwrap();
    api.patch("x", &PatchParams::default(), &Patch::Merge(relabel("a")))
        .await
        .unwrap();
    let mut seen = Vec::new();
    while seen.len() < 2 {
        match events.try_next().await.unwrap() {
            Some(WatchEvent::Deleted(_)) => seen.push("DELETED"),
            Some(WatchEvent::Added(_)) => seen.push("ADDED"),
            Some(other) => panic!("unexpected {other:?}"),
            None => break,
        }
    }
    assert_eq!(seen, ["DELETED", "ADDED"]);
    server.shutdown().await;
}

//! Fault injection and the request log, in process and over `/debug/*`.

use crate::common;

use std::time::{Duration, Instant};

use apiserver::{FaultAction, FaultRule, Verb};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ObjectMeta, PostParams, WatchParams};

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
async fn injected_errors_latency_and_dropped_watches() {
    let server = common::server().await;
    let api: Api<ConfigMap> = Api::namespaced(server.client(), "default");
    api.create(&PostParams::default(), &cm("a")).await.unwrap();
    let faults = server.faults();
    faults.add(
        // kube's client retries 429 and 503 on its own, so a one-shot 500 is what shows up at the caller.
        FaultRule::new(FaultAction::Error {
            code: 500,
            message: None,
            retry_after_seconds: None,
        })
        .verb(Verb::Get)
        .resource("configmaps")
        .times(1),
    );
    let e = api.get("a").await.unwrap_err();
    let kube::Error::Api(s) = e else { panic!("{e:?}") };
    assert_eq!((s.code, s.reason.as_str()), (500, "InternalError"));
    api.get("a").await.expect("the rule fired once");

    let id = faults
        .add(FaultRule::new(FaultAction::Latency { millis: 150 }).path_prefix("/api/v1/namespaces/default"));
    let start = Instant::now();
    api.get("a").await.unwrap();
    assert!(start.elapsed() >= Duration::from_millis(150));
    assert!(faults.remove(id));

    faults.add(
        FaultRule::new(FaultAction::DropWatch {
            after_events: Some(1),
            after_millis: None,
        })
        .verb(Verb::Watch),
    );
    let events: Vec<_> = api
        .watch(&WatchParams::default().timeout(10), "0")
        .await
        .unwrap()
        .boxed()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(events.len(), 1, "the stream ends after one event");
    server.shutdown().await;
}

#[tokio::test]
async fn request_log_over_http() {
    let server = common::server().await;
    let client = server.client();
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    api.create(&PostParams::default(), &cm("a")).await.unwrap();
    api.get("a").await.unwrap();
    let stats: serde_json::Value = client
        .request(http::Request::get("/debug/requests").body(Vec::new()).unwrap())
        .await
        .unwrap();
    assert_eq!(stats["by_verb"]["create"], 1);
    assert_eq!(stats["by_verb"]["get"], 1);
    assert_eq!(stats["changed_writes"], 1);
    assert_eq!(stats["by_resource"]["configmaps"], 2);
    let _: serde_json::Value = client
        .request(http::Request::delete("/debug/requests").body(Vec::new()).unwrap())
        .await
        .unwrap();
    assert_eq!(server.requests().snapshot().writes, 0);

    let rule = serde_json::json!({"verb": "list", "action": {"type": "error", "code": 500}});
    let _: serde_json::Value = client
        .request(
            http::Request::post("/debug/faults")
                .body(serde_json::to_vec(&rule).unwrap())
                .unwrap(),
        )
        .await
        .unwrap();
    let e = api.list(&Default::default()).await.unwrap_err();
    let kube::Error::Api(s) = e else { panic!("{e:?}") };
    assert_eq!(s.code, 500);
    server.shutdown().await;
}

#[tokio::test]
async fn starts_and_stops_with_all_simulators() {
    let server = apiserver::start(apiserver::ServerConfig::default())
        .await
        .expect("server with simulators starts");
    let api: Api<ConfigMap> = Api::namespaced(server.client(), "default");
    api.create(&PostParams::default(), &cm("a")).await.unwrap();
    server.shutdown().await;
}

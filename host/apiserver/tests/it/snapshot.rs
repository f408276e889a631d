//! A snapshot saved on shutdown brings the state back on the next start, kcp aliases included.

use apiserver::sim::SimConfig;
use apiserver::{ServerConfig, start};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ObjectMeta, PostParams};

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
async fn state_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = ServerConfig {
        simulators: SimConfig::none(),
        snapshot: Some(dir.path().join("state.json")),
        ..ServerConfig::default()
    };
    let first = start(config.clone()).await.unwrap();
    let made = Api::<ConfigMap>::namespaced(first.client(), "default")
        .create(&PostParams::default(), &cm("kept"))
        .await
        .unwrap();
    Api::<ConfigMap>::namespaced(first.kcp_client("root:orgs"), "default")
        .create(&PostParams::default(), &cm("in-kcp"))
        .await
        .unwrap();
    first.shutdown().await;

    let second = start(config).await.unwrap();
    let api: Api<ConfigMap> = Api::namespaced(second.client(), "default");
    let got = api.get("kept").await.unwrap();
    assert_eq!(got.metadata.uid, made.metadata.uid);
    let newer = api.create(&PostParams::default(), &cm("newer")).await.unwrap();
    let rv = |c: &ConfigMap| {
        c.metadata
            .resource_version
            .clone()
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    assert!(
        rv(&newer) > rv(&got),
        "resource versions continue after a restore"
    );
    Api::<ConfigMap>::namespaced(second.kcp_client("root:orgs"), "default")
        .get("in-kcp")
        .await
        .unwrap();
    second.shutdown().await;
}

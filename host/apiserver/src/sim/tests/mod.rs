//! Integration tests: each simulator against a real in-process server, talking HTTP like the operator does.

use std::time::Duration;

use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::Client;
use kube::api::{Api, ObjectMeta, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, DynamicObject};
use serde_json::Value;

use crate::sim::{SimConfig, SimKind};
use crate::{Server, ServerConfig};

mod certmanager;
mod crd_schemas;
mod flux;
mod gitops;
mod kcp;
mod platform;

/// A server running only `kinds`, with a short ready delay.
async fn server(kinds: &[SimKind]) -> Server {
    let mut sims = SimConfig::none().with_delay(Duration::from_millis(10));
    for k in kinds {
        sims = sims.enable(*k);
    }
    crate::start(ServerConfig {
        simulators: sims,
        ..Default::default()
    })
    .await
    .expect("server starts")
}

fn object(value: Value) -> DynamicObject {
    serde_json::from_value(value).expect("valid object")
}

async fn create(api: &Api<DynamicObject>, value: Value) -> DynamicObject {
    api.create(&PostParams::default(), &object(value))
        .await
        .expect("create")
}

async fn namespace(client: &Client, name: &str) {
    let api: Api<Namespace> = Api::all(client.clone());
    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        ..Default::default()
    };
    match api.create(&PostParams::default(), &ns).await {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 409 => {}
        Err(e) => panic!("namespace {name}: {e}"),
    }
}

/// Polls until `pred` holds for object `name`; panics (with the last state) after many attempts, so a broken
/// simulator fails the test instead of hanging it. Nothing here asserts on how long it took.
async fn wait_for<K>(api: &Api<K>, name: &str, pred: impl Fn(&K) -> bool) -> K
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned,
{
    let mut last = None;
    for _ in 0..1500 {
        match api.get_opt(name).await {
            Ok(Some(o)) if pred(&o) => return o,
            Ok(o) => last = o,
            Err(_) => {}
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{name} never reached the expected state; last seen: {last:#?}");
}

fn dynamic(client: &Client, ar: &ApiResource, ns: Option<&str>) -> Api<DynamicObject> {
    match ns {
        Some(ns) => Api::namespaced_with(client.clone(), ns, ar),
        None => Api::all_with(client.clone(), ar),
    }
}

fn condition<'a>(obj: &'a DynamicObject, type_: &str) -> Option<&'a Value> {
    obj.data["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
}

fn is_ready(obj: &DynamicObject, type_: &str) -> bool {
    condition(obj, type_).is_some_and(|c| c["status"] == "True")
}

fn secret_str(secret: &Secret, key: &str) -> String {
    let bytes = secret
        .data
        .as_ref()
        .and_then(|d| d.get(key))
        .map(|b| b.0.clone())
        .unwrap_or_default();
    String::from_utf8(bytes).expect("utf-8 secret value")
}

/// Sets `status` on an object directly, standing in for a controller that is not under test.
async fn set_status(api: &Api<DynamicObject>, name: &str, status: Value) {
    let patch = serde_json::json!({"status": status});
    api.patch_status(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("status patch");
}

#[tokio::test]
async fn all_simulators_start_and_stop_together() {
    let server = crate::start(ServerConfig::default())
        .await
        .expect("server with every simulator starts");
    // Every simulator installed its CRDs (or seeded its objects) before start returned.
    let crds: Api<
        k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
    > = Api::all(server.client());
    for name in [
        "helmreleases.helm.toolkit.fluxcd.io",
        "applications.argoproj.io",
        "certificates.cert-manager.io",
        "rootshards.operator.kcp.io",
        "resources.delivery.ocm.software",
    ] {
        let crd = crds.get(name).await.expect(name);
        let established = crd
            .status
            .and_then(|s| s.conditions)
            .is_some_and(|c| c.iter().any(|c| c.type_ == "Established" && c.status == "True"));
        assert!(established, "{name} is Established");
    }
    let secrets: Api<Secret> = Api::namespaced(server.client(), "platform-mesh-system");
    assert!(
        secrets
            .get_opt("domain-certificate")
            .await
            .expect("get")
            .is_some()
    );
    server.shutdown().await;
}

//! Server-side apply through kube-rs: create-on-apply, managed fields, no-op applies, conflicts, removal.

use crate::common;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams};
use kube::core::DynamicObject;
use serde_json::json;

fn cm(data: serde_json::Value) -> serde_json::Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "default"}, "data": data})
}

#[tokio::test]
async fn apply_creates_then_noop_apply_writes_nothing() {
    let server = common::server().await;
    let api: Api<ConfigMap> = Api::namespaced(server.client(), "default");
    let pp = PatchParams::apply("op");
    let first = api
        .patch("c", &pp, &Patch::Apply(cm(json!({"a": "1"}))))
        .await
        .unwrap();
    let mf = first.metadata.managed_fields.clone().unwrap();
    assert_eq!(mf[0].manager.as_deref(), Some("op"));
    assert_eq!(mf[0].operation.as_deref(), Some("Apply"));

    let before = server.requests().snapshot();
    let second = api
        .patch("c", &pp, &Patch::Apply(cm(json!({"a": "1"}))))
        .await
        .unwrap();
    let after = server.requests().snapshot();
    assert_eq!(first.metadata.resource_version, second.metadata.resource_version);
    assert_eq!(
        after.changed_writes, before.changed_writes,
        "a no-op apply changes nothing"
    );
    assert_eq!(after.noop_applies, before.noop_applies + 1);
    assert_eq!(after.writes, before.writes + 1);
    server.shutdown().await;
}

#[tokio::test]
async fn conflicts_need_force_and_dropped_fields_are_removed() {
    let server = common::server().await;
    let api: Api<ConfigMap> = Api::namespaced(server.client(), "default");
    api.patch(
        "c",
        &PatchParams::apply("one"),
        &Patch::Apply(cm(json!({"a": "1", "b": "1"}))),
    )
    .await
    .unwrap();
    let e = api
        .patch(
            "c",
            &PatchParams::apply("two"),
            &Patch::Apply(cm(json!({"a": "2"}))),
        )
        .await
        .unwrap_err();
    let kube::Error::Api(s) = e else { panic!("{e:?}") };
    assert_eq!((s.code, s.reason.as_str()), (409, "Conflict"));
    assert!(
        s.message.contains("conflict with \"one\"") && s.message.contains(".data.a"),
        "{}",
        s.message
    );

    let forced = api
        .patch(
            "c",
            &PatchParams::apply("two").force(),
            &Patch::Apply(cm(json!({"a": "2"}))),
        )
        .await
        .unwrap();
    assert_eq!(forced.data.as_ref().unwrap()["a"], "2");
    // "one" stops applying b: it owned it alone, so it goes; a belongs to "two" now and stays.
    let after = api
        .patch("c", &PatchParams::apply("one"), &Patch::Apply(cm(json!({}))))
        .await
        .unwrap();
    let data = after.data.unwrap();
    assert_eq!(data.len(), 1);
    assert_eq!(data["a"], "2");
    server.shutdown().await;
}

#[tokio::test]
async fn apply_on_custom_resources_merges_list_maps_and_status() {
    let server = common::server().await;
    common::install_widgets(server.client(), "Namespaced").await;
    let api: Api<DynamicObject> =
        Api::namespaced_with(server.client(), "default", &common::widget_resource());
    let w = |manager_port: (&str, i64)| {
        json!({"apiVersion": "example.io/v1", "kind": "Widget",
        "metadata": {"name": "w"}, "spec": {"size": 2, "ports": [{"name": manager_port.0, "port": manager_port.1}]}})
    };
    api.patch("w", &PatchParams::apply("a"), &Patch::Apply(w(("http", 80))))
        .await
        .unwrap();
    let merged = api
        .patch("w", &PatchParams::apply("b"), &Patch::Apply(w(("https", 443))))
        .await
        .unwrap();
    assert_eq!(
        merged.data["spec"]["ports"].as_array().unwrap().len(),
        2,
        "list-map items from both managers"
    );

    let status = json!({"apiVersion": "example.io/v1", "kind": "Widget", "metadata": {"name": "w"},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]}});
    let s = api
        .patch_status("w", &PatchParams::apply("ctrl"), &Patch::Apply(&status))
        .await
        .unwrap();
    assert_eq!(s.data["status"]["conditions"][0]["status"], "True");
    assert_eq!(
        s.metadata.generation, merged.metadata.generation,
        "status applies keep the generation"
    );
    let mf = s.metadata.managed_fields.unwrap();
    assert!(
        mf.iter()
            .any(|e| e.manager.as_deref() == Some("ctrl") && e.subresource.as_deref() == Some("status"))
    );
    server.shutdown().await;
}

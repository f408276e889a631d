//! CRDs become served types: discovery, Established condition, status subresource, generation, validation.

use crate::common;

use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::core::DynamicObject;
use kube::discovery::Discovery;
use serde_json::json;

#[tokio::test]
async fn crd_is_established_and_served() {
    let server = common::server().await;
    common::install_widgets(server.client(), "Namespaced").await;
    let crds: Api<DynamicObject> = Api::all_with(server.client(), &common::crd_resource());
    let crd = crds.get("widgets.example.io").await.unwrap();
    let conds = crd.data["status"]["conditions"].as_array().unwrap();
    assert!(
        conds
            .iter()
            .any(|c| c["type"] == "Established" && c["status"] == "True")
    );
    assert!(
        conds
            .iter()
            .any(|c| c["type"] == "NamesAccepted" && c["status"] == "True")
    );

    let discovery = Discovery::new(server.client()).run().await.unwrap();
    let (ar, caps) = discovery
        .resolve_gvk(&kube::core::GroupVersionKind::gvk("example.io", "v1", "Widget"))
        .unwrap();
    assert_eq!(ar.plural, "widgets");
    assert_eq!(caps.scope, kube::discovery::Scope::Namespaced);
    assert!(
        caps.subresources
            .iter()
            .any(|(s, _)| s.plural == "widgets/status" || s.plural == "status")
    );
    server.shutdown().await;
}

#[tokio::test]
async fn status_subresource_and_generation() {
    let server = common::server().await;
    common::install_widgets(server.client(), "Namespaced").await;
    let api: Api<DynamicObject> =
        Api::namespaced_with(server.client(), "default", &common::widget_resource());
    let mut w = common::widget("w", 3);
    w.data["status"] = json!({"phase": "ignored on create"});
    let created = api.create(&PostParams::default(), &w).await.unwrap();
    assert_eq!(created.metadata.generation, Some(1));
    assert!(
        created.data.get("status").is_none(),
        "status is not writable through the main resource"
    );
    assert_eq!(created.data["spec"]["color"], "red", "schema default applied");

    let status = json!({"status": {"conditions": [{"type": "Ready", "status": "True"}]}});
    let s = api
        .patch_status("w", &PatchParams::default(), &Patch::Merge(&status))
        .await
        .unwrap();
    assert_eq!(
        s.metadata.generation,
        Some(1),
        "status writes do not bump generation"
    );
    assert_eq!(s.data["status"]["conditions"][0]["type"], "Ready");

    let spec = json!({"spec": {"size": 4}, "status": {"phase": "dropped"}});
    let s = api
        .patch("w", &PatchParams::default(), &Patch::Merge(&spec))
        .await
        .unwrap();
    assert_eq!(s.metadata.generation, Some(2));
    assert_eq!(
        s.data["status"],
        json!({"conditions": [{"type": "Ready", "status": "True"}]})
    );
    server.shutdown().await;
}

#[tokio::test]
async fn invalid_objects_are_rejected_with_field_causes() {
    let server = common::server().await;
    common::install_widgets(server.client(), "Cluster").await;
    let api: Api<DynamicObject> = Api::all_with(server.client(), &common::widget_resource());
    let e = api
        .create(&PostParams::default(), &common::widget("big", 11))
        .await
        .unwrap_err();
    let kube::Error::Api(s) = e else { panic!("{e:?}") };
    assert_eq!((s.code, s.reason.as_str()), (422, "Invalid"));
    assert!(s.message.contains("spec.size"), "{}", s.message);

    let e = api
        .create(&PostParams::default(), &common::widget("seven", 7))
        .await
        .unwrap_err();
    let kube::Error::Api(s) = e else { panic!("{e:?}") };
    assert!(s.message.contains("seven is unlucky"), "{}", s.message);

    let mut missing = common::widget("nosize", 1);
    missing.data["spec"] = json!({"color": "green"});
    let e = api.create(&PostParams::default(), &missing).await.unwrap_err();
    let kube::Error::Api(s) = e else { panic!("{e:?}") };
    assert!(s.message.contains("spec.size: Required value"), "{}", s.message);
    assert!(
        s.message.contains("spec.color: Unsupported value"),
        "{}",
        s.message
    );
    server.shutdown().await;
}

#[tokio::test]
async fn deleting_a_crd_removes_its_objects_and_type() {
    let server = common::server().await;
    common::install_widgets(server.client(), "Cluster").await;
    let api: Api<DynamicObject> = Api::all_with(server.client(), &common::widget_resource());
    api.create(&PostParams::default(), &common::widget("a", 1))
        .await
        .unwrap();
    let crds: Api<DynamicObject> = Api::all_with(server.client(), &common::crd_resource());
    crds.delete("widgets.example.io", &Default::default())
        .await
        .unwrap();
    let e = api.get("a").await.unwrap_err();
    let kube::Error::Api(s) = e else { panic!("{e:?}") };
    assert_eq!(s.code, 404);
    server.shutdown().await;
}

#[tokio::test]
async fn strict_field_validation_rejects_unknown_fields() {
    let server = common::server().await;
    common::install_widgets(server.client(), "Cluster").await;
    let api: Api<DynamicObject> = Api::all_with(server.client(), &common::widget_resource());
    let mut w = common::widget("w", 1);
    w.data["spec"]["bogus"] = json!(true);
    let pruned = api.create(&PostParams::default(), &w).await.unwrap();
    assert!(
        pruned.data["spec"].get("bogus").is_none(),
        "pruned silently by default"
    );
    let strict = PatchParams::apply("t").validation_strict();
    let e = api.patch("w", &strict, &Patch::Apply(&w)).await.unwrap_err();
    let kube::Error::Api(s) = e else { panic!("{e:?}") };
    assert_eq!(s.code, 400);
    assert!(
        s.message.contains("unknown field \"spec.bogus\""),
        "{}",
        s.message
    );
    server.shutdown().await;
}

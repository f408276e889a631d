//! kcp logical clusters: separate stores, workspace paths, cluster annotation, wildcard lists, built-in kinds.

use crate::common;

use apiserver::logical_cluster_name;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, ObjectMeta, PostParams};
use kube::core::{ApiResource, DynamicObject, GroupVersionKind};
use serde_json::json;

fn cm(name: &str) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..ObjectMeta::default()
        },
        ..ConfigMap::default()
    }
}

fn workspaces() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("tenancy.kcp.io", "v1alpha1", "Workspace"),
        "workspaces",
    )
}

#[tokio::test]
async fn clusters_are_isolated_and_annotated() {
    let server = common::server().await;
    let root: Api<ConfigMap> = Api::namespaced(server.kcp_client("root"), "default");
    let plain: Api<ConfigMap> = Api::namespaced(server.client(), "default");
    let made = root.create(&PostParams::default(), &cm("x")).await.unwrap();
    assert_eq!(made.metadata.annotations.unwrap()["kcp.io/cluster"], "root");
    assert!(plain.get("x").await.is_err(), "the plain cluster is separate");
    let other: Api<ConfigMap> = Api::namespaced(server.kcp_client("root:other"), "default");
    assert!(other.get("x").await.is_err());
    server.shutdown().await;
}

#[tokio::test]
async fn workspaces_get_a_logical_cluster_addressable_by_path_and_name() {
    let server = common::server().await;
    let ws_api: Api<DynamicObject> = Api::all_with(server.kcp_client("root"), &workspaces());
    let ws: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "tenancy.kcp.io/v1alpha1", "kind": "Workspace", "metadata": {"name": "orgs"},
        "spec": {"type": {"name": "orgs", "path": "root"}}}))
    .unwrap();
    let made = ws_api.create(&PostParams::default(), &ws).await.unwrap();
    let cluster = made.data["spec"]["cluster"].as_str().unwrap().to_string();
    assert_eq!(cluster, logical_cluster_name("root:orgs"));

    let by_path: Api<ConfigMap> = Api::namespaced(server.kcp_client("root:orgs"), "default");
    by_path
        .create(&PostParams::default(), &cm("in-orgs"))
        .await
        .unwrap();
    let by_name: Api<ConfigMap> = Api::namespaced(server.kcp_client(&cluster), "default");
    let got = by_name.get("in-orgs").await.unwrap();
    assert_eq!(got.metadata.annotations.unwrap()["kcp.io/cluster"], cluster);

    // /clusters/* spans every logical cluster.
    let root: Api<ConfigMap> = Api::namespaced(server.kcp_client("root"), "default");
    root.create(&PostParams::default(), &cm("in-root")).await.unwrap();
    let all: Api<ConfigMap> = Api::all(server.kcp_client("*"));
    let names: Vec<String> = all
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|c| c.metadata.name)
        .collect();
    assert!(
        names.contains(&"in-orgs".to_string()) && names.contains(&"in-root".to_string()),
        "{names:?}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn kcp_kinds_are_served_in_both_versions() {
    let server = common::server().await;
    let client = server.kcp_client("root");
    for version in ["v1alpha1", "v1alpha2"] {
        let ar = ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("apis.kcp.io", version, "APIExport"),
            "apiexports",
        );
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
        api.list(&ListParams::default()).await.unwrap();
    }
    let v1: Api<DynamicObject> = Api::all_with(
        client.clone(),
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("apis.kcp.io", "v1alpha1", "APIExport"),
            "apiexports",
        ),
    );
    let export: DynamicObject =
        serde_json::from_value(json!({"apiVersion": "apis.kcp.io/v1alpha1", "kind": "APIExport",
        "metadata": {"name": "e"}, "spec": {"anything": {"goes": true}}}))
        .unwrap();
    v1.create(&PostParams::default(), &export).await.unwrap();
    let v2: Api<DynamicObject> = Api::all_with(
        client,
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("apis.kcp.io", "v1alpha2", "APIExport"),
            "apiexports",
        ),
    );
    let got = v2.get("e").await.unwrap();
    assert_eq!(got.types.unwrap().api_version, "apis.kcp.io/v1alpha2");
    assert_eq!(
        got.data["spec"]["anything"]["goes"], true,
        "schema-less kinds keep unknown fields"
    );
    // Plain clusters do not serve kcp kinds.
    let plain: Api<DynamicObject> = Api::all_with(server.client(), &workspaces());
    assert!(plain.list(&ListParams::default()).await.is_err());
    server.shutdown().await;
}

#[tokio::test]
async fn api_resource_schema_specs_are_immutable() {
    let server = common::server().await;
    let schemas: Api<DynamicObject> = Api::all_with(
        server.kcp_client("root"),
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("apis.kcp.io", "v1alpha1", "APIResourceSchema"),
            "apiresourceschemas",
        ),
    );
    let schema = |size_max: i64| {
        json!({"apiVersion": "apis.kcp.io/v1alpha1", "kind": "APIResourceSchema",
               "metadata": {"name": "v1.widgets.example.io"},
               "spec": {"group": "example.io", "scope": "Cluster",
                        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
                        "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"type": "object",
                            "properties": {"size": {"type": "integer", "maximum": size_max}}}}]}})
    };
    let pp = kube::api::PatchParams::apply("setup");
    let apply = |v| kube::api::Patch::Apply(v);
    schemas
        .patch("v1.widgets.example.io", &pp, &apply(schema(5)))
        .await
        .unwrap();
    schemas
        .patch("v1.widgets.example.io", &pp, &apply(schema(5)))
        .await
        .expect("re-applying the same schema is fine");
    let mut labelled = schema(5);
    labelled["metadata"]["labels"] = json!({"a": "b"});
    schemas
        .patch("v1.widgets.example.io", &pp, &apply(labelled))
        .await
        .expect("metadata may change");
    match schemas
        .patch("v1.widgets.example.io", &pp, &apply(schema(6)))
        .await
    {
        Err(kube::Error::Api(s)) => {
            assert_eq!(s.code, 422);
            assert!(s.message.contains("spec is immutable"), "{}", s.message);
        }
        other => panic!("a changed schema spec is refused, as kcp does: {other:?}"),
    }
    let stored = schemas.get("v1.widgets.example.io").await.unwrap();
    assert_eq!(
        stored.data["spec"]["versions"][0]["schema"]["properties"]["size"]["maximum"],
        5
    );
    server.shutdown().await;
}

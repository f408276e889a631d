//! Test fixture: a server on a free port without simulators.
#![allow(dead_code)]

use apiserver::sim::SimConfig;
use apiserver::{Server, ServerConfig};
use kube::api::{Api, PostParams};
use kube::core::{ApiResource, DynamicObject, GroupVersionKind};

pub async fn server() -> Server {
    apiserver::start(ServerConfig {
        simulators: SimConfig::none(),
        ..ServerConfig::default()
    })
    .await
    .expect("server starts")
}

pub fn widget_crd(scope: &str) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.io"},
        "spec": {
            "group": "example.io",
            "scope": scope,
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "subresources": {"status": {}},
                "additionalPrinterColumns": [{"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"}],
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "required": ["size"], "properties": {
                        "size": {"type": "integer", "minimum": 1, "maximum": 10},
                        "color": {"type": "string", "enum": ["red", "blue"], "default": "red"},
                        "ports": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                                  "items": {"type": "object", "properties": {"name": {"type": "string"}, "port": {"type": "integer"}}}},
                    }, "x-kubernetes-validations": [{"rule": "self.size != 7", "message": "seven is unlucky"}]},
                    "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                }}},
            }],
        },
    })
}

pub fn widget_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk("example.io", "v1", "Widget"), "widgets")
}

pub async fn install_widgets(client: kube::Client, scope: &str) {
    let crds: Api<DynamicObject> = Api::all_with(client, &crd_resource());
    let crd: DynamicObject = serde_json::from_value(widget_crd(scope)).unwrap();
    crds.create(&PostParams::default(), &crd)
        .await
        .expect("CRD created");
}

pub fn crd_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("apiextensions.k8s.io", "v1", "CustomResourceDefinition"),
        "customresourcedefinitions",
    )
}

pub fn widget(name: &str, size: i64) -> DynamicObject {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "example.io/v1", "kind": "Widget",
        "metadata": {"name": name},
        "spec": {"size": size},
    }))
    .unwrap()
}

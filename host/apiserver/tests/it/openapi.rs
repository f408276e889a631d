//! What kubectl reads besides objects: OpenAPI v3 and v2 schemas tagged with their group-version-kind (for
//! `kubectl explain`), discovery categories (`kubectl get all`), create-only review types and plain-text health.

use kube::Client;
use serde_json::Value;

use crate::common;

async fn get(client: &Client, path: &str) -> String {
    let req = http::Request::get(path).body(Vec::new()).unwrap();
    client.request_text(req).await.unwrap()
}

async fn get_json(client: &Client, path: &str) -> Value {
    serde_json::from_str(&get(client, path).await).unwrap()
}

fn has_gvk(schema: &Value, group: &str, version: &str, kind: &str) -> bool {
    schema["x-kubernetes-group-version-kind"]
        .as_array()
        .is_some_and(|l| {
            l.iter()
                .any(|g| g["group"] == group && g["version"] == version && g["kind"] == kind)
        })
}

#[tokio::test]
async fn crd_schemas_are_tagged_with_their_group_version_kind() {
    let server = common::server().await;
    common::install_widgets(server.client(), "Namespaced").await;
    let client = server.client();
    let root = get_json(&client, "/openapi/v3").await;
    let url = root["paths"]["apis/example.io/v1"]["serverRelativeURL"]
        .as_str()
        .unwrap()
        .to_string();
    let doc = get_json(&client, &url).await;
    let widget = &doc["components"]["schemas"]["io.example.v1.Widget"];
    assert!(has_gvk(widget, "example.io", "v1", "Widget"), "{doc}");
    assert_eq!(widget["properties"]["spec"]["properties"]["size"]["maximum"], 10);
    assert!(widget["properties"]["metadata"].is_object());

    let v2 = get_json(&client, "/openapi/v2").await;
    assert_eq!(v2["swagger"], "2.0");
    assert!(has_gvk(
        &v2["definitions"]["io.example.v1.Widget"],
        "example.io",
        "v1",
        "Widget"
    ));
    assert!(has_gvk(
        &v2["definitions"]["io.k8s.api.core.v1.ConfigMap"],
        "",
        "v1",
        "ConfigMap"
    ));
    server.shutdown().await;
}

#[tokio::test]
async fn discovery_has_categories_and_create_only_reviews() {
    let server = common::server().await;
    let client = server.client();
    let core = get_json(&client, "/api/v1").await;
    let find = |list: &Value, name: &str| {
        list["resources"]
            .as_array()
            .and_then(|rs| rs.iter().find(|r| r["name"] == name).cloned())
            .unwrap_or(Value::Null)
    };
    assert_eq!(find(&core, "pods")["categories"], serde_json::json!(["all"]));
    assert_eq!(find(&core, "configmaps").get("categories"), None);
    let apps = get_json(&client, "/apis/apps/v1").await;
    assert_eq!(
        find(&apps, "deployments")["categories"],
        serde_json::json!(["all"])
    );
    let authz = get_json(&client, "/apis/authorization.k8s.io/v1").await;
    assert_eq!(
        find(&authz, "selfsubjectaccessreviews")["verbs"],
        serde_json::json!(["create"])
    );
    assert_eq!(find(&authz, "localsubjectaccessreviews")["namespaced"], true);
    let authn = get_json(&client, "/apis/authentication.k8s.io/v1").await;
    assert_eq!(
        find(&authn, "tokenreviews")["verbs"],
        serde_json::json!(["create"])
    );
    server.shutdown().await;
}

#[tokio::test]
async fn health_endpoints_answer_plain_text() {
    let server = common::server().await;
    for path in ["/readyz", "/livez", "/healthz", "/clusters/root/readyz"] {
        assert_eq!(get(&server.client(), path).await, "ok", "{path}");
    }
    server.shutdown().await;
}

//! The kcp-operator and kcp's own controllers.

use k8s_openapi::api::core::v1::Secret;
use kube::core::GroupVersionKind;
use serde_json::json;

use super::*;
use crate::sim::kcp::{
    APIBINDING, APIBINDING_V1ALPHA2, APIEXPORT_V1ALPHA1, APIEXPORT_V1ALPHA2, APIRESOURCESCHEMA,
    ENDPOINT_SLICE, WORKSPACE,
};
use crate::sim::kcp_operator::{FRONT_PROXY, ROOT_EXPORTS, ROOT_SHARD, kubeconfig_server};

#[tokio::test]
async fn root_shard_becomes_available_with_admin_secrets_and_root_exports() {
    let server = server(&[SimKind::KcpOperator]).await;
    let client = server.client();
    namespace(&client, "platform-mesh-system").await;
    let ns = Some("platform-mesh-system");
    let shards = dynamic(&client, &ROOT_SHARD.api_resource(), ns);
    let proxies = dynamic(&client, &FRONT_PROXY.api_resource(), ns);
    create(
        &shards,
        json!({"apiVersion": "operator.kcp.io/v1alpha1", "kind": "RootShard",
        "metadata": {"name": "root"}, "spec": {}}),
    )
    .await;
    create(
        &proxies,
        json!({"apiVersion": "operator.kcp.io/v1alpha1", "kind": "FrontProxy",
        "metadata": {"name": "frontproxy"}, "spec": {}}),
    )
    .await;
    wait_for(&shards, "root", |o| is_ready(o, "Available")).await;
    wait_for(&proxies, "frontproxy", |o| is_ready(o, "Available")).await;

    let secrets: Api<Secret> = Api::namespaced(client.clone(), "platform-mesh-system");
    let expected_server = format!("{}/clusters/root", server.url());
    let admin = secrets
        .get("kcp-cluster-admin-client-cert")
        .await
        .expect("cluster admin secret");
    assert_eq!(
        kubeconfig_server(&secret_str(&admin, "kubeconfig")),
        Some(expected_server.clone())
    );
    for key in ["ca.crt", "tls.crt", "tls.key"] {
        assert!(!secret_str(&admin, key).is_empty(), "{key}");
    }
    let kubeconfig = secrets
        .get("kubeconfig-kcp-admin")
        .await
        .expect("admin kubeconfig secret");
    assert_eq!(
        kubeconfig_server(&secret_str(&kubeconfig, "kubeconfig")),
        Some(expected_server)
    );
    let ca = secrets.get("root-ca").await.expect("root CA secret");
    assert_eq!(secret_str(&ca, "ca.crt"), secret_str(&admin, "ca.crt"));

    // The admin kubeconfig really reaches kcp root.
    let config = kube::Config::from_custom_kubeconfig(
        serde_norway::from_str(&secret_str(&admin, "kubeconfig")).expect("kubeconfig"),
        &Default::default(),
    )
    .await
    .expect("config");
    let root = Client::try_from(config).expect("client");
    let exports = dynamic(&root, &APIEXPORT_V1ALPHA1.api_resource(), None);
    for name in ROOT_EXPORTS {
        let export = wait_for(&exports, name, |o| o.data["status"]["identityHash"].is_string()).await;
        assert_eq!(
            export.data["status"]["identityHash"].as_str().map(str::len),
            Some(64)
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn workspaces_become_ready_and_bindings_serve_exported_resources() {
    let server = server(&[SimKind::Kcp]).await;
    let root = server.kcp_client("root");
    let workspaces = dynamic(&root, &WORKSPACE.api_resource(), None);
    create(
        &workspaces,
        json!({"apiVersion": "tenancy.kcp.io/v1alpha1", "kind": "Workspace",
        "metadata": {"name": "orgs"}, "spec": {"type": {"name": "universal", "path": "root"}}}),
    )
    .await;
    let ws = wait_for(&workspaces, "orgs", |o| o.data["status"]["phase"] == "Ready").await;
    assert_eq!(
        ws.data["status"]["URL"],
        format!("{}/clusters/root:orgs", server.url())
    );

    let schemas = dynamic(&root, &APIRESOURCESCHEMA.api_resource(), None);
    create(
        &schemas,
        json!({"apiVersion": "apis.kcp.io/v1alpha1", "kind": "APIResourceSchema",
        "metadata": {"name": "v1.widgets.example.io"},
        "spec": {"group": "example.io", "scope": "Cluster",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
            "versions": [{"name": "v1", "served": true, "storage": true, "subresources": {"status": {}},
                "schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}]}}),
    )
    .await;
    let exports = dynamic(&root, &APIEXPORT_V1ALPHA1.api_resource(), None);
    create(
        &exports,
        json!({"apiVersion": "apis.kcp.io/v1alpha1", "kind": "APIExport",
        "metadata": {"name": "example.io"}, "spec": {"latestResourceSchemas": ["v1.widgets.example.io"]}}),
    )
    .await;
    let export = wait_for(&exports, "example.io", |o| {
        o.data["status"]["identityHash"].is_string()
    })
    .await;

    let orgs = server.kcp_client("root:orgs");
    let bindings = dynamic(&orgs, &APIBINDING.api_resource(), None);
    create(&bindings, json!({"apiVersion": "apis.kcp.io/v1alpha1", "kind": "APIBinding",
        "metadata": {"name": "example.io"}, "spec": {"reference": {"export": {"path": "root", "name": "example.io"}}}}))
    .await;
    let bound = wait_for(&bindings, "example.io", |o| o.data["status"]["phase"] == "Bound").await;
    assert!(is_ready(&bound, "Ready"));
    assert_eq!(bound.data["status"]["boundResources"][0]["resource"], "widgets");
    assert_eq!(
        bound.data["status"]["boundResources"][0]["schema"]["identityHash"],
        export.data["status"]["identityHash"]
    );

    // The exported resource is now served in the binding's workspace.
    let widget =
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk("example.io", "v1", "Widget"), "widgets");
    let widgets = dynamic(&orgs, &widget, None);
    let mut served = false;
    for _ in 0..500 {
        let w = object(
            json!({"apiVersion": "example.io/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {}}),
        );
        if widgets.create(&PostParams::default(), &w).await.is_ok() {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(served, "widgets are served in root:orgs after binding");

    let slices = dynamic(&root, &ENDPOINT_SLICE.api_resource(), None);
    create(
        &slices,
        json!({"apiVersion": "apis.kcp.io/v1alpha1", "kind": "APIExportEndpointSlice",
        "metadata": {"name": "example.io"}, "spec": {"export": {"path": "root", "name": "example.io"}}}),
    )
    .await;
    let slice = wait_for(&slices, "example.io", |o| {
        o.data["status"]["apiExportEndpoints"].is_array()
    })
    .await;
    let cluster = server.logical_cluster("root");
    assert_eq!(
        slice.data["status"]["apiExportEndpoints"][0]["url"],
        format!("{}/services/apiexport/{cluster}/example.io", server.url())
    );
    server.shutdown().await;
}

#[tokio::test]
async fn v1alpha2_exports_bind_through_their_resource_schemas() {
    let server = server(&[SimKind::Kcp]).await;
    let root = server.kcp_client("root");
    let schemas = dynamic(&root, &APIRESOURCESCHEMA.api_resource(), None);
    create(
        &schemas,
        json!({"apiVersion": "apis.kcp.io/v1alpha1", "kind": "APIResourceSchema",
        "metadata": {"name": "v1.gadgets.example.io"},
        "spec": {"group": "example.io", "scope": "Namespaced",
            "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget", "listKind": "GadgetList"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}]}}),
    )
    .await;
    let exports = dynamic(&root, &APIEXPORT_V1ALPHA2.api_resource(), None);
    create(
        &exports,
        json!({"apiVersion": "apis.kcp.io/v1alpha2", "kind": "APIExport",
        "metadata": {"name": "gadgets.example.io"},
        "spec": {"resources": [{"group": "example.io", "name": "gadgets", "schema": "v1.gadgets.example.io",
            "storage": {"crd": {}}}]}}),
    )
    .await;
    let bindings = dynamic(&root, &APIBINDING_V1ALPHA2.api_resource(), None);
    create(
        &bindings,
        json!({"apiVersion": "apis.kcp.io/v1alpha2", "kind": "APIBinding",
        "metadata": {"name": "gadgets"}, "spec": {"reference": {"export": {"name": "gadgets.example.io"}}}}),
    )
    .await;
    let bound = wait_for(&bindings, "gadgets", |o| o.data["status"]["phase"] == "Bound").await;
    assert_eq!(bound.data["status"]["boundResources"][0]["resource"], "gadgets");
    let crds = dynamic(&root, &crate::sim::kcp::crd_resource(), None);
    let crd = wait_for(&crds, "gadgets.example.io", |_| true).await;
    assert_eq!(crd.data["spec"]["scope"], "Namespaced");
    server.shutdown().await;
}

#[tokio::test]
async fn workspaces_start_with_their_types_default_bindings() {
    let server = server(&[SimKind::Kcp]).await;
    let root = server.kcp_client("root");
    let exports = dynamic(&root, &APIEXPORT_V1ALPHA1.api_resource(), None);
    create(
        &exports,
        json!({"apiVersion": "apis.kcp.io/v1alpha1", "kind": "APIExport",
        "metadata": {"name": "example.io"}, "spec": {}}),
    )
    .await;
    let types = dynamic(&root, &crate::sim::kcp::WORKSPACE_TYPE.api_resource(), None);
    create(&types, json!({"apiVersion": "tenancy.kcp.io/v1alpha1", "kind": "WorkspaceType",
        "metadata": {"name": "team"}, "spec": {"defaultAPIBindings": [{"export": "example.io", "path": "root"}]}}))
    .await;
    let workspaces = dynamic(&root, &WORKSPACE.api_resource(), None);
    create(
        &workspaces,
        json!({"apiVersion": "tenancy.kcp.io/v1alpha1", "kind": "Workspace",
        "metadata": {"name": "t1"}, "spec": {"type": {"name": "team", "path": "root"}}}),
    )
    .await;
    wait_for(&workspaces, "t1", |o| o.data["status"]["phase"] == "Ready").await;
    let bindings = dynamic(&server.kcp_client("root:t1"), &APIBINDING.api_resource(), None);
    let binding = wait_for(&bindings, "example.io", |o| o.data["status"]["phase"] == "Bound").await;
    assert_eq!(binding.data["spec"]["reference"]["export"]["path"], "root");
    server.shutdown().await;
}

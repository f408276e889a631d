//! The APIExport virtual workspace (`/services/apiexport/<cluster>/<export>/clusters/<cluster|*>/...`): only
//! logical clusters that bind the export are visible; list, watch, get, update and status writes work across them.

use crate::common;

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use kube::core::{ApiResource, DynamicObject, GroupVersionKind};
use serde_json::{Value, json};

const EXPORT: &str = "widgets.example.io";

fn binding_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("apis.kcp.io", "v1alpha1", "APIBinding"),
        "apibindings",
    )
}

fn object(value: Value) -> DynamicObject {
    serde_json::from_value(value).expect("a valid object")
}

fn widget(name: &str) -> DynamicObject {
    object(
        json!({"apiVersion": "example.io/v1", "kind": "Widget", "metadata": {"name": name}, "spec": {"size": 1}}),
    )
}

/// Installs the Widget CRD in `path` and, when `bind`, a Bound APIBinding to the export in `root`, then creates
/// Widget `name` there.
async fn workspace(server: &apiserver::Server, path: &str, bind: bool, name: &str) {
    common::install_widgets(server.kcp_client(path), "Cluster").await;
    if bind {
        let bindings: Api<DynamicObject> = Api::all_with(server.kcp_client(path), &binding_resource());
        let binding = json!({"apiVersion": "apis.kcp.io/v1alpha1", "kind": "APIBinding",
            "metadata": {"name": EXPORT}, "spec": {"reference": {"export": {"path": "root", "name": EXPORT}}}});
        bindings
            .create(&PostParams::default(), &object(binding))
            .await
            .unwrap();
        let status = json!({"status": {"phase": "Bound",
            "boundResources": [{"group": "example.io", "resource": "widgets"}]}});
        bindings
            .patch_status(EXPORT, &PatchParams::default(), &Patch::Merge(&status))
            .await
            .unwrap();
    }
    let widgets: Api<DynamicObject> = Api::all_with(server.kcp_client(path), &common::widget_resource());
    widgets
        .create(&PostParams::default(), &widget(name))
        .await
        .unwrap();
}

fn virtual_workspace(server: &apiserver::Server, cluster: &str) -> Api<DynamicObject> {
    let url = format!(
        "{}/services/apiexport/root/{EXPORT}/clusters/{cluster}",
        server.url()
    );
    let client = kube::Client::try_from(kube::Config::new(url.parse().unwrap())).unwrap();
    Api::all_with(client, &common::widget_resource())
}

fn cluster_of(obj: &DynamicObject) -> String {
    obj.metadata.annotations.as_ref().unwrap()["kcp.io/cluster"].clone()
}

#[tokio::test]
async fn only_bound_clusters_are_visible_and_writable() {
    let server = common::server().await;
    workspace(&server, "root:a", true, "in-a").await;
    workspace(&server, "root:b", false, "in-b").await;
    let all = virtual_workspace(&server, "*");
    let listed = all.list(&ListParams::default()).await.unwrap();
    let names: Vec<_> = listed
        .items
        .iter()
        .filter_map(|w| w.metadata.name.clone())
        .collect();
    assert_eq!(names, ["in-a"], "the unbound workspace root:b stays invisible");
    let cluster = cluster_of(&listed.items[0]);

    let one = virtual_workspace(&server, &cluster);
    let mut got = one.get("in-a").await.unwrap();
    got.data["spec"]["size"] = json!(2);
    one.replace("in-a", &PostParams::default(), &got).await.unwrap();
    let status = json!({"status": {"phase": "Ready"}});
    one.patch_status("in-a", &PatchParams::default(), &Patch::Merge(&status))
        .await
        .unwrap();
    let direct: Api<DynamicObject> = Api::all_with(server.kcp_client("root:a"), &common::widget_resource());
    let stored = direct.get("in-a").await.unwrap();
    assert_eq!(
        (
            stored.data["spec"]["size"].clone(),
            stored.data["status"]["phase"].clone()
        ),
        (json!(2), json!("Ready"))
    );

    let unbound = apiserver::logical_cluster_name("root:b");
    let err = virtual_workspace(&server, &unbound)
        .get("in-b")
        .await
        .unwrap_err();
    assert!(matches!(err, kube::Error::Api(ref s) if s.code == 404), "{err:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn wildcard_watch_sees_clusters_bound_after_it_started() {
    let server = common::server().await;
    workspace(&server, "root:a", true, "in-a").await;
    let all = virtual_workspace(&server, "*");
    let mut events = all.watch(&WatchParams::default(), "0").await.unwrap().boxed();
    let mut next_name = async || loop {
        match tokio::time::timeout(Duration::from_secs(5), events.try_next()).await {
            Ok(Ok(Some(WatchEvent::Added(w)))) => return w.metadata.name.unwrap_or_default(),
            Ok(Ok(Some(_))) => continue,
            other => panic!("watch ended: {other:?}"),
        }
    };
    assert_eq!(next_name().await, "in-a");
    workspace(&server, "root:b", false, "in-b").await;
    workspace(&server, "root:c", true, "in-c").await;
    assert_eq!(
        next_name().await,
        "in-c",
        "in-b is never delivered: root:b does not bind the export"
    );
    server.shutdown().await;
}

//! The cluster imports called directly (no guest) against the embedded API server.

use std::sync::Arc;

use serde_json::{Value, json};

use super::{HostCall, HostServices, ImageVersionStore, Permissions, Rule};
use crate::{
    clusters::{Clusters, KcpAdmin},
    wit::{
        cluster::{ApplyOptions, Host as _, PatchKind},
        types::{Error, Gvk, ObjectRef, Target},
    },
};

struct Env {
    server: apiserver::Server,
    call: HostCall,
}

fn config(url: &str) -> kube::Config {
    kube::Config::new(url.parse().expect("server URL"))
}

async fn env_with(permissions: Permissions, kcp: impl FnOnce(&str) -> KcpAdmin) -> Env {
    let server = apiserver::start(apiserver::ServerConfig::default())
        .await
        .expect("API server starts");
    let clusters = Clusters::new(server.client(), server.client(), kcp(server.url()));
    let services = HostServices {
        clusters: Arc::new(clusters),
        image_versions: Arc::new(ImageVersionStore::new()),
        workspace_dir: std::env::temp_dir(),
    };
    let call = HostCall::new(
        Arc::new(services),
        "test".into(),
        "ns/obj".into(),
        Arc::new(permissions),
    );
    Env { server, call }
}

async fn env() -> Env {
    env_with(Permissions::permissive(), |url| {
        KcpAdmin::Config(Box::new(config(url)))
    })
    .await
}

fn cm_gvk() -> Gvk {
    Gvk {
        group: String::new(),
        version: "v1".into(),
        kind: "ConfigMap".into(),
    }
}

fn cm_ref(name: &str) -> ObjectRef {
    ObjectRef {
        gvk: cm_gvk(),
        namespace: Some("default".into()),
        name: name.into(),
    }
}

fn cm(name: &str, data: Value) -> String {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": name, "namespace": "default", "labels": {"app": name}}, "data": data})
    .to_string()
}

fn kind(error: &Error) -> &'static str {
    match error {
        Error::NotFound(_) => "not-found",
        Error::AlreadyExists(_) => "already-exists",
        Error::Forbidden(_) => "forbidden",
        Error::Conflict(_) => "conflict",
        Error::Invalid(_) => "invalid",
        Error::Unavailable(_) => "unavailable",
        Error::Other(_) => "other",
    }
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).expect("host returns JSON")
}

fn apply_opts(manager: &str, force: bool) -> ApplyOptions {
    ApplyOptions {
        field_manager: manager.into(),
        force,
    }
}

#[tokio::test]
async fn apply_get_list_and_delete_round_trip() {
    let mut env = env().await;
    let mut request = parse(&cm("a", json!({"k": "v"})));
    request["metadata"]["resourceVersion"] = json!("12345");
    request["metadata"]["managedFields"] = json!([{"manager": "someone"}]);
    let stored = env
        .call
        .apply(Target::Runtime, request.to_string(), apply_opts("pm", true))
        .await
        .unwrap();
    assert_eq!(parse(&stored)["data"]["k"], "v");

    let got = env
        .call
        .get(Target::Runtime, cm_ref("a"))
        .await
        .unwrap()
        .expect("exists");
    assert_eq!(parse(&got)["kind"], "ConfigMap");
    assert!(
        env.call
            .get(Target::Runtime, cm_ref("missing"))
            .await
            .unwrap()
            .is_none()
    );

    env.call
        .apply(Target::Runtime, cm("b", json!({})), apply_opts("pm", true))
        .await
        .unwrap();
    let all = env
        .call
        .list(Target::Runtime, cm_gvk(), Some("default".into()), None)
        .await
        .unwrap();
    assert!(all.len() >= 2);
    let selected = env
        .call
        .list(
            Target::Runtime,
            cm_gvk(),
            Some("default".into()),
            Some("app=b".into()),
        )
        .await;
    let selected = selected.unwrap();
    assert_eq!(selected.len(), 1);
    assert_eq!(
        parse(&selected[0])["apiVersion"],
        "v1",
        "list items carry apiVersion"
    );

    assert!(env.call.delete(Target::Runtime, cm_ref("a")).await.unwrap());
    assert!(!env.call.delete(Target::Runtime, cm_ref("a")).await.unwrap());
    env.server.shutdown().await;
}

#[tokio::test]
async fn create_update_and_patch_report_api_errors() {
    let mut env = env().await;
    let created = env
        .call
        .create(Target::Runtime, cm("c", json!({"x": "1"})))
        .await
        .unwrap();
    let err = env
        .call
        .create(Target::Runtime, cm("c", json!({})))
        .await
        .unwrap_err();
    assert_eq!(kind(&err), "already-exists");

    let mut stale = parse(&created);
    stale["data"]["x"] = json!("2");
    env.call.update(Target::Runtime, stale.to_string()).await.unwrap();
    let err = env
        .call
        .update(Target::Runtime, stale.to_string())
        .await
        .unwrap_err();
    assert_eq!(kind(&err), "conflict", "stale resourceVersion");

    let patched = env.call.patch(
        Target::Runtime,
        cm_ref("c"),
        PatchKind::Merge,
        r#"{"data":{"y":"3"}}"#.into(),
    );
    assert_eq!(parse(&patched.await.unwrap())["data"]["y"], "3");
    let json_patch = r#"[{"op":"replace","path":"/data/y","value":"4"}]"#.to_owned();
    let patched = env
        .call
        .patch(Target::Runtime, cm_ref("c"), PatchKind::Json, json_patch)
        .await
        .unwrap();
    assert_eq!(parse(&patched)["data"]["y"], "4");

    let err = env
        .call
        .apply(Target::Runtime, "{not json".into(), apply_opts("pm", true))
        .await
        .unwrap_err();
    assert_eq!(kind(&err), "invalid");
    let unknown = Gvk {
        group: "example.io".into(),
        version: "v1".into(),
        kind: "Nope".into(),
    };
    let err = env
        .call
        .list(Target::Runtime, unknown, None, None)
        .await
        .unwrap_err();
    assert_eq!(kind(&err), "not-found");
    env.server.shutdown().await;
}

#[tokio::test]
async fn kcp_targets_reach_the_workspace_path() {
    let mut env = env().await;
    let kcp = Target::Kcp("root:orgs".into());
    env.call
        .apply(kcp.clone(), cm("in-kcp", json!({})), apply_opts("pm", true))
        .await
        .unwrap();
    assert!(env.call.get(kcp, cm_ref("in-kcp")).await.unwrap().is_some());
    assert!(
        env.call
            .get(Target::Runtime, cm_ref("in-kcp"))
            .await
            .unwrap()
            .is_none(),
        "workspaces are separate"
    );
    env.server.shutdown().await;
}

#[tokio::test]
async fn kcp_admin_config_comes_from_the_kubeconfig_secret() {
    // The kubeconfig's server is a dead address; the Secret path must replace it with the requested URL.
    let secret_env = |url: &str| KcpAdmin::Secret {
        namespace: "default".into(),
        name: "kcp-cluster-admin-client-cert".into(),
        url: url.to_owned(),
    };
    let mut env = env_with(Permissions::permissive(), secret_env).await;
    let kcp = Target::Kcp("root".into());
    let err = env.call.get(kcp.clone(), cm_ref("x")).await.unwrap_err();
    assert_eq!(kind(&err), "unavailable", "no Secret yet");

    let kubeconfig = "apiVersion: v1\nkind: Config\nclusters:\n- name: kcp\n  cluster:\n    server: http://127.0.0.1:9\n\
users:\n- name: admin\n  user: {}\ncontexts:\n- name: admin\n  context: {cluster: kcp, user: admin}\n\
current-context: admin\n";
    let secret = json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "kcp-cluster-admin-client-cert", "namespace": "default"},
        "stringData": {"kubeconfig": kubeconfig}});
    env.call
        .create(Target::Runtime, secret.to_string())
        .await
        .unwrap();
    assert!(
        env.call.get(kcp, cm_ref("x")).await.unwrap().is_none(),
        "retried after the Secret appeared"
    );
    env.server.shutdown().await;
}

#[tokio::test]
async fn calls_are_checked_against_permissions_first() {
    let read_only = Permissions::new(vec![Rule {
        targets: vec!["runtime".into()],
        groups: vec![String::new()],
        kinds: vec!["ConfigMap".into()],
        verbs: vec!["get".into(), "list".into()],
        namespaces: vec!["default".into()],
    }]);
    let mut env = env_with(read_only, |url| KcpAdmin::Config(Box::new(config(url)))).await;
    let before = env.server.requests().snapshot().changed_writes;
    assert!(
        env.call
            .get(Target::Runtime, cm_ref("a"))
            .await
            .unwrap()
            .is_none()
    );
    let err = env
        .call
        .apply(Target::Runtime, cm("a", json!({})), apply_opts("pm", true))
        .await
        .unwrap_err();
    match err {
        Error::Forbidden(message) => assert_eq!(
            message,
            "plugin test: missing permission: apply ConfigMap (core) in namespace default on runtime"
        ),
        other => panic!("expected forbidden, got {other:?}"),
    }
    let err = env.call.get(Target::Infra, cm_ref("a")).await.unwrap_err();
    assert_eq!(kind(&err), "forbidden");
    assert_eq!(
        env.server.requests().snapshot().changed_writes,
        before,
        "nothing was written"
    );
    env.server.shutdown().await;
}

#[tokio::test]
async fn templates_render_strings_and_stay_inside_the_workspace() {
    use crate::wit::templates::{Funcs, Host as _, RenderOptions};

    let mut env = env().await;
    let out = env
        .call
        .render_string(
            "greeting".into(),
            "hello {{ .name }}".into(),
            r#"{"name":"mesh"}"#.into(),
            Funcs::Deployment,
        )
        .await
        .unwrap();
    assert_eq!(out, "hello mesh");
    let err = env
        .call
        .render_string(
            "broken".into(),
            "{{ .a.b }}".into(),
            r#"{"a":null}"#.into(),
            Funcs::Deployment,
        )
        .await
        .unwrap_err();
    assert_eq!((err.source.as_str(), err.line), ("broken", Some(1)));
    let options = RenderOptions {
        funcs: Funcs::Manifest,
        technology_filter: None,
    };
    let err = env
        .call
        .render_dir("../outside".into(), "{}".into(), options)
        .await
        .unwrap_err();
    assert!(err.message.contains("may not leave"), "{}", err.message);
    env.server.shutdown().await;
}

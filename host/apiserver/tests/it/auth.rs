//! ServiceAccount tokens through kube-rs: issued tokens authenticate as their ServiceAccount and are authorized by
//! the RBAC objects of their logical cluster; requests without a token stay unrestricted.

use crate::common;

use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{ConfigMap, Secret, ServiceAccount};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde_json::json;

/// A client for `server_url` that sends `token`.
pub(crate) async fn client_with_token(server_url: &str, token: &str) -> Client {
    let kubeconfig: Kubeconfig = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": server_url}}],
        "users": [{"name": "u", "user": {"token": token}}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "x",
    }))
    .unwrap();
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .unwrap();
    Client::try_from(config).unwrap()
}

fn status_code(e: kube::Error) -> (u16, String) {
    match e {
        kube::Error::Api(s) => (s.code, s.message),
        other => panic!("expected an API error, got {other}"),
    }
}

/// Creates `object` (a kind of the table below) through kube's dynamic API.
async fn apply(client: &Client, object: serde_json::Value) {
    let kind = object["kind"].as_str().unwrap();
    let (group, plural) = match kind {
        "ClusterRole" => ("rbac.authorization.k8s.io", "clusterroles"),
        "ClusterRoleBinding" => ("rbac.authorization.k8s.io", "clusterrolebindings"),
        "Role" => ("rbac.authorization.k8s.io", "roles"),
        "RoleBinding" => ("rbac.authorization.k8s.io", "rolebindings"),
        "Secret" => ("", "secrets"),
        other => panic!("no plural for {other}"),
    };
    let resource = ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, "v1", kind), plural);
    let api: Api<DynamicObject> = match object["metadata"]["namespace"].as_str() {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &resource),
        None => Api::all_with(client.clone(), &resource),
    };
    let object: DynamicObject = serde_json::from_value(object).unwrap();
    api.create(&PostParams::default(), &object)
        .await
        .expect("created");
}

/// Creates ServiceAccount `bot` in `root:team`, allowed to read ConfigMaps cluster-wide and to get the Secret
/// `visible` in `default`; returns its token.
pub(crate) async fn bot_token(server: &apiserver::Server) -> String {
    let kcp = server.kcp_client("root:team");
    let sas: Api<ServiceAccount> = Api::namespaced(kcp.clone(), "default");
    sas.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": "bot"}})).unwrap(),
    )
    .await
    .unwrap();
    for object in [
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "read-cm"},
               "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]}]}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": "bot-read-cm"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "read-cm"},
               "subjects": [{"kind": "ServiceAccount", "name": "bot", "namespace": "default"}]}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
               "metadata": {"name": "one-secret", "namespace": "default"},
               "rules": [{"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["visible"],
                          "verbs": ["get"]}]}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": "bot-one-secret", "namespace": "default"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "one-secret"},
               "subjects": [{"kind": "ServiceAccount", "name": "bot", "namespace": "default"}]}),
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "visible", "namespace": "default"}}),
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "hidden", "namespace": "default"}}),
    ] {
        apply(&kcp, object).await;
    }
    let req = TokenRequest {
        spec: TokenRequestSpec {
            expiration_seconds: Some(3600),
            ..TokenRequestSpec::default()
        },
        ..TokenRequest::default()
    };
    let issued = sas
        .create_token_request("bot", &PostParams::default(), &req)
        .await
        .unwrap();
    issued.status.unwrap().token
}

#[tokio::test]
async fn service_account_tokens_are_authorized_by_rbac() {
    let server = common::server().await;
    let token = bot_token(&server).await;
    let bot = client_with_token(&format!("{}/clusters/root:team", server.url()), &token).await;

    let cms: Api<ConfigMap> = Api::all(bot.clone());
    cms.list(&ListParams::default())
        .await
        .expect("ClusterRole grants listing configmaps");
    let secrets: Api<Secret> = Api::namespaced(bot.clone(), "default");
    secrets.get("visible").await.expect("Role grants this one secret");

    let (code, message) = status_code(secrets.get("hidden").await.unwrap_err());
    assert_eq!(code, 403);
    assert_eq!(
        message,
        "secrets \"hidden\" is forbidden: User \"system:serviceaccount:default:bot\" cannot get resource \
         \"secrets\" in API group \"\" in the namespace \"default\""
    );
    let (code, _) = status_code(secrets.list(&ListParams::default()).await.unwrap_err());
    assert_eq!(code, 403, "resourceNames never allow list");
    let writable: Api<ConfigMap> = Api::namespaced(bot.clone(), "default");
    let cm = serde_json::from_value(json!({"metadata": {"name": "x"}})).unwrap();
    let (code, _) = status_code(writable.create(&PostParams::default(), &cm).await.unwrap_err());
    assert_eq!(code, 403, "no rule grants create");

    // Discovery is open to every authenticated user.
    bot.apiserver_version().await.expect("version");
    kube::discovery::Discovery::new(bot.clone())
        .run()
        .await
        .expect("discovery");
    server.shutdown().await;
}

#[tokio::test]
async fn tokens_stay_in_their_logical_cluster() {
    let server = common::server().await;
    let token = bot_token(&server).await;
    for url in [format!("{}/clusters/root", server.url()), server.url().to_owned()] {
        let elsewhere = client_with_token(&url, &token).await;
        let cms: Api<ConfigMap> = Api::all(elsewhere);
        let (code, message) = status_code(cms.list(&ListParams::default()).await.unwrap_err());
        assert_eq!(code, 403, "{url}: {message}");
        assert!(message.contains("cannot access logical cluster"), "{message}");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn unknown_tokens_are_unauthorized_and_no_token_is_admin() {
    let server = common::server().await;
    let forged = client_with_token(server.url(), "embedded.forged").await;
    let cms: Api<ConfigMap> = Api::all(forged);
    let (code, _) = status_code(cms.list(&ListParams::default()).await.unwrap_err());
    assert_eq!(code, 401);
    let admin: Api<Secret> = Api::all(server.client());
    admin
        .list(&ListParams::default())
        .await
        .expect("no token: unrestricted");
    server.shutdown().await;
}

#[tokio::test]
async fn service_account_token_secrets_authenticate_too() {
    let server = common::server().await;
    bot_token(&server).await;
    let cluster = server.logical_cluster("root:team");
    let token = apiserver::sim::tokens::service_account_token(&cluster, "default", "bot");
    let bot = client_with_token(&format!("{}/clusters/root:team", server.url()), &token).await;
    let cms: Api<ConfigMap> = Api::all(bot.clone());
    cms.list(&ListParams::default())
        .await
        .expect("same rights as the TokenRequest token");
    let secrets: Api<Secret> = Api::namespaced(bot, "default");
    assert_eq!(status_code(secrets.get("hidden").await.unwrap_err()).0, 403);
    server.shutdown().await;
}

#[tokio::test]
async fn cluster_admin_binding_allows_everything() {
    let server = common::server().await;
    let token = bot_token(&server).await;
    let kcp = server.kcp_client("root:team");
    apply(
        &kcp,
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": "bot-admin"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
               "subjects": [{"kind": "ServiceAccount", "name": "bot", "namespace": "default"}]}),
    )
    .await;
    let bot = client_with_token(&format!("{}/clusters/root:team", server.url()), &token).await;
    let secrets: Api<Secret> = Api::namespaced(bot, "default");
    secrets.get("hidden").await.expect("cluster-admin is built in");
    server.shutdown().await;
}

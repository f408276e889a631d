//! Upstream's `ScopedKubeconfigTestSuite` (spec §10.7) on the FakeHost, plus the opt-in least privilege (§11.4 item 42).

use std::time::Duration;

use base64::{Engine as _, engine::general_purpose::STANDARD};
use platform_mesh_plugin_sdk::{
    ClusterError, Context, Gvk, Outcome, Plugin, Reconciled, Target, testing::FakeHost,
};
use serde_json::{Value, json};

use super::*;

const CLUSTER: &str = "abc123";
const WS_PATH: &str = "root:providers:wildwest-abc123";

fn provider(spec: Value, status: Value) -> Context {
    let mut ctx = Context::for_object(
        "provider",
        json!({"apiVersion": "providers.platform-mesh.io/v1alpha1", "kind": "Provider",
               "metadata": {"name": "wildwest", "annotations": {"kcp.io/cluster": CLUSTER}},
               "spec": spec, "status": status}),
    );
    ctx.object_target = Target::kcp(CLUSTER);
    ctx.operator_config = json!({"kcpUrl": "https://kcp.example:8443"});
    ctx
}

fn workspace(phase: &str) -> Value {
    json!({"apiVersion": "tenancy.kcp.io/v1alpha1", "kind": "Workspace",
           "metadata": {"name": "wildwest-abc123"},
           "spec": {"cluster": "logical-ws"}, "status": {"phase": phase}})
}

fn token_secret() -> Value {
    json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
           "metadata": {"name": "wildwest-provider-token", "namespace": "default",
                        "annotations": {"kubernetes.io/service-account.name": "wildwest-provider", "keep": "me"}},
           "data": {"token": STANDARD.encode("tok"), "ca.crt": STANDARD.encode("CA")}})
}

/// A ready workspace and a populated token Secret.
fn ready_host() -> FakeHost {
    FakeHost::new()
        .with_object(Target::kcp("root:providers"), workspace("Ready"))
        .with_object(Target::kcp(WS_PATH), token_secret())
}

fn secret(host: &FakeHost, target: Target, namespace: &str, name: &str) -> Option<Value> {
    host.object(
        &target,
        &Gvk::new("", "v1", "Secret").object(Some(namespace), name),
    )
}

fn kubeconfig(host: &FakeHost, namespace: &str, name: &str, key: &str) -> Value {
    let stored = secret(host, Target::kcp(CLUSTER), namespace, name).expect("kubeconfig Secret");
    let text = STANDARD.decode(stored["data"][key].as_str().unwrap()).unwrap();
    // The FakeHost's to_yaml writes JSON, which is YAML.
    serde_json::from_slice(&text).unwrap()
}

fn stopped(outcome: &Outcome) -> Option<(&str, Option<Duration>)> {
    match outcome {
        Outcome::Stop {
            message,
            requeue_after,
        } => Some((message.as_str(), *requeue_after)),
        _ => None,
    }
}

#[test]
fn process_kcp_unavailable_is_an_error() {
    let host = FakeHost::new().with_error(
        "get",
        Some("Workspace"),
        ClusterError::Unavailable("no kcp".into()),
    );
    let failure = ScopedKubeconfig::process(&host, &provider(json!({}), json!({}))).unwrap_err();
    assert!(failure.message.contains("no kcp"));
    assert_eq!(
        failure.status_patch,
        Some(json!({"phase": "ProvisioningKubeconfig"}))
    );
}

#[test]
fn process_workspace_not_found_requeues() {
    let done = ScopedKubeconfig::process(&FakeHost::new(), &provider(json!({}), json!({}))).unwrap();
    assert_eq!(
        stopped(&done.outcome),
        Some(("Waiting for provider workspace", Some(Duration::from_secs(10))))
    );
    assert_eq!(done.status_patch, Some(json!({"phase": "ProvisioningWorkspace"})));
}

#[test]
fn process_workspace_not_ready_requeues() {
    let host = FakeHost::new().with_object(Target::kcp("root:providers"), workspace("Initializing"));
    let done = ScopedKubeconfig::process(&host, &provider(json!({}), json!({}))).unwrap();
    assert_eq!(
        stopped(&done.outcome).map(|s| s.0),
        Some("Waiting for provider workspace to become Ready")
    );
    assert_eq!(done.status_patch, Some(json!({"phase": "ProvisioningWorkspace"})));
}

#[test]
fn process_namespace_create_fails() {
    let host = ready_host().with_error(
        "create",
        Some("Namespace"),
        ClusterError::Forbidden("nope".into()),
    );
    let failure = ScopedKubeconfig::process(&host, &provider(json!({}), json!({}))).unwrap_err();
    assert!(
        failure
            .message
            .starts_with("ensure namespace default in provider workspace"),
        "{}",
        failure.message
    );
}

#[test]
fn process_namespace_already_exists_continues_to_the_service_account() {
    let host = ready_host()
        .with_object(
            Target::kcp(WS_PATH),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}}),
        )
        .with_error("create", Some("ServiceAccount"), ClusterError::Other("sa".into()));
    let failure = ScopedKubeconfig::process(&host, &provider(json!({}), json!({}))).unwrap_err();
    assert!(
        failure
            .message
            .starts_with("create ServiceAccount wildwest-provider"),
        "{}",
        failure.message
    );
}

#[test]
fn process_token_not_populated_yet_requeues() {
    let host = FakeHost::new().with_object(Target::kcp("root:providers"), workspace("Ready"));
    let done = ScopedKubeconfig::process(&host, &provider(json!({}), json!({}))).unwrap();
    assert_eq!(
        stopped(&done.outcome).map(|s| s.0),
        Some("waiting for SA token to be populated")
    );
    let token = secret(&host, Target::kcp(WS_PATH), "default", "wildwest-provider-token").unwrap();
    assert_eq!(token["type"], "kubernetes.io/service-account-token");
    assert_eq!(
        token["metadata"]["annotations"]["kubernetes.io/service-account.name"],
        "wildwest-provider"
    );
}

#[test]
fn process_happy_path_writes_the_kubeconfig_and_is_ready() {
    let host = ready_host();
    let done = ScopedKubeconfig::process(&host, &provider(json!({}), json!({}))).unwrap();
    assert_eq!(
        done,
        Reconciled::ok().with_status(json!({"phase": "Ready",
            "providerKubeconfigSecretRef": {"name": "wildwest-provider-kubeconfig", "namespace": "default"}}))
    );
    let config = kubeconfig(&host, "default", "wildwest-provider-kubeconfig", "kubeconfig");
    assert_eq!(
        config["clusters"][0]["cluster"]["server"],
        "https://kcp.example:8443/clusters/logical-ws"
    );
    assert_eq!(
        config["clusters"][0]["cluster"]["certificate-authority-data"],
        STANDARD.encode("CA")
    );
    assert_eq!(config["users"][0]["user"]["token"], "tok");
    let token = secret(&host, Target::kcp(WS_PATH), "default", "wildwest-provider-token").unwrap();
    assert_eq!(
        token["metadata"]["annotations"]["keep"], "me",
        "other annotations are preserved"
    );
}

#[test]
fn process_steady_state_writes_nothing() {
    let host = ready_host();
    let ctx = provider(json!({}), json!({}));
    ScopedKubeconfig::process(&host, &ctx).unwrap();
    let before = host.calls().len();
    ScopedKubeconfig::process(&host, &ctx).unwrap();
    let writes: Vec<_> = host.calls()[before..]
        .iter()
        .filter(|c| c.op != "get")
        .cloned()
        .collect();
    assert!(writes.is_empty(), "{writes:?}");
}

#[test]
fn process_host_override_and_custom_secret() {
    let host = ready_host();
    let spec = json!({"hostOverride": "https://provider.example/",
        "providerKubeconfigSecret": {"name": "kc", "namespace": "provider-system", "key": "config"}});
    ScopedKubeconfig::process(&host, &provider(spec, json!({}))).unwrap();
    let config = kubeconfig(&host, "provider-system", "kc", "config");
    assert!(
        config["clusters"][0]["cluster"]["server"]
            .as_str()
            .unwrap()
            .starts_with("https://provider.example/clusters/")
    );
}

fn annotated(rules: &str) -> Context {
    let mut ctx = provider(json!({}), json!({}));
    ctx.object["metadata"]["annotations"][rbac::ACCESS_RULES_ANNOTATION] = json!(rules);
    ctx
}

#[test]
fn default_rights_are_cluster_admin_as_upstream() {
    let host = ready_host();
    ScopedKubeconfig::process(&host, &provider(json!({}), json!({}))).unwrap();
    let ws = Target::kcp(WS_PATH);
    let binding = host
        .object(&ws, &rbac::binding_kind().object(None, "wildwest-provider"))
        .unwrap();
    assert_eq!(binding["roleRef"]["name"], "cluster-admin");
    assert_eq!(binding["subjects"][0]["name"], "wildwest-provider");
    assert!(
        host.object(&ws, &rbac::role_kind().object(None, "wildwest-provider"))
            .is_none()
    );
}

#[test]
fn an_existing_cluster_admin_binding_is_kept() {
    // What the Go operator left: the binding to cluster-admin. The pass neither deletes nor rewrites it.
    let host = ready_host();
    let ws = Target::kcp(WS_PATH);
    host.insert(
        ws.clone(),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": "wildwest-provider", "uid": "kept"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"kind": "ServiceAccount", "name": "wildwest-provider", "namespace": "default"}]}),
    );
    ScopedKubeconfig::process(&host, &provider(json!({}), json!({}))).unwrap();
    let touched: Vec<_> = host
        .calls()
        .into_iter()
        .filter(|c| c.kind == "ClusterRoleBinding" && c.op != "get")
        .collect();
    assert!(touched.is_empty(), "{touched:?}");
}

#[test]
fn least_privilege_is_opt_in_by_annotation() {
    let host = ready_host();
    let ws = Target::kcp(WS_PATH);
    ScopedKubeconfig::process(&host, &provider(json!({}), json!({}))).unwrap();
    ScopedKubeconfig::process(&host, &annotated("default")).unwrap();
    let binding = host
        .object(&ws, &rbac::binding_kind().object(None, "wildwest-provider"))
        .unwrap();
    assert_eq!(binding["roleRef"]["name"], "wildwest-provider");
    let role = host
        .object(&ws, &rbac::role_kind().object(None, "wildwest-provider"))
        .unwrap();
    assert_eq!(role["rules"], rbac::default_rules());

    let rules = json!([{"apiGroups": ["example.io"], "resources": ["widgets"], "verbs": ["get"]}]);
    ScopedKubeconfig::process(&host, &annotated(&rules.to_string())).unwrap();
    let role = host
        .object(&ws, &rbac::role_kind().object(None, "wildwest-provider"))
        .unwrap();
    assert_eq!(role["rules"], rules);

    // Removing the annotation goes back to cluster-admin and removes the role.
    ScopedKubeconfig::process(&host, &provider(json!({}), json!({}))).unwrap();
    let binding = host
        .object(&ws, &rbac::binding_kind().object(None, "wildwest-provider"))
        .unwrap();
    assert_eq!(binding["roleRef"]["name"], "cluster-admin");
    assert!(
        host.object(&ws, &rbac::role_kind().object(None, "wildwest-provider"))
            .is_none()
    );
}

#[test]
fn a_malformed_rules_annotation_fails_without_touching_the_binding() {
    let host = ready_host();
    ScopedKubeconfig::process(&host, &provider(json!({}), json!({}))).unwrap();
    let failure = ScopedKubeconfig::process(&host, &annotated("[{\"verbs\": \"all\"}]")).unwrap_err();
    assert!(
        failure
            .message
            .contains("providers.platform-mesh.io/access-rules"),
        "{failure}"
    );
    let binding = host
        .object(
            &Target::kcp(WS_PATH),
            &rbac::binding_kind().object(None, "wildwest-provider"),
        )
        .unwrap();
    assert_eq!(binding["roleRef"]["name"], "cluster-admin");
}

#[test]
fn finalize_happy_path_removes_everything() {
    let host = ready_host();
    ScopedKubeconfig::process(&host, &provider(json!({}), json!({}))).unwrap();
    let status = json!({"providerKubeconfigSecretRef": {"name": "wildwest-provider-kubeconfig", "namespace": "default"}});
    let done = ScopedKubeconfig::finalize(&host, &provider(json!({}), status)).unwrap();
    assert_eq!(done, Reconciled::ok().with_status(json!({"phase": "Deleting"})));
    let ws = Target::kcp(WS_PATH);
    assert!(
        host.object(&ws, &rbac::binding_kind().object(None, "wildwest-provider"))
            .is_none()
    );
    assert!(secret(&host, ws.clone(), "default", "wildwest-provider-token").is_none());
    assert!(
        host.object(
            &ws,
            &Gvk::new("", "v1", "ServiceAccount").object(Some("default"), "wildwest-provider")
        )
        .is_none()
    );
    assert!(
        secret(
            &host,
            Target::kcp(CLUSTER),
            "default",
            "wildwest-provider-kubeconfig"
        )
        .is_none()
    );
}

#[test]
fn finalize_not_found_is_ignored() {
    let done = ScopedKubeconfig::finalize(&FakeHost::new(), &provider(json!({}), json!({}))).unwrap();
    assert!(matches!(done.outcome, Outcome::Ok { .. }));
}

#[test]
fn finalize_delete_fails() {
    let host = FakeHost::new().with_error(
        "delete",
        Some("ClusterRoleBinding"),
        ClusterError::Other("x".into()),
    );
    let failure = ScopedKubeconfig::finalize(&host, &provider(json!({}), json!({}))).unwrap_err();
    assert!(
        failure
            .message
            .starts_with("delete ClusterRoleBinding wildwest-provider"),
        "{}",
        failure.message
    );
}

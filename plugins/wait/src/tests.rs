//! Native tests against the SDK's FakeHost, covering upstream's wait_test.go inventory (spec §10.4).

use std::time::Duration;

use platform_mesh_plugin_sdk::{
    ClusterError, Context, Outcome, Plugin, Reconciled, Target, testing::FakeHost,
};
use serde_json::{Value, json};

use super::Wait;

/// The PlatformMesh's namespace, where the Deployment subroutine renders the HelmReleases.
const NS: &str = "platform-mesh-system";

fn pm(spec: Value) -> Context {
    Context::for_object(
        "platformmesh",
        json!({"apiVersion": "core.platform-mesh.io/v1alpha1", "kind": "PlatformMesh",
               "metadata": {"name": "platform-mesh", "namespace": NS}, "spec": spec}),
    )
}

fn wac(audiences: Value) -> Value {
    json!({"apiVersion": "tenancy.kcp.io/v1alpha1", "kind": "WorkspaceAuthenticationConfiguration",
           "metadata": {"name": "orgs-authentication"},
           "spec": {"jwt": [{"issuer": {"url": "https://idp", "audiences": audiences}}]}})
}

/// A fake with a valid audience, so only the resource checks decide.
fn host() -> FakeHost {
    FakeHost::new().with_object(Target::kcp("root"), wac(json!(["welcome"])))
}

fn helm_release(name: &str, ready: &str, labels: Value) -> Value {
    json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
           "metadata": {"name": name, "namespace": NS, "labels": labels},
           "status": {"conditions": [{"type": "Ready", "status": ready}]}})
}

fn operator_created() -> Value {
    json!({"core.platform-mesh.io/operator-created": "true"})
}

fn stop(message: &str) -> Reconciled {
    Reconciled::stop_after(Duration::from_secs(5), message)
}

#[test]
fn no_resources_and_a_set_audience_is_ok() {
    let host = host();
    assert_eq!(Wait::process(&host, &pm(json!({}))).unwrap(), Reconciled::ok());
    let list = &host.calls()[0];
    assert_eq!(
        (list.op, list.kind.as_str(), list.namespace.as_deref()),
        ("list", "HelmRelease", Some(NS))
    );
    assert_eq!(list.target, Target::Infra);
}

#[test]
fn default_list_uses_the_operator_created_selector() {
    let host = host()
        .with_object(Target::Infra, helm_release("ours", "False", operator_created()))
        .with_object(Target::Infra, helm_release("foreign", "False", json!({})));
    let done = Wait::process(&host, &pm(json!({}))).unwrap();
    assert_eq!(
        done,
        stop("resource platform-mesh-system/ours of type HelmRelease is not ready yet")
    );
}

#[test]
fn all_resources_ready_is_ok() {
    let host = host()
        .with_object(Target::Infra, helm_release("a", "True", operator_created()))
        .with_object(Target::Infra, helm_release("b", "True", operator_created()));
    assert_eq!(Wait::process(&host, &pm(json!({}))).unwrap(), Reconciled::ok());
}

#[test]
fn resource_not_ready_stops_with_requeue() {
    let host = host()
        .with_object(Target::Infra, helm_release("a", "True", operator_created()))
        .with_object(Target::Infra, helm_release("b", "Unknown", operator_created()));
    let done = Wait::process(&host, &pm(json!({}))).unwrap();
    assert_eq!(
        done,
        stop("resource platform-mesh-system/b of type HelmRelease is not ready yet")
    );
}

#[test]
fn list_error_stops_with_requeue() {
    let host = host().with_error("list", None, ClusterError::Unavailable("boom".into()));
    assert_eq!(
        Wait::process(&host, &pm(json!({}))).unwrap(),
        stop("list resources")
    );
}

#[test]
fn multiple_resource_types_are_all_checked() {
    let spec = json!({"wait": {"resourceTypes": [
        {"group": "helm.toolkit.fluxcd.io", "version": "v2", "kind": "HelmRelease", "namespace": NS,
         "conditionType": "Ready", "conditionStatus": "True"},
        {"group": "", "version": "v1", "kind": "ConfigMap", "namespace": "default",
         "conditionType": "Ready", "conditionStatus": "True"}
    ]}});
    let cm =
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "namespace": "default"}});
    let host = host()
        .with_object(Target::Infra, helm_release("a", "True", json!({})))
        .with_object(Target::Infra, cm);
    let done = Wait::process(&host, &pm(spec)).unwrap();
    assert_eq!(
        done,
        stop("resource default/cm of type ConfigMap is not ready yet")
    );
    let lists: Vec<_> = host
        .calls()
        .into_iter()
        .filter(|c| c.op == "list")
        .map(|c| c.kind)
        .collect();
    assert_eq!(lists, ["HelmRelease", "ConfigMap"]);
}

#[test]
fn custom_kustomization_with_match_labels_in_its_namespace() {
    let spec = json!({"wait": {"resourceTypes": [
        {"group": "kustomize.toolkit.fluxcd.io", "version": "v1", "kind": "Kustomization",
         "namespace": "flux-system", "matchLabels": {"app": "demo"},
         "conditionType": "Ready", "conditionStatus": "True"}
    ]}});
    let kustomization = |name: &str, app: &str, ready: &str| {
        json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
               "metadata": {"name": name, "namespace": "flux-system", "labels": {"app": app}},
               "status": {"conditions": [{"type": "Ready", "status": ready}]}})
    };
    let host = host()
        .with_object(Target::Infra, kustomization("demo", "demo", "True"))
        .with_object(Target::Infra, kustomization("other", "other", "False"));
    assert_eq!(Wait::process(&host, &pm(spec.clone())).unwrap(), Reconciled::ok());
    host.insert(Target::Infra, kustomization("demo-2", "demo", "False"));
    let done = Wait::process(&host, &pm(spec)).unwrap();
    assert_eq!(
        done,
        stop("resource flux-system/demo-2 of type Kustomization is not ready yet")
    );
}

fn named(name: &str) -> Value {
    json!({"wait": {"resourceTypes": [
        {"group": "helm.toolkit.fluxcd.io", "version": "v2", "kind": "HelmRelease", "namespace": NS,
         "name": name, "conditionType": "Ready", "conditionStatus": "True"}
    ]}})
}

#[test]
fn resource_by_name_ready_is_ok() {
    let host = host().with_object(Target::Infra, helm_release("istiod", "True", json!({})));
    assert_eq!(
        Wait::process(&host, &pm(named("istiod"))).unwrap(),
        Reconciled::ok()
    );
    assert_eq!(host.calls()[0].op, "get");
}

#[test]
fn resource_by_name_not_ready_or_missing_stops() {
    let host = host().with_object(Target::Infra, helm_release("istiod", "False", json!({})));
    let done = Wait::process(&host, &pm(named("istiod"))).unwrap();
    assert_eq!(
        done,
        stop("resource platform-mesh-system/istiod of type HelmRelease is not ready yet")
    );
    assert_eq!(
        Wait::process(&host, &pm(named("missing"))).unwrap(),
        stop("get resource")
    );
}

#[test]
fn empty_resource_types_wait_for_nothing() {
    let host = host().with_object(Target::Infra, helm_release("a", "False", operator_created()));
    let done = Wait::process(&host, &pm(json!({"wait": {"resourceTypes": []}}))).unwrap();
    assert_eq!(done, Reconciled::ok());
    assert!(host.calls().iter().all(|c| c.op != "list"));
}

#[test]
fn invalid_selector_stops_with_label_selector() {
    let spec = json!({"wait": {"resourceTypes": [
        {"group": "", "version": "v1", "kind": "ConfigMap",
         "matchExpressions": [{"key": "a", "operator": "Sometimes", "values": []}],
         "conditionType": "Ready", "conditionStatus": "True"}
    ]}});
    assert_eq!(Wait::process(&host(), &pm(spec)).unwrap(), stop("label selector"));
}

#[test]
fn entry_without_condition_never_matches() {
    let spec = json!({"wait": {"resourceTypes": [
        {"group": "helm.toolkit.fluxcd.io", "version": "v2", "kind": "HelmRelease", "namespace": NS}
    ]}});
    let host = host().with_object(Target::Infra, helm_release("a", "True", json!({})));
    let done = Wait::process(&host, &pm(spec)).unwrap();
    assert_eq!(
        done,
        stop("resource platform-mesh-system/a of type HelmRelease is not ready yet")
    );
}

#[test]
fn empty_audience_stops() {
    let host = FakeHost::new().with_object(Target::kcp("root"), wac(json!([])));
    let done = Wait::process(&host, &pm(json!({}))).unwrap();
    assert_eq!(
        done,
        stop("WorkspaceAuthenticationConfiguration audience is not yet set")
    );
}

#[test]
fn placeholder_audience_stops() {
    let host = FakeHost::new().with_object(Target::kcp("root"), wac(json!(["<placeholder>"])));
    let done = Wait::process(&host, &pm(json!({}))).unwrap();
    assert_eq!(done, stop("audiences is set to \"<placeholder>\""));
}

#[test]
fn audience_check_is_skipped_when_unreadable() {
    assert_eq!(
        Wait::process(&FakeHost::new(), &pm(json!({}))).unwrap(),
        Reconciled::ok()
    );
    let failing = host().with_error("get", None, ClusterError::Unavailable("kcp down".into()));
    assert_eq!(Wait::process(&failing, &pm(json!({}))).unwrap(), Reconciled::ok());
    let malformed = FakeHost::new().with_object(Target::kcp("root"), wac(json!("not-a-list")));
    assert_eq!(
        Wait::process(&malformed, &pm(json!({}))).unwrap(),
        Reconciled::ok()
    );
    let two = FakeHost::new().with_object(Target::kcp("root"), wac(json!(["<placeholder>", "x"])));
    assert_eq!(Wait::process(&two, &pm(json!({}))).unwrap(), Reconciled::ok());
}

#[test]
fn name_is_wait_subroutine_without_finalizers() {
    let info = Wait::info();
    assert_eq!(info.name, "WaitSubroutine");
    assert!(info.finalizers.is_empty());
}

#[test]
fn finalize_does_nothing() {
    let host = FakeHost::new();
    let done = Wait::finalize(&host, &pm(json!({}))).unwrap();
    assert_eq!(
        done.outcome,
        Outcome::Ok {
            requeue_after: None,
            message: None
        }
    );
    assert!(host.calls().is_empty());
}

mod documented;

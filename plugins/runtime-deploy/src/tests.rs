//! Upstream's `DeployTestSuite` (spec §10.7) on the FakeHost, plus the fixes of §11.4 item 44.

use platform_mesh_plugin_sdk::{
    Context, Gvk, ObjectRef, Outcome, Plugin, Reconciled, Target, testing::FakeHost,
};
use serde_json::{Value, json};

use super::*;

fn mp(name: &str, deployments: Value) -> Context {
    Context::for_object(
        "managedprovider",
        json!({"metadata": {"name": name, "namespace": "pm"}, "spec": {"runtimeDeployments": deployments}}),
    )
}

fn oci(values: Value) -> Value {
    json!([{"flux": {"type": "oci", "registry": "ghcr.io/pm", "chart": "charts/portal", "version": "1.0.0", "values": values}}])
}

fn release_ref(name: &str) -> ObjectRef {
    Gvk::new("helm.toolkit.fluxcd.io", "v2", "HelmRelease").object(Some("pm"), name)
}

fn oci_ref(name: &str) -> ObjectRef {
    Gvk::new("source.toolkit.fluxcd.io", "v1", "OCIRepository").object(Some("pm"), name)
}

/// What the Flux controllers would do: sources observed, releases Ready.
fn reconcile_flux(host: &FakeHost, name: &str) {
    for r in [oci_ref(name), release_ref(name)] {
        if let Some(mut o) = host.object(&Target::Runtime, &r) {
            o["metadata"]["generation"] = json!(1);
            o["status"] =
                json!({"observedGeneration": 1, "conditions": [{"type": "Ready", "status": "True"}]});
            host.insert(Target::Runtime, o);
        }
    }
}

fn stop_message(done: &Reconciled) -> String {
    match &done.outcome {
        Outcome::Stop { message, .. } => message.clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn oci_component_is_created_then_waits_then_is_ready() {
    let host = FakeHost::new();
    let ctx = mp("cowboys", oci(json!({"replicas": 2})));
    let first = RuntimeDeploy::process(&host, &ctx).unwrap();
    assert_eq!(stop_message(&first), "waiting for portal to be reconciled");
    assert_eq!(first.status_patch, Some(json!({"phase": "Deploying"})));
    let repo = host.object(&Target::Runtime, &oci_ref("portal")).unwrap();
    assert_eq!(repo["spec"]["url"], "oci://ghcr.io/pm/charts/portal");
    assert_eq!(repo["spec"]["ref"]["tag"], "1.0.0");
    let release = host.object(&Target::Runtime, &release_ref("portal")).unwrap();
    assert_eq!(release["spec"]["values"], json!({"replicas": 2}));
    assert_eq!(
        release["metadata"]["labels"]["providers.platform-mesh.io/managed-provider"],
        "cowboys"
    );

    let mut repo = repo;
    repo["metadata"]["generation"] = json!(1);
    host.insert(Target::Runtime, repo);
    let second = RuntimeDeploy::process(&host, &ctx).unwrap();
    assert!(stop_message(&second).starts_with("waiting for OCIRepository pm/portal"));
    reconcile_flux(&host, "portal");
    let third = RuntimeDeploy::process(&host, &ctx).unwrap();
    assert_eq!(third, Reconciled::ok().with_status(json!({"phase": "Ready"})));
}

#[test]
fn integer_values_read_back_as_floats_converge() {
    let host = FakeHost::new();
    let ctx = mp("cowboys", oci(json!({"replicas": 2})));
    RuntimeDeploy::process(&host, &ctx).unwrap();
    reconcile_flux(&host, "portal");
    let mut release = host.object(&Target::Runtime, &release_ref("portal")).unwrap();
    release["spec"]["values"]["replicas"] = json!(2.0);
    host.insert(Target::Runtime, release);
    let before = host.calls().len();
    let done = RuntimeDeploy::process(&host, &ctx).unwrap();
    assert_eq!(done, Reconciled::ok().with_status(json!({"phase": "Ready"})));
    let writes: Vec<_> = host.calls()[before..]
        .iter()
        .filter(|c| c.op != "get" && c.op != "list")
        .cloned()
        .collect();
    assert!(writes.is_empty(), "{writes:?}");
}

#[test]
fn removed_values_are_cleared() {
    let host = FakeHost::new();
    RuntimeDeploy::process(&host, &mp("cowboys", oci(json!({"a": 1})))).unwrap();
    let deployments =
        json!([{"flux": {"registry": "ghcr.io/pm", "chart": "charts/portal", "version": "1.0.0"}}]);
    RuntimeDeploy::process(&host, &mp("cowboys", deployments)).unwrap();
    let release = host.object(&Target::Runtime, &release_ref("portal")).unwrap();
    assert!(release["spec"].get("values").is_none(), "{release}");
}

#[test]
fn removed_components_are_deleted_and_only_labelled_objects_are_pruned() {
    let host = FakeHost::new();
    // An object of the same kind nobody labelled (not ours): pruning never touches it.
    host.insert(
        Target::Runtime,
        json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
            "metadata": {"name": "unrelated", "namespace": "pm"}}),
    );
    RuntimeDeploy::process(&host, &mp("cowboys", oci(json!({})))).unwrap();
    RuntimeDeploy::process(&host, &mp("cowboys", json!([]))).unwrap();
    assert!(host.object(&Target::Runtime, &release_ref("portal")).is_none());
    assert!(host.object(&Target::Runtime, &oci_ref("portal")).is_none());
    assert!(host.object(&Target::Runtime, &release_ref("unrelated")).is_some());
}

#[test]
fn objects_under_upstream_names_are_adopted_in_place() {
    // What the Go operator left: the same objects under the chart's name, without our label.
    let host = FakeHost::new();
    RuntimeDeploy::process(&host, &mp("cowboys", oci(json!({"replicas": 2})))).unwrap();
    for r in [oci_ref("portal"), release_ref("portal")] {
        let mut o = host.object(&Target::Runtime, &r).unwrap();
        o["metadata"]["labels"] = json!({"kept": "yes"});
        host.insert(Target::Runtime, o);
    }
    reconcile_flux(&host, "portal");
    let creates = || host.calls().iter().filter(|c| c.op == "create").count();
    let before = creates();
    let done = RuntimeDeploy::process(&host, &mp("cowboys", oci(json!({"replicas": 2})))).unwrap();
    assert_eq!(creates(), before, "nothing is created under another name");
    let release = host.object(&Target::Runtime, &release_ref("portal")).unwrap();
    assert_eq!(
        release["metadata"]["labels"],
        json!({"kept": "yes", "providers.platform-mesh.io/managed-provider": "cowboys"})
    );
    assert_eq!(stop_message(&done), "waiting for portal to be reconciled");
}

#[test]
fn an_object_labelled_for_another_managed_provider_is_not_taken_over() {
    let host = FakeHost::new();
    RuntimeDeploy::process(&host, &mp("indians", oci(json!({"a": 1})))).unwrap();
    let failure = RuntimeDeploy::process(&host, &mp("cowboys", oci(json!({"a": 2})))).unwrap_err();
    assert!(
        failure.message.starts_with(
            "OCIRepository pm/portal belongs to ManagedProvider indians; ManagedProvider cowboys"
        ),
        "{}",
        failure.message
    );
    let release = host.object(&Target::Runtime, &release_ref("portal")).unwrap();
    assert_eq!(release["spec"]["values"], json!({"a": 1}));
    assert_eq!(
        release["metadata"]["labels"]["providers.platform-mesh.io/managed-provider"],
        "indians"
    );
}

#[test]
fn helm_repo_creates_helm_repository_and_release() {
    let host = FakeHost::new();
    let deployments = json!([{"flux": {"type": "helm", "registry": "https://charts.example", "chart": "portal", "version": "2.0.0"}}]);
    RuntimeDeploy::process(&host, &mp("cowboys", deployments)).unwrap();
    let repo = host
        .object(
            &Target::Runtime,
            &Gvk::new("source.toolkit.fluxcd.io", "v1", "HelmRepository").object(Some("pm"), "portal"),
        )
        .unwrap();
    assert_eq!(repo["spec"]["url"], "https://charts.example");
    let release = host.object(&Target::Runtime, &release_ref("portal")).unwrap();
    assert_eq!(
        release["spec"]["chart"]["spec"]["sourceRef"]["kind"],
        "HelmRepository"
    );
}

#[test]
fn remote_runtime_cluster_goes_into_the_release_kubeconfig() {
    let host = FakeHost::new();
    let mut ctx = mp("cowboys", oci(json!({})));
    ctx.object["spec"]["runtimeKubeconfigSecretName"] = json!("remote");
    RuntimeDeploy::process(&host, &ctx).unwrap();
    let release = host.object(&Target::Runtime, &release_ref("portal")).unwrap();
    assert_eq!(
        release["spec"]["kubeConfig"],
        json!({"secretRef": {"name": "remote", "key": "kubeconfig"}})
    );
}

#[test]
fn both_or_neither_flux_and_ocm_fail_clearly() {
    let both = json!([{"flux": {"registry": "r", "chart": "c", "version": "1"}, "ocm": {"registry": "r", "component": "c", "version": "1"}}]);
    let neither = json!([{}]);
    for deployments in [both, neither] {
        let failure = RuntimeDeploy::process(&FakeHost::new(), &mp("cowboys", deployments)).unwrap_err();
        assert_eq!(
            failure.message,
            "spec.runtimeDeployments[0]: exactly one of flux or ocm must be set"
        );
    }
}

#[test]
fn ocm_component_creates_ocm_objects_then_deploys_the_resolved_chart() {
    let host = FakeHost::new();
    let deployments = json!([{"ocm": {"registry": "ghcr.io/platform-mesh", "component": "github.com/pm/portal", "version": "1.x"}}]);
    let ctx = mp("cowboys", deployments);
    let first = RuntimeDeploy::process(&host, &ctx).unwrap();
    assert_eq!(
        stop_message(&first),
        "waiting for OCM Resource portal to be resolved"
    );
    let resource_ref = Gvk::new("delivery.ocm.software", "v1alpha1", "Resource").object(Some("pm"), "portal");
    let second = RuntimeDeploy::process(&host, &ctx).unwrap();
    assert_eq!(stop_message(&second), "waiting for OCM Resource portal status");
    let mut resource = host.object(&Target::Runtime, &resource_ref).unwrap();
    assert_eq!(
        resource["metadata"]["labels"],
        json!({"artifact": "chart", "repo": "oci", "providers.platform-mesh.io/managed-provider": "cowboys"})
    );
    assert!(
        resource["spec"].get("interval").is_none(),
        "upstream sets no interval on the Resource"
    );
    resource["status"] = json!({"resource": {"version": "1.2.3", "access": {"imageReference": "ghcr.io/pm/charts/portal:1.2.3"}}});
    host.insert(Target::Runtime, resource);
    RuntimeDeploy::process(&host, &ctx).unwrap();
    let repo = host.object(&Target::Runtime, &oci_ref("portal")).unwrap();
    assert_eq!(
        (repo["spec"]["url"].clone(), repo["spec"]["ref"]["tag"].clone()),
        (json!("oci://ghcr.io/pm/charts/portal"), json!("1.2.3"))
    );
}

#[test]
fn finalize_deletes_everything_then_is_done() {
    let host = FakeHost::new();
    let ctx = mp("cowboys", oci(json!({})));
    RuntimeDeploy::process(&host, &ctx).unwrap();
    let done = finalize_at(&host, &ctx, 0).unwrap();
    assert_eq!(stop_message(&done), "Waiting for Flux resources to be deleted");
    let done = finalize_at(&host, &ctx, 0).unwrap();
    assert_eq!(done, Reconciled::ok().with_status(json!({"phase": "Deleting"})));
}

#[test]
fn helpers_follow_the_naming_rules() {
    assert_eq!(
        ocm_deployment_name(&json!({"name": "n", "component": "a/b"})),
        "n"
    );
    assert_eq!(
        ocm_deployment_name(&json!({"resourceName": "chart", "component": "a/b"})),
        "b"
    );
    assert_eq!(
        ocm_deployment_name(&json!({"referencePath": [{"name": "x"}, {"name": "y"}], "component": "a/b"})),
        "y"
    );
    assert_eq!(
        split_registry("ghcr.io/platform-mesh/x"),
        ("ghcr.io".into(), "platform-mesh/x".into())
    );
    assert_eq!(split_registry("ghcr.io"), ("ghcr.io".into(), String::new()));
    assert_eq!(
        oci_url("ghcr.io/pm/charts/x:1.2.3").unwrap(),
        "oci://ghcr.io/pm/charts/x"
    );
    assert_eq!(
        oci_url("oci://localhost:5000/x@sha256:abc").unwrap(),
        "oci://localhost:5000/x"
    );
    assert!(oci_url("nohost").is_err());
}

#[test]
fn finalizer_is_declared() {
    assert_eq!(RuntimeDeploy::info().finalizers, [FINALIZER]);
}

#[test]
fn create_failures_are_errors() {
    use platform_mesh_plugin_sdk::ClusterError;
    for kind in ["OCIRepository", "HelmRelease"] {
        let host = FakeHost::new().with_error("create", Some(kind), ClusterError::Invalid("bad".into()));
        let failure = RuntimeDeploy::process(&host, &mp("cowboys", oci(json!({})))).unwrap_err();
        assert!(failure.message.contains("bad"), "{kind}: {}", failure.message);
    }
}

/// A converged component whose HelmRelease is missing or unreadable at the readiness check.
fn converged(host: &FakeHost) -> Context {
    let ctx = mp("cowboys", oci(json!({})));
    RuntimeDeploy::process(host, &ctx).unwrap();
    reconcile_flux(host, "portal");
    ctx
}

#[test]
fn helm_release_not_ready_at_the_ready_check_keeps_deploying() {
    let host = FakeHost::new();
    let ctx = converged(&host);
    let mut release = host.object(&Target::Runtime, &release_ref("portal")).unwrap();
    release["status"] = json!({"conditions": [{"type": "Ready", "status": "False"}]});
    host.insert(Target::Runtime, release);
    let done = RuntimeDeploy::process(&host, &ctx).unwrap();
    assert_eq!(stop_message(&done), "HelmRelease portal not ready");
    assert_eq!(done.status_patch, Some(json!({"phase": "Deploying"})));
}

#[test]
fn helm_release_get_failure_is_an_error() {
    use platform_mesh_plugin_sdk::ClusterError;
    let host = FakeHost::new().with_error(
        "get",
        Some("HelmRelease"),
        ClusterError::Unavailable("down".into()),
    );
    assert!(RuntimeDeploy::process(&host, &mp("cowboys", oci(json!({})))).is_err());
}

#[test]
fn one_component_not_ready_keeps_the_whole_deploying() {
    let host = FakeHost::new();
    let ctx = converged(&host);
    let mut two = ctx.clone();
    two.object["spec"]["runtimeDeployments"] = json!([
        ctx.object["spec"]["runtimeDeployments"][0].clone(),
        {"flux": {"registry": "ghcr.io/pm", "chart": "charts/second", "version": "1.0.0"}},
    ]);
    let done = RuntimeDeploy::process(&host, &two).unwrap();
    assert_eq!(stop_message(&done), "waiting for second to be reconciled");
    assert_eq!(done.status_patch, Some(json!({"phase": "Deploying"})));
}

#[test]
fn finalize_all_already_gone_is_ok_and_delete_failures_are_errors() {
    use platform_mesh_plugin_sdk::ClusterError;
    let ctx = mp("cowboys", oci(json!({})));
    let done = finalize_at(&FakeHost::new(), &ctx, 0).unwrap();
    assert_eq!(done, Reconciled::ok().with_status(json!({"phase": "Deleting"})));
    let host = FakeHost::new();
    RuntimeDeploy::process(&host, &ctx).unwrap();
    let failing = host.with_error("delete", Some("HelmRelease"), ClusterError::Other("stuck".into()));
    let failure = finalize_at(&failing, &ctx, 0).unwrap_err();
    assert!(failure.message.contains("stuck"));
    assert_eq!(failure.status_patch, Some(json!({"phase": "Deleting"})));
}

#[test]
fn two_entries_with_the_same_deployment_name_are_refused() {
    let deployments = json!([
        {"flux": {"registry": "ghcr.io/a", "chart": "x/portal", "version": "1"}},
        {"ocm": {"registry": "ghcr.io/b", "component": "github.com/b/portal", "version": "1"}},
    ]);
    let failure = RuntimeDeploy::process(&FakeHost::new(), &mp("cowboys", deployments)).unwrap_err();
    assert_eq!(
        failure.message,
        "spec.runtimeDeployments[1]: deployment name \"portal\" is already used by spec.runtimeDeployments[0]"
    );
}

//! The pass as a whole (spec §10.4 `TestProcess`, `Test_applyDirStructure`, `TestFinalizers`, `TestGetName`,
//! `TestFinalize`) and the fixes of §11.3 items 28–30.

use std::time::Duration;

use platform_mesh_plugin_sdk::{Outcome, Plugin, Reconciled, Target, testing::FakeHost};
use serde_json::{Value, json};

use super::fixtures::*;
use crate::{FINALIZER, KcpSetup, NAME};

#[test]
fn info_names_the_subroutine_and_its_own_finalizer() {
    let info = KcpSetup::info();
    assert_eq!(info.name, NAME);
    assert_eq!(info.name, "KcpsetupSubroutine");
    assert_eq!(info.finalizers, [FINALIZER]);
    assert_ne!(
        FINALIZER, "platform-mesh.core.platform-mesh.io/finalizer",
        "no longer shared with ProviderSecret"
    );
}

#[test]
fn process_retires_the_shared_finalizer_of_older_versions() {
    let legacy = platform_mesh_plugin_sdk::retire::LEGACY_SHARED_FINALIZER;
    let pm = json!({"apiVersion": "core.platform-mesh.io/v1alpha1", "kind": "PlatformMesh",
                    "metadata": {"name": "pm", "namespace": "platform-mesh-system", "finalizers": [legacy, FINALIZER]}});
    let host = FakeHost::new().with_object(Target::Runtime, pm.clone());
    let done = KcpSetup::process(
        &host,
        &platform_mesh_plugin_sdk::Context::for_object("platformmesh", pm.clone()),
    )
    .unwrap();
    assert_eq!(
        done,
        Reconciled::stop_after(Duration::from_secs(5), "RootShard is not ready")
    );
    let reference = platform_mesh_plugin_sdk::ObjectRef::of(&pm).unwrap();
    let stored = host.object(&Target::Runtime, &reference).unwrap();
    assert_eq!(stored["metadata"]["finalizers"], json!([FINALIZER]));
}

#[test]
fn finalize_does_nothing_and_continues() {
    let host = FakeHost::new();
    assert_eq!(
        KcpSetup::finalize(&host, &ctx(json!({}))).unwrap(),
        Reconciled::ok()
    );
    assert!(host.calls().is_empty());
}

#[test]
fn shipped_tree_converges_with_every_object_of_spec_6_2_1() {
    let host = kcp_host();
    let passes = converge(&host, &ctx(json!({})), 6);
    assert!(passes <= 4, "took {passes} passes");
    let tenancy = ("tenancy.kcp.io", "v1alpha1", "Workspace");
    for (parent, name) in [
        ("root", "platform-mesh-system"),
        ("root", "providers"),
        ("root", "orgs"),
        ("root:providers", "system"),
    ] {
        assert!(stored(&host, parent, tenancy, name).is_some(), "{parent}:{name}");
    }
    let pms = "root:platform-mesh-system";
    for (gvk, name) in [
        (("apis.kcp.io", "v1alpha1", "APIExport"), "core.platform-mesh.io"),
        (
            ("apis.kcp.io", "v1alpha2", "APIExport"),
            "providers.platform-mesh.io",
        ),
        (("apis.kcp.io", "v1alpha2", "APIBinding"), "core.platform-mesh.io"),
        (
            ("apis.kcp.io", "v1alpha1", "APIExportEndpointSlice"),
            "core.platform-mesh.io",
        ),
        (
            ("apis.kcp.io", "v1alpha1", "APIExportEndpointSlice"),
            "providers.platform-mesh.io",
        ),
        (
            ("ui.platform-mesh.io", "v1alpha1", "ContentConfiguration"),
            "main-home",
        ),
        (
            (
                "core.platform-mesh.io",
                "v1alpha1",
                "IdentityProviderConfiguration",
            ),
            "welcome",
        ),
        (
            (
                "admissionregistration.k8s.io",
                "v1",
                "MutatingWebhookConfiguration",
            ),
            "account-operator.webhooks.core.platform-mesh.io",
        ),
    ] {
        assert!(stored(&host, pms, gvk, name).is_some(), "{name}");
    }
    let orgs_type = stored(
        &host,
        "root",
        ("tenancy.kcp.io", "v1alpha1", "WorkspaceType"),
        "orgs",
    )
    .unwrap();
    assert_eq!(
        orgs_type["spec"]["authenticationConfigurations"],
        json!([{"name": "orgs-authentication"}])
    );
    assert!(
        stored(
            &host,
            "root:orgs",
            ("core.platform-mesh.io", "v1alpha1", "Store"),
            "orgs"
        )
        .is_some()
    );
    let applies = host.calls().iter().filter(|c| c.op == "apply").count();
    assert_eq!(applies, 45, "each of the 45 shipped objects applied exactly once");
}

#[test]
fn fresh_install_applies_types_before_exports_before_bindings_before_workspaces() {
    let host = kcp_host();
    let first = pass(&host, &ctx(json!({}))).unwrap();
    assert!(
        matches!(
            first.outcome,
            Outcome::Stop {
                requeue_after: Some(_),
                ..
            }
        ),
        "{first:?}"
    );
    let root_kinds: Vec<String> = host
        .calls()
        .into_iter()
        .filter(|c| c.op == "apply" && c.target == Target::kcp("root"))
        .map(|c| c.kind)
        .collect();
    let last_type = root_kinds.iter().rposition(|k| k == "WorkspaceType").unwrap();
    let first_workspace = root_kinds.iter().position(|k| k == "Workspace").unwrap();
    assert!(last_type < first_workspace, "{root_kinds:?}");
    // The providers workspace's type exists before the workspace (upstream applied it first and failed).
    settle(&host, &["root"]);
    let before = host.calls().len();
    pass(&host, &ctx(json!({}))).unwrap();
    let pms: Vec<String> = host.calls()[before..]
        .iter()
        .filter(|c| c.op == "apply" && c.target == Target::kcp("root:platform-mesh-system"))
        .map(|c| c.kind.clone())
        .collect();
    let order = [
        "APIResourceSchema",
        "APIExport",
        "APIBinding",
        "ContentConfiguration",
    ];
    let firsts: Vec<usize> = order
        .iter()
        .map(|k| pms.iter().position(|c| c == k).unwrap_or(usize::MAX))
        .collect();
    assert!(
        firsts[0] < firsts[1] && firsts[1] < firsts[2] && firsts[2] < firsts[3],
        "{pms:?}"
    );
}

#[test]
fn waiting_for_a_workspace_requeues_instead_of_sleeping_and_reports_observed_phases() {
    let host = kcp_host();
    let first = pass(&host, &ctx(json!({}))).unwrap();
    let Outcome::Stop {
        message,
        requeue_after,
    } = &first.outcome
    else {
        panic!("{first:?}")
    };
    assert_eq!(*requeue_after, Some(crate::SETTLE_REQUEUE));
    assert!(
        message.contains("workspace root:orgs is not Ready yet"),
        "{message}"
    );
    let status = first.status_patch.unwrap();
    let phase = |status: &Value, name: &str| {
        status["kcpWorkspaces"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["name"] == name)
            .map(|w| w["phase"].clone())
    };
    assert_eq!(
        phase(&status, "root:platform-mesh-system"),
        Some(json!("Unknown"))
    );
    assert_eq!(phase(&status, "root:providers:system"), Some(json!("Unknown")));
    converge(&host, &ctx(json!({})), 6);
    let done = pass(&host, &ctx(json!({}))).unwrap();
    let status = done.status_patch.unwrap();
    let names: Vec<&str> = status["kcpWorkspaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "root:orgs",
            "root:platform-mesh-system",
            "root:providers",
            "root:providers:system"
        ]
    );
    assert!(
        status["kcpWorkspaces"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| w["phase"] == "Ready"),
        "{status}"
    );
}

#[test]
fn steady_state_reads_but_applies_nothing() {
    let host = kcp_host();
    let spec = json!({"kcp": {"extraWorkspaces": [{"path": "root:orgs:extra", "type": {"name": "org", "path": "root"}}]}});
    converge(&host, &ctx(spec.clone()), 6);
    let before = host.calls().len();
    let again = pass(&host, &ctx(spec)).unwrap();
    assert!(matches!(again.outcome, Outcome::Ok { .. }), "{again:?}");
    let writes: Vec<_> = host.calls()[before..]
        .iter()
        .filter(|c| c.op != "get" && c.op != "list")
        .cloned()
        .collect();
    assert!(writes.is_empty(), "{writes:?}");
}

#[test]
fn drift_and_changed_manifest_data_are_applied_again() {
    let host = kcp_host();
    converge(&host, &ctx(json!({})), 6);
    let wac = (
        "tenancy.kcp.io",
        "v1alpha1",
        "WorkspaceAuthenticationConfiguration",
    );
    // Someone edits a field the operator owns: the next pass repairs it.
    let mut edited = stored(&host, "root", wac, "orgs-authentication").unwrap();
    edited["spec"]["jwt"][0]["issuer"]["url"] = json!("https://evil");
    host.insert(Target::kcp("root"), edited);
    pass(&host, &ctx(json!({}))).unwrap();
    let repaired = stored(&host, "root", wac, "orgs-authentication").unwrap();
    assert_eq!(
        repaired["spec"]["jwt"][0]["issuer"]["url"],
        "https://portal.localhost:8443/keycloak/realms/welcome"
    );
    // A field the manifests no longer set is removed by the next apply (the pass sees our ownership of it).
    let mut extra = repaired;
    extra["metadata"]["managedFields"][0]["fieldsV1"]["f:metadata"]["f:labels"]["f:gone"] = json!({});
    extra["metadata"]["labels"]["gone"] = json!("x");
    host.insert(Target::kcp("root"), extra);
    let before = host.calls().iter().filter(|c| c.op == "apply").count();
    pass(&host, &ctx(json!({}))).unwrap();
    assert_eq!(
        host.calls().iter().filter(|c| c.op == "apply").count(),
        before + 1
    );
    let cleaned = stored(&host, "root", wac, "orgs-authentication").unwrap();
    assert!(cleaned["metadata"]["labels"].get("gone").is_none(), "{cleaned}");
}

#[test]
fn kcp_not_up_stops_with_upstream_messages() {
    let stop = |message: &str| Reconciled::stop_after(Duration::from_secs(5), message);
    let host = FakeHost::new();
    assert_eq!(
        pass(&host, &ctx(json!({}))).unwrap(),
        stop("RootShard is not ready")
    );

    let host = kcp_host();
    host.insert(
        Target::Runtime,
        json!({"apiVersion": "operator.kcp.io/v1alpha1", "kind": "FrontProxy",
               "metadata": {"name": "frontproxy", "namespace": "platform-mesh-system"},
               "status": {"conditions": [{"type": "Available", "status": "False"}]}}),
    );
    assert_eq!(
        pass(&host, &ctx(json!({}))).unwrap(),
        stop("FrontProxy is not ready")
    );
    assert!(
        host.calls().iter().all(|c| c.op == "get"),
        "nothing written while kcp is down"
    );
}

#[test]
fn admin_secret_missing_waits_and_malformed_fails() {
    let host = kcp_host();
    let secret = platform_mesh_plugin_sdk::Gvk::new("", "v1", "Secret");
    let admin = secret.object(Some("platform-mesh-system"), "kcp-cluster-admin-client-cert");
    platform_mesh_plugin_sdk::Host::delete(&host, &Target::Runtime, &admin).unwrap();
    let waiting = pass(&host, &ctx(json!({}))).unwrap();
    assert_eq!(
        waiting,
        Reconciled::stop_after(
            Duration::from_secs(5),
            "kcp admin Secret platform-mesh-system/kcp-cluster-admin-client-cert does not exist yet"
        )
    );
    host.insert(
        Target::Runtime,
        json!({"apiVersion": "v1", "kind": "Secret",
               "metadata": {"name": "kcp-cluster-admin-client-cert", "namespace": "platform-mesh-system"},
               "data": {"ca.crt": "Y2E=", "tls.crt": "Y2VydA=="}}),
    );
    let failure = pass(&host, &ctx(json!({}))).unwrap_err();
    assert_eq!(
        failure.message,
        "Failed to build kubeconfig: Secret platform-mesh-system/kcp-cluster-admin-client-cert has no kubeconfig \
         and no tls.key key"
    );
}

#[test]
fn apply_failures_are_reported_per_file_and_do_not_stop_the_rest() {
    let host = kcp_host().with_error(
        "apply",
        Some("WorkspaceType"),
        platform_mesh_plugin_sdk::ClusterError::Invalid("type rejected".into()),
    );
    let failure = pass(&host, &ctx(json!({}))).unwrap_err();
    assert!(
        failure
            .message
            .starts_with("Failed to create kcp workspaces: Failed to apply manifest file: "),
        "{}",
        failure.message
    );
    assert!(
        failure.message.contains(
            "manifests/kcp/workspace-type-fga.yaml (WorkspaceType/security): invalid: type rejected"
        )
    );
    assert!(
        failure.message.contains("and 1 more"),
        "6 WorkspaceTypes fail, 5 are listed: {}",
        failure.message
    );
    assert!(
        stored(&host, "root", ("tenancy.kcp.io", "v1alpha1", "Workspace"), "orgs").is_some(),
        "others still applied"
    );
    assert!(
        failure.status_patch.is_some(),
        "observed workspaces are reported on failure too"
    );
}

//! Scoped mode (spec §7.3) and token reuse (spec §11.4 item 41).

use std::time::Duration;

use platform_mesh_plugin_sdk::{Gvk, Outcome, Reconciled};
use serde_json::json;

use super::*;
use crate::{process_at, rules, token};

fn scoped_ctx() -> Context {
    only(json!([{"secret": "rebac", "path": PMS, "apiExportName": "core.platform-mesh.io"}]))
}

fn rbac_object(host: &FakeHost, kind: &str, name: &str) -> Value {
    host.object(
        &Target::kcp(PMS),
        &Gvk::new("rbac.authorization.k8s.io", "v1", kind).object(None, name),
    )
    .unwrap_or_else(|| panic!("{kind} {name} missing"))
}

#[test]
fn rules_follow_the_export() {
    let export = json!({"metadata": {"name": "terminal.platform-mesh.io"}, "spec": {
        "resources": [{"group": "terminal.platform-mesh.io", "name": "terminals"}, {"group": "x", "name": ""}],
        "permissionClaims": [{"group": "", "resource": "secrets", "verbs": ["get", "list"]},
                             {"group": "", "resource": "configmaps", "verbs": ["patch"]},
                             {"group": "", "resource": ""}]}});
    let r = rules::from_export(&export);
    assert_eq!(r.len(), 9, "{r:#?}");
    assert_eq!(
        r[0],
        json!({"apiGroups": ["terminal.platform-mesh.io"], "resources": ["terminals"], "verbs": ["*"]})
    );
    assert_eq!(r[1]["resources"], json!(["terminals/status"]));
    assert_eq!(
        r[2],
        json!({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]})
    );
    assert_eq!(r[4]["resources"], json!(["configmaps/status"]));
    assert_eq!(r[5]["resourceNames"], json!(["terminal.platform-mesh.io"]));
    assert_eq!(r[6]["resources"], json!(["apiexportendpointslices"]));
    assert_eq!(r[7]["resources"], json!(["apibindings"]));
    assert_eq!(r[8]["nonResourceURLs"][0], "/api");
}

#[test]
fn v1alpha1_exports_derive_resources_from_their_schemas() {
    let r = rules::from_export(&core_export());
    assert_eq!(
        r[0],
        json!({"apiGroups": ["core.platform-mesh.io"], "resources": ["accounts"], "verbs": ["*"]})
    );
    assert_eq!(
        r[2],
        json!({"apiGroups": [""], "resources": ["secrets"], "verbs": ["*"]})
    );
    assert_eq!(r[3]["resources"], json!(["secrets/status"]));
}

#[test]
fn export_name_mode_creates_the_service_account_rbac_and_a_token_kubeconfig() {
    let host = host();
    let done = process_at(&host, &scoped_ctx(), NOW).unwrap();
    assert_eq!(done, Reconciled::ok_after(Duration::from_secs(302_400)));
    let sa = Gvk::new("", "v1", "ServiceAccount").object(Some("default"), "platform-mesh-provider-rebac");
    assert!(host.object(&Target::kcp(PMS), &sa).is_some());
    let role = rbac_object(&host, "ClusterRole", "platform-mesh-provider-rebac");
    assert_eq!(role["rules"], json!(rules::from_export(&core_export())));
    let binding = rbac_object(&host, "ClusterRoleBinding", "platform-mesh-provider-rebac");
    assert_eq!(binding["roleRef"]["name"], "platform-mesh-provider-rebac");
    assert_eq!(
        binding["subjects"],
        json!([{"kind": "ServiceAccount", "name": "platform-mesh-provider-rebac", "namespace": "default"}])
    );
    let access = rbac_object(
        &host,
        "ClusterRoleBinding",
        "platform-mesh-workspace-access-rebac",
    );
    assert_eq!(access["roleRef"]["name"], "system:kcp:workspace:access");

    let kc = stored_kubeconfig(&host, NS, "rebac");
    assert_eq!(kc["clusters"][0]["name"], "default-cluster");
    assert_eq!(
        kc["clusters"][0]["cluster"]["server"],
        format!("{BASE}/clusters/{PMS}")
    );
    // Admin CA, then the first certificate of root-ca's tls.crt.
    assert_eq!(
        kc["clusters"][0]["cluster"]["certificate-authority-data"],
        json!(b64(&format!("{}{}", cert(1), cert(2))))
    );
    assert_eq!(
        kc["users"][0]["user"]["token"],
        "fake-token-default-platform-mesh-provider-rebac"
    );
    assert_eq!(kc["current-context"], "default-context");
}

#[test]
fn token_is_reused_while_valid_for_more_than_half_its_lifetime() {
    let host = host();
    process_at(&host, &scoped_ctx(), NOW).unwrap();
    let first = writes(&host);
    assert!(first.iter().any(|w| w.starts_with("request-token")));
    let done = process_at(&host, &scoped_ctx(), NOW + 3600).unwrap();
    assert_eq!(writes(&host), first, "a steady-state pass writes nothing");
    assert_eq!(done, Reconciled::ok_after(Duration::from_secs(302_400 - 3600)));
}

#[test]
fn token_past_half_its_lifetime_is_renewed() {
    let host = host();
    process_at(&host, &scoped_ctx(), NOW).unwrap();
    let later = NOW + token::LIFETIME_SECONDS / 2 + 1;
    process_at(&host, &scoped_ctx(), later).unwrap();
    let tokens = writes(&host)
        .iter()
        .filter(|w| w.starts_with("request-token"))
        .count();
    assert_eq!(tokens, 2);
    let secret = host
        .object(
            &Target::Runtime,
            &Gvk::new("", "v1", "Secret").object(Some(NS), "rebac"),
        )
        .unwrap();
    assert_eq!(
        secret["metadata"]["annotations"][token::ISSUED_AT],
        platform_mesh_plugin_sdk::timestamp::format(later)
    );
}

#[test]
fn slice_mode_rewrites_the_host_and_uses_the_slice_export() {
    let host = host().with_object(
        Target::kcp(PMS),
        slice(
            "core.platform-mesh.io",
            Some(
                " https://root.kcp.localhost:8443/services/apiexport/abc/core.platform-mesh.io/?watch=true ",
            ),
        ),
    );
    let ctx = only(json!([{"secret": "s", "path": PMS, "endpointSliceName": "core.platform-mesh.io"}]));
    process_at(&host, &ctx, NOW).unwrap();
    assert_eq!(
        stored_kubeconfig(&host, NS, "s")["clusters"][0]["cluster"]["server"],
        format!("{BASE}/services/apiexport/abc/core.platform-mesh.io?watch=true")
    );
}

#[test]
fn slice_without_endpoints_is_pending_in_scoped_mode_too() {
    let host = host().with_object(Target::kcp(PMS), slice("empty", None));
    let ctx = only(json!([{"secret": "s", "path": PMS, "endpointSliceName": "empty"}]));
    let done = process_at(&host, &ctx, NOW).unwrap();
    assert!(matches!(done.outcome, Outcome::Pending { .. }), "{done:?}");
}

#[test]
fn missing_export_is_an_error_naming_it() {
    let host = host();
    let ctx = only(json!([{"secret": "s", "path": PMS, "apiExportName": "nope"}]));
    let message = process_at(&host, &ctx, NOW).unwrap_err().message;
    assert!(
        message
            .contains("resolve APIExport: APIExport nope not found in workspace root:platform-mesh-system"),
        "{message}"
    );
}

#[test]
fn external_scoped_connection_uses_the_public_host() {
    let host = host();
    let ctx = only(
        json!([{"secret": "s", "path": PMS, "apiExportName": "core.platform-mesh.io",
                           "external": true, "namespace": "other"}]),
    );
    process_at(&host, &ctx, NOW).unwrap();
    assert_eq!(
        stored_kubeconfig(&host, "other", "s")["clusters"][0]["cluster"]["server"],
        "https://kcp.api.example.com:8443/clusters/root:platform-mesh-system"
    );
}

#[test]
fn changed_export_updates_the_cluster_role() {
    let host = host();
    process_at(&host, &scoped_ctx(), NOW).unwrap();
    let mut export = core_export();
    export["spec"]["latestResourceSchemas"] = json!(["v1.stores.core.platform-mesh.io"]);
    host.insert(Target::kcp(PMS), export.clone());
    process_at(&host, &scoped_ctx(), NOW + 60).unwrap();
    let role = rbac_object(&host, "ClusterRole", "platform-mesh-provider-rebac");
    assert_eq!(role["rules"], json!(rules::from_export(&export)));
}

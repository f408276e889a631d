//! Spec §10.4 `Test_getCABundleInventory` (+ `_CustomSecretNameAndKey`), `Test_GetCaBundle`,
//! `Test_getAPIExportHashInventory`, the sorted welcome audiences (§11.3 item 32) and CA rotation (item 31).

use base64::{Engine as _, engine::general_purpose::STANDARD};
use platform_mesh_plugin_sdk::{ClusterError, Gvk, Host, Target, testing::FakeHost};
use serde_json::{Map, Value, json};

use super::fixtures::*;
use crate::{data, inventory, settings::Settings};

fn settings(ctx: &platform_mesh_plugin_sdk::Context) -> Settings {
    Settings::read(ctx).unwrap()
}

#[test]
fn ca_bundles_are_base64_and_the_domain_ca_also_decoded() {
    let host = kcp_host();
    let mut data = Map::new();
    inventory::ca_bundles(&host, &settings(&ctx(json!({}))), &mut data).unwrap();
    assert_eq!(
        data["account-operator.webhooks.core.platform-mesh.io.ca-bundle"],
        STANDARD.encode("account-ca")
    );
    assert_eq!(
        data["organization-validator.webhooks.core.platform-mesh.io.ca-bundle"],
        STANDARD.encode("account-ca")
    );
    assert_eq!(
        data["identityproviderconfiguration-validator.webhooks.core.platform-mesh.io.ca-bundle"],
        STANDARD.encode("security-ca")
    );
    assert_eq!(data["domainCA"], STANDARD.encode(DOMAIN_PEM));
    assert_eq!(data["domainCADec"], DOMAIN_PEM);
}

#[test]
fn domain_ca_secret_name_and_key_come_from_the_flags() {
    let host = kcp_host();
    host.insert(
        Target::Runtime,
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "my-ca", "namespace": "platform-mesh-system"},
               "data": {"root.pem": STANDARD.encode("custom")}}),
    );
    let mut ctx = ctx(json!({}));
    ctx.operator_config =
        json!({"domainCertificateCaSecretName": "my-ca", "domainCertificateCaSecretKey": "root.pem"});
    let mut data = Map::new();
    inventory::ca_bundles(&host, &settings(&ctx), &mut data).unwrap();
    assert_eq!(data["domainCADec"], "custom");
}

#[test]
fn missing_ca_secret_is_waited_for_and_a_missing_key_fails() {
    let host = FakeHost::new();
    assert_eq!(
        inventory::ca_bundle(&host, "security-operator-ca-secret", "ca.crt").unwrap_err(),
        inventory::CaError::Missing(
            "Secret platform-mesh-system/security-operator-ca-secret not found".into()
        )
    );
    let host = kcp_host();
    assert_eq!(
        inventory::ca_bundle(&host, "security-operator-ca-secret", "tls.crt").unwrap_err(),
        inventory::CaError::Failed(
            "Secret platform-mesh-system/security-operator-ca-secret has no key tls.crt".into()
        )
    );
    let host = kcp_host();
    let secret =
        Gvk::new("", "v1", "Secret").object(Some("platform-mesh-system"), "security-operator-ca-secret");
    host.delete(&Target::Runtime, &secret).unwrap();
    let before = host.calls().len();
    let waiting = pass(&host, &ctx(json!({}))).unwrap();
    assert_eq!(
        waiting,
        platform_mesh_plugin_sdk::Reconciled::stop_after(
            std::time::Duration::from_secs(5),
            "waiting for the CA bundle inventory: Secret platform-mesh-system/security-operator-ca-secret not found"
        )
    );
    assert!(
        host.calls()[before..].iter().all(|c| c.op == "get"),
        "nothing applied"
    );
    host.insert(
        Target::Runtime,
        json!({"apiVersion": "v1", "kind": "Secret",
               "metadata": {"name": "security-operator-ca-secret", "namespace": "platform-mesh-system"},
               "data": {"tls.crt": "eA=="}}),
    );
    assert_eq!(
        pass(&host, &ctx(json!({}))).unwrap_err().message,
        "Failed to get CA bundle inventory: Secret platform-mesh-system/security-operator-ca-secret has no key ca.crt"
    );
}

#[test]
fn ca_bundles_are_read_on_every_pass_so_rotation_reaches_the_webhooks() {
    let host = kcp_host();
    converge(&host, &ctx(json!({})), 6);
    let reads = |host: &FakeHost| {
        host.calls()
            .iter()
            .filter(|c| c.op == "get" && c.name == "account-operator-webhook-server-cert")
            .count()
    };
    let before = reads(&host);
    pass(&host, &ctx(json!({}))).unwrap();
    assert_eq!(reads(&host), before + 1, "no cache: one read per pass");

    host.insert(
        Target::Runtime,
        json!({"apiVersion": "v1", "kind": "Secret",
               "metadata": {"name": "account-operator-webhook-server-cert", "namespace": "platform-mesh-system"},
               "data": {"ca.crt": STANDARD.encode("rotated-ca")}}),
    );
    pass(&host, &ctx(json!({}))).unwrap();
    let webhook = stored(
        &host,
        "root:platform-mesh-system",
        (
            "admissionregistration.k8s.io",
            "v1",
            "MutatingWebhookConfiguration",
        ),
        "account-operator.webhooks.core.platform-mesh.io",
    )
    .unwrap();
    assert_eq!(
        webhook["webhooks"][0]["clientConfig"]["caBundle"],
        STANDARD.encode("rotated-ca")
    );
}

#[test]
fn identity_hashes_are_read_from_root_exports() {
    let host = kcp_host();
    let mut data = Map::new();
    inventory::identity_hashes(&host, &mut data).unwrap();
    assert_eq!(
        data["apiExportRootTenancyKcpIoIdentityHash"],
        hash_of("tenancy.kcp.io")
    );
    assert_eq!(
        data["apiExportRootShardsKcpIoIdentityHash"],
        hash_of("shards.core.kcp.io")
    );
    assert_eq!(
        data["apiExportRootTopologyKcpIoIdentityHash"],
        hash_of("topology.kcp.io")
    );
}

#[test]
fn each_missing_or_failing_identity_hash_fails_the_inventory() {
    let export = Gvk::new("apis.kcp.io", "v1alpha1", "APIExport");
    for name in ["tenancy.kcp.io", "shards.core.kcp.io", "topology.kcp.io"] {
        let host = kcp_host();
        host.delete(&Target::kcp("root"), &export.object(None, name))
            .unwrap();
        let mut data = Map::new();
        assert_eq!(
            inventory::identity_hashes(&host, &mut data).unwrap_err(),
            format!("APIExport root:{name} not found")
        );
    }
    let host = kcp_host().with_error(
        "get",
        Some("APIExport"),
        ClusterError::Unavailable("kcp down".into()),
    );
    let failure = pass(&host, &ctx(json!({}))).unwrap_err();
    assert_eq!(
        failure.message,
        "Failed to get APIExport hash inventory: getting APIExport root:tenancy.kcp.io: unavailable: kcp down"
    );
}

fn welcome(clients: Value) -> Value {
    json!({"apiVersion": "core.platform-mesh.io/v1alpha1", "kind": "IdentityProviderConfiguration",
           "metadata": {"name": "welcome"}, "status": {"managedClients": clients}})
}

#[test]
fn welcome_audiences_are_sorted_unique_and_skip_malformed_entries() {
    let host = FakeHost::new().with_object(
        Target::kcp("root:platform-mesh-system"),
        welcome(
            json!({"z": {"clientId": "zeta"}, "a": {"clientId": "alpha"}, "b": {"clientId": ""},
                       "c": {"other": 1}, "d": {"clientId": "alpha"}}),
        ),
    );
    assert_eq!(data::welcome_audiences(&host).unwrap(), ["alpha", "zeta"]);
    assert!(data::welcome_audiences(&FakeHost::new()).unwrap().is_empty());
    let broken = FakeHost::new().with_object(Target::kcp("root:platform-mesh-system"), welcome(json!(["x"])));
    assert!(
        data::welcome_audiences(&broken)
            .unwrap_err()
            .contains("not a map")
    );
    let failing = FakeHost::new().with_error("get", None, ClusterError::Unavailable("x".into()));
    assert!(data::welcome_audiences(&failing).unwrap().is_empty());
}

#[test]
fn audiences_reach_the_authentication_configuration() {
    let host = kcp_host();
    host.insert(
        Target::kcp("root:platform-mesh-system"),
        welcome(json!({"w": {"clientId": "welcome"}})),
    );
    converge(&host, &ctx(json!({})), 6);
    let wac = stored(
        &host,
        "root",
        (
            "tenancy.kcp.io",
            "v1alpha1",
            "WorkspaceAuthenticationConfiguration",
        ),
        "orgs-authentication",
    )
    .unwrap();
    assert_eq!(wac["spec"]["jwt"][0]["issuer"]["audiences"], json!(["welcome"]));
}

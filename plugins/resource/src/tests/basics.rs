//! Name, finalizers, finalize, and Resources that ask for nothing.

use platform_mesh_plugin_sdk::{Plugin, Reconciled, testing::FakeHost};
use serde_json::json;

use super::*;
use crate::Resource;

#[test]
fn subroutine_is_named_resource_subroutine_and_declares_no_finalizer() {
    let info = Resource::info();
    assert_eq!(info.name, "ResourceSubroutine");
    assert!(info.finalizers.is_empty());
}

#[test]
fn finalize_does_nothing_and_continues() {
    let host = FakeHost::new();
    let done = Resource::finalize(&host, &ctx(resource("x", json!({}), json!({}), json!({})))).unwrap();
    assert_eq!(done, Reconciled::ok());
    assert!(host.calls().is_empty());
}

#[test]
fn resource_without_metadata_keys_is_ok_and_writes_nothing() {
    let host = host_with_technology("fluxcd");
    let object = resource(
        "keycloak",
        json!({}),
        json!({}),
        json!({"resource": {"version": "1.0.0"}}),
    );
    assert_eq!(Resource::process(&host, &ctx(object)).unwrap(), Reconciled::ok());
    assert!(writes(&host).is_empty());
}

#[test]
fn unknown_metadata_combinations_do_nothing_in_flux_mode() {
    let host = host_with_technology("fluxcd");
    for (repo, artifact) in [("git", "image"), ("s3", "chart"), ("oci", "manifest")] {
        let labels = json!({"repo": repo, "artifact": artifact});
        let object = resource("x", labels, json!({}), json!({"resource": {"version": "1"}}));
        assert_eq!(Resource::process(&host, &ctx(object)).unwrap(), Reconciled::ok());
    }
    assert!(writes(&host).is_empty());
}

#[test]
fn unknown_artifact_in_argocd_mode_warns_and_continues() {
    let host = host_with_technology("argocd");
    let object = resource(
        "x",
        json!({"artifact": "manifest"}),
        json!({}),
        json!({"resource": {"version": "1"}}),
    );
    assert_eq!(Resource::process(&host, &ctx(object)).unwrap(), Reconciled::ok());
    assert!(writes(&host).is_empty());
    assert!(
        host.logs()
            .iter()
            .any(|(_, line)| line.contains("unknown artifact type")),
        "{:?}",
        host.logs()
    );
}

#[test]
fn unresolved_resource_waits_for_ocm_without_reading_or_writing() {
    let host = host_with_technology("fluxcd");
    let labels = json!({"repo": "oci", "artifact": "chart"});
    for status in [
        json!(null),
        json!({}),
        json!({"conditions": [{"type": "Ready", "status": "False"}]}),
    ] {
        let object = resource("keycloak-chart", labels.clone(), json!({}), status);
        let done = Resource::process(&host, &ctx(object)).unwrap();
        assert_eq!(
            done,
            Reconciled::ok().with_message("waiting for OCM to resolve the Resource")
        );
    }
    assert!(host.calls().is_empty(), "{:?}", host.calls());
}

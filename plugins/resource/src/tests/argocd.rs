//! Argo CD mode (spec §4.6.3).

use platform_mesh_plugin_sdk::{ClusterError, Host, ImageVersion, Plugin, Reconciled, testing::FakeHost};
use serde_json::json;

use super::*;
use crate::{
    Resource,
    argocd::{Source, SourceKind, first_non_empty, resolve_source},
    metadata::ResourceMeta,
};

fn chart(status: Value) -> Value {
    resource("keycloak-chart", json!({"artifact": "chart"}), json!({}), status)
}

fn resolve(status: Value) -> Result<Source, String> {
    let object = chart(status);
    resolve_source(&ResourceMeta::read(&object)).map_err(|f| f.message)
}

fn argocd_host() -> FakeHost {
    host_with_technology("argocd")
}

#[test]
fn chart_sets_helm_repository_source_when_the_profile_is_found_through_the_fallback() {
    // Listing PlatformMeshes fails, so the technology comes from the ConfigMap `platform-mesh-profile`.
    let host = FakeHost::new()
        .with_error(
            "list",
            Some("PlatformMesh"),
            ClusterError::Unavailable("down".into()),
        )
        .with_object(
            Target::Runtime,
            profile(
                NS,
                "platform-mesh-profile",
                json!({"infra": {"deploymentTechnology": "ArgoCD"}}),
            ),
        )
        .with_object(
            Target::Infra,
            application(
                "keycloak",
                json!({"repoURL": "PLACEHOLDER_TO_BE_SET_BY_RESOURCE_SUBROUTINE", "chart": "keycloak"}),
            ),
        );
    let object = chart(
        json!({"resource": {"version": "25.2.3", "access": {"helmRepository": "https://charts.example.com"}}}),
    );
    assert_eq!(Resource::process(&host, &ctx(object)).unwrap(), Reconciled::ok());
    let app = stored(&host, &application_ref("keycloak"));
    assert_eq!(app["spec"]["source"]["repoURL"], "https://charts.example.com");
    assert_eq!(app["spec"]["source"]["targetRevision"], "25.2.3");
    assert_eq!(app["spec"]["source"]["chart"], "keycloak", "other fields stay");
    assert_eq!(
        writes(&host),
        [("apply", "Application".into(), "keycloak".into())]
    );
}

#[test]
fn chart_source_already_up_to_date_is_not_applied() {
    let host = argocd_host().with_object(
        Target::Infra,
        application(
            "keycloak",
            json!({"repoURL": "https://charts.example.com", "targetRevision": "25.2.3"}),
        ),
    );
    let object = chart(
        json!({"resource": {"version": "25.2.3", "access": {"helmRepository": "https://charts.example.com"}}}),
    );
    Resource::process(&host, &ctx(object)).unwrap();
    assert!(writes(&host).is_empty());
}

#[test]
fn chart_for_a_missing_application_fails() {
    let host = argocd_host();
    let object = chart(json!({"resource": {"version": "1", "access": {"helmRepository": "h"}}}));
    let error = Resource::process(&host, &ctx(object)).unwrap_err();
    assert_eq!(
        error.message,
        "application platform-mesh-system/keycloak not found"
    );
}

#[test]
fn image_version_is_written_into_helm_values_and_recorded() {
    let values = json!({"kcp": {"image": {"repository": "ghcr.io/kcp", "tag": "0.1"}}, "replicas": 1});
    let host = argocd_host().with_object(
        Target::Infra,
        application("kcp", json!({"helm": {"values": values.to_string()}})),
    );
    let object = resource(
        "kcp-image",
        json!({}),
        json!({"artifact": "image", "path": "kcp.image.tag"}),
        json!({"resource": {"version": "0.29.0"}}),
    );
    Resource::process(&host, &ctx(object.clone())).unwrap();
    let app = stored(&host, &application_ref("kcp"));
    let written: Value =
        serde_json::from_str(app["spec"]["source"]["helm"]["values"].as_str().unwrap()).unwrap();
    assert_eq!(
        written,
        json!({"kcp": {"image": {"repository": "ghcr.io/kcp", "tag": "0.29.0"}}, "replicas": 1})
    );
    let recorded = ImageVersion {
        path: "kcp.image.tag".into(),
        version: "0.29.0".into(),
    };
    assert_eq!(host.image_versions(NS, "kcp"), [recorded]);

    // A second pass finds the version in place: recorded again, nothing written.
    let before = writes(&host).len();
    Resource::process(&host, &ctx(object)).unwrap();
    assert_eq!(writes(&host).len(), before);
}

#[test]
fn image_needs_a_version_and_an_application() {
    let host = argocd_host();
    let no_version = resource(
        "kcp-image",
        json!({"artifact": "image"}),
        json!({}),
        json!({"resource": {"name": "image"}}),
    );
    assert_eq!(
        Resource::process(&host, &ctx(no_version)).unwrap_err().message,
        "version not found"
    );
    let object = resource(
        "kcp-image",
        json!({"artifact": "image"}),
        json!({}),
        json!({"resource": {"version": "1"}}),
    );
    assert_eq!(
        Resource::process(&host, &ctx(object)).unwrap_err().message,
        "application platform-mesh-system/kcp not found"
    );
}

#[test]
fn invalid_helm_values_fail_naming_the_application() {
    let host = argocd_host().with_object(
        Target::Infra,
        application("kcp", json!({"helm": {"values": "{bad"}})),
    );
    let object = resource(
        "kcp-image",
        json!({"artifact": "image"}),
        json!({}),
        json!({"resource": {"version": "1"}}),
    );
    let error = Resource::process(&host, &ctx(object)).unwrap_err();
    assert!(
        error
            .message
            .starts_with("application platform-mesh-system/kcp spec.source.helm.values"),
        "{error}"
    );
}

#[test]
fn oci_source_drops_tag_digest_and_chart_name() {
    let source = resolve(json!({"resource": {"version": "1.2.3",
        "access": {"imageReference": "oci://registry.example.com/charts/mychart:1.2.3@sha256:abc"}}}))
    .unwrap();
    assert_eq!(
        source,
        Source {
            repo_url: "registry.example.com/charts".into(),
            target_revision: "1.2.3".into(),
            kind: SourceKind::Oci,
        }
    );
    let from_status =
        resolve(json!({"resource": {"version": "1", "imageReference": "ghcr.io/charts/x:1", "access": {}}}))
            .unwrap();
    assert_eq!(from_status.repo_url, "ghcr.io/charts");
    assert_eq!(
        resolve(json!({"resource": {"access": {"imageReference": "ghcr.io/charts/x:1"}}})).unwrap_err(),
        "version not found for OCI chart"
    );
    assert_eq!(
        resolve(json!({"resource": {"version": "1", "access": {"imageReference": "x:1"}}})).unwrap_err(),
        "invalid imageReference format: x:1"
    );
}

#[test]
fn source_without_any_location_fails() {
    assert_eq!(
        resolve(json!({"resource": {"version": "1", "access": {}}})).unwrap_err(),
        "no helmRepository, repoUrl, or imageReference found"
    );
}

#[test]
fn helm_source_needs_a_version() {
    assert_eq!(
        resolve(json!({"resource": {"access": {"helmRepository": "https://h"}}})).unwrap_err(),
        "version not found for helm chart"
    );
}

#[test]
fn git_source_revision_is_ref_then_component_version_then_version_then_commit() {
    let git = |access: Value, component: Value, version: Value| {
        let mut access = access;
        access["repoUrl"] = json!("https://github.com/x/y");
        resolve(
            json!({"resource": {"version": version, "access": access}, "component": {"version": component}}),
        )
    };
    let revision = |r: Result<Source, String>| r.map(|s| (s.target_revision, s.kind));
    assert_eq!(
        revision(git(json!({"ref": "main", "commit": "c"}), json!("2"), json!("3"))),
        Ok(("main".into(), SourceKind::Git))
    );
    assert_eq!(
        revision(git(json!({"commit": "c"}), json!("2"), json!("3"))),
        Ok(("2".into(), SourceKind::Git))
    );
    assert_eq!(
        revision(git(json!({"commit": "c"}), json!(""), json!("3"))),
        Ok(("3".into(), SourceKind::Git))
    );
    assert_eq!(
        revision(git(json!({"commit": "c"}), json!(null), json!(null))),
        Ok(("c".into(), SourceKind::Git))
    );
    assert_eq!(
        git(json!({}), json!(null), json!(null)).unwrap_err(),
        "no ref, version, or commit found for git chart"
    );
}

#[test]
fn first_non_empty_skips_missing_and_empty_values() {
    assert_eq!(first_non_empty([None, Some(""), Some("a"), Some("b")]), Some("a"));
    assert_eq!(first_non_empty([None, Some("")]), None);
    assert_eq!(first_non_empty([]), None);
}

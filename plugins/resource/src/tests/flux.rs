//! Flux mode (spec §4.6.4).

use std::time::Duration;

use platform_mesh_plugin_sdk::{ClusterError, Host, ImageVersion, Plugin, Reconciled};
use serde_json::json;

use super::*;
use crate::Resource;

const DIGEST: &str = "sha256:cb5b0d1e6c2f4a8d9e7f3b1a2c4d6e8f0a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9d";

fn oci_chart(reference: &str) -> Value {
    resource(
        "keycloak-chart",
        json!({"repo": "oci", "artifact": "chart"}),
        json!({}),
        json!({"resource": {"version": "25.2.3", "access": {"imageReference": reference}}}),
    )
}

fn source_ref(kind: &str, name: &str) -> ObjectRef {
    reference("source.toolkit.fluxcd.io", "v1", kind, NS, name)
}

fn image(name: &str, annotations: Value, status: Value) -> Value {
    resource(name, json!({}), annotations, status)
}

fn oci_image_annotations(extra: Value) -> Value {
    let mut annotations = json!({"repo": "oci", "artifact": "image"});
    annotations
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    annotations
}

#[test]
fn oci_chart_becomes_an_oci_repository_without_tag_or_digest() {
    let host = host_with_technology("fluxcd");
    let reference =
        format!("oci://registry.svc/platform-mesh/upstream-images/charts/keycloak:25.2.3@{DIGEST}");
    assert_eq!(
        Resource::process(&host, &ctx(oci_chart(&reference))).unwrap(),
        Reconciled::ok()
    );
    let repo = stored(&host, &source_ref("OCIRepository", "keycloak"));
    assert_eq!(
        repo["spec"],
        json!({
            "ref": {"tag": "25.2.3"},
            "url": "oci://registry.svc/platform-mesh/upstream-images/charts/keycloak",
            "provider": "generic",
            "interval": "1m0s",
            "layerSelector": {"mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip", "operation": "copy"},
        })
    );
    assert_eq!(
        writes(&host),
        [("apply", "OCIRepository".into(), "keycloak".into())]
    );
}

#[test]
fn oci_chart_without_version_or_reference_fails() {
    let host = host_with_technology("fluxcd");
    let mut no_version = oci_chart("ghcr.io/a/b:1");
    no_version["status"]["resource"]["version"] = json!("");
    let error = Resource::process(&host, &ctx(no_version)).unwrap_err();
    assert_eq!(error.message, "version not available in Resource status");
    let mut no_reference = oci_chart("ghcr.io/a/b:1");
    no_reference["status"]["resource"]["access"] = json!({});
    let error = Resource::process(&host, &ctx(no_reference)).unwrap_err();
    assert_eq!(error.message, "imageReference not available in Resource status");
}

#[test]
fn unparsable_oci_reference_fails_without_writing() {
    let host = host_with_technology("fluxcd");
    let error = Resource::process(&host, &ctx(oci_chart("ghcr.io/Not Valid/x:1"))).unwrap_err();
    assert!(error.message.contains("invalid image reference"), "{error}");
    assert!(writes(&host).is_empty());
}

#[test]
fn oci_repository_apply_error_is_returned() {
    let host = host_with_technology("fluxcd").with_error(
        "apply",
        Some("OCIRepository"),
        ClusterError::Forbidden("no".into()),
    );
    let error = Resource::process(&host, &ctx(oci_chart("ghcr.io/a/b:25.2.3"))).unwrap_err();
    assert_eq!(
        error.message,
        "applying OCIRepository platform-mesh-system/keycloak: forbidden: no"
    );
}

#[test]
fn source_already_applied_by_the_subroutine_is_not_applied_again() {
    let host = host_with_technology("fluxcd");
    let object = oci_chart("ghcr.io/a/b:25.2.3");
    Resource::process(&host, &ctx(object.clone())).unwrap();
    let before = writes(&host).len();
    Resource::process(&host, &ctx(object.clone())).unwrap();
    assert_eq!(writes(&host).len(), before, "steady state writes nothing");
    // Owned by someone else with the same values: the subroutine takes it over.
    let r = source_ref("OCIRepository", "keycloak");
    let mut repo = stored(&host, &r);
    repo["metadata"]["managedFields"][0]["manager"] = json!("kubectl");
    host.insert(Target::Infra, repo);
    Resource::process(&host, &ctx(object)).unwrap();
    assert_eq!(writes(&host).len(), before + 1);
}

#[test]
fn git_chart_becomes_a_git_repository() {
    let host = host_with_technology("fluxcd");
    let object = resource(
        "gateway-api",
        json!({"repo": "git", "artifact": "chart"}),
        json!({}),
        json!({"resource": {"version": "1.2.0", "access": {"repoUrl": "https://github.com/k/gw", "commit": "abc123"}}}),
    );
    Resource::process(&host, &ctx(object)).unwrap();
    let repo = stored(&host, &source_ref("GitRepository", "gateway-api"));
    assert_eq!(
        repo["spec"],
        json!({"ref": {"commit": "abc123"}, "url": "https://github.com/k/gw", "interval": "1m0s", "timeout": "5m"})
    );
}

#[test]
fn git_chart_needs_commit_and_url_and_propagates_apply_errors() {
    let git = |access: Value| {
        resource(
            "gw",
            json!({"repo": "git", "artifact": "chart"}),
            json!({}),
            json!({"resource": {"version": "1", "access": access}}),
        )
    };
    let host = host_with_technology("fluxcd");
    let error = Resource::process(&host, &ctx(git(json!({"repoUrl": "u"})))).unwrap_err();
    assert_eq!(error.message, "commit not available in Resource status");
    let error = Resource::process(&host, &ctx(git(json!({"commit": "c"})))).unwrap_err();
    assert_eq!(error.message, "repoUrl not available in Resource status");
    let failing = host_with_technology("fluxcd").with_error(
        "apply",
        Some("GitRepository"),
        ClusterError::Unavailable("down".into()),
    );
    let error = Resource::process(&failing, &ctx(git(json!({"repoUrl": "u", "commit": "c"})))).unwrap_err();
    assert!(error.message.ends_with("unavailable: down"), "{error}");
}

fn helm_chart(unsuspend: bool) -> Value {
    let mut labels = json!({"repo": "helm", "artifact": "chart"});
    if unsuspend {
        labels["unsuspend"] = json!("true");
    }
    resource(
        "keycloak-chart",
        labels,
        json!({}),
        json!({"resource": {"version": "25.2.3", "access": {"helmRepository": "https://charts.example.com"}}}),
    )
}

#[test]
fn helm_chart_becomes_a_helm_repository_and_sets_the_release_chart_version() {
    let host = host_with_technology("fluxcd").with_object(
        Target::Infra,
        helm_release(
            NS,
            "keycloak",
            json!({"suspend": true, "chart": {"spec": {"chart": "keycloak", "version": "1.0.0"}}}),
        ),
    );
    Resource::process(&host, &ctx(helm_chart(true))).unwrap();
    let repo = stored(&host, &source_ref("HelmRepository", "keycloak"));
    assert_eq!(
        repo["spec"],
        json!({"url": "https://charts.example.com", "provider": "generic", "interval": "5m"})
    );
    let release = stored(&host, &helm_release_ref(NS, "keycloak"));
    assert_eq!(release["spec"]["chart"]["spec"]["version"], "25.2.3");
    assert_eq!(release["spec"]["chart"]["spec"]["chart"], "keycloak");
    assert_eq!(release["spec"]["suspend"], false);
    assert!(host.is_unsuspended(NS, "keycloak"));
}

#[test]
fn helm_chart_without_repository_url_stops_and_requeues() {
    let host = host_with_technology("fluxcd");
    let mut object = helm_chart(false);
    object["status"]["resource"]["access"] = json!({});
    assert_eq!(
        Resource::process(&host, &ctx(object)).unwrap(),
        Reconciled::stop_after(
            Duration::from_secs(5),
            "helmRepository not available in Resource status"
        )
    );
    assert!(writes(&host).is_empty());
}

#[test]
fn helm_chart_release_read_and_update_errors_are_returned() {
    let missing = host_with_technology("fluxcd");
    let error = Resource::process(&missing, &ctx(helm_chart(false))).unwrap_err();
    assert!(
        error
            .message
            .starts_with("HelmRelease platform-mesh-system/keycloak not found"),
        "{error}"
    );
    let failing_get = host_with_technology("fluxcd").with_error(
        "get",
        Some("HelmRelease"),
        ClusterError::Unavailable("down".into()),
    );
    let error = Resource::process(&failing_get, &ctx(helm_chart(false))).unwrap_err();
    assert_eq!(
        error.message,
        "HelmRelease platform-mesh-system/keycloak not found: unavailable: down"
    );
    let failing_update = host_with_technology("fluxcd")
        .with_object(Target::Infra, helm_release(NS, "keycloak", json!({})))
        .with_error(
            "patch",
            Some("HelmRelease"),
            ClusterError::Conflict("changed".into()),
        );
    let error = Resource::process(&failing_update, &ctx(helm_chart(false))).unwrap_err();
    assert_eq!(
        error.message,
        "updating HelmRelease platform-mesh-system/keycloak: conflict: changed"
    );
}

/// The seven upstream cases of the image-tag update: the release and values path each Resource resolves to.
#[test]
fn image_version_is_written_into_the_release_named_by_for_at_path() {
    let version = json!({"resource": {"version": "0.29.0"}});
    let cases = [
        (
            "default release and path",
            image("kcp-image", oci_image_annotations(json!({})), version.clone()),
            (NS, "kcp"),
            "image.tag",
        ),
        (
            "for as a name",
            image(
                "kcp-image",
                oci_image_annotations(json!({"for": "kcp-operator"})),
                version.clone(),
            ),
            (NS, "kcp-operator"),
            "image.tag",
        ),
        (
            "for as namespace/name",
            image(
                "kcp-image",
                oci_image_annotations(json!({"for": "other/kcp"})),
                version.clone(),
            ),
            ("other", "kcp"),
            "image.tag",
        ),
        (
            "custom path",
            image(
                "kcp-image",
                oci_image_annotations(json!({"path": "kcp.image.tag"})),
                version.clone(),
            ),
            (NS, "kcp"),
            "kcp.image.tag",
        ),
        (
            "custom version-path",
            image(
                "kcp-image",
                oci_image_annotations(json!({"version-path": "status.component.version"})),
                json!({"component": {"version": "1.5.0"}}),
            ),
            (NS, "kcp"),
            "image.tag",
        ),
        (
            "helm repo image",
            image(
                "kcp-image",
                json!({"repo": "helm", "artifact": "image"}),
                version.clone(),
            ),
            (NS, "kcp"),
            "image.tag",
        ),
        (
            "chart Resource name suffix",
            image("kcp-chart", oci_image_annotations(json!({})), version.clone()),
            (NS, "kcp"),
            "image.tag",
        ),
    ];
    for (case, object, (namespace, name), path) in cases {
        let host = host_with_technology("fluxcd").with_object(
            Target::Infra,
            helm_release(
                namespace,
                name,
                json!({"values": {"image": {"repository": "r"}, "replicas": 2}}),
            ),
        );
        let expected = object["status"]["component"]["version"]
            .as_str()
            .unwrap_or("0.29.0")
            .to_owned();
        Resource::process(&host, &ctx(object)).unwrap_or_else(|e| panic!("{case}: {e}"));
        let release = stored(&host, &helm_release_ref(namespace, name));
        let pointer = format!("/spec/values/{}", path.replace('.', "/"));
        assert_eq!(
            release.pointer(&pointer),
            Some(&json!(expected)),
            "{case}: {release}"
        );
        assert_eq!(release["spec"]["values"]["replicas"], 2, "{case}");
        assert_eq!(
            host.image_versions(namespace, name),
            [ImageVersion {
                path: path.into(),
                version: expected
            }],
            "{case}"
        );
        assert!(!host.is_unsuspended(namespace, name), "{case}");
    }
}

#[test]
fn image_version_missing_at_version_path_fails() {
    let host = host_with_technology("fluxcd").with_object(Target::Infra, helm_release(NS, "kcp", json!({})));
    let object = image(
        "kcp-image",
        oci_image_annotations(json!({"version-path": "status.component.version"})),
        json!({"resource": {"version": "1"}}),
    );
    let error = Resource::process(&host, &ctx(object)).unwrap_err();
    assert_eq!(
        error.message,
        "version not available at path status.component.version"
    );
}

#[test]
fn image_release_read_and_update_errors_are_returned() {
    let object = image(
        "kcp-image",
        oci_image_annotations(json!({})),
        json!({"resource": {"version": "1"}}),
    );
    let failing_get = host_with_technology("fluxcd").with_error(
        "get",
        Some("HelmRelease"),
        ClusterError::Forbidden("no".into()),
    );
    let error = Resource::process(&failing_get, &ctx(object.clone())).unwrap_err();
    assert_eq!(
        error.message,
        "HelmRelease platform-mesh-system/kcp not found: forbidden: no"
    );
    let failing_update = host_with_technology("fluxcd")
        .with_object(Target::Infra, helm_release(NS, "kcp", json!({})))
        .with_error("patch", Some("HelmRelease"), ClusterError::Invalid("bad".into()));
    let error = Resource::process(&failing_update, &ctx(object)).unwrap_err();
    assert_eq!(
        error.message,
        "updating HelmRelease platform-mesh-system/kcp: invalid: bad"
    );
    assert!(failing_update.image_versions(NS, "kcp").is_empty());
}

#[test]
fn image_unsuspends_the_release_and_records_it() {
    let host = host_with_technology("fluxcd").with_object(
        Target::Infra,
        helm_release(NS, "kcp", json!({"suspend": true, "values": {"image": "legacy"}})),
    );
    let object = image(
        "kcp-image",
        oci_image_annotations(json!({"unsuspend": "true"})),
        json!({"resource": {"version": "2.0.0"}}),
    );
    Resource::process(&host, &ctx(object)).unwrap();
    let release = stored(&host, &helm_release_ref(NS, "kcp"));
    assert_eq!(release["spec"]["suspend"], false);
    assert_eq!(
        release["spec"]["values"]["image"],
        json!({"tag": "2.0.0"}),
        "a non-map value in the way is replaced"
    );
    assert!(host.is_unsuspended(NS, "kcp"));
}

#[test]
fn release_already_at_the_version_is_not_written_but_still_recorded() {
    let host = host_with_technology("fluxcd").with_object(
        Target::Infra,
        helm_release(
            NS,
            "kcp",
            json!({"suspend": false, "values": {"image": {"tag": "2.0.0"}}}),
        ),
    );
    let object = image(
        "kcp-image",
        oci_image_annotations(json!({"unsuspend": "true"})),
        json!({"resource": {"version": "2.0.0"}}),
    );
    Resource::process(&host, &ctx(object)).unwrap();
    assert!(writes(&host).is_empty(), "{:?}", writes(&host));
    assert_eq!(host.image_versions(NS, "kcp").len(), 1);
    assert!(host.is_unsuspended(NS, "kcp"));
}

#[test]
fn resources_of_a_managed_provider_are_left_to_its_deploy_step() {
    let host = host_with_technology("fluxcd");
    let mut object = oci_chart("ghcr.io/a/b:25.2.3");
    object["metadata"]["labels"][crate::MANAGED_PROVIDER_LABEL] = json!("cowboys");
    Resource::process(&host, &ctx(object)).unwrap();
    assert!(writes(&host).is_empty(), "{:?}", writes(&host));
}

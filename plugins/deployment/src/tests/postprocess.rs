//! Post-processing of rendered Applications and HelmReleases (spec §5.7.4).

use platform_mesh_plugin_sdk::{Host, ImageVersion};
use serde_json::{Value, json};

use super::host;
use crate::postprocess::{
    PLACEHOLDER, merge_image_versions_into_application, merge_image_versions_into_helm_release,
    preserve_argo_source_fields, set_path,
};

fn app(url: &str, revision: &str) -> Value {
    json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": "a", "namespace": "ns"},
           "spec": {"source": {"repoURL": url, "targetRevision": revision}}})
}

#[test]
fn without_an_existing_application_the_rendered_one_is_untouched() {
    let mut rendered = app(PLACEHOLDER, PLACEHOLDER);
    preserve_argo_source_fields(&mut rendered, None);
    assert_eq!(rendered, app(PLACEHOLDER, PLACEHOLDER));
}

#[test]
fn rendered_placeholders_take_the_existing_url_and_drop_the_revision() {
    let mut rendered = app(PLACEHOLDER, PLACEHOLDER);
    preserve_argo_source_fields(&mut rendered, Some(&app("oci://ghcr.io/x", "1.2.3")));
    assert_eq!(rendered["spec"]["source"], json!({"repoURL": "oci://ghcr.io/x"}));
}

#[test]
fn differing_real_existing_values_keep_the_url_and_drop_the_revision() {
    let mut rendered = app("https://charts.example.com", "1.0.0");
    preserve_argo_source_fields(&mut rendered, Some(&app("oci://ghcr.io/x", "2.0.0")));
    assert_eq!(rendered["spec"]["source"], json!({"repoURL": "oci://ghcr.io/x"}));
}

#[test]
fn equal_values_are_untouched() {
    let mut rendered = app("oci://ghcr.io/x", "1.0.0");
    preserve_argo_source_fields(&mut rendered, Some(&app("oci://ghcr.io/x", "1.0.0")));
    assert_eq!(rendered, app("oci://ghcr.io/x", "1.0.0"));
}

#[test]
fn empty_existing_values_leave_real_rendered_values() {
    let mut rendered = app("https://charts.example.com", "1.0.0");
    preserve_argo_source_fields(&mut rendered, Some(&app("", "")));
    assert_eq!(rendered, app("https://charts.example.com", "1.0.0"));
}

#[test]
fn set_path_creates_nested_maps_and_overwrites_scalars() {
    let mut map = json!({"image": "old", "other": 1}).as_object().cloned().unwrap();
    set_path(&mut map, "image.tag", json!("v2"));
    set_path(&mut map, "a.b.c", json!("x"));
    assert_eq!(
        Value::Object(map),
        json!({"image": {"tag": "v2"}, "other": 1, "a": {"b": {"c": "x"}}})
    );
}

fn release(suspend: Option<bool>) -> Value {
    let mut r = json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
        "metadata": {"name": "openfga", "namespace": "ns"}, "spec": {"values": {"keep": 1}}});
    if let Some(s) = suspend {
        r["spec"]["suspend"] = json!(s);
    }
    r
}

#[test]
fn recorded_versions_land_in_helm_release_values() {
    let h = host();
    h.image_version_set(
        "ns",
        "openfga",
        ImageVersion {
            path: "image.tag".into(),
            version: "1.2".into(),
        },
    );
    h.image_version_set(
        "ns",
        "openfga",
        ImageVersion {
            path: "postgresql.image.tag".into(),
            version: "16".into(),
        },
    );
    let mut r = release(None);
    merge_image_versions_into_helm_release(&h, &mut r);
    assert_eq!(
        r["spec"]["values"],
        json!({"keep": 1, "image": {"tag": "1.2"}, "postgresql": {"image": {"tag": "16"}}})
    );
}

#[test]
fn an_unsuspended_release_rendered_suspended_is_released() {
    let h = host();
    h.set_unsuspended("ns", "openfga");
    let mut r = release(Some(true));
    merge_image_versions_into_helm_release(&h, &mut r);
    assert_eq!(r["spec"]["suspend"], json!(false));
}

#[test]
fn a_release_not_marked_unsuspended_stays_suspended() {
    let h = host();
    let mut r = release(Some(true));
    merge_image_versions_into_helm_release(&h, &mut r);
    assert_eq!(r["spec"]["suspend"], json!(true));
}

#[test]
fn an_unsuspended_release_without_suspend_gets_no_suspend_field() {
    let h = host();
    h.set_unsuspended("ns", "openfga");
    let mut r = release(None);
    merge_image_versions_into_helm_release(&h, &mut r);
    assert!(r["spec"].get("suspend").is_none());
}

#[test]
fn recorded_versions_land_in_application_helm_values_keeping_other_keys() {
    let h = host();
    h.image_version_set(
        "ns",
        "a",
        ImageVersion {
            path: "image.tag".into(),
            version: "v9".into(),
        },
    );
    let mut a = app("u", "r");
    a["spec"]["source"]["helm"] = json!({"values": "image:\n  tag: old\nother: 1\n"});
    merge_image_versions_into_application(&h, &mut a);
    assert_eq!(
        a["spec"]["source"]["helm"]["values"],
        json!("image:\n  tag: v9\nother: 1\n")
    );
}

#[test]
fn application_helm_values_are_created_when_absent() {
    let h = host();
    h.image_version_set(
        "ns",
        "a",
        ImageVersion {
            path: "image.tag".into(),
            version: "v9".into(),
        },
    );
    let mut a = app("u", "r");
    merge_image_versions_into_application(&h, &mut a);
    assert_eq!(
        a["spec"]["source"]["helm"]["values"],
        json!("image:\n  tag: v9\n")
    );
}

#[test]
fn a_failing_read_of_the_existing_application_leaves_the_rendered_one_untouched() {
    use platform_mesh_plugin_sdk::{ClusterError, testing::FakeHost};
    let h = FakeHost::new().with_error(
        "get",
        Some("Application"),
        ClusterError::Unavailable("down".into()),
    );
    let mut rendered = app(PLACEHOLDER, PLACEHOLDER);
    crate::postprocess::post_process(&h, &mut rendered);
    assert_eq!(rendered, app(PLACEHOLDER, PLACEHOLDER));
}

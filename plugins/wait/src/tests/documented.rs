//! Beyond upstream: status field checks, the documented nested entry shape, and the default entry in the
//! PlatformMesh's namespace.

use platform_mesh_plugin_sdk::{Context, Plugin, Reconciled, Target};
use serde_json::{Value, json};

use super::{NS, helm_release, host, operator_created, pm, stop};
use crate::Wait;

fn application(name: &str, health: &str) -> Value {
    json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
           "metadata": {"name": name, "namespace": NS},
           "status": {"health": {"status": health}, "observedGeneration": 3, "synced": true,
                      "resources": [{"kind": "Deployment", "status": "Synced"}]}})
}

fn by_field(path: &str, value: &str) -> Value {
    json!({"wait": {"resourceTypes": [
        {"group": "argoproj.io", "version": "v1alpha1", "kind": "Application", "namespace": NS,
         "statusFieldPath": path, "statusFieldValue": value}
    ]}})
}

fn process(host: &platform_mesh_plugin_sdk::testing::FakeHost, spec: Value) -> Reconciled {
    Wait::process(host, &pm(spec)).unwrap()
}

const APP_NOT_READY: &str = "resource platform-mesh-system/portal of type Application is not ready yet";

#[test]
fn status_field_replaces_the_condition_check() {
    let host = host().with_object(Target::Infra, application("portal", "Healthy"));
    assert_eq!(
        process(&host, by_field(".status.health.status", "Healthy")),
        Reconciled::ok()
    );
    host.insert(Target::Infra, application("portal", "Progressing"));
    assert_eq!(
        process(&host, by_field(".status.health.status", "Healthy")),
        stop(APP_NOT_READY)
    );
}

#[test]
fn status_field_ignores_a_condition_that_would_match() {
    let host = host().with_object(Target::Infra, helm_release("a", "True", json!({})));
    let spec = json!({"wait": {"resourceTypes": [
        {"group": "helm.toolkit.fluxcd.io", "version": "v2", "kind": "HelmRelease", "namespace": NS,
         "conditionType": "Ready", "conditionStatus": "True",
         "statusFieldPath": ".status.phase", "statusFieldValue": "Ready"}
    ]}});
    assert_eq!(
        process(&host, spec),
        stop("resource platform-mesh-system/a of type HelmRelease is not ready yet")
    );
}

#[test]
fn status_field_compares_numbers_booleans_and_array_items_as_text() {
    let host = host().with_object(Target::Infra, application("portal", "Healthy"));
    for (path, value) in [
        ("status.observedGeneration", "3"),
        (".status.synced", "true"),
        (".status.resources.0.status", "Synced"),
    ] {
        assert_eq!(process(&host, by_field(path, value)), Reconciled::ok(), "{path}");
    }
    for (path, value) in [
        (".status.observedGeneration", "4"),
        (".status.synced", "yes"),
        (".status.resources.1.status", "Synced"),
        (".status.resources.first.status", "Synced"),
        (".status.health", "Healthy"),
        (".status.missing", ""),
        (".status.health.status.deeper", "Healthy"),
    ] {
        assert_eq!(
            process(&host, by_field(path, value)),
            stop(APP_NOT_READY),
            "{path}"
        );
    }
}

#[test]
fn status_field_by_name_uses_get() {
    let host = host().with_object(Target::Infra, application("portal", "Healthy"));
    let spec = json!({"wait": {"resourceTypes": [
        {"group": "argoproj.io", "version": "v1alpha1", "kind": "Application", "namespace": NS, "name": "portal",
         "statusFieldPath": ".status.health.status", "statusFieldValue": "Degraded"}
    ]}});
    assert_eq!(process(&host, spec), stop(APP_NOT_READY));
    assert_eq!(host.calls()[0].op, "get");
}

#[test]
fn half_a_status_field_pair_or_a_bad_path_stops_with_the_reason() {
    let host = host().with_object(Target::Infra, application("portal", "Healthy"));
    let entry = |extra: Value| {
        let mut item = json!({"group": "argoproj.io", "version": "v1alpha1", "kind": "Application"});
        item.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        json!({"wait": {"resourceTypes": [item]}})
    };
    let half = "spec.wait.resourceTypes[0] needs both statusFieldPath and statusFieldValue";
    assert_eq!(
        process(&host, entry(json!({"statusFieldPath": ".status.phase"}))),
        stop(half)
    );
    assert_eq!(
        process(&host, entry(json!({"statusFieldValue": "Ready"}))),
        stop(half)
    );
    assert_eq!(
        process(
            &host,
            entry(json!({"statusFieldPath": "", "statusFieldValue": "Ready"}))
        ),
        stop(half)
    );
    assert_eq!(
        process(
            &host,
            entry(json!({"statusFieldPath": ".status..phase", "statusFieldValue": "x"}))
        ),
        stop("spec.wait.resourceTypes[0] statusFieldPath \".status..phase\" has an empty segment")
    );
    let long = format!(".{}", "a".repeat(crate::config::MAX_PATH_LEN));
    assert_eq!(
        process(
            &host,
            entry(json!({"statusFieldPath": long, "statusFieldValue": "x"}))
        ),
        stop("spec.wait.resourceTypes[0] statusFieldPath is longer than 256 characters")
    );
    // Nothing was read for an invalid entry.
    assert!(host.calls().iter().all(|c| c.kind != "Application"));
}

fn documented(selector: Value) -> Value {
    json!({"wait": {"resourceTypes": [
        {"apiVersions": {"versions": ["v2"]},
         "groupKind": {"group": "helm.toolkit.fluxcd.io", "kind": "HelmRelease"},
         "namespace": NS, "labelSelector": selector,
         "conditionType": "Ready", "conditionStatus": "True"}
    ]}})
}

#[test]
fn documented_shape_is_an_alias_of_the_flat_fields() {
    let host = host()
        .with_object(Target::Infra, helm_release("ours", "True", operator_created()))
        .with_object(Target::Infra, helm_release("foreign", "False", json!({})));
    let selector = json!({"matchLabels": {"core.platform-mesh.io/operator-created": "true"}});
    assert_eq!(process(&host, documented(selector.clone())), Reconciled::ok());
    let list = &host.calls()[0];
    assert_eq!((list.op, list.kind.as_str()), ("list", "HelmRelease"));
    host.insert(Target::Infra, helm_release("ours-2", "False", operator_created()));
    assert_eq!(
        process(&host, documented(selector)),
        stop("resource platform-mesh-system/ours-2 of type HelmRelease is not ready yet")
    );
    let expressions = json!({"matchExpressions": [
        {"key": "core.platform-mesh.io/operator-created", "operator": "DoesNotExist"}]});
    assert_eq!(
        process(&host, documented(expressions)),
        stop("resource platform-mesh-system/foreign of type HelmRelease is not ready yet")
    );
}

#[test]
fn flat_fields_win_over_aliases_and_both_selectors_must_match() {
    let host = host()
        .with_object(
            Target::Infra,
            helm_release("a", "False", json!({"app": "a", "tier": "x"})),
        )
        .with_object(
            Target::Infra,
            helm_release("b", "False", json!({"app": "b", "tier": "x"})),
        );
    let spec = |flat: Value| {
        let mut item = json!({"apiVersions": {"versions": ["", "v1beta1"]},
            "groupKind": {"group": "nope.example", "kind": "Nope"}, "namespace": NS,
            "version": "v2", "group": "helm.toolkit.fluxcd.io", "kind": "HelmRelease",
            "labelSelector": {"matchLabels": {"app": "b"}}});
        item.as_object_mut()
            .unwrap()
            .extend(flat.as_object().unwrap().clone());
        json!({"wait": {"resourceTypes": [item]}})
    };
    // Flat matchLabels and the alias are combined: only b has both labels.
    assert_eq!(
        process(&host, spec(json!({"matchLabels": {"tier": "x"}}))),
        stop("resource platform-mesh-system/b of type HelmRelease is not ready yet")
    );
    // The same key with two values selects nothing.
    assert_eq!(
        process(&host, spec(json!({"matchLabels": {"app": "a"}}))),
        Reconciled::ok()
    );
}

#[test]
fn alias_version_is_the_first_non_empty_one() {
    let host = host().with_object(Target::Infra, helm_release("a", "False", json!({})));
    let spec = json!({"wait": {"resourceTypes": [
        {"apiVersions": {"versions": ["", "v2", "v2beta1"]},
         "groupKind": {"group": "helm.toolkit.fluxcd.io", "kind": "HelmRelease"}, "namespace": NS,
         "conditionType": "Ready", "conditionStatus": "True"}
    ]}});
    assert_eq!(
        process(&host, spec),
        stop("resource platform-mesh-system/a of type HelmRelease is not ready yet")
    );
}

#[test]
fn an_entry_without_kind_or_version_stops_with_the_reason() {
    let reason = "spec.wait.resourceTypes[1] names no kind and version (set kind and version, or groupKind and \
                  apiVersions)";
    for second in [
        json!({"groupKind": {"kind": "HelmRelease"}}),
        json!({"apiVersions": {"versions": []}, "kind": "HelmRelease"}),
        json!({"version": "v1"}),
    ] {
        let spec = json!({"wait": {"resourceTypes": [
            {"group": "", "version": "v1", "kind": "ConfigMap", "namespace": NS, "name": "absent-is-fine-here",
             "statusFieldPath": "data.x", "statusFieldValue": "y"},
            second
        ]}});
        let host = host().with_object(
            Target::Infra,
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                   "metadata": {"name": "absent-is-fine-here", "namespace": NS}, "data": {"x": "y"}}),
        );
        assert_eq!(process(&host, spec), stop(reason));
    }
}

#[test]
fn default_entry_looks_in_the_platform_mesh_namespace() {
    let in_default = {
        let mut release = helm_release("elsewhere", "False", operator_created());
        release["metadata"]["namespace"] = json!("default");
        release
    };
    let host = host()
        .with_object(Target::Infra, in_default)
        .with_object(Target::Infra, helm_release("ours", "True", operator_created()));
    assert_eq!(process(&host, json!({})), Reconciled::ok());
    host.insert(
        Target::Infra,
        helm_release("ours-2", "Unknown", operator_created()),
    );
    assert_eq!(
        process(&host, json!({})),
        stop("resource platform-mesh-system/ours-2 of type HelmRelease is not ready yet")
    );

    let other = Context::for_object(
        "platformmesh",
        json!({"apiVersion": "core.platform-mesh.io/v1alpha1", "kind": "PlatformMesh",
               "metadata": {"name": "pm", "namespace": "tenant-a"}, "spec": {}}),
    );
    assert_eq!(Wait::process(&host, &other).unwrap(), Reconciled::ok());
    let last = host.calls().into_iter().rfind(|c| c.op == "list").unwrap();
    assert_eq!(last.namespace.as_deref(), Some("tenant-a"));
}

#[test]
fn null_fields_read_as_unset_instead_of_dropping_the_entry() {
    let host = host().with_object(Target::Infra, helm_release("a", "False", json!({})));
    let spec = json!({"wait": {"resourceTypes": [
        {"group": "helm.toolkit.fluxcd.io", "version": "v2", "kind": "HelmRelease", "namespace": NS,
         "name": null, "matchLabels": null, "apiVersions": null, "groupKind": {"group": null, "kind": null},
         "labelSelector": {"matchLabels": null}, "statusFieldPath": null, "statusFieldValue": null,
         "conditionType": "Ready", "conditionStatus": "True"}
    ]}});
    assert_eq!(
        process(&host, spec),
        stop("resource platform-mesh-system/a of type HelmRelease is not ready yet")
    );
}

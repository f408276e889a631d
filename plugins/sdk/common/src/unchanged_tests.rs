//! Hand-written cases of the "unchanged" rule: atomic lists, list-maps, sets, numbers, nulls and the other write
//! modes. The agreement with the embedded API server's server-side apply is checked by the property test in
//! `tests/ssa_agreement.rs`.

use serde_json::{Value, json};

use super::{Write, same_value, unchanged};

const ME: &str = "platform-mesh-deployment";

/// A stored HelmRelease-like object whose managed fields are `mine` (ours) and `theirs` (another manager's).
fn stored(spec: Value, mine: Value, theirs: Option<Value>) -> Value {
    let mut entries = vec![json!({"manager": ME, "operation": "Apply", "fieldsV1": mine})];
    if let Some(theirs) = theirs {
        entries.push(json!({"manager": "helm-controller", "operation": "Update", "fieldsV1": theirs}));
    }
    json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
        "metadata": {"name": "portal", "namespace": "pm", "uid": "u", "resourceVersion": "9",
                     "labels": {"a": "1"}, "managedFields": entries},
        "spec": spec, "status": {"conditions": [{"type": "Ready", "status": "True"}]}})
}

fn rendered(spec: Value) -> Value {
    json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
        "metadata": {"name": "portal", "namespace": "pm", "labels": {"a": "1"}}, "spec": spec})
}

fn apply(stored: &Value, rendered: &Value) -> bool {
    unchanged(stored, rendered, Write::Apply(ME))
}

#[test]
fn an_atomic_list_with_an_item_removed_is_a_change() {
    // `args` and a list inside Helm values are atomic: the manager owns the list as one leaf.
    let mine = json!({"f:metadata": {"f:labels": {"f:a": {}}},
        "f:spec": {"f:args": {}, "f:values": {"f:hosts": {}}}});
    let spec = json!({"args": ["--a", "--b"], "values": {"hosts": ["x", "y"]}});
    let object = stored(spec.clone(), mine, None);
    assert!(apply(&object, &rendered(spec)));
    assert!(!apply(
        &object,
        &rendered(json!({"args": ["--a"], "values": {"hosts": ["x", "y"]}}))
    ));
    assert!(!apply(
        &object,
        &rendered(json!({"args": ["--a", "--b"], "values": {"hosts": ["x"]}}))
    ));
    // Order matters for an atomic list.
    assert!(!apply(
        &object,
        &rendered(json!({"args": ["--b", "--a"], "values": {"hosts": ["x", "y"]}}))
    ));
}

fn depends_on_fields(names: &[&str]) -> Value {
    let mut items = serde_json::Map::new();
    for name in names {
        items.insert(
            format!("k:{{\"name\":\"{name}\"}}"),
            json!({".": {}, "f:name": {}}),
        );
    }
    Value::Object(items)
}

#[test]
fn a_list_map_entry_no_longer_rendered_is_a_change() {
    // dependsOn as a list-map keyed by name: our entries are tracked one by one.
    let mine = json!({"f:metadata": {"f:labels": {"f:a": {}}},
        "f:spec": {"f:dependsOn": depends_on_fields(&["cert-manager", "istio"])}});
    let spec = json!({"dependsOn": [{"name": "cert-manager"}, {"name": "istio"}]});
    let object = stored(spec, mine, None);
    assert!(apply(
        &object,
        &rendered(json!({"dependsOn": [{"name": "cert-manager"}, {"name": "istio"}]}))
    ));
    // Items merge by key: their order does not matter.
    assert!(apply(
        &object,
        &rendered(json!({"dependsOn": [{"name": "istio"}, {"name": "cert-manager"}]}))
    ));
    assert!(!apply(
        &object,
        &rendered(json!({"dependsOn": [{"name": "cert-manager"}]}))
    ));
    assert!(!apply(
        &object,
        &rendered(json!({"dependsOn": [{"name": "cert-manager"}, {"name": "istio"}, {"name": "x"}]}))
    ));
}

#[test]
fn list_map_items_of_other_managers_are_ignored_but_ours_are_compared() {
    // env keyed by name: `EXTRA` belongs to someone else and stays whatever we render.
    let mine = json!({"f:metadata": {"f:labels": {"f:a": {}}},
        "f:spec": {"f:env": {"k:{\"name\":\"A\"}": {".": {}, "f:name": {}, "f:value": {}}}}});
    let theirs =
        json!({"f:spec": {"f:env": {"k:{\"name\":\"EXTRA\"}": {".": {}, "f:name": {}, "f:value": {}}}}});
    let spec = json!({"env": [{"name": "A", "value": "1"}, {"name": "EXTRA", "value": "x"}]});
    let object = stored(spec, mine, Some(theirs));
    assert!(apply(
        &object,
        &rendered(json!({"env": [{"name": "A", "value": "1"}]}))
    ));
    assert!(!apply(
        &object,
        &rendered(json!({"env": [{"name": "A", "value": "2"}]}))
    ));
    // An empty env keeps the other manager's item but gives up ours: a change.
    assert!(!apply(&object, &rendered(json!({"env": []}))));
    // Our item renamed: ours would be removed.
    assert!(!apply(
        &object,
        &rendered(json!({"env": [{"name": "B", "value": "1"}]}))
    ));
}

#[test]
fn set_members_compare_by_value_in_any_order() {
    let mine =
        json!({"f:metadata": {"f:labels": {"f:a": {}}, "f:finalizers": {"v:\"a\"": {}, "v:\"b\"": {}}}});
    let mut object = stored(json!(null), mine, None);
    object["metadata"]["finalizers"] = json!(["b", "other", "a"]);
    object.as_object_mut().map(|o| o.remove("spec"));
    let with = |finalizers: Value| {
        json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
            "metadata": {"name": "portal", "labels": {"a": "1"}, "finalizers": finalizers}})
    };
    assert!(apply(&object, &with(json!(["a", "b"]))));
    assert!(apply(&object, &with(json!(["b", "a"]))));
    assert!(!apply(&object, &with(json!(["a"]))));
}

#[test]
fn fields_we_no_longer_render_and_new_fields_are_changes() {
    let mine =
        json!({"f:metadata": {"f:labels": {"f:a": {}}}, "f:spec": {"f:interval": {}, "f:suspend": {}}});
    let object = stored(
        json!({"interval": "5m", "suspend": false, "timeout": "1m"}),
        mine,
        None,
    );
    assert!(apply(
        &object,
        &rendered(json!({"interval": "5m", "suspend": false}))
    ));
    assert!(!apply(&object, &rendered(json!({"interval": "5m"}))));
    // `timeout` is stored, but owned by nobody we know of: applying it takes ownership.
    assert!(!apply(
        &object,
        &rendered(json!({"interval": "5m", "suspend": false, "timeout": "1m"}))
    ));
    // Without our Apply entry, an apply takes ownership: a change.
    assert!(!unchanged(
        &object,
        &rendered(json!({"interval": "5m", "suspend": false})),
        Write::Apply("other")
    ));
}

#[test]
fn numbers_compare_by_value() {
    let mine = json!({"f:metadata": {"f:labels": {"f:a": {}}}, "f:spec": {"f:values": {"f:replicas": {}, "f:ratio": {}}}});
    let object = stored(json!({"values": {"replicas": 2, "ratio": 0.5}}), mine, None);
    assert!(apply(
        &object,
        &rendered(json!({"values": {"replicas": 2.0, "ratio": 0.5}}))
    ));
    assert!(!apply(
        &object,
        &rendered(json!({"values": {"replicas": 3, "ratio": 0.5}}))
    ));
    assert!(!apply(
        &object,
        &rendered(json!({"values": {"replicas": "2", "ratio": 0.5}}))
    ));
    assert!(same_value(
        &json!([1, {"a": 2}]),
        &json!([1.0, {"a": 2e0}]),
        false
    ));
}

#[test]
fn a_rendered_null_means_absent() {
    let mine = json!({"f:metadata": {"f:labels": {"f:a": {}}}, "f:spec": {"f:interval": {}}});
    let object = stored(json!({"interval": "5m"}), mine.clone(), None);
    // Absent in the stored object (the server drops a typed field's null): unchanged.
    assert!(apply(
        &object,
        &rendered(json!({"interval": "5m", "dependsOn": null}))
    ));
    // A stored value where null is rendered: a change.
    assert!(!apply(&object, &rendered(json!({"interval": null}))));
    // A stored null is owned like a value.
    let mut kept = mine;
    kept["f:spec"]["f:values"] = json!({});
    let object = stored(json!({"interval": "5m", "values": null}), kept, None);
    assert!(apply(
        &object,
        &rendered(json!({"interval": "5m", "values": null}))
    ));
}

#[test]
fn empty_maps_and_status_and_server_metadata() {
    let mine = json!({"f:metadata": {"f:labels": {"f:a": {}}}, "f:spec": {"f:values": {}}});
    let object = stored(json!({"values": {"set": "by helm"}}), mine, None);
    // An empty map leaves what others put into it.
    let mut want = rendered(json!({"values": {}}));
    want["metadata"]["resourceVersion"] = json!("1");
    want["status"] = json!({"anything": true});
    assert!(apply(&object, &want));
    let missing = stored(
        json!({}),
        json!({"f:metadata": {"f:labels": {"f:a": {}}}, "f:spec": {"f:values": {}}}),
        None,
    );
    assert!(!apply(&missing, &rendered(json!({"values": {}}))));
}

#[test]
fn replace_and_merge_patch() {
    let object = json!({"spec": {"a": 1, "list": [1, 2], "map": {"x": "y"}}});
    assert!(unchanged(
        &object,
        &json!({"spec": {"a": 1.0, "list": [1, 2], "map": {"x": "y"}, "n": null}}),
        Write::Replace
    ));
    assert!(!unchanged(
        &object,
        &json!({"spec": {"a": 1, "list": [1], "map": {"x": "y"}}}),
        Write::Replace
    ));
    assert!(unchanged(
        &object,
        &json!({"spec": {"map": {"x": "y"}, "gone": null}}),
        Write::MergePatch
    ));
    // A merge patch replaces lists as a whole.
    assert!(!unchanged(
        &object,
        &json!({"spec": {"list": [1]}}),
        Write::MergePatch
    ));
    assert!(!unchanged(
        &object,
        &json!({"spec": {"a": null}}),
        Write::MergePatch
    ));
    assert!(unchanged(&object, &json!({}), Write::MergePatch));
}

#[test]
fn hostile_shapes_do_not_panic() {
    let odd = json!({"metadata": {"managedFields": [{"manager": ME, "operation": "Apply",
        "fieldsV1": {"f:spec": {"k:not json": {}, "v:[": {}, "f:x": "not an object"}}}]}, "spec": [1]});
    for rendered in [
        json!(null),
        json!([]),
        json!({"metadata": 5}),
        json!({"spec": {"x": [{"a": 1}]}}),
    ] {
        let _ = unchanged(&odd, &rendered, Write::Apply(ME));
        let _ = unchanged(&odd, &rendered, Write::Replace);
        let _ = unchanged(&odd, &rendered, Write::MergePatch);
    }
}

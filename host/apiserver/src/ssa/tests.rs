use serde_json::json;

use super::*;

fn writer(manager: &str) -> Writer<'_> {
    Writer {
        manager,
        api_version: "v1",
        subresource: "",
        schema: None,
        now: "2026-01-01T00:00:00Z",
    }
}

fn cm(data: serde_json::Value) -> serde_json::Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": data})
}

#[test]
fn apply_creates_and_records_ownership() {
    let obj = apply(None, &cm(json!({"a": "1"})), &writer("m1"), false).unwrap();
    assert_eq!(obj["data"], json!({"a": "1"}));
    let entries = read_entries(&obj);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].manager, "m1");
    assert_eq!(entries[0].operation, Operation::Apply);
    assert_eq!(
        obj["metadata"]["managedFields"][0]["fieldsV1"],
        json!({"f:data": {"f:a": {}}})
    );
}

#[test]
fn reapplying_the_same_config_is_a_fixed_point() {
    let first = apply(None, &cm(json!({"a": "1"})), &writer("m1"), false).unwrap();
    let w = Writer {
        now: "2030-01-01T00:00:00Z",
        ..writer("m1")
    };
    let second = apply(Some(&first), &cm(json!({"a": "1"})), &w, false).unwrap();
    assert_eq!(
        first, second,
        "a no-op apply must not even touch the entry's time"
    );
}

#[test]
fn conflicting_managers_need_force() {
    let obj = apply(None, &cm(json!({"a": "1"})), &writer("m1"), false).unwrap();
    let err = apply(Some(&obj), &cm(json!({"a": "2"})), &writer("m2"), false).unwrap_err();
    assert_eq!(err.len(), 1);
    assert_eq!(err[0].field, ".data.a");
    assert!(err[0].message.contains("\"m1\""));
    // Same value: shared ownership, no conflict.
    let shared = apply(Some(&obj), &cm(json!({"a": "1"})), &writer("m2"), false).unwrap();
    assert_eq!(read_entries(&shared).len(), 2);
    // Forced: m2 takes the field from m1.
    let forced = apply(Some(&obj), &cm(json!({"a": "2"})), &writer("m2"), true).unwrap();
    let entries = read_entries(&forced);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].manager, "m2");
}

#[test]
fn fields_a_manager_stops_applying_are_removed_unless_shared() {
    let obj = apply(None, &cm(json!({"a": "1", "b": "2"})), &writer("m1"), false).unwrap();
    let obj = apply(Some(&obj), &cm(json!({"b": "2"})), &writer("m2"), false).unwrap();
    let obj = apply(Some(&obj), &cm(json!({})), &writer("m1"), false).unwrap();
    assert_eq!(
        obj["data"],
        json!({"b": "2"}),
        "a removed (m1 alone), b kept (m2 shares it)"
    );
}

#[test]
fn updates_take_ownership_of_changed_fields() {
    let obj = apply(None, &cm(json!({"a": "1", "b": "2"})), &writer("m1"), false).unwrap();
    let mut new = obj.clone();
    new["data"]["a"] = json!("changed");
    record_update(Some(&obj), &mut new, &writer("editor"));
    let entries = read_entries(&new);
    let editor = entries.iter().find(|e| e.manager == "editor").unwrap();
    assert_eq!(editor.operation, Operation::Update);
    assert_eq!(editor.fields.to_fields_v1(), json!({"f:data": {"f:a": {}}}));
    let m1 = entries.iter().find(|e| e.manager == "m1").unwrap();
    assert_eq!(m1.fields.to_fields_v1(), json!({"f:data": {"f:b": {}}}));
}

#[test]
fn crd_list_map_keys_come_from_the_schema() {
    let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
        "items": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["id"],
                  "items": {"type": "object"}}}}}});
    let w = Writer {
        schema: Some(&schema),
        ..writer("m1")
    };
    let o = |items: serde_json::Value| json!({"apiVersion": "x/v1", "kind": "X", "metadata": {"name": "x"}, "spec": {"items": items}});
    let obj = apply(None, &o(json!([{"id": 1, "v": "a"}])), &w, false).unwrap();
    let w2 = Writer {
        schema: Some(&schema),
        ..writer("m2")
    };
    let obj = apply(Some(&obj), &o(json!([{"id": 2, "v": "b"}])), &w2, false).unwrap();
    assert_eq!(
        obj["spec"]["items"],
        json!([{"id": 1, "v": "a"}, {"id": 2, "v": "b"}])
    );
}

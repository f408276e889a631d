//! Property: for random edits of a rendered object, `unchanged(.., Write::Apply(manager))` agrees with the
//! embedded API server's server-side apply dry run — "unchanged" exactly when the dry run would leave the stored
//! object as it is (values compared by value, managed fields included).
//!
//! The object is a release-like custom resource whose schema has every kind of list: `args` (atomic), `dependsOn`
//! and `env` (list-maps keyed by `name`), `tags` (a set), and schemaless Helm-like `values`. A second manager owns
//! items of the list-maps and the set, a label and a field, so "ours" and "theirs" are told apart.
//!
//! Generated `null`s go only to typed, non-nullable fields (which the server drops); a `null` added to a schemaless
//! field is the documented blind spot of the rule (see `unchanged`'s module documentation).

// The CRD below is one `json!` literal, deeper than the macro's default recursion allows.
#![recursion_limit = "256"]

use apiserver::sim::SimConfig;
use apiserver::{Server, ServerConfig};
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, DynamicObject, GroupVersionKind};
use plugin_common::{Write, unchanged, unchanged::same_value};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

const ME: &str = "platform-mesh-deployment";
const OTHER: &str = "someone-else";

fn crd() -> Value {
    let named = |extra: Value| {
        let mut properties = json!({"name": {"type": "string"}});
        for (k, v) in extra.as_object().into_iter().flatten() {
            properties[k] = v.clone();
        }
        json!({"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
               "items": {"type": "object", "required": ["name"], "properties": properties}})
    };
    json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "releases.example.io"},
        "spec": {
            "group": "example.io", "scope": "Namespaced",
            "names": {"plural": "releases", "singular": "release", "kind": "Release"},
            "versions": [{"name": "v1", "served": true, "storage": true, "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "properties": {
                        "interval": {"type": "string"},
                        "timeout": {"type": "string"},
                        "replicas": {"type": "integer"},
                        "suspend": {"type": "boolean"},
                        "paused": {"type": "boolean"},
                        "args": {"type": "array", "items": {"type": "string"}},
                        "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
                        "dependsOn": named(json!({"namespace": {"type": "string"}})),
                        "env": named(json!({"value": {"type": "string"}})),
                        "values": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                        "chart": {"type": "object", "properties": {"spec": {"type": "object", "properties": {
                            "chart": {"type": "string"}, "version": {"type": "string"}}}}},
                    }},
                    "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                }}},
            }],
        },
    })
}

fn resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk("example.io", "v1", "Release"), "releases")
}

fn rendered(name: &str) -> Value {
    json!({
        "apiVersion": "example.io/v1", "kind": "Release",
        "metadata": {"name": name, "namespace": "default", "labels": {"a": "1", "b": "2"}},
        "spec": {
            "interval": "5m", "replicas": 2, "suspend": false,
            "args": ["--a", "--b", "--c"],
            "tags": ["x", "y"],
            "dependsOn": [{"name": "cert-manager"}, {"name": "istio", "namespace": "istio-system"}],
            "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
            "values": {"image": {"tag": "1"}, "hosts": ["h1", "h2"], "n": 3},
            "chart": {"spec": {"chart": "portal", "version": "1.0.0"}},
        },
    })
}

fn theirs(name: &str) -> Value {
    json!({
        "apiVersion": "example.io/v1", "kind": "Release",
        "metadata": {"name": name, "namespace": "default", "labels": {"c": "3"}},
        "spec": {"timeout": "1m", "tags": ["z"], "dependsOn": [{"name": "other"}],
                 "env": [{"name": "OTHER", "value": "x"}]},
    })
}

/// One edit of the rendered object; each is a way templates or profiles change between passes.
fn edit(object: &mut Value, which: u8, pick: usize) {
    let spec = &mut object["spec"];
    let remove_at = |list: &mut Value, pick: usize| {
        if let Some(items) = list.as_array_mut()
            && !items.is_empty()
        {
            let i = pick % items.len();
            items.remove(i);
        }
    };
    match which {
        0 => remove_at(&mut spec["args"], pick),
        1 => remove_at(&mut spec["dependsOn"], pick),
        2 => remove_at(&mut spec["env"], pick),
        3 => {
            if let Some(items) = spec["env"].as_array_mut()
                && !items.is_empty()
            {
                let i = pick % items.len();
                items[i]["value"] = json!(format!("changed-{pick}"));
            }
        }
        4 => {
            if let Some(items) = spec["dependsOn"].as_array_mut() {
                items.push(json!({"name": format!("new-{}", pick % 3)}));
            }
        }
        5 => {
            if let Some(items) = spec["dependsOn"].as_array_mut() {
                items.reverse();
            }
        }
        6 => {
            if let Some(items) = spec["args"].as_array_mut() {
                items.reverse();
            }
        }
        7 => remove_at(&mut spec["tags"], pick),
        8 => {
            spec["replicas"] = if pick.is_multiple_of(2) {
                json!(3)
            } else {
                json!(2)
            }
        }
        9 => {
            if let Some(labels) = object["metadata"]["labels"].as_object_mut() {
                labels.remove(if pick.is_multiple_of(2) { "a" } else { "b" });
            }
        }
        10 => remove_at(&mut spec["values"]["hosts"], pick),
        11 => spec["suspend"] = Value::Null,
        12 => spec["timeout"] = json!(if pick.is_multiple_of(2) { "1m" } else { "2m" }),
        13 => {
            if let Some(fields) = spec.as_object_mut() {
                fields.remove(["interval", "chart", "values", "env"][pick % 4]);
            }
        }
        14 => spec["values"]["n"] = json!(3.0),
        15 => spec["paused"] = Value::Null,
        16 => {
            if let Some(items) = spec["tags"].as_array_mut() {
                items.push(json!(["z", "w"][pick % 2]));
            }
        }
        17 => spec["env"] = json!([]),
        18 => spec["values"]["image"] = json!({}),
        19 => {
            if let Some(items) = spec["env"].as_array_mut() {
                items.push(json!({"name": "OTHER", "value": if pick.is_multiple_of(2) { "x" } else { "y" }}));
            }
        }
        _ => {}
    }
}

/// The object without what every write or read changes regardless of content.
fn comparable(mut object: Value) -> Value {
    if let Some(meta) = object["metadata"].as_object_mut() {
        meta.remove("resourceVersion");
        meta.remove("generation");
    }
    if let Some(entries) = object["metadata"]["managedFields"].as_array_mut() {
        for entry in entries {
            if let Some(entry) = entry.as_object_mut() {
                entry.remove("time");
            }
        }
    }
    object
}

async fn server() -> Server {
    let server = apiserver::start(ServerConfig {
        simulators: SimConfig::none(),
        ..ServerConfig::default()
    })
    .await
    .expect("server starts");
    let crds: Api<DynamicObject> = Api::all_with(
        server.client(),
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("apiextensions.k8s.io", "v1", "CustomResourceDefinition"),
            "customresourcedefinitions",
        ),
    );
    let definition: DynamicObject = serde_json::from_value(crd()).expect("a valid CRD");
    crds.create(&PostParams::default(), &definition)
        .await
        .expect("CRD created");
    server
}

async fn apply(api: &Api<DynamicObject>, manager: &str, object: &Value, dry_run: bool) -> Value {
    let name = object["metadata"]["name"].as_str().unwrap_or_default().to_owned();
    let mut params = PatchParams::apply(manager).force();
    params.dry_run = dry_run;
    let written = api
        .patch(&name, &params, &Patch::Apply(object))
        .await
        .expect("apply succeeds");
    serde_json::to_value(written).expect("serialisable")
}

/// Sets up a stored object as our manager and another left it, applies `edits` to the rendered object, and
/// returns `(unchanged says, the dry run says)`.
async fn case(api: &Api<DynamicObject>, name: &str, edits: &[(u8, usize)]) -> (bool, bool) {
    apply(api, ME, &rendered(name), false).await;
    let stored = apply(api, OTHER, &theirs(name), false).await;
    let mut next = rendered(name);
    for (which, pick) in edits {
        edit(&mut next, *which, *pick);
    }
    let predicted = unchanged(&stored, &next, Write::Apply(ME));
    let dry = apply(api, ME, &next, true).await;
    let actual = same_value(&comparable(dry), &comparable(stored), false);
    (predicted, actual)
}

#[test]
fn unchanged_agrees_with_the_servers_apply_dry_run() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let server = runtime.block_on(server());
    let api: Api<DynamicObject> = Api::namespaced_with(server.client(), "default", &resource());
    let mut runner = TestRunner::new(Config {
        cases: 160,
        ..Config::default()
    });
    let counter = std::cell::Cell::new(0u32);
    let outcomes = std::cell::RefCell::new([0u32; 2]);
    let edits = prop::collection::vec((0u8..21, 0usize..8), 0..3);
    runner
        .run(&edits, |edits| {
            counter.set(counter.get() + 1);
            let name = format!("r{}", counter.get());
            let (predicted, actual) = runtime.block_on(case(&api, &name, &edits));
            outcomes.borrow_mut()[usize::from(actual)] += 1;
            prop_assert_eq!(predicted, actual, "edits {:?}", edits);
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    // Both answers occur, so the property is not vacuous.
    let [changed, same] = *outcomes.borrow();
    assert!(changed > 10 && same > 10, "changed {changed}, unchanged {same}");
    runtime.block_on(server.shutdown());
}

/// A named list of edits (kind, pick) and whether the edited object must count as unchanged.
type Case = (&'static str, &'static [(u8, usize)], bool);

/// The hand-written cases of the issue, against the server: shrinking lists is a change, restating them is not.
#[test]
fn shrinking_lists_is_a_change_on_the_server_too() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let server = runtime.block_on(server());
    let api: Api<DynamicObject> = Api::namespaced_with(server.client(), "default", &resource());
    let cases: [Case; 7] = [
        ("steady", &[], true),
        ("depends-on-entry-removed", &[(1, 0)], false),
        ("env-entry-removed", &[(2, 1)], false),
        ("args-item-removed", &[(0, 2)], false),
        ("values-list-item-removed", &[(10, 0)], false),
        ("depends-on-reordered", &[(5, 0)], true),
        ("same-number-as-float", &[(8, 1), (14, 0)], true),
    ];
    for (name, edits, expected) in cases {
        let (predicted, actual) = runtime.block_on(case(&api, name, edits));
        assert_eq!((predicted, actual), (expected, expected), "{name}");
    }
    runtime.block_on(server.shutdown());
}

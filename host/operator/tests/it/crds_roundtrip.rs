//! Round trip of the PlatformMesh type (upstream `FuzzPlatformMeshRoundTrip`): JSON that deserialises into a
//! `PlatformMesh` serialises back into JSON that deserialises into an equal value and serialises identically.
//! Seeds cover every spec section; proptest then generates spec-shaped JSON with random field subsets and values
//! (including wrong types, which must fail cleanly rather than round-trip differently).

use platform_mesh_operator::crd::PlatformMesh;
use proptest::prelude::*;
use serde_json::{Value, json};

fn assert_round_trip(input: &Value) {
    let Ok(first) = serde_json::from_value::<PlatformMesh>(input.clone()) else {
        return;
    };
    let encoded = serde_json::to_value(&first).unwrap();
    let second: PlatformMesh = serde_json::from_value(encoded.clone()).unwrap();
    assert_eq!(first, second, "typed value changed over a round trip of {input}");
    assert_eq!(
        encoded,
        serde_json::to_value(&second).unwrap(),
        "JSON changed over a round trip of {input}"
    );
}

fn wrap(spec: Value) -> Value {
    json!({"apiVersion": "core.platform-mesh.io/v1alpha1", "kind": "PlatformMesh",
           "metadata": {"name": "pm", "namespace": "ns"}, "spec": spec})
}

#[test]
fn seeds_round_trip() {
    let seeds = [
        json!({}),
        json!({"exposure": {"baseDomain": "example.com", "port": 443, "protocol": "https"}}),
        json!({"kcp": {"providerConnections": [{"secret": "s", "path": "root:a", "adminAuth": true}],
                       "extraProviderConnections": [{"secret": "t", "apiExportName": "e", "external": true}],
                       "extraDefaultAPIBindings": [{"workspaceTypePath": "root", "export": "x", "path": "root:y"}],
                       "extraWorkspaces": [{"path": "root:z", "type": {"name": "universal", "path": "root"}}]}}),
        json!({"ocm": {"repo": {"name": "r"}, "component": {}, "referencePath": [{"name": "a"}]}}),
        json!({"featureToggles": [{"name": "feature-x", "parameters": {"k": "v"}}, {}]}),
        json!({"wait": {"resourceTypes": [{"group": "", "version": "v1", "kind": "Pod", "namespace": "n",
            "matchLabels": {"a": "b"}, "matchExpressions": [{"key": "k", "operator": "In", "values": ["v"]}],
            "conditionType": "Ready", "conditionStatus": "True"}]}}),
        json!({"wait": {}}),
        json!({"values": {"a": {"b": [1, 2, null]}}, "infraValues": {"x": true}, "profileConfigMap": {"name": "p"}}),
    ];
    for seed in seeds {
        let object = wrap(seed);
        serde_json::from_value::<PlatformMesh>(object.clone()).expect("seed is a valid PlatformMesh");
        assert_round_trip(&object);
    }
}

#[test]
fn empty_kcp_is_left_out_and_nil_equals_empty() {
    let pm: PlatformMesh = serde_json::from_value(wrap(json!({"kcp": {}}))).unwrap();
    let encoded = serde_json::to_value(&pm).unwrap();
    assert!(encoded["spec"].get("kcp").is_none());
    let without: PlatformMesh = serde_json::from_value(wrap(json!({}))).unwrap();
    assert_eq!(pm, without);
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i32>().prop_map(Value::from),
        "[a-z:.-]{0,12}".prop_map(Value::from),
    ]
}

fn free_form() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// An object with a random subset of `fields`, each from its strategy.
fn object_of(fields: Vec<(&'static str, BoxedStrategy<Value>)>) -> BoxedStrategy<Value> {
    let parts: Vec<BoxedStrategy<Option<(&'static str, Value)>>> = fields
        .into_iter()
        .map(|(name, strategy)| prop::option::of(strategy.prop_map(move |v| (name, v))).boxed())
        .collect();
    parts
        .prop_map(|entries| {
            Value::Object(
                entries
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect(),
            )
        })
        .boxed()
}

fn text() -> BoxedStrategy<Value> {
    prop_oneof![12 => "[a-z:-]{0,10}".prop_map(Value::from), 1 => scalar()].boxed()
}

fn list_of(item: BoxedStrategy<Value>) -> BoxedStrategy<Value> {
    prop::collection::vec(item, 0..3).prop_map(Value::from).boxed()
}

fn connection() -> BoxedStrategy<Value> {
    let flag = || any::<bool>().prop_map(Value::from).boxed();
    object_of(vec![
        ("secret", text()),
        ("path", text()),
        ("rawPath", text()),
        ("endpointSliceName", text()),
        ("apiExportName", text()),
        ("external", flag()),
        ("namespace", text()),
        ("adminAuth", flag()),
    ])
}

fn spec() -> BoxedStrategy<Value> {
    let named = || object_of(vec![("name", text())]);
    let wait_item = object_of(vec![
        ("group", text()),
        ("version", text()),
        ("kind", text()),
        ("name", text()),
        ("namespace", text()),
        (
            "matchLabels",
            prop::collection::btree_map("[a-z]{1,4}", "[a-z]{0,4}", 0..3)
                .prop_map(|m| json!(m))
                .boxed(),
        ),
        (
            "matchExpressions",
            list_of(object_of(vec![
                ("key", text()),
                ("operator", text()),
                ("values", list_of(text())),
            ])),
        ),
        ("conditionType", text()),
        ("conditionStatus", text()),
    ]);
    object_of(vec![
        (
            "exposure",
            object_of(vec![
                ("baseDomain", text()),
                ("port", any::<i32>().prop_map(Value::from).boxed()),
                ("protocol", text()),
            ]),
        ),
        (
            "kcp",
            object_of(vec![
                ("providerConnections", list_of(connection())),
                ("extraProviderConnections", list_of(connection())),
                (
                    "extraDefaultAPIBindings",
                    list_of(object_of(vec![
                        ("workspaceTypePath", text()),
                        ("export", text()),
                        ("path", text()),
                    ])),
                ),
                (
                    "extraWorkspaces",
                    list_of(object_of(vec![
                        ("path", text()),
                        ("type", object_of(vec![("name", text()), ("path", text())])),
                    ])),
                ),
            ]),
        ),
        ("values", free_form().boxed()),
        ("infraValues", free_form().boxed()),
        (
            "ocm",
            object_of(vec![
                ("repo", named()),
                ("component", named()),
                ("referencePath", list_of(named())),
            ]),
        ),
        (
            "featureToggles",
            list_of(object_of(vec![
                ("name", text()),
                (
                    "parameters",
                    prop::collection::btree_map("[a-z]{1,4}", "[a-z]{0,4}", 0..3)
                        .prop_map(|m| json!(m))
                        .boxed(),
                ),
            ])),
        ),
        ("wait", object_of(vec![("resourceTypes", list_of(wait_item))])),
        (
            "profileConfigMap",
            object_of(vec![("name", text()), ("namespace", text())]),
        ),
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Property: whatever spec-shaped JSON deserialises, round-trips to an equal value and identical JSON.
    #[test]
    fn generated_specs_round_trip(spec in spec()) {
        assert_round_trip(&wrap(spec));
    }
}

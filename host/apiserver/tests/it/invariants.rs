//! Property tests over random operation sequences against the store.
//!
//! Properties: (1) every change gets a resourceVersion strictly greater than any before it, and the store's
//! version never decreases; (2) server-side apply is idempotent: re-applying the configuration a manager applied
//! last changes nothing (same object, same resourceVersion).

use apiserver::resources::ResourceInfo;
use apiserver::ssa::{self, Writer};
use apiserver::store::{DeleteOptions, PLAIN, Store};
use proptest::prelude::*;
use serde_json::{Value, json};

#[derive(Clone, Debug)]
enum Op {
    Create(u8),
    Update(u8, u8),
    Apply(u8, u8, u8),
    Delete(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..4).prop_map(Op::Create),
        (0u8..4, 0u8..3).prop_map(|(n, v)| Op::Update(n, v)),
        (0u8..4, 0u8..2, 0u8..3).prop_map(|(n, m, v)| Op::Apply(n, m, v)),
        (0u8..4).prop_map(Op::Delete),
    ]
}

fn configmaps(store: &Store) -> std::sync::Arc<ResourceInfo> {
    store
        .cluster(PLAIN)
        .and_then(|c| c.resource("", "v1", "configmaps"))
        .expect("configmaps are built in")
}

fn cm(n: u8, data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("c{n}"), "namespace": "default"}, "data": data})
}

fn rv(obj: &Value) -> u64 {
    obj.pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn apply(store: &mut Store, info: &ResourceInfo, n: u8, manager: &str, applied: &Value) -> Option<Value> {
    let live = store
        .cluster(PLAIN)?
        .get(&info.key(), "default", &format!("c{n}"))
        .cloned();
    let w = Writer {
        manager,
        api_version: "v1",
        subresource: "",
        schema: None,
        now: "2026-01-01T00:00:00Z",
    };
    let merged = ssa::apply(live.as_ref(), applied, &w, true).ok()?;
    match live {
        None => store.create(PLAIN, info, merged).ok(),
        Some(_) => store.update(PLAIN, info, merged).ok().map(|w| w.object),
    }
}

proptest! {
    #[test]
    fn versions_increase_and_reapply_is_a_fixed_point(ops in proptest::collection::vec(op(), 1..40)) {
        let mut store = Store::new(1000);
        let info = configmaps(&store);
        let mut last = store.rv();
        for op in ops {
            let before = store.rv();
            let written = match op {
                Op::Create(n) => store.create(PLAIN, &info, cm(n, json!({"v": "0"}))).ok(),
                Op::Update(n, v) => store.update(PLAIN, &info, cm(n, json!({"v": v.to_string()}))).ok().map(|w| w.object),
                Op::Delete(n) => store.delete(PLAIN, &info, "default", &format!("c{n}"), &DeleteOptions::default()).ok(),
                Op::Apply(n, m, v) => {
                    let manager = format!("m{m}");
                    let applied = cm(n, json!({format!("k{m}"): v.to_string()}));
                    let first = apply(&mut store, &info, n, &manager, &applied);
                    let after_first = store.rv();
                    let again = apply(&mut store, &info, n, &manager, &applied);
                    prop_assert_eq!(store.rv(), after_first, "a re-apply must not write");
                    prop_assert_eq!(&first, &again);
                    first
                }
            };
            prop_assert!(store.rv() >= before);
            if let Some(obj) = written.filter(|_| store.rv() > before) {
                prop_assert!(rv(&obj) > last, "new version {} after {}", rv(&obj), last);
            }
            last = store.rv();
        }
    }
}

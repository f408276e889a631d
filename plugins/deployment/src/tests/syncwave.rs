//! Argo CD sync waves (spec §5.8).

use serde_json::{Map, Value, json};

use crate::vars::calculate_sync_waves;

fn waves(services: Value) -> Value {
    let mut map: Map<String, Value> = services.as_object().cloned().unwrap_or_default();
    calculate_sync_waves(&mut map);
    Value::Object(map)
}

fn dep(name: &str) -> Value {
    json!({"name": name, "namespace": "ns"})
}

#[test]
fn empty_services_stay_empty() {
    assert_eq!(waves(json!({})), json!({}));
}

#[test]
fn services_without_dependencies_get_wave_zero() {
    let out = waves(json!({"a": {}, "b": {"enabled": true}}));
    assert_eq!(
        out,
        json!({"a": {"syncWave": 0}, "b": {"enabled": true, "syncWave": 0}})
    );
}

#[test]
fn dependencies_layer_the_waves() {
    let out = waves(
        json!({"a": {}, "b": {}, "c": {"dependsOn": [dep("a")]}, "d": {"dependsOn": [dep("c"), dep("b")]}}),
    );
    assert_eq!(
        [
            &out["a"]["syncWave"],
            &out["b"]["syncWave"],
            &out["c"]["syncWave"],
            &out["d"]["syncWave"]
        ],
        [&json!(0), &json!(0), &json!(1), &json!(2)]
    );
}

#[test]
fn a_chain_counts_up_from_the_end() {
    let out = waves(
        json!({"A": {"dependsOn": [dep("B")]}, "B": {"dependsOn": [dep("C")]}, "C": {"dependsOn": [dep("D")]}, "D": {}}),
    );
    assert_eq!(
        [
            &out["D"]["syncWave"],
            &out["C"]["syncWave"],
            &out["B"]["syncWave"],
            &out["A"]["syncWave"]
        ],
        [&json!(0), &json!(1), &json!(2), &json!(3)]
    );
}

#[test]
fn a_diamond_puts_both_middles_on_one_wave() {
    let out = waves(
        json!({"A": {"dependsOn": [dep("B"), dep("C")]}, "B": {"dependsOn": [dep("D")]}, "C": {"dependsOn": [dep("D")]}, "D": {}}),
    );
    assert_eq!(
        [
            &out["D"]["syncWave"],
            &out["B"]["syncWave"],
            &out["C"]["syncWave"],
            &out["A"]["syncWave"]
        ],
        [&json!(0), &json!(1), &json!(1), &json!(2)]
    );
}

#[test]
fn user_configured_waves_are_kept_with_their_type() {
    let out = waves(json!({"a": {"syncWave": 5, "dependsOn": [dep("b")]}, "b": {}, "f": {"syncWave": 2.5}}));
    assert_eq!(out["a"]["syncWave"], json!(5));
    assert_eq!(out["f"]["syncWave"], json!(2.5));
}

#[test]
fn user_configured_waves_count_for_dependants() {
    let out = waves(json!({"a": {"syncWave": 5}, "b": {"dependsOn": [dep("a")]}}));
    assert_eq!(out["b"]["syncWave"], json!(6));
}

#[test]
fn a_float_user_wave_is_truncated_for_dependants() {
    let out = waves(json!({"a": {"syncWave": 2.9}, "b": {"dependsOn": [dep("a")]}}));
    assert_eq!(out["b"]["syncWave"], json!(3));
}

#[test]
fn unknown_dependencies_are_ignored() {
    let out = waves(json!({"a": {"dependsOn": [dep("missing")]}}));
    assert_eq!(out["a"]["syncWave"], json!(0));
}

#[test]
fn malformed_depends_on_is_tolerated() {
    let out = waves(json!({
        "b": {},
        "not-a-list": {"dependsOn": "b"},
        "bad-items": {"dependsOn": ["b", 3, {"name": ""}, {"namespace": "x"}]},
        "mixed": {"dependsOn": [{"nope": 1}, dep("b")]},
    }));
    assert_eq!(out["not-a-list"]["syncWave"], json!(0));
    assert_eq!(out["bad-items"]["syncWave"], json!(0));
    assert_eq!(out["mixed"]["syncWave"], json!(1));
}

#[test]
fn a_service_that_is_not_a_map_is_left_alone_and_others_processed() {
    let out = waves(json!({"odd": "text", "a": {}}));
    assert_eq!(out["odd"], json!("text"));
    assert_eq!(out["a"]["syncWave"], json!(0));
}

#[test]
fn cycles_terminate() {
    let out = waves(json!({"a": {"dependsOn": [dep("b")]}, "b": {"dependsOn": [dep("a")]}}));
    assert!(out["a"]["syncWave"].as_i64().is_some() && out["b"]["syncWave"].as_i64().is_some());
}

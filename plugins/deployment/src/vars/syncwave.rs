//! Argo CD sync waves (spec §5.8): a service's wave is one more than the highest wave among the services it
//! depends on; a numeric `syncWave` the user set is kept and used as is.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

/// The names of the services `config` depends on: every `dependsOn` item that is a map with a non-empty `name`.
fn dependencies(config: &Value) -> Vec<String> {
    config
        .get("dependsOn")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|item| item.get("name").and_then(Value::as_str))
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A user-configured wave: a numeric `syncWave` (floats truncated).
fn user_wave(config: &Value) -> Option<i64> {
    let wave = config.get("syncWave")?;
    wave.as_i64().or_else(|| wave.as_f64().map(|f| f.trunc() as i64))
}

/// Computes the waves and writes `syncWave` into every service whose config is a map and whose wave the user did
/// not set. Cycles end after `services + 1` rounds.
pub fn calculate_sync_waves(services: &mut Map<String, Value>) {
    let mut waves: BTreeMap<String, i64> = BTreeMap::new();
    let mut fixed: BTreeMap<String, bool> = BTreeMap::new();
    for (name, config) in services.iter() {
        let user = user_wave(config);
        waves.insert(name.clone(), user.unwrap_or(0));
        fixed.insert(name.clone(), user.is_some());
    }
    let deps: BTreeMap<String, Vec<String>> = services
        .iter()
        .map(|(name, config)| (name.clone(), dependencies(config)))
        .collect();
    for _ in 0..=services.len() {
        let mut changed = false;
        for (name, dependencies) in &deps {
            if fixed[name] {
                continue;
            }
            let highest = dependencies.iter().filter_map(|d| waves.get(d)).max();
            if let Some(highest) = highest {
                let wave = waves[name].max(highest + 1);
                if wave != waves[name] {
                    waves.insert(name.clone(), wave);
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    for (name, config) in services.iter_mut() {
        if let (Value::Object(map), false) = (config, fixed[name]) {
            map.insert("syncWave".into(), json!(waves[name]));
        }
    }
}

//! Setting image versions inside a Helm values YAML document (spec §4.7 `set_helm_values`).

use serde_json::{Map, Value};

use super::error::YamlError;

/// Parses `yaml` (empty or `null` → empty map), sets each dot-separated path to its version string — creating
/// maps along the way and replacing any non-map intermediate — and serialises the result with [`super::to_yaml`].
///
/// A path is split on every `.`; an empty path addresses the key `""`.
pub fn set_helm_values(yaml: &str, updates: &[(String, String)]) -> Result<String, YamlError> {
    let mut root = if yaml.trim().is_empty() {
        Map::new()
    } else {
        match super::from_yaml(yaml)? {
            Value::Object(map) => map,
            Value::Null => Map::new(),
            other => {
                let kind = match other {
                    Value::Array(_) => "a sequence",
                    _ => "a scalar",
                };
                return Err(YamlError::new(format!(
                    "helm values must be a mapping, found {kind}"
                )));
            }
        }
    };
    for (path, version) in updates {
        set_path(&mut root, path, version);
    }
    super::to_yaml(&Value::Object(root))
}

fn set_path(root: &mut Map<String, Value>, path: &str, version: &str) {
    let segments: Vec<&str> = path.split('.').collect();
    let (leaf, parents) = segments.split_last().unwrap_or((&"", &[]));
    let mut current = root;
    for segment in parents {
        let slot = current
            .entry((*segment).to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        let Value::Object(next) = slot else {
            unreachable!("slot was just made an object")
        };
        current = next;
    }
    current.insert((*leaf).to_string(), Value::String(version.to_string()));
}

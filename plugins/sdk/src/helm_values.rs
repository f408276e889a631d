//! Helm values paths, as the image version store's helpers use them (upstream spec §4.7): a path is a
//! dot-separated list of map keys (`image.tag`), setting a path creates the maps along it, and a non-map value in
//! the way is replaced by a new map.
//!
//! The Resource subroutine writes image versions into HelmRelease `spec.values` (a JSON object) and into Argo CD
//! Application `spec.source.helm.values` (a YAML string); the Deployment subroutine merges the stored versions
//! into the objects it renders. Both use these functions, so both agree on what a path means.
//!
//! ```
//! use platform_mesh_plugin_sdk::helm_values::{set_path, string_at};
//! let mut values = serde_json::json!({"image": "legacy", "replicas": 2});
//! set_path(&mut values, "image.tag", "1.2.3");
//! assert_eq!(string_at(&values, "image.tag"), Some("1.2.3"));
//! assert_eq!(values["replicas"], 2);
//! ```

use serde_json::{Map, Value};

use crate::{Host, ImageVersion, RenderError};

/// Splits a dot-separated path into its keys. The empty path is one empty key, like Go's `strings.Split`.
pub fn split_path(path: &str) -> Vec<&str> {
    path.split('.').collect()
}

/// Sets the string `version` at `path` inside `values`, creating maps along the path and replacing any non-map
/// value in the way (including `values` itself) by an empty map.
pub fn set_path(values: &mut Value, path: &str, version: &str) {
    let keys = split_path(path);
    let Some((leaf, parents)) = keys.split_last() else {
        return;
    };
    let mut node = values;
    for key in parents {
        node = as_map(node)
            .entry(key.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    as_map(node).insert(leaf.to_string(), Value::String(version.to_owned()));
}

/// The map inside `value`, after replacing a non-map value by an empty map.
fn as_map(value: &mut Value) -> &mut Map<String, Value> {
    if !value.is_object() {
        *value = Value::Object(Map::new());
    }
    match value {
        Value::Object(map) => map,
        _ => unreachable!("replaced by a map above"),
    }
}

/// The value at `path`, if every key along it exists.
pub fn value_at<'v>(values: &'v Value, path: &str) -> Option<&'v Value> {
    split_path(path)
        .into_iter()
        .try_fold(values, |node, key| node.as_object()?.get(key))
}

/// The string at `path`; `None` if it is absent or not a string.
pub fn string_at<'v>(values: &'v Value, path: &str) -> Option<&'v str> {
    value_at(values, path).and_then(Value::as_str)
}

/// Parses Helm values given as YAML text (`name` names it in errors): empty text, or a document holding only
/// `null`, is an empty map; anything but a map is an error.
pub fn parse_values(host: &dyn Host, name: &str, yaml: &str) -> Result<Value, RenderError> {
    if yaml.trim().is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    match host.parse_yaml(name, yaml)? {
        Value::Null => Ok(Value::Object(Map::new())),
        map @ Value::Object(_) => Ok(map),
        other => Err(RenderError {
            source: name.to_owned(),
            line: None,
            column: None,
            message: format!("Helm values must be a mapping, found {}", type_name(&other)),
        }),
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

/// Upstream's `SetHelmValues`: parses the YAML `yaml` (see [`parse_values`]), sets every update's version at its
/// path in order, and serialises the result back to YAML with sorted keys (so with no updates the YAML is only
/// normalised). Invalid YAML is an error naming `name`.
pub fn set_helm_values(
    host: &dyn Host,
    name: &str,
    yaml: &str,
    updates: &[ImageVersion],
) -> Result<String, RenderError> {
    let mut values = parse_values(host, name, yaml)?;
    for update in updates {
        set_path(&mut values, &update.path, &update.version);
    }
    host.to_yaml(&values)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::FakeHost;

    fn update(path: &str, version: &str) -> ImageVersion {
        ImageVersion {
            path: path.into(),
            version: version.into(),
        }
    }

    /// The fake host parses JSON (a subset of YAML) and prints JSON; decode its output to compare values.
    fn values_after(yaml: &str, updates: &[ImageVersion]) -> Result<Value, RenderError> {
        let text = set_helm_values(&FakeHost::new(), "values", yaml, updates)?;
        Ok(serde_json::from_str(&text).expect("the fake host prints JSON"))
    }

    #[test]
    fn split_path_splits_on_dots_and_keeps_the_empty_path() {
        assert_eq!(split_path("image.tag"), ["image", "tag"]);
        assert_eq!(split_path("tag"), ["tag"]);
        assert_eq!(split_path(""), [""]);
    }

    #[test]
    fn empty_yaml_becomes_a_map_with_the_update() {
        assert_eq!(
            values_after("", &[update("image.tag", "1.0")]).unwrap(),
            json!({"image": {"tag": "1.0"}})
        );
        assert_eq!(values_after("null", &[]).unwrap(), json!({}));
    }

    #[test]
    fn existing_tag_is_replaced_and_other_keys_are_kept() {
        let yaml = r#"{"image": {"tag": "0.9", "repository": "r"}, "replicas": 2}"#;
        assert_eq!(
            values_after(yaml, &[update("image.tag", "1.0")]).unwrap(),
            json!({"image": {"tag": "1.0", "repository": "r"}, "replicas": 2})
        );
    }

    #[test]
    fn nested_paths_are_created() {
        assert_eq!(
            values_after("{}", &[update("a.b.c.tag", "2")]).unwrap(),
            json!({"a": {"b": {"c": {"tag": "2"}}}})
        );
    }

    #[test]
    fn several_updates_apply_in_order() {
        let updates = [
            update("image.tag", "1"),
            update("sidecar.tag", "2"),
            update("image.tag", "3"),
        ];
        assert_eq!(
            values_after("{}", &updates).unwrap(),
            json!({"image": {"tag": "3"}, "sidecar": {"tag": "2"}})
        );
    }

    #[test]
    fn a_non_map_value_in_the_way_is_replaced_by_a_map() {
        assert_eq!(
            values_after(r#"{"image": "nginx"}"#, &[update("image.tag", "1")]).unwrap(),
            json!({"image": {"tag": "1"}})
        );
        let mut scalar = json!(5);
        set_path(&mut scalar, "tag", "1");
        assert_eq!(scalar, json!({"tag": "1"}));
    }

    #[test]
    fn invalid_yaml_and_non_map_documents_are_errors() {
        let invalid = values_after("{not json", &[]).unwrap_err();
        assert_eq!(invalid.source, "values");
        let list = values_after("[1, 2]", &[]).unwrap_err();
        assert!(list.message.contains("must be a mapping, found a list"), "{list}");
    }

    #[test]
    fn no_updates_only_normalises() {
        assert_eq!(
            values_after(r#"{"b": 1, "a": {"x": true}}"#, &[]).unwrap(),
            json!({"a": {"x": true}, "b": 1})
        );
    }

    #[test]
    fn lookups_follow_maps_only() {
        let values = json!({"image": {"tag": "1.0", "n": 3}, "list": [1]});
        assert_eq!(string_at(&values, "image.tag"), Some("1.0"));
        assert_eq!(string_at(&values, "image.n"), None);
        assert_eq!(value_at(&values, "image.n"), Some(&json!(3)));
        assert_eq!(value_at(&values, "list.0"), None);
        assert_eq!(value_at(&values, "image.tag.deeper"), None);
    }
}

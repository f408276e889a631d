//! Template strings inside `spec.values` (spec §5.6.4 step 4).

use serde_json::json;

use super::host;
use crate::vars::render_templates_in_value;

fn data() -> serde_json::Value {
    json!({"baseDomain": "example.com", "port": "8443", "Values": {"baseDomain": "example.com"}})
}

#[test]
fn strings_with_templates_render_simple_nested_and_multiple_expressions() {
    let h = host();
    let out = render_templates_in_value(
        &h,
        &json!({"a": "{{ .baseDomain }}", "b": "https://{{ .Values.baseDomain }}:{{ .port }}/x"}),
        &data(),
    );
    assert_eq!(
        out,
        json!({"a": "example.com", "b": "https://example.com:8443/x"})
    );
}

#[test]
fn strings_without_templates_are_untouched() {
    let h = host();
    let value = json!(["plain", "{ single", "", "${org-name}", "only {{ open"]);
    assert_eq!(render_templates_in_value(&h, &value, &data()), value);
}

#[test]
fn maps_and_lists_are_walked_and_non_strings_kept() {
    let h = host();
    let value = json!({"m": {"l": ["{{ .baseDomain }}", 1, 2.5, true, null]}});
    assert_eq!(
        render_templates_in_value(&h, &value, &data()),
        json!({"m": {"l": ["example.com", 1, 2.5, true, null]}})
    );
}

#[test]
fn an_invalid_template_keeps_the_original_string() {
    let h = host();
    let value = json!("{{ .baseDomain ");
    let value2 = json!("x {{ if }} y");
    assert_eq!(render_templates_in_value(&h, &value, &data()), value);
    assert_eq!(render_templates_in_value(&h, &value2, &data()), value2);
}

#[test]
fn a_missing_variable_renders_no_value() {
    let h = host();
    assert_eq!(
        render_templates_in_value(&h, &json!("value-{{ .missing }}"), &data()),
        json!("value-<no value>")
    );
}

#[test]
fn the_deployment_functions_are_available() {
    let h = host();
    let value = json!({"d": "{{ .missing | default \"fallback\" }}", "o": "{{ or .missing \"x\" }}", "n": "{{ not .missing }}"});
    assert_eq!(
        render_templates_in_value(&h, &value, &data()),
        json!({"d": "fallback", "o": "x", "n": "true"})
    );
}

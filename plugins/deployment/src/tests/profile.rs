//! Profile loading (spec §5.5): naming, required key and sections, errors with ConfigMap, key and line.

use platform_mesh_plugin_sdk::Target;
use serde_json::json;

use super::{NS, context, host, profile_config_map};
use crate::{profile, settings::Settings};

const MINIMAL: &str = "infra:\n  a: 1\ncomponents:\n  services: {}\n";

#[test]
fn the_default_name_is_the_platform_mesh_name_plus_profile() {
    let settings = Settings::from_context(&context(json!({})));
    assert_eq!(
        settings.profile_config_map(),
        (NS.to_owned(), "platform-mesh-profile".to_owned())
    );
}

#[test]
fn spec_profile_config_map_names_it_with_the_namespace_defaulting() {
    let settings = Settings::from_context(&context(json!({"profileConfigMap": {"name": "custom"}})));
    assert_eq!(
        settings.profile_config_map(),
        (NS.to_owned(), "custom".to_owned())
    );
    let settings = Settings::from_context(&context(
        json!({"profileConfigMap": {"name": "custom", "namespace": "profiles"}}),
    ));
    assert_eq!(
        settings.profile_config_map(),
        ("profiles".to_owned(), "custom".to_owned())
    );
}

#[test]
fn sections_are_extracted() {
    let h = host().with_object(
        Target::Runtime,
        profile_config_map("platform-mesh-profile", MINIMAL),
    );
    let loaded = profile::load(&h, &Settings::from_context(&context(json!({})))).unwrap();
    assert_eq!(loaded.infra["a"], json!(1));
    assert_eq!(loaded.components["services"], json!({}));
}

#[test]
fn a_custom_reference_is_read_from_its_namespace() {
    let mut cm = profile_config_map("custom", MINIMAL);
    cm["metadata"]["namespace"] = json!("profiles");
    let h = host().with_object(Target::Runtime, cm);
    let settings = Settings::from_context(&context(
        json!({"profileConfigMap": {"name": "custom", "namespace": "profiles"}}),
    ));
    assert!(profile::load(&h, &settings).is_ok());
}

#[test]
fn a_missing_config_map_names_it() {
    let h = host();
    let error = profile::load(&h, &Settings::from_context(&context(json!({}))))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("ConfigMap platform-mesh-system/platform-mesh-profile"),
        "{error}"
    );
    assert!(error.contains("does not exist"), "{error}");
}

#[test]
fn a_config_map_without_the_key_names_the_key() {
    let mut cm = profile_config_map("platform-mesh-profile", MINIMAL);
    cm["data"] = json!({"other.yaml": "x"});
    let h = host().with_object(Target::Runtime, cm);
    let error = profile::load(&h, &Settings::from_context(&context(json!({}))))
        .unwrap_err()
        .to_string();
    assert!(error.contains("does not contain key profile.yaml"), "{error}");
}

#[test]
fn a_yaml_syntax_error_names_config_map_key_and_line() {
    let text = "infra:\n  a: 1\ncomponents:\n  services: [unclosed\n  b: 2\n";
    let h = host().with_object(Target::Runtime, profile_config_map("platform-mesh-profile", text));
    let error = profile::load(&h, &Settings::from_context(&context(json!({}))))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("ConfigMap platform-mesh-system/platform-mesh-profile key profile.yaml line "),
        "{error}"
    );
}

#[test]
fn a_missing_section_is_a_clear_error() {
    let h = host();
    let error = profile::parse("test", "infra:\n  a: 1\n", &h)
        .unwrap_err()
        .to_string();
    assert!(error.contains("no `components` section"), "{error}");
    let error = profile::parse("test", "infra: 3\ncomponents: {}\n", &h)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("`infra` must be a mapping") && error.contains("line 1"),
        "{error}"
    );
}

#[test]
fn a_template_error_in_components_names_the_config_map_line() {
    let text =
        "infra:\n  a: 1\ncomponents:\n  services:\n    x:\n      v: \"{{ .baseDomain | nosuchfunc }}\"\n";
    let h = host();
    let loaded = profile::parse("ConfigMap ns/p key profile.yaml", text, &h).unwrap();
    let error = loaded.render_components(&h, &json!({})).unwrap_err().to_string();
    assert!(
        error.contains("ConfigMap ns/p key profile.yaml line 6"),
        "{error}"
    );
    assert!(error.contains("nosuchfunc"), "{error}");
}

#[test]
fn no_value_fields_are_found_with_their_paths() {
    let mut paths = Vec::new();
    let object = json!({"spec": {"componentRef": {"name": "<no value>"}, "list": ["ok", "x-<no value>"]}});
    crate::directories::missing_value_paths(&object, &mut String::new(), &mut paths);
    assert_eq!(paths, [".spec.componentRef.name", ".spec.list[1]"]);
}

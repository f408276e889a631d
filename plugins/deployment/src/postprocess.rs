//! Post-processing of rendered objects of `infra/infra` and `components/infra` (spec §5.7.4): keep the Argo CD
//! source fields the Resource subroutine owns, and write the image versions it recorded into Helm values.

use platform_mesh_plugin_sdk::{Host, LogLevel, ObjectRef, Target};
use serde_json::{Map, Value};

/// Marks Application source fields the Resource subroutine sets (spec §5.10).
pub const PLACEHOLDER: &str = "PLACEHOLDER_TO_BE_SET_BY_RESOURCE_SUBROUTINE";

fn is_kind(object: &Value, api_version: &str, kind: &str) -> bool {
    object.get("apiVersion").and_then(Value::as_str) == Some(api_version)
        && object.get("kind").and_then(Value::as_str) == Some(kind)
}

/// Applies both post-processing steps to one rendered object.
pub fn post_process(host: &dyn Host, object: &mut Value) {
    if is_kind(object, "argoproj.io/v1alpha1", "Application") {
        let existing = ObjectRef::of(object).and_then(|r| host.get(&Target::Infra, &r).ok().flatten());
        preserve_argo_source_fields(object, existing.as_ref());
        merge_image_versions_into_application(host, object);
    } else if is_kind(object, "helm.toolkit.fluxcd.io/v2", "HelmRelease") {
        merge_image_versions_into_helm_release(host, object);
    }
}

/// Keeps the existing Application's `repoURL`/`targetRevision` where the rendered object has the placeholder or
/// disagrees, so that the Resource subroutine's values survive. No existing object: untouched.
pub fn preserve_argo_source_fields(rendered: &mut Value, existing: Option<&Value>) {
    let Some(existing) = existing else { return };
    let field = |o: &Value, key: &str| {
        o.pointer(&format!("/spec/source/{key}"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let (existing_url, existing_revision) = (field(existing, "repoURL"), field(existing, "targetRevision"));
    let (rendered_url, rendered_revision) = (field(rendered, "repoURL"), field(rendered, "targetRevision"));
    let Some(source) = rendered
        .pointer_mut("/spec/source")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let real = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty() && s != PLACEHOLDER);
    // A rendered placeholder takes whatever the cluster has; a real value defers to a differing real one.
    if rendered_url.as_deref() == Some(PLACEHOLDER) || (real(&existing_url) && existing_url != rendered_url) {
        source.insert("repoURL".into(), Value::String(existing_url.unwrap_or_default()));
    }
    if rendered_revision.as_deref() == Some(PLACEHOLDER)
        || (real(&existing_revision) && existing_revision != rendered_revision)
    {
        source.remove("targetRevision");
    }
}

/// Sets `value` at the dot-separated `path` of `map`, creating maps and replacing non-map values on the way.
pub fn set_path(map: &mut Map<String, Value>, path: &str, value: Value) {
    let mut parts: Vec<&str> = path.split('.').collect();
    let last = parts.pop().unwrap_or_default();
    let mut current = map;
    for part in parts {
        let entry = current
            .entry(part.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        let Value::Object(next) = entry else { return };
        current = next;
    }
    current.insert(last.to_owned(), value);
}

fn namespace_and_name(object: &Value) -> Option<(String, String)> {
    let r = ObjectRef::of(object)?;
    Some((r.namespace.unwrap_or_default(), r.name))
}

/// Writes the recorded image versions into `spec.values` and releases a suspended HelmRelease the store marks as
/// unsuspended.
pub fn merge_image_versions_into_helm_release(host: &dyn Host, object: &mut Value) {
    let Some((namespace, name)) = namespace_and_name(object) else {
        return;
    };
    let versions = host.image_versions(&namespace, &name);
    if !versions.is_empty()
        && let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut)
    {
        let values = spec.entry("values").or_insert_with(|| Value::Object(Map::new()));
        if !values.is_object() {
            *values = Value::Object(Map::new());
        }
        if let Value::Object(values) = values {
            for v in versions {
                set_path(values, &v.path, Value::String(v.version));
            }
        }
    }
    if host.is_unsuspended(&namespace, &name)
        && let Some(suspend) = object.pointer_mut("/spec/suspend")
        && *suspend == Value::Bool(true)
    {
        *suspend = Value::Bool(false);
    }
}

/// Writes the recorded image versions into the Application's `spec.source.helm.values` YAML string (created if
/// absent). Failures are logged and leave the object as rendered.
pub fn merge_image_versions_into_application(host: &dyn Host, object: &mut Value) {
    let Some((namespace, name)) = namespace_and_name(object) else {
        return;
    };
    let versions = host.image_versions(&namespace, &name);
    if versions.is_empty() {
        return;
    }
    let current = object
        .pointer("/spec/source/helm/values")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let parsed = if current.trim().is_empty() {
        Ok(Value::Object(Map::new()))
    } else {
        host.parse_yaml(&format!("Application {namespace}/{name} helm values"), &current)
    };
    let mut values = match parsed {
        Ok(Value::Object(map)) => map,
        Ok(_) => Map::new(),
        Err(e) => {
            host.log(
                LogLevel::Warn,
                "cannot merge image versions into Application values",
                &[("application", &name), ("error", &e.to_string())],
            );
            return;
        }
    };
    for v in versions {
        set_path(&mut values, &v.path, Value::String(v.version));
    }
    let Ok(yaml) = host.to_yaml(&Value::Object(values)) else {
        return;
    };
    let Some(source) = object.pointer_mut("/spec/source").and_then(Value::as_object_mut) else {
        return;
    };
    let helm = source.entry("helm").or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(helm) = helm {
        helm.insert("values".into(), Value::String(yaml));
    }
}

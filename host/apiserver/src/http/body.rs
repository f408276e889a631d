//! Request bodies and the object fix-ups every write path shares.

use base64::Engine;
use serde_json::{Value, json};

use crate::resources::ResourceInfo;
use crate::status::{ApiError, ApiResult, Cause};

/// Parses a JSON or YAML body into an object.
pub fn parse_object(body: &[u8]) -> ApiResult<Value> {
    let v: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(json_err) => serde_norway::from_slice(body).map_err(|_| {
            ApiError::bad_request(format!(
                "the body of the request could not be decoded: {json_err}"
            ))
        })?,
    };
    if !v.is_object() {
        return Err(ApiError::bad_request("the body of the request must be an object"));
    }
    Ok(v)
}

/// The object with `apiVersion` and `kind` of the version the client asked for.
pub fn present(obj: &Value, info: &ResourceInfo, version: &str) -> Value {
    info.present(obj, version)
}

/// Checks that a body's `apiVersion`/`kind`, if given, match the endpoint.
pub fn check_type(obj: &Value, info: &ResourceInfo, version: &str) -> ApiResult<()> {
    if let Some(k) = obj.get("kind").and_then(Value::as_str)
        && k != info.kind
    {
        return Err(ApiError::bad_request(format!(
            "the kind of the object ({k}) does not match the kind of the endpoint ({})",
            info.kind
        )));
    }
    if let Some(av) = obj.get("apiVersion").and_then(Value::as_str) {
        let group = av.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
        if group != info.group {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({av}) does not match the expected API version ({})",
                info.api_version(version)
            )));
        }
    }
    Ok(())
}

/// Puts the namespace of the URL on the object (400 if the body names another one).
pub fn set_namespace(obj: &mut Value, info: &ResourceInfo, ns: Option<&str>) -> ApiResult<()> {
    if !info.namespaced {
        return Ok(());
    }
    let Some(ns) = ns else {
        return Err(ApiError::bad_request(
            "a namespaced resource needs a namespace in the request path",
        ));
    };
    match obj.pointer("/metadata/namespace").and_then(Value::as_str) {
        Some(have) if !have.is_empty() && have != ns => Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        )),
        _ => {
            if !obj.get("metadata").is_some_and(Value::is_object) {
                obj["metadata"] = json!({});
            }
            obj["metadata"]["namespace"] = json!(ns);
            Ok(())
        }
    }
}

/// Validates an object name like the server's DNS-subdomain rule (CRD objects, most built-ins).
pub fn validate_name(info: &ResourceInfo, name: &str) -> ApiResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 253
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.' || c == ':')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    if ok {
        return Ok(());
    }
    let message = format!(
        "Invalid value: {name:?}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \
         '-' or '.', and must start and end with an alphanumeric character"
    );
    Err(ApiError::invalid(
        &info.group,
        &info.kind,
        name,
        vec![Cause::new("FieldValueInvalid", message, "metadata.name")],
    ))
}

/// Folds a Secret's `stringData` into base64 `data`, as the real server does on every write.
pub fn fold_string_data(info: &ResourceInfo, obj: &mut Value) {
    if !(info.group.is_empty() && info.plural == "secrets") {
        return;
    }
    let Some(Value::Object(sd)) = obj.as_object_mut().and_then(|m| m.remove("stringData")) else {
        return;
    };
    if !obj.get("data").is_some_and(Value::is_object) {
        obj["data"] = json!({});
    }
    for (k, v) in sd {
        let text = v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
        obj["data"][k] = json!(base64::engine::general_purpose::STANDARD.encode(text));
    }
}

/// Checks a CRD's essentials so a broken one never becomes a served type.
pub fn validate_crd(obj: &Value) -> ApiResult<()> {
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut causes = Vec::new();
    let s = |p: &str| {
        obj.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let (group, plural, kind) = (s("/spec/group"), s("/spec/names/plural"), s("/spec/names/kind"));
    for (v, field) in [
        (&group, "spec.group"),
        (&plural, "spec.names.plural"),
        (&kind, "spec.names.kind"),
    ] {
        if v.is_empty() {
            causes.push(Cause::new("FieldValueRequired", "Required value", field));
        }
    }
    if !group.is_empty() && !plural.is_empty() && name != format!("{plural}.{group}") {
        causes.push(Cause::new(
            "FieldValueInvalid",
            format!("Invalid value: {name:?}: must be spec.names.plural+\".\"+spec.group"),
            "metadata.name",
        ));
    }
    let versions = obj
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if versions.is_empty() {
        causes.push(Cause::new(
            "FieldValueRequired",
            "Required value: must have exactly one version marked as storage version",
            "spec.versions",
        ));
    } else if versions
        .iter()
        .filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
        .count()
        != 1
    {
        causes.push(Cause::new(
            "FieldValueInvalid",
            "Invalid value: must have exactly one version marked as storage version",
            "spec.versions",
        ));
    }
    match obj.pointer("/spec/scope").and_then(Value::as_str) {
        Some("Namespaced" | "Cluster") => {}
        _ => causes.push(Cause::new(
            "FieldValueNotSupported",
            "Unsupported value: supported values: \"Cluster\", \"Namespaced\"",
            "spec.scope",
        )),
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "apiextensions.k8s.io",
            "CustomResourceDefinition",
            name,
            causes,
        ))
    }
}

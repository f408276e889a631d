//! Schema helpers shared by the CRD types: free-form values, condition lists and atomic maps.

use schemars::{Schema, SchemaGenerator, json_schema};

/// A free-form JSON object whose content the API server keeps as is (`x-kubernetes-preserve-unknown-fields`).
pub fn preserve_unknown(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": true,
    })
}

/// A `metav1.Condition` list, declared as a list-map keyed by `type` so that server-side apply merges entries.
pub fn conditions(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "array",
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["type"],
        "items": condition_item(),
    })
}

/// One `metav1.Condition` with the upstream validations (reason pattern, lengths, status enum).
fn condition_item() -> serde_json::Value {
    serde_json::json!({
        "type": "object",
        "required": ["lastTransitionTime", "message", "reason", "status", "type"],
        "properties": {
            "lastTransitionTime": {"type": "string", "format": "date-time"},
            "message": {"type": "string", "maxLength": 32768},
            "observedGeneration": {"type": "integer", "format": "int64", "minimum": 0},
            "reason": {
                "type": "string",
                "maxLength": 1024,
                "minLength": 1,
                "pattern": "^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$",
            },
            "status": {"type": "string", "enum": ["True", "False", "Unknown"]},
            "type": {"type": "string", "maxLength": 316},
        },
    })
}

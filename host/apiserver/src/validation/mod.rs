//! Validation of custom objects against their CRD's openAPIV3Schema, like a real API server: defaults are
//! applied, unknown fields pruned (unless `x-kubernetes-preserve-unknown-fields`), types, formats of numbers and
//! strings, list sizes and required fields checked, and `x-kubernetes-validations` CEL rules evaluated with
//! `self` (and `oldSelf` for transition rules on updates). Failures are 422 Invalid with one cause per field.

mod cel;
mod schema;

use serde_json::Value;

use crate::resources::ResourceInfo;
use crate::status::{ApiError, ApiResult};

/// Defaults, prunes and validates `obj` (of `info` at `version`); `old` is the stored object on updates.
/// With `strict` (`fieldValidation=Strict`), pruned unknown fields fail the request instead of being dropped
/// silently.
///
/// # Errors
///
/// 422 Invalid with the failing field paths as causes; 400 BadRequest naming unknown fields under `strict`.
pub fn validate(
    info: &ResourceInfo,
    version: &str,
    obj: &mut Value,
    old: Option<&Value>,
    strict: bool,
) -> ApiResult<()> {
    let Some(s) = info.schema(version) else {
        return Ok(());
    };
    let mut causes = Vec::new();
    schema::check_root(s, obj, old, &mut causes);
    let (unknown, causes): (Vec<_>, Vec<_>) = causes
        .into_iter()
        .partition(|c| c.reason == schema::UNKNOWN_FIELD);
    if strict && !unknown.is_empty() {
        let fields: Vec<String> = unknown
            .iter()
            .map(|c| format!("unknown field {:?}", c.field))
            .collect();
        let mut e = ApiError::bad_request(format!(
            "{} in version {version:?} cannot be handled as a {}: strict decoding error: {}",
            info.kind,
            info.kind,
            fields.join(", ")
        ));
        e.causes = unknown;
        return Err(e);
    }
    if causes.is_empty() {
        return Ok(());
    }
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    Err(ApiError::invalid(&info.group, &info.kind, name, causes))
}

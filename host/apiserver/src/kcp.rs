//! kcp logical clusters: deterministic names for workspace paths and what creating a Workspace registers.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::resources::ResourceInfo;
use crate::status::{ApiError, ApiResult, Cause};

/// kcp's immutability rule: an APIResourceSchema's spec never changes (a changed schema gets a new name, and the
/// APIExport moves to it).
///
/// # Errors
///
/// 422 Invalid when an update of an APIResourceSchema changes its spec.
pub fn check_immutable(info: &ResourceInfo, old: Option<&Value>, new: &Value) -> ApiResult<()> {
    let Some(old) = old else { return Ok(()) };
    if info.group != "apis.kcp.io"
        || info.plural != "apiresourceschemas"
        || old.get("spec") == new.get("spec")
    {
        return Ok(());
    }
    let name = new
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    Err(ApiError::invalid(
        &info.group,
        &info.kind,
        name,
        vec![Cause::new(
            "FieldValueInvalid",
            "Invalid value: \"object\": APIResourceSchema spec is immutable; create a schema with a new name instead",
            "spec",
        )],
    ))
}

/// The logical cluster name of a workspace path: `root` for `root`, otherwise 16 base-36 characters derived from
/// the path (the shape kcp's own names have), so that the same path always gets the same name.
pub fn logical_cluster_name(path: &str) -> String {
    if path == "root" {
        return "root".to_string();
    }
    let digest = Sha256::digest(path.as_bytes());
    let mut n = u128::from_be_bytes(digest[..16].try_into().unwrap_or([0; 16]));
    let alphabet = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = String::with_capacity(16);
    for _ in 0..16 {
        out.push(alphabet[(n % 36) as usize] as char);
        n /= 36;
    }
    out
}

/// Fills in `spec.cluster` of a Workspace created in the workspace at `parent_path` (when empty) and returns
/// `(child path, logical cluster name)` for the server to register.
pub fn prepare_workspace(ws: &mut Value, parent_path: &str) -> Option<(String, String)> {
    let name = ws.pointer("/metadata/name")?.as_str()?.to_string();
    let path = format!("{parent_path}:{name}");
    let cluster = match ws
        .pointer("/spec/cluster")
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
    {
        Some(c) => c.to_string(),
        None => {
            let c = logical_cluster_name(&path);
            if !ws.get("spec").is_some_and(Value::is_object) {
                ws["spec"] = json!({});
            }
            ws["spec"]["cluster"] = json!(c);
            c
        }
    };
    Some((path, cluster))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_deterministic_and_distinct() {
        assert_eq!(logical_cluster_name("root"), "root");
        let a = logical_cluster_name("root:orgs");
        assert_eq!(a, logical_cluster_name("root:orgs"));
        assert_ne!(a, logical_cluster_name("root:providers"));
        assert_eq!(a.len(), 16);
        assert!(a.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
    }

    #[test]
    fn workspace_gets_a_cluster_unless_it_names_one() {
        let mut ws = json!({"metadata": {"name": "orgs"}});
        let (path, cluster) = prepare_workspace(&mut ws, "root").unwrap();
        assert_eq!(path, "root:orgs");
        assert_eq!(ws["spec"]["cluster"], json!(cluster));
        let mut named = json!({"metadata": {"name": "x"}, "spec": {"cluster": "abc"}});
        assert_eq!(prepare_workspace(&mut named, "root").unwrap().1, "abc");
    }
}

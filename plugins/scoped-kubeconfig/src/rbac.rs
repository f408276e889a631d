//! The rights of the provider's ServiceAccount: `cluster-admin` inside the provider workspace, as upstream binds
//! it (spec §4.8.2 step 8), unless the Provider opts into least privilege with the annotation
//! [`ACCESS_RULES_ANNOTATION`] (spec §11.4 item 42): then ClusterRole `<p>-provider` with the annotated (or the
//! default provider) rules. The Providers schema is upstream's; the opt-in needs no field of its own.

use platform_mesh_plugin_sdk::{ClusterError, Gvk, Host, Target};
use plugin_common::converge::create_or_update;
use serde_json::{Value, json};

use crate::Names;

/// `rbac.authorization.k8s.io/v1` ClusterRole.
pub fn role_kind() -> Gvk {
    Gvk::new("rbac.authorization.k8s.io", "v1", "ClusterRole")
}

/// `rbac.authorization.k8s.io/v1` ClusterRoleBinding.
pub fn binding_kind() -> Gvk {
    Gvk::new("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding")
}

/// The default provider role: publish APIs (everything in `apis.kcp.io`, including serving an export's virtual
/// workspace through `apiexports/content`), UI content, and the namespaced basics a provider's controller uses.
pub fn default_rules() -> Value {
    let all = json!(["*"]);
    json!([
        {"apiGroups": ["apis.kcp.io"], "resources": ["*"], "verbs": all},
        {"apiGroups": ["ui.platform-mesh.io"], "resources": ["*"], "verbs": all},
        {"apiGroups": [""], "resources": ["namespaces", "configmaps", "secrets", "events"],
         "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
    ])
}

/// The annotation on a Provider that opts into least privilege: `default` for [`default_rules`], or a JSON list of
/// RBAC PolicyRules. Without it the ServiceAccount is bound to `cluster-admin`, as upstream binds it.
pub const ACCESS_RULES_ANNOTATION: &str = "providers.platform-mesh.io/access-rules";

/// What a Provider's ServiceAccount is granted.
#[derive(Clone, Debug, PartialEq)]
pub enum Access {
    /// `cluster-admin` inside the provider workspace (upstream's, the default).
    ClusterAdmin,
    /// ClusterRole `<p>-provider` with these rules.
    Rules(Value),
}

/// The access the Provider's annotations ask for.
///
/// # Errors
/// A message naming the annotation when its value is neither `default` nor a non-empty JSON list of rule objects.
pub fn access_of(annotations: Option<&Value>) -> Result<Access, String> {
    let Some(text) = annotations
        .and_then(|a| a.get(ACCESS_RULES_ANNOTATION))
        .and_then(Value::as_str)
        .map(str::trim)
    else {
        return Ok(Access::ClusterAdmin);
    };
    if text == "default" {
        return Ok(Access::Rules(default_rules()));
    }
    let invalid = |why: &str| {
        format!(
            "annotation {ACCESS_RULES_ANNOTATION}: {why}; expected \"default\" or a JSON list of RBAC rules \
             ({{\"apiGroups\": [...], \"resources\": [...], \"verbs\": [...]}})"
        )
    };
    let rules: Value = serde_json::from_str(text).map_err(|e| invalid(&format!("not JSON ({e})")))?;
    match rules.as_array() {
        Some(items)
            if !items.is_empty() && items.iter().all(|r| r.get("verbs").is_some_and(Value::is_array)) =>
        {
            Ok(Access::Rules(rules))
        }
        Some(items) if items.is_empty() => Err(invalid("the list is empty")),
        _ => Err(invalid("every rule needs a verbs list")),
    }
}

/// Makes the binding `<p>-provider` grant `access`. A binding that already grants it is left as it is; one to
/// another role is replaced (roleRef is immutable), which happens only when the Provider's annotation changes.
pub fn grant(host: &dyn Host, target: &Target, names: &Names, access: &Access) -> Result<(), ClusterError> {
    let role = role_kind().object(None, &names.service_account);
    let role_name = match access {
        Access::ClusterAdmin => {
            // A role left from an earlier opt-in goes; reading first keeps steady state free of writes.
            if host.get(target, &role)?.is_some() {
                host.delete(target, &role)?;
            }
            "cluster-admin".to_owned()
        }
        Access::Rules(rules) => {
            create_or_update(host, target, &role, |r| r["rules"] = rules.clone())?;
            names.service_account.clone()
        }
    };
    let role_ref = json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role_name});
    let binding = binding_kind().object(None, &names.service_account);
    if let Some(existing) = host.get(target, &binding)?
        && existing.get("roleRef") != Some(&role_ref)
    {
        host.delete(target, &binding)?;
    }
    let subjects = json!([{"kind": "ServiceAccount", "name": names.service_account, "namespace": "default"}]);
    create_or_update(host, target, &binding, |b| {
        b["roleRef"] = role_ref;
        b["subjects"] = subjects;
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn access_follows_the_annotation() {
        assert_eq!(access_of(None), Ok(Access::ClusterAdmin));
        assert_eq!(access_of(Some(&json!({"other": "x"}))), Ok(Access::ClusterAdmin));
        assert_eq!(
            access_of(Some(&json!({ACCESS_RULES_ANNOTATION: " default "}))),
            Ok(Access::Rules(default_rules()))
        );
        let rules = json!([{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]);
        assert_eq!(
            access_of(Some(&json!({ACCESS_RULES_ANNOTATION: rules.to_string()}))),
            Ok(Access::Rules(rules))
        );
        for bad in [
            "",
            "{",
            "[]",
            "{\"verbs\": []}",
            "[{\"resources\": [\"x\"]}]",
            "[1]",
        ] {
            let error = access_of(Some(&json!({ACCESS_RULES_ANNOTATION: bad}))).unwrap_err();
            assert!(
                error.starts_with("annotation providers.platform-mesh.io/access-rules: "),
                "{error}"
            );
        }
    }
}

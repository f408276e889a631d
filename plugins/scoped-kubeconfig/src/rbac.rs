//! The rights of the provider's ServiceAccount (spec §11.4 item 42): ClusterRole `<p>-provider` with the
//! declared (or default) rules, or `cluster-admin` when the Provider asks for it.

use platform_mesh_plugin_sdk::{ClusterError, Gvk, Host, Target, converge::create_or_update};
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

/// Makes the binding `<p>-provider` grant what `access` (`spec.access`) declares.
pub fn grant(
    host: &dyn Host,
    target: &Target,
    names: &Names,
    access: Option<&Value>,
) -> Result<(), ClusterError> {
    let cluster_admin = access
        .and_then(|a| a.get("clusterAdmin"))
        .and_then(Value::as_bool)
        == Some(true);
    let role = role_kind().object(None, &names.service_account);
    let role_name = if cluster_admin {
        // A role left from before the Provider asked for cluster-admin goes; reading first keeps steady state
        // free of writes.
        if host.get(target, &role)?.is_some() {
            host.delete(target, &role)?;
        }
        "cluster-admin".to_owned()
    } else {
        let rules = access
            .and_then(|a| a.get("rules"))
            .filter(|r| r.as_array().is_some_and(|r| !r.is_empty()))
            .cloned()
            .unwrap_or_else(default_rules);
        create_or_update(host, target, &role, |r| r["rules"] = rules)?;
        names.service_account.clone()
    };
    let role_ref = json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role_name});
    let binding = binding_kind().object(None, &names.service_account);
    // roleRef is immutable: a binding to another role is replaced, not updated.
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

//! The objects behind a scoped kubeconfig in its connection workspace (spec §7.3 step 8): namespace `default`, a
//! ServiceAccount, a ClusterRole with the export's rules and two ClusterRoleBindings. Each is read first and
//! written only when missing or different, so a steady-state pass writes nothing to kcp.

use platform_mesh_plugin_sdk::{ClusterError, Gvk, Host, Target};
use serde_json::{Value, json};

/// The namespace of the ServiceAccount.
pub const SA_NAMESPACE: &str = "default";
/// kcp's ClusterRole granting access to a workspace.
const WORKSPACE_ACCESS_ROLE: &str = "system:kcp:workspace:access";

/// Creates `object` unless an object of its name exists; returns the stored object.
fn create_missing(host: &dyn Host, target: &Target, kind: &Gvk, object: Value) -> Result<Value, String> {
    let name = object["metadata"]["name"].as_str().unwrap_or_default().to_owned();
    let namespace = object["metadata"]["namespace"].as_str().map(str::to_owned);
    let what = format!("{} {name} in {target}", kind.kind);
    let reference = kind.object(namespace.as_deref(), name);
    if let Some(found) = host
        .get(target, &reference)
        .map_err(|e| format!("getting {what}: {e}"))?
    {
        return Ok(found);
    }
    match host.create(target, &object) {
        Ok(created) => Ok(created),
        Err(ClusterError::AlreadyExists(_)) => host
            .get(target, &reference)
            .map_err(|e| format!("getting {what}: {e}"))?
            .ok_or_else(|| format!("{what} vanished after it was created")),
        Err(e) => Err(format!("creating {what}: {e}")),
    }
}

/// Creates or updates a cluster-scoped object so that `fields` (top-level keys) equal the desired ones.
/// ClusterRoleBindings cannot change `roleRef`, so a binding with another role is replaced.
fn ensure_fields(host: &dyn Host, target: &Target, desired: Value, fields: &[&str]) -> Result<(), String> {
    let kind = Gvk::from_api_version(
        desired["apiVersion"].as_str().unwrap_or_default(),
        desired["kind"].as_str().unwrap_or_default(),
    );
    let name = desired["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let what = format!("{} {name} in {target}", kind.kind);
    let reference = kind.object(None, name);
    let current = host
        .get(target, &reference)
        .map_err(|e| format!("getting {what}: {e}"))?;
    let Some(mut current) = current else {
        host.create(target, &desired)
            .map_err(|e| format!("creating {what}: {e}"))?;
        return Ok(());
    };
    if fields.iter().all(|f| current.get(*f) == desired.get(*f)) {
        return Ok(());
    }
    if current.get("roleRef").is_some() && current.get("roleRef") != desired.get("roleRef") {
        host.delete(target, &reference)
            .map_err(|e| format!("deleting {what}: {e}"))?;
        host.create(target, &desired)
            .map_err(|e| format!("creating {what}: {e}"))?;
        return Ok(());
    }
    for field in fields {
        current[*field] = desired[*field].clone();
    }
    host.update(target, &current)
        .map_err(|e| format!("updating {what}: {e}"))?;
    Ok(())
}

fn binding(name: &str, role: &str, service_account: &str) -> Value {
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"kind": "ServiceAccount", "name": service_account, "namespace": SA_NAMESPACE}],
    })
}

/// Ensures the ServiceAccount `platform-mesh-provider-<secret>` and its RBAC in `workspace`; returns the
/// ServiceAccount's UID (empty if the server sets none).
pub fn ensure(host: &dyn Host, workspace: &str, secret: &str, rules: Vec<Value>) -> Result<String, String> {
    let target = Target::kcp(workspace);
    let name = format!("platform-mesh-provider-{secret}");
    create_missing(
        host,
        &target,
        &Gvk::new("", "v1", "Namespace"),
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": SA_NAMESPACE}}),
    )?;
    let sa = create_missing(
        host,
        &target,
        &Gvk::new("", "v1", "ServiceAccount"),
        json!({"apiVersion": "v1", "kind": "ServiceAccount",
               "metadata": {"name": name, "namespace": SA_NAMESPACE}}),
    )?;
    let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                      "metadata": {"name": name}, "rules": rules});
    ensure_fields(host, &target, role, &["rules"])?;
    let fields = ["roleRef", "subjects"];
    ensure_fields(host, &target, binding(&name, &name, &name), &fields)?;
    let access = format!("platform-mesh-workspace-access-{secret}");
    ensure_fields(
        host,
        &target,
        binding(&access, WORKSPACE_ACCESS_ROLE, &name),
        &fields,
    )?;
    Ok(sa
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned())
}

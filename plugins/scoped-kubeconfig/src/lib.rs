//! `ScopedKubeconfigSubroutine` (upstream spec §4.8.2), position 2 of the Provider chain: a ServiceAccount in the
//! provider workspace, a binding that grants it its rights, and a kubeconfig with its token, written as a Secret
//! into the workspace that holds the Provider.
//!
//! Rights: `cluster-admin` in the provider workspace, as upstream (an existing binding is kept as it is). Least
//! privilege (spec §11.4 item 42) is opt-in per Provider with the annotation
//! `providers.platform-mesh.io/access-rules` ([`rbac::ACCESS_RULES_ANNOTATION`]): `default` binds ClusterRole
//! `<name>-provider` with the default provider role ([`rbac::default_rules`]), a JSON list of rules binds it with
//! those rules.

use std::time::Duration;

use platform_mesh_plugin_sdk::{
    CallResult, ClusterError, Context, Failure, Gvk, Host, Plugin, PluginInfo, Reconciled, Target,
};
use plugin_common::converge::{create_or_update, ensure_exists};
use serde_json::{Value, json};

mod kubeconfig;
mod names;
pub mod rbac;

pub use names::Names;

/// The subroutine (and condition) name.
pub const NAME: &str = "ScopedKubeconfigSubroutine";
/// Held until the ServiceAccount, its binding and the kubeconfig Secret are removed.
pub const FINALIZER: &str = "providers.platform-mesh.io/scoped-kubeconfig";
/// Upstream waits 10 s for the workspace and the token.
const WAIT: Duration = Duration::from_secs(10);

/// The plugin.
pub struct ScopedKubeconfig;

fn core(kind: &str) -> Gvk {
    Gvk::new("", "v1", kind)
}

fn phase(phase: &str) -> Value {
    json!({"phase": phase})
}

fn failed(message: String, status: &Value) -> Failure {
    Failure::new(message).with_status(status.clone())
}

impl Plugin for ScopedKubeconfig {
    fn info() -> PluginInfo {
        PluginInfo::new(NAME, env!("CARGO_PKG_VERSION")).with_finalizer(FINALIZER)
    }

    fn process(host: &dyn Host, ctx: &Context) -> CallResult {
        let status = phase("ProvisioningKubeconfig");
        let names = Names::of(ctx)?;
        let Some(workspace) = host
            .get(&Target::kcp(names::PARENT), &names.workspace_ref())
            .map_err(|e| failed(e.to_string(), &status))?
        else {
            return Ok(Reconciled::stop_after(WAIT, "Waiting for provider workspace")
                .with_status(phase("ProvisioningWorkspace")));
        };
        if workspace.pointer("/status/phase").and_then(Value::as_str) != Some("Ready") {
            return Ok(
                Reconciled::stop_after(WAIT, "Waiting for provider workspace to become Ready")
                    .with_status(phase("ProvisioningWorkspace")),
            );
        }
        let target = Target::kcp(names.workspace_path());
        ensure_exists(host, &target, &namespace("default")).map_err(|e| {
            failed(
                format!("ensure namespace default in provider workspace: {e}"),
                &status,
            )
        })?;
        let sa = json!({"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": names.service_account, "namespace": "default"}});
        ensure_exists(host, &target, &sa).map_err(|e| {
            failed(
                format!("create ServiceAccount {}: {e}", names.service_account),
                &status,
            )
        })?;
        let access = rbac::access_of(ctx.field("/metadata/annotations")).map_err(|e| failed(e, &status))?;
        rbac::grant(host, &target, &names, &access).map_err(|e| failed(e.to_string(), &status))?;
        let Some(token) = token(host, &target, &names).map_err(|e| failed(e.to_string(), &status))? else {
            return Ok(
                Reconciled::stop_after(WAIT, "waiting for SA token to be populated").with_status(status),
            );
        };
        let cluster = workspace
            .pointer("/spec/cluster")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let server = format!("{}/clusters/{cluster}", kubeconfig::base_url(ctx));
        let text = kubeconfig::render(host, &server, &token)
            .map_err(|e| failed(format!("rendering the kubeconfig: {e}"), &status))?;
        let (secret_name, secret_namespace, key) = names.kubeconfig_secret(ctx);
        let user = ctx.object_target.clone();
        ensure_exists(host, &user, &namespace(&secret_namespace))
            .map_err(|e| failed(format!("ensure namespace {secret_namespace}: {e}"), &status))?;
        let secret = core("Secret").object(Some(&secret_namespace), &secret_name);
        create_or_update(host, &user, &secret, |s| {
            s["data"] = json!({key: kubeconfig::encode(&text)});
        })
        .map_err(|e| {
            failed(
                format!("write kubeconfig Secret {secret_namespace}/{secret_name}: {e}"),
                &status,
            )
        })?;
        Ok(Reconciled::ok().with_status(json!({
            "phase": "Ready",
            "providerKubeconfigSecretRef": {"name": secret_name, "namespace": secret_namespace},
        })))
    }

    fn finalize(host: &dyn Host, ctx: &Context) -> CallResult {
        let status = phase("Deleting");
        let names = Names::of(ctx)?;
        let target = Target::kcp(names.workspace_path());
        let delete = |kind: Gvk, namespace: Option<&str>, name: &str| match host
            .delete(&target, &kind.object(namespace, name))
        {
            Ok(_) | Err(ClusterError::NotFound(_)) => Ok(()),
            Err(e) => Err(failed(format!("delete {} {name}: {e}", kind.kind), &status)),
        };
        delete(rbac::binding_kind(), None, &names.service_account)?;
        delete(rbac::role_kind(), None, &names.service_account)?;
        delete(core("Secret"), Some("default"), &names.token_secret)?;
        delete(core("ServiceAccount"), Some("default"), &names.service_account)?;
        let reference = ctx.field("/status/providerKubeconfigSecretRef");
        let field = |k: &str| {
            reference
                .and_then(|r| r.get(k))
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        if let (Some(name), Some(namespace)) = (field("name"), field("namespace")) {
            match host.delete(&ctx.object_target, &core("Secret").object(Some(namespace), name)) {
                Ok(_) | Err(ClusterError::NotFound(_)) => {}
                Err(e) => return Err(failed(format!("delete Secret {namespace}/{name}: {e}"), &status)),
            }
        }
        Ok(Reconciled::ok().with_status(status))
    }
}

platform_mesh_plugin_sdk::export_plugin!(ScopedKubeconfig);

fn namespace(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
}

/// Keeps the ServiceAccount's token Secret in shape and returns `(token, ca.crt)` (base64, as stored) once the
/// token controller has filled both.
fn token(host: &dyn Host, target: &Target, names: &Names) -> Result<Option<(String, String)>, ClusterError> {
    let secret = core("Secret").object(Some("default"), &names.token_secret);
    let (_, stored) = create_or_update(host, target, &secret, |s| {
        s["type"] = json!("kubernetes.io/service-account-token");
        s["metadata"]["annotations"]["kubernetes.io/service-account.name"] = json!(names.service_account);
    })?;
    let data = |k: &str| {
        stored
            .pointer(&format!("/data/{}", k.replace('/', "~1")))
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    Ok(data("token").zip(data("ca.crt")))
}

#[cfg(test)]
mod tests;

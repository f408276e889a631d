//! `KubeconfigCopySubroutine` (upstream spec §4.9.4), position 4 of the ManagedProvider chain: copies the
//! kubeconfig the Provider chain wrote in kcp into a Secret in the ManagedProvider's namespace — of the runtime
//! cluster, or of the remote runtime cluster named by `spec.runtimeKubeconfigSecretName` (its Secret's key
//! `kubeconfig`; the host keeps one client per Secret version instead of building one per reconcile).
//!
//! Fix of spec §11.4 item 43: deletion removes the copy from the cluster it was copied to (the remote one when
//! configured) and from the namespace the status recorded.

use std::time::Duration;

use platform_mesh_plugin_sdk::{
    CallResult, ClusterError, Context, Failure, Gvk, Host, Plugin, PluginInfo, Reconciled, Target,
};
use plugin_common::converge::{create_or_update, ensure_exists};
use serde_json::{Value, json};

/// The subroutine (and condition) name.
pub const NAME: &str = "KubeconfigCopySubroutine";
/// Held until the copied Secret is deleted.
pub const FINALIZER: &str = "providers.platform-mesh.io/kubeconfig-secret";
const WAIT: Duration = Duration::from_secs(10);

/// The plugin.
pub struct KubeconfigCopy;

/// `(name, key)` of the copied Secret in the ManagedProvider's namespace.
pub use plugin_common::managed_provider::expected_secret as expected;
use plugin_common::managed_provider::provider_location as location;

fn secret_kind() -> Gvk {
    Gvk::new("", "v1", "Secret")
}

/// Where the copy goes: the remote runtime cluster of `spec.runtimeKubeconfigSecretName`, else the runtime
/// cluster.
pub fn copy_target(ctx: &Context) -> Target {
    match ctx
        .field("/spec/runtimeKubeconfigSecretName")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        Some(name) => Target::Remote {
            namespace: ctx.namespace().to_owned(),
            name: name.to_owned(),
            key: "kubeconfig".into(),
        },
        None => Target::Runtime,
    }
}

fn copy_failed(target: &Target, error: ClusterError) -> Failure {
    match target {
        Target::Remote { namespace, name, .. } => Failure::new(format!(
            "kubeconfig secret for runtime cluster {namespace}/{name}: {error}"
        )),
        _ => Failure::from(error),
    }
}

impl Plugin for KubeconfigCopy {
    fn info() -> PluginInfo {
        PluginInfo::new(NAME, env!("CARGO_PKG_VERSION")).with_finalizer(FINALIZER)
    }

    fn process(host: &dyn Host, ctx: &Context) -> CallResult {
        let (path, name) = location(ctx);
        let (secret_name, key) = expected(ctx);
        let namespace = ctx.namespace().to_owned();
        let kcp = Target::kcp(&path);
        let provider = host
            .get(
                &kcp,
                &Gvk::new("providers.platform-mesh.io", "v1alpha1", "Provider").object(None, &name),
            )
            .map_err(|e| Failure::new(format!("failed to get Provider {path}:{name}: {e}")))?
            .ok_or_else(|| Failure::new(format!("failed to get Provider {path}:{name}: not found")))?;
        let waiting = |phase: &str, message: String| {
            Ok(Reconciled::stop_after(WAIT, message).with_status(json!({"phase": phase})))
        };
        let reference = provider.pointer("/status/providerKubeconfigSecretRef");
        let field = |k: &str| {
            reference
                .and_then(|r| r.get(k))
                .and_then(Value::as_str)
                .unwrap_or_default()
        };
        let (ref_name, ref_namespace) = (field("name").to_owned(), field("namespace").to_owned());
        if reference.is_none() || ref_name.is_empty() {
            return waiting(
                "CopyingKubeconfig",
                "waiting for Provider to set providerKubeconfigSecretRef".into(),
            );
        }
        let wanted = json!({"name": secret_name, "namespace": namespace, "key": key});
        if provider.pointer("/spec/providerKubeconfigSecret") != Some(&wanted) {
            return waiting(
                "CopyingKubeconfigFailed",
                format!(
                    "providerKubeconfigSecretRef set on Provider {path}:{name} differs from the one set on \
                     ManagedProvider {namespace}/{}",
                    ctx.name()
                ),
            );
        }
        let source = host
            .get(&kcp, &secret_kind().object(Some(&ref_namespace), &ref_name))
            .map_err(|e| {
                Failure::new(format!(
                    "failed to get kubeconfig secret {ref_namespace}/{ref_name}: {e}"
                ))
            })?;
        let data = source
            .as_ref()
            .and_then(|s| s.pointer("/data"))
            .and_then(|d| d.get(&key))
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .map(str::to_owned);
        let Some(data) = data else {
            return waiting(
                "CopyingKubeconfig",
                "waiting for Provider to set kubeconfig in secret".into(),
            );
        };
        let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}});
        let target = copy_target(ctx);
        ensure_exists(host, &target, &ns).map_err(|e| copy_failed(&target, e))?;
        create_or_update(
            host,
            &target,
            &secret_kind().object(Some(&namespace), &secret_name),
            |s| {
                s["data"] = json!({key: data});
            },
        )
        .map_err(|e| copy_failed(&target, e))?;
        Ok(Reconciled::ok().with_status(
            json!({"providerKubeconfigSecretRef": {"name": secret_name, "namespace": namespace}}),
        ))
    }

    fn finalize(host: &dyn Host, ctx: &Context) -> CallResult {
        let reference = ctx.field("/status/providerKubeconfigSecretRef");
        let Some(name) = reference
            .and_then(|r| r.get("name"))
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
        else {
            return Ok(Reconciled::ok());
        };
        let namespace = reference
            .and_then(|r| r.get("namespace"))
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .unwrap_or(ctx.namespace());
        let target = copy_target(ctx);
        match host.delete(&target, &secret_kind().object(Some(namespace), name)) {
            Ok(_) | Err(ClusterError::NotFound(_)) => {
                Ok(Reconciled::ok().with_status(json!({"phase": "Deleting"})))
            }
            Err(e) => Err(Failure::new(format!(
                "failed to delete kubeconfig secret {namespace}/{name}: {e}"
            ))
            .with_status(json!({"phase": "Deleting"}))),
        }
    }
}

platform_mesh_plugin_sdk::export_plugin!(KubeconfigCopy);

#[cfg(test)]
mod tests {
    use platform_mesh_plugin_sdk::{Outcome, testing::FakeHost};

    use super::*;

    fn mp(status: Value) -> Context {
        Context::for_object(
            "managedprovider",
            json!({"metadata": {"name": "cowboys", "namespace": "pm"}, "spec": {}, "status": status}),
        )
    }

    fn provider(with_ref: bool) -> Value {
        let mut p = json!({"apiVersion": "providers.platform-mesh.io/v1alpha1", "kind": "Provider",
            "metadata": {"name": "cowboys"},
            "spec": {"providerKubeconfigSecret": {"name": "cowboys-provider-kubeconfig", "namespace": "pm", "key": "kubeconfig"}},
            "status": {}});
        if with_ref {
            p["status"]["providerKubeconfigSecretRef"] =
                json!({"name": "cowboys-provider-kubeconfig", "namespace": "pm"});
        }
        p
    }

    fn kcp_secret() -> Value {
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "cowboys-provider-kubeconfig", "namespace": "pm"},
               "data": {"kubeconfig": "a2M="}})
    }

    fn system() -> Target {
        Target::kcp("root:providers:system")
    }

    #[test]
    fn secret_ref_not_set_waits() {
        let host = FakeHost::new().with_object(system(), provider(false));
        let done = KubeconfigCopy::process(&host, &mp(json!({}))).unwrap();
        assert!(matches!(done.outcome, Outcome::Stop { .. }));
        assert_eq!(done.status_patch, Some(json!({"phase": "CopyingKubeconfig"})));
    }

    #[test]
    fn kcp_secret_read_failure_is_an_error() {
        let host = FakeHost::new().with_object(system(), provider(true)).with_error(
            "get",
            Some("Secret"),
            ClusterError::Forbidden("no".into()),
        );
        let failure = KubeconfigCopy::process(&host, &mp(json!({}))).unwrap_err();
        assert!(failure.message.starts_with("failed to get kubeconfig secret"));
    }

    #[test]
    fn happy_path_copies_and_sets_the_ref() {
        let host = FakeHost::new()
            .with_object(system(), provider(true))
            .with_object(system(), kcp_secret());
        let done = KubeconfigCopy::process(&host, &mp(json!({}))).unwrap();
        assert_eq!(
            done.status_patch,
            Some(
                json!({"providerKubeconfigSecretRef": {"name": "cowboys-provider-kubeconfig", "namespace": "pm"}})
            )
        );
        let copied = host.object(
            &Target::Runtime,
            &secret_kind().object(Some("pm"), "cowboys-provider-kubeconfig"),
        );
        assert_eq!(copied.unwrap()["data"], json!({"kubeconfig": "a2M="}));
    }

    #[test]
    fn provider_read_failure_is_an_error() {
        let host =
            FakeHost::new().with_error("get", Some("Provider"), ClusterError::Unavailable("kcp".into()));
        let failure = KubeconfigCopy::process(&host, &mp(json!({}))).unwrap_err();
        assert!(
            failure
                .message
                .starts_with("failed to get Provider root:providers:system:cowboys")
        );
    }

    #[test]
    fn custom_provider_reference_and_mismatching_secret_spec() {
        let mut p = provider(true);
        p["metadata"]["name"] = json!("other");
        let custom = Target::kcp("root:providers:custom");
        let host = FakeHost::new()
            .with_object(custom.clone(), p)
            .with_object(custom, kcp_secret());
        let mut ctx = mp(json!({}));
        ctx.object["spec"]["provider"] = json!({"path": "root:providers:custom", "name": "other"});
        let done = KubeconfigCopy::process(&host, &ctx).unwrap();
        assert!(done.status_patch.unwrap()["providerKubeconfigSecretRef"].is_object());
        ctx.object["spec"]["providerKubeconfigSecret"] = json!({"name": "elsewhere", "key": "kubeconfig"});
        let done = KubeconfigCopy::process(&host, &ctx).unwrap();
        assert_eq!(
            done.status_patch,
            Some(json!({"phase": "CopyingKubeconfigFailed"}))
        );
    }

    #[test]
    fn remote_runtime_cluster_gets_the_copy_and_loses_it_on_deletion() {
        let host = FakeHost::new()
            .with_object(system(), provider(true))
            .with_object(system(), kcp_secret());
        let mut ctx = mp(json!({}));
        ctx.object["spec"]["runtimeKubeconfigSecretName"] = json!("remote");
        KubeconfigCopy::process(&host, &ctx).unwrap();
        let remote = copy_target(&ctx);
        assert_eq!(
            remote,
            Target::Remote {
                namespace: "pm".into(),
                name: "remote".into(),
                key: "kubeconfig".into()
            }
        );
        let copy = secret_kind().object(Some("pm"), "cowboys-provider-kubeconfig");
        assert!(host.object(&remote, &copy).is_some());
        assert!(host.object(&Target::Runtime, &copy).is_none());
        ctx.object["status"] = json!({"providerKubeconfigSecretRef": {"name": "cowboys-provider-kubeconfig", "namespace": "pm"}});
        KubeconfigCopy::finalize(&host, &ctx).unwrap();
        assert!(host.object(&remote, &copy).is_none());
    }

    #[test]
    fn finalize_nil_ref_deletes_nothing_then_deletes_the_copy() {
        let host = FakeHost::new();
        assert_eq!(
            KubeconfigCopy::finalize(&host, &mp(json!({}))).unwrap(),
            Reconciled::ok()
        );
        assert!(host.calls().is_empty());
        let status = json!({"providerKubeconfigSecretRef": {"name": "cowboys-provider-kubeconfig", "namespace": "pm"}});
        KubeconfigCopy::finalize(&host, &mp(status.clone())).unwrap();
        assert_eq!(host.calls()[0].op, "delete");
        let failing = FakeHost::new().with_error("delete", None, ClusterError::Other("x".into()));
        assert!(KubeconfigCopy::finalize(&failing, &mp(status)).is_err());
    }
}

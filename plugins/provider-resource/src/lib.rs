//! `ProviderResourceSubroutine` (upstream spec §4.9.2), position 2 of the ManagedProvider chain: the Provider in
//! kcp that stands for this ManagedProvider, created or updated from its spec.
//!
//! Fix of spec §11.1 item 7: the finalizer `providers.platform-mesh.io/provider-resource` is always declared and
//! `spec.cleanupOnDelete` is read in `finalize`, so turning the flag off after creation can no longer leave a
//! finalizer nobody removes. Deletion waits back off per object (§11.1 item 6, `sdk::backoff`).

use platform_mesh_plugin_sdk::{
    CallResult, ClusterError, Context, Failure, Gvk, Host, ObjectRef, Plugin, PluginInfo, Reconciled, Target,
    backoff,
};
use plugin_common::converge::create_or_update;
use serde_json::{Value, json};

/// The subroutine (and condition) name.
pub const NAME: &str = "ProviderResourceSubroutine";
/// Held until the Provider is gone (when `spec.cleanupOnDelete` is true).
pub const FINALIZER: &str = "providers.platform-mesh.io/provider-resource";

/// The plugin.
pub struct ProviderResource;

pub use plugin_common::managed_provider::provider_location;

/// The kubeconfig Secret the Provider must write: `spec.providerKubeconfigSecret` (name, key) or
/// `<name>-provider-kubeconfig`/`kubeconfig`, always in the ManagedProvider's namespace.
pub fn expected_secret(ctx: &Context) -> Value {
    let spec = ctx.field("/spec/providerKubeconfigSecret");
    let field = |k: &str| {
        spec.and_then(|s| s.get(k))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let (name, key) = match spec {
        Some(_) => (
            field("name").unwrap_or_default(),
            field("key").unwrap_or_default(),
        ),
        None => (format!("{}-provider-kubeconfig", ctx.name()), "kubeconfig".into()),
    };
    json!({"name": name, "namespace": ctx.namespace(), "key": key})
}

fn provider_ref(name: &str) -> ObjectRef {
    Gvk::new("providers.platform-mesh.io", "v1alpha1", "Provider").object(None, name)
}

impl Plugin for ProviderResource {
    fn info() -> PluginInfo {
        PluginInfo::new(NAME, env!("CARGO_PKG_VERSION")).with_finalizer(FINALIZER)
    }

    fn process(host: &dyn Host, ctx: &Context) -> CallResult {
        let (path, name) = provider_location(ctx);
        let secret = expected_secret(ctx);
        let host_override = ctx
            .field("/spec/providerHostOverride")
            .and_then(Value::as_str)
            .filter(|h| !h.is_empty());
        create_or_update(host, &Target::kcp(&path), &provider_ref(&name), |p| {
            p["spec"]["providerKubeconfigSecret"] = secret;
            match host_override {
                Some(h) => p["spec"]["hostOverride"] = json!(h),
                None => {
                    if let Some(spec) = p["spec"].as_object_mut() {
                        spec.remove("hostOverride");
                    }
                }
            }
        })?;
        Ok(Reconciled::ok())
    }

    fn finalize(host: &dyn Host, ctx: &Context) -> CallResult {
        finalize_at(host, ctx, backoff::now())
    }
}

platform_mesh_plugin_sdk::export_plugin!(ProviderResource);

/// `finalize` at `now` (Unix seconds).
pub fn finalize_at(host: &dyn Host, ctx: &Context, now: i64) -> CallResult {
    if ctx.field("/spec/cleanupOnDelete").and_then(Value::as_bool) != Some(true) {
        return Ok(Reconciled::ok());
    }
    let deleting = json!({"phase": "Deleting"});
    let (path, name) = provider_location(ctx);
    let target = Target::kcp(&path);
    let failed = |e: ClusterError| {
        Failure::new(format!("failed to delete provider {name}: {e}")).with_status(deleting.clone())
    };
    let gone = match host.get(&target, &provider_ref(&name)).map_err(failed)? {
        None => true,
        Some(p)
            if p.pointer("/metadata/deletionTimestamp")
                .is_some_and(|t| !t.is_null()) =>
        {
            false
        }
        Some(_) => !host.delete(&target, &provider_ref(&name)).map_err(failed)?,
    };
    if gone {
        return Ok(Reconciled::ok().with_status(deleting));
    }
    let delay = backoff::wait_delay(ctx, &format!("{NAME}Finalize"), now);
    Ok(Reconciled::stop_after(delay, "Waiting for Provider to be deleted").with_status(deleting))
}

#[cfg(test)]
mod tests {
    use platform_mesh_plugin_sdk::{Outcome, testing::FakeHost};

    use super::*;

    fn mp(spec: Value) -> Context {
        Context::for_object(
            "managedprovider",
            json!({"metadata": {"name": "cowboys", "namespace": "pm"}, "spec": spec}),
        )
    }

    fn system() -> Target {
        Target::kcp("root:providers:system")
    }

    #[test]
    fn get_name_defaults() {
        assert_eq!(
            provider_location(&mp(json!({}))),
            ("root:providers:system".into(), "cowboys".into())
        );
    }

    #[test]
    fn finalizer_is_always_declared() {
        assert_eq!(ProviderResource::info().finalizers, [FINALIZER]);
    }

    #[test]
    fn process_happy_path_creates_the_provider() {
        let host = FakeHost::new();
        let done =
            ProviderResource::process(&host, &mp(json!({"providerHostOverride": "https://x"}))).unwrap();
        assert_eq!(done, Reconciled::ok());
        let p = host.object(&system(), &provider_ref("cowboys")).unwrap();
        assert_eq!(
            p["spec"],
            json!({"providerKubeconfigSecret": {"name": "cowboys-provider-kubeconfig", "namespace": "pm", "key": "kubeconfig"},
                   "hostOverride": "https://x"})
        );
        ProviderResource::process(&host, &mp(json!({"providerHostOverride": "https://x"}))).unwrap();
        assert_eq!(
            host.calls().iter().filter(|c| c.op != "get").count(),
            1,
            "steady state writes nothing"
        );
    }

    #[test]
    fn process_custom_provider_reference() {
        let host = FakeHost::new();
        let spec = json!({"provider": {"path": "root:providers:custom", "name": "other"},
                          "providerKubeconfigSecret": {"name": "kc", "key": "k"}});
        ProviderResource::process(&host, &mp(spec)).unwrap();
        let p = host
            .object(&Target::kcp("root:providers:custom"), &provider_ref("other"))
            .unwrap();
        assert_eq!(
            p["spec"]["providerKubeconfigSecret"],
            json!({"name": "kc", "namespace": "pm", "key": "k"})
        );
    }

    #[test]
    fn process_apply_fails() {
        let host =
            FakeHost::new().with_error("create", Some("Provider"), ClusterError::Forbidden("no".into()));
        assert!(ProviderResource::process(&host, &mp(json!({}))).is_err());
    }

    #[test]
    fn finalize_without_cleanup_touches_nothing() {
        let host = FakeHost::new();
        assert_eq!(finalize_at(&host, &mp(json!({})), 0).unwrap(), Reconciled::ok());
        assert!(host.calls().is_empty());
    }

    #[test]
    fn finalize_deletes_then_waits_then_is_done() {
        let host = FakeHost::new();
        let ctx = mp(json!({"cleanupOnDelete": true}));
        ProviderResource::process(&host, &ctx).unwrap();
        let done = finalize_at(&host, &ctx, 0).unwrap();
        assert!(
            matches!(done.outcome, Outcome::Stop { ref message, .. } if message == "Waiting for Provider to be deleted")
        );
        let done = finalize_at(&host, &ctx, 0).unwrap();
        assert_eq!(done, Reconciled::ok().with_status(json!({"phase": "Deleting"})));
    }

    #[test]
    fn finalize_delete_fails() {
        let host = FakeHost::new().with_error("get", Some("Provider"), ClusterError::Other("x".into()));
        let failure = finalize_at(&host, &mp(json!({"cleanupOnDelete": true})), 0).unwrap_err();
        assert!(failure.message.starts_with("failed to delete provider cowboys"));
    }
}

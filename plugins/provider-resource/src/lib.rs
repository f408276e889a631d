//! `ProviderResourceSubroutine` (upstream spec §4.9.2), position 2 of the ManagedProvider chain: the Provider in
//! kcp that stands for this ManagedProvider, created or updated from its spec.
//!
//! Fix of spec §11.1 item 7: the finalizer `providers.platform-mesh.io/provider-resource` is always declared and
//! `spec.cleanupOnDelete` is read in `finalize`, so turning the flag off after creation can no longer leave a
//! finalizer nobody removes. Deletion waits back off per object (§11.1 item 6, `sdk::backoff`).
//!
//! `spec.provider.path` names any kcp workspace, and the operator writes there as kcp admin: creating a
//! ManagedProvider is a platform-admin right. The operator flag `--managed-provider-path-prefixes` narrows the
//! workspaces (unset: any, as upstream); a path outside it stops the chain before anything is read or written, and
//! `finalize` then deletes nothing there. An existing Provider at the path is adopted (its spec updated) and is
//! deleted only when `spec.cleanupOnDelete` is true.

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

/// The operator flag listing the allowed path prefixes (`--managed-provider-path-prefixes`).
pub const PATH_PREFIXES_FLAG: &str = "managedProviderPathPrefixes";

/// The allowed path prefixes from the operator configuration; empty: every path is allowed.
pub fn path_prefixes(ctx: &Context) -> Vec<&str> {
    ctx.operator_config
        .get(PATH_PREFIXES_FLAG)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

/// Whether `path` lies under one of `prefixes`, compared by whole `:`-separated segments (`root:orgs` admits
/// `root:orgs` and `root:orgs:a`, not `root:orgsx`). No prefixes: every path.
pub fn path_allowed(prefixes: &[&str], path: &str) -> bool {
    prefixes.is_empty()
        || prefixes.iter().any(|prefix| {
            path.strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(':'))
        })
}

/// The Stop message for a path outside the allowed prefixes, or `None` if it is allowed.
fn refused_path(ctx: &Context, path: &str) -> Option<String> {
    let prefixes = path_prefixes(ctx);
    (!path_allowed(&prefixes, path)).then(|| {
        format!(
            "spec.provider.path {path} is outside the workspaces this operator may write Providers to \
             (--managed-provider-path-prefixes {})",
            prefixes.join(",")
        )
    })
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
        if let Some(message) = refused_path(ctx, &path) {
            return Ok(Reconciled::stop(message));
        }
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
    if refused_path(ctx, &path).is_some() {
        // Never written there by this operator, so nothing of ours to delete.
        return Ok(Reconciled::ok().with_status(deleting));
    }
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

    fn with_prefixes(mut ctx: Context, prefixes: &[&str]) -> Context {
        ctx.operator_config = json!({PATH_PREFIXES_FLAG: prefixes});
        ctx
    }

    #[test]
    fn path_prefixes_match_whole_segments() {
        assert!(path_allowed(&[], "root:anything"));
        let prefixes = ["root:providers", "root:orgs:org-a"];
        for allowed in [
            "root:providers",
            "root:providers:system",
            "root:orgs:org-a:demo-acc",
        ] {
            assert!(path_allowed(&prefixes, allowed), "{allowed}");
        }
        for refused in [
            "root",
            "root:providersx",
            "root:orgs",
            "root:orgs:org-ab",
            "root:platform-mesh-system",
        ] {
            assert!(!path_allowed(&prefixes, refused), "{refused}");
        }
    }

    #[test]
    fn empty_prefix_entries_mean_no_allow_list() {
        let ctx = with_prefixes(mp(json!({})), &["", " "]);
        assert!(path_prefixes(&ctx).is_empty());
        let host = FakeHost::new();
        assert_eq!(ProviderResource::process(&host, &ctx).unwrap(), Reconciled::ok());
    }

    #[test]
    fn path_outside_the_allow_list_stops_without_touching_kcp() {
        let host = FakeHost::new();
        let spec =
            json!({"provider": {"path": "root:platform-mesh-system", "name": "p"}, "cleanupOnDelete": true});
        let ctx = with_prefixes(mp(spec), &["root:providers", "root:orgs"]);
        let done = ProviderResource::process(&host, &ctx).unwrap();
        assert!(
            matches!(&done.outcome, Outcome::Stop { message, .. }
                if message.contains("root:platform-mesh-system") && message.contains("root:providers,root:orgs")),
            "{done:?}"
        );
        assert_eq!(
            finalize_at(&host, &ctx, 0).unwrap(),
            Reconciled::ok().with_status(json!({"phase": "Deleting"}))
        );
        assert!(host.calls().is_empty(), "no call reached kcp: {:?}", host.calls());
    }

    #[test]
    fn path_inside_the_allow_list_is_written() {
        let host = FakeHost::new();
        let spec = json!({"provider": {"path": "root:orgs:org-a:demo-acc"}});
        let ctx = with_prefixes(mp(spec), &["root:orgs"]);
        assert_eq!(ProviderResource::process(&host, &ctx).unwrap(), Reconciled::ok());
        assert!(
            host.object(&Target::kcp("root:orgs:org-a:demo-acc"), &provider_ref("cowboys"))
                .is_some()
        );
    }

    #[test]
    fn adopted_provider_survives_deletion_without_cleanup_on_delete() {
        let host = FakeHost::new();
        let existing = json!({"apiVersion": "providers.platform-mesh.io/v1alpha1", "kind": "Provider",
                              "metadata": {"name": "cowboys", "labels": {"owner": "someone-else"}},
                              "spec": {"providerKubeconfigSecret": {"name": "old", "namespace": "x", "key": "k"}}});
        host.insert(system(), existing);
        let ctx = mp(json!({}));
        ProviderResource::process(&host, &ctx).unwrap();
        let adopted = host.object(&system(), &provider_ref("cowboys")).unwrap();
        assert_eq!(
            adopted["spec"]["providerKubeconfigSecret"]["name"],
            "cowboys-provider-kubeconfig"
        );
        assert_eq!(adopted["metadata"]["labels"]["owner"], "someone-else");
        assert_eq!(finalize_at(&host, &ctx, 0).unwrap(), Reconciled::ok());
        assert!(
            host.object(&system(), &provider_ref("cowboys")).is_some(),
            "the adopted Provider stays"
        );
        assert!(host.calls().iter().all(|c| c.op != "delete"));
    }

    #[test]
    fn finalize_delete_fails() {
        let host = FakeHost::new().with_error("get", Some("Provider"), ClusterError::Other("x".into()));
        let failure = finalize_at(&host, &mp(json!({"cleanupOnDelete": true})), 0).unwrap_err();
        assert!(failure.message.starts_with("failed to delete provider cowboys"));
    }
}

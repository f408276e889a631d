//! Names a ManagedProvider derives from its spec (upstream spec §4.9), shared by the plugins of its chain.

use platform_mesh_plugin_sdk::Context;
use serde_json::Value;

/// The default workspace of a ManagedProvider's Provider.
pub const DEFAULT_PROVIDER_PATH: &str = "root:providers:system";

fn non_empty<'a>(ctx: &'a Context, pointer: &str) -> Option<&'a str> {
    ctx.field(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// Where the Provider lives: `(spec.provider.path or root:providers:system, spec.provider.name or the
/// ManagedProvider's name)`.
pub fn provider_location(ctx: &Context) -> (String, String) {
    let path = non_empty(ctx, "/spec/provider/path").unwrap_or(DEFAULT_PROVIDER_PATH);
    let name = non_empty(ctx, "/spec/provider/name").unwrap_or(ctx.name());
    (path.to_owned(), name.to_owned())
}

/// `(name, key)` of the kubeconfig Secret in the ManagedProvider's namespace: `spec.providerKubeconfigSecret`'s
/// `name` and `key` verbatim when the object is given, else `<name>-provider-kubeconfig` and `kubeconfig`.
pub fn expected_secret(ctx: &Context) -> (String, String) {
    let spec = ctx.field("/spec/providerKubeconfigSecret");
    let field = |k: &str| {
        spec.and_then(|s| s.get(k))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_default()
    };
    match spec {
        Some(_) => (field("name"), field("key")),
        None => (format!("{}-provider-kubeconfig", ctx.name()), "kubeconfig".into()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn mp(spec: Value) -> Context {
        Context::for_object(
            "managedprovider",
            json!({"metadata": {"name": "cowboys", "namespace": "pm"}, "spec": spec}),
        )
    }

    #[test]
    fn defaults_and_overrides() {
        assert_eq!(
            provider_location(&mp(json!({}))),
            (DEFAULT_PROVIDER_PATH.into(), "cowboys".into())
        );
        assert_eq!(
            provider_location(&mp(json!({"provider": {"path": "root:x", "name": ""}}))),
            ("root:x".into(), "cowboys".into())
        );
        assert_eq!(
            expected_secret(&mp(json!({}))),
            ("cowboys-provider-kubeconfig".into(), "kubeconfig".into())
        );
        assert_eq!(
            expected_secret(&mp(json!({"providerKubeconfigSecret": {"name": "n"}}))),
            ("n".into(), String::new())
        );
    }
}

//! `WaitProviderSubroutine` (upstream spec §4.9.3), position 3 of the ManagedProvider chain, no finalizer: the
//! Provider in kcp must report phase `Ready` (its workspace and kubeconfig exist).

use std::time::Duration;

use platform_mesh_plugin_sdk::{
    CallResult, Context, Failure, Gvk, Host, Plugin, PluginInfo, Reconciled, Target,
};
use serde_json::{Value, json};

/// The subroutine (and condition) name.
pub const NAME: &str = "WaitProviderSubroutine";
const WAIT: Duration = Duration::from_secs(10);

/// The plugin.
pub struct WaitProvider;

pub use plugin_common::managed_provider::provider_location;

impl Plugin for WaitProvider {
    fn info() -> PluginInfo {
        PluginInfo::new(NAME, env!("CARGO_PKG_VERSION"))
    }

    fn process(host: &dyn Host, ctx: &Context) -> CallResult {
        let (path, name) = provider_location(ctx);
        let provider = Gvk::new("providers.platform-mesh.io", "v1alpha1", "Provider").object(None, &name);
        let found = host.get(&Target::kcp(&path), &provider).map_err(|e| {
            Failure::new(format!(
                "failed to get Provider {name} from workspace {path}: {e}"
            ))
        })?;
        let waiting = |message: &str| {
            Ok(Reconciled::stop_after(WAIT, message).with_status(json!({"phase": "WaitingForProvider"})))
        };
        match found {
            None => waiting("Provider not found yet"),
            Some(p) if p.pointer("/status/phase").and_then(Value::as_str) != Some("Ready") => {
                waiting("waiting for Provider to become Ready")
            }
            Some(_) => Ok(Reconciled::ok()),
        }
    }
}

platform_mesh_plugin_sdk::export_plugin!(WaitProvider);

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

    fn provider(phase: &str) -> Value {
        json!({"apiVersion": "providers.platform-mesh.io/v1alpha1", "kind": "Provider",
               "metadata": {"name": "cowboys"}, "status": {"phase": phase}})
    }

    #[test]
    fn not_ready_waits_with_phase() {
        let host = FakeHost::new().with_object(Target::kcp("root:providers:system"), provider("Pending"));
        let done = WaitProvider::process(&host, &mp(json!({}))).unwrap();
        assert!(
            matches!(done.outcome, Outcome::Stop { ref message, .. } if message == "waiting for Provider to become Ready")
        );
        assert_eq!(done.status_patch, Some(json!({"phase": "WaitingForProvider"})));
        let done = WaitProvider::process(&FakeHost::new(), &mp(json!({}))).unwrap();
        assert!(
            matches!(done.outcome, Outcome::Stop { ref message, .. } if message == "Provider not found yet")
        );
    }

    #[test]
    fn ready_is_ok() {
        let host = FakeHost::new().with_object(Target::kcp("root:providers:system"), provider("Ready"));
        assert_eq!(
            WaitProvider::process(&host, &mp(json!({}))).unwrap(),
            Reconciled::ok()
        );
    }

    #[test]
    fn custom_reference_path_is_used() {
        let mut p = provider("Ready");
        p["metadata"]["name"] = json!("other");
        let host = FakeHost::new().with_object(Target::kcp("root:providers:custom"), p);
        let spec = json!({"provider": {"path": "root:providers:custom", "name": "other"}});
        assert_eq!(WaitProvider::process(&host, &mp(spec)).unwrap(), Reconciled::ok());
    }
}

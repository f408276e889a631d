//! Retiring a finalizer string on upgrade. Upstream's KcpSetup and ProviderSecret shared
//! `platform-mesh.core.platform-mesh.io/finalizer` ([`LEGACY_SHARED_FINALIZER`]); each subroutine now has its own,
//! so the old string is taken off objects that still carry it. The patch carries the object's resourceVersion: if anything else changed the
//! object meanwhile (e.g. another subroutine removed the string first), the server refuses it and the next pass
//! looks again.

use crate::{Context, Host, LogLevel, ObjectRef, PatchKind};
use serde_json::{Value, json};

/// The finalizer upstream shared between KcpSetup and ProviderSecret.
pub const LEGACY_SHARED_FINALIZER: &str = "platform-mesh.core.platform-mesh.io/finalizer";

/// Removes `retired` from the reconciled object's finalizers if it is there (call it from `process`); returns
/// whether it patched. Failures are logged and left for the next pass: they never fail the subroutine.
pub fn remove_retired(host: &dyn Host, ctx: &Context, retired: &str) -> bool {
    let finalizers: Vec<&str> = ctx
        .field("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|l| l.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if !finalizers.contains(&retired) {
        return false;
    }
    let Some(reference) = ObjectRef::of(&ctx.object) else {
        return false;
    };
    let remaining: Vec<&str> = finalizers.into_iter().filter(|f| *f != retired).collect();
    let mut patch = json!({"metadata": {"finalizers": remaining}});
    if let Some(rv) = ctx.field("/metadata/resourceVersion") {
        patch["metadata"]["resourceVersion"] = rv.clone();
    }
    match host.patch(&ctx.object_target, &reference, PatchKind::Merge, &patch) {
        Ok(_) => {
            host.log(
                LogLevel::Info,
                "removed a retired finalizer",
                &[("finalizer", retired)],
            );
            true
        }
        Err(error) => {
            host.log(
                LogLevel::Debug,
                "could not remove a retired finalizer yet",
                &[("error", &error.to_string())],
            );
            false
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{Gvk, Target, testing::FakeHost};

    fn pm(finalizers: Value) -> Value {
        json!({"apiVersion": "core.platform-mesh.io/v1alpha1", "kind": "PlatformMesh",
               "metadata": {"name": "pm", "namespace": "ns", "finalizers": finalizers}})
    }

    #[test]
    fn retired_finalizer_is_removed_and_others_kept() {
        let host = FakeHost::new().with_object(Target::Runtime, pm(json!(["own", LEGACY_SHARED_FINALIZER])));
        let stored = host
            .object(
                &Target::Runtime,
                &Gvk::new("core.platform-mesh.io", "v1alpha1", "PlatformMesh").object(Some("ns"), "pm"),
            )
            .unwrap();
        let ctx = Context::for_object("platformmesh", stored);
        assert!(remove_retired(&host, &ctx, LEGACY_SHARED_FINALIZER));
        let after = host
            .object(&Target::Runtime, &ObjectRef::of(&ctx.object).unwrap())
            .unwrap();
        assert_eq!(after["metadata"]["finalizers"], json!(["own"]));
    }

    #[test]
    fn nothing_to_do_without_it() {
        let host = FakeHost::new();
        let ctx = Context::for_object("platformmesh", pm(json!(["own"])));
        assert!(!remove_retired(&host, &ctx, LEGACY_SHARED_FINALIZER));
        assert!(host.calls().is_empty());
    }
}

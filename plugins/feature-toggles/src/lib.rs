//! `FeatureToggleSubroutine` (upstream spec §4.4, §6.8): applies the kcp manifests of each feature toggle listed
//! in `spec.featureToggles`, and removes them again when the toggle leaves the list.
//!
//! Data-driven, unlike upstream's fixed table (spec §11.3 item 36): a toggle is known exactly when
//! `manifests/features/<toggle>/` exists in the operator's workspace directory; adding a toggle needs no code.
//! Each toggle's `parameters` reach its templates as `.parameters`. Every applied object is labelled
//! `core.platform-mesh.io/feature-toggle: <toggle>`, so switching a toggle off deletes what it applied. An
//! unknown toggle is a warning in the condition message, not a failure; toggles read by other subroutines
//! (`feature-disable-email-verification`, `feature-disable-contentconfigurations`) are not unknown. While
//! `feature-disable-contentconfigurations` is on, toggles skip their ContentConfigurations like KcpSetup does.
//!
//! Finalizer: deleting the PlatformMesh keeps the toggles' objects (as upstream), unless the plugin config sets
//! `cleanupOnDelete: true`, which switches every toggle off first.

use std::time::Duration;

use platform_mesh_plugin_sdk::{CallResult, Context, Failure, Host, HostExt, Plugin, PluginInfo, Reconciled};
use serde_json::Value;

pub mod apply;
pub mod layout;
pub mod toggle;
pub mod vars;

use layout::WorkspaceDir;

/// This subroutine's finalizer.
pub const FINALIZER: &str = "platform-mesh.core.platform-mesh.io/feature-toggles";

/// Toggles without manifests that other subroutines act on.
pub const CONSUMED_ELSEWHERE: [&str; 2] = [
    "feature-disable-email-verification",
    toggle::DISABLE_CONTENT_CONFIGURATIONS,
];

/// How long to wait for a workspace a toggle needs.
const WAIT_REQUEUE: Duration = Duration::from_secs(5);

/// The plugin.
pub struct FeatureToggles;

impl Plugin for FeatureToggles {
    fn info() -> PluginInfo {
        PluginInfo::new("FeatureToggleSubroutine", env!("CARGO_PKG_VERSION")).with_finalizer(FINALIZER)
    }

    fn process(host: &dyn Host, ctx: &Context) -> CallResult {
        process_in(host, ctx, &WorkspaceDir::sandbox())
    }

    fn finalize(host: &dyn Host, ctx: &Context) -> CallResult {
        finalize_in(host, ctx, &WorkspaceDir::sandbox())
    }
}

platform_mesh_plugin_sdk::export_plugin!(FeatureToggles);

/// The `spec.featureToggles` entries, in order.
fn entries(ctx: &Context) -> Vec<Value> {
    ctx.field("/spec/featureToggles")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn name_of(entry: &Value) -> &str {
    entry.get("name").and_then(Value::as_str).unwrap_or_default()
}

/// `process` over the toggle directories of `fs`.
pub fn process_in(host: &dyn Host, ctx: &Context, fs: &WorkspaceDir) -> CallResult {
    let known = fs.known_toggles().map_err(Failure::new)?;
    let enabled = entries(ctx);
    let is_enabled = |t: &str| enabled.iter().any(|e| name_of(e) == t);
    let skip_content = is_enabled(toggle::DISABLE_CONTENT_CONFIGURATIONS);
    let (mut unknown, mut waiting, mut errors) = (Vec::new(), Vec::new(), Vec::new());

    for entry in &enabled {
        let name = name_of(entry);
        if known.iter().any(|k| k == name) {
            let vars = vars::for_toggle(&ctx.object, entry);
            match toggle::switch_on(host, fs, name, &vars, skip_content) {
                Ok(applied) => {
                    if let Some(why) = applied.waiting {
                        waiting.push(format!("{name}: {why}"));
                    }
                    for object in applied.pruned {
                        host.info(&format!(
                            "toggle {name}: deleted {object}, no longer in its manifests"
                        ));
                    }
                }
                Err(e) => errors.push(format!("toggle {name}: {e}")),
            }
        } else if !CONSUMED_ELSEWHERE.contains(&name) {
            host.warn(&format!("unknown feature toggle {name:?}"));
            unknown.push(format!("{name:?}"));
        }
    }
    for name in known.iter().filter(|k| !is_enabled(k)) {
        let vars = vars::for_toggle(&ctx.object, &Value::Null);
        match toggle::switch_off(host, fs, name, &vars) {
            Ok(deleted) => {
                for object in deleted {
                    host.info(&format!("toggle {name} is off: deleted {object}"));
                }
            }
            Err(e) => errors.push(format!("toggle {name}: {e}")),
        }
    }

    if !errors.is_empty() {
        return Err(Failure::new(errors.join("; ")));
    }
    if !waiting.is_empty() {
        return Ok(Reconciled::pending(waiting.join("; "), WAIT_REQUEUE));
    }
    if unknown.is_empty() {
        return Ok(Reconciled::ok());
    }
    Ok(Reconciled::ok().with_message(format!(
        "warning: unknown feature toggles ignored: {} (known toggles are the directories of {}: {})",
        unknown.join(", "),
        layout::FEATURES_DIR,
        known.join(", ")
    )))
}

/// `finalize` over the toggle directories of `fs`.
pub fn finalize_in(host: &dyn Host, ctx: &Context, fs: &WorkspaceDir) -> CallResult {
    let cleanup = ctx.plugin_config.get("cleanupOnDelete").and_then(Value::as_bool) == Some(true);
    if !cleanup {
        return Ok(Reconciled::ok());
    }
    let mut errors = Vec::new();
    for name in fs.known_toggles().map_err(Failure::new)? {
        let vars = vars::for_toggle(&ctx.object, &Value::Null);
        if let Err(e) = toggle::switch_off(host, fs, &name, &vars) {
            errors.push(format!("toggle {name}: {e}"));
        }
    }
    if errors.is_empty() {
        Ok(Reconciled::ok())
    } else {
        Err(Failure::new(errors.join("; ")))
    }
}

#[cfg(test)]
mod tests;

//! `ProvidersecretSubroutine` (upstream spec §4.3 and §7): writes a kcp kubeconfig Secret for every provider
//! connection of the PlatformMesh — an admin kubeconfig (the kcp admin credentials pointed at the connection's
//! URL) or a scoped one (a ServiceAccount token with just the rights of an APIExport).
//!
//! Differences from upstream (spec §11.4): every connection is validated before anything is written, and an
//! invalid one is a clear error naming it (item 39); a slice without endpoints makes the subroutine Pending
//! instead of silently succeeding (item 38); scoped tokens are reused while valid for more than half their
//! lifetime, so a steady-state pass writes nothing (item 41); the subroutine has its own finalizer and takes the
//! old shared one off upgraded objects (§11.1 item 1).

use std::time::Duration;

use platform_mesh_plugin_sdk::{
    CallResult, Context, Failure, Host, Plugin, PluginInfo, Reconciled, retire, timestamp,
};

mod admin;
pub mod connections;
mod kubeconfig;
mod pass;
mod pem;
mod rbac;
mod readiness;
pub mod rules;
mod scoped;
mod secrets;
pub mod settings;
pub mod token;

use connections::Connection;
use pass::{Done, Pass};
use settings::Settings;

/// This subroutine's own finalizer. Deleting a PlatformMesh leaves the Secrets in place, as upstream does.
pub const FINALIZER: &str = "platform-mesh.core.platform-mesh.io/provider-secret";

/// How long to wait before looking again at a connection that is not possible yet.
const PENDING_REQUEUE: Duration = Duration::from_secs(5);

/// The plugin.
pub struct ProviderSecret;

impl Plugin for ProviderSecret {
    fn info() -> PluginInfo {
        PluginInfo::new("ProvidersecretSubroutine", env!("CARGO_PKG_VERSION")).with_finalizer(FINALIZER)
    }

    fn process(host: &dyn Host, ctx: &Context) -> CallResult {
        process_at(host, ctx, timestamp::now())
    }
}

platform_mesh_plugin_sdk::export_plugin!(ProviderSecret);

/// `process` with an explicit clock (Unix seconds), for tests.
pub fn process_at(host: &dyn Host, ctx: &Context, now: i64) -> CallResult {
    retire::remove_retired(host, ctx, retire::LEGACY_SHARED_FINALIZER);
    let settings = Settings::from_context(ctx);
    if let Some(stop) = readiness::check(host, &settings) {
        return Ok(stop);
    }
    let list = connections::compose(ctx).map_err(Failure::new)?;
    connections::validate_all(&list, &ctx.object).map_err(Failure::new)?;
    let admin_ca = kubeconfig::admin_ca(host, &settings)
        .map_err(|e| Failure::new(format!("Failed to build kubeconfig: {e}")))?;
    let pass = Pass::new(host, &ctx.object, settings, now, admin_ca);

    let mut waiting = Vec::new();
    let mut refresh: Option<Duration> = None;
    for (_, connection) in &list {
        match reconcile(&pass, connection)? {
            Done::Ready { refresh_after } => {
                refresh = match (refresh, refresh_after) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
            Done::Waiting(why) => waiting.push(format!("secret {}: {why}", connection.secret)),
        }
    }
    if !waiting.is_empty() {
        return Ok(Reconciled::pending(waiting.join("; "), PENDING_REQUEUE));
    }
    Ok(match refresh {
        Some(after) => Reconciled::ok_after(after),
        None => Reconciled::ok(),
    })
}

/// One connection in its mode; errors name the Secret.
fn reconcile(pass: &Pass<'_>, connection: &Connection) -> Result<Done, Failure> {
    let done = if connection.admin_auth {
        admin::reconcile(pass, connection)
    } else {
        scoped::reconcile(pass, connection)
    };
    done.map_err(|e| Failure::new(format!("provider secret {}: {e}", connection.secret)))
}

#[cfg(test)]
mod tests;

//! Spec §6.3: the template data every file of `manifests/kcp` is rendered with. Built completely before the first
//! file is rendered and never changed during the traversal (upstream mutated the shared map while walking, §11.3
//! item 33).

use platform_mesh_plugin_sdk::{Gvk, Host, Reconciled, Target};
use serde_json::{Map, Value, json};

use crate::{
    inventory::{self, CaError},
    readiness::{NOT_READY_REQUEUE, NotReady},
    settings::Settings,
};

/// Toggle name → template key whose value is `"true"` or `"false"`.
pub const TOGGLE_KEYS: [(&str, &str); 3] = [
    (
        "feature-disable-email-verification",
        "featureDisableEmailVerification",
    ),
    (
        "feature-disable-contentconfigurations",
        "featureDisableContentConfigurations",
    ),
    (
        "feature-enable-terminal-controller-manager",
        "featureEnableTerminalControllerManager",
    ),
];

/// The workspace holding the `welcome` IdentityProviderConfiguration.
const WELCOME_WORKSPACE: &str = "root:platform-mesh-system";

/// Everything except the kcp and runtime lookups: exposure, toggles and the IdP flags.
pub fn static_data(settings: &Settings) -> Map<String, Value> {
    let mut data = settings.exposure.variables();
    for (toggle, key) in TOGGLE_KEYS {
        data.insert(key.into(), json!(settings.has_toggle(toggle).to_string()));
    }
    data.insert("registrationAllowed".into(), json!(settings.registration_allowed));
    data.insert(
        "welcomeAdditionalRedirectUris".into(),
        json!(settings.welcome_redirect_uris),
    );
    data.insert(
        "welcomeAdditionalPostLogoutRedirectUris".into(),
        json!(settings.welcome_post_logout_redirect_uris),
    );
    data
}

/// The client IDs of the `welcome` IdentityProviderConfiguration's `status.managedClients`, sorted and without
/// duplicates (fix of §11.3 item 32: upstream's map order made the authentication configuration flap). A missing
/// object or kind, or any read error, gives an empty list; a `managedClients` that is not a map is an error.
pub fn welcome_audiences(host: &dyn Host) -> Result<Vec<String>, String> {
    let ipc = Gvk::new(
        "core.platform-mesh.io",
        "v1alpha1",
        "IdentityProviderConfiguration",
    );
    let Ok(Some(object)) = host.get(&Target::kcp(WELCOME_WORKSPACE), &ipc.object(None, "welcome")) else {
        return Ok(Vec::new());
    };
    let clients = match object.pointer("/status/managedClients") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Object(clients)) => clients,
        Some(other) => {
            return Err(format!(
                "IdentityProviderConfiguration {WELCOME_WORKSPACE}:welcome has a status.managedClients that is not \
                 a map: {other}"
            ));
        }
    };
    let mut audiences: Vec<String> = clients
        .values()
        .filter_map(|c| c.get("clientId").and_then(Value::as_str))
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .collect();
    audiences.sort();
    audiences.dedup();
    Ok(audiences)
}

/// Assembles the complete data. Failures carry upstream's prefixes; a CA Secret that does not exist yet (its
/// operator or issuer is still coming up) is waited for instead of failing the pass with backoff.
pub fn template_data(host: &dyn Host, settings: &Settings) -> Result<Value, NotReady> {
    let mut data = static_data(settings);
    inventory::identity_hashes(host, &mut data)
        .map_err(|e| NotReady::Fail(format!("Failed to get APIExport hash inventory: {e}")))?;
    inventory::ca_bundles(host, settings, &mut data).map_err(|e| match e {
        CaError::Missing(m) => NotReady::Wait(Reconciled::stop_after(
            NOT_READY_REQUEUE,
            format!("waiting for the CA bundle inventory: {m}"),
        )),
        CaError::Failed(m) => NotReady::Fail(format!("Failed to get CA bundle inventory: {m}")),
    })?;
    data.insert(
        "welcomeAudiences".into(),
        json!(welcome_audiences(host).map_err(NotReady::Fail)?),
    );
    Ok(Value::Object(data))
}

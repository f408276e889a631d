//! The exposure variables (spec §5.6.1) from `spec.exposure`.
//!
//! Deliberate difference (spec §11.2 item 19): the port defaults to 8443 in every variable set (upstream used 443
//! in the components set), and `baseDomainWithPort` equals `baseDomainPort` (no port for 80 and 443).

use serde_json::{Map, Value, json};

use crate::settings::Settings;

pub use platform_mesh_plugin_sdk::exposure::Exposure;

/// The exposure settings of the PlatformMesh, defaults applied.
pub fn exposure_of(settings: &Settings) -> Exposure {
    Exposure::from_spec(settings.spec_field("exposure"))
}

/// The "template vars" of spec §5.6.1: the exposure variables and `helmReleaseNamespace`.
pub fn template_vars(exposure: &Exposure, namespace: &str) -> Map<String, Value> {
    let mut vars = exposure.variables();
    vars.insert("helmReleaseNamespace".into(), json!(namespace));
    vars
}

/// The variables string values of `spec.values` are rendered with (spec §5.6.4 step 4): the four keys at the
/// top and again under `Values`.
pub fn spec_value_vars(exposure: &Exposure) -> Value {
    let four = json!({
        "baseDomain": exposure.base_domain,
        "baseDomainPort": exposure.base_domain_port(),
        "port": exposure.port,
        "baseDomainWithPort": exposure.base_domain_port(),
    });
    let mut data = four.clone();
    data["Values"] = four;
    data
}

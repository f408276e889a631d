//! The deployment technology of a Resource's namespace (spec §4.6.2): the `deploymentTechnology` of the profile of
//! the (first) PlatformMesh in that namespace, `fluxcd` when nothing says otherwise.
//!
//! All reads are direct reads of the runtime cluster: a PlatformMesh list in one namespace and one ConfigMap get.
//! The profile is parsed like everywhere else (duplicate keys: the last wins, spec §11.2 item 22).

use platform_mesh_plugin_sdk::{Failure, Host, HostExt, LogLevel, Target};
use serde_json::Value;

use crate::kinds;

/// The key of the profile in its ConfigMap.
const PROFILE_KEY: &str = "profile.yaml";

/// ConfigMaps tried, in order, when PlatformMeshes cannot be listed.
const FALLBACK_PROFILES: [&str; 2] = ["platform-mesh-profile", "platform-mesh-system-profile"];

/// The technology used when the namespace has no PlatformMesh or its profile does not name one.
pub const DEFAULT_TECHNOLOGY: &str = "fluxcd";

/// The deployment technology for Resources in `namespace`, lower-cased (`fluxcd`, `argocd`, ...).
///
/// # Errors
/// The PlatformMesh's profile ConfigMap is missing, lacks `profile.yaml`, or does not parse; or a fallback
/// profile does not parse.
pub fn deployment_technology(host: &dyn Host, namespace: &str) -> Result<String, Failure> {
    let found = match host.list(&Target::Runtime, &kinds::platform_mesh(), Some(namespace), None) {
        Ok(platform_meshes) => from_platform_meshes(host, namespace, &platform_meshes)?,
        Err(error) => {
            host.log(
                LogLevel::Warn,
                "listing PlatformMeshes failed; looking for a profile ConfigMap by its usual names",
                &[("namespace", namespace), ("error", &error.to_string())],
            );
            from_fallback_profiles(host, namespace)?
        }
    };
    Ok(if found.is_empty() {
        DEFAULT_TECHNOLOGY.to_owned()
    } else {
        found
    })
}

fn from_platform_meshes(host: &dyn Host, namespace: &str, items: &[Value]) -> Result<String, Failure> {
    let Some(first) = items.first() else {
        return Ok(String::new());
    };
    let pm_name = first
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if items.len() > 1 {
        host.log(
            LogLevel::Warn,
            "several PlatformMeshes in the namespace; using the first one's profile",
            &[("namespace", namespace), ("platformMesh", pm_name)],
        );
    }
    let (cm_namespace, cm_name) = profile_config_map(namespace, pm_name, first);
    let cm = host
        .get(
            &Target::Runtime,
            &kinds::config_map().object(Some(&cm_namespace), cm_name.clone()),
        )
        .map_err(|e| Failure::new(format!("reading profile ConfigMap {cm_namespace}/{cm_name}: {e}")))?
        .ok_or_else(|| {
            Failure::new(format!(
                "profile ConfigMap {cm_namespace}/{cm_name} of PlatformMesh {namespace}/{pm_name} not found"
            ))
        })?;
    let Some(text) = profile_text(&cm) else {
        return Err(Failure::new(format!(
            "configMap {cm_namespace}/{cm_name} exists but does not contain key {PROFILE_KEY}"
        )));
    };
    let profile = parse_profile(host, &cm_namespace, &cm_name, text)?;
    Ok(technology_of(&profile)
        .unwrap_or(DEFAULT_TECHNOLOGY)
        .to_lowercase())
}

/// The profile ConfigMap of a PlatformMesh (spec §5.5): `spec.profileConfigMap` (namespace defaulting to the
/// PlatformMesh's), else `<name>-profile` next to it.
fn profile_config_map(namespace: &str, pm_name: &str, pm: &Value) -> (String, String) {
    let field = |key: &str| {
        pm.pointer(&format!("/spec/profileConfigMap/{key}"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    match field("name") {
        Some(name) => (
            field("namespace").unwrap_or(namespace).to_owned(),
            name.to_owned(),
        ),
        None => (namespace.to_owned(), format!("{pm_name}-profile")),
    }
}

fn from_fallback_profiles(host: &dyn Host, namespace: &str) -> Result<String, Failure> {
    for name in FALLBACK_PROFILES {
        let cm = host.get(
            &Target::Runtime,
            &kinds::config_map().object(Some(namespace), name),
        );
        // Like upstream, any read failure just means "not this one".
        let Ok(Some(cm)) = cm else { continue };
        let Some(text) = profile_text(&cm) else {
            continue;
        };
        let profile = parse_profile(host, namespace, name, text)?;
        return Ok(technology_of(&profile).unwrap_or_default().to_lowercase());
    }
    host.debug("no PlatformMesh and no fallback profile; using the default technology");
    Ok(String::new())
}

fn profile_text(cm: &Value) -> Option<&str> {
    cm.pointer("/data/profile.yaml").and_then(Value::as_str)
}

fn parse_profile(host: &dyn Host, namespace: &str, name: &str, text: &str) -> Result<Value, Failure> {
    let source = format!("configmap {namespace}/{name} key {PROFILE_KEY}");
    host.parse_yaml(&source, text)
        .map_err(|e| Failure::new(format!("parsing the profile: {e}")))
}

/// `infra.deploymentTechnology` if it is a non-empty string, else `components.deploymentTechnology`.
fn technology_of(profile: &Value) -> Option<&str> {
    let at = |pointer: &str| {
        profile
            .pointer(pointer)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    at("/infra/deploymentTechnology").or_else(|| at("/components/deploymentTechnology"))
}

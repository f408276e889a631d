//! A remote runtime cluster per PlatformMesh (spec §2.4, extended): `spec.runtimeKubeconfigSecret` names a Secret in
//! the PlatformMesh's namespace on the infra cluster holding the kubeconfig of the cluster the components run in.
//! Flux gets it as `spec.kubeConfig.secretRef` (through `kubeConfigEnabled`); Argo CD gets its API server as
//! `destinationServer` unless the profile sets one.

use base64::{Engine, engine::general_purpose::STANDARD};
use platform_mesh_plugin_sdk::{Gvk, Host, Target};
use serde_json::Value;

use crate::{
    error::{Error, Result},
    settings::Settings,
};

/// The API server of the current context of the PlatformMesh's kubeconfig Secret; `None` without one.
pub fn destination_server(host: &dyn Host, settings: &Settings) -> Result<Option<String>> {
    let Some(secret) = settings.kubeconfig.as_ref().filter(|s| s.from_spec) else {
        return Ok(None);
    };
    let reference = Gvk::new("", "v1", "Secret").object(Some(&settings.namespace), secret.name.clone());
    let object = host
        .get(&Target::Infra, &reference)
        .map_err(|e| Error::cluster("reading", &Target::Infra, &reference, e))?
        .ok_or_else(|| {
            Error::Invalid(format!(
                "spec.runtimeKubeconfigSecret: Secret {}/{} does not exist",
                settings.namespace, secret.name
            ))
        })?;
    let missing = || {
        Error::Invalid(format!(
            "spec.runtimeKubeconfigSecret: Secret {}/{} has no key {}",
            settings.namespace, secret.name, secret.key
        ))
    };
    let encoded = object
        .pointer(&format!("/data/{}", secret.key))
        .and_then(Value::as_str)
        .ok_or_else(missing)?;
    let text = STANDARD
        .decode(encoded)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(missing)?;
    let kubeconfig = host.parse_yaml(
        &format!("Secret {}/{} key {}", settings.namespace, secret.name, secret.key),
        &text,
    )?;
    Ok(server_of(&kubeconfig))
}

/// The server of the current context's cluster (the first cluster without a current context).
pub fn server_of(kubeconfig: &Value) -> Option<String> {
    let named = |list: &str, name: &str| {
        kubeconfig
            .get(list)?
            .as_array()?
            .iter()
            .find(|e| e.get("name").and_then(Value::as_str) == Some(name))
            .cloned()
    };
    let cluster = kubeconfig
        .get("current-context")
        .and_then(Value::as_str)
        .and_then(|c| named("contexts", c))
        .and_then(|c| {
            c.pointer("/context/cluster")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .and_then(|name| named("clusters", &name))
        .or_else(|| kubeconfig.get("clusters")?.as_array()?.first().cloned())?;
    cluster
        .pointer("/cluster/server")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

//! The infra, runtime and components sets (spec §5.6.2–§5.6.4), along the precedence chain of the module docs.

use platform_mesh_plugin_sdk::Host;
use serde_json::{Map, Value, json};

use super::{Exposure, calculate_sync_waves, render_templates_in_value, spec_value_vars, template_vars};
use crate::{
    error::Result,
    merge::{merge, merge_into, merge_maps},
    profile::Profile,
    settings::Settings,
};

/// The deployment technology of a variable set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Technology {
    Fluxcd,
    Argocd,
}

impl Technology {
    /// `fluxcd` or `argocd`.
    pub fn as_str(self) -> &'static str {
        match self {
            Technology::Fluxcd => "fluxcd",
            Technology::Argocd => "argocd",
        }
    }
}

/// The first non-empty string among `candidates`, lower-cased; anything but `argocd` is `fluxcd`.
pub fn technology_of<'a>(candidates: impl IntoIterator<Item = Option<&'a Value>>) -> Technology {
    let chosen = candidates
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .find(|s| !s.is_empty())
        .map(str::to_lowercase);
    match chosen.as_deref() {
        Some("argocd") => Technology::Argocd,
        _ => Technology::Fluxcd,
    }
}

/// `spec.ocm` as an `ocm` overlay (`repo.name`, `component.name`, a non-empty `referencePath`); `None` if empty.
fn spec_ocm(settings: &Settings) -> Option<Value> {
    let ocm = settings.spec_field("ocm")?;
    let mut out = Map::new();
    for key in ["repo", "component"] {
        if let Some(name) = ocm.get(key).and_then(|r| r.get("name")).and_then(Value::as_str) {
            out.insert(key.into(), json!({"name": name}));
        }
    }
    if let Some(path) = ocm
        .get("referencePath")
        .and_then(Value::as_array)
        .filter(|p| !p.is_empty())
    {
        let names: Vec<Value> = path
            .iter()
            .filter_map(|e| e.get("name").and_then(Value::as_str))
            .map(|n| json!({"name": n}))
            .collect();
        out.insert("referencePath".into(), Value::Array(names));
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

/// Step 5 of the chain: `releaseNamespace` and the kubeConfig keys.
fn operator_keys(set: &mut Map<String, Value>, settings: &Settings) {
    set.insert("releaseNamespace".into(), json!(settings.namespace));
    set.insert("kubeConfigEnabled".into(), json!(settings.kubeconfig.is_some()));
    if let Some(secret) = &settings.kubeconfig {
        set.insert("kubeConfigSecretName".into(), json!(secret.name));
        set.insert("kubeConfigSecretKey".into(), json!(secret.key));
    }
}

/// The infra set (for `gotemplates/infra/infra`): profile `infra` < `spec.infraValues` < `spec.ocm` < exposure <
/// operator keys.
/// `destination_server` (the remote cluster's API server) fills `destinationServer` when the profile sets none.
pub fn infra_set(
    profile: &Profile,
    settings: &Settings,
    exposure: &Exposure,
    destination_server: Option<&str>,
) -> Map<String, Value> {
    let mut set = profile.infra.clone();
    if let Some(server) = destination_server
        && set
            .get("destinationServer")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
    {
        set.insert("destinationServer".into(), json!(server));
    }
    if let Some(Value::Object(overrides)) = settings.spec_field("infraValues") {
        set = merge_maps(&set, overrides);
    }
    if let Some(ocm) = spec_ocm(settings) {
        merge_into(&mut set, "ocm", &ocm);
    }
    set = merge_maps(&set, &template_vars(exposure, &settings.namespace));
    operator_keys(&mut set, settings);
    let technology = technology_of([set.get("deploymentTechnology")]);
    set.insert("deploymentTechnology".into(), json!(technology.as_str()));
    set
}

/// The runtime set (for `gotemplates/infra/runtime`): the infra set plus the merged component `services` (upstream
/// exposes them there too), with the same precedence.
pub fn runtime_set(infra: &Map<String, Value>, components: &Map<String, Value>) -> Map<String, Value> {
    let mut set = infra.clone();
    if let Some(services) = components.get("values").and_then(|v| v.get("services")) {
        merge_into(&mut set, "services", services);
    }
    set
}

/// `spec.values` split into (overrides of the other components keys, service overrides).
fn spec_values(settings: &Settings) -> (Map<String, Value>, Option<Value>) {
    match settings.spec_field("values") {
        Some(Value::Object(values)) if values.is_empty() => (Map::new(), None),
        Some(Value::Object(values)) => match values.get("services") {
            Some(services @ Value::Object(_)) => {
                let mut rest = values.clone();
                rest.remove("services");
                (rest, Some(services.clone()))
            }
            _ => (Map::new(), Some(Value::Object(values.clone()))),
        },
        _ => (Map::new(), None),
    }
}

/// The components set (for `gotemplates/components/*`): the rendered `components` section < `spec.values` <
/// `spec.ocm`, under `values`, next to the exposure and operator keys; sync waves computed for Argo CD.
/// `destination_server` is the remote cluster's API server when the PlatformMesh names a kubeconfig Secret.
pub fn components_set(
    host: &dyn Host,
    profile: &Profile,
    settings: &Settings,
    exposure: &Exposure,
    destination_server: Option<&str>,
) -> Result<Map<String, Value>> {
    let template_data = merge_maps(&profile.components, &template_vars(exposure, &settings.namespace));
    let mut values = profile.render_components(host, &Value::Object(template_data.clone()))?;

    let (overrides, services) = spec_values(settings);
    values = merge_maps(&values, &overrides);
    let base_services = match values.get("services") {
        Some(Value::Object(s)) => Value::Object(s.clone()),
        _ => Value::Object(Map::new()),
    };
    let services = match services {
        Some(spec) => merge(
            &base_services,
            &render_templates_in_value(host, &spec, &spec_value_vars(exposure)),
        ),
        None => base_services,
    };
    values.insert("services".into(), services);
    if let Some(ocm) = spec_ocm(settings) {
        merge_into(&mut values, "ocm", &ocm);
    }

    let technology = technology_of([
        template_data.get("deploymentTechnology"),
        values.get("deploymentTechnology"),
    ]);
    if technology == Technology::Argocd
        && let Some(Value::Object(services)) = values.get_mut("services")
    {
        calculate_sync_waves(services);
    }

    let mut set = template_vars(exposure, &settings.namespace);
    set.insert("baseDomainWithPort".into(), json!(exposure.base_domain_port()));
    let destination = values
        .get("destinationServer")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .or_else(|| destination_server.map(str::to_owned));
    if let Some(server) = destination {
        set.insert("destinationServer".into(), json!(server));
    }
    set.insert("values".into(), Value::Object(values));
    operator_keys(&mut set, settings);
    set.insert("deploymentTechnology".into(), json!(technology.as_str()));
    Ok(set)
}

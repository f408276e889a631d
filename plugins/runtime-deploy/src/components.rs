//! What `spec.runtimeDeployments` asks for, validated, with the naming rules of spec §4.9.5.

use platform_mesh_plugin_sdk::Context;
use serde_json::Value;

/// One runtime deployment.
#[derive(Clone, Debug, PartialEq)]
pub enum Component {
    /// A chart through Flux: `helm` (Helm repository) or `oci`.
    Flux {
        /// The component name (last `/` segment of the chart).
        base: String,
        /// `helm` or `oci`.
        helm: bool,
        registry: String,
        chart: String,
        version: String,
        values: Option<Value>,
        insecure: Option<bool>,
    },
    /// A chart resolved through an OCM component.
    Ocm {
        /// The deployment name ([`ocm_deployment_name`]).
        base: String,
        registry: String,
        component: String,
        version: String,
        resource_name: String,
        reference_path: Vec<String>,
        values: Option<Value>,
        insecure: Option<bool>,
    },
}

fn text(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or_default().to_owned()
}

/// The deployment name of an OCM entry: `name`, else `resourceName` unless `chart`, else the last reference path
/// element, else the last `/` segment of the component.
pub fn ocm_deployment_name(ocm: &Value) -> String {
    let name = text(ocm, "name");
    if !name.is_empty() {
        return name;
    }
    let resource = text(ocm, "resourceName");
    if !resource.is_empty() && resource != "chart" {
        return resource;
    }
    let path = ocm.get("referencePath").and_then(Value::as_array);
    if let Some(last) = path
        .and_then(|p| p.last())
        .map(|e| text(e, "name"))
        .filter(|n| !n.is_empty())
    {
        return last;
    }
    text(ocm, "component")
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// `ghcr.io/platform-mesh/x` → (`ghcr.io`, `platform-mesh/x`); `ghcr.io` → (`ghcr.io`, ``).
pub fn split_registry(registry: &str) -> (String, String) {
    match registry.split_once('/') {
        Some((base, sub)) => (base.to_owned(), sub.to_owned()),
        None => (registry.to_owned(), String::new()),
    }
}

/// `oci://<repository>` of an image reference (`host/path:tag`, `host/path@sha256:…`, `oci://…`).
pub fn oci_url(reference: &str) -> Result<String, String> {
    let bare = reference.strip_prefix("oci://").unwrap_or(reference);
    let repo = bare.split('@').next().unwrap_or_default();
    // A tag follows the last ':' only if no '/' comes after it (a port does).
    let repo = match repo.rfind(':') {
        Some(i) if !repo[i..].contains('/') => &repo[..i],
        _ => repo,
    };
    if repo.is_empty() || !repo.contains('/') {
        return Err(format!("invalid OCI reference {reference:?}"));
    }
    Ok(format!("oci://{repo}"))
}

/// The entries of `spec.runtimeDeployments`; an entry with both or neither of `flux` and `ocm` is an error naming
/// it.
pub fn components(ctx: &Context) -> Result<Vec<Component>, String> {
    let entries = ctx.field("/spec/runtimeDeployments").and_then(Value::as_array);
    let mut out = Vec::new();
    for (i, entry) in entries.into_iter().flatten().enumerate() {
        let (flux, ocm) = (
            entry.get("flux").filter(|v| !v.is_null()),
            entry.get("ocm").filter(|v| !v.is_null()),
        );
        let component = match (flux, ocm) {
            (Some(f), None) => Component::Flux {
                base: text(f, "chart").rsplit('/').next().unwrap_or_default().to_owned(),
                helm: text(f, "type") == "helm",
                registry: text(f, "registry"),
                chart: text(f, "chart"),
                version: text(f, "version"),
                values: f.get("values").filter(|v| !v.is_null()).cloned(),
                insecure: f.get("insecure").and_then(Value::as_bool),
            },
            (None, Some(o)) => Component::Ocm {
                base: ocm_deployment_name(o),
                registry: text(o, "registry"),
                component: text(o, "component"),
                version: text(o, "version"),
                resource_name: Some(text(o, "resourceName"))
                    .filter(|r| !r.is_empty())
                    .unwrap_or("chart".into()),
                reference_path: o
                    .get("referencePath")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(|e| text(e, "name"))
                    .collect(),
                values: o.get("values").filter(|v| !v.is_null()).cloned(),
                insecure: o.get("insecure").and_then(Value::as_bool),
            },
            _ => {
                return Err(format!(
                    "spec.runtimeDeployments[{i}]: exactly one of flux or ocm must be set"
                ));
            }
        };
        let base = match &component {
            Component::Flux { base, .. } | Component::Ocm { base, .. } => base,
        };
        let earlier = out.iter().position(|c: &Component| match c {
            Component::Flux { base: b, .. } | Component::Ocm { base: b, .. } => b == base,
        });
        if let Some(j) = earlier {
            // Both would write the same Flux objects and overwrite each other on every pass.
            return Err(format!(
                "spec.runtimeDeployments[{i}]: deployment name {base:?} is already used by \
                 spec.runtimeDeployments[{j}]"
            ));
        }
        out.push(component);
    }
    Ok(out)
}

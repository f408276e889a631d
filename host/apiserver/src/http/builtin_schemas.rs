//! OpenAPI schemas of the built-in kinds, generated from k8s-openapi's types (their `schemars` schemas use
//! Kubernetes' schema names, e.g. `io.k8s.api.core.v1.ConfigMap`), so `kubectl explain` works on built-in kinds.

use std::collections::{BTreeSet, HashMap};
use std::sync::LazyLock;

use k8s_openapi::api::{
    admissionregistration::v1 as admission, apps::v1 as apps, coordination::v1 as coordination,
    core::v1 as core, discovery::v1 as discovery, events::v1 as events, networking::v1 as networking,
    rbac::v1 as rbac,
};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as apiextensions;
use schemars::JsonSchema;
use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{Map, Value, json};

/// The schemas for one layout (OpenAPI v3 `#/components/schemas/` or Swagger 2 `#/definitions/`).
pub struct Schemas {
    /// `(group, version, kind)` → schema name.
    pub kinds: HashMap<(String, String, String), String>,
    /// Every schema by name, kinds tagged with `x-kubernetes-group-version-kind`.
    pub definitions: Map<String, Value>,
    prefix: &'static str,
}

macro_rules! builtin_kinds {
    ($($group:literal $version:literal $kind:literal => $ty:ty),* $(,)?) => {
        fn generate(g: &mut SchemaGenerator) -> Vec<((String, String, String), String)> {
            let mut out = Vec::new();
            $(
                g.subschema_for::<$ty>();
                out.push((
                    ($group.to_string(), $version.to_string(), $kind.to_string()),
                    <$ty as JsonSchema>::schema_name().into_owned(),
                ));
            )*
            out
        }
    };
}

builtin_kinds! {
    "" "v1" "Namespace" => core::Namespace,
    "" "v1" "ConfigMap" => core::ConfigMap,
    "" "v1" "Secret" => core::Secret,
    "" "v1" "ServiceAccount" => core::ServiceAccount,
    "" "v1" "Event" => core::Event,
    "" "v1" "Pod" => core::Pod,
    "" "v1" "Service" => core::Service,
    "" "v1" "Endpoints" => core::Endpoints,
    "" "v1" "PersistentVolumeClaim" => core::PersistentVolumeClaim,
    "events.k8s.io" "v1" "Event" => events::Event,
    "coordination.k8s.io" "v1" "Lease" => coordination::Lease,
    "rbac.authorization.k8s.io" "v1" "Role" => rbac::Role,
    "rbac.authorization.k8s.io" "v1" "RoleBinding" => rbac::RoleBinding,
    "rbac.authorization.k8s.io" "v1" "ClusterRole" => rbac::ClusterRole,
    "rbac.authorization.k8s.io" "v1" "ClusterRoleBinding" => rbac::ClusterRoleBinding,
    "apiextensions.k8s.io" "v1" "CustomResourceDefinition" => apiextensions::CustomResourceDefinition,
    "admissionregistration.k8s.io" "v1" "ValidatingWebhookConfiguration" => admission::ValidatingWebhookConfiguration,
    "admissionregistration.k8s.io" "v1" "MutatingWebhookConfiguration" => admission::MutatingWebhookConfiguration,
    "apps" "v1" "Deployment" => apps::Deployment,
    "apps" "v1" "StatefulSet" => apps::StatefulSet,
    "apps" "v1" "DaemonSet" => apps::DaemonSet,
    "discovery.k8s.io" "v1" "EndpointSlice" => discovery::EndpointSlice,
    "networking.k8s.io" "v1" "Ingress" => networking::Ingress,
    "networking.k8s.io" "v1" "NetworkPolicy" => networking::NetworkPolicy,
}

fn build(settings: SchemaSettings, prefix: &'static str) -> Schemas {
    let mut g = SchemaGenerator::new(settings);
    let kinds: HashMap<_, _> = generate(&mut g).into_iter().collect();
    let mut definitions = g.take_definitions(true);
    for ((group, version, kind), name) in &kinds {
        if let Some(def) = definitions.get_mut(name).and_then(Value::as_object_mut) {
            def.insert(
                "x-kubernetes-group-version-kind".into(),
                json!([{"group": group, "version": version, "kind": kind}]),
            );
        }
    }
    Schemas {
        kinds,
        definitions,
        prefix,
    }
}

static V3: LazyLock<Schemas> = LazyLock::new(|| build(SchemaSettings::openapi3(), "#/components/schemas/"));
static V2: LazyLock<Schemas> = LazyLock::new(|| {
    let mut settings = SchemaSettings::openapi3();
    settings.definitions_path = "/definitions".into();
    build(settings, "#/definitions/")
});

/// The schemas referenced as `#/components/schemas/<name>` (OpenAPI v3).
pub fn v3() -> &'static Schemas {
    &V3
}

/// The schemas referenced as `#/definitions/<name>` (Swagger 2).
pub fn v2() -> &'static Schemas {
    &V2
}

impl Schemas {
    /// The schema name of a built-in kind.
    pub fn name_of(&self, group: &str, version: &str, kind: &str) -> Option<&str> {
        self.kinds
            .get(&(group.to_string(), version.to_string(), kind.to_string()))
            .map(String::as_str)
    }

    /// `roots` and every schema they reference, transitively.
    pub fn closure<'a>(&self, roots: impl IntoIterator<Item = &'a str>) -> Map<String, Value> {
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut todo: Vec<String> = roots.into_iter().map(str::to_string).collect();
        while let Some(name) = todo.pop() {
            if !seen.insert(name.clone()) {
                continue;
            }
            if let Some(def) = self.definitions.get(&name) {
                collect_refs(def, self.prefix, &mut todo);
            }
        }
        seen.into_iter()
            .filter_map(|n| self.definitions.get(&n).map(|d| (n, d.clone())))
            .collect()
    }
}

fn collect_refs(v: &Value, prefix: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(r) = m
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix(prefix))
            {
                out.push(r.to_string());
            }
            m.values().for_each(|c| collect_refs(c, prefix, out));
        }
        Value::Array(a) => a.iter().for_each(|c| collect_refs(c, prefix, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_kinds_have_tagged_schemas_with_their_references() {
        let s = v3();
        let name = s.name_of("apps", "v1", "Deployment").unwrap();
        assert_eq!(name, "io.k8s.api.apps.v1.Deployment");
        let defs = s.closure([name]);
        assert_eq!(
            defs[name]["x-kubernetes-group-version-kind"][0]["kind"],
            "Deployment"
        );
        assert!(
            defs.contains_key("io.k8s.api.core.v1.PodSpec"),
            "referenced schemas come along"
        );
        assert!(
            !defs.contains_key("io.k8s.api.core.v1.ConfigMap"),
            "unreferenced ones do not"
        );
        let v2 = v2();
        let cm = v2.name_of("", "v1", "ConfigMap").unwrap();
        let text = serde_json::to_string(&v2.closure([cm])).unwrap();
        assert!(text.contains("#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"));
    }
}

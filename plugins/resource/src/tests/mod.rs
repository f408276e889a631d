//! Native tests against the SDK's FakeHost, covering upstream's resource subroutine inventory (spec §10.6), named
//! after the behaviour. FakeHost parses JSON-compatible YAML only, so profiles and Helm values here are JSON.

use platform_mesh_plugin_sdk::{Context, Gvk, ObjectRef, Target, testing::FakeHost};
use serde_json::{Value, json};

mod argocd;
mod basics;
mod flux;
mod technology;

pub const NS: &str = "platform-mesh-system";

/// A Resource named `name` with labels, annotations and status.
pub fn resource(name: &str, labels: Value, annotations: Value, status: Value) -> Value {
    json!({
        "apiVersion": "delivery.ocm.software/v1alpha1",
        "kind": "Resource",
        "metadata": {"name": name, "namespace": NS, "labels": labels, "annotations": annotations},
        "spec": {"componentRef": {"name": "platform-mesh"}},
        "status": status,
    })
}

pub fn ctx(resource: Value) -> Context {
    Context::for_object("resource", resource)
}

pub fn platform_mesh(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "core.platform-mesh.io/v1alpha1", "kind": "PlatformMesh",
           "metadata": {"name": name, "namespace": NS}, "spec": spec})
}

pub fn profile(namespace: &str, name: &str, profile: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace},
           "data": {"profile.yaml": profile.to_string()}})
}

/// A fake runtime cluster whose PlatformMesh `platform-mesh` uses `technology`.
pub fn host_with_technology(technology: &str) -> FakeHost {
    FakeHost::new()
        .with_object(Target::Runtime, platform_mesh("platform-mesh", json!({})))
        .with_object(
            Target::Runtime,
            profile(
                NS,
                "platform-mesh-profile",
                json!({"infra": {"deploymentTechnology": technology}, "components": {}}),
            ),
        )
}

pub fn helm_release(namespace: &str, name: &str, spec: Value) -> Value {
    json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
           "metadata": {"name": name, "namespace": namespace}, "spec": spec})
}

pub fn application(name: &str, source: Value) -> Value {
    json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
           "metadata": {"name": name, "namespace": NS}, "spec": {"project": "platform-mesh-runtime", "source": source}})
}

pub fn reference(group: &str, version: &str, kind: &str, namespace: &str, name: &str) -> ObjectRef {
    Gvk::new(group, version, kind).object(Some(namespace), name)
}

pub fn stored(host: &FakeHost, r: &ObjectRef) -> Value {
    host.object(&Target::Infra, r)
        .unwrap_or_else(|| panic!("{r} exists in the infra cluster"))
}

pub fn helm_release_ref(namespace: &str, name: &str) -> ObjectRef {
    reference("helm.toolkit.fluxcd.io", "v2", "HelmRelease", namespace, name)
}

pub fn application_ref(name: &str) -> ObjectRef {
    reference("argoproj.io", "v1alpha1", "Application", NS, name)
}

/// The write calls (`apply`, `update`, `patch`, ...) made so far, as `(op, kind, name)`.
pub fn writes(host: &FakeHost) -> Vec<(&'static str, String, String)> {
    host.calls()
        .into_iter()
        .filter(|c| !matches!(c.op, "get" | "list"))
        .map(|c| (c.op, c.kind, c.name))
        .collect()
}

//! Native tests against the SDK's FakeHost. They cover upstream's `providersecret_test.go` inventory (spec §10.5),
//! named after the behaviour, plus the fixes of spec §11.4 items 38, 39 and 41.

mod admin;
mod basics;
mod scoped;

use base64::{Engine, engine::general_purpose::STANDARD};
use platform_mesh_plugin_sdk::{Context, Gvk, Target, testing::FakeHost};
use serde_json::{Value, json};

use crate::pem::Certificate;

pub const NS: &str = "platform-mesh-system";
pub const PMS: &str = "root:platform-mesh-system";
pub const BASE: &str = "https://frontproxy-front-proxy.platform-mesh-system:8443";
/// 2026-11-30T10:00:00Z.
pub const NOW: i64 = 1_796_032_800;

/// A syntactically valid certificate PEM block, distinct per seed.
pub fn cert(seed: u8) -> String {
    Certificate(vec![0x30, 0x03, 0x02, 0x01, seed]).to_pem()
}

pub fn b64(text: &str) -> String {
    STANDARD.encode(text)
}

pub fn secret(name: &str, data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": NS}, "data": data})
}

/// An admin kubeconfig (JSON, which FakeHost's YAML reader accepts) trusting `ca`, with client certificates.
pub fn admin_kubeconfig(ca: &str) -> String {
    json!({
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "kcp", "cluster": {"server": "https://kcp.example:6443/clusters/root",
                      "certificate-authority-data": b64(ca), "certificate-authority": "/tmp/ca.crt"}}],
        "users": [{"name": "admin", "user": {"client-certificate-data": "Y2VydA==", "client-key-data": "a2V5"}}],
        "contexts": [{"name": "admin", "context": {"cluster": "kcp", "user": "admin"}}],
        "current-context": "admin",
    })
    .to_string()
}

fn available(kind: &str, name: &str) -> Value {
    json!({"apiVersion": "operator.kcp.io/v1alpha1", "kind": kind, "metadata": {"name": name, "namespace": NS},
           "status": {"conditions": [{"type": "Available", "status": "True"}]}})
}

/// The APIExport `core.platform-mesh.io` as kcp-setup stores it (v1alpha1 shape, read back as v1alpha2).
pub fn core_export() -> Value {
    json!({"apiVersion": "apis.kcp.io/v1alpha2", "kind": "APIExport",
           "metadata": {"name": "core.platform-mesh.io"},
           "spec": {"latestResourceSchemas": ["v260109-82344be.accounts.core.platform-mesh.io"],
                    "permissionClaims": [{"group": "", "resource": "secrets", "all": true}]}})
}

pub fn slice(name: &str, url: Option<&str>) -> Value {
    let status = match url {
        Some(url) => json!({"apiExportEndpoints": [{"url": url}]}),
        None => json!({}),
    };
    json!({"apiVersion": "apis.kcp.io/v1alpha1", "kind": "APIExportEndpointSlice", "metadata": {"name": name},
           "spec": {"export": {"name": "core.platform-mesh.io", "path": PMS}}, "status": status})
}

/// Everything a happy pass needs: kcp-operator objects Available, the admin Secrets, the root CA Secret and the
/// core export.
pub fn host() -> FakeHost {
    FakeHost::new()
        .with_object(Target::Runtime, available("RootShard", "root"))
        .with_object(Target::Runtime, available("FrontProxy", "frontproxy"))
        .with_object(
            Target::Runtime,
            secret(
                "kcp-cluster-admin-client-cert",
                json!({"kubeconfig": b64(&admin_kubeconfig(&cert(1)))}),
            ),
        )
        .with_object(
            Target::Runtime,
            secret(
                "kubeconfig-kcp-admin",
                json!({"kubeconfig": b64(&admin_kubeconfig(&cert(1)))}),
            ),
        )
        .with_object(
            Target::Runtime,
            secret(
                "root-ca",
                json!({"tls.crt": b64(&format!("{}{}", cert(2), cert(3))), "ca.crt": b64(&cert(1))}),
            ),
        )
        .with_object(Target::kcp(PMS), core_export())
}

/// A PlatformMesh context with `kcp` as `spec.kcp`.
pub fn pm(spec: Value) -> Context {
    Context::for_object(
        "platformmesh",
        json!({"apiVersion": "core.platform-mesh.io/v1alpha1", "kind": "PlatformMesh",
               "metadata": {"name": "platform-mesh", "namespace": NS, "resourceVersion": "1"},
               "spec": spec}),
    )
}

/// Only the given connections (no defaults).
pub fn only(connections: Value) -> Context {
    pm(json!({"kcp": {"providerConnections": connections},
              "exposure": {"baseDomain": "example.com", "port": 8443}}))
}

/// The stored kubeconfig of Secret `ns/name`, parsed (FakeHost's toYaml writes JSON).
pub fn stored_kubeconfig(host: &FakeHost, ns: &str, name: &str) -> Value {
    let secret = host
        .object(
            &Target::Runtime,
            &Gvk::new("", "v1", "Secret").object(Some(ns), name),
        )
        .unwrap_or_else(|| panic!("secret {ns}/{name} was not written"));
    let text = STANDARD
        .decode(secret["data"]["kubeconfig"].as_str().expect("kubeconfig key"))
        .expect("base64");
    serde_json::from_slice(&text).expect("kubeconfig JSON")
}

/// The calls that wrote something.
pub fn writes(host: &FakeHost) -> Vec<String> {
    host.calls()
        .into_iter()
        .filter(|c| !matches!(c.op, "get" | "list"))
        .map(|c| format!("{} {} {}", c.op, c.kind, c.name))
        .collect()
}

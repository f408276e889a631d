//! Everything the Flux, cert-manager and Argo CD simulators write is valid under the real controllers' CRDs.
//!
//! The objects of a run (specs as the operator's templates write them, statuses as the simulators write them) are
//! checked with validators generated from the real CRDs: the `@kubernetes-models` npm packages, run by
//! `tests/tools/validate-crds.mjs`. `.ci/run` installs the packages under `target/npm`; `PMO_NPM_MODULES` points
//! elsewhere. Without them the test is skipped with a message, except in CI (`CI=true`), where it fails.

use std::path::PathBuf;
use std::process::Command;

use serde_json::{Value, json};

use super::*;
use crate::sim::argocd::APPLICATION;
use crate::sim::certmanager::{CERTIFICATE, CLUSTER_ISSUER, ISSUER};
use crate::sim::crds::Kind;
use crate::sim::flux::{GIT_REPOSITORY, HELM_RELEASE, HELM_REPOSITORY, KUSTOMIZATION, OCI_REPOSITORY};

fn node_modules() -> Option<PathBuf> {
    let dir = match std::env::var_os("PMO_NPM_MODULES") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/npm/node_modules"),
    };
    let found = dir.join("@kubernetes-models/flux-cd").is_dir()
        && dir.join("@kubernetes-models/cert-manager").is_dir()
        && dir.join("@kubernetes-models/argo-cd").is_dir();
    let node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    (found && node).then_some(dir)
}

fn ready(o: &DynamicObject) -> bool {
    is_ready(o, "Ready")
}

#[tokio::test]
async fn simulator_writes_validate_against_the_real_crds() {
    let Some(modules) = node_modules() else {
        let msg =
            "node or the @kubernetes-models npm packages are missing (run .ci/run or set PMO_NPM_MODULES)";
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{msg}");
        eprintln!("SKIPPED simulator_writes_validate_against_the_real_crds: {msg}");
        return;
    };
    let server = server(&[SimKind::Flux, SimKind::CertManager, SimKind::ArgoCd]).await;
    let client = server.client();
    namespace(&client, "pm").await;
    namespace(&client, "argocd").await;
    let api = |k: &Kind, ns: Option<&str>| dynamic(&client, &k.api_resource(), ns);
    let inputs: Vec<(Kind, Option<&str>, Value)> = vec![
        (
            OCI_REPOSITORY,
            Some("pm"),
            json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "OCIRepository",
            "metadata": {"name": "oci"}, "spec": {"interval": "1m", "url": "oci://ghcr.io/x/app",
            "ref": {"tag": "1.2.3"}}}),
        ),
        (
            HELM_REPOSITORY,
            Some("pm"),
            json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "HelmRepository",
            "metadata": {"name": "charts"}, "spec": {"interval": "5m", "url": "https://charts.example.io"}}),
        ),
        (
            GIT_REPOSITORY,
            Some("pm"),
            json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
            "metadata": {"name": "git"}, "spec": {"interval": "1m", "url": "https://github.com/x/y",
            "ref": {"branch": "main"}}}),
        ),
        (
            HELM_RELEASE,
            Some("pm"),
            json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
            "metadata": {"name": "by-ref"}, "spec": {"interval": "5m", "releaseName": "by-ref",
            "chartRef": {"kind": "OCIRepository", "name": "oci"}, "values": {"a": 1}}}),
        ),
        (
            HELM_RELEASE,
            Some("pm"),
            json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
            "metadata": {"name": "by-chart"}, "spec": {"interval": "5m", "targetNamespace": "pm",
            "chart": {"spec": {"chart": "app", "version": "0.4.1",
            "sourceRef": {"kind": "HelmRepository", "name": "charts"}}}}}),
        ),
        (
            KUSTOMIZATION,
            Some("pm"),
            json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": "kust"}, "spec": {"interval": "10m", "path": "./deploy", "prune": true,
            "sourceRef": {"kind": "GitRepository", "name": "git"}}}),
        ),
        (
            ISSUER,
            Some("pm"),
            json!({"apiVersion": "cert-manager.io/v1", "kind": "Issuer",
            "metadata": {"name": "selfsigned"}, "spec": {"selfSigned": {}}}),
        ),
        (
            CLUSTER_ISSUER,
            None,
            json!({"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer",
            "metadata": {"name": "cluster-selfsigned"}, "spec": {"selfSigned": {}}}),
        ),
        (
            CERTIFICATE,
            Some("pm"),
            json!({"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
            "metadata": {"name": "webhook"}, "spec": {"secretName": "webhook-tls", "dnsNames": ["webhook.pm.svc"],
            "issuerRef": {"name": "selfsigned", "kind": "Issuer", "group": "cert-manager.io"}}}),
        ),
        (
            APPLICATION,
            Some("argocd"),
            json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": "istio-base"}, "spec": {"project": "default",
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "istio-system"},
            "source": {"repoURL": "https://istio-release.storage.googleapis.com/charts", "chart": "base",
            "targetRevision": "1.27.0"}}}),
        ),
    ];
    for (kind, ns, obj) in &inputs {
        create(&api(kind, *ns), obj.clone()).await;
    }
    let mut written = Vec::new();
    for (kind, ns, obj) in &inputs {
        let name = obj["metadata"]["name"].as_str().unwrap_or_default();
        let done = wait_for(&api(kind, *ns), name, |o| {
            if kind.kind == "Application" {
                o.data["status"]["health"]["status"] == "Healthy"
            } else {
                ready(o)
            }
        })
        .await;
        let mut value = serde_json::to_value(&done).unwrap();
        // The validators check the kinds' own fields; server-set metadata is the API server's, not the simulator's.
        value["metadata"] = json!({"name": name, "namespace": ns});
        written.push(value);
    }
    server.shutdown().await;

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("objects.json");
    std::fs::write(&file, serde_json::to_vec(&written).unwrap()).unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/tools/validate-crds.mjs");
    let out = Command::new("node")
        .arg(&script)
        .arg(&modules)
        .arg(&file)
        .output()
        .expect("node runs");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "objects invalid under the real CRDs:\n{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        report.lines().filter(|l| l.starts_with("ok ")).count(),
        inputs.len(),
        "{report}"
    );
}

//! The whole subroutine on the FakeHost (spec §4.1.1 and the upstream process tests).

use std::{path::Path, time::Duration};

use platform_mesh_plugin_sdk::{Gvk, Outcome, Plugin, Reconciled, Target, testing::FakeHost};
use serde_json::{Value, json};

use super::{
    NS, context, host, host_with_workspace, profile_config_map, sample_profile_text, sample_spec,
    with_prerequisites, workspace,
};
use crate::Deployment;

fn applied(host: &FakeHost, target: &Target, kind: &str) -> Vec<String> {
    host.calls()
        .into_iter()
        .filter(|c| c.op == "apply" && &c.target == target && c.kind == kind)
        .map(|c| c.name)
        .collect()
}

fn sample_host(profile_file: &str) -> FakeHost {
    with_prerequisites(host()).with_object(
        Target::Runtime,
        profile_config_map("platform-mesh-profile", &sample_profile_text(profile_file)),
    )
}

#[test]
fn fluxcd_happy_path_applies_releases_and_resources_and_continues_without_a_ca_secret() {
    let h = sample_host("profile.yaml");
    let done = Deployment::process(&h, &context(sample_spec())).unwrap();
    assert_eq!(done, Reconciled::ok());
    let releases = applied(&h, &Target::Infra, "HelmRelease");
    assert!(releases.contains(&"cert-manager".to_owned()), "{releases:?}");
    assert!(releases.contains(&"account-operator".to_owned()), "{releases:?}");
    assert!(!releases.contains(&"terminal-controller-manager".to_owned()));
    assert!(applied(&h, &Target::Infra, "Application").is_empty());
    assert!(applied(&h, &Target::Infra, "Kustomization").contains(&"gateway-api".to_owned()));
    let resources = applied(&h, &Target::Runtime, "Resource");
    assert!(resources.contains(&"portal-chart".to_owned()) && resources.contains(&"cert-manager".to_owned()));
    assert!(applied(&h, &Target::Infra, "Resource").is_empty());
    assert_eq!(
        applied(&h, &Target::Runtime, "Issuer"),
        ["rebac-authz-webhook-issuer"]
    );
    assert_eq!(applied(&h, &Target::Runtime, "Secret"), ["kcp-webhook-secret"]);
}

#[test]
fn argocd_happy_path_renders_applications_instead_of_releases() {
    let h = with_prerequisites(host()).with_object(
        Target::Runtime,
        profile_config_map(
            "platform-mesh-argocd-profile",
            &sample_profile_text("profile-argocd.yaml"),
        ),
    );
    let mut spec = sample_spec();
    spec["profileConfigMap"] = json!({"name": "platform-mesh-argocd-profile"});
    let done = Deployment::process(&h, &context(spec)).unwrap();
    assert_eq!(done, Reconciled::ok());
    assert!(applied(&h, &Target::Infra, "HelmRelease").is_empty());
    let apps = applied(&h, &Target::Infra, "Application");
    assert!(
        apps.contains(&"portal".to_owned()) && apps.contains(&"cert-manager".to_owned()),
        "{apps:?}"
    );
    assert_eq!(
        applied(&h, &Target::Infra, "AppProject"),
        ["platform-mesh-runtime"]
    );
}

#[test]
fn cert_manager_crds_not_established_stop_with_requeue() {
    let h = host().with_object(
        Target::Runtime,
        profile_config_map("platform-mesh-profile", &sample_profile_text("profile.yaml")),
    );
    let done = Deployment::process(&h, &context(sample_spec())).unwrap();
    assert_eq!(
        done,
        Reconciled::stop_after(
            Duration::from_secs(5),
            "cert-manager CRD issuers.cert-manager.io is not established"
        )
    );
}

#[test]
fn a_missing_profile_is_an_error_and_applies_nothing() {
    let h = with_prerequisites(host());
    let error = Deployment::process(&h, &context(sample_spec())).unwrap_err();
    assert!(
        error.message.contains("platform-mesh-profile"),
        "{}",
        error.message
    );
    assert!(h.calls().iter().all(|c| c.op != "apply"));
}

#[test]
fn root_shard_not_ready_stops_with_requeue() {
    let h = host().with_object(
        Target::Runtime,
        profile_config_map("platform-mesh-profile", &sample_profile_text("profile.yaml")),
    );
    let h = with_prerequisites(h);
    h.insert(
        Target::Runtime,
        json!({"apiVersion": "operator.kcp.io/v1alpha1", "kind": "RootShard", "metadata": {"name": "root", "namespace": NS},
               "status": {"conditions": [{"type": "Available", "status": "False"}]}}),
    );
    let done = Deployment::process(&h, &context(sample_spec())).unwrap();
    assert_eq!(
        done,
        Reconciled::stop_after(Duration::from_secs(5), "RootShard is not ready")
    );
}

#[test]
fn the_webhook_ca_is_copied_into_the_kubeconfig_secret_and_kcp_restarted() {
    use base64::{Engine, engine::general_purpose::STANDARD};
    let h = sample_host("profile.yaml");
    h.insert(
        Target::Runtime,
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "rebac-authz-webhook-cert", "namespace": NS},
               "data": {"ca.crt": STANDARD.encode("CA")}}),
    );
    let kubeconfig =
        "clusters:\n- name: webhook\n  cluster:\n    server: https://x\ncurrent-context: webhook\n";
    h.insert(
        Target::Runtime,
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "kcp-webhook-secret", "namespace": NS},
               "data": {"kubeconfig": STANDARD.encode(kubeconfig)}}),
    );
    h.insert(
        Target::Runtime,
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "kcp-0", "namespace": NS,
               "labels": {"app.kubernetes.io/name": "kcp"}}}),
    );
    assert_eq!(
        Deployment::process(&h, &context(sample_spec())).unwrap(),
        Reconciled::ok()
    );
    let secret = h
        .object(
            &Target::Runtime,
            &Gvk::new("", "v1", "Secret").object(Some(NS), "kcp-webhook-secret"),
        )
        .unwrap();
    let text = String::from_utf8(
        STANDARD
            .decode(secret["data"]["kubeconfig"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert!(
        text.contains(&format!("certificate-authority-data: {}", STANDARD.encode("CA"))),
        "{text}"
    );
    assert!(h.calls().iter().any(|c| c.op == "delete" && c.name == "kcp-0"));
}

#[test]
fn istio_missing_istiod_is_an_error_and_a_ready_one_passes() {
    let h = sample_host("profile.yaml");
    let mut ctx = context(sample_spec());
    ctx.operator_config = json!({});
    let error = Deployment::process(&h, &ctx).unwrap_err();
    assert!(
        error
            .message
            .contains("istio-istiod/platform-mesh-system resource not found"),
        "{}",
        error.message
    );
    h.insert(
        Target::Infra,
        json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
               "metadata": {"name": "istio-istiod", "namespace": NS},
               "status": {"conditions": [{"type": "Ready", "status": "True"}]}}),
    );
    // Without the downward-API variables the pod is found by upstream's label; none is an error.
    let error = Deployment::process(&h, &ctx).unwrap_err();
    assert!(
        error
            .message
            .starts_with("pod not found: no pod labelled app=platform-mesh-operator"),
        "{error}"
    );
    h.insert(
        Target::Infra,
        operator_pod("pmo-abc", "platform-mesh-system", true),
    );
    assert_eq!(Deployment::process(&h, &ctx).unwrap(), Reconciled::ok());
}

fn operator_pod(name: &str, namespace: &str, sidecar: bool) -> Value {
    let mut containers = vec![json!({"name": "manager"})];
    if sidecar {
        containers.push(json!({"name": "istio-proxy"}));
    }
    json!({"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "namespace": namespace, "labels": {"app": "platform-mesh-operator"}},
           "spec": {"containers": containers}})
}

#[test]
fn istio_the_pod_found_by_label_without_sidecar_is_deleted_on_the_infra_cluster() {
    let h = sample_host("profile.yaml");
    h.insert(
        Target::Infra,
        json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
               "metadata": {"name": "istio-istiod", "namespace": NS},
               "status": {"conditions": [{"type": "Ready", "status": "True"}]}}),
    );
    // A remote runtime cluster holds a same-named pod: it is not the operator's and is never touched.
    h.insert(
        Target::Runtime,
        operator_pod("pmo-abc", "platform-mesh-system", false),
    );
    h.insert(
        Target::Infra,
        operator_pod("pmo-abc", "platform-mesh-system", false),
    );
    h.insert(Target::Infra, operator_pod("other-ns", "elsewhere", false));
    let mut ctx = context(sample_spec());
    ctx.operator_config = json!({"remoteRuntimeKubeconfig": "/remote"});
    let done = Deployment::process(&h, &ctx).unwrap();
    assert!(matches!(done.outcome, Outcome::Stop { .. }), "{done:?}");
    let deletes: Vec<_> = h
        .calls()
        .into_iter()
        .filter(|c| c.kind == "Pod" && c.op == "delete")
        .collect();
    assert_eq!(deletes.len(), 1, "{deletes:?}");
    assert_eq!(
        (deletes[0].target.clone(), deletes[0].name.as_str()),
        (Target::Infra, "pmo-abc")
    );
}

#[test]
fn istio_the_own_pod_without_sidecar_is_deleted_and_the_chain_stops() {
    let h = sample_host("profile.yaml");
    h.insert(
        Target::Infra,
        json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
               "metadata": {"name": "istio-istiod", "namespace": NS},
               "status": {"conditions": [{"type": "Ready", "status": "True"}]}}),
    );
    h.insert(
        Target::Infra,
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "op-1", "namespace": NS},
               "spec": {"containers": [{"name": "operator"}]}}),
    );
    let mut ctx = context(sample_spec());
    ctx.operator_config = json!({"podName": "op-1", "podNamespace": NS});
    let done = Deployment::process(&h, &ctx).unwrap();
    assert!(matches!(done.outcome, Outcome::Stop { .. }));
    assert!(h.calls().iter().any(|c| c.op == "delete" && c.name == "op-1"));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn a_template_with_an_unknown_function_names_file_and_line_and_applies_nothing_of_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&workspace().join("gotemplates"), &dir.path().join("gotemplates"));
    copy_dir(
        &workspace().join("manifests/k8s"),
        &dir.path().join("manifests/k8s"),
    );
    std::fs::write(
        dir.path().join("gotemplates/components/infra/zz-broken.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .releaseNamespace | nosuchfunc }}\n",
    )
    .unwrap();
    let h = with_prerequisites(host_with_workspace(dir.path().to_path_buf())).with_object(
        Target::Runtime,
        profile_config_map("platform-mesh-profile", &sample_profile_text("profile.yaml")),
    );
    let error = Deployment::process(&h, &context(sample_spec())).unwrap_err();
    assert!(error.message.contains("zz-broken.yaml"), "{}", error.message);
    assert!(error.message.contains(":4"), "{}", error.message);
    // The earlier directories were applied; nothing of components/infra (HelmReleases of services) was.
    assert!(!applied(&h, &Target::Infra, "HelmRelease").contains(&"portal".to_owned()));
    assert!(applied(&h, &Target::Runtime, "Resource").contains(&"portal-chart".to_owned()));
}

#[test]
fn a_per_platform_mesh_kubeconfig_secret_feeds_flux_kube_config_and_argo_destination() {
    use base64::{Engine, engine::general_purpose::STANDARD};
    let kubeconfig = "apiVersion: v1\nclusters:\n- name: env-a\n  cluster:\n    server: https://env-a.example:6443\ncontexts:\n- name: a\n  context:\n    cluster: env-a\ncurrent-context: a\n";
    let h = sample_host("profile.yaml").with_object(
        Target::Infra,
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "env-a", "namespace": NS},
               "data": {"kubeconfig": STANDARD.encode(kubeconfig)}}),
    );
    let mut spec = sample_spec();
    spec["runtimeKubeconfigSecret"] = json!({"name": "env-a"});
    assert_eq!(Deployment::process(&h, &context(spec)).unwrap(), Reconciled::ok());
    let portal = h
        .object(
            &Target::Infra,
            &Gvk::new("helm.toolkit.fluxcd.io", "v2", "HelmRelease").object(Some(NS), "portal"),
        )
        .unwrap();
    assert_eq!(
        portal["spec"]["kubeConfig"]["secretRef"],
        json!({"name": "env-a", "key": "kubeconfig"})
    );
    let settings = crate::settings::Settings::from_context(&context(
        json!({"runtimeKubeconfigSecret": {"name": "env-a"}}),
    ));
    assert_eq!(
        crate::remote::destination_server(&h, &settings)
            .unwrap()
            .as_deref(),
        Some("https://env-a.example:6443")
    );
}

#[test]
fn a_missing_per_platform_mesh_kubeconfig_secret_is_an_error_naming_it() {
    let h = sample_host("profile.yaml");
    let mut spec = sample_spec();
    spec["runtimeKubeconfigSecret"] = json!({"name": "env-b"});
    let error = Deployment::process(&h, &context(spec)).unwrap_err();
    assert!(
        error
            .message
            .contains("Secret platform-mesh-system/env-b does not exist"),
        "{}",
        error.message
    );
}

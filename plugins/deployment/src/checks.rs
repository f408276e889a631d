//! The readiness checks at the end of the deployment (spec §4.1.1 steps 7, 9, 10): cert-manager's CRDs, istio, and
//! kcp's RootShard and FrontProxy. A check that is not yet satisfied stops the chain with a 5 s requeue.

use std::time::Duration;

use platform_mesh_plugin_sdk::{Gvk, Host, Reconciled, Target};
use serde_json::Value;

use crate::{
    error::{Error, Result},
    settings::{OPERATOR_POD_LABEL, OperatorPod, Settings},
    vars::Technology,
};

/// Upstream requeues every check after five seconds.
pub const REQUEUE: Duration = Duration::from_secs(5);

/// Whether `object` has condition `type_` with status `True`.
pub fn condition_true(object: &Value, type_: &str) -> bool {
    object
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|c| {
            c.get("type").and_then(Value::as_str) == Some(type_)
                && c.get("status").and_then(Value::as_str) == Some("True")
        })
}

/// Step 7: both cert-manager CRDs exist and are `Established`.
pub fn cert_manager_crds(host: &dyn Host) -> Result<Option<Reconciled>> {
    let crds = Gvk::new("apiextensions.k8s.io", "v1", "CustomResourceDefinition");
    for name in ["issuers.cert-manager.io", "certificates.cert-manager.io"] {
        let reference = crds.object(None, name);
        let crd = host
            .get(&Target::Runtime, &reference)
            .map_err(|e| Error::cluster("reading", &Target::Runtime, &reference, e))?;
        if !crd.is_some_and(|c| condition_true(&c, "Established")) {
            return Ok(Some(Reconciled::stop_after(
                REQUEUE,
                format!("cert-manager CRD {name} is not established"),
            )));
        }
    }
    Ok(None)
}

/// Step 9 (with `--subroutines-deployment-enable-istio`): istiod is deployed and ready, and the operator's pod has
/// the sidecar. The pod is read from the cluster the operator runs in — the infra cluster, which is the local one
/// unless `--remote-infra-kubeconfig` is set (so also with a remote runtime cluster), as upstream reads it. It is
/// the pod the downward API names (`PMO_POD_NAME`/`PMO_POD_NAMESPACE`), else, as upstream finds it, the pods
/// labelled `app=platform-mesh-operator` in `PMO_POD_NAMESPACE` or `platform-mesh-system`; none is an error.
/// Deliberate difference (spec §11.2 item 13): a pod without the sidecar is deleted so that its Deployment
/// replaces it with an injected one, and the chain stops; the process never exits. Every labelled pod is checked,
/// not only the first.
pub fn istio(host: &dyn Host, settings: &Settings, technology: Technology) -> Result<Option<Reconciled>> {
    let gvk = match technology {
        Technology::Argocd => Gvk::new("argoproj.io", "v1alpha1", "Application"),
        Technology::Fluxcd => Gvk::new("helm.toolkit.fluxcd.io", "v2", "HelmRelease"),
    };
    let reference = gvk.object(Some(&settings.namespace), "istio-istiod");
    let istiod = host
        .get(&Target::Infra, &reference)
        .map_err(|e| Error::cluster("reading", &Target::Infra, &reference, e))?
        .ok_or_else(|| {
            Error::Invalid(format!(
                "istio-istiod/{} resource not found, waiting for it to be created",
                settings.namespace
            ))
        })?;
    let field = |p: &str| istiod.pointer(p).and_then(Value::as_str).unwrap_or_default();
    let waiting = match technology {
        Technology::Argocd if field("/status/sync/status") != "Synced" => {
            Some("istio-istiod Application is not synced")
        }
        Technology::Argocd if field("/status/health/status") != "Healthy" => {
            Some("istio-istiod Application is not healthy")
        }
        Technology::Fluxcd if !condition_true(&istiod, "Ready") => Some("istio-istiod Release is not ready"),
        _ => None,
    };
    if let Some(message) = waiting {
        return Ok(Some(Reconciled::stop_after(REQUEUE, message)));
    }
    let pods = operator_pods(host, &settings.pod)?;
    let pod_gvk = Gvk::new("", "v1", "Pod");
    let mut deleted = Vec::new();
    for pod in &pods {
        let has_sidecar = ["/spec/initContainers", "/spec/containers"].iter().any(|p| {
            pod.pointer(p)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .any(|c| c.get("name").and_then(Value::as_str) == Some("istio-proxy"))
        });
        let terminating = pod
            .pointer("/metadata/deletionTimestamp")
            .is_some_and(|t| !t.is_null());
        if has_sidecar || terminating || settings.is_local {
            continue;
        }
        let name = pod
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let namespace = pod.pointer("/metadata/namespace").and_then(Value::as_str);
        let pod_ref = pod_gvk.object(namespace, name);
        host.delete(&Target::Infra, &pod_ref)
            .map_err(|e| Error::cluster("deleting", &Target::Infra, &pod_ref, e))?;
        deleted.push(name.to_owned());
    }
    if deleted.is_empty() {
        return Ok(None);
    }
    Ok(Some(Reconciled::stop_after(
        REQUEUE,
        format!(
            "the operator pod {} has no istio sidecar; it was deleted so that its replacement gets one",
            deleted.join(", ")
        ),
    )))
}

/// The operator's pods on the infra cluster; none found is an error.
fn operator_pods(host: &dyn Host, pod: &OperatorPod) -> Result<Vec<Value>> {
    let gvk = Gvk::new("", "v1", "Pod");
    match pod {
        OperatorPod::Named(namespace, name) => {
            let pod_ref = gvk.object(Some(namespace), name.clone());
            let found = host
                .get(&Target::Infra, &pod_ref)
                .map_err(|e| Error::cluster("reading", &Target::Infra, &pod_ref, e))?
                .ok_or_else(|| {
                    Error::Invalid(format!("the operator's own pod {namespace}/{name} was not found"))
                })?;
            Ok(vec![found])
        }
        OperatorPod::Labelled(namespace) => {
            let pods = host
                .list(&Target::Infra, &gvk, Some(namespace), Some(OPERATOR_POD_LABEL))
                .map_err(|e| Error::Invalid(format!("listing the operator's pods in {namespace}: {e}")))?;
            if pods.is_empty() {
                return Err(Error::Invalid(format!(
                    "pod not found: no pod labelled {OPERATOR_POD_LABEL} in namespace {namespace} on the infra \
                     cluster (set PMO_POD_NAME/PMO_POD_NAMESPACE, or disable the check with \
                     --subroutines-deployment-enable-istio=false)"
                )));
            }
            Ok(pods)
        }
    }
}

/// Step 10: RootShard and FrontProxy are `Available` (spec §2.8); read errors count as not ready.
pub fn kcp_ready(host: &dyn Host, settings: &Settings) -> Option<Reconciled> {
    let checks = [
        ("RootShard", settings.root_shard_name.as_str()),
        ("FrontProxy", settings.front_proxy_name.as_str()),
    ];
    for (kind, name) in checks {
        let reference =
            Gvk::new("operator.kcp.io", "v1alpha1", kind).object(Some(&settings.kcp_namespace), name);
        let available = host
            .get(&Target::Runtime, &reference)
            .ok()
            .flatten()
            .is_some_and(|o| condition_true(&o, "Available"));
        if !available {
            return Some(Reconciled::stop_after(REQUEUE, format!("{kind} is not ready")));
        }
    }
    None
}

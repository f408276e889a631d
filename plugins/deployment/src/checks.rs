//! The readiness checks at the end of the deployment (spec §4.1.1 steps 7, 9, 10): cert-manager's CRDs, istio, and
//! kcp's RootShard and FrontProxy. A check that is not yet satisfied stops the chain with a 5 s requeue.

use std::time::Duration;

use platform_mesh_plugin_sdk::{Gvk, Host, Reconciled, Target};
use serde_json::Value;

use crate::{
    error::{Error, Result},
    settings::Settings,
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

/// Step 9 (with `--subroutines-deployment-enable-istio`): istiod is deployed and ready, and the operator's own pod
/// has the sidecar. Deliberate difference (spec §11.2 item 13): the operator checks its own pod (downward API
/// `POD_NAME`/`POD_NAMESPACE`), and when the sidecar is missing deletes that pod so its Deployment replaces it with
/// an injected one; it never exits. Outside a pod the sidecar check is skipped.
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
    let Some((namespace, name)) = &settings.pod else {
        return Ok(None);
    };
    let pod_ref = Gvk::new("", "v1", "Pod").object(Some(namespace), name.clone());
    let pod = host
        .get(&Target::Runtime, &pod_ref)
        .map_err(|e| Error::cluster("reading", &Target::Runtime, &pod_ref, e))?
        .ok_or_else(|| Error::Invalid(format!("the operator's own pod {namespace}/{name} was not found")))?;
    let has_sidecar = ["/spec/initContainers", "/spec/containers"].iter().any(|p| {
        pod.pointer(p)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|c| c.get("name").and_then(Value::as_str) == Some("istio-proxy"))
    });
    if has_sidecar || settings.is_local {
        return Ok(None);
    }
    host.delete(&Target::Runtime, &pod_ref)
        .map_err(|e| Error::cluster("deleting", &Target::Runtime, &pod_ref, e))?;
    Ok(Some(Reconciled::stop_after(
        REQUEUE,
        "the operator pod has no istio sidecar; it was deleted so that its replacement gets one",
    )))
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

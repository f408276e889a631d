//! What the installed platform-mesh services do that the operator waits for.
//!
//! Exactly these objects are written:
//! - every `core.platform-mesh.io/v1alpha1` IdentityProviderConfiguration in any kcp logical cluster (the operator
//!   reads `welcome` in `root:platform-mesh-system`) gets `status.managedClients`: one entry per
//!   `spec.clients[].clientName` (else one entry named after the object) of the form `{clientId: <name>,
//!   registrationClientUri: https://idp.sim/clients/<name>, secretRef: {name: <name>-client-secret, namespace:
//!   default}}` (every field the shipped schema requires), as the security-operator does once it has created the
//!   OIDC clients;
//! - in namespace `platform-mesh-system` of the plain cluster, Secrets of type `kubernetes.io/tls` with `ca.crt`,
//!   `tls.crt`, `tls.key` (one components CA signs all three):
//!   - `domain-certificate` at start;
//!   - `account-operator-webhook-server-cert` once HelmRelease `account-operator` (any namespace) is `Ready=True`;
//!   - `security-operator-ca-secret` once HelmRelease `security-operator` (any namespace) is `Ready=True`.
//!
//! Existing Secrets are left alone.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use kube::api::{Patch, PatchParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::{Value, json};
use tokio::task::JoinSet;

use super::controller::{Action, Context, Obj, ReconcileError, Scope, is_true, reconciler, spawn_controller};
use super::flux::HELM_RELEASE;
use super::pki::{Ca, SecretSpec, ensure_namespace, ensure_secret};

/// Namespace of the component Secrets.
pub const NAMESPACE: &str = "platform-mesh-system";
/// The domain certificate Secret, created at start.
pub const DOMAIN_CERTIFICATE: &str = "domain-certificate";
/// `(HelmRelease name, Secret it makes appear)`.
pub const RELEASE_SECRETS: [(&str, &str); 2] = [
    ("account-operator", "account-operator-webhook-server-cert"),
    ("security-operator", "security-operator-ca-secret"),
];

fn identity_provider_configurations() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(
            "core.platform-mesh.io",
            "v1alpha1",
            "IdentityProviderConfiguration",
        ),
        "identityproviderconfigurations",
    )
}

/// Creates the domain certificate and starts the watches.
pub async fn start(
    ctx: &Arc<Context>,
    delay: Duration,
    tasks: &mut JoinSet<()>,
) -> Result<(), ReconcileError> {
    let ca = Arc::new(Ca::generate("platform-mesh-components-ca")?);
    ensure_namespace(ctx, None, NAMESPACE).await?;
    write_tls_secret(ctx, &ca, DOMAIN_CERTIFICATE).await?;
    let releases = reconciler(move |ctx, obj| reconcile_release(ctx, obj, ca.clone()));
    spawn_controller(
        tasks,
        ctx,
        Scope::Plain,
        HELM_RELEASE.api_resource(),
        delay,
        releases,
    );
    let idps = reconciler(reconcile_idp);
    spawn_controller(
        tasks,
        ctx,
        Scope::AllClusters,
        identity_provider_configurations(),
        delay,
        idps,
    );
    Ok(())
}

async fn write_tls_secret(ctx: &Context, ca: &Ca, name: &str) -> Result<(), ReconcileError> {
    let dns = [
        format!("{name}.{NAMESPACE}.svc"),
        format!("{name}.{NAMESPACE}.svc.cluster.local"),
    ];
    ensure_secret(
        ctx,
        None,
        NAMESPACE,
        name,
        |_| false,
        || {
            let leaf = ca.sign(name, &dns)?;
            let data = BTreeMap::from([
                ("ca.crt".to_string(), ca.cert_pem.clone().into_bytes()),
                ("tls.crt".to_string(), leaf.cert_pem.into_bytes()),
                ("tls.key".to_string(), leaf.key_pem.into_bytes()),
            ]);
            Ok(SecretSpec {
                type_: "kubernetes.io/tls".into(),
                data,
                annotations: BTreeMap::new(),
            })
        },
    )
    .await?;
    Ok(())
}

/// The Secret a Ready HelmRelease named `release` makes appear, if any.
pub fn secret_for_release(release: &str) -> Option<&'static str> {
    RELEASE_SECRETS
        .iter()
        .find(|(r, _)| *r == release)
        .map(|(_, s)| *s)
}

async fn reconcile_release(ctx: Arc<Context>, obj: Obj, ca: Arc<Ca>) -> Result<Action, ReconcileError> {
    let Some(secret) = secret_for_release(&obj.name()) else {
        return Ok(Action::Done);
    };
    if !is_true(obj.status(), "Ready") {
        return Ok(Action::Done);
    }
    ensure_namespace(&ctx, None, NAMESPACE).await?;
    write_tls_secret(&ctx, &ca, secret).await?;
    Ok(Action::Done)
}

/// `status.managedClients` for an IdentityProviderConfiguration named `name` with `spec`.
pub fn managed_clients(name: &str, spec: &Value) -> Value {
    let mut names: Vec<String> = spec["clients"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| {
            c["clientName"]
                .as_str()
                .filter(|n| !n.is_empty())
                .map(str::to_string)
        })
        .collect();
    if names.is_empty() {
        names.push(name.to_string());
    }
    let map: serde_json::Map<String, Value> = names
        .into_iter()
        .map(|n| {
            let entry = json!({"clientId": n, "registrationClientUri": format!("https://idp.sim/clients/{n}"),
                               "secretRef": {"name": format!("{n}-client-secret"), "namespace": "default"}});
            (n, entry)
        })
        .collect();
    Value::Object(map)
}

async fn reconcile_idp(ctx: Arc<Context>, obj: Obj) -> Result<Action, ReconcileError> {
    let fields = json!({"managedClients": managed_clients(&obj.name(), obj.spec())});
    match obj.update_status(&ctx, fields.clone()).await {
        // Without a status subresource the status is part of the main resource.
        Err(ReconcileError::Kube(kube::Error::Api(s))) if s.code == 404 => {
            let patch = json!({"status": fields});
            obj.api(&ctx)?
                .patch(&obj.name(), &PatchParams::default(), &Patch::Merge(&patch))
                .await?;
            Ok(Action::Done)
        }
        other => other.map(|()| Action::Done),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn managed_clients_default_to_the_object_name() {
        let m = managed_clients("welcome", &json!({}));
        assert_eq!(m["welcome"]["clientId"], "welcome");
        let m = managed_clients(
            "welcome",
            &json!({"clients": [{"clientName": "portal"}, {"clientName": ""}]}),
        );
        assert_eq!(m.as_object().map(|o| o.len()), Some(1));
        assert_eq!(m["portal"]["clientId"], "portal");
    }

    #[test]
    fn only_known_releases_make_secrets() {
        assert_eq!(
            secret_for_release("account-operator"),
            Some("account-operator-webhook-server-cert")
        );
        assert_eq!(
            secret_for_release("security-operator"),
            Some("security-operator-ca-secret")
        );
        assert_eq!(secret_for_release("keycloak"), None);
    }
}

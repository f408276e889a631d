//! kube-controller-manager's token controller: fills ServiceAccount token Secrets.
//!
//! A Secret of type `kubernetes.io/service-account-token` with annotation `kubernetes.io/service-account.name`
//! gets `data.token`, `data.ca.crt` (the simulators' server CA) and `data.namespace`, in the plain cluster and in
//! every kcp logical cluster.
//!
//! # Token convention
//!
//! Tokens are deterministic so the API server can map one back to its ServiceAccount without shared state:
//! `embedded-sa.<cluster>.<namespace>.<name>`, each part base64url-encoded without padding, where `<cluster>` is
//! the logical cluster name (empty for the plain cluster). [`service_account_token`] builds one and
//! [`parse_service_account_token`] reads it back.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use kube::api::{Patch, PatchParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::{Value, json};
use tokio::task::JoinSet;

use super::controller::{Action, Context, Obj, ReconcileError, Scope, reconciler, spawn_controller};

/// Prefix of every simulated ServiceAccount token.
pub const TOKEN_PREFIX: &str = "embedded-sa";
/// The Secret type the token controller fills.
pub const TOKEN_SECRET_TYPE: &str = "kubernetes.io/service-account-token";
/// The annotation naming the ServiceAccount.
pub const SA_NAME_ANNOTATION: &str = "kubernetes.io/service-account.name";

/// The token of ServiceAccount `namespace/name` in logical cluster `cluster` (`""` for the plain cluster).
pub fn service_account_token(cluster: &str, namespace: &str, name: &str) -> String {
    let enc = |s: &str| URL_SAFE_NO_PAD.encode(s);
    format!("{TOKEN_PREFIX}.{}.{}.{}", enc(cluster), enc(namespace), enc(name))
}

/// `(cluster, namespace, name)` of a token made by [`service_account_token`]; `None` for any other string.
pub fn parse_service_account_token(token: &str) -> Option<(String, String, String)> {
    let mut parts = token.split('.');
    if parts.next()? != TOKEN_PREFIX {
        return None;
    }
    let mut dec =
        || -> Option<String> { String::from_utf8(URL_SAFE_NO_PAD.decode(parts.next()?).ok()?).ok() };
    let out = (dec()?, dec()?, dec()?);
    parts.next().is_none().then_some(out)
}

fn secrets() -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk("", "v1", "Secret"), "secrets")
}

/// Starts the token controller in the plain cluster and across all logical clusters.
pub async fn start(
    ctx: &Arc<Context>,
    delay: Duration,
    tasks: &mut JoinSet<()>,
) -> Result<(), ReconcileError> {
    // Generate the CA up front so the first Secret does not pay for it inside a reconcile.
    ctx.server_ca()?;
    for scope in [Scope::Plain, Scope::AllClusters] {
        spawn_controller(tasks, ctx, scope, secrets(), delay, reconciler(reconcile));
    }
    Ok(())
}

/// The `data` a token Secret should carry (base64-encoded values), or `None` when the Secret is not a token
/// Secret this controller fills.
pub fn token_data(cluster: &str, secret: &Value, ca_pem: &str) -> Option<Value> {
    if secret["type"] != TOKEN_SECRET_TYPE {
        return None;
    }
    let sa = secret["metadata"]["annotations"][SA_NAME_ANNOTATION]
        .as_str()
        .filter(|s| !s.is_empty())?;
    let ns = secret["metadata"]["namespace"].as_str()?;
    Some(json!({
        "token": STANDARD.encode(service_account_token(cluster, ns, sa)),
        "ca.crt": STANDARD.encode(ca_pem),
        "namespace": STANDARD.encode(ns),
    }))
}

async fn reconcile(ctx: Arc<Context>, obj: Obj) -> Result<Action, ReconcileError> {
    let ca = ctx.server_ca()?;
    let value = serde_json::to_value(&obj.obj).map_err(|source| ReconcileError::Decode {
        what: "Secret".into(),
        source,
    })?;
    let Some(data) = token_data(obj.cluster.as_deref().unwrap_or_default(), &value, &ca.cert_pem) else {
        return Ok(Action::Done);
    };
    let current = &value["data"];
    let missing = data
        .as_object()
        .into_iter()
        .flatten()
        .any(|(k, v)| current.get(k) != Some(v));
    if missing {
        let patch = json!({"data": data});
        obj.api(&ctx)?
            .patch(&obj.name(), &PatchParams::default(), &Patch::Merge(&patch))
            .await?;
    }
    Ok(Action::Done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_round_trips() {
        let t = service_account_token("2abc", "default", "p-provider");
        assert!(t.starts_with("embedded-sa."));
        assert_eq!(
            parse_service_account_token(&t),
            Some(("2abc".into(), "default".into(), "p-provider".into()))
        );
        let plain = service_account_token("", "kube-system", "x");
        assert_eq!(
            parse_service_account_token(&plain),
            Some(("".into(), "kube-system".into(), "x".into()))
        );
        assert_eq!(parse_service_account_token("embedded-sa.a.b"), None);
        assert_eq!(parse_service_account_token("bearer-xyz"), None);
    }

    #[test]
    fn only_annotated_token_secrets_are_filled() {
        let secret = json!({"type": TOKEN_SECRET_TYPE, "metadata": {"name": "t", "namespace": "default",
            "annotations": {SA_NAME_ANNOTATION: "sa"}}});
        let data = token_data("c1", &secret, "PEM").expect("token secret");
        let token = String::from_utf8(STANDARD.decode(data["token"].as_str().unwrap()).unwrap()).unwrap();
        assert_eq!(token, service_account_token("c1", "default", "sa"));
        assert_eq!(data["namespace"], STANDARD.encode("default"));
        let opaque = json!({"type": "Opaque", "metadata": {"namespace": "default", "annotations": {SA_NAME_ANNOTATION: "sa"}}});
        assert!(token_data("c1", &opaque, "PEM").is_none());
        let unannotated = json!({"type": TOKEN_SECRET_TYPE, "metadata": {"namespace": "default"}});
        assert!(token_data("c1", &unannotated, "PEM").is_none());
    }
}

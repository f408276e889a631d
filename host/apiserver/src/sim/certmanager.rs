//! cert-manager: `cert-manager.io/v1` Issuer, ClusterIssuer and Certificate.
//!
//! Rules:
//! - Issuers and ClusterIssuers become `Ready=True` (reason `KeyPairVerified`).
//! - Each issuer (`Issuer` per namespace/name, `ClusterIssuer` per name) gets one CA, generated the first time a
//!   Certificate uses it and kept for the simulator's lifetime, so every Certificate from one issuer shares `ca.crt`.
//! - A Certificate gets its `spec.secretName` Secret (type `kubernetes.io/tls`, keys `ca.crt`, `tls.crt`, `tls.key`)
//!   with a leaf certificate for `spec.dnsNames` (common name `spec.commonName`, else the first DNS name, else the
//!   Certificate's name) signed by that CA, then `Ready=True` (reason `Ready`). The Secret is rewritten only when its
//!   DNS names or CA no longer match, as cert-manager would on re-issuance.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use super::controller::{
    Action, Context, Obj, ReconcileError, Scope, now, reconciler, set_condition, spawn_controller,
};
use super::crds::{self, Kind, READY_COLUMNS};
use super::pki::{Ca, SecretSpec, ensure_secret, secret_value};

/// `cert-manager.io/v1` Issuer.
pub const ISSUER: Kind = kind("Issuer", "issuers", true);
/// `cert-manager.io/v1` ClusterIssuer.
pub const CLUSTER_ISSUER: Kind = kind("ClusterIssuer", "clusterissuers", false);
/// `cert-manager.io/v1` Certificate.
pub const CERTIFICATE: Kind = Kind {
    group: "cert-manager.io",
    version: "v1",
    kind: "Certificate",
    plural: "certificates",
    short_names: &["cert", "certs"],
    namespaced: true,
    columns: &[
        (
            "Ready",
            "string",
            ".status.conditions[?(@.type==\"Ready\")].status",
        ),
        ("Secret", "string", ".spec.secretName"),
    ],
};

const fn kind(kind: &'static str, plural: &'static str, namespaced: bool) -> Kind {
    Kind {
        group: "cert-manager.io",
        version: "v1",
        kind,
        plural,
        short_names: &[],
        namespaced,
        columns: READY_COLUMNS,
    }
}

/// Annotation cert-manager puts on issued Secrets with the DNS names.
const ALT_NAMES: &str = "cert-manager.io/alt-names";

type Cas = Arc<Mutex<HashMap<String, Arc<Ca>>>>;

/// Installs the cert-manager CRDs and starts the controllers.
pub async fn start(
    ctx: &Arc<Context>,
    delay: Duration,
    tasks: &mut JoinSet<()>,
) -> Result<(), ReconcileError> {
    crds::install(&ctx.client(None)?, &[ISSUER, CLUSTER_ISSUER, CERTIFICATE]).await?;
    for k in [ISSUER, CLUSTER_ISSUER] {
        spawn_controller(
            tasks,
            ctx,
            Scope::Plain,
            k.api_resource(),
            delay,
            reconciler(reconcile_issuer),
        );
    }
    let cas: Cas = Arc::default();
    let issue = reconciler(move |ctx, obj| reconcile_certificate(ctx, obj, cas.clone()));
    spawn_controller(tasks, ctx, Scope::Plain, CERTIFICATE.api_resource(), delay, issue);
    Ok(())
}

async fn reconcile_issuer(ctx: Arc<Context>, obj: Obj) -> Result<Action, ReconcileError> {
    let conditions = set_condition(
        &obj.status()["conditions"],
        "Ready",
        "True",
        "KeyPairVerified",
        "Signing CA verified",
        obj.generation(),
    );
    obj.update_status(&ctx, json!({"conditions": conditions})).await?;
    Ok(Action::Done)
}

/// The key of the issuer a Certificate names: `Issuer/<ns>/<name>` or `ClusterIssuer/<name>`.
pub fn issuer_key(namespace: &str, spec: &Value) -> String {
    let name = spec["issuerRef"]["name"].as_str().unwrap_or_default();
    match spec["issuerRef"]["kind"].as_str() {
        Some("ClusterIssuer") => format!("ClusterIssuer/{name}"),
        _ => format!("Issuer/{namespace}/{name}"),
    }
}

/// `(common name, DNS names)` of a Certificate.
pub fn subject(cert_name: &str, spec: &Value) -> (String, Vec<String>) {
    let dns: Vec<String> = spec["dnsNames"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    let cn = spec["commonName"]
        .as_str()
        .map(str::to_string)
        .or_else(|| dns.first().cloned())
        .unwrap_or_else(|| cert_name.to_string());
    (cn, dns)
}

fn ca_for(cas: &Cas, key: &str) -> Result<Arc<Ca>, ReconcileError> {
    let mut cas = cas.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(ca) = cas.get(key) {
        return Ok(ca.clone());
    }
    let ca = Arc::new(Ca::generate(key)?);
    cas.insert(key.to_string(), ca.clone());
    Ok(ca)
}

async fn reconcile_certificate(ctx: Arc<Context>, obj: Obj, cas: Cas) -> Result<Action, ReconcileError> {
    let ns = obj.namespace().unwrap_or_default();
    let spec = obj.spec().clone();
    let Some(secret_name) = spec["secretName"].as_str().map(str::to_string) else {
        let conditions = set_condition(
            &obj.status()["conditions"],
            "Ready",
            "False",
            "Invalid",
            "spec.secretName is required",
            obj.generation(),
        );
        obj.update_status(&ctx, json!({"conditions": conditions})).await?;
        return Ok(Action::Done);
    };
    let ca = ca_for(&cas, &issuer_key(&ns, &spec))?;
    let (cn, dns) = subject(&obj.name(), &spec);
    let alt_names = dns.join(",");
    let fits = |s: &Secret| {
        secret_value(s, "ca.crt") == Some(ca.cert_pem.as_bytes())
            && secret_value(s, "tls.crt").is_some()
            && s.metadata.annotations.as_ref().and_then(|a| a.get(ALT_NAMES)) == Some(&alt_names)
    };
    let cert_name = obj.name();
    ensure_secret(
        &ctx,
        None,
        &ns,
        &secret_name,
        |s| !fits(s),
        || {
            let leaf = ca.sign(&cn, &dns)?;
            let data = BTreeMap::from([
                ("ca.crt".to_string(), ca.cert_pem.clone().into_bytes()),
                ("tls.crt".to_string(), leaf.cert_pem.into_bytes()),
                ("tls.key".to_string(), leaf.key_pem.into_bytes()),
            ]);
            let annotations = BTreeMap::from([
                (ALT_NAMES.to_string(), alt_names.clone()),
                ("cert-manager.io/certificate-name".to_string(), cert_name.clone()),
                ("cert-manager.io/common-name".to_string(), cn.clone()),
            ]);
            Ok(SecretSpec {
                type_: "kubernetes.io/tls".to_string(),
                data,
                annotations,
            })
        },
    )
    .await?;
    let conditions = set_condition(
        &obj.status()["conditions"],
        "Ready",
        "True",
        "Ready",
        "Certificate is up to date and has not expired",
        obj.generation(),
    );
    let not_before = obj.status()["notBefore"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(now);
    obj.update_status(
        &ctx,
        json!({"conditions": conditions, "notBefore": not_before, "revision": 1}),
    )
    .await?;
    Ok(Action::Done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_key_distinguishes_cluster_issuers() {
        assert_eq!(
            issuer_key("ns", &json!({"issuerRef": {"name": "a"}})),
            "Issuer/ns/a"
        );
        assert_eq!(
            issuer_key(
                "ns",
                &json!({"issuerRef": {"name": "a", "kind": "ClusterIssuer"}})
            ),
            "ClusterIssuer/a"
        );
    }

    #[test]
    fn subject_prefers_common_name_then_first_dns_name() {
        assert_eq!(
            subject("c", &json!({"commonName": "x", "dnsNames": ["y"]})),
            ("x".into(), vec!["y".into()])
        );
        assert_eq!(subject("c", &json!({"dnsNames": ["y", "z"]})).0, "y");
        assert_eq!(subject("c", &json!({})), ("c".into(), vec![]));
    }

    #[test]
    fn one_ca_per_issuer() {
        let cas: Cas = Arc::default();
        let a = ca_for(&cas, "Issuer/ns/a").unwrap();
        let again = ca_for(&cas, "Issuer/ns/a").unwrap();
        let b = ca_for(&cas, "Issuer/ns/b").unwrap();
        assert_eq!(a.cert_pem, again.cert_pem);
        assert_ne!(a.cert_pem, b.cert_pem);
    }
}

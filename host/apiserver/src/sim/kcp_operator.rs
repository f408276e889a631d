//! The kcp-operator: `operator.kcp.io/v1alpha1` RootShard and FrontProxy in the plain cluster, and the admin
//! Secrets the platform-mesh operator reads.
//!
//! Rules:
//! - RootShard and FrontProxy become `Available=True` (reason `Ready`).
//! - For a RootShard `<rs>` in namespace `<ns>` the simulator maintains, in `<ns>`:
//!   - `kcp-cluster-admin-client-cert`: `kubeconfig` (server `<base_url>/clusters/root`, CA data, client
//!     certificate), `ca.crt`, `tls.crt`, `tls.key`;
//!   - `kubeconfig-kcp-admin`: `kubeconfig` of the same shape;
//!   - `<rs>-ca`: `tls.crt`, `tls.key`, `ca.crt` of the CA itself.
//!
//!   All use the simulators' server CA (see [`super::controller::Context::server_ca`]); the client certificate is
//!   signed by it. The server speaks plain http and needs no authentication, so the TLS material is for shape only.
//! - At start, kcp `root` gets the APIExports `tenancy.kcp.io`, `shards.core.kcp.io` and `topology.kcp.io`
//!   (`apis.kcp.io/v1alpha1`) with `status.identityHash`, as a kcp shard creates them on boot.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::core::DynamicObject;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use super::controller::{
    Action, Context, Obj, ReconcileError, Scope, reconciler, set_condition, sleep_or_cancel, spawn_controller,
};
use super::crds::{self, Kind};
use super::kcp::{APIEXPORT_V1ALPHA1, identity_hash};
use super::pki::{SecretSpec, ensure_secret, secret_value};

/// `operator.kcp.io/v1alpha1` RootShard.
pub const ROOT_SHARD: Kind = kind("RootShard", "rootshards");
/// `operator.kcp.io/v1alpha1` FrontProxy.
pub const FRONT_PROXY: Kind = kind("FrontProxy", "frontproxies");

const fn kind(kind: &'static str, plural: &'static str) -> Kind {
    Kind {
        group: "operator.kcp.io",
        version: "v1alpha1",
        kind,
        plural,
        short_names: &[],
        namespaced: true,
        columns: &[(
            "Available",
            "string",
            ".status.conditions[?(@.type==\"Available\")].status",
        )],
    }
}

/// Name of the cluster-admin client certificate Secret.
pub const CLUSTER_ADMIN_SECRET: &str = "kcp-cluster-admin-client-cert";
/// Name of the admin kubeconfig Secret.
pub const ADMIN_KUBECONFIG_SECRET: &str = "kubeconfig-kcp-admin";
/// The APIExports a kcp shard creates in `root` on boot.
pub const ROOT_EXPORTS: [&str; 3] = ["tenancy.kcp.io", "shards.core.kcp.io", "topology.kcp.io"];

/// Installs the CRDs, seeds the root APIExports and starts the controllers.
pub async fn start(
    ctx: &Arc<Context>,
    delay: Duration,
    tasks: &mut JoinSet<()>,
) -> Result<(), ReconcileError> {
    crds::install(&ctx.client(None)?, &[ROOT_SHARD, FRONT_PROXY]).await?;
    seed_root_exports(ctx).await?;
    spawn_controller(
        tasks,
        ctx,
        Scope::Plain,
        ROOT_SHARD.api_resource(),
        delay,
        reconciler(reconcile_root_shard),
    );
    spawn_controller(
        tasks,
        ctx,
        Scope::Plain,
        FRONT_PROXY.api_resource(),
        delay,
        reconciler(reconcile_available),
    );
    Ok(())
}

/// Creates the root APIExports (if missing) and sets their identity hashes; retries while `root` is not served yet.
async fn seed_root_exports(ctx: &Arc<Context>) -> Result<(), ReconcileError> {
    let api: Api<DynamicObject> = ctx.api(Some("root"), &APIEXPORT_V1ALPHA1.api_resource(), None)?;
    for name in ROOT_EXPORTS {
        let mut attempt = 0;
        let export = loop {
            match ensure_export(&api, name).await {
                Ok(e) => break e,
                Err(e) if attempt >= 50 => return Err(e.into()),
                Err(_) => {
                    attempt += 1;
                    if sleep_or_cancel(ctx, Duration::from_millis(100)).await {
                        return Ok(());
                    }
                }
            }
        };
        if export.data["status"]["identityHash"]
            .as_str()
            .is_none_or(str::is_empty)
        {
            let cluster = export
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get("kcp.io/cluster"))
                .cloned();
            let hash = identity_hash(cluster.as_deref().unwrap_or("root"), name);
            let patch = json!({"status": {"identityHash": hash}});
            api.patch_status(name, &PatchParams::default(), &Patch::Merge(&patch))
                .await?;
        }
    }
    Ok(())
}

async fn ensure_export(api: &Api<DynamicObject>, name: &str) -> Result<DynamicObject, kube::Error> {
    if let Some(e) = api.get_opt(name).await? {
        return Ok(e);
    }
    let obj: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "apis.kcp.io/v1alpha1",
        "kind": "APIExport",
        "metadata": {"name": name},
        "spec": {},
    }))
    .map_err(kube::Error::SerdeError)?;
    api.create(&PostParams::default(), &obj).await
}

async fn reconcile_available(ctx: Arc<Context>, obj: Obj) -> Result<Action, ReconcileError> {
    let conditions = set_condition(
        &obj.status()["conditions"],
        "Available",
        "True",
        "Ready",
        "all replicas are ready",
        obj.generation(),
    );
    obj.update_status(&ctx, json!({"conditions": conditions, "phase": "Running"}))
        .await?;
    Ok(Action::Done)
}

/// A kubeconfig (as YAML) for `server` trusting `ca_pem`, authenticating with the given client certificate.
pub fn admin_kubeconfig(server: &str, ca_pem: &str, cert_pem: &str, key_pem: &str) -> String {
    let doc = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "kcp", "cluster": {"server": server, "certificate-authority-data": STANDARD.encode(ca_pem)}}],
        "users": [{"name": "admin", "user": {
            "client-certificate-data": STANDARD.encode(cert_pem),
            "client-key-data": STANDARD.encode(key_pem),
        }}],
        "contexts": [{"name": "admin", "context": {"cluster": "kcp", "user": "admin"}}],
        "current-context": "admin",
    });
    serde_norway::to_string(&doc).unwrap_or_default()
}

async fn reconcile_root_shard(ctx: Arc<Context>, obj: Obj) -> Result<Action, ReconcileError> {
    let ns = obj.namespace().unwrap_or_default();
    let ca = ctx.server_ca()?;
    let server = format!("{}/clusters/root", ctx.base_url());
    let ca_pem = ca.cert_pem.clone();
    // A Secret fits while it is signed by the current CA and points at this server.
    let fits = |s: &Secret| {
        secret_value(s, "ca.crt").is_none_or(|v| v == ca_pem.as_bytes())
            && secret_value(s, "kubeconfig").is_none_or(|v| String::from_utf8_lossy(v).contains(&server))
            && (secret_value(s, "ca.crt").is_some() || secret_value(s, "kubeconfig").is_some())
    };
    let admin = |with_files: bool| {
        let (ca, server) = (ca.clone(), server.clone());
        move || -> Result<SecretSpec, ReconcileError> {
            let leaf = ca.sign("kcp-admin", &[])?;
            let kubeconfig = admin_kubeconfig(&server, &ca.cert_pem, &leaf.cert_pem, &leaf.key_pem);
            let mut data = BTreeMap::from([("kubeconfig".to_string(), kubeconfig.into_bytes())]);
            if with_files {
                data.insert("ca.crt".into(), ca.cert_pem.clone().into_bytes());
                data.insert("tls.crt".into(), leaf.cert_pem.into_bytes());
                data.insert("tls.key".into(), leaf.key_pem.into_bytes());
            }
            Ok(SecretSpec {
                type_: "Opaque".into(),
                data,
                annotations: BTreeMap::new(),
            })
        }
    };
    ensure_secret(&ctx, None, &ns, CLUSTER_ADMIN_SECRET, |s| !fits(s), admin(true)).await?;
    ensure_secret(
        &ctx,
        None,
        &ns,
        ADMIN_KUBECONFIG_SECRET,
        |s| !fits(s),
        admin(false),
    )
    .await?;
    let ca_secret = format!("{}-ca", obj.name());
    ensure_secret(
        &ctx,
        None,
        &ns,
        &ca_secret,
        |s| !fits(s),
        || {
            let data = BTreeMap::from([
                ("ca.crt".to_string(), ca.cert_pem.clone().into_bytes()),
                ("tls.crt".to_string(), ca.cert_pem.clone().into_bytes()),
                ("tls.key".to_string(), ca.key_pem.clone().into_bytes()),
            ]);
            Ok(SecretSpec {
                type_: "kubernetes.io/tls".into(),
                data,
                annotations: BTreeMap::new(),
            })
        },
    )
    .await?;
    reconcile_available(ctx, obj).await
}

/// Parses a kubeconfig's first cluster server (used by tests and diagnostics).
pub fn kubeconfig_server(kubeconfig: &str) -> Option<String> {
    let doc: Value = serde_norway::from_str(kubeconfig).ok()?;
    doc["clusters"][0]["cluster"]["server"]
        .as_str()
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_kubeconfig_has_server_ca_and_client_cert() {
        let kc = admin_kubeconfig("http://127.0.0.1:1/clusters/root", "CA", "CERT", "KEY");
        assert_eq!(
            kubeconfig_server(&kc).as_deref(),
            Some("http://127.0.0.1:1/clusters/root")
        );
        let doc: Value = serde_norway::from_str(&kc).unwrap();
        assert_eq!(doc["current-context"], "admin");
        assert_eq!(
            doc["clusters"][0]["cluster"]["certificate-authority-data"],
            STANDARD.encode("CA")
        );
        assert_eq!(doc["users"][0]["user"]["client-key-data"], STANDARD.encode("KEY"));
    }
}

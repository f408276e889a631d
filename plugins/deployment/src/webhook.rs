//! The kcp authorization-webhook objects (spec §4.1.4): the cert-manager Issuer and Certificate for the rebac
//! webhook, the webhook kubeconfig Secret kcp reads, and keeping that kubeconfig's CA in step with the certificate's
//! CA (restarting kcp when it changes).
//!
//! Deliberate differences (spec §11.2 items 14, 15): every object lives in the PlatformMesh's namespace (the
//! manifests take a `namespace` variable), and the created Secret is named after `--authorization-webhook-secret-name`
//! (upstream took the lookup name from the flag but the created name from the file).

use base64::{Engine, engine::general_purpose::STANDARD};
use platform_mesh_plugin_sdk::{ApplyOptions, Funcs, Gvk, Host, LogLevel, Target};
use serde_json::{Value, json};

use crate::{
    apply::{FIELD_MANAGER, apply},
    error::{Error, Result},
    settings::Settings,
};

const DIR: &str = "manifests/k8s/rebac-auth-webhook";

fn secret_gvk() -> Gvk {
    Gvk::new("", "v1", "Secret")
}

/// The objects of `file` rendered for the PlatformMesh's namespace.
pub fn render(host: &dyn Host, file: &str, settings: &Settings) -> Result<Vec<Value>> {
    let vars = json!({"namespace": settings.namespace});
    let docs = host.render_file(&format!("{DIR}/{file}"), &vars, Funcs::Manifest)?;
    Ok(docs.into_iter().map(|d| d.object).collect())
}

/// Steps 1–3: the Issuer, the Certificate and (if missing) the webhook kubeconfig Secret.
pub fn ensure_objects(host: &dyn Host, settings: &Settings) -> Result<()> {
    for file in ["ca-issuer.yaml", "webhook-cert.yaml"] {
        for object in render(host, file, settings)? {
            apply(host, &Target::Runtime, &object)?;
        }
    }
    let reference = secret_gvk().object(Some(&settings.namespace), settings.webhook_secret_name.clone());
    let existing = host
        .get(&Target::Runtime, &reference)
        .map_err(|e| Error::cluster("reading", &Target::Runtime, &reference, e))?;
    if existing.is_none() {
        for object in webhook_secret(host, settings)? {
            apply(host, &Target::Runtime, &object)?;
        }
    }
    Ok(())
}

/// The webhook kubeconfig Secret as created when missing.
pub fn webhook_secret(host: &dyn Host, settings: &Settings) -> Result<Vec<Value>> {
    let mut objects = render(host, "kcp-webhook-secret.yaml", settings)?;
    for object in &mut objects {
        object["metadata"]["name"] = json!(settings.webhook_secret_name);
        object["metadata"]["namespace"] = json!(settings.namespace);
    }
    Ok(objects)
}

fn secret_data(secret: &Value, key: &str) -> Option<String> {
    secret
        .pointer(&format!("/data/{key}"))
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// Step 4: copies the webhook certificate's CA into every cluster of the webhook kubeconfig and restarts kcp when
/// it changed. Returns a message when there is nothing to sync yet (upstream's discarded stop result).
pub fn sync_ca(host: &dyn Host, settings: &Settings) -> Result<Option<String>> {
    let ns = Some(settings.namespace.as_str());
    let ca_ref = secret_gvk().object(ns, settings.webhook_ca_secret_name.clone());
    let Some(ca_secret) = host
        .get(&Target::Runtime, &ca_ref)
        .map_err(|e| Error::cluster("reading", &Target::Runtime, &ca_ref, e))?
    else {
        return Ok(Some("Webhook secret does not exist".into()));
    };
    let ca = secret_data(&ca_secret, "ca.crt").ok_or_else(|| {
        Error::Invalid(format!(
            "ca.crt not found or empty in secret {}/{}",
            settings.namespace, ca_ref.name
        ))
    })?;
    let kubeconfig_ref = secret_gvk().object(ns, settings.webhook_secret_name.clone());
    let kubeconfig_secret = host
        .get(&Target::Runtime, &kubeconfig_ref)
        .map_err(|e| Error::cluster("reading", &Target::Runtime, &kubeconfig_ref, e))?
        .ok_or_else(|| Error::Invalid(format!("webhook secret {} does not exist", kubeconfig_ref.name)))?;
    let encoded = secret_data(&kubeconfig_secret, "kubeconfig").ok_or_else(|| {
        Error::Invalid(format!(
            "kubeconfig not found or empty in secret {}",
            kubeconfig_ref.name
        ))
    })?;
    let text = STANDARD
        .decode(&encoded)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            Error::Invalid(format!(
                "kubeconfig in secret {} is not valid base64",
                kubeconfig_ref.name
            ))
        })?;
    let mut kubeconfig = host.parse_yaml(&format!("Secret {} kubeconfig", kubeconfig_ref.name), &text)?;
    let mut changed = false;
    for cluster in kubeconfig
        .get_mut("clusters")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        if let Some(entry) = cluster.get_mut("cluster").and_then(Value::as_object_mut)
            && entry.get("certificate-authority-data").and_then(Value::as_str) != Some(ca.as_str())
        {
            entry.insert("certificate-authority-data".into(), json!(ca));
            changed = true;
        }
    }
    if !changed {
        return Ok(None);
    }
    let yaml = host.to_yaml(&kubeconfig)?;
    let patch = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": kubeconfig_ref.name, "namespace": settings.namespace},
        "data": {"kubeconfig": STANDARD.encode(yaml)},
    });
    host.apply(&Target::Runtime, &patch, &ApplyOptions::force(FIELD_MANAGER))
        .map_err(|e| Error::cluster("applying", &Target::Runtime, &kubeconfig_ref, e))?;
    restart_kcp(host, settings)?;
    Ok(None)
}

/// Deletes the kcp pods so they pick up the new webhook CA.
fn restart_kcp(host: &dyn Host, settings: &Settings) -> Result<()> {
    let pods = Gvk::new("", "v1", "Pod");
    let items = host
        .list(
            &Target::Runtime,
            &pods,
            Some(&settings.kcp_namespace),
            Some("app.kubernetes.io/name=kcp"),
        )
        .map_err(|e| {
            let what = format!("listing kcp pods in {}", settings.kcp_namespace);
            Error::Cluster(Box::new((what, Target::Runtime, e)))
        })?;
    for pod in items {
        let Some(name) = pod.pointer("/metadata/name").and_then(Value::as_str) else {
            continue;
        };
        let reference = pods.object(Some(&settings.kcp_namespace), name);
        host.delete(&Target::Runtime, &reference)
            .map_err(|e| Error::cluster("deleting", &Target::Runtime, &reference, e))?;
        host.log(
            LogLevel::Info,
            "restarted kcp pod for the new webhook CA",
            &[("pod", name)],
        );
    }
    Ok(())
}

//! Writing a kubeconfig Secret: create or update with `data` replaced by `{kubeconfig}` (spec §7.1), but only when
//! something differs, so a steady-state pass writes nothing.

use std::collections::BTreeMap;

use base64::{Engine, engine::general_purpose::STANDARD};
use platform_mesh_plugin_sdk::{Gvk, Host, Target};
use serde_json::{Map, Value, json};

/// The Secret kind.
pub fn secret_kind() -> Gvk {
    Gvk::new("", "v1", "Secret")
}

/// What a kubeconfig Secret should hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Desired<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
    /// The kubeconfig text stored under `data.kubeconfig`.
    pub kubeconfig: &'a str,
    /// Annotations this subroutine owns on the Secret (others are kept).
    pub annotations: BTreeMap<String, String>,
}

/// Whether the stored Secret already has the desired content.
fn up_to_date(current: &Value, desired: &Desired<'_>) -> bool {
    let data_ok = current
        .get("data")
        .and_then(Value::as_object)
        .is_some_and(|data| {
            data.len() == 1
                && data.get("kubeconfig").and_then(Value::as_str)
                    == Some(&STANDARD.encode(desired.kubeconfig))
        });
    let annotations = current.pointer("/metadata/annotations");
    let annotations_ok = desired
        .annotations
        .iter()
        .all(|(k, v)| annotations.and_then(|a| a.get(k)).and_then(Value::as_str) == Some(v));
    data_ok && annotations_ok
}

/// Creates or updates the Secret; returns whether anything was written. `current` is the stored Secret, if read
/// already.
pub fn ensure(host: &dyn Host, desired: &Desired<'_>, current: Option<Value>) -> Result<bool, String> {
    let what = format!("secret {}/{}", desired.namespace, desired.name);
    let current = match current {
        Some(c) => Some(c),
        None => host
            .get(
                &Target::Runtime,
                &secret_kind().object(Some(desired.namespace), desired.name),
            )
            .map_err(|e| format!("reading {what}: {e}"))?,
    };
    let data = json!({"kubeconfig": STANDARD.encode(desired.kubeconfig)});
    match current {
        Some(current) if up_to_date(&current, desired) => Ok(false),
        Some(mut current) => {
            current["data"] = data;
            if let Some(meta) = current.get_mut("metadata").and_then(Value::as_object_mut) {
                let annotations = meta
                    .entry("annotations")
                    .or_insert_with(|| Value::Object(Map::new()));
                if !annotations.is_object() {
                    *annotations = Value::Object(Map::new());
                }
                for (k, v) in &desired.annotations {
                    annotations[k] = json!(v);
                }
            }
            current.as_object_mut().map(|o| o.remove("stringData"));
            host.update(&Target::Runtime, &current)
                .map_err(|e| format!("updating {what}: {e}"))?;
            Ok(true)
        }
        None => {
            let mut metadata = json!({"name": desired.name, "namespace": desired.namespace});
            if !desired.annotations.is_empty() {
                metadata["annotations"] = json!(desired.annotations);
            }
            let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": metadata,
                                "type": "Opaque", "data": data});
            host.create(&Target::Runtime, &secret)
                .map_err(|e| format!("creating {what}: {e}"))?;
            Ok(true)
        }
    }
}

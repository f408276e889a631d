//! Which kubeconfig Secrets to write (spec §7.1) and what makes a connection invalid (spec §7.3 steps 1–2, and
//! §11.4 item 39: a bad connection is a clear validation error naming it, checked before anything is written).

use platform_mesh_plugin_sdk::Context;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The toggle that adds the terminal controller manager's connection.
pub const TERMINAL_TOGGLE: &str = "feature-enable-terminal-controller-manager";

/// One `spec.kcp.providerConnections[]` / `extraProviderConnections[]` entry.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    /// Name of the Secret to write.
    pub secret: String,
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub raw_path: String,
    #[serde(default)]
    pub endpoint_slice_name: String,
    #[serde(default, rename = "apiExportName")]
    pub api_export_name: String,
    #[serde(default)]
    pub external: bool,
    #[serde(default)]
    pub namespace: Option<String>,
    /// `true`: admin kubeconfig; `false` or absent: scoped kubeconfig.
    #[serde(default)]
    pub admin_auth: bool,
}

impl Connection {
    fn admin(secret: &str, path: &str) -> Self {
        Connection {
            secret: secret.into(),
            path: path.into(),
            admin_auth: true,
            ..Connection::default()
        }
    }

    fn scoped(secret: &str, path: &str, export: &str) -> Self {
        Connection {
            secret: secret.into(),
            path: path.into(),
            api_export_name: export.into(),
            ..Connection::default()
        }
    }

    fn raw(secret: &str, path: &str, raw_path: &str) -> Self {
        Connection {
            raw_path: raw_path.into(),
            ..Connection::admin(secret, path)
        }
    }
}

/// Where a connection came from, for error messages (`spec.kcp.providerConnections[2]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin(pub String);

/// The built-in connections used when `spec.kcp.providerConnections` is empty (spec §7.1, in order).
pub fn defaults() -> Vec<Connection> {
    const PMS: &str = "root:platform-mesh-system";
    const CORE: &str = "core.platform-mesh.io";
    vec![
        Connection::admin("account-operator-kubeconfig", PMS),
        Connection::scoped("rebac-authz-webhook-kubeconfig", PMS, CORE),
        Connection::admin("security-operator-kubeconfig", PMS),
        Connection::admin("kubernetes-graphql-gateway-kubeconfig", PMS),
        Connection::raw(
            "virtual-workspace-clusteraccess-kubeconfig",
            "",
            "/services/marketplace",
        ),
        Connection::scoped("extension-manager-operator-kubeconfig", PMS, CORE),
        Connection::scoped("iam-service-kubeconfig", PMS, CORE),
        Connection::raw(
            "portal-kubeconfig",
            "root:orgs",
            "/services/contentconfigurations",
        ),
        Connection::admin("security-initializer-kubeconfig", "root"),
        Connection::admin("security-terminator-kubeconfig", "root"),
        Connection::admin("virtual-workspaces-kubeconfig", PMS),
        Connection::admin("init-agent-kubeconfig", PMS),
    ]
}

fn parse_list(pm: &Value, field: &str) -> Result<Vec<(Origin, Connection)>, String> {
    let Some(items) = pm.pointer(&format!("/spec/kcp/{field}")).filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let items = items
        .as_array()
        .ok_or_else(|| format!("spec.kcp.{field} must be a list"))?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let origin = Origin(format!("spec.kcp.{field}[{i}]"));
            Connection::deserialize(item)
                .map(|c| (origin.clone(), c))
                .map_err(|e| format!("{}: {e}", origin.0))
        })
        .collect()
}

/// Whether `spec.featureToggles` holds a toggle with exactly this name.
pub fn has_toggle(pm: &Value, name: &str) -> bool {
    pm.pointer("/spec/featureToggles")
        .and_then(Value::as_array)
        .is_some_and(|list| list.iter().any(|t| t["name"] == name))
}

/// The connections to process, in order (spec §7.1).
pub fn compose(ctx: &Context) -> Result<Vec<(Origin, Connection)>, String> {
    let pm = &ctx.object;
    let configured = parse_list(pm, "providerConnections")?;
    let mut out = if configured.is_empty() {
        defaults()
            .into_iter()
            .enumerate()
            .map(|(i, c)| (Origin(format!("default connection {i}")), c))
            .collect()
    } else {
        configured
    };
    out.extend(parse_list(pm, "extraProviderConnections")?);
    if has_toggle(pm, TERMINAL_TOGGLE) {
        out.push((
            Origin(format!("toggle {TERMINAL_TOGGLE}")),
            Connection::admin(
                "terminal-controller-manager-kubeconfig",
                "root:platform-mesh-system",
            ),
        ));
    }
    Ok(out)
}

/// Checks one connection; the message says what is wrong (upstream's wording for the scoped rules).
pub fn validate(connection: &Connection, pm: &Value) -> Result<(), String> {
    if connection.secret.trim().is_empty() {
        return Err("secret must name the Secret to write".into());
    }
    if connection.external {
        crate::settings::external_base_url(pm)?;
    }
    if connection.admin_auth {
        if connection.endpoint_slice_name.is_empty()
            && connection.raw_path.is_empty()
            && connection.path.trim().is_empty()
        {
            return Err("admin kubeconfig requires path, rawPath or endpointSliceName".into());
        }
        return Ok(());
    }
    if connection.path.trim().is_empty() {
        return Err("scoped kubeconfig requires Path (workspace)".into());
    }
    match (
        connection.endpoint_slice_name.trim().is_empty(),
        connection.api_export_name.trim().is_empty(),
    ) {
        (false, false) => Err("scoped kubeconfig: set only one of endpointSliceName or apiExportName".into()),
        (true, true) => Err("scoped kubeconfig requires endpointSliceName or apiExportName".into()),
        _ => Ok(()),
    }
}

/// Validates every connection, so that one bad entry stops the pass before any Secret is written. The error lists
/// each invalid connection with where it came from and its Secret name.
pub fn validate_all(connections: &[(Origin, Connection)], pm: &Value) -> Result<(), String> {
    let problems: Vec<String> = connections
        .iter()
        .filter_map(|(origin, c)| {
            validate(c, pm)
                .err()
                .map(|e| format!("{} (secret {:?}): {e}", origin.0, c.secret))
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("invalid provider connection: {}", problems.join("; ")))
    }
}

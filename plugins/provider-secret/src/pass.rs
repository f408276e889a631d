//! What every connection of one pass shares: the host, the PlatformMesh, the flags, the clock, and the kcp
//! material read once per pass (admin kubeconfig, CA Secrets).

use std::{cell::OnceCell, time::Duration};

use platform_mesh_plugin_sdk::{Gvk, Host, Target};
use serde_json::Value;

use crate::{connections::Connection, kubeconfig, settings::Settings};

/// How one connection ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Done {
    /// The Secret is in place. `refresh_after`: reconcile again then (a scoped token reaching half its lifetime).
    Ready { refresh_after: Option<Duration> },
    /// Not possible yet (e.g. an endpoint slice without endpoints); the Secret was not written.
    Waiting(String),
}

/// One pass over the connections.
pub struct Pass<'a> {
    pub host: &'a dyn Host,
    /// The PlatformMesh.
    pub pm: &'a Value,
    pub settings: Settings,
    /// Unix seconds.
    pub now: i64,
    /// The CA of the admin kcp configuration (spec §2.8).
    pub admin_ca: String,
    admin_kubeconfig: OnceCell<Value>,
    root_ca: OnceCell<Option<Value>>,
}

impl<'a> Pass<'a> {
    /// A pass; `admin_ca` comes from the cluster-admin Secret, read before any connection.
    pub fn new(host: &'a dyn Host, pm: &'a Value, settings: Settings, now: i64, admin_ca: String) -> Self {
        Pass {
            host,
            pm,
            settings,
            now,
            admin_ca,
            admin_kubeconfig: OnceCell::new(),
            root_ca: OnceCell::new(),
        }
    }

    /// The in-cluster base URL, or the public one for `external` connections.
    pub fn base_url(&self, connection: &Connection) -> Result<String, String> {
        if connection.external {
            crate::settings::external_base_url(self.pm)
        } else {
            Ok(self.settings.base_url())
        }
    }

    /// The parsed `kubeconfig-kcp-admin` kubeconfig (spec §7.2 step 5), read once per pass.
    pub fn admin_kubeconfig(&self) -> Result<&Value, String> {
        if let Some(kc) = self.admin_kubeconfig.get() {
            return Ok(kc);
        }
        let ns = &self.settings.kcp_namespace;
        let secret = kubeconfig::read_secret(self.host, ns, "kubeconfig-kcp-admin")?;
        let text = kubeconfig::secret_value(&secret, "kubeconfig")
            .ok_or_else(|| format!("secret {ns}/kubeconfig-kcp-admin missing key kubeconfig"))?;
        let parsed = kubeconfig::parse(self.host, &format!("secret {ns}/kubeconfig-kcp-admin"), &text)?;
        Ok(self.admin_kubeconfig.get_or_init(|| parsed))
    }

    /// The root shard's CA Secret, `None` if it does not exist (other read errors are errors); read once per pass.
    pub fn root_ca_secret(&self) -> Result<Option<&Value>, String> {
        if let Some(secret) = self.root_ca.get() {
            return Ok(secret.as_ref());
        }
        let (ns, name) = (&self.settings.kcp_namespace, self.settings.root_ca_secret());
        let secret = Gvk::new("", "v1", "Secret").object(Some(ns), name.clone());
        let found = self
            .host
            .get(&Target::Runtime, &secret)
            .map_err(|e| format!("reading secret {ns}/{name}: {e}"))?;
        Ok(self.root_ca.get_or_init(|| found).as_ref())
    }
}

/// `scheme://authority`, path and query of a URL; `None` without a scheme or host.
pub fn split_url(url: &str) -> Option<(String, String, Option<String>)> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        return None;
    }
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q.to_owned())),
        None => (rest, None),
    };
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if host.is_empty() || host.contains(char::is_whitespace) {
        return None;
    }
    Some((format!("{scheme}://{host}"), path.to_owned(), query))
}

/// The status of an APIExportEndpointSlice's first endpoint URL; `Err(Waiting)` when it has none yet.
pub fn first_endpoint(
    host: &dyn Host,
    workspace: &str,
    slice_name: &str,
) -> Result<Result<(String, Value), Done>, String> {
    let kind = Gvk::new("apis.kcp.io", "v1alpha1", "APIExportEndpointSlice");
    let slice = host
        .get(&Target::kcp(workspace), &kind.object(None, slice_name))
        .map_err(|e| format!("getting APIExportEndpointSlice {slice_name} in workspace {workspace}: {e}"))?
        .ok_or_else(|| format!("APIExportEndpointSlice {slice_name} not found in workspace {workspace}"))?;
    let url = slice
        .pointer("/status/apiExportEndpoints/0/url")
        .and_then(Value::as_str)
        .map(str::trim);
    Ok(match url {
        Some(url) => Ok((url.to_owned(), slice.clone())),
        None => Err(Done::Waiting(format!(
            "no endpoints in APIExportEndpointSlice {slice_name} in workspace {workspace}"
        ))),
    })
}

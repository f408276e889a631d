//! Scoped mode (spec §7.3): a ServiceAccount in the connection workspace with exactly the rights its APIExport
//! needs, and a token-form kubeconfig for it.

use platform_mesh_plugin_sdk::{Gvk, Target};
use serde_json::Value;

use crate::{
    connections::Connection,
    kubeconfig,
    pass::{Done, Pass, first_endpoint, split_url},
    pem::{Bundle, certificates},
    rbac, rules,
    secrets::{self, Desired, secret_kind},
    settings::join_url,
    token,
};

/// The server URL and the APIExport (name, workspace) the rules come from.
struct Endpoint {
    server: String,
    export_name: String,
    export_path: String,
}

/// Slice mode: the slice's first endpoint with the host replaced by ours; the export named in the slice.
fn from_slice(pass: &Pass<'_>, c: &Connection, path: &str) -> Result<Result<Endpoint, Done>, String> {
    let slice_name = c.endpoint_slice_name.trim();
    let (url, slice) = match first_endpoint(pass.host, path, slice_name)? {
        Ok(found) => found,
        Err(waiting) => return Ok(Err(waiting)),
    };
    let bad = |why: &str| format!("APIExportEndpointSlice {slice_name} in workspace {path}: {why}");
    if url.is_empty() {
        return Err(bad("endpoint URL is empty"));
    }
    let (_, url_path, query) =
        split_url(&url).ok_or_else(|| bad(&format!("endpoint URL {url:?} has no scheme or host")))?;
    let url_path = url_path.trim_end_matches('/');
    if url_path.is_empty() {
        return Err(bad(&format!("endpoint URL {url:?} has no path")));
    }
    let mut server = join_url(&pass.base_url(c)?, url_path);
    if let Some(query) = query.filter(|q| !q.is_empty()) {
        server = format!("{server}?{query}");
    }
    let field = |p: &str| {
        slice
            .pointer(p)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let (export_name, export_path) = (field("/spec/export/name"), field("/spec/export/path"));
    if export_name.is_empty() || export_path.is_empty() {
        return Err(bad("spec.export needs name and path"));
    }
    Ok(Ok(Endpoint {
        server,
        export_name,
        export_path,
    }))
}

/// The CA of the admin configuration plus the first certificate of the root shard CA's `tls.crt` when it is not
/// in there yet (step 7). Unlike upstream, the result is de-duplicated PEM.
fn ca_bundle(pass: &Pass<'_>) -> Result<String, String> {
    let mut bundle = Bundle::default();
    bundle.add_pem(&pass.admin_ca);
    if bundle.is_empty() {
        // Upstream appends nothing when the admin configuration carries no inline CA.
        return Ok(String::new());
    }
    let secret = pass.root_ca_secret()?;
    let first = secret
        .and_then(|s| kubeconfig::secret_value(s, "tls.crt"))
        .and_then(|pem| certificates(&pem).into_iter().next());
    if let Some(cert) = first {
        bundle.add(cert);
    }
    Ok(bundle.to_pem())
}

/// Writes the scoped kubeconfig Secret of one connection.
pub fn reconcile(pass: &Pass<'_>, c: &Connection) -> Result<Done, String> {
    let path = c.path.trim();
    let endpoint = if c.endpoint_slice_name.trim().is_empty() {
        Endpoint {
            server: join_url(&pass.base_url(c)?, &format!("clusters/{path}")),
            export_name: c.api_export_name.trim().to_owned(),
            export_path: path.to_owned(),
        }
    } else {
        match from_slice(pass, c, path)? {
            Ok(endpoint) => endpoint,
            Err(waiting) => return Ok(waiting),
        }
    };
    let (name, export_path) = (&endpoint.export_name, &endpoint.export_path);
    let export = pass
        .host
        .get(
            &Target::kcp(export_path),
            &Gvk::new("apis.kcp.io", "v1alpha2", "APIExport").object(None, name.clone()),
        )
        .map_err(|e| format!("resolve APIExport: get APIExport {name} in workspace {export_path}: {e}"))?
        .ok_or_else(|| format!("resolve APIExport: APIExport {name} not found in workspace {export_path}"))?;
    let ca = ca_bundle(pass)?;
    let uid = rbac::ensure(pass.host, path, &c.secret, rules::from_export(&export))?;

    let namespace = c
        .namespace
        .as_deref()
        .filter(|n| !n.is_empty())
        .unwrap_or(&pass.settings.kcp_namespace);
    let stored = pass
        .host
        .get(
            &Target::Runtime,
            &secret_kind().object(Some(namespace), c.secret.clone()),
        )
        .map_err(|e| format!("reading secret {namespace}/{}: {e}", c.secret))?;
    let reused = stored
        .as_ref()
        .and_then(|s| token::reusable(pass.host, s, &uid, pass.now));
    let token = match reused {
        Some(token) => token,
        None => {
            let sa = format!("platform-mesh-provider-{}", c.secret);
            token::request(pass.host, path, rbac::SA_NAMESPACE, &sa, &uid, pass.now)?
        }
    };
    let text = kubeconfig::to_text(
        pass.host,
        &kubeconfig::token_form(&endpoint.server, &ca, &token.value),
    )?;
    let desired = Desired {
        namespace,
        name: &c.secret,
        kubeconfig: &text,
        annotations: token.annotations(),
    };
    secrets::ensure(pass.host, &desired, stored)?;
    Ok(Done::Ready {
        refresh_after: Some(token.refresh_after(pass.now)),
    })
}

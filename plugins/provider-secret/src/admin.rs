//! Admin mode (spec §7.2): the `kubeconfig-kcp-admin` credentials, pointed at the connection's URL and trusting
//! the merged kcp CA bundle.

use std::collections::BTreeMap;

use crate::{
    connections::Connection,
    kubeconfig,
    pass::{Done, Pass, first_endpoint, split_url},
    pem::Bundle,
    secrets::{self, Desired},
    settings::join_url,
};

/// Admin Secrets default to this namespace (not `--kcp-namespace`, as upstream).
const ADMIN_SECRET_NAMESPACE: &str = "platform-mesh-system";

/// The URL path: the first endpoint of the slice, else `rawPath`, else `clusters/<path>` (step 1).
fn url_path(pass: &Pass<'_>, c: &Connection) -> Result<Result<String, Done>, String> {
    if !c.endpoint_slice_name.is_empty() {
        let (url, _) = match first_endpoint(pass.host, &c.path, &c.endpoint_slice_name)? {
            Ok(found) => found,
            Err(waiting) => return Ok(Err(waiting)),
        };
        let (_, path, _) = split_url(&url).ok_or_else(|| {
            format!(
                "invalid endpoint URL {url:?} in APIExportEndpointSlice {}",
                c.endpoint_slice_name
            )
        })?;
        return Ok(Ok(path));
    }
    Ok(Ok(if c.raw_path.is_empty() {
        format!("clusters/{}", c.path)
    } else {
        c.raw_path.clone()
    }))
}

/// The CA bundle: every cluster CA of the admin kubeconfig, then the root shard CA's `tls.crt` and `ca.crt`,
/// de-duplicated (step 6).
fn trust_bundle(pass: &Pass<'_>) -> Result<String, String> {
    let mut bundle = Bundle::default();
    for ca in kubeconfig::cluster_cas(pass.admin_kubeconfig()?) {
        bundle.add_pem(&ca);
    }
    if let Some(secret) = pass.root_ca_secret()? {
        for key in ["tls.crt", "ca.crt"] {
            if let Some(pem) = kubeconfig::secret_value(secret, key) {
                bundle.add_pem(&pem);
            }
        }
    }
    if bundle.is_empty() {
        return Err(format!(
            "no CA certificates after merging kubeconfig-kcp-admin clusters and {}",
            pass.settings.root_ca_secret()
        ));
    }
    Ok(bundle.to_pem())
}

/// Writes the admin kubeconfig Secret of one connection.
pub fn reconcile(pass: &Pass<'_>, c: &Connection) -> Result<Done, String> {
    let path = match url_path(pass, c)? {
        Ok(path) => path,
        Err(waiting) => return Ok(waiting),
    };
    let server = join_url(&pass.base_url(c)?, &path);
    let namespace = c
        .namespace
        .as_deref()
        .filter(|n| !n.is_empty())
        .unwrap_or(ADMIN_SECRET_NAMESPACE);
    let ca = trust_bundle(pass)?;
    let out = kubeconfig::admin_form(pass.admin_kubeconfig()?, &server, &ca);
    let text = kubeconfig::to_text(pass.host, &out)?;
    let desired = Desired {
        namespace,
        name: &c.secret,
        kubeconfig: &text,
        annotations: BTreeMap::new(),
    };
    secrets::ensure(pass.host, &desired, None)?;
    Ok(Done::Ready { refresh_after: None })
}

//! Authenticating and authorizing a parsed request with [`crate::auth`], before it touches the store.

use super::apiexport::{self, ExportRef};
use super::{ClusterRef, Req, Route, verb_of};
use crate::auth::rbac::{self, Request};
use crate::auth::{Identity, authenticate};
use crate::debug::Verb;
use crate::server::Shared;
use crate::status::ApiError;
use crate::store::PLAIN;

fn rbac_verb(verb: Verb) -> &'static str {
    match verb {
        Verb::Get => "get",
        Verb::List => "list",
        Verb::Watch => "watch",
        Verb::Create => "create",
        Verb::Update => "update",
        Verb::Patch | Verb::Apply => "patch",
        Verb::Delete => "delete",
        Verb::DeleteCollection => "deletecollection",
        Verb::Other => "get",
    }
}

/// The path below `/clusters/<cluster>` (or the whole path for the plain cluster).
fn cluster_relative(path: &str) -> String {
    match path.strip_prefix("/clusters/") {
        Some(rest) => match rest.find('/') {
            Some(i) => rest[i..].to_owned(),
            None => "/".to_owned(),
        },
        None => path.to_owned(),
    }
}

/// `Ok` when the request may go on: no token (admin), or a ServiceAccount whose RBAC allows it.
///
/// # Errors
///
/// 401 for a token the server does not know, 403 for a denied request.
pub(crate) fn check(
    shared: &Shared,
    req: &Req,
    path: &str,
    cref: &ClusterRef,
    route: &Route,
    export: Option<&ExportRef>,
) -> Result<(), ApiError> {
    let mut store = shared.lock();
    let identity = authenticate(&store, &req.headers)?;
    let home = match &identity {
        Identity::Admin => return Ok(()),
        Identity::Impersonated(_) => None,
        Identity::ServiceAccount { cluster, .. } => Some(cluster.as_str()),
    };
    let request = match route {
        Route::Resource(rp) => {
            let verb = rbac_verb(verb_of(req, rp)?);
            match export {
                // A virtual workspace needs the `apiexports/content` permission on the export, in its workspace.
                Some(export) => Request::Resource {
                    verb: verb.to_owned(),
                    group: "apis.kcp.io".into(),
                    resource: "apiexports".into(),
                    subresource: Some("content".into()),
                    namespace: None,
                    name: Some(export.name.clone()),
                },
                None => Request::Resource {
                    verb: verb.to_owned(),
                    group: rp.group.clone(),
                    resource: rp.plural.clone(),
                    subresource: rp.subresource.clone(),
                    namespace: rp.namespace.clone(),
                    name: rp.name.clone(),
                },
            }
        }
        Route::Debug(rest) => Request::NonResource {
            verb: req.method.as_str().to_lowercase(),
            path: format!("/debug/{rest}"),
        },
        _ => Request::NonResource {
            verb: req.method.as_str().to_lowercase(),
            path: cluster_relative(path),
        },
    };
    let target = match (export, cref) {
        (Some(export), _) => apiexport::logical(&store, &export.cluster),
        (None, ClusterRef::Plain) => PLAIN.to_owned(),
        (None, ClusterRef::Named(t)) => store.resolve(t),
        (None, ClusterRef::Wildcard) => return Err(rbac::forbidden(&identity, &request)),
    };
    if let Some(home) = home
        && target != home
    {
        return Err(ApiError::new(
            403,
            "Forbidden",
            format!(
                "User \"{}\" of logical cluster {home:?} cannot access logical cluster {target:?}",
                identity.user()
            ),
        ));
    }
    let allowed = store
        .cluster(&target)
        .is_some_and(|c| rbac::allows_user(c, &identity.user_info(), &request));
    if allowed {
        Ok(())
    } else {
        Err(rbac::forbidden(&identity, &request))
    }
}

//! Authentication and RBAC authorization of ServiceAccount tokens.
//!
//! Requests without a bearer token stay unrestricted (the embedded server's admin: tests, kubectl and the
//! operator's admin kcp access keep working). A bearer token the server issued — through the
//! `serviceaccounts/<name>/token` subresource (TokenRequest) or as a ServiceAccount token Secret (format in
//! [`crate::sim::tokens`]) — authenticates as `system:serviceaccount:<namespace>:<name>` of the logical cluster it
//! was issued in, and every request it makes is authorized by the RBAC objects (Roles, ClusterRoles and their
//! bindings) of that logical cluster, like Kubernetes' RBAC authorizer. An unknown or expired token is 401; a
//! denied request is 403 with Kubernetes' message. A ServiceAccount may not reach other logical clusters.
//!
//! Limits: no aggregated ClusterRoles, no impersonation, no kcp `access` verb on workspaces; discovery
//! (`/api`, `/apis`, `/version`, `/openapi`, health) is open to every authenticated user as with Kubernetes'
//! `system:discovery` and `system:public-info-viewer` roles.

pub mod rbac;

use http::{HeaderMap, header};

use crate::sim::tokens::parse_service_account_token;
use crate::status::ApiError;
use crate::store::Store;
use crate::time::now_secs;

/// Who a request is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Identity {
    /// No bearer token: everything is allowed.
    Admin,
    /// The admin acting as another user (`kubectl --as`, `--as-group`): authorized by the RBAC objects of the
    /// cluster the request goes to.
    Impersonated(rbac::UserInfo),
    /// A ServiceAccount of a logical cluster (`""` for the plain cluster).
    ServiceAccount {
        /// Logical cluster name the ServiceAccount lives in.
        cluster: String,
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
    },
}

impl Identity {
    /// User and groups as RBAC sees them; the admin is in `system:masters`.
    pub fn user_info(&self) -> rbac::UserInfo {
        match self {
            Identity::Admin => rbac::UserInfo {
                user: self.user(),
                groups: vec![rbac::MASTERS.into(), "system:authenticated".into()],
            },
            Identity::Impersonated(who) => who.clone(),
            Identity::ServiceAccount { namespace, name, .. } => {
                rbac::UserInfo::service_account(namespace, name)
            }
        }
    }

    /// The user name Kubernetes gives the identity.
    pub fn user(&self) -> String {
        match self {
            Identity::Admin => "system:admin".into(),
            Identity::Impersonated(who) => who.user.clone(),
            Identity::ServiceAccount { namespace, name, .. } => {
                format!("system:serviceaccount:{namespace}:{name}")
            }
        }
    }
}

fn unauthorized() -> ApiError {
    ApiError::new(401, "Unauthorized", "Unauthorized")
}

/// The identity of a request from its `Authorization` header.
///
/// # Errors
///
/// 401 Unauthorized for a bearer token the server did not issue, an expired one, or a malformed header.
pub fn authenticate(store: &Store, headers: &HeaderMap) -> Result<Identity, ApiError> {
    let impersonated = impersonation(headers);
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(impersonated.map_or(Identity::Admin, Identity::Impersonated));
    };
    if impersonated.is_some() {
        // Only the admin may impersonate; a ServiceAccount would need the `impersonate` verb, which is not modelled.
        return Err(ApiError::new(
            403,
            "Forbidden",
            "only the admin (no bearer token) may impersonate users",
        ));
    }
    let value = value.to_str().map_err(|_| unauthorized())?;
    let Some(token) = value.strip_prefix("Bearer ").map(str::trim) else {
        // Basic and other schemes are not supported; treat them like an anonymous admin request would be
        // misleading, so refuse.
        return Err(unauthorized());
    };
    authenticate_token(store, token)
}

/// The user and groups of `Impersonate-User` / `Impersonate-Group` headers; a ServiceAccount user
/// (`system:serviceaccount:<ns>:<name>`) gets its ServiceAccount groups too.
fn impersonation(headers: &HeaderMap) -> Option<rbac::UserInfo> {
    let user = headers.get("impersonate-user")?.to_str().ok()?.trim().to_string();
    if user.is_empty() {
        return None;
    }
    let mut who = match user
        .strip_prefix("system:serviceaccount:")
        .and_then(|r| r.split_once(':'))
    {
        Some((ns, name)) => rbac::UserInfo::service_account(ns, name),
        None => rbac::UserInfo {
            user,
            groups: vec!["system:authenticated".into()],
        },
    };
    for g in headers.get_all("impersonate-group") {
        if let Ok(g) = g.to_str() {
            who.groups.push(g.trim().to_string());
        }
    }
    Some(who)
}

/// The ServiceAccount a bearer token stands for (the check behind requests and TokenReviews).
///
/// # Errors
///
/// 401 Unauthorized for a token the server did not issue or an expired one.
pub fn authenticate_token(store: &Store, token: &str) -> Result<Identity, ApiError> {
    if let Some(issued) = store.tokens.get(token) {
        if issued.expires <= now_secs() {
            return Err(unauthorized());
        }
        return Ok(Identity::ServiceAccount {
            cluster: issued.cluster.clone(),
            namespace: issued.namespace.clone(),
            name: issued.name.clone(),
        });
    }
    let (cluster, namespace, name) = parse_service_account_token(token).ok_or_else(unauthorized)?;
    Ok(Identity::ServiceAccount {
        cluster,
        namespace,
        name,
    })
}

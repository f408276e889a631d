//! The operator's identity as the chart installs it: a bearer token of the chart's ServiceAccount (TokenRequest on
//! the embedded API server, which then authorizes every request by the installed RBAC), and a client that records
//! each request as the RBAC attributes it needs, with the status it got — so a test can name the rule a denied
//! request lacked and the rules no request used.

use std::{
    collections::BTreeSet,
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll},
};

use anyhow::Context as _;
use http::{Method, Request, Response};
use k8s_openapi::api::{
    authentication::v1::{TokenRequest, TokenRequestSpec},
    core::v1::ServiceAccount,
};
use kube::{Api, Client, Config, api::PostParams, client::Body, config::AuthInfo};

/// The RBAC attributes of one request (what a rule must grant for it).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Access {
    pub verb: String,
    pub group: String,
    /// `plural` or `plural/subresource`.
    pub resource: String,
    /// Empty for cluster-scoped requests.
    pub namespace: String,
    pub path: String,
}

impl std::fmt::Display for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let group = if self.group.is_empty() {
            "core"
        } else {
            &self.group
        };
        let namespace = if self.namespace.is_empty() {
            "cluster-wide".to_owned()
        } else {
            format!("in {}", self.namespace)
        };
        write!(
            f,
            "{} {} ({group}) {namespace}: {}",
            self.verb, self.resource, self.path
        )
    }
}

/// The RBAC attributes of a request from its method and URI; `None` for non-resource paths (discovery).
pub fn access_of(method: &Method, uri: &http::Uri) -> Option<Access> {
    let path = uri.path();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, rest) = match segments.as_slice() {
        ["api", _version, rest @ ..] => ("", rest),
        ["apis", group, _version, rest @ ..] => (*group, rest),
        _ => return None,
    };
    // `namespaces/<ns>/<plural>...`, except the Namespace object itself and its subresources.
    let (namespace, rest) = match rest {
        ["namespaces", namespace, plural, tail @ ..]
            if !(group.is_empty() && tail.is_empty() && ["status", "finalize"].contains(plural)) =>
        {
            (*namespace, [&[*plural][..], tail].concat())
        }
        _ => ("", rest.to_vec()),
    };
    let (plural, name, subresource) = match rest.as_slice() {
        [plural] => (*plural, None, None),
        [plural, name] => (*plural, Some(*name), None),
        [plural, name, subresource] => (*plural, Some(*name), Some(*subresource)),
        _ => return None,
    };
    let query = uri.query().unwrap_or_default();
    let watching = query.split('&').any(|p| p == "watch=true" || p == "watch=1");
    let verb = match (method.as_str(), name) {
        ("GET", _) if watching => "watch",
        ("GET", None) => "list",
        ("GET", Some(_)) => "get",
        ("POST", _) => "create",
        ("PUT", _) => "update",
        ("PATCH", _) => "patch",
        ("DELETE", None) => "deletecollection",
        ("DELETE", Some(_)) => "delete",
        _ => return None,
    };
    Some(Access {
        verb: verb.to_owned(),
        group: group.to_owned(),
        resource: match subresource {
            Some(sub) => format!("{plural}/{sub}"),
            None => plural.to_owned(),
        },
        namespace: namespace.to_owned(),
        path: path.to_owned(),
    })
}

/// What the recording client saw: every access with the status it got.
#[derive(Clone, Default)]
pub struct AccessLog {
    inner: Arc<Mutex<Vec<(Access, u16)>>>,
}

impl AccessLog {
    fn record(&self, access: Access, code: u16) {
        self.inner.lock().expect("access log lock").push((access, code));
    }

    /// The accesses answered 401 or 403, distinct.
    pub fn denied(&self) -> BTreeSet<(Access, u16)> {
        let log = self.inner.lock().expect("access log lock");
        log.iter()
            .filter(|(_, code)| [401, 403].contains(code))
            .cloned()
            .collect()
    }

    /// Every access made, distinct, without the path.
    pub fn used(&self) -> BTreeSet<(String, String, String)> {
        let log = self.inner.lock().expect("access log lock");
        log.iter()
            .map(|(a, _)| (a.group.clone(), a.resource.clone(), a.verb.clone()))
            .collect()
    }

    /// How many requests were recorded.
    pub fn len(&self) -> usize {
        self.inner.lock().expect("access log lock").len()
    }

    /// Whether no request was recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Clone)]
struct Recording {
    inner: Client,
    log: AccessLog,
}

type BoxFuture = Pin<Box<dyn Future<Output = Result<Response<Body>, kube::Error>> + Send>>;

impl tower::Service<Request<Body>> for Recording {
    type Response = Response<Body>;
    type Error = kube::Error;
    type Future = BoxFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let access = access_of(request.method(), request.uri());
        let (inner, log) = (self.inner.clone(), self.log.clone());
        Box::pin(async move {
            let response = inner.send(request).await;
            if let Some(access) = access {
                let code = match &response {
                    Ok(r) => r.status().as_u16(),
                    Err(kube::Error::Api(status)) => status.code,
                    Err(_) => 0,
                };
                log.record(access, code);
            }
            response
        })
    }
}

/// A client of `server_url` authenticating with a fresh token of ServiceAccount `namespace/name` (requested with
/// `admin`), recording its requests in the returned log.
pub async fn service_account_client(
    admin: &Client,
    server_url: &str,
    namespace: &str,
    name: &str,
) -> anyhow::Result<(Client, AccessLog)> {
    let request = TokenRequest {
        spec: TokenRequestSpec {
            audiences: Vec::new(),
            expiration_seconds: Some(3600),
            ..TokenRequestSpec::default()
        },
        ..TokenRequest::default()
    };
    let issued = Api::<ServiceAccount>::namespaced(admin.clone(), namespace)
        .create_token_request(name, &PostParams::default(), &request)
        .await
        .with_context(|| format!("TokenRequest for ServiceAccount {namespace}/{name}"))?;
    let token = issued
        .status
        .map(|s| s.token)
        .filter(|t| !t.is_empty())
        .with_context(|| format!("TokenRequest for {namespace}/{name} returned no token"))?;
    let mut config = Config::new(server_url.parse()?);
    config.default_namespace = namespace.to_owned();
    // Through serde: the token type (`secrecy`) is not re-exported by kube.
    config.auth_info = serde_json::from_value::<AuthInfo>(serde_json::json!({ "token": token }))?;
    let client = Client::try_from(config)?;
    let log = AccessLog::default();
    let recording = Recording {
        inner: client,
        log: log.clone(),
    };
    Ok((Client::new(recording, namespace), log))
}

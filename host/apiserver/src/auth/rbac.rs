//! Kubernetes RBAC evaluation over the Roles, ClusterRoles, RoleBindings and ClusterRoleBindings of one cluster.
//!
//! A request is allowed when some rule of a role bound to the user matches it: ClusterRoleBindings grant their
//! ClusterRole everywhere in the cluster; RoleBindings grant their Role or ClusterRole inside their namespace.
//! Rules match on verbs, apiGroups, resources (`plural`, `plural/subresource`, `*`, `*/subresource`) and
//! resourceNames (which never match requests without a name: list, watch, create, deletecollection), or on
//! nonResourceURLs (exact, `*`, or a prefix ending in `*`).

use serde_json::Value;

use super::Identity;
use crate::status::{ApiError, qualified};
use crate::store::Cluster;

/// What a request asks to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// A request for a resource.
    Resource {
        /// RBAC verb: get, list, watch, create, update, patch, delete, deletecollection.
        verb: String,
        /// API group (`""` for core).
        group: String,
        /// Plural resource name.
        resource: String,
        /// Subresource, e.g. `status`, `token`.
        subresource: Option<String>,
        /// Namespace of a namespaced request.
        namespace: Option<String>,
        /// Object name of a named request.
        name: Option<String>,
    },
    /// A request for a path that is not a resource (discovery, health, debug).
    NonResource {
        /// Lower-case HTTP method (`get`, `post`, ...).
        verb: String,
        /// The path within the cluster, e.g. `/apis/apps`.
        path: String,
    },
}

/// Paths every authenticated user may `get` (Kubernetes' `system:discovery` and `system:public-info-viewer`).
const DISCOVERY: [&str; 11] = [
    "/api",
    "/api/*",
    "/apis",
    "/apis/*",
    "/version",
    "/version/",
    "/openapi",
    "/openapi/*",
    "/healthz",
    "/livez",
    "/readyz",
];

/// The bootstrap ClusterRole that allows everything.
const CLUSTER_ADMIN: &str = "cluster-admin";

static CLUSTER_ADMIN_RULES: std::sync::LazyLock<[Value; 2]> = std::sync::LazyLock::new(|| {
    [
        serde_json::json!({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}),
        serde_json::json!({"nonResourceURLs": ["*"], "verbs": ["*"]}),
    ]
});

fn strings(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

fn has(list: &[String], wanted: &str) -> bool {
    list.iter().any(|v| v == "*" || v == wanted)
}

fn path_matches(patterns: &[String], path: &str) -> bool {
    patterns.iter().any(|p| match p.strip_suffix('*') {
        Some(prefix) => path.starts_with(prefix),
        None => p == path,
    })
}

/// Whether one PolicyRule allows the request.
pub fn rule_allows(rule: &Value, request: &Request) -> bool {
    let verbs = strings(rule, "verbs");
    match request {
        Request::NonResource { verb, path } => {
            has(&verbs, verb) && path_matches(&strings(rule, "nonResourceURLs"), path)
        }
        Request::Resource {
            verb,
            group,
            resource,
            subresource,
            name,
            ..
        } => {
            let resources = strings(rule, "resources");
            let resource_ok = match subresource {
                None => has(&resources, resource),
                Some(sub) => resources
                    .iter()
                    .any(|r| *r == format!("{resource}/{sub}") || *r == format!("*/{sub}") || r == "*"),
            };
            let names = strings(rule, "resourceNames");
            let name_ok = names.is_empty() || name.as_ref().is_some_and(|n| names.contains(n));
            has(&verbs, verb) && has(&strings(rule, "apiGroups"), group) && resource_ok && name_ok
        }
    }
}

/// A user as RBAC sees it: name and groups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserInfo {
    /// User name, e.g. `system:serviceaccount:<namespace>:<name>`.
    pub user: String,
    /// Groups the user belongs to.
    pub groups: Vec<String>,
}

impl UserInfo {
    /// The user and groups Kubernetes gives ServiceAccount `namespace/name`.
    pub fn service_account(namespace: &str, name: &str) -> Self {
        Self {
            user: format!("system:serviceaccount:{namespace}:{name}"),
            groups: vec![
                "system:serviceaccounts".into(),
                format!("system:serviceaccounts:{namespace}"),
                "system:authenticated".into(),
            ],
        }
    }
}

fn subject_matches(subject: &Value, who: &UserInfo) -> bool {
    let field = |k: &str| subject.get(k).and_then(Value::as_str).unwrap_or_default();
    match field("kind") {
        "ServiceAccount" => {
            who.user == format!("system:serviceaccount:{}:{}", field("namespace"), field("name"))
        }
        "User" => field("name") == who.user,
        "Group" => who.groups.iter().any(|g| g == field("name")),
        _ => false,
    }
}

fn objects<'a>(cluster: &'a Cluster, plural: &str) -> impl Iterator<Item = (&'a str, &'a Value)> {
    let key = ("rbac.authorization.k8s.io".to_string(), plural.to_string());
    cluster
        .objects
        .get(&key)
        .into_iter()
        .flatten()
        .map(|((ns, _), v)| (ns.as_str(), v))
}

/// The rules of the role a binding refers to (`Role` in the binding's namespace, or `ClusterRole`).
fn role_rules<'a>(cluster: &'a Cluster, binding_ns: &str, binding: &Value) -> Vec<&'a Value> {
    let role_ref = &binding["roleRef"];
    let name = role_ref["name"].as_str().unwrap_or_default();
    let (plural, ns) = match role_ref["kind"].as_str() {
        Some("ClusterRole") => ("clusterroles", ""),
        Some("Role") => ("roles", binding_ns),
        _ => return Vec::new(),
    };
    let key = ("rbac.authorization.k8s.io".to_string(), plural.to_string());
    match cluster.get(&key, ns, name) {
        Some(role) => role
            .get("rules")
            .and_then(Value::as_array)
            .map(|rules| rules.iter().collect())
            .unwrap_or_default(),
        // Every Kubernetes cluster and kcp workspace has `cluster-admin`; the store does not seed it.
        None if plural == "clusterroles" && name == CLUSTER_ADMIN => CLUSTER_ADMIN_RULES.iter().collect(),
        None => Vec::new(),
    }
}

/// Resources every authenticated user may create (Kubernetes' `system:basic-user`: self reviews).
const BASIC_USER: [(&str, &str); 3] = [
    ("authorization.k8s.io", "selfsubjectaccessreviews"),
    ("authorization.k8s.io", "selfsubjectrulesreviews"),
    ("authentication.k8s.io", "selfsubjectreviews"),
];

/// The group whose members may do everything (Kubernetes' `system:masters`).
pub const MASTERS: &str = "system:masters";

fn always_allowed(request: &Request) -> bool {
    match request {
        Request::NonResource { verb, path } => {
            verb == "get" && path_matches(&DISCOVERY.map(String::from), path)
        }
        Request::Resource {
            verb,
            group,
            resource,
            subresource: None,
            ..
        } => verb == "create" && BASIC_USER.iter().any(|(g, r)| g == group && r == resource),
        Request::Resource { .. } => false,
    }
}

/// Whether a ServiceAccount `namespace/name` may make `request` in `cluster`.
pub fn allows(cluster: &Cluster, namespace: &str, name: &str, request: &Request) -> bool {
    allows_user(cluster, &UserInfo::service_account(namespace, name), request)
}

/// Whether `who` may make `request` in `cluster`.
pub fn allows_user(cluster: &Cluster, who: &UserInfo, request: &Request) -> bool {
    if always_allowed(request) || who.groups.iter().any(|g| g == MASTERS) {
        return true;
    }
    let request_ns = match request {
        Request::Resource { namespace, .. } => namespace.as_deref(),
        Request::NonResource { .. } => None,
    };
    rules_for(cluster, who, request_ns)
        .iter()
        .any(|r| rule_allows(r, request))
}

/// Every rule granted to `who` cluster-wide and, with `namespace`, inside that namespace.
pub fn rules_for<'a>(cluster: &'a Cluster, who: &UserInfo, namespace: Option<&str>) -> Vec<&'a Value> {
    let bound = |binding: &Value| {
        binding["subjects"]
            .as_array()
            .is_some_and(|s| s.iter().any(|s| subject_matches(s, who)))
    };
    let mut rules: Vec<&Value> = objects(cluster, "clusterrolebindings")
        .filter(|(_, b)| bound(b))
        .flat_map(|(_, b)| role_rules(cluster, "", b))
        .collect();
    if let Some(request_ns) = namespace {
        rules.extend(
            objects(cluster, "rolebindings")
                .filter(|(ns, b)| *ns == request_ns && bound(b))
                .flat_map(|(ns, b)| role_rules(cluster, ns, b)),
        );
    }
    rules
}

/// The rules every authenticated user holds (discovery and self reviews), as PolicyRules.
pub fn baseline_rules() -> Vec<Value> {
    let mut rules: Vec<Value> = BASIC_USER
        .iter()
        .map(|(g, r)| serde_json::json!({"verbs": ["create"], "apiGroups": [g], "resources": [r]}))
        .collect();
    rules.push(serde_json::json!({"verbs": ["get"], "nonResourceURLs": DISCOVERY}));
    rules
}

/// The 403 Kubernetes answers for a denied request.
pub fn forbidden(identity: &Identity, request: &Request) -> ApiError {
    let user = identity.user();
    match request {
        Request::NonResource { verb, path } => ApiError::new(
            403,
            "Forbidden",
            format!("forbidden: User \"{user}\" cannot {verb} path \"{path}\""),
        ),
        Request::Resource {
            verb,
            group,
            resource,
            subresource,
            namespace,
            name,
        } => {
            let full = match subresource {
                Some(sub) => format!("{resource}/{sub}"),
                None => resource.clone(),
            };
            let what = match name {
                Some(name) => format!("{} \"{name}\"", qualified(group, resource)),
                None => qualified(group, resource),
            };
            let scope = match namespace {
                Some(ns) => format!("in the namespace \"{ns}\""),
                None => "at the cluster scope".to_owned(),
            };
            let mut error = ApiError::new(
                403,
                "Forbidden",
                format!(
                    "{what} is forbidden: User \"{user}\" cannot {verb} resource \"{full}\" in API group \"{group}\" {scope}"
                ),
            );
            error.about = Some(Box::new(crate::status::About {
                name: name.clone().unwrap_or_default(),
                group: group.clone(),
                kind: resource.clone(),
            }));
            error
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn get(group: &str, resource: &str, name: Option<&str>) -> Request {
        Request::Resource {
            verb: "get".into(),
            group: group.into(),
            resource: resource.into(),
            subresource: None,
            namespace: Some("default".into()),
            name: name.map(str::to_owned),
        }
    }

    #[test]
    fn rules_match_verbs_groups_resources_and_names() {
        let rule = json!({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]});
        assert!(rule_allows(&rule, &get("", "secrets", Some("a"))));
        assert!(!rule_allows(&rule, &get("apps", "secrets", None)));
        assert!(!rule_allows(&rule, &get("", "configmaps", None)));
        let named = json!({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"], "resourceNames": ["a"]});
        assert!(rule_allows(&named, &get("x", "y", Some("a"))));
        assert!(!rule_allows(&named, &get("x", "y", Some("b"))));
        assert!(!rule_allows(&named, &get("x", "y", None)));
    }

    #[test]
    fn subresources_need_their_own_rule() {
        let status = Request::Resource {
            verb: "update".into(),
            group: "".into(),
            resource: "pods".into(),
            subresource: Some("status".into()),
            namespace: None,
            name: Some("p".into()),
        };
        let main = json!({"apiGroups": [""], "resources": ["pods"], "verbs": ["*"]});
        assert!(!rule_allows(&main, &status));
        let sub = json!({"apiGroups": [""], "resources": ["pods/status"], "verbs": ["update"]});
        assert!(rule_allows(&sub, &status));
        let any = json!({"apiGroups": [""], "resources": ["*/status"], "verbs": ["update"]});
        assert!(rule_allows(&any, &status));
    }

    #[test]
    fn non_resource_urls_match_exactly_or_by_prefix() {
        let rule = json!({"nonResourceURLs": ["/clusters/*", "/metrics"], "verbs": ["get"]});
        let req = |path: &str| Request::NonResource {
            verb: "get".into(),
            path: path.into(),
        };
        assert!(rule_allows(&rule, &req("/clusters/root")));
        assert!(rule_allows(&rule, &req("/metrics")));
        assert!(!rule_allows(&rule, &req("/metrics/x")));
        assert!(!rule_allows(&rule, &req("/debug/requests")));
    }

    #[test]
    fn forbidden_messages_read_like_kubernetes() {
        let who = Identity::ServiceAccount {
            cluster: "c".into(),
            namespace: "default".into(),
            name: "sa".into(),
        };
        let e = forbidden(&who, &get("", "secrets", Some("a")));
        assert_eq!(e.code, 403);
        assert_eq!(
            e.message,
            "secrets \"a\" is forbidden: User \"system:serviceaccount:default:sa\" cannot get resource \"secrets\" \
             in API group \"\" in the namespace \"default\""
        );
        let list = Request::Resource {
            verb: "list".into(),
            group: "apis.kcp.io".into(),
            resource: "apiexports".into(),
            subresource: None,
            namespace: None,
            name: None,
        };
        assert!(forbidden(&who, &list).message.starts_with(
            "apiexports.apis.kcp.io is forbidden: User \"system:serviceaccount:default:sa\" cannot list resource \
             \"apiexports\" in API group \"apis.kcp.io\" at the cluster scope"
        ));
    }
}

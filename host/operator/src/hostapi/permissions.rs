//! What a plugin may do with the clusters. Every cluster import is checked here before a client is touched.

use serde::Deserialize;

use crate::target::Target;

/// Cluster operations, as named in permission rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    Get,
    List,
    Apply,
    Create,
    Update,
    Patch,
    Delete,
    PatchStatus,
    RequestToken,
}

impl Verb {
    /// The name used in rules (`patch-status`).
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::List => "list",
            Verb::Apply => "apply",
            Verb::Create => "create",
            Verb::Update => "update",
            Verb::Patch => "patch",
            Verb::Delete => "delete",
            Verb::PatchStatus => "patch-status",
            Verb::RequestToken => "request-token",
        }
    }
}

/// One requested access.
#[derive(Clone, Copy, Debug)]
pub struct Access<'a> {
    pub target: &'a Target,
    /// API group (`""` for core).
    pub group: &'a str,
    pub kind: &'a str,
    pub verb: Verb,
    /// `None`: cluster-scoped or across all namespaces.
    pub namespace: Option<&'a str>,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

/// One rule. Every list holds patterns where `*` matches any run of characters. A request is allowed when some
/// rule matches its target, group, kind and verb, and its namespace (an empty `namespaces` list allows every
/// namespace and cluster-scoped objects; otherwise a cluster-wide request needs the pattern `*`).
///
/// The namespace checked is the one the object really lives in, known after discovery: for a cluster-scoped
/// kind that is none, whatever namespace the plugin wrote, so a rule limited to namespaces never grants a
/// ClusterRoleBinding.
///
/// Secrets are the exception to patterns: a core `Secret` is reachable only through a rule that names the kind
/// `Secret` literally, so `kinds: ["*"]` never grants reading credentials by accident.
///
/// The image version store (`image-versions` imports) is the target `image-versions`, named literally and alone
/// in its rule, with the verbs `get` (get, is-unsuspended) and `set` (set, set-unsuspended), no groups or kinds,
/// and optionally the namespaces of the releases: `{targets: [image-versions], verbs: [get, set]}`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// `runtime`, `infra`, `kcp` (any workspace), `kcp:<path glob>` such as `kcp:root:orgs:*`, `remote` (any
    /// cluster reached through a kubeconfig Secret) or `remote:<namespace>/<secret glob>`.
    #[serde(alias = "target", deserialize_with = "one_or_many")]
    pub targets: Vec<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub groups: Vec<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub kinds: Vec<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub verbs: Vec<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub namespaces: Vec<String>,
}

/// The rules of one plugin.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Permissions {
    rules: Vec<Rule>,
}

/// `*` matches any (possibly empty) run of characters; everything else literally.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let Some((head, rest)) = pattern.split_once('*') else {
        return pattern == text;
    };
    let Some(mut remaining) = text.strip_prefix(head) else {
        return false;
    };
    let parts: Vec<&str> = rest.split('*').collect();
    let (last, middle) = parts.split_last().expect("split yields at least one part");
    for part in middle {
        match remaining.find(part) {
            Some(i) => remaining = &remaining[i + part.len()..],
            None => return false,
        }
    }
    remaining.len() >= last.len() && remaining.ends_with(last)
}

fn target_matches(pattern: &str, target: &Target) -> bool {
    match target {
        Target::Runtime => glob_match(pattern, "runtime"),
        Target::Infra => glob_match(pattern, "infra"),
        Target::Kcp(path) => {
            pattern == "kcp" || pattern == "*" || glob_match(pattern, &format!("kcp:{path}"))
        }
        Target::Remote(r) => {
            pattern == "remote"
                || pattern == "*"
                || glob_match(pattern, &format!("remote:{}/{}", r.namespace, r.name))
        }
    }
}

fn any(patterns: &[String], text: &str) -> bool {
    patterns.iter().any(|p| glob_match(p, text))
}

/// The verbs rules may name.
pub const VERBS: [Verb; 9] = [
    Verb::Get,
    Verb::List,
    Verb::Apply,
    Verb::Create,
    Verb::Update,
    Verb::Patch,
    Verb::Delete,
    Verb::PatchStatus,
    Verb::RequestToken,
];

/// The target naming the image version store.
pub const IMAGE_VERSIONS: &str = "image-versions";

/// Operations on the image version store, as named in rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreVerb {
    /// `get` and `is-unsuspended`.
    Get,
    /// `set` and `set-unsuspended`.
    Set,
}

impl StoreVerb {
    /// The name used in rules.
    pub fn as_str(self) -> &'static str {
        match self {
            StoreVerb::Get => "get",
            StoreVerb::Set => "set",
        }
    }
}

fn kind_allowed(kinds: &[String], group: &str, kind: &str) -> bool {
    if group.is_empty() && kind == "Secret" {
        return kinds.iter().any(|k| k == "Secret" || k == "secret");
    }
    any(kinds, kind) || any(kinds, &kind.to_lowercase())
}

impl Rule {
    /// Checks that the rule can match something: at least one target, group, kind and verb, targets of the
    /// form `runtime`, `infra`, `kcp`, `kcp:<path glob>` or `*`, and known verbs (or `*`).
    pub fn validate(&self) -> Result<(), String> {
        if self.targets.iter().any(|t| t == IMAGE_VERSIONS) {
            return self.validate_image_versions();
        }
        for (field, list) in [
            ("targets", &self.targets),
            ("groups", &self.groups),
            ("kinds", &self.kinds),
            ("verbs", &self.verbs),
        ] {
            if list.is_empty() {
                return Err(format!(
                    "`{field}` must name at least one pattern (use \"*\" for any)"
                ));
            }
        }
        for target in &self.targets {
            let known = matches!(target.as_str(), "runtime" | "infra" | "kcp" | "remote" | "*")
                || target.strip_prefix("kcp:").is_some_and(|path| !path.is_empty())
                || target
                    .strip_prefix("remote:")
                    .is_some_and(|secret| !secret.is_empty());
            if !known {
                return Err(format!(
                    "unknown target {target:?} (expected runtime, infra, kcp, kcp:<workspace path glob>, remote, \
                     remote:<namespace>/<secret glob>, image-versions or *)"
                ));
            }
        }
        for verb in &self.verbs {
            if verb != "*" && !VERBS.iter().any(|v| v.as_str() == verb) {
                let known: Vec<&str> = VERBS.iter().map(|v| v.as_str()).collect();
                return Err(format!(
                    "unknown verb {verb:?} (expected * or one of {})",
                    known.join(", ")
                ));
            }
        }
        Ok(())
    }

    fn validate_image_versions(&self) -> Result<(), String> {
        if self.targets.len() != 1 {
            return Err("the target image-versions stands alone in its rule".into());
        }
        if !self.groups.is_empty() || !self.kinds.is_empty() {
            return Err("a rule for image-versions names no groups or kinds".into());
        }
        if self.verbs.is_empty() {
            return Err("`verbs` must name get, set or *".into());
        }
        match self
            .verbs
            .iter()
            .find(|v| !matches!(v.as_str(), "get" | "set" | "*"))
        {
            Some(verb) => Err(format!(
                "unknown verb {verb:?} for image-versions (expected get, set or *)"
            )),
            None => Ok(()),
        }
    }

    fn allows_store(&self, verb: StoreVerb, namespace: &str) -> bool {
        self.targets.iter().any(|t| t == IMAGE_VERSIONS)
            && any(&self.verbs, verb.as_str())
            && (self.namespaces.is_empty() || any(&self.namespaces, namespace))
    }

    fn allows(&self, access: &Access<'_>) -> bool {
        self.allows_anywhere(access)
            && match access.namespace {
                _ if self.namespaces.is_empty() => true,
                Some(ns) => any(&self.namespaces, ns),
                None => self.namespaces.iter().any(|p| p == "*"),
            }
    }

    /// Target, group, kind and verb match, in some namespace or cluster-wide.
    fn allows_anywhere(&self, access: &Access<'_>) -> bool {
        self.targets.iter().any(|t| target_matches(t, access.target))
            && any(&self.groups, access.group)
            && kind_allowed(&self.kinds, access.group, access.kind)
            && any(&self.verbs, access.verb.as_str())
    }
}

fn target_name(target: &Target) -> String {
    match target {
        Target::Runtime => "runtime".into(),
        Target::Infra => "infra".into(),
        Target::Kcp(path) => format!("kcp:{path}"),
        Target::Remote(r) => format!("remote:{}/{}", r.namespace, r.name),
    }
}

impl Permissions {
    /// Permissions made of `rules`; no rules allow nothing.
    pub fn new(rules: Vec<Rule>) -> Self {
        Permissions { rules }
    }

    /// Everything on every cluster, Secrets and the image version store included: for plugins loaded without
    /// declared permissions (tests, and shipped plugins the default configuration does not list yet).
    pub fn permissive() -> Self {
        let all = || vec!["*".to_owned()];
        Permissions::new(vec![
            Rule {
                targets: vec!["runtime".into(), "infra".into(), "kcp".into(), "remote".into()],
                groups: all(),
                kinds: vec!["*".into(), "Secret".into()],
                verbs: all(),
                namespaces: Vec::new(),
            },
            Rule {
                targets: vec![IMAGE_VERSIONS.into()],
                verbs: all(),
                ..Rule::default()
            },
        ])
    }

    /// The rules.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// `Ok` if some rule allows `access` in some namespace or cluster-wide: the check before the kind's scope is
    /// known, so that nothing is asked of a cluster for a plugin that may not touch the kind at all.
    pub fn check_kind(&self, access: &Access<'_>) -> Result<(), String> {
        if self.rules.iter().any(|rule| rule.allows_anywhere(access)) {
            return Ok(());
        }
        Err(missing(access))
    }

    /// `Ok` if a rule allows `access`, else a message naming the missing permission. `access.namespace` must be
    /// the namespace the object lives in (`None` for cluster-scoped kinds).
    pub fn check(&self, access: &Access<'_>) -> Result<(), String> {
        if self.rules.iter().any(|rule| rule.allows(access)) {
            return Ok(());
        }
        Err(missing(access))
    }

    /// `Ok` if a rule allows `verb` on the image versions of releases in `namespace`.
    pub fn check_store(&self, verb: StoreVerb, namespace: &str) -> Result<(), String> {
        if self.rules.iter().any(|rule| rule.allows_store(verb, namespace)) {
            return Ok(());
        }
        Err(format!(
            "missing permission: {} image-versions in namespace {namespace}",
            verb.as_str()
        ))
    }
}

fn missing(access: &Access<'_>) -> String {
    let group = if access.group.is_empty() {
        "core"
    } else {
        access.group
    };
    let scope = access
        .namespace
        .map_or_else(|| "cluster-wide".to_owned(), |ns| format!("in namespace {ns}"));
    format!(
        "missing permission: {} {} ({group}) {scope} on {}",
        access.verb.as_str(),
        access.kind,
        target_name(access.target)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(targets: &[&str], groups: &[&str], kinds: &[&str], verbs: &[&str], namespaces: &[&str]) -> Rule {
        let v = |xs: &[&str]| xs.iter().map(|s| (*s).to_owned()).collect();
        Rule {
            targets: v(targets),
            groups: v(groups),
            kinds: v(kinds),
            verbs: v(verbs),
            namespaces: v(namespaces),
        }
    }

    fn access<'a>(
        target: &'a Target,
        group: &'a str,
        kind: &'a str,
        verb: Verb,
        ns: Option<&'a str>,
    ) -> Access<'a> {
        Access {
            target,
            group,
            kind,
            verb,
            namespace: ns,
        }
    }

    #[test]
    fn glob_matches_prefixes_suffixes_and_middles() {
        assert!(glob_match("*", ""));
        assert!(glob_match("kcp:root:*", "kcp:root:orgs"));
        assert!(!glob_match("kcp:root:*", "kcp:other"));
        assert!(glob_match("a*c*e", "abcde"));
        assert!(!glob_match("a*c*e", "abcdf"));
        assert!(glob_match("*.fluxcd.io", "helm.toolkit.fluxcd.io"));
        assert!(!glob_match("ab*ba", "aba"));
    }

    #[test]
    fn rule_allows_only_its_target_group_kind_verb_and_namespace() {
        let perms = Permissions::new(vec![rule(
            &["infra"],
            &["helm.toolkit.fluxcd.io"],
            &["*"],
            &["get", "list", "apply"],
            &["platform-mesh-system"],
        )]);
        let infra = Target::Infra;
        let ns = Some("platform-mesh-system");
        assert!(
            perms
                .check(&access(
                    &infra,
                    "helm.toolkit.fluxcd.io",
                    "HelmRelease",
                    Verb::Apply,
                    ns
                ))
                .is_ok()
        );
        let denied = [
            access(
                &Target::Runtime,
                "helm.toolkit.fluxcd.io",
                "HelmRelease",
                Verb::Get,
                ns,
            ),
            access(&infra, "", "Secret", Verb::Get, ns),
            access(&infra, "helm.toolkit.fluxcd.io", "HelmRelease", Verb::Delete, ns),
            access(
                &infra,
                "helm.toolkit.fluxcd.io",
                "HelmRelease",
                Verb::Get,
                Some("default"),
            ),
            access(&infra, "helm.toolkit.fluxcd.io", "HelmRelease", Verb::List, None),
        ];
        for a in denied {
            assert!(perms.check(&a).is_err(), "{a:?} should be denied");
        }
    }

    #[test]
    fn kcp_rules_match_workspace_path_globs() {
        let perms = Permissions::new(vec![rule(&["kcp:root:orgs:*"], &["*"], &["*"], &["*"], &[])]);
        assert!(
            perms
                .check(&access(
                    &Target::Kcp("root:orgs:acme".into()),
                    "",
                    "ConfigMap",
                    Verb::Get,
                    None
                ))
                .is_ok()
        );
        assert!(
            perms
                .check(&access(
                    &Target::Kcp("root".into()),
                    "",
                    "ConfigMap",
                    Verb::Get,
                    None
                ))
                .is_err()
        );
        let any_kcp = Permissions::new(vec![rule(&["kcp"], &["*"], &["*"], &["*"], &[])]);
        assert!(
            any_kcp
                .check(&access(
                    &Target::Kcp("root".into()),
                    "",
                    "ConfigMap",
                    Verb::Get,
                    None
                ))
                .is_ok()
        );
        assert!(
            any_kcp
                .check(&access(&Target::Infra, "", "ConfigMap", Verb::Get, None))
                .is_err()
        );
    }

    #[test]
    fn secrets_need_a_rule_naming_the_kind() {
        let ns = Some("default");
        let wildcard = Permissions::new(vec![rule(&["runtime"], &["*"], &["*"], &["get"], &[])]);
        let secret = access(&Target::Runtime, "", "Secret", Verb::Get, ns);
        let err = wildcard.check(&secret).unwrap_err();
        assert_eq!(
            err,
            "missing permission: get Secret (core) in namespace default on runtime"
        );
        assert!(
            wildcard
                .check(&access(&Target::Runtime, "", "ConfigMap", Verb::Get, ns))
                .is_ok()
        );
        let declared = Permissions::new(vec![rule(&["runtime"], &[""], &["Secret"], &["get"], &[])]);
        assert!(declared.check(&secret).is_ok());
        assert!(Permissions::permissive().check(&secret).is_ok());
    }

    #[test]
    fn validation_rejects_rules_that_cannot_match_or_name_unknown_things() {
        assert!(rule(&["infra"], &["*"], &["*"], &["get"], &[]).validate().is_ok());
        assert!(
            rule(&["kcp:root:*"], &["*"], &["*"], &["*"], &[])
                .validate()
                .is_ok()
        );
        let empty_verbs = rule(&["infra"], &["*"], &["*"], &[], &[]).validate().unwrap_err();
        assert!(empty_verbs.contains("`verbs`"), "{empty_verbs}");
        let bad_target = rule(&["cloud"], &["*"], &["*"], &["get"], &[])
            .validate()
            .unwrap_err();
        assert!(bad_target.contains("\"cloud\""), "{bad_target}");
        let bad_verb = rule(&["infra"], &["*"], &["*"], &["watch"], &[])
            .validate()
            .unwrap_err();
        assert!(bad_verb.contains("\"watch\""), "{bad_verb}");
        let unknown: Result<Rule, _> =
            serde_json::from_value(serde_json::json!({"targets": ["infra"], "kind": ["x"]}));
        assert!(unknown.unwrap_err().to_string().contains("unknown field `kind`"));
    }

    #[test]
    fn denial_names_the_missing_permission() {
        let err = Permissions::default()
            .check(&access(
                &Target::Kcp("root".into()),
                "tenancy.kcp.io",
                "Workspace",
                Verb::Apply,
                None,
            ))
            .unwrap_err();
        assert_eq!(
            err,
            "missing permission: apply Workspace (tenancy.kcp.io) cluster-wide on kcp:root"
        );
        let err = Permissions::default()
            .check(&access(&Target::Infra, "", "Secret", Verb::Get, Some("a")))
            .unwrap_err();
        assert_eq!(
            err,
            "missing permission: get Secret (core) in namespace a on infra"
        );
    }

    #[test]
    fn permissive_allows_everything_and_rules_deserialise_from_the_configmap_shape() {
        let t = Target::Kcp("root:x".into());
        assert!(
            Permissions::permissive()
                .check(&access(&t, "a", "B", Verb::RequestToken, None))
                .is_ok()
        );
        let rule: Rule = serde_json::from_value(serde_json::json!(
            {"target": "infra", "groups": ["helm.toolkit.fluxcd.io"], "kinds": ["*"], "verbs": ["get", "list"]}
        ))
        .unwrap();
        assert_eq!(rule.targets, ["infra"]);
        assert!(rule.namespaces.is_empty());
    }

    #[test]
    fn remote_targets_match_remote_rules() {
        let remote = Target::Remote(crate::target::KubeconfigRef {
            namespace: "pm".into(),
            name: "edge".into(),
            key: "kubeconfig".into(),
        });
        let access = |target| Access {
            target,
            group: "",
            kind: "Secret",
            verb: Verb::Apply,
            namespace: Some("pm"),
        };
        let any_remote = Permissions::new(vec![rule(&["remote"], &[""], &["Secret"], &["*"], &[])]);
        let one_secret = Permissions::new(vec![rule(&["remote:pm/e*"], &[""], &["Secret"], &["*"], &[])]);
        let runtime_only = Permissions::new(vec![rule(&["runtime"], &[""], &["Secret"], &["*"], &[])]);
        assert!(any_remote.check(&access(&remote)).is_ok());
        assert!(one_secret.check(&access(&remote)).is_ok());
        let missing = runtime_only.check(&access(&remote)).unwrap_err();
        assert!(missing.ends_with("on remote:pm/edge"), "{missing}");
        assert!(Permissions::permissive().check(&access(&remote)).is_ok());
    }

    #[test]
    fn cluster_scoped_objects_need_a_rule_without_namespace_restriction() {
        let team = Permissions::new(vec![rule(&["runtime"], &["*"], &["*"], &["apply"], &["team-a"])]);
        let claimed = access(
            &Target::Runtime,
            "rbac.authorization.k8s.io",
            "ClusterRoleBinding",
            Verb::Apply,
            Some("team-a"),
        );
        assert!(team.check_kind(&claimed).is_ok(), "the kind is touched somewhere");
        let resolved = Access {
            namespace: None,
            ..claimed
        };
        assert!(
            team.check(&resolved).is_err(),
            "cluster-scoped: no namespace to match"
        );
        let explicit = Permissions::new(vec![rule(&["runtime"], &["*"], &["*"], &["apply"], &["*"])]);
        assert!(explicit.check(&resolved).is_ok(), "`*` allows cluster scope");
        assert!(
            team.check_kind(&access(&Target::Infra, "", "ConfigMap", Verb::Apply, None))
                .is_err()
        );
    }

    #[test]
    fn image_version_rules_stand_alone_and_name_get_or_set() {
        let get: Rule =
            serde_json::from_value(serde_json::json!({"targets": ["image-versions"], "verbs": ["get"]}))
                .unwrap();
        get.validate().unwrap();
        let perms = Permissions::new(vec![get]);
        assert!(perms.check_store(StoreVerb::Get, "x").is_ok());
        assert_eq!(
            perms.check_store(StoreVerb::Set, "x").unwrap_err(),
            "missing permission: set image-versions in namespace x"
        );
        let wildcard = Permissions::new(vec![rule(&["*"], &["*"], &["*"], &["*"], &[])]);
        assert!(
            wildcard.check_store(StoreVerb::Get, "x").is_err(),
            "`*` targets clusters only"
        );
        assert!(Permissions::permissive().check_store(StoreVerb::Set, "x").is_ok());
        for (bad, says) in [
            (
                rule(&["image-versions", "runtime"], &[], &[], &["get"], &[]),
                "alone",
            ),
            (
                rule(&["image-versions"], &["*"], &[], &["get"], &[]),
                "no groups or kinds",
            ),
            (rule(&["image-versions"], &[], &[], &["apply"], &[]), "\"apply\""),
            (rule(&["image-versions"], &[], &[], &[], &[]), "get, set or *"),
        ] {
            let err = bad.validate().unwrap_err();
            assert!(err.contains(says), "{err}");
        }
        let scoped = Permissions::new(vec![rule(&["image-versions"], &[], &[], &["*"], &["pm-*"])]);
        assert!(scoped.check_store(StoreVerb::Set, "pm-system").is_ok());
        assert!(scoped.check_store(StoreVerb::Set, "kube-system").is_err());
    }
}

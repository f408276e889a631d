//! Hostile input through the host API, against the embedded API server: kubeconfigs from Secrets, permission
//! scope, names going into URLs, list sizes and the image version store.

use std::sync::Arc;

use serde_json::{Value, json};

use super::{HostCall, HostServices, ImageVersionStore, Permissions, Rule};
use crate::{
    clusters::{Clusters, KcpAdmin},
    wit::{
        cluster::{ApplyOptions, Host as ClusterHost},
        image_versions::{Host as StoreHost, ImageVersion},
        types::{Error, Gvk, KubeconfigRef, ObjectRef, Target},
    },
};

struct Env {
    server: apiserver::Server,
    services: Arc<HostServices>,
}

impl Env {
    async fn start() -> Env {
        let server = apiserver::start(apiserver::ServerConfig::default())
            .await
            .expect("API server starts");
        let kcp = KcpAdmin::Config(Box::new(kube::Config::new(server.url().parse().expect("URL"))));
        let services = Arc::new(HostServices {
            clusters: Arc::new(Clusters::new(server.client(), server.client(), kcp)),
            image_versions: Arc::new(ImageVersionStore::new()),
            workspace_dir: std::env::temp_dir(),
        });
        Env { server, services }
    }

    fn call(&self, permissions: Permissions) -> HostCall {
        HostCall::new(
            self.services.clone(),
            "hostile".into(),
            "ns/obj".into(),
            Arc::new(permissions),
        )
    }
}

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

fn message(error: &Error) -> (&'static str, &str) {
    match error {
        Error::NotFound(m) => ("not-found", m),
        Error::AlreadyExists(m) => ("already-exists", m),
        Error::Forbidden(m) => ("forbidden", m),
        Error::Conflict(m) => ("conflict", m),
        Error::Invalid(m) => ("invalid", m),
        Error::Unavailable(m) => ("unavailable", m),
        Error::Other(m) => ("other", m),
    }
}

fn cm_gvk() -> Gvk {
    Gvk {
        group: String::new(),
        version: "v1".into(),
        kind: "ConfigMap".into(),
    }
}

fn apply_opts() -> ApplyOptions {
    ApplyOptions {
        field_manager: "hostile".into(),
        force: true,
    }
}

/// A kubeconfig for the embedded server with `user` as the user entry and `extra_cluster` in the cluster entry.
fn tenant_kubeconfig(server: &str, extra_cluster: &str, user: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {server}\n{extra_cluster}\
         users:\n- name: u\n  user:\n{user}contexts:\n- name: x\n  context: {{cluster: c, user: u}}\n\
         current-context: x\n"
    )
}

#[tokio::test]
async fn kubeconfigs_from_secrets_with_programs_or_files_are_refused_naming_the_field() {
    let env = Env::start().await;
    let tmp = tempfile::tempdir().expect("temp dir");
    let marker = tmp.path().join("exec-ran");
    let token = tmp.path().join("token");
    std::fs::write(&token, "OPERATOR-SA-TOKEN").expect("token file");
    let url = env.server.url().to_owned();
    let cases = [
        (
            "",
            format!(
                "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: /bin/sh\n      \
                 args: [-c, 'touch {}']\n",
                marker.display()
            ),
            "users[0].user.exec",
        ),
        (
            "",
            "    auth-provider:\n      name: gcp\n      config: {cmd-path: /bin/true}\n".to_owned(),
            "users[0].user.auth-provider",
        ),
        (
            "",
            format!("    tokenFile: {}\n", token.display()),
            "users[0].user.tokenFile",
        ),
        (
            "",
            "    client-certificate: /etc/hostname\n".to_owned(),
            "users[0].user.client-certificate",
        ),
        (
            "",
            "    client-key: /etc/hostname\n".to_owned(),
            "users[0].user.client-key",
        ),
        (
            "    certificate-authority: /etc/hostname\n",
            "    token: TENANT-TOKEN\n".to_owned(),
            "clusters[0].cluster.certificate-authority",
        ),
    ];
    let permissions = Permissions::new(vec![
        rule(&["runtime"], &[""], &["Secret"], &["get", "apply"], &[]),
        rule(&["remote"], &["*"], &["*"], &["get"], &[]),
    ]);
    let mut call = env.call(permissions);
    let remote = || {
        Target::Remote(KubeconfigRef {
            namespace: "default".into(),
            name: "tenant-kubeconfig".into(),
            key: "kubeconfig".into(),
        })
    };
    for (cluster, user, field) in cases {
        let secret = json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "tenant-kubeconfig", "namespace": "default"},
            "stringData": {"kubeconfig": tenant_kubeconfig(&url, cluster, &user)}});
        ClusterHost::apply(&mut call, Target::Runtime, secret.to_string(), apply_opts())
            .await
            .expect("Secret written");
        let object = ObjectRef {
            gvk: cm_gvk(),
            namespace: Some("default".into()),
            name: "x".into(),
        };
        let error = ClusterHost::get(&mut call, remote(), object)
            .await
            .expect_err(field);
        let (kind, text) = message(&error);
        assert_eq!(kind, "invalid", "{field}: {text}");
        assert!(text.contains(field), "{field}: {text}");
        for leaked in [
            "/bin/sh",
            "/etc/hostname",
            "OPERATOR-SA-TOKEN",
            "TENANT-TOKEN",
            "gcp",
        ] {
            assert!(!text.contains(leaked), "{field}: {text} echoes {leaked}");
        }
    }
    assert!(!marker.exists(), "the exec command never ran");

    // The same Secret with inline data only works.
    let inline = tenant_kubeconfig(&url, "", "    token: TENANT-TOKEN\n");
    let secret = json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "tenant-kubeconfig", "namespace": "default"}, "stringData": {"kubeconfig": inline}});
    ClusterHost::apply(&mut call, Target::Runtime, secret.to_string(), apply_opts())
        .await
        .expect("Secret written");
    let object = ObjectRef {
        gvk: cm_gvk(),
        namespace: Some("default".into()),
        name: "x".into(),
    };
    // The embedded server does not know the token: a 401 from the server, not a refusal.
    let error = ClusterHost::get(&mut call, remote(), object)
        .await
        .expect_err("unknown token");
    assert_eq!(message(&error).0, "forbidden", "{error:?}");
    env.server.shutdown().await;
}

#[tokio::test]
async fn a_cluster_scoped_apply_outside_a_namespaced_rule_is_denied() {
    let env = Env::start().await;
    let team_a = Permissions::new(vec![rule(
        &["runtime"],
        &["*"],
        &["*"],
        &["get", "apply"],
        &["default"],
    )]);
    let mut call = env.call(team_a);
    let binding = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": "take-over", "namespace": "default"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"kind": "ServiceAccount", "name": "plugin", "namespace": "default"}]});
    let before = env.server.requests().snapshot().changed_writes;
    let error = ClusterHost::apply(&mut call, Target::Runtime, binding.to_string(), apply_opts())
        .await
        .expect_err("a ClusterRoleBinding is cluster-scoped");
    assert_eq!(
        message(&error),
        (
            "forbidden",
            "plugin hostile: missing permission: apply ClusterRoleBinding (rbac.authorization.k8s.io) \
             cluster-wide on runtime"
        )
    );
    assert_eq!(
        env.server.requests().snapshot().changed_writes,
        before,
        "nothing written"
    );

    // In its namespace the rule still works, and a rule without namespaces allows the cluster-scoped object.
    let cm =
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ok", "namespace": "default"}});
    ClusterHost::apply(&mut call, Target::Runtime, cm.to_string(), apply_opts())
        .await
        .expect("namespaced apply in the rule's namespace");
    let mut cluster_wide = env.call(Permissions::new(vec![rule(
        &["runtime"],
        &["*"],
        &["*"],
        &["apply"],
        &[],
    )]));
    ClusterHost::apply(
        &mut cluster_wide,
        Target::Runtime,
        binding.to_string(),
        apply_opts(),
    )
    .await
    .expect("unrestricted rule");
    env.server.shutdown().await;
}

#[tokio::test]
async fn names_going_into_urls_are_checked_before_any_request() {
    let env = Env::start().await;
    let mut call = env.call(Permissions::permissive());
    let before = env.server.requests().snapshot();
    let get = |namespace: Option<&str>, name: &str| ObjectRef {
        gvk: cm_gvk(),
        namespace: namespace.map(str::to_owned),
        name: name.into(),
    };
    let cases = [
        (
            Target::Kcp("root/../../api/v1".into()),
            get(Some("default"), "x"),
            "kcp workspace path",
        ),
        (
            Target::Kcp("root:..".into()),
            get(Some("default"), "x"),
            "kcp workspace path",
        ),
        (
            Target::Runtime,
            get(Some("default"), "../../secrets/x"),
            "object name",
        ),
        (Target::Runtime, get(Some("default"), ".."), "object name"),
        (Target::Runtime, get(Some("default/secrets"), "x"), "namespace"),
        (Target::Runtime, get(Some("default"), "x?watch=1"), "object name"),
    ];
    for (target, object, what) in cases {
        let error = ClusterHost::get(&mut call, target, object).await.expect_err(what);
        let (kind, text) = message(&error);
        assert_eq!(kind, "invalid", "{text}");
        assert!(text.contains(what), "{text}");
    }
    let bad_kind = ObjectRef {
        gvk: Gvk {
            group: "../..".into(),
            version: "v1".into(),
            kind: "Secret".into(),
        },
        namespace: None,
        name: "x".into(),
    };
    assert_eq!(
        message(
            &ClusterHost::get(&mut call, Target::Runtime, bad_kind)
                .await
                .unwrap_err()
        )
        .0,
        "invalid"
    );
    assert_eq!(
        env.server.requests().snapshot().reads,
        before.reads,
        "no request reached the server"
    );
    env.server.shutdown().await;
}

#[tokio::test]
async fn list_results_are_bounded_in_bytes_and_read_in_pages() {
    let env = Env::start().await;
    let mut call = env.call(Permissions::permissive());
    let count = super::LIST_PAGE as usize + 20;
    for i in 0..count {
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": format!("cm-{i:03}"), "namespace": "default", "labels": {"set": "bound"}},
            "data": {"k": "v".repeat(100)}});
        ClusterHost::apply(&mut call, Target::Runtime, cm.to_string(), apply_opts())
            .await
            .expect("created");
    }
    let selector = Some("set=bound".to_owned());
    let list = |max| {
        call.list_within(
            crate::target::Target::Runtime,
            cm_gvk(),
            Some("default".into()),
            selector.clone(),
            max,
        )
    };
    let all = list(usize::MAX).await.expect("listed");
    assert_eq!(all.len(), count, "every page was read");
    let exact: usize = all.iter().map(String::len).sum();
    assert_eq!(list(exact).await.expect("exactly at the bound").len(), count);
    let error = list(exact - 1).await.expect_err("one byte over the bound");
    let (kind, text) = message(&error);
    assert_eq!(kind, "invalid");
    assert!(text.contains(&format!("more than {} bytes", exact - 1)), "{text}");
    let shipped = ClusterHost::list(
        &mut call,
        Target::Runtime,
        cm_gvk(),
        Some("default".into()),
        selector.clone(),
    )
    .await
    .expect("well under MAX_LIST_BYTES");
    assert_eq!(shipped.len(), count);
    env.server.shutdown().await;
}

#[tokio::test]
async fn image_versions_need_a_declared_permission() {
    let env = Env::start().await;
    let entry = || ImageVersion {
        path: "image.tag".into(),
        version: "1.2.3".into(),
    };
    let mut none = env.call(Permissions::new(vec![rule(
        &["runtime"],
        &["*"],
        &["*"],
        &["*"],
        &[],
    )]));
    let error = StoreHost::set(&mut none, "default".into(), "release".into(), entry())
        .await
        .expect_err("no image-versions rule");
    assert!(
        error
            .to_string()
            .contains("missing permission: set image-versions in namespace default"),
        "{error}"
    );
    assert!(
        StoreHost::get(&mut none, "default".into(), "release".into())
            .await
            .is_err()
    );
    assert!(
        StoreHost::set_unsuspended(&mut none, "default".into(), "release".into())
            .await
            .is_err()
    );
    assert!(
        StoreHost::is_unsuspended(&mut none, "default".into(), "release".into())
            .await
            .is_err()
    );
    assert!(env.services.image_versions.is_empty(), "nothing was stored");

    let store_rule: Rule = serde_json::from_value::<Value>(
        json!({"targets": ["image-versions"], "verbs": ["get", "set"], "namespaces": ["default"]}),
    )
    .and_then(serde_json::from_value)
    .expect("rule");
    store_rule.validate().expect("valid rule");
    let mut allowed = env.call(Permissions::new(vec![store_rule]));
    StoreHost::set(&mut allowed, "default".into(), "release".into(), entry())
        .await
        .expect("permitted");
    assert_eq!(
        StoreHost::get(&mut allowed, "default".into(), "release".into())
            .await
            .expect("permitted")[0]
            .version,
        "1.2.3"
    );
    assert!(
        StoreHost::set(&mut allowed, "other".into(), "release".into(), entry())
            .await
            .is_err(),
        "outside the rule's namespaces"
    );
    assert!(
        StoreHost::set(&mut allowed, "default".into(), "../x".into(), entry())
            .await
            .is_err(),
        "release names are Kubernetes names"
    );
    let oversized = ImageVersion {
        path: "p".repeat(super::image_versions::MAX_PATH_BYTES + 1),
        version: "1".into(),
    };
    assert!(
        StoreHost::set(&mut allowed, "default".into(), "release".into(), oversized)
            .await
            .is_err()
    );
    env.server.shutdown().await;
}

#[tokio::test]
async fn yaml_work_is_bounded_at_its_limit() {
    use crate::wit::templates::Host as _;

    let env = Env::start().await;
    let mut call = env.call(Permissions::default());
    let prefix = "a: ";
    let at = format!("{prefix}{}", "x".repeat(super::MAX_YAML_BYTES - prefix.len()));
    let parsed = call
        .parse_yaml("big".into(), at.clone())
        .await
        .expect("exactly at the bound");
    assert_eq!(
        parsed.len(),
        super::MAX_YAML_BYTES - prefix.len() + r#"{"a":""}"#.len()
    );
    let error = call
        .parse_yaml("big".into(), format!("{at}x"))
        .await
        .expect_err("one byte over");
    assert!(error.message.contains("larger than"), "{}", error.message);
    let json = format!("\"{}\"", "y".repeat(super::MAX_YAML_BYTES - 2));
    call.to_yaml(json.clone()).await.expect("exactly at the bound");
    assert!(call.to_yaml(format!("{json} ")).await.is_err(), "one byte over");
    env.server.shutdown().await;
}

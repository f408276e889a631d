//! The hostile-plugin matrix: `test_hostile` (plugins/testing/hostile) calls every host import with what a
//! malicious or broken plugin would pass — forbidden kinds, other namespaces, cluster-scoped kinds under a
//! namespaced rule, other clusters and kcp path tricks, names that look like URL paths, malformed and 100,000-deep
//! JSON, megabyte strings, huge lists, template and YAML bombs, path tricks for `render-dir`/`render-file`
//! (`..`, absolute, symlinks out of the workspace), pointers past the end of its memory and bytes that are not
//! UTF-8. The host answers each with an error (or a trap that ends only that call), never reaches an object the
//! plugin's rules do not grant, and keeps serving afterwards.
//!
//! The plugin runs against the embedded API server with narrow permissions: ConfigMaps in namespace `team-a` of
//! the runtime cluster, every kind in `team-a` of the infra cluster (the same server), ConfigMaps in kcp
//! workspaces matching `root:team-*`, and tokens of ServiceAccounts in `team-a`.

use std::{path::Path, sync::Arc, time::Duration};

use crate::plugin_support::test_plugin;
use kube::{
    Api,
    api::{DynamicObject, PostParams},
};
use platform_mesh_operator::{
    clusters::{Clusters, KcpAdmin},
    hostapi::{HostServices, ImageVersionStore, Permissions, Rule},
    lifecycle::{CallContext, Subroutine, Target},
    plugin::{PluginOptions, PluginRuntime, RuntimeConfig},
};
use serde_json::{Value, json};

struct Env {
    server: apiserver::Server,
    runtime: PluginRuntime,
    images: Arc<ImageVersionStore>,
    _workspace: tempfile::TempDir,
    _outside: tempfile::TempDir,
}

fn rule(targets: &[&str], groups: &[&str], kinds: &[&str], verbs: &[&str], namespaces: &[&str]) -> Rule {
    let owned = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect();
    Rule {
        targets: owned(targets),
        groups: owned(groups),
        kinds: owned(kinds),
        verbs: owned(verbs),
        namespaces: owned(namespaces),
    }
}

fn permissions() -> Permissions {
    let all = [
        "get",
        "list",
        "apply",
        "create",
        "update",
        "patch",
        "delete",
        "patch-status",
    ];
    Permissions::new(vec![
        rule(&["runtime"], &[""], &["ConfigMap"], &all, &["team-a"]),
        rule(&["infra"], &["*"], &["*"], &["get", "apply"], &["team-a"]),
        rule(&["kcp:root:team-*"], &[""], &["ConfigMap"], &["get"], &[]),
        rule(
            &["runtime"],
            &[""],
            &["ServiceAccount"],
            &["request-token"],
            &["team-a"],
        ),
    ])
}

async fn create(client: &kube::Client, object: Value) {
    let object: DynamicObject = serde_json::from_value(object).expect("object");
    let types = object.types.clone().expect("types");
    let (group, version) = types
        .api_version
        .split_once('/')
        .unwrap_or(("", &types.api_version));
    let resource =
        kube::api::ApiResource::from_gvk(&kube::api::GroupVersionKind::gvk(group, version, &types.kind));
    let api: Api<DynamicObject> = match object.metadata.namespace.as_deref() {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &resource),
        None => Api::all_with(client.clone(), &resource),
    };
    api.create(&PostParams::default(), &object)
        .await
        .expect("seed object is created");
}

/// Workspace with a template, a symlinked directory and a symlinked file that lead outside it.
fn workspace(outside: &Path) -> tempfile::TempDir {
    let workspace = tempfile::tempdir().expect("workspace");
    let templates = workspace.path().join("templates");
    std::fs::create_dir_all(&templates).expect("templates dir");
    std::fs::write(
        templates.join("ok.yaml"),
        "kind: ConfigMap\nmetadata:\n  name: {{ .name }}\n",
    )
    .expect("template");
    std::fs::write(outside.join("secret.yaml"), "leaked: {{ .name }}\n").expect("outside file");
    std::os::unix::fs::symlink(outside, templates.join("escape")).expect("dir symlink");
    std::os::unix::fs::symlink(outside.join("secret.yaml"), templates.join("link.yaml"))
        .expect("file symlink");
    workspace
}

async fn env() -> Env {
    let server = apiserver::start(apiserver::ServerConfig::default())
        .await
        .expect("API server starts");
    let client = server.client();
    for ns in ["team-a", "team-b"] {
        create(
            &client,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
        )
        .await;
    }
    create(
        &client,
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "visible", "namespace": "team-b"},
               "data": {"secret": "team-b data"}}),
    )
    .await;
    create(
        &client,
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds", "namespace": "team-a"},
               "stringData": {"password": "hunter2"}}),
    )
    .await;
    create(
        &client,
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "mine", "namespace": "team-a"},
               "data": {"k": "v"}}),
    )
    .await;
    create(
        &client,
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "robot", "namespace": "team-a"}}),
    )
    .await;
    let outside = tempfile::tempdir().expect("outside dir");
    let workspace = workspace(outside.path());
    let images = Arc::new(ImageVersionStore::new());
    let kcp = kube::Config::new(server.url().parse().expect("server URL"));
    let services = HostServices {
        clusters: Arc::new(Clusters::new(
            client.clone(),
            client,
            KcpAdmin::Config(Box::new(kcp)),
        )),
        image_versions: images.clone(),
        workspace_dir: workspace.path().to_owned(),
    };
    let mut config = RuntimeConfig::new(RuntimeConfig::test_plugins_dir(), workspace.path());
    config.call_timeout = Duration::from_secs(20);
    let runtime = PluginRuntime::new(config, services).expect("plugin runtime");
    Env {
        server,
        runtime,
        images,
        _workspace: workspace,
        _outside: outside,
    }
}

async fn hostile(env: &Env) -> Arc<dyn Subroutine> {
    let options = PluginOptions {
        permissions: permissions(),
        ..Default::default()
    };
    env.runtime
        .load_file_with(&test_plugin("test_hostile"), options)
        .await
        .expect("hostile plugin loads")
}

fn context(ops: Value) -> CallContext {
    CallContext {
        controller: "platformmesh".into(),
        object_target: Target::Runtime,
        object: json!({"apiVersion": "core.platform-mesh.io/v1alpha1", "kind": "PlatformMesh",
                       "metadata": {"name": "pm", "namespace": "team-a"}, "spec": {"ops": ops}}),
        operator_config: json!({}),
    }
}

/// Runs `ops` in one call and returns one result line per op.
async fn run(sub: &Arc<dyn Subroutine>, ops: &[Value]) -> Vec<String> {
    let done = sub
        .process(&context(Value::Array(ops.to_vec())))
        .await
        .unwrap_or_else(|f| panic!("the call itself fails: {}", f.message));
    let message = match done.outcome {
        platform_mesh_operator::lifecycle::Outcome::Ok { message, .. } => message.unwrap_or_default(),
        other => panic!("unexpected outcome {other:?}"),
    };
    serde_json::from_str(&message).expect("a JSON list of results")
}

/// Every result is an error of one of `kinds` (the text before the first `:`).
fn assert_errors(ops: &[Value], results: &[String], kinds: &[&str]) {
    assert_eq!(ops.len(), results.len());
    for (op, result) in ops.iter().zip(results) {
        let kind = result.split(':').next().unwrap_or_default();
        assert!(
            kinds.contains(&kind),
            "{op} answered {result:?}; expected one of {kinds:?}"
        );
    }
}

fn repeat(s: &str, times: u64) -> Value {
    json!({"repeat": s, "times": times})
}

fn cm(namespace: &str, name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "namespace": namespace, "name": name})
}

fn with(mut op: Value, extra: Value) -> Value {
    if let (Some(op), Some(extra)) = (op.as_object_mut(), extra.as_object()) {
        op.extend(extra.clone());
    }
    op
}

#[tokio::test]
async fn hostile_plugin_matrix() {
    let env = env().await;
    let sub = hostile(&env).await;

    // Baseline: what the rules grant works, so the refusals below are the host's decisions, not a broken setup.
    let granted = [
        with(cm("team-a", "mine"), json!({"op": "get", "target": "runtime"})),
        with(
            cm("team-a", ""),
            json!({"op": "list", "target": "runtime", "namespace": "team-a"}),
        ),
        json!({"op": "render-file", "path": "templates/ok.yaml", "vars": "{\"name\": \"x\"}"}),
    ];
    let results = run(&sub, &granted).await;
    assert!(
        results[0].starts_with("ok: ") && results[0] != "ok: none",
        "{results:?}"
    );
    assert!(results[1].starts_with("ok: 1 items"), "{results:?}");
    assert_eq!(results[2], "ok: 1 documents");

    // Forbidden kinds and other namespaces.
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "namespace": "team-a", "name": "creds"});
    let forbidden = [
        with(secret.clone(), json!({"op": "get", "target": "runtime"})),
        with(secret.clone(), json!({"op": "list", "target": "runtime"})),
        with(secret, json!({"op": "get", "target": "infra"})),
        with(cm("team-b", "visible"), json!({"op": "get", "target": "runtime"})),
        with(cm("team-b", ""), json!({"op": "list", "target": "runtime"})),
        json!({"op": "list", "target": "runtime", "apiVersion": "v1", "kind": "ConfigMap"}),
        with(
            cm("team-b", "visible"),
            json!({"op": "delete", "target": "runtime"}),
        ),
        with(
            cm("team-b", "visible"),
            json!({"op": "patch", "target": "runtime", "patch": "{\"data\":{}}"}),
        ),
        with(
            cm("team-b", "visible"),
            json!({"op": "patch-status", "target": "runtime", "patch": "{}"}),
        ),
        json!({"op": "apply", "target": "runtime", "object": json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "planted", "namespace": "team-b"}}).to_string()}),
        json!({"op": "create", "target": "runtime", "object": json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "planted", "namespace": "team-b"}}).to_string()}),
        json!({"op": "request-token", "target": "runtime", "namespace": "team-b", "name": "default"}),
        // A namespaced rule never grants cluster-scoped kinds, whatever metadata.namespace claims.
        json!({"op": "apply", "target": "infra", "object": json!({"apiVersion": "rbac.authorization.k8s.io/v1",
               "kind": "ClusterRoleBinding", "metadata": {"name": "pwn", "namespace": "team-a"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
               "subjects": [{"kind": "Group", "name": "system:authenticated", "apiGroup": "rbac.authorization.k8s.io"}]})
               .to_string()}),
        json!({"op": "get", "target": "infra", "apiVersion": "v1", "kind": "Namespace", "namespace": "team-a",
               "name": "team-b"}),
        // Other clusters: a workspace outside the glob, and a remote cluster through another team's Secret.
        with(cm("default", "x"), json!({"op": "get", "target": "kcp:root"})),
        with(
            cm("default", "x"),
            json!({"op": "get", "target": "kcp:root:platform-mesh-system"}),
        ),
        with(
            cm("team-a", "mine"),
            json!({"op": "get", "target": {"remote": ["team-b", "kubeconfig", "k"]}}),
        ),
    ];
    let results = run(&sub, &forbidden).await;
    assert_errors(&forbidden, &results, &["forbidden"]);

    // kcp paths and names that would be URL paths: refused, never a way to another cluster or namespace.
    let mut tricks = Vec::new();
    for path in [
        "root:team-a/../../api/v1/namespaces/team-b/configmaps/visible#",
        "root:team-a:..",
        "root:team-a/../root",
        "root:team-%2e%2e",
        "root:team-a?watch=true",
        "root:team-a:",
        "root:team-a:x y",
    ] {
        tricks.push(with(
            cm("team-b", "visible"),
            json!({"op": "get", "target": format!("kcp:{path}")}),
        ));
    }
    for name in [
        "../../team-b/configmaps/visible",
        "visible/..",
        "a/b",
        "..",
        "%2e%2e",
        "x?y=z",
    ] {
        tricks.push(with(
            cm("team-a", name),
            json!({"op": "get", "target": "runtime"}),
        ));
        tricks.push(with(
            cm("team-a", name),
            json!({"op": "delete", "target": "runtime"}),
        ));
    }
    let results = run(&sub, &tricks).await;
    assert_errors(&tricks, &results, &["forbidden", "invalid", "not-found"]);

    // Malformed, deep and huge input.
    let deep = |open: &str| json!({"repeat": open, "times": 100_000});
    let malformed = [
        json!({"op": "apply", "target": "runtime", "object": "{not json"}),
        json!({"op": "apply", "target": "runtime", "object": deep("[")}),
        json!({"op": "apply", "target": "runtime", "object": json!({"prefix": "{\"a\":", "repeat": "{\"a\":",
               "times": 100_000})}),
        json!({"op": "create", "target": "runtime", "object": "[]"}),
        json!({"op": "update", "target": "runtime", "object": "null"}),
        with(
            cm("team-a", "mine"),
            json!({"op": "patch", "target": "runtime", "patch": deep("[")}),
        ),
        with(
            cm("team-a", "mine"),
            json!({"op": "patch-status", "target": "runtime", "patch": "{\"status\":"}),
        ),
        // 8 MiB for another team's namespace: refused by the permission check, not sent.
        json!({"op": "apply", "target": "runtime", "object": json!({"prefix": "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"big\",\"namespace\":\"team-b\"},\"data\":{\"k\":\"",
               "repeat": "x", "times": 8 << 20, "suffix": "\"}}"})}),
        json!({"op": "request-token", "target": "runtime", "namespace": "team-a", "name": "robot",
               "seconds": i64::MAX}),
        json!({"op": "request-token", "target": "runtime", "namespace": "team-a", "name": "robot", "seconds": -1}),
        json!({"op": "list", "target": "runtime", "apiVersion": "v1", "kind": "ConfigMap", "namespace": "team-a",
               "selector": "a in (((("}),
        json!({"op": "list", "target": "runtime", "apiVersion": "v1", "kind": "ConfigMap", "namespace": "team-a",
               "selector": repeat("a=b,", 100_000)}),
    ];
    let results = run(&sub, &malformed).await;
    assert_errors(&malformed, &results, &["invalid", "forbidden", "other"]);

    // Templates and YAML: path tricks, bombs and deep input.
    let template_ops = [
        json!({"op": "render-dir", "path": "..", "vars": "{}"}),
        json!({"op": "render-dir", "path": "/etc", "vars": "{}"}),
        json!({"op": "render-dir", "path": "templates/escape", "vars": "{}"}),
        json!({"op": "render-file", "path": "../secret.yaml", "vars": "{}"}),
        json!({"op": "render-file", "path": "/etc/hostname", "vars": "{}"}),
        json!({"op": "render-file", "path": "templates/link.yaml", "vars": "{\"name\": \"x\"}"}),
        json!({"op": "render-file", "path": "templates/escape/secret.yaml", "vars": "{\"name\": \"x\"}"}),
        json!({"op": "render-file", "path": "templates/ok.yaml", "vars": deep("[")}),
        json!({"op": "render-file", "path": "templates/ok.yaml", "vars": "not json"}),
        json!({"op": "render-string", "text": json!({"prefix": "{{", "repeat": "(", "times": 10_000}), "vars": "{}"}),
        json!({"op": "render-string", "text": "{{ range $i := 100000000 }}{{ $i }}{{ end }}", "vars": "{}"}),
        json!({"op": "render-string", "text": repeat("{{ define \"x\" }}", 10_000), "vars": "{}"}),
        json!({"op": "parse-yaml", "text": deep("[")}),
        json!({"op": "parse-yaml", "text": deep("- ")}),
        json!({"op": "parse-yaml", "text": "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\ni: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n"}),
        json!({"op": "to-yaml", "json": deep("[")}),
        json!({"op": "to-yaml", "json": "{not json"}),
    ];
    let results = run(&sub, &template_ops).await;
    assert_errors(&template_ops, &results, &["render-error"]);

    // Image versions: a plugin without a rule for them changes and reads nothing; the call fails naming the
    // missing permission (the imports have no error result, so the host ends the call).
    for op in [
        json!({"op": "image-set", "namespace": "flux-system", "name": "platform-mesh", "path": "image.tag",
               "version": "evil", "count": 3}),
        json!({"op": "image-get", "namespace": "flux-system", "name": "platform-mesh"}),
    ] {
        let failure = sub.process(&context(json!([op]))).await.expect_err("refused");
        assert!(
            failure.message.contains("missing permission"),
            "{}",
            failure.message
        );
        assert_eq!(
            failure.message.matches("plugin test_hostile").count(),
            1,
            "the plugin is named once: {}",
            failure.message
        );
    }
    assert!(env.images.get("flux-system", "platform-mesh").is_empty());
    assert!(!env.images.is_unsuspended("flux-system", "platform-mesh"));

    // Logging megabytes and 100,000 fields is accepted and cut by the host, not a way to crash it.
    let logs = [json!({"op": "log", "message": repeat("m", 4 << 20), "value": "v", "fields": 100_000})];
    assert_eq!(run(&sub, &logs).await, ["ok: logged"]);

    // The canonical ABI itself: out-of-bounds pointers, invalid UTF-8 and a list of 2^31 - 1 entries trap in the
    // host's lifting; the call fails, naming the plugin, and the next call works.
    for raw in ["raw-log-oob", "raw-log-invalid-utf8", "raw-log-huge-list"] {
        let failure = sub.process(&context(json!([{"op": raw}]))).await.expect_err(raw);
        assert!(
            failure.message.starts_with("plugin test_hostile: "),
            "{raw}: {}",
            failure.message
        );
        let after = run(&sub, &granted[..1]).await;
        assert!(after[0].starts_with("ok: "), "after {raw}: {after:?}");
    }

    // Nothing the plugin was refused reached the API server.
    let client = env.server.client();
    let team_b: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::namespaced(client.clone(), "team-b");
    for refused in ["planted", "big"] {
        assert!(
            team_b.get_opt(refused).await.expect("read").is_none(),
            "{refused}"
        );
    }
    let visible = team_b.get("visible").await.expect("still there");
    assert_eq!(
        visible.data.and_then(|d| d.get("secret").cloned()).as_deref(),
        Some("team-b data")
    );
    let bindings: Api<k8s_openapi::api::rbac::v1::ClusterRoleBinding> = Api::all(client);
    assert!(bindings.get_opt("pwn").await.expect("read").is_none());
}

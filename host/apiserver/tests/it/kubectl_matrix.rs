//! The kubectl command matrix with the real kubectl (v1.35): every row runs against a plain cluster URL and a kcp
//! workspace URL (`/clusters/root:team`) and asserts what a user would see. Workload rows (Deployments, `get all`
//! listing them, cascading deletion of a Deployment) run on the cluster only: kcp serves no workloads.

use serde_json::Value;

use crate::clients::{Cli, Running, find};

const CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.io}
spec:
  group: example.io
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            description: What the widget should be.
            properties:
              size: {type: integer, minimum: 1, description: How big the widget is.}
          status: {type: object, x-kubernetes-preserve-unknown-fields: true}
"#;

fn configmap(name: &str, value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: demo}}\ndata: {{k: \"{value}\"}}\n"
    )
}

fn jsonpath(k: &Cli, what: &[&str], path: &str) -> String {
    let arg = format!("jsonpath={path}");
    let mut args = vec!["get"];
    args.extend_from_slice(what);
    args.extend_from_slice(&["-n", "demo", "-o", &arg]);
    k.ok(&args)
}

fn matrix(k: &Cli, kcp: bool) {
    // create: namespace, configmap, secret, serviceaccount, role, rolebinding (and a deployment on the cluster).
    assert_eq!(
        k.ok(&["create", "namespace", "demo"]).trim(),
        "namespace/demo created"
    );
    assert_eq!(
        k.ok(&["get", "ns", "demo", "-o", "jsonpath={.status.phase}"]),
        "Active"
    );
    k.ok(&["create", "configmap", "c", "-n", "demo", "--from-literal=a=b"]);
    assert_eq!(jsonpath(k, &["cm", "c"], "{.data.a}"), "b");
    k.ok(&[
        "create",
        "secret",
        "generic",
        "s",
        "-n",
        "demo",
        "--from-literal=p=q",
    ]);
    assert_eq!(jsonpath(k, &["secret", "s"], "{.data.p}"), "cQ==");
    k.ok(&["create", "serviceaccount", "bot", "-n", "demo"]);
    assert_eq!(
        k.ok(&["get", "sa", "bot", "-n", "demo", "-o", "name"]).trim(),
        "serviceaccount/bot"
    );
    k.ok(&[
        "create",
        "role",
        "read-cm",
        "-n",
        "demo",
        "--verb=get,list",
        "--resource=configmaps",
    ]);
    k.ok(&[
        "create",
        "rolebinding",
        "bot-read-cm",
        "-n",
        "demo",
        "--role=read-cm",
        "--serviceaccount=demo:bot",
    ]);
    assert_eq!(
        jsonpath(k, &["rolebinding", "bot-read-cm"], "{.subjects[0].name}"),
        "bot"
    );
    if !kcp {
        k.ok(&[
            "create",
            "deployment",
            "web",
            "-n",
            "demo",
            "--image=nginx",
            "--replicas=2",
        ]);
        assert_eq!(jsonpath(k, &["deploy", "web"], "{.spec.replicas}"), "2");
    }

    // client-side apply twice, then a change.
    let applied = configmap("applied", "1");
    assert_eq!(
        k.ok_in(&["apply", "-f", "-"], Some(&applied)).trim(),
        "configmap/applied created"
    );
    assert_eq!(
        k.ok_in(&["apply", "-f", "-"], Some(&applied)).trim(),
        "configmap/applied unchanged"
    );
    assert_eq!(
        k.ok_in(&["apply", "-f", "-"], Some(&configmap("applied", "2")))
            .trim(),
        "configmap/applied configured"
    );
    let last = jsonpath(
        k,
        &["cm", "applied"],
        "{.metadata.annotations.kubectl\\.kubernetes\\.io/last-applied-configuration}",
    );
    assert!(last.contains(r#""k":"2""#), "{last}");

    // server-side apply: a second manager conflicts until it forces.
    let ssa = |v: &str, manager: &str, force: bool| {
        let mut args = vec!["apply", "--server-side", "-f", "-"];
        let m = format!("--field-manager={manager}");
        args.push(&m);
        if force {
            args.push("--force-conflicts");
        }
        (
            args.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            configmap("ssa", v),
        )
    };
    let (args, body) = ssa("1", "alpha", false);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert!(k.ok_in(&args, Some(&body)).contains("serverside-applied"));
    let (args, body) = ssa("2", "beta", false);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let conflict = k.fails(&args, Some(&body));
    assert!(
        conflict.contains("conflict") && conflict.contains("alpha"),
        "{conflict}"
    );
    let (args, body) = ssa("2", "beta", true);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    k.ok_in(&args, Some(&body));
    assert_eq!(jsonpath(k, &["cm", "ssa"], "{.data.k}"), "2");

    // patches of every type.
    k.ok(&[
        "patch",
        "cm",
        "c",
        "-n",
        "demo",
        "--type=strategic",
        "-p",
        r#"{"data":{"s":"1"}}"#,
    ]);
    assert_eq!(jsonpath(k, &["cm", "c"], "{.data.a},{.data.s}"), "b,1");
    k.ok(&[
        "patch",
        "cm",
        "c",
        "-n",
        "demo",
        "--type=merge",
        "-p",
        r#"{"metadata":{"labels":{"m":"1"}}}"#,
    ]);
    assert_eq!(jsonpath(k, &["cm", "c"], "{.metadata.labels.m}"), "1");
    k.ok(&[
        "patch",
        "cm",
        "c",
        "-n",
        "demo",
        "--type=json",
        "-p",
        r#"[{"op":"replace","path":"/data/a","value":"z"}]"#,
    ]);
    assert_eq!(jsonpath(k, &["cm", "c"], "{.data.a}"), "z");
    if !kcp {
        let image =
            r#"{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.27"}]}}}}"#;
        k.ok(&["patch", "deploy", "web", "-n", "demo", "-p", image]);
        assert_eq!(
            jsonpath(k, &["deploy", "web"], "{.spec.template.spec.containers[0].image}"),
            "nginx:1.27"
        );
    }

    if !kcp {
        // client-side apply of a built-in kind sends a strategic merge patch: one container changes, the other stays.
        let api = |image: &str| {
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: api, namespace: demo}}\nspec:\n  \
                 selector: {{matchLabels: {{app: api}}}}\n  template:\n    metadata: {{labels: {{app: api}}}}\n    \
                 spec:\n      containers:\n      - {{name: app, image: \"{image}\", ports: [{{containerPort: 80}}]}}\n      \
                 - {{name: sidecar, image: \"side:1\"}}\n"
            )
        };
        k.ok_in(&["apply", "-f", "-"], Some(&api("app:1")));
        k.ok_in(&["apply", "-f", "-"], Some(&api("app:2")));
        let images = jsonpath(k, &["deploy", "api"], "{.spec.template.spec.containers[*].image}");
        assert_eq!(images, "app:2 side:1");
        let port = jsonpath(
            k,
            &["deploy", "api"],
            "{.spec.template.spec.containers[0].ports[0].containerPort}",
        );
        assert_eq!(port, "80");
    }

    // label and annotate.
    k.ok(&["label", "cm", "c", "-n", "demo", "tier=web"]);
    k.ok(&["annotate", "cm", "c", "-n", "demo", "note=hi"]);
    assert_eq!(
        jsonpath(
            k,
            &["cm", "c"],
            "{.metadata.labels.tier},{.metadata.annotations.note}"
        ),
        "web,hi"
    );
    k.ok(&["label", "cm", "c", "-n", "demo", "tier-"]);
    assert_eq!(jsonpath(k, &["cm", "c"], "{.metadata.labels.tier}"), "");

    // get in every output format.
    assert!(
        k.ok(&["get", "cm", "c", "-n", "demo", "-o", "yaml"])
            .contains("kind: ConfigMap")
    );
    let json: Value = serde_json::from_str(&k.ok(&["get", "cm", "c", "-n", "demo", "-o", "json"])).unwrap();
    assert_eq!(json["data"]["s"], "1");
    let wide = k.ok(&["get", "cm", "-n", "demo", "-o", "wide"]);
    assert!(
        wide.starts_with("NAME") && wide.lines().any(|l| l.starts_with("c ")),
        "{wide}"
    );
    let cols = k.ok(&[
        "get",
        "cm",
        "c",
        "-n",
        "demo",
        "-o",
        "custom-columns=NAME:.metadata.name,A:.data.a",
    ]);
    let row: Vec<&str> = cols
        .lines()
        .nth(1)
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(row, ["c", "z"], "{cols}");
    if kcp {
        // kcp serves no workloads, so no kind is in the `all` category, as with a real kcp.
        let all = k.fails(&["get", "all", "-n", "demo"], None);
        assert!(all.contains("doesn't have a resource type \"all\""), "{all}");
    } else {
        let all = k.ok(&["get", "all", "-n", "demo"]);
        assert!(all.contains("deployment.apps/web"), "{all}");
    }

    // describe shows the Events written through events.k8s.io/v1; `get events` lists them.
    let uid = jsonpath(k, &["cm", "c"], "{.metadata.uid}");
    let event = format!(
        "apiVersion: events.k8s.io/v1\nkind: Event\nmetadata: {{name: c.1, namespace: demo}}\n\
         eventTime: \"2026-01-01T00:00:00.000000Z\"\nreportingController: example.io/controller\n\
         reportingInstance: controller-1\naction: Reconcile\nreason: Configured\ntype: Normal\n\
         note: configured by the controller\n\
         regarding: {{apiVersion: v1, kind: ConfigMap, name: c, namespace: demo, uid: {uid}}}\n"
    );
    k.ok_in(&["create", "-f", "-"], Some(&event));
    let described = k.ok(&["describe", "cm", "c", "-n", "demo"]);
    assert!(
        described.contains("Configured") && described.contains("configured by the controller"),
        "{described}"
    );
    assert!(
        k.ok(&["get", "events", "-n", "demo"])
            .contains("configured by the controller")
    );

    // explain and wait on a CRD.
    k.ok_in(&["apply", "--server-side", "-f", "-"], Some(CRD));
    let builtin = k.ok(&["explain", "configmaps.data"]);
    assert!(
        builtin.contains("KIND:") && builtin.contains("ConfigMap") && builtin.contains("FIELD: data"),
        "{builtin}"
    );
    if !kcp {
        let replicas = k.ok(&["explain", "deployment.spec.replicas"]);
        assert!(replicas.contains("<integer>"), "{replicas}");
    }
    let explained = k.ok(&["explain", "widgets.spec"]);
    assert!(
        explained.contains("size") && explained.contains("How big the widget is"),
        "{explained}"
    );
    let widget =
        "apiVersion: example.io/v1\nkind: Widget\nmetadata: {name: w1, namespace: demo}\nspec: {size: 2}\n";
    k.ok_in(&["create", "-f", "-"], Some(widget));
    let ready =
        r#"{"status":{"conditions":[{"type":"Ready","status":"True","reason":"Done","message":"ok"}]}}"#;
    k.ok(&[
        "patch",
        "widget",
        "w1",
        "-n",
        "demo",
        "--subresource=status",
        "--type=merge",
        "-p",
        ready,
    ]);
    let waited = k.ok(&[
        "wait",
        "--for=condition=Ready",
        "widget/w1",
        "-n",
        "demo",
        "--timeout=10s",
    ]);
    assert!(waited.contains("condition met"), "{waited}");

    // auth can-i, for the admin and impersonating the ServiceAccount.
    assert_eq!(
        k.ok(&["auth", "can-i", "create", "configmaps", "-n", "demo"])
            .trim(),
        "yes"
    );
    let bot = "--as=system:serviceaccount:demo:bot";
    assert_eq!(
        k.ok(&["auth", "can-i", "list", "configmaps", "-n", "demo", bot])
            .trim(),
        "yes"
    );
    let denied = k.run(&["auth", "can-i", "delete", "secrets", "-n", "demo", bot], None);
    assert_eq!(String::from_utf8_lossy(&denied.stdout).trim(), "no");
    assert!(!denied.status.success(), "a denied can-i exits non-zero");
    let listed = k.ok(&["auth", "can-i", "--list", "-n", "demo", bot]);
    assert!(listed.contains("configmaps"), "{listed}");

    // api-resources and diff.
    let resources = k.ok(&["api-resources"]);
    assert!(
        resources.contains("configmaps") && resources.contains("widgets"),
        "{resources}"
    );
    let reviews = k.ok(&["api-resources", "--api-group=authorization.k8s.io", "-o", "name"]);
    assert!(
        reviews.contains("selfsubjectaccessreviews.authorization.k8s.io"),
        "{reviews}"
    );
    let diff = k.run(&["diff", "-f", "-"], Some(&configmap("applied", "3")));
    let diff_text = String::from_utf8_lossy(&diff.stdout);
    assert_eq!(
        diff.status.code(),
        Some(1),
        "a difference exits 1: {diff_text}{}",
        String::from_utf8_lossy(&diff.stderr)
    );
    assert!(
        diff_text.contains("-  k: \"2\"") && diff_text.contains("+  k: \"3\""),
        "{diff_text}"
    );
    assert_eq!(
        jsonpath(k, &["cm", "applied"], "{.data.k}"),
        "2",
        "diff changes nothing"
    );

    // delete with a cascade policy.
    if kcp {
        k.ok(&["delete", "cm", "c", "-n", "demo", "--cascade=orphan"]);
        assert!(
            k.fails(&["get", "cm", "c", "-n", "demo"], None)
                .contains("NotFound")
        );
    } else {
        k.ok(&[
            "delete",
            "deploy",
            "web",
            "-n",
            "demo",
            "--cascade=foreground",
            "--timeout=10s",
        ]);
        assert!(
            k.fails(&["get", "deploy", "web", "-n", "demo"], None)
                .contains("NotFound")
        );
    }
}

#[test]
fn kubectl_matrix_against_a_cluster_url() {
    let Some(bin) = find("kubectl", "kubectl_matrix_against_a_cluster_url") else {
        return;
    };
    let running = Running::start();
    let kubeconfig = running.kubeconfig("cluster", &running.url());
    matrix(&Cli::new(&bin, &kubeconfig, running.dir.path()), false);
}

#[test]
fn kubectl_matrix_against_a_kcp_workspace_url() {
    let Some(bin) = find("kubectl", "kubectl_matrix_against_a_kcp_workspace_url") else {
        return;
    };
    let running = Running::start();
    let kubeconfig = running.kubeconfig("kcp", &format!("{}/clusters/root:team", running.url()));
    matrix(&Cli::new(&bin, &kubeconfig, running.dir.path()), true);
}

//! The project's chart with the real Helm (v4): `lint` and `template` of `deploy/chart`, then `install` into the
//! embedded server (Helm stores releases as protobuf Secrets), `upgrade` with a changed value, `history` and
//! `uninstall`.

use std::path::PathBuf;

use crate::clients::{Cli, Running, find};

fn chart() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../deploy/chart")
        .display()
        .to_string()
}

#[test]
fn helm_lints_renders_installs_upgrades_and_uninstalls_the_chart() {
    let (Some(helm), Some(kubectl)) = (
        find(
            "helm",
            "helm_lints_renders_installs_upgrades_and_uninstalls_the_chart",
        ),
        find(
            "kubectl",
            "helm_lints_renders_installs_upgrades_and_uninstalls_the_chart",
        ),
    ) else {
        return;
    };
    let running = Running::start();
    let kubeconfig = running.kubeconfig("cluster", &running.url());
    let helm = Cli::new(&helm, &kubeconfig, running.dir.path());
    let k = Cli::new(&kubectl, &kubeconfig, running.dir.path());
    let chart = chart();

    let lint = helm.ok(&["lint", &chart]);
    assert!(lint.contains("1 chart(s) linted, 0 chart(s) failed"), "{lint}");
    let rendered = helm.ok(&["template", "pmo", &chart, "-n", "pmo"]);
    for kind in [
        "Deployment",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "ConfigMap",
    ] {
        assert!(
            rendered.contains(&format!("kind: {kind}\n")),
            "helm template renders a {kind}"
        );
    }

    let installed = helm.ok(&["install", "pmo", &chart, "-n", "pmo", "--create-namespace"]);
    assert!(installed.contains("STATUS: deployed"), "{installed}");
    let get = |args: &[&str]| k.ok(args).trim().to_string();
    assert_eq!(
        get(&[
            "get",
            "deploy",
            "pmo",
            "-n",
            "pmo",
            "-o",
            "jsonpath={.spec.replicas}"
        ]),
        "2"
    );
    assert_eq!(
        get(&["get", "sa", "pmo", "-n", "pmo", "-o", "name"]),
        "serviceaccount/pmo"
    );
    let crds = get(&["get", "crd", "-o", "name"]);
    assert!(crds.contains("platformmeshes.core.platform-mesh.io"), "{crds}");
    assert_eq!(
        get(&[
            "get",
            "secret",
            "sh.helm.release.v1.pmo.v1",
            "-n",
            "pmo",
            "-o",
            "jsonpath={.type}"
        ]),
        "helm.sh/release.v1"
    );

    let upgraded = helm.ok(&["upgrade", "pmo", &chart, "-n", "pmo", "--set", "replicaCount=3"]);
    assert!(upgraded.contains("REVISION: 2"), "{upgraded}");
    assert_eq!(
        get(&[
            "get",
            "deploy",
            "pmo",
            "-n",
            "pmo",
            "-o",
            "jsonpath={.spec.replicas}"
        ]),
        "3"
    );
    let history = helm.ok(&["history", "pmo", "-n", "pmo"]);
    assert!(
        history.contains("superseded") && history.contains("Upgrade complete"),
        "{history}"
    );

    helm.ok(&["uninstall", "pmo", "-n", "pmo"]);
    assert!(
        k.fails(&["get", "deploy", "pmo", "-n", "pmo"], None)
            .contains("NotFound")
    );
    assert_eq!(
        get(&["get", "secrets", "-n", "pmo", "-o", "name"]),
        "",
        "release records are gone"
    );
    assert!(helm.ok(&["list", "-A", "-q"]).trim().is_empty());
    let kept = get(&["get", "crd", "-o", "name"]);
    assert!(
        kept.contains("platformmeshes.core.platform-mesh.io"),
        "Helm keeps CRDs on uninstall: {kept}"
    );
}

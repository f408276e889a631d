//! The Helm chart (`deploy/chart/`), rendered with the project's Go-template engine in place of `helm template`:
//! the objects are well-formed, the RBAC is least-privilege, every flag has a value, the CRDs and the plugin
//! configuration are the generated ones. (`tests/alone/chart_install.rs` installs the rendered chart and runs the
//! operator from it.)

use std::collections::BTreeSet;

use anyhow::{Context as _, bail, ensure};
use clap::{CommandFactory, Parser};
use e2e::chart::{self as chart_support, NAMESPACE, RELEASE, deployment_args, str_at};
use platform_mesh_operator::cli::{Cli, Command};
use serde_json::{Value, json};

/// Kinds the chart may render, with their API versions and whether they are namespaced.
const KINDS: [(&str, &str, bool); 9] = [
    ("v1", "ServiceAccount", true),
    ("networking.k8s.io/v1", "NetworkPolicy", true),
    ("v1", "ConfigMap", true),
    ("v1", "Service", true),
    ("apps/v1", "Deployment", true),
    ("rbac.authorization.k8s.io/v1", "ClusterRole", false),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", false),
    ("rbac.authorization.k8s.io/v1", "Role", true),
    ("rbac.authorization.k8s.io/v1", "RoleBinding", true),
];

const VERBS: [&str; 8] = [
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
];

/// Schema checks of one rendered object: what the API server would reject, plus the chart's own promises.
fn validate(file: &str, object: &Value) -> anyhow::Result<()> {
    let (api_version, kind) = (str_at(object, "/apiVersion"), str_at(object, "/kind"));
    let Some(&(_, _, namespaced)) = KINDS.iter().find(|(v, k, _)| *v == api_version && *k == kind) else {
        bail!("{file}: unexpected {api_version} {kind}");
    };
    ensure!(
        !str_at(object, "/metadata/name").is_empty(),
        "{file}: {kind} without metadata.name"
    );
    let namespace = str_at(object, "/metadata/namespace");
    ensure!(
        namespace == if namespaced { NAMESPACE } else { "" },
        "{file}: {kind} in namespace {namespace:?}"
    );
    match kind {
        "Deployment" => validate_deployment(file, object),
        "ClusterRole" | "Role" => {
            let rules = object["rules"].as_array().context("rules")?;
            ensure!(!rules.is_empty(), "{file}: no rules");
            for rule in rules {
                for field in ["apiGroups", "resources", "verbs"] {
                    let list = rule[field]
                        .as_array()
                        .with_context(|| format!("{file}: rule without {field}"))?;
                    ensure!(!list.is_empty(), "{file}: empty {field} in {rule}");
                    ensure!(
                        list.iter().all(|v| v.as_str().is_some_and(|s| s != "*")),
                        "{file}: wildcard {field} in {rule} — the role must be least-privilege"
                    );
                }
                for verb in rule["verbs"].as_array().into_iter().flatten() {
                    ensure!(
                        VERBS.contains(&verb.as_str().unwrap_or_default()),
                        "{file}: verb {verb}"
                    );
                }
            }
            Ok(())
        }
        "ClusterRoleBinding" | "RoleBinding" => {
            ensure!(
                !str_at(object, "/roleRef/name").is_empty(),
                "{file}: roleRef.name"
            );
            ensure!(
                object["subjects"].as_array().is_some_and(|s| !s.is_empty()),
                "{file}: subjects"
            );
            Ok(())
        }
        "ConfigMap" => {
            ensure!(
                object["data"]
                    .as_object()
                    .is_some_and(|d| d.values().all(Value::is_string))
            );
            Ok(())
        }
        _ => Ok(()),
    }
}

fn validate_deployment(file: &str, deployment: &Value) -> anyhow::Result<()> {
    let selector = &deployment["spec"]["selector"]["matchLabels"];
    let labels = &deployment["spec"]["template"]["metadata"]["labels"];
    for (key, value) in selector.as_object().context("spec.selector.matchLabels")? {
        ensure!(
            &labels[key] == value,
            "{file}: the selector does not match the pod labels"
        );
    }
    let pod = &deployment["spec"]["template"]["spec"];
    ensure!(
        pod["securityContext"]["runAsNonRoot"] == json!(true),
        "{file}: runAsNonRoot"
    );
    let container = &pod["containers"][0];
    ensure!(
        str_at(container, "/image").contains(':'),
        "{file}: image with a tag"
    );
    let security = &container["securityContext"];
    ensure!(
        security["allowPrivilegeEscalation"] == json!(false),
        "{file}: allowPrivilegeEscalation"
    );
    ensure!(
        security["readOnlyRootFilesystem"] == json!(true),
        "{file}: readOnlyRootFilesystem"
    );
    ensure!(
        security["capabilities"]["drop"] == json!(["ALL"]),
        "{file}: capabilities"
    );
    ensure!(
        str_at(container, "/livenessProbe/httpGet/path") == "/healthz",
        "{file}: liveness probe"
    );
    ensure!(
        str_at(container, "/readinessProbe/httpGet/path") == "/readyz",
        "{file}: readiness probe"
    );
    let env = container["env"].as_array().context("env")?;
    ensure!(
        env.iter().any(|e| e["name"] == "POD_NAMESPACE"
            && e["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"),
        "{file}: POD_NAMESPACE for the leader election Lease"
    );
    ensure!(
        env.iter().any(
            |e| e["name"] == "PMO_POD_NAME" && e["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
        ),
        "{file}: PMO_POD_NAME for the istio sidecar check of the operator's own pod"
    );
    Ok(())
}

/// The rendered object of `kind` named `name`.
fn object<'a>(objects: &'a [(String, Value)], kind: &str, name: &str) -> anyhow::Result<&'a Value> {
    objects
        .iter()
        .map(|(_, o)| o)
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .with_context(|| format!("the chart renders {kind} {name}"))
}

#[test]
fn network_policy_admits_only_scrapes_and_probes() -> anyhow::Result<()> {
    let objects = chart_support::render(&chart_support::default_values()?, RELEASE, NAMESPACE)?;
    let policy = object(&objects, "NetworkPolicy", RELEASE)?;
    let deployment = object(&objects, "Deployment", RELEASE)?;
    ensure!(
        policy["spec"]["podSelector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"],
        "the policy selects the operator's pods: {}",
        policy["spec"]["podSelector"]
    );
    ensure!(policy["spec"]["policyTypes"] == json!(["Ingress"]));
    let ports: Vec<&Value> = policy["spec"]["ingress"]
        .as_array()
        .context("ingress rules")?
        .iter()
        .flat_map(|rule| rule["ports"].as_array().into_iter().flatten())
        .collect();
    ensure!(
        ports
            == [
                &json!({"protocol": "TCP", "port": 9090}),
                &json!({"protocol": "TCP", "port": 8090})
            ],
        "only the metrics and health ports: {ports:?}"
    );

    // Scrapers narrowed by values; the probe port keeps admitting the kubelet from any address.
    let mut values = chart_support::default_values()?;
    let prometheus =
        json!({"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}});
    values["networkPolicy"]["metricsFrom"] = json!([prometheus]);
    let narrowed = chart_support::render(&values, RELEASE, NAMESPACE)?;
    let policy = object(&narrowed, "NetworkPolicy", RELEASE)?;
    ensure!(
        policy["spec"]["ingress"][0]["from"] == json!([prometheus]),
        "{}",
        policy["spec"]
    );
    ensure!(
        policy["spec"]["ingress"][1].get("from").is_none(),
        "{}",
        policy["spec"]
    );

    values["networkPolicy"]["enabled"] = json!(false);
    let without = chart_support::render(&values, RELEASE, NAMESPACE)?;
    ensure!(without.iter().all(|(_, o)| o["kind"] != "NetworkPolicy"));
    Ok(())
}

#[test]
fn managed_provider_admin_role_is_for_platform_admins_only() -> anyhow::Result<()> {
    let objects = chart_support::render(&chart_support::default_values()?, RELEASE, NAMESPACE)?;
    let role = object(
        &objects,
        "ClusterRole",
        &format!("{RELEASE}-managedprovider-admin"),
    )?;
    let labels = role["metadata"]["labels"].as_object().context("labels")?;
    ensure!(labels.get("platform-mesh.io/aggregate-to-platform-admin") == Some(&json!("true")));
    ensure!(
        labels
            .keys()
            .all(|k| !k.starts_with("rbac.authorization.k8s.io/aggregate-to-")),
        "never aggregated into the built-in view/edit/admin roles: {labels:?}"
    );
    ensure!(
        role["rules"][0]
            == json!({"apiGroups": ["providers.platform-mesh.io"], "resources": ["managedproviders"],
                                   "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]}),
        "{}",
        role["rules"]
    );
    // Nothing in the chart binds it: platform admins are the installer's to name.
    ensure!(
        objects
            .iter()
            .all(|(_, o)| o["roleRef"]["name"] != role["metadata"]["name"])
    );
    let mut values = chart_support::default_values()?;
    values["rbac"]["platformAdminRole"] = json!(false);
    let without = chart_support::render(&values, RELEASE, NAMESPACE)?;
    ensure!(
        without
            .iter()
            .all(|(_, o)| o["metadata"]["name"] != role["metadata"]["name"])
    );
    Ok(())
}

#[test]
fn rendered_objects_are_valid_and_least_privilege() -> anyhow::Result<()> {
    let objects = chart_support::render(&chart_support::default_values()?, RELEASE, NAMESPACE)?;
    let kinds: BTreeSet<&str> = objects
        .iter()
        .map(|(_, o)| o["kind"].as_str().unwrap_or(""))
        .collect();
    println!("rendered {} objects: {kinds:?}", objects.len());
    for (file, object) in &objects {
        validate(file, object)?;
    }
    ensure!(
        kinds.len() == KINDS.len(),
        "every kind is rendered with the default values: {kinds:?}"
    );

    // rbac.extraRules (kinds named in spec.wait.resourceTypes) are appended to the ClusterRole as given.
    let mut values = chart_support::default_values()?;
    let extra =
        json!({"apiGroups": ["argoproj.io"], "resources": ["applications"], "verbs": ["get", "list"]});
    values["rbac"]["extraRules"] = json!([extra]);
    let extended = chart_support::render(&values, RELEASE, NAMESPACE)?;
    let (file, role) = extended
        .iter()
        .find(|(_, o)| o["kind"] == "ClusterRole")
        .context("a ClusterRole")?;
    validate(file, role)?;
    ensure!(
        role["rules"].as_array().and_then(|r| r.last()) == Some(&extra),
        "rbac.extraRules is not appended to the ClusterRole: {}",
        role["rules"]
    );

    // The Deployment's arguments are a valid command line of the binary.
    let args = deployment_args(&objects)?;
    let cli = Cli::try_parse_from(std::iter::once("platform-mesh-operator".to_owned()).chain(args.clone()))
        .with_context(|| format!("parsing the Deployment's args {args:?}"))?;
    let Command::Run(run) = cli.command else {
        bail!("the Deployment does not run `run`")
    };
    assert!(
        run.config.common.leader_elect,
        "two replicas need leader election"
    );
    assert_eq!(
        run.config.plugins.plugin_config,
        format!("{NAMESPACE}/{RELEASE}-plugins")
    );
    assert_eq!(run.config.common.metrics_bind_address, ":9090");
    assert_eq!(run.config.common.health_probe_bind_address, ":8090");
    Ok(())
}

#[test]
fn every_flag_has_a_value_and_the_data_is_the_generated_one() -> anyhow::Result<()> {
    let values = chart_support::default_values()?;
    let in_values: BTreeSet<String> = values["flags"]
        .as_object()
        .context("flags")?
        .keys()
        .cloned()
        .collect();
    let derived = [
        "metrics-bind-address",
        "health-probe-bind-address",
        "plugin-config",
        "plugin-cache-dir",
        // From the downward API (PMO_POD_NAME, PMO_POD_NAMESPACE).
        "pod-name",
        "pod-namespace",
    ];
    let embedded_only = ["embedded", "serve", "timeout", "verbose"];
    let command = Cli::command();
    let run = command.find_subcommand("run").context("`run`")?;
    let flags: BTreeSet<String> = run
        .get_arguments()
        .filter_map(|a| a.get_long())
        .filter(|l| !["help", "version"].contains(l) && !embedded_only.contains(l) && !derived.contains(l))
        .map(str::to_owned)
        .collect();
    assert_eq!(
        in_values, flags,
        "values.yaml `flags` must list exactly the flags of `run`"
    );
    // Defaults equal the binary's: an empty command line and the values' flags parse to the same config.
    let from_values: Vec<String> = values["flags"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("--{k}={v}"))
        .collect();
    let parse = |extra: Vec<String>| -> anyhow::Result<_> {
        let argv = ["platform-mesh-operator", "run"]
            .into_iter()
            .map(str::to_owned)
            .chain(extra);
        match Cli::try_parse_from(argv)?.command {
            Command::Run(run) => Ok(run.config),
            _ => bail!("not run"),
        }
    };
    let mut defaults = parse(Vec::new())?;
    let mut charted = parse(from_values)?;
    // Deliberate differences of the chart: leader election on, the image's layout.
    defaults.common.leader_elect = true;
    defaults.workspace_dir = charted.workspace_dir.clone();
    defaults.plugins.plugins_dir = charted.plugins.plugins_dir.clone();
    charted.plugins.plugins_dir = defaults.plugins.plugins_dir.clone();
    assert_eq!(charted, defaults, "values.yaml defaults differ from the binary's");

    // The plugin configuration is the built-in default one.
    let plugins_yaml =
        std::fs::read_to_string(chart_support::chart_dir().join("../plugin-config/plugins.yaml"))?;
    if std::env::var_os("PMO_UPDATE_CHART").is_some() {
        chart_support::refresh_plugin_config(&plugins_yaml)?;
        chart_support::refresh_crds()?;
        return Ok(());
    }
    let builtin: Value = serde_norway::from_str(&plugins_yaml)?;
    assert!(
        values["pluginConfig"]["config"] == builtin,
        "values.yaml pluginConfig.config differs from deploy/plugin-config/plugins.yaml; refresh it with \
         `PMO_UPDATE_CHART=1 cargo test -p e2e --test e2e -- chart`"
    );

    // The chart's CRDs are the generated ones (deploy/crds/, checked against the Rust types by crds.rs).
    for (file, crd) in chart_support::crds()? {
        let generated = chart_support::chart_dir().join("../crds").join(&file);
        let generated = chart_support::documents(&file, &std::fs::read_to_string(generated)?)?;
        assert!(
            generated == vec![crd],
            "deploy/chart/crds/{file} differs from deploy/crds/{file}; refresh it with \
             `PMO_UPDATE_CHART=1 cargo test -p e2e --test e2e -- chart`"
        );
    }
    Ok(())
}

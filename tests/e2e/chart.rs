//! The Helm chart (`deploy/chart/`), rendered with the project's Go-template engine in place of `helm template`:
//! the objects are well-formed, the RBAC is least-privilege, every flag has a value, the CRDs and the plugin
//! configuration are the generated ones; then the rendered objects are installed into the embedded API server and
//! the operator runs from the Deployment's arguments — leader election on, plugins from the chart's ConfigMap —
//! as the chart's ServiceAccount (a TokenRequest token; the embedded server enforces the installed RBAC) until
//! the sample PlatformMesh is Ready. Every denied request names a rule the chart lacks.

mod chart_support;

use std::{
    collections::{BTreeMap, BTreeSet},
    path::PathBuf,
    time::Duration,
};

use anyhow::{Context as _, bail, ensure};
use apiserver::{ServerConfig, sim::SimConfig};
use clap::{CommandFactory, Parser};
use kube::{
    Api,
    api::{DynamicObject, ListParams},
    core::ApiResource,
};
use platform_mesh_operator::{
    cli::{Cli, Command},
    clusters::KcpAdmin,
    config::default_plugins_dir,
    controller::{
        ProgressSink,
        leader::{LeaderElector, LeaseSettings},
        operator::{self, OperatorClients},
    },
    embedded, metrics,
};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const RELEASE: &str = "pmo";
const NAMESPACE: &str = "platform-mesh-system";

/// Kinds the chart may render, with their API versions and whether they are namespaced.
const KINDS: [(&str, &str, bool); 8] = [
    ("v1", "ServiceAccount", true),
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

fn str_at<'a>(object: &'a Value, pointer: &str) -> &'a str {
    object
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

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

fn deployment_args(objects: &[(String, Value)]) -> anyhow::Result<Vec<String>> {
    let (_, deployment) = objects
        .iter()
        .find(|(_, o)| o["kind"] == "Deployment")
        .context("the chart renders a Deployment")?;
    let args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
        .as_array()
        .context("container args")?;
    Ok(args
        .iter()
        .map(|a| a.as_str().unwrap_or_default().to_owned())
        .collect())
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
    let embedded_only = ["embedded", "serve", "timeout"];
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
         `PMO_UPDATE_CHART=1 cargo test -p e2e --test chart`"
    );

    // The chart's CRDs are the generated ones (deploy/crds/, checked against the Rust types by crds.rs).
    for (file, crd) in chart_support::crds()? {
        let generated = chart_support::chart_dir().join("../crds").join(&file);
        let generated = chart_support::documents(&file, &std::fs::read_to_string(generated)?)?;
        assert!(
            generated == vec![crd],
            "deploy/chart/crds/{file} differs from deploy/crds/{file}; refresh it with \
             `PMO_UPDATE_CHART=1 cargo test -p e2e --test chart`"
        );
    }
    Ok(())
}

/// `GET /metrics` from a metrics server on a free loopback port.
async fn scrape_metrics() -> anyhow::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let token = CancellationToken::new();
    let bound = metrics::server::serve("127.0.0.1:0".parse()?, token.clone()).await?;
    let mut stream = tokio::net::TcpStream::connect(bound).await?;
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: operator\r\nConnection: close\r\n\r\n")
        .await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    token.cancel();
    ensure!(response.starts_with("HTTP/1.1 200"), "{response}");
    Ok(response)
}

#[tokio::test]
async fn the_operator_runs_from_the_installed_chart() -> anyhow::Result<()> {
    let server = apiserver::start(ServerConfig {
        simulators: SimConfig::all(),
        ..ServerConfig::default()
    })
    .await?;
    let client = server.client();
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()?;
    let (namespace_sample, other_samples) = embedded::SAMPLES.split_first().context("samples")?;
    for object in embedded::read_documents(&repo.join(namespace_sample))? {
        embedded::apply(&client, &object).await?;
    }
    // `helm install`: the CRDs first, then the templates.
    for (file, crd) in chart_support::crds()? {
        embedded::apply(&client, &crd)
            .await
            .with_context(|| file.clone())?;
    }
    let objects = chart_support::render(&chart_support::default_values()?, RELEASE, NAMESPACE)?;
    for (file, object) in &objects {
        embedded::apply(&client, object)
            .await
            .with_context(|| file.clone())?;
    }
    println!("installed {} chart objects", objects.len());
    for sample in other_samples {
        for object in embedded::read_documents(&repo.join(sample))? {
            embedded::apply(&client, &object).await?;
        }
    }

    // The operator's identity: the chart's ServiceAccount, authorized by the chart's RBAC only.
    let (_, service_account) = objects
        .iter()
        .find(|(_, o)| o["kind"] == "ServiceAccount")
        .context("the chart renders a ServiceAccount")?;
    let (operator_client, access) = chart_support::identity::service_account_client(
        &client,
        server.url(),
        NAMESPACE,
        str_at(service_account, "/metadata/name"),
    )
    .await?;

    // The operator as the Deployment starts it, with the paths of this machine instead of the image's.
    let argv = std::iter::once("platform-mesh-operator".to_owned()).chain(deployment_args(&objects)?);
    let Command::Run(run) = Cli::try_parse_from(argv)?.command else {
        bail!("not run")
    };
    let mut config = run.config;
    let cache = tempfile::tempdir()?;
    config.workspace_dir = repo.clone();
    config.plugins.plugins_dir = default_plugins_dir().into();
    config.plugins.plugin_cache_dir = Some(cache.path().to_owned());
    config.kcp.kcp_url = server.url().to_owned();
    // The embedded platform runs no istio, and the operator runs in no pod (as in `run --embedded`).
    config.subroutines.subroutines_deployment_enable_istio = false;
    // As in a pod: the runtime and infra clusters with the ServiceAccount; kcp with the admin kubeconfig Secret
    // the kcp-operator writes (read with the ServiceAccount), separate credentials outside this RBAC.
    let clients = OperatorClients {
        runtime: operator_client.clone(),
        infra: operator_client.clone(),
        kcp_admin: KcpAdmin::Secret {
            namespace: config.kcp.kcp_namespace.clone(),
            name: config.kcp.kcp_cluster_admin_secret_name.clone(),
            url: config.kcp.base_url(),
        },
    };
    let (progress, mut events) = ProgressSink::channel();
    let shutdown = CancellationToken::new();
    let elector = LeaderElector::new(operator_client.clone(), LeaseSettings::new(NAMESPACE));
    let stop = shutdown.clone();
    let operator = tokio::spawn(async move {
        elector
            .run(stop, |leading| {
                operator::run(&config, clients, progress, leading.cancelled_owned())
            })
            .await
    });
    let ready = async {
        while let Some(event) = events.recv().await {
            println!(
                "{} {} {} {}",
                event.change.type_, event.change.status, event.change.reason, event.change.message
            );
            if event.change.type_ == "Ready" && event.change.status == "True" {
                return Ok(());
            }
        }
        bail!("the operator stopped")
    };
    let reached = tokio::time::timeout(Duration::from_secs(120), ready).await;
    report_denials(&access)?;
    reached.context("PlatformMesh Ready")??;

    // The plugins came from the chart's ConfigMap: the operator reports the swap on it.
    let config_maps = Api::<DynamicObject>::namespaced_with(
        client.clone(),
        NAMESPACE,
        &ApiResource::erase::<k8s_openapi::api::core::v1::ConfigMap>(&()),
    );
    let plugins = config_maps.get(&format!("{RELEASE}-plugins")).await?;
    let status = plugins
        .metadata
        .annotations
        .unwrap_or_default()
        .remove("plugins.platform-mesh.io/status")
        .context("the plugin ConfigMap carries the operator's status annotation")?;
    println!("plugin ConfigMap status: {status}");
    let status: Value = serde_json::from_str(&status)?;
    ensure!(
        status["result"] == "Swapped",
        "the ConfigMap's plugin set is in service: {status}"
    );
    ensure!(
        status["serving"]
            .as_str()
            .is_some_and(|s| s.contains("deployment=")),
        "{status}"
    );

    // What Prometheus would scrape from the Deployment's metrics port.
    let scrape = scrape_metrics().await?;
    for series in [
        "platform_mesh_operator_reconcile_total{controller=\"platformmesh\",result=\"success\"}",
        "platform_mesh_operator_subroutine_total{subroutine=\"DeploymentSubroutine\",result=\"success\"}",
        "lifecycle_subroutine_duration_seconds_count{controller=\"platformmesh\",subroutine=\"WaitSubroutine\"",
        "platform_mesh_operator_plugin_call_duration_seconds_count{plugin=\"deployment\"",
        "platform_mesh_operator_api_requests_total{verb=\"apply\",code=\"200\"}",
        "platform_mesh_operator_api_requests_total{verb=\"watch\"",
        "platform_mesh_operator_leader 1",
        // The OCM Resource controller turned the deployed Resources into Flux sources as the ServiceAccount.
        "platform_mesh_operator_reconcile_total{controller=\"resource\",result=\"success\"}",
    ] {
        let line = scrape.lines().find(|l| l.starts_with(series));
        println!("{}", line.with_context(|| format!("/metrics lacks {series}"))?);
    }

    // The Ready Event on the PlatformMesh, published as the ServiceAccount.
    let events_api = Api::<DynamicObject>::all_with(
        client.clone(),
        &ApiResource::erase::<k8s_openapi::api::events::v1::Event>(&()),
    );
    let mut ready_event = None;
    for _ in 0..50 {
        let listed = events_api.list(&ListParams::default()).await?;
        ready_event = listed
            .items
            .into_iter()
            .find(|e| e.data["reason"] == "Ready" && e.data["regarding"]["kind"] == "PlatformMesh");
        if ready_event.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ready_event = ready_event.context("a Ready Event on the PlatformMesh")?;
    println!(
        "event: {} {}",
        ready_event.data["reason"], ready_event.data["note"]
    );

    // A ManagedProvider from creation to deletion: the verbs only its chain uses.
    let managed = chart_support::managed_provider::round_trip(&client, NAMESPACE, &mut events).await;
    report_denials(&access)?;
    managed?;

    // The server really enforces the chart's RBAC on this identity, and it stays least-privilege.
    let (probe, _) = chart_support::identity::service_account_client(
        &client,
        server.url(),
        NAMESPACE,
        str_at(service_account, "/metadata/name"),
    )
    .await?;
    expect_forbidden(&probe).await?;

    shutdown.cancel();
    let led = tokio::time::timeout(Duration::from_secs(30), operator).await???;
    led.context("the operator led")?.context("operator run")?;
    report_denials(&access)?;
    report_unused_rules(&objects, &access)?;
    server.shutdown().await;
    Ok(())
}

/// What the chart's ServiceAccount must not do: read Secrets in bulk or watch them (spec 11.1 item 11), grant
/// itself RBAC, or write ConfigMaps other than the plugin ConfigMap.
async fn expect_forbidden(probe: &kube::Client) -> anyhow::Result<()> {
    use k8s_openapi::api::{
        core::v1::{ConfigMap, Secret},
        rbac::v1::ClusterRoleBinding,
    };
    use kube::api::{Patch, PatchParams, PostParams, WatchParams};
    let forbidden = |what: &str, result: Result<(), kube::Error>| match result {
        Err(kube::Error::Api(status)) if status.code == 403 => {
            println!("forbidden as expected: {what}");
            Ok(())
        }
        other => Err(anyhow::anyhow!(
            "the chart's ServiceAccount may {what}: {other:?}"
        )),
    };
    let secrets = Api::<Secret>::all(probe.clone());
    forbidden(
        "list Secrets",
        secrets.list(&ListParams::default()).await.map(drop),
    )?;
    forbidden(
        "watch Secrets",
        secrets.watch(&WatchParams::default(), "0").await.map(drop),
    )?;
    let binding: ClusterRoleBinding = serde_json::from_value(json!({
        "metadata": {"name": "escalate"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"kind": "ServiceAccount", "name": RELEASE, "namespace": NAMESPACE}],
    }))?;
    forbidden(
        "create ClusterRoleBindings",
        Api::<ClusterRoleBinding>::all(probe.clone())
            .create(&PostParams::default(), &binding)
            .await
            .map(drop),
    )?;
    let annotate = Patch::Merge(json!({"metadata": {"annotations": {"probe": "x"}}}));
    forbidden(
        "patch ConfigMaps other than the plugin ConfigMap",
        Api::<ConfigMap>::namespaced(probe.clone(), NAMESPACE)
            .patch("another-configmap", &PatchParams::default(), &annotate)
            .await
            .map(drop),
    )?;
    Ok(())
}

/// Fails naming every request the chart's RBAC denied the operator: each is a missing rule.
fn report_denials(access: &chart_support::identity::AccessLog) -> anyhow::Result<()> {
    let denied = access.denied();
    for (request, code) in &denied {
        println!("DENIED {code}: {request}");
    }
    ensure!(
        denied.is_empty(),
        "the chart's RBAC denied {} distinct requests of the operator (listed above)",
        denied.len()
    );
    Ok(())
}

/// Prints the (group, resource, verb) grants of the chart's roles that no request of this run used — candidates
/// for removal only where no other scenario (deletion, Argo CD, providers, istio) needs them.
fn report_unused_rules(
    objects: &[(String, Value)],
    access: &chart_support::identity::AccessLog,
) -> anyhow::Result<()> {
    let used = access.used();
    let mut unused: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut granted = 0;
    for (file, role) in objects
        .iter()
        .filter(|(_, o)| o["kind"] == "ClusterRole" || o["kind"] == "Role")
    {
        for rule in role["rules"].as_array().context("rules")? {
            let strings = |field: &str| -> Vec<String> {
                rule[field]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            };
            for group in strings("apiGroups") {
                for resource in strings("resources") {
                    for verb in strings("verbs") {
                        granted += 1;
                        if !used.contains(&(group.clone(), resource.clone(), verb.clone())) {
                            let group = if group.is_empty() { "core" } else { &group };
                            unused
                                .entry(format!("{file}: {resource} ({group})"))
                                .or_default()
                                .push(verb);
                        }
                    }
                }
            }
        }
    }
    println!(
        "{} requests as the ServiceAccount; {} distinct (group, resource, verb) used of {granted} granted",
        access.len(),
        used.len()
    );
    for (what, verbs) in unused {
        println!("unused in this run: {what} {verbs:?}");
    }
    Ok(())
}

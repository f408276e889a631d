//! The chart with `flags.metrics-secure: true`: the operator may post TokenReviews and SubjectAccessReviews, a
//! `<release>-metrics-reader` ClusterRole (get on `/metrics`) is there for scrapers, and the Deployment passes the
//! flag; with the default values none of that RBAC is rendered.

use anyhow::{Context as _, bail, ensure};
use clap::Parser;
use e2e::chart::{self as chart_support, NAMESPACE, RELEASE, deployment_args};
use platform_mesh_operator::cli::{Cli, Command};
use serde_json::{Value, json};

fn review_rules() -> [Value; 2] {
    [
        json!({"apiGroups": ["authentication.k8s.io"], "resources": ["tokenreviews"], "verbs": ["create"]}),
        json!({"apiGroups": ["authorization.k8s.io"], "resources": ["subjectaccessreviews"], "verbs": ["create"]}),
    ]
}

fn cluster_role<'a>(objects: &'a [(String, Value)], name: &str) -> Option<&'a Value> {
    objects
        .iter()
        .map(|(_, o)| o)
        .find(|o| o["kind"] == "ClusterRole" && o["metadata"]["name"] == name)
}

#[test]
fn chart_secure_metrics_grants_the_reviews_and_a_reader_role() -> anyhow::Result<()> {
    let reader = format!("{RELEASE}-metrics-reader");
    let plain = chart_support::render(&chart_support::default_values()?, RELEASE, NAMESPACE)?;
    let role = cluster_role(&plain, RELEASE).context("the operator's ClusterRole")?;
    let rules = role["rules"].as_array().context("rules")?;
    ensure!(
        review_rules().iter().all(|r| !rules.contains(r)),
        "plain metrics need no access reviews"
    );
    ensure!(
        cluster_role(&plain, &reader).is_none(),
        "no reader role without secure metrics"
    );

    let mut values = chart_support::default_values()?;
    values["flags"]["metrics-secure"] = json!(true);
    values["flags"]["metrics-cert-path"] = json!("/etc/metrics-certs");
    let secure = chart_support::render(&values, RELEASE, NAMESPACE)?;
    let role = cluster_role(&secure, RELEASE).context("the operator's ClusterRole")?;
    let rules = role["rules"].as_array().context("rules")?;
    ensure!(
        review_rules().iter().all(|r| rules.contains(r)),
        "the operator may review tokens and access: {rules:?}"
    );
    let reader_role = cluster_role(&secure, &reader).context("the metrics-reader ClusterRole")?;
    ensure!(
        reader_role["rules"] == json!([{"nonResourceURLs": ["/metrics"], "verbs": ["get"]}]),
        "{}",
        reader_role["rules"]
    );
    ensure!(
        secure
            .iter()
            .all(|(_, o)| o["kind"] != "ClusterRoleBinding" || o["roleRef"]["name"] != reader.as_str()),
        "the reader role is bound to no one by the chart"
    );

    let args = deployment_args(&secure)?;
    let cli = Cli::try_parse_from(std::iter::once("platform-mesh-operator".to_owned()).chain(args.clone()))
        .with_context(|| format!("parsing the Deployment's args {args:?}"))?;
    let Command::Run(run) = cli.command else {
        bail!("the Deployment does not run `run`")
    };
    ensure!(run.config.common.metrics_secure, "{args:?}");
    ensure!(
        run.config.common.metrics_cert_path == "/etc/metrics-certs",
        "{args:?}"
    );
    ensure!(run.config.common.metrics_cert_name == "tls.crt", "{args:?}");
    Ok(())
}

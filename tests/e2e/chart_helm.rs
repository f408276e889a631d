//! The chart through the real Helm (v4, from `PMO_HELM` or `target/clients/bin/helm`, fetched by `.ci/run`):
//! `helm template` renders what the project's template stand-in renders, and after `helm install` into the
//! embedded API server the operator runs from the installed Deployment's arguments as the chart's ServiceAccount
//! (enforced RBAC) until the sample PlatformMesh is Ready. Without the binary the tests print `SKIPPED` and pass,
//! except in CI (`CI=true`), where they fail.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context as _, ensure};
use apiserver::{ServerConfig, sim::SimConfig};
use e2e::{
    chart::{self as chart_support, NAMESPACE, RELEASE, documents, str_at},
    platform::repo_root,
};
use platform_mesh_operator::{
    controller::{ProgressSink, operator},
    embedded,
};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

fn helm(test: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PMO_HELM")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/clients/bin/helm"));
    if path.is_file() {
        return Some(path);
    }
    let msg = format!(
        "helm not found at {} (run host/apiserver/tests/tools/fetch-clients.sh or set PMO_HELM)",
        path.display()
    );
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{test}: {msg}");
    eprintln!("SKIPPED {test}: {msg}");
    None
}

/// Runs helm with a private home and `kubeconfig`, off the async runtime (the server answers meanwhile).
async fn run_helm(
    bin: PathBuf,
    home: PathBuf,
    kubeconfig: Option<PathBuf>,
    args: Vec<String>,
) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new(&bin);
        cmd.args(&args)
            .env("HOME", &home)
            .env("HELM_CACHE_HOME", home.join("cache"))
            .env("HELM_CONFIG_HOME", home.join("config"))
            .env("HELM_DATA_HOME", home.join("data"));
        if let Some(k) = &kubeconfig {
            cmd.env("KUBECONFIG", k);
        }
        let out = cmd.output().context("running helm")?;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        ensure!(
            out.status.success(),
            "helm {args:?} failed: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(stdout)
    })
    .await?
}

fn key(o: &Value) -> String {
    format!("{}/{}", str_at(o, "/kind"), str_at(o, "/metadata/name"))
}

#[tokio::test]
async fn helm_template_renders_what_the_stand_in_renders() -> anyhow::Result<()> {
    let Some(bin) = helm("helm_template_renders_what_the_stand_in_renders") else {
        return Ok(());
    };
    let home = tempfile::tempdir()?;
    let chart = chart_support::chart_dir().display().to_string();
    let args = ["template", RELEASE, &chart, "-n", NAMESPACE]
        .map(str::to_owned)
        .to_vec();
    let rendered = run_helm(bin, home.path().to_owned(), None, args).await?;
    let mut by_helm: Vec<Value> = documents("helm template", &rendered)?;
    let mut ours: Vec<Value> = chart_support::render(&chart_support::default_values()?, RELEASE, NAMESPACE)?
        .into_iter()
        .map(|(_, o)| o)
        .collect();
    by_helm.sort_by_key(key);
    ours.sort_by_key(key);
    let names = |v: &[Value]| v.iter().map(key).collect::<Vec<_>>();
    ensure!(
        names(&by_helm) == names(&ours),
        "{:?} vs {:?}",
        names(&by_helm),
        names(&ours)
    );
    for (h, o) in by_helm.iter().zip(&ours) {
        ensure!(h == o, "{} differs:\nhelm: {h}\nours: {o}", key(h));
    }
    Ok(())
}

#[tokio::test]
async fn the_operator_runs_after_helm_install() -> anyhow::Result<()> {
    let Some(bin) = helm("the_operator_runs_after_helm_install") else {
        return Ok(());
    };
    let server = apiserver::start(ServerConfig {
        simulators: SimConfig::all(),
        ..ServerConfig::default()
    })
    .await?;
    let client = server.client();
    let repo = repo_root();
    let (namespace_sample, other_samples) = embedded::SAMPLES.split_first().context("samples")?;
    for object in embedded::read_documents(&repo.join(namespace_sample))? {
        embedded::apply(&client, &object).await?;
    }
    let home = tempfile::tempdir()?;
    let kubeconfig = home.path().join("kubeconfig");
    server.write_kubeconfig(&kubeconfig)?;
    let chart = chart_support::chart_dir().display().to_string();
    let install = ["install", RELEASE, &chart, "-n", NAMESPACE]
        .map(str::to_owned)
        .to_vec();
    let out = run_helm(
        bin.clone(),
        home.path().to_owned(),
        Some(kubeconfig.clone()),
        install,
    )
    .await?;
    ensure!(out.contains("STATUS: deployed"), "{out}");
    let get = ["get", "manifest", RELEASE, "-n", NAMESPACE]
        .map(str::to_owned)
        .to_vec();
    let manifest = run_helm(bin, home.path().to_owned(), Some(kubeconfig), get).await?;
    let objects: Vec<(String, Value)> = documents("helm get manifest", &manifest)?
        .into_iter()
        .map(|o| (key(&o), o))
        .collect();
    for sample in other_samples {
        for object in embedded::read_documents(&repo.join(sample))? {
            embedded::apply(&client, &object).await?;
        }
    }

    let release = chart_support::release::operator(&client, server.url(), &objects).await?;
    let (config, clients, access) = (release.config, release.clients, release.access);
    let (progress, mut events) = ProgressSink::channel();
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    let operator =
        tokio::spawn(async move { operator::run(&config, clients, progress, stop.cancelled_owned()).await });
    chart_support::release::until_ready(&mut events, &access).await?;
    shutdown.cancel();
    let _ = operator.await;
    server.shutdown().await;
    Ok(())
}

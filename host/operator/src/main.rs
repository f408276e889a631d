//! The `platform-mesh-operator` binary: parses the command line, sets up logging and runs the chosen command.

use std::io::Write as _;

use anyhow::Context as _;
use clap::Parser as _;
use platform_mesh_operator::{
    cli::{Cli, Command, DowngradeArgs, PluginsCommand, RenderArgs, RunArgs, VerifyArgs},
    config::{CommonConfig, OperatorConfig, resolve_plugins_dir},
    controller::{
        ProgressSink, health,
        leader::{LeaderElector, LeaseSettings},
        operator,
    },
    crd, embedded, metrics,
};
use tokio_util::sync::CancellationToken;
use tracing_subscriber::{EnvFilter, fmt};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Crds => {
            let yaml = crd::crds_yaml()?;
            std::io::stdout()
                .write_all(yaml.as_bytes())
                .context("writing the CRDs to stdout")?;
            Ok(())
        }
        Command::Run(args) => run(*args).await,
        Command::Plugins(PluginsCommand::Verify(args)) => verify_plugins(&args).await,
        Command::Render(args) => render(&args).await,
        Command::Downgrade(args) => downgrade(&cli.common, &args).await,
    }
}

/// `downgrade`: rewrites PlatformMesh finalizers for the Go operator and says what changed.
async fn downgrade(common: &CommonConfig, args: &DowngradeArgs) -> anyhow::Result<()> {
    let path = match args.remote_runtime_kubeconfig.as_str() {
        "" => common.kubeconfig.as_str(),
        path => path,
    };
    let client = kube_client(path, "the runtime cluster").await?;
    let report = platform_mesh_operator::controller::downgrade::downgrade(&client)
        .await
        .context("rewriting PlatformMesh finalizers")?;
    for name in &report.rewritten {
        println!("rewritten: PlatformMesh {name}");
    }
    println!(
        "{} PlatformMesh(es) rewritten, {} unchanged; the Go operator can delete them now",
        report.rewritten.len(),
        report.unchanged
    );
    Ok(())
}

/// `render`: runs the deployment plugin offline and prints what it applied, grouped by target.
async fn render(args: &RenderArgs) -> anyhow::Result<()> {
    let workspace_dir = embedded::workspace_dir(&args.workspace_dir);
    let plugins_dir = resolve_plugins_dir(args.plugins_dir.as_deref(), Some(&workspace_dir));
    let input = platform_mesh_operator::render::RenderInput {
        platform_mesh: platform_mesh_operator::render::read_platform_mesh(&args.file)?,
        profile: platform_mesh_operator::render::read_profile(&args.profile)?,
        technology: args.technology.clone(),
        workspace_dir,
        plugins_dir,
        config: platform_mesh_operator::render::default_config()?,
    };
    let groups = platform_mesh_operator::render::render(&input).await?;
    let yaml = platform_mesh_operator::render::to_yaml(&groups)?;
    std::io::stdout()
        .write_all(yaml.as_bytes())
        .context("writing to stdout")?;
    Ok(())
}

/// `plugins verify`: prints the report and fails if anything in it failed.
async fn verify_plugins(args: &VerifyArgs) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let runtime = platform_mesh_operator::plugin::verify::offline_runtime(&resolve_plugins_dir(
        args.plugins_dir.as_deref(),
        None,
    ))
    .map_err(|e| anyhow::anyhow!(e))
    .context("starting the plugin runtime")?;
    let report = platform_mesh_operator::plugin::verify_config_map(&runtime, &text, args.pull).await;
    print!("{report}");
    anyhow::ensure!(report.ok(), "{} does not verify", args.file.display());
    Ok(())
}

fn init_logging(config: &OperatorConfig) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(&config.common.log_level)
        .with_context(|| format!("invalid --log-level {:?}", config.common.log_level))?;
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let result = if config.common.no_json {
        builder.try_init()
    } else {
        builder.json().try_init()
    };
    result
        .map_err(|e| anyhow::anyhow!(e))
        .context("installing the log subscriber")
}

/// Cancels the token on the first SIGINT or SIGTERM.
fn cancel_on_signal(token: CancellationToken) {
    tokio::spawn(async move {
        let interrupt = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            {
                Ok(signal) => signal,
                Err(error) => {
                    tracing::warn!(%error, "cannot listen for SIGTERM; only SIGINT stops the operator");
                    let _ = interrupt.await;
                    token.cancel();
                    return;
                }
            };
            tokio::select! {
                _ = interrupt => {}
                _ = terminate.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = interrupt.await;
        tracing::info!("shutdown signal received");
        token.cancel();
    });
}

async fn run(args: RunArgs) -> anyhow::Result<()> {
    let RunArgs {
        config,
        embedded: embedded_args,
    } = args;
    if embedded_args.embedded {
        embedded::init_console_logging(&config.common, &embedded_args)?;
    } else {
        init_logging(&config)?;
    }
    let shutdown = CancellationToken::new();
    cancel_on_signal(shutdown.clone());
    if embedded_args.embedded {
        return embedded::run(config, &embedded_args, shutdown)
            .await
            .context("run --embedded");
    }
    if let Some(address) = health::parse_bind_address(&config.common.health_probe_bind_address)? {
        let bound = health::serve(address, shutdown.clone()).await?;
        tracing::info!(%bound, "serving health probes");
    }
    if let Some(address) = metrics::server::bind_address(&config.common.metrics_bind_address)? {
        let bound = if config.common.metrics_secure {
            let common = &config.common;
            let settings = metrics::secure::SecureSettings {
                cert: metrics::secure::CertSource::from_flags(
                    &common.metrics_cert_path,
                    &common.metrics_cert_name,
                    &common.metrics_cert_key,
                ),
                http2: common.enable_http2,
                client: kube_client(&common.kubeconfig, "metrics authorization").await?,
            };
            metrics::server::serve_secure(address, settings, shutdown.clone()).await?
        } else {
            metrics::server::serve(address, shutdown.clone()).await?
        };
        tracing::info!(%bound, secure = config.common.metrics_secure, "serving metrics");
    }
    let clients = operator::OperatorClients::from_config(&config).await?;
    tracing::info!(plugins_dir = %config.plugins_dir().display(), "starting the operator");
    let grace = config.common.shutdown_timeout;
    let stopping = shutdown.clone();
    let run = run_operator(&config, clients, shutdown);
    tokio::pin!(run);
    tokio::select! {
        result = &mut run => result,
        () = stopping.cancelled() => {
            // The controller drains in-flight reconciles (and then hands the lease over); give it the grace
            // period, then exit regardless.
            match tokio::time::timeout(grace, &mut run).await {
                Ok(result) => result,
                Err(_) => {
                    tracing::warn!(?grace, "shutdown grace period elapsed");
                    Ok(())
                }
            }
        }
    }
}

/// Runs the controllers, under leader election with `--leader-elect` (only the lease holder reconciles; the lease
/// is released when the controllers stop, so a standby takes over at once).
async fn run_operator(
    config: &OperatorConfig,
    clients: operator::OperatorClients,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    if !config.common.leader_elect {
        return operator::run(config, clients, ProgressSink::none(), shutdown.cancelled_owned())
            .await
            .context("running the operator");
    }
    let namespace = LeaseSettings::namespace_from(&config.common.leader_election_namespace)?;
    let elector = LeaderElector::new(election_client(config).await?, LeaseSettings::new(namespace));
    let elected = elector
        .run(shutdown, |stop| {
            operator::run(config, clients, ProgressSink::none(), stop.cancelled_owned())
        })
        .await?;
    match elected {
        Some(result) => result.context("running the operator"),
        None => Ok(()),
    }
}

/// The leader election client: like upstream, the operator's own cluster (`--kubeconfig`, `KUBECONFIG` or
/// in-cluster) even when remote runtime or infra kubeconfigs are configured.
async fn election_client(config: &OperatorConfig) -> anyhow::Result<kube::Client> {
    kube_client(&config.common.kubeconfig, "leader election").await
}

/// A client from the kubeconfig file `path`, or (empty) from `KUBECONFIG` or the in-cluster configuration.
async fn kube_client(path: &str, purpose: &str) -> anyhow::Result<kube::Client> {
    let kube_config = match path {
        "" => kube::Config::infer()
            .await
            .with_context(|| format!("finding the cluster configuration for {purpose}"))?,
        path => {
            let file = kube::config::Kubeconfig::read_from(path)
                .with_context(|| format!("reading kubeconfig {path} for {purpose}"))?;
            kube::Config::from_custom_kubeconfig(file, &kube::config::KubeConfigOptions::default())
                .await
                .with_context(|| format!("loading kubeconfig {path} for {purpose}"))?
        }
    };
    kube::Client::try_from(kube_config).with_context(|| format!("building the client for {purpose}"))
}

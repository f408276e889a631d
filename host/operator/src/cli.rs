//! The command line: `run` (the operator, optionally against an embedded API server), `crds`, `render` and
//! `plugins`.

use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::config::{CommonConfig, OperatorConfig, parse_go_duration};

/// Bootstraps and reconciles platform-mesh environments; every subroutine is a WebAssembly plugin.
#[derive(Parser, Debug)]
#[command(name = "platform-mesh-operator", version, about)]
pub struct Cli {
    /// The common flags (spec §2.2), accepted before the sub-command as upstream's persistent root flags
    /// (`platform-mesh-operator --log-level=debug operator`) and after it; `run` reads them from its own
    /// configuration, which holds the values given in either place.
    #[command(flatten)]
    pub common: CommonConfig,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The sub-commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the operator (alias: `operator`, the upstream sub-command name).
    #[command(alias = "operator")]
    Run(Box<RunArgs>),
    /// Print the CustomResourceDefinitions as multi-document YAML.
    Crds,
    /// Work with plugin configurations.
    #[command(subcommand)]
    Plugins(PluginsCommand),
    /// Roll back to the Go operator: replace this operator's per-subroutine PlatformMesh finalizers by upstream's
    /// shared one, so the Go operator can delete PlatformMeshes again. Stop this operator first.
    Downgrade(DowngradeArgs),
    /// Print every object the deployment subroutine would apply for a PlatformMesh and a profile, offline, as
    /// YAML grouped by target cluster (like `helm template`).
    Render(RenderArgs),
}

/// Arguments of `render`.
#[derive(Args, Debug, Clone)]
pub struct RenderArgs {
    /// A YAML file holding the PlatformMesh (its first `PlatformMesh` document is used).
    #[arg(short = 'f', long = "file")]
    pub file: std::path::PathBuf,
    /// The profile: a ConfigMap with key `profile.yaml`, or the bare profile.
    #[arg(long)]
    pub profile: std::path::PathBuf,
    /// Deploy with this technology regardless of the profile's `deploymentTechnology`.
    #[arg(long, value_parser = ["fluxcd", "argocd"])]
    pub technology: Option<String>,
    /// Directory with `gotemplates/` and `manifests/` (falls back to the source tree this binary was built from).
    #[arg(long, env = "PMO_WORKSPACE_DIR", default_value = "/operator/")]
    pub workspace_dir: std::path::PathBuf,
    /// Directory of the plugins (`deployment.wasm`); default: `plugins/` beside the executable if it exists, else
    /// `<workspace-dir>/plugins`.
    #[arg(long, env = "PMO_PLUGINS_DIR")]
    pub plugins_dir: Option<std::path::PathBuf>,
}

/// Arguments of `downgrade`.
#[derive(Args, Debug, Clone)]
pub struct DowngradeArgs {
    /// Kubeconfig file of the runtime cluster holding the PlatformMeshes (default: `--kubeconfig`, `KUBECONFIG` or
    /// in-cluster).
    #[arg(long, env = "PMO_REMOTE_RUNTIME_KUBECONFIG", default_value = "")]
    pub remote_runtime_kubeconfig: String,
}

/// `plugins` sub-commands.
#[derive(Subcommand, Debug)]
pub enum PluginsCommand {
    /// Check a plugin ConfigMap (or a plugins.yaml) offline: schema, sources, sha256 digests, WIT compatibility,
    /// `info()` of every plugin, and what each plugin's permissions grant. Exits non-zero if anything fails.
    Verify(VerifyArgs),
}

/// Arguments of `plugins verify`.
#[derive(Args, Debug, Clone)]
pub struct VerifyArgs {
    /// The ConfigMap YAML (other documents in the file may carry `configmap://` plugin sources).
    pub file: std::path::PathBuf,
    /// Directory that relative `file://` sources are resolved against; default: `plugins/` beside the
    /// executable.
    #[arg(long, env = "PMO_PLUGINS_DIR")]
    pub plugins_dir: Option<std::path::PathBuf>,
    /// Also pull `oci://` sources (needs the registries; everything else stays offline).
    #[arg(long)]
    pub pull: bool,
}

/// Arguments of `run`.
#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// Every operator flag.
    #[command(flatten)]
    pub config: OperatorConfig,
    /// Embedded mode: how to run against the in-process API server.
    #[command(flatten)]
    pub embedded: EmbeddedArgs,
}

/// Flags of `run --embedded`.
#[derive(Args, Debug, Clone, PartialEq)]
pub struct EmbeddedArgs {
    /// Start an embedded API server with simulated controllers, install the CRDs and the samples, and run the
    /// operator against it until the sample PlatformMesh, ManagedProvider and Provider are Ready.
    #[arg(long, env = "PMO_EMBEDDED")]
    pub embedded: bool,
    /// With `--embedded`: print the operator's logs at `--log-level` besides the progress lines (default:
    /// warnings and errors only; `RUST_LOG` sets the filter instead).
    #[arg(short = 'v', long, requires = "embedded")]
    pub verbose: bool,
    /// With `--embedded`: keep running after Ready until SIGTERM/SIGINT.
    #[arg(long, env = "PMO_SERVE", requires = "embedded")]
    pub serve: bool,
    /// With `--embedded`: give up if the samples are not Ready after this long.
    #[arg(long, env = "PMO_TIMEOUT", default_value = "300s", value_parser = parse_go_duration)]
    pub timeout: Duration,
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory as _, Parser as _};

    use super::*;

    fn run_config(argv: &[&str]) -> OperatorConfig {
        match Cli::try_parse_from(argv).expect("parses").command {
            Command::Run(run) => run.config,
            other => panic!("not run: {other:?}"),
        }
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn common_flags_are_accepted_before_and_after_the_sub_command() {
        let before = run_config(&[
            "pmo",
            "--log-level=debug",
            "--leader-elect",
            "--max-concurrent-reconciles=3",
            "operator",
            "--kcp-namespace=kcp",
        ]);
        let after = run_config(&[
            "pmo",
            "operator",
            "--log-level=debug",
            "--leader-elect",
            "--max-concurrent-reconciles=3",
            "--kcp-namespace=kcp",
        ]);
        assert_eq!(before, after);
        assert_eq!(before.common.log_level, "debug");
        assert!(before.common.leader_elect);
        assert_eq!(before.common.max_concurrent_reconciles, 3);
        assert_eq!(before.kcp.kcp_namespace, "kcp");
        let defaults = run_config(&["pmo", "run"]);
        assert_eq!(defaults.common.log_level, "info");
        assert!(!defaults.common.leader_elect);
    }

    #[test]
    fn operator_flags_still_belong_to_the_sub_command() {
        assert!(Cli::try_parse_from(["pmo", "--kcp-namespace=kcp", "operator"]).is_err());
    }
}

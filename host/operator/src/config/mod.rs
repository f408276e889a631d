//! The operator configuration: every upstream flag (common flags of spec §2.2, operator flags of §2.3) with the
//! same names and defaults, plus the plugin runtime's flags. Each flag can also be set through an environment
//! variable `PMO_<FLAG_NAME_IN_UPPER_SNAKE_CASE>` (e.g. `PMO_KCP_URL`); a flag on the command line wins.
//!
//! [`OperatorConfig`] serialises to the flat camelCase JSON object that plugins receive as `operator-config`.

use std::{
    fmt,
    path::{Path, PathBuf},
    str::FromStr,
    time::Duration,
};

use clap::{ArgAction, Args};
use serde::Serialize;

#[cfg(test)]
mod tests;
mod units;

use units::serialize_duration;
pub use units::{format_go_duration, parse_bytes, parse_go_duration};

/// The plugins shipped with this executable: `plugins/` in the executable's directory (`/operator/plugins` for
/// the image's `/operator/manager`). Cargo puts test and benchmark executables in `deps/` beside the binaries;
/// for those the directory above counts (`target/<profile>/plugins`, which the build links to the plugins it
/// built). `None` when the executable's path is unknown.
pub fn default_plugins_dir() -> Option<PathBuf> {
    plugins_dir_beside(&std::env::current_exe().ok()?)
}

fn plugins_dir_beside(executable: &Path) -> Option<PathBuf> {
    let mut dir = executable.parent()?;
    if dir.file_name().is_some_and(|name| name == "deps") {
        dir = dir.parent()?;
    }
    Some(dir.join("plugins"))
}

/// The plugins directory in force: `explicit` (`--plugins-dir`) if given; else [`default_plugins_dir`] if it
/// exists; else `<workspace_dir>/plugins`. Never a path of the machine that built the operator.
pub fn resolve_plugins_dir(explicit: Option<&Path>, workspace_dir: Option<&Path>) -> PathBuf {
    if let Some(dir) = explicit {
        return dir.to_owned();
    }
    let beside = default_plugins_dir();
    match (beside, workspace_dir) {
        (Some(beside), _) if beside.is_dir() => beside,
        (_, Some(workspace)) => workspace.join("plugins"),
        (Some(beside), None) => beside,
        (None, None) => PathBuf::from("plugins"),
    }
}

/// All flags of `run`, as one configuration.
#[derive(Args, Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OperatorConfig {
    /// Flags shared by platform-mesh operators.
    #[command(flatten)]
    #[serde(flatten)]
    pub common: CommonConfig,
    /// Where templates and manifests are found.
    #[arg(long, env = "PMO_WORKSPACE_DIR", default_value = "/operator/")]
    pub workspace_dir: PathBuf,
    /// kcp settings.
    #[command(flatten)]
    #[serde(flatten)]
    pub kcp: KcpConfig,
    /// Which subroutines run, and their options.
    #[command(flatten)]
    #[serde(flatten)]
    pub subroutines: SubroutinesConfig,
    /// Remote runtime and infra clusters.
    #[command(flatten)]
    #[serde(flatten)]
    pub remote: RemoteConfig,
    /// The plugin runtime.
    #[command(flatten)]
    #[serde(flatten)]
    pub plugins: PluginFlags,
}

/// The flags of the shared commons library (spec §2.2).
#[derive(Args, Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CommonConfig {
    /// Reconcile only objects whose label `debug.platform-mesh.io` equals this value.
    #[arg(global = true, long, env = "PMO_DEBUG_LABEL_VALUE", default_value = "")]
    pub debug_label_value: String,
    /// Worker count of every controller.
    #[arg(
        global = true,
        long,
        env = "PMO_MAX_CONCURRENT_RECONCILES",
        default_value_t = 10
    )]
    pub max_concurrent_reconciles: u16,
    /// Environment name (informational).
    #[arg(global = true, long, env = "PMO_ENVIRONMENT", default_value = "")]
    pub environment: String,
    /// Region name (informational).
    #[arg(global = true, long, env = "PMO_REGION", default_value = "local")]
    pub region: String,
    /// Kubeconfig of the runtime cluster when `--remote-runtime-kubeconfig` is not set (default: `KUBECONFIG` or
    /// in-cluster). With `--embedded`: where to write the embedded cluster's kubeconfig.
    #[arg(global = true, long, env = "PMO_KUBECONFIG", default_value = "")]
    pub kubeconfig: String,
    /// Local development: skips the istio "restart myself" step.
    #[arg(global = true, long, env = "PMO_IS_LOCAL", action = ArgAction::Set, default_value_t = false, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub is_local: bool,
    /// Image name (informational).
    #[arg(global = true, long, env = "PMO_IMAGE_NAME", default_value = "")]
    pub image_name: String,
    /// Image tag (informational).
    #[arg(global = true, long, env = "PMO_IMAGE_TAG", default_value = "")]
    pub image_tag: String,
    /// Log level: trace, debug, info, warn or error.
    #[arg(global = true, long, env = "PMO_LOG_LEVEL", default_value = "info")]
    pub log_level: String,
    /// Human-readable logs instead of JSON.
    #[arg(global = true, long, env = "PMO_NO_JSON", action = ArgAction::Set, default_value_t = false, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub no_json: bool,
    /// Grace period after a shutdown signal.
    #[arg(global = true, long, env = "PMO_SHUTDOWN_TIMEOUT", default_value = "1m", value_parser = parse_go_duration)]
    #[serde(serialize_with = "serialize_duration")]
    pub shutdown_timeout: Duration,
    /// Metrics server address (`0` disables it).
    #[arg(
        global = true,
        long,
        env = "PMO_METRICS_BIND_ADDRESS",
        default_value = ":9090"
    )]
    pub metrics_bind_address: String,
    /// Serve metrics over HTTPS.
    #[arg(global = true, long, env = "PMO_METRICS_SECURE", action = ArgAction::Set, default_value_t = false, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub metrics_secure: bool,
    /// Directory of the metrics serving certificate (empty: a self-signed one).
    #[arg(global = true, long, env = "PMO_METRICS_CERT_PATH", default_value = "")]
    pub metrics_cert_path: String,
    /// Certificate file name in `--metrics-cert-path`.
    #[arg(global = true, long, env = "PMO_METRICS_CERT_NAME", default_value = "tls.crt")]
    pub metrics_cert_name: String,
    /// Private key file name in `--metrics-cert-path`.
    #[arg(global = true, long, env = "PMO_METRICS_CERT_KEY", default_value = "tls.key")]
    pub metrics_cert_key: String,
    /// Export traces over OTLP.
    #[arg(global = true, long, env = "PMO_TRACING_ENABLED", action = ArgAction::Set, default_value_t = false, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub tracing_enabled: bool,
    /// Tracing service name.
    #[arg(
        global = true,
        long,
        env = "PMO_TRACING_CONFIG_SERVICE_NAME",
        default_value = ""
    )]
    pub tracing_config_service_name: String,
    /// Tracing service version.
    #[arg(
        global = true,
        long,
        env = "PMO_TRACING_CONFIG_SERVICE_VERSION",
        default_value = ""
    )]
    pub tracing_config_service_version: String,
    /// OTLP collector endpoint.
    #[arg(
        global = true,
        long,
        env = "PMO_TRACING_CONFIG_COLLECTOR_ENDPOINT",
        default_value = ""
    )]
    pub tracing_config_collector_endpoint: String,
    /// Allow HTTP/2 on the metrics server.
    #[arg(global = true, long = "enable-http2", env = "PMO_ENABLE_HTTP2", action = ArgAction::Set, default_value_t = true, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    #[serde(rename = "enableHTTP2")]
    pub enable_http2: bool,
    /// Health probe address (`/healthz`, `/readyz`).
    #[arg(
        global = true,
        long,
        env = "PMO_HEALTH_PROBE_BIND_ADDRESS",
        default_value = ":8090"
    )]
    pub health_probe_bind_address: String,
    /// Leader election through a Lease.
    #[arg(global = true, long, env = "PMO_LEADER_ELECT", action = ArgAction::Set, default_value_t = false, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub leader_elect: bool,
    /// Namespace of the leader election Lease (empty: `POD_NAMESPACE`, else the pod's own namespace).
    #[arg(
        global = true,
        long,
        env = "PMO_LEADER_ELECTION_NAMESPACE",
        default_value = ""
    )]
    pub leader_election_namespace: String,
    /// Name of the operator's own pod (set from the downward API); the istio sidecar check looks at this pod.
    #[arg(global = true, long, env = "PMO_POD_NAME", default_value = "")]
    pub pod_name: String,
    /// Namespace of the operator's own pod (set from the downward API).
    #[arg(global = true, long, env = "PMO_POD_NAMESPACE", default_value = "")]
    pub pod_namespace: String,
}

/// kcp flags (spec §2.3, §2.8).
#[derive(Args, Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KcpConfig {
    /// kcp base URL; empty: `https://<front-proxy-name>-front-proxy.<kcp-namespace>:<front-proxy-port>`.
    #[arg(long, env = "PMO_KCP_URL", default_value = "")]
    pub kcp_url: String,
    /// Namespace of RootShard, FrontProxy and the kcp secrets.
    #[arg(long, env = "PMO_KCP_NAMESPACE", default_value = "platform-mesh-system")]
    pub kcp_namespace: String,
    /// RootShard name; its CA Secret is `<name>-ca`.
    #[arg(long, env = "PMO_KCP_ROOT_SHARD_NAME", default_value = "root")]
    pub kcp_root_shard_name: String,
    /// FrontProxy name.
    #[arg(long, env = "PMO_KCP_FRONT_PROXY_NAME", default_value = "frontproxy")]
    pub kcp_front_proxy_name: String,
    /// FrontProxy port.
    #[arg(long, env = "PMO_KCP_FRONT_PROXY_PORT", default_value = "8443")]
    pub kcp_front_proxy_port: String,
    /// Secret from which the admin kcp config is built.
    #[arg(
        long,
        env = "PMO_KCP_CLUSTER_ADMIN_SECRET_NAME",
        default_value = "kcp-cluster-admin-client-cert"
    )]
    pub kcp_cluster_admin_secret_name: String,
    /// `registrationAllowed` of the `welcome` IdentityProviderConfiguration.
    #[arg(long, env = "PMO_IDP_REGISTRATION_ALLOWED", action = ArgAction::Set, default_value_t = false, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub idp_registration_allowed: bool,
    /// Extra redirect URIs of the `welcome` client (comma-separated).
    #[arg(long, env = "PMO_IDP_WELCOME_ADDITIONAL_REDIRECT_URIS", value_delimiter = ',')]
    pub idp_welcome_additional_redirect_uris: Vec<String>,
    /// Extra post-logout redirect URIs of the `welcome` client (comma-separated).
    #[arg(
        long,
        env = "PMO_IDP_WELCOME_ADDITIONAL_POST_LOGOUT_REDIRECT_URIS",
        value_delimiter = ','
    )]
    pub idp_welcome_additional_post_logout_redirect_uris: Vec<String>,
    /// APIExportEndpointSlice whose virtual workspace the Provider controller watches.
    #[arg(
        long,
        env = "PMO_PROVIDERS_APIEXPORT_ENDPOINTSLICE_NAME",
        default_value = "providers.platform-mesh.io"
    )]
    pub providers_apiexport_endpointslice_name: String,
    /// Workspace of that slice.
    #[arg(
        long,
        env = "PMO_PROVIDERS_APIEXPORT_ENDPOINTSLICE_WORKSPACE",
        default_value = "root:platform-mesh-system"
    )]
    pub providers_apiexport_endpointslice_workspace: String,
}

impl KcpConfig {
    /// The kcp base URL (spec §2.8): `--kcp-url`, or the in-cluster front-proxy URL.
    pub fn base_url(&self) -> String {
        if self.kcp_url.is_empty() {
            format!(
                "https://{}-front-proxy.{}:{}",
                self.kcp_front_proxy_name, self.kcp_namespace, self.kcp_front_proxy_port
            )
        } else {
            self.kcp_url.clone()
        }
    }
}

/// Subroutine switches and options (spec §2.3).
#[derive(Args, Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubroutinesConfig {
    /// Run DeploymentSubroutine in the PlatformMesh chain.
    #[arg(long, env = "PMO_SUBROUTINES_DEPLOYMENT_ENABLED", action = ArgAction::Set, default_value_t = true, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub subroutines_deployment_enabled: bool,
    /// Name of the kcp authorization-webhook kubeconfig Secret.
    #[arg(
        long,
        env = "PMO_AUTHORIZATION_WEBHOOK_SECRET_NAME",
        default_value = "kcp-webhook-secret"
    )]
    pub authorization_webhook_secret_name: String,
    /// Name of the Secret holding the webhook CA.
    #[arg(
        long,
        env = "PMO_AUTHORIZATION_WEBHOOK_SECRET_CA_NAME",
        default_value = "rebac-authz-webhook-cert"
    )]
    pub authorization_webhook_secret_ca_name: String,
    /// Check istiod readiness and the operator's sidecar.
    #[arg(long, env = "PMO_SUBROUTINES_DEPLOYMENT_ENABLE_ISTIO", action = ArgAction::Set, default_value_t = true, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub subroutines_deployment_enable_istio: bool,
    /// Run KcpsetupSubroutine.
    #[arg(long, env = "PMO_SUBROUTINES_KCP_SETUP_ENABLED", action = ArgAction::Set, default_value_t = true, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub subroutines_kcp_setup_enabled: bool,
    /// Secret (namespace `platform-mesh-system`) with the domain CA.
    #[arg(
        long,
        env = "PMO_DOMAIN_CERTIFICATE_CA_SECRET_NAME",
        default_value = "domain-certificate"
    )]
    pub domain_certificate_ca_secret_name: String,
    /// Key of the domain CA in that Secret.
    #[arg(long, env = "PMO_DOMAIN_CERTIFICATE_CA_SECRET_KEY", default_value = "ca.crt")]
    pub domain_certificate_ca_secret_key: String,
    /// Run ProvidersecretSubroutine.
    #[arg(long, env = "PMO_SUBROUTINES_PROVIDER_SECRET_ENABLED", action = ArgAction::Set, default_value_t = true, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub subroutines_provider_secret_enabled: bool,
    /// Run FeatureToggleSubroutine (off by default).
    #[arg(long, env = "PMO_SUBROUTINES_FEATURE_TOGGLES_ENABLED", action = ArgAction::Set, default_value_t = false, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub subroutines_feature_toggles_enabled: bool,
    /// Run WaitSubroutine.
    #[arg(long, env = "PMO_SUBROUTINES_WAIT_ENABLED", action = ArgAction::Set, default_value_t = true, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub subroutines_wait_enabled: bool,
    /// ManagedProvider chain step 1.
    #[arg(long, env = "PMO_SUBROUTINES_MANAGED_PROVIDER_WAIT_PLATFORM_MESH_ENABLED", action = ArgAction::Set, default_value_t = true, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub subroutines_managed_provider_wait_platform_mesh_enabled: bool,
    /// ManagedProvider chain step 2.
    #[arg(long, env = "PMO_SUBROUTINES_MANAGED_PROVIDER_RESOURCE_ENABLED", action = ArgAction::Set, default_value_t = true, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub subroutines_managed_provider_resource_enabled: bool,
    /// ManagedProvider chain step 3.
    #[arg(long, env = "PMO_SUBROUTINES_MANAGED_PROVIDER_WAIT_ENABLED", action = ArgAction::Set, default_value_t = true, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub subroutines_managed_provider_wait_enabled: bool,
    /// ManagedProvider chain step 4.
    #[arg(long, env = "PMO_SUBROUTINES_MANAGED_PROVIDER_KUBECONFIG_ENABLED", action = ArgAction::Set, default_value_t = true, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub subroutines_managed_provider_kubeconfig_enabled: bool,
    /// ManagedProvider chain step 5.
    #[arg(long, env = "PMO_SUBROUTINES_MANAGED_PROVIDER_DEPLOY_ENABLED", action = ArgAction::Set, default_value_t = true, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub subroutines_managed_provider_deploy_enabled: bool,
    /// Provider chain step 1.
    #[arg(long, env = "PMO_SUBROUTINES_PROVIDERS_WORKSPACE_ENABLED", action = ArgAction::Set, default_value_t = true, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub subroutines_providers_workspace_enabled: bool,
    /// Provider chain step 2.
    #[arg(long, env = "PMO_SUBROUTINES_PROVIDERS_KUBECONFIG_ENABLED", action = ArgAction::Set, default_value_t = true, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub subroutines_providers_kubeconfig_enabled: bool,
    /// kcp workspace paths a ManagedProvider's spec.provider.path may name, as prefixes matched segment by segment
    /// (comma-separated, e.g. `root:providers,root:orgs`); empty: any workspace, as upstream.
    #[arg(long, env = "PMO_MANAGED_PROVIDER_PATH_PREFIXES", value_delimiter = ',')]
    pub managed_provider_path_prefixes: Vec<String>,
}

/// Remote cluster flags (spec §2.3, §2.4).
#[derive(Args, Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoteConfig {
    /// Kubeconfig file of a remote runtime cluster (watches and the runtime client).
    #[arg(long, env = "PMO_REMOTE_RUNTIME_KUBECONFIG", default_value = "")]
    pub remote_runtime_kubeconfig: String,
    /// Template variable `kubeConfigSecretName`.
    #[arg(long, env = "PMO_REMOTE_RUNTIME_INFRA_SECRET_NAME", default_value = "")]
    pub remote_runtime_infra_secret_name: String,
    /// Template variable `kubeConfigSecretKey`.
    #[arg(long, env = "PMO_REMOTE_RUNTIME_INFRA_SECRET_KEY", default_value = "")]
    pub remote_runtime_infra_secret_key: String,
    /// Kubeconfig file of the infra cluster.
    #[arg(long, env = "PMO_REMOTE_INFRA_KUBECONFIG", default_value = "")]
    pub remote_infra_kubeconfig: String,
}

/// Plugin runtime flags (ours, not upstream's).
#[derive(Args, Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PluginFlags {
    /// Directory of the subroutine plugins (`*.wasm`); default: `plugins/` beside the executable
    /// (`/operator/plugins` for the image's `/operator/manager`) if it exists, else `<workspace-dir>/plugins`.
    #[arg(long, env = "PMO_PLUGINS_DIR")]
    pub plugins_dir: Option<PathBuf>,
    /// Cache of compiled plugins (none: compile on every start).
    #[arg(long, env = "PMO_PLUGIN_CACHE_DIR")]
    pub plugin_cache_dir: Option<PathBuf>,
    /// Wall-clock limit of one plugin call.
    #[arg(long, env = "PMO_PLUGIN_CALL_TIMEOUT", default_value = "30s", value_parser = parse_go_duration)]
    #[serde(serialize_with = "serialize_duration")]
    pub plugin_call_timeout: Duration,
    /// Memory cap of one plugin instance, in bytes (suffixes Ki, Mi, Gi allowed).
    #[arg(long, env = "PMO_PLUGIN_MEMORY_LIMIT", default_value = "64Mi", value_parser = parse_bytes)]
    pub plugin_memory_limit: usize,
    /// Plugin ConfigMap `<namespace>/<name>` (key `plugins.yaml`), watched live; empty: the built-in
    /// configuration of the plugins in `--plugins-dir`.
    #[arg(long, env = "PMO_PLUGIN_CONFIG", default_value = "", value_parser = parse_plugin_config)]
    pub plugin_config: String,
}

/// `--plugin-config`: empty, or `<namespace>/<name>`.
fn parse_plugin_config(text: &str) -> Result<String, String> {
    if !text.is_empty() {
        text.parse::<PluginConfigRef>()?;
    }
    Ok(text.to_owned())
}

/// `<namespace>/<name>` of the plugin ConfigMap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginConfigRef {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
}

impl FromStr for PluginConfigRef {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text.split_once('/') {
            Some((namespace, name)) if !namespace.is_empty() && !name.is_empty() && !name.contains('/') => {
                Ok(PluginConfigRef {
                    namespace: namespace.to_owned(),
                    name: name.to_owned(),
                })
            }
            _ => Err(format!("{text:?} is not <namespace>/<name>")),
        }
    }
}

impl fmt::Display for PluginConfigRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

impl OperatorConfig {
    /// The plugins directory in force (see [`resolve_plugins_dir`]).
    pub fn plugins_dir(&self) -> PathBuf {
        resolve_plugins_dir(self.plugins.plugins_dir.as_deref(), Some(&self.workspace_dir))
    }

    /// The configuration as the JSON object plugins receive (`operator-config`).
    pub fn to_plugin_json(&self) -> serde_json::Value {
        // A struct of strings, numbers, booleans and lists always serialises; `Null` would only hide a bug.
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

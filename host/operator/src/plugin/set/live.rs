//! The plugin ConfigMap, watched live (`--plugin-config <namespace>/<name>`).
//!
//! Every change of its `plugins.yaml` yields a candidate set: parse and validate → fetch → verify digests →
//! compile → check WIT versions and smoke-call `info()` ([`super::assemble`]) → swap atomically. A failure at
//! any step keeps the set in service and is reported; a refused configuration is retried with backoff in case
//! the cause was passing (a registry down). Deleting the ConfigMap swaps back to the built-in configuration.
//!
//! Every attempt is reported on the ConfigMap: a Kubernetes Event (`PluginSetSwapped`, or `PluginSetRejected`
//! with the reason), a log line, the annotation [`STATUS_ANNOTATION`] (JSON: generation, result, serving
//! plugins and versions, message), and the handle's [`super::SwapStatus`]. Writing the annotation does not
//! trigger a new attempt: attempts are keyed by the content of `plugins.yaml`.

use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::{
    Api, Client, Resource,
    api::{Patch, PatchParams},
    runtime::{
        WatchStreamExt as _,
        events::{Event, EventType, Recorder, Reporter},
        watcher,
    },
};
use serde_json::json;

use super::{
    active::{PluginSet, PluginSetHandle},
    assemble::assemble,
    defaults::builtin_manifest,
    manifest::{CONFIG_KEY, PluginManifest},
};
pub use crate::config::PluginConfigRef;
use crate::{config::SubroutinesConfig, errors::error_chain, plugin::sandbox::PluginRuntime};

/// The annotation on the plugin ConfigMap that reports the last swap attempt.
pub const STATUS_ANNOTATION: &str = "plugins.platform-mesh.io/status";

/// The origin of the built-in configuration.
pub const BUILTIN: &str = "built-in default";

const RETRY_MIN: Duration = Duration::from_secs(10);
const RETRY_MAX: Duration = Duration::from_secs(300);
/// Backoff of the first load while a source is unreachable.
const START_RETRY_MIN: Duration = Duration::from_millis(500);
const START_RETRY_MAX: Duration = Duration::from_secs(30);

/// Why the first plugin set could not be loaded; the operator does not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The built-in configuration failed.
    #[error("loading the built-in plugin configuration")]
    Builtin(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The plugin ConfigMap is invalid or one of its plugins failed to load.
    #[error("plugin ConfigMap {config}: {reason}")]
    Invalid {
        /// The ConfigMap.
        config: PluginConfigRef,
        /// What is wrong.
        reason: String,
    },
}

/// What a ConfigMap asks for: its `plugins.yaml` text, or the built-in configuration when it is absent.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Wanted {
    Builtin,
    Text(String),
    /// The ConfigMap exists without the key.
    MissingKey,
}

fn wanted(config_map: Option<&ConfigMap>) -> Wanted {
    match config_map {
        None => Wanted::Builtin,
        Some(cm) => match cm.data.as_ref().and_then(|d| d.get(CONFIG_KEY)) {
            Some(text) => Wanted::Text(text.clone()),
            None => Wanted::MissingKey,
        },
    }
}

/// Why a set could not be loaded: one line naming the plugin and field at fault, and whether trying again
/// unchanged may succeed (a source unreachable).
#[derive(Debug)]
struct LoadError {
    message: String,
    transient: bool,
}

impl LoadError {
    fn permanent(message: String) -> Self {
        LoadError {
            message,
            transient: false,
        }
    }
}

/// Loads the set `wanted` describes; `flags` says which chain steps are enabled (built-in configuration only).
async fn load(
    runtime: &PluginRuntime,
    client: &Client,
    config: Option<&PluginConfigRef>,
    wanted: &Wanted,
    flags: Option<&SubroutinesConfig>,
) -> Result<PluginSet, LoadError> {
    let (manifest, origin) = match wanted {
        Wanted::Builtin => (
            builtin_manifest(&runtime.config().plugins_dir, flags)
                .map_err(|e| LoadError::permanent(error_chain(&e)))?,
            BUILTIN.to_owned(),
        ),
        Wanted::MissingKey => {
            return Err(LoadError::permanent(format!(
                "the ConfigMap has no data key {CONFIG_KEY}"
            )));
        }
        Wanted::Text(text) => {
            let manifest = PluginManifest::parse(text)
                .map_err(|e| LoadError::permanent(format!("{CONFIG_KEY}: {e}")))?;
            let origin = config.map_or_else(|| "ConfigMap".to_owned(), |c| format!("ConfigMap {c}"));
            (manifest, origin)
        }
    };
    assemble(runtime, &manifest, &origin, Some(client))
        .await
        .map_err(|e| LoadError {
            message: error_chain(&e),
            transient: e.is_transient(),
        })
}

/// The plugin set in service and, with `--plugin-config`, what keeps it in step with the ConfigMap.
pub struct LivePlugins {
    /// The set in service.
    pub handle: PluginSetHandle,
    watch: Option<ConfigWatch>,
}

struct ConfigWatch {
    runtime: PluginRuntime,
    client: Client,
    config: PluginConfigRef,
    flags: Option<SubroutinesConfig>,
    /// What the set in service was made from.
    serving: Wanted,
}

impl LivePlugins {
    /// Loads the first plugin set: the ConfigMap's if it exists, else the built-in configuration, in which every
    /// step of every chain needs its plugin. See [`Self::start_with`].
    pub async fn start(
        runtime: PluginRuntime,
        client: Client,
        config: Option<PluginConfigRef>,
    ) -> Result<Self, StartError> {
        Self::start_with(runtime, client, config, None).await
    }

    /// Loads the first plugin set: the ConfigMap's if it exists, else the built-in configuration; `flags` says
    /// which steps are enabled (steps switched off need no plugin). It fails closed: a reason that will not go
    /// away (a missing file, a wrong digest, a failed compile, a WIT mismatch, an invalid ConfigMap) is an
    /// error, as there is no earlier set to keep; a reason that may (the API server or a registry unreachable)
    /// is retried with backoff, for as long as the caller waits.
    pub async fn start_with(
        runtime: PluginRuntime,
        client: Client,
        config: Option<PluginConfigRef>,
        flags: Option<SubroutinesConfig>,
    ) -> Result<Self, StartError> {
        let mut delay = START_RETRY_MIN;
        loop {
            match Self::try_start(&runtime, &client, config.as_ref(), flags.as_ref()).await {
                Ok(Some(started)) => {
                    return Ok(LivePlugins {
                        handle: started.0,
                        watch: config.map(|config| ConfigWatch {
                            runtime,
                            client,
                            config,
                            flags,
                            serving: started.1,
                        }),
                    });
                }
                Ok(None) => {}
                Err(error) => return Err(error),
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(START_RETRY_MAX);
        }
    }

    /// One attempt; `Ok(None)` after a transient failure (logged).
    async fn try_start(
        runtime: &PluginRuntime,
        client: &Client,
        config: Option<&PluginConfigRef>,
        flags: Option<&SubroutinesConfig>,
    ) -> Result<Option<(PluginSetHandle, Wanted)>, StartError> {
        let Some(config) = config else {
            return match load(runtime, client, None, &Wanted::Builtin, flags).await {
                Ok(set) => Ok(Some((PluginSetHandle::new(set), Wanted::Builtin))),
                Err(error) if error.transient => {
                    tracing::warn!(error = %error.message, "loading the built-in plugin configuration; retrying");
                    Ok(None)
                }
                Err(error) => Err(StartError::Builtin(error.message.into())),
            };
        };
        let api: Api<ConfigMap> = Api::namespaced(client.clone(), &config.namespace);
        let found = match api.get_opt(&config.name).await {
            Ok(found) => found,
            Err(error) => {
                tracing::warn!(%config, error = %error_chain(&error), "reading the plugin ConfigMap; retrying");
                return Ok(None);
            }
        };
        if found.is_none() {
            tracing::warn!(%config,
                "the plugin ConfigMap does not exist; running the built-in plugin configuration until it does");
        }
        let serving = wanted(found.as_ref());
        let set = match load(runtime, client, Some(config), &serving, flags).await {
            Ok(set) => set,
            Err(error) if error.transient => {
                tracing::warn!(%config, error = %error.message, "loading the plugin set; retrying");
                return Ok(None);
            }
            Err(error) => {
                return Err(StartError::Invalid {
                    config: config.clone(),
                    reason: error.message,
                });
            }
        };
        let handle = PluginSetHandle::new(set);
        record_metric(true);
        if let Some(cm) = &found {
            SwapReporter::new(client, config).report(cm, &handle, None).await;
        }
        Ok(Some((handle, serving)))
    }

    /// Keeps the set in step with the ConfigMap until `shutdown` completes; returns at once without
    /// `--plugin-config`.
    pub async fn watch(self, shutdown: impl std::future::Future<Output = ()>) {
        if let Some(watch) = self.watch {
            watch.run(self.handle, shutdown).await;
        }
    }
}

/// Publishes the outcome of an attempt on the ConfigMap.
struct SwapReporter {
    api: Api<ConfigMap>,
    client: Client,
    reporter: Reporter,
    config: PluginConfigRef,
}

impl SwapReporter {
    fn new(client: &Client, config: &PluginConfigRef) -> Self {
        let reporter = Reporter {
            controller: REPORTER.to_owned(),
            instance: std::env::var("HOSTNAME").ok(),
        };
        SwapReporter {
            api: Api::namespaced(client.clone(), &config.namespace),
            client: client.clone(),
            reporter,
            config: config.clone(),
        }
    }

    /// `error: None` reports the set in service as swapped in.
    async fn report(&self, cm: &ConfigMap, handle: &PluginSetHandle, error: Option<&str>) {
        let status = handle.status();
        let (type_, reason, note) = match error {
            None => (
                EventType::Normal,
                "PluginSetSwapped",
                format!("generation {} serving {}", status.generation, status.serving),
            ),
            Some(error) => (
                EventType::Warning,
                "PluginSetRejected",
                format!("kept generation {}: {error}", status.generation),
            ),
        };
        match error {
            None => tracing::info!(config = %self.config, generation = status.generation,
                serving = %status.serving, "plugin set swapped in"),
            Some(error) => tracing::warn!(config = %self.config, generation = status.generation,
                %error, "plugin set rejected; the set in service stays"),
        }
        let event = Event {
            type_,
            reason: reason.to_owned(),
            note: Some(truncate(note, 1024)),
            action: "SwapPlugins".to_owned(),
            secondary: None,
        };
        // A recorder per event: a shared one folds every refusal into one event series that keeps the first
        // note, and the admin must see the reason of the latest attempt.
        let recorder = Recorder::new(self.client.clone(), self.reporter.clone());
        if let Err(e) = recorder.publish(&event, &cm.object_ref(&())).await {
            tracing::warn!(error = %e, config = %self.config, "publishing the plugin set event");
        }
        let annotation = json!({
            "generation": status.generation,
            "result": if error.is_none() { "Swapped" } else { "Rejected" },
            "serving": status.serving,
            "message": error.unwrap_or_default(),
        });
        let patch = json!({"metadata": {"annotations": {STATUS_ANNOTATION: annotation.to_string()}}});
        if let Err(e) = self
            .api
            .patch(&self.config.name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            tracing::warn!(error = %e, config = %self.config, "writing the plugin set status annotation");
        }
    }
}

/// The reporting controller of plugin-set Events.
pub const REPORTER: &str = "platform-mesh-operator";

fn truncate(mut text: String, limit: usize) -> String {
    if text.len() > limit {
        let mut end = limit - 3;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push_str("...");
    }
    text
}

impl ConfigWatch {
    /// Watches the ConfigMap and swaps plugin sets until `shutdown` completes.
    async fn run(mut self, handle: PluginSetHandle, shutdown: impl std::future::Future<Output = ()>) {
        let config = self.config.clone();
        let api: Api<ConfigMap> = Api::namespaced(self.client.clone(), &config.namespace);
        let selector = watcher::Config::default().fields(&format!("metadata.name={}", config.name));
        // With backoff: an API server that is gone must not turn this loop into a busy one.
        let mut events = std::pin::pin!(watcher(api, selector).default_backoff());
        let mut shutdown = std::pin::pin!(shutdown);
        let reporter = SwapReporter::new(&self.client, &config);
        let mut latest: Option<Option<ConfigMap>> = None;
        let mut seen_in_init = false;
        let mut retry: Option<(tokio::time::Instant, Duration)> = None;
        loop {
            let retry_at = retry.map(|(at, _)| at);
            tokio::select! {
                () = &mut shutdown => return,
                () = sleep_until(retry_at) => {}
                event = events.next() => match event {
                    None => return,
                    Some(Err(error)) => {
                        tracing::warn!(%error, %config, "watching the plugin ConfigMap; retrying");
                        continue;
                    }
                    Some(Ok(watcher::Event::Init)) => { seen_in_init = false; continue; }
                    Some(Ok(watcher::Event::InitApply(cm))) => { seen_in_init = true; latest = Some(Some(cm)); }
                    Some(Ok(watcher::Event::InitDone)) => {
                        if !seen_in_init { latest = Some(None); }
                    }
                    Some(Ok(watcher::Event::Apply(cm))) => latest = Some(Some(cm)),
                    Some(Ok(watcher::Event::Delete(_))) => latest = Some(None),
                },
            }
            let Some(current) = &latest else { continue };
            let want = wanted(current.as_ref());
            let retrying = retry.is_some_and(|(at, _)| at <= tokio::time::Instant::now());
            // Keyed by content: the status annotation written below comes back as an event and is ignored.
            if self.serving == want && !retrying {
                continue;
            }
            if self.serving != want {
                // New content starts its own backoff.
                retry = None;
            }
            self.serving = want.clone();
            match load(
                &self.runtime,
                &self.client,
                Some(&config),
                &want,
                self.flags.as_ref(),
            )
            .await
            {
                Ok(set) => {
                    handle.swap(set);
                    retry = None;
                    record_metric(true);
                    match current {
                        Some(cm) => reporter.report(cm, &handle, None).await,
                        None => tracing::info!(%config,
                            "plugin ConfigMap deleted; built-in plugin configuration swapped in"),
                    }
                }
                Err(LoadError { message: reason, .. }) => {
                    handle.record_failure(&reason);
                    record_metric(false);
                    let delay = retry.map_or(RETRY_MIN, |(_, d)| (d * 2).min(RETRY_MAX));
                    retry = Some((tokio::time::Instant::now() + delay, delay));
                    match current {
                        Some(cm) => reporter.report(cm, &handle, Some(&reason)).await,
                        None => {
                            tracing::warn!(%config, error = %reason, "built-in plugin configuration rejected")
                        }
                    }
                }
            }
        }
    }
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

fn record_metric(swapped: bool) {
    crate::metrics::global().record_plugin_set_swap(swapped);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wanted_reads_the_key_or_falls_back_to_the_builtin_set() {
        assert_eq!(wanted(None), Wanted::Builtin);
        let mut cm = ConfigMap::default();
        assert_eq!(wanted(Some(&cm)), Wanted::MissingKey);
        cm.data = Some([(CONFIG_KEY.to_owned(), "plugins: []".to_owned())].into());
        assert_eq!(wanted(Some(&cm)), Wanted::Text("plugins: []".into()));
    }
}

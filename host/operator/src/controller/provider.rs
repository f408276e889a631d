//! The Provider controller (spec §2.6 bootstrap, §4.8): Provider objects live in kcp workspaces and are watched
//! through the `providers.platform-mesh.io` APIExport virtual workspace, across every logical cluster that binds
//! the export.
//!
//! # Flow
//! 1. Bootstrap: until kcp, its admin secret and the endpoint slice `--providers-apiexport-endpointslice-name`
//!    in `--providers-apiexport-endpointslice-workspace` exist, retry every 15 s (first attempt at once) and log
//!    why; the rest of the operator runs meanwhile. Only shutdown ends the wait.
//! 2. Watch `<slice url>/clusters/*`. Each Provider is keyed by `(logical cluster, name)` — the cluster is put
//!    into the cached object's namespace, so same-named Providers of different workspaces never collide.
//! 3. Each reconcile runs the `provider` chain with the object's workspace (`kcp(<logical cluster>)`) as the
//!    object target; the engine reads and writes the Provider (finalizers, status) through the virtual workspace.
//!    Failures back off per `(cluster, name)` (2 s for 60 s, then doubling to 1000 s) and are forgotten on
//!    success; a lost write race or a transient API error on the Provider itself is retried after 1 s.
//! 4. Condition transitions into and out of errors become Kubernetes Events on the Provider
//!    ([`super::events`]), created in the Provider's own logical cluster (namespace `default`, as for any
//!    cluster-scoped object) through the kcp client of that cluster: the virtual workspace serves only the
//!    exported resources, not Events.
//! 5. The kcp admin configuration follows its Secret (certificate or CA rotation): every [`ADMIN_CHECK`] the
//!    Secret is compared again, and once the configuration was rebuilt the watch ends, its in-flight reconciles
//!    drain, and the controller connects again with the new credentials. Cached event publishers of an older
//!    configuration are dropped before the next event.

use std::{
    collections::HashMap,
    future::Future,
    sync::{Arc, Mutex},
    time::Duration,
};

use futures::{FutureExt, StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ObjectReference;
use kube::{
    Api, Resource, ResourceExt,
    runtime::{
        WatchStreamExt, applier,
        controller::Config,
        reflector::{self, ObjectRef},
        watcher,
    },
};
use serde_json::Value;

use super::{
    events::EventPublisher,
    progress::ProgressSink,
    runner::{self, Policy, Runner},
    vworkspace::{VirtualWorkspace, VirtualWorkspaceError, endpoint_url},
};
use crate::{
    clusters::{ClusterError, Clusters, KCP_ADMIN_MAX_AGE},
    crd::Provider,
    errors::error_chain,
    lifecycle::{
        BackoffConfig, ChainSource, ConditionChange, Lifecycle, LifecycleOptions, ObjectKey, PassReport,
        Target,
    },
};

/// The controller name used in logs, progress events and the plugin configuration's chains.
pub const CONTROLLER: &str = "provider";

/// Upstream retries the bootstrap every 15 s.
pub const BOOTSTRAP_RETRY: Duration = Duration::from_secs(15);

/// How often the watch compares the kcp admin Secret, to restart with rotated credentials.
pub const ADMIN_CHECK: Duration = KCP_ADMIN_MAX_AGE;

/// Settings of the Provider controller.
#[derive(Clone, Debug)]
pub struct ProviderSettings {
    /// `--max-concurrent-reconciles`.
    pub concurrency: u16,
    /// `--debug-label-value`.
    pub debug_label_value: String,
    /// `--providers-apiexport-endpointslice-name`.
    pub slice_name: String,
    /// `--providers-apiexport-endpointslice-workspace`.
    pub slice_workspace: String,
    /// How long to wait between bootstrap attempts.
    pub bootstrap_retry: Duration,
}

/// What builds a lifecycle per object: the chain and options shared by all, the target per cluster.
pub struct ProviderLifecycle {
    /// The `provider` chain.
    pub chain: ChainSource,
    /// The operator configuration plugins receive.
    pub operator_config: Value,
}

impl ProviderLifecycle {
    fn for_cluster(&self, cluster: &str) -> Lifecycle {
        Lifecycle::with_chain_source(
            CONTROLLER,
            Target::Kcp(cluster.to_owned()),
            self.chain.clone(),
            LifecycleOptions::default(),
            self.operator_config.clone(),
        )
    }
}

/// What is the Provider controller's own: a lifecycle per logical cluster, the virtual workspace as the store,
/// Events in the Provider's own logical cluster.
struct ProviderPolicy {
    lifecycle: Arc<ProviderLifecycle>,
    store: VirtualWorkspace,
    events: Arc<ClusterEvents>,
}

impl Policy for ProviderPolicy {
    type Object = Provider;
    const CONTROLLER: &'static str = CONTROLLER;
    const KIND: &'static str = "Provider";

    /// `(logical cluster, name)`; a Provider without its cluster is left alone.
    fn key(&self, provider: &Provider) -> Option<ObjectKey> {
        let name = provider.name_any();
        let Some(cluster) = provider.namespace() else {
            tracing::warn!(provider = %name, "Provider without kcp.io/cluster annotation; ignored");
            return None;
        };
        Some(ObjectKey::namespaced(cluster, name))
    }

    async fn pass(&self, _provider: &Provider, key: &ObjectKey) -> PassReport {
        let cluster = key.namespace.as_deref().unwrap_or_default();
        self.lifecycle
            .for_cluster(cluster)
            .reconcile(&self.store, key)
            .await
    }

    async fn publish(&self, provider: &Provider, key: &ObjectKey, changes: &[ConditionChange]) {
        let cluster = key.namespace.as_deref().unwrap_or_default();
        self.events
            .publish(cluster, &reference_of(provider), changes)
            .await;
    }
}

/// One [`EventPublisher`] per logical cluster, so that repeated events of one Provider fold into a series.
/// Publishers are made from one generation of the kcp admin configuration and dropped when it changes.
struct ClusterEvents {
    clusters: Arc<Clusters>,
    /// The admin configuration generation the publishers were made from, and the publishers.
    publishers: Mutex<(u64, HashMap<String, EventPublisher>)>,
}

impl ClusterEvents {
    fn new(clusters: Arc<Clusters>) -> Self {
        ClusterEvents {
            clusters,
            publishers: Mutex::new((0, HashMap::new())),
        }
    }

    fn cached(&self) -> std::sync::MutexGuard<'_, (u64, HashMap<String, EventPublisher>)> {
        // Every update is a single insert or clear, so a poisoned lock is still consistent.
        self.publishers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The publisher of `cluster` made from the current admin configuration.
    async fn publisher(&self, cluster: &str) -> Result<EventPublisher, ClusterError> {
        let (_, generation) = self.clusters.kcp_admin_generation(KCP_ADMIN_MAX_AGE).await?;
        {
            let mut cached = self.cached();
            if cached.0 != generation {
                *cached = (generation, HashMap::new());
            }
            if let Some(publisher) = cached.1.get(cluster) {
                return Ok(publisher.clone());
            }
        }
        let client = self.clusters.client(&Target::Kcp(cluster.to_owned())).await?;
        let publisher = EventPublisher::new(client, std::env::var("HOSTNAME").ok());
        let mut cached = self.cached();
        if cached.0 == generation {
            cached.1.insert(cluster.to_owned(), publisher.clone());
        }
        Ok(publisher)
    }

    /// Publishes the events of `changes` on `reference` in logical cluster `cluster`; failures are logged.
    async fn publish(&self, cluster: &str, reference: &ObjectReference, changes: &[ConditionChange]) {
        match self.publisher(cluster).await {
            Ok(publisher) => publisher.publish(reference, changes).await,
            Err(error) => {
                let error = error_chain(&error);
                tracing::warn!(%cluster, %error, "publishing Provider events");
            }
        }
    }
}

/// The reference events name: the Provider as kcp knows it, cluster-scoped (the cache keeps the logical
/// cluster in the namespace only to key by it).
fn reference_of(provider: &Provider) -> ObjectReference {
    ObjectReference {
        namespace: None,
        ..provider.object_ref(&())
    }
}

/// Connects to the virtual workspace: the slice's URL with the kcp admin credentials, and the generation of
/// the admin configuration used.
pub async fn connect(
    clusters: &Clusters,
    settings: &ProviderSettings,
) -> Result<(VirtualWorkspace, u64), VirtualWorkspaceError> {
    let url = endpoint_url(clusters, &settings.slice_workspace, &settings.slice_name).await?;
    let (admin, generation) = clusters
        .kcp_admin_generation(KCP_ADMIN_MAX_AGE)
        .await
        .map_err(|source| VirtualWorkspaceError::Kcp {
            workspace: settings.slice_workspace.clone(),
            source: Box::new(source),
        })?;
    Ok((VirtualWorkspace::new(url, admin), generation))
}

/// Completes once the kcp admin configuration is no longer generation `seen`, comparing its Secret every
/// `every`. A Secret that cannot be read leaves the watch running (its own errors are logged and retried).
pub async fn admin_rotated(clusters: &Clusters, seen: u64, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        match clusters.kcp_admin_generation(Duration::ZERO).await {
            Ok((_, generation)) if generation != seen => return,
            Ok(_) => {}
            Err(error) => {
                tracing::debug!(error = %error_chain(&error), "comparing the kcp admin Secret");
            }
        }
    }
}

/// Runs the Provider controller until `shutdown` completes: bootstrap (retrying forever), then the watch,
/// connecting again whenever the kcp admin configuration is rotated.
pub async fn run(
    clusters: Arc<Clusters>,
    lifecycle: ProviderLifecycle,
    settings: ProviderSettings,
    progress: ProgressSink,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) {
    let shutdown = shutdown.shared();
    let lifecycle = Arc::new(lifecycle);
    let events = Arc::new(ClusterEvents::new(clusters.clone()));
    loop {
        let (workspace, generation) = loop {
            match connect(&clusters, &settings).await {
                Ok(connected) => break connected,
                Err(error) => {
                    tracing::info!(error = %error_chain(&error), retry_in = ?settings.bootstrap_retry,
                        "Provider controller waiting for the providers APIExport virtual workspace");
                }
            }
            tokio::select! {
                () = tokio::time::sleep(settings.bootstrap_retry) => {}
                () = shutdown.clone() => return,
            }
        };
        let stop = {
            let (shutdown, clusters) = (shutdown.clone(), clusters.clone());
            async move {
                tokio::select! {
                    () = shutdown => {}
                    () = admin_rotated(&clusters, generation, ADMIN_CHECK) => {}
                }
            }
        }
        .boxed()
        .shared();
        let policy = ProviderPolicy {
            lifecycle: lifecycle.clone(),
            store: workspace,
            events: events.clone(),
        };
        watch(policy, &settings, progress.clone(), stop).await;
        if shutdown.peek().is_some() {
            return;
        }
        tracing::info!("the kcp admin configuration changed; the Provider controller connects again");
    }
}

/// Watches `<slice url>/clusters/*` and reconciles until `stop` completes.
async fn watch(
    policy: ProviderPolicy,
    settings: &ProviderSettings,
    progress: ProgressSink,
    stop: impl Future<Output = ()> + Clone + Send + Sync + 'static,
) {
    tracing::info!(
        url = policy.store.url(),
        "Provider controller watching the providers virtual workspace"
    );
    let all = match policy.store.client("*") {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(error = %error_chain(&error), "Provider controller cannot start");
            // Wait for a rotation (or shutdown) rather than reconnecting at once with the same configuration.
            stop.await;
            return;
        }
    };
    let context = Arc::new(Runner::new(
        policy,
        BackoffConfig::DEFAULT,
        settings.debug_label_value.clone(),
        progress,
    ));
    let (reader, writer) = reflector::store::<Provider>();
    let events = watcher(
        Api::<Provider>::all(all),
        watcher::Config::default().any_semantic(),
    )
    .map_ok(|event| event.modify(key_by_cluster))
    .default_backoff();
    let queue = reflector::reflector(writer, events)
        .applied_objects()
        .map_ok(|provider| ObjectRef::from_obj(&provider));
    let results = applier(
        |provider, ctx| Box::pin(runner::reconcile(provider, ctx)),
        runner::error_policy,
        context,
        reader,
        queue.take_until(stop.clone()),
        Config::default().concurrency(settings.concurrency),
    );
    runner::drive(CONTROLLER, results, stop).await;
}

/// The logical cluster of a Provider read from kcp (its `kcp.io/cluster` annotation).
pub fn cluster_of(provider: &Provider) -> Option<String> {
    provider.annotations().get("kcp.io/cluster").cloned()
}

/// Puts the logical cluster into the cached object's namespace so that the cache keys by `(cluster, name)`.
fn key_by_cluster(provider: &mut Provider) {
    provider.metadata.namespace = cluster_of(provider);
    provider.metadata.managed_fields = None;
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::events::v1::Event as KubeEvent;

    use super::*;
    use crate::{
        clusters::rotation_tests::{behind_tls_front, pki, write_secret},
        crd::ProviderSpec,
    };

    #[test]
    fn events_name_the_provider_as_cluster_scoped_in_its_logical_cluster() {
        let mut provider = Provider::new("acme", ProviderSpec::default());
        provider
            .annotations_mut()
            .insert("kcp.io/cluster".into(), "2abc".into());
        key_by_cluster(&mut provider);
        assert_eq!(provider.namespace().as_deref(), Some("2abc"), "cached by cluster");
        let reference = reference_of(&provider);
        assert_eq!(reference.namespace, None);
        assert_eq!(reference.name.as_deref(), Some("acme"));
        assert_eq!(reference.kind.as_deref(), Some("Provider"));
        assert_eq!(
            reference.api_version.as_deref(),
            Some("providers.platform-mesh.io/v1alpha1")
        );
    }

    fn failed(type_: &str) -> ConditionChange {
        ConditionChange {
            type_: type_.into(),
            status: "False".into(),
            reason: "Error".into(),
            message: "failed".into(),
            previous_reason: "Pending".into(),
        }
    }

    /// The notes of the events in the root workspace, read with the current admin configuration.
    async fn event_notes(clusters: &Clusters) -> Vec<String> {
        let client = clusters
            .client(&Target::Kcp("root".into()))
            .await
            .expect("kcp client");
        let mut notes: Vec<String> = Api::<KubeEvent>::all(client)
            .list(&Default::default())
            .await
            .expect("events listed")
            .items
            .into_iter()
            .filter_map(|e| e.note)
            .collect();
        notes.sort();
        notes
    }

    /// After the kcp CA and admin certificate are rotated, events are published with the new credentials (a
    /// publisher cached from before would be refused), and the watch's rotation check fires.
    #[tokio::test]
    async fn a_rotated_kcp_admin_configuration_reaches_event_publishers_and_the_watch() {
        let (server, front, admin) = behind_tls_front(&pki("kcp-ca-1")).await;
        let clusters = Arc::new(Clusters::new(server.client(), server.client(), admin));
        let events = ClusterEvents::new(clusters.clone());
        let mut provider = Provider::new("acme", ProviderSpec::default());
        provider.metadata.uid = Some("uid-acme".into());
        let reference = reference_of(&provider);

        events.publish("root", &reference, &[failed("First")]).await;
        assert_eq!(event_notes(&clusters).await, ["First: failed"]);
        let (_, generation) = clusters
            .kcp_admin_generation(Duration::ZERO)
            .await
            .expect("admin configuration");
        let unchanged = tokio::time::timeout(
            Duration::from_millis(200),
            admin_rotated(&clusters, generation, Duration::from_millis(20)),
        );
        assert!(unchanged.await.is_err(), "no rotation, no restart");

        let second = pki("kcp-ca-2");
        front.rotate(&second);
        write_secret(&server.client(), &second).await;
        let rotated = tokio::time::timeout(
            Duration::from_secs(10),
            admin_rotated(&clusters, generation, Duration::from_millis(20)),
        );
        assert!(rotated.await.is_ok(), "the watch restarts after a rotation");

        events.publish("root", &reference, &[failed("Second")]).await;
        assert_eq!(
            event_notes(&clusters).await,
            ["First: failed", "Second: failed"],
            "the publisher of the old credentials is dropped"
        );
        server.shutdown().await;
    }
}

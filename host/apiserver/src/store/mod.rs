//! In-memory object storage: clusters, resource versions, watch history.
//!
//! Everything lives behind one mutex ([`crate::server::Shared`]); every operation here is synchronous and runs
//! with the lock held, so a request's read-modify-write is atomic and events are published in resourceVersion
//! order.

mod cluster;
mod ids;
mod write;

pub use cluster::{Cluster, Objects, crd_key, ns_key};
pub(crate) use ids::random_u64;
pub use ids::{random_hex, uid};
pub use write::{CLUSTER_ANNOTATION, DeleteOptions, Propagation, Written, parse_propagation};

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::broadcast;

use crate::kcp::logical_cluster_name;
use crate::resources::ResKey;

/// Kind of a watch event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    /// Object created.
    Added,
    /// Object changed.
    Modified,
    /// Object removed.
    Deleted,
}

impl EventType {
    /// The wire name (`ADDED`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One change, as published to watchers.
#[derive(Clone, Debug)]
pub struct Event {
    /// Logical cluster name (empty for the plain cluster).
    pub cluster: Arc<str>,
    /// Resource type.
    pub key: ResKey,
    /// Namespace (empty if cluster-scoped).
    pub namespace: String,
    /// What happened.
    pub kind: EventType,
    /// The object after the change (before removal for `Deleted`, with the deletion's resourceVersion).
    pub object: Arc<Value>,
    /// The resourceVersion of the change.
    pub rv: u64,
}

/// An issued ServiceAccount token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedToken {
    /// Logical cluster of the ServiceAccount.
    pub cluster: String,
    /// Namespace of the ServiceAccount.
    pub namespace: String,
    /// ServiceAccount name.
    pub name: String,
    /// Expiry, seconds since the epoch.
    pub expires: i64,
}

/// The whole state of the server.
pub struct Store {
    rv: u64,
    clusters: HashMap<String, Cluster>,
    aliases: HashMap<String, String>,
    history: VecDeque<Arc<Event>>,
    history_cap: usize,
    /// Events at or below this resourceVersion have left the history window.
    floor: u64,
    tx: broadcast::Sender<Arc<Event>>,
    /// Tokens issued through `serviceaccounts/<name>/token`.
    pub tokens: HashMap<String, IssuedToken>,
}

/// The name of the plain (non-kcp) cluster.
pub const PLAIN: &str = "";

impl Store {
    /// A store with the plain cluster and kcp's `root`; `history_cap` bounds the watch resume window.
    pub fn new(history_cap: usize) -> Self {
        let (tx, _) = broadcast::channel(history_cap.clamp(1024, 65_536));
        let mut s = Self {
            rv: 0,
            clusters: HashMap::new(),
            aliases: HashMap::new(),
            history: VecDeque::new(),
            history_cap,
            floor: 0,
            tx,
            tokens: HashMap::new(),
        };
        s.ensure_cluster(PLAIN, None, false);
        s.ensure_cluster("root", Some("root".into()), true);
        s
    }

    /// The newest resourceVersion.
    pub fn rv(&self) -> u64 {
        self.rv
    }

    /// The lowest resourceVersion a watch can still resume from.
    pub fn floor(&self) -> u64 {
        self.floor
    }

    fn next_rv(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    /// Subscribes to all future events.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }

    /// Events in the history window newer than `rv`.
    pub fn history_since(&self, rv: u64) -> impl Iterator<Item = &Arc<Event>> {
        self.history.iter().filter(move |e| e.rv > rv)
    }

    fn publish(&mut self, event: Event) {
        let event = Arc::new(event);
        self.history.push_back(event.clone());
        while self.history.len() > self.history_cap {
            if let Some(old) = self.history.pop_front() {
                self.floor = old.rv;
            }
        }
        let _ = self.tx.send(event);
    }

    /// Resolves `/clusters/<target>` to a logical cluster name, creating the cluster on first use.
    /// `target` is a workspace path (`root`, `root:orgs`) or a logical cluster name.
    pub fn resolve(&mut self, target: &str) -> String {
        if let Some(name) = self.aliases.get(target) {
            return name.clone();
        }
        if self.clusters.contains_key(target) {
            return target.to_string();
        }
        if target == "root" || target.starts_with("root:") {
            let name = logical_cluster_name(target);
            self.aliases.insert(target.to_string(), name.clone());
            self.ensure_cluster(&name, Some(target.to_string()), true);
            return name;
        }
        self.ensure_cluster(target, None, true);
        target.to_string()
    }

    /// Registers workspace `path` as another name of logical cluster `name` (created if needed).
    pub fn alias(&mut self, path: &str, name: &str) {
        self.aliases.insert(path.to_string(), name.to_string());
        self.ensure_cluster(name, Some(path.to_string()), true);
        if let Some(c) = self.clusters.get_mut(name) {
            c.path.get_or_insert_with(|| path.to_string());
        }
    }

    fn ensure_cluster(&mut self, name: &str, path: Option<String>, kcp: bool) {
        if self.clusters.contains_key(name) {
            return;
        }
        self.clusters
            .insert(name.to_string(), Cluster::new(name, path, kcp));
        let defaults: &[&str] = if kcp {
            &["default"]
        } else {
            &["default", "kube-system", "kube-public"]
        };
        for ns in defaults {
            let obj = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
            let info = self.clusters[name].resource("", "v1", "namespaces");
            if let Some(info) = info {
                // Creating a namespace in a fresh cluster cannot fail.
                let _ = self.create(name, &info, obj);
            }
        }
    }

    /// A cluster by logical name.
    pub fn cluster(&self, name: &str) -> Option<&Cluster> {
        self.clusters.get(name)
    }

    /// All kcp logical clusters (for `/clusters/*`).
    pub fn kcp_clusters(&self) -> impl Iterator<Item = &Cluster> {
        self.clusters.values().filter(|c| c.kcp)
    }

    /// Every cluster, plain included.
    pub fn clusters(&self) -> impl Iterator<Item = &Cluster> {
        self.clusters.values()
    }

    /// Workspace path aliases (`path → logical name`).
    pub fn aliases(&self) -> &HashMap<String, String> {
        &self.aliases
    }

    /// Replaces the whole state (snapshot restore); history restarts at the restored resourceVersion.
    pub fn restore(&mut self, rv: u64, clusters: Vec<Cluster>, aliases: HashMap<String, String>) {
        self.rv = rv;
        self.floor = rv;
        self.history.clear();
        self.clusters = clusters.into_iter().map(|c| (c.name.clone(), c)).collect();
        for c in self.clusters.values_mut() {
            c.refresh_crds();
        }
        self.aliases = aliases;
    }
}

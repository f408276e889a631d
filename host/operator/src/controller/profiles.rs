//! Triggers from profile ConfigMaps, without a cluster-wide ConfigMap watch (spec §11.1 items 4 and 11).
//!
//! Upstream reads ConfigMaps through a cache that starts a cluster-wide informer, so the operator holds every
//! ConfigMap of the cluster in memory and needs list/watch on all of them. Here each PlatformMesh's profile
//! ConfigMap gets its own watch, scoped to its namespace and to its name with a field selector; the set of
//! watches follows the PlatformMesh cache (started when a PlatformMesh references a profile, stopped when none
//! does). A change seen after a watch's initial listing fires a trigger. A watch's first listing fires one when it
//! finds the ConfigMap, because the ConfigMap may have been created or changed between the PlatformMesh's pass and
//! the start of the watch (a pass that changes nothing writes nothing, so the spare pass costs reads only). A
//! re-listing after a dropped watch fires only if the object changed meanwhile.

use std::{
    collections::{BTreeSet, HashMap},
    time::Duration,
};

use futures::{Stream, StreamExt, channel::mpsc};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::{
    Api, Client, ResourceExt,
    runtime::{WatchStreamExt as _, reflector::Store, watcher},
};
use tokio::task::JoinHandle;

use super::mapper::profile_config_map;
use crate::crd::PlatformMesh;

/// How often the set of watched profiles is brought in line with the PlatformMesh cache.
const RESYNC: Duration = Duration::from_secs(2);

/// The profile ConfigMaps (`namespace`, `name`) the cached PlatformMeshes reference.
pub fn referenced_profiles(cache: &Store<PlatformMesh>) -> BTreeSet<(String, String)> {
    cache
        .state()
        .iter()
        .filter_map(|pm| {
            let namespace = pm.metadata.namespace.as_deref()?;
            Some(profile_config_map(namespace, &pm.name_any(), pm))
        })
        .collect()
}

/// A stream that yields once per observed change of any referenced profile ConfigMap. Ends when dropped.
pub fn profile_changes(client: Client, cache: Store<PlatformMesh>) -> impl Stream<Item = ()> + Send {
    let (sender, receiver) = mpsc::unbounded();
    let supervisor = tokio::spawn(supervise(client, cache, sender));
    // Dropping the stream ends the supervisor, which aborts every watch.
    let guard = AbortOnDrop(supervisor);
    receiver.map(move |()| {
        let _ = &guard;
    })
}

struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn supervise(client: Client, cache: Store<PlatformMesh>, sender: mpsc::UnboundedSender<()>) {
    let mut watches: HashMap<(String, String), AbortOnDrop> = HashMap::new();
    loop {
        if sender.is_closed() {
            return;
        }
        let wanted = referenced_profiles(&cache);
        watches.retain(|key, _| wanted.contains(key));
        for key in wanted {
            if let std::collections::hash_map::Entry::Vacant(vacant) = watches.entry(key) {
                let task = tokio::spawn(watch_one(client.clone(), vacant.key().clone(), sender.clone()));
                vacant.insert(AbortOnDrop(task));
            }
        }
        tokio::time::sleep(RESYNC).await;
    }
}

async fn watch_one(client: Client, (namespace, name): (String, String), sender: mpsc::UnboundedSender<()>) {
    let api: Api<ConfigMap> = Api::namespaced(client, &namespace);
    let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
    let mut seen = ChangeDetector::default();
    // With backoff: an API server that is gone must not turn this loop into a busy one.
    let mut events = std::pin::pin!(watcher(api, config).default_backoff());
    while let Some(event) = events.next().await {
        match event {
            Ok(event) => {
                if seen.observe(&event) && sender.unbounded_send(()).is_err() {
                    return;
                }
            }
            // The stream retries after its backoff on the next poll.
            Err(error) => tracing::debug!(%error, %namespace, %name, "profile watch"),
        }
    }
}

/// Decides which watch events are changes: the last seen `resourceVersion` (None: absent) against the new one.
#[derive(Default)]
struct ChangeDetector {
    /// `None` before the first listing completed.
    known: Option<Option<String>>,
    /// The version seen during a (re-)listing in progress.
    listing: Option<String>,
}

impl ChangeDetector {
    fn observe(&mut self, event: &watcher::Event<ConfigMap>) -> bool {
        match event {
            watcher::Event::Init => {
                self.listing = None;
                false
            }
            watcher::Event::InitApply(cm) => {
                self.listing = cm.resource_version();
                false
            }
            watcher::Event::InitDone => {
                let now = self.listing.take();
                let changed = match &self.known {
                    None => now.is_some(),
                    Some(known) => *known != now,
                };
                self.known = Some(now);
                changed
            }
            watcher::Event::Apply(cm) => {
                let now = cm.resource_version();
                let changed = self.known.as_ref() != Some(&now);
                self.known = Some(now);
                changed
            }
            watcher::Event::Delete(_) => {
                self.known = Some(None);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use kube::api::ObjectMeta;

    use super::*;

    fn cm(rv: &str) -> ConfigMap {
        ConfigMap {
            metadata: ObjectMeta {
                resource_version: Some(rv.into()),
                ..ObjectMeta::default()
            },
            ..ConfigMap::default()
        }
    }

    #[test]
    fn first_listing_of_an_absent_profile_is_quiet() {
        use watcher::Event::*;
        let mut d = ChangeDetector::default();
        assert!(!d.observe(&Init));
        assert!(!d.observe(&InitDone));
        assert!(d.observe(&Apply(cm("1"))), "created later");
    }

    #[test]
    fn first_listing_of_a_present_profile_and_later_changes_trigger() {
        use watcher::Event::*;
        let mut d = ChangeDetector::default();
        assert!(!d.observe(&Init));
        assert!(!d.observe(&InitApply(cm("1"))));
        assert!(
            d.observe(&InitDone),
            "it may have changed before the watch started"
        );
        assert!(d.observe(&Apply(cm("2"))));
        assert!(
            !d.observe(&Apply(cm("2"))),
            "the same version twice is one change"
        );
        // A dropped watch re-lists: unchanged is quiet, changed fires once.
        assert!(!d.observe(&Init));
        assert!(!d.observe(&InitApply(cm("2"))));
        assert!(!d.observe(&InitDone));
        assert!(!d.observe(&Init));
        assert!(!d.observe(&InitApply(cm("3"))));
        assert!(d.observe(&InitDone));
        assert!(d.observe(&Delete(cm("3"))));
        // Created after being absent.
        assert!(!d.observe(&Init));
        assert!(!d.observe(&InitDone));
        assert!(d.observe(&Apply(cm("4"))));
    }
}

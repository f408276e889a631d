//! The process-wide image version store (upstream spec §4.7), shared by every plugin and surviving plugin swaps.

use std::{collections::HashMap, sync::Mutex};

/// One recorded version: a dot-separated Helm values path and the version to write there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageVersion {
    pub path: String,
    pub version: String,
}

#[derive(Default)]
struct Entry {
    versions: Vec<ImageVersion>,
    unsuspended: bool,
}

/// Thread-safe, in-memory (lost on restart), keyed by `<namespace>/<name>` of a HelmRelease or Application.
#[derive(Default)]
pub struct ImageVersionStore {
    entries: Mutex<HashMap<String, Entry>>,
}

fn key(namespace: &str, name: &str) -> String {
    format!("{namespace}/{name}")
}

impl ImageVersionStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<R>(&self, f: impl FnOnce(&mut HashMap<String, Entry>) -> R) -> R {
        // A panic while holding the lock cannot leave an entry half-written (every update is one assignment or
        // push), so a poisoned lock is still consistent.
        let mut guard = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut guard)
    }

    /// Records `version` at `path`, replacing an earlier entry with the same path in place.
    pub fn set(&self, namespace: &str, name: &str, path: &str, version: &str) {
        self.with(|entries| {
            let versions = &mut entries.entry(key(namespace, name)).or_default().versions;
            match versions.iter_mut().find(|v| v.path == path) {
                Some(existing) => existing.version = version.to_owned(),
                None => versions.push(ImageVersion {
                    path: path.to_owned(),
                    version: version.to_owned(),
                }),
            }
        });
    }

    /// The versions recorded for the release in first-insertion order (empty if none).
    pub fn get(&self, namespace: &str, name: &str) -> Vec<ImageVersion> {
        self.with(|entries| {
            entries
                .get(&key(namespace, name))
                .map(|e| e.versions.clone())
                .unwrap_or_default()
        })
    }

    /// Marks the release as unsuspended (idempotent).
    pub fn set_unsuspended(&self, namespace: &str, name: &str) {
        self.with(|entries| entries.entry(key(namespace, name)).or_default().unsuspended = true);
    }

    /// Whether the release was marked unsuspended.
    pub fn is_unsuspended(&self, namespace: &str, name: &str) -> bool {
        self.with(|entries| entries.get(&key(namespace, name)).is_some_and(|e| e.unsuspended))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_upserts_by_path_and_keeps_first_insertion_order() {
        let store = ImageVersionStore::new();
        store.set("ns", "rel", "image.tag", "1.0");
        store.set("ns", "rel", "sidecar.tag", "2.0");
        store.set("ns", "rel", "image.tag", "1.1");
        let got: Vec<_> = store
            .get("ns", "rel")
            .into_iter()
            .map(|v| (v.path, v.version))
            .collect();
        assert_eq!(
            got,
            [
                ("image.tag".into(), "1.1".into()),
                ("sidecar.tag".into(), "2.0".into())
            ]
        );
        assert!(store.get("ns", "other").is_empty());
    }

    #[test]
    fn releases_are_separate_and_reads_are_copies() {
        let store = ImageVersionStore::new();
        store.set("ns", "a", "image.tag", "1");
        store.set("ns", "b", "image.tag", "2");
        store.set("other", "a", "image.tag", "3");
        let mut copy = store.get("ns", "a");
        copy[0].version = "changed".into();
        copy.clear();
        let version = |ns: &str, name: &str| store.get(ns, name)[0].version.clone();
        assert_eq!(
            (version("ns", "a"), version("ns", "b"), version("other", "a")),
            ("1".into(), "2".into(), "3".into())
        );
    }

    #[test]
    fn unsuspended_flag_is_per_release_and_idempotent() {
        let store = ImageVersionStore::new();
        assert!(!store.is_unsuspended("ns", "rel"));
        store.set_unsuspended("ns", "rel");
        store.set_unsuspended("ns", "rel");
        assert!(store.is_unsuspended("ns", "rel"));
        assert!(!store.is_unsuspended("other", "rel"));
    }

    #[test]
    fn concurrent_writers_do_not_lose_entries() {
        let store = std::sync::Arc::new(ImageVersionStore::new());
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let store = store.clone();
                std::thread::spawn(move || store.set("ns", "rel", &format!("p{i}"), "v"))
            })
            .collect();
        handles.into_iter().for_each(|h| h.join().unwrap());
        assert_eq!(store.get("ns", "rel").len(), 8);
    }
}

//! The process-wide image version store (upstream spec §4.7), shared by every plugin and surviving plugin swaps.
//!
//! Bounded, unlike upstream's: at most [`MAX_RELEASES`] releases (the least recently used one goes first), at most
//! [`MAX_VERSIONS_PER_RELEASE`] paths per release, paths of at most [`MAX_PATH_BYTES`] and versions of at most
//! [`MAX_VERSION_BYTES`] bytes. A release nobody has read or written for [`STALE_AFTER`] (its HelmRelease left the
//! templates, its Resource was deleted) is forgotten.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

/// The most releases the store holds.
pub const MAX_RELEASES: usize = 1024;
/// The most paths recorded for one release.
pub const MAX_VERSIONS_PER_RELEASE: usize = 64;
/// The longest Helm values path.
pub const MAX_PATH_BYTES: usize = 256;
/// The longest version.
pub const MAX_VERSION_BYTES: usize = 256;
/// A release untouched (neither read nor written) for this long is forgotten.
pub const STALE_AFTER: Duration = Duration::from_secs(24 * 3600);

/// One recorded version: a dot-separated Helm values path and the version to write there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageVersion {
    pub path: String,
    pub version: String,
}

struct Entry {
    versions: Vec<ImageVersion>,
    unsuspended: bool,
    used: Instant,
}

impl Default for Entry {
    fn default() -> Self {
        Entry {
            versions: Vec::new(),
            unsuspended: false,
            used: Instant::now(),
        }
    }
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

    /// The entry of a release for writing: stale entries are dropped first, and at the bound the least recently
    /// used release makes room.
    fn entry(entries: &mut HashMap<String, Entry>, key: String) -> &mut Entry {
        let now = Instant::now();
        entries.retain(|_, e| now.duration_since(e.used) < STALE_AFTER);
        if !entries.contains_key(&key)
            && entries.len() >= MAX_RELEASES
            && let Some(oldest) = entries.iter().min_by_key(|(_, e)| e.used).map(|(k, _)| k.clone())
        {
            entries.remove(&oldest);
        }
        let entry = entries.entry(key).or_default();
        entry.used = now;
        entry
    }

    /// Records `version` at `path`, replacing an earlier entry with the same path in place. Refuses paths and
    /// versions over their bounds and a new path for a release that holds [`MAX_VERSIONS_PER_RELEASE`].
    pub fn set(&self, namespace: &str, name: &str, path: &str, version: &str) -> Result<(), String> {
        if path.len() > MAX_PATH_BYTES {
            return Err(format!(
                "image version path is longer than {MAX_PATH_BYTES} bytes"
            ));
        }
        if version.len() > MAX_VERSION_BYTES {
            return Err(format!("image version is longer than {MAX_VERSION_BYTES} bytes"));
        }
        self.with(|entries| {
            let versions = &mut Self::entry(entries, key(namespace, name)).versions;
            if let Some(existing) = versions.iter_mut().find(|v| v.path == path) {
                existing.version = version.to_owned();
            } else if versions.len() >= MAX_VERSIONS_PER_RELEASE {
                return Err(format!(
                    "release {namespace}/{name} already has {MAX_VERSIONS_PER_RELEASE} image versions"
                ));
            } else {
                versions.push(ImageVersion {
                    path: path.to_owned(),
                    version: version.to_owned(),
                });
            }
            Ok(())
        })
    }

    /// The versions recorded for the release in first-insertion order (empty if none).
    pub fn get(&self, namespace: &str, name: &str) -> Vec<ImageVersion> {
        self.with(|entries| {
            let entry = entries.get_mut(&key(namespace, name));
            entry
                .map(|e| {
                    e.used = Instant::now();
                    e.versions.clone()
                })
                .unwrap_or_default()
        })
    }

    /// The number of releases held.
    pub fn len(&self) -> usize {
        self.with(|entries| entries.len())
    }

    /// Whether the store holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[cfg(test)]
    fn age(&self, namespace: &str, name: &str, by: Duration) {
        self.with(|entries| {
            if let Some(e) = entries.get_mut(&key(namespace, name)) {
                e.used = e.used.checked_sub(by).unwrap_or(e.used);
            }
        });
    }

    /// Marks the release as unsuspended (idempotent).
    pub fn set_unsuspended(&self, namespace: &str, name: &str) {
        self.with(|entries| Self::entry(entries, key(namespace, name)).unsuspended = true);
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
        store.set("ns", "rel", "image.tag", "1.0").unwrap();
        store.set("ns", "rel", "sidecar.tag", "2.0").unwrap();
        store.set("ns", "rel", "image.tag", "1.1").unwrap();
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
        store.set("ns", "a", "image.tag", "1").unwrap();
        store.set("ns", "b", "image.tag", "2").unwrap();
        store.set("other", "a", "image.tag", "3").unwrap();
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
                std::thread::spawn(move || store.set("ns", "rel", &format!("p{i}"), "v").unwrap())
            })
            .collect();
        handles.into_iter().for_each(|h| h.join().unwrap());
        assert_eq!(store.get("ns", "rel").len(), 8);
    }

    #[test]
    fn paths_and_versions_are_bounded_at_their_limits() {
        let store = ImageVersionStore::new();
        let path = "p".repeat(MAX_PATH_BYTES);
        let version = "v".repeat(MAX_VERSION_BYTES);
        store.set("ns", "rel", &path, &version).unwrap();
        assert!(store.set("ns", "rel", &format!("{path}x"), "1").is_err());
        assert!(
            store
                .set("ns", "rel", "image.tag", &format!("{version}x"))
                .is_err()
        );
        for i in 1..MAX_VERSIONS_PER_RELEASE {
            store.set("ns", "rel", &format!("p{i}"), "1").unwrap();
        }
        assert_eq!(store.get("ns", "rel").len(), MAX_VERSIONS_PER_RELEASE);
        let err = store.set("ns", "rel", "one.more", "1").unwrap_err();
        assert!(err.contains("already has 64"), "{err}");
        store.set("ns", "rel", "p1", "2").unwrap();
        assert_eq!(store.get("ns", "rel")[1].version, "2", "replacing stays possible");
    }

    #[test]
    fn releases_are_bounded_and_the_least_recently_used_goes() {
        let store = ImageVersionStore::new();
        for i in 0..MAX_RELEASES {
            store.set("ns", &format!("r{i}"), "image.tag", "1").unwrap();
            if i == 0 {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        assert_eq!(store.len(), MAX_RELEASES);
        store.get("ns", "r0");
        std::thread::sleep(Duration::from_millis(2));
        store.set("ns", "new", "image.tag", "1").unwrap();
        assert_eq!(store.len(), MAX_RELEASES);
        assert!(!store.get("ns", "r0").is_empty(), "read recently, kept");
        assert_eq!(
            (0..MAX_RELEASES)
                .filter(|i| store.get("ns", &format!("r{i}")).is_empty())
                .count(),
            1,
            "exactly one release made room"
        );
    }

    #[test]
    fn stale_releases_are_forgotten() {
        let store = ImageVersionStore::new();
        store.set("ns", "gone", "image.tag", "1").unwrap();
        store.set_unsuspended("ns", "gone");
        store.set("ns", "live", "image.tag", "1").unwrap();
        store.age("ns", "gone", STALE_AFTER);
        store.set("ns", "live", "image.tag", "2").unwrap();
        assert_eq!(store.len(), 1);
        assert!(store.get("ns", "gone").is_empty() && !store.is_unsuspended("ns", "gone"));
    }
}

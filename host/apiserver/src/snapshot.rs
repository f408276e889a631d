//! Saving and loading the whole store as one JSON file, so a session can be resumed.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::store::{Cluster, Store};

/// Errors reading or writing a snapshot.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read or written.
    #[error("snapshot file I/O")]
    Io(#[source] std::io::Error),
    /// The file is not a valid snapshot.
    #[error("snapshot format")]
    Format(#[source] serde_json::Error),
}

#[derive(Serialize, Deserialize)]
struct ClusterDoc {
    name: String,
    path: Option<String>,
    kcp: bool,
    /// `(group, plural, object)`.
    objects: Vec<(String, String, Value)>,
}

#[derive(Serialize, Deserialize)]
struct Doc {
    resource_version: u64,
    aliases: HashMap<String, String>,
    clusters: Vec<ClusterDoc>,
}

/// Writes the store to `path`.
///
/// # Errors
///
/// See [`Error`].
pub fn save(path: &Path, store: &Store) -> Result<(), Error> {
    let clusters = store
        .clusters()
        .map(|c| ClusterDoc {
            name: c.name.clone(),
            path: c.path.clone(),
            kcp: c.kcp,
            objects: c
                .objects
                .iter()
                .flat_map(|((g, p), objs)| objs.values().map(move |o| (g.clone(), p.clone(), o.clone())))
                .collect(),
        })
        .collect();
    let doc = Doc {
        resource_version: store.rv(),
        aliases: store.aliases().clone(),
        clusters,
    };
    let text = serde_json::to_vec(&doc).map_err(Error::Format)?;
    std::fs::write(path, text).map_err(Error::Io)
}

/// Replaces the store's state with the snapshot at `path`.
///
/// # Errors
///
/// See [`Error`].
pub fn load(path: &Path, store: &mut Store) -> Result<(), Error> {
    let text = std::fs::read(path).map_err(Error::Io)?;
    let doc: Doc = serde_json::from_slice(&text).map_err(Error::Format)?;
    let clusters = doc
        .clusters
        .into_iter()
        .map(|cd| {
            let mut c = Cluster::new(&cd.name, cd.path, cd.kcp);
            for (g, p, o) in cd.objects {
                let s = |ptr: &str| {
                    o.pointer(ptr)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string()
                };
                let key = (s("/metadata/namespace"), s("/metadata/name"));
                c.objects.entry((g, p)).or_default().insert(key, o);
            }
            c
        })
        .collect();
    store.restore(doc.resource_version, clusters, doc.aliases);
    Ok(())
}

//! Streaming watches: newline-delimited JSON `{"type": ..., "object": ...}` events.
//!
//! A watch starts from `resourceVersion`: unset or `0` replays the current objects as ADDED; a newer version
//! replays the history after it; a version older than the history window is refused with 410 Gone, which makes
//! clients re-list. Bookmarks are sent every few seconds when `allowWatchBookmarks=true`. The stream ends after
//! `timeoutSeconds`, on a fault rule's drop, when the client lags too far behind, or on server shutdown.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;

use super::objects::{Ctx, matching};
use crate::debug::WatchDrop;
use crate::resources::{ResKey, ResourceInfo};
use crate::selector::{FieldSelector, LabelSelector};
use crate::status::{ApiError, ApiResult};
use crate::store::{Event, EventType, Store};

/// How often a bookmark is sent when the client allows them.
const BOOKMARK_EVERY: Duration = Duration::from_secs(5);

/// What one watch stream delivers.
struct Scope {
    cluster: Option<String>,
    key: ResKey,
    namespace: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
    info: Arc<ResourceInfo>,
    version: String,
    /// In an APIExport virtual workspace: only clusters binding the export (checked per event, so clusters bound
    /// after the watch started are included).
    filter: Option<super::ClusterFilter>,
    /// Protobuf frames instead of JSON lines.
    proto: bool,
}

impl Scope {
    /// Whether the event is about this watch's type, cluster(s) and namespace. `store` is the locked store
    /// when the caller holds the lock (replay), `None` in the running stream.
    fn in_scope(&self, e: &Event, store: Option<&Store>) -> bool {
        e.key == self.key
            && self.cluster.as_deref().is_none_or(|c| *c == *e.cluster)
            && (self.cluster.is_some() || !e.cluster.is_empty())
            && self.namespace.as_deref().is_none_or(|n| n == e.namespace)
            && self.filter.as_ref().is_none_or(|f| match store {
                Some(store) => f.allows(store, &e.cluster),
                None => f.allows_now(&e.cluster),
            })
    }

    fn selected(&self, obj: &Value) -> bool {
        self.labels.matches(obj) && self.fields.matches(obj)
    }

    /// The event type the client sees, given which objects it currently holds: an object entering the
    /// selectors is ADDED, one leaving them is DELETED (as the real server's selector-filtered watches do).
    fn classify(
        &self,
        e: &Event,
        inside: &mut HashSet<ObjKey>,
        store: Option<&Store>,
    ) -> Option<&'static str> {
        if !self.in_scope(e, store) {
            return None;
        }
        let key = obj_key(&e.cluster, &e.object);
        let selected = self.selected(&e.object);
        let was_in = inside.contains(&key);
        match (e.kind, selected, was_in) {
            (EventType::Deleted, _, true) => {
                inside.remove(&key);
                Some("DELETED")
            }
            (EventType::Deleted, _, false) | (_, false, false) => None,
            (_, false, true) => {
                inside.remove(&key);
                Some("DELETED")
            }
            (EventType::Modified, true, true) => Some("MODIFIED"),
            (_, true, _) => {
                inside.insert(key);
                Some("ADDED")
            }
        }
    }

    fn line(&self, kind: &str, obj: &Value) -> Bytes {
        encode_event(self.proto, kind, &self.info.present(obj, &self.version))
    }
}

/// One watch event on the wire: a JSON line, or a length-prefixed protobuf frame.
pub fn encode_event(proto: bool, kind: &str, obj: &Value) -> Bytes {
    if proto && let Some(frame) = crate::proto::watch_frame(kind, obj) {
        return Bytes::from(frame);
    }
    let mut s = json!({"type": kind, "object": obj}).to_string();
    s.push('\n');
    Bytes::from(s)
}

impl Scope {}

/// `(cluster, namespace, name)` of an object.
type ObjKey = (String, String, String);

fn obj_key(cluster: &str, obj: &Value) -> ObjKey {
    let s = |p: &str| {
        obj.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    (cluster.to_string(), s("/metadata/namespace"), s("/metadata/name"))
}

/// A prepared watch: the events to replay and the live subscription, taken under one lock so nothing is lost.
pub struct Prepared {
    initial: Vec<Bytes>,
    inside: HashSet<ObjKey>,
    last_rv: u64,
    rx: broadcast::Receiver<Arc<Event>>,
    scope: Scope,
}

/// Checks the start version and takes the initial events (with the store locked).
pub fn prepare(store: &Store, ctx: &Ctx<'_>, proto: bool) -> ApiResult<Prepared> {
    let scope = Scope {
        cluster: ctx.cluster.clone(),
        key: ctx.info.key(),
        namespace: ctx.rp.namespace.clone(),
        labels: LabelSelector::parse(ctx.req.q("labelSelector").unwrap_or(""))?,
        fields: ctx
            .info
            .field_selector(ctx.req.q("fieldSelector").unwrap_or(""))?,
        info: ctx.info.clone(),
        version: ctx.rp.version.clone(),
        filter: ctx.filter.clone(),
        proto,
    };
    let from = match ctx
        .req
        .q("resourceVersion")
        .filter(|v| !v.is_empty() && *v != "0")
    {
        Some(v) => Some(
            v.parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("invalid resourceVersion {v:?}")))?,
        ),
        None => None,
    };
    let current = matching(store, ctx)?;
    let mut inside: HashSet<ObjKey> = current.iter().map(|(c, o)| obj_key(c, o)).collect();
    // A streaming list (`sendInitialEvents=true`, client-go's WatchList): the current objects, then a bookmark
    // marking the end of the initial events.
    let streaming_list = ctx.req.q("sendInitialEvents") == Some("true");
    let initial: Vec<Bytes> = match from {
        _ if streaming_list => {
            let mut events: Vec<Bytes> = current.iter().map(|(_, o)| scope.line("ADDED", o)).collect();
            let end = json!({
                "kind": scope.info.kind,
                "apiVersion": scope.info.api_version(&scope.version),
                "metadata": {"resourceVersion": store.rv().to_string(),
                             "annotations": {"k8s.io/initial-events-end": "true"}},
            });
            events.push(encode_event(scope.proto, "BOOKMARK", &end));
            events
        }
        None => current.iter().map(|(_, o)| scope.line("ADDED", o)).collect(),
        Some(rv) if rv < store.floor() => {
            return Err(ApiError::gone(format!(
                "too old resource version: {rv} ({})",
                store.floor() + 1
            )));
        }
        Some(rv) => {
            // What the client held at `rv` is approximated by what exists now minus what was created since.
            let replay: Vec<&Arc<Event>> = store.history_since(rv).collect();
            for e in replay.iter().filter(|e| e.kind == EventType::Added) {
                inside.remove(&obj_key(&e.cluster, &e.object));
            }
            for e in replay
                .iter()
                .filter(|e| e.kind == EventType::Deleted && scope.selected(&e.object))
            {
                inside.insert(obj_key(&e.cluster, &e.object));
            }
            replay
                .iter()
                .filter_map(|e| {
                    scope
                        .classify(e, &mut inside, Some(store))
                        .map(|kind| scope.line(kind, &e.object))
                })
                .collect()
        }
    };
    Ok(Prepared {
        initial,
        inside,
        last_rv: store.rv(),
        rx: store.subscribe(),
        scope,
    })
}

/// Options of a running stream.
pub struct StreamOptions {
    /// `allowWatchBookmarks=true`.
    pub bookmarks: bool,
    /// `timeoutSeconds`.
    pub timeout: Option<Duration>,
    /// Injected early end.
    pub drop: Option<WatchDrop>,
    /// Server shutdown.
    pub cancel: CancellationToken,
}

/// Runs the stream in a task and returns the response body.
pub fn stream(p: Prepared, opts: StreamOptions) -> Body {
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(64);
    tokio::spawn(run(p, opts, tx));
    Body::from_stream(ReceiverStream::new(rx))
}

async fn run(mut p: Prepared, opts: StreamOptions, tx: mpsc::Sender<Result<Bytes, std::io::Error>>) {
    let max_events = opts.drop.and_then(|d| d.after_events);
    let deadline = [opts.timeout, opts.drop.and_then(|d| d.after)]
        .into_iter()
        .flatten()
        .min();
    let sleep = tokio::time::sleep(deadline.unwrap_or(Duration::from_secs(365 * 86_400)));
    tokio::pin!(sleep);
    let mut sent = 0u64;
    let mut last_rv = p.last_rv;
    for line in std::mem::take(&mut p.initial) {
        if max_events.is_some_and(|m| sent >= m) || tx.send(Ok(line)).await.is_err() {
            return;
        }
        sent += 1;
    }
    let mut ticker = tokio::time::interval(BOOKMARK_EVERY);
    ticker.tick().await;
    loop {
        if max_events.is_some_and(|m| sent >= m) {
            return;
        }
        tokio::select! {
            _ = &mut sleep => return,
            _ = opts.cancel.cancelled() => return,
            _ = ticker.tick(), if opts.bookmarks => {
                let obj = json!({
                    "kind": p.scope.info.kind,
                    "apiVersion": p.scope.info.api_version(&p.scope.version),
                    "metadata": {"resourceVersion": last_rv.to_string()},
                });
                if tx.send(Ok(encode_event(p.scope.proto, "BOOKMARK", &obj))).await.is_err() {
                    return;
                }
            }
            ev = p.rx.recv() => match ev {
                Ok(e) => {
                    if e.rv <= last_rv {
                        continue;
                    }
                    last_rv = e.rv;
                    let Some(kind) = p.scope.classify(&e, &mut p.inside, None) else {
                        continue;
                    };
                    if tx.send(Ok(p.scope.line(kind, &e.object))).await.is_err() {
                        return;
                    }
                    sent += 1;
                }
                // Lagged or closed: end the stream; the client resumes or re-lists.
                Err(_) => return,
            }
        }
    }
}

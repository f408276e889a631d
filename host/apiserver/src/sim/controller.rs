//! The small controller runtime shared by all simulators: clients per logical cluster, a watch loop that calls a
//! reconcile function after the configured delay (with retries), and status helpers that write only on change.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use futures::StreamExt;
use kube::api::{Api, Patch, PatchParams};
use kube::core::{ApiResource, DynamicObject};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Config, ResourceExt};
use serde_json::{Value, json};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// The annotation kcp puts on every object with the logical cluster it lives in.
pub const CLUSTER_ANNOTATION: &str = "kcp.io/cluster";

/// Errors a reconcile pass can hit; they are logged and retried.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// The API server rejected or failed a request.
    #[error(transparent)]
    Kube(#[from] kube::Error),
    /// A client URL could not be built.
    #[error("invalid cluster URL {url:?}")]
    Url {
        /// The URL.
        url: String,
        /// The cause.
        #[source]
        source: http::uri::InvalidUri,
    },
    /// Certificate generation failed.
    #[error("generating certificates")]
    Cert(#[from] rcgen::Error),
    /// An object did not have the expected shape.
    #[error("decoding {what}")]
    Decode {
        /// What was decoded.
        what: String,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
}

/// What the watch loop does after a successful pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Nothing until the object changes again.
    Done,
    /// Look at the object again after this long (e.g. waiting for a dependency).
    Requeue(Duration),
}

/// Shared state of all simulators: the server address, cached clients and the shutdown signal.
pub struct Context {
    base_url: String,
    clients: Mutex<HashMap<String, Client>>,
    server_ca: OnceLock<Arc<super::pki::Ca>>,
    /// Cancelled on [`super::Simulators::shutdown`].
    pub cancel: CancellationToken,
}

impl Context {
    /// A context for the server at `base_url` (trailing `/` ignored).
    pub fn new(base_url: &str) -> Arc<Self> {
        Arc::new(Self {
            base_url: base_url.trim_end_matches('/').to_string(),
            clients: Mutex::new(HashMap::new()),
            server_ca: OnceLock::new(),
            cancel: CancellationToken::new(),
        })
    }

    /// The server's base URL without a trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The CA the simulators present as the API server's CA (in kubeconfigs and token Secrets), generated once.
    pub fn server_ca(&self) -> Result<Arc<super::pki::Ca>, ReconcileError> {
        if let Some(ca) = self.server_ca.get() {
            return Ok(ca.clone());
        }
        let ca = Arc::new(super::pki::Ca::generate("embedded-apiserver-ca")?);
        // A concurrent caller may have won the race; everyone uses the stored one.
        Ok(self.server_ca.get_or_init(|| ca).clone())
    }

    /// A client for the plain cluster (`None`), a logical cluster or workspace path, or `*` (all clusters).
    pub fn client(&self, cluster: Option<&str>) -> Result<Client, ReconcileError> {
        let key = cluster.unwrap_or_default().to_string();
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(client) = clients.get(&key) {
            return Ok(client.clone());
        }
        let url = match cluster {
            None => self.base_url.clone(),
            Some(c) => format!("{}/clusters/{c}", self.base_url),
        };
        let uri = url.parse::<http::Uri>().map_err(|source| ReconcileError::Url {
            url: url.clone(),
            source,
        })?;
        let client = Client::try_from(Config::new(uri))?;
        clients.insert(key, client.clone());
        Ok(client)
    }

    /// A dynamic `Api` for `ar` in `cluster`, scoped to `namespace` when given.
    pub fn api(
        &self,
        cluster: Option<&str>,
        ar: &ApiResource,
        namespace: Option<&str>,
    ) -> Result<Api<DynamicObject>, ReconcileError> {
        let client = self.client(cluster)?;
        Ok(match namespace {
            Some(ns) => Api::namespaced_with(client, ns, ar),
            None => Api::all_with(client, ar),
        })
    }
}

/// Where a controller watches.
#[derive(Clone, Debug)]
pub enum Scope {
    /// The plain Kubernetes cluster.
    Plain,
    /// Every kcp logical cluster, through `/clusters/*`.
    AllClusters,
}

/// One observed object and where it lives.
#[derive(Clone, Debug)]
pub struct Obj {
    /// Logical cluster (`None` in the plain cluster).
    pub cluster: Option<String>,
    /// The object as last seen.
    pub obj: DynamicObject,
    /// Its resource.
    pub ar: ApiResource,
}

impl Obj {
    /// The object's name.
    pub fn name(&self) -> String {
        self.obj.name_any()
    }

    /// The object's namespace, if namespaced.
    pub fn namespace(&self) -> Option<String> {
        self.obj.namespace()
    }

    /// `metadata.generation`, 0 when absent.
    pub fn generation(&self) -> i64 {
        self.obj.metadata.generation.unwrap_or(0)
    }

    /// `spec` (or `Null`).
    pub fn spec(&self) -> &Value {
        self.obj.data.get("spec").unwrap_or(&Value::Null)
    }

    /// `status` (or `Null`).
    pub fn status(&self) -> &Value {
        self.obj.data.get("status").unwrap_or(&Value::Null)
    }

    /// An `Api` for this object's kind in its cluster and namespace.
    pub fn api(&self, ctx: &Context) -> Result<Api<DynamicObject>, ReconcileError> {
        ctx.api(self.cluster.as_deref(), &self.ar, self.namespace().as_deref())
    }

    /// Merges `fields` into `status` unless every field already has that value, so steady state writes nothing.
    pub async fn update_status(&self, ctx: &Context, fields: Value) -> Result<(), ReconcileError> {
        if status_contains(self.status(), &fields) {
            return Ok(());
        }
        let patch = json!({"status": fields});
        self.api(ctx)?
            .patch_status(&self.name(), &PatchParams::default(), &Patch::Merge(&patch))
            .await?;
        Ok(())
    }
}

/// Whether every top-level field of `fields` already has that value in `status`.
pub fn status_contains(status: &Value, fields: &Value) -> bool {
    match fields.as_object() {
        Some(map) => map.iter().all(|(k, v)| status.get(k) == Some(v)),
        None => false,
    }
}

/// The future a reconcile function returns.
pub type ReconcileFuture = Pin<Box<dyn Future<Output = Result<Action, ReconcileError>> + Send>>;

/// A reconcile function: called with the shared context and one object.
pub type Reconciler = Arc<dyn Fn(Arc<Context>, Obj) -> ReconcileFuture + Send + Sync>;

/// Wraps an async fn into a [`Reconciler`].
pub fn reconciler<F, Fut>(f: F) -> Reconciler
where
    F: Fn(Arc<Context>, Obj) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Action, ReconcileError>> + Send + 'static,
{
    Arc::new(move |ctx, obj| Box::pin(f(ctx, obj)))
}

/// Starts a watch of `ar` in `scope` that reconciles every added or changed object `delay` after seeing it.
pub fn spawn_controller(
    tasks: &mut JoinSet<()>,
    ctx: &Arc<Context>,
    scope: Scope,
    ar: ApiResource,
    delay: Duration,
    reconcile: Reconciler,
) {
    let ctx = ctx.clone();
    tasks.spawn(async move {
        if let Err(error) = run(ctx, scope, ar.clone(), delay, reconcile).await {
            tracing::warn!(kind = %ar.kind, %error, "simulated controller could not start");
        }
    });
}

/// Re-watch backoff: 50 ms doubling up to 2 s. kube's default grows to 30 s, which would leave a simulator
/// blind for that long when its type (e.g. one the operator installs later) starts being served.
#[derive(Default)]
struct WatchBackoff {
    attempt: u32,
}

impl Iterator for WatchBackoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let d = Duration::from_millis(50u64 << self.attempt.min(6)).min(Duration::from_secs(2));
        self.attempt += 1;
        Some(d)
    }
}

impl kube::runtime::utils::Backoff for WatchBackoff {
    fn reset(&mut self) {
        self.attempt = 0;
    }
}

type Pending = Arc<Mutex<HashMap<String, Obj>>>;

async fn run(
    ctx: Arc<Context>,
    scope: Scope,
    ar: ApiResource,
    delay: Duration,
    reconcile: Reconciler,
) -> Result<(), ReconcileError> {
    let api = match scope {
        Scope::Plain => ctx.api(None, &ar, None)?,
        Scope::AllClusters => ctx.api(Some("*"), &ar, None)?,
    };
    let pending: Pending = Arc::new(Mutex::new(HashMap::new()));
    let mut inflight = JoinSet::new();
    let stream = watcher(api, watcher::Config::default()).backoff(WatchBackoff::default());
    let mut stream = std::pin::pin!(stream);
    loop {
        tokio::select! {
            _ = ctx.cancel.cancelled() => break,
            Some(_) = inflight.join_next(), if !inflight.is_empty() => {}
            event = stream.next() => match event {
                Some(Ok(watcher::Event::Apply(o) | watcher::Event::InitApply(o))) => {
                    let cluster = match scope {
                        Scope::Plain => None,
                        Scope::AllClusters => o.annotations().get(CLUSTER_ANNOTATION).cloned(),
                    };
                    let obj = Obj { cluster, obj: o, ar: ar.clone() };
                    let key = key_of(&obj);
                    let first = lock(&pending).insert(key.clone(), obj).is_none();
                    if first {
                        let task = handle(ctx.clone(), pending.clone(), key, delay, reconcile.clone());
                        inflight.spawn(task);
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(error)) => tracing::debug!(kind = %ar.kind, %error, "simulator watch error"),
                None => break,
            },
        }
    }
    inflight.shutdown().await;
    Ok(())
}

fn lock(p: &Pending) -> std::sync::MutexGuard<'_, HashMap<String, Obj>> {
    p.lock().unwrap_or_else(|e| e.into_inner())
}

fn key_of(obj: &Obj) -> String {
    format!(
        "{}/{}/{}",
        obj.cluster.as_deref().unwrap_or_default(),
        obj.namespace().unwrap_or_default(),
        obj.name()
    )
}

/// Waits `delay`, takes the newest version of the object and reconciles it, retrying errors with backoff and
/// re-reading the object on requeue.
async fn handle(ctx: Arc<Context>, pending: Pending, key: String, delay: Duration, reconcile: Reconciler) {
    if sleep_or_cancel(&ctx, delay).await {
        return;
    }
    let Some(mut obj) = lock(&pending).remove(&key) else {
        return;
    };
    let mut failures = 0u32;
    let mut requeues = 0u32;
    loop {
        match reconcile(ctx.clone(), obj.clone()).await {
            Ok(Action::Done) => return,
            Ok(Action::Requeue(after)) => {
                failures = 0;
                // Objects that wait long (a source that never appears) are polled less and less often.
                let after = after * (1 << requeues.min(3));
                requeues += 1;
                if sleep_or_cancel(&ctx, after).await || lock(&pending).contains_key(&key) {
                    // A newer event is queued; its own task takes over.
                    return;
                }
            }
            Err(ReconcileError::Kube(kube::Error::Api(s))) if s.code == 404 => return,
            Err(error) => {
                failures += 1;
                tracing::debug!(%key, %error, failures, "simulator reconcile failed");
                if failures > 12 {
                    tracing::warn!(%key, %error, "simulator gave up on object");
                    return;
                }
                let backoff = Duration::from_millis(50u64 << failures.min(6));
                if sleep_or_cancel(&ctx, backoff).await {
                    return;
                }
            }
        }
        match refresh(&ctx, &obj).await {
            Some(fresh) => obj = fresh,
            None => return,
        }
    }
}

/// Re-reads the object; `None` when it is gone.
async fn refresh(ctx: &Context, obj: &Obj) -> Option<Obj> {
    let api = obj.api(ctx).ok()?;
    match api.get_opt(&obj.name()).await {
        Ok(Some(o)) => Some(Obj {
            obj: o,
            ..obj.clone()
        }),
        Ok(None) => None,
        // Keep the old copy on transient errors; the next pass retries.
        Err(_) => Some(obj.clone()),
    }
}

/// Sleeps; returns true when shutdown was requested meanwhile.
pub async fn sleep_or_cancel(ctx: &Context, d: Duration) -> bool {
    tokio::select! {
        _ = ctx.cancel.cancelled() => true,
        _ = tokio::time::sleep(d) => false,
    }
}

/// The current time as Kubernetes writes it (RFC 3339, whole seconds, UTC).
pub fn now() -> String {
    let ts = k8s_openapi::jiff::Timestamp::now();
    let secs = ts.as_second();
    k8s_openapi::jiff::Timestamp::from_second(secs)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| ts.to_string())
}

/// Builds a condition list with `type` set to `status`, keeping `lastTransitionTime` (and so avoiding a write)
/// when an equal condition already exists; other condition types in `existing` are kept.
pub fn set_condition(
    existing: &Value,
    type_: &str,
    status: &str,
    reason: &str,
    message: &str,
    generation: i64,
) -> Value {
    let mut out: Vec<Value> = existing
        .as_array()
        .map(|a| a.iter().filter(|c| c["type"] != type_).cloned().collect())
        .unwrap_or_default();
    let previous = existing
        .as_array()
        .and_then(|a| a.iter().find(|c| c["type"] == type_));
    let time = match previous {
        Some(p) if p["status"] == status => p["lastTransitionTime"].as_str().map(str::to_string),
        _ => None,
    }
    .unwrap_or_else(now);
    out.push(json!({
        "type": type_,
        "status": status,
        "reason": reason,
        "message": message,
        "observedGeneration": generation,
        "lastTransitionTime": time,
    }));
    Value::Array(out)
}

/// Whether `status.conditions` has `type_` with status `True`.
pub fn is_true(status: &Value, type_: &str) -> bool {
    status["conditions"]
        .as_array()
        .is_some_and(|a| a.iter().any(|c| c["type"] == type_ && c["status"] == "True"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_condition_keeps_time_when_status_unchanged() {
        let existing = json!([
            {"type": "Other", "status": "True"},
            {"type": "Ready", "status": "True", "lastTransitionTime": "2020-01-01T00:00:00Z"}
        ]);
        let out = set_condition(&existing, "Ready", "True", "Succeeded", "ok", 3);
        let ready = out
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == "Ready")
            .unwrap();
        assert_eq!(ready["lastTransitionTime"], "2020-01-01T00:00:00Z");
        assert_eq!(ready["observedGeneration"], 3);
        assert!(out.as_array().unwrap().iter().any(|c| c["type"] == "Other"));
        let flipped = set_condition(&existing, "Ready", "False", "Waiting", "no", 3);
        let ready = flipped
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == "Ready")
            .unwrap();
        assert_ne!(ready["lastTransitionTime"], "2020-01-01T00:00:00Z");
    }

    #[test]
    fn status_contains_compares_top_level_fields() {
        let status = json!({"a": 1, "b": {"c": 2}});
        assert!(status_contains(&status, &json!({"b": {"c": 2}})));
        assert!(!status_contains(&status, &json!({"a": 2})));
        assert!(!status_contains(&Value::Null, &json!({"a": 1})));
    }

    #[test]
    fn now_is_whole_seconds_utc() {
        let t = now();
        assert!(t.ends_with('Z'), "{t}");
        assert!(!t.contains('.'), "{t}");
    }

    #[test]
    fn watch_backoff_grows_to_two_seconds_and_resets() {
        use kube::runtime::utils::Backoff;
        let mut b = WatchBackoff::default();
        let delays: Vec<Duration> = b.by_ref().take(8).collect();
        assert_eq!(delays[0], Duration::from_millis(50));
        assert_eq!(delays[1], Duration::from_millis(100));
        assert_eq!(delays[5], Duration::from_millis(1600));
        assert_eq!(delays[7], Duration::from_secs(2));
        b.reset();
        assert_eq!(b.next(), Some(Duration::from_millis(50)));
    }

    #[test]
    fn is_true_matches_exact_type_and_status() {
        let status = json!({"conditions": [{"type": "Ready", "status": "True"}]});
        assert!(is_true(&status, "Ready"));
        assert!(!is_true(&status, "Available"));
    }
}

//! Request counters, readable in process ([`RequestLog`]) and as JSON at `GET /debug/requests`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;

/// A request verb in Kubernetes' sense.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verb {
    /// GET of one object.
    Get,
    /// GET of a collection.
    List,
    /// Streaming watch.
    Watch,
    /// POST.
    Create,
    /// PUT.
    Update,
    /// PATCH (not apply).
    Patch,
    /// PATCH with `application/apply-patch+yaml`.
    Apply,
    /// DELETE of one object.
    Delete,
    /// DELETE of a collection.
    DeleteCollection,
    /// Anything else (discovery, OpenAPI, health).
    Other,
}

impl Verb {
    /// Whether the verb writes.
    pub fn is_write(self) -> bool {
        matches!(
            self,
            Verb::Create | Verb::Update | Verb::Patch | Verb::Apply | Verb::Delete | Verb::DeleteCollection
        )
    }

    /// The lowercase name (`get`, `deletecollection`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::List => "list",
            Verb::Watch => "watch",
            Verb::Create => "create",
            Verb::Update => "update",
            Verb::Patch => "patch",
            Verb::Apply => "apply",
            Verb::Delete => "delete",
            Verb::DeleteCollection => "deletecollection",
            Verb::Other => "other",
        }
    }
}

/// What one finished request did.
#[derive(Clone, Debug)]
pub struct RequestRecord {
    /// The verb.
    pub verb: Verb,
    /// `plural` or `plural.group` (empty for non-resource requests).
    pub resource: String,
    /// Logical cluster (`""` for the plain cluster, `*` for wildcard requests).
    pub cluster: String,
    /// Whether a write changed stored state (false for no-op updates and applies, and for failed writes).
    pub changed: bool,
    /// HTTP status code.
    pub code: u16,
}

/// Counters over all recorded requests.
///
/// `writes` counts every write request; `changed_writes` those that changed stored state; `noop_writes` the
/// successful writes that changed nothing (a re-apply of the same content, an update to identical content), of
/// which `noop_applies` are server-side applies. A steady state shows `changed_writes == 0`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RequestStats {
    /// All requests.
    pub total: u64,
    /// Read requests (get, list, watch).
    pub reads: u64,
    /// Write requests, whether or not they changed anything.
    pub writes: u64,
    /// Writes that changed stored state.
    pub changed_writes: u64,
    /// Successful writes that changed nothing.
    pub noop_writes: u64,
    /// Server-side applies that changed nothing.
    pub noop_applies: u64,
    /// Requests answered with a status code of 400 or above.
    pub errors: u64,
    /// Per verb.
    pub by_verb: BTreeMap<String, u64>,
    /// Per resource (`plural` or `plural.group`).
    pub by_resource: BTreeMap<String, u64>,
    /// Per logical cluster (`""` is the plain cluster).
    pub by_cluster: BTreeMap<String, u64>,
    /// Writes that changed state, per resource.
    pub changed_by_resource: BTreeMap<String, u64>,
}

/// Shared handle on the request counters.
#[derive(Clone, Debug, Default)]
pub struct RequestLog {
    inner: Arc<Mutex<RequestStats>>,
}

impl RequestLog {
    /// Counts one request.
    pub fn record(&self, r: &RequestRecord) {
        let mut s = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        s.total += 1;
        if r.code >= 400 {
            s.errors += 1;
        }
        if r.verb.is_write() {
            s.writes += 1;
            if r.changed {
                s.changed_writes += 1;
                *s.changed_by_resource.entry(r.resource.clone()).or_default() += 1;
            } else if r.code < 400 {
                s.noop_writes += 1;
                if r.verb == Verb::Apply {
                    s.noop_applies += 1;
                }
            }
        } else if r.verb != Verb::Other {
            s.reads += 1;
        }
        *s.by_verb.entry(r.verb.as_str().to_string()).or_default() += 1;
        if !r.resource.is_empty() {
            *s.by_resource.entry(r.resource.clone()).or_default() += 1;
        }
        *s.by_cluster.entry(r.cluster.clone()).or_default() += 1;
    }

    /// A copy of the counters.
    pub fn snapshot(&self) -> RequestStats {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Zeroes every counter.
    pub fn reset(&self) {
        *self.inner.lock().unwrap_or_else(|e| e.into_inner()) = RequestStats::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(verb: Verb, changed: bool, code: u16) -> RequestRecord {
        RequestRecord {
            verb,
            resource: "configmaps".into(),
            cluster: String::new(),
            changed,
            code,
        }
    }

    #[test]
    fn separates_changed_and_noop_writes() {
        let log = RequestLog::default();
        log.record(&rec(Verb::Get, false, 200));
        log.record(&rec(Verb::Apply, true, 201));
        log.record(&rec(Verb::Apply, false, 200));
        log.record(&rec(Verb::Update, false, 409));
        let s = log.snapshot();
        assert_eq!((s.total, s.reads, s.writes), (4, 1, 3));
        assert_eq!(
            (s.changed_writes, s.noop_writes, s.noop_applies, s.errors),
            (1, 1, 1, 1)
        );
        assert_eq!(s.by_verb["apply"], 2);
        log.reset();
        assert_eq!(log.snapshot(), RequestStats::default());
    }
}

//! Fault injection: rules that make matching requests fail, slow down, or lose their watch stream.
//!
//! Rules are matched in insertion order; every matching rule contributes (latencies add up, the first error
//! wins, the first watch-drop wins). A rule fires with probability `rate` and, if `times` is set, only that
//! many times. Rules can be set in process ([`FaultInjector`]) or as JSON through `/debug/faults`. The draws behind
//! `rate` come from the process's randomness, or from a fixed sequence after [`FaultInjector::seed`], so that a
//! test that failed under random faults can be run again with the same draws.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Verb;
use crate::status::ApiError;
use crate::store::random_u64;

/// What a rule does to a matching request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase", tag = "type")]
pub enum FaultAction {
    /// Answer with an error Status of this code (500, 503, 429, 409, ...) without touching the store.
    Error {
        /// HTTP status code.
        code: u16,
        /// Message in the Status; a default per code if absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
        /// `Retry-After` seconds (429 defaults to 1).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_seconds: Option<u64>,
    },
    /// Delay the request.
    Latency {
        /// Milliseconds added before handling.
        millis: u64,
    },
    /// End a watch stream early.
    DropWatch {
        /// Close after this many events.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after_events: Option<u64>,
        /// Close after this many milliseconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after_millis: Option<u64>,
    },
}

/// One fault rule; unset matchers match everything.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultRule {
    /// Assigned by [`FaultInjector::add`].
    #[serde(default)]
    pub id: u64,
    /// Only this verb.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verb: Option<Verb>,
    /// Only this resource (`plural` or `plural.group`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Only this logical cluster (`""` is the plain cluster; workspace paths are resolved by the caller).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// Only request paths starting with this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_prefix: Option<String>,
    /// Probability in `[0, 1]` that a matching request is affected (default 1).
    #[serde(default = "one")]
    pub rate: f64,
    /// Fire at most this many times.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u64>,
    /// The effect.
    pub action: FaultAction,
}

fn one() -> f64 {
    1.0
}

impl FaultRule {
    /// A rule matching every request with the given action.
    pub fn new(action: FaultAction) -> Self {
        Self {
            id: 0,
            verb: None,
            resource: None,
            cluster: None,
            path_prefix: None,
            rate: 1.0,
            times: None,
            action,
        }
    }

    /// Restricts the rule to a verb.
    pub fn verb(mut self, verb: Verb) -> Self {
        self.verb = Some(verb);
        self
    }

    /// Restricts the rule to a resource (`plural` or `plural.group`).
    pub fn resource(mut self, resource: impl Into<String>) -> Self {
        self.resource = Some(resource.into());
        self
    }

    /// Restricts the rule to a logical cluster name.
    pub fn cluster(mut self, cluster: impl Into<String>) -> Self {
        self.cluster = Some(cluster.into());
        self
    }

    /// Restricts the rule to request paths with this prefix.
    pub fn path_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.path_prefix = Some(prefix.into());
        self
    }

    /// Sets the firing probability.
    pub fn rate(mut self, rate: f64) -> Self {
        self.rate = rate;
        self
    }

    /// Limits how often the rule fires.
    pub fn times(mut self, n: u64) -> Self {
        self.times = Some(n);
        self
    }
}

/// How a watch stream is cut short.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WatchDrop {
    /// Close after this many events.
    pub after_events: Option<u64>,
    /// Close after this long.
    pub after: Option<Duration>,
}

/// The combined effect of the rules matching one request.
#[derive(Clone, Debug, Default)]
pub struct Fault {
    /// Delay before handling.
    pub latency: Duration,
    /// Error to answer instead of handling.
    pub error: Option<ApiError>,
    /// Early end of a watch stream.
    pub watch_drop: Option<WatchDrop>,
}

/// Shared handle on the fault rules.
#[derive(Clone, Debug, Default)]
pub struct FaultInjector {
    rules: Arc<Mutex<Vec<FaultRule>>>,
    next_id: Arc<AtomicU64>,
    /// The state of the seeded draws (splitmix64); `None` until [`FaultInjector::seed`].
    seeded: Arc<Mutex<Option<u64>>>,
}

fn default_message(code: u16) -> (&'static str, &'static str) {
    match code {
        429 => (
            "TooManyRequests",
            "injected fault: too many requests, please try again later",
        ),
        409 => ("Conflict", "injected fault: operation cannot be fulfilled"),
        503 => ("ServiceUnavailable", "injected fault: service unavailable"),
        504 => ("Timeout", "injected fault: timeout"),
        404 => ("NotFound", "injected fault: not found"),
        403 => ("Forbidden", "injected fault: forbidden"),
        _ => ("InternalError", "injected fault: internal error"),
    }
}

impl FaultInjector {
    /// Adds a rule and returns its id.
    pub fn add(&self, mut rule: FaultRule) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        rule.id = id;
        self.lock().push(rule);
        id
    }

    /// Removes one rule; returns whether it existed.
    pub fn remove(&self, id: u64) -> bool {
        let mut rules = self.lock();
        let before = rules.len();
        rules.retain(|r| r.id != id);
        rules.len() != before
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// The current rules.
    pub fn rules(&self) -> Vec<FaultRule> {
        self.lock().clone()
    }

    /// Makes the draws of `rate` rules a fixed sequence starting from `seed`: the same seed gives the same
    /// sequence of fire/skip decisions (in the order requests arrive).
    pub fn seed(&self, seed: u64) {
        *self.seeded.lock().unwrap_or_else(|e| e.into_inner()) = Some(seed);
    }

    /// A draw in `[0, 1]`.
    fn draw(&self) -> f64 {
        let mut seeded = self.seeded.lock().unwrap_or_else(|e| e.into_inner());
        let bits = match seeded.as_mut() {
            Some(state) => {
                *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let mut z = *state;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                z ^ (z >> 31)
            }
            None => random_u64(),
        };
        bits as f64 / u64::MAX as f64
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<FaultRule>> {
        self.rules.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The faults for one request.
    pub fn evaluate(&self, verb: Verb, resource: &str, cluster: &str, path: &str) -> Fault {
        let mut fault = Fault::default();
        let mut rules = self.lock();
        for r in rules.iter_mut() {
            let matches = r.verb.is_none_or(|v| v == verb)
                && r.resource.as_deref().is_none_or(|x| x == resource)
                && r.cluster.as_deref().is_none_or(|x| x == cluster)
                && r.path_prefix.as_deref().is_none_or(|x| path.starts_with(x))
                && r.times != Some(0);
            if !matches || (r.rate < 1.0 && self.draw() >= r.rate) {
                continue;
            }
            if let Some(t) = r.times.as_mut() {
                *t -= 1;
            }
            match &r.action {
                FaultAction::Latency { millis } => fault.latency += Duration::from_millis(*millis),
                FaultAction::Error {
                    code,
                    message,
                    retry_after_seconds,
                } if fault.error.is_none() => {
                    let (reason, default) = default_message(*code);
                    let mut e =
                        ApiError::new(*code, reason, message.clone().unwrap_or_else(|| default.into()));
                    e.retry_after = retry_after_seconds.or((*code == 429).then_some(1));
                    fault.error = Some(e);
                }
                FaultAction::DropWatch {
                    after_events,
                    after_millis,
                } if fault.watch_drop.is_none() && verb == Verb::Watch => {
                    fault.watch_drop = Some(WatchDrop {
                        after_events: *after_events,
                        after: after_millis.map(Duration::from_millis),
                    });
                }
                _ => {}
            }
        }
        rules.retain(|r| r.times != Some(0));
        fault
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_match_and_expire() {
        let f = FaultInjector::default();
        let id = f.add(
            FaultRule::new(FaultAction::Error {
                code: 429,
                message: None,
                retry_after_seconds: None,
            })
            .verb(Verb::Get)
            .resource("configmaps")
            .times(1),
        );
        f.add(FaultRule::new(FaultAction::Latency { millis: 5 }).cluster("root"));
        assert!(
            f.evaluate(Verb::List, "configmaps", "", "/api/v1/configmaps")
                .error
                .is_none()
        );
        let hit = f.evaluate(
            Verb::Get,
            "configmaps",
            "root",
            "/clusters/root/api/v1/namespaces/a/configmaps/b",
        );
        assert_eq!(
            hit.error.as_ref().map(|e| (e.code, e.retry_after)),
            Some((429, Some(1)))
        );
        assert_eq!(hit.latency, Duration::from_millis(5));
        assert!(
            f.evaluate(Verb::Get, "configmaps", "", "/").error.is_none(),
            "times=1 is used up"
        );
        assert!(!f.remove(id));
        f.clear();
        assert!(f.rules().is_empty());
    }

    #[test]
    fn a_seed_replays_the_same_decisions() {
        let decisions = |seed: u64| {
            let f = FaultInjector::default();
            f.seed(seed);
            f.add(
                FaultRule::new(FaultAction::Error {
                    code: 500,
                    message: None,
                    retry_after_seconds: None,
                })
                .rate(0.3),
            );
            (0..200)
                .map(|_| f.evaluate(Verb::Get, "configmaps", "", "/").error.is_some())
                .collect::<Vec<_>>()
        };
        let first = decisions(42);
        assert_eq!(first, decisions(42), "the same seed draws the same sequence");
        assert_ne!(first, decisions(43), "another seed draws another one");
        let fired = first.iter().filter(|hit| **hit).count();
        assert!((30..90).contains(&fired), "about 30 % fire: {fired} of 200");
    }

    #[test]
    fn rules_round_trip_as_json() {
        let json = r#"{"verb":"watch","action":{"type":"dropWatch","afterEvents":3}}"#;
        let r: FaultRule = serde_json::from_str(json).unwrap();
        assert_eq!(r.rate, 1.0);
        assert_eq!(
            r.action,
            FaultAction::DropWatch {
                after_events: Some(3),
                after_millis: None
            }
        );
    }
}

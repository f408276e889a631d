//! Requeue delays for waits that may take long (a workspace turning Ready, an object going away), following
//! upstream's "static then exponential" limiter (2 s for 60 s, then doubling up to 1000 s) — with spec §11.1
//! item 6 fixed: upstream keyed its limiter by a fresh pointer per call, so the delay never grew and the map
//! leaked. Plugins keep no state between calls, so the delay is derived from how long *this object* has been
//! waiting, which the host records as the `lastTransitionTime` of the subroutine's condition (it changes only
//! when the condition's status flips). The wait is therefore keyed by object identity and subroutine, grows the
//! longer it lasts, survives operator restarts, and is forgotten as soon as the subroutine succeeds (its condition
//! turns `True`).

use std::time::Duration;

use serde_json::Value;

use crate::{Context, timestamp};

/// Delay while the wait is young.
pub const STATIC_DELAY: Duration = Duration::from_secs(2);
/// How long the static delay applies.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Cap of the growing delay.
pub const MAX_DELAY: Duration = Duration::from_secs(1000);

pub use crate::timestamp::now;

/// The delay after waiting `waited`: [`STATIC_DELAY`] within [`WINDOW`], then doubling from [`STATIC_DELAY`]
/// the way a retry at every returned delay would (2, 4, 8, … s), capped at [`MAX_DELAY`].
pub fn delay_after(waited: Duration) -> Duration {
    let Some(beyond) = waited.checked_sub(WINDOW) else {
        return STATIC_DELAY;
    };
    // Retries at 2, 4, …, 2^k s have spent 2^(k+1) - 2 s; the next delay is the smallest power ≥ that pace.
    let spent = beyond.as_secs() + STATIC_DELAY.as_secs();
    let mut delay = STATIC_DELAY.as_secs();
    while delay < spent && delay < MAX_DELAY.as_secs() {
        delay *= 2;
    }
    Duration::from_secs(delay).min(MAX_DELAY)
}

/// How long the object has been waiting in `condition_type` at `now` (Unix seconds): the age of that condition
/// while it is `False`, zero when it is not (a new wait).
pub fn waited(ctx: &Context, condition_type: &str, now: i64) -> Duration {
    let conditions = ctx.field("/status/conditions").and_then(Value::as_array);
    let since = conditions
        .into_iter()
        .flatten()
        .find(|c| c["type"] == condition_type && c["status"] == "False")
        .and_then(|c| c["lastTransitionTime"].as_str())
        .and_then(timestamp::parse);
    since.map_or(Duration::ZERO, |t| {
        Duration::from_secs(now.saturating_sub(t).max(0) as u64)
    })
}

/// The requeue delay of a wait reported through `condition_type` (the subroutine's name, or `<name>Finalize`
/// while finalizing), at `now` (Unix seconds).
pub fn wait_delay(ctx: &Context, condition_type: &str, now: i64) -> Duration {
    delay_after(waited(ctx, condition_type, now))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn delay_is_static_in_the_window_then_grows_to_the_cap() {
        assert_eq!(delay_after(Duration::ZERO), STATIC_DELAY);
        assert_eq!(delay_after(Duration::from_secs(60)), STATIC_DELAY);
        let delays: Vec<u64> = [61, 64, 70, 90, 150, 400, 5000]
            .map(|s| delay_after(Duration::from_secs(s)).as_secs())
            .to_vec();
        assert_eq!(delays, [4, 8, 16, 32, 128, 512, 1000]);
    }

    #[test]
    fn waiting_is_measured_per_object_and_forgotten_on_success() {
        let object = |status: &str| {
            Context::for_object(
                "provider",
                json!({"metadata": {"name": "p"}, "status": {"conditions": [
                    {"type": "S", "status": status, "lastTransitionTime": "2026-01-01T00:00:00Z"}]}}),
            )
        };
        let start = timestamp::parse("2026-01-01T00:00:00Z").unwrap();
        assert_eq!(wait_delay(&object("False"), "S", start + 30), STATIC_DELAY);
        assert_eq!(
            wait_delay(&object("False"), "S", start + 200),
            Duration::from_secs(256)
        );
        assert_eq!(
            wait_delay(&object("True"), "S", start + 200),
            STATIC_DELAY,
            "a success resets the wait"
        );
        assert_eq!(wait_delay(&object("False"), "Other", start + 200), STATIC_DELAY);
    }
}

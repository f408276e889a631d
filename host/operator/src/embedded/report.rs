//! What `run --embedded` prints: one line per condition change, and a summary at the end.

use std::{fmt::Write as _, time::Duration};

use apiserver::RequestStats;

use crate::controller::ProgressEvent;

/// A progress line: `[  2.1s] ns/name  WaitSubroutine  True  Complete  message`.
pub fn progress_line(elapsed: Duration, event: &ProgressEvent) -> String {
    let change = &event.change;
    let mut line = format!(
        "[{:>5.1}s] {}  {}  {}  {}",
        elapsed.as_secs_f64(),
        event.key,
        change.type_,
        change.status,
        change.reason
    );
    if !change.message.is_empty() {
        let _ = write!(line, "  {}", change.message);
    }
    line
}

/// The closing summary: time to Ready, writes that changed state per resource, requests per cluster.
pub fn summary(time_to_ready: Duration, stats: &RequestStats) -> String {
    let mut out = format!("PlatformMesh Ready after {:.1}s\n", time_to_ready.as_secs_f64());
    let _ = writeln!(
        out,
        "API requests: {} ({} reads, {} writes, {} of which changed state)",
        stats.total, stats.reads, stats.writes, stats.changed_writes
    );
    if !stats.changed_by_resource.is_empty() {
        out.push_str("Objects written, by resource:\n");
        for (resource, count) in &stats.changed_by_resource {
            let _ = writeln!(out, "  {resource:<55} {count}");
        }
    }
    if !stats.by_cluster.is_empty() {
        out.push_str("Requests by cluster / kcp workspace:\n");
        for (cluster, count) in &stats.by_cluster {
            let name = if cluster.is_empty() {
                "(runtime cluster)"
            } else {
                cluster.as_str()
            };
            let _ = writeln!(out, "  {name:<55} {count}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::{ConditionChange, ObjectKey};

    #[test]
    fn progress_line_shape() {
        let event = ProgressEvent {
            controller: "platformmesh".into(),
            key: ObjectKey::namespaced("platform-mesh-system", "platform-mesh"),
            change: ConditionChange {
                type_: "WaitSubroutine".into(),
                status: "True".into(),
                reason: "Complete".into(),
                message: String::new(),
                previous_reason: String::new(),
            },
        };
        assert_eq!(
            progress_line(Duration::from_millis(2100), &event),
            "[  2.1s] platform-mesh-system/platform-mesh  WaitSubroutine  True  Complete"
        );
    }
}

//! What `run --embedded` prints: one line per condition change, and a summary of what each controller made. Every
//! line fits [`WIDTH`] columns: texts from the cluster (messages, names) are cut with `…`, and control characters
//! in them (a terminal escape in a condition message) are shown as spaces.

use std::{collections::BTreeMap, fmt::Write as _, time::Duration};

use apiserver::RequestStats;

use crate::controller::ProgressEvent;

/// The widest line the default output prints.
pub const WIDTH: usize = 120;

/// The kind a controller reconciles, as the progress lines name it.
pub fn kind_of(controller: &str) -> &str {
    match controller {
        "platformmesh" => "PlatformMesh",
        "managedprovider" => "ManagedProvider",
        "provider" => "Provider",
        "resource" => "Resource",
        other => other,
    }
}

/// `text` on one line: control characters become spaces, runs of white space one space.
fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let c = if c.is_control() || c.is_whitespace() {
            ' '
        } else {
            c
        };
        if c == ' ' && (out.is_empty() || out.ends_with(' ')) {
            continue;
        }
        out.push(c);
    }
    out.trim_end().to_owned()
}

/// `line` cut to [`WIDTH`] characters, the last of them `…` when cut.
pub fn fit(line: &str) -> String {
    if line.chars().count() <= WIDTH {
        return line.to_owned();
    }
    let mut cut: String = line.chars().take(WIDTH - 1).collect();
    cut.push('…');
    cut
}

/// A progress line: `[  2.1s] PlatformMesh platform-mesh  Ready  True  Complete  message`, cut to [`WIDTH`]
/// columns. The object goes by its name only (the summary names namespace and workspace), leaving the room to
/// the message.
pub fn progress_line(elapsed: Duration, event: &ProgressEvent) -> String {
    let change = &event.change;
    let mut line = format!(
        "[{:>5.1}s] {} {}  {}  {}  {}",
        elapsed.as_secs_f64(),
        kind_of(&event.controller),
        one_line(&event.key.name),
        one_line(&change.type_),
        one_line(&change.status),
        one_line(&change.reason)
    );
    let message = one_line(&change.message);
    if !message.is_empty() {
        let _ = write!(line, "  {message}");
    }
    fit(&line)
}

/// What one controller made for one object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Made {
    /// `PlatformMesh platform-mesh-system/platform-mesh`.
    pub owner: String,
    /// Seconds from the start until it was Ready.
    pub ready_after: Duration,
    /// One entry per object or kind of object made (`HelmRelease platform-mesh-system/portal`).
    pub objects: Vec<String>,
}

/// `items` joined with `, ` into lines of at most `width` characters (an item longer than that stands alone).
pub fn pack(items: &[String], width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for item in items {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 2 + item.chars().count() <= width => {
                line.push_str(", ");
                line.push_str(item);
            }
            _ => lines.push(item.clone()),
        }
    }
    lines
}

/// Changed writes per resource in `after` that were not yet in `before`.
pub fn written_since(before: &RequestStats, after: &RequestStats) -> BTreeMap<String, u64> {
    after
        .changed_by_resource
        .iter()
        .filter_map(|(resource, count)| {
            let earlier = before.changed_by_resource.get(resource).copied().unwrap_or(0);
            (*count > earlier).then(|| (resource.clone(), count - earlier))
        })
        .collect()
}

/// The closing summary: time to Ready, what each controller made, the API requests.
pub fn summary(time_to_ready: Duration, made: &[Made], stats: &RequestStats) -> String {
    let mut lines = vec![format!("All Ready after {:.1}s", time_to_ready.as_secs_f64())];
    for entry in made {
        lines.push(format!(
            "{} (Ready after {:.1}s) made:",
            one_line(&entry.owner),
            entry.ready_after.as_secs_f64()
        ));
        if entry.objects.is_empty() {
            lines.push("  nothing".into());
        }
        lines.extend(
            entry
                .objects
                .iter()
                .map(|object| format!("  {}", one_line(object))),
        );
    }
    lines.push(format!(
        "API requests: {} ({} reads, {} writes, {} of which changed state)",
        stats.total, stats.reads, stats.writes, stats.changed_writes
    ));
    if !stats.by_cluster.is_empty() {
        lines.push("Requests by cluster / kcp workspace:".into());
        for (cluster, count) in &stats.by_cluster {
            let name = if cluster.is_empty() {
                "(runtime cluster)"
            } else {
                cluster.as_str()
            };
            lines.push(format!("  {:<55} {count}", one_line(name)));
        }
    }
    let mut out = String::new();
    for line in lines {
        out.push_str(&fit(&line));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::{ConditionChange, ObjectKey};

    fn event(controller: &str, message: &str) -> ProgressEvent {
        ProgressEvent {
            controller: controller.into(),
            key: ObjectKey::namespaced("platform-mesh-system", "platform-mesh"),
            change: ConditionChange {
                type_: "WaitSubroutine".into(),
                status: "True".into(),
                reason: "Complete".into(),
                message: message.into(),
                previous_reason: String::new(),
            },
        }
    }

    #[test]
    fn progress_line_shape() {
        assert_eq!(
            progress_line(Duration::from_millis(2100), &event("platformmesh", "")),
            "[  2.1s] PlatformMesh platform-mesh  WaitSubroutine  True  Complete"
        );
    }

    #[test]
    fn long_messages_are_cut_and_control_characters_blanked() {
        let message = format!("waiting\n\x1b[31mfor\tthe {}", "x".repeat(300));
        let line = progress_line(Duration::from_secs(1), &event("provider", &message));
        assert_eq!(line.chars().count(), WIDTH, "{line}");
        assert!(line.ends_with('…'), "{line}");
        assert!(
            line.starts_with("[  1.0s] Provider platform-mesh  WaitSubroutine  True"),
            "{line}"
        );
        assert!(line.contains("waiting [31mfor the x"), "{line}");
        assert!(!line.chars().any(char::is_control), "{line:?}");
    }

    #[test]
    fn summary_lists_what_each_controller_made_within_the_width() {
        let made = [
            Made {
                owner: "PlatformMesh platform-mesh-system/platform-mesh".into(),
                ready_after: Duration::from_secs(3),
                objects: vec!["deployments.apps: 4".into(), format!("long {}", "y".repeat(200))],
            },
            Made {
                owner: "Provider example".into(),
                ready_after: Duration::from_secs(5),
                objects: Vec::new(),
            },
        ];
        let stats = RequestStats {
            total: 10,
            by_cluster: [(String::new(), 4), ("root:providers".to_owned(), 6)].into(),
            ..RequestStats::default()
        };
        let text = summary(Duration::from_secs(6), &made, &stats);
        assert!(text.starts_with("All Ready after 6.0s\n"), "{text}");
        assert!(
            text.contains("PlatformMesh platform-mesh-system/platform-mesh (Ready after 3.0s) made:\n  deployments.apps: 4\n"),
            "{text}"
        );
        assert!(
            text.contains("Provider example (Ready after 5.0s) made:\n  nothing\n"),
            "{text}"
        );
        assert!(text.contains("(runtime cluster)"), "{text}");
        assert!(text.lines().all(|line| line.chars().count() <= WIDTH), "{text}");
    }

    #[test]
    fn pack_fills_lines_up_to_the_width() {
        let items: Vec<String> = ["aaaa", "bbb", "cc", "dddddddddddd"].map(String::from).into();
        assert_eq!(pack(&items, 11), ["aaaa, bbb", "cc", "dddddddddddd"]);
        assert_eq!(pack(&items, 100), ["aaaa, bbb, cc, dddddddddddd"]);
        assert!(pack(&[], 10).is_empty());
    }

    #[test]
    fn written_since_counts_only_the_new_writes() {
        let before = RequestStats {
            changed_by_resource: [("configmaps".to_owned(), 2), ("secrets".to_owned(), 1)].into(),
            ..RequestStats::default()
        };
        let after = RequestStats {
            changed_by_resource: [("configmaps".to_owned(), 2), ("secrets".to_owned(), 4)].into(),
            ..RequestStats::default()
        };
        assert_eq!(written_since(&before, &after), [("secrets".to_owned(), 3)].into());
    }
}

//! `log` import: plugin lines go to `tracing` with the plugin's name and the object's key.
//!
//! A line is bounded: the message and the rendered fields are cut at [`MAX_LOG_TEXT`] bytes each (at a character
//! boundary, with the number of bytes left out), and at most [`MAX_LOG_FIELDS`] fields are kept.

use super::HostCall;
use crate::wit::log::{self, Level};

/// The most bytes of a plugin's log message, and of its rendered fields, written to the log.
pub const MAX_LOG_TEXT: usize = 4096;
/// The most fields of one plugin log line.
pub const MAX_LOG_FIELDS: usize = 32;

/// `text` cut to at most `max` bytes at a character boundary, saying how much was left out.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} more bytes)", &text[..end], text.len() - end)
}

/// Fields are rendered as one `key=value` list; `tracing` needs field names at compile time.
fn render(fields: &[(String, String)]) -> String {
    let mut text = fields
        .iter()
        .take(MAX_LOG_FIELDS)
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect::<Vec<_>>()
        .join(" ");
    if fields.len() > MAX_LOG_FIELDS {
        text.push_str(&format!(" … ({} more fields)", fields.len() - MAX_LOG_FIELDS));
    }
    truncate(&text, MAX_LOG_TEXT)
}

impl log::Host for HostCall {
    async fn log(&mut self, level: Level, message: String, fields: Vec<(String, String)>) {
        let (plugin, object, fields) = (&*self.plugin, self.object_key.as_str(), render(&fields));
        let message = truncate(&message, MAX_LOG_TEXT);
        match level {
            Level::Trace => tracing::trace!(plugin, object, fields, "{message}"),
            Level::Debug => tracing::debug!(plugin, object, fields, "{message}"),
            Level::Info => tracing::info!(plugin, object, fields, "{message}"),
            Level::Warn => tracing::warn!(plugin, object, fields, "{message}"),
            Level::Error => tracing::error!(plugin, object, fields, "{message}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_render_as_quoted_pairs() {
        let fields = vec![
            ("a".to_owned(), "1".to_owned()),
            ("b".to_owned(), "x y".to_owned()),
        ];
        assert_eq!(render(&fields), "a=\"1\" b=\"x y\"");
    }

    #[test]
    fn text_is_cut_at_the_bound_on_a_character_boundary() {
        let at = "a".repeat(MAX_LOG_TEXT);
        assert_eq!(
            truncate(&at, MAX_LOG_TEXT),
            at,
            "exactly at the bound: kept whole"
        );
        let over = format!("{}é", "a".repeat(MAX_LOG_TEXT - 1));
        let cut = truncate(&over, MAX_LOG_TEXT);
        assert_eq!(cut, format!("{}… (2 more bytes)", "a".repeat(MAX_LOG_TEXT - 1)));
        let huge = "ü".repeat(1 << 20);
        assert!(truncate(&huge, MAX_LOG_TEXT).len() < MAX_LOG_TEXT + 32);
    }

    #[test]
    fn fields_are_bounded_in_number_and_size() {
        let many: Vec<_> = (0..MAX_LOG_FIELDS + 5)
            .map(|i| (format!("k{i}"), "v".to_owned()))
            .collect();
        let text = render(&many);
        assert!(text.ends_with("… (5 more fields)"), "{text}");
        assert!(!text.contains(&format!("k{MAX_LOG_FIELDS}=")));
        let big = vec![("k".to_owned(), "v".repeat(1 << 20))];
        assert!(render(&big).len() < MAX_LOG_TEXT + 32);
    }
}

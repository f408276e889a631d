//! `log` import: plugin lines go to `tracing` with the plugin's name and the object's key.

use super::HostCall;
use crate::plugin::bindings::log::{self, Level};

/// Fields are rendered as one `key=value` list; `tracing` needs field names at compile time.
fn render(fields: &[(String, String)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect::<Vec<_>>()
        .join(" ")
}

impl log::Host for HostCall {
    async fn log(&mut self, level: Level, message: String, fields: Vec<(String, String)>) {
        let (plugin, object, fields) = (&*self.plugin, self.object_key.as_str(), render(&fields));
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
    #[test]
    fn fields_render_as_quoted_pairs() {
        let fields = vec![
            ("a".to_owned(), "1".to_owned()),
            ("b".to_owned(), "x y".to_owned()),
        ];
        assert_eq!(super::render(&fields), "a=\"1\" b=\"x y\"");
    }
}

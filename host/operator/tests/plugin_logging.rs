//! Plugin log lines and captured guest output reach `tracing` with the plugin's name and the object's key.
//!
//! Its own test binary: a thread-local subscriber set while other tests in the same process hit the same
//! callsites with no subscriber can lose events to tracing's callsite-interest cache.

mod plugin_support;

use platform_mesh_operator::plugin::PluginOptions;
use plugin_support::{context, harness, object, test_plugin};
use serde_json::json;

/// Collects formatted tracing output.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn plugin_logs_and_output_reach_tracing_with_plugin_and_object() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let h = harness();
    let options = PluginOptions {
        config: json!({"log": true}),
        ..Default::default()
    };
    let outcome = h
        .runtime
        .load_file_with(&test_plugin("test_outcome"), options)
        .await
        .unwrap();
    outcome.process(&context(object(json!({})))).await.unwrap();
    let panic = h.runtime.load_file(&test_plugin("test_panic")).await.unwrap();
    panic.process(&context(object(json!({})))).await.unwrap_err();
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("processing"))
        .expect("the plugin's log line");
    assert!(line.contains("plugin=test_outcome"), "{line}");
    assert!(line.contains("object=platform-mesh-system/pm"), "{line}");
    assert!(line.contains(r#"fields="object=\"pm\"""#), "{line}");
    let stderr = text
        .lines()
        .find(|l| l.contains("stream=\"stderr\""))
        .expect("the panic's stderr");
    assert!(stderr.contains("plugin=test_panic"), "{stderr}");
}

//! Placeholder used only while `src/yaml/` is being written: every call reports that YAML support is absent.

use std::fmt;

/// Error of the YAML functions.
#[derive(Debug)]
pub struct YamlError(String);

impl YamlError {
    /// Line, when known.
    pub fn line(&self) -> Option<usize> {
        None
    }
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for YamlError {}

/// Not available yet.
pub fn to_yaml(_: &serde_json::Value) -> Result<String, YamlError> {
    Err(YamlError("YAML support is not built into this revision".into()))
}

/// Not available yet.
pub fn from_yaml(_: &str) -> Result<serde_json::Value, YamlError> {
    Err(YamlError("YAML support is not built into this revision".into()))
}

//! The error type shared by every YAML operation of this module.

use std::fmt;

/// A YAML parse, conversion or serialisation failure.
///
/// Carries a 1-based line and column when the failure can be tied to a position in the input text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct YamlError {
    message: String,
    line: Option<usize>,
    column: Option<usize>,
}

impl YamlError {
    /// An error without a position (e.g. raised while serialising a value).
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            line: None,
            column: None,
        }
    }

    /// An error at a 1-based `line` and `column` of the input text.
    pub fn at(message: impl Into<String>, line: usize, column: usize) -> Self {
        Self {
            message: message.into(),
            line: Some(line),
            column: Some(column),
        }
    }

    /// The 1-based line of the input the error refers to, if known.
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// The 1-based column of the input the error refers to, if known.
    pub fn column(&self) -> Option<usize> {
        self.column
    }

    /// The message without the position prefix.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(line), Some(column)) => write!(f, "yaml: line {line}, column {column}: {}", self.message),
            (Some(line), None) => write!(f, "yaml: line {line}: {}", self.message),
            _ => write!(f, "yaml: {}", self.message),
        }
    }
}

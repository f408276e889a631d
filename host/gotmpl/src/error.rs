//! The crate's error type: one [`Error`] with a [`ErrorKind`], the template name and Go's position.

use std::fmt;

/// What kind of failure an [`Error`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The template text is not valid Go template syntax (Go's `Parse` error).
    Syntax,
    /// The template calls a function that is not in the function map (a parse error in Go).
    UndefinedFunction,
    /// Execution failed (Go's `Execute` error): wrong arguments, nil pointers, missing templates, ...
    Execution,
    /// The fuel (step) budget ran out.
    FuelExhausted,
    /// The output (or an intermediate string) exceeded the size limit.
    OutputTooLarge,
    /// A template file or directory could not be read.
    Io,
    /// A rendered document is not valid YAML.
    Yaml,
}

impl ErrorKind {
    /// A fixed label for metrics and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Syntax => "syntax",
            ErrorKind::UndefinedFunction => "undefined_function",
            ErrorKind::Execution => "execution",
            ErrorKind::FuelExhausted => "fuel_exhausted",
            ErrorKind::OutputTooLarge => "output_too_large",
            ErrorKind::Io => "io",
            ErrorKind::Yaml => "yaml",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A template error. `Display` prints Go's message, e.g.
/// `template: tpl:1:5: executing "tpl" at <.a.b>: nil pointer evaluating interface {}.b`.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    kind: ErrorKind,
    name: String,
    line: Option<usize>,
    column: Option<usize>,
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    /// Creates an error; `message` is the complete, Go-formatted text.
    pub(crate) fn new(kind: ErrorKind, name: &str, message: String) -> Self {
        Error {
            kind,
            name: name.to_string(),
            line: None,
            column: None,
            message,
            source: None,
        }
    }

    /// Sets the position.
    pub(crate) fn at(mut self, line: Option<usize>, column: Option<usize>) -> Self {
        self.line = line;
        self.column = column;
        self
    }

    /// Attaches the underlying cause.
    pub(crate) fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The template (or file) name the error refers to.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// 1-based line, when known.
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// 0-based byte column within the line (Go's convention), when known.
    pub fn column(&self) -> Option<usize> {
        self.column
    }

    /// The message, identical to `Display`.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

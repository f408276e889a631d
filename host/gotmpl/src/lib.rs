//! Go `text/template` dialect executed on minijinja.
//!
//! Upstream platform-mesh profiles and deployment templates are written in Go template syntax; this crate
//! renders them byte-for-byte as Go 1.26's `text/template` does with upstream's function maps. A template is
//! parsed with Go's grammar and error messages, translated into minijinja source in which every Go operation is
//! a call to a runtime function implementing Go's semantics (missing keys print `<no value>`, JSON numbers are
//! `float64`, literals are typed, maps iterate in sorted key order), and executed by minijinja with a fuel
//! budget and an output-size cap. Errors read like Go's: `template: NAME:LINE:COL: executing ...`.
//!
//! # Usage
//!
//! ```
//! use gotmpl::{FuncMap, Limits, Renderer};
//!
//! let renderer = Renderer::new(Limits::default());
//! let data = serde_json::json!({"services": {"b": {"enabled": true}, "a": {"enabled": false}}});
//! let text = r#"{{- range $name, $svc := .services }}{{ $name }}={{ $svc.enabled }} {{ end }}{{ .nope }}"#;
//! let out = renderer.render_str("example", text, &data, FuncMap::Deployment).unwrap();
//! assert_eq!(out, "a=false b=true <no value>");
//!
//! let err = renderer.render_str("example", "{{ .a.b }}", &serde_json::json!({"a": null}), FuncMap::Deployment);
//! assert_eq!(
//!     err.unwrap_err().to_string(),
//!     r#"template: example:1:5: executing "example" at <.a.b>: nil pointer evaluating interface {}.b"#
//! );
//! ```
//!
//! # Function maps
//!
//! [`FuncMap::Deployment`] is upstream's `templateFuncMap()` (non-short-circuit `and`/`or`/`not` on upstream's
//! emptiness rule, `default`, `toYaml`, upstream's `nindent`); [`FuncMap::Manifest`] is Go's built-ins plus
//! upstream's `indent`. Both also offer a small Sprig set. `COMPATIBILITY.md` lists every function and every
//! known difference from Go.
//!
//! # Limits
//!
//! [`Limits`] bounds the work (minijinja fuel) and the size of the output and of every intermediate string, so a
//! hostile `range` over a huge number ends with [`ErrorKind::FuelExhausted`] or [`ErrorKind::OutputTooLarge`].

mod error;
mod exec;
mod funcs;
mod merge;
mod parse;
mod render;
mod value;
pub mod yaml;

pub use error::{Error, ErrorKind, Result};
pub use merge::merge;
pub use parse::parser::{MAX_NESTING, PAREN_LEVELS};
pub use render::{Data, Document, MAX_CACHED_TEMPLATES, Renderer};
pub use value::MAX_DEPTH as MAX_VALUE_DEPTH;

/// Which upstream function map a template is rendered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FuncMap {
    /// `gotemplates/`, the profile's `components` section and `spec.values` strings.
    Deployment,
    /// `manifests/kcp`, `manifests/features`, `manifests/k8s`.
    Manifest,
}

/// Deployment technology, for the file filter of [`Renderer::render_dir`] (spec §5.7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Technology {
    /// Flux: files whose name starts with `application` are skipped.
    Fluxcd,
    /// Argo CD: files whose name starts with `helmrelease` or `kustomization` are skipped.
    Argocd,
}

/// Default of [`Limits::max_output_bytes`]: 16 MiB.
pub const DEFAULT_MAX_OUTPUT_BYTES: usize = 16 << 20;

/// Resource limits for one render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// minijinja fuel: roughly one unit per executed instruction.
    pub fuel: u64,
    /// Maximum size in bytes of the output and of any string a function produces.
    pub max_output_bytes: usize,
}

impl Default for Limits {
    /// 50 million instructions (a full deployment render needs well under a million) and 16 MiB of output.
    fn default() -> Self {
        Limits {
            fuel: 50_000_000,
            max_output_bytes: DEFAULT_MAX_OUTPUT_BYTES,
        }
    }
}

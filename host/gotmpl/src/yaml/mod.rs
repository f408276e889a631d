//! YAML as upstream's Go code sees it through `sigs.k8s.io/yaml` (yaml.v2 underneath).
//!
//! * [`to_yaml`] reproduces `sigs.k8s.io/yaml.Marshal` byte for byte: the value goes through Go's JSON encoder
//!   and yaml.v2's decoder (which decides what numbers look like) and is written by yaml.v2's emitter rules
//!   (YAML 1.1 quoting, literal block scalars, folding at column 80, unindented sequences in mappings).
//! * [`from_yaml`] / [`from_yaml_strict`] reproduce `sigs.k8s.io/yaml.Unmarshal` / `UnmarshalStrict` into
//!   `interface{}`: first document only, YAML 1.1 scalar resolution, string keys, last duplicate key wins
//!   (strict: duplicate keys are an error), anchors, aliases and merge keys.
//! * [`split_documents`] splits a rendered multi-document stream; [`set_helm_values`] edits Helm values.
//!
//! Syntax is parsed by `saphyr-parser`; resolution, key handling and emission are implemented here.

mod decode;
mod documents;
mod emitter;
mod encode;
mod error;
mod helm_values;
mod number;
mod resolve;
mod scalar;
mod sort;
mod tree;

use serde_json::Value;

pub use documents::{is_empty_document, split_documents};
pub use error::YamlError;
pub use helm_values::set_helm_values;

/// The deepest nesting of lists and maps [`to_yaml`] writes and [`from_yaml`] reads. Deeper values are rejected
/// rather than risking the stack (the recursive encoder must fit a 2 MiB thread stack even unoptimised);
/// upstream data never comes close.
pub const MAX_DEPTH: usize = 256;

/// Serialises `value` exactly as Go's `sigs.k8s.io/yaml.Marshal` (v1.6.0, yaml.v2 v2.4.3 emitter) would.
///
/// Fails only for strings that Go's JSON → YAML round trip rejects (DEL, C1 control characters other than
/// NEL, U+FFFE/U+FFFF) and for values nested more than [`MAX_DEPTH`] levels deep.
pub fn to_yaml(value: &Value) -> Result<String, YamlError> {
    let node = encode::to_node(value)?;
    Ok(emitter::emit_document(&node))
}

/// [`to_yaml`] of a template value (what `toYaml` does), without converting it to JSON first.
pub(crate) fn to_yaml_value(value: &minijinja::Value) -> Result<String, YamlError> {
    let node = encode::value_to_node(value)?;
    Ok(emitter::emit_document(&node))
}

/// Parses the first YAML document of `text` as `sigs.k8s.io/yaml.Unmarshal` into `interface{}` would; duplicate
/// mapping keys are accepted and the last one wins. An empty stream yields `null`.
pub fn from_yaml(text: &str) -> Result<Value, YamlError> {
    let tree = tree::parse_first_document(text)?;
    decode::decode(&tree, false)
}

/// Like [`from_yaml`], but a duplicate mapping key is an error (`sigs.k8s.io/yaml.UnmarshalStrict`).
pub fn from_yaml_strict(text: &str) -> Result<Value, YamlError> {
    let tree = tree::parse_first_document(text)?;
    decode::decode(&tree, true)
}

//! Node tree → `serde_json::Value` with yaml.v2's YAML 1.1 resolution and sigs.k8s.io/yaml's key rules.

use base64::Engine as _;
use serde_json::{Map, Number, Value};

use super::MAX_DEPTH;
use super::error::YamlError;
use super::number::format_g32;
use super::resolve::{Resolved, resolve_plain};
use super::tree::{Kind, Tree, YNode};

/// Upper bound on decoded nodes, so that alias bombs fail instead of exhausting memory (yaml.v2 has a
/// similar "excessive aliasing" guard).
const MAX_DECODED_NODES: usize = 2_000_000;

/// Decodes the tree's root; an empty stream is `null`.
pub(super) fn decode(tree: &Tree, strict: bool) -> Result<Value, YamlError> {
    let mut d = Decoder {
        tree,
        strict,
        visiting: Vec::new(),
        decoded: 0,
    };
    match tree.root {
        Some(root) => d.value(root, 0),
        None => Ok(Value::Null),
    }
}

struct Decoder<'t> {
    tree: &'t Tree,
    strict: bool,
    /// Aliases being expanded, to reject an anchor that contains itself.
    visiting: Vec<usize>,
    decoded: usize,
}

fn err(message: impl Into<String>, node: &YNode) -> YamlError {
    YamlError::at(message, node.line, node.column)
}

/// The resolved content of a scalar node.
fn resolve_scalar(value: &str, quoted: bool, tag: Option<&str>, node: &YNode) -> Result<Resolved, YamlError> {
    let Some(tag) = tag else {
        return Ok(if quoted {
            Resolved::Str
        } else {
            resolve_plain(value)
        });
    };
    let wanted = match tag {
        "str" | "binary" => return Ok(Resolved::Str),
        "bool" | "int" | "float" | "timestamp" => tag,
        // yaml.v2 leaves scalars with any other tag as plain strings.
        _ => return Ok(Resolved::Str),
    };
    let resolved = resolve_plain(value);
    let ok = match (&resolved, wanted) {
        (Resolved::Bool(_), "bool") | (Resolved::Int(_) | Resolved::Uint(_), "int") => true,
        (Resolved::Float(_), "float") | (Resolved::Timestamp, "timestamp") => true,
        (Resolved::Int(i), "float") => return Ok(Resolved::Float(*i as f64)),
        _ => false,
    };
    if ok {
        Ok(resolved)
    } else {
        let found = match resolved {
            Resolved::Null => "null",
            Resolved::Bool(_) => "bool",
            Resolved::Int(_) | Resolved::Uint(_) => "int",
            Resolved::Float(_) => "float",
            Resolved::Timestamp => "timestamp",
            Resolved::Str => "str",
        };
        Err(err(
            format!("cannot decode !!{found} `{value}` as a !!{wanted}"),
            node,
        ))
    }
}

/// JSON has no infinities or NaN, and integral floats come back from Go's JSON round trip as integers.
fn float_value(f: f64, node: &YNode) -> Result<Value, YamlError> {
    if !f.is_finite() {
        return Err(err(
            format!("json: unsupported value: {f} (YAML .inf/.nan cannot be represented in JSON)"),
            node,
        ));
    }
    let integral = f.fract() == 0.0 && !(f == 0.0 && f.is_sign_negative());
    if integral && f.abs() < 9.2e18 {
        return Ok(Value::from(f as i64));
    }
    if integral && f > 0.0 && f < 1.8e19 {
        return Ok(Value::from(f as u64));
    }
    Ok(Number::from_f64(f).map_or(Value::Null, Value::Number))
}

impl Decoder<'_> {
    /// Follows aliases to the node they name, rejecting self-containing anchors.
    fn target(&self, mut idx: usize) -> usize {
        while let Kind::Alias(t) = self.tree.nodes[idx].kind {
            idx = t;
        }
        idx
    }

    fn value(&mut self, idx: usize, depth: usize) -> Result<Value, YamlError> {
        let node = &self.tree.nodes[idx];
        self.decoded += 1;
        if self.decoded > MAX_DECODED_NODES {
            return Err(err("document contains excessive aliasing", node));
        }
        if depth > MAX_DEPTH {
            return Err(err(
                format!("document nested deeper than {MAX_DEPTH} levels"),
                node,
            ));
        }
        match &node.kind {
            Kind::Alias(target) => {
                if self.visiting.contains(target) {
                    return Err(err("anchor value contains itself", node));
                }
                self.visiting.push(*target);
                let v = self.value(*target, depth + 1);
                self.visiting.pop();
                v
            }
            Kind::Scalar { value, quoted, tag } => self.scalar(value, *quoted, tag.as_deref(), node),
            Kind::Seq(items) => {
                let items = items.clone();
                let values = items
                    .iter()
                    .map(|i| self.value(*i, depth + 1))
                    .collect::<Result<_, _>>()?;
                Ok(Value::Array(values))
            }
            Kind::Map(_) => {
                let mut out = Map::new();
                self.fill_map(idx, &mut out, depth)?;
                Ok(Value::Object(out))
            }
        }
    }

    fn scalar(&self, value: &str, quoted: bool, tag: Option<&str>, node: &YNode) -> Result<Value, YamlError> {
        if tag == Some("binary") {
            let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(compact)
                .map_err(|_| err("!!binary value contains invalid base64 data", node))?;
            return Ok(Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        }
        Ok(match resolve_scalar(value, quoted, tag, node)? {
            Resolved::Null => Value::Null,
            Resolved::Bool(b) => Value::Bool(b),
            Resolved::Int(i) => Value::from(i),
            Resolved::Uint(u) => Value::from(u),
            Resolved::Float(f) => float_value(f, node)?,
            Resolved::Timestamp | Resolved::Str => Value::String(value.to_string()),
        })
    }

    /// Decodes a mapping node into `out` in document order: later keys overwrite earlier ones, and a merge key
    /// (`<<`) decodes the merged mapping(s) into the same map at that point, as yaml.v2 does.
    fn fill_map(&mut self, idx: usize, out: &mut Map<String, Value>, depth: usize) -> Result<(), YamlError> {
        let node = &self.tree.nodes[idx];
        let Kind::Map(pairs) = &node.kind else {
            return Err(err(
                "map merge requires map or sequence of maps as the value",
                node,
            ));
        };
        for &(k, v) in pairs {
            if self.is_merge_key(k) {
                self.merge(v, out, depth)?;
                continue;
            }
            let key = self.key_string(k)?;
            let value = self.value(v, depth + 1)?;
            if self.strict && out.contains_key(&key) {
                let vnode = &self.tree.nodes[v];
                return Err(err(format!("key {key:?} already set in map"), vnode));
            }
            out.insert(key, value);
        }
        Ok(())
    }

    fn is_merge_key(&self, idx: usize) -> bool {
        matches!(&self.tree.nodes[idx].kind, Kind::Scalar { value, quoted: false, tag } if value == "<<" && tag.as_deref().is_none_or(|t| t == "merge"))
    }

    fn merge(&mut self, idx: usize, out: &mut Map<String, Value>, depth: usize) -> Result<(), YamlError> {
        let target = self.target(idx);
        if self.visiting.contains(&target) {
            return Err(err("anchor value contains itself", &self.tree.nodes[idx]));
        }
        match &self.tree.nodes[target].kind {
            Kind::Map(_) => {
                self.visiting.push(target);
                let r = self.fill_map(target, out, depth + 1);
                self.visiting.pop();
                r
            }
            Kind::Seq(items) => {
                // Earlier mappings take precedence, so they are applied last.
                for &item in items.clone().iter().rev() {
                    let t = self.target(item);
                    if !matches!(self.tree.nodes[t].kind, Kind::Map(_)) {
                        return Err(err(
                            "map merge requires map or sequence of maps as the value",
                            &self.tree.nodes[item],
                        ));
                    }
                    self.merge(item, out, depth + 1)?;
                }
                Ok(())
            }
            _ => Err(err(
                "map merge requires map or sequence of maps as the value",
                &self.tree.nodes[idx],
            )),
        }
    }

    /// sigs.k8s.io/yaml's conversion of a decoded key to a JSON object key.
    fn key_string(&self, idx: usize) -> Result<String, YamlError> {
        let node = &self.tree.nodes[self.target(idx)];
        let Kind::Scalar { value, quoted, tag } = &node.kind else {
            return Err(err(
                "invalid map key: a mapping or sequence cannot be a key",
                node,
            ));
        };
        if tag.as_deref() == Some("binary") {
            return match self.scalar(value, *quoted, Some("binary"), node)? {
                Value::String(s) => Ok(s),
                _ => Err(err("unsupported map key", node)),
            };
        }
        Ok(match resolve_scalar(value, *quoted, tag.as_deref(), node)? {
            Resolved::Str | Resolved::Timestamp => value.clone(),
            Resolved::Int(i) => i.to_string(),
            Resolved::Bool(b) => b.to_string(),
            Resolved::Float(f) => match format_g32(f).as_str() {
                "+Inf" => ".inf".to_string(),
                "-Inf" => "-.inf".to_string(),
                "NaN" => ".nan".to_string(),
                s => s.to_string(),
            },
            Resolved::Uint(_) => {
                return Err(err(format!("unsupported map key of type uint64: {value}"), node));
            }
            Resolved::Null => return Err(err("unsupported map key: null", node)),
        })
    }
}

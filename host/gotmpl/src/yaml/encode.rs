//! `serde_json::Value` → emitter tree, reproducing what survives sigs.k8s.io/yaml's JSON → YAML round trip.

use serde_json::Value;

use super::MAX_DEPTH;
use super::emitter::Node;
use super::error::YamlError;
use super::number::yaml_float_text;
use super::sort::sort_keys;

/// Converts a JSON value into the node tree yaml.v2 would emit.
pub fn to_node(value: &Value) -> Result<Node, YamlError> {
    convert(value, 0)
}

fn convert(value: &Value, depth: usize) -> Result<Node, YamlError> {
    if depth > MAX_DEPTH {
        return Err(YamlError::new(format!(
            "value nested deeper than {MAX_DEPTH} levels"
        )));
    }
    Ok(match value {
        Value::Null => Node::Plain("null".to_string()),
        Value::Bool(b) => Node::Plain(b.to_string()),
        Value::Number(n) => Node::Plain(number_text(n)?),
        Value::String(s) => Node::Str(json_string(s, false)?),
        Value::Array(items) => Node::Seq(
            items
                .iter()
                .map(|v| convert(v, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => {
            let mut entries = map
                .iter()
                .map(|(k, v)| Ok((json_string(k, true)?, convert(v, depth + 1)?)))
                .collect::<Result<Vec<_>, YamlError>>()?;
            sort_keys(&mut entries);
            Node::Map(entries)
        }
    })
}

/// Converts a template value into the node tree, exactly as `to_node(&value::to_json(v))` would but without
/// building the JSON value first (`toYaml` runs on every render).
pub fn value_to_node(v: &minijinja::Value) -> Result<Node, YamlError> {
    convert_value(v, 0)
}

fn convert_value(v: &minijinja::Value, depth: usize) -> Result<Node, YamlError> {
    use crate::value::{self, GoKind};
    if depth > MAX_DEPTH {
        return Err(YamlError::new(format!(
            "value nested deeper than {MAX_DEPTH} levels"
        )));
    }
    Ok(match value::kind(v) {
        GoKind::Missing | GoKind::Nil | GoKind::Complex => Node::Plain("null".to_string()),
        GoKind::Bool => Node::Plain(if v.is_true() { "true" } else { "false" }.to_string()),
        GoKind::Int => Node::Plain(v.as_i64().unwrap_or(0).to_string()),
        GoKind::Float => {
            // The same numbers `value::to_json` and `number_text` produce.
            let f = value::as_f64(v).unwrap_or(0.0);
            Node::Plain(if !f.is_finite() {
                "null".to_string()
            } else if f.fract() == 0.0 && f.abs() < 9e18 {
                (f as i64).to_string()
            } else {
                yaml_float_text(f)
            })
        }
        GoKind::String => Node::Str(json_string(v.as_str().unwrap_or_default(), false)?),
        GoKind::List => Node::Seq(
            v.try_iter()
                .map(|items| items.map(|item| convert_value(&item, depth + 1)).collect())
                .unwrap_or_else(|_| Ok(Vec::new()))?,
        ),
        GoKind::Map => {
            // Byte order first, as the JSON map the reference path goes through is.
            let mut entries = Vec::new();
            for (key, item) in value::map_entries(v) {
                entries.push((json_string(&key, true)?, convert_value(&item, depth + 1)?));
            }
            sort_keys(&mut entries);
            Node::Map(entries)
        }
    })
}

fn number_text(n: &serde_json::Number) -> Result<String, YamlError> {
    if let Some(i) = n.as_i64() {
        return Ok(i.to_string());
    }
    if let Some(u) = n.as_u64() {
        return Ok(u.to_string());
    }
    match n.as_f64() {
        Some(f) if f.is_finite() => Ok(yaml_float_text(f)),
        _ => Err(YamlError::new(format!("json: unsupported value: {n}"))),
    }
}

/// A JSON string after Go's JSON encoder wrote it and yaml.v2's reader parsed it back.
///
/// Go escapes C0 controls, U+2028 and U+2029 but writes DEL, the other C1 controls and the non-characters
/// U+FFFE/U+FFFF raw, which yaml.v2's reader rejects. A raw NEL (U+0085) is a line break inside the
/// double-quoted scalar and gets folded.
fn json_string(s: &str, is_key: bool) -> Result<String, YamlError> {
    if let Some(c) = s
        .chars()
        .find(|c| matches!(u32::from(*c), 0x7F..=0x84 | 0x86..=0x9F | 0xFFFE | 0xFFFF))
    {
        return Err(YamlError::new(format!(
            "control characters are not allowed (U+{:04X} in a string)",
            u32::from(c)
        )));
    }
    if !s.contains('\u{85}') {
        return Ok(s.to_string());
    }
    if is_key {
        // A line break inside a flow-mapping key breaks the implicit key; yaml.v2 fails to parse the JSON.
        return Err(YamlError::new(
            "did not find expected ',' or '}' (line break in a map key)",
        ));
    }
    fold_nel(s)
}

/// Flow-scalar line folding where the only raw line break is NEL and the only raw blank is space (Go's JSON
/// encoder escapes tabs and the other breaks, so those are content).
fn fold_nel(s: &str) -> Result<String, YamlError> {
    let mut out = String::new();
    let mut pending_spaces = String::new();
    let mut breaks = 0usize;
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\u{85}' {
            breaks += 1;
            pending_spaces.clear();
            i += 1;
            // A document marker at the start of a continuation line is a syntax error in Go.
            let rest: String = chars[i..].iter().take(4).collect();
            if (rest.starts_with("---") || rest.starts_with("..."))
                && rest.chars().nth(3).is_none_or(|n| n == ' ' || n == '\u{85}')
            {
                return Err(YamlError::new("found unexpected document indicator"));
            }
            continue;
        }
        if c == ' ' {
            if breaks == 0 {
                pending_spaces.push(c);
            }
            i += 1;
            continue;
        }
        match breaks {
            0 => out.push_str(&pending_spaces),
            1 => out.push(' '),
            n => out.push_str(&"\n".repeat(n - 1)),
        }
        pending_spaces.clear();
        breaks = 0;
        out.push(c);
        i += 1;
    }
    match breaks {
        0 => out.push_str(&pending_spaces),
        1 => out.push(' '),
        n => out.push_str(&"\n".repeat(n - 1)),
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::value::{from_json, to_json};

    /// The direct path gives the bytes of the JSON path for every data set of the conformance vectors.
    #[test]
    fn template_values_encode_like_their_json() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
        let mut checked = 0;
        for entry in std::fs::read_dir(&dir).expect("vector directory") {
            let path = entry.expect("entry").path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let vectors: Vec<serde_json::Value> =
                serde_json::from_str(&std::fs::read_to_string(&path).expect("vector file")).expect("JSON");
            for v in vectors {
                let data = from_json(&v["data"]);
                let want = super::super::to_yaml(&to_json(&data)).map_err(|e| e.to_string());
                let got = super::super::to_yaml_value(&data).map_err(|e| e.to_string());
                assert_eq!(got, want, "{}", v["name"]);
                checked += 1;
            }
        }
        assert!(checked > 800, "only {checked} data sets");
    }
}

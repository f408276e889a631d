//! Converting between the JSON form the store keeps and protobuf messages, driven by the schema.
//!
//! Kubernetes' well-known messages have their JSON forms: `Time`/`MicroTime` are RFC 3339 strings, `Quantity` a
//! string, `IntOrString` a number or a string, `FieldsV1`/`RawExtension` embedded JSON, `ExtraValue` a string list.
//! Go's encoder writes non-pointer fields even when empty; empty strings are dropped on decoding, as Go's JSON
//! `omitempty` would.

use base64::Engine;
use serde_json::{Map, Number, Value, json};

use super::schema::{FieldDef, Label, Schema, Ty};
use super::wire::{self, Field, Reader};
use crate::time::{format_secs, parse_rfc3339};

/// Deepest message nesting accepted (the schema's own nesting is far below this).
const MAX_DEPTH: usize = 48;

const TIME: &str = "k8s.io.apimachinery.pkg.apis.meta.v1.Time";
const MICRO_TIME: &str = "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime";
const QUANTITY: &str = "k8s.io.apimachinery.pkg.api.resource.Quantity";
const INT_OR_STRING: &str = "k8s.io.apimachinery.pkg.util.intstr.IntOrString";
const FIELDS_V1: &str = "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1";
const RAW_EXTENSION: &str = "k8s.io.apimachinery.pkg.runtime.RawExtension";

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// Decodes message `name` from `bytes`.
pub fn decode(schema: &Schema, name: &str, bytes: &[u8]) -> Result<Value, String> {
    decode_at(schema, name, bytes, 0)
}

fn decode_at(schema: &Schema, name: &str, bytes: &[u8], depth: usize) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err("message nested too deeply".into());
    }
    let mut r = Reader::new(bytes);
    let mut raw: Vec<(u32, Field<'_>)> = Vec::new();
    while let Some(f) = r.next_field()? {
        raw.push(f);
    }
    let bytes_of = |tag: u32| {
        raw.iter().rev().find_map(|(t, f)| match f {
            Field::Bytes(b) if *t == tag => Some(*b),
            _ => None,
        })
    };
    let varint_of = |tag: u32| {
        raw.iter().rev().find_map(|(t, f)| match f {
            Field::Varint(v) if *t == tag => Some(*v),
            _ => None,
        })
    };
    match name {
        TIME | MICRO_TIME => {
            if raw.is_empty() {
                return Ok(Value::Null);
            }
            let secs = varint_of(1).unwrap_or(0) as i64;
            let nanos = varint_of(2).unwrap_or(0) as i32;
            let base = format_secs(secs);
            return Ok(Value::String(if name == MICRO_TIME {
                format!("{}.{:06}Z", base.trim_end_matches('Z'), nanos.max(0) / 1000)
            } else {
                base
            }));
        }
        QUANTITY => return Ok(json!(String::from_utf8_lossy(bytes_of(1).unwrap_or_default()))),
        INT_OR_STRING => {
            return Ok(if varint_of(1).unwrap_or(0) == 0 {
                json!(varint_of(2).unwrap_or(0) as i32)
            } else {
                json!(String::from_utf8_lossy(bytes_of(3).unwrap_or_default()))
            });
        }
        FIELDS_V1 | RAW_EXTENSION => {
            let data = bytes_of(1).unwrap_or_default();
            if data.is_empty() {
                return Ok(Value::Null);
            }
            return serde_json::from_slice(data).map_err(|e| format!("embedded JSON: {e}"));
        }
        _ if name.ends_with(".ExtraValue") => {
            let items: Vec<Value> = raw
                .iter()
                .filter_map(|(t, f)| match f {
                    Field::Bytes(b) if *t == 1 => Some(json!(String::from_utf8_lossy(b))),
                    _ => None,
                })
                .collect();
            return Ok(Value::Array(items));
        }
        _ => {}
    }
    let fields = schema
        .fields(name)
        .ok_or_else(|| format!("unknown message {name}"))?;
    let mut out = Map::new();
    for (tag, field) in &raw {
        let Some(def) = fields.iter().find(|d| d.tag == *tag) else {
            continue;
        };
        match &def.label {
            Label::Map(value_ty) => {
                let Field::Bytes(entry) = field else {
                    return Err(format!("{}: map entry is not length-delimited", def.json));
                };
                let (k, v) = decode_entry(schema, value_ty, entry, depth)?;
                let m = out.entry(def.json.clone()).or_insert_with(|| json!({}));
                if let Some(m) = m.as_object_mut() {
                    m.insert(k, v);
                }
            }
            Label::Repeated => {
                let values = decode_repeated(schema, &def.ty, field, depth)?;
                let list = out.entry(def.json.clone()).or_insert_with(|| json!([]));
                if let Some(list) = list.as_array_mut() {
                    list.extend(values);
                }
            }
            Label::Optional => match decode_scalar(schema, &def.ty, field, depth)? {
                Value::Null => {}
                Value::String(s) if s.is_empty() && def.ty == Ty::String => {}
                v => {
                    out.insert(def.json.clone(), v);
                }
            },
        }
    }
    Ok(Value::Object(out))
}

fn decode_entry(
    schema: &Schema,
    value_ty: &Ty,
    entry: &[u8],
    depth: usize,
) -> Result<(String, Value), String> {
    let mut r = Reader::new(entry);
    let mut key = String::new();
    let mut value = match value_ty {
        Ty::Message(_) => json!({}),
        _ => json!(""),
    };
    while let Some((tag, f)) = r.next_field()? {
        match (tag, &f) {
            (1, Field::Bytes(b)) => key = String::from_utf8_lossy(b).into_owned(),
            (2, _) => value = decode_scalar(schema, value_ty, &f, depth)?,
            _ => {}
        }
    }
    Ok((key, value))
}

fn decode_repeated(schema: &Schema, ty: &Ty, field: &Field<'_>, depth: usize) -> Result<Vec<Value>, String> {
    // Packed repeated numbers arrive as one length-delimited run of varints.
    if let (Ty::Bool | Ty::Int32 | Ty::Int64, Field::Bytes(run)) = (ty, field) {
        let mut values = Vec::new();
        let mut buf = Vec::new();
        for chunk in run.split_inclusive(|b| b & 0x80 == 0) {
            buf.clear();
            wire::put_key(&mut buf, 1, wire::VARINT);
            buf.extend_from_slice(chunk);
            if let Some((_, f)) = Reader::new(&buf).next_field()? {
                values.push(decode_scalar(schema, ty, &f, depth)?);
            }
        }
        return Ok(values);
    }
    Ok(vec![decode_scalar(schema, ty, field, depth)?])
}

fn decode_scalar(schema: &Schema, ty: &Ty, field: &Field<'_>, depth: usize) -> Result<Value, String> {
    Ok(match (ty, field) {
        (Ty::String, Field::Bytes(b)) => json!(String::from_utf8_lossy(b)),
        (Ty::Bytes, Field::Bytes(b)) => json!(b64().encode(b)),
        (Ty::Bool, Field::Varint(v)) => json!(*v != 0),
        (Ty::Int32, Field::Varint(v)) => json!(*v as i32),
        (Ty::Int64, Field::Varint(v)) => json!(*v as i64),
        (Ty::Double, Field::Fixed64(v)) => {
            Number::from_f64(f64::from_bits(*v)).map_or(Value::Null, Value::Number)
        }
        (Ty::Message(m), Field::Bytes(b)) => decode_at(schema, m, b, depth + 1)?,
        (ty, f) => return Err(format!("wire type of {f:?} does not fit {ty:?}")),
    })
}

/// Encodes `value` as message `name`. Fields of the wrong JSON type are left out.
pub fn encode(schema: &Schema, name: &str, value: &Value) -> Result<Vec<u8>, String> {
    encode_at(schema, name, value, 0)
}

fn encode_at(schema: &Schema, name: &str, value: &Value, depth: usize) -> Result<Vec<u8>, String> {
    if depth > MAX_DEPTH {
        return Err("object nested too deeply".into());
    }
    let mut out = Vec::new();
    match name {
        TIME | MICRO_TIME => {
            if let Some(s) = value.as_str()
                && let Some(secs) = parse_rfc3339(s)
            {
                wire::put_key(&mut out, 1, wire::VARINT);
                wire::put_varint(&mut out, secs as u64);
                let nanos = fraction_nanos(s);
                wire::put_key(&mut out, 2, wire::VARINT);
                wire::put_varint(&mut out, i64::from(nanos) as u64);
            }
            return Ok(out);
        }
        QUANTITY => {
            let s = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            wire::put_bytes(&mut out, 1, s.as_bytes());
            return Ok(out);
        }
        INT_OR_STRING => {
            let (kind, int, text) = match value {
                Value::Number(n) => (0, n.as_i64().unwrap_or(0), String::new()),
                Value::String(s) => (1, 0, s.clone()),
                _ => (0, 0, String::new()),
            };
            wire::put_key(&mut out, 1, wire::VARINT);
            wire::put_varint(&mut out, kind);
            wire::put_key(&mut out, 2, wire::VARINT);
            wire::put_varint(&mut out, int as u64);
            wire::put_bytes(&mut out, 3, text.as_bytes());
            return Ok(out);
        }
        FIELDS_V1 | RAW_EXTENSION => {
            wire::put_bytes(&mut out, 1, value.to_string().as_bytes());
            return Ok(out);
        }
        _ if name.ends_with(".ExtraValue") => {
            for item in value.as_array().into_iter().flatten().filter_map(Value::as_str) {
                wire::put_bytes(&mut out, 1, item.as_bytes());
            }
            return Ok(out);
        }
        _ => {}
    }
    let fields = schema
        .fields(name)
        .ok_or_else(|| format!("unknown message {name}"))?;
    for def in fields {
        let Some(v) = value.get(&def.json).filter(|v| !v.is_null()) else {
            continue;
        };
        match &def.label {
            Label::Optional => encode_scalar(schema, &mut out, def, &def.ty, v, depth)?,
            Label::Repeated => {
                for item in v.as_array().into_iter().flatten() {
                    encode_scalar(schema, &mut out, def, &def.ty, item, depth)?;
                }
            }
            Label::Map(value_ty) => {
                for (k, item) in v.as_object().into_iter().flatten() {
                    let mut entry = Vec::new();
                    wire::put_bytes(&mut entry, 1, k.as_bytes());
                    let value_def = FieldDef {
                        tag: 2,
                        json: String::new(),
                        label: Label::Optional,
                        ty: value_ty.clone(),
                        keys: Vec::new(),
                    };
                    encode_scalar(schema, &mut entry, &value_def, value_ty, item, depth)?;
                    wire::put_bytes(&mut out, def.tag, &entry);
                }
            }
        }
    }
    Ok(out)
}

fn encode_scalar(
    schema: &Schema,
    out: &mut Vec<u8>,
    def: &FieldDef,
    ty: &Ty,
    v: &Value,
    depth: usize,
) -> Result<(), String> {
    match (ty, v) {
        (Ty::String, Value::String(s)) => wire::put_bytes(out, def.tag, s.as_bytes()),
        (Ty::Bytes, Value::String(s)) => {
            if let Ok(b) = b64().decode(s) {
                wire::put_bytes(out, def.tag, &b);
            }
        }
        (Ty::Bool, Value::Bool(b)) => {
            wire::put_key(out, def.tag, wire::VARINT);
            wire::put_varint(out, u64::from(*b));
        }
        (Ty::Int32 | Ty::Int64, Value::Number(n)) => {
            if let Some(i) = n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)) {
                wire::put_key(out, def.tag, wire::VARINT);
                wire::put_varint(out, i as u64);
            }
        }
        (Ty::Double, Value::Number(n)) => {
            if let Some(f) = n.as_f64() {
                wire::put_key(out, def.tag, wire::FIXED64);
                out.extend_from_slice(&f.to_bits().to_le_bytes());
            }
        }
        (Ty::Message(m), v) => {
            let bytes = encode_at(schema, m, v, depth + 1)?;
            wire::put_bytes(out, def.tag, &bytes);
        }
        _ => {}
    }
    Ok(())
}

/// The nanoseconds of an RFC 3339 time's fraction (`.5` is 500000000).
fn fraction_nanos(s: &str) -> i32 {
    let Some(frac) = s.get(19..).and_then(|r| r.strip_prefix('.')) else {
        return 0;
    };
    let digits: String = frac.chars().take_while(char::is_ascii_digit).take(9).collect();
    format!("{digits:0<9}").parse().unwrap_or(0)
}

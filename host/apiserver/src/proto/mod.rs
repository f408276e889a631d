//! Kubernetes' protobuf encoding (`application/vnd.kubernetes.protobuf`) for the built-in kinds.
//!
//! On the wire an object is the magic `k8s\0` followed by a `runtime.Unknown` message: the object's
//! `apiVersion`/`kind` and its own message as bytes. Watch streams (`;stream=watch`) are frames of a 4-byte
//! big-endian length and a `WatchEvent` in the same envelope, whose `object` holds the enveloped object.
//!
//! The store keeps JSON; this module converts at the edge. Which message a kind is, and the number, JSON name and
//! type of every field, come from [`schema`] (generated from `k8s-pb`), so every built-in kind the server serves is
//! covered by one generic codec ([`codec`]). Custom resources have no protobuf form: like a real server, the server
//! answers 415 to a protobuf body for them and JSON to requests that also accept JSON.

mod codec;
mod schema;
mod wire;

pub use codec::{decode, encode};
pub use schema::{FieldDef, Label, Schema, Ty, schema};

use serde_json::{Value, json};

/// The protobuf media type.
pub const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";
/// The media type of protobuf watch streams.
pub const WATCH_MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf;stream=watch";

const MAGIC: &[u8; 4] = b"k8s\0";

/// Whether a `Content-Type` is the protobuf media type.
pub fn is_protobuf(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|t| t.trim() == MEDIA_TYPE)
}

/// Whether a client's `Accept` header prefers protobuf (its first media type is protobuf).
pub fn prefers_protobuf(accept: &str) -> bool {
    accept.split(',').next().is_some_and(is_protobuf)
}

/// The `apiVersion`, `kind` and message bytes of an enveloped object.
fn open_envelope(body: &[u8]) -> Result<(String, String, &[u8]), String> {
    let rest = body
        .strip_prefix(MAGIC.as_slice())
        .ok_or("the body does not start with the protobuf envelope magic")?;
    let mut r = wire::Reader::new(rest);
    let (mut api_version, mut kind, mut raw, mut encoding) =
        (String::new(), String::new(), &[][..], String::new());
    while let Some((tag, field)) = r.next_field()? {
        let wire::Field::Bytes(b) = field else { continue };
        match tag {
            1 => {
                let mut tm = wire::Reader::new(b);
                while let Some((t, f)) = tm.next_field()? {
                    if let wire::Field::Bytes(s) = f {
                        let s = String::from_utf8_lossy(s).into_owned();
                        match t {
                            1 => api_version = s,
                            2 => kind = s,
                            _ => {}
                        }
                    }
                }
            }
            2 => raw = b,
            3 => encoding = String::from_utf8_lossy(b).into_owned(),
            _ => {}
        }
    }
    if !encoding.is_empty() {
        return Err(format!("content encoding {encoding:?} is not supported"));
    }
    Ok((api_version, kind, raw))
}

fn seal_envelope(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
    let mut type_meta = Vec::new();
    wire::put_bytes(&mut type_meta, 1, api_version.as_bytes());
    wire::put_bytes(&mut type_meta, 2, kind.as_bytes());
    let mut out = MAGIC.to_vec();
    wire::put_bytes(&mut out, 1, &type_meta);
    wire::put_bytes(&mut out, 2, raw);
    out
}

/// Decodes an enveloped protobuf object into its JSON form, `apiVersion` and `kind` included.
///
/// # Errors
///
/// A message for a malformed envelope or message, or a kind without a protobuf form.
pub fn decode_object(body: &[u8]) -> Result<Value, String> {
    let (api_version, kind, raw) = open_envelope(body)?;
    let s = schema();
    let message = s
        .message_for(&api_version, &kind)
        .ok_or_else(|| format!("{kind} in {api_version} has no protobuf form here"))?;
    let mut obj = decode(s, &message, raw)?;
    if !obj.is_object() {
        obj = json!({});
    }
    obj["apiVersion"] = json!(api_version);
    obj["kind"] = json!(kind);
    Ok(obj)
}

/// Encodes a JSON object (with `apiVersion` and `kind`) as an enveloped protobuf object; `None` when the kind has
/// no protobuf form.
pub fn encode_object(obj: &Value) -> Option<Vec<u8>> {
    let api_version = obj.get("apiVersion")?.as_str()?;
    let kind = obj.get("kind")?.as_str()?;
    let s = schema();
    let message = s.message_for(api_version, kind)?;
    let raw = encode(s, &message, obj).ok()?;
    Some(seal_envelope(api_version, kind, &raw))
}

/// Whether objects of `kind` in `api_version` have a protobuf form.
pub fn has_protobuf(api_version: &str, kind: &str) -> bool {
    schema().message_for(api_version, kind).is_some()
}

/// One frame of a protobuf watch stream: a `WatchEvent` of `event_type` carrying `obj`, length-prefixed.
pub fn watch_frame(event_type: &str, obj: &Value) -> Option<Vec<u8>> {
    let api_version = obj.get("apiVersion")?.as_str()?.to_string();
    let inner = encode_object(obj)?;
    let mut raw_ext = Vec::new();
    wire::put_bytes(&mut raw_ext, 1, &inner);
    let mut event = Vec::new();
    wire::put_bytes(&mut event, 1, event_type.as_bytes());
    wire::put_bytes(&mut event, 2, &raw_ext);
    let sealed = seal_envelope(&api_version, "WatchEvent", &event);
    let len = u32::try_from(sealed.len()).ok()?;
    let mut frame = len.to_be_bytes().to_vec();
    frame.extend_from_slice(&sealed);
    Some(frame)
}

#[cfg(test)]
mod tests;

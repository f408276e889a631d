//! The protobuf layout of the built-in kinds, parsed from `k8s.schema` (generated from `k8s-pb` by
//! `tools/gen-proto-schema.py`).

use std::collections::HashMap;
use std::sync::LazyLock;

/// A field's type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ty {
    /// UTF-8 string.
    String,
    /// Bytes (base64 in JSON).
    Bytes,
    /// Boolean.
    Bool,
    /// 32-bit integer.
    Int32,
    /// 64-bit integer.
    Int64,
    /// 64-bit float.
    Double,
    /// A message, by full name.
    Message(String),
}

impl Ty {
    fn parse(s: &str) -> Ty {
        match s {
            "string" => Ty::String,
            "bytes" => Ty::Bytes,
            "bool" => Ty::Bool,
            "int32" => Ty::Int32,
            "int64" => Ty::Int64,
            "double" => Ty::Double,
            other => Ty::Message(other.to_string()),
        }
    }
}

/// How often a field occurs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Label {
    /// Zero or one value.
    Optional,
    /// A list.
    Repeated,
    /// A map with string keys and values of the given type.
    Map(Ty),
}

/// One field of a message.
#[derive(Clone, Debug)]
pub struct FieldDef {
    /// Field number.
    pub tag: u32,
    /// JSON name.
    pub json: String,
    /// Cardinality.
    pub label: Label,
    /// Type (the key type for maps: always string).
    pub ty: Ty,
    /// For lists of objects merged by key (strategic merge patches): the key fields.
    pub keys: Vec<String>,
}

/// Every message of the schema file, by full name.
pub struct Schema {
    messages: HashMap<String, Vec<FieldDef>>,
}

static SCHEMA: LazyLock<Schema> = LazyLock::new(|| Schema::parse(include_str!("k8s.schema")));

/// The built-in kinds' schema.
pub fn schema() -> &'static Schema {
    &SCHEMA
}

impl Schema {
    fn parse(text: &str) -> Schema {
        let mut messages: HashMap<String, Vec<FieldDef>> = HashMap::new();
        let mut current: Option<String> = None;
        for line in text.lines() {
            let parts: Vec<&str> = line.split(' ').collect();
            match parts.as_slice() {
                ["M", name] => {
                    messages.insert(name.to_string(), Vec::new());
                    current = Some(name.to_string());
                }
                ["F", tag, json, label, ty, rest @ ..] => {
                    let keys: Vec<String> = rest
                        .first()
                        .map(|k| k.split(',').map(str::to_string).collect())
                        .unwrap_or_default();
                    let (Some(m), Ok(tag)) = (current.as_ref(), tag.parse()) else {
                        continue;
                    };
                    let (label, ty) = match *label {
                        "r" => (Label::Repeated, Ty::parse(ty)),
                        "m" => {
                            let value = ty.split_once(',').map(|(_, v)| v).unwrap_or("string");
                            (Label::Map(Ty::parse(value)), Ty::String)
                        }
                        _ => (Label::Optional, Ty::parse(ty)),
                    };
                    if let Some(fields) = messages.get_mut(m) {
                        fields.push(FieldDef {
                            tag,
                            json: json.to_string(),
                            label,
                            ty,
                            keys,
                        });
                    }
                }
                _ => {}
            }
        }
        for fields in messages.values_mut() {
            fields.sort_by_key(|f| f.tag);
        }
        Schema { messages }
    }

    /// The fields of message `name`.
    pub fn fields(&self, name: &str) -> Option<&[FieldDef]> {
        self.messages.get(name).map(Vec::as_slice)
    }

    /// The message of an object of `kind` in `apiVersion`, when the kind is a built-in one.
    pub fn message_for(&self, api_version: &str, kind: &str) -> Option<String> {
        let group = api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
        let version = api_version.rsplit('/').next().unwrap_or(api_version);
        let package = if group.is_empty() {
            "core"
        } else {
            let short = group.strip_suffix(".k8s.io").unwrap_or(group);
            short.split('.').next().unwrap_or(short)
        };
        let candidates = [
            format!("k8s.io.api.{package}.{version}.{kind}"),
            format!("k8s.io.apimachinery.pkg.apis.meta.v1.{kind}"),
        ];
        let builtin_group = group.is_empty() || group.ends_with(".k8s.io") || !group.contains('.');
        candidates
            .into_iter()
            .filter(|_| builtin_group)
            .find(|c| self.messages.contains_key(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_resolve_to_their_messages() {
        let s = schema();
        assert_eq!(
            s.message_for("v1", "ConfigMap").as_deref(),
            Some("k8s.io.api.core.v1.ConfigMap")
        );
        assert_eq!(
            s.message_for("rbac.authorization.k8s.io/v1", "RoleBinding")
                .as_deref(),
            Some("k8s.io.api.rbac.v1.RoleBinding")
        );
        assert_eq!(
            s.message_for("apps/v1", "DeploymentList").as_deref(),
            Some("k8s.io.api.apps.v1.DeploymentList")
        );
        assert_eq!(
            s.message_for("v1", "Status").as_deref(),
            Some("k8s.io.apimachinery.pkg.apis.meta.v1.Status")
        );
        assert_eq!(
            s.message_for("example.io/v1", "ConfigMap"),
            None,
            "custom groups are JSON-only"
        );
        let cm = s.fields("k8s.io.api.core.v1.ConfigMap").unwrap();
        assert!(
            cm.iter()
                .any(|f| f.json == "binaryData" && f.label == Label::Map(Ty::Bytes))
        );
    }
}

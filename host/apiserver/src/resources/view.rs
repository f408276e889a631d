//! Resource types that are another view of a stored type: the core `v1` Event is served from the
//! `events.k8s.io/v1` Events, as a real server serves both groups from one store. The two shapes differ only in
//! the names of some top-level fields, so a view is a list of renames, applied to objects, to the field paths of
//! their managed fields and to field selectors.

use serde_json::{Map, Value, json};

use super::ResKey;

/// How a served type maps onto the type it is stored as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct View {
    /// API group of the stored type.
    pub group: &'static str,
    /// Version of the stored type's objects.
    pub version: &'static str,
    /// Plural of the stored type.
    pub plural: &'static str,
    /// `(served name, stored name)` of the top-level fields that differ.
    pub renames: &'static [(&'static str, &'static str)],
}

/// The core `v1` Event as a view of `events.k8s.io/v1` Events.
pub const CORE_EVENTS: View = View {
    group: "events.k8s.io",
    version: "v1",
    plural: "events",
    renames: &[
        ("involvedObject", "regarding"),
        ("message", "note"),
        ("source", "deprecatedSource"),
        ("firstTimestamp", "deprecatedFirstTimestamp"),
        ("lastTimestamp", "deprecatedLastTimestamp"),
        ("count", "deprecatedCount"),
        ("reportingComponent", "reportingController"),
    ],
};

impl View {
    /// The storage key of the stored type.
    pub fn key(&self) -> ResKey {
        (self.group.to_string(), self.plural.to_string())
    }

    fn api_version(&self) -> String {
        format!("{}/{}", self.group, self.version)
    }

    /// A stored object in the served shape (`api_version` is the served group-version).
    pub fn to_view(&self, stored: &Value, api_version: &str) -> Value {
        let stored_av = self.api_version();
        convert(
            stored,
            self.renames.iter().map(|(v, s)| (*s, *v)),
            &stored_av,
            api_version,
        )
    }

    /// A served-shape object in the stored shape.
    pub fn to_storage(&self, served: &Value, api_version: &str) -> Value {
        let stored_av = self.api_version();
        let mut out = convert(
            served,
            self.renames.iter().map(|(v, s)| (*v, *s)),
            api_version,
            &stored_av,
        );
        if out.get("apiVersion").is_some() {
            out["apiVersion"] = json!(stored_av);
        }
        out
    }

    /// The stored name of a served top-level field.
    pub fn stored_field<'a>(&self, served: &'a str) -> &'a str {
        self.renames
            .iter()
            .find(|(v, _)| *v == served)
            .map(|(_, s)| *s)
            .unwrap_or(served)
    }
}

/// Renames top-level fields `from → to` in `obj` and in its managed fields' field sets; managed-field entries
/// written through the `from_av` group-version are relabelled `to_av`.
fn convert<'a>(
    obj: &Value,
    renames: impl Iterator<Item = (&'a str, &'a str)> + Clone,
    from_av: &str,
    to_av: &str,
) -> Value {
    let Some(map) = obj.as_object() else {
        return obj.clone();
    };
    let mut out = rename_keys(map, renames.clone(), "");
    if let Some(entries) = out
        .get_mut("metadata")
        .and_then(|m| m.get_mut("managedFields"))
        .and_then(Value::as_array_mut)
    {
        for entry in entries {
            if entry.get("apiVersion").and_then(Value::as_str) == Some(from_av) {
                entry["apiVersion"] = json!(to_av);
            }
            if let Some(fields) = entry.get("fieldsV1").and_then(Value::as_object) {
                let renamed = rename_keys(fields, renames.clone(), "f:");
                entry["fieldsV1"] = Value::Object(renamed);
            }
        }
    }
    Value::Object(out)
}

fn rename_keys<'a>(
    map: &Map<String, Value>,
    renames: impl Iterator<Item = (&'a str, &'a str)> + Clone,
    prefix: &str,
) -> Map<String, Value> {
    map.iter()
        .map(|(k, v)| {
            let bare = k.strip_prefix(prefix);
            let renamed = bare.and_then(|b| renames.clone().find(|(from, _)| *from == b));
            match renamed {
                Some((_, to)) => (format!("{prefix}{to}"), v.clone()),
                None => (k.clone(), v.clone()),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored() -> Value {
        json!({
            "apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"name": "e", "namespace": "d", "managedFields": [{
                "manager": "op", "operation": "Update", "apiVersion": "events.k8s.io/v1",
                "fieldsV1": {"f:note": {}, "f:regarding": {"f:name": {}}, "f:reason": {}},
            }]},
            "regarding": {"kind": "PlatformMesh", "name": "pm"}, "note": "hello", "reason": "Ready",
            "type": "Normal", "deprecatedCount": 2, "reportingController": "op",
        })
    }

    #[test]
    fn core_view_renames_fields_and_managed_field_paths() {
        let core = CORE_EVENTS.to_view(&stored(), "v1");
        assert_eq!(core["involvedObject"]["name"], "pm");
        assert_eq!(core["message"], "hello");
        assert_eq!(core["count"], 2);
        assert_eq!(core["reportingComponent"], "op");
        assert_eq!(core["reason"], "Ready");
        assert!(core.get("note").is_none() && core.get("regarding").is_none());
        let mf = &core["metadata"]["managedFields"][0];
        assert_eq!(mf["apiVersion"], "v1");
        assert!(mf["fieldsV1"].get("f:message").is_some());
        assert!(mf["fieldsV1"].get("f:involvedObject").is_some());
        assert!(mf["fieldsV1"].get("f:reason").is_some());
    }

    #[test]
    fn round_trip_is_lossless_and_conversion_idempotent() {
        let s = stored();
        let mut core = CORE_EVENTS.to_view(&s, "v1");
        core["apiVersion"] = json!("v1");
        assert_eq!(CORE_EVENTS.to_storage(&core, "v1"), s);
        assert_eq!(CORE_EVENTS.to_view(&core, "v1"), core);
        assert_eq!(CORE_EVENTS.stored_field("involvedObject"), "regarding");
        assert_eq!(CORE_EVENTS.stored_field("metadata"), "metadata");
    }
}

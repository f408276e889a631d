//! The debug-label filter (`--debug-label-value`): only objects whose label `debug.platform-mesh.io` equals the
//! configured value are reconciled; with the default empty value, objects without the label (or with an empty
//! one).

use std::collections::BTreeMap;

/// The label the filter reads.
pub const DEBUG_LABEL: &str = "debug.platform-mesh.io";

/// Whether an object with `labels` passes the filter for `value`.
pub fn debug_label_matches(labels: Option<&BTreeMap<String, String>>, value: &str) -> bool {
    let label = labels
        .and_then(|l| l.get(DEBUG_LABEL))
        .map(String::as_str)
        .unwrap_or("");
    label == value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_value_accepts_only_unlabelled_objects() {
        let labelled = BTreeMap::from([(DEBUG_LABEL.to_owned(), "me".to_owned())]);
        let empty = BTreeMap::from([(DEBUG_LABEL.to_owned(), String::new())]);
        assert!(debug_label_matches(None, ""));
        assert!(debug_label_matches(Some(&empty), ""));
        assert!(!debug_label_matches(Some(&labelled), ""));
        assert!(debug_label_matches(Some(&labelled), "me"));
        assert!(!debug_label_matches(None, "me"));
    }
}

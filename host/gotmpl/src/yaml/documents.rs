//! Splitting a multi-document YAML stream into its documents, line by line.
//!
//! A `---` or `...` at column 0 followed by a space, tab or end of line is always a document marker in YAML
//! (content may not start a line with them), so a line scan is exact without parsing the documents.

/// Whether `line` (without its line break) starts with the three-character `marker` used as a marker.
fn is_marker(line: &str, marker: &str) -> bool {
    line.strip_prefix(marker)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r']))
}

/// Splits `text` at document start markers (`---`) and document end markers (`...`) at the beginning of a line.
///
/// Each returned slice is the text of one document: for `---` it starts right after the three dashes (so
/// content on the marker line, such as `--- |` or `--- # comment`, stays with its document); a `...` line
/// ends its document and is not part of any slice. The text before the first marker is returned too, so the
/// result is never empty. Slices are not trimmed and may be empty or hold only comments; see
/// [`is_empty_document`].
pub fn split_documents(text: &str) -> Vec<&str> {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let mut docs = Vec::new();
    let mut start = 0usize;
    // After `---` a (possibly empty) document always follows; after `...` only if some text does.
    let mut after_start_marker = false;
    let mut offset = 0usize;
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        if is_marker(bare, "---") {
            docs.push(&text[start..offset]);
            start = offset + 3;
            after_start_marker = true;
        } else if is_marker(bare, "...") {
            docs.push(&text[start..offset]);
            // What follows a document end belongs to the next document (a bare one or the one after `---`).
            start = offset + line.len();
            after_start_marker = false;
        }
        offset += line.len();
    }
    if start < text.len() || after_start_marker || docs.is_empty() {
        docs.push(&text[start.min(text.len())..]);
    }
    docs
}

/// Whether a document holds nothing but whitespace, comments and directives (`%YAML`, `%TAG`).
pub fn is_empty_document(doc: &str) -> bool {
    doc.lines().all(|line| {
        let t = line.trim();
        t.is_empty() || t.starts_with('#') || line.starts_with('%')
    })
}

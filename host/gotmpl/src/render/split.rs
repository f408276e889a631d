//! Splitting rendered output into YAML documents (the fix of spec §11.2 item 23).
//!
//! A document starts after a `---` marker at the start of a line; the marker may be followed by whitespace and
//! content (`--- # comment`, `--- !tag`), which belongs to the new document. Documents that are empty or hold
//! only comments are dropped, so they never turn into empty objects.

/// Splits `text` into trimmed, non-empty YAML documents.
pub fn split_documents(text: &str) -> Vec<String> {
    let mut docs = Vec::new();
    let mut cur = String::new();
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        let rest = bare.strip_prefix("---");
        match rest {
            Some(r) if r.is_empty() || r.starts_with([' ', '\t']) => {
                docs.push(std::mem::take(&mut cur));
                let r = r.trim();
                if !r.is_empty() && !r.starts_with('#') {
                    cur.push_str(r);
                    cur.push('\n');
                }
            }
            _ => cur.push_str(line),
        }
    }
    docs.push(cur);
    docs.into_iter()
        .map(|d| d.trim().to_string())
        .filter(|d| !is_blank_document(d))
        .collect()
}

/// Whether a document has no content besides comments and whitespace.
fn is_blank_document(doc: &str) -> bool {
    doc.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#')
    })
}

#[cfg(test)]
mod tests {
    use super::split_documents;

    #[test]
    fn splits_on_markers_only_at_line_start() {
        let text =
            "---\na: 1\n---\n# only a comment\n---   \nb: '---'\nc: x---y\n--- # trailing\nd: 2\n---\n\n";
        assert_eq!(split_documents(text), vec!["a: 1", "b: '---'\nc: x---y", "d: 2"]);
    }

    #[test]
    fn keeps_content_after_marker_and_crlf() {
        assert_eq!(split_documents("a: 1\r\n---\r\nb: 2\r\n"), vec!["a: 1", "b: 2"]);
        assert_eq!(split_documents("--- {x: 1}\n"), vec!["{x: 1}"]);
        assert!(split_documents("  \n\n").is_empty());
        assert_eq!(split_documents("a: |\n  ---x\n"), vec!["a: |\n  ---x"]);
    }
}

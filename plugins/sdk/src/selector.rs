//! Kubernetes label selectors: build the query string from `matchLabels`/`matchExpressions`, and (for the
//! test double) parse and evaluate one.

use std::collections::BTreeMap;

use serde::Deserialize;

/// One `matchExpressions` entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Requirement {
    pub key: String,
    /// `In`, `NotIn`, `Exists` or `DoesNotExist`.
    pub operator: String,
    #[serde(default)]
    pub values: Vec<String>,
}

/// A structured label selector (`metav1.LabelSelector`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    #[serde(default)]
    pub match_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub match_expressions: Vec<Requirement>,
}

/// Why a structured selector cannot be turned into a query string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelectorError(pub String);

impl std::fmt::Display for SelectorError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid label selector: {}", self.0)
    }
}

impl std::error::Error for SelectorError {}

impl LabelSelector {
    /// The selector in query syntax (`a=b,c in (d,e),!f`), validated like the API machinery does; `None` for
    /// an empty selector, which selects everything.
    pub fn to_query(&self) -> Result<Option<String>, SelectorError> {
        let mut terms = Vec::new();
        for (key, value) in &self.match_labels {
            check_key(key)?;
            terms.push(format!("{key}={value}"));
        }
        for req in &self.match_expressions {
            check_key(&req.key)?;
            let key = &req.key;
            let term = match req.operator.as_str() {
                "In" | "NotIn" => {
                    if req.values.is_empty() {
                        return Err(SelectorError(format!(
                            "{key}: values must be non-empty for {}",
                            req.operator
                        )));
                    }
                    let mut values = req.values.clone();
                    values.sort();
                    let op = if req.operator == "In" { "in" } else { "notin" };
                    format!("{key} {op} ({})", values.join(","))
                }
                "Exists" | "DoesNotExist" => {
                    if !req.values.is_empty() {
                        return Err(SelectorError(format!(
                            "{key}: values must be empty for {}",
                            req.operator
                        )));
                    }
                    if req.operator == "Exists" {
                        key.clone()
                    } else {
                        format!("!{key}")
                    }
                }
                other => return Err(SelectorError(format!("{key}: {other:?} is not a valid operator"))),
            };
            terms.push(term);
        }
        Ok(if terms.is_empty() {
            None
        } else {
            Some(terms.join(","))
        })
    }
}

fn check_key(key: &str) -> Result<(), SelectorError> {
    let name = key.rsplit('/').next().unwrap_or(key);
    let valid = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    if valid {
        Ok(())
    } else {
        Err(SelectorError(format!("{key:?} is not a valid label key")))
    }
}

/// A parsed query-syntax selector that can be evaluated against labels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selector(Vec<Term>);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Term {
    Eq(String, String),
    NotEq(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

impl Selector {
    /// Parses `a=b,c!=d,e in (f,g),h notin (i),j,!k`.
    pub fn parse(text: &str) -> Result<Selector, SelectorError> {
        let mut terms = Vec::new();
        for raw in split_terms(text) {
            let term = raw.trim();
            if term.is_empty() {
                continue;
            }
            terms.push(parse_term(term)?);
        }
        Ok(Selector(terms))
    }

    /// Whether `labels` satisfy every term.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.0.iter().all(|term| match term {
            Term::Eq(k, v) => labels.get(k) == Some(v),
            Term::NotEq(k, v) => labels.get(k) != Some(v),
            Term::In(k, vs) => labels.get(k).is_some_and(|l| vs.contains(l)),
            Term::NotIn(k, vs) => labels.get(k).is_none_or(|l| !vs.contains(l)),
            Term::Exists(k) => labels.contains_key(k),
            Term::NotExists(k) => !labels.contains_key(k),
        })
    }
}

/// Splits on commas that are not inside parentheses.
fn split_terms(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

fn parse_set(key: &str, rest: &str) -> Result<(String, Vec<String>), SelectorError> {
    let inner = rest
        .trim()
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| SelectorError(format!("{key}: expected a parenthesised value list")))?;
    Ok((
        key.to_owned(),
        inner.split(',').map(|v| v.trim().to_owned()).collect(),
    ))
}

fn parse_term(term: &str) -> Result<Term, SelectorError> {
    if let Some(key) = term.strip_prefix('!') {
        return Ok(Term::NotExists(key.trim().to_owned()));
    }
    if let Some((k, v)) = term.split_once("!=") {
        return Ok(Term::NotEq(k.trim().to_owned(), v.trim().to_owned()));
    }
    if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
        return Ok(Term::Eq(k.trim().to_owned(), v.trim().to_owned()));
    }
    let mut words = term.splitn(2, char::is_whitespace);
    let key = words.next().unwrap_or_default();
    let rest = words.next().unwrap_or_default().trim_start();
    if let Some(set) = rest.strip_prefix("notin") {
        let (k, vs) = parse_set(key, set)?;
        return Ok(Term::NotIn(k, vs));
    }
    if let Some(set) = rest.strip_prefix("in") {
        let (k, vs) = parse_set(key, set)?;
        return Ok(Term::In(k, vs));
    }
    if rest.is_empty() {
        return Ok(Term::Exists(key.to_owned()));
    }
    Err(SelectorError(format!("cannot parse {term:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn structured_selector_becomes_query_string() {
        let sel: LabelSelector = serde_json::from_value(serde_json::json!({
            "matchLabels": {"app": "x"},
            "matchExpressions": [
                {"key": "core.platform-mesh.io/operator-created", "operator": "In", "values": ["true"]},
                {"key": "tier", "operator": "DoesNotExist"}
            ]
        }))
        .unwrap();
        assert_eq!(
            sel.to_query().unwrap().as_deref(),
            Some("app=x,core.platform-mesh.io/operator-created in (true),!tier")
        );
        assert_eq!(LabelSelector::default().to_query().unwrap(), None);
    }

    #[test]
    fn invalid_operator_or_values_are_rejected() {
        let bad_op = LabelSelector {
            match_expressions: vec![Requirement {
                key: "a".into(),
                operator: "Maybe".into(),
                values: vec![],
            }],
            ..Default::default()
        };
        assert!(bad_op.to_query().is_err());
        let empty_in = LabelSelector {
            match_expressions: vec![Requirement {
                key: "a".into(),
                operator: "In".into(),
                values: vec![],
            }],
            ..Default::default()
        };
        assert!(empty_in.to_query().is_err());
    }

    #[test]
    fn parsed_selector_matches_labels() {
        let sel = Selector::parse("a=b,c in (d,e),!f,g notin (h),i").unwrap();
        assert!(sel.matches(&labels(&[("a", "b"), ("c", "e"), ("i", "")])));
        assert!(!sel.matches(&labels(&[("a", "b"), ("c", "x"), ("i", "")])));
        assert!(!sel.matches(&labels(&[("a", "b"), ("c", "d"), ("f", "1"), ("i", "")])));
        assert!(!sel.matches(&labels(&[("a", "b"), ("c", "d"), ("g", "h"), ("i", "")])));
        assert!(!sel.matches(&labels(&[("a", "b"), ("c", "d")])));
        assert!(Selector::parse("").unwrap().matches(&labels(&[])));
    }
}

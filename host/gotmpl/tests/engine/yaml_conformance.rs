//! Checks `gotmpl::yaml::to_yaml` against every Go conformance vector whose `toYaml` output can be isolated.
//!
//! The vectors (`tests/vectors`, override with `GOTMPL_CONFORMANCE_DIR`) were produced by real
//! Go. A vector is isolated when its template is a single `toYaml` call (optionally piped through `nindent`, with
//! literal text around it), the numbers topic's `…|{{ toYaml .n }}` form, or a `define` wrapping `toYaml .`.
//! For the realistic templates, a hand-picked list of (value, indentation) pairs must appear in the output.

use std::path::PathBuf;

use gotmpl::yaml::to_yaml;
use serde_json::Value;

fn vector_dir() -> PathBuf {
    match std::env::var_os("GOTMPL_CONFORMANCE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors"),
    }
}

fn load(topic: &str) -> Vec<Value> {
    let path = vector_dir().join(format!("{topic}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str::<Vec<Value>>(&text).expect("vector file is a JSON array")
}

/// Upstream's `nindent` (spec §5.2.1), needed to compare vectors that pipe `toYaml` through it.
fn nindent(n: usize, s: &str) -> String {
    let trimmed = s.trim_end_matches('\n');
    let mut lines: Vec<&str> = trimmed.split('\n').collect();
    while lines.first().is_some_and(|l| l.trim().is_empty()) {
        lines.remove(0);
    }
    while lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
    if lines.is_empty() {
        return String::new();
    }
    let pad = " ".repeat(n);
    let body: Vec<String> = lines
        .iter()
        .map(|l| {
            if l.trim().is_empty() {
                (*l).to_string()
            } else {
                format!("{pad}{l}")
            }
        })
        .collect();
    format!("\n{}\n", body.join("\n"))
}

/// Evaluates `.a.b`, `.`, an integer literal or a string literal against the data.
fn argument(expr: &str, data: &Value) -> Option<Value> {
    let expr = expr.trim();
    if expr == "." {
        return Some(data.clone());
    }
    if let Some(path) = expr.strip_prefix('.') {
        let mut v = data;
        for seg in path.split('.') {
            match v.get(seg) {
                Some(next) => v = next,
                None => return Some(Value::Null),
            }
        }
        return Some(v.clone());
    }
    if let Some(s) = expr.strip_prefix('"').and_then(|e| e.strip_suffix('"')) {
        return Some(Value::String(s.to_string()));
    }
    expr.parse::<i64>().ok().map(Value::from)
}

/// Expected and actual text for a vector whose template is `PREFIX{{ toYaml X [| nindent N] }}SUFFIX`.
fn single_call(template: &str, data: &Value, output: &str) -> Option<(String, String)> {
    let open = template.find("{{")?;
    let close = template.find("}}")?;
    if template[close + 2..].contains("{{") {
        return None;
    }
    let (prefix, action, suffix) = (
        &template[..open],
        template[open + 2..close].trim(),
        &template[close + 2..],
    );
    let stages: Vec<&str> = action.split('|').map(str::trim).collect();
    let (value, rest) = match stages.as_slice() {
        [call, rest @ ..] if call.starts_with("toYaml ") => (argument(&call["toYaml ".len()..], data)?, rest),
        [arg, "toYaml", rest @ ..] => (argument(arg, data)?, rest),
        _ => return None,
    };
    let yaml = to_yaml(&value).unwrap_or_else(|e| format!("<error {e}>"));
    let rendered = match rest {
        [] => yaml,
        [stage] => nindent(stage.strip_prefix("nindent ")?.parse().ok()?, &yaml),
        _ => return None,
    };
    Some((output.to_string(), format!("{prefix}{rendered}{suffix}")))
}

fn isolate(vector: &Value) -> Option<(String, String)> {
    let template = vector["template"].as_str()?;
    let output = vector.get("output")?.as_str()?;
    let data = &vector["data"];
    if template == "{{ .n }}|{{ printf \"%v\" .n }}|{{ toYaml .n }}" {
        let expected = output.splitn(3, '|').nth(2)?.to_string();
        return Some((expected, to_yaml(&data["n"]).ok()?));
    }
    if let Some(arg) = template
        .strip_prefix("{{ define \"t\" }}{{ toYaml . }}{{ end }}{{ template \"t\" ")
        .and_then(|t| t.strip_suffix(" }}"))
    {
        return Some((output.to_string(), to_yaml(&argument(arg, data)?).ok()?));
    }
    single_call(template, data, output)
}

#[test]
fn toyaml_vectors_reproduce_byte_for_byte() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for topic in ["toyaml", "nindent", "numbers", "define"] {
        for vector in load(topic) {
            let template = vector["template"].as_str().unwrap_or_default();
            if !template.contains("toYaml") || vector.get("output").is_none() {
                continue;
            }
            let name = vector["name"].as_str().unwrap_or_default().to_string();
            match isolate(&vector) {
                Some((expected, actual)) => {
                    checked += 1;
                    if expected != actual {
                        failures.push(format!("{name}:\n  expected {expected:?}\n  actual   {actual:?}"));
                    }
                }
                None => failures.push(format!("{name}: could not isolate the toYaml call")),
            }
        }
    }
    eprintln!("toYaml vectors checked: {checked}, failures: {}", failures.len());
    assert!(
        checked >= 45,
        "only {checked} toYaml vectors found; is the vector directory complete?"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// (vector, JSON pointer into its data, nindent width) for `toYaml` calls inside the realistic templates.
const REALISTIC: &[(&str, &str, usize)] = &[
    ("realistic/argocd-values-string", "/values", 8),
    (
        "realistic/helmreleases-enabled-string",
        "/values/services/s/values",
        4,
    ),
    (
        "realistic/helmreleases-kubeconfig-null-values",
        "/values/services/account-operator/values",
        4,
    ),
    (
        "realistic/helmreleases-kubeconfig-null-values",
        "/values/services/git-svc/values",
        4,
    ),
    (
        "realistic/helmreleases-kubeconfig-null-values",
        "/values/services/iam-service/values",
        4,
    ),
    (
        "realistic/helmreleases-kubeconfig-null-values",
        "/values/services/iam-service/dependsOn",
        4,
    ),
    (
        "realistic/ocm-chart-resources",
        "/values/services/b/chartResources/annotations",
        4,
    ),
    ("realistic/ocm-chart-resources", "/values/ocm/referencePath", 8),
    (
        "realistic/ocm-chart-resources",
        "/values/services/b/referencePath",
        8,
    ),
    (
        "realistic/ocm-chart-resources",
        "/values/services/c/absoluteReferencePath",
        8,
    ),
    ("realistic/traefik-enabled", "/traefik/values", 4),
];

#[test]
fn realistic_templates_contain_our_toyaml_output() {
    let vectors = load("realistic");
    for (name, pointer, width) in REALISTIC {
        let vector = vectors
            .iter()
            .find(|v| v["name"] == *name)
            .unwrap_or_else(|| panic!("vector {name} missing"));
        let value = vector["data"]
            .pointer(pointer)
            .unwrap_or_else(|| panic!("{name}: no data at {pointer}"));
        let rendered = nindent(*width, &to_yaml(value).expect("serialisable"));
        let output = vector["output"].as_str().expect("realistic vector has output");
        assert!(
            output.contains(&rendered),
            "{name} {pointer}: {rendered:?} not found in output"
        );
    }
}

//! `manifests/` against the Go operator's manifest facts (`tests/data/kcp-manifest-facts.json`).
//!
//! A fact is one `path=value` of an object's body (everything but `metadata`, `apiVersion` and `status`), with
//! Go-template actions replaced by `TPL`, prose keys dropped, inline JSON parsed and an OpenFGA model split into
//! one fact per line; `@folder=` records the directory. The rules are those of `tests/data/manifest-facts.py`
//! (run by `.ci/run` against the same sheet), ported line by line, so both checkers agree on every fact.
//!
//! On top of the script's check (every upstream fact present), this test also requires that the objects of the
//! sheet carry no fact upstream lacks: APIResourceSchemas are immutable in kcp and must match upstream's content
//! under upstream's name, and an extra `required` entry, enum value, pattern, permission claim or FGA relation
//! would narrow what other platform-mesh components may do.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

use regex::Regex;
use serde_json::Value;

/// Keys whose values are prose (descriptions, UI texts): not facts.
const PROSE: [&str; 12] = [
    "description",
    "label",
    "title",
    "text",
    "tooltip",
    "subtitle",
    "helpText",
    "placeholder",
    "displayName",
    "x-kubernetes-display-name",
    "content",
    "message",
];

/// Objects we ship that the Go operator does not (each listed under the README's differences).
const OWN_OBJECTS: [(&str, &str); 1] = [("APIExportEndpointSlice", "providers.platform-mesh.io")];

type Key = (String, String);

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Python's `str.splitlines()` for the line breaks YAML files use.
fn split_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        match rest.find(['\n', '\r']) {
            Some(i) => {
                lines.push(&rest[..i]);
                let skip = if rest[i..].starts_with("\r\n") { 2 } else { 1 };
                rest = &rest[i + skip..];
            }
            None => {
                lines.push(rest);
                rest = "";
            }
        }
    }
    lines
}

/// Python's `str()` of a scalar as PyYAML / `json` load it.
fn py_str(value: &Value) -> String {
    match value {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or_default();
            if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e16 {
                format!("{f:.1}")
            } else {
                f.to_string()
            }
        }
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Python truthiness of a JSON value.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

fn facts(value: &Value, path: &str, out: &mut BTreeSet<String>) {
    if let Value::String(s) = value
        && s.trim_start().starts_with(['{', '['])
        && let Ok(parsed) = serde_json::from_str::<Value>(s)
    {
        return facts(&parsed, path, out);
    }
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                if !PROSE.contains(&key.as_str()) {
                    facts(item, &format!("{path}.{key}"), out);
                }
            }
        }
        Value::Array(items) => {
            // Lists of named things are keyed by name, others by membership.
            for item in items {
                let tag = ["name", "pathSegment", "resource", "entityType"]
                    .iter()
                    .filter_map(|k| item.get(k))
                    .find(|t| truthy(t))
                    .map(py_str)
                    .unwrap_or_default();
                facts(item, &format!("{path}[{tag}]"), out);
            }
        }
        Value::String(s) if s.contains('\n') && (s.contains("define ") || s.contains("type ")) => {
            // An FGA model: one fact per line.
            for line in split_lines(s) {
                let line = line.trim();
                if !line.is_empty() {
                    out.insert(format!("{path}:{line}"));
                }
            }
        }
        scalar => {
            out.insert(format!("{path}={}", py_str(scalar)));
        }
    }
}

fn body_facts(object: &Value, folder: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if let Value::Object(map) = object {
        for (key, item) in map {
            if !["metadata", "apiVersion", "status"].contains(&key.as_str()) && !PROSE.contains(&key.as_str())
            {
                facts(item, &format!(".{key}"), &mut out);
            }
        }
    }
    out.insert(format!("@folder={folder}"));
    out
}

/// Every object below `root` by (kind, name), with its facts.
fn load_tree(root: &Path) -> BTreeMap<Key, BTreeSet<String>> {
    let only_actions = Regex::new(r"^\s*(\{\{.*?\}\}\s*)+(\[\])?\s*$").expect("pattern");
    let action = Regex::new(r"(?s)\{\{.*?\}\}").expect("pattern");
    let mut objects = BTreeMap::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("directory entry").path())
            .collect();
        entries.sort();
        let folder = match dir.strip_prefix(root) {
            Ok(p) if p.as_os_str().is_empty() => ".".to_owned(),
            Ok(p) => p.to_string_lossy().into_owned(),
            Err(_) => unreachable!("walked below root"),
        };
        for path in entries {
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let name = path.to_string_lossy();
            if !(name.ends_with(".yaml") || name.ends_with(".yml")) {
                continue;
            }
            let raw = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
            // Lines holding only template actions (if/range/end, an indented include) are dropped.
            let kept: Vec<&str> = split_lines(&raw)
                .into_iter()
                .filter(|l| !only_actions.is_match(l))
                .collect();
            let text = action.replace_all(&kept.join("\n"), "TPL").into_owned();
            for doc in gotmpl::yaml::split_documents(&text) {
                if gotmpl::yaml::is_empty_document(doc) {
                    continue;
                }
                let object = match gotmpl::yaml::from_yaml(doc) {
                    Ok(o) => o,
                    Err(e) => {
                        eprintln!("unparsable: {name}: {e}");
                        continue;
                    }
                };
                let Some(kind) = object.get("kind").filter(|k| truthy(k)).map(py_str) else {
                    continue;
                };
                let object_name = object
                    .get("metadata")
                    .and_then(|m| m.get("name"))
                    .map(py_str)
                    .unwrap_or_else(|| "?".into());
                objects.insert((kind, object_name), body_facts(&object, &folder));
            }
        }
    }
    objects
}

struct SheetEntry {
    key: Key,
    folder: String,
    facts: BTreeSet<String>,
}

fn sheet() -> Vec<SheetEntry> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/kcp-manifest-facts.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let entries: Vec<Value> = serde_json::from_str(&text).expect("fact sheet is JSON");
    entries
        .iter()
        .map(|e| SheetEntry {
            key: (py_str(&e["kind"]), py_str(&e["name"])),
            folder: py_str(&e["folder"]),
            facts: e["facts"]
                .as_array()
                .expect("facts list")
                .iter()
                .map(py_str)
                .collect(),
        })
        .collect()
}

#[test]
fn manifests_carry_every_upstream_fact() {
    let sheet = sheet();
    let ours = load_tree(&repo_root().join("manifests"));
    let empty = BTreeSet::new();
    let (mut total, mut found, mut complete) = (0, 0, 0);
    let mut report = Vec::new();
    for entry in &sheet {
        let have = ours.get(&entry.key).unwrap_or(&empty);
        let missing: Vec<&String> = entry.facts.difference(have).collect();
        total += entry.facts.len();
        found += entry.facts.len() - missing.len();
        if missing.is_empty() {
            complete += 1;
        } else {
            report.push(format!(
                "{}/{} [{}]: missing {missing:?}",
                entry.key.0, entry.key.1, entry.folder
            ));
        }
    }
    let summary = format!(
        "objects with every fact present: {complete}/{}; facts present: {found}/{total} ({:.1}%)",
        sheet.len(),
        100.0 * found as f64 / total.max(1) as f64
    );
    println!("{summary}");
    assert!(report.is_empty(), "{summary}\n{}", report.join("\n"));
}

#[test]
fn manifests_add_nothing_to_upstream_objects() {
    let sheet = sheet();
    let ours = load_tree(&repo_root().join("manifests"));
    let upstream: BTreeMap<&Key, &BTreeSet<String>> = sheet.iter().map(|e| (&e.key, &e.facts)).collect();
    let mut report = Vec::new();
    for (key, have) in &ours {
        match upstream.get(key) {
            Some(facts) => {
                let extra: Vec<&String> = have.difference(facts).collect();
                if !extra.is_empty() {
                    report.push(format!("{}/{}: not upstream's: {extra:?}", key.0, key.1));
                }
            }
            None if OWN_OBJECTS.contains(&(key.0.as_str(), key.1.as_str())) => {}
            None => report.push(format!(
                "{}/{}: an object the Go operator does not ship",
                key.0, key.1
            )),
        }
    }
    assert!(report.is_empty(), "{}", report.join("\n"));
}

#[test]
fn the_checker_sees_template_actions_prose_and_models_as_the_script_does() {
    let dir = std::env::temp_dir().join(format!("manifest-facts-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("kcp/01-a")).unwrap();
    std::fs::write(
        dir.join("kcp/01-a/x.yaml"),
        "apiVersion: v1\nkind: Thing\nmetadata:\n  name: t\nspec:\n  url: https://{{ .host }}/x\n  list:\n  \
         {{- range .items }}\n    - {{ . }}\n  {{- else }} []\n  {{- end }}\n  description: prose\n  \
         ready: true\n  count: 3\n  json: '{\"a\": [1, {\"name\": \"n\", \"v\": null}]}'\n  \
         model: |\n    type user\n      relations\n        define owner: [user]\n  \
         named:\n    - name: one\n      resource: r\n    - resource: two\n      label: gone\n",
    )
    .unwrap();
    let tree = load_tree(&dir);
    let facts: Vec<&str> = tree[&("Thing".to_owned(), "t".to_owned())]
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(
        facts,
        [
            ".kind=Thing",
            ".spec.count=3",
            ".spec.json.a[]=1",
            ".spec.json.a[n].name=n",
            ".spec.json.a[n].v=None",
            ".spec.list[]=TPL",
            ".spec.model:define owner: [user]",
            ".spec.model:relations",
            ".spec.model:type user",
            ".spec.named[one].name=one",
            ".spec.named[one].resource=r",
            ".spec.named[two].resource=two",
            ".spec.ready=True",
            ".spec.url=https://TPL/x",
            "@folder=kcp/01-a",
        ]
    );
    std::fs::remove_dir_all(dir).unwrap();
}

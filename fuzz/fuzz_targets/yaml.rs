//! YAML as profiles, rendered templates and plugins' `parse-yaml` calls hand it to the host: the first document is
//! parsed (lenient and strict), the stream is split into documents, and a parsed value is written back with
//! `to_yaml`. Properties: nothing panics; whatever `to_yaml` writes parses back to the same value (numbers compared by value), except where Go
//! does not round-trip either (`to_yaml` reproduces Go byte for byte): strings holding U+0085 (NEL), which Go's
//! JSON-to-YAML step reads as a YAML 1.1 line break and folds, and a `<<` key, which yaml.v2 writes plain and
//! then reads as a merge key.

#![no_main]

use gotmpl::yaml::{from_yaml, from_yaml_strict, is_empty_document, split_documents, to_yaml};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// Equal as YAML data: numbers by value (Go's JSON step writes `-0.0` as `0` and `1.0` as `1`), the rest exactly.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// Whether `value` holds what Go's YAML round trip changes: U+0085 in a key or string, or a `<<` key.
fn go_does_not_round_trip(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\u{85}'),
        Value::Array(items) => items.iter().any(go_does_not_round_trip),
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| k == "<<" || k.contains('\u{85}') || go_does_not_round_trip(v)),
        _ => false,
    }
}

fuzz_target!(|input: &[u8]| {
    let Ok(text) = std::str::from_utf8(input) else {
        return;
    };
    for document in split_documents(text) {
        let _ = is_empty_document(document);
    }
    let strict = from_yaml_strict(text);
    let Ok(value) = from_yaml(text) else {
        assert!(
            strict.is_err(),
            "strict parsing accepted what lenient parsing refused: {text:?}"
        );
        return;
    };
    // `to_yaml` refuses a few strings Go's encoder refuses too (see its documentation); anything it writes must
    // read back as the same value.
    if let Ok(written) = to_yaml(&value)
        && !go_does_not_round_trip(&value)
    {
        match from_yaml(&written) {
            Ok(back) => assert!(
                same(&back, &value),
                "round trip through {written:?}: {value:?} became {back:?}"
            ),
            Err(e) => panic!("to_yaml wrote YAML that does not parse ({e}): {written:?}"),
        }
    }
});

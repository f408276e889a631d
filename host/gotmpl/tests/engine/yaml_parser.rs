//! `gotmpl::yaml::from_yaml` / `from_yaml_strict` / `split_documents` / `set_helm_values`: YAML 1.1 resolution
//! as yaml.v2 does it, sigs.k8s.io/yaml's key conversion, and the JSON round trip of numbers.

use gotmpl::yaml::{
    from_yaml, from_yaml_strict, is_empty_document, set_helm_values, split_documents, to_yaml,
};
use proptest::prelude::*;
use serde_json::{Value, json};

fn parse(text: &str) -> Value {
    from_yaml(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

#[test]
fn yaml_1_1_booleans_and_nulls() {
    let v = parse("a: yes\nb: On\nc: FALSE\nd: y\ne: n\nf: Yes\ng: yEs\nh: off\ni: 'yes'\n");
    assert_eq!(
        v,
        json!({"a": true, "b": true, "c": false, "d": true, "e": false, "f": true, "g": "yEs", "h": false, "i": "yes"})
    );
    let v = parse("a: ~\nb: null\nc:\nd: Null\ne: NULL\nf: nULL\ng: \"~\"\n");
    assert_eq!(
        v,
        json!({"a": null, "b": null, "c": null, "d": null, "e": null, "f": "nULL", "g": "~"})
    );
}

#[test]
fn integers() {
    let v = parse(
        "a: 0x1F\nb: 0o17\nc: 0b101\nd: 1_000\ne: 0755\nf: -0x10\ng: +5\nh: 08\ni: 9223372036854775808\n\
         j: 12345678901234567890123\nk: 8443\nl: -0\n",
    );
    assert_eq!(v["a"], json!(31));
    assert_eq!(v["b"], json!(15));
    assert_eq!(v["c"], json!(5));
    assert_eq!(v["d"], json!(1000));
    assert_eq!(v["e"], json!(493));
    assert_eq!(v["f"], json!(-16));
    assert_eq!(v["g"], json!(5));
    // Not octal, so yaml.v2 reads it as the float 8, which JSON turns back into 8.
    assert_eq!(v["h"], json!(8));
    assert_eq!(v["i"], json!(9_223_372_036_854_775_808_u64));
    assert_eq!(v["j"], json!(1.2345678901234568e22));
    assert_eq!(serde_json::to_string(&v["k"]).unwrap(), "8443");
    assert_eq!(v["l"], json!(0));
}

#[test]
fn floats_and_strings_that_look_like_numbers() {
    let v = parse("a: 1.5\nb: .5\nc: 1e3\nd: -2.5e-3\ne: 1.0\nf: 1e400\ng: 12:30\nh: 1.2.3\ni: 0x\nj: Inf\n");
    assert_eq!(
        v,
        json!({"a": 1.5, "b": 0.5, "c": 1000, "d": -0.0025, "e": 1, "f": "1e400", "g": "12:30",
        "h": "1.2.3", "i": "0x", "j": "Inf"})
    );
}

#[test]
fn infinity_and_nan_are_errors_with_a_line() {
    for text in ["a: 1\nb: .inf\n", "a: 1\nb: -.Inf\n", "a: 1\nb: .NaN\n"] {
        let err = from_yaml(text).expect_err(text);
        assert_eq!(err.line(), Some(2), "{text:?}: {err}");
        assert!(err.column().is_some());
    }
}

#[test]
fn timestamps_stay_strings() {
    let v = parse("a: 2024-01-01\nb: 2001-12-14t21:59:43.10-05:00\nc: 2001-12-14 21:59:43.10\n");
    assert_eq!(
        v,
        json!({"a": "2024-01-01", "b": "2001-12-14t21:59:43.10-05:00", "c": "2001-12-14 21:59:43.10"})
    );
}

#[test]
fn keys_become_strings() {
    let v = parse("1: a\ntrue: b\n1.5: c\n3.14159265358979: d\n0x10: e\n\"x\": f\n2024-01-01: g\n");
    assert_eq!(
        v,
        json!({"1": "a", "true": "b", "1.5": "c", "3.1415927": "d", "16": "e", "x": "f", "2024-01-01": "g"})
    );
    // YAML 1.1: an unquoted `y` key is the boolean true.
    assert_eq!(parse("y: 1\nn: 2\n"), json!({"true": 1, "false": 2}));
    assert!(
        from_yaml("~: a\n").is_err(),
        "null keys are rejected like sigs.k8s.io/yaml"
    );
    assert!(
        from_yaml("18446744073709551615: a\n").is_err(),
        "uint64 keys are rejected"
    );
    assert!(from_yaml("? [a]\n: b\n").is_err(), "collection keys are rejected");
}

#[test]
fn duplicate_keys_last_wins_unless_strict() {
    let text = "a: 1\nb:\n  x: 1\na: 2\nb:\n  z: 2\n";
    assert_eq!(parse(text), json!({"a": 2, "b": {"z": 2}}));
    let err = from_yaml_strict(text).expect_err("strict rejects duplicates");
    assert_eq!(err.line(), Some(4), "{err}");
    assert!(err.to_string().contains("already set"), "{err}");
    assert_eq!(from_yaml_strict("a: 1\nb: 2\n").unwrap(), json!({"a": 1, "b": 2}));
}

#[test]
fn anchors_aliases_and_merge_keys() {
    let v = parse("base: &b {a: 1, b: 2}\nref: *b\nlist: &l [1, 2]\nagain: *l\n");
    assert_eq!(v["ref"], json!({"a": 1, "b": 2}));
    assert_eq!(v["again"], json!([1, 2]));
    // yaml.v2 applies a merge where it appears, so it overrides keys written before it.
    let v = parse("base: &b {a: 1, b: 2}\nx:\n  a: 0\n  <<: *b\n  c: 3\n  b: 4\n");
    assert_eq!(v["x"], json!({"a": 1, "b": 4, "c": 3}));
    // In a list of merges, earlier mappings win.
    let v = parse("p: &p {k: p, p: 1}\nq: &q {k: q, q: 1}\nx:\n  <<: [*p, *q]\n");
    assert_eq!(v["x"], json!({"k": "p", "p": 1, "q": 1}));
    // A quoted "<<" is an ordinary key.
    assert_eq!(parse("\"<<\": 1\n"), json!({"<<": 1}));
    assert!(from_yaml("x:\n  <<: 5\n").is_err());
    assert!(from_yaml("a: &a [*a]\n").is_err(), "self-containing anchor");
    assert!(from_yaml("a: *nope\n").is_err(), "unknown anchor");
}

#[test]
fn only_the_first_document_is_read() {
    assert_eq!(parse("a: 1\n---\nb: 2\n"), json!({"a": 1}));
    assert_eq!(parse("---\na: 1\n...\n---\nb: 2\n"), json!({"a": 1}));
    assert_eq!(parse(""), Value::Null);
    assert_eq!(parse("# only a comment\n"), Value::Null);
}

#[test]
fn tags_and_block_scalars() {
    let v =
        parse("a: !!str 123\nb: !!int \"5\"\nc: !!float 1\nd: !custom x\ne: |\n  x\n  y\nf: >-\n  x\n  y\n");
    assert_eq!(
        v,
        json!({"a": "123", "b": 5, "c": 1, "d": "x", "e": "x\ny\n", "f": "x y"})
    );
    assert!(from_yaml("a: !!int abc\n").is_err());
    assert_eq!(parse("a: !!binary aGVsbG8=\n"), json!({"a": "hello"}));
}

#[test]
fn syntax_errors_carry_position() {
    let err = from_yaml("a: 1\nb: [1, 2\nc: 3\n").expect_err("unclosed flow sequence");
    assert!(err.line().is_some() && err.column().is_some(), "{err}");
    let err = from_yaml("a: 1\n  b: 2\n").expect_err("bad indentation");
    assert_eq!(err.line(), Some(2), "{err}");
}

#[test]
fn document_split() {
    assert_eq!(split_documents("a: 1\n---\nb: 2\n"), vec!["a: 1\n", "\nb: 2\n"]);
    assert_eq!(
        split_documents("---\na: 1\n--- # c\nb: 2"),
        vec!["", "\na: 1\n", " # c\nb: 2"]
    );
    assert_eq!(
        split_documents("a: 1\n...\n---\nb: 2\n"),
        vec!["a: 1\n", "", "\nb: 2\n"]
    );
    assert_eq!(split_documents("a: 1\n...\nb: 2\n"), vec!["a: 1\n", "b: 2\n"]);
    assert_eq!(split_documents("--- |\n  text\n"), vec!["", " |\n  text\n"]);
    // Not markers: indented, longer, or followed by other characters.
    assert_eq!(
        split_documents("a: |\n  ---\nb: ----\n---x\n"),
        vec!["a: |\n  ---\nb: ----\n---x\n"]
    );
    assert_eq!(split_documents("a\r\n---\r\nb"), vec!["a\r\n", "\r\nb"]);
    assert_eq!(split_documents(""), vec![""]);
    assert_eq!(split_documents("a\n---"), vec!["a\n", ""]);
    assert_eq!(split_documents("a\n..."), vec!["a\n"]);
    assert!(is_empty_document(" # c\n\n  \n"));
    assert!(is_empty_document("%YAML 1.1\n"));
    assert!(!is_empty_document("# c\na: 1\n"));
}

#[test]
fn helm_values_updates() {
    let out = set_helm_values("", &[("image.tag".into(), "1.2.3".into())]).unwrap();
    assert_eq!(out, "image:\n  tag: 1.2.3\n");
    let out = set_helm_values("image: old\nport: 8443\n", &[("image.tag".into(), "1.10".into())]).unwrap();
    assert_eq!(out, "image:\n  tag: \"1.10\"\nport: 8443\n");
    let out = set_helm_values("b: 1\na: {x: 1}\n", &[]).unwrap();
    assert_eq!(out, "a:\n  x: 1\nb: 1\n");
    assert_eq!(set_helm_values("null\n", &[]).unwrap(), "{}\n");
    assert_eq!(
        set_helm_values("", &[("".into(), "v".into())]).unwrap(),
        "\"\": v\n"
    );
    assert!(set_helm_values("a: [\n", &[]).is_err());
    assert!(set_helm_values("- a\n", &[]).is_err());
}

/// Arbitrary JSON values that survive Go's round trip unchanged: floats are non-integral (integral ones come back
/// as integers), strings avoid the characters Go rejects (DEL, C1 controls, U+FFFE/U+FFFF) or folds (NEL), and no
/// key is `<<`: yaml.v2 emits that key plain and reads it back as a merge key, so Go cannot round-trip it either.
/// U+2028/U+2029 are left out too: `to_yaml` writes them as Go does (a line break, then indentation), but the
/// reader keeps that indentation where yaml.v2 drops it (COMPATIBILITY.md, YAML reader).
fn json_value() -> impl Strategy<Value = Value> {
    let text = "[^\u{7f}-\u{9f}\u{2028}\u{2029}\u{fffe}\u{ffff}]{0,12}";
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e12f64..1e12)
            .prop_filter("non-integral", |f| f.fract() != 0.0)
            .prop_map(Value::from),
        text.prop_map(Value::String),
        prop::sample::select(vec![
            "yes", "on", "~", "1.0", "0x1F", "12:30", "- a", "a: b", " x", "x ", "#", "'", "\""
        ])
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(text.prop_filter("not a merge key", |k| k != "<<"), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn to_yaml_round_trips_through_from_yaml(value in json_value()) {
        let text = to_yaml(&value).expect("serialisable");
        prop_assert!(text.ends_with('\n'));
        let back = from_yaml(&text).map_err(|e| TestCaseError::fail(format!("{text:?}: {e}")))?;
        prop_assert_eq!(back, value, "yaml was {:?}", text);
    }

    #[test]
    fn to_yaml_never_panics(s in "\\PC*", f in any::<f64>()) {
        let _ = to_yaml(&Value::String(s.clone()));
        let _ = to_yaml(&serde_json::json!({ s: f }));
    }

    #[test]
    fn from_yaml_never_panics(s in "\\PC{0,64}") {
        let _ = from_yaml(&s);
        let _ = from_yaml_strict(&s);
        let _ = split_documents(&s);
    }
}

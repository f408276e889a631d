//! Table of yaml.v2 emitter rules for `gotmpl::yaml::to_yaml`, beyond the Go-generated conformance vectors.
//!
//! Expected strings follow yaml.v2's documented and observable behaviour: quoting of YAML 1.1 specials, quote
//! style choice, literal block scalars with indentation and chomping indicators, folding after column 80,
//! explicit `?` keys, unindented sequences in mappings, and the JSON number round trip.

use gotmpl::yaml::to_yaml;
use serde_json::{Value, json};

fn words(n: usize) -> String {
    vec!["word"; n].join(" ")
}

fn check(cases: &[(&str, Value, String)]) {
    let mut failures = Vec::new();
    for (name, value, expected) in cases {
        match to_yaml(value) {
            Ok(actual) if &actual == expected => {}
            other => failures.push(format!("{name}: expected {expected:?}, got {other:?}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn collections_and_indentation() {
    check(&[
        ("root list", json!(["a", "b"]), "- a\n- b\n".into()),
        (
            "list of lists",
            json!([[1, 2], [3]]),
            "- - 1\n  - 2\n- - 3\n".into(),
        ),
        (
            "map in list in list",
            json!([[{"a": 1, "b": 2}]]),
            "- - a: 1\n    b: 2\n".into(),
        ),
        (
            "list in map is not indented",
            json!({"k": ["a"]}),
            "k:\n- a\n".into(),
        ),
        (
            "map in map",
            json!({"a": {"b": {"c": "d"}}}),
            "a:\n  b:\n    c: d\n".into(),
        ),
        (
            "list of maps in map",
            json!({"l": [{"a": 1, "b": [true]}]}),
            "l:\n- a: 1\n  b:\n  - true\n".into(),
        ),
        ("empty root map", json!({}), "{}\n".into()),
        ("empty root list", json!([]), "[]\n".into()),
        (
            "empty collections in list",
            json!([{}, []]),
            "- {}\n- []\n".into(),
        ),
        ("null", Value::Null, "null\n".into()),
        ("bools", json!([true, false]), "- true\n- false\n".into()),
    ]);
}

#[test]
fn key_order_is_yaml_v2_natural_order() {
    let value = json!({"a10": 1, "a2": 2, "a1": 3, "B": 4, "_x": 5, "b": 6, "a": 7});
    check(&[(
        "natural order",
        value,
        "_x: 5\nB: 4\na: 7\na1: 3\na2: 2\na10: 1\nb: 6\n".into(),
    )]);
}

#[test]
fn keys_that_need_explicit_form() {
    let long = "k".repeat(129);
    let fits = "k".repeat(128);
    check(&[
        (
            "129-byte key",
            json!({ long.clone(): "v" }),
            format!("? {long}\n: v\n"),
        ),
        (
            "128-byte key",
            json!({ fits.clone(): "v" }),
            format!("{fits}: v\n"),
        ),
        (
            "multi-line key",
            json!({"a\nb": 1}),
            "? |-\n  a\n  b\n: 1\n".into(),
        ),
        (
            "quoted keys",
            json!({"yes": 1, "a: b": 2}),
            "'a: b': 2\n\"yes\": 1\n".into(),
        ),
        (
            "long key with spaces is not folded",
            json!({ words(20): 1 }),
            format!("{}: 1\n", words(20)),
        ),
    ]);
}

#[test]
fn scalar_quoting() {
    check(&[
        (
            "yaml 1.1 bools",
            json!(["y", "N", "on", "Off", "yes", "True"]),
            "- \"y\"\n- \"N\"\n- \"on\"\n- \"Off\"\n- \"yes\"\n- \"True\"\n".into(),
        ),
        (
            "not bools",
            json!(["yEs", "tRue", "Nope"]),
            "- yEs\n- tRue\n- Nope\n".into(),
        ),
        (
            "numbers as strings",
            json!(["1", "-1.5", "0x10", "1e5", "+.inf", "-.Inf", ".NaN"]),
            "- \"1\"\n- \"-1.5\"\n- \"0x10\"\n- \"1e5\"\n- \"+.inf\"\n- \"-.Inf\"\n- \".NaN\"\n".into(),
        ),
        (
            "base 60",
            json!(["1:20", "190:20:30.15", "1:60"]),
            "- \"1:20\"\n- \"190:20:30.15\"\n- 1:60\n".into(),
        ),
        (
            "timestamps",
            json!([
                "2001-12-14t21:59:43.10-05:00",
                "2001-12-14 21:59:43.10",
                "2024-02-30"
            ]),
            "- \"2001-12-14t21:59:43.10-05:00\"\n- \"2001-12-14 21:59:43.10\"\n- 2024-02-30\n".into(),
        ),
        (
            "out of range number stays plain",
            json!("1e400"),
            "1e400\n".into(),
        ),
        ("merge key string is plain", json!("<<"), "<<\n".into()),
        (
            "document markers",
            json!(["---", "...", "--- x", "-- x"]),
            "- '---'\n- '...'\n- '--- x'\n- -- x\n".into(),
        ),
        (
            "indicators inside",
            json!(["a:b", "a #", "a#b", "a, b", "x: ", "?x", "-x"]),
            "- a:b\n- 'a #'\n- a#b\n- a, b\n- 'x: '\n- ?x\n- -x\n".into(),
        ),
        ("single quote inside plain", json!("it's"), "it's\n".into()),
        ("tab", json!("a\tb"), "\"a\\tb\"\n".into()),
        ("carriage return", json!("a\r\nb"), "\"a\\r\\nb\"\n".into()),
        (
            "escapes",
            json!("\u{0}\u{1b}\u{b}\u{c}\u{8}\\\""),
            "\"\\0\\e\\v\\f\\b\\\\\\\"\"\n".into(),
        ),
        ("astral plane", json!("a😀"), "\"a\\U0001F600\"\n".into()),
        ("nbsp alone is printable", json!(" \u{a0}"), "' \u{a0}'\n".into()),
        // U+2028 is a line break: no plain style, and the next line is indented as yaml.v2 does after any break.
        ("line separator", json!("a\u{2028}b"), "'a\u{2028}  b'\n".into()),
    ]);
}

#[test]
fn literal_block_scalars() {
    check(&[
        ("root literal", json!("a\nb\n"), "|\n  a\n  b\n".into()),
        ("root keep", json!("\n"), "|2+\n\n".into()),
        ("in list", json!(["a\nb"]), "- |-\n  a\n  b\n".into()),
        (
            "nested",
            json!({"a": {"b": "x\ny"}}),
            "a:\n  b: |-\n    x\n    y\n".into(),
        ),
        (
            "blank lines kept without indentation",
            json!({"s": "a\n\nb"}),
            "s: |-\n  a\n\n  b\n".into(),
        ),
        (
            "space after break",
            json!({"s": "a\n b"}),
            "s: |-\n  a\n   b\n".into(),
        ),
        (
            "space before break needs quotes",
            json!({"s": "a \nb"}),
            "s: \"a \\nb\"\n".into(),
        ),
        (
            "trailing space needs quotes",
            json!({"s": "a\nb "}),
            "s: \"a\\nb \"\n".into(),
        ),
        (
            "tab forces quotes",
            json!({"s": "a\n\tb"}),
            "s: \"a\\n\\tb\"\n".into(),
        ),
    ]);
}

#[test]
fn long_scalars_fold_after_column_80() {
    check(&[
        (
            "plain value",
            json!({"k": words(30)}),
            format!("k: {}\n  {}\n", words(16), words(14)),
        ),
        (
            "plain root",
            json!(words(30)),
            format!("{}\n  {}\n", words(17), words(13)),
        ),
        (
            "single quoted",
            json!({"k": format!("@{}", words(30))}),
            format!("k: '@{}\n  {}'\n", words(16), words(14)),
        ),
        (
            "double quoted",
            json!({"k": format!("\t{}", words(30))}),
            format!("k: \"\\t{}\n  {}\"\n", words(16), words(14)),
        ),
        (
            "no space, no fold",
            json!({"k": "x".repeat(200)}),
            format!("k: {}\n", "x".repeat(200)),
        ),
        (
            "double spaces are not folding points",
            json!({"k": vec!["word"; 30].join("  ")}),
            format!("k: {}\n", vec!["word"; 30].join("  ")),
        ),
        (
            "list item",
            json!([words(30)]),
            format!("- {}\n  {}\n", words(16), words(14)),
        ),
    ]);
}

#[test]
fn numbers_follow_the_json_round_trip() {
    check(&[
        ("integral float", json!(1234567.0), "1234567\n".into()),
        (
            "fraction below exponent threshold",
            json!(123456.7),
            "123456.7\n".into(),
        ),
        (
            "fraction at exponent threshold",
            json!(1234567.5),
            "1.2345675e+06\n".into(),
        ),
        ("small", json!(0.000123), "0.000123\n".into()),
        ("smaller", json!(0.0000123), "1.23e-05\n".into()),
        (
            "2^63 as float",
            json!(9223372036854775808.0_f64),
            "9223372036854776000\n".into(),
        ),
        (
            "beyond u64",
            json!(18446744073709551615.0_f64),
            "1.8446744073709552e+19\n".into(),
        ),
        ("1e20", json!(1e20), "1e+20\n".into()),
        (
            "i64 extremes",
            json!([i64::MIN, u64::MAX]),
            "- -9223372036854775808\n- 18446744073709551615\n".into(),
        ),
    ]);
}

#[test]
fn strings_go_rejects_or_changes() {
    for bad in ["a\u{7f}", "\u{80}", "\u{9f}", "\u{fffe}", "\u{ffff}"] {
        assert!(
            to_yaml(&json!(bad)).is_err(),
            "{bad:?} must fail like Go's JSON → YAML round trip"
        );
    }
    // A raw NEL is a line break inside the JSON string that yaml.v2 reads back, so it folds into a space.
    check(&[
        ("nel folds", json!("a\u{85}b"), "a b\n".into()),
        (
            "two nels keep one break",
            json!("a\u{85}\u{85}b"),
            "|-\n  a\n  b\n".into(),
        ),
    ]);
    assert!(to_yaml(&json!({"a\u{85}": 1})).is_err());
}

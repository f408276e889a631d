//! Property: the parser and executor never panic. For arbitrary text and for templates assembled from Go
//! template fragments, rendering returns `Ok` or `Err`, never unwinds, and respects the output limit.

use gotmpl::{FuncMap, Limits, Renderer};
use proptest::prelude::*;
use serde_json::json;

const FRAGMENTS: &[&str] = &[
    "{{",
    "}}",
    "{{-",
    " -}}",
    "{{ ",
    " }}",
    ".",
    ".a",
    ".a.b",
    ".l",
    ".m",
    "$",
    "$x",
    "$x := ",
    "$x = ",
    "$i, $v := ",
    "(",
    ")",
    "|",
    " ",
    "\n",
    "if ",
    "else ",
    "else if ",
    "end",
    "range ",
    "with ",
    "define \"t\"",
    "template \"t\"",
    "block \"b\" .",
    "break",
    "continue",
    "nil",
    "true",
    "1",
    "-2",
    "3.5",
    "1e3",
    "'a'",
    "\"s\"",
    "`r`",
    "0x1F",
    "1i",
    "eq ",
    "ne ",
    "lt ",
    "and ",
    "or ",
    "not ",
    "len ",
    "index ",
    "slice ",
    "print ",
    "printf \"%v %d %s\" ",
    "default ",
    "toYaml ",
    "nindent 2 ",
    "indent 2 ",
    "quote ",
    "toJson ",
    "dict ",
    "list ",
    "call ",
    "html ",
    "js ",
    "/*",
    "*/",
    "text",
    "---",
    ",",
    "=",
    ":=",
    "^",
];

fn data() -> serde_json::Value {
    json!({"a": {"b": [1, null, "x"]}, "l": [1, 2.5, "s", null, {"k": true}], "m": {"z": 0, "y": ""}, "n": null})
}

fn check(renderer: &Renderer, text: &str) {
    for funcs in [FuncMap::Deployment, FuncMap::Manifest] {
        if let Ok(out) = renderer.render_str("p", text, &data(), funcs) {
            assert!(out.len() <= 64 * 1024);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: std::env::var("GOTMPL_PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(512), ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,80}") {
        let renderer = Renderer::new(Limits { fuel: 20_000, max_output_bytes: 64 * 1024 });
        check(&renderer, &text);
    }

    #[test]
    fn template_fragments_never_panic(parts in prop::collection::vec(prop::sample::select(FRAGMENTS), 0..24)) {
        let renderer = Renderer::new(Limits { fuel: 20_000, max_output_bytes: 64 * 1024 });
        check(&renderer, &parts.concat());
    }
}

//! Behaviour of the public API beyond the Go vectors: error kinds and positions, limits, files, directories,
//! caching, the manifest map's short-circuit logic and the Sprig set inside templates.

use std::path::Path;

use gotmpl::{ErrorKind, FuncMap, Limits, Renderer, Technology};
use serde_json::{Value, json};

fn render(text: &str, data: Value) -> Result<String, gotmpl::Error> {
    Renderer::default().render_str("t.yaml", text, &data, FuncMap::Deployment)
}

#[test]
fn renderer_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Renderer>();
}

#[test]
fn syntax_errors_name_the_line() {
    let e = render("a\nb\n{{ if .x }}", json!({})).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Syntax);
    assert_eq!((e.name(), e.line(), e.column()), ("t.yaml", Some(3), None));
    assert_eq!(e.to_string(), "template: t.yaml:3: unexpected EOF");
    let e = render("{{ nope }}", json!({})).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UndefinedFunction);
    assert_eq!(e.to_string(), "template: t.yaml:1: function \"nope\" not defined");
}

#[test]
fn execution_errors_name_line_and_column() {
    let e = render("x\n  {{ index .l 3 }}", json!({"l": []})).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Execution);
    assert_eq!((e.line(), e.column()), (Some(2), Some(5)));
    assert_eq!(
        e.to_string(),
        "template: t.yaml:2:5: executing \"t.yaml\" at <index .l 3>: error calling index: index out of range: 3"
    );
    let e = render(
        "{{ define \"d\" }}\n{{ .a.b }}{{ end }}{{ template \"d\" . }}",
        json!({"a": null}),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "template: t.yaml:2:5: executing \"d\" at <.a.b>: nil pointer evaluating interface {}.b"
    );
    let e = render("{{ template \"missing\" }}", json!({})).unwrap_err();
    assert!(e.to_string().ends_with("template \"missing\" not defined"), "{e}");
    let e = render("{{ required \"need .x\" .x }}", json!({})).unwrap_err();
    assert!(e.to_string().ends_with("error calling required: need .x"), "{e}");
}

#[test]
fn fuel_stops_huge_loops() {
    let r = Renderer::new(Limits {
        fuel: 100_000,
        ..Limits::default()
    });
    let e = r
        .render_str(
            "t",
            "{{ range 1000000000 }}{{ end }}",
            &json!({}),
            FuncMap::Deployment,
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::FuelExhausted);
    let nested = "{{ range .l }}{{ range $.l }}{{ range $.l }}{{ end }}{{ end }}{{ end }}";
    let data = json!({"l": (0..100).collect::<Vec<_>>()});
    let e = r.render_str("t", nested, &data, FuncMap::Manifest).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::FuelExhausted);
}

#[test]
fn output_size_is_capped() {
    let r = Renderer::new(Limits {
        max_output_bytes: 1000,
        ..Limits::default()
    });
    let e = r
        .render_str(
            "t",
            "{{ range 100000 }}xxxxxxxx{{ end }}",
            &json!({}),
            FuncMap::Deployment,
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::OutputTooLarge);
    // A string doubled in a loop is stopped before it is ever written.
    let doubling = "{{ $s := \"ab\" }}{{ range 64 }}{{ $s = printf \"%s%s\" $s $s }}{{ end }}";
    let e = r
        .render_str("t", doubling, &json!({}), FuncMap::Deployment)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::OutputTooLarge);
    let e = r
        .render_str("t", "{{ nindent 100000 \"a\" }}", &json!({}), FuncMap::Deployment)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::OutputTooLarge);
}

#[test]
fn huge_printf_precisions_pad_instead_of_panicking() {
    // Rust's formatter refuses precisions above 65535; Go allows up to a million.
    let out = render(
        "{{ printf \"%.100000f|%.70000E|%#.70000G\" 1.5 2.5 0.5 }}",
        json!({}),
    )
    .unwrap();
    let parts: Vec<&str> = out.split('|').collect();
    assert_eq!(parts[0].len(), 2 + 100_000);
    assert!(parts[0].starts_with("1.5000"));
    assert_eq!(
        parts[1],
        format!("2.{}E+00", "5".to_string() + &"0".repeat(69_999))
    );
    assert_eq!(parts[2], format!("0.5{}", "0".repeat(69_999)));
}

#[test]
fn manifest_and_or_short_circuit() {
    let r = Renderer::default();
    let data = json!({"x": null, "y": {"z": "Z"}});
    let out = r.render_str(
        "m",
        "{{ and .x .x.y }}|{{ or .y.z .x.y }}|{{ .y.z | and 1 }}",
        &data,
        FuncMap::Manifest,
    );
    assert_eq!(out.unwrap(), "<no value>|Z|Z");
    let e = r
        .render_str("d", "{{ and .x .x.y }}", &data, FuncMap::Deployment)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Execution);
    let out = r.render_str("m", "{{ or 0 \"\" }}|{{ and 1 2 3 }}", &data, FuncMap::Manifest);
    assert_eq!(out.unwrap(), "|3");
}

#[test]
fn control_structures() {
    let data = json!({"m": {"b": 2, "a": 1}, "l": ["x", "y", "z"]});
    let t = r#"{{ range $k, $v := .m }}{{ $k }}{{ $v }}{{ end }};{{ range $i, $e := .l }}{{ if eq $i 1 }}{{ continue }}{{ end }}{{ $e }}{{ end }};{{ with .nope }}w{{ else with .m.a }}{{ . }}{{ end }};{{ block "b" .l }}{{ len . }}{{ end }}"#;
    assert_eq!(render(t, data).unwrap(), "a1b2;xz;1;3");
}

#[test]
fn sprig_functions_in_templates() {
    let t = r#"{{ "a b" | quote }} {{ list 1 2 | toJson }} {{ dict "k" .v | toJson }} {{ .s | trim | upper }} {{ "x" | b64enc }} {{ ternary "y" "n" true }} {{ coalesce .nope "c" }} {{ empty .nope }} {{ hasKey . "v" }} {{ "aXa" | replace "X" "-" }} {{ indent 2 "a\nb" }}"#;
    let out = render(t, json!({"v": 1, "s": " low "})).unwrap();
    assert_eq!(out, "\"a b\" [1,2] {\"k\":1} LOW eA== y c true true a-a   a\n  b");
}

#[test]
fn render_file_splits_documents() {
    let r = Renderer::default();
    let src = "---\na: {{ .a }}\n---\n# only a comment\n---\nb: [1, 2]\n...\n";
    let docs = r
        .render_file(
            Path::new("dir/f.yaml"),
            src,
            &json!({"a": "x"}),
            FuncMap::Deployment,
        )
        .unwrap();
    assert_eq!(docs.len(), 2);
    assert_eq!((docs[0].index, &docs[0].object), (0, &json!({"a": "x"})));
    assert_eq!((docs[1].index, &docs[1].object), (1, &json!({"b": [1, 2]})));
    assert_eq!(docs[1].source, "dir/f.yaml");
    let e = r
        .render_file(Path::new("bad.yaml"), "a: [\n", &json!({}), FuncMap::Deployment)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Yaml);
}

#[test]
fn cache_recompiles_changed_content() {
    let r = Renderer::default();
    assert_eq!(
        r.render_str("same", "one", &json!({}), FuncMap::Deployment)
            .unwrap(),
        "one"
    );
    assert_eq!(
        r.render_str("same", "two", &json!({}), FuncMap::Deployment)
            .unwrap(),
        "two"
    );
    assert_eq!(
        r.render_str("same", "two", &json!({}), FuncMap::Deployment)
            .unwrap(),
        "two"
    );
}

#[test]
fn cache_holds_texts_of_one_name_side_by_side_and_is_bounded() {
    let r = Renderer::default();
    for text in ["one", "two", "one", "two"] {
        assert_eq!(
            r.render_str("same", text, &json!({}), FuncMap::Deployment)
                .unwrap(),
            text
        );
    }
    assert_eq!(r.cached_templates(), 2);
    for i in 0..gotmpl::MAX_CACHED_TEMPLATES + 10 {
        let text = format!("t{i}");
        assert_eq!(
            r.render_str("n", &text, &json!({}), FuncMap::Deployment).unwrap(),
            text
        );
    }
    assert_eq!(r.cached_templates(), gotmpl::MAX_CACHED_TEMPLATES);
}

#[test]
fn render_dir_walks_filters_and_stops_on_error() {
    let base = std::env::temp_dir().join(format!("gotmpl-dir-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let dir = base.join("infra");
    std::fs::create_dir_all(dir.join("b")).unwrap();
    std::fs::write(dir.join("a.yaml"), "kind: A\nname: {{ .n }}\n").unwrap();
    std::fs::write(dir.join("b/applications.yaml"), "kind: App\n").unwrap();
    std::fs::write(dir.join("b/helmreleases.yaml"), "kind: HR\n---\nkind: HR2\n").unwrap();
    std::fs::write(dir.join("c.yml"), "kind: ignored\n").unwrap();
    let r = Renderer::default();
    let data = json!({"n": "x"});
    let flux = r
        .render_dir(&base, &dir, &data, FuncMap::Deployment, Some(Technology::Fluxcd))
        .unwrap();
    let seen: Vec<(String, usize, Value)> = flux.into_iter().map(|d| (d.source, d.index, d.object)).collect();
    assert_eq!(
        seen,
        vec![
            ("infra/a.yaml".into(), 0, json!({"kind": "A", "name": "x"})),
            ("infra/b/helmreleases.yaml".into(), 0, json!({"kind": "HR"})),
            ("infra/b/helmreleases.yaml".into(), 1, json!({"kind": "HR2"})),
        ]
    );
    let argo = r
        .render_dir(&base, &dir, &data, FuncMap::Deployment, Some(Technology::Argocd))
        .unwrap();
    assert_eq!(
        argo.iter().map(|d| d.source.as_str()).collect::<Vec<_>>(),
        ["infra/a.yaml", "infra/b/applications.yaml"]
    );
    assert_eq!(
        r.render_dir(&base, &dir, &data, FuncMap::Deployment, None)
            .unwrap()
            .len(),
        4
    );
    std::fs::write(dir.join("b/broken.yaml"), "{{ .a.b }}").unwrap();
    let e = r
        .render_dir(&base, &dir, &json!({"a": null}), FuncMap::Deployment, None)
        .unwrap_err();
    assert_eq!((e.kind(), e.name()), (ErrorKind::Execution, "broken.yaml"));
    let e = r
        .render_dir(&base, &base.join("missing"), &data, FuncMap::Deployment, None)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io);
    std::fs::remove_dir_all(&base).unwrap();
}

#[test]
fn merge_is_exported() {
    assert_eq!(
        gotmpl::merge(&json!({"a": {"b": 1}}), &json!({"a": {"c": 2}})),
        json!({"a": {"b": 1, "c": 2}})
    );
}

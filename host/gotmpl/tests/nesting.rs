//! The nesting bound (`gotmpl::MAX_NESTING`): hostile templates nested thousands of levels deep fail with an
//! error instead of overflowing the stack, and every shape of nesting renders right at the bound.
//!
//! Each check runs on a thread with a 2 MiB stack (the default of spawned threads and of tokio workers), in the
//! test profile's unoptimised build, where stack frames are largest.

use gotmpl::{Error, ErrorKind, FuncMap, Limits, MAX_NESTING, PAREN_LEVELS, Renderer};
use serde_json::json;

fn render_on_small_stack(text: String, funcs: FuncMap) -> Result<String, Error> {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let data = json!({"l": [1], "m": {"a": {"a": "a"}}, "s": "a"});
            Renderer::new(Limits::default()).render_str("tpl", &text, &data, funcs)
        })
        .expect("spawn")
        .join()
        .expect("render thread panicked")
}

fn assert_too_deep(text: String, funcs: FuncMap) {
    let head: String = text.chars().take(40).collect();
    let e = render_on_small_stack(text, funcs).expect_err("nesting beyond the bound must fail");
    assert_eq!(e.kind(), ErrorKind::Syntax, "{head}: {e}");
    assert!(
        e.to_string().contains("max nesting depth exceeded"),
        "{head}: unexpected message {e}"
    );
}

fn assert_renders(text: String, funcs: FuncMap, want: &str) {
    let head: String = text.chars().take(40).collect();
    match render_on_small_stack(text, funcs) {
        Ok(out) => assert_eq!(out, want, "{head}"),
        Err(e) => panic!("{head}: nesting within the bound must render, got {e}"),
    }
}

/// `n` nested blocks, each opened by `open`, around `x`.
fn blocks(open: &str, close: &str, n: usize) -> String {
    format!("{}x{}", open.repeat(n), close.repeat(n))
}

/// `n` nested parentheses of the most expensive shape: a call on a field of a call.
fn parens(n: usize) -> String {
    let pairs = n / 2;
    let mut t = "(print ".repeat(n % 2);
    t.push_str(&"(print (index .m ".repeat(pairs));
    t.push_str(".s");
    t.push_str(&").a)".repeat(pairs));
    t.push_str(&")".repeat(n % 2));
    format!("{{{{ {t} }}}}")
}

#[test]
fn ten_thousand_levels_fail_with_an_error() {
    let d = FuncMap::Deployment;
    assert_too_deep(format!("{{{{{}", "(".repeat(10_000)), d);
    assert_too_deep(
        format!("{{{{{}1{}}}}}", "(".repeat(10_000), ")".repeat(10_000)),
        d,
    );
    assert_too_deep(blocks("{{if 1}}", "{{end}}", 10_000), d);
    assert_too_deep(blocks("{{with .}}", "{{end}}", 10_000), d);
    assert_too_deep(blocks("{{range .l}}", "{{end}}", 10_000), d);
    assert_too_deep(blocks("{{block \"b\" .}}", "{{end}}", 10_000), d);
    assert_too_deep(
        format!("{{{{if 0}}}}{}x{{{{end}}}}", "{{else if 0}}".repeat(10_000)),
        d,
    );
    assert_too_deep(
        format!("{{{{with 0}}}}{}x{{{{end}}}}", "{{else with 0}}".repeat(10_000)),
        d,
    );
    assert_too_deep(format!("{{{{1{}}}}}", "|print".repeat(10_000)), d);
    assert_too_deep(format!("{{{{and{}}}}}", " 1".repeat(10_000)), FuncMap::Manifest);
}

#[test]
fn blocks_render_at_the_bound_and_fail_beyond() {
    let d = FuncMap::Deployment;
    for (open, close) in [
        ("{{if 1}}", "{{end}}"),
        ("{{with .}}", "{{end}}"),
        ("{{range $.l}}", "{{end}}"),
        ("{{range $.l}}", "{{else}}{{end}}"),
    ] {
        assert_renders(blocks(open, close, MAX_NESTING), d, "x");
        assert_too_deep(blocks(open, close, MAX_NESTING + 1), d);
    }
    let chain = |kw: &str, n: usize| {
        format!(
            "{{{{{kw} 0}}}}{}x{{{{end}}}}",
            format!("{{{{else {kw} 0}}}}").repeat(n)
        )
    };
    for kw in ["if", "with"] {
        // The first `if` and each `else if` count one level.
        assert_renders(chain(kw, MAX_NESTING - 1), d, "");
        assert_too_deep(chain(kw, MAX_NESTING), d);
    }
}

#[test]
fn expressions_render_at_the_bound_and_fail_beyond() {
    let d = FuncMap::Deployment;
    let max_parens = MAX_NESTING / PAREN_LEVELS;
    assert_renders(parens(max_parens), d, "a");
    assert_too_deep(parens(max_parens + 1), d);
    let plain = |n: usize| format!("{{{{{}1{}}}}}", "(".repeat(n), ")".repeat(n));
    assert_renders(plain(max_parens), d, "1");
    assert_too_deep(plain(max_parens + 1), d);
    // A pipeline of n stages nests n - 1 calls.
    let pipeline = |n: usize| format!("{{{{1{}}}}}", "|print".repeat(n - 1));
    assert_renders(pipeline(MAX_NESTING + 1), d, "1");
    assert_too_deep(pipeline(MAX_NESTING + 2), d);
    // Go's short-circuit `and` nests one test per operand but the last.
    let and = |n: usize| format!("{{{{and{}}}}}", " 1".repeat(n));
    assert_renders(and(MAX_NESTING + 1), FuncMap::Manifest, "1");
    assert_too_deep(and(MAX_NESTING + 2), FuncMap::Manifest);
}

#[test]
fn blocks_and_expressions_share_the_bound() {
    let d = FuncMap::Deployment;
    let inner = 5;
    let outer = MAX_NESTING - inner * PAREN_LEVELS;
    let at = |blocks_n: usize| {
        format!(
            "{}{}{}",
            "{{with .}}".repeat(blocks_n),
            parens(inner),
            "{{end}}".repeat(blocks_n)
        )
    };
    assert_renders(at(outer), d, "a");
    assert_too_deep(at(outer + 1), d);
    // Inside a pipeline, the stages after a parenthesised argument add to its depth.
    let staged = |stages: usize| {
        format!(
            "{{{{ {} 1{} }}}}",
            "(".repeat(inner),
            ")".repeat(inner) + &" | print".repeat(stages)
        )
    };
    let room = MAX_NESTING - inner * PAREN_LEVELS;
    assert_renders(staged(room), d, "1");
    assert_too_deep(staged(room + 1), d);
}

/// `$x` nested `levels` deep by `list` or `dict` in a loop, then used by `then`.
fn built(ctor: &str, levels: usize, then: &str) -> String {
    format!(
        "{{{{ $x := {ctor} }}}}{{{{ range {} }}}}{{{{ $x = {ctor} \"k\" $x }}}}{{{{ end }}}}{{{{ {then} $x }}}}",
        levels - 1
    )
}

#[test]
fn values_built_in_a_loop_stop_at_the_depth_bound() {
    let d = FuncMap::Deployment;
    for ctor in ["list", "dict"] {
        for then in ["toYaml", "toJson", "print", "len", "empty"] {
            let e = render_on_small_stack(built(ctor, 100_000, then), d).expect_err("too deep");
            assert_eq!(e.kind(), ErrorKind::Execution, "{ctor} {then}: {e}");
            assert!(
                e.to_string().ends_with(&format!(
                    "error calling {ctor}: value nested deeper than {} levels",
                    gotmpl::MAX_VALUE_DEPTH
                )),
                "{ctor} {then}: {e}"
            );
            let at_bound = render_on_small_stack(built(ctor, gotmpl::MAX_VALUE_DEPTH, then), d);
            assert!(at_bound.is_ok(), "{ctor} {then} at the bound: {at_bound:?}");
        }
        let beyond = render_on_small_stack(built(ctor, gotmpl::MAX_VALUE_DEPTH + 1, "len"), d);
        assert!(beyond.is_err(), "{ctor} beyond the bound");
    }
}

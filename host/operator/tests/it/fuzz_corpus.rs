//! Replays the fuzz seed corpora (`fuzz/corpus/`) in the ordinary test run, plus random byte-level mutations of
//! the plugin ConfigMap seeds (random testing with proptest, not coverage-guided: the coverage-guided target
//! `plugin_manifest` needs an instrumented build of the whole operator, see `fuzz/README.md`). Every input must be
//! answered with a value or an error, never a panic, and accepted plugin configurations keep the parser's promises.

use std::path::PathBuf;

use platform_mesh_operator::plugin::PluginManifest;
use proptest::prelude::*;

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("corpus entry").path())
        .collect();
    files.sort();
    let seeds: Vec<_> = files
        .into_iter()
        .map(|path| {
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            (name, std::fs::read(&path).expect("corpus file"))
        })
        .collect();
    assert!(!seeds.is_empty(), "{} holds no seeds", dir.display());
    seeds
}

/// What the `plugin_manifest` fuzz target checks, for one input.
fn check_manifest(input: &[u8]) {
    let Ok(text) = std::str::from_utf8(input) else {
        return;
    };
    let Ok(manifest) = PluginManifest::parse(text) else {
        return;
    };
    for (index, plugin) in manifest.plugins.iter().enumerate() {
        assert!(
            !plugin.name.is_empty() && plugin.name.len() <= 63,
            "{:?}",
            plugin.name
        );
        assert!(manifest.plugins[..index].iter().all(|p| p.name != plugin.name));
        assert_ne!(plugin.limits.memory, Some(0));
    }
    for (controller, chain) in &manifest.chains {
        for (position, name) in chain.iter().enumerate() {
            assert!(manifest.plugin(name).is_some(), "{controller}: {name}");
            assert!(!chain[..position].contains(name), "{controller}: {name} twice");
        }
    }
}

#[test]
fn plugin_manifest_seeds_parse_or_fail_cleanly() {
    let seeds = corpus("plugin_manifest");
    for (_, seed) in &seeds {
        check_manifest(seed);
    }
    let shipped = seeds
        .iter()
        .find(|(name, _)| name == "shipped.yaml")
        .expect("the shipped configuration");
    let text = std::str::from_utf8(&shipped.1).expect("UTF-8");
    assert!(
        PluginManifest::parse(text).is_ok(),
        "the shipped configuration is valid"
    );
    let absurd = seeds
        .iter()
        .find(|(name, _)| name == "absurd-deadline.yaml")
        .expect("absurd deadline seed");
    let error = PluginManifest::parse(std::str::from_utf8(&absurd.1).expect("UTF-8")).expect_err("refused");
    assert!(error.to_string().contains("limits.deadline"), "{error}");
}

#[test]
fn template_and_yaml_seeds_render_or_fail_cleanly() {
    let renderer = gotmpl::Renderer::new(gotmpl::Limits {
        fuel: 200_000,
        max_output_bytes: 64 << 10,
    });
    let data = serde_json::json!({"name": "pm", "list": [1, "two"], "map": {"a": {"b": {"c": "deep"}}}});
    for (name, seed) in corpus("template") {
        let (selector, text) = seed.split_first().expect("non-empty seed");
        let funcs = if selector & 1 == 0 {
            gotmpl::FuncMap::Deployment
        } else {
            gotmpl::FuncMap::Manifest
        };
        let text = std::str::from_utf8(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let _ = renderer.render_str(&name, text, &data, funcs);
    }
    for (name, seed) in corpus("yaml") {
        let text = std::str::from_utf8(&seed).unwrap_or_else(|e| panic!("{name}: {e}"));
        // Go does not round-trip a raw U+0085 (folded as a YAML 1.1 line break) or a `<<` key (written plain, read
        // as a merge key), and neither does `to_yaml`, which reproduces Go (fuzz/fuzz_targets/yaml.rs).
        if let Ok(value) = gotmpl::yaml::from_yaml(text)
            && let Ok(written) = gotmpl::yaml::to_yaml(&value)
            && !text.contains('\u{85}')
            && !text.contains("<<")
        {
            let back = gotmpl::yaml::from_yaml(&written).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(same(&back, &value), "{name} round trip: {value} became {back}");
        }
    }
}

/// Equal as YAML data: numbers by value (Go's JSON step writes `-0.0` as `0` and `1.0` as `1`), the rest exactly.
fn same(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// One random edit of a seed: cut a range, repeat a range, or splice in bytes.
#[derive(Debug, Clone)]
enum Edit {
    Cut(usize, usize),
    Repeat(usize, usize, u8),
    Splice(usize, Vec<u8>),
}

fn apply(seed: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut out = seed.to_vec();
    for edit in edits {
        let len = out.len().max(1);
        match edit {
            Edit::Cut(at, n) => {
                let at = at % len;
                let end = (at + n).min(out.len());
                if at < end {
                    out.drain(at..end);
                }
            }
            Edit::Repeat(at, n, times) => {
                let at = at % len;
                let end = (at + n).min(out.len());
                let part = out.get(at..end).unwrap_or_default().to_vec();
                for _ in 0..*times {
                    out.splice(at..at, part.iter().copied());
                }
            }
            Edit::Splice(at, bytes) => {
                let at = (at % len).min(out.len());
                out.splice(at..at, bytes.iter().copied());
            }
        }
    }
    out
}

fn edit() -> impl Strategy<Value = Edit> {
    let yamlish =
        prop::sample::select(b"-:{}[]\"' \n\t#&*!|>,?0123456789abcdefghijklmnopqrstuvwxyz_.~/@".to_vec());
    prop_oneof![
        (any::<usize>(), 0usize..64).prop_map(|(at, n)| Edit::Cut(at, n)),
        (any::<usize>(), 1usize..32, 1u8..8).prop_map(|(at, n, t)| Edit::Repeat(at, n, t)),
        (any::<usize>(), prop::collection::vec(yamlish, 1..16)).prop_map(|(at, b)| Edit::Splice(at, b)),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..8)).prop_map(|(at, b)| Edit::Splice(at, b)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn mutated_plugin_manifests_parse_or_fail_cleanly(
        seed in 0usize..16,
        edits in prop::collection::vec(edit(), 1..6),
    ) {
        let seeds = corpus("plugin_manifest");
        let (_, seed) = &seeds[seed % seeds.len()];
        check_manifest(&apply(seed, &edits));
    }
}

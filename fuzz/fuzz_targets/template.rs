//! Go templates as a profile or `spec.values` author writes them: parse, translate and execute with both function
//! maps. Any input may fail with an error; none may panic, overflow the stack or run past the fuel budget.
//!
//! Input: the first byte picks the function map, the rest is the template text (non-UTF-8 input is skipped: the
//! host only ever renders Rust strings).

#![no_main]

use std::sync::OnceLock;

use gotmpl::{FuncMap, Limits, Renderer};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

/// Small budgets keep every execution short, so the fuzzer spends its time on parsing paths.
const LIMITS: Limits = Limits {
    fuel: 200_000,
    max_output_bytes: 64 << 10,
};

fn data() -> &'static Value {
    static DATA: OnceLock<Value> = OnceLock::new();
    DATA.get_or_init(|| {
        json!({
            "name": "pm", "count": 3, "ratio": 0.5, "on": true, "off": false, "none": null, "empty": "",
            "list": [1, "two", [3], {"four": 4}], "map": {"a": {"b": {"c": "deep"}}, "z": [], "y": {}},
            "services": {"svc-a": {"enabled": true, "values": {"image": {"tag": "1.0"}}},
                         "svc-b": {"enabled": false}},
            "text": "line one\nline two: \"quoted\" {{ not a template }}",
        })
    })
}

fuzz_target!(|input: &[u8]| {
    let Some((&selector, rest)) = input.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let funcs = if selector & 1 == 0 {
        FuncMap::Deployment
    } else {
        FuncMap::Manifest
    };
    let renderer = Renderer::new(LIMITS);
    if let Ok(out) = renderer.render_str("fuzz", text, data(), funcs) {
        assert!(
            out.len() <= LIMITS.max_output_bytes,
            "output of {} bytes passed the {}-byte cap",
            out.len(),
            LIMITS.max_output_bytes
        );
    }
});
